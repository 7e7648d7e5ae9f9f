//! Single sign-on through a tenant's OpenID Connect provider: `/portal/sso?tenant=…` sends
//! the browser to the provider (authorization code with PKCE), `/portal/sso/callback`
//! receives its answer. What must survive the trip (state, nonce, verifier) rides in a
//! sealed cookie of its own, `SameSite=Lax` because the provider's redirect back is a
//! navigation from another site; the session cookie set at the end stays `Strict`, so the
//! callback answers with a page that moves on to the portal itself (a redirect in a chain
//! another site started would not carry it). The start answers with a page that moves on
//! to the provider too: it follows the sign-in page's form, and the portal's policy lets a
//! form lead only to the portal (`form-action 'self'` holds for its redirects as well).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;

use super::page::{self, Chrome};
use super::session::{SESSION, set_cookie};
use crate::http::AppState;
use crate::portal::SsoAnswer;

const PENDING: &str = "__Host-scimd_sso";

fn pending_cookie(value: Option<&str>) -> HeaderValue {
    super::session::cookie_header(PENDING, value, "Lax", Some(600))
}

fn callback_url(state: &AppState, headers: &HeaderMap) -> String {
    format!("{}/portal/sso/callback", crate::http::origin::origin(&state.http, headers).root)
}

#[derive(Deserialize)]
pub(super) struct Start {
    #[serde(default)]
    tenant: String,
}

fn failed(e: crate::admin::AdminError) -> Response {
    let status = page::status_of(&e);
    let mut res = if e.status >= 500 && e.status != 502 {
        page::error(e, None)
    } else {
        page::message(status, "Single sign-on did not work", &e.message)
    };
    res.headers_mut().append(header::SET_COOKIE, pending_cookie(None));
    res
}

pub(super) async fn start(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Start>) -> Response {
    if q.tenant.trim().is_empty() {
        return page::see_other("/portal/login");
    }
    match state.portal.sso_start(q.tenant.trim(), &callback_url(&state, &headers)).await {
        Ok((start, sealed)) => {
            let mut res = page::ok(&Go { chrome: Chrome::public("Single sign-on", ""), url: start.url });
            res.headers_mut().append(header::SET_COOKIE, pending_cookie(Some(&sealed)));
            res
        }
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub(super) struct Answer {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/sso_go.html")]
struct Go {
    chrome: Chrome,
    url: String,
}

#[derive(Template)]
#[template(path = "portal/sso_done.html")]
struct Done {
    chrome: Chrome,
}

pub(super) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Query(a): Query<Answer>,
) -> Response {
    let Some(sealed) = super::session::cookie(&headers, PENDING).map(str::to_string) else {
        return failed(crate::admin::AdminError::invalid("this sign-in has expired: start again"));
    };
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let answer = SsoAnswer { state: &a.state, code: &a.code, error: a.error.as_deref() };
    let uri = callback_url(&state, &headers);
    match state.portal.sso_finish(&sealed, answer, &uri, Some(peer.ip()), ua).await {
        Ok(token) => {
            let mut res = page::ok(&Done { chrome: Chrome::public("Signed in", "") });
            res.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION, Some(&token)));
            res.headers_mut().append(header::SET_COOKIE, pending_cookie(None));
            res
        }
        Err(e) => failed(e),
    }
}
