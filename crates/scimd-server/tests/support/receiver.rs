//! A receiver of events (or text messages, as an SMS gateway) for tests: an HTTP server on
//! a loopback port that records every request it accepts (method, path, headers and body)
//! and answers 202, or what the test scripted next (a redirect too); optionally after a
//! delay, as a slow receiver does. It counts every request, accepted or not.
#![allow(dead_code)] // not every test binary uses every helper

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request received.
#[derive(Debug, Clone)]
pub struct Got {
    pub method: Method,
    /// The path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A scripted answer: status, `Retry-After`, JSON body.
pub type Answer = (u16, Option<&'static str>, Option<serde_json::Value>);

#[derive(Default)]
struct Inner {
    got: Vec<Got>,
    script: VecDeque<Answer>,
    /// Answer this to everything (after the script) while set.
    down: Option<u16>,
    /// How long each request waits before it is answered (and recorded).
    delay: Duration,
    /// Requests answered, whatever the answer.
    requests: usize,
    /// A redirect (status, `Location`) to answer the next request with, before the script.
    redirect: Option<(u16, String)>,
}

pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let state = inner.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let delay = state.lock().unwrap().delay;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                let mut s = state.lock().unwrap();
                s.requests += 1;
                if let Some((status, location)) = s.redirect.take() {
                    return (StatusCode::from_u16(status).unwrap(), [("location", location)]).into_response();
                }
                let answer = s.script.pop_front().or(s.down.map(|d| (d, None, None)));
                let (status, retry_after, json) = answer.unwrap_or((202, None, None));
                if (200..300).contains(&status) {
                    let path = uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.to_string());
                    s.got.push(Got { method, path, headers, body });
                }
                let mut res: Response = match json {
                    Some(j) => (StatusCode::from_u16(status).unwrap(), axum::Json(j)).into_response(),
                    None => StatusCode::from_u16(status).unwrap().into_response(),
                };
                if let Some(r) = retry_after {
                    res.headers_mut().insert("retry-after", r.parse().unwrap());
                }
                res
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Receiver { url, inner, _stop: tx }
    }

    /// The next answers, in order, before the default (202).
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.inner.lock().unwrap().script.extend(answers);
    }

    /// Answers `status` to everything while `Some` (a receiver that is down).
    pub fn set_down(&self, status: Option<u16>) {
        self.inner.lock().unwrap().down = status;
    }

    /// Makes every request wait `delay` before it is answered (a request is recorded when
    /// it is answered).
    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    /// Answers the next request with a redirect to `location`.
    pub fn redirect_next(&self, status: u16, location: &str) {
        self.inner.lock().unwrap().redirect = Some((status, location.to_string()));
    }

    /// How many requests were answered so far, accepted or not.
    pub fn requests(&self) -> usize {
        self.inner.lock().unwrap().requests
    }

    /// What was accepted so far.
    pub fn got(&self) -> Vec<Got> {
        self.inner.lock().unwrap().got.clone()
    }

    /// Waits (at most `within`) until `n` requests were accepted; what was.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Got> {
        let end = Instant::now() + within;
        loop {
            let got = self.got();
            if got.len() >= n || Instant::now() > end {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
