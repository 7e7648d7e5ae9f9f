//! The token endpoint (RFC 6749 §3.2): the grant type checked, the client authenticated
//! and allowed the grant, then one grant per module (`client_credentials`, `password`,
//! `refresh`, over what they share in `issue`; the JWT bearer grant, whose client is
//! optional, in `federation`); and the `http_status_code` some profiles
//! ask for in answers, refusals included.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ClientCredentials, JWT_BEARER, OAuth, OAuthError, OResult, TokenRequest, TokenResponse, TokenShape};

/// How long the token paths whose answers carry `http_status_code` are remembered.
const STATUS_PATHS_TTL: Duration = Duration::from_secs(5);

impl OAuth {
    /// The token endpoint.
    pub async fn token(
        &self,
        req: TokenRequest,
        creds: Option<ClientCredentials>,
        issuer: &str,
    ) -> OResult<TokenResponse> {
        let grant = req.grant_type.clone().ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        if !matches!(grant.as_str(), "client_credentials" | "password" | "refresh_token" | JWT_BEARER) {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                format!(
                    "grant type '{grant}' is not supported: use client_credentials, password, refresh_token or \
                     {JWT_BEARER}"
                ),
            ));
        }
        let requested: Option<Vec<String>> =
            req.scope.as_deref().map(|s| s.split_whitespace().map(str::to_string).collect());
        if grant == JWT_BEARER {
            let now = self.clock.now();
            let response = self.jwt_bearer(&req, creds.as_ref(), &requested, issuer, now).await?;
            return self.with_status_code(response).await;
        }
        let client = self.authenticate_client(creds.as_ref()).await?;
        let allowed = |g: &str| client.grant_types.iter().any(|x| x == g);
        let permitted = match grant.as_str() {
            "refresh_token" => allowed("refresh_token") || allowed("password"),
            g => allowed(g),
        };
        if !permitted {
            return Err(OAuthError::new(
                400,
                "unauthorized_client",
                format!("this client may not use the {grant} grant"),
            ));
        }
        let now = self.clock.now();
        let issued = match grant.as_str() {
            "client_credentials" => self.client_credentials(&client, &req, &requested, issuer, now).await,
            "password" => self.password(&client, &req, creds.as_ref(), &requested, issuer, now).await,
            _ => {
                let Some(old) = req.refresh_token.as_deref() else {
                    return Err(OAuthError::invalid_request("the refresh_token grant needs refresh_token"));
                };
                self.refresh(&client, old, &requested, issuer, now).await
            }
        };
        self.with_status_code(issued?).await
    }

    /// A token response with `http_status_code` when its tenant's profile asks for it.
    async fn with_status_code(&self, mut response: TokenResponse) -> OResult<TokenResponse> {
        if let Some(t) = response.tenant
            && self.token_shape(t).await?.token_http_status_code
        {
            response.http_status_code = Some(200);
        }
        Ok(response)
    }

    /// Whether a refused token request's answer carries `http_status_code`: it arrived at
    /// the token path of a profile asking for it, or its client (as named, authenticated or
    /// not) reaches only tenants whose profile asks for it.
    pub async fn error_status_code(&self, arrived_at: Option<&str>, client_id: Option<&str>) -> bool {
        if let Some(path) = arrived_at
            && self.status_paths().await.iter().any(|p| p == path)
        {
            return true;
        }
        let Some(id) = client_id else { return false };
        let Ok(Some(client)) = self.store.client_auth(id, self.clock.now()).await else { return false };
        if client.tenants.is_empty() {
            return false;
        }
        for (t, _) in &client.tenants {
            if !self.token_shape(*t).await.is_ok_and(|s| s.token_http_status_code) {
                return false;
            }
        }
        true
    }

    /// The profiles' token paths whose answers carry `http_status_code` (read at most
    /// every few seconds).
    pub(super) async fn status_paths(&self) -> Arc<Vec<String>> {
        if let Some((at, paths)) = &*self.status_paths.lock().expect("status paths")
            && at.elapsed() < STATUS_PATHS_TTL
        {
            return paths.clone();
        }
        let paths: Vec<String> = match self.store.tenant_profiles().await {
            Ok(profiles) => profiles
                .iter()
                .filter_map(|(_, text)| TokenShape::from_json(text))
                .filter(|s| s.token_http_status_code)
                .filter_map(|s| s.token_path)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "reading the profiles' token paths failed");
                Vec::new()
            }
        };
        let paths = Arc::new(paths);
        *self.status_paths.lock().expect("status paths") = Some((Instant::now(), paths.clone()));
        paths
    }
}
