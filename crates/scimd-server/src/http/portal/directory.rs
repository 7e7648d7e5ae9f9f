//! What the portal's pages of a tenant's users and groups share: the SCIM context of a
//! portal request (the tenant's profile, the request's audit slot with the person on it),
//! a page of a list through the SCIM list use case, the pager, and the profile's reason to
//! refuse an operation (its SCIM error's words).

use std::sync::Arc;

use axum::Extension;
use axum::http::HeaderMap;
use axum::response::Response;
use scimd_core::list::ListParams;
use scimd_core::profile::Operation as Op;
use scimd_core::schema::ResourceKind;
use scimd_store::TenantId;
use serde_json::Value;

use super::page::seg;
use super::session::Viewer;
use crate::admin::{AdminError, TenantView};
use crate::audit::AuditSlot;
use crate::http::AppState;
use crate::service::{AppError, Ctx, Tenancy};

/// Rows on a page of a list.
pub(super) const PAGE: u64 = 50;

/// Rows on a page for this tenant: [`PAGE`], or fewer when its profile's largest page is smaller.
pub(super) fn per_page(ctx: &Ctx) -> u64 {
    ctx.tenancy.max_page_size.map_or(PAGE, |m| m.clamp(1, PAGE))
}

/// The request's audit slot, for the changes the SCIM use cases write.
pub(super) type Slot = Option<Extension<Arc<AuditSlot>>>;

/// A use case's error as the portal shows it (a SCIM error's detail for the person).
pub(super) fn app_err(e: AppError) -> AdminError {
    match e {
        AppError::Scim(e) => AdminError { status: e.status, message: e.detail },
        AppError::Internal(m) => AdminError::internal(m),
    }
}

/// The SCIM context of a portal request on `tenant`: the tenant's profile, and the
/// request's audit slot (the person is already noted on it).
pub(super) async fn scim_ctx(
    state: &AppState,
    t: &TenantView,
    headers: &HeaderMap,
    slot: Slot,
) -> Result<Ctx, AdminError> {
    let id = TenantId(t.id);
    let tenancy = state.service.profile(id).await.map_err(app_err)?;
    Ok(crate::http::extractors::ctx(state, id, tenancy, headers, slot.map(|Extension(s)| s), "/scim/v2"))
}

/// Why the profile refuses `op` on `kind`, if it does (its SCIM error's words).
pub(super) fn refused(t: &Tenancy, kind: ResourceKind, op: Op) -> Option<String> {
    t.check(kind, op).err().map(|e| e.detail)
}

/// A page of a list: the total and the resources.
pub(super) struct Listed {
    pub total: u64,
    pub items: Vec<Value>,
}

/// One page (of [`per_page`]) of `kind` matching `filter`, sorted by `sort`, from `start`.
pub(super) async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    kind: ResourceKind,
    filter: Option<String>,
    sort: Option<&str>,
    start: u64,
    attributes: &[&str],
) -> Result<Listed, AdminError> {
    let params = ListParams {
        filter,
        sort_by: sort.map(str::to_string),
        start_index: Some(start.max(1) as i64),
        count: Some(per_page(ctx) as i64),
        attributes: attributes.iter().map(|a| a.to_string()).collect(),
        ..ListParams::default()
    };
    let body = state.service.list(ctx, kind, &params).await.map_err(app_err)?;
    let mut v: Value = serde_json::from_slice(&body).map_err(AdminError::internal)?;
    let total = v.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
    let items = match v.get_mut("Resources").map(Value::take) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    Ok(Listed { total, items })
}

/// The links of a paged list: previous and next pages, and which rows are shown.
pub(super) struct Pager {
    pub total: u64,
    pub from: u64,
    pub to: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// For a page starting at `start` showing `shown` rows of `total`, at `path` with `filter`.
    pub fn new(path: &str, filter: &str, start: u64, shown: usize, total: u64, per: u64) -> Pager {
        let link = |s: u64| {
            let f = if filter.is_empty() { String::new() } else { format!("filter={}&", seg(filter)) };
            format!("{path}?{f}start={s}")
        };
        let start = start.max(1);
        let to = start + shown as u64 - u64::from(shown > 0);
        Pager {
            total,
            from: if shown > 0 { start } else { 0 },
            to,
            prev: (start > 1).then(|| link(start.saturating_sub(per).max(1))),
            next: (start + (shown as u64) <= total && shown > 0).then(|| link(start + shown as u64)),
        }
    }
}

/// A list's query: the filter and the first row's index.
#[derive(serde::Deserialize, Default)]
pub(super) struct ListQuery {
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub start: Option<u64>,
}

/// A value of a document as text for a page: strings as they are, the rest as JSON.
pub(super) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A document's top-level attributes as (name, value) for a definition list.
pub(super) fn attributes(doc: &Value) -> Vec<(String, String)> {
    doc.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), text(v))).collect()).unwrap_or_default()
}

/// A tenant opened for a form, with its SCIM context; or the page refusing it.
pub(super) async fn opened(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    headers: &HeaderMap,
    slot: Slot,
) -> Result<(TenantView, Ctx), Response> {
    let t = viewer.open(state, name).await?;
    let ctx = scim_ctx(state, &t, headers, slot).await.map_err(|e| viewer.error(e))?;
    Ok((t, ctx))
}

/// A SCIM PATCH request of these operations.
pub(super) fn patch_op(ops: Value) -> Value {
    serde_json::json!({"schemas": [scimd_core::patch::PATCH_URN], "Operations": ops})
}

/// A string of a document at `path` (`["name", "givenName"]`), or "".
pub(super) fn str_at<'a>(doc: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(doc, |v, k| v.get(*k)).and_then(Value::as_str).unwrap_or("")
}

/// The `id` of a resource as a SCIM use case rendered it, or "".
pub(super) fn id_of(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body).ok().map(|d| str_at(&d, &["id"]).to_string()).unwrap_or_default()
}
