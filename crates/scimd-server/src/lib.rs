//! scimd-server: the scimd SCIM 2.0 server — use cases, HTTP surface, command line.
//!
//! # Layout
//! - [`service`]: the SCIM use cases over a [`scimd_store::Store`]; no HTTP types.
//! - [`http`]: the axum router, authentication, body extraction, error → response.
//! - [`admin`]: the operator's use cases (tenants, credentials, keys), shared by the
//!   command line and the admin HTTP API.
//! - [`portal`]: the web console's use cases: who signs in (operators with a second
//!   factor, tenants' system users by invitation or SSO) and their sessions.
//! - [`operation`]: which operation a request is, named once per route.
//! - [`audit`]: the audit trail's rules: event slots, redaction, the batch writer, the
//!   go-live summary.
//! - [`error`]: the use cases' error ([`error::AppError`]), beneath all of them.
//! - [`auth`]: bearer token generation and hashing.
//! - [`hashing`]: argon2 for passwords and client secrets, bounded to the cores.
//! - [`mail`]: outgoing email over SMTP (STARTTLS or TLS, authentication).
//! - [`sms`]: outgoing text messages through an HTTP gateway described as a template.
//! - [`events`]: event streams delivered: each push or webhook stream in order, by the
//!   replica holding its lease; poll streams answered (RFC 8936).
//! - [`delivery`]: how one event message reaches a receiver over HTTP: signing, sending,
//!   and when to try again.
//! - [`oauth`]: the OAuth 2.0 authorization server (grants, JWTs, revocation, lockout)
//!   and the authentication of bearer tokens.
//! - [`oidc`]: signing in to the portal with a tenant's identity provider: the OpenID
//!   Connect relying party (discovery, PKCE, ID token verification) and who it admits.
//! - [`clock`]: the clock passed to everything that needs the time.
//! - [`seal`]: secrets kept in the database, sealed at rest under the master key.
//! - [`presets`]: the tenant presets of `examples/presets/`, built in.
//! - [`secrets`]: the deployment's secrets kept in the database (the cursor key).
//! - [`config`]: the configuration (TOML file, environment, flags).
//! - [`metrics`]: the Prometheus metrics of `/metrics`.
//! - [`background`]: the background tasks: what runs, how often, and why.
//! - [`transfer`]: moving a deployment's data between databases: the export file
//!   (JSON Lines with a digest per kind) and the export and import use cases.
//! - [`cli`]: the `scimd` command line (serve, tenant, token, …).
//!
//! [`serve`] takes a bound listener and a shutdown future, so tests bind
//! `127.0.0.1:0` and drive the real server over HTTP.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod background;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod events;
pub mod hashing;
pub mod http;
pub(crate) mod jose;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod oidc;
pub mod onboard;
pub mod operation;
pub mod portal;
pub mod presets;
pub mod request_lines;
pub mod seal;
pub mod secrets;
pub mod service;
pub mod sms;
pub mod transfer;

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
/// requests in flight. Connections are bounded as `HttpConfig::limits` says; the tasks
/// of [`background::serving`] run meanwhile.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Mounted paths, users' locations, rate limiters: see `background`.
    let tasks = background::serving(&state).await;
    let events = state.events.clone();
    let mounts = state.mounts.clone();
    let token_path = state.oauth.config.token_path.clone();
    let remount_service = state.service.clone();
    let limits = state.http.limits.connections;
    let router = http::router(state);
    let app = http::Remount { inner: router, mounts, service: remount_service, token_path: token_path.into() };
    let r = http::connections::serve(listener, app, limits, shutdown).await;
    drop(tasks);
    // Streams this process was delivering go to another replica (or the next start) at
    // once, not when their lease runs out.
    events.release().await;
    r
}
