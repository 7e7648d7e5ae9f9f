//! The HTTP surface, one module per concern; handlers only translate between HTTP and
//! the use cases ([`crate::service::Service`], [`crate::admin::Admin`],
//! [`crate::oauth::OAuth`]), which see no HTTP type.
//!
//! - `router`: the routes, each method with its handler and its operation, and the
//!   layers every route runs under;
//! - `routes`: how a route is declared, and the one table of routes' operations;
//! - `state`: the application's shared state and the HTTP settings;
//! - `request_log`: the outermost layer (request id, log line, metrics, audit event);
//! - `mounts`: tenants' own base and token paths, rewritten before routing;
//! - `extractors`: the authenticated SCIM request and the SCIM body;
//! - `errors`: the one place errors become responses;
//! - `scim`, `discovery`, `health`, `tenant_docs`: the handlers;
//! - `oauth`, `admin`: the authorization server's endpoints and the admin API;
//! - `portal`: the web console (pages, sessions, forms, embedded assets);
//! - `connections`, `limits`, `headers`, `origin`, `query`, `openapi`: the connection
//!   bounds, overload limits, security headers, public origin, query-parameter checks
//!   and the API's description.

mod admin;
pub mod connections;
mod custom;
mod discovery;
mod errors;
mod events;
mod extractors;
mod golive;
mod headers;
mod health;
pub mod limits;
mod mounts;
mod oauth;
pub mod openapi;
pub(crate) mod origin;
mod portal;
mod query;
mod request_log;
mod router;
mod routes;
mod scim;
mod state;
mod tenant_docs;

pub(crate) use errors::InternalError;
pub use errors::{ErrorType, HttpError, error_response};
pub use extractors::{ScimBody, ScimRequest};
pub use mounts::{MISS_REFRESH, Mounted, Mounts, Remount};
pub use request_log::RequestId;
pub use router::{metrics_router, router};
pub use state::{AppParts, AppState, HttpConfig, MetricsAccess};

/// The SCIM media type.
pub const SCIM_JSON: &str = "application/scim+json";
