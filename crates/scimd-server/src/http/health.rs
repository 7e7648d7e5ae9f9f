//! Health and metrics endpoints: liveness (`/healthz`), readiness (`/readyz`) and the
//! Prometheus text (`/metrics`, for operators or on an address of its own).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, admin};

/// Liveness: the process is up and answering.
pub(super) async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// Readiness: not shutting down, the database reachable and at this binary's schema. The
/// reason for a 503 is in the body (and the log), for the operator.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    // Bounded in time by the store (a few seconds on PostgreSQL).
    let reason = match state.service.ready().await {
        Ok(()) => return (StatusCode::OK, "ready\n").into_response(),
        Err(e) => format!("database not ready: {e}"),
    };
    tracing::warn!(%reason, "readiness check failed");
    (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")).into_response()
}

/// The metrics' text, with the gauges read now.
pub(super) async fn metrics_text(state: &AppState) -> Response {
    let streams = state.events.figures().await.unwrap_or_else(|e| {
        tracing::warn!(error = ?e, "reading event streams for metrics failed");
        Vec::new()
    });
    let readings = crate::metrics::Readings {
        store: state.service.store_stats(),
        audit_backlog: state.audit.backlog(),
        audit_failures: state.audit.failures(),
    };
    let text = state.metrics().render(readings, &streams);
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}

/// `/metrics` on the main address: for operators.
pub(super) async fn metrics_for_operators(State(state): State<AppState>, _: admin::Operator) -> Response {
    metrics_text(&state).await
}

/// `/metrics` on its own address.
pub(super) async fn metrics_open(State(state): State<AppState>) -> Response {
    metrics_text(&state).await
}
