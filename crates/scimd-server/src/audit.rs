//! The audit trail's rules (HTTP types only as carried through a request's slot): what a
//! request's event records (the [`AuditSlot`] every layer of a request fills in), how payloads
//! are redacted before they are stored (`redact`), the [`AuditSink`] that writes events in
//! batches off the request path, and the go-live summary computed from recorded events. A
//! change's own event is not written here but by the store, in the change's transaction.

use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use scimd_store::{AuditRecord, AuditStore, ChangeEvent, EventCount, NewEvent, TenantId};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

mod redact;

pub use redact::{REDACTED, Secrets, redact_body, redact_form, redact_json, redact_query};

/// Headers as a JSON object, with credentials replaced: `Authorization` keeps its scheme
/// only, cookies and proxy credentials go entirely.
pub fn redact_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut map = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value);
        let shown = match name.to_ascii_lowercase().as_str() {
            "authorization" | "proxy-authorization" => match value.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} {REDACTED}"),
                None => REDACTED.to_string(),
            },
            "cookie" | "set-cookie" | "x-api-key" => REDACTED.to_string(),
            _ => value.into_owned(),
        };
        match map.get_mut(name) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&shown);
            }
            _ => {
                map.insert(name.to_string(), Value::String(shown));
            }
        }
    }
    Value::Object(map).to_string()
}

pub use crate::operation::Classified;
use crate::operation::Operation;

/// The operation, resource type and resource id a request that no route names addresses,
/// from its method and path ([`Operation::unrouted`]). `None` for requests that are not
/// audited (health checks, metrics scrapes).
pub fn classify(method: &str, path: &str) -> Option<Classified> {
    Operation::unrouted(method, path).audited(path)
}

/// Whether an operation only reads (its payloads are kept only at level `all`).
pub fn is_read(op: &str) -> bool {
    matches!(op, "read" | "list" | "search" | "discovery" | "query")
}

/// Why an event has no payloads, as far as the tenant's audit settings now tell (they may
/// have been different when it was recorded): for an operator asking for them.
pub fn missing_details_reason(
    settings: &scimd_store::AuditSettings,
    op: &str,
    status: u16,
    time: &str,
    now: DateTime<Utc>,
) -> String {
    use scimd_store::DetailsLevel;
    let age_days = DateTime::parse_from_rfc3339(time).map(|t| (now - t.with_timezone(&Utc)).num_days()).unwrap_or(0);
    if age_days >= settings.details_days {
        return format!(
            "its payloads were deleted: they are kept {} days and the event is {age_days} days old",
            settings.details_days
        );
    }
    match settings.details {
        DetailsLevel::Off => "the tenant keeps no payloads (audit details 'off'; 'changes' or 'all' keeps them)".into(),
        DetailsLevel::Changes if is_read(op) && status < 400 => {
            "successful reads keep no payloads under the tenant's audit details 'changes' ('all' keeps them)".into()
        }
        _ => "its payloads were not kept: the tenant's audit details were 'off', or 'changes' for a successful \
              read, when it was recorded; a Bulk request's payloads are kept once, with one of its operations' events"
            .into(),
    }
}

/// What one request's layers learn about it, for its event. Created by the HTTP layer;
/// authentication fills in the tenant and client, the write path the id of the event it
/// wrote with the change, error handling the internal error.
#[derive(Debug)]
pub struct AuditSlot {
    /// The server's own id of the request (always generated here).
    pub request_id: String,
    /// The id the client sent in `X-Request-Id`, if a sane one: recorded beside the
    /// server's, never instead of it.
    pub client_request_id: Option<String>,
    pub method: String,
    pub path: String,
    pub started: Instant,
    pub time: DateTime<Utc>,
    /// The event written with a change (0: none).
    pub change_event: Arc<AtomicI64>,
    /// What the request is, as its route names it (`None`: not named; its events are
    /// of operation `other`).
    pub routed: Option<Routed>,
    pub info: Mutex<SlotInfo>,
    /// Events of a Bulk request's operations that failed (those that succeeded wrote
    /// theirs with their changes): written with the request's, one per operation.
    failed_ops: Mutex<Vec<NewEvent>>,
    /// Users this request addressed by userName in its path (a profile may allow it):
    /// each name, and what stands for it in the request log and the audit trail.
    addressed: Mutex<Vec<(String, String)>>,
}

/// What stands in the request log and the audit trail for a userName in a path that no
/// user has.
pub const UNKNOWN_USER_NAME: &str = "{userName}";

#[derive(Debug, Default, Clone)]
pub struct SlotInfo {
    pub tenant: Option<TenantId>,
    pub client: Option<String>,
    /// Which payloads to keep (the tenant's setting; the server's default when no tenant).
    pub details: Option<scimd_store::DetailsLevel>,
    pub resource_id: Option<String>,
    /// An internal error's detail and backtrace.
    pub internal: Option<(String, Option<String>)>,
    /// A read's request headers, copied by authentication when the tenant keeps the
    /// payloads of every request (other requests' headers are copied by the HTTP layer).
    pub request_headers: Option<axum::http::HeaderMap>,
    /// The names of secrets in the tenant's payloads (its schemas'), once authentication
    /// learned the tenant; the built-in ones otherwise.
    pub secrets: Option<Arc<Secrets>>,
}

/// A request's operation, as its route names it, and what its event records of it.
#[derive(Debug, Clone)]
pub struct Routed {
    pub operation: Operation,
    /// The operation, resource type and resource id, from the path the request was routed
    /// by (a mounted path, such as a profile's `/api/Users`, as `/scim/v2/Users`).
    pub classified: Classified,
}

impl AuditSlot {
    /// A slot for a request sent to `path`, which its route names `routed`.
    pub fn new(
        request_id: String,
        client_request_id: Option<String>,
        method: String,
        path: String,
        time: DateTime<Utc>,
        routed: Option<Routed>,
    ) -> Self {
        AuditSlot {
            request_id,
            client_request_id,
            method,
            path,
            started: Instant::now(),
            time,
            change_event: Arc::new(AtomicI64::new(0)),
            routed,
            info: Mutex::new(SlotInfo::default()),
            failed_ops: Mutex::new(Vec::new()),
            addressed: Mutex::new(Vec::new()),
        }
    }

    /// Notes that the request's path named a user by its userName: the request log and
    /// the audit trail show the user's id there instead (or [`UNKNOWN_USER_NAME`] when no
    /// user has it). A userName is often an email address, which scimd keeps out of
    /// logs as it keeps query strings out.
    pub fn addressed_by_user_name(&self, name: &str, id: Option<&str>) {
        let mut a = self.addressed.lock().expect("audit slot");
        if !a.iter().any(|(n, _)| n == name) {
            a.push((name.to_string(), id.unwrap_or(UNKNOWN_USER_NAME).to_string()));
        }
        if let Some(id) = id {
            self.info.lock().expect("audit slot").resource_id = Some(id.to_string());
        }
    }

    /// `path` with every segment that is a userName this request addressed replaced by
    /// what stands for it (see [`AuditSlot::addressed_by_user_name`]).
    pub fn masked(&self, path: &str) -> String {
        let a = self.addressed.lock().expect("audit slot");
        if a.is_empty() {
            return path.to_string();
        }
        path.split('/')
            .map(|seg| {
                let decoded = percent_encoding::percent_decode_str(seg).decode_utf8_lossy();
                a.iter().find(|(n, _)| *n == decoded).map_or(seg, |(_, r)| r.as_str())
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    pub fn set_caller(
        &self,
        tenant: Option<TenantId>,
        client: Option<String>,
        details: Option<scimd_store::DetailsLevel>,
    ) {
        let mut i = self.info.lock().expect("audit slot");
        i.tenant = tenant;
        i.client = client;
        i.details = details;
    }

    pub fn set_internal(&self, detail: String, backtrace: Option<String>) {
        self.info.lock().expect("audit slot").internal = Some((detail, backtrace));
    }

    /// The caller's tenant, once authentication learned it.
    pub fn tenant(&self) -> Option<TenantId> {
        self.info.lock().expect("audit slot").tenant
    }

    pub fn info(&self) -> SlotInfo {
        self.info.lock().expect("audit slot").clone()
    }

    /// The event of a change this request makes, for the store to write with it. `op`:
    /// the method and SCIM path of one operation of a Bulk request, which the event
    /// describes instead of the request.
    pub fn change_event(&self, tenant: TenantId, status: u16, op: Option<(&str, &str)>) -> ChangeEvent {
        ChangeEvent {
            event: self.event(tenant, status, None, op),
            started: self.started,
            id: self.change_event.clone(),
        }
    }

    /// Notes the failure of one operation of a Bulk request (its method and SCIM path),
    /// with its status and `scimType`, for an event of its own.
    pub fn failed_op(&self, tenant: TenantId, status: u16, scim_type: Option<&str>, op: (&str, &str)) {
        let mut e = self.event(tenant, status, scim_type, Some(op));
        e.duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        self.failed_ops.lock().expect("audit slot").push(e);
    }

    /// The events of failed Bulk operations noted so far (taken: each is written once).
    pub fn take_failed_ops(&self) -> Vec<NewEvent> {
        std::mem::take(&mut *self.failed_ops.lock().expect("audit slot"))
    }

    fn event(&self, tenant: TenantId, status: u16, scim_type: Option<&str>, op: Option<(&str, &str)>) -> NewEvent {
        let info = self.info();
        let (method, path, classified) = match op {
            Some((m, p)) => {
                let path = format!("/scim/v2{p}");
                let c = classify(m, &path);
                (m.to_string(), path, c)
            }
            None => (self.method.clone(), self.path.clone(), self.routed.as_ref().map(|r| r.classified.clone())),
        };
        let (op, rtype, id) = classified.unwrap_or(("other", None, None));
        let (path, id) = (self.masked(&path), id.map(|id| self.masked(&id)));
        NewEvent {
            tenant: Some(tenant),
            time: self.time,
            request_id: self.request_id.clone(),
            client: info.client,
            method,
            path,
            rtype: rtype.map(str::to_string),
            resource_id: id,
            op: op.to_string(),
            status,
            scim_type: scim_type.map(str::to_string),
            duration_ms: 0.0,
            deactivated: false,
            client_request_id: self.client_request_id.clone(),
        }
    }
}

enum SinkMsg {
    Record(Box<AuditRecord>),
    Flush(oneshot::Sender<()>),
}

/// Writes audit records in batches (what arrived within 2 ms, up to 1,000 a write) on a
/// background task, without waking it per record: a request hands its event over and goes on.
/// [`AuditSink::flush`] waits until everything handed over so far is written.
#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<SinkMsg>,
    /// Records whose write failed.
    failed: Arc<std::sync::atomic::AtomicU64>,
}

const BATCH: usize = 1000;

impl AuditSink {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn start(store: Arc<dyn AuditStore>) -> AuditSink {
        let (tx, mut rx) = mpsc::channel::<SinkMsg>(8192);
        let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let failures = failed.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
            while let Some(first) = rx.recv().await {
                // Let the batch fill for a moment (no wake-up per record), unless someone
                // is waiting for a flush. A short moment: records held for 20 ms made the
                // working set outgrow the CPU caches and cost reads a third (ADR 0007).
                if !matches!(first, SinkMsg::Flush(_)) {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                let mut next = Some(first);
                while let Some(m) = next.take() {
                    match m {
                        SinkMsg::Record(r) => batch.push(*r),
                        SinkMsg::Flush(w) => waiters.push(w),
                    }
                    if batch.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    let records = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    let n = records.len();
                    if let Err(e) = store.record_audit(records).await {
                        tracing::error!(error = %e, events = n, "writing audit records failed");
                        failures.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                // A flush waits for what was handed over before it: records come in order,
                // so everything before a flush taken in this round is in this batch.
                for w in waiters.drain(..) {
                    let _ = w.send(());
                }
            }
        });
        AuditSink { tx, failed }
    }

    /// Records handed over and not yet taken by the writer.
    pub fn backlog(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Records whose write failed since the start.
    pub fn failures(&self) -> u64 {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub async fn record(&self, r: AuditRecord) {
        // Without waiting when there is room (nearly always); with back-pressure when not.
        let msg = match self.tx.try_send(SinkMsg::Record(Box::new(r))) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(m)) => m,
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("the audit writer has stopped; an audit record is lost");
                return;
            }
        };
        if self.tx.send(msg).await.is_err() {
            tracing::error!("the audit writer has stopped; an audit record is lost");
        }
    }

    /// Waits until every record handed over before this call is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(SinkMsg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Whether an event's operation is one of the tenant's callers' (SCIM, its OAuth
/// requests, discovery), counted by the go-live summary; the operator's and the portal's
/// work (`admin`, `query`, `grant`, `portal-…`, `golive_…`, …) and the go-live
/// submissions themselves are not.
fn callers_operation(op: &str) -> bool {
    matches!(
        op,
        "create"
            | "restore"
            | "replace"
            | "patch"
            | "delete"
            | "read"
            | "list"
            | "search"
            | "bulk"
            | "discovery"
            | "other"
            | "token"
            | "revoke"
            | "introspect"
    )
}

/// The go-live summary of a tenant's window, from counted events: what its callers did.
pub fn summary(tenant: &str, from: &str, to: &str, counts: &[EventCount]) -> Value {
    let mut per_type: Map<String, Value> = Map::new();
    for t in ["User", "Group"] {
        per_type.insert(t.to_string(), json!({"created": 0, "updated": 0, "deactivated": 0, "deleted": 0, "reads": 0}));
    }
    let (mut created, mut updated, mut deactivated, mut deleted, mut reads, mut requests) = (0u64, 0, 0, 0, 0, 0);
    let mut errors: Map<String, Value> = Map::new();
    let mut error_total = 0u64;
    let (mut first, mut last): (Option<&str>, Option<&str>) = (None, None);
    for c in counts.iter().filter(|c| callers_operation(&c.op)) {
        requests += c.count;
        first = Some(first.map_or(c.first.as_str(), |f| f.min(c.first.as_str())));
        last = Some(last.map_or(c.last.as_str(), |l| l.max(c.last.as_str())));
        if c.status >= 400 {
            error_total += c.count;
            let key = c.scim_type.clone().unwrap_or_else(|| format!("status {}", c.status));
            let e = errors.entry(key).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + c.count);
            continue;
        }
        let field = match (c.op.as_str(), c.status) {
            // A resource brought back by a re-provisioning POST: the client created it.
            ("create" | "restore", 201) => "created",
            ("replace" | "patch", 200 | 204) => "updated",
            // A DELETE the profile turns into a deactivation deletes nothing: the user is
            // updated (and counted as deactivated below).
            ("delete", 204) if c.deactivated => "updated",
            ("delete", 204) => "deleted",
            ("read" | "list" | "search", 200) => "reads",
            _ => continue,
        };
        match field {
            "created" => created += c.count,
            "updated" => updated += c.count,
            "deleted" => deleted += c.count,
            _ => reads += c.count,
        }
        if let Some(t) = c.rtype.as_deref().and_then(|t| per_type.get_mut(t)) {
            t[field] = json!(t[field].as_u64().unwrap_or(0) + c.count);
            if c.deactivated {
                t["deactivated"] = json!(t["deactivated"].as_u64().unwrap_or(0) + c.count);
            }
        }
        if c.deactivated {
            deactivated += c.count;
        }
    }
    json!({
        "tenant": tenant,
        "from": from,
        "to": to,
        "first_event": first,
        "last_event": last,
        "requests": requests,
        "created": created,
        "updated": updated,
        "deactivated": deactivated,
        "deleted": deleted,
        "reads": reads,
        "errors": errors,
        "error_count": error_total,
        "users": per_type.remove("User"),
        "groups": per_type.remove("Group"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_secrets_are_redacted_at_any_depth_and_in_password_patches() {
        let mut v = json!({
            "userName": "a", "password": "p1", "Password": "p2",
            "nested": [{"client_secret": "s", "deep": {"refresh_token": "r", "ok": "keep"}}],
            "Operations": [
                {"op": "replace", "path": "password", "value": "p3"},
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "p4"},
                {"op": "replace", "path": "title", "value": "Boss"},
                {"op": "replace", "value": {"password": "p5", "active": false}}
            ]
        });
        redact_json(&mut v, &Secrets::builtin());
        let s = v.to_string();
        for secret in ["p1", "p2", "\"s\"", "\"r\"", "p3", "p4", "p5"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
        assert!(s.contains("keep") && s.contains("Boss"), "{s}");
    }

    #[test]
    fn forms_headers_and_other_bodies() {
        let secrets = Secrets::builtin();
        let f = redact_form("grant_type=password&username=svc&password=hunter2%21&client_secret=x", &secrets).unwrap();
        assert!(f.contains("grant_type=password") && f.contains("username=svc"), "{f}");
        assert!(!f.contains("hunter2") && !f.contains("client_secret=x"), "{f}");
        let h = redact_headers(
            [("authorization", &b"Basic dXNlcjpwYXNz"[..]), ("cookie", &b"sid=1"[..]), ("accept", &b"*/*"[..])]
                .into_iter(),
        );
        assert!(!h.contains("dXNlcjpwYXNz") && !h.contains("sid=1") && h.contains("Basic"), "{h}");
        assert!(!redact_body(b"password=x", &secrets).unwrap().contains("=x"));
        assert!(!redact_body(b"password x", &secrets).unwrap().contains("password x"));
        assert_eq!(redact_body(b"", &secrets), None);
        // A filter on the password holds a guess at one: withheld, in queries and in .search
        // bodies.
        let q = redact_query("filter=password%20eq%20%22guess1%22&count=1", &secrets);
        assert!(!q.contains("guess1") && q.contains("count=1"), "{q}");
        let q = redact_query("filter=userName%20eq%20%22bob%22", &secrets);
        assert!(q.contains("bob"), "{q}");
        let b = redact_body(br#"{"filter": "PASSWORD eq \"guess2\"", "count": 1}"#, &secrets);
        assert!(!b.as_ref().unwrap().contains("guess2") && b.unwrap().contains("count"));
    }

    #[test]
    fn a_missing_payload_is_explained_by_the_settings() {
        use scimd_store::{AuditSettings, DetailsLevel};
        let now = DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z").unwrap().with_timezone(&Utc);
        let recent = "2026-12-03T12:00:00Z";
        let changes = AuditSettings { details: DetailsLevel::Changes, events_days: 90, details_days: 14 };
        assert!(missing_details_reason(&changes, "read", 200, recent, now).contains("successful reads"));
        assert!(missing_details_reason(&changes, "read", 404, recent, now).contains("were not kept"));
        assert!(missing_details_reason(&changes, "create", 201, "2026-11-01T00:00:00Z", now).contains("14 days"));
        let off = AuditSettings { details: DetailsLevel::Off, ..changes };
        assert!(missing_details_reason(&off, "create", 201, recent, now).contains("'off'"));
    }

    #[test]
    fn a_delete_that_deactivates_is_counted_as_a_deactivation() {
        let count = |op: &str, status: u16, deactivated: bool| EventCount {
            rtype: Some("User".into()),
            op: op.into(),
            status,
            scim_type: None,
            deactivated,
            count: 1,
            first: "2026-12-04T10:00:00Z".into(),
            last: "2026-12-04T10:00:00Z".into(),
        };
        let s = summary("t", "a", "b", &[count("delete", 204, true), count("delete", 204, false)]);
        assert_eq!(
            (s["deleted"].clone(), s["deactivated"].clone(), s["updated"].clone()),
            (json!(1), json!(1), json!(1))
        );
        assert_eq!(s["users"]["deleted"], 1);
        assert_eq!(s["users"]["deactivated"], 1);
    }

    #[test]
    fn requests_are_classified_from_method_and_path() {
        assert_eq!(classify("POST", "/scim/v2/Users"), Some(("create", Some("User"), None)));
        assert_eq!(classify("GET", "/scim/v2/Users/abc"), Some(("read", Some("User"), Some("abc".into()))));
        assert_eq!(classify("PATCH", "/scim/v2/Groups/g"), Some(("patch", Some("Group"), Some("g".into()))));
        assert_eq!(classify("POST", "/scim/v2/Users/.search"), Some(("search", Some("User"), None)));
        assert_eq!(classify("POST", "/scim/v2/.search"), Some(("search", None, None)));
        assert_eq!(classify("GET", "/scim/v2/Schemas"), Some(("discovery", None, None)));
        assert_eq!(classify("POST", "/scim/v2/Bulk"), Some(("bulk", None, None)));
        // A resource type a tenant's profile declares: the path names it.
        assert_eq!(classify("GET", "/scim/v2/Roles"), Some(("list", None, None)));
        assert_eq!(classify("GET", "/scim/v2/Roles/r1"), Some(("read", None, Some("r1".into()))));
        assert_eq!(classify("PUT", "/scim/v2/Roles/r1"), Some(("replace", None, Some("r1".into()))));
        assert_eq!(classify("HEAD", "/scim/v2/Users/abc"), Some(("read", Some("User"), Some("abc".into()))));
        assert_eq!(classify("HEAD", "/scim/v2/Users"), Some(("list", Some("User"), None)));
        assert_eq!(classify("HEAD", "/scim/v2/Me"), Some(("read", Some("User"), None)));
        assert_eq!(classify("HEAD", "/admin/v1/tenants/t/places/location"), Some(("query", Some("Location"), None)));
        assert_eq!(classify("POST", "/oauth2/token"), Some(("token", None, None)));
        assert_eq!(classify("POST", "/oauth2/revoke"), Some(("revoke", None, None)));
        assert_eq!(classify("GET", "/healthz"), None);
        assert_eq!(classify("GET", "/readyz"), None);
        assert_eq!(classify("GET", "/metrics"), None);
        assert_eq!(classify("POST", "/admin/v1/tenants/t/groups"), Some(("group_add", Some("Group"), None)));
        assert_eq!(
            classify("DELETE", "/admin/v1/tenants/t/groups/g1"),
            Some(("group_remove", Some("Group"), Some("g1".to_string())))
        );
        assert_eq!(classify("GET", "/admin/v1/tenants/t/groups"), Some(("query", Some("Group"), None)));
        assert_eq!(classify("POST", "/admin/v1/tenants/t/users"), Some(("import", Some("User"), None)));
        assert_eq!(
            classify("POST", "/admin/v1/tenants/t/events/streams"),
            Some(("stream_add", Some("EventStream"), None))
        );
        assert_eq!(
            classify("POST", "/admin/v1/tenants/t/events/streams/s1/pause"),
            Some(("stream_pause", Some("EventStream"), Some("s1".to_string())))
        );
        assert_eq!(
            classify("DELETE", "/admin/v1/tenants/t/events/streams/s1"),
            Some(("stream_delete", Some("EventStream"), Some("s1".to_string())))
        );
    }

    #[test]
    fn a_user_name_in_a_path_is_masked_by_the_users_id_in_any_encoding() {
        let slot = AuditSlot::new("r".into(), None, "GET".into(), "/x".into(), chrono::Utc::now(), None);
        assert_eq!(slot.masked("/scim/v2/Users/a%40b.c"), "/scim/v2/Users/a%40b.c", "nothing addressed yet");
        slot.addressed_by_user_name("a@b.c", Some("id-1"));
        slot.addressed_by_user_name("who@b.c", None);
        assert_eq!(slot.masked("/scim/v2/Users/a%40b.c"), "/scim/v2/Users/id-1");
        assert_eq!(slot.masked("/api/Users/a@b.c"), "/api/Users/id-1");
        assert_eq!(slot.masked("/scim/v2/Users/who@b.c"), "/scim/v2/Users/{userName}");
        assert_eq!(slot.masked("/scim/v2/Users/other"), "/scim/v2/Users/other");
        assert_eq!(slot.info().resource_id.as_deref(), Some("id-1"));
    }
}
