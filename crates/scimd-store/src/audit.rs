//! The audit trail: events, payloads, the error log. The [`AuditStore`] part of the
//! `Store` contract and the types crossing it (written in `roles::audit`).

use chrono::{DateTime, Utc};

use crate::{BoxFut, StoreResult, TenantId};

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
/// resource id (on create), `deactivated` (from the [`Change`](crate::Change)) and the duration (since
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
    /// Only events whose status is of this class (`4`: 400 to 499).
    pub status_class: Option<u16>,
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

/// A tenant's requests of one outcome in one bucket of a window (a window's go-live
/// summary and its chart over time come from one pass: the buckets' counts added up are
/// the window's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBucket {
    /// The bucket's index from the window's origin (its start is `origin + index * width`).
    pub index: i64,
    pub count: EventCount,
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

pub trait AuditStore: Send + Sync {
    /// Writes a batch of audit records in one transaction.
    fn record_audit(&self, batch: Vec<AuditRecord>) -> BoxFut<'_, StoreResult<()>>;
    /// A tenant's events, newest first.
    fn events(&self, tenant: TenantId, query: &EventQuery) -> BoxFut<'_, StoreResult<Vec<EventRow>>>;
    /// The payloads of one of a tenant's events.
    fn event_details(&self, tenant: TenantId, event: i64) -> BoxFut<'_, StoreResult<Option<EventDetails>>>;
    /// A tenant's events in `[from, to)` (milliseconds since the epoch) counted by outcome.
    fn event_counts(&self, tenant: TenantId, from: i64, to: i64) -> BoxFut<'_, StoreResult<Vec<EventCount>>>;
    /// A tenant's events in `[from, to)` counted by outcome in buckets of `width`
    /// milliseconds from `origin` (at or before `from`), in order; buckets without events
    /// are left out.
    fn event_buckets(
        &self,
        tenant: TenantId,
        origin: i64,
        width: i64,
        from: i64,
        to: i64,
    ) -> BoxFut<'_, StoreResult<Vec<EventBucket>>>;
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
}
