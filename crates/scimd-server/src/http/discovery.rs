//! The SCIM discovery handlers: `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`,
//! as the tenant's profile and registry shape them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::errors::{HResult, HttpError, scim_json};
use super::extractors::ScimRequest;

pub(super) async fn service_provider_config(State(state): State<AppState>, r: ScimRequest) -> Response {
    match state.service.service_provider_config(&r.ctx).await {
        Ok(v) => scim_json(StatusCode::OK, &v),
        Err(e) => HttpError::from(e).into_response(),
    }
}

pub(super) async fn schemas(State(state): State<AppState>, r: ScimRequest) -> Response {
    scim_json(StatusCode::OK, &state.service.schemas(&r.ctx))
}

pub(super) async fn schema(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(urn): Path<String>,
) -> HResult<Response> {
    Ok(scim_json(StatusCode::OK, &state.service.schema(&r.ctx, &urn)?))
}

pub(super) async fn resource_types(State(state): State<AppState>, r: ScimRequest) -> Response {
    match state.service.resource_types(&r.ctx).await {
        Ok(v) => scim_json(StatusCode::OK, &v),
        Err(e) => HttpError::from(e).into_response(),
    }
}

pub(super) async fn resource_type(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(name): Path<String>,
) -> HResult<Response> {
    Ok(scim_json(StatusCode::OK, &state.service.resource_type(&r.ctx, &name).await?))
}
