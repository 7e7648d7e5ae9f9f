//! A tenant's credentials as seen from that tenant: the OAuth clients that reach it, and
//! who may change them. A client may reach several tenants, and its secret then opens
//! each of them: so one tenant's own people see only their tenant's name on it and change
//! (rotate, revoke, create) only clients that reach their tenant alone; the operator
//! changes any. Also how a tenant is connected to an identity provider (the path its SCIM
//! API answers at), and lifetimes given in days.

use scimd_core::profile::Profile;
use serde::Serialize;

use super::{Admin, AdminError, AdminResult, ClientSpec, ClientView, CreatedClient, CreatedSecret};

/// Who is asking about a tenant's clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// An operator: every client, every tenant's name.
    Every,
    /// The tenant's own people: clients that reach other tenants too are shown without
    /// those tenants, and are left to the operator.
    OwnTenant,
}

/// A client that reaches the tenant, as one asking with a [`Reach`] sees it.
#[derive(Debug, Clone, Serialize)]
pub struct TenantClient {
    /// Its tenants: all of them for an operator, only this one for its own people.
    pub view: ClientView,
    /// Whether it also reaches other tenants.
    pub shared: bool,
    /// Whether the one asking may add and revoke its secrets.
    pub manageable: bool,
}

/// The longest lifetime given in days (ten years): beyond, a credential is meant to
/// last forever, which is said by giving none.
pub const MAX_DAYS: u32 = 3650;

/// A lifetime in whole days as typed in a form: empty for none, else 1 to [`MAX_DAYS`].
pub fn lifetime_days(input: &str) -> AdminResult<Option<u32>> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<u32>() {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => Ok(Some(d)),
        _ => Err(AdminError::invalid(format!("give a whole number of days from 1 to {MAX_DAYS}, or nothing"))),
    }
}

/// Where a tenant's SCIM API answers, for an identity provider's settings.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    /// The path to give (`/scim/v2`, or the first the profile mounts).
    pub base_path: String,
    /// The other paths the profile mounts.
    pub other_paths: Vec<String>,
    /// The tenant's own token path, if its profile mounts one.
    pub token_path: Option<String>,
    /// Strict mode refuses the shapes Entra ID sends outside the RFC.
    pub strict: bool,
    pub scim_enabled: bool,
}

impl Admin {
    /// The clients that reach `tenant`, newest last.
    pub async fn tenant_clients(&self, tenant: &str, reach: Reach) -> AdminResult<Vec<TenantClient>> {
        let t = self.tenant(tenant).await?;
        let clients = self.list_clients().await?;
        Ok(clients
            .into_iter()
            .filter(|c| c.tenants.contains(&t.name))
            .map(|mut view| {
                let shared = view.tenants.len() > 1;
                if reach == Reach::OwnTenant {
                    view.tenants = vec![t.name.clone()];
                }
                TenantClient { view, shared, manageable: reach == Reach::Every || !shared }
            })
            .collect())
    }

    /// A client of the tenant alone (grants `client_credentials` and/or `password`), with
    /// the command line's lifetimes: access tokens 1 hour, refresh tokens 30 days, logins
    /// expiring as the tenant's profile says.
    pub async fn create_tenant_client(
        &self,
        tenant: &str,
        grants: &[String],
        scopes: &str,
        secret_days: Option<u32>,
    ) -> AdminResult<CreatedClient> {
        if grants.is_empty() {
            return Err(AdminError::invalid("choose at least one grant"));
        }
        let spec = ClientSpec {
            tenants: vec![tenant.to_string()],
            keys: None,
            grants: grants.to_vec(),
            scopes: vec![scopes.to_string()],
            access_ttl_secs: 3600,
            refresh_ttl_secs: 30 * 86400,
            refresh_expiry: None,
            secret_expires_secs: secret_days.map(|d| i64::from(d) * 86400),
        };
        self.create_client(spec).await
    }

    /// The client `client_id` if it reaches `tenant` and the one asking may change it.
    async fn changeable(&self, tenant: &str, client_id: &str, reach: Reach) -> AdminResult<()> {
        let clients = self.tenant_clients(tenant, reach).await?;
        match clients.iter().find(|c| c.view.client_id == client_id) {
            None => Err(AdminError::not_found(format!("no client '{client_id}' reaches '{tenant}'"))),
            Some(c) if !c.manageable => Err(AdminError {
                status: 403,
                message: "this client reaches other tenants too: its secrets are changed by the operator".into(),
            }),
            Some(_) => Ok(()),
        }
    }

    /// A new secret for a client of the tenant (a rotation: the others stay valid).
    pub async fn add_tenant_secret(
        &self,
        tenant: &str,
        client_id: &str,
        reach: Reach,
        days: Option<u32>,
    ) -> AdminResult<CreatedSecret> {
        self.changeable(tenant, client_id, reach).await?;
        self.add_secret(client_id, days.map(|d| i64::from(d) * 86400)).await
    }

    /// Revokes a secret of a client of the tenant.
    pub async fn revoke_tenant_secret(
        &self,
        tenant: &str,
        client_id: &str,
        secret_id: i64,
        reach: Reach,
    ) -> AdminResult<()> {
        self.changeable(tenant, client_id, reach).await?;
        self.revoke_secret(client_id, secret_id).await
    }

    /// Where the tenant's SCIM API answers.
    pub async fn connection(&self, tenant: &str) -> AdminResult<Connection> {
        let t = self.tenant(tenant).await?;
        let stored = self.store.tenant_profile(t.id).await.map_err(AdminError::internal)?;
        let profile = match stored {
            Some(text) => Profile::from_json(&text).map_err(AdminError::internal)?,
            None => Profile::default(),
        };
        let mut paths = profile.api_paths().into_iter().map(str::to_string);
        let base_path = paths.next().unwrap_or_else(|| scimd_core::profile::DEFAULT_BASE_PATH.to_string());
        Ok(Connection {
            base_path,
            other_paths: paths.collect(),
            token_path: profile.token_path.clone(),
            strict: profile.strict,
            scim_enabled: t.scim_enabled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_in_days() {
        assert_eq!(lifetime_days(" ").unwrap(), None);
        assert_eq!(lifetime_days("90").unwrap(), Some(90));
        for bad in ["0", "-1", "1.5", "ninety", "3651", "99999999999"] {
            assert!(lifetime_days(bad).is_err(), "{bad}");
        }
    }
}
