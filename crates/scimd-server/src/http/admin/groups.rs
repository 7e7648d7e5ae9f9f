//! The admin API's groups, under `/admin/v1/tenants/{name}/groups`: list, create
//! (`{"displayName": …, "externalId": …, "id": …}`, the id optional), delete by id or displayName. Each change names
//! its tenant in the request's audit event (operations `group_add`, `group_remove`, apart
//! from SCIM's, so the go-live summary counts only the customer's provisioning).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{APath, AResult, Operator, body, ok};
use crate::audit::AuditSlot;
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::{AdminTarget, Operation};

type Slot = Option<Extension<Arc<AuditSlot>>>;

fn audited(slot: &Slot, t: &scimd_store::Tenant) {
    if let Some(Extension(slot)) = slot {
        slot.info.lock().expect("audit slot").tenant = Some(t.id);
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGroup {
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(rename = "externalId")]
    external_id: Option<String>,
    /// The group's id (a product's own); generated when absent.
    id: Option<String>,
}

async fn list(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.list_groups(&name).await?)
}

async fn create(_: Operator, State(s): State<AppState>, slot: Slot, APath(name): APath<String>, b: Bytes) -> AResult {
    let g: NewGroup = body(&b)?;
    let (t, view) = s.admin.create_group(&name, &g.display_name, g.external_id.as_deref(), g.id.as_deref()).await?;
    audited(&slot, &t);
    ok(StatusCode::CREATED, &view)
}

async fn remove(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, group)): APath<(String, String)>,
) -> AResult {
    let (t, view) = s.admin.delete_group(&name, &group).await?;
    audited(&slot, &t);
    ok(StatusCode::OK, &json!({"deleted": view}))
}

pub(in crate::http) fn routes(r: Routes<'_>) -> Routes<'_> {
    use AdminTarget::{Group, Groups};
    use Method as M;
    let op = Operation::Admin;
    r.route(
        "/tenants/{name}/groups",
        on(M::GET, op("query", Groups), list).on(M::POST, op("group_add", Groups), create),
    )
    .route("/tenants/{name}/groups/{group}", on(M::DELETE, op("group_remove", Group), remove))
}
