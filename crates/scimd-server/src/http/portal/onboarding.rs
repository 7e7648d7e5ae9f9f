//! A tenant's onboarding page (operators only): its stage and counterpart; the form that
//! makes and sends its credentials (`Onboarding::onboard`: the API system user's
//! set-password link, the OAuth client's id and secret, the system users' signup links);
//! the promotion of an integration tenant to production; the API users' pending links,
//! re-sent or revoked; and the message log (texts with their secrets replaced).
//!
//! What was not sent (no relay or gateway, or a failure) is shown once, on the page that
//! answers the form, for the operator to pass on: it is never stored nor put in an address.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::directory::Slot;
use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::{AdminError, ApiUserView, Caller, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::onboard::{Delivery, OnboardOutcome, OnboardRequest};
use crate::operation::Operation::{Portal, PortalPage};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use Method as M;
    const T: &str = "/portal/t/{tenant}/onboarding";
    r.route(T, on(M::GET, PortalPage, show).on(M::POST, Portal("portal-onboard"), onboard))
        .route(&format!("{T}/promote"), on(M::POST, Portal("portal-promote"), promote))
        .route(&format!("{T}/api-users/{{username}}/resend"), on(M::POST, Portal("portal-link-resend"), resend))
        .route(&format!("{T}/api-users/{{username}}/revoke"), on(M::POST, Portal("portal-link-revoke"), revoke))
}

/// How many messages the log shows (the newest).
const MESSAGES: i64 = 100;

/// One message's delivery as a row of a result: what it carried, and, when it was not
/// sent, the value to pass on (shown this once).
pub(super) struct Sent {
    pub what: String,
    pub channel: &'static str,
    pub to: String,
    pub outcome: &'static str,
    pub reason: Option<String>,
    pub value: Option<String>,
    /// The element id of the value (for its copy button).
    pub id: String,
}

/// The deliveries a page shows (`onboarding/deliveries.html`).
#[derive(Default)]
pub(super) struct Deliveries {
    pub rows: Vec<Sent>,
}

impl Deliveries {
    /// Whether a value is shown (not sent): the page says to pass it on now.
    pub fn unsent(&self) -> bool {
        self.rows.iter().any(|d| d.value.is_some())
    }
}

/// Deliveries as rows, each (what it carried, what became of it).
pub(super) fn sent_rows(items: Vec<(String, Delivery)>) -> Deliveries {
    let rows = items
        .into_iter()
        .enumerate()
        .map(|(i, (what, d))| Sent {
            what,
            channel: d.channel,
            to: d.to,
            outcome: d.outcome,
            reason: d.reason,
            value: d.secret,
            id: format!("value-{i}"),
        })
        .collect();
    Deliveries { rows }
}

/// What onboarding (or a promotion's credentials) sent, as rows; and the people skipped.
pub(super) fn outcome_rows(o: OnboardOutcome) -> (Vec<(String, Delivery)>, Vec<String>) {
    let mut items = Vec::new();
    let mut notes = Vec::new();
    if let Some(u) = o.api_user {
        let made = if u.created { "made now" } else { "made before" };
        notes.push(format!("API user {} ({made}); its set-password link expires {}.", u.username, u.expires));
        items.push((format!("Set-password link of API user {}", u.username), u.delivery));
    }
    if let Some(c) = o.client {
        let made = if c.created { "made now" } else { "made before: it got a new secret, its others still work" };
        notes.push(format!("OAuth client {} ({made}).", c.client_id));
        if let Some(d) = c.id_delivery {
            items.push((format!("Client id {} (with the URLs)", c.client_id), d));
        }
        items.push((format!("Client secret of {}", c.client_id), c.secret_delivery));
    }
    for u in o.system_users {
        match (u.delivery, u.skipped) {
            (Some(d), _) => items.push((format!("Signup link of {}", u.email), d)),
            (None, Some(why)) => notes.push(format!("{}: no link sent ({why}).", u.email)),
            (None, None) => {}
        }
    }
    (items, notes)
}

/// The answer to a form: a heading, what was done (lines), and the deliveries.
struct Outcome {
    heading: String,
    notes: Vec<String>,
    /// The production tenant made by a promotion: its name and path.
    production: Option<(String, String)>,
}

/// An API user as a row: its pending link, if any.
struct ApiUserRow {
    view: ApiUserView,
    /// The address its forms post to.
    action: String,
    /// Whether its link has expired.
    expired: bool,
}

/// The onboarding form as sent back, with its error.
#[derive(Default)]
struct OnboardForm {
    api_user_email: String,
    secret_mobile: String,
    system_users: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/onboarding/page.html")]
struct OnboardingPage {
    chrome: Chrome,
    tenant: TenantView,
    counterpart_path: Option<String>,
    /// Whether the tenant may be promoted (integration, no counterpart yet).
    promotable: bool,
    production_name: String,
    outcome: Option<Outcome>,
    deliveries: Deliveries,
    form: OnboardForm,
    api_users: Vec<ApiUserRow>,
    messages: Vec<scimd_store::MessageRow>,
}

/// What a form's answer adds to the page.
#[derive(Default)]
struct Answer {
    outcome: Option<Outcome>,
    deliveries: Vec<(String, Delivery)>,
    form: OnboardForm,
}

async fn render(state: &AppState, viewer: &Viewer, name: &str, status: StatusCode, answer: Answer) -> Response {
    let loaded = async {
        let tenant = state.admin.tenant_view(name).await?;
        let api_users = state.admin.list_api_users(name).await?;
        let messages = state.onboard.messages(name, MESSAGES).await?;
        Ok::<_, AdminError>((tenant, api_users, messages))
    };
    let (tenant, api_users, messages) = match loaded.await {
        Ok(l) => l,
        Err(e) => return viewer.error(e),
    };
    let chrome = viewer.chrome(format!("Onboarding · {}", tenant.name)).in_tenant(&tenant.name, "onboarding");
    let base = format!("{}/onboarding/api-users", chrome.base());
    let now = chrono::Utc::now();
    let api_users = api_users
        .into_iter()
        .map(|view| ApiUserRow {
            action: format!("{base}/{}", seg(&view.username)),
            expired: view
                .invite_expires
                .as_deref()
                .and_then(|x| chrono::DateTime::parse_from_rfc3339(x).ok())
                .is_some_and(|x| x <= now),
            view,
        })
        .collect();
    let promotable = tenant.stage == scimd_store::Stage::Integration && tenant.counterpart.is_none();
    let p = OnboardingPage {
        chrome,
        counterpart_path: tenant.counterpart.as_deref().map(seg),
        promotable,
        production_name: crate::onboard::production_name(&tenant.name),
        tenant,
        outcome: answer.outcome,
        deliveries: sent_rows(answer.deliveries),
        form: answer.form,
        api_users,
        messages,
    };
    page::render(status, &p)
}

/// The tenant, for an operator only (a system user is refused before the tenant is named).
async fn operator_opens(state: &AppState, viewer: &Viewer, name: &str) -> Result<TenantView, Response> {
    viewer.person().operator_only().map_err(|e| viewer.error(e))?;
    viewer.open(state, name).await
}

pub(super) async fn show(State(state): State<AppState>, viewer: Viewer, Path(name): Path<String>) -> Response {
    let tenant = match operator_opens(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    render(&state, &viewer, &tenant.name, StatusCode::OK, Answer::default()).await
}

fn caller(slot: &Slot) -> Caller<'_> {
    Caller::Request(slot.as_ref().map(|Extension(s)| &**s))
}

pub(super) async fn onboard(
    State(state): State<AppState>,
    Path(name): Path<String>,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match operator_opens(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let form = OnboardForm {
        api_user_email: fields.get("api_user_email").trim().to_string(),
        secret_mobile: fields.get("secret_mobile").trim().to_string(),
        system_users: fields.get("system_users").to_string(),
        error: None,
    };
    // One address a line; commas and spaces separate too (a list pasted from an email).
    let people: Vec<String> = form
        .system_users
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let req = OnboardRequest {
        tenant: tenant.name.clone(),
        api_user_email: Some(form.api_user_email.clone()).filter(|s| !s.is_empty()),
        secret_mobile: Some(form.secret_mobile.clone()).filter(|s| !s.is_empty()),
        system_user_emails: people,
        by: viewer.person().audit_name(),
    };
    match state.onboard.onboard(req, caller(&slot)).await {
        Ok(o) => {
            let (deliveries, mut notes) = outcome_rows(o);
            if deliveries.is_empty() && notes.is_empty() {
                notes.push(
                    "Nothing to send: give the API user's email, a mobile number or system users' emails.".into(),
                );
            }
            let outcome = Outcome { heading: "Onboarding sent".into(), notes, production: None };
            let answer = Answer { outcome: Some(outcome), deliveries, form: OnboardForm::default() };
            render(&state, &viewer, &tenant.name, StatusCode::OK, answer).await
        }
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            let answer = Answer { form: OnboardForm { error: Some(e.message), ..form }, ..Answer::default() };
            render(&state, &viewer, &tenant.name, status, answer).await
        }
        Err(e) => viewer.error(e),
    }
}

pub(super) async fn promote(
    State(state): State<AppState>,
    Path(name): Path<String>,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match operator_opens(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.onboard.promote(&tenant.name, fields.opt("name"), caller(&slot)).await {
        Ok(p) => {
            // Its profile's paths (a product's own base path) are served at once here.
            crate::http::admin::profile_changed(&state, &p.production.name).await;
            let copied = format!(
                "Copied: the profile and audit settings, {} places, {} groups, {} access links (no users, tokens or clients).",
                p.places, p.groups, p.access_links
            );
            let (deliveries, mut notes) = outcome_rows(p.credentials);
            notes.insert(0, copied);
            let production = Some((p.production.name.clone(), seg(&p.production.name)));
            let heading = format!("Promoted to {}", p.production.name);
            let answer =
                Answer { outcome: Some(Outcome { heading, notes, production }), deliveries, ..Answer::default() };
            render(&state, &viewer, &tenant.name, StatusCode::OK, answer).await
        }
        Err(e) => viewer.error(e),
    }
}

pub(super) async fn resend(
    State(state): State<AppState>,
    Path((name, username)): Path<(String, String)>,
    submit: Submit,
) -> Response {
    let viewer = submit.viewer;
    let tenant = match operator_opens(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.onboard.resend_api_user_link(&tenant.name, &username).await {
        Ok(u) => {
            let notes = vec![format!("The link before stops working; this one expires {}.", u.expires)];
            let outcome = Outcome { heading: format!("A new link for {}", u.username), notes, production: None };
            let deliveries = vec![(format!("Set-password link of API user {}", u.username), u.delivery)];
            let answer = Answer { outcome: Some(outcome), deliveries, ..Answer::default() };
            render(&state, &viewer, &tenant.name, StatusCode::OK, answer).await
        }
        Err(e) => viewer.error(e),
    }
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Path((name, username)): Path<(String, String)>,
    submit: Submit,
) -> Response {
    let viewer = submit.viewer;
    let tenant = match operator_opens(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.onboard.revoke_api_user_link(&tenant.name, &username).await {
        Ok(()) => {
            let done = format!("The set-password link of {username} no longer works.");
            page::see_other(&format!("/portal/t/{}/onboarding?done={}", seg(&tenant.name), seg(&done)))
        }
        Err(e) => viewer.error(e),
    }
}
