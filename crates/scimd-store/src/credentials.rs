//! Credentials: tenants' bearer tokens, operator tokens, OAuth clients and their secrets,
//! API system users, signing keys and deployment secrets. The [`CredentialStore`] part of
//! the `Store` contract and the types crossing it (written in `roles::credentials`,
//! `roles::clients`, `roles::keys`).

use chrono::{DateTime, Utc};

use crate::{BoxFut, ClientKeys, DetailsLevel, RefreshExpiry, StoreResult, TenantId};

/// A deployment secret's name and stored (opaque, possibly sealed) bytes.
pub type NamedSecret = (String, Vec<u8>);

/// A new OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub client_id: String,
    /// The argon2 hash of its first secret; `None` for a client that signs assertions.
    pub secret_hash: Option<String>,
    pub secret_expires: Option<DateTime<Utc>>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// When its logins expire; `None`: as the profile of the login's tenant says.
    pub refresh_expiry: Option<RefreshExpiry>,
    /// The tenants it may reach.
    pub tenants: Vec<TenantId>,
    /// How it authenticates beyond a secret (private_key_jwt).
    pub keys: ClientKeys,
}

/// An OAuth client as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub client_id: String,
    pub tenants: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// When its logins expire; `None`: as the profile of the login's tenant says.
    pub refresh_expiry: Option<RefreshExpiry>,
    pub created: String,
    pub secrets: Vec<CredentialRow>,
    /// How it authenticates beyond a secret (private_key_jwt).
    pub keys: ClientKeys,
}

/// A bearer token or a client secret as operators see it: never its value or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    pub id: i64,
    /// Normalized UTC times ([`normalized_time`](crate::normalized_time)).
    pub created: String,
    pub expires: Option<String>,
    pub revoked: Option<String>,
}

impl CredentialRow {
    /// `revoked`, `expired` or `active` at `now` (a [`normalized_time`](crate::normalized_time)).
    pub fn state(&self, now: &str) -> &'static str {
        match (&self.revoked, &self.expires) {
            (Some(_), _) => "revoked",
            (None, Some(e)) if e.as_str() <= now => "expired",
            _ => "active",
        }
    }
}

/// What a valid bearer token grants: its tenant, and whether that tenant may use SCIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTenant {
    /// The token's id.
    pub id: i64,
    pub tenant: TenantId,
    pub scim_enabled: bool,
    /// Which payloads the tenant's audit trail keeps.
    pub audit_details: DetailsLevel,
    /// When the token expires (Unix seconds), if it does.
    pub expires: Option<i64>,
}

/// An Ed25519 signing key of the authorization server. `seed` is the private key as the
/// server stores it (sealed under its master key, or clear): opaque bytes to the store.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub kid: String,
    pub seed: Vec<u8>,
    pub created: String,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow").field("kid", &self.kid).field("created", &self.created).finish_non_exhaustive()
    }
}

/// What the token endpoint needs to authenticate a client and decide what it may get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    /// The client's database id.
    pub row: i64,
    pub client_id: String,
    /// The argon2 hashes of its secrets that are valid now (neither expired nor revoked).
    pub secret_hashes: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// When its logins expire; `None`: as the profile of the login's tenant says.
    pub refresh_expiry: Option<RefreshExpiry>,
    /// The tenants it may reach: id and name.
    pub tenants: Vec<(TenantId, String)>,
    pub disabled: bool,
    /// How it authenticates beyond a secret (private_key_jwt).
    pub keys: ClientKeys,
}

/// An API system user, for the password grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUserAuth {
    pub id: i64,
    pub tenant: TenantId,
    pub tenant_name: String,
    pub password_hash: String,
    pub disabled: bool,
}

/// An API system user as operators see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUserRow {
    pub username: String,
    pub created: String,
    pub disabled: Option<String>,
    /// Where its set-password link went, if it was sent one.
    pub email: Option<String>,
    /// When its pending set-password link expires.
    pub invite_expires: Option<String>,
}

pub trait CredentialStore: Send + Sync {
    /// Stores a bearer token's hash for a tenant; returns the token's id.
    fn create_token(
        &self,
        tenant: TenantId,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>>;
    /// A tenant's bearer tokens (never their hashes), oldest first.
    fn list_tokens(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<CredentialRow>>>;
    /// Revokes one of a tenant's bearer tokens; `NotFound` if the tenant has no such token.
    fn revoke_token(&self, tenant: TenantId, id: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// The tenant of a valid (unexpired, unrevoked) token, by hash: one index probe.
    fn token_tenant(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<TokenTenant>>>;
    /// Stores an OAuth client with its first secret (hashed) and the tenants it may reach;
    /// `Conflict` if the client id is taken.
    fn create_client(&self, client: NewClient, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// Stores an API system user of a tenant (password hashed); `Conflict` if the
    /// username is taken in any tenant (it selects the tenant when logging in).
    fn create_api_user(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// Every OAuth client with its tenants and secrets (never their hashes).
    fn list_clients(&self) -> BoxFut<'_, StoreResult<Vec<ClientRow>>>;
    /// Adds a secret to a client (rotation: the old ones stay valid until revoked or
    /// expired); returns the secret's id. `NotFound` for an unknown client.
    fn add_client_secret(
        &self,
        client_id: &str,
        hash: String,
        expires: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>>;
    /// Revokes one secret of a client; `NotFound` if the client has no such secret.
    fn revoke_client_secret(&self, client_id: &str, secret: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;

    /// The unretired signing keys, newest first.
    fn signing_keys(&self) -> BoxFut<'_, StoreResult<Vec<SigningKeyRow>>>;
    fn add_signing_key(&self, kid: &str, seed: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// Retires a key: it no longer signs, verifies or appears in the JWKS, and its seed is
    /// forgotten. `NotFound` if there is no such unretired key.
    fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// Replaces an unretired key's stored seed by `new` if it is still `old` (re-sealing
    /// it under another master key, which another replica may be doing at the same time);
    /// whether it was replaced.
    fn replace_signing_key_seed(&self, kid: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>>;
    /// A client by its client id, with the secrets valid at `now`.
    fn client_auth(&self, client_id: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<ClientAuth>>>;
    /// An API system user by username (usernames are unique across tenants).
    fn api_user_auth(&self, username: &str) -> BoxFut<'_, StoreResult<Option<ApiUserAuth>>>;
    /// A tenant's API system users, oldest first.
    fn list_api_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<ApiUserRow>>>;
    /// Disables (or re-enables) an API system user. Disabling also revokes every login
    /// of the user (its refresh families, and with them the access tokens they issued),
    /// for good: enabling the user again revives none of them. `NotFound` if the tenant
    /// has no such user.
    fn set_api_user_disabled(
        &self,
        tenant: TenantId,
        username: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// Replaces an API system user's password hash and ends every login of the user, as
    /// disabling does (whoever knew the old password keeps nothing). `NotFound` if the
    /// tenant has no such user.
    fn set_api_user_password(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// Stores an operator token (by hash); returns its id.
    fn create_admin_token(
        &self,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>>;
    /// Whether an operator token is valid at `now`.
    fn admin_token_valid(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>>;
    /// A secret of the whole deployment (the same for every process on this database),
    /// as opaque bytes: the stored one, else `fresh`, stored. Of two processes storing
    /// one at once, both get the same.
    fn server_secret(&self, name: &str, fresh: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<u8>>>;
    /// Every deployment secret: name and stored bytes (for re-sealing under a new key).
    fn server_secret_values(&self) -> BoxFut<'_, StoreResult<Vec<NamedSecret>>>;
    /// Replaces a deployment secret's stored bytes if they are still `old`; whether it did
    /// (another process re-sealing it at the same time is as good).
    fn replace_server_secret(&self, name: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>>;
}
