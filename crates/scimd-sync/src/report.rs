//! The run's report (what the customer sends before going live): the UTC
//! start and end of the run and its counts per action and per error, as JSON and as a
//! printed summary. Error keys are the target's `scimType`, else `status N`, as in
//! scimd's audit summary, so the two can be compared for the same window.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::answer::Answer;
use crate::plan::Action;

/// At most this many failures are listed one by one.
const MAX_FAILURES: usize = 1000;

/// One failed action.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub user: String,
    pub action: String,
    pub status: u16,
    pub detail: String,
}

impl Failure {
    pub(crate) fn of(action: &Action, a: &Answer) -> Failure {
        Failure {
            user: action.key().to_string(),
            action: action.kind().to_string(),
            status: a.status,
            detail: a.body.get("detail").and_then(Value::as_str).unwrap_or_default().to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Auth {
    pub logins: u64,
    pub refreshes: u64,
}

/// A run, as written to `--report` and printed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub started_at: String,
    pub finished_at: String,
    pub source: String,
    pub target: String,
    pub dry_run: bool,
    /// Stopped before the end (Ctrl-C, or a failure that stops everything); running again
    /// finishes the work.
    pub interrupted: bool,
    #[serde(rename = "match")]
    pub match_key: String,
    pub unknown: String,
    pub source_users: u64,
    pub target_users: u64,
    pub created: u64,
    /// Users changed by PATCH or PUT, deactivations included.
    pub updated: u64,
    /// Of those, the ones that turned inactive.
    pub deactivated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    /// Users the source does not have, left as they are (`--unknown report`).
    pub reported: u64,
    /// Actions the target does not allow (it answered 405): per kind, with those not
    /// sent after the first refusal.
    pub not_permitted: BTreeMap<String, u64>,
    /// Actions not attempted (the run was interrupted).
    pub not_done: u64,
    /// Failed requests, by `scimType` or `status N`.
    pub errors: BTreeMap<String, u64>,
    pub error_count: u64,
    pub failures: Vec<Failure>,
    /// Source rows that cannot be synced (no key, a key twice).
    pub problems: Vec<Value>,
    /// Users the source does not have (`--unknown report`): userNames.
    pub unknown_users: Vec<String>,
    /// In a dry run: what would be done, per kind.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub planned: BTreeMap<String, u64>,
    pub requests: u64,
    /// Requests sent again after a 429, a 5xx or a network error.
    pub retries: u64,
    pub auth: Auth,
}

impl Report {
    pub(crate) fn error(&mut self, key: String, f: Failure) {
        *self.errors.entry(key).or_default() += 1;
        self.error_count += 1;
        if self.failures.len() < MAX_FAILURES {
            self.failures.push(f);
        }
    }

    /// The printed summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let dry = if self.dry_run { " (dry run: nothing was changed)" } else { "" };
        s.push_str(&format!("scimd sync {} → {}{dry}\n", self.source, self.target));
        s.push_str(&format!("started  {}\nfinished {}\n", self.started_at, self.finished_at));
        if self.interrupted {
            s.push_str(&format!("INTERRUPTED: {} operations not done; run again to finish\n", self.not_done));
        }
        s.push_str(&format!("source users {}, target users {}\n", self.source_users, self.target_users));
        if self.dry_run {
            for (k, n) in &self.planned {
                s.push_str(&format!("would {k}: {n}\n"));
            }
        } else {
            s.push_str(&format!(
                "created {}, updated {} ({} deactivated), deleted {}, unchanged {}, reported {}\n",
                self.created, self.updated, self.deactivated, self.deleted, self.unchanged, self.reported
            ));
        }
        if !self.not_permitted.is_empty() {
            let list: Vec<String> = self.not_permitted.iter().map(|(k, n)| format!("{k} {n}")).collect();
            s.push_str(&format!("not permitted by the target: {}\n", list.join(", ")));
        }
        if self.error_count > 0 {
            let list: Vec<String> = self.errors.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            s.push_str(&format!("errors {} ({})\n", self.error_count, list.join(", ")));
        } else {
            s.push_str("errors 0\n");
        }
        if !self.problems.is_empty() {
            s.push_str(&format!("source rows skipped: {}\n", self.problems.len()));
        }
        s
    }
}
