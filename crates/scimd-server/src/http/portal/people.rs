//! A tenant's people page: its system users (invited by a one-time link shown once here,
//! disabled, enabled, deleted) and its single sign-on settings (the OpenID Connect
//! provider, whom it admits, the redirect URI to register there). Operators and the
//! tenant's own system users use it.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

use super::credentials::Shown;
use super::page::{self, Chrome, seg};
use super::session::{Fields, Submit, Viewer};
use crate::admin::{AdminError, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};
use crate::portal::{SsoView, SystemUserView, TeamChange};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use Method as M;
    const T: &str = "/portal/t/{tenant}/people";
    r.route(T, on(M::GET, PortalPage, show))
        .route(&format!("{T}/invite"), on(M::POST, Portal("portal-invite-system-user"), invite))
        .route(&format!("{T}/users/{{id}}/disable"), on(M::POST, Portal("portal-disable-system-user"), disable))
        .route(&format!("{T}/users/{{id}}/enable"), on(M::POST, Portal("portal-enable-system-user"), enable))
        .route(&format!("{T}/users/{{id}}/delete"), on(M::POST, Portal("portal-delete-system-user"), delete))
        .route(&format!("{T}/sso"), on(M::POST, Portal("portal-set-sso"), set_sso))
        .route(&format!("{T}/sso/remove"), on(M::POST, Portal("portal-remove-sso"), remove_sso))
}

/// The single sign-on form as sent back (never its secret), and its error (field, message).
#[derive(Default)]
struct SsoForm {
    issuer: String,
    client_id: String,
    domains: String,
    groups: String,
    error: Option<(&'static str, String)>,
}

impl SsoForm {
    fn of(view: Option<&SsoView>) -> SsoForm {
        view.map(|v| SsoForm {
            issuer: v.issuer.clone(),
            client_id: v.client_id.clone(),
            domains: v.allowed_domains.join(" "),
            groups: v.allowed_groups.join(" "),
            error: None,
        })
        .unwrap_or_default()
    }

    fn error_of(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "portal/people/page.html")]
struct PeoplePage {
    chrome: Chrome,
    users: Vec<SystemUserView>,
    /// Which of them is the person signed in.
    me: Option<i64>,
    shown: Option<Shown>,
    email: String,
    invite_error: Option<String>,
    sso: Option<SsoView>,
    form: SsoForm,
    redirect_uri: String,
}

impl PeoplePage {
    fn is_me(&self, u: &SystemUserView) -> bool {
        self.me == Some(u.id)
    }
}

/// What the page's forms sent back.
#[derive(Default)]
struct Sent {
    shown: Option<Shown>,
    email: String,
    invite_error: Option<String>,
    sso: Option<SsoForm>,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    tenant: &TenantView,
    headers: &HeaderMap,
    status: StatusCode,
    sent: Sent,
) -> Response {
    let loaded = async {
        let users = state.portal.list_system_users(&tenant.name).await?;
        let sso = state.portal.sso_settings(&tenant.name).await?;
        Ok::<_, AdminError>((users, sso))
    };
    let (users, sso) = match loaded.await {
        Ok(l) => l,
        Err(e) => return viewer.error(e),
    };
    let root = crate::http::origin::origin(&state.http, headers).root;
    let me = match viewer.person() {
        crate::portal::Person::SystemUser { id, .. } => Some(*id),
        crate::portal::Person::Operator { .. } => None,
    };
    let chrome = viewer.chrome(format!("People · {}", tenant.name)).in_tenant(&tenant.name, "people");
    let form = sent.sso.unwrap_or_else(|| SsoForm::of(sso.as_ref()));
    let p = PeoplePage {
        chrome,
        users,
        me,
        shown: sent.shown,
        email: sent.email,
        invite_error: sent.invite_error,
        sso,
        form,
        redirect_uri: format!("{root}/portal/sso/callback"),
    };
    page::render(status, &p)
}

fn done(tenant: &str, what: &str) -> Response {
    let text = done_text(what).unwrap_or(what);
    page::see_other(&format!("/portal/t/{}/people?done={}", seg(tenant), seg(text)))
}

/// The message of a change done, by its key.
fn done_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "disabled" => "The system user is disabled: their sessions have ended.",
        "enabled" => "The system user is enabled again.",
        "deleted" => "The system user is deleted.",
        "sso-saved" => "Single sign-on is saved.",
        "sso-removed" => "Single sign-on is removed: people sign in with their passwords only.",
        _ => return None,
    })
}

async fn show(State(state): State<AppState>, viewer: Viewer, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    render(&state, &viewer, &tenant, &headers, StatusCode::OK, Sent::default()).await
}

async fn invite(
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
    let email = fields.get("email");
    match state.portal.invite_by(viewer.person(), &tenant.name, email).await {
        Ok(i) => {
            // Without a configured public origin the link is a path: completed with the
            // origin this page was reached at.
            let link = if i.invite_url.starts_with('/') {
                format!("{}{}", crate::http::origin::origin(&state.http, &headers).root, i.invite_url)
            } else {
                i.invite_url
            };
            let shown = Shown {
                heading: format!("Invitation for {}", i.email),
                facts: vec![("Email", i.email), ("Link works until", i.expires)],
                label: "Invitation link",
                secret: link,
            };
            let sent = Sent { shown: Some(shown), ..Sent::default() };
            render(&state, &viewer, &tenant, &headers, StatusCode::OK, sent).await
        }
        Err(e) if e.status < 500 => {
            let sent = Sent { email: email.to_string(), invite_error: Some(e.message.clone()), ..Sent::default() };
            render(&state, &viewer, &tenant, &headers, page::status_of(&e), sent).await
        }
        Err(e) => viewer.error(e),
    }
}

async fn change(state: AppState, name: String, id: i64, submit: Submit, what: TeamChange) -> Response {
    let viewer = submit.viewer;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.portal.change_system_user(viewer.person(), &tenant.name, id, what).await {
        Ok(_) => done(
            &tenant.name,
            match what {
                TeamChange::Disable => "disabled",
                TeamChange::Enable => "enabled",
                TeamChange::Delete => "deleted",
            },
        ),
        Err(e) => viewer.error(e),
    }
}

async fn disable(State(state): State<AppState>, Path((name, id)): Path<(String, i64)>, submit: Submit) -> Response {
    change(state, name, id, submit, TeamChange::Disable).await
}

async fn enable(State(state): State<AppState>, Path((name, id)): Path<(String, i64)>, submit: Submit) -> Response {
    change(state, name, id, submit, TeamChange::Enable).await
}

async fn delete(State(state): State<AppState>, Path((name, id)): Path<(String, i64)>, submit: Submit) -> Response {
    change(state, name, id, submit, TeamChange::Delete).await
}

/// The field of the single sign-on form a refusal is about, read from the use case's
/// message (each names its field), so that it is shown in place.
fn sso_field(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("issuer") {
        "issuer"
    } else if m.contains("client id") {
        "client_id"
    } else if m.contains("secret") {
        "client_secret"
    } else if m.contains("group") && !m.contains("domain") {
        "groups"
    } else {
        "domains"
    }
}

fn sso_form(fields: &Fields) -> SsoForm {
    SsoForm {
        issuer: fields.get("issuer").to_string(),
        client_id: fields.get("client_id").to_string(),
        domains: fields.get("domains").to_string(),
        groups: fields.get("groups").to_string(),
        error: None,
    }
}

async fn set_sso(
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
    let set = state
        .portal
        .set_sso(
            &tenant.name,
            fields.get("issuer"),
            fields.get("client_id"),
            fields.opt("client_secret"),
            fields.get("domains"),
            fields.get("groups"),
        )
        .await;
    match set {
        Ok(()) => done(&tenant.name, "sso-saved"),
        Err(e) if e.status < 500 => {
            let form = SsoForm { error: Some((sso_field(&e.message), e.message.clone())), ..sso_form(&fields) };
            let sent = Sent { sso: Some(form), ..Sent::default() };
            render(&state, &viewer, &tenant, &headers, page::status_of(&e), sent).await
        }
        Err(e) => viewer.error(e),
    }
}

async fn remove_sso(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let viewer = submit.viewer;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.portal.remove_sso(&tenant.name).await {
        Ok(()) => done(&tenant.name, "sso-removed"),
        Err(e) => viewer.error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::sso_field;

    #[test]
    fn each_sso_refusal_names_its_field() {
        assert_eq!(sso_field("the issuer must be an https:// URL (the provider's issuer identifier)"), "issuer");
        assert_eq!(sso_field("the client id is needed (from the application registered at the provider)"), "client_id");
        assert_eq!(sso_field("name at least one email domain or group whose people may sign in"), "domains");
    }
}
