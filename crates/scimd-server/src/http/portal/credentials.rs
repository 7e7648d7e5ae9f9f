//! A tenant's credentials page: its long-lived tokens, the OAuth clients that reach it
//! (`clients`), its API system users. A secret made here (a token, a client secret, a
//! password) is shown once, on the answer to the form that made it, and never again: it is
//! kept only as a hash. What changes is in the audit trail with the person; the forms hold
//! no secret, and no secret is ever put in an address.

mod clients;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::{AdminError, ApiUserView, CredentialView, MAX_DAYS, Reach, TenantClient, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use Method as M;
    const T: &str = "/portal/t/{tenant}/credentials";
    r.route(T, on(M::GET, PortalPage, show))
        .route(&format!("{T}/tokens"), on(M::POST, Portal("portal-create-token"), create_token))
        .route(&format!("{T}/tokens/{{id}}/revoke"), on(M::POST, Portal("portal-revoke-token"), revoke_token))
        .route(&format!("{T}/clients"), on(M::POST, Portal("portal-create-client"), clients::create))
        .route(
            &format!("{T}/clients/{{client}}/secrets"),
            on(M::POST, Portal("portal-add-client-secret"), clients::add_secret),
        )
        .route(
            &format!("{T}/clients/{{client}}/secrets/{{id}}/revoke"),
            on(M::POST, Portal("portal-revoke-client-secret"), clients::revoke_secret),
        )
        .route(&format!("{T}/api-users"), on(M::POST, Portal("portal-create-api-user"), create_api_user))
        .route(
            &format!("{T}/api-users/{{user}}/password"),
            on(M::POST, Portal("portal-set-api-user-password"), api_user_password),
        )
        .route(
            &format!("{T}/api-users/{{user}}/disable"),
            on(M::POST, Portal("portal-disable-api-user"), disable_api_user),
        )
        .route(
            &format!("{T}/api-users/{{user}}/enable"),
            on(M::POST, Portal("portal-enable-api-user"), enable_api_user),
        )
}

/// A secret shown once, with what goes with it.
pub(super) struct Shown {
    pub heading: String,
    /// What else to note beside it (a client id, a username, an expiry): label, value.
    pub facts: Vec<(&'static str, String)>,
    pub label: &'static str,
    pub secret: String,
}

/// What the page's forms were sent with, and their errors (field, message) shown in place.
#[derive(Default)]
pub(super) struct Forms {
    pub token_days: String,
    pub grants: Vec<String>,
    pub scopes: String,
    pub secret_days: String,
    pub username: String,
    pub error: Option<(&'static str, String)>,
}

impl Forms {
    /// The error of `field`, if the form was sent back for it.
    pub fn error_of(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
    pub fn granted(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }
}

#[derive(Template)]
#[template(path = "portal/credentials/page.html")]
struct CredentialsPage {
    chrome: Chrome,
    operator: bool,
    tokens: Vec<CredentialView>,
    clients: Vec<TenantClient>,
    api_users: Vec<ApiUserView>,
    shown: Option<Shown>,
    forms: Forms,
    max_days: u32,
}

impl CredentialsPage {
    fn path(&self, s: &str) -> String {
        seg(s)
    }
}

/// What the one asking sees of the tenant's clients.
pub(super) fn reach(viewer: &Viewer) -> Reach {
    if viewer.person().is_operator() { Reach::Every } else { Reach::OwnTenant }
}

/// The page, with what a form just did or refused.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    tenant: &TenantView,
    status: StatusCode,
    shown: Option<Shown>,
    forms: Forms,
) -> Response {
    let name = tenant.name.as_str();
    let loaded = async {
        let tokens = state.admin.list_tokens(name).await?;
        let clients = state.admin.tenant_clients(name, reach(viewer)).await?;
        let api_users = state.admin.list_api_users(name).await?;
        Ok::<_, AdminError>((tokens, clients, api_users))
    };
    let (tokens, clients, api_users) = match loaded.await {
        Ok(l) => l,
        Err(e) => return viewer.error(e),
    };
    let chrome = viewer.chrome(format!("Credentials · {name}")).in_tenant(name, "credentials");
    let p = CredentialsPage {
        chrome,
        operator: viewer.person().is_operator(),
        tokens,
        clients,
        api_users,
        shown,
        forms,
        max_days: MAX_DAYS,
    };
    page::render(status, &p)
}

/// A use case's refusal shown in place on the page (its form's `field`), or a page-level
/// error for what is not the person's mistake.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    tenant: &TenantView,
    e: AdminError,
    field: &'static str,
    forms: Forms,
) -> Response {
    if e.status >= 500 || e.status == 404 {
        return viewer.error(e);
    }
    let status = page::status_of(&e);
    render(state, viewer, tenant, status, None, Forms { error: Some((field, e.message)), ..forms }).await
}

/// After a change that shows nothing once: back to the page, saying what was done.
pub(super) fn done(tenant: &str, what: &str) -> Response {
    let text = done_text(what).unwrap_or(what);
    page::see_other(&format!("/portal/t/{}/credentials?done={}", seg(tenant), seg(text)))
}

/// The message of a change done, by its key.
fn done_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "token-revoked" => "The token is revoked: requests carrying it are refused within seconds.",
        "secret-revoked" => "The secret is revoked: the client can no longer get tokens with it.",
        "user-disabled" => "The API user is disabled: it cannot log in, and its logins have ended.",
        "user-enabled" => "The API user is enabled again.",
        _ => return None,
    })
}

async fn show(State(state): State<AppState>, viewer: Viewer, Path(name): Path<String>) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    render(&state, &viewer, &tenant, StatusCode::OK, None, Forms::default()).await
}

async fn create_token(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let forms = Forms { token_days: fields.get("days").to_string(), ..Forms::default() };
    let made = match crate::admin::lifetime_days(fields.get("days")) {
        Ok(days) => state.admin.create_token(&tenant.name, days).await,
        Err(e) => Err(e),
    };
    match made {
        Ok(t) => {
            let shown = token_shown(t);
            render(&state, &viewer, &tenant, StatusCode::OK, Some(shown), Forms::default()).await
        }
        Err(e) => refused(&state, &viewer, &tenant, e, "days", forms).await,
    }
}

/// A long-lived token just made, as shown once.
pub(super) fn token_shown(t: crate::admin::CreatedToken) -> Shown {
    let expires = t.expires.unwrap_or_else(|| "never".into());
    Shown {
        heading: format!("Token {} created", t.id),
        facts: vec![("Expires", expires)],
        label: "Token",
        secret: t.token,
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, i64)>,
    submit: Submit,
) -> Response {
    let viewer = submit.viewer;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.admin.revoke_token(&tenant.name, id).await {
        Ok(()) => {
            // Applied at once in this process, not after the cache of verified tokens.
            state.oauth.credentials_changed().await;
            done(&tenant.name, "token-revoked")
        }
        Err(e) => viewer.error(e),
    }
}

async fn create_api_user(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let username = fields.get("username");
    match state.admin.create_api_user(&tenant.name, username, None).await {
        Ok(u) => {
            let shown = Shown {
                heading: format!("API user {} created", u.username),
                facts: vec![("Username", u.username)],
                label: "Password",
                secret: u.password,
            };
            render(&state, &viewer, &tenant, StatusCode::OK, Some(shown), Forms::default()).await
        }
        Err(e) => {
            let forms = Forms { username: username.to_string(), ..Forms::default() };
            refused(&state, &viewer, &tenant, e, "username", forms).await
        }
    }
}

async fn api_user_password(
    State(state): State<AppState>,
    Path((name, user)): Path<(String, String)>,
    submit: Submit,
) -> Response {
    let viewer = submit.viewer;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.admin.set_api_user_password(&tenant.name, &user, None).await {
        Ok(u) => {
            state.oauth.credentials_changed().await;
            let shown = Shown {
                heading: format!("New password of {}", u.username),
                facts: vec![("Username", u.username)],
                label: "Password",
                secret: u.password,
            };
            render(&state, &viewer, &tenant, StatusCode::OK, Some(shown), Forms::default()).await
        }
        Err(e) => viewer.error(e),
    }
}

async fn disable_api_user(state: State<AppState>, path: Path<(String, String)>, submit: Submit) -> Response {
    api_user_disabled(state, path, submit, true).await
}

async fn enable_api_user(state: State<AppState>, path: Path<(String, String)>, submit: Submit) -> Response {
    api_user_disabled(state, path, submit, false).await
}

async fn api_user_disabled(
    State(state): State<AppState>,
    Path((name, user)): Path<(String, String)>,
    submit: Submit,
    disabled: bool,
) -> Response {
    let viewer = submit.viewer;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.admin.set_api_user_disabled(&tenant.name, &user, disabled).await {
        Ok(()) => {
            state.oauth.credentials_changed().await;
            done(&tenant.name, if disabled { "user-disabled" } else { "user-enabled" })
        }
        Err(e) => viewer.error(e),
    }
}
