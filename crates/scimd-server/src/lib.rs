//! scimd-server: the scimd SCIM 2.0 server — use cases, HTTP surface, command line.
//!
//! # Layout
//! - [`service`]: the SCIM use cases over a [`scimd_store::Store`]; no HTTP types.
//! - [`http`]: the axum router, authentication, body extraction, error → response.
//! - [`admin`]: the operator's use cases (tenants, credentials, keys), shared by the
//!   command line and the admin HTTP API.
//! - [`operation`]: which operation a request is, named once per route.
//! - [`audit`]: the audit trail's rules: event slots, redaction, the batch writer, the
//!   go-live summary.
//! - [`auth`]: bearer token generation, hashing and the verified-token cache.
//! - [`hashing`]: argon2 for passwords and client secrets, bounded to the cores.
//! - [`oauth`]: the OAuth 2.0 authorization server (grants, JWTs, revocation, lockout)
//!   and the authentication of bearer tokens.
//! - [`clock`]: the clock passed to everything that needs the time.
//! - [`seal`]: secrets kept in the database, sealed at rest under the master key.
//! - [`presets`]: the tenant presets of `examples/presets/`, built in.
//! - [`secrets`]: the deployment's secrets kept in the database (the cursor key).
//! - [`config`]: the configuration (TOML file, environment, flags).
//! - [`metrics`]: the Prometheus metrics of `/metrics`.
//! - [`cli`]: the `scimd` command line (serve, tenant, token, …).
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests bind
//! `127.0.0.1:0` and drive the real server over HTTP.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod hashing;
pub mod http;
pub mod metrics;
pub mod oauth;
pub mod operation;
pub mod presets;
pub mod seal;
pub mod secrets;
pub mod service;

use std::future::Future;

pub use http::{AppParts, AppState, HttpConfig};

/// The version of this build, as `--version` prints it: `0.1.0 (commit abc123…)`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SCIMD_COMMIT"), ")");
/// The package version alone.
pub const VERSION_NUMBER: &str = env!("CARGO_PKG_VERSION");
/// The commit this binary was built from (`unknown` outside a git checkout, unless the
/// build set `SCIMD_BUILD_COMMIT`).
pub const COMMIT: &str = env!("SCIMD_COMMIT");
pub use service::{Service, ServiceConfig};

/// Serves the application on `listener` until `shutdown` completes, then finishes the
/// requests in flight. Connections are bounded as `HttpConfig::limits` says.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Tenants' custom paths: read now, then every 5 seconds.
    let mounts = state.mounts.clone();
    if let Err(e) = mounts.refresh(&state.service).await {
        tracing::warn!(error = %e, "reading tenants' mounted paths failed");
    }
    let (mounted, refresher) = (state.service.clone(), mounts.clone());
    let refresh = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            if let Err(e) = refresher.refresh(&mounted).await {
                tracing::warn!(error = %e, "reading tenants' mounted paths failed");
            }
        }
    });
    // Users' locations after a change of location rules, in the background.
    let service = state.service.clone();
    let places = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            match service.recompute_places().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(users = n, "recomputed users' locations after a rules change"),
                Err(e) => tracing::warn!(error = ?e, "recomputing users' locations failed"),
            }
        }
    });
    // Rate limiters forget idle keys (their memory stays bounded by the active ones).
    let limiter_state = state.clone();
    let forget = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            limiter_state.limiters().forget_idle();
        }
    });
    let token_path = state.oauth.config.token_path.clone();
    let remount_service = state.service.clone();
    let limits = state.http.limits.connections;
    let router = http::router(state);
    let app = http::Remount { inner: router, mounts, service: remount_service, token_path: token_path.into() };
    let r = http::connections::serve(listener, app, limits, shutdown).await;
    refresh.abort();
    places.abort();
    forget.abort();
    r
}
