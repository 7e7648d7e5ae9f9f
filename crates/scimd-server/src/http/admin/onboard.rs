//! The admin API of onboarding: `onboard` (credentials made and sent), `promote`, the
//! message log, an API user's set-password link re-sent or revoked, and the go-live
//! submissions — listed, submitted on a customer's behalf, reviewed, approved, rejected.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};

use super::{APath, AResult, Operator, body, ok};
use crate::admin::Caller;
use crate::audit::AuditSlot;
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::onboard::{Claim, OnboardRequest};
use crate::operation::{AdminTarget, Operation};

type Slot = Option<Extension<Arc<AuditSlot>>>;

fn caller(slot: &Slot) -> Caller<'_> {
    Caller::Request(slot.as_ref().map(|Extension(s)| &**s))
}

/// Who acts through the admin API, as the trail and the messages name them.
const BY: &str = "operator:admin-api";

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Onboard {
    api_user_email: Option<String>,
    secret_mobile: Option<String>,
    #[serde(default)]
    system_user_emails: Vec<String>,
}

async fn onboard(_: Operator, State(s): State<AppState>, slot: Slot, APath(name): APath<String>, b: Bytes) -> AResult {
    let o: Onboard = body(&b)?;
    let req = OnboardRequest {
        tenant: name,
        api_user_email: o.api_user_email,
        secret_mobile: o.secret_mobile,
        system_user_emails: o.system_user_emails,
        by: BY.into(),
    };
    ok(StatusCode::OK, &s.onboard.onboard(req, caller(&slot)).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Promote {
    /// The production tenant's name (default: from the integration tenant's).
    name: Option<String>,
}

async fn promote(_: Operator, State(s): State<AppState>, slot: Slot, APath(name): APath<String>, b: Bytes) -> AResult {
    let p: Promote = if b.is_empty() { Promote::default() } else { body(&b)? };
    let promoted = s.onboard.promote(&name, p.name.as_deref(), caller(&slot)).await?;
    super::profile_changed(&s, &promoted.production.name).await;
    ok(StatusCode::CREATED, &promoted)
}

async fn messages(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.onboard.messages(&name, 200).await?)
}

async fn resend_link(_: Operator, State(s): State<AppState>, APath((name, user)): APath<(String, String)>) -> AResult {
    ok(StatusCode::OK, &s.onboard.resend_api_user_link(&name, &user).await?)
}

async fn revoke_link(_: Operator, State(s): State<AppState>, APath((name, user)): APath<(String, String)>) -> AResult {
    s.onboard.revoke_api_user_link(&name, &user).await?;
    ok(StatusCode::OK, &serde_json::json!({"revoked": user}))
}

async fn submissions(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.onboard.submissions(&name).await?)
}

async fn submit(_: Operator, State(s): State<AppState>, slot: Slot, APath(name): APath<String>, b: Bytes) -> AResult {
    let (claim, source) = Claim::from_body(&b)?;
    ok(StatusCode::CREATED, &s.onboard.submit(&name, claim, source, BY, caller(&slot)).await?)
}

async fn review(_: Operator, State(s): State<AppState>, APath((name, id)): APath<(String, i64)>) -> AResult {
    ok(StatusCode::OK, &s.onboard.review(&name, id).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Verdict {
    feedback: Option<String>,
}

async fn decide(s: &AppState, slot: &Slot, name: &str, id: i64, approve: bool, b: &Bytes) -> AResult {
    let v: Verdict = if b.is_empty() { Verdict::default() } else { body(b)? };
    let decided = s.onboard.decide(name, id, approve, v.feedback.as_deref(), BY, caller(slot)).await?;
    if let Some(p) = &decided.promoted {
        super::profile_changed(s, &p.production.name).await;
    }
    ok(StatusCode::OK, &decided)
}

async fn approve(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, id)): APath<(String, i64)>,
    b: Bytes,
) -> AResult {
    decide(&s, &slot, &name, id, true, &b).await
}

async fn reject(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, id)): APath<(String, i64)>,
    b: Bytes,
) -> AResult {
    decide(&s, &slot, &name, id, false, &b).await
}

pub(in crate::http) fn routes(r: Routes<'_>) -> Routes<'_> {
    use AdminTarget::{Nothing, Onboarding, Submission, Submissions};
    use Method as M;
    let op = Operation::Admin;
    r.route("/tenants/{name}/onboard", on(M::POST, op("onboard", Onboarding), onboard))
        .route("/tenants/{name}/promote", on(M::POST, op("promote", Onboarding), promote))
        .route("/tenants/{name}/messages", on(M::GET, op("query", Onboarding), messages))
        .route(
            "/tenants/{name}/api-users/{username}/link",
            on(M::POST, op("link_resend", Nothing), resend_link).on(M::DELETE, op("link_revoke", Nothing), revoke_link),
        )
        .route(
            "/tenants/{name}/golive",
            on(M::GET, op("query", Submissions), submissions).on(M::POST, op("golive_submit", Submissions), submit),
        )
        .route("/tenants/{name}/golive/{id}", on(M::GET, op("query", Submission), review))
        .route("/tenants/{name}/golive/{id}/approve", on(M::POST, op("golive_approve", Submission), approve))
        .route("/tenants/{name}/golive/{id}/reject", on(M::POST, op("golive_reject", Submission), reject))
}
