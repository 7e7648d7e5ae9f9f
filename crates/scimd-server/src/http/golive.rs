//! HTTP of the go-live check's customer side, with the tenant's own bearer token (as for
//! SCIM): `POST /golive/v1/submissions` submits a test run — the report `scimd sync
//! --report` wrote, or the window and figures (`from`, `to`, `created`, `updated`,
//! `deactivated`, `deleted`, `errors`) — and `GET` lists the tenant's submissions with
//! their decisions and feedback. Errors are SCIM-style JSON.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use scimd_core::ScimError;

use super::AppState;
use super::errors::error_response;
use super::extractors::authenticate;
use super::oauth::json_response;
use crate::admin::{AdminError, Caller};
use crate::audit::AuditSlot;
use crate::onboard::Claim;

type Slot = Option<Extension<Arc<AuditSlot>>>;

fn refused(e: AdminError) -> Response {
    if e.status >= 500 {
        tracing::error!(detail = %e.message, "a go-live request failed");
        return error_response(&ScimError::new(500, None, "internal server error"));
    }
    error_response(&ScimError::new(e.status, None, e.message))
}

/// `POST /golive/v1/submissions`.
pub async fn submit(State(state): State<AppState>, slot: Slot, headers: HeaderMap, body: Bytes) -> Response {
    let slot = slot.as_ref().map(|Extension(s)| &**s);
    let grant = match authenticate(&headers, &state, true, slot).await {
        Ok(g) => g,
        Err(res) => return res,
    };
    let result = async {
        let tenant = state.onboard.tenant_name(grant.tenant).await?;
        let (claim, source) = Claim::from_body(&body)?;
        let by = match &grant.subject {
            Some(user) => format!("client:{} user:{user}", grant.client),
            None => format!("client:{}", grant.client),
        };
        state.onboard.submit(&tenant, claim, source, &by, Caller::Request(slot)).await
    }
    .await;
    match result {
        Ok(s) => json_response(StatusCode::CREATED, &serde_json::to_value(s).unwrap_or_default()),
        Err(e) => refused(e),
    }
}

/// `GET /golive/v1/submissions`.
pub async fn list(State(state): State<AppState>, slot: Slot, headers: HeaderMap) -> Response {
    let slot = slot.as_ref().map(|Extension(s)| &**s);
    let grant = match authenticate(&headers, &state, false, slot).await {
        Ok(g) => g,
        Err(res) => return res,
    };
    let result = async {
        let tenant = state.onboard.tenant_name(grant.tenant).await?;
        state.onboard.submissions(&tenant).await
    }
    .await;
    match result {
        Ok(all) => json_response(StatusCode::OK, &serde_json::to_value(all).unwrap_or_default()),
        Err(e) => refused(e),
    }
}
