//! The portal's first pages: an operator's tenants (and a new one from a preset), a
//! tenant's overview (SCIM on or off), and the person's own account (their sessions).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::TenantView;
use crate::http::AppState;
use crate::portal::SessionView;

struct TenantRow {
    view: TenantView,
    path: String,
}

impl TenantRow {
    /// The counterpart's path segment (its name escaped).
    fn counterpart_path(&self) -> Option<String> {
        self.view.counterpart.as_deref().map(seg)
    }
}

#[derive(Template)]
#[template(path = "portal/tenants.html")]
struct TenantsPage {
    chrome: Chrome,
    tenants: Vec<TenantRow>,
    presets: Vec<&'static str>,
    name: String,
    preset: String,
    /// The stage chosen (`integration` unless the form said otherwise).
    stage: String,
    error: Option<String>,
}

/// The form of a new tenant as sent back.
#[derive(Default)]
struct NewTenant<'a> {
    name: &'a str,
    preset: &'a str,
    stage: &'a str,
}

async fn tenants_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    form: NewTenant<'_>,
    error: Option<String>,
) -> Response {
    if let Err(e) = viewer.person().operator_only() {
        return viewer.error(e);
    }
    let tenants = match state.admin.list_tenants().await {
        Ok(t) => t,
        Err(e) => return viewer.error(e),
    };
    let tenants = tenants.into_iter().map(|view| TenantRow { path: seg(&view.name), view }).collect();
    let presets = crate::presets::PRESETS.iter().map(|(n, _)| *n).collect();
    let chrome = viewer.chrome("Tenants");
    let stage = if form.stage == "production" { "production" } else { "integration" };
    let p = TenantsPage {
        chrome,
        tenants,
        presets,
        name: form.name.into(),
        preset: form.preset.into(),
        stage: stage.into(),
        error,
    };
    page::render(status, &p)
}

pub(super) async fn tenants(State(state): State<AppState>, viewer: Viewer) -> Response {
    tenants_page(&state, &viewer, StatusCode::OK, NewTenant::default(), None).await
}

pub(super) async fn create_tenant(State(state): State<AppState>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    if let Err(e) = viewer.person().operator_only() {
        return viewer.error(e);
    }
    let (name, preset, scim) = (fields.get("name"), fields.get("preset"), fields.checked("scim"));
    // A customer integrates first: production is made by promotion, or chosen here.
    let stage = scimd_store::Stage::parse(fields.get("stage")).unwrap_or(scimd_store::Stage::Integration);
    let created = match preset {
        "" => state.admin.create_staged_tenant(name, scim, stage).await,
        p => state.admin.create_tenant_with_preset(name, scim, p, stage).await,
    };
    match created {
        Ok(t) => {
            if !preset.is_empty() {
                // Its preset's paths (a product's own base path) are served at once here.
                crate::http::admin::profile_changed(&state, &t.name).await;
            }
            let created = format!("Tenant {} created.", t.name);
            page::see_other(&format!("/portal/t/{}?done={}", seg(&t.name), seg(&created)))
        }
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            let form = NewTenant { name, preset, stage: fields.get("stage") };
            tenants_page(&state, &viewer, status, form, Some(e.message)).await
        }
        Err(e) => viewer.error(e),
    }
}

#[derive(Template)]
#[template(path = "portal/tenant.html")]
struct TenantPage {
    chrome: Chrome,
    tenant: TenantView,
    scim_url: String,
    operator: bool,
}

impl TenantPage {
    fn counterpart_path(&self) -> String {
        self.tenant.counterpart.as_deref().map(seg).unwrap_or_default()
    }
}

pub(super) async fn tenant(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Err(res) = viewer.open(&state, &name).await {
        return res;
    }
    // The overview shows the preset the profile came from.
    let tenant = match state.admin.tenant_view(&name).await {
        Ok(t) => t,
        Err(e) => return viewer.error(e),
    };
    let root = crate::http::origin::origin(&state.http, &headers).root;
    let chrome = viewer.chrome(tenant.name.clone()).in_tenant(&tenant.name, "overview");
    let scim_url = format!("{root}/scim/v2");
    page::ok(&TenantPage { chrome, tenant, scim_url, operator: viewer.person().is_operator() })
}

pub(super) async fn set_scim(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    if let Err(e) = viewer.person().operator_only() {
        return viewer.error(e);
    }
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let on = fields.checked("on");
    match state.admin.set_scim(&tenant.name, on).await {
        Ok(_) => {
            // Tokens of a tenant turned off stop working at once here (as the admin API's).
            state.oauth.credentials_changed().await;
            let done = if on { "SCIM provisioning is on." } else { "SCIM provisioning is off." };
            page::see_other(&format!("/portal/t/{}?done={}", seg(&tenant.name), seg(done)))
        }
        Err(e) => viewer.error(e),
    }
}

#[derive(Template)]
#[template(path = "portal/account.html")]
struct AccountPage {
    chrome: Chrome,
    name: String,
    tenant: Option<String>,
    sessions: Vec<SessionView>,
}

pub(super) async fn account(State(state): State<AppState>, viewer: Viewer) -> Response {
    let sessions = match state.portal.sessions_of(viewer.person(), &viewer.signed.id_hash).await {
        Ok(s) => s,
        Err(e) => return viewer.error(e),
    };
    let p = viewer.person();
    let page = AccountPage {
        chrome: viewer.chrome("Your account"),
        name: p.display_name().to_string(),
        tenant: p.own_tenant().map(|t| t.name.clone()),
        sessions,
    };
    page::ok(&page)
}

pub(super) async fn end_sessions(State(state): State<AppState>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let id = fields.opt("id");
    match state.portal.end_sessions(viewer.person(), id, &viewer.signed.id_hash).await {
        Ok(_) => page::see_other("/portal/account"),
        Err(e) => viewer.error(e),
    }
}
