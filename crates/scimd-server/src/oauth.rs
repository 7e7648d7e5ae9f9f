//! The OAuth 2.0 authorization server's use cases, without HTTP types: the token grants
//! (RFC 6749 `client_credentials`, `password`, `refresh_token` with rotation and family
//! revocation; in `oauth/refresh.rs`), signed access tokens (EdDSA JWTs, keys in the
//! store, rotatable) or opaque ones for the tenants whose profile asks (`oauth/opaque.rs`),
//! revocation (RFC 7009), introspection (RFC 7662), brute-force lockout, and the
//! authentication of every SCIM request's bearer token (JWT, opaque or long-lived token) behind a
//! short-lived cache of verified tokens.
//!
//! Longer than the 800 lines a file should have: the grants, keys, revocation and bearer
//! authentication still share this file (lockout is in `oauth/lockout.rs`). Splitting it by
//! concern comes with the store written once and the server split by concern (the next
//! restructuring).

use std::collections::HashMap;
use std::sync::{Arc, Once, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use scimd_store::{ClientAuth, GrantStatus, NewRefresh, Store, TenantId, normalized_time};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::hash_token;
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::hashing::{self, HashError};

mod attribution;
mod cache;
mod lockout;
mod opaque;
mod refresh;
mod retry;

pub use attribution::Attempt;
use cache::TokenCache;
use lockout::Principal;
use refresh::scopes_within;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The scope that grants every SCIM operation; `scim:read` and `scim:write` grant half.
pub const SCOPE_ALL: &str = "scim";
pub const SCOPE_READ: &str = "scim:read";
pub const SCOPE_WRITE: &str = "scim:write";

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
    /// The tenant (by name) a `client_credentials` client that reaches several wants.
    pub tenant: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// A client id and secret, as presented, and the address they came from (failed logins
/// are counted per address as well).
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub from: Option<std::net::IpAddr>,
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

/// How long the token paths whose answers carry `http_status_code` are remembered.
const STATUS_PATHS_TTL: Duration = Duration::from_secs(5);

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    iat: i64,
    jti: String,
    client_id: String,
    scope: String,
    /// Tenant id and name.
    tid: i64,
    tenant: String,
    /// The refresh family the token descends from (password and refresh grants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

// ------------------------------------------------------------------ keys

/// The process's jsonwebtoken crypto: Ed25519 only, through ed25519-dalek (the key
/// bytes are the raw 32-byte seed to sign and the raw public key to verify).
static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: ed_signer,
    verifier_factory: ed_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

struct EdSigner(ed25519_dalek::SigningKey);
impl signature::Signer<Vec<u8>> for EdSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.0.sign(msg).to_bytes().to_vec())
    }
}
impl JwtSigner for EdSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct EdVerifier(ed25519_dalek::VerifyingKey);
impl signature::Verifier<Vec<u8>> for EdVerifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        let sig = ed25519_dalek::Signature::from_slice(sig)?;
        self.0.verify_strict(msg, &sig)
    }
}
impl JwtVerifier for EdVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

fn bad_key() -> jsonwebtoken::errors::Error {
    jsonwebtoken::errors::ErrorKind::InvalidEddsaKey.into()
}

fn ed_signer(alg: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    let seed: [u8; 32] = key.as_bytes().try_into().map_err(|_| bad_key())?;
    match alg {
        Algorithm::EdDSA => Ok(Box::new(EdSigner(ed25519_dalek::SigningKey::from_bytes(&seed)))),
        _ => Err(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()),
    }
}

fn ed_verifier(alg: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    let public: [u8; 32] = key.try_get_as_bytes()?.try_into().map_err(|_| bad_key())?;
    match alg {
        Algorithm::EdDSA => {
            Ok(Box::new(EdVerifier(ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| bad_key())?)))
        }
        _ => Err(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()),
    }
}

/// The unretired keys, as loaded from the store.
struct KeySet {
    /// The newest key: kid and encoding key.
    signer: Option<(String, EncodingKey)>,
    verifiers: HashMap<String, (DecodingKey, [u8; 32])>,
    /// The seeds, opened.
    seeds: HashMap<String, [u8; 32]>,
    loaded: Instant,
}

/// A new signing key: a random kid and seed. The kid is hex: a base64url kid could
/// start with `-`, which a command line (`scimd signing-key retire KID`) reads as an option.
pub fn generate_signing_key() -> (String, Vec<u8>) {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let mut kid = [0u8; 12];
    rand::rng().fill_bytes(&mut kid);
    (hex::encode(kid), seed.to_vec())
}

/// An unknown `kid` forces a reload, at most this often.
const KEY_RELOAD_UNKNOWN: Duration = Duration::from_secs(1);

// ------------------------------------------------------------------ the server

pub struct OAuth {
    store: Arc<dyn Store>,
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
}

/// How long a verified client secret is remembered.
const SECRET_CACHE: Duration = Duration::from_secs(300);

fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    B64.encode(b)
}

fn unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

impl OAuth {
    /// The authorization server over `store`; makes sure a signing key exists.
    pub async fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: OAuthConfig) -> AppResult<OAuth> {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let _ = PROVIDER.install_default();
        });
        if store.signing_keys().await?.is_empty() {
            let (kid, seed) = generate_signing_key();
            store.add_signing_key(&kid, config.keyring.seal(&seed), clock.now()).await?;
        }
        let empty = KeySet { signer: None, verifiers: HashMap::new(), seeds: HashMap::new(), loaded: Instant::now() };
        let oauth = OAuth {
            store,
            clock,
            config,
            keys: RwLock::new(Arc::new(empty)),
            verified: TokenCache::new(Duration::from_secs(5)),
            secrets: std::sync::Mutex::new(HashMap::new()),
            checks: lockout::Flights::default(),
            status_paths: std::sync::Mutex::new(None),
        };
        // At start every key must open: a wrong or missing master key stops the server here.
        let (_, unopened) = oauth.reload_keys().await?;
        if let Some(e) = unopened.into_iter().next() {
            return Err(AppError::Internal(e));
        }
        Ok(oauth)
    }

    /// Loads the unretired keys. A key whose seed does not open (sealed under a master
    /// key this process lacks: another replica went ahead in a rotation) is left out,
    /// unless this process already holds it (a re-sealing changes the stored value, not
    /// the key); the reasons are returned, and logged.
    async fn reload_keys(&self) -> AppResult<(Arc<KeySet>, Vec<String>)> {
        let rows = self.store.signing_keys().await?;
        let held = self.keys.read().expect("keys").clone();
        let (mut verifiers, mut seeds, mut unopened) = (HashMap::new(), HashMap::new(), Vec::new());
        let mut signer = None;
        for r in &rows {
            let opened = self.config.keyring.open(&r.seed).map_err(|e| e.to_string()).and_then(|plain| {
                <[u8; 32]>::try_from(plain.as_slice()).map_err(|_| "its seed is not 32 bytes long".to_string())
            });
            let seed = match (opened, held.seeds.get(&r.kid)) {
                (Ok(seed), _) => seed,
                (Err(_), Some(seed)) => *seed,
                (Err(e), None) => {
                    let e = format!("signing key {}: {e}", r.kid);
                    tracing::error!(kid = %r.kid, "{e}");
                    unopened.push(e);
                    continue;
                }
            };
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            verifiers.insert(r.kid.clone(), (DecodingKey::from_ed_der(&public), public));
            seeds.insert(r.kid.clone(), seed);
            signer = signer.or_else(|| Some((r.kid.clone(), EncodingKey::from_ed_der(&seed))));
        }
        let set = Arc::new(KeySet { signer, verifiers, seeds, loaded: Instant::now() });
        *self.keys.write().expect("keys") = set.clone();
        Ok((set, unopened))
    }

    async fn keys(&self, max_age: Duration) -> AppResult<Arc<KeySet>> {
        let current = self.keys.read().expect("keys").clone();
        if current.loaded.elapsed() < max_age { Ok(current) } else { Ok(self.reload_keys().await?.0) }
    }

    /// Applies a change of credentials made through this process (a token revoked, a user
    /// or tenant disabled, a key rotated or retired) at once: the caches of verified tokens
    /// and secrets are emptied and the signing keys reloaded. Other replicas apply it
    /// within their cache lifetimes (5 s for tokens, `key_reload` for keys).
    pub async fn credentials_changed(&self) {
        self.verified.clear();
        self.secrets.lock().expect("secret cache").clear();
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

    /// The public keys as a JWK Set.
    pub async fn jwks(&self) -> AppResult<Value> {
        let keys = self.keys(self.config.key_reload).await?;
        let mut list: Vec<(&String, &[u8; 32])> = keys.verifiers.iter().map(|(k, (_, p))| (k, p)).collect();
        list.sort();
        let keys: Vec<Value> = list
            .into_iter()
            .map(|(kid, public)| {
                json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(public), "kid": kid, "alg": "EdDSA", "use": "sig"})
            })
            .collect();
        Ok(json!({ "keys": keys }))
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
            "grant_types_supported": ["client_credentials", "password", "refresh_token"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "token_endpoint_auth_signing_alg_values_supported": ["EdDSA"],
            "scopes_supported": [SCOPE_ALL, SCOPE_READ, SCOPE_WRITE],
        })
    }

    /// The cache key of a presented client secret.
    fn secret_key(creds: &ClientCredentials) -> [u8; 32] {
        lockout::Flights::key(&creds.client_id, &creds.client_secret)
    }

    /// Whether this exact secret was verified recently against a hash still valid (no
    /// argon2, and nothing to count: only the right secret can hit).
    fn secret_remembered(&self, key: &[u8; 32], hashes: &[String]) -> bool {
        let cache = self.secrets.lock().expect("secret cache");
        cache.get(key).is_some_and(|(matched, at)| at.elapsed() < SECRET_CACHE && hashes.contains(matched))
    }

    /// Whether a presented client secret matches one of the client's valid secret hashes
    /// (argon2); a match is remembered.
    async fn secret_matches(&self, creds: &ClientCredentials, key: [u8; 32], hashes: &[String]) -> OResult<bool> {
        let Some(matched) = hashing::first_match(creds.client_secret.clone(), hashes.to_vec()).await? else {
            return Ok(false);
        };
        let mut cache = self.secrets.lock().expect("secret cache");
        if cache.len() >= 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < SECRET_CACHE);
            if cache.len() >= 10_000 {
                cache.clear();
            }
        }
        cache.insert(key, (matched, Instant::now()));
        Ok(true)
    }

    /// Authenticates a client by id and secret. An unknown or disabled client is refused
    /// before any hashing; a secret not verified recently is counted as an attempt (see
    /// `lockout`) before argon2 checks it.
    async fn authenticate_client(&self, creds: Option<&ClientCredentials>) -> OResult<ClientAuth> {
        let Some(creds) = creds else {
            return Err(OAuthError::invalid_client());
        };
        let now = self.clock.now();
        let Some(client) = self.store.client_auth(&creds.client_id, now).await? else {
            return Err(OAuthError::invalid_client());
        };
        if client.disabled {
            return Err(OAuthError::invalid_client());
        }
        let key = Self::secret_key(creds);
        if self.secret_remembered(&key, &client.secret_hashes) {
            return Ok(client);
        }
        let name = format!("client:{}", creds.client_id);
        let flight = lockout::Flights::key(&name, &creds.client_secret);
        let who = Principal::new(self, name, creds.from);
        let checked = self.checks.once(flight, async {
            // A concurrent identical request may have just verified it.
            if self.secret_remembered(&key, &client.secret_hashes) {
                return Ok(true);
            }
            self.attempt(&who, "invalid_client").await?;
            let ok = self.secret_matches(creds, key, &client.secret_hashes).await?;
            if ok {
                self.succeeded(&who).await?;
            }
            Ok(ok)
        });
        if !checked.await? {
            return Err(OAuthError::invalid_client());
        }
        Ok(client)
    }

    /// Refuses a tenant whose SCIM feature is off: its tokens would be refused anyway.
    async fn tenant_open(&self, name: &str) -> OResult<()> {
        match self.store.tenant_by_name(name).await? {
            Some(t) if t.scim_enabled => Ok(()),
            _ => Err(OAuthError::new(
                400,
                "unauthorized_client",
                format!("tenant '{name}' has SCIM provisioning turned off: ask the operator to turn it on"),
            )),
        }
    }

    /// Checks an API user's password for the password grant. Whatever fails (an unknown
    /// username, a user of a tenant this client may not reach, a disabled user, a wrong
    /// password) is answered alike and takes as long; a user out of the client's reach is
    /// treated as unknown, so guesses through another tenant's client neither count against
    /// nor lock out the user.
    async fn check_api_user(
        &self,
        client: &ClientAuth,
        creds: &ClientCredentials,
        username: &str,
        password: String,
    ) -> OResult<scimd_store::ApiUserAuth> {
        let bad = || OAuthError::invalid_grant("wrong username or password");
        let user =
            self.store.api_user_auth(username).await?.filter(|u| client.tenants.iter().any(|(t, _)| *t == u.tenant));
        let name = match &user {
            Some(_) => format!("user:{username}"),
            None => format!("user:{username} via client:{}", client.client_id),
        };
        let who = Principal::new(self, name.clone(), creds.from);
        let checked = self.checks.once(lockout::Flights::key(&name, &password), async {
            self.attempt(&who, "invalid_grant").await?;
            let Some(user) = &user else {
                hashing::check_against_nothing(password).await?;
                return Ok(false);
            };
            let matched = hashing::first_match(password, vec![user.password_hash.clone()]).await?.is_some();
            if matched && !user.disabled {
                self.succeeded(&who).await?;
            }
            Ok(matched && !user.disabled)
        });
        match (checked.await?, user) {
            (true, Some(user)) => Ok(user),
            _ => Err(bad()),
        }
    }

    // -------------------------------------------------------------- grants

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
        let issued: OResult<TokenResponse> = match grant.as_str() {
            "client_credentials" => {
                let scopes = scopes_within(&requested, &client.scopes)?;
                let (tenant, name) = match (&req.tenant, client.tenants.as_slice()) {
                    (Some(t), list) => list.iter().find(|(_, n)| n == t).cloned().ok_or_else(|| {
                        OAuthError::invalid_request(format!("this client may not reach tenant '{t}'"))
                    })?,
                    (None, [one]) => one.clone(),
                    (None, []) => return Err(OAuthError::invalid_grant("this client may not reach any tenant")),
                    (None, _) => {
                        return Err(OAuthError::invalid_request(
                            "this client reaches several tenants: name one with the 'tenant' parameter",
                        ));
                    }
                };
                self.tenant_open(&name).await?;
                let shape = self.token_shape(tenant).await?;
                let scopes = if shape.grant_all_client_scopes { client.scopes.clone() } else { scopes };
                let access = self
                    .issue_access(issuer, &client, &client.client_id, (tenant, &name), &scopes, None, now, &shape)
                    .await?;
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
            "password" => {
                let (Some(username), Some(password)) = (req.username.clone(), req.password.clone()) else {
                    return Err(OAuthError::invalid_request("the password grant needs username and password"));
                };
                let scopes = scopes_within(&requested, &client.scopes)?;
                let creds = creds.as_ref().ok_or_else(OAuthError::invalid_client)?;
                let user = self.check_api_user(&client, creds, &username, password).await?;
                self.tenant_open(&user.tenant_name).await?;
                let shape = self.token_shape(user.tenant).await?;
                let scopes = if shape.grant_all_client_scopes { client.scopes.clone() } else { scopes };
                let family = random_id();
                let refresh = self.new_refresh_token();
                self.store
                    .store_refresh(
                        NewRefresh {
                            hash: hash_token(&refresh),
                            family: family.clone(),
                            client: client.row,
                            tenant: user.tenant,
                            api_user: Some(user.id),
                            scopes: scopes.clone(),
                            expires: now + TimeDelta::seconds(client.refresh_ttl_secs),
                        },
                        now,
                    )
                    .await?;
                let tenant = (user.tenant, user.tenant_name.as_str());
                let access =
                    self.issue_access(issuer, &client, &username, tenant, &scopes, Some(&family), now, &shape).await?;
                Ok(TokenResponse {
                    access_token: access,
                    token_type: "bearer",
                    expires_in: client.access_ttl_secs,
                    scope: scopes.join(" "),
                    refresh_token: Some(refresh),
                    http_status_code: None,
                    tenant: Some(user.tenant),
                })
            }
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
    async fn status_paths(&self) -> Arc<Vec<String>> {
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
    async fn token_shape(&self, tenant: TenantId) -> OResult<TokenShape> {
        Ok(match self.store.tenant_profile(tenant).await? {
            Some(text) => TokenShape::from_json(&text).unwrap_or_default(),
            None => TokenShape::default(),
        })
    }

    fn new_refresh_token(&self) -> String {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        format!("{REFRESH_PREFIX}{}", B64.encode(b))
    }

    #[allow(clippy::too_many_arguments)]
    async fn sign(
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

    /// The claims of a JWT signed by one of our keys (expired or not), or `None`.
    async fn decode(&self, token: &str) -> AppResult<Option<Claims>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(None) };
        if header.alg != Algorithm::EdDSA {
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
    async fn verify_access(&self, token: &str, now: DateTime<Utc>) -> AppResult<Option<(Claims, GrantStatus)>> {
        let Some(c) = self.decode(token).await? else { return Ok(None) };
        if c.exp <= unix(now) {
            return Ok(None);
        }
        match self.store.grant_status(TenantId(c.tid), &c.jti, c.sid.as_deref()).await? {
            Some(status) if !status.revoked => Ok(Some((c, status))),
            _ => Ok(None),
        }
    }

    // -------------------------------------------------------------- resource side

    /// What a bearer token (an access token or a long-lived token) allows, if it is valid.
    pub async fn authenticate(&self, token: &str) -> AppResult<Option<Grant>> {
        let hash = hash_token(token);
        let now = self.clock.now();
        if let Some(g) = self.verified.get(&hash)
            && g.expires.is_none_or(|e| e > unix(now))
        {
            return Ok(Some(g));
        }
        let grant = if token.starts_with("eyJ") && token.bytes().filter(|b| *b == b'.').count() == 2 {
            self.verify_access(token, now).await?.map(|(c, status)| {
                let (read, write) = scim_access(c.scope.split_whitespace());
                Grant {
                    tenant: TenantId(c.tid),
                    client: Arc::from(c.client_id.as_str()),
                    audit_details: status.audit_details,
                    scim_enabled: status.scim_enabled,
                    read,
                    write,
                    scopes: Arc::from(c.scope.as_str()),
                    expires: Some(c.exp),
                    subject: c.sid.is_some().then(|| Arc::from(c.sub.as_str())),
                }
            })
        } else if let Some(a) = match opaque::is_opaque(token) {
            true => self.store.access_token(hash).await?,
            false => None,
        } {
            let expires = opaque::unix_of(&a.expires);
            (!a.revoked && a.expires.as_str() > normalized_time(now).as_str()).then(|| {
                let (read, write) = scim_access(a.scopes.iter().map(String::as_str));
                Grant {
                    tenant: a.tenant,
                    client: Arc::from(a.client_id.as_str()),
                    audit_details: a.audit_details,
                    scim_enabled: a.scim_enabled,
                    read,
                    write,
                    scopes: Arc::from(a.scopes.join(" ").as_str()),
                    expires: Some(expires),
                    subject: a.family.is_some().then(|| a.subject.as_deref().map(Arc::from)).flatten(),
                }
            })
        } else {
            self.store.token_tenant(hash, now).await?.map(|t| Grant {
                tenant: t.tenant,
                client: Arc::from(format!("token:{}", t.id).as_str()),
                audit_details: t.audit_details,
                scim_enabled: t.scim_enabled,
                read: true,
                write: true,
                scopes: Arc::from(""),
                expires: t.expires,
                subject: None,
            })
        };
        if let Some(g) = &grant {
            self.verified.put(hash, g.clone());
        }
        Ok(grant)
    }

    // -------------------------------------------------------------- revocation, introspection

    /// RFC 7009: revokes an access or refresh token of the calling client. Unknown tokens,
    /// and other clients' tokens, are ignored (the answer is the same).
    pub async fn revoke(&self, creds: Option<ClientCredentials>, token: &str) -> OResult<()> {
        let client = self.authenticate_client(creds.as_ref()).await?;
        let now = self.clock.now();
        if let Some(c) = self.decode(token).await.map_err(app_to_oauth)? {
            if c.client_id == client.client_id {
                let until = DateTime::from_timestamp(c.exp, 0).unwrap_or(now).max(now);
                self.store.revoke_grant(&c.jti, until).await?;
            }
        } else if opaque::is_opaque(token)
            && let Some(a) = self.store.access_token(hash_token(token)).await?
        {
            if a.client_id == client.client_id {
                let until = DateTime::from_timestamp(opaque::unix_of(&a.expires), 0).unwrap_or(now).max(now);
                self.store.revoke_grant(&a.jti, until).await?;
            }
        } else if let Some(g) = self.store.refresh_token(hash_token(token)).await?
            && g.client == client.row
        {
            let until = now + TimeDelta::seconds(client.access_ttl_secs);
            self.store.revoke_grant(&g.family, until).await?;
        }
        self.verified.clear();
        Ok(())
    }

    /// RFC 7662: what the calling client's token is; `{"active": false}` for anything
    /// invalid or belonging to another client.
    pub async fn introspect(&self, creds: Option<ClientCredentials>, token: &str) -> OResult<Value> {
        let client = self.authenticate_client(creds.as_ref()).await?;
        let now = self.clock.now();
        let inactive = json!({ "active": false });
        if let Some((c, _)) = self.verify_access(token, now).await.map_err(app_to_oauth)? {
            if c.client_id != client.client_id {
                return Ok(inactive);
            }
            return Ok(json!({
                "active": true, "token_type": "Bearer", "scope": c.scope, "client_id": c.client_id,
                "sub": c.sub, "iss": c.iss, "exp": c.exp, "iat": c.iat, "jti": c.jti, "tenant": c.tenant,
            }));
        }
        if opaque::is_opaque(token)
            && let Some(a) = self.store.access_token(hash_token(token)).await?
        {
            let active =
                a.client_id == client.client_id && !a.revoked && a.expires.as_str() > normalized_time(now).as_str();
            return Ok(if active { opaque::introspection(&a) } else { inactive });
        }
        if let Some(g) = self.store.refresh_token(hash_token(token)).await?
            && g.client == client.row
            && !g.used
            && !g.revoked
            && g.expires.as_str() > normalized_time(now).as_str()
        {
            let time = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.timestamp()).unwrap_or(0);
            let mut v = json!({
                "active": true, "token_type": "refresh_token", "scope": g.scopes.join(" "),
                "client_id": g.client_id, "exp": time(&g.expires), "iat": time(&g.created), "tenant": g.tenant_name,
            });
            if let Some(u) = g.username {
                v["username"] = json!(u);
                v["sub"] = json!(u);
            }
            return Ok(v);
        }
        Ok(inactive)
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
