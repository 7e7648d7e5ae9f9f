//! Access tokens as JWTs: their claims, signing them with the newest key, and verifying
//! one (signature by a known `kid`, not a Security Event Token, expiry, then one probe:
//! revoked? the tenant's SCIM on?).

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use scimd_store::{ClientAuth, GrantStatus, TenantId};
use serde::{Deserialize, Serialize};

use super::keys::KEY_RELOAD_UNKNOWN;
use super::{OAuth, OAuthError, OResult, app_to_oauth, random_id, unix};
use crate::error::AppResult;

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Claims {
    pub(super) iss: String,
    pub(super) sub: String,
    pub(super) exp: i64,
    pub(super) iat: i64,
    pub(super) jti: String,
    pub(super) client_id: String,
    pub(super) scope: String,
    /// Tenant id and name.
    pub(super) tid: i64,
    pub(super) tenant: String,
    /// The refresh family the token descends from (password and refresh grants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sid: Option<String>,
}

impl OAuth {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn sign(
        &self,
        issuer: &str,
        client: &ClientAuth,
        sub: &str,
        tenant: TenantId,
        tenant_name: &str,
        scopes: &[String],
        family: Option<&str>,
        now: DateTime<Utc>,
    ) -> OResult<String> {
        let keys = self.keys(self.config.key_reload).await.map_err(app_to_oauth)?;
        let Some((kid, key)) = &keys.signer else {
            return Err(OAuthError::Internal("no signing key".into()));
        };
        let claims = Claims {
            iss: issuer.to_string(),
            sub: sub.to_string(),
            iat: unix(now),
            exp: unix(now) + client.access_ttl_secs,
            jti: random_id(),
            client_id: client.client_id.clone(),
            scope: scopes.join(" "),
            tid: tenant.0,
            tenant: tenant_name.to_string(),
            sid: family.map(str::to_string),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, &claims, key).map_err(|e| OAuthError::Internal(e.to_string()))
    }

    /// The claims of a JWT signed by one of our keys (expired or not), or `None`. A
    /// Security Event Token is signed by the same keys but is never an access token
    /// (RFC 8417 §4): its `typ` alone refuses it, whatever its claims say.
    pub(super) async fn decode(&self, token: &str) -> AppResult<Option<Claims>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(None) };
        if header.alg != Algorithm::EdDSA || header.typ.as_deref().is_some_and(super::set::is_set_type) {
            return Ok(None);
        }
        let Some(kid) = header.kid else { return Ok(None) };
        let mut keys = self.keys(self.config.key_reload).await?;
        if !keys.verifiers.contains_key(&kid) {
            keys = self.keys(KEY_RELOAD_UNKNOWN.min(self.config.key_reload)).await?;
        }
        let Some((key, _)) = keys.verifiers.get(&kid) else { return Ok(None) };
        let mut v = Validation::new(Algorithm::EdDSA);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        Ok(jsonwebtoken::decode::<Claims>(token, key, &v).ok().map(|d| d.claims))
    }

    /// A valid access token's claims and tenant status (SCIM enabled), or `None`.
    pub(super) async fn verify_access(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<(Claims, GrantStatus)>> {
        let Some(c) = self.decode(token).await? else { return Ok(None) };
        if c.exp <= unix(now) {
            return Ok(None);
        }
        match self.store.grant_status(TenantId(c.tid), &c.jti, c.sid.as_deref()).await? {
            Some(status) if !status.revoked => Ok(Some((c, status))),
            _ => Ok(None),
        }
    }
}
