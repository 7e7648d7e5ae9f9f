//! Whose event a refused request is. A request refused before a tenant is known (an
//! expired or revoked access token, a failed login through a client that reaches several
//! tenants) still names one in its credential: the token's signed tenant, the refresh
//! token's family, the API user, the tenant the request asked for. Its event goes to that
//! tenant, so the tenant's events and its go-live summary show the failures of its own
//! callers. Only what the server issued or stores is believed: an unsigned claim, or a
//! tenant the presented client does not reach, attributes nothing (a stranger cannot
//! write into a tenant's events by naming it); such events stay with no tenant, where
//! the operator reads them (`audit events --no-tenant`).

use scimd_store::TenantId;

use super::OAuth;
use crate::auth::hash_token;

/// What a refused token request named, for [`OAuth::attempted_tenant`].
#[derive(Debug, Default, Clone)]
pub struct Attempt {
    /// The presented client id.
    pub client_id: Option<String>,
    /// The `tenant` parameter.
    pub tenant: Option<String>,
    /// The password grant's username.
    pub username: Option<String>,
    /// The refresh grant's refresh token.
    pub refresh_token: Option<String>,
}

impl OAuth {
    /// The tenant a refused bearer token was issued for, and its client: an access token
    /// whose signature verifies, however expired or revoked. `None` for anything else
    /// (a long-lived token is only known while valid: its row names no tenant once gone).
    pub async fn rejected_token_tenant(&self, token: &str) -> Option<(TenantId, String)> {
        let claims = self.decode(token).await.ok()??;
        Some((TenantId(claims.tid), claims.client_id))
    }

    /// The tenant a token request was for, when it was refused before a token named one:
    /// among the tenants the presented client reaches, the only one, the one the request
    /// named, the refresh token's, or the API user's.
    pub async fn attempted_tenant(&self, a: &Attempt) -> Option<TenantId> {
        let client = self.store.client_auth(a.client_id.as_deref()?, self.clock.now()).await.ok()??;
        let reaches = |t: TenantId| client.tenants.iter().any(|(id, _)| *id == t);
        if let [(only, _)] = client.tenants.as_slice() {
            return Some(*only);
        }
        if let Some(name) = &a.tenant
            && let Some((id, _)) = client.tenants.iter().find(|(_, n)| n == name)
        {
            return Some(*id);
        }
        if let Some(old) = &a.refresh_token
            && let Ok(Some(g)) = self.store.refresh_token(hash_token(old)).await
            && g.client == client.row
        {
            return Some(g.tenant);
        }
        if let Some(username) = &a.username
            && let Ok(Some(user)) = self.store.api_user_auth(username).await
            && reaches(user.tenant)
        {
            return Some(user.tenant);
        }
        None
    }
}
