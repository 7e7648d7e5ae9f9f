//! The admin API's event streams, under `/admin/v1/tenants/{name}/events/streams`: list,
//! create (`{"method", "url", "audience", "full", "filter": {"resourceTypes", "events"},
//! "bearer_token"}`, answered 201 with the stream's one-time secret or token), show,
//! delete, pause and resume. Each change names its tenant and stream in the request's
//! audit event (operations `stream_add`, `stream_pause`, `stream_resume`,
//! `stream_delete`, resource type `EventStream`).

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::json;

use super::{APath, AResult, Operator, body, ok};
use crate::admin::{Caller, StreamSpec};
use crate::audit::AuditSlot;
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::{AdminTarget, Operation};

type Slot = Option<Extension<Arc<AuditSlot>>>;

fn caller(slot: &Slot) -> Caller<'_> {
    Caller::Request(slot.as_ref().map(|Extension(s)| &**s))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Filter {
    #[serde(rename = "resourceTypes")]
    resource_types: Option<Vec<String>>,
    events: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewStream {
    /// `push`, `poll` or `webhook`.
    method: String,
    url: Option<String>,
    audience: Option<String>,
    #[serde(default)]
    full: bool,
    #[serde(default)]
    filter: Filter,
    /// The token a push receiver expects (`Authorization: Bearer …`).
    bearer_token: Option<String>,
}

async fn list(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.list_streams(&name).await?)
}

async fn create(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    headers: HeaderMap,
    APath(name): APath<String>,
    b: Bytes,
) -> AResult {
    let n: NewStream = body(&b)?;
    let spec = StreamSpec {
        method: n.method,
        url: n.url,
        audience: n.audience,
        full: n.full,
        resource_types: n.filter.resource_types,
        events: n.filter.events,
        bearer_token: n.bearer_token,
    };
    // The poll URL as the operator reaches this server (its public URL when configured).
    let root = crate::http::origin::origin(&s.http, &headers).root;
    ok(StatusCode::CREATED, &s.admin.add_stream(&name, spec, Some(&root), caller(&slot)).await?)
}

async fn show(_: Operator, State(s): State<AppState>, APath((name, id)): APath<(String, String)>) -> AResult {
    ok(StatusCode::OK, &s.admin.stream(&name, &id).await?)
}

async fn remove(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, id)): APath<(String, String)>,
) -> AResult {
    ok(StatusCode::OK, &json!({"deleted": s.admin.delete_stream(&name, &id, caller(&slot)).await?}))
}

async fn pause(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, id)): APath<(String, String)>,
) -> AResult {
    ok(StatusCode::OK, &s.admin.pause_stream(&name, &id, true, caller(&slot)).await?)
}

async fn resume(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, id)): APath<(String, String)>,
) -> AResult {
    ok(StatusCode::OK, &s.admin.pause_stream(&name, &id, false, caller(&slot)).await?)
}

pub(in crate::http) fn routes(r: Routes<'_>) -> Routes<'_> {
    use AdminTarget::{Stream, Streams};
    use Method as M;
    let op = Operation::Admin;
    r.route(
        "/tenants/{name}/events/streams",
        on(M::GET, op("query", Streams), list).on(M::POST, op("stream_add", Streams), create),
    )
    .route(
        "/tenants/{name}/events/streams/{id}",
        on(M::GET, op("query", Stream), show).on(M::DELETE, op("stream_delete", Stream), remove),
    )
    .route("/tenants/{name}/events/streams/{id}/pause", on(M::POST, op("stream_pause", Stream), pause))
    .route("/tenants/{name}/events/streams/{id}/resume", on(M::POST, op("stream_resume", Stream), resume))
}
