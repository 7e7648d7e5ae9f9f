//! scimd-store: everything SQL. A [`Store`] trait whose every call is scoped by tenant,
//! and its SQLite and PostgreSQL implementations. No other crate sees SQL or driver types.
//! For operators the trait also gives pool and queue figures ([`StoreStats`]), the time of
//! every database operation ([`QueryObserver`]) and readiness ([`Store::ready`]); the
//! metrics themselves are the server's.
//!
//! # Layout
//! The contract by role: each file holds one part of the [`Store`] trait and the plain data
//! types crossing it; `roles/` holds the same role's SQL.
//! - this file: [`Store`] (the whole contract: every role, resources, readiness and
//!   figures) and the resource types.
//! - `tenants`: [`TenantStore`] (tenants, profiles, audit settings).
//! - `credentials`: [`CredentialStore`] (bearer and operator tokens, OAuth clients, API
//!   users, signing keys, deployment secrets).
//! - `oauth`: [`OAuthStore`] (refresh tokens, revoked grants, failed-login counts);
//!   `tokens`: [`TokenStore`] (opaque access tokens, client settings); [`AuthStore`] is
//!   what the authorization server sees: these and the tenants and credentials.
//! - `audit`: [`AuditStore`] (events, payloads, the error log).
//! - `places`: [`PlacesStore`] (places, access links, location rules).
//! - `events`: [`EventStore`] (event streams, the events recorded with changes, their
//!   delivery progress and retention).
//! - `async_requests`: [`AsyncRequestStore`] (asynchronous requests kept until run, their
//!   leases and the operations done).
//! - `portal`: [`PortalStore`] (the web console's operators, system users and their
//!   invitations, sessions, tenants' single sign-on).
//! - `lifecycle`: [`LifecycleStore`] (deleted resources' tombstones, a deactivated
//!   user's logins ended, deactivation times).
//! - [`transfer`]: [`TransferStore`] (a deployment's rows read and written by natural
//!   keys, for `scimd export` and `import`).
//! - `roles`: the store's SQL by role, written once for both databases against `db`;
//!   `lockout` and `rotation`: the failed-login rule and the refresh rotation's decision,
//!   plain functions the roles apply.
//! - [`sqlite`]: the SQLite implementation (WAL, reader pool, one writer thread with group commit).
//! - [`postgres`]: the PostgreSQL implementation (a connection pool, for several replicas).
//! - `sqlfilter`: lowers a resolved SCIM filter (from `scimd-core`) into SQL over the
//!   attribute index; its results are property-tested against the core's evaluator.
//! - `user_names`: recomputing stored userName keys when the userName rule changes, and
//!   the users that need the operator then ([`UserNameIssue`]).

mod async_requests;
mod audit;
mod credentials;
mod db;
mod events;
mod federation;
mod lifecycle;
mod lockout;
mod oauth;
mod onboarding;
mod places;
mod portal;
pub mod postgres;
mod roles;
mod rotation;
mod sqlfilter;
pub mod sqlite;
mod tenants;
mod tokens;
pub mod transfer;
mod user_names;

pub use async_requests::{AsyncRequest, AsyncRequestStore, NewAsyncRequest, OpDone};
pub use audit::{
    AuditRecord, AuditStore, ChangeEvent, ErrorRow, EventBucket, EventCount, EventDetails, EventQuery, EventRow,
    NewError, NewEvent,
};
pub use credentials::{
    ApiUserAuth, ApiUserRow, ClientAuth, ClientRow, CredentialRow, CredentialStore, NamedSecret, NewClient,
    SigningKeyRow, TokenTenant,
};
pub use events::{EventStore, Method, NewStream, Progress, Purged, StoredEvent, Stream, StreamChange};
pub use federation::{ClientKeys, FederationStore, PRIVATE_KEY_JWT, Trust};
pub use lifecycle::{Deactivation, LifecycleStore, Tombstone, name_key};
pub use lockout::{LockoutKey, LoginAttempt, LoginState};
pub use oauth::{AuthStore, GrantStatus, NewRefresh, OAuthStore, RefreshGrant, Rotate, Rotation};
pub use onboarding::{ApiUserInvite, Decision, MessageRow, NewMessage, NewSubmission, OnboardingStore, Submission};
pub use places::{AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess};
pub use portal::{
    NewSession, Operator, PortalStore, Principal, SessionRow, SessionStage, SsoSettings, SystemUser, SystemUserChange,
};
pub use scimd_core::profile::RefreshExpiry;
pub use tenants::{AuditSettings, Contacts, DetailsLevel, Stage, Tenant, TenantId, TenantStore};
pub use tokens::{AccessTokenRow, ClientUpdate, NewAccessToken, TokenStore};
pub use transfer::TransferStore;
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

/// A boxed future, so that [`Store`] can be used as `dyn Store`.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    /// The database could not do it now: the client may try again later (a 503). Only
    /// the PostgreSQL store says this, after running the work again where that is safe.
    #[error("database unavailable ({}): {}", .0.why.as_str(), .0.detail)]
    Unavailable(Unavailable),
}

/// Why the database could not do an operation now, and what became of it.
#[derive(Debug, Clone)]
pub struct Unavailable {
    pub why: Why,
    /// The driver's message, for the log (never for a client).
    pub detail: String,
}

/// What [`Unavailable`] says about the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The database broke the transaction off (a serialization failure or a deadlock)
    /// every time it was tried: nothing was written.
    Contention,
    /// The connection broke before anything was committed: nothing was written.
    Lost,
    /// The connection broke while a change was being committed, or during a statement
    /// that commits by itself: the change may or may not have been made.
    Unknown,
}

impl Why {
    /// `contention`, `lost` or `unknown`: for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Contention => "contention",
            Why::Lost => "lost",
            Why::Unknown => "unknown",
        }
    }
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
    /// Who creates it: the source it then belongs to, the origin of its memberships.
    pub writer: Writer,
}

/// Who writes a resource, for the rules of provisioning sources: which resources it may
/// change, which source a resource it creates belongs to, and which origin bit of a
/// membership (`members.origins`) its changes of memberships set and clear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Writer {
    /// A SCIM client of a tenant that declares no sources: it changes every resource.
    #[default]
    Client,
    /// A SCIM client of one of the tenant's sources: it changes its own resources, and the
    /// default source those no source owns.
    Source(scimd_core::list::SourceScope),
    /// A SCIM client in none of the tenant's declared sources: it may read, not write.
    Unlisted,
    /// The operator (portal, admin API, CLI): changes every resource; its memberships are
    /// kept apart from those made over SCIM.
    Operator,
    /// The operator of a tenant whose profile forbids local changes: the tenant's users and
    /// groups are its identity provider's alone, so every write is refused.
    OperatorLocked,
}

/// The origin bit of memberships made over SCIM.
pub const ORIGIN_SCIM: i64 = 1;
/// The origin bit of memberships made by the operator.
pub const ORIGIN_OPERATOR: i64 = 2;

impl Writer {
    /// The origin bit the writer's membership changes set and clear.
    pub fn origin(&self) -> i64 {
        if matches!(self, Writer::Operator | Writer::OperatorLocked) { ORIGIN_OPERATOR } else { ORIGIN_SCIM }
    }

    /// The source a resource the writer creates belongs to.
    pub fn source(&self) -> Option<&str> {
        match self {
            Writer::Source(s) => Some(&s.name),
            _ => None,
        }
    }

    /// Whether the writer may change (or delete) a resource owned by `owner`: 403 (RFC 7644
    /// §3.12) when not. `owner` is `None` for a creation's check.
    pub(crate) fn check(&self, owner: Option<&str>, creating: bool) -> StoreResult<()> {
        let refuse = |why: String| Err(StoreError::Scim(ScimError::new(403, None, why)));
        match self {
            Writer::Client | Writer::Operator => Ok(()),
            Writer::Unlisted => refuse(
                "this client is not one of the tenant's provisioning sources: it may read resources, not write them"
                    .into(),
            ),
            Writer::OperatorLocked => refuse(
                "this tenant's users and groups are managed by its identity provider only (its profile forbids \
                 local changes): make the change there"
                    .into(),
            ),
            Writer::Source(_) if creating => Ok(()),
            Writer::Source(s) => match owner {
                Some(o) if o == s.name => Ok(()),
                None if s.default => Ok(()),
                Some(o) => {
                    refuse(format!("the resource is managed by the provisioning source '{o}', not by '{}'", s.name))
                }
                None => refuse(format!(
                    "the resource is managed by no provisioning source: only the default source and the operator \
                     change it, not '{}'",
                    s.name
                )),
            },
        }
    }
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

/// Computes a change from the current document, inside the write transaction. It may be
/// called more than once: the PostgreSQL store runs a transaction again when the database
/// broke it off (a serialization failure or a deadlock), with the document as it is then.
pub type Mutator = Box<dyn FnMut(&Value) -> Result<Change, ScimError> + Send>;

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
    /// What the change is (a replacement or a patch), as its events name it.
    pub write: scimd_core::events::Write,
    /// Who changes it: whether it may, and the origin of the memberships it changes.
    pub writer: Writer,
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
pub trait Store:
    AuthStore
    + AuditStore
    + PlacesStore
    + EventStore
    + AsyncRequestStore
    + PortalStore
    + OnboardingStore
    + TransferStore
    + LifecycleStore
    + Send
    + Sync
    + 'static
{
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
    /// Deletes a resource (its version must pass `if_match`; `writer` must be allowed to).
    #[allow(clippy::too_many_arguments)]
    fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<IfMatch>,
        writer: Writer,
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
    /// Transactions run again since the start because the database broke them off (a
    /// serialization failure or a deadlock; PostgreSQL).
    pub retried_transactions: u64,
    /// Transactions and reads run again since the start on a fresh connection because
    /// theirs broke before anything was committed (PostgreSQL).
    pub retried_connections: u64,
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
/// The id of a new resource: a UUID of version 7 (RFC 9562), whose first 48 bits are the
/// creation time in milliseconds. Ids made one after another sort together, so each
/// create appends to the id index's last pages instead of dirtying a random page of it
/// (with 100,000 users and more, random ids cost each create page reads and WAL writes).
/// What a version 7 id tells, its creation time, a client reads anyway in `meta.created`.
pub(crate) fn new_resource_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

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

/// The conflict of an id given for a new resource that the tenant already uses.
pub fn id_taken(id: &str) -> String {
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
        ResourceKind::Custom(code) => i64::from(code),
    }
}

pub(crate) fn kind_from_code(code: i64) -> ResourceKind {
    match code {
        2 => ResourceKind::Group,
        // A declared type's code is its per-tenant rtype (16..=255).
        c if c >= i64::from(scimd_core::schema::FIRST_CUSTOM_CODE) && c <= 255 => ResourceKind::Custom(c as u8),
        _ => ResourceKind::User,
    }
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
