//! The SCIM resource handlers: list, search, create, read, replace, modify and delete
//! users and groups, `/Me`, and Bulk. Each only translates between HTTP and a
//! [`crate::service::Service`] use case.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scimd_core::list::ListParams;
use scimd_core::projection::Projection;
use scimd_core::schema::ResourceKind;
use scimd_store::IfMatch;

use super::AppState;
use super::errors::{HResult, HttpError, scim_bytes, scim_json};
use super::extractors::{ScimBody, ScimRequest, read_json};
use super::query::{query_pairs, query_param};
use crate::service::{AppError, Ctx, Rendered, etag};

pub(super) const USERS: u8 = 0;
pub(super) const GROUPS: u8 = 1;

pub(super) fn kind<const K: u8>() -> ResourceKind {
    if K == GROUPS { ResourceKind::Group } else { ResourceKind::User }
}

pub(super) fn etag_header(version: i64) -> HeaderValue {
    HeaderValue::from_str(&etag(version)).expect("an ETag of digits is a valid header value")
}

pub(super) fn rendered(status: StatusCode, r: Rendered) -> Response {
    let mut res = scim_bytes(status, r.body);
    res.headers_mut().insert(header::ETAG, etag_header(r.version));
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&r.location)
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `attributes` / `excludedAttributes` of a single-resource request.
pub(super) fn projection<const K: u8>(state: &AppState, ctx: &Ctx, q: &Option<String>) -> HResult<Projection> {
    if q.is_none() {
        return Ok(Projection::default());
    }
    let pairs = query_pairs(q);
    Ok(state.service.projection(
        ctx,
        kind::<K>(),
        query_param(&pairs, "attributes"),
        query_param(&pairs, "excludedAttributes"),
    )?)
}

pub(super) async fn list<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    RawQuery(q): RawQuery,
) -> HResult<Response> {
    let pairs = query_pairs(&q);
    let params = if r.ctx.tenancy.query_attribute_filters {
        ListParams::from_query_with_attributes(&pairs, &r.ctx.tenancy.registry, kind::<K>())?
    } else {
        ListParams::from_query(&pairs)?
    };
    let body = state.service.list(&r.ctx, kind::<K>(), &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

pub(super) async fn search<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let params = ListParams::from_search_body(&body)?;
    let body = state.service.list(&r.ctx, kind::<K>(), &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

pub(super) async fn search_root(
    State(state): State<AppState>,
    r: ScimRequest,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let params = ListParams::from_search_body(&body)?;
    let body = state.service.search_all(&r.ctx, &params).await?;
    Ok(scim_bytes(StatusCode::OK, body))
}

pub(super) async fn create<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    let res = state.service.create(&r.ctx, kind::<K>(), &body, &proj).await?;
    Ok(rendered(StatusCode::CREATED, res))
}

pub(super) async fn get_one<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    if let Some(wanted) = &r.if_none_match
        && let Some(v) = state.service.version(&r.ctx, kind::<K>(), &id).await?
        && match wanted {
            IfMatch::Any => true,
            IfMatch::Versions(vs) => vs.contains(&v),
        }
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, etag_header(v));
        return Ok(res);
    }
    let res = state.service.get(&r.ctx, kind::<K>(), &id, &proj).await?;
    Ok(rendered(StatusCode::OK, res))
}

pub(super) async fn replace<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    let res = state.service.replace(&r.ctx, kind::<K>(), &id, &body, r.if_match, &proj).await?;
    Ok(rendered(StatusCode::OK, res))
}

pub(super) async fn patch<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    ScimBody(body): ScimBody,
) -> HResult<Response> {
    let proj = projection::<K>(&state, &r.ctx, &q)?;
    let res = state.service.patch(&r.ctx, kind::<K>(), &id, &body, r.if_match, &proj).await?;
    Ok(rendered(StatusCode::OK, res))
}

pub(super) async fn delete<const K: u8>(
    State(state): State<AppState>,
    r: ScimRequest,
    Path(id): Path<String>,
) -> HResult<Response> {
    state.service.delete(&r.ctx, kind::<K>(), &id, r.if_match).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// `/Me` (RFC 7644 §3.11): the user the token was issued to, as `/Users/{id}`; answers
// name the user's own location.

/// The user's id and location, for a `/Me` request.
pub(super) async fn me(state: &AppState, r: &ScimRequest) -> HResult<(String, HeaderValue)> {
    let id = state.service.me(&r.ctx).await?;
    let location = HeaderValue::from_str(&format!("{}/Users/{id}", r.ctx.base_url))
        .map_err(|e| HttpError::from(AppError::Internal(e.to_string())))?;
    Ok((id, location))
}

pub(super) fn located(res: HResult<Response>, location: HeaderValue) -> HResult<Response> {
    res.map(|mut res| {
        if res.status().is_success() {
            res.headers_mut().insert(header::LOCATION, location);
        }
        res
    })
}

pub(super) async fn me_get(State(state): State<AppState>, r: ScimRequest, q: RawQuery) -> HResult<Response> {
    let (id, loc) = me(&state, &r).await?;
    located(get_one::<USERS>(State(state), r, Path(id), q).await, loc)
}

pub(super) async fn me_replace(
    State(state): State<AppState>,
    r: ScimRequest,
    q: RawQuery,
    body: ScimBody,
) -> HResult<Response> {
    let (id, loc) = me(&state, &r).await?;
    located(replace::<USERS>(State(state), r, Path(id), q, body).await, loc)
}

pub(super) async fn me_patch(
    State(state): State<AppState>,
    r: ScimRequest,
    q: RawQuery,
    body: ScimBody,
) -> HResult<Response> {
    let (id, loc) = me(&state, &r).await?;
    located(patch::<USERS>(State(state), r, Path(id), q, body).await, loc)
}

pub(super) async fn me_delete(State(state): State<AppState>, r: ScimRequest) -> HResult<Response> {
    let (id, _) = me(&state, &r).await?;
    delete::<USERS>(State(state), r, Path(id)).await
}

/// `POST /Bulk`: its body may be as large as the advertised `maxPayloadSize`.
pub(super) async fn bulk(State(state): State<AppState>, r: ScimRequest, req: Request) -> HResult<Response> {
    let limit = state.service.bulk_max_payload().unwrap_or(state.http.max_body_bytes);
    let body = match read_json(req, limit).await {
        Ok(v) => v,
        Err(res) => return Ok(res),
    };
    Ok(scim_json(StatusCode::OK, &state.service.bulk(&r.ctx, &body).await?))
}
