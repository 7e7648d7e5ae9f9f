//! The one place errors become responses: SCIM error bodies ([`error_response`]), a use
//! case's [`AppError`] through [`HttpError`] (an internal one as a bare 500, its detail
//! only for the request log), and the answers of the overload and rate limits. Also the
//! SCIM body every SCIM answer is written with.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scimd_core::ScimError;
use serde_json::Value;

use super::{SCIM_JSON, limits};
use crate::service::AppError;

pub(super) fn scim_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = status;
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    res
}

pub(super) fn scim_json(status: StatusCode, body: &Value) -> Response {
    scim_bytes(status, serde_json::to_vec(body).unwrap_or_default())
}

pub fn error_response(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = scim_json(status, &e.to_json());
    if !e.allow.is_empty()
        && let Ok(v) = HeaderValue::from_str(&e.allow.join(", "))
    {
        res.headers_mut().insert(header::ALLOW, v);
    }
    if let Some(t) = e.scim_type {
        res.extensions_mut().insert(ErrorType(t.as_str()));
    }
    res
}

/// The `scimType` (or OAuth `error`) of an error response, for its audit event.
#[derive(Debug, Clone, Copy)]
pub struct ErrorType(pub &'static str);

/// An [`AppError`] with the request id, for the response and the log.
pub struct HttpError(AppError);

impl From<AppError> for HttpError {
    fn from(e: AppError) -> Self {
        HttpError(e)
    }
}

impl From<ScimError> for HttpError {
    fn from(e: ScimError) -> Self {
        HttpError(AppError::Scim(e))
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self.0 {
            AppError::Scim(e) => error_response(&e),
            AppError::Internal(detail) => {
                // The request layer logs it with the request id, records it in the error
                // log and answers with the request id only.
                let backtrace = std::backtrace::Backtrace::capture();
                let backtrace =
                    (backtrace.status() == std::backtrace::BacktraceStatus::Captured).then(|| backtrace.to_string());
                let mut res = error_response(&ScimError::new(500, None, "internal server error"));
                res.extensions_mut().insert(InternalError { detail, backtrace });
                res
            }
        }
    }
}

/// An internal error's detail, carried by its response to the request layer.
#[derive(Clone)]
pub(crate) struct InternalError {
    pub(super) detail: String,
    pub(super) backtrace: Option<String>,
}

pub(super) type HResult<T> = Result<T, HttpError>;

/// 429 with `Retry-After` (whole seconds, at least one).
pub(super) fn too_many(over: &limits::OverLimit) -> Response {
    let secs = over.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    let mut res = error_response(&ScimError::new(
        429,
        None,
        format!("too many requests from {}: at most {} a second; retry after {secs} s", over.what, over.per_sec),
    ));
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}

/// Requests beyond the bound in flight, or that took too long: 503 (`Retry-After: 1`).
pub(super) async fn overloaded(e: tower::BoxError) -> Response {
    let detail = if e.is::<tower::timeout::error::Elapsed>() {
        "the request took too long and was stopped; it may or may not have taken effect"
    } else if e.is::<tower::load_shed::error::Overloaded>() {
        "the server is handling as many requests as it may; retry in a moment"
    } else {
        "the server could not take the request"
    };
    let mut res = error_response(&ScimError::new(503, None, detail));
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

pub(super) fn too_large(limit: usize) -> Response {
    error_response(&ScimError::new(413, None, format!("the request body is larger than the limit of {limit} bytes")))
}
