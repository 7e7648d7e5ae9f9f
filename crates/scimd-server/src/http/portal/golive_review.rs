//! One test run submitted for the go-live check, reviewed: each figure the customer
//! claimed beside the one the audit trail computed for the run's window (a row that
//! differs is marked by a class and by the word, never by colour alone), why they may
//! differ, and the window's failed requests. An operator approves it (the tenant is
//! promoted unless it has its production tenant already) or rejects it with feedback;
//! the answer shows the decision, the production tenant and the notices' deliveries.
//! The tenant's system users see the review, not the forms.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::directory::Slot;
use super::onboarding::{Deliveries, sent_rows};
use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::{AdminError, Caller, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::onboard::Review;
use crate::operation::Operation::{Portal, PortalPage};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use Method as M;
    const T: &str = "/portal/t/{tenant}/golive/{id}";
    r.route(T, on(M::GET, PortalPage, show))
        .route(&format!("{T}/approve"), on(M::POST, Portal("portal-golive-approve"), approve))
        .route(&format!("{T}/reject"), on(M::POST, Portal("portal-golive-reject"), reject))
}

/// A decision just made, as the page shows it.
struct Decision {
    approved: bool,
    /// The production tenant (made now, or made before): its name and path.
    production: Option<(String, String)>,
    /// Whether the production tenant was made by this approval.
    promoted: bool,
}

#[derive(Template)]
#[template(path = "portal/audit/golive_review.html")]
struct ReviewPage {
    chrome: Chrome,
    review: Review,
    /// Whether the person may decide (operators, while the run is undecided).
    decides: bool,
    feedback: String,
    feedback_error: Option<String>,
    decision: Option<Decision>,
    deliveries: Deliveries,
}

/// A submission's id from the address: not a number is a submission that does not exist.
fn submission_id(tenant: &str, id: &str) -> Result<i64, AdminError> {
    id.parse().map_err(|_| AdminError::not_found(format!("tenant '{tenant}' has no go-live submission {id}")))
}

/// What a form's answer adds to the page.
#[derive(Default)]
struct Answer {
    feedback: String,
    feedback_error: Option<String>,
    decision: Option<Decision>,
    deliveries: Deliveries,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    tenant: &TenantView,
    id: i64,
    status: StatusCode,
    answer: Answer,
) -> Response {
    let review = match state.onboard.review(&tenant.name, id).await {
        Ok(r) => r,
        Err(e) => return viewer.error(e),
    };
    let title = format!("Test run {id} · {}", tenant.name);
    let chrome = viewer.chrome(title).in_tenant(&tenant.name, "golive");
    let decides = viewer.person().is_operator() && review.submission.state == "submitted";
    let p = ReviewPage {
        chrome,
        review,
        decides,
        feedback: answer.feedback,
        feedback_error: answer.feedback_error,
        decision: answer.decision,
        deliveries: answer.deliveries,
    };
    page::render(status, &p)
}

pub(super) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let id = match submission_id(&tenant.name, &id) {
        Ok(id) => id,
        Err(e) => return viewer.error(e),
    };
    render(&state, &viewer, &tenant, id, StatusCode::OK, Answer::default()).await
}

async fn decide(state: AppState, name: String, id: String, slot: Slot, submit: Submit, approve: bool) -> Response {
    let Submit { viewer, fields } = submit;
    if let Err(e) = viewer.person().operator_only() {
        return viewer.error(e);
    }
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let id = match submission_id(&tenant.name, &id) {
        Ok(id) => id,
        Err(e) => return viewer.error(e),
    };
    let feedback = fields.get("feedback").trim().to_string();
    let by = viewer.person().audit_name();
    let caller = Caller::Request(slot.as_ref().map(|Extension(s)| &**s));
    let decided = state.onboard.decide(&tenant.name, id, approve, Some(&feedback), &by, caller).await;
    match decided {
        Ok(d) => {
            let promoted = d.promoted.is_some();
            let production = match &d.promoted {
                Some(p) => {
                    // Its profile's paths (a product's own base path) are served at once here.
                    crate::http::admin::profile_changed(&state, &p.production.name).await;
                    Some(p.production.name.clone())
                }
                None if approve => state.admin.tenant_view(&tenant.name).await.ok().and_then(|t| t.counterpart),
                None => None,
            };
            let notice = if approve { "Approval notice" } else { "Rejection notice" };
            let mut items: Vec<_> = d.notices.into_iter().map(|n| (notice.to_string(), n)).collect();
            if let Some(p) = d.promoted {
                items.extend(super::onboarding::outcome_rows(p.credentials).0);
            }
            let production = production.map(|n| (n.clone(), seg(&n)));
            let decision = Decision { approved: approve, production, promoted };
            let answer = Answer { decision: Some(decision), deliveries: sent_rows(items), ..Answer::default() };
            render(&state, &viewer, &tenant, id, StatusCode::OK, answer).await
        }
        Err(e) if e.status == 400 => {
            // A rejection without feedback: said beside the field, the page kept.
            let answer = Answer { feedback, feedback_error: Some(e.message), ..Answer::default() };
            render(&state, &viewer, &tenant, id, StatusCode::BAD_REQUEST, answer).await
        }
        Err(e) => viewer.error(e),
    }
}

pub(super) async fn approve(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    slot: Slot,
    submit: Submit,
) -> Response {
    decide(state, name, id, slot, submit, true).await
}

pub(super) async fn reject(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    slot: Slot,
    submit: Submit,
) -> Response {
    decide(state, name, id, slot, submit, false).await
}
