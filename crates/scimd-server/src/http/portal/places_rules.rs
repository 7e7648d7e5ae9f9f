//! The places pages about people: a location's rules (shown, tried on the tenant's users
//! before saving — a preview changes nothing — and saved), a user's effective access (the
//! banks and lockers their groups give them, the locations the rules give them), and the
//! users who may use a place, a page at a time.

use askama::Template;
use axum::extract::{Path, Query, State};

use axum::response::Response;
use scimd_core::places::Level;
use serde_json::Value;

use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::{AdminError, BankUsers, EffectiveAccess, PREVIEW_MAX, RulesPreview};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

/// Users a page of a place's users shows.
const PAGE: u64 = 50;

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use axum::http::Method as M;
    r.route(
        "/portal/t/{tenant}/places/rules/{location}",
        on(M::GET, PortalPage, rules).on(M::POST, Portal("portal-set-location-rules"), save_rules),
    )
    .route(
        "/portal/t/{tenant}/places/rules/{location}/preview",
        on(M::POST, Portal("portal-preview-location-rules"), preview),
    )
    .route("/portal/t/{tenant}/places/access", on(M::GET, PortalPage, find_user))
    .route("/portal/t/{tenant}/places/access/{user}", on(M::GET, PortalPage, user_access))
    .route("/portal/t/{tenant}/places/users/{level}/{key}", on(M::GET, PortalPage, place_users))
}

#[derive(Template)]
#[template(path = "portal/places/rules.html")]
struct RulesPage {
    chrome: Chrome,
    location: String,
    /// The rules as typed (or as stored), pretty.
    text: String,
    error: Option<String>,
    preview: Option<RulesPreview>,
    /// The next page of the preview, when there is one.
    more: Option<u64>,
}

impl RulesPage {
    fn seg(&self, s: &str) -> String {
        seg(s)
    }
    fn list(&self, v: &[String]) -> String {
        if v.is_empty() { "none".into() } else { v.join(", ") }
    }
}

fn pretty(v: &Value) -> String {
    if v.is_null() { String::new() } else { serde_json::to_string_pretty(v).unwrap_or_default() }
}

/// The rules typed in the form: empty clears them.
fn typed(text: &str) -> Result<Option<Value>, AdminError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text).map(Some).map_err(|e| AdminError::invalid(format!("the rules are not valid JSON: {e}")))
}

fn rules_page(viewer: &Viewer, tenant: &str, location: &str, text: String) -> RulesPage {
    RulesPage {
        chrome: viewer.chrome(format!("Rules of {location}")).in_tenant(tenant, "places"),
        location: location.into(),
        text,
        error: None,
        preview: None,
        more: None,
    }
}

pub(super) async fn rules(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, location)): Path<(String, String)>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.admin.location_rules(&tenant.name, &location).await {
        Ok(v) => page::ok(&rules_page(&viewer, &tenant.name, &location, pretty(&v))),
        Err(e) => viewer.error(e),
    }
}

/// The form again, with `e` next to the rules (a client's mistake) or as a page.
fn refused(viewer: &Viewer, tenant: &str, location: &str, text: &str, e: AdminError) -> Response {
    if e.status >= 500 || e.status == 404 {
        return viewer.error(e);
    }
    let status = page::status_of(&e);
    let mut p = rules_page(viewer, tenant, location, text.into());
    p.error = Some(e.message);
    page::render(status, &p)
}

pub(super) async fn preview(
    State(state): State<AppState>,
    Path((name, location)): Path<(String, String)>,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let text = fields.get("rules");
    let start = fields.get("start").parse::<u64>().unwrap_or(1).max(1);
    let tried = match typed(text) {
        Ok(rules) => {
            state.admin.preview_location_rules(&tenant.name, &location, rules.as_ref(), start, PREVIEW_MAX).await
        }
        Err(e) => Err(e),
    };
    match tried {
        Ok(pv) => {
            let next = pv.start_index + pv.users.len() as u64;
            let mut p = rules_page(&viewer, &tenant.name, &location, text.into());
            p.more = (next <= pv.total && !pv.users.is_empty()).then_some(next);
            p.preview = Some(pv);
            page::ok(&p)
        }
        Err(e) => refused(&viewer, &tenant.name, &location, text, e),
    }
}

pub(super) async fn save_rules(
    State(state): State<AppState>,
    Path((name, location)): Path<(String, String)>,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let text = fields.get("rules");
    let saved = match typed(text) {
        Ok(rules) => state.admin.set_location_rules(&tenant.name, &location, rules.as_ref()).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok((_, v)) => {
            let said = if v.is_null() { "The rules were cleared." } else { "The rules were saved." };
            page::see_other(&format!(
                "/portal/t/{}/places/rules/{}?done={}",
                seg(&tenant.name),
                seg(&location),
                seg(said)
            ))
        }
        Err(e) => refused(&viewer, &tenant.name, &location, text, e),
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct Who {
    #[serde(default)]
    user: String,
}

/// The lookup form of the places page: to the user's page.
pub(super) async fn find_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<Who>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match q.user.trim() {
        "" => page::see_other(&format!("/portal/t/{}/places", seg(&tenant.name))),
        u => page::see_other(&format!("/portal/t/{}/places/access/{}", seg(&tenant.name), seg(u))),
    }
}

#[derive(Template)]
#[template(path = "portal/places/access.html")]
struct AccessPage {
    chrome: Chrome,
    user: EffectiveAccess,
}

pub(super) async fn user_access(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, user)): Path<(String, String)>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.admin.effective_access(&tenant.name, &user).await {
        Ok(user) => {
            let chrome = viewer.chrome(format!("Access of {}", user.user_name)).in_tenant(&tenant.name, "places");
            page::ok(&AccessPage { chrome, user })
        }
        Err(e) => viewer.error(e),
    }
}

#[derive(Template)]
#[template(path = "portal/places/users.html")]
struct UsersPage {
    chrome: Chrome,
    level: &'static str,
    key: String,
    users: Vec<(String, String)>,
    total: u64,
    start: u64,
    prev: Option<u64>,
    next: Option<u64>,
}

impl UsersPage {
    fn seg(&self, s: &str) -> String {
        seg(s)
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct Start {
    #[serde(default)]
    start: Option<u64>,
}

pub(super) async fn place_users(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, level, key)): Path<(String, String, String)>,
    Query(q): Query<Start>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let Some(level) = Level::parse(&level) else {
        return viewer.error(AdminError::not_found(format!("no level named '{level}'")));
    };
    let start = q.start.unwrap_or(1).max(1);
    let found = state.admin.place_users(&tenant.name, level, &key, start, PAGE).await;
    let BankUsers { total, start_index, users } = match found {
        Ok(u) => u,
        Err(e) => return viewer.error(e),
    };
    let str_of = |u: &Value, k: &str| super::directory::str_at(u, &[k]).to_string();
    let users: Vec<(String, String)> = users.iter().map(|u| (str_of(u, "id"), str_of(u, "userName"))).collect();
    let next = start_index + users.len() as u64;
    let page = UsersPage {
        chrome: viewer.chrome(format!("Users of {} {key}", level.name())).in_tenant(&tenant.name, "places"),
        level: level.name(),
        key,
        total,
        start: start_index,
        prev: (start_index > 1).then(|| start_index.saturating_sub(PAGE).max(1)),
        next: (next <= total && !users.is_empty()).then_some(next),
        users,
    };
    page::ok(&page)
}
