//! A tenant's settings page: its profile (switched to a preset, or edited as JSON with the
//! reason a profile is refused shown next to it) and its audit settings (which payloads
//! are kept, for how long). Operators change them; a tenant's system users read them
//! only: the profile decides how scimd speaks to the tenant's identity provider and what
//! the operator supports, and the audit trail's retention is the operator's record, so
//! neither is the customer's to change on their own.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use scimd_store::DetailsLevel;

use super::page::{self, Chrome, seg};
use super::session::{Fields, Submit, Viewer};
use crate::admin::{AdminError, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use axum::http::Method as M;
    r.route("/portal/t/{tenant}/settings", on(M::GET, PortalPage, settings))
        .route("/portal/t/{tenant}/settings/preset", on(M::POST, Portal("portal-set-preset"), set_preset))
        .route("/portal/t/{tenant}/settings/profile", on(M::POST, Portal("portal-set-profile"), set_profile))
        .route("/portal/t/{tenant}/settings/audit", on(M::POST, Portal("portal-set-audit"), set_audit))
}

/// Which form an error belongs to, with what was typed.
enum Failed {
    Preset,
    Profile(String),
    Audit { details: String, events: String, payloads: String },
}

#[derive(Template)]
#[template(path = "portal/settings/index.html")]
struct SettingsPage {
    chrome: Chrome,
    tenant: TenantView,
    operator: bool,
    presets: Vec<&'static str>,
    profile: String,
    profile_error: Option<String>,
    preset_error: Option<String>,
    details: String,
    events_days: String,
    details_days: String,
    audit_error: Option<String>,
}

impl SettingsPage {
    fn levels(&self) -> [&'static str; 3] {
        [DetailsLevel::Off.as_str(), DetailsLevel::Changes.as_str(), DetailsLevel::All.as_str()]
    }
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    tenant: TenantView,
    failed: Option<(Failed, AdminError)>,
) -> Response {
    let tenant = match state.admin.tenant_view(&tenant.name).await {
        Ok(t) => t,
        Err(e) => return viewer.error(e),
    };
    let profile = match state.admin.profile(&tenant.name).await {
        Ok(p) => serde_json::to_string_pretty(&p).unwrap_or_default(),
        Err(e) => return viewer.error(e),
    };
    let mut page = SettingsPage {
        chrome: viewer.chrome("Settings").in_tenant(&tenant.name, "settings"),
        operator: viewer.person().is_operator(),
        presets: crate::presets::PRESETS.iter().map(|(n, _)| *n).collect(),
        profile,
        profile_error: None,
        preset_error: None,
        details: tenant.audit_details.as_str().into(),
        events_days: tenant.audit_events_days.to_string(),
        details_days: tenant.audit_details_days.to_string(),
        audit_error: None,
        tenant,
    };
    let mut status = StatusCode::OK;
    if let Some((which, e)) = failed {
        status = page::status_of(&e);
        match which {
            Failed::Preset => page.preset_error = Some(e.message),
            Failed::Profile(text) => {
                page.profile = text;
                page.profile_error = Some(e.message);
            }
            Failed::Audit { details, events, payloads } => {
                (page.details, page.events_days, page.details_days) = (details, events, payloads);
                page.audit_error = Some(e.message);
            }
        }
    }
    page::render(status, &page)
}

pub(super) async fn settings(State(state): State<AppState>, viewer: Viewer, Path(name): Path<String>) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    render(&state, &viewer, tenant, None).await
}

/// The tenant of an operator's change (a system user is refused: the settings are read-only
/// to them).
async fn changing(state: &AppState, viewer: &Viewer, name: &str) -> Result<TenantView, Response> {
    let tenant = viewer.open(state, name).await?;
    viewer.person().operator_only().map_err(|e| viewer.error(e))?;
    Ok(tenant)
}

fn done(tenant: &str, text: &str) -> Response {
    page::see_other(&format!("/portal/t/{}/settings?done={}", seg(tenant), seg(text)))
}

/// A client's mistake re-renders the page with it in place; anything else is a page.
async fn refused(state: &AppState, viewer: &Viewer, tenant: TenantView, which: Failed, e: AdminError) -> Response {
    if e.status >= 500 || e.status == 404 {
        return viewer.error(e);
    }
    render(state, viewer, tenant, Some((which, e))).await
}

pub(super) async fn set_preset(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match changing(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let preset = fields.get("preset");
    match state.admin.set_preset(&tenant.name, preset).await {
        Ok(_) => {
            crate::http::admin::profile_changed(&state, &tenant.name).await;
            done(&tenant.name, &format!("The profile is the {preset} preset's now."))
        }
        Err(e) => refused(&state, &viewer, tenant, Failed::Preset, e).await,
    }
}

pub(super) async fn set_profile(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match changing(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let text = fields.get("profile");
    let set = if fields.checked("default") {
        state.admin.set_profile(&tenant.name, None).await
    } else {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => state.admin.set_profile(&tenant.name, Some(&v)).await,
            Err(e) => Err(AdminError::invalid(format!("the profile is not valid JSON: {e}"))),
        }
    };
    match set {
        Ok(_) => {
            crate::http::admin::profile_changed(&state, &tenant.name).await;
            done(&tenant.name, "The profile was saved.")
        }
        Err(e) => refused(&state, &viewer, tenant, Failed::Profile(text.into()), e).await,
    }
}

fn days(fields: &Fields, name: &str, what: &str) -> Result<i64, AdminError> {
    fields
        .get(name)
        .trim()
        .parse::<i64>()
        .map_err(|_| AdminError::invalid(format!("{what} must be a whole number of days")))
}

pub(super) async fn set_audit(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match changing(&state, &viewer, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let level = serde_json::from_value::<DetailsLevel>(serde_json::Value::String(fields.get("details").into()))
        .map_err(|_| AdminError::invalid("choose which payloads to keep: off, changes or all"));
    let set = match (level, days(&fields, "events_days", "Events"), days(&fields, "details_days", "Payloads")) {
        (Ok(l), Ok(ev), Ok(pl)) => state.admin.set_audit(&tenant.name, Some(l), Some(ev), Some(pl)).await,
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
    };
    match set {
        Ok(_) => done(&tenant.name, "The audit settings were saved."),
        Err(e) => {
            let which = Failed::Audit {
                details: fields.get("details").into(),
                events: fields.get("events_days").into(),
                payloads: fields.get("details_days").into(),
            };
            refused(&state, &viewer, tenant, which, e).await
        }
    }
}
