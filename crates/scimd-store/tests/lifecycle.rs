//! The lifecycle contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on PostgreSQL: a
//! deletion leaves a tombstone (found by externalId, else by name, per tenant and kind,
//! the latest first), a creation with the deleted id takes it and continues its version,
//! the logins of a user's API users end (names compared as userNames), inactive users are
//! told apart, deactivation times are kept per tenant, and the purge drops what is old.

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use scimd_core::builtin::standard_registry;
use scimd_core::resource;
use scimd_core::schema::ResourceKind;
use scimd_store::{Deactivation, NewClient, NewRefresh, NewResource, ResourceState, Store, TenantId, name_key};
use serde_json::{Value, json};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z").unwrap().with_timezone(&Utc)
}

fn new(kind: ResourceKind, body: Value) -> NewResource {
    let reg = standard_registry();
    let doc = resource::prepare(&reg, kind, &body).unwrap().doc;
    let state = ResourceState {
        index: resource::index_entries(&reg, kind, &doc),
        unique_key: resource::unique_key(kind, &doc),
        display: resource::display_of(kind, &doc),
        doc,
    };
    NewResource { state, password_hash: None, members: vec![], event: None, derived_gen: 0, writer: Default::default() }
}

async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    store.create_tenant(name, true, t0()).await.unwrap().id
}

#[tokio::test]
async fn deletions_leave_tombstones_that_a_creation_with_the_id_takes() {
    let store = support::fresh_store().await;
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let user = ResourceKind::User;
    let ann = store.create(a, user, new(user, json!({"userName": "Ann", "externalId": "x1"})), t0()).await.unwrap();
    store.delete(a, user, &ann.id, None, Default::default(), None, t0() + TimeDelta::seconds(5)).await.unwrap();
    let by = |x: Option<&str>, n: Option<&str>| (x.map(str::to_string), n.map(resource_key));
    let (x, n) = by(Some("x1"), None);
    let t = store.tombstone(a, user, x, None, n).await.unwrap().expect("by externalId");
    assert_eq!((t.id.as_str(), t.version, t.created.as_str()), (ann.id.as_str(), 1, ann.created.as_str()));
    assert_eq!(t.deleted, "2026-03-01T10:00:05.000000000Z");
    let (x, n) = by(Some("other"), Some("ANN"));
    assert_eq!(store.tombstone(a, user, x, None, n).await.unwrap().map(|t| t.id), Some(ann.id.clone()), "else by name");
    // Another tenant, another kind: nothing.
    let (x, n) = by(Some("x1"), Some("ann"));
    assert!(store.tombstone(b, user, x.clone(), None, n.clone()).await.unwrap().is_none());
    assert!(store.tombstone(a, ResourceKind::Group, x, None, n).await.unwrap().is_none());

    // Created again with its id: the tombstone is taken, the version continues.
    let again = new(user, json!({"userName": "ann"}));
    let back = store.create_with_ids(a, user, vec![(ann.id.clone(), again)], t0() + TimeDelta::seconds(9)).await;
    let back = back.unwrap().pop().unwrap();
    assert_eq!((back.version, back.created.as_str()), (2, ann.created.as_str()));
    let read = store.get(a, user, &ann.id, false).await.unwrap().unwrap();
    assert_eq!((read.version, read.created), (2, ann.created.clone()));
    let (x, n) = by(Some("x1"), Some("ann"));
    assert!(store.tombstone(a, user, x, None, n).await.unwrap().is_none());

    // A group's name is its folded displayName.
    let group = ResourceKind::Group;
    let g = store.create(a, group, new(group, json!({"displayName": "Ops Team"})), t0()).await.unwrap();
    store.delete(a, group, &g.id, None, Default::default(), None, t0()).await.unwrap();
    let key = name_key(group, &json!({"displayName": "OPS team"}));
    assert_eq!(store.tombstone(a, group, None, None, key).await.unwrap().map(|t| t.id), Some(g.id));
}

fn resource_key(name: &str) -> String {
    name_key(ResourceKind::User, &json!({ "userName": name })).unwrap()
}

#[tokio::test]
async fn a_users_logins_end_and_inactive_users_are_told_apart() {
    let store = support::fresh_store().await;
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let client = NewClient {
        client_id: "app".into(),
        secret_hash: Some("h".into()),
        secret_expires: None,
        grant_types: vec!["password".into(), "refresh_token".into()],
        scopes: vec!["scim".into()],
        access_ttl_secs: 600,
        refresh_ttl_secs: 3600,
        refresh_expiry: None,
        tenants: vec![a, b],
        keys: Default::default(),
    };
    store.create_client(client, t0()).await.unwrap();
    let row = store.client_auth("app", t0()).await.unwrap().unwrap().row;
    store.create_api_user(a, "pat.lee", "h".into(), t0()).await.unwrap();
    store.create_api_user(b, "PAT.LEE@b", "h".into(), t0()).await.unwrap();
    for (n, username, t) in [(1u8, "pat.lee", a), (2, "pat.lee", a), (3, "PAT.LEE@b", b)] {
        let user = store.api_user_auth(username).await.unwrap().unwrap().id;
        let refresh = NewRefresh {
            hash: [n; 32],
            family: format!("f{n}"),
            client: row,
            tenant: t,
            api_user: Some(user),
            scopes: vec!["scim".into()],
            expires: t0() + TimeDelta::seconds(3600),
        };
        store.store_refresh(refresh, t0()).await.unwrap();
    }
    // The user's name as userNames compare it: case and width folded.
    assert_eq!(store.end_logins(a, "PAT.Lee", t0()).await.unwrap(), 2);
    for (family, revoked) in [("f1", true), ("f2", true), ("f3", false)] {
        assert_eq!(store.grant_status(a, "jti", Some(family)).await.unwrap().unwrap().revoked, revoked, "{family}");
    }
    assert_eq!(store.end_logins(a, "pat.lee", t0()).await.unwrap(), 0, "ended already");
    assert_eq!(store.end_logins(a, "nobody", t0()).await.unwrap(), 0);

    let user = ResourceKind::User;
    store.create(a, user, new(user, json!({"userName": "Pat.Lee", "active": false})), t0()).await.unwrap();
    store.create(b, user, new(user, json!({"userName": "pat.lee@b"})), t0()).await.unwrap();
    assert!(store.user_inactive(a, "pat.lee").await.unwrap());
    assert!(!store.user_inactive(b, "PAT.LEE@b").await.unwrap());
    assert!(!store.user_inactive(b, "pat.lee").await.unwrap(), "no such user");
}

#[tokio::test]
async fn deactivation_times_are_per_tenant_and_the_purge_drops_old_rows() {
    let store = support::fresh_store().await;
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let at = |s: i64| scimd_store::normalized_time(t0() + TimeDelta::seconds(s));
    for (n, t) in [(0, a), (10, a), (20, b)] {
        let d = Deactivation { at: at(n), id: format!("u{n}"), millis: 1.5 + n as f64, logins: 1 };
        store.record_deactivation(t, d).await.unwrap();
    }
    let got = store.deactivations(a, t0(), 10).await.unwrap();
    assert_eq!(got.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["u10", "u0"], "newest first, a's");
    assert_eq!(got[0].millis, 11.5);
    assert_eq!(store.deactivations(a, t0() + TimeDelta::seconds(5), 10).await.unwrap().len(), 1);
    let user = ResourceKind::User;
    let u = store.create(a, user, new(user, json!({"userName": "old"})), t0()).await.unwrap();
    store.delete(a, user, &u.id, None, Default::default(), None, t0()).await.unwrap();
    // Older than the bound: the tombstone and two deactivations.
    assert_eq!(store.purge_lifecycle(t0() + TimeDelta::seconds(15)).await.unwrap(), 3);
    assert!(store.tombstone(a, user, None, None, Some(resource_key("old"))).await.unwrap().is_none());
    assert_eq!(store.deactivations(b, t0(), 10).await.unwrap().len(), 1);
}
