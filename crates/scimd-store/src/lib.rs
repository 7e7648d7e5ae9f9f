//! scimd-store: everything SQL. A [`Store`] trait whose every call is scoped by tenant,
//! and its SQLite and PostgreSQL implementations. No other crate sees SQL or driver types.
//! For operators the trait also gives pool and queue figures ([`StoreStats`]), the time of
//! every database operation ([`QueryObserver`]) and readiness ([`Store::ready`]); the
//! metrics themselves are the server's.
//!
//! # Layout
//! - this file: the [`Store`] trait and the plain data types crossing it.
//! - `places`: the [`PlacesStore`] part of it (places, access links, location rules).
//! - `tokens`: the [`TokenStore`] part of it (opaque access tokens, client settings).
//! - `roles`: the store's SQL by role, written once for both databases against `db`;
//!   `lockout` and `rotation`: the failed-login rule and the refresh rotation's decision,
//!   plain functions the roles apply.
//! - [`sqlite`]: the SQLite implementation (WAL, reader pool, one writer thread with group commit).
//! - [`postgres`]: the PostgreSQL implementation (a connection pool, for several replicas).
//! - `sqlfilter`: lowers a resolved SCIM filter (from `scimd-core`) into SQL over the
//!   attribute index; its results are property-tested against the core's evaluator.
//! - `user_names`: recomputing stored userName keys when the userName rule changes, and
//!   the users that need the operator then ([`UserNameIssue`]).
//!
//! Longer than the 800 lines a file should have: it is the `Store` trait and the data types
//! crossing it, one declaration each. Splitting it by concern comes with the store written
//! once and the server split by concern (the next restructuring).

mod db;
mod lockout;
mod places;
pub mod postgres;
mod roles;
mod rotation;
mod sqlfilter;
pub mod sqlite;
mod tokens;
mod user_names;

pub use lockout::{LockoutKey, LoginAttempt, LoginState};
pub use places::{AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess};
pub use scimd_core::profile::RefreshExpiry;
pub use tokens::{AccessTokenRow, ClientUpdate, NewAccessToken, TokenStore};
pub use user_names::UserNameIssue;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use scimd_core::ScimError;
use scimd_core::list::ListQuery;
use scimd_core::patch::MemberOp;
use scimd_core::resource::{IndexEntry, MemberValue};
use scimd_core::schema::ResourceKind;
use serde_json::Value;

/// A deployment secret's name and stored (opaque, possibly sealed) bytes.
pub type NamedSecret = (String, Vec<u8>);

/// A boxed future, so that [`Store`] can be used as `dyn Store`.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A tenant's database id. Every resource call takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(pub i64);

impl TenantId {
    /// Where the audit trail keeps events it could attribute to no tenant (a request
    /// without a credential, or with one naming no tenant): [`Store::events`] of it reads
    /// them. No tenant has this id (tenant ids start at 1).
    pub const NONE: TenantId = TenantId(0);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created: String,
    /// Whether the tenant has the SCIM provisioning feature.
    pub scim_enabled: bool,
    pub audit: AuditSettings,
}

/// Which requests' payloads (redacted) the audit trail keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetailsLevel {
    /// None: events only.
    Off,
    /// Every request except successful reads (GET, list, search, discovery).
    #[default]
    Changes,
    /// Every request.
    All,
}

impl DetailsLevel {
    pub fn code(self) -> i64 {
        match self {
            DetailsLevel::Off => 0,
            DetailsLevel::Changes => 1,
            DetailsLevel::All => 2,
        }
    }
    pub fn from_code(c: i64) -> Self {
        match c {
            0 => DetailsLevel::Off,
            2 => DetailsLevel::All,
            _ => DetailsLevel::Changes,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            DetailsLevel::Off => "off",
            DetailsLevel::Changes => "changes",
            DetailsLevel::All => "all",
        }
    }
    /// Whether a request's payloads are kept: `read` for reads (GET, list, search,
    /// discovery), `failed` for a status of 400 or more.
    pub fn keeps(self, read: bool, failed: bool) -> bool {
        match self {
            DetailsLevel::Off => false,
            DetailsLevel::Changes => !read || failed,
            DetailsLevel::All => true,
        }
    }
}

/// A tenant's audit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    /// Which requests' payloads (redacted) are kept.
    pub details: DetailsLevel,
    /// Days events are kept.
    pub events_days: i64,
    /// Days payloads are kept.
    pub details_days: i64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { details: DetailsLevel::Changes, events_days: 90, details_days: 14 }
    }
}

/// A new OAuth client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub client_id: String,
    /// The argon2 hash of its first secret.
    pub secret_hash: String,
    pub secret_expires: Option<DateTime<Utc>>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// When its logins expire; `None`: as the profile of the login's tenant says.
    pub refresh_expiry: Option<RefreshExpiry>,
    /// The tenants it may reach.
    pub tenants: Vec<TenantId>,
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
}

/// A bearer token or a client secret as operators see it: never its value or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    pub id: i64,
    /// Normalized UTC times ([`normalized_time`]).
    pub created: String,
    pub expires: Option<String>,
    pub revoked: Option<String>,
}

impl CredentialRow {
    /// `revoked`, `expired` or `active` at `now` (a [`normalized_time`]).
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
}

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

/// An audit event (one request) to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub tenant: Option<TenantId>,
    pub time: DateTime<Utc>,
    pub request_id: String,
    /// The OAuth client id, or `token:<id>` for a long-lived token.
    pub client: Option<String>,
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    pub rtype: Option<String>,
    pub resource_id: Option<String>,
    /// `create`, `replace`, `patch`, `delete`, `read`, `list`, `search`, `token`, …
    pub op: String,
    pub status: u16,
    pub scim_type: Option<String>,
    pub duration_ms: f64,
    /// A write that turned a user's `active` from true to false, or a DELETE that the
    /// tenant's profile made a deactivation.
    pub deactivated: bool,
    /// The request id the client sent (`X-Request-Id`), apart from the server's own.
    pub client_request_id: Option<String>,
}

/// The event of a change, written in the change's own transaction. The store sets the
/// resource id (on create), `deactivated` (from the [`Change`]) and the duration (since
/// `started`), and publishes the event's id in `id`.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    pub event: NewEvent,
    pub started: std::time::Instant,
    pub id: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// The redacted payloads of an event: headers as JSON objects, bodies as text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventDetails {
    pub request_headers: String,
    pub request_body: Option<String>,
    pub response_headers: String,
    pub response_body: Option<String>,
}

/// An internal error or panic of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewError {
    pub time: DateTime<Utc>,
    pub request_id: String,
    pub tenant: Option<TenantId>,
    pub method: String,
    pub path: String,
    pub detail: String,
    pub backtrace: Option<String>,
}

/// One item of a batch written to the audit trail.
#[derive(Debug, Clone)]
pub enum AuditRecord {
    Event(NewEvent, Option<EventDetails>),
    /// Payloads of an event already written (a change's), with its tenant and time.
    Details {
        event: i64,
        tenant: Option<TenantId>,
        time: DateTime<Utc>,
        details: EventDetails,
    },
    Error(NewError),
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventRow {
    pub id: i64,
    pub time: String,
    pub request_id: String,
    pub client: Option<String>,
    pub method: String,
    pub path: String,
    pub rtype: Option<String>,
    pub resource_id: Option<String>,
    pub op: String,
    pub status: u16,
    pub scim_type: Option<String>,
    pub duration_ms: f64,
    pub deactivated: bool,
    /// The request id the client sent (`X-Request-Id`), apart from the server's own.
    pub client_request_id: Option<String>,
}

/// Which events to read: a tenant's, newest first, optionally in a window and filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Milliseconds since the Unix epoch; `from` inclusive, `to` exclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub client: Option<String>,
    pub status: Option<u16>,
    pub op: Option<String>,
    /// Only events older than this id (the next page).
    pub before: Option<i64>,
    pub limit: u32,
}

/// Events of a window counted by kind of outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCount {
    pub rtype: Option<String>,
    pub op: String,
    pub status: u16,
    pub scim_type: Option<String>,
    pub deactivated: bool,
    pub count: u64,
    pub first: String,
    pub last: String,
}

/// A recorded internal error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorRow {
    pub id: i64,
    pub time: String,
    pub request_id: String,
    pub tenant_id: Option<i64>,
    pub method: String,
    pub path: String,
    pub detail: String,
    pub backtrace: Option<String>,
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

/// A refresh token presented for rotation (see [`Store::rotate_refresh`]).
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

/// Errors of the store. Driver errors are mapped once, in the implementation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The addressed resource does not exist (in this tenant).
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint was violated; the message names the attribute.
    #[error("conflict: {0}")]
    Conflict(String),
    /// An `If-Match` precondition failed.
    #[error("precondition failed")]
    PreconditionFailed,
    /// A SCIM error raised while applying a change (from the core), or a request the
    /// store refuses (e.g. an unknown group member).
    #[error("{0}")]
    Scim(ScimError),
    /// Anything else: IO, corruption, a bug. Never caused by a client.
    #[error("internal store error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A member of a group, or a group of a user, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub id: String,
    pub kind: ResourceKind,
    pub display: Option<String>,
}

/// A resource as read from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResource {
    pub kind: ResourceKind,
    pub id: String,
    pub version: i64,
    /// Normalized UTC timestamps (`scimd_core::filter::normalize_datetime` form).
    pub created: String,
    pub last_modified: String,
    /// The canonical document (no id/meta/schemas/members/groups/password) as the JSON
    /// text it is stored as: responses are written from it without parsing it
    /// (`scimd_core::render`).
    pub data: String,
    /// Group members or user groups, when asked for.
    pub related: Option<Vec<MemberRow>>,
}

/// Everything needed to write a resource's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceState {
    pub doc: Value,
    /// A user's userName key (none for a group). In an update, none for a user keeps the
    /// key it has (its name is still the same name).
    pub unique_key: Option<String>,
    pub display: Option<String>,
    pub index: Vec<IndexEntry>,
}

/// A new resource.
#[derive(Debug, Clone)]
pub struct NewResource {
    pub state: ResourceState,
    pub password_hash: Option<String>,
    /// A group's members, or a user's groups (when a profile makes them settable).
    pub members: Vec<MemberValue>,
    /// The generation of the tenant's location rules a user's derived attributes were
    /// computed with (0 for groups).
    pub derived_gen: i64,
    /// The request's audit event, written with the resource.
    pub event: Option<ChangeEvent>,
}

/// The result of a mutator: the new state and the membership changes to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub state: ResourceState,
    /// `None` keeps the stored password hash.
    pub password_hash: Option<String>,
    /// Changes to a group's members, or to a user's groups.
    pub member_ops: Vec<MemberOp>,
    /// The change turns a user's `active` from true to false, or is a DELETE that the
    /// tenant's profile turns into a deactivation (for the audit trail).
    pub deactivates: bool,
    /// The generation of the location rules the state's derived attributes were computed
    /// with (users; ignored for groups).
    pub derived_gen: i64,
}

/// Computes a change from the current document, inside the write transaction.
pub type Mutator = Box<dyn FnOnce(&Value) -> Result<Change, ScimError> + Send>;

/// A read-modify-write request for [`Store::update`].
pub struct Update {
    /// Precondition on the current version.
    pub if_match: Option<IfMatch>,
    /// Computes the change from the current resource.
    pub mutate: Mutator,
    /// Also return members (Group) or groups (User) as of the same transaction.
    pub related: bool,
    /// The request's audit event, written with the change.
    pub event: Option<ChangeEvent>,
}

/// `If-Match` as the store checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    fn admits(&self, version: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(v) => v.contains(&version),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub total: u64,
    pub items: Vec<StoredResource>,
    /// Cursor pagination: the position after this page's last item, when more follow.
    pub next: Option<i64>,
}

/// Storage for tenants, credentials and SCIM resources. Every resource call is scoped
/// by a [`TenantId`]: no call can see another tenant's rows.
pub trait Store: PlacesStore + TokenStore + Send + Sync + 'static {
    /// Creates a tenant, with or without the SCIM feature; `Conflict` if the name is taken.
    fn create_tenant(&self, name: &str, scim_enabled: bool, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Tenant>>;
    fn tenant_by_name(&self, name: &str) -> BoxFut<'_, StoreResult<Option<Tenant>>>;
    fn list_tenants(&self) -> BoxFut<'_, StoreResult<Vec<Tenant>>>;
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
    /// Turns a tenant's SCIM feature on or off; `NotFound` for an unknown tenant.
    fn set_scim_enabled(&self, tenant: TenantId, enabled: bool) -> BoxFut<'_, StoreResult<()>>;

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
    /// before `refresh_before`, revocations of tokens that have all expired, and failed-login
    /// counts idle since `failures_before` and not locked. Returns the rows deleted.
    fn purge_oauth(
        &self,
        now: DateTime<Utc>,
        refresh_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>>;
    /// Changes a tenant's audit settings; `NotFound` for an unknown tenant.
    fn set_audit_settings(&self, tenant: TenantId, settings: AuditSettings) -> BoxFut<'_, StoreResult<()>>;
    /// A tenant's profile (JSON, `scimd_core::profile::Profile`); `None`: the default.
    fn tenant_profile(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<String>>>;
    /// Every tenant's stored profile (tenants without one are left out).
    fn tenant_profiles(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, String)>>>;
    /// Sets (or with `None` clears) a tenant's profile; `NotFound` if there is no tenant.
    fn set_tenant_profile(&self, tenant: TenantId, profile: Option<String>) -> BoxFut<'_, StoreResult<()>>;
    /// Writes a batch of audit records in one transaction.
    fn record_audit(&self, batch: Vec<AuditRecord>) -> BoxFut<'_, StoreResult<()>>;
    /// A tenant's events, newest first.
    fn events(&self, tenant: TenantId, query: &EventQuery) -> BoxFut<'_, StoreResult<Vec<EventRow>>>;
    /// The payloads of one of a tenant's events.
    fn event_details(&self, tenant: TenantId, event: i64) -> BoxFut<'_, StoreResult<Option<EventDetails>>>;
    /// A tenant's events in `[from, to)` (milliseconds since the epoch) counted by outcome.
    fn event_counts(&self, tenant: TenantId, from: i64, to: i64) -> BoxFut<'_, StoreResult<Vec<EventCount>>>;
    /// Internal errors in `[from, to)`, newest first; of one tenant's requests if given.
    fn errors(
        &self,
        tenant: Option<TenantId>,
        from: &str,
        to: &str,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<ErrorRow>>>;
    /// Deletes at most `batch` events, payloads and errors past their tenant's retention
    /// (events of no tenant and errors: `default_days`); returns how many. Call until 0.
    fn purge_audit(&self, now: DateTime<Utc>, default_days: i64, batch: u32) -> BoxFut<'_, StoreResult<u64>>;
    /// Stores an operator token (by hash); returns its id.
    fn create_admin_token(
        &self,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>>;
    /// Whether an operator token is valid at `now`.
    fn admin_token_valid(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>>;

    fn create(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        new: NewResource,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<StoredResource>>;
    /// Creates resources with the ids given (a product's own ids, kept when it moves to
    /// scimd; an operator's choice), in one transaction: all of them or none. An id already
    /// used by any resource of the tenant, user or group, is a `Conflict` naming it (ids
    /// address members of either kind); so is a taken userName, naming the resource.
    fn create_with_ids(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        items: Vec<(String, NewResource)>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Vec<StoredResource>>>;
    /// Reads one resource; `related` loads group members (Group) or groups (User).
    fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Option<StoredResource>>>;
    fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Page>>;
    /// Read-modify-write under the write lock: loads the resource, checks `if_match`,
    /// calls `mutate`, writes the change and bumps the version, atomically.
    fn update(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        update: Update,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<StoredResource>>;
    fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<IfMatch>,
        event: Option<ChangeEvent>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// Readiness: the database is reachable and its schema is exactly the one this
    /// binary knows (every migration applied, none from a newer binary); for SQLite also
    /// that the database files are still the ones opened. The error's message tells an
    /// operator what to do. Bounded in time (a few seconds) on PostgreSQL.
    fn ready(&self) -> BoxFut<'_, StoreResult<()>>;
    /// The connection pool's and the write queue's state now: cheap, without IO.
    fn stats(&self) -> StoreStats;
    /// Sets the function told the duration of every database operation (see
    /// [`QueryObserver`]). Only the first call takes effect; later ones are ignored.
    fn set_observer(&self, observer: QueryObserver);
    /// Stops taking writes after those already queued (at shutdown).
    fn close(&self) {}
    /// Users whose userName needs the operator since the userName rule changed (a clash
    /// with another user's name, or a character the rule refuses), while they keep it.
    fn user_name_issues(&self) -> BoxFut<'_, StoreResult<Vec<UserNameIssue>>>;
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

/// The state of a store's connections and write queue, for metrics. What each field
/// counts differs a little between the stores: see [`Store::stats`] of each.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StoreStats {
    /// Connections open (`pool_in_use + pool_idle`).
    pub pool_size: u64,
    /// Connections checked out by an operation now.
    pub pool_in_use: u64,
    /// Connections open and idle.
    pub pool_idle: u64,
    /// Operations waiting for a connection.
    pub pool_waiting: u64,
    /// Writes submitted and not yet finished (SQLite's writer queue).
    pub write_queue: u64,
}

/// What kind of database operation a [`QueryObserver`] is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Read,
    Write,
}

impl QueryKind {
    /// `read` or `write`: a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryKind::Read => "read",
            QueryKind::Write => "write",
        }
    }
}

/// Told the kind and the duration of every database operation of a store (one call
/// per operation, on the thread or task that finished it), once set with
/// [`Store::set_observer`]. It must be cheap and must not block: it runs on the store's
/// hot paths (SQLite's writer thread among them).
pub type QueryObserver = std::sync::Arc<dyn Fn(QueryKind, std::time::Duration) + Send + Sync>;

/// Checks the schema versions recorded in a database (`applied`) against the
/// `migrations` this binary knows, for [`Store::ready`]. `what` names the schema in
/// the message ("database", "audit journal").
pub(crate) fn check_schema(what: &str, applied: &[i64], migrations: &[(i64, &str)]) -> StoreResult<()> {
    let expected = migrations.iter().map(|(v, _)| *v).max().unwrap_or(0);
    let at = applied.iter().copied().max().unwrap_or(0);
    if at > expected {
        return Err(StoreError::Internal(format!(
            "{what} schema at version {at}, newer than this scimd knows ({expected}): it was migrated by a newer \
             scimd; run that version (or restore a backup from before the upgrade)"
        )));
    }
    if let Some((missing, _)) = migrations.iter().find(|(v, _)| !applied.contains(v)) {
        return Err(StoreError::Internal(if at == expected {
            format!("{what} schema lacks migration {missing} (this scimd expects {expected}): run `scimd migrate`")
        } else {
            format!("{what} schema at version {at}, this scimd expects {expected}: run `scimd migrate`")
        }));
    }
    Ok(())
}

// ------------------------------------------------------------ shared by both stores

/// `If-Match` against the stored version.
pub(crate) fn check_if_match(if_match: &Option<IfMatch>, version: i64) -> StoreResult<()> {
    match if_match {
        Some(m) if !m.admits(version) => Err(StoreError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// A resource's stored JSON text and folded display name.
pub(crate) fn state_params(state: &ResourceState) -> StoreResult<(String, Option<String>)> {
    let data = serde_json::to_string(&state.doc).map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok((data, state.display.as_deref().map(scimd_core::filter::fold_case)))
}

/// The related-resources column (`[[id, rtype, display], …]`, built by the stores' SQL) as rows.
pub(crate) fn related_rows(json: &str) -> serde_json::Result<Vec<MemberRow>> {
    let rows: Vec<(String, i64, Option<String>)> = serde_json::from_str(json)?;
    Ok(rows.into_iter().map(|(id, code, display)| MemberRow { id, kind: kind_from_code(code), display }).collect())
}

impl ChangeEvent {
    /// The event to write with its change (the created resource's id, whether it
    /// deactivated a user, its duration so far), and where to publish its id.
    pub(crate) fn finish(
        self,
        created_id: Option<&str>,
        deactivates: bool,
    ) -> (NewEvent, std::sync::Arc<std::sync::atomic::AtomicI64>) {
        let mut event = self.event;
        if let Some(id) = created_id {
            event.resource_id = Some(id.to_string());
        }
        event.deactivated = deactivates;
        event.duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        (event, self.id)
    }
}

/// The conflict of an id given for a new resource that the tenant already uses.
pub(crate) fn id_taken(id: &str) -> String {
    format!("the id '{id}'")
}

/// A conflict raised while creating one of several resources, naming that resource.
pub(crate) fn naming(e: StoreError, id: &str) -> StoreError {
    match e {
        // The driver's unique violation on ids names no id.
        StoreError::Conflict(what) if what == "the id" => StoreError::Conflict(id_taken(id)),
        StoreError::Conflict(what) if what != id_taken(id) => StoreError::Conflict(format!("{what} (of '{id}')")),
        e => e,
    }
}

/// The error for a group named in `User.groups` that does not exist.
pub(crate) fn no_group(id: &str) -> String {
    format!("group '{id}' does not exist")
}

/// Cursor pagination: a page fetched with one row more than asked for is cut to size,
/// and the position after its last item is where the next page starts.
pub(crate) fn page_end(query: &ListQuery, items: &mut Vec<StoredResource>, rowids: &[i64]) -> Option<i64> {
    query.after?;
    let n = query.count as usize;
    if items.len() > n {
        items.truncate(n);
        return rowids.get(n.checked_sub(1)?).copied();
    }
    None
}

/// The database's code for a resource kind.
pub(crate) fn kind_code(kind: ResourceKind) -> i64 {
    match kind {
        ResourceKind::User => 1,
        ResourceKind::Group => 2,
    }
}

pub(crate) fn kind_from_code(code: i64) -> ResourceKind {
    if code == 2 { ResourceKind::Group } else { ResourceKind::User }
}

/// Formats a timestamp in the normalized, byte-ordered form stored in the database.
pub fn normalized_time(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    // Written by hand: a `format` string is parsed again on every call.
    let mut s = String::with_capacity(30);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond().min(999_999_999)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_check_names_the_versions_and_the_fix() {
        let known = [(1, ""), (2, ""), (3, "")];
        assert!(check_schema("database", &[1, 2, 3], &known).is_ok());
        let e = check_schema("database", &[1, 2], &known).unwrap_err().to_string();
        assert!(e.contains("database schema at version 2, this scimd expects 3: run `scimd migrate`"), "{e}");
        let e = check_schema("database", &[], &known).unwrap_err().to_string();
        assert!(e.contains("at version 0, this scimd expects 3"), "{e}");
        let e = check_schema("database", &[1, 3], &known).unwrap_err().to_string();
        assert!(e.contains("lacks migration 2") && e.contains("scimd migrate"), "{e}");
        let e = check_schema("database", &[1, 2, 3, 4], &known).unwrap_err().to_string();
        assert!(e.contains("version 4, newer than this scimd knows (3)"), "{e}");
        assert_eq!(QueryKind::Read.as_str(), "read");
        assert_eq!(QueryKind::Write.as_str(), "write");
    }

    #[test]
    fn normalized_time_is_fixed_width_and_ordered() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.006007008Z").unwrap().with_timezone(&Utc);
        assert_eq!(normalized_time(t), "2026-01-02T03:04:05.006007008Z");
        let t = DateTime::parse_from_rfc3339("0999-12-31T23:59:59Z").unwrap().with_timezone(&Utc);
        assert_eq!(normalized_time(t), "0999-12-31T23:59:59.000000000Z");
        assert_eq!(normalized_time(t), t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string());
    }
}
