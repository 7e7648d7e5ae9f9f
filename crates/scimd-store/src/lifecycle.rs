//! The lifecycle part of the store: what is left of a deleted resource (its tombstone),
//! bringing one back under its id, ending the logins of a deactivated user, and how long
//! each deactivation took. Types and the trait only; the SQL is in `roles/lifecycle` and
//! in the resource role's delete (which leaves the tombstone in the deletion's
//! transaction) and create with ids (which takes it away).

use chrono::{DateTime, Utc};
use scimd_core::schema::ResourceKind;
use serde_json::Value;

use crate::{BoxFut, StoreResult, TenantId};

/// A deleted resource as its tombstone keeps it: never its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub id: String,
    /// The version it had when deleted: brought back, it continues after it, so an ETag
    /// of before the deletion never matches again.
    pub version: i64,
    /// When it was first created, and when deleted (normalized times).
    pub created: String,
    pub deleted: String,
}

/// One user deactivation and the time it took, from the request's arrival to its last
/// effect (the row written, the user's logins revoked).
#[derive(Debug, Clone, PartialEq)]
pub struct Deactivation {
    /// Normalized time.
    pub at: String,
    pub id: String,
    pub millis: f64,
    /// The logins (refresh families) it ended.
    pub logins: u64,
}

/// What names a resource among its kind for a tombstone: a user's userName key (as its
/// uniqueness compares it), a group's displayName folded as filters compare it.
pub fn name_key(kind: ResourceKind, doc: &Value) -> Option<String> {
    match kind {
        ResourceKind::User => scimd_core::resource::unique_key(kind, doc),
        ResourceKind::Group => doc.get("displayName").and_then(Value::as_str).map(scimd_core::filter::fold_case),
        ResourceKind::Custom(_) => None,
    }
}

/// Tombstones, ended logins and deactivation times.
pub trait LifecycleStore {
    /// The most recently deleted resource of the kind whose externalId is `external_id`,
    /// else whose name key (see [`name_key`]) is `name_key`, if its tombstone is kept. With a
    /// provisioning source's `scope`, the externalId is matched among that source's
    /// resources only (and, for the default source, those of none).
    fn tombstone(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        external_id: Option<String>,
        scope: Option<scimd_core::list::SourceScope>,
        name_key: Option<String>,
    ) -> BoxFut<'_, StoreResult<Option<Tombstone>>>;
    /// Ends every login of the tenant's API users whose username is the same name as
    /// `user_name` (as userNames compare): their refresh families are revoked, and with
    /// them the access tokens they issued. Returns how many logins it ended.
    fn end_logins(&self, tenant: TenantId, user_name: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>>;
    /// Whether the tenant has a user of that name (as userNames compare) and it is inactive.
    fn user_inactive(&self, tenant: TenantId, user_name: &str) -> BoxFut<'_, StoreResult<bool>>;
    /// Records a deactivation's time.
    fn record_deactivation(&self, tenant: TenantId, d: Deactivation) -> BoxFut<'_, StoreResult<()>>;
    /// The tenant's deactivations since `since`, newest first, at most `limit`.
    fn deactivations(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<Deactivation>>>;
    /// Drops tombstones and deactivation times recorded before `before`; returns how many.
    fn purge_lifecycle(&self, before: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>>;
}
