//! The `client_credentials` grant (RFC 6749 §4.4): an access token for the client itself,
//! for the one tenant it reaches or the one it names.

use chrono::{DateTime, Utc};
use scimd_store::ClientAuth;

use super::issue::scopes_within;
use super::{OAuth, OAuthError, OResult, TokenRequest, TokenResponse};

impl OAuth {
    /// The `client_credentials` grant, for an authenticated client.
    pub(super) async fn client_credentials(
        &self,
        client: &ClientAuth,
        req: &TokenRequest,
        requested: &Option<Vec<String>>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> OResult<TokenResponse> {
        let scopes = scopes_within(requested, &client.scopes)?;
        let (tenant, name) = match (&req.tenant, client.tenants.as_slice()) {
            (Some(t), list) => list
                .iter()
                .find(|(_, n)| n == t)
                .cloned()
                .ok_or_else(|| OAuthError::invalid_request(format!("this client may not reach tenant '{t}'")))?,
            (None, [one]) => one.clone(),
            (None, []) => return Err(OAuthError::invalid_grant("this client may not reach any tenant")),
            (None, _) => {
                return Err(OAuthError::invalid_request(
                    "this client reaches several tenants: name one with the 'tenant' parameter",
                ));
            }
        };
        self.tenant_open(&name).await?;
        let shape = self.shape_for_client(client, tenant).await?;
        let scopes = if shape.grant_all_client_scopes { client.scopes.clone() } else { scopes };
        let access =
            self.issue_access(issuer, client, &client.client_id, (tenant, &name), &scopes, None, now, &shape).await?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "bearer",
            expires_in: client.access_ttl_secs,
            scope: scopes.join(" "),
            refresh_token: None,
            http_status_code: None,
            tenant: Some(tenant),
        })
    }
}
