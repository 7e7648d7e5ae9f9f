//! The handlers of the resource types tenants' profiles declare (`/Roles`, `/Roles/{id}`,
//! `/Roles/.search`). A path no tenant declares answers the server's 404 before any
//! authentication (as any unknown path does), one this tenant does not declare its own
//! 404, and a write the type does not offer 405 with `Allow`; the rest is the same use
//! cases as Users and Groups.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use scimd_core::ScimError;
use scimd_core::list::ListParams;
use scimd_core::profile::Operation;
use scimd_core::schema::ResourceKind;

use super::AppState;
use super::errors::{HResult, error_response, scim_bytes};
use super::extractors::{ScimBody, ScimRequest};
use super::query::{query_pairs, query_param};
use super::scim::rendered;

/// A request whose path names an endpoint some tenant declares; extracting it first
/// keeps every other path the 404 it always was, token or not.
pub(super) struct Declared;

impl FromRequestParts<AppState> for Declared {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Nested under the SCIM base, the path the router sees starts with the endpoint.
        let path = parts.uri.path();
        let rest = path.strip_prefix("/scim/v2").unwrap_or(path);
        let segment = rest.trim_start_matches('/').split('/').next().unwrap_or_default();
        if !segment.is_empty() && state.mounts.declares_fresh(&state.service, &format!("/{segment}")).await {
            return Ok(Declared);
        }
        // The answer the router's fallback gives a path nothing serves.
        Err(error_response(&ScimError::not_found(format!("no SCIM endpoint at '{path}'"))))
    }
}

/// The kind the tenant declares at `/{endpoint}`; 404 when it declares none there.
fn kind_of(r: &ScimRequest, endpoint: &str) -> HResult<ResourceKind> {
    let endpoint = format!("/{endpoint}");
    match r.ctx.tenancy.registry.type_by_endpoint(&endpoint) {
        Some(rt) => Ok(rt.kind),
        None => Err(ScimError::not_found(format!("this tenant has no {endpoint} endpoint")).into()),
    }
}

/// The kind at `/{endpoint}` when the tenant's profile allows `op` on it (405 with
/// `Allow` otherwise).
fn allowed(r: &ScimRequest, endpoint: &str, op: Operation) -> HResult<ResourceKind> {
    let kind = kind_of(r, endpoint)?;
    r.ctx.tenancy.check(kind, op)?;
    Ok(kind)
}

pub(super) async fn list(
    _: Declared,
    State(state): State<AppState>,
    r: ScimRequest,
    Path(endpoint): Path<String>,
    RawQuery(q): RawQuery,
) -> HResult<Response> {
    let kind = kind_of(&r, &endpoint)?;
    let pairs = query_pairs(&q);
    let params = if r.ctx.tenancy.query_attribute_filters {
        ListParams::from_query_with_attributes(&pairs, &r.ctx.tenancy.registry, kind)?
    } else {
        ListParams::from_query(&pairs)?
    };
    let body = state.service.list(&r.ctx, kind, &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

pub(super) async fn search(
    _: Declared,
    State(state): State<AppState>,
    r: ScimRequest,
    Path(endpoint): Path<String>,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let kind = kind_of(&r, &endpoint)?;
    let params = ListParams::from_search_body(&body)?;
    let body = state.service.list(&r.ctx, kind, &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

pub(super) async fn get_one(
    _: Declared,
    State(state): State<AppState>,
    r: ScimRequest,
    Path((endpoint, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> HResult<Response> {
    let kind = kind_of(&r, &endpoint)?;
    let pairs = query_pairs(&q);
    let proj = state.service.projection(
        &r.ctx,
        kind,
        query_param(&pairs, "attributes"),
        query_param(&pairs, "excludedAttributes"),
    )?;
    let res = state.service.get(&r.ctx, kind, &id, &proj).await?;
    Ok(rendered(StatusCode::OK, res))
}

/// `POST /{endpoint}`: a client never creates a catalog's rows (the operator loads them).
pub(super) async fn create(_: Declared, r: ScimRequest, Path(endpoint): Path<String>) -> HResult<Response> {
    allowed(&r, &endpoint, Operation::Create)?;
    Err(ScimError::new(405, None, "this resource type cannot be created by clients").into())
}

/// `PUT`, `PATCH` or `DELETE` of the whole collection: never allowed.
pub(super) async fn collection_write(_: Declared, r: ScimRequest, Path(endpoint): Path<String>) -> HResult<Response> {
    let kind = kind_of(&r, &endpoint)?;
    let allow = r.ctx.tenancy.access(kind).allowed_methods();
    let allow: Vec<&str> = allow.into_iter().filter(|m| matches!(*m, "GET" | "POST")).collect();
    Err(ScimError::new(405, None, format!("/{endpoint} answers {} only", allow.join(", "))).with_allow(allow).into())
}

/// `PUT /{endpoint}/{id}`.
pub(super) async fn replace(
    _: Declared,
    r: ScimRequest,
    Path((endpoint, _)): Path<(String, String)>,
) -> HResult<Response> {
    allowed(&r, &endpoint, Operation::Replace)?;
    Err(ScimError::new(405, None, "this resource type cannot be replaced by clients").into())
}

/// `PATCH /{endpoint}/{id}`.
pub(super) async fn patch(
    _: Declared,
    r: ScimRequest,
    Path((endpoint, _)): Path<(String, String)>,
) -> HResult<Response> {
    allowed(&r, &endpoint, Operation::Patch)?;
    Err(ScimError::new(405, None, "this resource type cannot be modified by clients").into())
}

/// `DELETE /{endpoint}/{id}`.
pub(super) async fn delete(
    _: Declared,
    r: ScimRequest,
    Path((endpoint, _)): Path<(String, String)>,
) -> HResult<Response> {
    allowed(&r, &endpoint, Operation::Delete)?;
    Err(ScimError::new(405, None, "this resource type cannot be deleted by clients").into())
}
