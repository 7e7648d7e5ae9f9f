//! Talking to the target and carrying out a plan: every request authenticated (a 401
//! renews the token once), retried with backoff on 429, 5xx and network errors
//! (honouring `Retry-After`), the target's users read page by page, and the plan's
//! actions run by a bounded pool of workers that stops taking work when cancelled
//! (Ctrl-C) and lets the requests in flight finish.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::answer::{Answer, retry_delay};
use crate::auth::Auth;
use crate::error::SyncError;
use crate::plan::{Action, patch_request};
use crate::report::{Failure, Report};

const MAX_ATTEMPTS: u32 = 8;

/// The target SCIM server.
pub struct Target {
    pub base: String,
    pub http: reqwest::Client,
    pub auth: Auth,
    pub requests: AtomicU64,
    pub retries: AtomicU64,
}

impl Target {
    /// One request, retried as needed.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer, SyncError> {
        let url = format!("{}{path}", self.base);
        let mut backoff = Duration::from_millis(200);
        let mut renewed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.auth.token().await?;
            let mut rq =
                self.http.request(method.clone(), &url).bearer_auth(&token).header("accept", "application/scim+json");
            if let Some(b) = body {
                rq = rq.header("content-type", "application/scim+json").body(b.to_string());
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let wait = match rq.send().await {
                Ok(r) if r.status().as_u16() == 401 && !renewed => {
                    renewed = true;
                    self.auth.rejected(&token).await?;
                    continue;
                }
                Ok(r) if (r.status().as_u16() == 429 || r.status().is_server_error()) && attempt < MAX_ATTEMPTS => {
                    retry_delay(r.headers(), backoff)
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let bytes = r.bytes().await.unwrap_or_default();
                    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    return Ok(Answer { status, body });
                }
                Err(e) if attempt < MAX_ATTEMPTS => {
                    if attempt == 1 {
                        eprintln!("scimd sync: {method} {path}: {e}; retrying");
                    }
                    backoff
                }
                Err(e) => return Err(SyncError::Target(format!("{method} {url}: {e}"))),
            };
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    /// Every user of the target, page by page.
    pub async fn users(&self) -> Result<Vec<Value>, SyncError> {
        let mut out = Vec::new();
        let mut start = 1u64;
        loop {
            let a = self.send(Method::GET, &format!("/Users?startIndex={start}&count=1000"), None).await?;
            if a.status != 200 {
                return Err(SyncError::Target(format!(
                    "reading the target's users answered {}: {}",
                    a.status,
                    a.body.get("detail").and_then(Value::as_str).unwrap_or("")
                )));
            }
            let page = a.body.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default();
            let total = a.body.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
            let n = page.len() as u64;
            out.extend(page);
            start += n;
            if n == 0 || start > total {
                return Ok(out);
            }
        }
    }

    /// Whether the target says it supports PATCH (true when it does not say).
    pub async fn supports_patch(&self) -> bool {
        match self.send(Method::GET, "/ServiceProviderConfig", None).await {
            Ok(a) if a.status == 200 => a.body.pointer("/patch/supported").and_then(Value::as_bool).unwrap_or(true),
            _ => true,
        }
    }
}

/// The outcome of one action.
enum Outcome {
    Done,
    /// The target does not allow this kind of action (405, or 403 other than a scope).
    NotPermitted(Answer),
    Failed(Answer),
}

async fn execute(target: &Target, action: &Action, patch: bool) -> Result<Outcome, SyncError> {
    let (method, path, body, ok): (Method, String, Option<Value>, &[u16]) = match action {
        Action::Create { body, .. } => (Method::POST, "/Users".into(), Some(body.clone()), &[201, 200]),
        Action::Update { id, ops, put, .. } => {
            if patch {
                (Method::PATCH, format!("/Users/{id}"), Some(patch_request(ops)), &[200, 204])
            } else {
                (Method::PUT, format!("/Users/{id}"), Some(put.clone()), &[200])
            }
        }
        Action::Deactivate { id, put, .. } => {
            if patch {
                let ops = [serde_json::json!({"op": "replace", "path": "active", "value": false})];
                (Method::PATCH, format!("/Users/{id}"), Some(patch_request(&ops)), &[200, 204])
            } else {
                (Method::PUT, format!("/Users/{id}"), Some(put.clone()), &[200])
            }
        }
        Action::Delete { id, .. } => (Method::DELETE, format!("/Users/{id}"), None, &[204, 200]),
        Action::Report { .. } => return Ok(Outcome::Done),
    };
    let a = target.send(method, &path, body.as_ref()).await?;
    Ok(if ok.contains(&a.status) {
        Outcome::Done
    } else if a.status == 405 || (a.status == 403 && a.body.get("scimType").is_none() && !is_scope_error(&a)) {
        Outcome::NotPermitted(a)
    } else {
        Outcome::Failed(a)
    })
}

fn is_scope_error(a: &Answer) -> bool {
    a.body.get("detail").and_then(Value::as_str).is_some_and(|d| d.contains("scope"))
}

/// Progress, on a terminal as a bar, otherwise as a line every few seconds.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: AtomicU64,
    last_line: Mutex<Instant>,
    quiet: bool,
}

impl Progress {
    fn new(total: u64, terminal: bool, quiet: bool) -> Progress {
        let bar = (terminal && !quiet).then(|| {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} users, {per_sec}, eta {eta}")
            {
                b.set_style(style);
            }
            b
        });
        Progress { bar, total, done: AtomicU64::new(0), last_line: Mutex::new(Instant::now()), quiet }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar {
            b.set_position(done);
            return;
        }
        if self.quiet {
            return;
        }
        let mut last = self.last_line.lock().expect("progress");
        if last.elapsed() >= Duration::from_secs(5) || done == self.total {
            *last = Instant::now();
            eprintln!("scimd sync: {done}/{} operations done", self.total);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Carries out the actions with `concurrency` workers; counts into `report`.
pub async fn apply(
    target: Arc<Target>,
    actions: Vec<Action>,
    concurrency: usize,
    patch: bool,
    cancel: Arc<AtomicBool>,
    report: Arc<Mutex<Report>>,
    (terminal, quiet): (bool, bool),
) -> Result<(), SyncError> {
    let work: Vec<Action> = actions.into_iter().filter(|a| !matches!(a, Action::Report { .. })).collect();
    let progress = Arc::new(Progress::new(work.len() as u64, terminal, quiet));
    let queue = Arc::new(Mutex::new(VecDeque::from(work)));
    // Kinds of action the target refused with 405: the rest of that kind is not sent.
    let refused: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (target, queue, cancel, report, refused, progress) =
            (target.clone(), queue.clone(), cancel.clone(), report.clone(), refused.clone(), progress.clone());
        workers.spawn(async move {
            loop {
                if cancel.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let Some(action) = queue.lock().expect("queue").pop_front() else { return Ok(()) };
                let kind = action.kind();
                if refused.lock().expect("refused").contains(&kind) {
                    *report.lock().expect("report").not_permitted.entry(kind.to_string()).or_default() += 1;
                    progress.tick();
                    continue;
                }
                let outcome = execute(&target, &action, patch).await?;
                let mut r = report.lock().expect("report");
                match outcome {
                    Outcome::Done => match &action {
                        Action::Create { .. } => r.created += 1,
                        Action::Update { deactivates, .. } => {
                            r.updated += 1;
                            if *deactivates {
                                r.deactivated += 1;
                            }
                        }
                        Action::Deactivate { .. } => {
                            r.updated += 1;
                            r.deactivated += 1;
                        }
                        Action::Delete { .. } => r.deleted += 1,
                        Action::Report { .. } => {}
                    },
                    Outcome::NotPermitted(a) => {
                        refused.lock().expect("refused").push(kind);
                        *r.not_permitted.entry(kind.to_string()).or_default() += 1;
                        r.error(a.error_key(), Failure::of(&action, &a));
                    }
                    Outcome::Failed(a) => r.error(a.error_key(), Failure::of(&action, &a)),
                }
                drop(r);
                progress.tick();
            }
        });
    }
    let mut first_error = None;
    while let Some(r) = workers.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                // An unrecoverable failure (credentials, an unreachable target): stop all.
                cancel.store(true, Ordering::Relaxed);
                first_error.get_or_insert(e);
            }
            Err(e) => {
                cancel.store(true, Ordering::Relaxed);
                first_error.get_or_insert(SyncError::Target(format!("a worker failed: {e}")));
            }
        }
    }
    progress.finish();
    report.lock().expect("report").not_done = queue.lock().expect("queue").len() as u64;
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
