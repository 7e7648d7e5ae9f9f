//! Location rules tried before they are saved: which users a location would provision
//! under proposed rules, and what each of them would get (their locations and home
//! location) compared with what the current rules give them. Nothing is written. The
//! matching users are found with a SCIM filter equivalent to the rules (so a large tenant
//! is searched, not loaded) and each one listed is decided by the same rule code the
//! server applies ([`places::derive`]).

use scimd_core::list::{ListParams, PageConfig};
use scimd_core::places::{self, LocationRules, Match, Provision, Rule, RuleAttribute, RuleOp};
use scimd_core::schema::ResourceKind;
use serde::Serialize;
use serde_json::Value;

use super::{Admin, AdminError, AdminResult};

/// The most users one page of a preview lists.
pub const PREVIEW_MAX: u64 = 50;

/// One user a preview lists: what the current rules give them and what the proposed ones
/// would.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PreviewUser {
    pub id: String,
    #[serde(rename = "userName")]
    pub user_name: String,
    pub now: super::UserPlaces,
    pub then: super::UserPlaces,
}

impl PreviewUser {
    /// Whether the proposed rules change what this user gets.
    pub fn changes(&self) -> bool {
        self.now != self.then
    }
}

/// What proposed rules for a location would do: how many users it would provision, and a
/// page of them.
#[derive(Debug, Clone, Serialize)]
pub struct RulesPreview {
    pub location: String,
    /// The proposed rules, as they would be stored (`null`: cleared).
    pub rules: Value,
    #[serde(rename = "totalResults")]
    pub total: u64,
    #[serde(rename = "startIndex")]
    pub start_index: u64,
    pub users: Vec<PreviewUser>,
}

/// A rule as a SCIM filter over the user's stored attributes (string comparisons of these
/// attributes ignore case, as the rules do).
fn rule_filter(r: &Rule) -> AdminResult<String> {
    let attr = match r.attribute {
        RuleAttribute::Locality => "addresses.locality",
        RuleAttribute::Language => "preferredLanguage",
    };
    let value = serde_json::to_string(&r.value).map_err(AdminError::internal)?;
    Ok(match r.op {
        RuleOp::Equals => format!("{attr} eq {value}"),
        RuleOp::Contains => format!("{attr} co {value}"),
        RuleOp::NotContains => format!("not ({attr} co {value})"),
    })
}

/// The users a location's rules provision, as a SCIM filter (`None`: every user).
pub fn provision_filter(rules: &LocationRules) -> AdminResult<Option<String>> {
    if rules.provision == Provision::All {
        return Ok(None);
    }
    let join = match rules.combine {
        Match::All => " and ",
        Match::Any => " or ",
    };
    let parts =
        rules.rules.iter().map(|r| rule_filter(r).map(|f| format!("({f})"))).collect::<AdminResult<Vec<_>>>()?;
    Ok(Some(parts.join(join)))
}

impl Admin {
    /// What `rules` (`None`: none) for `location` would do, without saving them: the users
    /// the location would then provision, a page of `count` (at most [`PREVIEW_MAX`]) from
    /// `start_index` (1-based), each with their places now and then. Refuses what saving
    /// would refuse (invalid rules, a second primary location, an unknown location).
    pub async fn preview_location_rules(
        &self,
        tenant: &str,
        location: &str,
        rules: Option<&Value>,
        start_index: u64,
        count: u64,
    ) -> AdminResult<RulesPreview> {
        let t = self.tenant(tenant).await?;
        let proposed =
            rules.map(|v| LocationRules::from_json(&v.to_string()).map_err(AdminError::invalid)).transpose()?;
        let known = self.store.list_places(t.id).await.map_err(AdminError::internal)?;
        if !known.iter().any(|p| p.level == places::Level::Location && p.key == location) {
            return Err(AdminError::not_found(format!("no location with the key '{location}'")));
        }
        let state = self.store.places_state(t.id).await.map_err(AdminError::internal)?;
        let current = places::parse_rules(&state.rules).map_err(AdminError::internal)?;
        if let Some(r) = &proposed {
            places::check_one_primary(location, r, &current).map_err(AdminError::conflict)?;
        }
        let mut then: Vec<(String, LocationRules)> = current.iter().filter(|(k, _)| k != location).cloned().collect();
        if let Some(r) = &proposed {
            then.push((location.to_string(), r.clone()));
        }
        let shown = match &proposed {
            Some(r) => serde_json::to_value(r).map_err(AdminError::internal)?,
            None => Value::Null,
        };
        let start_index = start_index.max(1);
        let Some(r) = &proposed else {
            // Without rules a location provisions nobody.
            return Ok(RulesPreview { location: location.into(), rules: shown, total: 0, start_index, users: vec![] });
        };
        let params = ListParams {
            filter: provision_filter(r)?,
            sort_by: Some("userName".into()),
            start_index: Some(start_index as i64),
            count: Some(count.clamp(1, PREVIEW_MAX) as i64),
            ..ListParams::default()
        };
        let reg = scimd_core::builtin::standard_registry();
        let query = params
            .resolve(&reg, ResourceKind::User, &PageConfig::default())
            .map_err(|e| AdminError::invalid(e.detail))?;
        let page = self.store.list(t.id, ResourceKind::User, &query, false).await.map_err(AdminError::internal)?;
        let mut users = Vec::with_capacity(page.items.len());
        for u in page.items {
            let doc: Value = serde_json::from_str(&u.data).map_err(AdminError::internal)?;
            let (a, b) = (places::derive(&current, &doc), places::derive(&then, &doc));
            users.push(PreviewUser {
                id: u.id,
                user_name: doc.get("userName").and_then(Value::as_str).unwrap_or_default().to_string(),
                now: super::UserPlaces { locations: a.locations, home: a.home },
                then: super::UserPlaces { locations: b.locations, home: b.home },
            });
        }
        Ok(RulesPreview { location: location.into(), rules: shown, total: page.total, start_index, users })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_become_the_filter_of_the_users_they_provision() {
        let all = LocationRules::default();
        assert_eq!(provision_filter(&all).unwrap(), None);
        let r = LocationRules::from_json(
            r#"{"provision":"rules","match":"any","rules":[
                {"attribute":"locality","op":"equals","value":"Amsterdam"},
                {"attribute":"language","op":"not_contains","value":"n\"l"}]}"#,
        )
        .unwrap();
        assert_eq!(
            provision_filter(&r).unwrap().as_deref(),
            Some(r#"(addresses.locality eq "Amsterdam") or (not (preferredLanguage co "n\"l"))"#)
        );
    }
}
