//! Prometheus metrics: what is counted (requests by route, status and tenant; latency
//! histograms; tokens issued and refused; store operation latency; the time users'
//! deactivations take, by tenant; pool, write-queue and
//! audit backlog gauges, read when scraped) and their OpenMetrics text for `/metrics`.
//! Route labels are routing templates (`/scim/v2/Users/{id}`), so the number of series is
//! bounded by routes × statuses × tenants.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: Arc<str>,
    status: u16,
    tenant: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrantLabels {
    grant_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    grant_type: &'static str,
    error: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    tenant: String,
    stream: String,
    method: &'static str,
}

/// One event stream's figures, read from the database when metrics are scraped (so they
/// are the deployment's, whichever replica delivered).
#[derive(Debug, Clone, Default)]
pub struct StreamFigures {
    pub tenant: String,
    pub stream: String,
    pub method: &'static str,
    pub delivered: i64,
    pub rejected: i64,
    pub dropped: i64,
    pub backlog: i64,
    pub lag_seconds: f64,
    pub attempts: i64,
    pub failing: bool,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_buckets() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.00025, 2.0, 16))
}

fn query_buckets() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.00005, 2.0, 16))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily<RouteLabels>,
    in_flight: Gauge,
    tokens_issued: Family<GrantLabels, Counter>,
    token_failures: Family<FailureLabels, Counter>,
    queries: HistogramFamily<KindLabels>,
    pool: Family<StateLabels, Gauge>,
    pool_waiting: Gauge,
    write_queue: Gauge,
    audit_backlog: Gauge,
    audit_failures: Gauge<u64, AtomicU64>,
    log_dropped: Counter<u64, AtomicU64>,
    catch_up: std::sync::Mutex<()>,
    retries: Family<ReasonLabels, Counter>,
    deactivations: HistogramFamily<TenantLabels>,
    streams: StreamGauges,
    /// Tenant names by id, for labels (tenants are never renamed).
    names: RwLock<HashMap<i64, Arc<str>>>,
}

/// A gauge reading taken when metrics are scraped.
#[derive(Debug, Default, Clone, Copy)]
pub struct Readings {
    pub store: scimd_store::StoreStats,
    pub audit_backlog: usize,
    pub audit_failures: u64,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = HistogramFamily::<RouteLabels>::new_with_constructor(request_buckets);
        let in_flight = Gauge::default();
        let tokens_issued = Family::<GrantLabels, Counter>::default();
        let token_failures = Family::<FailureLabels, Counter>::default();
        let queries = HistogramFamily::<KindLabels>::new_with_constructor(query_buckets);
        let pool = Family::<StateLabels, Gauge>::default();
        let (pool_waiting, write_queue, audit_backlog) = (Gauge::default(), Gauge::default(), Gauge::default());
        let audit_failures = Gauge::<u64, AtomicU64>::default();
        let log_dropped = Counter::<u64, AtomicU64>::default();
        let retries = Family::<ReasonLabels, Counter>::default();
        let deactivations = HistogramFamily::<TenantLabels>::new_with_constructor(request_buckets);
        registry.register(
            "scimd_build",
            "The running scimd's version and commit",
            Info::new(BuildLabels { version: crate::VERSION_NUMBER, commit: crate::COMMIT }),
        );
        registry.register(
            "scimd_http_requests",
            "HTTP requests answered, by method, route template, status and tenant",
            requests.clone(),
        );
        registry.register(
            "scimd_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            durations.clone(),
        );
        registry.register("scimd_http_requests_in_flight", "HTTP requests being handled", in_flight.clone());
        registry.register(
            "scimd_oauth_tokens_issued",
            "Access tokens issued by the token endpoint, by grant type",
            tokens_issued.clone(),
        );
        registry.register(
            "scimd_oauth_token_failures",
            "Token requests refused, by grant type and OAuth error",
            token_failures.clone(),
        );
        registry.register(
            "scimd_store_operation_duration_seconds",
            "Time of one database operation (a read, or a write until it is durable), by kind",
            queries.clone(),
        );
        registry.register(
            "scimd_store_pool_connections",
            "Database connections of this process's pool, in use or idle",
            pool.clone(),
        );
        registry.register(
            "scimd_store_pool_waiting",
            "Operations waiting for a database connection (pool saturation)",
            pool_waiting.clone(),
        );
        registry.register("scimd_store_write_queue", "SQLite writes queued for the writer thread", write_queue.clone());
        registry.register(
            "scimd_audit_backlog",
            "Audit records handed over and not yet written",
            audit_backlog.clone(),
        );
        registry.register(
            "scimd_audit_write_failures",
            "Audit records whose write failed since the start (each also logged)",
            audit_failures.clone(),
        );
        registry.register(
            "scimd_log_lines_dropped",
            "Request log lines dropped because standard error did not keep up",
            log_dropped.clone(),
        );
        registry.register(
            "scimd_store_retries",
            "Database work run again: transactions the database broke off (reason contention: \
             serialization failure or deadlock), work whose connection broke before it committed \
             (reason connection)",
            retries.clone(),
        );
        registry.register(
            "scimd_user_deactivation_seconds",
            "Time from an identity provider's request that deactivates or deletes a user to its last effect \
             (the row written, the user's logins ended), by tenant",
            deactivations.clone(),
        );
        let streams = StreamGauges::register(&mut registry);
        let hashing = &*crate::hashing::FIGURES;
        registry.register(
            "scimd_password_checks",
            "Presented passwords and client secrets checked with argon2",
            hashing.checks.clone(),
        );
        registry.register(
            "scimd_password_refused",
            "Password checks and hashes refused (503) because every core was busy and the queue full",
            hashing.refused.clone(),
        );
        registry.register(
            "scimd_password_queue",
            "Password checks and hashes waiting for a core",
            hashing.waiting.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            durations,
            in_flight,
            tokens_issued,
            token_failures,
            queries,
            pool,
            pool_waiting,
            write_queue,
            audit_backlog,
            audit_failures,
            log_dropped,
            catch_up: std::sync::Mutex::new(()),
            retries,
            deactivations,
            streams,
            names: RwLock::default(),
        })
    }

    /// Counts an answered request.
    pub fn request(&self, method: &axum::http::Method, route: Arc<str>, status: u16, tenant: Arc<str>, took: Duration) {
        let method = method_label(method);
        self.durations.get_or_create(&RouteLabels { method, route: route.clone() }).observe(took.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { method, route, status, tenant }).inc();
    }

    /// The gauge of requests in flight.
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// Counts an issued access token.
    pub fn token_issued(&self, grant_type: &str) {
        self.tokens_issued.get_or_create(&GrantLabels { grant_type: grant_label(grant_type) }).inc();
    }

    /// Counts a refused token request.
    pub fn token_failed(&self, grant_type: &str, error: &'static str) {
        self.token_failures.get_or_create(&FailureLabels { grant_type: grant_label(grant_type), error }).inc();
    }

    /// An observer of the store's operation times (its two histograms looked up once:
    /// it runs on every database operation).
    pub fn store_observer(self: &Arc<Self>) -> scimd_store::QueryObserver {
        use scimd_store::QueryKind;
        let of = |k: QueryKind| self.queries.get_or_create(&KindLabels { kind: k.as_str() }).clone();
        let (read, write) = (of(QueryKind::Read), of(QueryKind::Write));
        Arc::new(move |kind: QueryKind, took: Duration| {
            let h = if kind == QueryKind::Write { &write } else { &read };
            h.observe(took.as_secs_f64());
        })
    }

    /// Counts a user deactivation and the time it took (the tenant's name as its label, or
    /// its id until this process has read the name).
    pub fn deactivation(&self, tenant: i64, took: Duration) {
        let tenant = self.tenant_name(tenant).unwrap_or_else(|| Arc::from(tenant.to_string()));
        self.deactivations.get_or_create(&TenantLabels { tenant }).observe(took.as_secs_f64());
    }

    /// A tenant's name, if known.
    pub fn tenant_name(&self, id: i64) -> Option<Arc<str>> {
        self.names.read().expect("tenant names").get(&id).cloned()
    }

    /// Learns tenants' names.
    pub fn learn_tenants(&self, tenants: impl IntoIterator<Item = (i64, String)>) {
        let mut names = self.names.write().expect("tenant names");
        for (id, name) in tenants {
            names.entry(id).or_insert_with(|| name.into());
        }
    }

    /// The metrics as OpenMetrics text, with the gauges read now.
    pub fn render(&self, r: Readings, streams: &[StreamFigures]) -> String {
        self.streams.set(streams);
        let gauge = |g: &Gauge, v: u64| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        gauge(&self.pool.get_or_create(&StateLabels { state: "in_use" }), r.store.pool_in_use);
        gauge(&self.pool.get_or_create(&StateLabels { state: "idle" }), r.store.pool_idle);
        gauge(&self.pool_waiting, r.store.pool_waiting);
        gauge(&self.write_queue, r.store.write_queue);
        gauge(&self.audit_backlog, r.audit_backlog as u64);
        self.audit_failures.set(r.audit_failures);
        {
            // The store and the request log count since their start; the counters catch up
            // with them, one scrape at a time (a counter only grows).
            let _one = self.catch_up.lock().expect("metrics catch-up");
            let dropped = crate::request_lines::dropped();
            self.log_dropped.inc_by(dropped.saturating_sub(self.log_dropped.get()));
            for (reason, total) in
                [("contention", r.store.retried_transactions), ("connection", r.store.retried_connections)]
            {
                let c = self.retries.get_or_create(&ReasonLabels { reason });
                c.inc_by(total.saturating_sub(c.get()));
            }
        }
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Grant types as labels: the known ones, else `other` (bounded series).
fn grant_label(g: &str) -> &'static str {
    match g {
        "client_credentials" => "client_credentials",
        "password" => "password",
        "refresh_token" => "refresh_token",
        crate::oauth::JWT_BEARER => "jwt_bearer",
        "" => "none",
        _ => "other",
    }
}

/// The event streams' gauges, one series per stream (bounded by the streams operators
/// create); set afresh at each scrape, so a deleted stream's series go.
struct StreamGauges {
    delivered: Family<StreamLabels, Gauge>,
    rejected: Family<StreamLabels, Gauge>,
    dropped: Family<StreamLabels, Gauge>,
    backlog: Family<StreamLabels, Gauge>,
    lag: Family<StreamLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    attempts: Family<StreamLabels, Gauge>,
    failing: Family<StreamLabels, Gauge>,
}

impl StreamGauges {
    fn register(registry: &mut Registry) -> StreamGauges {
        let g = StreamGauges {
            delivered: Family::default(),
            rejected: Family::default(),
            dropped: Family::default(),
            backlog: Family::default(),
            lag: Family::default(),
            attempts: Family::default(),
            failing: Family::default(),
        };
        registry.register("scimd_event_stream_delivered", "Events a stream's receiver accepted", g.delivered.clone());
        registry.register(
            "scimd_event_stream_rejected",
            "Events a stream's receiver refused for good (skipped)",
            g.rejected.clone(),
        );
        registry.register(
            "scimd_event_stream_dropped",
            "Events the retention bound dropped before the stream delivered them",
            g.dropped.clone(),
        );
        registry.register(
            "scimd_event_stream_backlog",
            "Events of the tenant not yet past the stream",
            g.backlog.clone(),
        );
        registry.register(
            "scimd_event_stream_lag_seconds",
            "Age of the oldest event the stream has not delivered (0 when none)",
            g.lag.clone(),
        );
        registry.register(
            "scimd_event_stream_failed_attempts",
            "Failed delivery attempts since the stream's last success",
            g.attempts.clone(),
        );
        registry.register(
            "scimd_event_stream_failing",
            "1 while the stream has been failing longer than events.failing_after",
            g.failing.clone(),
        );
        g
    }

    fn set(&self, streams: &[StreamFigures]) {
        for f in [&self.delivered, &self.rejected, &self.dropped, &self.backlog, &self.attempts, &self.failing] {
            f.clear();
        }
        self.lag.clear();
        for s in streams {
            let l = StreamLabels { tenant: s.tenant.clone(), stream: s.stream.clone(), method: s.method };
            self.delivered.get_or_create(&l).set(s.delivered);
            self.rejected.get_or_create(&l).set(s.rejected);
            self.dropped.get_or_create(&l).set(s.dropped);
            self.backlog.get_or_create(&l).set(s.backlog);
            self.lag.get_or_create(&l).set(s.lag_seconds);
            self.attempts.get_or_create(&l).set(s.attempts);
            self.failing.get_or_create(&l).set(i64::from(s.failing));
        }
    }
}
