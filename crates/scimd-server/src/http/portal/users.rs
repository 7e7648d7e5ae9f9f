//! A tenant's users in the portal: a search with SCIM's filter grammar (a page of 50 at a
//! time, sorted by userName), one user's page (its attributes as SCIM returns them, its
//! groups, a link to its access), and users made, edited, deactivated and deleted by hand.
//! Every change goes through the SCIM use cases (`service`) with the request's audit slot,
//! so the tenant's profile decides what is allowed, exactly as for its clients, and the
//! audit trail records the change with the person.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use scimd_core::profile::Operation as Op;
use scimd_core::projection::Projection;
use scimd_core::schema::ResourceKind;
use scimd_store::IfMatch;
use serde_json::{Value, json};

use super::directory::{
    ListQuery, Listed, Pager, Slot, app_err, attributes, id_of, list_page, opened, patch_op, per_page, refused, str_at,
};
use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::TenantView;
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};
use crate::service::Ctx;

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use axum::http::Method as M;
    r.route("/portal/t/{tenant}/users", on(M::GET, PortalPage, list).on(M::POST, Portal("portal-create-user"), create))
        .route("/portal/t/{tenant}/users/new", on(M::GET, PortalPage, new_form))
        .route(
            "/portal/t/{tenant}/users/{id}",
            on(M::GET, PortalPage, show).on(M::POST, Portal("portal-edit-user"), edit),
        )
        .route("/portal/t/{tenant}/users/{id}/active", on(M::POST, Portal("portal-set-user-active"), set_active))
        .route("/portal/t/{tenant}/users/{id}/delete", on(M::POST, Portal("portal-delete-user"), delete))
}

/// The email a user's form edits: its primary one, else its first.
fn main_email(doc: &Value) -> &str {
    let emails = doc.get("emails").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let e = emails.iter().find(|e| e.get("primary") == Some(&Value::Bool(true))).or(emails.first());
    e.and_then(|e| e.get("value")).and_then(Value::as_str).unwrap_or("")
}

struct UserRow {
    href: String,
    user_name: String,
    name: String,
    active: bool,
    emails: String,
}

impl UserRow {
    fn of(base: &str, doc: &Value) -> UserRow {
        let id = str_at(doc, &["id"]);
        let name = match str_at(doc, &["name", "formatted"]) {
            "" => format!("{} {}", str_at(doc, &["name", "givenName"]), str_at(doc, &["name", "familyName"]))
                .trim()
                .to_string(),
            f => f.to_string(),
        };
        let emails = doc.get("emails").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        UserRow {
            href: format!("{base}/users/{}", seg(id)),
            user_name: str_at(doc, &["userName"]).to_string(),
            name,
            active: doc.get("active") != Some(&Value::Bool(false)),
            emails: emails.iter().filter_map(|e| e.get("value").and_then(Value::as_str)).collect::<Vec<_>>().join(", "),
        }
    }
}

#[derive(Template)]
#[template(path = "portal/users/list.html")]
struct ListPage {
    chrome: Chrome,
    filter: String,
    error: Option<String>,
    rows: Vec<UserRow>,
    pager: Pager,
    create_refused: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: HeaderMap,
    slot: Slot,
    Query(q): Query<ListQuery>,
) -> Response {
    let (t, ctx) = match opened(&state, &viewer, &name, &headers, slot).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let chrome = viewer.chrome("Users").in_tenant(&t.name, "users");
    let filter = q.filter.unwrap_or_default().trim().to_string();
    let start = q.start.unwrap_or(1).max(1);
    let cols = ["userName", "name", "active", "emails"];
    let f = Some(filter.clone()).filter(|f| !f.is_empty());
    let (status, error, listed) =
        match list_page(&state, &ctx, ResourceKind::User, f, Some("userName"), start, &cols).await {
            Ok(l) => (StatusCode::OK, None, l),
            Err(e) if e.status < 500 => (page::status_of(&e), Some(e.message), Listed { total: 0, items: vec![] }),
            Err(e) => return viewer.error(e),
        };
    let base = chrome.base();
    let rows: Vec<UserRow> = listed.items.iter().map(|d| UserRow::of(&base, d)).collect();
    let pager = Pager::new(&format!("{base}/users"), &filter, start, rows.len(), listed.total, per_page(&ctx));
    let create_refused = refused(&ctx.tenancy, ResourceKind::User, Op::Create);
    page::render(status, &ListPage { chrome, filter, error, rows, pager, create_refused })
}

/// The fields of a user's form.
#[derive(Default)]
struct UserForm {
    user_name: String,
    given: String,
    family: String,
    email: String,
    active: bool,
}

impl UserForm {
    fn of_doc(doc: &Value) -> UserForm {
        UserForm {
            user_name: str_at(doc, &["userName"]).into(),
            given: str_at(doc, &["name", "givenName"]).into(),
            family: str_at(doc, &["name", "familyName"]).into(),
            email: main_email(doc).into(),
            active: doc.get("active") != Some(&Value::Bool(false)),
        }
    }

    fn posted(f: &super::session::Fields) -> UserForm {
        UserForm {
            user_name: f.get("userName").trim().into(),
            given: f.get("givenName").trim().into(),
            family: f.get("familyName").trim().into(),
            email: f.get("email").trim().into(),
            active: f.checked("active"),
        }
    }

    /// The SCIM user a new user's form describes.
    fn new_user(&self) -> Value {
        let mut u =
            json!({"schemas": [ResourceKind::User.core_urn()], "userName": self.user_name, "active": self.active});
        let mut name = serde_json::Map::new();
        for (k, v) in [("givenName", &self.given), ("familyName", &self.family)] {
            if !v.is_empty() {
                name.insert(k.into(), json!(v));
            }
        }
        if !name.is_empty() {
            u["name"] = Value::Object(name);
        }
        if !self.email.is_empty() {
            u["emails"] = json!([{"value": self.email, "type": "work", "primary": true}]);
        }
        u
    }

    /// The PATCH operations that make `doc` say what the form says (the other emails kept).
    fn patch(&self, doc: &Value) -> Value {
        let mut ops = vec![json!({"op": "replace", "path": "userName", "value": self.user_name})];
        for (k, v) in [("givenName", &self.given), ("familyName", &self.family)] {
            ops.push(match v.is_empty() {
                true => json!({"op": "remove", "path": format!("name.{k}")}),
                false => json!({"op": "replace", "path": format!("name.{k}"), "value": v}),
            });
        }
        let mut emails = doc.get("emails").and_then(Value::as_array).cloned().unwrap_or_default();
        let old = main_email(doc).to_string();
        let at = emails.iter().position(|e| e.get("value").and_then(Value::as_str) == Some(old.as_str()));
        match (at, self.email.is_empty()) {
            (Some(i), true) => {
                emails.remove(i);
            }
            (Some(i), false) => emails[i]["value"] = json!(self.email),
            (None, false) => emails.push(json!({"value": self.email, "type": "work", "primary": true})),
            (None, true) => {}
        }
        ops.push(match emails.is_empty() {
            true => json!({"op": "remove", "path": "emails"}),
            false => json!({"op": "replace", "path": "emails", "value": emails}),
        });
        patch_op(Value::Array(ops))
    }
}

#[derive(Template)]
#[template(path = "portal/users/new.html")]
struct NewPage {
    chrome: Chrome,
    form: UserForm,
    error: Option<String>,
    create_refused: Option<String>,
    require_name: bool,
}

fn new_page(
    viewer: &Viewer,
    t: &TenantView,
    ctx: &Ctx,
    form: UserForm,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let chrome = viewer.chrome("New user").in_tenant(&t.name, "users");
    let create_refused = refused(&ctx.tenancy, ResourceKind::User, Op::Create);
    page::render(status, &NewPage { chrome, form, error, create_refused, require_name: ctx.tenancy.require_name })
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    headers: HeaderMap,
    slot: Slot,
) -> Response {
    match opened(&state, &viewer, &name, &headers, slot).await {
        Ok((t, ctx)) => {
            new_page(&viewer, &t, &ctx, UserForm { active: true, ..Default::default() }, StatusCode::OK, None)
        }
        Err(res) => res,
    }
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
    let form = UserForm::posted(&fields);
    match state
        .service
        .create(&ctx, ResourceKind::User, &form.new_user(), &Projection::default())
        .await
        .map_err(app_err)
    {
        Ok(r) => {
            let to = format!("/portal/t/{}/users/{}?done={}", seg(&t.name), seg(&id_of(&r.body)), seg("User created."));
            page::see_other(&to)
        }
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            new_page(&viewer, &t, &ctx, form, status, Some(e.message))
        }
        Err(e) => viewer.error(e),
    }
}

struct GroupLink {
    href: String,
    name: String,
}

#[derive(Template)]
#[template(path = "portal/users/show.html")]
struct UserPage {
    chrome: Chrome,
    path: String,
    attrs: Vec<(String, String)>,
    json: String,
    groups: Vec<GroupLink>,
    access: String,
    version: i64,
    form: UserForm,
    error: Option<String>,
    patch_refused: Option<String>,
    delete_refused: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn user_page(
    state: &AppState,
    viewer: &Viewer,
    t: &TenantView,
    ctx: &Ctx,
    id: &str,
    form: Option<UserForm>,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let r = match state.service.get(ctx, ResourceKind::User, id, &Projection::default()).await.map_err(app_err) {
        Ok(r) => r,
        Err(e) => return viewer.error(e),
    };
    let doc: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let chrome = viewer.chrome(str_at(&doc, &["userName"]).to_string()).in_tenant(&t.name, "users");
    let base = chrome.base();
    let id = str_at(&doc, &["id"]).to_string();
    let groups = doc
        .get("groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|g| GroupLink {
            href: format!("{base}/groups/{}", seg(str_at(g, &["value"]))),
            name: match str_at(g, &["display"]) {
                "" => str_at(g, &["value"]).to_string(),
                d => d.to_string(),
            },
        })
        .collect();
    let p = UserPage {
        path: format!("{base}/users/{}", seg(&id)),
        access: format!("{base}/places/access/{}", seg(&id)),
        attrs: attributes(&doc),
        json: serde_json::to_string_pretty(&doc).unwrap_or_default(),
        groups,
        version: r.version,
        form: form.unwrap_or_else(|| UserForm::of_doc(&doc)),
        error,
        patch_refused: refused(&ctx.tenancy, ResourceKind::User, Op::Patch),
        delete_refused: refused(&ctx.tenancy, ResourceKind::User, Op::Delete),
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
) -> Response {
    match opened(&state, &viewer, &name, &headers, slot).await {
        Ok((t, ctx)) => user_page(&state, &viewer, &t, &ctx, &id, None, StatusCode::OK, None).await,
        Err(res) => res,
    }
}

/// The version a form was shown with, as `If-Match`: a user changed since is not overwritten.
fn if_match(fields: &super::session::Fields) -> Option<IfMatch> {
    fields.opt("version").and_then(|v| v.parse().ok()).map(|v| IfMatch::Versions(vec![v]))
}

fn done(t: &TenantView, id: &str, what: &str) -> Response {
    page::see_other(&format!("/portal/t/{}/users/{}?done={}", seg(&t.name), seg(id), seg(what)))
}

pub(super) async fn edit(
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
    let mut form = UserForm::posted(&fields);
    let current = match state.service.get(&ctx, ResourceKind::User, &id, &Projection::default()).await.map_err(app_err)
    {
        Ok(r) => serde_json::from_slice::<Value>(&r.body).unwrap_or(Value::Null),
        Err(e) => return viewer.error(e),
    };
    // The form edits the attributes, not the status (its own buttons).
    form.active = UserForm::of_doc(&current).active;
    let patch = form.patch(&current);
    match state.service.patch(&ctx, ResourceKind::User, &id, &patch, if_match(&fields), &Projection::default()).await {
        Ok(_) => done(&t, &id, "User saved."),
        Err(e) => {
            let mut e = app_err(e);
            if e.status >= 500 {
                return viewer.error(e);
            }
            if e.status == 412 {
                e.message = "Someone changed this user after you opened it: nothing was saved. The page now shows the \
                             user as it is; make your change again."
                    .into();
                let status = StatusCode::PRECONDITION_FAILED;
                return user_page(&state, &viewer, &t, &ctx, &id, None, status, Some(e.message)).await;
            }
            let status = page::status_of(&e);
            user_page(&state, &viewer, &t, &ctx, &id, Some(form), status, Some(e.message)).await
        }
    }
}

pub(super) async fn set_active(
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
    let on = fields.checked("active");
    let patch = patch_op(json!([{"op": "replace", "path": "active", "value": on}]));
    match state.service.patch(&ctx, ResourceKind::User, &id, &patch, if_match(&fields), &Projection::default()).await {
        Ok(_) => done(&t, &id, if on { "User reactivated." } else { "User deactivated." }),
        Err(e) => {
            let e = app_err(e);
            if e.status >= 500 {
                return viewer.error(e);
            }
            let status = page::status_of(&e);
            user_page(&state, &viewer, &t, &ctx, &id, None, status, Some(e.message)).await
        }
    }
}

pub(super) async fn delete(
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
    match state.service.delete(&ctx, ResourceKind::User, &id, if_match(&fields)).await.map_err(app_err) {
        Ok(()) if ctx.tenancy.delete_deactivates => {
            done(&t, &id, "User deactivated (this tenant keeps deleted users).")
        }
        Ok(()) => page::see_other(&format!("/portal/t/{}/users?done={}", seg(&t.name), seg("User deleted."))),
        Err(e) if e.status < 500 && e.status != 404 => {
            let status = page::status_of(&e);
            user_page(&state, &viewer, &t, &ctx, &id, None, status, Some(e.message)).await
        }
        Err(e) => viewer.error(e),
    }
}
