//! `/portal/set-password`: where an API system user's one-time link leads. The page shows
//! the username and the password rule, nothing else of the tenant; the password is set
//! once, and the link stops working.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::page::{self, Chrome};
use super::session::{self, PreForm};
use super::signin::{Token, with_pre};
use crate::admin::AdminError;
use crate::http::AppState;

#[derive(Template)]
#[template(path = "portal/set-password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    username: String,
    token: String,
    error: Option<String>,
}

fn gone() -> Response {
    page::message(
        StatusCode::NOT_FOUND,
        "This link cannot be used",
        "The link was used already, revoked, or has expired. Ask your contact for a new one.",
    )
}

fn form(headers: &HeaderMap, status: StatusCode, username: String, token: String, error: Option<String>) -> Response {
    let (pre, set) = session::pre_token(headers);
    let chrome = Chrome::public("Set the API user's password", &pre);
    with_pre(page::render(status, &SetPasswordPage { chrome, username, token, error }), set)
}

pub(super) async fn show(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Token>) -> Response {
    match state.onboard.api_user_link(&q.token).await {
        Ok(Some(username)) => form(&headers, StatusCode::OK, username, q.token, None),
        Ok(None) => gone(),
        Err(e) => page::error(e, None),
    }
}

pub(super) async fn set(State(state): State<AppState>, form_: PreForm) -> Response {
    let PreForm { fields, parts } = form_;
    let token = fields.get("token");
    let (password, confirm) = (fields.get("password"), fields.get("confirm"));
    let result = if password != confirm {
        Err(AdminError::invalid("the two passwords differ"))
    } else {
        state.onboard.set_api_user_password(token, password).await
    };
    match result {
        Ok(username) => page::message(
            StatusCode::OK,
            "Password set",
            &format!("{username} can now sign in to the SCIM API with this password. This link no longer works."),
        ),
        Err(e) if e.status == 400 => match state.onboard.api_user_link(token).await {
            Ok(Some(username)) => {
                form(&parts.headers, StatusCode::BAD_REQUEST, username, token.into(), Some(e.message))
            }
            _ => gone(),
        },
        Err(e) if e.status == 404 => gone(),
        Err(e) => page::error(e, None),
    }
}
