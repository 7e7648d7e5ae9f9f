//! A tenant's groups in the portal: a list (filtered, paged), one group's page (its
//! members a page at a time, a member added by userName or removed), and groups made,
//! renamed and deleted. Through the SCIM use cases where the tenant's profile offers the
//! operation; where it does not (the locker preset's groups are configured in the
//! product, not by the identity provider), groups are made and deleted as the operator's
//! groups (`admin::groups`), and members are changed through the user's `groups` where
//! the profile lets users carry them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use scimd_core::profile::Operation as Op;
use scimd_core::schema::ResourceKind;
use serde_json::{Value, json};

use super::directory::{
    ListQuery, Listed, Pager, Slot, app_err, attributes, id_of, list_page, opened, patch_op, per_page, refused, str_at,
    text,
};
use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::{AdminError, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};
use crate::service::{Ctx, Tenancy};

const G: ResourceKind = ResourceKind::Group;
const U: ResourceKind = ResourceKind::User;

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use axum::http::Method as M;
    r.route(
        "/portal/t/{tenant}/groups",
        on(M::GET, PortalPage, list).on(M::POST, Portal("portal-create-group"), create),
    )
    .route("/portal/t/{tenant}/groups/{id}", on(M::GET, PortalPage, show))
    .route("/portal/t/{tenant}/groups/{id}/rename", on(M::POST, Portal("portal-rename-group"), rename))
    .route("/portal/t/{tenant}/groups/{id}/members", on(M::POST, Portal("portal-add-member"), add_member))
    .route("/portal/t/{tenant}/groups/{id}/members/remove", on(M::POST, Portal("portal-remove-member"), remove_member))
    .route("/portal/t/{tenant}/groups/{id}/delete", on(M::POST, Portal("portal-delete-group"), delete))
}

/// How members are changed for this tenant: through the group, through the user's
/// `groups`, or not at all (why).
enum Membership {
    Group,
    User,
    Refused(String),
}

fn membership(t: &Tenancy) -> Membership {
    match refused(t, G, Op::Patch) {
        None => Membership::Group,
        Some(_) if t.user_groups_settable && refused(t, U, Op::Patch).is_none() => Membership::User,
        Some(why) => Membership::Refused(why),
    }
}

/// Why groups cannot be made here at all (a profile that offers no groups).
fn not_offered(t: &Tenancy) -> Option<String> {
    (!t.groups.offered).then(|| "This tenant's profile offers no groups.".to_string())
}

struct GroupRow {
    href: String,
    name: String,
}

#[derive(Template)]
#[template(path = "portal/groups/list.html")]
struct ListPage {
    chrome: Chrome,
    filter: String,
    error: Option<String>,
    rows: Vec<GroupRow>,
    pager: Pager,
    create_refused: Option<String>,
    new_name: String,
    create_error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn list_page_of(
    state: &AppState,
    viewer: &Viewer,
    t: &TenantView,
    ctx: &Ctx,
    q: ListQuery,
    status: StatusCode,
    new_name: String,
    create_error: Option<String>,
) -> Response {
    let chrome = viewer.chrome("Groups").in_tenant(&t.name, "groups");
    let filter = q.filter.unwrap_or_default().trim().to_string();
    let start = q.start.unwrap_or(1).max(1);
    let (mut status, mut error, mut listed) = (status, None, Listed { total: 0, items: vec![] });
    if let Some(why) = not_offered(&ctx.tenancy) {
        error = Some(why);
    } else {
        let f = Some(filter.clone()).filter(|f| !f.is_empty());
        match list_page(state, ctx, G, f, Some("displayName"), start, &["displayName"]).await {
            Ok(l) => listed = l,
            Err(e) if e.status < 500 => {
                status = page::status_of(&e);
                error = Some(e.message);
            }
            Err(e) => return viewer.error(e),
        }
    }
    let base = chrome.base();
    let rows: Vec<GroupRow> = listed
        .items
        .iter()
        .map(|g| GroupRow {
            href: format!("{base}/groups/{}", seg(str_at(g, &["id"]))),
            name: g.get("displayName").map(text).unwrap_or_default(),
        })
        .collect();
    let pager = Pager::new(&format!("{base}/groups"), &filter, start, rows.len(), listed.total, per_page(ctx));
    let create_refused = not_offered(&ctx.tenancy);
    let p = ListPage { chrome, filter, error, rows, pager, create_refused, new_name, create_error };
    page::render(status, &p)
}

pub(super) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: HeaderMap,
    slot: Slot,
    Query(q): Query<ListQuery>,
) -> Response {
    match opened(&state, &viewer, &name, &headers, slot).await {
        Ok((t, ctx)) => list_page_of(&state, &viewer, &t, &ctx, q, StatusCode::OK, String::new(), None).await,
        Err(res) => res,
    }
}

fn to_group(t: &TenantView, id: &str, what: &str) -> Response {
    page::see_other(&format!("/portal/t/{}/groups/{}?done={}", seg(&t.name), seg(id), seg(what)))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let (t, ctx) = match opened(&state, &viewer, &name, &headers, slot).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let display = fields.get("displayName").trim().to_string();
    let made = if let Some(why) = not_offered(&ctx.tenancy) {
        Err(AdminError { status: 403, message: why })
    } else if refused(&ctx.tenancy, G, Op::Create).is_none() {
        let body = json!({"schemas": [G.core_urn()], "displayName": display});
        let proj = Default::default();
        state.service.create(&ctx, G, &body, &proj).await.map(|r| id_of(&r.body)).map_err(app_err)
    } else {
        // The product's own groups: made as the operator's groups.
        state.admin.create_group(&t.name, &display, None, None).await.map(|(_, g)| g.id)
    };
    match made {
        Ok(id) => to_group(&t, &id, "Group created."),
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            list_page_of(&state, &viewer, &t, &ctx, ListQuery::default(), status, display, Some(e.message)).await
        }
        Err(e) => viewer.error(e),
    }
}

struct Member {
    href: String,
    user_name: String,
    id: String,
}

#[derive(Template)]
#[template(path = "portal/groups/show.html")]
struct GroupPage {
    chrome: Chrome,
    path: String,
    display: String,
    attrs: Vec<(String, String)>,
    json: String,
    members: Vec<Member>,
    pager: Pager,
    user_name: String,
    error: Option<String>,
    members_refused: Option<String>,
    rename_refused: Option<String>,
    operators_group: bool,
}

#[allow(clippy::too_many_arguments)]
async fn group_page(
    state: &AppState,
    viewer: &Viewer,
    t: &TenantView,
    ctx: &Ctx,
    id: &str,
    start: u64,
    status: StatusCode,
    user_name: String,
    error: Option<String>,
) -> Response {
    // Its members are listed a page at a time below, never all at once.
    let proj = match state.service.projection(ctx, G, None, Some("members")) {
        Ok(p) => p,
        Err(e) => return viewer.error(app_err(e)),
    };
    let doc = match state.service.get(ctx, G, id, &proj).await {
        Ok(r) => serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null),
        Err(e) => return viewer.error(app_err(e)),
    };
    let display = doc.get("displayName").map(text).unwrap_or_default();
    let chrome = viewer.chrome(display.clone()).in_tenant(&t.name, "groups");
    let base = chrome.base();
    let gid = doc.get("id").and_then(Value::as_str).unwrap_or(id).to_string();
    let quoted = serde_json::to_string(&gid).unwrap_or_default();
    let filter = format!("groups.value eq {quoted}");
    let listed = match list_page(state, ctx, U, Some(filter), Some("userName"), start, &["userName"]).await {
        Ok(l) => l,
        Err(e) => return viewer.error(e),
    };
    let members: Vec<Member> = listed
        .items
        .iter()
        .map(|u| {
            let id = str_at(u, &["id"]).to_string();
            Member {
                href: format!("{base}/users/{}", seg(&id)),
                user_name: u.get("userName").map(text).unwrap_or_default(),
                id,
            }
        })
        .collect();
    let path = format!("{base}/groups/{}", seg(&gid));
    let pager = Pager::new(&path, "", start, members.len(), listed.total, per_page(ctx));
    let members_refused = match membership(&ctx.tenancy) {
        Membership::Refused(why) => Some(why),
        _ => None,
    };
    let p = GroupPage {
        path,
        attrs: attributes(&doc),
        json: serde_json::to_string_pretty(&doc).unwrap_or_default(),
        display,
        members,
        pager,
        user_name,
        error,
        members_refused,
        rename_refused: refused(&ctx.tenancy, G, Op::Patch),
        operators_group: refused(&ctx.tenancy, G, Op::Delete).is_some(),
        chrome,
    };
    page::render(status, &p)
}

pub(super) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    slot: Slot,
    Query(q): Query<ListQuery>,
) -> Response {
    match opened(&state, &viewer, &name, &headers, slot).await {
        Ok((t, ctx)) => {
            let start = q.start.unwrap_or(1);
            group_page(&state, &viewer, &t, &ctx, &id, start, StatusCode::OK, String::new(), None).await
        }
        Err(res) => res,
    }
}

/// The group's page after a refused change: the error in place.
async fn refused_page(
    state: &AppState,
    viewer: &Viewer,
    t: &TenantView,
    ctx: &Ctx,
    id: &str,
    user: String,
    e: AdminError,
) -> Response {
    if e.status >= 500 {
        return viewer.error(e);
    }
    let status = page::status_of(&e);
    group_page(state, viewer, t, ctx, id, 1, status, user, Some(e.message)).await
}

pub(super) async fn rename(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let (t, ctx) = match opened(&state, &viewer, &name, &headers, slot).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let display = fields.get("displayName").trim();
    let patch = patch_op(json!([{"op": "replace", "path": "displayName", "value": display}]));
    match state.service.patch(&ctx, G, &id, &patch, None, &Default::default()).await {
        Ok(_) => to_group(&t, &id, "Group renamed."),
        Err(e) => refused_page(&state, &viewer, &t, &ctx, &id, String::new(), app_err(e)).await,
    }
}

/// The id of the tenant's user named `user_name`.
async fn user_id(state: &AppState, ctx: &Ctx, user_name: &str) -> Result<String, AdminError> {
    let quoted = serde_json::to_string(user_name).map_err(AdminError::internal)?;
    let found = list_page(state, ctx, U, Some(format!("userName eq {quoted}")), None, 1, &["userName"]).await?;
    found
        .items
        .first()
        .and_then(|u| u.get("id").and_then(Value::as_str))
        .map(str::to_string)
        .ok_or_else(|| AdminError::not_found(format!("no user named '{user_name}'")))
}

/// Puts `user` in the group (`add`) or takes them out.
async fn change_member(state: &AppState, ctx: &Ctx, group: &str, user: &str, add: bool) -> Result<(), AdminError> {
    let (kind, id, patch) = match (membership(&ctx.tenancy), add) {
        (Membership::Refused(why), _) => return Err(AdminError { status: 405, message: why }),
        (Membership::Group, true) => {
            (G, group, patch_op(json!([{"op": "add", "path": "members", "value": [{"value": user}]}])))
        }
        (Membership::Group, false) => {
            let path = format!("members[value eq {}]", serde_json::to_string(user).map_err(AdminError::internal)?);
            (G, group, patch_op(json!([{"op": "remove", "path": path}])))
        }
        (Membership::User, true) => {
            (U, user, patch_op(json!([{"op": "add", "path": "groups", "value": [{"value": group}]}])))
        }
        (Membership::User, false) => {
            let path = format!("groups[value eq {}]", serde_json::to_string(group).map_err(AdminError::internal)?);
            (U, user, patch_op(json!([{"op": "remove", "path": path}])))
        }
    };
    state.service.patch(ctx, kind, id, &patch, None, &Default::default()).await.map(|_| ()).map_err(app_err)
}

pub(super) async fn add_member(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let (t, ctx) = match opened(&state, &viewer, &name, &headers, slot).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let user_name = fields.get("userName").trim().to_string();
    let added = match user_id(&state, &ctx, &user_name).await {
        Ok(user) => change_member(&state, &ctx, &id, &user, true).await,
        Err(e) => Err(e),
    };
    match added {
        Ok(()) => to_group(&t, &id, &format!("{user_name} added.")),
        Err(e) => refused_page(&state, &viewer, &t, &ctx, &id, user_name, e).await,
    }
}

pub(super) async fn remove_member(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let (t, ctx) = match opened(&state, &viewer, &name, &headers, slot).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    match change_member(&state, &ctx, &id, fields.get("user"), false).await {
        Ok(()) => to_group(&t, &id, "Member removed."),
        Err(e) => refused_page(&state, &viewer, &t, &ctx, &id, String::new(), e).await,
    }
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, .. } = submit;
    let (t, ctx) = match opened(&state, &viewer, &name, &headers, slot).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let deleted = if refused(&ctx.tenancy, G, Op::Delete).is_none() {
        state.service.delete(&ctx, G, &id, None).await.map_err(app_err)
    } else if let Some(why) = not_offered(&ctx.tenancy) {
        Err(AdminError { status: 403, message: why })
    } else {
        // The product's own groups: deleted as the operator's groups.
        state.admin.delete_group(&t.name, &id).await.map(|_| ())
    };
    match deleted {
        Ok(()) => page::see_other(&format!("/portal/t/{}/groups?done={}", seg(&t.name), seg("Group deleted."))),
        Err(e) => refused_page(&state, &viewer, &t, &ctx, &id, String::new(), e).await,
    }
}
