//! The SCIM use cases' rules, tested where they live: each test drives [`Service`] over
//! a real SQLite store in a temporary directory, with a clock that moves only when told.
//! The HTTP suite checks the same behaviour on the wire; these check the rule itself.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use scimd_core::list::ListParams;
use scimd_core::schema::ResourceKind::{Group, User};
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};

use super::*;
use crate::clock::ManualClock;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    svc: Service,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("scimd.db");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(path.to_str().expect("utf-8 path"), SqliteOptions::default()).expect("store"));
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap()));
    let svc = Service::new(store.clone(), clock.clone(), ServiceConfig::default());
    Fixture { _dir: dir, store, clock, svc }
}

impl Fixture {
    /// A new tenant (with `profile`, if given) and a request context for it.
    async fn tenant(&self, name: &str, profile: Option<Value>) -> Ctx {
        let t = self.store.create_tenant(name, true, self.clock.now()).await.unwrap();
        if let Some(p) = profile {
            self.store.set_tenant_profile(t.id, Some(p.to_string())).await.unwrap();
        }
        Ctx {
            tenant: t.id,
            tenancy: self.svc.profile(t.id).await.unwrap(),
            base_url: "https://scim.example/scim/v2".into(),
            audit: None,
            bulk_op: None,
            subject: None,
            writer: scimd_store::Writer::Client,
        }
    }

    async fn create(&self, ctx: &Ctx, kind: ResourceKind, body: Value) -> AppResult<Value> {
        let proj = Projection::default();
        let r = self.svc.create(ctx, kind, &body, &proj).await?;
        Ok(serde_json::from_slice(&r.body).unwrap())
    }

    async fn get(&self, ctx: &Ctx, kind: ResourceKind, id: &str) -> AppResult<Value> {
        let r = self.svc.get(ctx, kind, id, &Projection::default()).await?;
        Ok(serde_json::from_slice(&r.body).unwrap())
    }

    async fn list(&self, ctx: &Ctx, kind: ResourceKind, filter: &str) -> Value {
        let params = ListParams { filter: Some(filter.into()), ..ListParams::default() };
        serde_json::from_slice(&self.svc.list(ctx, kind, &params).await.unwrap()).unwrap()
    }
}

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

fn patch(op: &str, path: &str, value: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": op, "path": path, "value": value}],
    })
}

/// The SCIM status and `scimType` of a refused use case.
fn refusal<T: std::fmt::Debug>(r: AppResult<T>) -> (u16, Option<String>) {
    match r.expect_err("a refusal") {
        AppError::Scim(e) => (e.status, e.scim_type.map(|t| t.as_str().to_string())),
        AppError::Internal(m) => panic!("an internal error where a SCIM error was due: {m}"),
    }
}

#[tokio::test]
async fn a_created_user_reads_back_with_its_location_and_version() {
    let f = fixture().await;
    let ctx = f.tenant("acme", None).await;
    let made = f.create(&ctx, User, user("ada@example.com")).await.unwrap();
    let id = made["id"].as_str().unwrap();
    let read = f.get(&ctx, User, id).await.unwrap();
    assert_eq!(read["userName"], "ada@example.com");
    assert_eq!(read["meta"]["location"], format!("https://scim.example/scim/v2/Users/{id}"));
    assert_eq!(read["meta"]["version"], etag(1));
    assert_eq!(read["meta"]["created"], "2026-12-04T09:00:00.000Z");
}

#[tokio::test]
async fn user_names_are_unique_per_tenant_whatever_their_case() {
    let f = fixture().await;
    let acme = f.tenant("acme", None).await;
    let other = f.tenant("other", None).await;
    f.create(&acme, User, user("Ada@Example.com")).await.unwrap();
    assert_eq!(refusal(f.create(&acme, User, user("ada@example.COM")).await), (409, Some("uniqueness".into())));
    assert_eq!(f.list(&acme, User, "userName pr").await["totalResults"], 1, "the refused user was not created");
    f.create(&other, User, user("ada@example.com")).await.expect("another tenant may use the name");
}

#[tokio::test]
async fn tenants_never_see_each_others_resources() {
    let f = fixture().await;
    let acme = f.tenant("acme", None).await;
    let other = f.tenant("other", None).await;
    let made = f.create(&acme, User, user("ada")).await.unwrap();
    let id = made["id"].as_str().unwrap();
    assert_eq!(refusal(f.get(&other, User, id).await).0, 404);
    assert_eq!(refusal(f.svc.delete(&other, User, id, None).await).0, 404);
    assert_eq!(f.list(&other, User, "userName eq \"ada\"").await["totalResults"], 0);
    f.get(&acme, User, id).await.expect("still there for its own tenant");
}

#[tokio::test]
async fn a_write_with_a_stale_version_changes_nothing() {
    let f = fixture().await;
    let ctx = f.tenant("acme", None).await;
    let id = f.create(&ctx, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    let proj = Projection::default();
    let body = patch("replace", "displayName", json!("Ada"));
    let stale = Some(parse_etags("W/\"7\""));
    assert_eq!(refusal(f.svc.patch(&ctx, User, &id, &body, stale, &proj).await).0, 412);
    assert!(f.get(&ctx, User, &id).await.unwrap().get("displayName").is_none());
    let current = Some(parse_etags(&etag(1)));
    let r = f.svc.patch(&ctx, User, &id, &body, current, &proj).await.unwrap();
    assert_eq!(r.version, 2);
    assert_eq!(f.get(&ctx, User, &id).await.unwrap()["displayName"], "Ada");
}

#[tokio::test]
async fn a_bad_patch_is_a_clear_scim_error_and_changes_nothing() {
    let f = fixture().await;
    let ctx = f.tenant("acme", None).await;
    let id = f.create(&ctx, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    let proj = Projection::default();
    let bad = patch("replace", "noSuchAttribute", json!(1));
    let (status, scim_type) = refusal(f.svc.patch(&ctx, User, &id, &bad, None, &proj).await);
    assert_eq!(status, 400);
    assert!(scim_type.is_some(), "a 400 names its scimType");
    let read = f.get(&ctx, User, &id).await.unwrap();
    assert_eq!(read["meta"]["version"], etag(1), "nothing was written");
}

#[tokio::test]
async fn deleting_removes_the_user_unless_the_profile_deactivates() {
    let f = fixture().await;
    let plain = f.tenant("plain", None).await;
    let id = f.create(&plain, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    f.svc.delete(&plain, User, &id, None).await.unwrap();
    assert_eq!(refusal(f.get(&plain, User, &id).await).0, 404);
    assert_eq!(refusal(f.svc.delete(&plain, User, &id, None).await).0, 404);

    let soft = f.tenant("soft", Some(json!({"delete_deactivates": true}))).await;
    let id = f.create(&soft, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    f.svc.delete(&soft, User, &id, None).await.unwrap();
    assert_eq!(f.get(&soft, User, &id).await.unwrap()["active"], false, "the user stays, inactive");
}

#[tokio::test]
async fn a_profile_can_turn_an_operation_off() {
    let f = fixture().await;
    let ctx = f.tenant("no-patch", Some(json!({"users": {"patch": false}, "groups": {"offered": false}}))).await;
    let id = f.create(&ctx, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    let body = patch("replace", "active", json!(false));
    let (status, _) = refusal(f.svc.patch(&ctx, User, &id, &body, None, &Projection::default()).await);
    assert_eq!(status, 501, "PATCH is not implemented for this tenant");
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "staff"});
    assert_eq!(refusal(f.create(&ctx, Group, group).await).0, 404, "no Group endpoint for this tenant");
}

#[tokio::test]
async fn a_group_only_takes_members_of_its_own_tenant() {
    let f = fixture().await;
    let acme = f.tenant("acme", None).await;
    let other = f.tenant("other", None).await;
    let ada = f.create(&acme, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    let stranger = f.create(&other, User, user("bob")).await.unwrap()["id"].as_str().unwrap().to_string();
    let group = |members: Vec<&str>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "staff",
            "members": members.into_iter().map(|m| json!({"value": m})).collect::<Vec<_>>(),
        })
    };
    assert_eq!(refusal(f.create(&acme, Group, group(vec![&stranger])).await).0, 400);
    let made = f.create(&acme, Group, group(vec![&ada])).await.unwrap();
    assert_eq!(made["members"][0]["value"], ada.as_str());
    let ada_read = f.get(&acme, User, &ada).await.unwrap();
    assert_eq!(ada_read["groups"][0]["value"], made["id"], "the user lists its group");
}

#[tokio::test]
async fn last_modified_follows_the_clock_and_versions_count_writes() {
    let f = fixture().await;
    let ctx = f.tenant("acme", None).await;
    let id = f.create(&ctx, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    f.clock.advance(TimeDelta::minutes(5));
    let body = patch("replace", "active", json!(false));
    f.svc.patch(&ctx, User, &id, &body, None, &Projection::default()).await.unwrap();
    let read = f.get(&ctx, User, &id).await.unwrap();
    assert_eq!(read["meta"]["created"], "2026-12-04T09:00:00.000Z");
    assert_eq!(read["meta"]["lastModified"], "2026-12-04T09:05:00.000Z");
    assert_eq!(read["meta"]["version"], etag(2));
}

#[tokio::test]
async fn me_needs_a_token_issued_to_a_user() {
    let f = fixture().await;
    let ctx = f.tenant("acme", None).await;
    assert_eq!(refusal(f.svc.me(&ctx).await).0, 403, "a token with no user has no /Me");
    let ada = f.create(&ctx, User, user("ada")).await.unwrap()["id"].as_str().unwrap().to_string();
    let as_ada = Ctx { subject: Some("ada".into()), ..ctx.clone() };
    assert_eq!(f.svc.me(&as_ada).await.unwrap(), ada);
    let as_ghost = Ctx { subject: Some("ghost".into()), ..ctx };
    assert_eq!(refusal(f.svc.me(&as_ghost).await).0, 404, "the token's user is no User of the tenant");
}

#[test]
fn etags_are_weak_and_if_match_reads_every_form() {
    assert_eq!(etag(3), "W/\"3\"");
    assert!(matches!(parse_etags(" * "), IfMatch::Any));
    match parse_etags("W/\"3\", \"4\", junk") {
        IfMatch::Versions(v) => assert_eq!(v, [3, 4]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deactivation_is_active_going_from_true_to_false() {
    let on = json!({"active": true});
    let off = json!({"Active": false});
    let unset = json!({});
    assert!(deactivates(User, &on, &off));
    assert!(deactivates(User, &unset, &off), "a user without `active` counts as active");
    assert!(!deactivates(User, &off, &off), "already inactive");
    assert!(!deactivates(User, &off, &on));
    assert!(!deactivates(Group, &on, &off), "groups are not deactivated");
}
