//! One POST to a receiver, and what its answer means. The client is built once per
//! process (connections are kept alive between messages), follows no redirect (a receiver
//! that moved is fixed by its operator, and a redirect must not carry a signed message
//! or a credential elsewhere), and is bounded in time.
//!
//! How an answer is read:
//! - any 2xx: delivered (RFC 8935 receivers answer 202; webhook receivers any 2xx);
//! - 400 with an RFC 8935 §2.3 error body (`{"err": …, "description": …}`), or 410 Gone:
//!   rejected: the receiver says it will never accept this message, so sending it again
//!   cannot help;
//! - 408, 425, 429, 5xx, a redirect, a connection error or a timeout: try again, after the
//!   receiver's `Retry-After` when it gave one;
//! - any other 4xx (a 400 without an error body, 401, 403, 404, …): try again too. These
//!   mean the receiver or the stream is misconfigured; its operator fixes that, and the
//!   message is kept rather than lost meanwhile.
//!
//! The reasons are for operators (logs, the admin API): they name the status or the kind
//! of failure, never the URL (it may carry a credential), a header or the message.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Response, StatusCode, redirect};

use super::backoff::retry_after;
use crate::error::{AppError, AppResult};

/// How long establishing a connection (and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one whole exchange may take, connecting included, until the answer's body is
/// read: a receiver that is slower than this is treated as down.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest reason kept, in characters.
const REASON_MAX: usize = 200;
/// How much of an answer's body is read: enough for an error object; the rest is
/// dropped (and the connection with it).
const BODY_MAX: usize = 16 * 1024;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it.
    Delivered,
    /// Not taken this time; try again, after `after` if the receiver said so.
    Retry { reason: String, after: Option<Duration> },
    /// The receiver said it will never take this message.
    Rejected { reason: String },
}

/// Sends messages: one HTTP client for the process.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
}

impl Sender {
    /// A sender with [`CONNECT_TIMEOUT`] and [`REQUEST_TIMEOUT`].
    pub fn new() -> AppResult<Sender> {
        Sender::with_timeouts(CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// A sender with other time bounds (tests).
    pub fn with_timeouts(connect: Duration, request: Duration) -> AppResult<Sender> {
        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .connect_timeout(connect)
            .timeout(request)
            .user_agent(concat!("scimd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AppError::Internal(format!("building the delivery HTTP client: {e}")))?;
        Ok(Sender { client })
    }

    /// POSTs `body` to `url` with `content_type` and `headers`, and reads the answer.
    pub async fn post(&self, url: &str, content_type: &str, headers: &[(&str, String)], body: Vec<u8>) -> Outcome {
        let mut request =
            self.client.post(url).header(CONTENT_TYPE, content_type).header(ACCEPT, "application/json").body(body);
        for (name, value) in headers {
            let (Ok(name), Ok(mut value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
            else {
                return retry("a header of the message is not a valid HTTP header".into(), None);
            };
            value.set_sensitive(true);
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) => classify(response).await,
            Err(e) => retry(describe(e), None),
        }
    }
}

fn retry(reason: String, after: Option<Duration>) -> Outcome {
    Outcome::Retry { reason: truncate(&reason), after }
}

/// What an answer means (see the module's header).
async fn classify(response: Response) -> Outcome {
    let status = response.status();
    let after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v, SystemTime::now()));
    let body = read_body(response).await;
    if status.is_success() {
        return Outcome::Delivered;
    }
    match status {
        StatusCode::BAD_REQUEST => match set_error(&body) {
            Some(error) => Outcome::Rejected { reason: truncate(&format!("rejected by the receiver: {error}")) },
            None => retry(format!("the receiver answered {status} without an error object"), after),
        },
        StatusCode::GONE => Outcome::Rejected { reason: format!("the receiver answered {status}") },
        s if s.is_redirection() => {
            retry(format!("the receiver answered {s}, a redirect, which is not followed"), after)
        }
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_EARLY | StatusCode::TOO_MANY_REQUESTS => {
            retry(format!("the receiver answered {status}"), after)
        }
        s if s.is_server_error() => retry(format!("the receiver answered {s}"), after),
        s => retry(format!("the receiver answered {s}; kept until the receiver or the stream is fixed"), after),
    }
}

/// Up to [`BODY_MAX`] bytes of the answer's body. Reading a short body to its end lets
/// the connection be used again; a failure here changes nothing (the status is known).
async fn read_body(mut response: Response) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < BODY_MAX {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(BODY_MAX - body.len())]),
            _ => break,
        }
    }
    body
}

/// `err: description` of an RFC 8935 §2.3 error object, if the body is one.
fn set_error(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let err = v.get("err")?.as_str()?;
    Some(match v.get("description").and_then(|d| d.as_str()) {
        Some(d) if !d.is_empty() => format!("{err}: {d}"),
        _ => err.to_string(),
    })
}

/// What went wrong before an answer came, without the URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "could not connect to the receiver"
    } else if e.is_builder() {
        "the request could not be made (is the receiver's URL an http or https URL?)"
    } else {
        "the request failed"
    };
    // The innermost cause (an OS error, a TLS alert) says the most.
    let mut cause: Option<&dyn std::error::Error> = e.source();
    while let Some(next) = cause.and_then(|c| c.source()) {
        cause = Some(next);
    }
    match cause {
        Some(c) => format!("{what}: {c}"),
        None => what.to_string(),
    }
}

/// At most [`REASON_MAX`] characters, control characters made spaces (a receiver's text
/// goes into logs).
fn truncate(reason: &str) -> String {
    reason.chars().take(REASON_MAX).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests;
