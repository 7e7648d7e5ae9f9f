//! HTTP of the authorization server: the token, revocation and introspection endpoints
//! (form bodies; the client authenticated by HTTP Basic or by form fields, never both;
//! RFC 6749 §5 JSON answers with `Cache-Control: no-store`) and the discovery documents
//! (JWKS, RFC 8414 metadata).

use axum::body::{Body, Bytes};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use scimd_store::TenantId;

use super::AppState;
use crate::audit::AuditSlot;
use crate::oauth::{Assertion, CLIENT_ASSERTION_TYPE, ClientCredentials, OAuthError, TokenRequest};

/// A path under `/oauth2/` that is no endpoint, answered as an OAuth error.
pub fn not_found(path: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"error": "invalid_request", "error_description": format!(
            "no OAuth endpoint at '{path}': /.well-known/oauth-authorization-server lists this server's endpoints"
        )}),
    )
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut res = Response::new(Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn error_response(e: OAuthError) -> Response {
    error_response_with(e, false)
}

/// An error answer; with `http_status_code`, the body repeats the status (for a tenant
/// profile asking for the field).
fn error_response_with(e: OAuthError, http_status_code: bool) -> Response {
    match e {
        OAuthError::Client { status, error, description, retry_after } => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let mut body = json!({ "error": error, "error_description": description });
            if http_status_code {
                body["http_status_code"] = json!(code.as_u16());
            }
            let mut res = json_response(code, &body);
            res.extensions_mut().insert(super::ErrorType(error));
            if status == 401 {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"scimd\""));
            }
            if let Some(s) = retry_after
                && let Ok(v) = HeaderValue::from_str(&s.to_string())
            {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        OAuthError::Internal(detail) => {
            let mut body = json!({ "error": "server_error", "error_description": "internal server error" });
            if http_status_code {
                body["http_status_code"] = json!(500);
            }
            let mut res = json_response(StatusCode::INTERNAL_SERVER_ERROR, &body);
            res.extensions_mut().insert(super::InternalError { detail, backtrace: None });
            res
        }
    }
}

fn invalid_request(d: impl Into<String>) -> OAuthError {
    OAuthError::Client { status: 400, error: "invalid_request", description: d.into(), retry_after: None }
}

/// A form body's parameters. Empty values count as absent (RFC 6749 §3.1); a repeated
/// parameter is an error.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err(invalid_request("the body must be application/x-www-form-urlencoded"));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(body) {
            if v.is_empty() {
                continue;
            }
            if pairs.iter().any(|(x, _)| *x == k) {
                return Err(invalid_request(format!("parameter '{k}' is repeated")));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Form(pairs))
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.swap_remove(i).1)
    }
}

/// The client's credentials: from `Authorization: Basic` (each half form-decoded, RFC
/// 6749 §2.3.1), from the form, or a signed client assertion (RFC 7523 §2.2, with the
/// `audiences` that name this server); using two ways at once is an error.
fn client_credentials(
    headers: &HeaderMap,
    form: &mut Form,
    from: Option<IpAddr>,
    audiences: Vec<String>,
) -> Result<Option<ClientCredentials>, OAuthError> {
    let (kind, assertion) = (form.take("client_assertion_type"), form.take("client_assertion"));
    if kind.is_some() || assertion.is_some() {
        if kind.as_deref() != Some(CLIENT_ASSERTION_TYPE) {
            return Err(invalid_request(format!("client_assertion_type must be {CLIENT_ASSERTION_TYPE}")));
        }
        let Some(jwt) = assertion else {
            return Err(invalid_request("client_assertion is required with client_assertion_type"));
        };
        if form.take("client_secret").is_some() || headers.contains_key(header::AUTHORIZATION) {
            return Err(invalid_request("authenticate the client either with a secret or with an assertion, not both"));
        }
        let client_id = form.take("client_id").unwrap_or_default();
        return Ok(Some(ClientCredentials {
            client_id,
            client_secret: String::new(),
            from,
            assertion: Some(Assertion { jwt, audiences }),
        }));
    }
    let from_form = match (form.take("client_id"), form.take("client_secret")) {
        (Some(client_id), Some(client_secret)) => {
            Some(ClientCredentials { client_id, client_secret, from, assertion: None })
        }
        (Some(_), None) | (None, Some(_)) => None,
        (None, None) => None,
    };
    let Some(auth) = headers.get(header::AUTHORIZATION) else { return Ok(from_form) };
    if from_form.is_some() {
        return Err(invalid_request("authenticate the client either with HTTP Basic or with form fields, not both"));
    }
    let invalid = || OAuthError::Client {
        status: 401,
        error: "invalid_client",
        description: "the Authorization header must be 'Basic base64(client_id:client_secret)'".into(),
        retry_after: None,
    };
    let value = auth.to_str().map_err(|_| invalid())?.trim();
    let (scheme, encoded) = value.split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid());
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
    let dec = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    Ok(Some(ClientCredentials { client_id: dec(id), client_secret: dec(secret), from, assertion: None }))
}

/// The address a request came from: the connection's peer. Failed logins are counted
/// per address as well as in total.
pub type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

fn peer_ip(peer: &Peer) -> Option<IpAddr> {
    peer.as_ref().map(|Extension(ConnectInfo(a))| a.ip())
}

/// The issuer for this request: configured, else the server's public root (configured,
/// else derived from the request: then `derived`).
fn issuer(state: &AppState, headers: &HeaderMap) -> (String, bool) {
    let origin = super::origin::origin(&state.http, headers);
    let derived = state.oauth.config.issuer.is_none() && origin.derived;
    (state.oauth.issuer(&origin.root), derived)
}

/// The audiences a client assertion sent to the endpoint at `path` may name: the issuer,
/// the token endpoint's URL, or this endpoint's.
fn audiences(state: &AppState, headers: &HeaderMap, path: &str) -> Vec<String> {
    let iss = issuer(state, headers).0;
    let token = format!("{iss}{}", state.oauth.config.token_path);
    let here = format!("{iss}{path}");
    let mut out = vec![iss, token];
    if !out.contains(&here) {
        out.push(here);
    }
    out
}

/// Names the caller in the request's audit event: the presented client id, and the
/// tenant of the token issued, else the tenant the refused request was for (see
/// [`crate::oauth::Attempt`]).
async fn audit_caller(
    state: &AppState,
    slot: &Option<Extension<Arc<AuditSlot>>>,
    attempt: &crate::oauth::Attempt,
    tenant: Option<TenantId>,
) {
    if let Some(Extension(slot)) = slot {
        let tenant = match tenant {
            Some(t) => Some(t),
            None => state.oauth.attempted_tenant(attempt).await,
        };
        slot.set_caller(tenant, attempt.client_id.clone(), None);
    }
}

pub async fn token(
    State(state): State<AppState>,
    slot: Option<Extension<Arc<AuditSlot>>>,
    mounted: Option<Extension<super::Mounted>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut grant_type = String::new();
    let mut client_id = None;
    let result = async {
        let mut form = Form::parse(&headers, &body)?;
        let arrived = mounted.as_ref().map_or(state.oauth.config.token_path.as_str(), |Extension(m)| m.base.as_str());
        let auds = audiences(&state, &headers, arrived);
        let creds = client_credentials(&headers, &mut form, peer_ip(&peer), auds)?;
        client_id = creds.as_ref().map(|c| c.client_id.clone()).filter(|id| !id.is_empty());
        let grant = form.take("grant_type");
        grant_type = grant.clone().unwrap_or_default();
        let req = TokenRequest {
            grant_type: grant,
            scope: form.take("scope"),
            username: form.take("username"),
            password: form.take("password"),
            refresh_token: form.take("refresh_token"),
            tenant: form.take("tenant"),
            assertion: form.take("assertion"),
        };
        let attempt = crate::oauth::Attempt {
            client_id: client_id.clone(),
            tenant: req.tenant.clone(),
            username: req.username.clone(),
            refresh_token: req.refresh_token.clone(),
        };
        let r = state.oauth.token(req, creds, &issuer(&state, &headers).0).await;
        audit_caller(&state, &slot, &attempt, r.as_ref().ok().and_then(|t| t.tenant)).await;
        r
    }
    .await;
    match result {
        Ok(t) => {
            state.metrics().token_issued(&grant_type);
            json_response(StatusCode::OK, &serde_json::to_value(t).unwrap_or_default())
        }
        Err(e) => {
            let error = match &e {
                OAuthError::Client { error, .. } => *error,
                OAuthError::Internal(_) => "server_error",
            };
            state.metrics().token_failed(&grant_type, error);
            let arrived_at = mounted.as_ref().map(|Extension(m)| m.base.as_str());
            let status_code = state.oauth.error_status_code(arrived_at, client_id.as_deref()).await;
            error_response_with(e, status_code)
        }
    }
}

/// The parameters of a revocation or introspection request: the client's credentials and
/// the `token` (the caller is named in the audit event first, even if `token` is missing).
async fn token_form(
    state: &AppState,
    slot: &Option<Extension<Arc<AuditSlot>>>,
    peer: &Peer,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
) -> Result<(Option<ClientCredentials>, String), OAuthError> {
    let mut form = Form::parse(headers, body)?;
    let creds = client_credentials(headers, &mut form, peer_ip(peer), audiences(state, headers, path))?;
    let attempt = crate::oauth::Attempt {
        client_id: creds.as_ref().map(|c| c.client_id.clone()).filter(|id| !id.is_empty()),
        tenant: form.take("tenant"),
        ..Default::default()
    };
    audit_caller(state, slot, &attempt, None).await;
    let token = form.take("token").ok_or_else(|| invalid_request("the 'token' parameter is required"))?;
    Ok((creds, token))
}

pub async fn revoke(
    State(state): State<AppState>,
    slot: Option<Extension<Arc<AuditSlot>>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = match token_form(&state, &slot, &peer, &headers, &body, "/oauth2/revoke").await {
        Ok((creds, token)) => state.oauth.revoke(creds, &token).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => json_response(StatusCode::OK, &json!({})),
        Err(e) => error_response(e),
    }
}

pub async fn introspect(
    State(state): State<AppState>,
    slot: Option<Extension<Arc<AuditSlot>>>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = match token_form(&state, &slot, &peer, &headers, &body, "/oauth2/introspect").await {
        Ok((creds, token)) => state.oauth.introspect(creds, &token).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => error_response(e),
    }
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    match state.oauth.jwks().await {
        Ok(v) => {
            let mut res = json_response(StatusCode::OK, &v);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
            res.headers_mut().remove(header::PRAGMA);
            res
        }
        Err(e) => super::HttpError::from(e).into_response(),
    }
}

pub async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (iss, derived) = issuer(&state, &headers);
    let mut res = json_response(StatusCode::OK, &state.oauth.metadata(&iss));
    // Endpoints named after the request's Host must not be kept for other requests by a
    // shared cache (it would hand them to every client): only configured ones are public.
    if !derived {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
        res.headers_mut().remove(header::PRAGMA);
    } else {
        res.headers_mut().insert(header::VARY, HeaderValue::from_static("Host"));
    }
    res
}
