//! The go-live check as a workflow: the customer submits a test run (its UTC window and
//! what it says it did: straight from `scimd sync --report`, or typed in the portal);
//! the operator sees, beside each claimed figure, what the audit trail recorded in that
//! window, and the window's errors; and approves (the tenant is promoted, production
//! credentials are sent) or rejects with feedback (emailed). Each step is audited and
//! every submission is kept with its decision and the figures it was decided on.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use scimd_store::{Decision, NewSubmission, Submission, Tenant};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Delivery, Onboarding, Outgoing, Promoted, messages};
use crate::admin::{AdminError, AdminResult, Caller, Change, EventFilter, parse_time};

/// The longest test run accepted: a realistic run, not a month of traffic.
const MAX_WINDOW: TimeDelta = TimeDelta::days(7);
/// The failures kept from a report.
const MAX_FAILURES: usize = 100;

/// What the customer says its test run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The run's window, `[from, to)` (RFC 3339).
    pub from: String,
    pub to: String,
    pub created: u64,
    /// Users changed, deactivations included.
    pub updated: u64,
    pub deactivated: u64,
    pub deleted: u64,
    /// Requests that failed.
    pub errors: u64,
    /// From a report: failed requests by `scimType` or status, requests sent, retries,
    /// actions refused with 405 and the first failures.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_kinds: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_permitted: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Value>,
}

impl Claim {
    /// A claim from a request's body: a `scimd sync` report, or the window and figures
    /// typed (`from`, `to`, `created`, `updated`, `deactivated`, `deleted`, `errors`);
    /// with its source (`report` or `typed`).
    pub fn from_body(b: &[u8]) -> AdminResult<(Claim, &'static str)> {
        let v: Value = serde_json::from_slice(b).map_err(|e| {
            AdminError::invalid(format!("the body must be a `scimd sync` report or a claim (JSON): {e}"))
        })?;
        if v.get("started_at").is_some() {
            return Ok((Claim::from_report(&v)?, "report"));
        }
        let claim = serde_json::from_value(v).map_err(|e| {
            AdminError::invalid(format!(
                "a typed claim has from, to, created, updated, deactivated, deleted and errors: {e}"
            ))
        })?;
        Ok((claim, "typed"))
    }

    /// The claim a `scimd sync --report` file makes; a dry run or an interrupted run is
    /// not a test run.
    pub fn from_report(report: &Value) -> AdminResult<Claim> {
        let bad = |m: &str| AdminError::invalid(format!("the report {m}: give the file `scimd sync --report` wrote"));
        if report.get("dry_run").and_then(Value::as_bool) == Some(true) {
            return Err(AdminError::invalid("the report is of a dry run, which changed nothing: submit a real run"));
        }
        if report.get("interrupted").and_then(Value::as_bool) == Some(true) {
            return Err(AdminError::invalid("the run was interrupted: finish it (run again) and submit a whole run"));
        }
        let time = |k: &str| {
            report.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| bad(&format!("has no {k}")))
        };
        let n = |k: &str| report.get(k).and_then(Value::as_u64).ok_or_else(|| bad(&format!("has no count '{k}'")));
        let counts = |k: &str| -> BTreeMap<String, u64> {
            serde_json::from_value(report.get(k).cloned().unwrap_or(Value::Null)).unwrap_or_default()
        };
        let failures = match report.get("failures") {
            Some(Value::Array(f)) => f.iter().take(MAX_FAILURES).cloned().collect(),
            _ => Vec::new(),
        };
        Ok(Claim {
            from: time("started_at")?,
            to: time("finished_at")?,
            created: n("created")?,
            updated: n("updated")?,
            deactivated: n("deactivated")?,
            deleted: n("deleted")?,
            errors: n("error_count")?,
            error_kinds: counts("errors"),
            requests: report.get("requests").and_then(Value::as_u64),
            retries: report.get("retries").and_then(Value::as_u64),
            not_permitted: counts("not_permitted"),
            failures,
        })
    }
}

/// A submission as shown.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionView {
    pub id: i64,
    pub tenant: String,
    pub claim: Claim,
    /// `report` or `typed`.
    pub source: String,
    pub submitted_by: String,
    pub submitted: String,
    /// `submitted`, `approved` or `rejected`.
    pub state: String,
    pub decided_by: Option<String>,
    pub decided: Option<String>,
    pub feedback: Option<String>,
}

/// One figure, claimed and computed.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub what: &'static str,
    pub claimed: u64,
    pub computed: u64,
    pub differs: bool,
    /// Why the two may differ without anything being wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

/// A submission beside what the audit trail saw in its window.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub submission: SubmissionView,
    pub rows: Vec<CompareRow>,
    /// Whether every figure agrees.
    pub agrees: bool,
    /// The audit trail's summary of the window (frozen once decided).
    pub computed: Value,
    /// The window's failed requests (status 400 and above), newest first, at most 100.
    pub errors: Vec<scimd_store::EventRow>,
}

/// A decision just made.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub review: Review,
    /// The production tenant made by an approval (none if the tenant had one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promoted: Option<Promoted>,
    /// The decision's emails.
    pub notices: Vec<Delivery>,
}

fn view(s: Submission, tenant: &str) -> AdminResult<SubmissionView> {
    Ok(SubmissionView {
        id: s.id,
        tenant: tenant.to_string(),
        claim: serde_json::from_str(&s.claimed).map_err(AdminError::internal)?,
        source: s.source,
        submitted_by: s.submitted_by,
        submitted: s.submitted,
        state: s.state,
        decided_by: s.decided_by,
        decided: s.decided,
        feedback: s.feedback,
    })
}

/// The figures compared. The server's errors leave out the 405s a report counts apart
/// (as actions the tenant does not permit).
fn compare(claim: &Claim, computed: &Value) -> Vec<CompareRow> {
    let users = |k: &str| computed["users"][k].as_u64().unwrap_or(0);
    let refused = computed["errors"]["status 405"].as_u64().unwrap_or(0);
    let errors = computed["error_count"].as_u64().unwrap_or(0).saturating_sub(refused);
    let row =
        |what, claimed, computed, note| CompareRow { what, claimed, computed, differs: claimed != computed, note };
    vec![
        row("users created", claim.created, users("created"), None),
        row("users updated", claim.updated, users("updated"), Some("deactivations included")),
        row("users deactivated", claim.deactivated, users("deactivated"), None),
        row("users deleted", claim.deleted, users("deleted"), None),
        row(
            "failed requests",
            claim.errors,
            errors,
            Some("the server also counts failed logins and requests the client retried"),
        ),
    ]
}

impl Onboarding {
    /// Records a test run for the go-live check.
    pub async fn submit(
        &self,
        tenant: &str,
        claim: Claim,
        source: &str,
        by: &str,
        caller: Caller<'_>,
    ) -> AdminResult<SubmissionView> {
        let t = self.tenant(tenant).await?;
        let (from, to) = (parse_time(&claim.from, "the window's start")?, parse_time(&claim.to, "the window's end")?);
        check_window(from, to, self.now())?;
        let claim = Claim { from: millis(from), to: millis(to), ..claim };
        let new = NewSubmission {
            window_from: claim.from.clone(),
            window_to: claim.to.clone(),
            claimed: serde_json::to_string(&claim).map_err(AdminError::internal)?,
            source: source.to_string(),
            submitted_by: by.to_string(),
        };
        let s = self.store.create_submission(t.id, new, self.now()).await.map_err(AdminError::internal)?;
        let id = s.id.to_string();
        let change = Change {
            op: "golive_submit",
            rtype: "GoLiveSubmission",
            id: &id,
            status: 201,
            command: "scimd golive submit",
        };
        self.admin.audit_change(&t, caller, change).await;
        view(s, &t.name)
    }

    /// A tenant's submissions, newest first.
    pub async fn submissions(&self, tenant: &str) -> AdminResult<Vec<SubmissionView>> {
        let t = self.tenant(tenant).await?;
        let all = self.store.submissions(t.id).await.map_err(AdminError::internal)?;
        all.into_iter().map(|s| view(s, &t.name)).collect()
    }

    /// A submission beside the audit trail's figures for its window.
    pub async fn review(&self, tenant: &str, id: i64) -> AdminResult<Review> {
        let t = self.tenant(tenant).await?;
        let s = self.submission(&t, id).await?;
        let computed = match &s.computed {
            Some(frozen) => serde_json::from_str(frozen).map_err(AdminError::internal)?,
            None => self.admin.audit_summary(&t.name, &s.window_from, &s.window_to).await?,
        };
        let errors = self.failed_requests(&t, &s).await?;
        let submission = view(s, &t.name)?;
        let rows = compare(&submission.claim, &computed);
        let agrees = rows.iter().all(|r| !r.differs);
        Ok(Review { submission, rows, agrees, computed, errors })
    }

    /// The window's events with a status of 400 or more, newest first.
    async fn failed_requests(&self, t: &Tenant, s: &Submission) -> AdminResult<Vec<scimd_store::EventRow>> {
        let mut out = Vec::new();
        for class in [4, 5] {
            let f = EventFilter {
                from: Some(s.window_from.clone()),
                to: Some(s.window_to.clone()),
                status_class: Some(class),
                limit: Some(MAX_FAILURES as u32),
                ..Default::default()
            };
            out.extend(self.admin.audit_events(Some(&t.name), f).await?);
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.id));
        out.truncate(MAX_FAILURES);
        Ok(out)
    }

    async fn submission(&self, t: &Tenant, id: i64) -> AdminResult<Submission> {
        self.store
            .submission(t.id, id)
            .await
            .map_err(AdminError::internal)?
            .ok_or_else(|| AdminError::not_found(format!("tenant '{}' has no go-live submission {id}", t.name)))
    }

    /// Approves (promoting the tenant unless it has its production counterpart already)
    /// or, with feedback, rejects a submission, and tells the customer.
    pub async fn decide(
        &self,
        tenant: &str,
        id: i64,
        approve: bool,
        feedback: Option<&str>,
        by: &str,
        caller: Caller<'_>,
    ) -> AdminResult<Decided> {
        let t = self.tenant(tenant).await?;
        let feedback = feedback.map(str::trim).filter(|f| !f.is_empty()).map(str::to_string);
        if !approve && feedback.is_none() {
            return Err(AdminError::invalid("a rejection says what to correct: give feedback"));
        }
        let mut review = self.review(tenant, id).await?;
        if review.submission.state != "submitted" {
            return Err(AdminError::conflict(format!("submission {id} was {} already", review.submission.state)));
        }
        let promoted = match (approve, t.counterpart) {
            (true, None) => Some(self.promote(&t.name, None, caller).await?),
            _ => None,
        };
        let production = match (&promoted, approve) {
            (Some(p), _) => Some(scimd_store::TenantId(p.production.id)),
            (None, true) => t.counterpart,
            (None, false) => None,
        };
        let decision = Decision {
            approved: approve,
            computed: review.computed.to_string(),
            decided_by: by.to_string(),
            feedback: feedback.clone(),
            production,
        };
        if !self.store.decide_submission(t.id, id, decision, self.now()).await.map_err(AdminError::internal)? {
            return Err(AdminError::conflict(format!("submission {id} was decided by someone else meanwhile")));
        }
        let (op, status) = if approve { ("golive_approve", 200) } else { ("golive_reject", 200) };
        let sid = id.to_string();
        let command = if approve { "scimd golive approve" } else { "scimd golive reject" };
        self.admin.audit_change(&t, caller, Change { op, rtype: "GoLiveSubmission", id: &sid, status, command }).await;
        let notices = self.notify_decision(&t, &review.submission, approve, feedback.as_deref(), production).await?;
        review.submission = view(self.submission(&t, id).await?, &t.name)?;
        Ok(Decided { review, promoted, notices })
    }

    /// Emails the decision to the tenant's API contact and its system users.
    async fn notify_decision(
        &self,
        t: &Tenant,
        s: &SubmissionView,
        approved: bool,
        feedback: Option<&str>,
        production: Option<scimd_store::TenantId>,
    ) -> AdminResult<Vec<Delivery>> {
        let mut to: Vec<String> = t.contacts.email.iter().cloned().collect();
        for u in self.store.system_users(t.id).await.map_err(AdminError::internal)? {
            if !u.disabled && !to.contains(&u.email) {
                to.push(u.email);
            }
        }
        let h = &self.settings.letterhead;
        let text = if approved {
            let name = match production {
                Some(p) => self.store.tenant_by_id(p).await.map_err(AdminError::internal)?.map(|p| p.name),
                None => None,
            };
            messages::golive_approved(h, &t.name, name.as_deref().unwrap_or("-"))
        } else {
            let window = format!("{} to {} UTC", s.claim.from, s.claim.to);
            messages::golive_rejected(h, &t.name, &window, feedback.unwrap_or_default())
        };
        let kind = if approved { "golive-approved" } else { "golive-rejected" };
        let mut out = Vec::new();
        for email in to {
            let m = Outgoing {
                tenant: t.id,
                kind,
                subject: text.subject.clone(),
                text: text.body.clone(),
                logged: text.body.clone(),
                value: None,
            };
            out.push(self.outbox.email(&email, m).await);
        }
        Ok(out)
    }
}

fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A test run's window: ordered, over, at most [`MAX_WINDOW`] long.
fn check_window(from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> AdminResult<()> {
    if from >= to {
        return Err(AdminError::invalid("the window's start must be before its end"));
    }
    if to > now + TimeDelta::minutes(5) {
        return Err(AdminError::invalid("the window ends in the future: submit a run that has finished"));
    }
    if to - from > MAX_WINDOW {
        return Err(AdminError::invalid("the window is longer than 7 days: submit one realistic test run"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_report_becomes_a_claim() {
        let report = json!({"started_at": "2026-12-05T10:00:00.000Z", "finished_at": "2026-12-05T10:05:00.000Z",
            "dry_run": false, "interrupted": false, "created": 3, "updated": 2, "deactivated": 1, "deleted": 0,
            "error_count": 1, "errors": {"uniqueness": 1}, "requests": 9, "retries": 0, "not_permitted": {},
            "failures": [{"user": "x", "action": "create", "status": 409, "detail": "taken"}]});
        let c = Claim::from_report(&report).unwrap();
        assert_eq!((c.created, c.updated, c.deactivated, c.deleted, c.errors), (3, 2, 1, 0, 1));
        assert_eq!(c.failures.len(), 1);
        let dry = json!({"dry_run": true});
        assert!(Claim::from_report(&dry).unwrap_err().message.contains("dry run"));
        assert!(Claim::from_report(&json!({"created": 1})).is_err());
    }

    #[test]
    fn figures_compared_and_windows_checked() {
        let claim = Claim::from_report(&json!({"started_at": "a", "finished_at": "b", "created": 3, "updated": 1,
            "deactivated": 0, "deleted": 0, "error_count": 0}))
        .unwrap();
        let computed = json!({"users": {"created": 3, "updated": 2, "deactivated": 0, "deleted": 0},
            "error_count": 2, "errors": {"status 405": 2}});
        let rows = compare(&claim, &computed);
        let differing: Vec<_> = rows.iter().filter(|r| r.differs).map(|r| r.what).collect();
        assert_eq!(differing, ["users updated"]);
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let now = t("2026-12-05T12:00:00Z");
        assert!(check_window(t("2026-12-05T10:00:00Z"), t("2026-12-05T11:00:00Z"), now).is_ok());
        assert!(check_window(t("2026-12-05T11:00:00Z"), t("2026-12-05T10:00:00Z"), now).is_err());
        assert!(check_window(t("2026-12-05T10:00:00Z"), t("2026-12-05T13:00:00Z"), now).is_err());
        assert!(check_window(t("2026-11-01T10:00:00Z"), t("2026-12-05T10:00:00Z"), now).is_err());
    }
}
