//! Scimd-sync: the customer side of provisioning. It logs in to a
//! SCIM 2.0 server (scimd or another), reads a source of users, and creates, updates and
//! deactivates or deletes users on the server until both agree, then reports what it did.
//! `scimd sync` is its command line.
//!
//! # Layout
//! - [`source`]: CSV and JSON Lines sources, field paths.
//! - [`plan`]: the plan — pure: creates, minimal PATCHes (or PUTs), unknown users.
//! - [`error`]: the run's error ([`SyncError`]); [`answer`]: the target's answers and when
//!   to ask again (beneath [`auth`] and [`apply`], which both send requests).
//! - [`auth`]: bearer token, client credentials, password grant with refresh.
//! - [`apply`]: requests with retries and backoff, the target's users, the worker pool.
//! - [`report`]: the run's report, JSON and printed.

pub mod answer;
pub mod apply;
pub mod auth;
pub mod error;
pub mod plan;
pub mod report;
pub mod source;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub use crate::error::SyncError;

use crate::apply::Target;
use crate::auth::{Auth, Credentials};
use crate::plan::{Action, MatchKey, Plan, Unknown};
use crate::report::Report;
use crate::source::{CsvSource, JsonlSource, Source};

/// What a run reads, where it writes, and how.
pub struct Options {
    pub source: PathBuf,
    /// A CSV mapping file (`{"columns": {…}}`); CSV only.
    pub mapping: Option<PathBuf>,
    /// The target's SCIM base URL, e.g. `https://host/scim/v2`.
    pub target: String,
    pub credentials: Credentials,
    pub match_key: MatchKey,
    pub unknown: Unknown,
    pub dry_run: bool,
    pub concurrency: usize,
    /// Set to stop (Ctrl-C): no new request is started, those in flight finish.
    pub cancel: Arc<AtomicBool>,
    /// Show progress as a bar (a terminal) or not at all.
    pub terminal: bool,
    pub quiet: bool,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// Now, to the millisecond: rounded down for a start, up for an end, so that the window
/// `[started_at, finished_at)` holds every request of the run at the precision servers
/// record (scimd's audit trail: milliseconds, `to` excluded).
fn now(round_up: bool) -> String {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let ms = now.timestamp_millis() + i64::from(round_up);
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or(now)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads the source: CSV unless the file ends in `.jsonl` / `.ndjson`.
fn read_source(o: &Options) -> Result<(Vec<source::SourceUser>, Vec<source::Field>), SyncError> {
    let ext = o.source.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext == "jsonl" || ext == "ndjson" {
        if o.mapping.is_some() {
            return Err(SyncError::Source("a mapping is for CSV sources; JSON Lines are SCIM-shaped already".into()));
        }
        JsonlSource { path: o.source.clone() }.read()
    } else {
        CsvSource::new(&o.source, o.mapping.as_deref())?.read()
    }
}

/// The lines `--dry-run` prints: each action with its diff.
pub fn describe(plan: &Plan) -> Vec<String> {
    let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), |v| v.to_string());
    let mut out = Vec::new();
    for a in &plan.actions {
        match a {
            Action::Create { key, body } => out.push(format!("create {key}: {body}")),
            Action::Update { key, changes, .. } => {
                out.push(format!("update {key}:"));
                for c in changes {
                    out.push(format!("    {}: {} → {}", c.path, show(&c.from), show(&c.to)));
                }
            }
            Action::Deactivate { key, .. } => out.push(format!("deactivate {key} (not in the source)")),
            Action::Delete { key, .. } => out.push(format!("delete {key} (not in the source)")),
            Action::Report { key, .. } => out.push(format!("report {key} (not in the source; left as it is)")),
        }
    }
    for (who, why) in &plan.problems {
        out.push(format!("skip {who}: {why}"));
    }
    out
}

/// One run: read, plan, apply (unless a dry run), report. The plan is returned too (for
/// `--dry-run`'s listing). A run that stops early still returns its report, marked
/// `interrupted`, unless it could not start.
pub async fn run(o: Options) -> Result<(Report, Plan), SyncError> {
    let started_at = now(false);
    let (users, managed) = read_source(&o)?;
    let http = reqwest::Client::builder()
        .timeout(o.timeout)
        .pool_max_idle_per_host(o.concurrency.max(1))
        .user_agent(concat!("scimd-sync/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SyncError::Target(e.to_string()))?;
    let base = o.target.trim_end_matches('/').to_string();
    let target = Arc::new(Target {
        base: base.clone(),
        auth: Auth::new(o.credentials.clone(), http.clone()),
        http,
        requests: Default::default(),
        retries: Default::default(),
    });
    let existing = target.users().await?;
    let patch = target.supports_patch().await;
    let plan = plan::plan(&users, &managed, &existing, o.match_key, o.unknown);
    let report = Arc::new(Mutex::new(Report {
        started_at,
        source: o.source.display().to_string(),
        target: base,
        dry_run: o.dry_run,
        match_key: match o.match_key {
            MatchKey::UserName => "userName".into(),
            MatchKey::ExternalId => "externalId".into(),
        },
        unknown: match o.unknown {
            Unknown::Delete => "delete".into(),
            Unknown::Deactivate => "deactivate".into(),
            Unknown::Report => "report".into(),
        },
        source_users: users.len() as u64,
        target_users: existing.len() as u64,
        unchanged: plan.unchanged,
        problems: plan.problems.iter().map(|(who, why)| json!({"user": who, "problem": why})).collect(),
        ..Report::default()
    }));
    {
        let mut r = report.lock().expect("report");
        for a in &plan.actions {
            if let Action::Report { key, .. } = a {
                r.reported += 1;
                r.unknown_users.push(key.clone());
            }
            if o.dry_run {
                *r.planned.entry(a.kind().to_string()).or_default() += 1;
            }
        }
    }
    let mut failure = None;
    if !o.dry_run {
        let applied = apply::apply(
            target.clone(),
            plan.actions.clone(),
            o.concurrency,
            patch,
            o.cancel.clone(),
            report.clone(),
            (o.terminal, o.quiet),
        )
        .await;
        if let Err(e) = applied {
            failure = Some(e);
        }
    }
    let mut r = report.lock().expect("report").clone();
    r.finished_at = now(true);
    r.interrupted = o.cancel.load(Ordering::Relaxed) || failure.is_some();
    r.requests = target.requests.load(Ordering::Relaxed);
    r.retries = target.retries.load(Ordering::Relaxed);
    r.auth = report::Auth {
        logins: target.auth.logins.load(Ordering::Relaxed),
        refreshes: target.auth.refreshes.load(Ordering::Relaxed),
    };
    if let Some(e) = failure {
        eprintln!("scimd sync: stopped: {e}");
    }
    Ok((r, plan))
}
