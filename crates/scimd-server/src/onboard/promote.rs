//! Promotion: an integration tenant's production counterpart, made from the same
//! profile, audit settings, places (with their location rules), operator-made groups
//! (same ids) and access links, with new credentials sent to the same contacts. Users,
//! memberships, tokens, clients, event streams and the audit trail are not copied: the
//! production tenant starts empty, to be provisioned by the customer's sync. Its system
//! users are the integration tenant's (a person sees both stages).

use scimd_core::profile::Profile;
use scimd_store::{Stage, Tenant};
use serde::Serialize;

use super::{OnboardOutcome, Onboarding};
use crate::admin::{AdminError, AdminResult, Caller, Change, TenantView};

/// A production tenant just made.
#[derive(Debug, Clone, Serialize)]
pub struct Promoted {
    pub production: TenantView,
    pub places: usize,
    pub groups: usize,
    pub access_links: usize,
    pub credentials: OnboardOutcome,
}

/// The production tenant's name when none is given: `acme-integration` → `acme`, else
/// `acme` → `acme-production`.
pub fn production_name(integration: &str) -> String {
    match integration.strip_suffix("-integration") {
        Some(base) if !base.is_empty() => base.to_string(),
        _ => format!("{integration}-production"),
    }
}

impl Onboarding {
    /// Makes the production counterpart of an integration tenant and sends its
    /// credentials. Refused for a production tenant, or one promoted already.
    pub async fn promote(&self, integration: &str, name: Option<&str>, caller: Caller<'_>) -> AdminResult<Promoted> {
        let t = self.tenant(integration).await?;
        if t.stage != Stage::Integration {
            return Err(AdminError::conflict(format!(
                "'{}' is a production tenant: only integration is promoted",
                t.name
            )));
        }
        if let Some(p) = t.counterpart {
            let other = self.store.tenant_by_id(p).await.map_err(AdminError::internal)?;
            let named = other.map(|o| o.name).unwrap_or_default();
            return Err(AdminError::conflict(format!("'{}' was promoted already, to '{named}'", t.name)));
        }
        let name = name.map(str::to_string).unwrap_or_else(|| production_name(&t.name));
        let p = self.admin.create_staged_tenant(&name, t.scim_enabled, Stage::Production).await?;
        let p = self.admin.tenant(&p.name).await?;
        // Linked first: a promotion stopped half-way is seen on both tenants, not lost.
        self.store.link_counterparts(t.id, p.id).await.map_err(AdminError::internal)?;
        let copied = self.copy_setup(&t, &p).await?;
        self.store.set_tenant_contacts(p.id, t.contacts.clone()).await.map_err(AdminError::internal)?;
        let p = self.admin.tenant(&p.name).await?;
        let credentials = self.send_credentials(&p, &p.contacts, &[], "promotion").await?;
        let change =
            Change { op: "promote", rtype: "Tenant", id: &p.name, status: 201, command: "scimd tenant promote" };
        self.admin.audit_change(&t, caller, change).await;
        let production = self.admin.tenant_view(&p.name).await?;
        Ok(Promoted { production, places: copied.0, groups: copied.1, access_links: copied.2, credentials })
    }

    /// Copies what the operator set up: profile, audit settings, places, groups, links.
    async fn copy_setup(&self, from: &Tenant, to: &Tenant) -> AdminResult<(usize, usize, usize)> {
        let profile = self.store.tenant_profile(from.id).await.map_err(AdminError::internal)?;
        self.store.set_tenant_profile(to.id, profile.clone()).await.map_err(AdminError::internal)?;
        self.store.set_audit_settings(to.id, from.audit).await.map_err(AdminError::internal)?;
        let places = self.admin.list_places(&from.name).await?.len();
        if places > 0 {
            let tree = self.admin.places_tree(&from.name).await?;
            self.admin.import_places(&to.name, &tree).await?;
        }
        let links = self.admin.access_links(&from.name).await?;
        // Where SCIM may not make groups, every group is the operator's; elsewhere, the
        // groups access is linked to are (the rest came from the customer's sync).
        let profile = match profile {
            Some(text) => Profile::from_json(&text).map_err(AdminError::internal)?,
            None => Profile::default(),
        };
        let groups: Vec<_> = self
            .admin
            .list_groups(&from.name)
            .await?
            .into_iter()
            .filter(|g| !profile.groups.create || links.iter().any(|l| l.group_id == g.id))
            .collect();
        for g in &groups {
            self.admin.create_group(&to.name, &g.display_name, g.external_id.as_deref(), Some(&g.id)).await?;
        }
        for l in &links {
            self.admin.grant_access(&to.name, &l.group_id, l.level, &l.place).await?;
        }
        Ok((places, groups.len(), links.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_names() {
        assert_eq!(production_name("acme-integration"), "acme");
        assert_eq!(production_name("acme"), "acme-production");
        assert_eq!(production_name("-integration"), "-integration-production");
    }
}
