//! Signing in and out: the password form, the second step (an operator's code, or its
//! enrolment at the first sign-in), signing out, and the invitation link where a system
//! user sets a password. Each step that succeeds sets a new session cookie.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::page::{self, Chrome, Flash};
use super::session::{self, PreForm, SESSION, Submit, cookie, set_cookie};
use crate::admin::AdminError;
use crate::http::AppState;
use crate::portal::{Enrolment, PasswordStep, SecondFactor};

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    chrome: Chrome,
    login: String,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/second_factor.html")]
struct SecondFactorPage {
    chrome: Chrome,
    enrol: Option<Enrolment>,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/invite.html")]
struct InvitePage {
    chrome: Chrome,
    email: String,
    token: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Next {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    welcome: Option<String>,
}

/// Where to go after signing in: a portal page only (never another site).
fn next_page(next: &str) -> &str {
    let safe = next.starts_with("/portal/") && !next.starts_with("//") && !next.contains('\\');
    if safe { next } else { "/portal/" }
}

pub(super) fn with_pre(mut res: Response, set: Option<axum::http::HeaderValue>) -> Response {
    if let Some(c) = set {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn login_page(headers: &HeaderMap, status: StatusCode, login: &str, next: &str, error: Option<String>) -> Response {
    let (pre, set) = session::pre_token(headers);
    let chrome = Chrome::public("Sign in", &pre);
    with_pre(page::render(status, &LoginPage { chrome, login: login.into(), next: next.into(), error }), set)
}

pub(super) async fn login_form(headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let (pre, set) = session::pre_token(&headers);
    let flash = q.welcome.is_some().then(|| Flash::ok("Your password is set: sign in with it.")).flatten();
    let chrome = Chrome::public("Sign in", &pre).with_flash(flash);
    let next = q.next.unwrap_or_default();
    with_pre(page::ok(&LoginPage { chrome, login: String::new(), next, error: None }), set)
}

fn with_session(to: &str, token: &str) -> Response {
    let mut res = page::see_other(to);
    res.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION, Some(token)));
    res
}

pub(super) async fn login(State(state): State<AppState>, form: PreForm) -> Response {
    let PreForm { fields, parts } = form;
    let (login, next) = (fields.get("login"), next_page(fields.get("next")));
    let ua = session::user_agent(&parts);
    session::audit_sign_in(&parts, login);
    match state.portal.sign_in(login, fields.get("password"), session::peer(&parts), ua.as_deref()).await {
        Ok(PasswordStep::SecondFactor { token }) => {
            with_session(&format!("/portal/login/code?next={}", page::seg(next)), &token)
        }
        Ok(PasswordStep::SignedIn { token }) => with_session(next, &token),
        Err(e) if e.status < 500 => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED);
            let wait = retry_after(&e);
            let mut res = login_page(&parts.headers, status, login, next, Some(e.message));
            if let Some(secs) = wait {
                res.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            res
        }
        Err(e) => page::error(e, None),
    }
}

/// The wait a lockout names ("try again in N seconds").
fn retry_after(e: &AdminError) -> Option<u64> {
    (e.status == 429).then(|| e.message.split_whitespace().find_map(|w| w.parse().ok())).flatten()
}

fn session_token(parts_headers: &HeaderMap) -> Option<String> {
    cookie(parts_headers, SESSION).map(str::to_string)
}

pub(super) async fn code_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Next>) -> Response {
    let next = q.next.unwrap_or_default();
    second_factor_page(&state, &headers, StatusCode::OK, &next, None).await
}

async fn second_factor_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    error: Option<String>,
) -> Response {
    let Some(token) = session_token(headers) else {
        return page::see_other("/portal/login");
    };
    match state.portal.pending(&token).await {
        Ok(Some((step, csrf))) => {
            let enrol = match step {
                SecondFactor::Enrol(e) => Some(e),
                SecondFactor::Code => None,
            };
            let chrome = Chrome::public("Second step", &csrf);
            page::render(status, &SecondFactorPage { chrome, enrol, next: next.into(), error })
        }
        Ok(None) => page::see_other("/portal/login"),
        Err(e) => page::error(e, None),
    }
}

pub(super) async fn code(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    // The session is not signed in yet: its token is checked against the pending one's.
    let (parts, body) = req.into_parts();
    let Some(token) = session_token(&parts.headers) else {
        return page::see_other("/portal/login");
    };
    let csrf = match state.portal.pending(&token).await {
        Ok(Some((_, csrf))) => csrf,
        Ok(None) => return page::see_other("/portal/login"),
        Err(e) => return page::error(e, None),
    };
    let fields = match session::checked_form(&state, parts.clone(), body, &csrf).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let next = next_page(fields.get("next"));
    let ua = session::user_agent(&parts);
    match state.portal.second_factor(&token, fields.get("code"), session::peer(&parts), ua.as_deref()).await {
        Ok(new) => with_session(next, &new),
        Err(e) if e.status < 500 => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED);
            second_factor_page(&state, &parts.headers, status, next, Some(e.message)).await
        }
        Err(e) => page::error(e, None),
    }
}

pub(super) async fn sign_out(State(state): State<AppState>, submit: Submit) -> Response {
    if let Err(e) = state.portal.sign_out(&submit.viewer.token).await {
        return page::error(e, None);
    }
    let mut res = page::see_other("/portal/login");
    res.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION, None));
    res
}

#[derive(Deserialize)]
pub(super) struct Token {
    #[serde(default)]
    pub(super) token: String,
}

fn invite_gone() -> Response {
    page::message(
        StatusCode::NOT_FOUND,
        "This invitation cannot be used",
        "The link was used already or has expired. Ask whoever invited you for a new one.",
    )
}

pub(super) async fn invite_form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Token>) -> Response {
    match state.portal.invitation(&q.token).await {
        Ok(Some((email, _tenant))) => {
            let (pre, set) = session::pre_token(&headers);
            let chrome = Chrome::public("Set your password", &pre);
            with_pre(page::ok(&InvitePage { chrome, email, token: q.token, error: None }), set)
        }
        Ok(None) => invite_gone(),
        Err(e) => page::error(e, None),
    }
}

pub(super) async fn invite(State(state): State<AppState>, form: PreForm) -> Response {
    let PreForm { fields, parts } = form;
    let token = fields.get("token");
    let (password, confirm) = (fields.get("password"), fields.get("confirm"));
    let result = if password != confirm {
        Err(AdminError::invalid("the two passwords differ"))
    } else {
        state.portal.accept_invitation(token, password).await
    };
    match result {
        Ok(_) => page::see_other("/portal/login?welcome=1"),
        Err(e) if e.status == 400 => match state.portal.invitation(token).await {
            Ok(Some((email, _))) => {
                let (pre, set) = session::pre_token(&parts.headers);
                let chrome = Chrome::public("Set your password", &pre);
                let p = InvitePage { chrome, email, token: token.into(), error: Some(e.message) };
                with_pre(page::render(StatusCode::BAD_REQUEST, &p), set)
            }
            _ => invite_gone(),
        },
        Err(e) if e.status == 404 => invite_gone(),
        Err(e) => page::error(e, None),
    }
}

/// `/portal/`: an operator's tenants, or a system user's own tenant.
pub(super) async fn home(viewer: super::session::Viewer) -> Response {
    match viewer.person().own_tenant() {
        Some(t) => page::see_other(&format!("/portal/t/{}", page::seg(&t.name))),
        None => page::see_other("/portal/tenants"),
    }
}

pub(super) async fn root() -> Response {
    page::see_other("/portal/")
}
