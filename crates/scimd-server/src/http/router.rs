//! The route table: which handler answers which method and path, the fallbacks (404 and
//! 405 in SCIM's shape, OAuth's under `/oauth2/`), and the layers every route runs under.

use axum::Router;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use scimd_core::ScimError;

use super::discovery::*;
use super::errors::{error_response, overloaded};
use super::health::{healthz, metrics_for_operators, metrics_open, readyz};
use super::request_log::RequestLogLayer;
use super::scim::*;
use super::{AppState, MetricsAccess, admin, headers, oauth, openapi, tenant_docs};

/// The application of the separate metrics address: `/metrics`, `/healthz`, `/readyz`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_open))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(axum::middleware::map_response(headers::secure_layer))
        .with_state(state)
}

pub(super) async fn not_found(uri: axum::http::Uri) -> Response {
    // An OAuth client reads OAuth errors: a path under /oauth2/ never answers in SCIM's shape.
    if uri.path().starts_with("/oauth2/") {
        return oauth::not_found(uri.path());
    }
    error_response(&ScimError::not_found(format!("no SCIM endpoint at '{}'", uri.path())))
}

pub(super) async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    error_response(&ScimError::new(405, None, format!("{method} is not supported on '{}'", uri.path())))
}

pub(super) fn resource_routes<const K: u8>(router: Router<AppState>, base: &str) -> Router<AppState> {
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
    let request_log = RequestLogLayer::new(&state);
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
        .layer(request_log)
        .with_state(state)
}
