//! The OAuth 2.0 authorization server's use cases, without HTTP types. This root holds
//! what they share: the settings, the server's state ([`OAuth`]), the request, response
//! and error types, the grant a bearer token carries, the RFC 8414 metadata. Each concern
//! has its module:
//! - `token`: the token endpoint; the grants `client_credentials`, `password` and
//!   `refresh` (rotation, family revocation, the retried refresh's answer in `retry`), one
//!   per module, over `issue`: what they share (scopes, tenant, issuing an access token);
//! - `client_auth`: client id and secret; `lockout`: counting failed logins first;
//!   `assertion`: `private_key_jwt`, a client's signed assertion instead of a secret;
//! - `federation`: tenants' trusted issuers, their keys, and the JWT bearer grant;
//! - `keys`: the signing keys (Ed25519, in the store, rotatable) and the JWK Set; `jwt`:
//!   access tokens as signed JWTs; `opaque`: opaque ones, for the profiles that ask;
//!   `set`: Security Event Tokens, signed with the same keys and never taken as access tokens;
//! - `revocation`: RFC 7009 revocation and RFC 7662 introspection;
//! - `bearer`: the authentication of every SCIM request's bearer token (JWT, opaque or
//!   long-lived) behind `cache`, a short-lived cache of verified tokens;
//! - `attribution`: which tenant a refused request's event belongs to.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use scimd_store::{AuthStore, TenantId};
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::hashing::HashError;

mod assertion;
mod attribution;
mod bearer;
mod cache;
mod client_auth;
mod client_credentials;
mod federation;
mod issue;
mod jwt;
mod keys;
pub(crate) mod lockout;
mod opaque;
mod password;
mod refresh;
mod retry;
mod revocation;
mod set;
mod token;

pub use assertion::CLIENT_ASSERTION_TYPE;
pub use attribution::Attempt;
use cache::TokenCache;
pub use federation::JWT_BEARER;
use keys::KeySet;
pub use keys::generate_signing_key;
pub use set::SET_TYPE;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The scope that grants every SCIM operation; `scim:read` and `scim:write` grant half.
pub const SCOPE_ALL: &str = "scim";
pub const SCOPE_READ: &str = "scim:read";
pub const SCOPE_WRITE: &str = "scim:write";

/// How clients authenticate at the token, revocation and introspection endpoints.
const AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];
/// The algorithms of the client assertions scimd verifies.
const SIGNING_ALGS: [&str; 2] = ["RS256", "ES256"];

/// Prefix of refresh tokens (helps secret scanners).
const REFRESH_PREFIX: &str = "scimd_rt_";

/// Settings of the authorization server.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The `iss` of access tokens and of the RFC 8414 metadata; derived from the request's
    /// host when unset.
    pub issuer: Option<String>,
    /// Path of the token endpoint.
    pub token_path: String,
    /// Failed logins of one client id or API username from one address before that
    /// address is locked out for it (see `lockout`).
    pub lockout_threshold: i64,
    /// Failed logins of one client id or API username from all addresses together
    /// before it is locked out for everyone.
    pub lockout_threshold_total: i64,
    /// Length of a lockout.
    pub lockout_secs: i64,
    /// How often signing keys are reloaded from the store (to pick up a rotation done by
    /// the command line or another replica).
    pub key_reload: Duration,
    /// Opens the signing keys' seeds as stored, and seals the ones it makes.
    pub keyring: Arc<crate::seal::Keyring>,
    /// How long a spent refresh token may be presented again and get the same answer (a
    /// client retrying a refresh whose response it lost) before a reuse counts as theft
    /// and revokes the login. Zero: never.
    pub refresh_grace: Duration,
    /// Lets key sets and trusted issuers be plain `http://` on a loopback host (tests
    /// only; https otherwise).
    pub federation_allow_http_loopback: bool,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            issuer: None,
            token_path: "/oauth2/token".into(),
            lockout_threshold: 5,
            lockout_threshold_total: 50,
            lockout_secs: 300,
            key_reload: Duration::from_secs(30),
            keyring: Arc::default(),
            refresh_grace: Duration::from_secs(10),
            federation_allow_http_loopback: false,
        }
    }
}

/// What a verified bearer token allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub tenant: TenantId,
    /// Who is calling, for the audit trail: the OAuth client id, or `token:<id>`.
    pub client: Arc<str>,
    /// Which payloads the tenant's audit trail keeps.
    pub audit_details: scimd_store::DetailsLevel,
    pub scim_enabled: bool,
    pub read: bool,
    pub write: bool,
    /// The token's scopes (an access token's; none for a long-lived token), for scope
    /// names a tenant's profile maps to SCIM access.
    pub scopes: Arc<str>,
    /// Unix time at which it stops being valid, if ever.
    pub expires: Option<i64>,
    /// The user the token was issued to (an API system user's username, for tokens of
    /// the password grant); `None` for a client's own token or a long-lived one.
    pub subject: Option<Arc<str>>,
}

/// The SCIM operations a set of scopes allows: (read, write).
pub fn scim_access<'a>(scopes: impl IntoIterator<Item = &'a str>) -> (bool, bool) {
    scopes.into_iter().fold((false, false), |(r, w), s| match s {
        SCOPE_ALL => (true, true),
        SCOPE_READ => (true, w),
        SCOPE_WRITE => (r, true),
        _ => (r, w),
    })
}

/// An error of the token, revocation or introspection endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone)]
pub enum OAuthError {
    /// A client error: status, `error` code and a description a human can act on.
    Client {
        status: u16,
        error: &'static str,
        description: String,
        retry_after: Option<i64>,
    },
    Internal(String),
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError::Client { status, error, description: description.into(), retry_after: None }
    }
    fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", d)
    }
    fn invalid_client() -> Self {
        Self::new(401, "invalid_client", "client authentication failed: unknown client, wrong or expired secret")
    }
    fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", d)
    }
}

impl From<HashError> for OAuthError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => OAuthError::Client {
                status: 503,
                error: "temporarily_unavailable",
                description: e.to_string(),
                retry_after: Some(1),
            },
            HashError::Internal(m) => OAuthError::Internal(m),
        }
    }
}

impl From<scimd_store::StoreError> for OAuthError {
    fn from(e: scimd_store::StoreError) -> Self {
        OAuthError::Internal(e.to_string())
    }
}

type OResult<T> = Result<T, OAuthError>;

/// A token request's parameters, with the client credentials from wherever they came.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    /// The tenant (by name) a `client_credentials` client that reaches several wants, or
    /// the JWT bearer grant is for.
    pub tenant: Option<String>,
    /// The JWT of the JWT bearer grant.
    pub assertion: Option<String>,
}

impl std::fmt::Debug for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assertion").field("audiences", &self.audiences).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// A client id and secret, as presented, and the address they came from (failed logins
/// are counted per address as well).
pub struct ClientCredentials {
    /// Empty when a client assertion names the client by its `sub` alone.
    pub client_id: String,
    /// Empty with an assertion.
    pub client_secret: String,
    pub from: Option<std::net::IpAddr>,
    /// A signed client assertion (`private_key_jwt`) instead of the secret.
    pub assertion: Option<Assertion>,
}

/// A client assertion as presented, with the audiences that name this server (its issuer
/// and the endpoint's URL).
pub struct Assertion {
    pub jwt: String,
    pub audiences: Vec<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `200`, when the tenant's profile asks for the field (the workflow platform's response
    /// shape).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status_code: Option<u16>,
    /// The tenant the token is for (for the audit trail; not sent).
    #[serde(skip)]
    pub tenant: Option<TenantId>,
}

/// The token-endpoint settings of a tenant profile: its head, read without the rest.
type TokenShape = scimd_core::profile::ProfileHead;

pub struct OAuth {
    store: Arc<dyn AuthStore>,
    clock: Arc<dyn Clock>,
    pub config: OAuthConfig,
    keys: RwLock<Arc<KeySet>>,
    verified: TokenCache,
    /// Client secrets recently verified with argon2: SHA-256 of (client id, secret) → the
    /// argon2 hash it matched. A hit counts only while that hash is still one of the
    /// client's valid secrets, so revocation and expiry apply at once. Only generated
    /// (256-bit) client secrets are cached, never passwords; only in memory.
    secrets: std::sync::Mutex<HashMap<[u8; 32], (String, Instant)>>,
    /// Checks under way, by credential: identical concurrent attempts share one check.
    checks: lockout::Flights,
    /// The profiles' token paths whose answers carry `http_status_code`, and when they
    /// were read (a refused request names no tenant; reading every profile each time
    /// would let a flood of bad requests scan them).
    status_paths: std::sync::Mutex<Option<(Instant, Arc<Vec<String>>)>>,
    /// Fetches key sets and issuers' metadata (no redirects, bounded in time).
    http: reqwest::Client,
    /// Key sets of clients (`jwks_uri`) and trusted issuers, by URL.
    remote: std::sync::Mutex<HashMap<String, Arc<crate::jose::remote::RemoteKeys>>>,
    /// The trusts whose tokens open the SCIM API, and when they were read.
    bearer_trusts: std::sync::Mutex<Option<(Instant, Arc<Vec<scimd_store::Trust>>)>>,
    /// Trusted issuers' key set URLs as discovered, by issuer, and when.
    discovered: std::sync::Mutex<HashMap<String, (Instant, reqwest::Url)>>,
}

pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    B64.encode(b)
}

fn unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

impl OAuth {
    /// The authorization server over `store`; makes sure a signing key exists.
    pub async fn new(store: Arc<dyn AuthStore>, clock: Arc<dyn Clock>, config: OAuthConfig) -> AppResult<OAuth> {
        keys::install_provider();
        if store.signing_keys().await?.is_empty() {
            let (kid, seed) = generate_signing_key();
            store.add_signing_key(&kid, config.keyring.seal(&seed), clock.now()).await?;
        }
        let oauth = OAuth {
            store,
            clock,
            config,
            keys: RwLock::new(Arc::new(KeySet::empty())),
            verified: TokenCache::new(Duration::from_secs(5)),
            secrets: std::sync::Mutex::new(HashMap::new()),
            checks: lockout::Flights::default(),
            status_paths: std::sync::Mutex::new(None),
            http: crate::jose::remote::client(),
            remote: std::sync::Mutex::new(HashMap::new()),
            discovered: std::sync::Mutex::new(HashMap::new()),
            bearer_trusts: std::sync::Mutex::new(None),
        };
        // At start every key must open: a wrong or missing master key stops the server here.
        let (_, unopened) = oauth.reload_keys().await?;
        if let Some(e) = unopened.into_iter().next() {
            return Err(AppError::Internal(e));
        }
        Ok(oauth)
    }

    /// Applies a change of credentials made through this process (a token revoked, a user
    /// or tenant disabled, a key rotated or retired) at once: the caches of verified tokens
    /// and secrets are emptied and the signing keys reloaded. Other replicas apply it
    /// within their cache lifetimes (5 s for tokens, `key_reload` for keys).
    pub async fn credentials_changed(&self) {
        self.verified.clear();
        self.secrets.lock().expect("secret cache").clear();
        *self.bearer_trusts.lock().expect("bearer trusts") = None;
        if let Err(e) = self.reload_keys().await {
            tracing::warn!(error = ?e, "reloading signing keys after a change failed");
        }
    }

    /// Deletes expired OAuth bookkeeping (refresh tokens a day after they expired, so a
    /// late replay is still recognized; spent revocations; idle failed-login counts).
    pub async fn purge(&self) -> AppResult<u64> {
        let now = self.clock.now();
        Ok(self.store.purge_oauth(now, now - TimeDelta::days(1), now - TimeDelta::days(1)).await?)
    }

    /// The issuer: configured, or `fallback` (derived from the request).
    pub fn issuer(&self, fallback: &str) -> String {
        self.config.issuer.clone().unwrap_or_else(|| fallback.trim_end_matches('/').to_string())
    }

    /// RFC 8414 metadata.
    pub fn metadata(&self, issuer: &str) -> Value {
        json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}{}", self.config.token_path),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
            "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
            "grant_types_supported": ["client_credentials", "password", "refresh_token", JWT_BEARER],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
            "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
            "revocation_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
            "introspection_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
            "scopes_supported": [SCOPE_ALL, SCOPE_READ, SCOPE_WRITE],
        })
    }

    fn new_refresh_token(&self) -> String {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        format!("{REFRESH_PREFIX}{}", B64.encode(b))
    }
}

fn app_to_oauth(e: AppError) -> OAuthError {
    match e {
        AppError::Internal(m) => OAuthError::Internal(m),
        AppError::Scim(e) => OAuthError::Internal(e.detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_map_to_access() {
        assert_eq!(scim_access(["scim"]), (true, true));
        assert_eq!(scim_access(["scim:read"]), (true, false));
        assert_eq!(scim_access(["scim:write"]), (false, true));
        assert_eq!(scim_access(["scim:read", "scim:write"]), (true, true));
        assert_eq!(scim_access(["api", "openid"]), (false, false));
    }
}
