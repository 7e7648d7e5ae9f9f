//! The credentials page's OAuth clients: a new client of the tenant, a new secret for one
//! (a rotation: the old stays valid until revoked), a secret revoked. Which clients the
//! person may change is the use case's to say (`admin::Reach`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Forms, Shown, done, reach, refused, render};
use crate::http::AppState;
use crate::http::portal::session::Submit;

pub(super) async fn create(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let grants: Vec<String> = fields.all("grant").to_vec();
    let scopes = fields.get("scopes");
    let forms = Forms {
        grants: grants.clone(),
        scopes: scopes.to_string(),
        secret_days: fields.get("secret_days").to_string(),
        ..Forms::default()
    };
    let days = match crate::admin::lifetime_days(fields.get("secret_days")) {
        Ok(d) => d,
        Err(e) => return refused(&state, &viewer, &tenant, e, "secret_days", forms).await,
    };
    match state.admin.create_tenant_client(&tenant.name, &grants, scopes, days).await {
        Ok(c) => {
            let shown = Shown {
                heading: "OAuth client created".into(),
                facts: vec![("Client id", c.client_id)],
                label: "Client secret",
                secret: c.client_secret,
            };
            render(&state, &viewer, &tenant, StatusCode::OK, Some(shown), Forms::default()).await
        }
        Err(e) => {
            let field = if e.message.contains("scope") { "scopes" } else { "grant" };
            refused(&state, &viewer, &tenant, e, field, forms).await
        }
    }
}

pub(super) async fn add_secret(
    State(state): State<AppState>,
    Path((name, client)): Path<(String, String)>,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let days = match crate::admin::lifetime_days(fields.get("days")) {
        Ok(d) => d,
        Err(e) => return viewer.error(e),
    };
    match state.admin.add_tenant_secret(&tenant.name, &client, reach(&viewer), days).await {
        Ok(s) => {
            let shown = Shown {
                heading: format!("New secret {} of the client", s.secret_id),
                facts: vec![("Client id", s.client_id)],
                label: "Client secret",
                secret: s.client_secret,
            };
            render(&state, &viewer, &tenant, StatusCode::OK, Some(shown), Forms::default()).await
        }
        Err(e) => viewer.error(e),
    }
}

pub(super) async fn revoke_secret(
    State(state): State<AppState>,
    Path((name, client, id)): Path<(String, String, i64)>,
    submit: Submit,
) -> Response {
    let viewer = submit.viewer;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    match state.admin.revoke_tenant_secret(&tenant.name, &client, id, reach(&viewer)).await {
        Ok(()) => {
            state.oauth.credentials_changed().await;
            done(&tenant.name, "secret-revoked")
        }
        Err(e) => viewer.error(e),
    }
}
