//! Event streams and the events waiting for them: the [`EventStore`] part of the store's
//! contract and the types crossing it (the SQL is in `roles::events`; events are written
//! by the resource role, in the change's own transaction).
//!
//! A tenant's events are numbered by its counter, so a stream's progress is one number,
//! its cursor: the last event it delivered (or its receiver acknowledged). An event is
//! kept until every stream of its tenant is past it, or until the retention bound drops it
//! (the stream counts what it lost).

use scimd_core::events::{Event, EventType, StreamFilter};
use scimd_core::schema::ResourceKind;

use crate::{BoxFut, StoreResult, TenantId};

/// How a stream's events reach its receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Signed SETs POSTed to the receiver (RFC 8935).
    Push,
    /// The receiver fetches SETs with its own credential (RFC 8936).
    Poll,
    /// Plain JSON POSTed to the receiver, signed the Standard Webhooks way.
    Webhook,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Push => "push",
            Method::Poll => "poll",
            Method::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        [Method::Push, Method::Poll, Method::Webhook].into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// A stream to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewStream {
    /// Chosen by the caller (a random id).
    pub id: String,
    pub method: Method,
    /// The receiver's URL (push, webhook).
    pub url: Option<String>,
    /// The SETs' `aud` (push, poll); the receiver's URL when absent.
    pub audience: Option<String>,
    /// Events carry the resource (RFC 9967's full form) rather than the names of the
    /// attributes changed.
    pub full: bool,
    pub filter: StreamFilter,
    /// The webhook secret, or the bearer token the push receiver expects, sealed.
    pub secret: Option<String>,
    /// The poll credential's SHA-256 (hex).
    pub token_hash: Option<String>,
}

/// A stream as stored, with its progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub id: String,
    pub tenant: TenantId,
    pub tenant_name: String,
    pub method: Method,
    pub url: Option<String>,
    pub audience: Option<String>,
    pub full: bool,
    pub filter: StreamFilter,
    pub secret: Option<String>,
    pub paused: bool,
    /// The last event delivered or acknowledged.
    pub cursor: i64,
    /// The tenant's last event.
    pub last_seq: i64,
    /// When the oldest event past the cursor was written (ms since the epoch).
    pub oldest_pending_ms: Option<i64>,
    /// Not before this time (ms) is the next delivery attempted.
    pub next_attempt_ms: i64,
    /// Failed attempts since the last success.
    pub attempts: i64,
    /// When the current run of failures began (ms).
    pub failing_since_ms: Option<i64>,
    pub last_error: Option<String>,
    pub delivered: i64,
    /// Events the receiver refused for good (skipped).
    pub rejected: i64,
    /// Events the retention bound dropped before the stream delivered them.
    pub dropped: i64,
    pub created: String,
    pub updated: String,
}

impl Stream {
    /// Events of the tenant not yet past the cursor (including those the filter skips).
    pub fn backlog(&self) -> i64 {
        (self.last_seq - self.cursor).max(0)
    }

    /// Whether its deliveries have failed, without a success, for `after` or longer.
    pub fn failing(&self, now_ms: i64, after: std::time::Duration) -> bool {
        let after = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
        self.failing_since_ms.is_some_and(|since| now_ms.saturating_sub(since) >= after)
    }
}

/// An event as the store keeps it: the event, and the resource as stored after the
/// change when a stream of the tenant wants the full form.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event: Event,
    pub data: Option<String>,
    /// When the resource was created (with `data`).
    pub created: Option<String>,
}

/// What happened to a stream in one round of delivery.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// The stream's new cursor (never moved back).
    pub cursor: i64,
    pub delivered: i64,
    pub rejected: i64,
    /// The round ended in a failure: its reason and when to try again (ms).
    pub failure: Option<(String, i64)>,
    /// Gives the lease up (the round is over).
    pub release: bool,
}

/// Changes to a stream; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamChange {
    pub paused: Option<bool>,
}

/// What the retention bound dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Events delivered to every stream, deleted.
    pub delivered: u64,
    /// Events dropped before some stream had them.
    pub dropped: u64,
}

/// Event streams and their events.
pub trait EventStore {
    /// Creates a stream; it takes the events written after it.
    fn add_stream(
        &self,
        tenant: TenantId,
        stream: NewStream,
        now: chrono::DateTime<chrono::Utc>,
    ) -> BoxFut<'_, StoreResult<Stream>>;
    /// A tenant's streams, or every tenant's (`None`), oldest first.
    fn streams(&self, tenant: Option<TenantId>) -> BoxFut<'_, StoreResult<Vec<Stream>>>;
    /// One stream of a tenant.
    fn stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<Option<Stream>>>;
    /// The poll stream whose credential has this hash.
    fn poll_stream(&self, token_hash: &str) -> BoxFut<'_, StoreResult<Option<Stream>>>;
    /// Changes a stream; `None` when the tenant has no such stream.
    fn change_stream(
        &self,
        tenant: TenantId,
        id: &str,
        change: StreamChange,
        now: chrono::DateTime<chrono::Utc>,
    ) -> BoxFut<'_, StoreResult<Option<Stream>>>;
    /// Deletes a stream; whether it existed. A tenant's last stream takes its events with it.
    fn delete_stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<bool>>;
    /// A tenant's events after `after`, in order, at most `limit`.
    fn events_after(&self, tenant: TenantId, after: i64, limit: u32) -> BoxFut<'_, StoreResult<Vec<StoredEvent>>>;
    /// Leases up to `limit` push and webhook streams that have events to deliver and are
    /// due (not paused, not leased by another owner, their next attempt reached) to
    /// `owner` until `until_ms`.
    fn claim_streams(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<Stream>>>;
    /// Gives back every lease `owner` holds.
    fn release_streams(&self, owner: &str) -> BoxFut<'_, StoreResult<()>>;
    /// Records a round's progress, if `owner` still holds the lease (`None`: a poll
    /// stream, which has none); whether it was recorded.
    fn advance_stream(
        &self,
        id: &str,
        owner: Option<&str>,
        progress: Progress,
        now_ms: i64,
    ) -> BoxFut<'_, StoreResult<bool>>;
    /// Records the events a poll receiver acknowledged (by `jti`), and moves the stream's
    /// cursor past every event acknowledged or not for it. The jtis it does not know.
    fn acknowledge(&self, stream: &Stream, jtis: Vec<String>) -> BoxFut<'_, StoreResult<Vec<String>>>;
    /// The events past a poll stream's cursor its receiver acknowledged already (out of
    /// order), by sequence number.
    fn acknowledged(&self, stream: &str) -> BoxFut<'_, StoreResult<Vec<i64>>>;
    /// Deletes events every stream has, and events older than `keep_after_ms` (counted
    /// on the streams that had not delivered them).
    fn purge_events(&self, keep_after_ms: i64) -> BoxFut<'_, StoreResult<Purged>>;
    /// Replaces a stream's stored secret by `new` if it is still `old` (re-sealed under
    /// another master key); whether it was replaced.
    fn replace_stream_secret(&self, id: &str, old: &str, new: &str) -> BoxFut<'_, StoreResult<bool>>;
}

/// Reads a stream filter's stored form: JSON arrays of names (or NULL for all).
pub(crate) fn filter_from(kinds: Option<String>, events: Option<String>) -> StreamFilter {
    let names = |s: Option<String>| s.and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok());
    StreamFilter {
        kinds: names(kinds).map(|k| {
            k.iter()
                .filter_map(|n| [ResourceKind::User, ResourceKind::Group].into_iter().find(|k| k.name() == n))
                .collect()
        }),
        events: names(events).map(|e| e.iter().filter_map(|n| EventType::parse(n)).collect()),
    }
}

/// A stream filter's stored form.
pub(crate) fn filter_to(f: &StreamFilter) -> (Option<String>, Option<String>) {
    let json = |v: Vec<&str>| serde_json::to_string(&v).ok();
    (
        f.kinds.as_ref().and_then(|k| json(k.iter().map(|k| k.name()).collect())),
        f.events.as_ref().and_then(|e| json(e.iter().map(|e| e.name()).collect())),
    )
}
