//! The authorization server's bookkeeping: refresh tokens and their rotation, revoked
//! grants, failed-login counts. The [`OAuthStore`] part of the `Store` contract and the
//! types crossing it (written in `roles::oauth`; the rotation's decision is `rotation`).

use chrono::{DateTime, Utc};

use crate::{
    BoxFut, CredentialStore, DetailsLevel, FederationStore, LifecycleStore, LockoutKey, LoginAttempt, StoreResult,
    TenantId, TenantStore, TokenStore,
};

/// A refresh token to store (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefresh {
    pub hash: [u8; 32],
    /// The login it descends from; every rotation keeps it.
    pub family: String,
    /// The client's database id.
    pub client: i64,
    pub tenant: TenantId,
    pub api_user: Option<i64>,
    pub scopes: Vec<String>,
    pub expires: DateTime<Utc>,
}

/// The grant a stored refresh token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshGrant {
    pub family: String,
    pub client: i64,
    pub client_id: String,
    pub tenant: TenantId,
    pub tenant_name: String,
    pub username: Option<String>,
    pub scopes: Vec<String>,
    /// Normalized times.
    pub created: String,
    pub expires: String,
    pub used: bool,
    /// Its family was revoked (by the client, or after a replay), or its API user disabled.
    pub revoked: bool,
}

/// What an access token's verification needs from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantStatus {
    pub scim_enabled: bool,
    pub audit_details: DetailsLevel,
    /// The token's jti or its family is revoked.
    pub revoked: bool,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was valid: it is now used, and the new one stored in its family.
    Rotated(RefreshGrant),
    /// No such token, or it belongs to another client.
    Unknown,
    Expired,
    Revoked,
    /// The token had been used already: the whole family is now revoked.
    Replayed,
    /// The token was spent within the grace period by a rotation whose new token is still
    /// unused (a client retrying a refresh whose answer it lost): that rotation's answer,
    /// as kept ([`Rotate::retry`]), and nothing changes.
    Retried {
        grant: RefreshGrant,
        retry: Vec<u8>,
    },
}

/// A refresh token presented for rotation (see [`OAuthStore::rotate_refresh`]).
#[derive(Debug, Clone)]
pub struct Rotate {
    pub hash: [u8; 32],
    /// The presenting client's database id.
    pub client: i64,
    pub new_hash: [u8; 32],
    pub new_expires: DateTime<Utc>,
    /// The rotation's answer, sealed by the server (opaque bytes here), kept with the spent
    /// token for a retry within the grace period; dropped when the new token is rotated.
    pub retry: Option<Vec<u8>>,
    /// A token spent at or after this time is within the grace period.
    pub grace_since: DateTime<Utc>,
    /// A replay revokes the family until then (or its last token's expiry, if later).
    pub revoke_until: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

pub trait OAuthStore: Send + Sync {
    /// Stores the first refresh token of a login.
    fn store_refresh(&self, new: NewRefresh, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// Rotates a refresh token of client `r.client` atomically: a valid token is marked
    /// used, keeps `r.retry`, and `r.new_hash` joins its family (expiring at
    /// `r.new_expires`); a used one spent since `r.grace_since` whose new token is unused
    /// and whose answer was kept gives that answer back ([`Rotation::Retried`]); any other
    /// used one revokes its family until `r.revoke_until` (or its last token's expiry, if
    /// later).
    fn rotate_refresh(&self, r: Rotate) -> BoxFut<'_, StoreResult<Rotation>>;
    /// A refresh token by hash, whatever its state.
    fn refresh_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<RefreshGrant>>>;
    /// Revokes an access token (by jti) or a refresh family (by family id) until `expires`.
    fn revoke_grant(&self, id: &str, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// For an access token: whether its tenant has SCIM, and whether its jti or its
    /// family (`sid`) is revoked. `None` if the tenant no longer exists.
    fn grant_status(
        &self,
        tenant: TenantId,
        jti: &str,
        family: Option<&str>,
    ) -> BoxFut<'_, StoreResult<Option<GrantStatus>>>;
    /// Counts a login attempt against every key, before its credential is checked, in one
    /// transaction: if a key is locked, nothing is counted and the lockout's end is
    /// returned; otherwise each key's count grows, and a key whose count reaches its
    /// threshold is locked for `lock_secs` from the next attempt on (see `lockout`).
    fn login_attempt(
        &self,
        keys: Vec<LockoutKey>,
        lock_secs: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<LoginAttempt>>;
    /// Forgets the counts of these keys (after a successful login).
    fn login_succeeded(&self, keys: Vec<String>) -> BoxFut<'_, StoreResult<()>>;
    /// Deletes OAuth bookkeeping that can no longer matter at `now`: refresh tokens expired
    /// before `refresh_before`, revocations of tokens that have all expired, the jtis of
    /// expired assertions, and failed-login
    /// counts idle since `failures_before` and not locked. Returns the rows deleted.
    fn purge_oauth(
        &self,
        now: DateTime<Utc>,
        refresh_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>>;
}

/// What the authorization server reads and writes: tenants, credentials, its bookkeeping,
/// opaque access tokens, federated trusts and users' deactivations. Every
/// [`crate::Store`] is one.
pub trait AuthStore:
    TenantStore + CredentialStore + OAuthStore + TokenStore + FederationStore + LifecycleStore
{
}
impl<T: TenantStore + CredentialStore + OAuthStore + TokenStore + FederationStore + LifecycleStore + ?Sized> AuthStore
    for T
{
}
