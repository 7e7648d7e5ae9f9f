//! Re-provisioning: what a POST does when it names a resource the tenant has deactivated
//! or deleted. An identity provider that deletes (or deactivates) a user and later sends it
//! again expects the same user back, not a 409 it cannot get past nor a second identity.
//! One setting, `reprovision`, decides it; `create_reactivates`, its earlier form, is
//! read as its middle value.

use serde::{Deserialize, Serialize};

use super::Profile;

/// What a POST that meets an inactive user, or a deleted resource, does. Ordered: each
/// value does what the one before it does, and more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reprovision {
    /// RFC 7644 as written: a taken userName is a 409, and a resource POSTed after its
    /// deletion gets a new id.
    #[default]
    Off,
    /// A POST whose userName is an inactive user's brings that user back (201, its id kept,
    /// replaced by the body as a PUT would, active unless the body says otherwise). An
    /// active user of that name is still a 409. Users only.
    Reactivate,
    /// As `reactivate`, and first by `externalId`: a POST whose externalId, else userName
    /// (a group's: displayName), is an inactive user's or a deleted resource's whose
    /// tombstone is kept brings it back under its id (201, the body as sent). Users and
    /// groups; a deleted group comes back with the members its body names.
    Restore,
}

impl Reprovision {
    pub fn name(self) -> &'static str {
        match self {
            Reprovision::Off => "off",
            Reprovision::Reactivate => "reactivate",
            Reprovision::Restore => "restore",
        }
    }
}

impl Profile {
    /// The one place that decides what a re-provisioning POST does: `reprovision`, or
    /// `reactivate` when only the earlier `create_reactivates` says so.
    pub fn reprovision(&self) -> Reprovision {
        if self.create_reactivates { self.reprovision.max(Reprovision::Reactivate) } else { self.reprovision }
    }

    /// Writes the decision in both settings, so a profile read back shows it once: the
    /// setting, and the earlier name as whether inactive users come back by userName.
    pub(super) fn settle_reprovision(&mut self) {
        self.reprovision = self.reprovision();
        self.create_reactivates = self.reprovision >= Reprovision::Reactivate;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earlier_setting_reads_as_reactivate_and_never_lowers_the_new_one() {
        let p = |text: &str| Profile::from_json(text).unwrap();
        assert_eq!(p("{}").reprovision(), Reprovision::Off);
        let old = p(r#"{"create_reactivates": true}"#);
        assert_eq!((old.reprovision, old.create_reactivates), (Reprovision::Reactivate, true));
        assert_eq!(p(r#"{"create_reactivates": true, "reprovision": "restore"}"#).reprovision(), Reprovision::Restore);
        let restore = p(r#"{"reprovision": "restore"}"#);
        assert!(restore.create_reactivates, "restore brings inactive users back by userName too");
        let text = serde_json::to_string(&restore).unwrap();
        assert_eq!(p(&text), restore, "a profile read back is the same profile");
        assert!(Profile::from_json(r#"{"reprovision": "undelete"}"#).unwrap_err().contains("unknown variant"));
    }
}
