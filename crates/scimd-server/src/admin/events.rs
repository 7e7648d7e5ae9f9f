//! The operator's event streams, shared by the command line and the admin HTTP API: adding
//! a stream (push, poll or webhook, with its filter), listing, pausing, resuming and
//! deleting them, each change recorded in the audit trail; a stream's view with its
//! progress and status ([`StreamView`], also for the delivery's own reports); and a
//! tenant's recorded events, for `scimd events tail`.
//!
//! A stream's credential is made here and shown once: a webhook's Standard Webhooks
//! secret and the bearer token a push receiver expects are stored sealed under the master
//! key (the delivery must read them back), a poll stream's token only as its SHA-256.

use std::time::Duration;

use chrono::{DateTime, Utc};
use scimd_core::events::{EventType, StreamFilter};
use scimd_core::schema::ResourceKind;
use scimd_store::{Method, NewStream, StoredEvent, Stream, StreamChange, Tenant};
use serde::Serialize;
use serde_json::Value;

use super::{Admin, AdminError, AdminResult, Caller, Change};

/// `events.failing_after` unless configured.
pub(super) const DEFAULT_FAILING_AFTER: Duration = Duration::from_secs(600);

/// Where a poll receiver fetches its events, under the server's public root.
pub const POLL_PATH: &str = "/events/v1/poll";

/// The longest URL or audience a stream takes.
const MAX_URL: usize = 2048;

/// The poll URL under a public root (`public_url`, or where an admin request arrived;
/// a trailing `/scim/v2` is the SCIM base, not the root); the path alone without one.
pub fn poll_url(root: Option<&str>) -> String {
    match root {
        Some(r) => format!("{}{POLL_PATH}", scimd_core::profile::public_root(r)),
        None => POLL_PATH.to_string(),
    }
}

/// A stream as the operator asks for it.
#[derive(Debug, Clone, Default)]
pub struct StreamSpec {
    /// `push`, `poll` or `webhook`.
    pub method: String,
    /// The receiver's URL (push, webhook): http or https.
    pub url: Option<String>,
    /// The SETs' `aud`; the receiver's URL (or the poll URL) when absent.
    pub audience: Option<String>,
    /// Events carry the resource (RFC 9967's full form).
    pub full: bool,
    /// Resource types taken (`User`, `Group`); all when absent.
    pub resource_types: Option<Vec<String>>,
    /// Event types taken, by short name or URI; all when absent.
    pub events: Option<Vec<String>>,
    /// The bearer token a push receiver expects.
    pub bearer_token: Option<String>,
}

/// A stream's health: paused by the operator, failing (its deliveries have failed for
/// longer than `events.failing_after`), or active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamStatus {
    Active,
    Paused,
    Failing,
}

impl StreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Active => "active",
            StreamStatus::Paused => "paused",
            StreamStatus::Failing => "failing",
        }
    }
}

/// A stream's status at `now_ms` (ms since the epoch).
pub fn stream_status(s: &Stream, now_ms: i64, failing_after: Duration) -> StreamStatus {
    if s.paused {
        StreamStatus::Paused
    } else if s.failing(now_ms, failing_after) {
        StreamStatus::Failing
    } else {
        StreamStatus::Active
    }
}

/// Which events a stream takes; `null` lists take all.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FilterView {
    #[serde(rename = "resourceTypes")]
    pub resource_types: Option<Vec<&'static str>>,
    pub events: Option<Vec<&'static str>>,
}

/// A stream as the operator sees it: never its secret or its token's hash.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StreamView {
    pub id: String,
    pub tenant: String,
    pub method: Method,
    pub url: Option<String>,
    pub audience: Option<String>,
    pub full: bool,
    pub filter: FilterView,
    pub paused: bool,
    pub status: StreamStatus,
    /// The last event delivered (or acknowledged by a poll receiver).
    pub cursor: i64,
    /// The tenant's last event.
    #[serde(rename = "lastSeq")]
    pub last_seq: i64,
    /// Events past the cursor (the filter's skipped ones included).
    pub backlog: i64,
    /// How long the oldest event past the cursor has waited, in seconds.
    #[serde(rename = "lagSeconds")]
    pub lag_seconds: i64,
    pub delivered: i64,
    pub rejected: i64,
    pub dropped: i64,
    /// Failed attempts since the last success.
    pub attempts: i64,
    #[serde(rename = "lastError")]
    pub last_error: Option<String>,
    /// When the current run of failures began.
    #[serde(rename = "failingSince")]
    pub failing_since: Option<String>,
    /// When the next delivery is tried, while it waits after a failure.
    #[serde(rename = "nextAttempt")]
    pub next_attempt: Option<String>,
    pub created: String,
    pub updated: String,
}

fn rfc3339_ms(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl StreamView {
    /// The view of a stream at `now`.
    pub fn of(s: &Stream, now: DateTime<Utc>, failing_after: Duration) -> StreamView {
        let now_ms = now.timestamp_millis();
        StreamView {
            id: s.id.clone(),
            tenant: s.tenant_name.clone(),
            method: s.method,
            url: s.url.clone(),
            audience: s.audience.clone(),
            full: s.full,
            filter: FilterView {
                resource_types: s.filter.kinds.as_ref().map(|k| k.iter().map(|k| k.name()).collect()),
                events: s.filter.events.as_ref().map(|e| e.iter().map(|e| e.name()).collect()),
            },
            paused: s.paused,
            status: stream_status(s, now_ms, failing_after),
            cursor: s.cursor,
            last_seq: s.last_seq,
            backlog: s.backlog(),
            lag_seconds: s.oldest_pending_ms.map_or(0, |t| (now_ms - t).max(0) / 1000),
            delivered: s.delivered,
            rejected: s.rejected,
            dropped: s.dropped,
            attempts: s.attempts,
            last_error: s.last_error.clone(),
            failing_since: s.failing_since_ms.and_then(rfc3339_ms),
            next_attempt: (s.next_attempt_ms > now_ms).then(|| rfc3339_ms(s.next_attempt_ms)).flatten(),
            created: s.created.clone(),
            updated: s.updated.clone(),
        }
    }
}

/// A stream just created, with its credential: shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedStream {
    #[serde(flatten)]
    pub stream: StreamView,
    /// A webhook's signing secret (`whsec_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// A poll stream's URL and its receiver's token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A recorded event, as `scimd events tail` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventView {
    pub seq: i64,
    pub time: String,
    /// The event type's short name (`create`, `deactivate`, `access`, …).
    #[serde(rename = "type")]
    pub event: &'static str,
    #[serde(rename = "resourceType")]
    pub resource_type: &'static str,
    pub id: String,
    #[serde(rename = "externalId", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub version: Option<i64>,
    /// The notice form's payload: the attributes changed, or an access event's banks and lockers.
    pub payload: Value,
    pub txn: Option<String>,
    pub jti: String,
}

impl From<StoredEvent> for EventView {
    fn from(s: StoredEvent) -> Self {
        let e = s.event;
        EventView {
            seq: e.seq,
            time: rfc3339_ms(e.time_ms).unwrap_or_default(),
            event: e.event.name(),
            resource_type: e.kind.name(),
            id: e.resource_id,
            external_id: e.external_id,
            version: e.version,
            payload: e.payload,
            txn: e.txn,
            jti: e.jti,
        }
    }
}

/// A receiver's URL: absolute http or https with a host, no credentials in it (they
/// would be shown in every view; a push receiver's token goes in the bearer token).
fn receiver_url(url: &str) -> AdminResult<String> {
    let url = url.trim();
    if url.len() > MAX_URL {
        return Err(AdminError::invalid(format!("the receiver URL is longer than {MAX_URL} characters")));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| AdminError::invalid(format!("the receiver URL '{url}' is not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AdminError::invalid(format!(
            "the receiver URL '{url}' must be http:// or https://, not {}:",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(AdminError::invalid(format!("the receiver URL '{url}' has no host")));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AdminError::invalid(
            "the receiver URL may not carry credentials (user:password@): give a push receiver's token as its \
             bearer token",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(AdminError::invalid(format!("the receiver URL '{url}' has a #fragment, which is never sent")));
    }
    Ok(url.to_string())
}

/// The resource types a filter names (`User`, `Group`, any case, plural too), or all.
fn kinds(names: Option<&[String]>) -> AdminResult<Option<Vec<ResourceKind>>> {
    let Some(names) = names else { return Ok(None) };
    let mut out = Vec::new();
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let k = match n.to_ascii_lowercase().as_str() {
            "user" | "users" => ResourceKind::User,
            "group" | "groups" => ResourceKind::Group,
            _ => return Err(AdminError::invalid(format!("unknown resource type '{n}': use User or Group"))),
        };
        if !out.contains(&k) {
            out.push(k);
        }
    }
    if out.is_empty() {
        return Err(AdminError::invalid("a resource type filter names at least one of User and Group"));
    }
    Ok(Some(out))
}

/// The event types a filter names (short names or URIs), or all.
fn event_types(names: Option<&[String]>) -> AdminResult<Option<Vec<EventType>>> {
    let Some(names) = names else { return Ok(None) };
    let mut out = Vec::new();
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let t = EventType::parse(n).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.name()).collect();
            AdminError::invalid(format!("unknown event type '{n}': use {} or their URIs", known.join(", ")))
        })?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(AdminError::invalid("an event type filter names at least one event type"));
    }
    Ok(Some(out))
}

/// An operator's text setting: trimmed, not empty, printable, bounded.
fn text(value: Option<&str>, what: &str) -> AdminResult<Option<String>> {
    let Some(v) = value.map(str::trim) else { return Ok(None) };
    if v.is_empty() || v.len() > MAX_URL || v.chars().any(char::is_control) {
        return Err(AdminError::invalid(format!("{what} must be 1 to {MAX_URL} printable characters")));
    }
    Ok(Some(v.to_string()))
}

/// A stream method by name.
fn method(name: &str) -> AdminResult<Method> {
    Method::parse(name.trim())
        .ok_or_else(|| AdminError::invalid(format!("unknown delivery method '{name}': use push, poll or webhook")))
}

impl Admin {
    /// Notes a stream change for the audit trail.
    async fn audit_stream(&self, t: &Tenant, caller: Caller<'_>, op: &str, id: &str, status: u16) {
        let command = format!("scimd events stream {}", op.strip_prefix("stream_").unwrap_or(op));
        let change = Change { op, rtype: "EventStream", id, status, command: &command };
        self.audit_change(t, caller, change).await;
    }

    fn view(&self, s: &Stream) -> StreamView {
        StreamView::of(s, self.now(), self.failing_after)
    }

    /// Adds a stream to a tenant; it takes the events written from now on. `root` is the
    /// server's public root, for a poll stream's URL.
    pub async fn add_stream(
        &self,
        tenant: &str,
        spec: StreamSpec,
        root: Option<&str>,
        caller: Caller<'_>,
    ) -> AdminResult<CreatedStream> {
        let method = method(&spec.method)?;
        let url = match (method, spec.url.as_deref().map(str::trim).filter(|u| !u.is_empty())) {
            (Method::Poll, Some(_)) => {
                return Err(AdminError::invalid(
                    "a poll stream has no receiver URL: its receiver fetches its events from the poll URL",
                ));
            }
            (Method::Poll, None) => None,
            (_, Some(u)) => Some(receiver_url(u)?),
            (m, None) => {
                return Err(AdminError::invalid(format!("a {} stream needs the receiver's URL", m.as_str())));
            }
        };
        let audience = text(spec.audience.as_deref(), "the audience")?;
        let filter = StreamFilter {
            kinds: kinds(spec.resource_types.as_deref())?,
            events: event_types(spec.events.as_deref())?,
        };
        let bearer = match (method, spec.bearer_token.as_deref()) {
            (_, None) => None,
            (Method::Push, Some(b)) => {
                let b = b.trim();
                if b.is_empty() || b.len() > 4096 || !b.bytes().all(|c| c.is_ascii_graphic()) {
                    return Err(AdminError::invalid(
                        "the bearer token must be 1 to 4096 printable ASCII characters without spaces",
                    ));
                }
                Some(b.to_string())
            }
            (m, Some(_)) => {
                return Err(AdminError::invalid(format!(
                    "only a push stream takes a bearer token (a {} stream's credential is made by scimd)",
                    m.as_str()
                )));
            }
        };
        let t = self.tenant(tenant).await?;
        let (mut secret, mut token, mut poll) = (None, None, None);
        let stored_secret = match method {
            Method::Webhook => {
                let s = crate::delivery::webhook::new_secret();
                let sealed = self.keyring.seal_text(&s);
                secret = Some(s);
                Some(sealed)
            }
            Method::Push => bearer.map(|b| self.keyring.seal_text(&b)),
            Method::Poll => None,
        };
        let token_hash = (method == Method::Poll).then(|| {
            let tok = crate::auth::generate_token();
            let hash = crate::events::credential_hash(&tok);
            token = Some(tok);
            poll = Some(poll_url(root));
            hash
        });
        // A poll stream's SETs name the poll URL as their audience, unless told otherwise
        // (push and webhook streams' name their receiver's URL).
        let audience = audience.or_else(|| poll.clone().filter(|u| u.starts_with("http")));
        let new = NewStream {
            id: uuid::Uuid::new_v4().to_string(),
            method,
            url,
            audience,
            full: spec.full,
            filter,
            secret: stored_secret,
            token_hash,
        };
        let stream = self.store.add_stream(t.id, new, self.now()).await.map_err(AdminError::internal)?;
        self.audit_stream(&t, caller, "stream_add", &stream.id, 201).await;
        Ok(CreatedStream { stream: self.view(&stream), secret, poll_url: poll, token })
    }

    /// A tenant's streams, oldest first.
    pub async fn list_streams(&self, tenant: &str) -> AdminResult<Vec<StreamView>> {
        let t = self.tenant(tenant).await?;
        let streams = self.store.streams(Some(t.id)).await.map_err(AdminError::internal)?;
        Ok(streams.iter().map(|s| self.view(s)).collect())
    }

    async fn stored_stream(&self, t: &Tenant, id: &str) -> AdminResult<Stream> {
        self.store
            .stream(t.id, id)
            .await
            .map_err(AdminError::internal)?
            .ok_or_else(|| AdminError::not_found(format!("tenant '{}' has no event stream '{id}'", t.name)))
    }

    /// One stream of a tenant.
    pub async fn stream(&self, tenant: &str, id: &str) -> AdminResult<StreamView> {
        let t = self.tenant(tenant).await?;
        Ok(self.view(&self.stored_stream(&t, id).await?))
    }

    /// Pauses a stream (its events wait for it, counted in its backlog) or resumes it.
    pub async fn pause_stream(
        &self,
        tenant: &str,
        id: &str,
        paused: bool,
        caller: Caller<'_>,
    ) -> AdminResult<StreamView> {
        let t = self.tenant(tenant).await?;
        let change = StreamChange { paused: Some(paused) };
        let s = self
            .store
            .change_stream(t.id, id, change, self.now())
            .await
            .map_err(AdminError::internal)?
            .ok_or_else(|| AdminError::not_found(format!("tenant '{}' has no event stream '{id}'", t.name)))?;
        let op = if paused { "stream_pause" } else { "stream_resume" };
        self.audit_stream(&t, caller, op, id, 200).await;
        Ok(self.view(&s))
    }

    /// Deletes a stream; its undelivered events are lost to it (a tenant's last stream
    /// takes the tenant's recorded events with it). Returns the stream as it was.
    pub async fn delete_stream(&self, tenant: &str, id: &str, caller: Caller<'_>) -> AdminResult<StreamView> {
        let t = self.tenant(tenant).await?;
        let view = self.view(&self.stored_stream(&t, id).await?);
        if !self.store.delete_stream(t.id, id).await.map_err(AdminError::internal)? {
            return Err(AdminError::not_found(format!("tenant '{}' has no event stream '{id}'", t.name)));
        }
        self.audit_stream(&t, caller, "stream_delete", id, 200).await;
        Ok(view)
    }

    /// A tenant's recorded events after `after`, in order, at most `limit`.
    pub async fn tail_events(&self, tenant: &str, after: i64, limit: u32) -> AdminResult<Vec<EventView>> {
        let t = self.tenant(tenant).await?;
        let events = self.store.events_after(t.id, after, limit.clamp(1, 1000)).await.map_err(AdminError::internal)?;
        Ok(events.into_iter().map(EventView::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(paused: bool, failing_since_ms: Option<i64>) -> Stream {
        Stream {
            id: "s".into(),
            tenant: scimd_store::TenantId(1),
            tenant_name: "acme".into(),
            method: Method::Push,
            url: Some("https://r.example/events".into()),
            audience: None,
            full: false,
            filter: StreamFilter::default(),
            secret: Some("sealed".into()),
            paused,
            cursor: 3,
            last_seq: 7,
            oldest_pending_ms: Some(1_000),
            next_attempt_ms: 0,
            attempts: 0,
            failing_since_ms,
            last_error: None,
            delivered: 3,
            rejected: 0,
            dropped: 0,
            created: "2026-12-04T21:00:00.000Z".into(),
            updated: "2026-12-04T21:00:00.000Z".into(),
        }
    }

    #[test]
    fn a_stream_fails_once_its_failures_last_longer_than_the_threshold() {
        let ten = Duration::from_secs(600);
        assert_eq!(stream_status(&stream(false, None), 10_000_000, ten), StreamStatus::Active);
        assert_eq!(stream_status(&stream(false, Some(9_500_000)), 10_000_000, ten), StreamStatus::Active);
        assert_eq!(stream_status(&stream(false, Some(9_400_000)), 10_000_000, ten), StreamStatus::Failing);
        assert_eq!(stream_status(&stream(true, Some(0)), 10_000_000, ten), StreamStatus::Paused);
    }

    #[test]
    fn a_view_shows_progress_and_never_the_secret() {
        let now = DateTime::<Utc>::from_timestamp_millis(31_000).unwrap();
        let v = StreamView::of(&stream(false, None), now, DEFAULT_FAILING_AFTER);
        assert_eq!((v.backlog, v.lag_seconds, v.next_attempt.as_deref()), (4, 30, None));
        let json = serde_json::to_value(&v).unwrap();
        assert!(!json.to_string().contains("sealed"), "{json}");
        assert_eq!(json["filter"], serde_json::json!({"resourceTypes": null, "events": null}));
        assert_eq!(json["status"], "active");
        assert_eq!(json["method"], "push");
    }

    #[test]
    fn receiver_urls_are_http_with_a_host_and_no_credentials() {
        assert!(receiver_url("https://r.example/hook?x=1").is_ok());
        assert!(receiver_url("http://127.0.0.1:9000/").is_ok());
        for bad in
            ["ftp://r.example/", "r.example/hook", "https://u:p@r.example/", "https://r.example/#x", "mailto:a@b"]
        {
            assert_eq!(receiver_url(bad).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn filters_name_known_types_by_name_or_uri() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            event_types(Some(&names(&["create", "urn:ietf:params:scim:event:prov:deactivate", "create"]))).unwrap(),
            Some(vec![EventType::Create, EventType::Deactivate])
        );
        let e = event_types(Some(&names(&["created"]))).unwrap_err();
        assert!(e.message.contains("'created'") && e.message.contains("deactivate"), "{e}");
        assert_eq!(
            kinds(Some(&names(&["users", "Group"]))).unwrap(),
            Some(vec![ResourceKind::User, ResourceKind::Group])
        );
        assert!(kinds(Some(&names(&["Device"]))).is_err());
        assert!(kinds(Some(&names(&[]))).is_err());
    }

    #[test]
    fn poll_urls_have_their_form() {
        assert_eq!(poll_url(Some("https://scim.example.com/scim/v2/")), "https://scim.example.com/events/v1/poll");
        assert_eq!(poll_url(None), "/events/v1/poll");
    }
}
