//! The token endpoint (RFC 6749 §3.2): the grant type checked, the client authenticated
//! and allowed the grant, then one grant per module (`client_credentials`, `password`,
//! `refresh`); what they share — the scopes a request gets, a tenant refused while its
//! SCIM feature is off, the token settings of its profile, the issuing of an access token
//! (signed, or opaque as the profile asks) — and the `http_status_code` some profiles
//! ask for in answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use scimd_store::{ClientAuth, NewAccessToken, TenantId};

use super::{
    ClientCredentials, OAuth, OAuthError, OResult, TokenRequest, TokenResponse, TokenShape, opaque, random_id,
};
use crate::auth::hash_token;

/// How long the token paths whose answers carry `http_status_code` are remembered.
const STATUS_PATHS_TTL: Duration = Duration::from_secs(5);

/// The scopes a request gets: those it names (each must be in `allowed`, repeats
/// dropped), or all of `allowed` when it names none.
pub(super) fn scopes_within(requested: &Option<Vec<String>>, allowed: &[String]) -> OResult<Vec<String>> {
    match requested {
        None => Ok(allowed.to_vec()),
        Some(r) if r.is_empty() => Ok(allowed.to_vec()),
        Some(r) => match r.iter().find(|s| !allowed.contains(s)) {
            Some(s) => Err(OAuthError::new(400, "invalid_scope", format!("scope '{s}' is not granted to this client"))),
            None => {
                let mut out: Vec<String> = Vec::new();
                for s in r {
                    if !out.contains(s) {
                        out.push(s.clone());
                    }
                }
                Ok(out)
            }
        },
    }
}

impl OAuth {
    /// The token endpoint.
    pub async fn token(
        &self,
        req: TokenRequest,
        creds: Option<ClientCredentials>,
        issuer: &str,
    ) -> OResult<TokenResponse> {
        let grant = req.grant_type.clone().ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        if !matches!(grant.as_str(), "client_credentials" | "password" | "refresh_token") {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                format!("grant type '{grant}' is not supported: use client_credentials, password or refresh_token"),
            ));
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
        let requested: Option<Vec<String>> =
            req.scope.as_deref().map(|s| s.split_whitespace().map(str::to_string).collect());
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
        let mut response = issued?;
        if let Some(t) = response.tenant
            && self.token_shape(t).await?.token_http_status_code
        {
            response.http_status_code = Some(200);
        }
        Ok(response)
    }

    /// An access token for `tenant` (id, name): a signed JWT, or an opaque one when the
    /// tenant's profile asks for them.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn issue_access(
        &self,
        issuer: &str,
        client: &ClientAuth,
        sub: &str,
        tenant: (TenantId, &str),
        scopes: &[String],
        family: Option<&str>,
        now: DateTime<Utc>,
        shape: &TokenShape,
    ) -> OResult<String> {
        if !shape.opaque_access_tokens {
            return self.sign(issuer, client, sub, tenant.0, tenant.1, scopes, family, now).await;
        }
        let token = opaque::generate();
        self.store
            .store_access_token(
                NewAccessToken {
                    hash: hash_token(&token),
                    jti: random_id(),
                    family: family.map(str::to_string),
                    client: client.row,
                    tenant: tenant.0,
                    subject: family.map(|_| sub.to_string()),
                    scopes: scopes.to_vec(),
                    expires: now + TimeDelta::seconds(client.access_ttl_secs),
                },
                now,
            )
            .await?;
        Ok(token)
    }

    /// Refuses a tenant whose SCIM feature is off: its tokens would be refused anyway.
    pub(super) async fn tenant_open(&self, name: &str) -> OResult<()> {
        match self.store.tenant_by_name(name).await? {
            Some(t) if t.scim_enabled => Ok(()),
            _ => Err(OAuthError::new(
                400,
                "unauthorized_client",
                format!("tenant '{name}' has SCIM provisioning turned off: ask the operator to turn it on"),
            )),
        }
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

    /// The token settings of a tenant's profile (read with the profile's other settings
    /// ignored; a token request is rare next to the argon2 check it makes).
    pub(super) async fn token_shape(&self, tenant: TenantId) -> OResult<TokenShape> {
        Ok(match self.store.tenant_profile(tenant).await? {
            Some(text) => TokenShape::from_json(&text).unwrap_or_default(),
            None => TokenShape::default(),
        })
    }
}
