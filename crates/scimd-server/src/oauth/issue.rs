//! What the grants share: the scopes a request gets, a tenant refused while its SCIM
//! feature is off, the token settings of its profile, and the issuing of an access token
//! (a signed JWT, or an opaque one when the profile asks).

use chrono::{DateTime, TimeDelta, Utc};
use scimd_store::{ClientAuth, NewAccessToken, TenantId};

use super::{OAuth, OAuthError, OResult, TokenShape, opaque, random_id};
use crate::auth::hash_token;

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

    /// The token settings of `tenant`'s profile for a token `client` asks for; refused
    /// (`invalid_client`) when the profile admits only clients that sign assertions
    /// (`private_key_jwt_only`) and this one holds a secret. Checked before anything is
    /// stored for the request.
    pub(super) async fn shape_for_client(&self, client: &ClientAuth, tenant: TenantId) -> OResult<TokenShape> {
        let shape = self.token_shape(tenant).await?;
        if shape.private_key_jwt_only && !client.keys.private_key_jwt() {
            tracing::info!(client_id = %client.client_id, "a secret client refused by a private_key_jwt-only tenant");
            return Err(OAuthError::new(
                401,
                "invalid_client",
                "this tenant admits only clients that sign their assertions (private_key_jwt, RFC 7523): \
                 register the client's public keys (scimd client set --auth-method private-key-jwt)",
            ));
        }
        Ok(shape)
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
