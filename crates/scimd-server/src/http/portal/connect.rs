//! A tenant's "connect an identity provider" page: the exact settings Microsoft Entra ID
//! and Okta need for this tenant (the URL its SCIM API answers at — `/scim/v2`, or the
//! base path its profile mounts — and a long-lived token made right there, shown once),
//! as the book's getting-started guide gives them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

use super::credentials::{Shown, token_shown};
use super::page::{self, Chrome};
use super::session::{Submit, Viewer};
use crate::admin::{Connection, MAX_DAYS, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use Method as M;
    r.route("/portal/t/{tenant}/connect", on(M::GET, PortalPage, show))
        .route("/portal/t/{tenant}/connect/token", on(M::POST, Portal("portal-create-token"), create_token))
}

#[derive(Template)]
#[template(path = "portal/connect/page.html")]
struct ConnectPage {
    chrome: Chrome,
    tenant: TenantView,
    conn: Connection,
    /// The URL to give as Entra ID's Tenant URL and Okta's SCIM connector base URL.
    scim_url: String,
    /// The other URLs the tenant's API answers at.
    other_urls: Vec<String>,
    token_url: String,
    shown: Option<Shown>,
    days: String,
    error: Option<String>,
    max_days: u32,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    tenant: TenantView,
    headers: &HeaderMap,
    status: StatusCode,
    shown: Option<Shown>,
    form: (String, Option<String>),
) -> Response {
    let conn = match state.admin.connection(&tenant.name).await {
        Ok(c) => c,
        Err(e) => return viewer.error(e),
    };
    let root = crate::http::origin::origin(&state.http, headers).root;
    let chrome = viewer.chrome(format!("Connect · {}", tenant.name)).in_tenant(&tenant.name, "connect");
    let p = ConnectPage {
        chrome,
        scim_url: format!("{root}{}", conn.base_path),
        other_urls: conn.other_paths.iter().map(|p| format!("{root}{p}")).collect(),
        token_url: format!("{root}{}", conn.token_path.as_deref().unwrap_or("/oauth2/token")),
        tenant,
        conn,
        shown,
        days: form.0,
        error: form.1,
        max_days: MAX_DAYS,
    };
    page::render(status, &p)
}

async fn show(State(state): State<AppState>, viewer: Viewer, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    render(&state, &viewer, tenant, &headers, StatusCode::OK, None, Default::default()).await
}

/// A long-lived token for the identity provider, shown once in the settings.
async fn create_token(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let made = match crate::admin::lifetime_days(fields.get("days")) {
        Ok(days) => state.admin.create_token(&tenant.name, days).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(t) => {
            render(&state, &viewer, tenant, &headers, StatusCode::OK, Some(token_shown(t)), Default::default()).await
        }
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            let form = (fields.get("days").to_string(), Some(e.message));
            render(&state, &viewer, tenant, &headers, status, None, form).await
        }
        Err(e) => viewer.error(e),
    }
}
