//! The HTTP surface: the axum router, authentication, the SCIM body extractor, and the
//! one place where errors become responses. Handlers only translate between HTTP and
//! the [`Service`] use cases. Its `oauth` submodule holds the authorization server's endpoints,
//! `admin` the admin API.
//!
//! Longer than the 800 lines a file should have: the request-log layer and the SCIM
//! handlers are still together here. Splitting it by concern comes with the store written
//! once and the server split by concern (the next restructuring).

mod admin;
pub mod connections;
mod headers;
pub mod limits;
mod oauth;
pub mod openapi;
mod origin;
mod query;
mod tenant_docs;

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scimd_core::ScimError;
use scimd_core::list::ListParams;
use scimd_core::projection::Projection;
use scimd_core::schema::ResourceKind;
use scimd_store::{IfMatch, TenantId};
use serde_json::Value;

use crate::audit::{AuditSink, AuditSlot};
use crate::auth::bearer;
use crate::oauth::{Grant, OAuth};
use crate::service::{AppError, Ctx, Rendered, Service, etag, parse_etags};

/// The SCIM media type.
pub const SCIM_JSON: &str = "application/scim+json";
static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Absolute base URL of the SCIM API (`https://host/scim/v2`); derived from the
    /// `Host` header when unset.
    pub public_url: Option<String>,
    /// Whether a proxy in front sets `X-Forwarded-Proto` (read only then, and only when
    /// `public_url` is unset).
    pub trust_forwarded_headers: bool,
    /// SHA-256 of the operator token given by configuration (the admin API also accepts
    /// tokens created by `scimd admin-token create`).
    pub admin_token: Option<[u8; 32]>,
    /// Which payloads of requests whose tenant is unknown (failed authentication, token
    /// requests, the admin API) the audit trail keeps.
    pub audit_details: scimd_store::DetailsLevel,
    /// Rates, requests in flight and request time.
    pub limits: limits::Limits,
    /// Where `/metrics` is served.
    pub metrics: MetricsAccess,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Not at all.
    Off,
    /// On the main address, to operators (a bearer operator token).
    Operators,
    /// On a separate address of its own ([`metrics_router`]), open to whoever reaches it.
    Separate,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 1024 * 1024,
            public_url: None,
            trust_forwarded_headers: false,
            admin_token: None,
            audit_details: scimd_store::DetailsLevel::Changes,
            limits: limits::Limits::default(),
            metrics: MetricsAccess::Operators,
        }
    }
}

/// The application's shared state: one `Arc`, so the per-request clone axum makes is one
/// reference count, whatever the state holds.
#[derive(Clone)]
pub struct AppState(Arc<(AppParts, Process)>);

/// What the process keeps besides its parts: rate limiters, metrics, whether it is
/// draining.
struct Process {
    limiters: limits::Limiters,
    metrics: Arc<crate::metrics::Metrics>,
    draining: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// The state of a process; its store's operation times go to the new metrics.
    pub fn new(parts: AppParts) -> Self {
        let limiters = limits::Limiters::new(&parts.http.limits);
        let metrics = crate::metrics::Metrics::new();
        parts.service.store.set_observer(metrics.store_observer());
        AppState(Arc::new((parts, Process { limiters, metrics, draining: Default::default() })))
    }

    /// The process's rate limiters.
    pub fn limiters(&self) -> &limits::Limiters {
        &self.0.1.limiters
    }

    /// The process's metrics.
    pub fn metrics(&self) -> &Arc<crate::metrics::Metrics> {
        &self.0.1.metrics
    }

    /// Marks the process as shutting down: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.0.1.draining.store(true, std::sync::atomic::Ordering::Release);
    }

    fn draining(&self) -> bool {
        self.0.1.draining.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0.0
    }
}

pub struct AppParts {
    /// Custom base and token paths of tenants' profiles.
    pub mounts: Arc<Mounts>,
    pub service: Arc<Service>,
    pub oauth: Arc<OAuth>,
    pub admin: Arc<crate::admin::Admin>,
    pub http: Arc<HttpConfig>,
    /// Where request events go (written in batches).
    pub audit: AuditSink,
}

/// Where a request arrived when a tenant profile's base path or token path mounted it:
/// its URI was rewritten to the built-in route before routing.
#[derive(Debug, Clone)]
pub struct Mounted {
    /// The path as the client sent it.
    pub original: String,
    /// The custom base path (or token path) it matched.
    pub base: String,
}

/// The custom paths tenants' profiles mount (base paths of SCIM APIs, token paths), as
/// last read from the store. Refreshed every 5 seconds by [`crate::serve`], at once when
/// this process's admin API changes a profile, and before answering a request for a path
/// nothing serves: a tenant created a moment ago, by the command line or on another
/// replica, answers at its paths on its first request. Such rereads are at least
/// [`MISS_REFRESH`] apart (a request for an unknown path may wait that long for its 404),
/// and one serves every request that was waiting for it, so a scan of unknown paths costs
/// at most one read of the tenants' profiles per [`MISS_REFRESH`].
#[derive(Debug, Default)]
pub struct Mounts {
    /// Longest first, so that `/api/v2` wins over `/api`.
    bases: std::sync::RwLock<Vec<String>>,
    tokens: std::sync::RwLock<Vec<String>>,
    /// When the last reread caused by an unknown path started.
    last_miss: tokio::sync::Mutex<Option<std::time::Instant>>,
}

/// The least time between two rereads of the profiles caused by unknown paths.
pub const MISS_REFRESH: std::time::Duration = std::time::Duration::from_millis(500);

/// Paths the server itself routes: never a tenant's mount, so a miss there rereads nothing.
const BUILT_IN_PREFIXES: &[&str] = &[
    "/scim/v2",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/admin/",
    "/.well-known/",
    "/docs",
    "/openapi.json",
    "/metrics",
    "/healthz",
    "/readyz",
];

impl Mounts {
    /// [`Mounts::rewrite`], after rereading the profiles first when the path is one no
    /// mount knows (see the type's documentation).
    pub async fn rewrite_fresh(&self, store: &dyn scimd_store::Store, token_path: &str, req: Request) -> Request {
        let path = req.uri().path();
        if !self.knows(path) && !BUILT_IN_PREFIXES.iter().any(|p| path.starts_with(p)) && path != token_path {
            let arrived = std::time::Instant::now();
            let mut last = self.last_miss.lock().await;
            // A reread that started after this request arrived has seen what it needs.
            if last.is_none_or(|started| started < arrived) {
                if let Some(started) = *last {
                    tokio::time::sleep(MISS_REFRESH.saturating_sub(started.elapsed())).await;
                }
                *last = Some(std::time::Instant::now());
                if let Err(e) = self.refresh(store).await {
                    tracing::warn!(error = %e, "reading tenants' mounted paths failed");
                }
            }
        }
        self.rewrite(token_path, req)
    }

    /// Whether `path` is under a mounted base path or is a mounted token path.
    fn knows(&self, path: &str) -> bool {
        self.base_of(path).is_some() || self.tokens.read().expect("mounts").iter().any(|t| path == t.as_str())
    }

    /// The mounted base path `path` is under, if any.
    fn base_of(&self, path: &str) -> Option<String> {
        self.bases
            .read()
            .expect("mounts")
            .iter()
            .find(|b| path == b.as_str() || path.strip_prefix(b.as_str()).is_some_and(|r| r.starts_with('/')))
            .cloned()
    }

    /// Reads every tenant's profile and keeps the paths they mount.
    pub async fn refresh(&self, store: &dyn scimd_store::Store) -> Result<(), String> {
        let mut bases = Vec::new();
        let mut tokens = Vec::new();
        for (_, text) in store.tenant_profiles().await.map_err(|e| e.to_string())? {
            // Only the profile's head: cheap to read for many tenants every few seconds.
            // An unreadable stored profile mounts nothing (the service reports it).
            if let Some(p) = scimd_core::profile::ProfileHead::from_json(&text) {
                bases.extend(p.base_paths.into_iter().filter(|b| b != "/scim/v2"));
                tokens.extend(p.token_path);
            }
        }
        bases.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        bases.dedup();
        tokens.sort();
        tokens.dedup();
        *self.bases.write().expect("mounts") = bases;
        *self.tokens.write().expect("mounts") = tokens;
        Ok(())
    }

    /// Rewrites a request that arrived at a mounted path to the built-in route
    /// (`/scim/v2…`, or the token endpoint), noting where it arrived.
    pub fn rewrite(&self, token_path: &str, mut req: Request) -> Request {
        let path = req.uri().path();
        if path.starts_with("/admin/") {
            return req;
        }
        let mut target = None;
        if let Some(rest) = path.strip_prefix("/scim/v2") {
            // The built-in mount: only an endpoint name in another case is rewritten.
            match canonical_endpoint(rest) {
                Some(rest) => target = Some((format!("/scim/v2{rest}"), None)),
                None => return req,
            }
        } else if let Some(base) = self.base_of(path) {
            let rest = &path[base.len()..];
            let rest = canonical_endpoint(rest).unwrap_or_else(|| rest.to_string());
            target = Some((format!("/scim/v2{rest}"), Some(base)));
        } else if let Some(t) = self.tokens.read().expect("mounts").iter().find(|t| path == t.as_str()) {
            target = Some((token_path.to_string(), Some(t.clone())));
        }
        let Some((new_path, base)) = target else { return req };
        let original = path.to_string();
        let pq = match req.uri().query() {
            Some(q) => format!("{new_path}?{q}"),
            None => new_path,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
                if let Some(base) = base {
                    req.extensions_mut().insert(Mounted { original, base });
                }
            }
        }
        req
    }
}

/// The application as served: each request goes through [`Mounts::rewrite_fresh`] before
/// the router sees it.
#[derive(Clone)]
pub struct Remount {
    pub inner: Router,
    pub mounts: Arc<Mounts>,
    pub store: Arc<dyn scimd_store::Store>,
    pub token_path: Arc<str>,
}

impl tower::Service<Request> for Remount {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let req = this.mounts.rewrite_fresh(&*this.store, &this.token_path, req).await;
            tower::ServiceExt::oneshot(this.inner, req).await
        })
    }
}

/// The SCIM endpoints, as routed.
const ENDPOINTS: &[&str] = &["Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig", "Bulk", "Me"];

/// `rest` (the path after a SCIM base) with its endpoint name in the routed case, when a
/// client wrote it in another (`/users`, as the locker system's documents do);
/// `None` when it needs no change.
fn canonical_endpoint(rest: &str) -> Option<String> {
    let seg = rest.strip_prefix('/')?;
    let name = seg.split('/').next().unwrap_or(seg);
    let canonical = ENDPOINTS.iter().find(|e| e.eq_ignore_ascii_case(name) && **e != name)?;
    Some(format!("/{canonical}{}", &seg[name.len()..]))
}

/// The request id, set by the request-log layer.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

// ------------------------------------------------------------------ responses

fn scim_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    res
}

fn scim_json(status: StatusCode, body: &Value) -> Response {
    scim_bytes(status, serde_json::to_vec(body).unwrap_or_default())
}

pub fn error_response(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = scim_json(status, &e.to_json());
    if !e.allow.is_empty()
        && let Ok(v) = HeaderValue::from_str(&e.allow.join(", "))
    {
        res.headers_mut().insert(header::ALLOW, v);
    }
    if let Some(t) = e.scim_type {
        res.extensions_mut().insert(ErrorType(t.as_str()));
    }
    res
}

/// The `scimType` (or OAuth `error`) of an error response, for its audit event.
#[derive(Debug, Clone, Copy)]
pub struct ErrorType(pub &'static str);

/// An [`AppError`] with the request id, for the response and the log.
pub struct HttpError(AppError);

impl From<AppError> for HttpError {
    fn from(e: AppError) -> Self {
        HttpError(e)
    }
}

impl From<ScimError> for HttpError {
    fn from(e: ScimError) -> Self {
        HttpError(AppError::Scim(e))
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self.0 {
            AppError::Scim(e) => error_response(&e),
            AppError::Internal(detail) => {
                // The request layer logs it with the request id, records it in the error
                // log and answers with the request id only.
                let backtrace = std::backtrace::Backtrace::capture();
                let backtrace =
                    (backtrace.status() == std::backtrace::BacktraceStatus::Captured).then(|| backtrace.to_string());
                let mut res = error_response(&ScimError::new(500, None, "internal server error"));
                res.extensions_mut().insert(InternalError { detail, backtrace });
                res
            }
        }
    }
}

/// An internal error's detail, carried by its response to the request layer.
#[derive(Clone)]
pub(crate) struct InternalError {
    detail: String,
    backtrace: Option<String>,
}

type HResult<T> = Result<T, HttpError>;

fn etag_header(version: i64) -> HeaderValue {
    HeaderValue::from_str(&etag(version)).expect("an ETag of digits is a valid header value")
}

fn rendered(status: StatusCode, r: Rendered) -> Response {
    let mut res = scim_bytes(status, r.body);
    res.headers_mut().insert(header::ETAG, etag_header(r.version));
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&r.location)
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

// ------------------------------------------------------------------ extractors

/// An authenticated SCIM request: its context (tenant, base URL) and the conditional
/// headers. Extracting it authenticates the bearer token; a missing or bad token is
/// answered with 401, a SCIM error body and `WWW-Authenticate`, and a tenant without the
/// SCIM feature with 403, before anything else of the request is looked at.
pub struct ScimRequest {
    pub ctx: Ctx,
    pub if_match: Option<IfMatch>,
    pub if_none_match: Option<IfMatch>,
}

impl FromRequestParts<AppState> for ScimRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Reads: GET and HEAD (a GET without its body, which still answers whether a
        // resource exists or a filter matches), and the POST of a `/.search`; everything
        // else writes.
        let read = matches!(parts.method, Method::GET | Method::HEAD) || parts.uri.path().ends_with("/.search");
        let write = !read;
        let slot = parts.extensions.get::<Arc<AuditSlot>>().cloned();
        let grant = authenticate(&parts.headers, state, write, slot.as_deref()).await?;
        // The tenant's API answers only where its profile mounts it.
        let base = parts.extensions.get::<Mounted>().map_or("/scim/v2", |m| m.base.as_str()).to_string();
        let profile = state.service.profile(grant.tenant).await.map_err(|e| HttpError::from(e).into_response())?;
        let mapped = grant.scopes.split_whitespace().any(|s| profile.scim_scopes.iter().any(|m| m == s));
        if !mapped && ((write && !grant.write) || (!write && !grant.read)) {
            return Err(insufficient_scope(write));
        }
        if !profile.serves_at(&base) {
            let path = parts.extensions.get::<Mounted>().map_or(parts.uri.path(), |m| m.original.as_str());
            return Err(error_response(&ScimError::not_found(format!(
                "no SCIM endpoint at '{path}' for this tenant (its API is at {})",
                profile.api_paths().join(", ")
            ))));
        }
        if let Some(slot) = &slot {
            let mut info = slot.info.lock().expect("audit slot");
            info.secrets = Some(profile.secrets.clone());
            if grant.audit_details == scimd_store::DetailsLevel::All {
                info.request_headers = Some(parts.headers.clone());
            }
        }
        if let Err(over) = state.limiters().check(grant.tenant.0, &grant.client) {
            return Err(too_many(&over));
        }
        if let Some(accepted) = query::accepted(&parts.method, parts.uri.path()) {
            let pairs = query_pairs(&parts.uri.query().map(str::to_string));
            scimd_core::list::check_query_names(&pairs, accepted).map_err(|e| error_response(&e))?;
        }
        let headers = &parts.headers;
        let conditional = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(parse_etags);
        Ok(ScimRequest {
            ctx: Ctx { subject: grant.subject.clone(), ..ctx(state, grant.tenant, profile, headers, slot, &base) },
            if_match: conditional(header::IF_MATCH),
            if_none_match: conditional(header::IF_NONE_MATCH),
        })
    }
}

/// 403 for a token whose scopes do not cover the request.
fn insufficient_scope(write: bool) -> Response {
    let (needed, what) = if write { (crate::oauth::SCOPE_WRITE, "change") } else { (crate::oauth::SCOPE_READ, "read") };
    let res = error_response(&ScimError::new(
        403,
        None,
        format!("the token's scopes do not allow it to {what} resources: it needs scope 'scim' or '{needed}'"),
    ));
    challenge(res, &format!("Bearer realm=\"scimd\", error=\"insufficient_scope\", scope=\"scim {needed}\""))
}

fn challenge(mut res: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// The grant of the request's bearer token, or the response refusing it. The request's
/// event is attributed to the token's tenant as soon as it is known, refusals included
/// (an expired access token still names the tenant it was issued for).
async fn authenticate(
    headers: &HeaderMap,
    state: &AppState,
    write: bool,
    slot: Option<&AuditSlot>,
) -> Result<Grant, Response> {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (error, detail) = match header.map(bearer) {
        None => (None, "authentication required: send 'Authorization: Bearer <token>'"),
        Some(None) => (Some("invalid_request"), "the Authorization header must use the Bearer scheme"),
        Some(Some(token)) => match state.oauth.authenticate(token).await {
            Ok(Some(g)) => {
                if let Some(slot) = slot {
                    slot.set_caller(Some(g.tenant), Some(g.client.to_string()), Some(g.audit_details));
                }
                if !g.scim_enabled {
                    return Err(error_response(&ScimError::new(
                        403,
                        None,
                        "SCIM provisioning is not enabled for this tenant; an operator can enable it",
                    )));
                }
                // A profile may give further scope names SCIM access: judged with the profile.
                if ((write && !g.write) || (!write && !g.read)) && g.scopes.is_empty() {
                    return Err(insufficient_scope(write));
                }
                return Ok(g);
            }
            Ok(None) => {
                if let Some(slot) = slot
                    && let Some((tenant, client)) = state.oauth.rejected_token_tenant(token).await
                {
                    slot.set_caller(Some(tenant), Some(client), None);
                    // Its payloads are redacted by the names of that tenant's secrets.
                    if let Ok(profile) = state.service.profile(tenant).await {
                        slot.info.lock().expect("audit slot").secrets = Some(profile.secrets.clone());
                    }
                }
                (Some("invalid_token"), "the bearer token is invalid, expired or revoked")
            }
            Err(e) => return Err(HttpError(e).into_response()),
        },
    };
    let res = error_response(&ScimError::new(401, None, detail));
    Err(match error {
        Some(e) => challenge(res, &format!("Bearer realm=\"scimd\", error=\"{e}\"")),
        None => challenge(res, "Bearer realm=\"scimd\""),
    })
}

/// A JSON request body, with SCIM errors for every way it can be wrong.
pub struct ScimBody(pub Value);

impl FromRequest<AppState> for ScimBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        read_json(req, state.http.max_body_bytes).await.map(ScimBody)
    }
}

/// A request body of at most `limit` bytes holding a JSON object (413, 400 otherwise).
async fn read_json(req: Request, limit: usize) -> Result<Value, Response> {
    {
        if let Some(len) =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            && len > limit
        {
            return Err(too_large(limit));
        }
        let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| too_large(limit))?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(error_response(&ScimError::invalid_syntax(
                "the request body is empty; a JSON object is required",
            )));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            error_response(&ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}")))
        })?;
        if !v.is_object() {
            return Err(error_response(&ScimError::invalid_syntax("the request body must be a JSON object")));
        }
        Ok(v)
    }
}

/// 429 with `Retry-After` (whole seconds, at least one).
fn too_many(over: &limits::OverLimit) -> Response {
    let secs = over.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let mut res = error_response(&ScimError::new(
        429,
        None,
        format!("too many requests from {}: at most {} a second; retry after {secs} s", over.what, over.per_sec),
    ));
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

/// Requests beyond the bound in flight, or that took too long: 503 (`Retry-After: 1`).
async fn overloaded(e: tower::BoxError) -> Response {
    let detail = if e.is::<tower::timeout::error::Elapsed>() {
        "the request took too long and was stopped; it may or may not have taken effect"
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        "the server is handling as many requests as it may; retry in a moment"
    } else {
        "the server could not take the request"
    };
    let mut res = error_response(&ScimError::new(503, None, detail));
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

fn too_large(limit: usize) -> Response {
    error_response(&ScimError::new(413, None, format!("the request body is larger than the limit of {limit} bytes")))
}

fn query_pairs(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

fn query_param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// `attributes` / `excludedAttributes` of a single-resource request.
fn projection<const K: u8>(state: &AppState, ctx: &Ctx, q: &Option<String>) -> HResult<Projection> {
    if q.is_none() {
        return Ok(Projection::default());
    }
    let pairs = query_pairs(q);
    Ok(state.service.projection(
        ctx,
        kind::<K>(),
        query_param(&pairs, "attributes"),
        query_param(&pairs, "excludedAttributes"),
    )?)
}

/// The request's context: the tenant, and the absolute base URL of the SCIM API as the
/// client reached it (`base`: `/scim/v2` or the profile's mount).
fn ctx(
    state: &AppState,
    tenant: TenantId,
    tenancy: Arc<crate::service::Tenancy>,
    headers: &HeaderMap,
    audit: Option<Arc<AuditSlot>>,
    base: &str,
) -> Ctx {
    // The public URL names the server's /scim/v2 base; a mount replaces that part.
    let base_url = format!("{}{base}", origin::origin(&state.http, headers).root);
    Ctx { tenant, tenancy, base_url, audit, bulk_op: None, subject: None }
}

// ------------------------------------------------------------------ request log

/// A request id: a random per-process prefix and a counter (no syscall per request).
fn new_request_id() -> String {
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
struct RequestLog<S> {
    inner: S,
    audit: Arc<AuditCfg>,
}

struct AuditCfg {
    sink: AuditSink,
    clock: Arc<dyn crate::clock::Clock>,
    max_body: usize,
    details: scimd_store::DetailsLevel,
    metrics: Arc<crate::metrics::Metrics>,
    store: Arc<dyn scimd_store::Store>,
}

/// The label of requests no route matched (bounded series).
const UNMATCHED: &str = "unmatched";

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
        match self.store.list_tenants().await {
            Ok(ts) => {
                self.metrics.learn_tenants(ts.into_iter().map(|t| (t.id.0, t.name)));
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
async fn with_request_id(res: Response, id: &str) -> Response {
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
const MAX_DETAIL_BODY: usize = 64 * 1024;

std::thread_local! {
    static PANIC_BACKTRACE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Keeps the backtrace of a panic for the request layer (the default hook still prints).
fn install_panic_hook() {
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

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_string()
    }
}

fn header_pairs(h: &HeaderMap) -> impl Iterator<Item = (&str, &[u8])> {
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
        let route: Arc<str> = match req.extensions().get::<axum::extract::MatchedPath>() {
            Some(m) => Arc::from(m.as_str()),
            None => Arc::from(UNMATCHED),
        };
        let classified = crate::audit::classify(method.as_str(), uri.path());
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
                classified.clone(),
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
            let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
                || req.headers().contains_key(header::TRANSFER_ENCODING);
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
                tracing::info!(
                    target: "scimd::request",
                    request_id = %id_str,
                    client_request_id = client_id.as_deref(),
                    tenant = %tenant,
                    %method,
                    route = %route,
                    %path,
                    status,
                    duration_ms = (duration_ms * 100.0).round() / 100.0,
                );
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
struct CapturedBody {
    bytes: Vec<u8>,
    /// More than the limit arrived; `bytes` is incomplete.
    truncated: bool,
}

/// A request body that copies what is read of it into a [`CapturedBody`].
struct CaptureBody {
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
struct RequestHead {
    method: Method,
    uri: axum::http::Uri,
    /// `None` for reads (see [`crate::audit::SlotInfo::request_headers`]).
    headers: Option<HeaderMap>,
}

fn panic_response(p: &(dyn std::any::Any + Send)) -> (Response, String) {
    let detail = panic_message(p);
    let res = error_response(&ScimError::new(500, None, "internal server error"));
    (res, detail)
}

/// Builds and hands over a request's audit event (and its redacted details).
#[allow(clippy::too_many_arguments)]
async fn record_event(
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
struct InFlight(Arc<crate::metrics::Metrics>);

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
struct RequestLogLayer(Arc<AuditCfg>);

impl<S> tower::Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;
    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog { inner, audit: self.0.clone() }
    }
}

// ------------------------------------------------------------------ handlers

/// Liveness: the process is up and answering.
async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// Readiness: not shutting down, the database reachable and at this binary's schema. The
/// reason for a 503 is in the body (and the log), for the operator.
async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    // Bounded in time by the store (a few seconds on PostgreSQL).
    let reason = match state.service.store.ready().await {
        Ok(()) => return (StatusCode::OK, "ready\n").into_response(),
        Err(e) => format!("database not ready: {e}"),
    };
    tracing::warn!(%reason, "readiness check failed");
    (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response()
}

/// The metrics' text, with the gauges read now.
fn metrics_text(state: &AppState) -> Response {
    let text = state.metrics().render(crate::metrics::Readings {
        store: state.service.store.stats(),
        audit_backlog: state.audit.backlog(),
        audit_failures: state.audit.failures(),
    });
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}

/// `/metrics` on the main address: for operators.
async fn metrics_for_operators(State(state): State<AppState>, _: admin::Operator) -> Response {
    metrics_text(&state)
}

/// `/metrics` on its own address.
async fn metrics_open(State(state): State<AppState>) -> Response {
    metrics_text(&state)
}

/// The application of the separate metrics address: `/metrics`, `/healthz`, `/readyz`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_open))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(axum::middleware::map_response(headers::secure_layer))
        .with_state(state)
}

async fn list<const K: u8>(State(state): State<AppState>, r: ScimRequest, RawQuery(q): RawQuery) -> HResult<Response> {
    let pairs = query_pairs(&q);
    let params = if r.ctx.tenancy.query_attribute_filters {
        ListParams::from_query_with_attributes(&pairs, &r.ctx.tenancy.registry, kind::<K>())?
    } else {
        ListParams::from_query(&pairs)?
    };
    let body = state.service.list(&r.ctx, kind::<K>(), &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

async fn search<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let params = ListParams::from_search_body(&body)?;
    let body = state.service.list(&r.ctx, kind::<K>(), &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

async fn search_root(State(state): State<AppState>, r: ScimRequest, ScimBody(body): ScimBody) -> HResult<Response> {
    let params = ListParams::from_search_body(&body)?;
    let body = state.service.search_all(&r.ctx, &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

async fn create<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    let res = state.service.create(&r.ctx, kind::<K>(), &body, &proj).await?;
    Ok(rendered(StatusCode::CREATED, res))
}

async fn get_one<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    if let Some(wanted) = &r.if_none_match
        && let Some(v) = state.service.version(&r.ctx, kind::<K>(), &id).await?
        && match wanted {
            IfMatch::Any => true,
            IfMatch::Versions(vs) => vs.contains(&v),
        }
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, etag_header(v));
        return Ok(res);
    }
    let res = state.service.get(&r.ctx, kind::<K>(), &id, &proj).await?;
    Ok(rendered(StatusCode::OK, res))
}

async fn replace<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    let res = state.service.replace(&r.ctx, kind::<K>(), &id, &body, r.if_match, &proj).await?;
    Ok(rendered(StatusCode::OK, res))
}

async fn patch<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    let res = state.service.patch(&r.ctx, kind::<K>(), &id, &body, r.if_match, &proj).await?;
    Ok(rendered(StatusCode::OK, res))
}

async fn delete<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
) -> HResult<Response> {
    state.service.delete(&r.ctx, kind::<K>(), &id, r.if_match).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// `/Me` (RFC 7644 §3.11): the user the token was issued to, as `/Users/{id}`; answers
// name the user's own location.

/// The user's id and location, for a `/Me` request.
async fn me(state: &AppState, r: &ScimRequest) -> HResult<(String, HeaderValue)> {
    let id = state.service.me(&r.ctx).await?;
    let location = HeaderValue::from_str(&format!("{}/Users/{id}", r.ctx.base_url))
        .map_err(|e| HttpError::from(AppError::Internal(e.to_string())))?;
    Ok((id, location))
}

fn located(res: HResult<Response>, location: HeaderValue) -> HResult<Response> {
    res.map(|mut res| {
        if res.status().is_success() {
            res.headers_mut().insert(header::LOCATION, location);
        }
        res
    })
}

async fn me_get(State(state): State<AppState>, r: ScimRequest, q: RawQuery) -> HResult<Response> {
    let (id, loc) = me(&state, &r).await?;
    located(get_one::<USERS>(State(state), r, Path(id), q).await, loc)
}

async fn me_replace(State(state): State<AppState>, r: ScimRequest, q: RawQuery, body: ScimBody) -> HResult<Response> {
    let (id, loc) = me(&state, &r).await?;
    located(replace::<USERS>(State(state), r, Path(id), q, body).await, loc)
}

async fn me_patch(State(state): State<AppState>, r: ScimRequest, q: RawQuery, body: ScimBody) -> HResult<Response> {
    let (id, loc) = me(&state, &r).await?;
    located(patch::<USERS>(State(state), r, Path(id), q, body).await, loc)
}

async fn me_delete(State(state): State<AppState>, r: ScimRequest) -> HResult<Response> {
    let (id, _) = me(&state, &r).await?;
    delete::<USERS>(State(state), r, Path(id)).await
}

async fn service_provider_config(State(state): State<AppState>, r: ScimRequest) -> Response {
    scim_json(StatusCode::OK, &state.service.service_provider_config(&r.ctx))
}

async fn schemas(State(state): State<AppState>, r: ScimRequest) -> Response {
    scim_json(StatusCode::OK, &state.service.schemas(&r.ctx))
}

async fn schema(State(state): State<AppState>, r: ScimRequest, Path(urn): Path<String>) -> HResult<Response> {
    Ok(scim_json(StatusCode::OK, &state.service.schema(&r.ctx, &urn)?))
}

async fn resource_types(State(state): State<AppState>, r: ScimRequest) -> Response {
    match state.service.resource_types(&r.ctx).await {
        Ok(v) => scim_json(StatusCode::OK, &v),
        Err(e) => HttpError::from(e).into_response(),
    }
}

async fn resource_type(State(state): State<AppState>, r: ScimRequest, Path(name): Path<String>) -> HResult<Response> {
    Ok(scim_json(StatusCode::OK, &state.service.resource_type(&r.ctx, &name).await?))
}

/// `POST /Bulk`: its body may be as large as the advertised `maxPayloadSize`.
async fn bulk(State(state): State<AppState>, r: ScimRequest, req: Request) -> HResult<Response> {
    let limit = state.service.bulk_max_payload().unwrap_or(state.http.max_body_bytes);
    let body = match read_json(req, limit).await {
        Ok(v) => v,
        Err(res) => return Ok(res),
    };
    Ok(scim_json(StatusCode::OK, &state.service.bulk(&r.ctx, &body).await?))
}

async fn not_found(uri: axum::http::Uri) -> Response {
    // An OAuth client reads OAuth errors: a path under /oauth2/ never answers in SCIM's shape.
    if uri.path().starts_with("/oauth2/") {
        return oauth::not_found(uri.path());
    }
    error_response(&ScimError::not_found(format!("no SCIM endpoint at '{}'", uri.path())))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    error_response(&ScimError::new(405, None, format!("{method} is not supported on '{}'", uri.path())))
}

const USERS: u8 = 0;
const GROUPS: u8 = 1;

fn kind<const K: u8>() -> ResourceKind {
    if K == GROUPS { ResourceKind::Group } else { ResourceKind::User }
}

fn resource_routes<const K: u8>(router: Router<AppState>, base: &str) -> Router<AppState> {
    router
        .route(base, get(list::<K>).post(create::<K>))
        .route(&format!("{base}/.search"), post(search::<K>))
        .route(&format!("{base}/{{id}}"), get(get_one::<K>).put(replace::<K>).patch(patch::<K>).delete(delete::<K>))
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let scim = Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{urn}", get(schema))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{name}", get(resource_type))
        .route("/.search", post(search_root))
        .route("/Bulk", post(bulk))
        .route("/Me", get(me_get).put(me_replace).patch(me_patch).delete(me_delete))
        .route("/openapi.json", get(tenant_docs::document))
        .route("/docs", get(tenant_docs::page))
        .route("/docs/init.js", get(tenant_docs::script));
    let scim = resource_routes::<USERS>(scim, "/Users");
    let scim =
        resource_routes::<GROUPS>(scim, "/Groups").fallback(not_found).method_not_allowed_fallback(method_not_allowed);
    install_panic_hook();
    let audit = Arc::new(AuditCfg {
        sink: state.audit.clone(),
        clock: state.service.clock.clone(),
        max_body: state.http.max_body_bytes,
        details: state.http.audit_details,
        metrics: state.metrics().clone(),
        store: state.service.store.clone(),
    });
    let token_path = state.oauth.config.token_path.clone();
    let limits = state.http.limits;
    // The API's description, and Swagger UI on it (its assets are in the binary).
    let docs: Router<AppState> = Router::from(
        utoipa_swagger_ui::SwaggerUi::new("/docs")
            .external_url_unchecked("/openapi.json", openapi::document(&token_path)),
    );
    let mut app = Router::new();
    if state.http.metrics == MetricsAccess::Operators {
        app = app.route("/metrics", get(metrics_for_operators));
    }
    app.merge(docs)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(&token_path, post(oauth::token))
        .route("/oauth2/revoke", post(oauth::revoke))
        .route("/oauth2/introspect", post(oauth::introspect))
        .route("/.well-known/jwks.json", get(oauth::jwks))
        .route("/.well-known/oauth-authorization-server", get(oauth::metadata))
        .nest("/admin/v1", admin::routes())
        .nest("/scim/v2", scim)
        .fallback(not_found)
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(overloaded))
                .load_shed()
                // One bound for the whole router (a layer is applied to each route).
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.max_concurrent.max(1)))
                .timeout(limits.request_timeout),
        )
        .layer(RequestLogLayer(audit))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
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
            store: store.clone(),
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
