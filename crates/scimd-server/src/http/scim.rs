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
use crate::service::{AppError, Ctx, Patched, Rendered, etag};

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
    let pairs = query_pairs(&q);
    let projected = query_param(&pairs, "attributes").is_some() || query_param(&pairs, "excludedAttributes").is_some();
    match state.service.patch_as(&r.ctx, kind::<K>(), &id, &body, r.if_match, &proj, !projected).await? {
        Patched::Resource(res) => Ok(rendered(StatusCode::OK, res)),
        Patched::NoContent { version } => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            res.headers_mut().insert(header::ETAG, etag_header(version));
            Ok(res)
        }
    }
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

/// `POST /Bulk`: its body may be as large as the advertised `maxPayloadSize`. With
/// `Prefer: respond-async` (RFC 7240), from a tenant that has an event stream, it is
/// answered `202 Accepted` without a body once stored, with `Set-Txn` (RFC 9967 §3): each
/// operation's outcome arrives as an event whose `txn` is that value, `:` and the
/// operation's index. A tenant without a stream could hear of no outcome: it is answered
/// synchronously, as RFC 7240 lets a server ignore a preference.
pub(super) async fn bulk(State(state): State<AppState>, r: ScimRequest, req: Request) -> HResult<Response> {
    let limit = state.service.bulk_max_payload().unwrap_or(state.http.max_body_bytes);
    let respond_async = prefers_respond_async(req.headers());
    let body = match read_json(req, limit).await {
        Ok(v) => v,
        Err(res) => return Ok(res),
    };
    if respond_async && let Some(txn) = state.service.bulk_async(&r.ctx, &body).await? {
        let mut res = StatusCode::ACCEPTED.into_response();
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&txn) {
            h.insert(SET_TXN, v);
        }
        h.insert(PREFERENCE_APPLIED, HeaderValue::from_static("respond-async"));
        return Ok(res);
    }
    Ok(scim_json(StatusCode::OK, &state.service.bulk(&r.ctx, &body).await?))
}

const SET_TXN: header::HeaderName = header::HeaderName::from_static("set-txn");
const PREFERENCE_APPLIED: header::HeaderName = header::HeaderName::from_static("preference-applied");

/// Whether the request's `Prefer` headers (RFC 7240 §2: comma-separated preferences,
/// each a token, maybe `=value` and `;` parameters; names case-insensitive; quoted values
/// may hold commas) hold `respond-async`.
pub(super) fn prefers_respond_async(headers: &axum::http::HeaderMap) -> bool {
    headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).any(|v| {
        let mut quoted = false;
        let mut escaped = false;
        let mut start = 0;
        let mut items = Vec::new();
        for (i, c) in v.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    items.push(&v[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&v[start..]);
        items.into_iter().any(|item| {
            let pref = item.split(';').next().unwrap_or("");
            let name = pref.split('=').next().unwrap_or("").trim();
            name.eq_ignore_ascii_case("respond-async")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefer(values: &[&str]) -> bool {
        let mut h = axum::http::HeaderMap::new();
        for v in values {
            h.append("prefer", HeaderValue::from_str(v).unwrap());
        }
        prefers_respond_async(&h)
    }

    #[test]
    fn respond_async_is_found_among_other_preferences_in_any_case() {
        assert!(prefer(&["respond-async"]));
        assert!(prefer(&["Respond-Async"]));
        assert!(prefer(&["wait=10, respond-async"]));
        assert!(prefer(&["return=minimal", " RESPOND-ASYNC ; x=1"]));
        assert!(prefer(&["foo=\"a,b\", respond-async"]));
        assert!(!prefer(&[]));
        assert!(!prefer(&["return=representation"]));
        assert!(!prefer(&["foo=\"x, respond-async\""]), "inside a quoted value");
        assert!(!prefer(&["respond-asynchronously"]));
        assert!(!prefer(&["x; respond-async"]), "a parameter, not a preference");
    }
}
