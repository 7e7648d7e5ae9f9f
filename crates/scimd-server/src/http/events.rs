//! HTTP of event streams: the poll endpoint (RFC 8936), where a poll stream's receiver
//! presents the stream's credential as a bearer token, acknowledges SETs and receives the
//! next ones. Errors are RFC 8935-style JSON (`err`, `description`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::oauth::json_response;
use crate::events::PollRequest;

fn failed(status: StatusCode, err: &str, description: &str) -> Response {
    let mut res = json_response(status, &json!({"err": err, "description": description}));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

/// `POST /events/v1/poll`.
pub async fn poll(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(crate::auth::bearer);
    let Some(token) = token else {
        return failed(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "send the poll stream's credential as a bearer token (Authorization: Bearer …)",
        );
    };
    let req: PollRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PollRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                let why = format!(
                    "the body must be a poll request (RFC 8936 §2.4: ack, setErrs, maxEvents, returnImmediately): {e}"
                );
                return failed(StatusCode::BAD_REQUEST, "invalid_request", &why);
            }
        }
    };
    match state.events.poll(token, req).await {
        Ok(Some(r)) => json_response(StatusCode::OK, &serde_json::to_value(r).unwrap_or_default()),
        Ok(None) => failed(StatusCode::UNAUTHORIZED, "authentication_failed", "no poll stream has this credential"),
        Err(e) => super::HttpError::from(e).into_response(),
    }
}
