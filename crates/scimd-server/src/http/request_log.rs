//! The request-log layer, outermost of every route: the request id, one log line per
//! request, the request metrics, the request's audit event (its slot, the captured
//! payloads, the redacted details) and the 500 that a panic or an internal error becomes.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use scimd_core::ScimError;
use scimd_store::TenantId;
use serde_json::Value;

use super::errors::{ErrorType, InternalError, error_response};
use super::mounts::Mounted;
use super::routes::RouteTable;
use super::{AppState, SCIM_JSON, headers};
use crate::audit::{AuditSink, AuditSlot, Routed};
use crate::operation::Operation;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, set by the request-log layer.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A request id: a random per-process prefix and a counter (no syscall per request).
pub(super) fn new_request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_string());
    format!("{prefix}-{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The outermost layer: assigns a request id (its own, always; a client's `X-Request-Id`,
/// if a sane one, is logged and recorded beside it as `client_request_id`), answers with it
/// in `X-Request-Id`, logs one line per request (method, path, status, time; never
/// headers, query strings or bodies: they can carry credentials and personal data), and
/// records the request's audit event. It holds the request body (up
/// to the body limit) and, when the tenant keeps payloads, the response body, for the
/// event's redacted details. A panic in a handler becomes a 500; internal errors and
/// panics are answered with the request id only and written to the error log.
#[derive(Clone)]
pub(super) struct RequestLog<S> {
    inner: S,
    audit: Arc<AuditCfg>,
}

pub(super) struct AuditCfg {
    sink: AuditSink,
    clock: Arc<dyn crate::clock::Clock>,
    max_body: usize,
    details: scimd_store::DetailsLevel,
    metrics: Arc<crate::metrics::Metrics>,
    service: Arc<crate::service::Service>,
    /// Every route's operation and metrics label.
    routes: Arc<RouteTable>,
}

/// The label of requests no route matched (bounded series).
pub(super) const UNMATCHED: &str = "unmatched";

impl AuditCfg {
    /// A tenant's name for logs and metrics (its id until the name is read).
    async fn tenant_name(&self, tenant: Option<TenantId>) -> Arc<str> {
        static NONE: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        let Some(t) = tenant else { return NONE.get_or_init(|| Arc::from("")).clone() };
        if let Some(n) = self.metrics.tenant_name(t.0) {
            return n;
        }
        // A tenant this process has not named yet: read the names once. One that is not
        // there (deleted meanwhile) keeps its id as its name, so it is not looked up again.
        match self.service.tenant_names().await {
            Ok(ts) => {
                self.metrics.learn_tenants(ts);
                self.metrics.learn_tenants([(t.0, t.0.to_string())]);
            }
            Err(e) => tracing::warn!(error = %e, "reading tenant names failed"),
        }
        self.metrics.tenant_name(t.0).unwrap_or_else(|| Arc::from(t.0.to_string()))
    }
}

/// Appends the request id to an error body's human-readable text (`detail` of a SCIM
/// error, `error_description` of an OAuth one), so that a customer reading their identity
/// provider's log can quote it; other JSON objects get a `requestId` member.
pub(super) async fn with_request_id(res: Response, id: &str) -> Response {
    let json =
        res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    if !json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut o)) => {
            let suffix = format!("; request id {id}");
            match ["detail", "error_description"].into_iter().find(|k| o.get(*k).is_some_and(Value::is_string)) {
                Some(k) => {
                    if let Some(Value::String(text)) = o.get_mut(k)
                        && !text.ends_with(&suffix)
                    {
                        text.push_str(&suffix);
                    }
                }
                None => {
                    o.insert("requestId".into(), Value::String(id.to_string()));
                }
            }
            parts.headers.remove(header::CONTENT_LENGTH);
            Body::from(serde_json::to_vec(&Value::Object(o)).unwrap_or_default())
        }
        _ => Body::from(bytes),
    };
    Response::from_parts(parts, body)
}

/// Largest response body kept in an event's details.
pub(super) const MAX_DETAIL_BODY: usize = 64 * 1024;

std::thread_local! {
    static PANIC_BACKTRACE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Keeps the backtrace of a panic for the request layer (the default hook still prints).
pub(super) fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let bt = std::backtrace::Backtrace::force_capture().to_string();
            PANIC_BACKTRACE.with(|b| *b.borrow_mut() = Some(bt));
            previous(info);
        }));
    });
}

pub(super) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_string()
    }
}

pub(super) fn header_pairs(h: &HeaderMap) -> impl Iterator<Item = (&str, &[u8])> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_bytes()))
}

impl<S> tower::Service<Request> for RequestLog<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        use futures_util::FutureExt;
        let start = Instant::now();
        // The request id is always the server's own: a client's could collide with another
        // request's (or be chosen to). The client's, if a sane one, is kept beside it.
        let id = new_request_id();
        let client_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_string);
        let header = HeaderValue::from_str(&id).ok();
        let method = req.method().clone();
        let uri = req.uri().clone();
        // The route's operation, as the route table names it (a request no route names:
        // from its path), and its label in the metrics.
        let matched = req.extensions().get::<axum::extract::MatchedPath>();
        let named = matched.and_then(|m| self.audit.routes.lookup(m.as_str(), &method));
        let route: Arc<str> = match (named, matched) {
            (Some((label, _)), _) => label.clone(),
            (None, Some(m)) => Arc::from(m.as_str()),
            (None, None) => Arc::from(UNMATCHED),
        };
        let operation =
            named.and_then(|(_, op)| op).unwrap_or_else(|| Operation::unrouted(method.as_str(), uri.path()));
        let classified = operation.audited(uri.path());
        // Logged and recorded as the client sent it (a mounted path was rewritten).
        let uri = match req.extensions().get::<Mounted>() {
            Some(m) => m.original.parse::<axum::http::Uri>().unwrap_or(uri),
            None => uri,
        };
        let mut audited = None;
        if classified.is_some() {
            let slot = Arc::new(AuditSlot::new(
                id.clone(),
                client_id.clone(),
                method.to_string(),
                uri.path().to_string(),
                self.audit.clock.now(),
                classified.clone().map(|classified| Routed { operation, classified }),
            ));
            req.extensions_mut().insert(slot.clone());
            // The request's head and body, for the event's details: the body is copied as
            // the handler reads it (a request with no body has nothing to copy).
            // Reads keep payloads only at level `all`, which authentication learns: their
            // headers are copied there, not here (the hot path).
            let read = classified.as_ref().is_some_and(|(op, _, _)| crate::audit::is_read(op));
            let headers = (!read).then(|| req.headers().clone());
            let head = RequestHead { method: method.clone(), uri: uri.clone(), headers };
            let captured = Arc::new(Mutex::new(CapturedBody::default()));
            // A portal form is never copied: it may hold a password.
            let has_body = (req.headers().contains_key(header::CONTENT_LENGTH)
                || req.headers().contains_key(header::TRANSFER_ENCODING))
                && !matches!(operation, Operation::Portal(_));
            if has_body {
                let body = std::mem::take(req.body_mut());
                *req.body_mut() =
                    Body::new(CaptureBody { inner: body, into: captured.clone(), limit: self.audit.max_body });
            }
            audited = Some((slot, head, captured));
        }
        req.extensions_mut().insert(RequestId(id));
        let fut = AssertUnwindSafe(self.inner.call(req)).catch_unwind();
        let audit = self.audit.clone();
        let in_flight = InFlight::new(audit.metrics.clone());
        Box::pin(async move {
            let mut panicked: Option<(String, Option<String>)> = None;
            let mut res = match fut.await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => match e {},
                Err(p) => {
                    let (r, detail) = panic_response(&*p);
                    let bt = PANIC_BACKTRACE.with(|b| b.borrow_mut().take());
                    panicked = Some((detail, bt));
                    r
                }
            };
            headers::secure(&mut res, headers::is_docs(uri.path()));
            let status = res.status().as_u16();
            let masked = audited.as_ref().map(|(slot, _, _)| slot.masked(uri.path()));
            let path = masked.as_deref().unwrap_or(uri.path());
            let id_str = header.as_ref().and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
            let internal =
                res.extensions().get::<InternalError>().map(|e| (e.detail.clone(), e.backtrace.clone())).or(panicked);
            if let Some((detail, _)) = &internal {
                tracing::error!(
                    request_id = %id_str,
                    client_request_id = client_id.as_deref(),
                    %method,
                    %path,
                    status,
                    %detail,
                    "request failed with an internal error"
                );
                // The client learns the request id, nothing else.
                let message = format!("internal server error; request id {id_str}");
                let scim =
                    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == SCIM_JSON.as_bytes());
                let body = if scim {
                    ScimError::new(500, None, message).to_json()
                } else {
                    serde_json::json!({"error": "server_error", "error_description": message})
                };
                *res.body_mut() = Body::from(serde_json::to_vec(&body).unwrap_or_default());
                res.headers_mut().remove(header::CONTENT_LENGTH);
            } else if status >= 400 {
                res = with_request_id(res, &id_str).await;
            }
            let tenant = audit.tenant_name(audited.as_ref().and_then(|(slot, _, _)| slot.tenant())).await;
            let took = start.elapsed();
            audit.metrics.request(&method, route.clone(), status, tenant.clone(), took);
            drop(in_flight);
            if tracing::enabled!(target: "scimd::request", tracing::Level::INFO) {
                let duration_ms = took.as_secs_f64() * 1000.0;
                crate::request_lines::log(&crate::request_lines::RequestLine {
                    request_id: &id_str,
                    client_request_id: client_id.as_deref(),
                    tenant: &tenant,
                    method: method.as_str(),
                    route: &route,
                    path,
                    status,
                    duration_ms: (duration_ms * 100.0).round() / 100.0,
                });
            }
            if let Some(h) = &header {
                res.headers_mut().insert(REQUEST_ID.clone(), h.clone());
            }
            if let (Some((slot, head, captured)), Some((op, rtype, resource_id))) = (audited, classified) {
                let body = std::mem::take(&mut *captured.lock().expect("captured body"));
                // Boxed: its locals would otherwise enlarge every request's future.
                res = Box::pin(record_event(&audit, slot, &head, body, res, op, rtype, resource_id, internal)).await;
            }
            Ok(res)
        })
    }
}

/// A request body as the handler read it, up to the body limit.
#[derive(Default)]
pub(super) struct CapturedBody {
    bytes: Vec<u8>,
    /// More than the limit arrived; `bytes` is incomplete.
    truncated: bool,
}

/// A request body that copies what is read of it into a [`CapturedBody`].
pub(super) struct CaptureBody {
    inner: Body,
    into: Arc<Mutex<CapturedBody>>,
    limit: usize,
}

impl http_body::Body for CaptureBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(f)) = &frame
            && let Some(data) = f.data_ref()
        {
            let mut c = self.into.lock().expect("captured body");
            if c.bytes.len() + data.len() <= self.limit {
                c.bytes.extend_from_slice(data);
            } else {
                c.truncated = true;
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The parts of a request its audit details show.
pub(super) struct RequestHead {
    method: Method,
    uri: axum::http::Uri,
    /// `None` for reads (see [`crate::audit::SlotInfo::request_headers`]).
    headers: Option<HeaderMap>,
}

pub(super) fn panic_response(p: &(dyn std::any::Any + Send)) -> (Response, String) {
    let detail = panic_message(p);
    let res = error_response(&ScimError::new(500, None, "internal server error"));
    (res, detail)
}

/// Builds and hands over a request's audit event (and its redacted details).
#[allow(clippy::too_many_arguments)]
pub(super) async fn record_event(
    audit: &AuditCfg,
    slot: Arc<AuditSlot>,
    parts: &RequestHead,
    request_body: CapturedBody,
    res: Response,
    op: &'static str,
    rtype: Option<&'static str>,
    resource_id: Option<String>,
    internal: Option<(String, Option<String>)>,
) -> Response {
    use scimd_store::{AuditRecord, EventDetails, NewError, NewEvent};
    let info = slot.info();
    let status = res.status().as_u16();
    let mut res = res;
    let read = crate::audit::is_read(op);
    let details = if info.details.unwrap_or(audit.details).keeps(read, status >= 400) {
        let (rparts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        // The tenant's secrets when authentication learned them (its schemas may declare
        // more); the built-in ones otherwise. Bodies are judged by what they hold, not by
        // the Content-Type they claim.
        let secrets = info.secrets.clone().unwrap_or_else(crate::audit::Secrets::builtin);
        let response_body = if bytes.len() > MAX_DETAIL_BODY {
            Some(format!("[{} bytes, longer than the {MAX_DETAIL_BODY} kept]", bytes.len()))
        } else {
            crate::audit::redact_body(&bytes, &secrets)
        };
        let mut request_line = parts.uri.path().to_string();
        if let Some(q) = parts.uri.query() {
            request_line.push('?');
            request_line.push_str(&crate::audit::redact_query(q, &secrets));
        }
        let headers = parts.headers.as_ref().or(info.request_headers.as_ref());
        let mut request_headers: serde_json::Map<String, Value> = match headers {
            Some(h) => serde_json::from_str(&crate::audit::redact_headers(header_pairs(h))).unwrap_or_default(),
            None => serde_json::Map::new(),
        };
        request_headers.insert(":request".into(), Value::String(format!("{} {request_line}", parts.method)));
        let d = EventDetails {
            request_headers: Value::Object(request_headers).to_string(),
            request_body: if request_body.truncated {
                Some(format!("[over the {} bytes kept]", audit.max_body))
            } else {
                crate::audit::redact_body(&request_body.bytes, &secrets)
            },
            response_headers: crate::audit::redact_headers(header_pairs(&rparts.headers)),
            response_body,
        };
        res = Response::from_parts(rparts, Body::from(bytes));
        Some(d)
    } else {
        None
    };
    let change_event = slot.change_event.load(std::sync::atomic::Ordering::Acquire);
    // A Bulk request's operations have an event each (the request none of its own): the
    // successful ones wrote theirs with their changes; the failed ones' are written here.
    // The request's payloads go with one of them.
    let mut failed_ops = slot.take_failed_ops().into_iter();
    if change_event > 0 {
        if let Some(d) = details {
            audit
                .sink
                .record(AuditRecord::Details { event: change_event, tenant: info.tenant, time: slot.time, details: d })
                .await;
        }
        for e in failed_ops {
            audit.sink.record(AuditRecord::Event(e, None)).await;
        }
    } else if let Some(first) = failed_ops.next() {
        audit.sink.record(AuditRecord::Event(first, details)).await;
        for e in failed_ops {
            audit.sink.record(AuditRecord::Event(e, None)).await;
        }
    } else {
        let scim_type = res.extensions().get::<ErrorType>().map(|t| t.0.to_string());
        let event = NewEvent {
            tenant: info.tenant,
            time: slot.time,
            request_id: slot.request_id.clone(),
            client: info.client.clone(),
            method: slot.method.clone(),
            path: slot.masked(&slot.path),
            rtype: rtype.map(str::to_string),
            resource_id: info.resource_id.clone().or(resource_id.map(|id| slot.masked(&id))),
            op: op.to_string(),
            status,
            scim_type,
            duration_ms: slot.started.elapsed().as_secs_f64() * 1000.0,
            deactivated: false,
            client_request_id: slot.client_request_id.clone(),
        };
        audit.sink.record(AuditRecord::Event(event, details)).await;
    }
    if let Some((detail, backtrace)) = internal {
        let e = NewError {
            time: slot.time,
            request_id: slot.request_id.clone(),
            tenant: info.tenant,
            method: slot.method.clone(),
            path: slot.masked(&slot.path),
            detail,
            backtrace,
        };
        audit.sink.record(AuditRecord::Error(e)).await;
    }
    res
}

/// Counts a request in flight until dropped.
pub(super) struct InFlight(Arc<crate::metrics::Metrics>);

impl InFlight {
    fn new(m: Arc<crate::metrics::Metrics>) -> InFlight {
        m.in_flight().inc();
        InFlight(m)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight().dec();
    }
}

#[derive(Clone)]
pub(super) struct RequestLogLayer(Arc<AuditCfg>);

impl RequestLogLayer {
    /// The layer of `state`'s application (it installs the panic hook that keeps a
    /// panic's backtrace for the error log).
    pub(super) fn new(state: &AppState, routes: RouteTable) -> Self {
        install_panic_hook();
        RequestLogLayer(Arc::new(AuditCfg {
            sink: state.audit.clone(),
            clock: state.service.clock.clone(),
            max_body: state.http.max_body_bytes,
            details: state.http.audit_details,
            metrics: state.metrics().clone(),
            service: state.service.clone(),
            routes: Arc::new(routes),
        }))
    }
}

impl<S> tower::Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;
    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner, audit: self.0.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use scimd_store::Store;

    /// A handler that panics.
    #[derive(Clone)]
    struct Panics;

    impl tower::Service<Request> for Panics {
        type Response = Response;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: Request) -> Self::Future {
            Box::pin(async { panic!("the handler exploded") })
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_a_500_with_the_request_id_and_an_error_log_entry() {
        use tower::{Layer as _, Service as _};
        install_panic_hook();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db").to_string_lossy().into_owned();
        let store: Arc<dyn Store> =
            Arc::new(scimd_store::sqlite::SqliteStore::open(&path, Default::default()).unwrap());
        let sink = AuditSink::start(store.clone());
        let cfg = Arc::new(AuditCfg {
            sink: sink.clone(),
            clock: Arc::new(crate::clock::SystemClock),
            max_body: 1024,
            details: scimd_store::DetailsLevel::All,
            metrics: crate::metrics::Metrics::new(),
            service: Arc::new(crate::service::Service::new(
                store.clone(),
                Arc::new(crate::clock::SystemClock),
                Default::default(),
            )),
            routes: Default::default(),
        });
        let mut svc = RequestLogLayer(cfg).layer(Panics);
        let req = Request::builder()
            .method("POST")
            .uri("/scim/v2/Users")
            .header("x-request-id", "req-panic-1")
            .body(Body::from("{\"userName\": \"x\"}"))
            .unwrap();
        let res = svc.call(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        // The server's own id, not the client's.
        let id = res.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();
        assert_ne!(id, "req-panic-1");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["detail"], format!("internal server error; request id {id}"));
        sink.flush().await;
        let errors = store.errors(None, "", "9999", 10).await.unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].request_id, id);
        assert!(errors[0].detail.contains("the handler exploded"), "{:?}", errors[0]);
        assert!(errors[0].backtrace.as_deref().is_some_and(|b| !b.is_empty()));
    }
}
