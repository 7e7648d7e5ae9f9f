//! What a SCIM handler takes from a request: [`ScimRequest`] (the bearer token
//! authenticated, its scopes and the tenant's profile checked, the rates counted, the
//! request's context and conditional headers) and [`ScimBody`] (a JSON object within the
//! body limit).

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use scimd_core::ScimError;
use scimd_store::{IfMatch, TenantId};
use serde_json::Value;

use super::errors::{HttpError, error_response, too_large, too_many};
use super::mounts::Mounted;
use super::query::query_pairs;
use super::{AppState, origin, query};
use crate::audit::AuditSlot;
use crate::auth::bearer;
use crate::oauth::Grant;
use crate::service::{Ctx, parse_etags, writer_of};

/// An authenticated SCIM request: its context (tenant, base URL) and the conditional
/// headers. Extracting it authenticates the bearer token; a missing or bad token is
/// answered with 401, a SCIM error body and `WWW-Authenticate`, and a tenant without the
/// SCIM feature with 403, before anything else of the request is looked at.
pub struct ScimRequest {
    pub ctx: Ctx,
    pub if_match: Option<IfMatch>,
    pub if_none_match: Option<IfMatch>,
}

impl FromRequestParts<AppState> for ScimRequest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let slot = parts.extensions.get::<Arc<AuditSlot>>().cloned();
        // Whether it changes resources, as its route named it (a request no route named
        // is held to the stricter scopes of a change).
        let write = slot.as_ref().and_then(|s| s.routed.as_ref()).is_none_or(|r| r.operation.is_write());
        let grant = authenticate(&parts.headers, state, write, slot.as_deref()).await?;
        // The tenant's API answers only where its profile mounts it.
        let base = parts.extensions.get::<Mounted>().map_or("/scim/v2", |m| m.base.as_str()).to_string();
        let profile = state.service.profile(grant.tenant).await.map_err(|e| HttpError::from(e).into_response())?;
        let mapped = grant.scopes.split_whitespace().any(|s| profile.scim_scopes.iter().any(|m| m == s));
        if !mapped && ((write && !grant.write) || (!write && !grant.read)) {
            return Err(insufficient_scope(write));
        }
        if !profile.serves_at(&base) {
            let path = parts.extensions.get::<Mounted>().map_or(parts.uri.path(), |m| m.original.as_str());
            return Err(error_response(&ScimError::not_found(format!(
                "no SCIM endpoint at '{path}' for this tenant (its API is at {})",
                profile.api_paths().join(", ")
            ))));
        }
        if let Some(slot) = &slot {
            let mut info = slot.info.lock().expect("audit slot");
            info.secrets = Some(profile.secrets.clone());
            if grant.audit_details == scimd_store::DetailsLevel::All {
                info.request_headers = Some(parts.headers.clone());
            }
        }
        if let Err(over) = state.limiters().check(grant.tenant.0, &grant.client) {
            return Err(too_many(&over));
        }
        if let Some(rate) = profile.rate_limit
            && let Err(over) = state.limiters().check_profile(grant.tenant.0, rate)
        {
            return Err(too_many(&over));
        }
        if let Some(accepted) = query::accepted(&parts.method, parts.uri.path()) {
            let pairs = query_pairs(&parts.uri.query().map(str::to_string));
            scimd_core::list::check_query_names(&pairs, accepted).map_err(|e| error_response(&e))?;
        }
        let headers = &parts.headers;
        let conditional = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(parse_etags);
        let writer = writer_of(&profile, &grant.client);
        Ok(ScimRequest {
            ctx: Ctx {
                subject: grant.subject.clone(),
                writer,
                ..ctx(state, grant.tenant, profile, headers, slot, &base)
            },
            if_match: conditional(header::IF_MATCH),
            if_none_match: conditional(header::IF_NONE_MATCH),
        })
    }
}

/// 403 for a token whose scopes do not cover the request.
pub(super) fn insufficient_scope(write: bool) -> Response {
    let (needed, what) = if write { (crate::oauth::SCOPE_WRITE, "change") } else { (crate::oauth::SCOPE_READ, "read") };
    let res = error_response(&ScimError::new(
        403,
        None,
        format!("the token's scopes do not allow it to {what} resources: it needs scope 'scim' or '{needed}'"),
    ));
    challenge(res, &format!("Bearer realm=\"scimd\", error=\"insufficient_scope\", scope=\"scim {needed}\""))
}

pub(super) fn challenge(mut res: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// The grant of the request's bearer token, or the response refusing it. The request's
/// event is attributed to the token's tenant as soon as it is known, refusals included
/// (an expired access token still names the tenant it was issued for).
pub(super) async fn authenticate(
    headers: &HeaderMap,
    state: &AppState,
    write: bool,
    slot: Option<&AuditSlot>,
) -> Result<Grant, Response> {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (error, detail) = match header.map(bearer) {
        None => (None, "authentication required: send 'Authorization: Bearer <token>'"),
        Some(None) => (Some("invalid_request"), "the Authorization header must use the Bearer scheme"),
        Some(Some(token)) => match state.oauth.authenticate(token).await {
            Ok(Some(g)) => {
                if let Some(slot) = slot {
                    slot.set_caller(Some(g.tenant), Some(g.client.to_string()), Some(g.audit_details));
                }
                if !g.scim_enabled {
                    return Err(error_response(&ScimError::new(
                        403,
                        None,
                        "SCIM provisioning is not enabled for this tenant; an operator can enable it",
                    )));
                }
                // A profile may give further scope names SCIM access: judged with the profile.
                if ((write && !g.write) || (!write && !g.read)) && g.scopes.is_empty() {
                    return Err(insufficient_scope(write));
                }
                return Ok(g);
            }
            Ok(None) => {
                if let Some(slot) = slot
                    && let Some((tenant, client)) = state.oauth.rejected_token_tenant(token).await
                {
                    slot.set_caller(Some(tenant), Some(client), None);
                    // Its payloads are redacted by the names of that tenant's secrets.
                    if let Ok(profile) = state.service.profile(tenant).await {
                        slot.info.lock().expect("audit slot").secrets = Some(profile.secrets.clone());
                    }
                }
                (Some("invalid_token"), "the bearer token is invalid, expired or revoked")
            }
            Err(e) => return Err(HttpError::from(e).into_response()),
        },
    };
    let res = error_response(&ScimError::new(401, None, detail));
    Err(match error {
        Some(e) => challenge(res, &format!("Bearer realm=\"scimd\", error=\"{e}\"")),
        None => challenge(res, "Bearer realm=\"scimd\""),
    })
}

/// A JSON request body, with SCIM errors for every way it can be wrong.
pub struct ScimBody(pub Value);

impl FromRequest<AppState> for ScimBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        read_json(req, state.http.max_body_bytes).await.map(ScimBody)
    }
}

/// A request body of at most `limit` bytes holding a JSON object (413, 400 otherwise).
pub(super) async fn read_json(req: Request, limit: usize) -> Result<Value, Response> {
    {
        if let Some(len) =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            && len > limit
        {
            return Err(too_large(limit));
        }
        let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| too_large(limit))?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(error_response(&ScimError::invalid_syntax(
                "the request body is empty; a JSON object is required",
            )));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            error_response(&ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}")))
        })?;
        if !v.is_object() {
            return Err(error_response(&ScimError::invalid_syntax("the request body must be a JSON object")));
        }
        Ok(v)
    }
}

/// The request's context: the tenant, and the absolute base URL of the SCIM API as the
/// client reached it (`base`: `/scim/v2` or the profile's mount).
pub(super) fn ctx(
    state: &AppState,
    tenant: TenantId,
    tenancy: Arc<crate::service::Tenancy>,
    headers: &HeaderMap,
    audit: Option<Arc<AuditSlot>>,
    base: &str,
) -> Ctx {
    // The public URL names the server's /scim/v2 base; a mount replaces that part.
    let base_url = format!("{}{base}", origin::origin(&state.http, headers).root);
    // The portal's context: the operator's. A SCIM request's names its client's source.
    let writer = crate::service::operator_writer(&tenancy.profile);
    Ctx { tenant, tenancy, base_url, audit, bulk_op: None, subject: None, writer }
}
