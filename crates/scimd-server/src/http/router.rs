//! The routes: which handler answers which method and path, and which operation
//! ([`Operation`]) each is, written once here (the admin API's in `admin`) and recorded in
//! the one [`RouteTable`] (`routes`); the fallbacks (404 and 405 in SCIM's shape, OAuth's
//! under `/oauth2/`), and the layers every route runs under.

use axum::Router;
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;
use scimd_core::ScimError;
use scimd_core::schema::ResourceKind;

use super::discovery::*;
use super::errors::{error_response, overloaded};
use super::health::{healthz, metrics_for_operators, metrics_open, readyz};
use super::request_log::RequestLogLayer;
use super::routes::{RouteTable, Routes, on};
use super::scim::*;
use super::{AppState, MetricsAccess, admin, headers, oauth, openapi, portal, tenant_docs};
use super::{events, golive};
#[cfg(test)]
use crate::operation::Operation;
use crate::operation::Operation::*;

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

/// The paths the server owns whole (every route here is under one, the token endpoint
/// aside: a test checks it): never a tenant's mount, so a miss there rereads no profiles
/// (`Mounts`). Trees, not routes: an unknown path under `/scim/v2` or `/admin/` is the
/// server's own 404, and `/docs` holds Swagger UI's assets.
pub(super) const BUILT_IN_PREFIXES: &[&str] = &[
    "/scim/v2",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/events/",
    "/golive/",
    "/admin/",
    "/portal",
    "/.well-known/",
    "/docs",
    "/openapi.json",
    "/metrics",
    "/healthz",
    "/readyz",
];

/// The routes of one resource type, at `base`.
fn resource_routes<'t, const K: u8>(routes: Routes<'t>, base: &str, k: ResourceKind) -> Routes<'t> {
    use Method as M;
    routes
        .route(base, on(M::GET, List(k), list::<K>).on(M::POST, Create(k), create::<K>))
        .route(&format!("{base}/.search"), on(M::POST, Search(Some(k)), search::<K>))
        .route(
            &format!("{base}/{{id}}"),
            on(M::GET, Read(k), get_one::<K>)
                .on(M::PUT, Replace(k), replace::<K>)
                .on(M::PATCH, Patch(k), patch::<K>)
                .on(M::DELETE, Delete(k), delete::<K>),
        )
}

/// The routes of the resource types tenants' profiles declare; the static routes above
/// win over them (axum tries them first).
fn custom_routes(routes: Routes<'_>) -> Routes<'_> {
    use super::custom;
    use crate::operation::CustomOp as C;
    use Method as M;
    routes
        .route(
            "/{endpoint}",
            on(M::GET, Custom(C::List), custom::list)
                .on(M::POST, Custom(C::Create), custom::create)
                .on(M::PUT, Custom(C::Replace), custom::collection_write)
                .on(M::PATCH, Custom(C::Patch), custom::collection_write)
                .on(M::DELETE, Custom(C::Delete), custom::collection_write),
        )
        .route("/{endpoint}/.search", on(M::POST, Custom(C::Search), custom::search))
        .route(
            "/{endpoint}/{id}",
            on(M::GET, Custom(C::Read), custom::get_one)
                .on(M::PUT, Custom(C::Replace), custom::replace)
                .on(M::PATCH, Custom(C::Patch), custom::patch)
                .on(M::DELETE, Custom(C::Delete), custom::delete),
        )
}

/// The application's own routes (all but Swagger UI's) and the table naming each one's
/// operation: the token endpoint at `token_path`, `/metrics` when operators read it here.
fn routes(token_path: &str, metrics: MetricsAccess, portal: bool) -> (Router<AppState>, RouteTable) {
    use Method as M;
    let me = ResourceKind::User;
    let mut table = RouteTable::default();
    let scim = Routes::new("/scim/v2", &mut table)
        .route("/ServiceProviderConfig", on(M::GET, Discovery, service_provider_config))
        .route("/Schemas", on(M::GET, Discovery, schemas))
        .route("/Schemas/{urn}", on(M::GET, Discovery, schema))
        .route("/ResourceTypes", on(M::GET, Discovery, resource_types))
        .route("/ResourceTypes/{name}", on(M::GET, Discovery, resource_type))
        .route("/.search", on(M::POST, Search(None), search_root))
        .route("/Bulk", on(M::POST, Bulk, bulk))
        .route(
            "/Me",
            on(M::GET, Read(me), me_get).on(M::PUT, Replace(me), me_replace).on(M::PATCH, Patch(me), me_patch).on(
                M::DELETE,
                Delete(me),
                me_delete,
            ),
        )
        .route("/openapi.json", on(M::GET, Discovery, tenant_docs::document))
        .route("/docs", on(M::GET, Discovery, tenant_docs::page))
        .route("/docs/init.js", on(M::GET, Discovery, tenant_docs::script));
    let scim = resource_routes::<USERS>(scim, "/Users", ResourceKind::User);
    let scim = resource_routes::<GROUPS>(scim, "/Groups", ResourceKind::Group);
    let scim = custom_routes(scim).into_router().fallback(not_found).method_not_allowed_fallback(method_not_allowed);
    let admin = admin::routes(&mut table);
    let portal = if portal { portal::routes(&mut table) } else { Router::new() };
    let mut app = Routes::new("", &mut table);
    if metrics == MetricsAccess::Operators {
        app = app.route("/metrics", on(M::GET, Health, metrics_for_operators));
    }
    let app = app
        .route("/healthz", on(M::GET, Health, healthz))
        .route("/readyz", on(M::GET, Health, readyz))
        .route(token_path, on(M::POST, Token, oauth::token))
        .route("/oauth2/revoke", on(M::POST, Revoke, oauth::revoke))
        .route("/oauth2/introspect", on(M::POST, Introspect, oauth::introspect))
        .route("/.well-known/jwks.json", on(M::GET, Discovery, oauth::jwks))
        .route("/events/v1/poll", on(M::POST, EventsPoll, events::poll))
        .route(
            "/golive/v1/submissions",
            on(M::GET, GoLive("golive_list"), golive::list).on(M::POST, GoLive("golive_submit"), golive::submit),
        )
        .route("/.well-known/oauth-authorization-server", on(M::GET, Discovery, oauth::metadata))
        .into_router()
        .nest("/admin/v1", admin)
        .merge(portal)
        .nest("/scim/v2", scim);
    (app, table)
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let token_path = state.oauth.config.token_path.clone();
    let limits = state.http.limits;
    let (app, table) = routes(&token_path, state.http.metrics, state.http.portal);
    // The API's description, and Swagger UI on it (its assets are in the binary). Its
    // routes are not in the table: named from their paths.
    let docs: Router<AppState> = Router::from(
        utoipa_swagger_ui::SwaggerUi::new("/docs")
            .external_url_unchecked("/openapi.json", openapi::document(&token_path)),
    );
    let request_log = RequestLogLayer::new(&state, table);
    app.merge(docs)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's description documents each route as the route names itself.
    #[test]
    fn every_documented_operation_is_routed_and_named_as_documented() {
        let (_, table) = routes("/oauth2/token", MetricsAccess::Operators, true);
        let documented = openapi::documented_operations("/oauth2/token");
        assert!(documented.len() > 60);
        for (method, path, op) in documented {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let named = table.lookup(&path, &m).unwrap_or_else(|| panic!("{method} {path} has no route"));
            assert_eq!(named.1, Some(op), "{method} {path}");
        }
    }

    #[test]
    fn every_route_is_under_a_built_in_prefix() {
        let (_, table) = routes("/oauth2/token", MetricsAccess::Operators, true);
        for path in table.paths().filter(|p| *p != "/oauth2/token") {
            assert!(BUILT_IN_PREFIXES.iter().any(|b| path.starts_with(b)), "{path} is under no built-in prefix");
        }
    }

    /// What a request no route names is named from its path as its route would name it
    /// (a Bulk operation's path, a method a route lacks, an unknown path).
    #[test]
    fn the_path_names_a_documented_operation_as_its_route_does() {
        for (method, path, op) in openapi::documented_operations("/oauth2/token") {
            let path = path.replace("{level}", "location").replace("{token}", "/oauth2/token");
            let path: String =
                path.split('/').map(|seg| if seg.starts_with('{') { "x" } else { seg }).collect::<Vec<_>>().join("/");
            assert_eq!(Operation::unrouted(&method, &path), op, "{method} {path}");
        }
    }
}
