//! The admin API's catalogs of declared resource types, under
//! `/admin/v1/tenants/{name}/types/{type}/resources`: `GET` shows a type's rows, `PUT`
//! replaces them all (a JSON array of resources with their ids) and answers what changed.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use serde_json::Value;

use super::{APath, AResult, Operator, body, ok};
use crate::audit::AuditSlot;
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::{AdminTarget, Operation};

async fn show(_: Operator, State(s): State<AppState>, APath((name, ty)): APath<(String, String)>) -> AResult {
    ok(StatusCode::OK, &s.admin.show_catalog(&name, &ty).await?)
}

async fn replace(
    _: Operator,
    State(s): State<AppState>,
    slot: Option<Extension<Arc<AuditSlot>>>,
    APath((name, ty)): APath<(String, String)>,
    b: Bytes,
) -> AResult {
    let rows: Value = body(&b)?;
    let diff = s.admin.replace_catalog(&name, &ty, &rows).await?;
    if let Some(Extension(slot)) = slot
        && let Ok(t) = s.admin.tenant(&name).await
    {
        slot.info.lock().expect("audit slot").tenant = Some(t.id);
    }
    ok(StatusCode::OK, &diff)
}

pub(in crate::http) fn routes(r: Routes<'_>) -> Routes<'_> {
    use Method as M;
    let op = Operation::Admin;
    r.route(
        "/tenants/{name}/types/{type}/resources",
        on(M::GET, op("query", AdminTarget::Nothing), show).on(
            M::PUT,
            op("catalog_replace", AdminTarget::Nothing),
            replace,
        ),
    )
}
