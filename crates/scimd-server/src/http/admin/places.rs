//! The admin API's places and access routes, under `/admin/v1/tenants/{name}`: the places tree,
//! one place, location rules, access links (a group to a locker, a bank, a section or a
//! location), and the questions asked of them. Every change names its tenant in the request's
//! audit event, and makes the running service reread the tenant's places.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use scimd_core::places::Level;
use scimd_store::Tenant;
use serde_json::{Value, json};

use super::{APath, AQuery, AResult, Operator, body, ok};
use crate::admin::AdminError;
use crate::audit::AuditSlot;
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::{AdminTarget, Operation};

type Slot = Option<Extension<Arc<AuditSlot>>>;

/// Names the tenant in the request's audit event, and drops the service's cached view of
/// its places (schemas, rules) so that the change applies at once in this process.
fn changed(s: &AppState, slot: &Slot, t: &Tenant) {
    if let Some(Extension(slot)) = slot {
        slot.info.lock().expect("audit slot").tenant = Some(t.id);
    }
    s.service.forget_profile(t.id);
}

fn level(s: &str) -> Result<Level, AdminError> {
    Level::parse(s).ok_or_else(|| AdminError {
        status: 404,
        message: format!("no such kind of place '{s}': locations, sections, banks or lockers"),
    })
}

async fn tree(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.places_tree(&name).await?)
}

async fn import(_: Operator, State(s): State<AppState>, slot: Slot, APath(name): APath<String>, b: Bytes) -> AResult {
    let tree: Value = body(&b)?;
    let report = s.admin.import_places(&name, &tree).await?;
    changed(&s, &slot, &s.admin.tenant(&name).await?);
    ok(StatusCode::OK, &report)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPlace {
    key: String,
    name: Option<String>,
    parent: Option<String>,
}

async fn create(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, kind)): APath<(String, String)>,
    b: Bytes,
) -> AResult {
    let p: NewPlace = body(&b)?;
    let place = s.admin.create_place(&name, level(&kind)?, &p.key, p.name.as_deref(), p.parent.as_deref()).await?;
    changed(&s, &slot, &s.admin.tenant(&name).await?);
    ok(StatusCode::CREATED, &place)
}

async fn one(
    _: Operator,
    State(s): State<AppState>,
    APath((name, kind, key)): APath<(String, String, String)>,
) -> AResult {
    let l = level(&kind)?;
    let place = s.admin.list_places(&name).await?.into_iter().find(|p| p.level == l && p.key == key);
    match place {
        Some(p) => ok(StatusCode::OK, &p),
        None => Err(AdminError { status: 404, message: format!("no {} with the key '{key}'", l.name()) }),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    name: String,
}

async fn rename(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, kind, key)): APath<(String, String, String)>,
    b: Bytes,
) -> AResult {
    let r: Rename = body(&b)?;
    s.admin.rename_place(&name, level(&kind)?, &key, &r.name).await?;
    changed(&s, &slot, &s.admin.tenant(&name).await?);
    ok(StatusCode::OK, &json!({"key": key, "name": r.name}))
}

#[derive(serde::Deserialize)]
struct DeleteParams {
    #[serde(default)]
    cascade: bool,
}

async fn remove(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, kind, key)): APath<(String, String, String)>,
    AQuery(q): AQuery<DeleteParams>,
) -> AResult {
    let n = s.admin.delete_place(&name, level(&kind)?, &key, q.cascade).await?;
    changed(&s, &slot, &s.admin.tenant(&name).await?);
    ok(StatusCode::OK, &json!({"deleted": n}))
}

fn only_locations(kind: &str) -> Result<(), AdminError> {
    match level(kind)? {
        Level::Location => Ok(()),
        other => {
            Err(AdminError { status: 404, message: format!("rules belong to locations, not to a {}", other.name()) })
        }
    }
}

async fn get_rules(
    _: Operator,
    State(s): State<AppState>,
    APath((name, kind, key)): APath<(String, String, String)>,
) -> AResult {
    only_locations(&kind)?;
    ok(StatusCode::OK, &s.admin.location_rules(&name, &key).await?)
}

async fn put_rules(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, kind, key)): APath<(String, String, String)>,
    b: Bytes,
) -> AResult {
    only_locations(&kind)?;
    let rules: Value = body(&b)?;
    let (t, stored) = s.admin.set_location_rules(&name, &key, Some(&rules)).await?;
    changed(&s, &slot, &t);
    ok(StatusCode::OK, &stored)
}

async fn delete_rules(
    _: Operator,
    State(s): State<AppState>,
    slot: Slot,
    APath((name, kind, key)): APath<(String, String, String)>,
) -> AResult {
    only_locations(&kind)?;
    let (t, _) = s.admin.set_location_rules(&name, &key, None).await?;
    changed(&s, &slot, &t);
    ok(StatusCode::OK, &Value::Null)
}

#[derive(serde::Deserialize)]
struct Paging {
    #[serde(rename = "startIndex")]
    start_index: Option<u64>,
    count: Option<u64>,
}

async fn place_users(
    _: Operator,
    State(s): State<AppState>,
    APath((name, kind, key)): APath<(String, String, String)>,
    AQuery(p): AQuery<Paging>,
) -> AResult {
    let l = level(&kind)?;
    ok(StatusCode::OK, &s.admin.place_users(&name, l, &key, p.start_index.unwrap_or(1), p.count.unwrap_or(100)).await?)
}

/// An access link as the operator sends it: the group, and one place by its level's name
/// (`{"group": "Staff", "locker": "l7"}`; a bank, section or location alike).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Link {
    group: String,
    location: Option<String>,
    section: Option<String>,
    bank: Option<String>,
    locker: Option<String>,
}

impl Link {
    /// The one place the link names.
    fn place(&self) -> Result<(Level, &str), AdminError> {
        let named: Vec<(Level, &str)> = [
            (Level::Location, &self.location),
            (Level::Section, &self.section),
            (Level::Bank, &self.bank),
            (Level::Locker, &self.locker),
        ]
        .into_iter()
        .filter_map(|(l, k)| k.as_deref().map(|k| (l, k)))
        .collect();
        match named.as_slice() {
            [one] => Ok(*one),
            _ => Err(AdminError {
                status: 400,
                message: "an access link names its group and exactly one place: \"locker\", \"bank\", \"section\" \
                          or \"location\""
                    .into(),
            }),
        }
    }

    fn shown(&self, level: Level, key: &str, done: &str, value: bool) -> Value {
        let mut v = json!({"group": self.group, done: value});
        v[level.name()] = json!(key);
        v
    }
}

async fn links(_: Operator, State(s): State<AppState>, APath(name): APath<String>) -> AResult {
    ok(StatusCode::OK, &s.admin.access_links(&name).await?)
}

async fn grant(_: Operator, State(s): State<AppState>, slot: Slot, APath(name): APath<String>, b: Bytes) -> AResult {
    let l: Link = body(&b)?;
    let (level, key) = l.place()?;
    let (t, created) = s.admin.grant_access(&name, &l.group, level, key).await?;
    changed(&s, &slot, &t);
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    ok(status, &l.shown(level, key, "granted", created))
}

async fn revoke(_: Operator, State(s): State<AppState>, slot: Slot, APath(name): APath<String>, b: Bytes) -> AResult {
    let l: Link = body(&b)?;
    let (level, key) = l.place()?;
    let (t, existed) = s.admin.revoke_access(&name, &l.group, level, key).await?;
    changed(&s, &slot, &t);
    ok(StatusCode::OK, &l.shown(level, key, "revoked", existed))
}

async fn user_access(_: Operator, State(s): State<AppState>, APath((name, user)): APath<(String, String)>) -> AResult {
    ok(StatusCode::OK, &s.admin.user_access(&name, &user).await?)
}

async fn user_places(_: Operator, State(s): State<AppState>, APath((name, user)): APath<(String, String)>) -> AResult {
    ok(StatusCode::OK, &s.admin.user_places(&name, &user).await?)
}

/// The routes, to merge into the admin API's.
/// Each names its operation like SCIM's: a name, the type (a place's level, access) and
/// the key it addresses.
pub(in crate::http) fn routes(r: Routes<'_>) -> Routes<'_> {
    use AdminTarget::{Access, Place, Places, UserAccess};
    use Method as M;
    let op = Operation::Admin;
    r.route("/tenants/{name}/places", on(M::GET, op("query", Places), tree).on(M::PUT, op("import", Places), import))
        .route("/tenants/{name}/places/{level}", on(M::POST, op("add", Place), create))
        .route(
            "/tenants/{name}/places/{level}/{key}",
            on(M::GET, op("query", Place), one).on(M::PATCH, op("rename", Place), rename).on(
                M::DELETE,
                op("remove", Place),
                remove,
            ),
        )
        .route(
            "/tenants/{name}/places/{level}/{key}/rules",
            on(M::GET, op("query", Place), get_rules).on(M::PUT, op("rules", Place), put_rules).on(
                M::DELETE,
                op("rules", Place),
                delete_rules,
            ),
        )
        .route("/tenants/{name}/places/{level}/{key}/users", on(M::GET, op("query", Place), place_users))
        .route(
            "/tenants/{name}/access",
            on(M::GET, op("query", Access), links).on(M::POST, op("grant", Access), grant).on(
                M::DELETE,
                op("revoke", Access),
                revoke,
            ),
        )
        .route("/tenants/{name}/users/{user}/access", on(M::GET, op("query", UserAccess), user_access))
        .route("/tenants/{name}/users/{user}/places", on(M::GET, op("query", UserAccess), user_places))
}
