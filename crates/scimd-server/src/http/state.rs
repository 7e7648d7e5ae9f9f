//! The application's shared state ([`AppState`]: the use cases, the process's rate
//! limiters and metrics, whether it is draining) and the HTTP layer's settings
//! ([`HttpConfig`]).

use std::sync::Arc;

use super::limits;
use super::mounts::Mounts;
use crate::audit::AuditSink;
use crate::oauth::OAuth;
use crate::service::Service;

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
    /// Whether the portal is served under `/portal/`.
    pub portal: bool,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Not at all.
    Off,
    /// On the main address, to operators (a bearer operator token).
    Operators,
    /// On a separate address of its own ([`metrics_router`](crate::http::metrics_router)), open to whoever reaches it.
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
            portal: true,
        }
    }
}

/// The application's shared state: one `Arc`, so the per-request clone axum makes is one
/// reference count, whatever the state holds.
#[derive(Clone)]
pub struct AppState(Arc<(AppParts, Process)>);

/// What the process keeps besides its parts: rate limiters, metrics, whether it is
/// draining.
pub(super) struct Process {
    limiters: limits::Limiters,
    metrics: Arc<crate::metrics::Metrics>,
    draining: std::sync::atomic::AtomicBool,
}

impl AppState {
    /// The state of a process; its store's operation times and its users' deactivation
    /// times go to the new metrics.
    pub fn new(parts: AppParts) -> Self {
        let limiters = limits::Limiters::new(&parts.http.limits);
        let metrics = crate::metrics::Metrics::new();
        parts.service.observe_store(metrics.store_observer());
        let m = metrics.clone();
        parts.service.observe_deactivations(Arc::new(move |tenant, took| m.deactivation(tenant.0, took)));
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

    pub(super) fn draining(&self) -> bool {
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
    /// The portal's sign-in and sessions.
    pub portal: Arc<crate::portal::Portal>,
    /// Onboarding and the go-live check.
    pub onboard: Arc<crate::onboard::Onboarding>,
    pub http: Arc<HttpConfig>,
    /// Where request events go (written in batches).
    pub audit: AuditSink,
    /// Event streams' delivery.
    pub events: Arc<crate::events::Events>,
}
