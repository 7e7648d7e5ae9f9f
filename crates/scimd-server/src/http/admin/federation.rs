//! The admin API of credentials without shared secrets: a tenant's federated trusts
//! (listed, added, removed) and how a client authenticates (a secret or
//! `private_key_jwt`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use serde_json::json;

use super::{APath, AResult, Operator, body, ok};
use crate::admin::{ClientKeysSpec, TrustSpec};
use crate::http::AppState;
use crate::http::routes::{Routes, all};
use crate::operation::{AdminTarget, Operation};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTrust {
    name: String,
    issuer: String,
    jwks_uri: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    subjects: Vec<String>,
    #[serde(default)]
    claims: BTreeMap<String, String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    accept_bearer: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Authentication {
    auth_method: String,
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    trust: Option<String>,
}

async fn list_trusts(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.list_trusts(&name).await?)
}

async fn add_trust(_: Operator, State(s): State<AppState>, APath(name): APath<String>, b: Bytes) -> AResult {
    let t: NewTrust = body(&b)?;
    let spec = TrustSpec {
        name: t.name,
        issuer: t.issuer,
        jwks_uri: t.jwks_uri,
        audiences: t.audiences,
        subjects: t.subjects,
        claims: t.claims,
        scopes: t.scopes,
        accept_bearer: t.accept_bearer,
    };
    let added = s.admin.add_trust(&name, spec).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::CREATED, &added)
}

async fn remove_trust(
    _: Operator,
    State(s): State<AppState>,
    APath((name, trust)): APath<(String, String)>,
) -> AResult {
    s.admin.remove_trust(&name, &trust).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::OK, &json!({"removed": trust}))
}

/// Sets how a client authenticates (`{"auth_method": "private_key_jwt", "jwks": {...}}`,
/// or `"jwks_uri"`, or `"trust"`; `{"auth_method": "client_secret"}` to go back).
async fn set_authentication(_: Operator, State(s): State<AppState>, APath(id): APath<String>, b: Bytes) -> AResult {
    let a: Authentication = body(&b)?;
    let spec = ClientKeysSpec {
        auth_method: a.auth_method,
        jwks: a.jwks.map(|v| v.to_string()),
        jwks_uri: a.jwks_uri,
        trust: a.trust,
    };
    let view = s.admin.set_client_keys(&id, spec).await?;
    s.oauth.credentials_changed().await;
    ok(StatusCode::OK, &view)
}

pub(in crate::http) fn routes(r: Routes<'_>) -> Routes<'_> {
    let admin = |m| all(Operation::Admin("admin", AdminTarget::Nothing), m);
    r.route("/tenants/{name}/trusts", admin(get(list_trusts).post(add_trust)))
        .route("/tenants/{name}/trusts/{trust}", admin(delete(remove_trust)))
        .route("/clients/{id}/authentication", admin(put(set_authentication)))
}
