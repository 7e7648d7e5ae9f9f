//! The [`PlacesStore`] contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on
//! PostgreSQL: importing and editing the places tree, location rules and their
//! generation, access links and the access they give users through nested groups, and
//! the bookkeeping of the recomputation of users' derived attributes.

mod support;

use chrono::Utc;
use scimd_core::ScimError;
use scimd_core::builtin::standard_registry;
use scimd_core::list::{ListParams, PageConfig};
use scimd_core::places::{Level, PLACES_URN, PlaceSpec, Tree};
use scimd_core::resource::{self, MemberValue};
use scimd_core::schema::ResourceKind;

use scimd_store::{
    DerivedUpdate, ImportReport, NewResource, PlaceRow, ResourceState, Store, StoreError, TenantId, UserAccess,
};
use serde_json::{Value, json};

fn state(kind: ResourceKind, doc: Value) -> ResourceState {
    let reg = standard_registry();
    let doc = resource::prepare(&reg, kind, &doc).unwrap().doc;
    state_of(kind, doc)
}

fn state_of(kind: ResourceKind, doc: Value) -> ResourceState {
    let reg = standard_registry();
    ResourceState {
        index: resource::index_entries(&reg, kind, &doc),
        unique_key: resource::unique_key(kind, &doc),
        display: resource::display_of(kind, &doc),
        doc,
    }
}

async fn create(store: &dyn Store, tenant: TenantId, kind: ResourceKind, doc: Value, members: &[&str]) -> String {
    let members = members.iter().map(|m| MemberValue { value: m.to_string(), kind: None }).collect();
    let new = NewResource {
        state: state(kind, doc),
        password_hash: None,
        members,
        event: None,
        derived_gen: 0,
        writer: Default::default(),
    };
    store.create(tenant, kind, new, Utc::now()).await.unwrap().id
}

async fn user(store: &dyn Store, tenant: TenantId, name: &str, active: Option<bool>) -> String {
    let mut doc = json!({ "userName": name });
    if let Some(a) = active {
        doc["active"] = json!(a);
    }
    create(store, tenant, ResourceKind::User, doc, &[]).await
}

async fn group(store: &dyn Store, tenant: TenantId, name: &str, members: &[&str]) -> String {
    create(store, tenant, ResourceKind::Group, json!({ "displayName": name }), members).await
}

fn tree(v: Value) -> Vec<PlaceSpec> {
    serde_json::from_value::<Tree>(v).unwrap().flatten().unwrap()
}

fn spec(level: Level, key: &str, parent: Option<&str>) -> PlaceSpec {
    PlaceSpec { level, key: key.into(), name: key.into(), parent: parent.map(str::to_string) }
}

/// (level, key, name, parent) of every place, as listed.
async fn places(store: &dyn Store, tenant: TenantId) -> Vec<(Level, String, String, Option<String>)> {
    store.list_places(tenant).await.unwrap().into_iter().map(|p| (p.level, p.key, p.name, p.parent)).collect()
}

fn place(level: Level, key: &str, name: &str, parent: Option<&str>) -> (Level, String, String, Option<String>) {
    (level, key.into(), name.into(), parent.map(str::to_string))
}

fn conflict(e: StoreError) -> String {
    match e {
        StoreError::Conflict(m) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn scim_err(e: StoreError) -> ScimError {
    match e {
        StoreError::Scim(e) => e,
        other => panic!("expected a SCIM error, got {other:?}"),
    }
}

/// L1 / S1 / B1 (K1, K2), B2 (K3); L2 without sections.
fn sample() -> Vec<PlaceSpec> {
    tree(json!({ "locations": [
        { "key": "L1", "name": "Location one", "sections": [
            { "key": "S1", "banks": [
                { "key": "B1", "lockers": [{ "key": "K1" }, { "key": "K2" }] },
                { "key": "B2", "lockers": [{ "key": "K3" }] }
            ] }
        ] },
        { "key": "L2" }
    ] }))
}

#[tokio::test]
async fn tree_import_list_create_rename_delete() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let other = store.create_tenant("o", true, Utc::now()).await.unwrap().id;

    let r = store.import_places(t, sample(), Utc::now()).await.unwrap();
    assert_eq!(r, ImportReport { created: 8, updated: 0, unchanged: 0 });
    let r = store.import_places(t, sample(), Utc::now()).await.unwrap();
    assert_eq!(r, ImportReport { created: 0, updated: 0, unchanged: 8 });

    // By level, then key; parents named by key.
    assert_eq!(
        places(&*store, t).await,
        vec![
            place(Level::Location, "L1", "Location one", None),
            place(Level::Location, "L2", "L2", None),
            place(Level::Section, "S1", "S1", Some("L1")),
            place(Level::Bank, "B1", "B1", Some("S1")),
            place(Level::Bank, "B2", "B2", Some("S1")),
            place(Level::Locker, "K1", "K1", Some("B1")),
            place(Level::Locker, "K2", "K2", Some("B1")),
            place(Level::Locker, "K3", "K3", Some("B2")),
        ]
    );
    let listed = store.list_places(t).await.unwrap();
    assert!(listed.iter().all(|p| p.rules.is_none() && !p.created.is_empty() && p.created == p.last_modified));
    assert!(store.list_places(other).await.unwrap().is_empty());

    // A rename and a move (B2 to a new section of L2) through an import.
    let moved = tree(json!({ "locations": [
        { "key": "L1", "name": "Location one", "sections": [
            { "key": "S1", "banks": [
                { "key": "B1", "lockers": [{ "key": "K1", "name": "Locker one" }, { "key": "K2" }] }
            ] }
        ] },
        { "key": "L2", "sections": [{ "key": "S2", "banks": [{ "key": "B2", "lockers": [{ "key": "K3" }] }] }] }
    ] }));
    let r = store.import_places(t, moved, Utc::now()).await.unwrap();
    assert_eq!(r, ImportReport { created: 1, updated: 2, unchanged: 6 });
    let now = places(&*store, t).await;
    assert!(now.contains(&place(Level::Bank, "B2", "B2", Some("S2"))));
    assert!(now.contains(&place(Level::Locker, "K1", "Locker one", Some("B1"))));
    assert!(now.contains(&place(Level::Section, "S2", "S2", Some("L2"))));

    // An import naming a parent that exists nowhere changes nothing.
    let bad = vec![spec(Level::Location, "L3", None), spec(Level::Section, "S9", Some("nowhere"))];
    let e = scim_err(store.import_places(t, bad, Utc::now()).await.unwrap_err());
    assert_eq!((e.status, e.detail.as_str()), (400, "the location 'nowhere' of section 'S9' does not exist"));
    assert_eq!(places(&*store, t).await, now);

    // create_place: taken keys, missing or misplaced parents.
    let e = store.create_place(t, spec(Level::Bank, "B1", Some("S2")), Utc::now()).await.unwrap_err();
    assert_eq!(conflict(e), "a bank with the key 'B1' exists already");
    let e = scim_err(store.create_place(t, spec(Level::Locker, "K9", Some("B9")), Utc::now()).await.unwrap_err());
    assert_eq!((e.status, e.detail.as_str()), (400, "the bank 'B9' of locker 'K9' does not exist"));
    let e = scim_err(store.create_place(t, spec(Level::Location, "L9", Some("L1")), Utc::now()).await.unwrap_err());
    assert_eq!((e.status, e.detail.as_str()), (400, "a location has no parent"));
    let e = scim_err(store.create_place(t, spec(Level::Section, "S9", None), Utc::now()).await.unwrap_err());
    assert_eq!((e.status, e.detail.as_str()), (400, "a section needs its location"));
    let row = store.create_place(t, spec(Level::Locker, "K4", Some("B2")), Utc::now()).await.unwrap();
    assert_eq!(
        (row.level, row.key.as_str(), row.parent.as_deref(), row.rules),
        (Level::Locker, "K4", Some("B2"), None)
    );
    // Keys are per tenant and per level.
    store.create_place(other, spec(Level::Location, "L1", None), Utc::now()).await.unwrap();
    store.create_place(t, spec(Level::Locker, "B1", Some("B1")), Utc::now()).await.unwrap();

    // rename_place
    store.rename_place(t, Level::Bank, "B1", "Bank one", Utc::now()).await.unwrap();
    assert!(places(&*store, t).await.contains(&place(Level::Bank, "B1", "Bank one", Some("S1"))));
    assert!(matches!(store.rename_place(t, Level::Bank, "K1", "x", Utc::now()).await, Err(StoreError::NotFound)));
    assert!(matches!(store.rename_place(other, Level::Bank, "B1", "x", Utc::now()).await, Err(StoreError::NotFound)));

    // delete_place: children refuse it without cascade; with it, the subtree goes, links too.
    let g = group(&*store, t, "G", &[]).await;
    assert!(store.grant_access(t, &g, Level::Bank, "B1", Utc::now()).await.unwrap());
    let e = store.delete_place(t, Level::Bank, "B1", false, Utc::now()).await.unwrap_err();
    assert_eq!(conflict(e), "bank 'B1' has 3 place(s) under it: delete them first, or cascade");
    assert_eq!(store.delete_place(t, Level::Locker, "K4", false, Utc::now()).await.unwrap(), 1);
    assert!(matches!(store.delete_place(t, Level::Locker, "K4", false, Utc::now()).await, Err(StoreError::NotFound)));
    assert_eq!(store.delete_place(t, Level::Location, "L1", true, Utc::now()).await.unwrap(), 6); // L1 S1 B1 K1 K2 B1
    assert!(store.access_links(t).await.unwrap().is_empty());
    assert_eq!(
        places(&*store, t).await,
        vec![
            place(Level::Location, "L2", "L2", None),
            place(Level::Section, "S2", "S2", Some("L2")),
            place(Level::Bank, "B2", "B2", Some("S2")),
            place(Level::Locker, "K3", "K3", Some("B2")),
        ]
    );
    // The other tenant's L1 is untouched.
    assert_eq!(places(&*store, other).await, vec![place(Level::Location, "L1", "L1", None)]);
}

#[tokio::test]
async fn location_rules_move_the_generation_on() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let st = store.places_state(t).await.unwrap();
    assert_eq!((st.generation, st.has_locations, st.rules.len()), (0, false, 0));
    assert!(store.places_pending().await.unwrap().is_empty());

    store.import_places(t, sample(), Utc::now()).await.unwrap();
    assert!(store.places_state(t).await.unwrap().has_locations);

    let all = r#"{"provision":"all"}"#.to_string();
    let some = r#"{"provision":"rules","rules":[]}"#.to_string();
    assert_eq!(store.set_location_rules(t, "L2", Some(all.clone()), Utc::now()).await.unwrap(), 1);
    assert_eq!(store.set_location_rules(t, "L1", Some(some.clone()), Utc::now()).await.unwrap(), 2);
    let st = store.places_state(t).await.unwrap();
    assert_eq!(st.generation, 2);
    assert_eq!(st.rules, vec![("L1".to_string(), some.clone()), ("L2".to_string(), all.clone())]);
    let listed: Vec<PlaceRow> = store.list_places(t).await.unwrap();
    assert_eq!(listed.iter().find(|p| p.key == "L2").unwrap().rules.as_deref(), Some(all.as_str()));

    assert_eq!(store.set_location_rules(t, "L1", None, Utc::now()).await.unwrap(), 3);
    assert_eq!(store.places_state(t).await.unwrap().rules, vec![("L2".to_string(), all.clone())]);
    // Only locations have rules.
    assert!(matches!(
        store.set_location_rules(t, "S1", Some(all.clone()), Utc::now()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(store.set_location_rules(t, "nowhere", None, Utc::now()).await, Err(StoreError::NotFound)));
    assert_eq!(store.places_pending().await.unwrap(), vec![(t, 3)]);

    // Deleting a location with rules moves the generation on; one without does not.
    assert_eq!(store.delete_place(t, Level::Location, "L2", false, Utc::now()).await.unwrap(), 1);
    assert_eq!(store.places_state(t).await.unwrap().generation, 4);
    assert_eq!(store.delete_place(t, Level::Location, "L1", true, Utc::now()).await.unwrap(), 7);
    let st = store.places_state(t).await.unwrap();
    assert_eq!((st.generation, st.has_locations, st.rules.len()), (4, false, 0));

    // A tenant that does not exist has the default state.
    assert_eq!(store.places_state(TenantId(9999)).await.unwrap().generation, 0);
}

#[tokio::test]
async fn access_through_nested_groups() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let other = store.create_tenant("o", true, Utc::now()).await.unwrap().id;
    store.import_places(t, sample(), Utc::now()).await.unwrap();

    let u1 = user(&*store, t, "Alice", None).await;
    let u2 = user(&*store, t, "bob", Some(false)).await;
    let u3 = user(&*store, t, "carol", Some(true)).await;
    user(&*store, t, "dave", None).await;
    let b = group(&*store, t, "B", &[&u1, &u2]).await;
    let a = group(&*store, t, "A", &[&b]).await;
    let c = group(&*store, t, "C", &[&u3]).await;

    assert!(store.grant_access(t, &a, Level::Bank, "B1", Utc::now()).await.unwrap());
    assert!(!store.grant_access(t, &a, Level::Bank, "B1", Utc::now()).await.unwrap());
    assert!(store.grant_access(t, &c, Level::Bank, "B2", Utc::now()).await.unwrap());
    let e = scim_err(store.grant_access(t, "nope", Level::Bank, "B1", Utc::now()).await.unwrap_err());
    assert_eq!((e.status, e.detail.as_str()), (404, "group 'nope' not found"));
    let e = scim_err(store.grant_access(t, &a, Level::Bank, "K1", Utc::now()).await.unwrap_err());
    assert_eq!((e.status, e.detail.as_str()), (404, "bank 'K1' not found"));
    let e = scim_err(store.grant_access(other, &a, Level::Bank, "B1", Utc::now()).await.unwrap_err());
    assert_eq!(e.status, 404);
    // A user is not a group.
    assert_eq!(scim_err(store.grant_access(t, &u1, Level::Bank, "B1", Utc::now()).await.unwrap_err()).status, 404);

    let links = store.access_links(t).await.unwrap();
    let shape: Vec<(&str, Option<&str>, &str)> =
        links.iter().map(|l| (l.group_id.as_str(), l.group.as_deref(), l.place.as_str())).collect();
    assert_eq!(shape, vec![(a.as_str(), Some("A"), "B1"), (c.as_str(), Some("C"), "B2")]);
    assert!(links.iter().all(|l| !l.created.is_empty()));
    assert!(store.access_links(other).await.unwrap().is_empty());

    // By folded userName: A contains B contains alice.
    let access = |banks: &[&str], lockers: &[&str]| UserAccess {
        banks: banks.iter().map(|s| s.to_string()).collect(),
        lockers: lockers.iter().map(|s| s.to_string()).collect(),
    };
    assert_eq!(store.user_access(t, "alice").await.unwrap(), Some(access(&["B1"], &["K1", "K2"])));
    assert_eq!(store.user_access(t, "bob").await.unwrap(), Some(access(&[], &[]))); // inactive
    assert_eq!(store.user_access(t, "carol").await.unwrap(), Some(access(&["B2"], &["K3"])));
    assert_eq!(store.user_access(t, "dave").await.unwrap(), Some(access(&[], &[])));
    assert_eq!(store.user_access(t, "nobody").await.unwrap(), None);
    assert_eq!(store.user_access(other, "alice").await.unwrap(), None);
    // Two ways to the same bank give it once.
    store.grant_access(t, &b, Level::Bank, "B1", Utc::now()).await.unwrap();
    store.grant_access(t, &b, Level::Bank, "B2", Utc::now()).await.unwrap();
    assert_eq!(store.user_access(t, "alice").await.unwrap(), Some(access(&["B1", "B2"], &["K1", "K2", "K3"])));
    assert!(store.revoke_access(t, &b, Level::Bank, "B1", Utc::now()).await.unwrap());
    assert!(store.revoke_access(t, &b, Level::Bank, "B2", Utc::now()).await.unwrap());

    // bank_users: the active users, by rowid, paged, with their number.
    let mut more = Vec::new();
    for name in ["erin", "frank", "grace"] {
        more.push(user(&*store, t, name, None).await);
    }
    let d = group(&*store, t, "D", &[&more[0], &more[1], &more[2], &u1]).await;
    store.grant_access(t, &d, Level::Bank, "B1", Utc::now()).await.unwrap();
    let (total, page) = store.place_users(t, Level::Bank, "B1", 0, 2).await.unwrap().unwrap();
    assert_eq!(total, 4);
    assert_eq!(page, vec![(u1.clone(), "Alice".to_string()), (more[0].clone(), "erin".to_string())]);
    let (total, page) = store.place_users(t, Level::Bank, "B1", 2, 10).await.unwrap().unwrap();
    assert_eq!(total, 4);
    assert_eq!(page, vec![(more[1].clone(), "frank".to_string()), (more[2].clone(), "grace".to_string())]);
    assert_eq!(store.place_users(t, Level::Bank, "B1", 10, 10).await.unwrap(), Some((4, vec![])));
    assert_eq!(
        store.place_users(t, Level::Bank, "B2", 0, 10).await.unwrap(),
        Some((1, vec![(u3.clone(), "carol".to_string())]))
    );
    assert_eq!(store.place_users(t, Level::Bank, "K1", 0, 10).await.unwrap(), None);
    assert_eq!(store.place_users(other, Level::Bank, "B1", 0, 10).await.unwrap(), None);

    // revoke_access
    assert!(store.revoke_access(t, &a, Level::Bank, "B1", Utc::now()).await.unwrap());
    assert!(!store.revoke_access(t, &a, Level::Bank, "B1", Utc::now()).await.unwrap());
    assert_eq!(scim_err(store.revoke_access(t, &a, Level::Bank, "B9", Utc::now()).await.unwrap_err()).status, 404);
    assert_eq!(store.place_users(t, Level::Bank, "B1", 0, 10).await.unwrap().unwrap().0, 4); // through D still
    store.revoke_access(t, &d, Level::Bank, "B1", Utc::now()).await.unwrap();
    assert_eq!(store.user_access(t, "alice").await.unwrap(), Some(access(&[], &[])));
    assert_eq!(store.place_users(t, Level::Bank, "B1", 0, 10).await.unwrap(), Some((0, vec![])));

    // Deleting a group drops its links.
    store.grant_access(t, &a, Level::Bank, "B1", Utc::now()).await.unwrap();
    store.delete(t, ResourceKind::Group, &c, None, Default::default(), None, Utc::now()).await.unwrap();
    let left: Vec<String> = store.access_links(t).await.unwrap().into_iter().map(|l| l.group_id).collect();
    assert_eq!(left, vec![a.clone()]);
    assert_eq!(store.user_access(t, "carol").await.unwrap(), Some(access(&[], &[])));
    // Deleting a user that is a member leaves the links alone.
    store.delete(t, ResourceKind::User, &u2, None, Default::default(), None, Utc::now()).await.unwrap();
    assert_eq!(store.access_links(t).await.unwrap().len(), 1);
}

async fn stale_ids(store: &dyn Store, tenant: TenantId, generation: i64, limit: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let (users, next) = store.stale_users(tenant, generation, after, limit).await.unwrap();
        out.extend(users.into_iter().map(|u| u.id));
        match next {
            Some(n) => after = n,
            None => return out,
        }
    }
}

async fn find_by_name(store: &dyn Store, tenant: TenantId, name: &str) -> Vec<String> {
    let params = ListParams { filter: Some(format!("userName eq \"{name}\"")), ..ListParams::default() };
    let q = params.resolve(&standard_registry(), ResourceKind::User, &PageConfig::default()).unwrap();
    store.list(tenant, ResourceKind::User, &q, false).await.unwrap().items.into_iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn recomputation_bookkeeping() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let other = store.create_tenant("o", true, Utc::now()).await.unwrap().id;
    let u1 = user(&*store, t, "u1", None).await;
    let u2 = user(&*store, t, "u2", None).await;
    let u3 = user(&*store, t, "u3", None).await;
    user(&*store, other, "x1", None).await;
    group(&*store, t, "G", &[&u1]).await; // groups are never stale users

    assert!(store.places_pending().await.unwrap().is_empty());
    store.create_place(t, spec(Level::Location, "L1", None), Utc::now()).await.unwrap();
    let generation =
        store.set_location_rules(t, "L1", Some(r#"{"provision":"all"}"#.into()), Utc::now()).await.unwrap();
    assert_eq!(generation, 1);
    assert_eq!(store.places_pending().await.unwrap(), vec![(t, 1)]);

    // Every user is behind; pages of 2 walk them all (a full page says where to go on).
    assert_eq!(stale_ids(&*store, t, 1, 2).await, vec![u1.clone(), u2.clone(), u3.clone()]);
    let (first, next) = store.stale_users(t, 1, 0, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(next.is_some());
    assert_eq!(first[0].version, 1);
    assert_eq!(first[0].kind, ResourceKind::User);
    let (_, next) = store.stale_users(t, 1, 0, 10).await.unwrap();
    assert_eq!(next, None);
    assert!(stale_ids(&*store, t, 0, 10).await.is_empty()); // nothing is older than 0

    // u1 gets new derived attributes, u2 has none to change, u3's version moved on.
    let before = store.get(t, ResourceKind::User, &u1, false).await.unwrap().unwrap();
    let mut doc: Value = serde_json::from_str(&before.data).unwrap();
    doc[PLACES_URN] = json!({ "locations": ["L1"] });
    let later = Utc::now() + chrono::TimeDelta::seconds(5);
    let updates = vec![
        DerivedUpdate { user: u1.clone(), version: 1, state: Some(state_of(ResourceKind::User, doc.clone())) },
        DerivedUpdate { user: u2.clone(), version: 1, state: None },
        DerivedUpdate { user: u3.clone(), version: 7, state: Some(state_of(ResourceKind::User, doc.clone())) },
        DerivedUpdate { user: "nobody".into(), version: 1, state: None },
    ];
    assert_eq!(store.set_derived(t, updates, 1, later).await.unwrap(), 2);
    let after = store.get(t, ResourceKind::User, &u1, false).await.unwrap().unwrap();
    assert_eq!(after.version, 2);
    assert_ne!(after.data, before.data);
    assert_eq!(serde_json::from_str::<Value>(&after.data).unwrap()[PLACES_URN], json!({ "locations": ["L1"] }));
    assert_eq!(after.last_modified, scimd_store::normalized_time(later));
    assert_eq!(after.created, before.created);
    let u2_now = store.get(t, ResourceKind::User, &u2, false).await.unwrap().unwrap();
    assert_eq!(u2_now.version, 1);
    let u3_now = store.get(t, ResourceKind::User, &u3, false).await.unwrap().unwrap();
    assert_eq!(u3_now.version, 1);
    assert!(!u3_now.data.contains(PLACES_URN));
    // The attribute index still finds it.
    assert_eq!(find_by_name(&*store, t, "u1").await, vec![u1.clone()]);

    // Only u3 is still behind; an update of an old version is left alone.
    assert_eq!(stale_ids(&*store, t, 1, 2).await, vec![u3.clone()]);
    let stale = vec![DerivedUpdate { user: u1.clone(), version: 1, state: None }];
    assert_eq!(store.set_derived(t, stale, 1, Utc::now()).await.unwrap(), 0);
    assert_eq!(store.set_derived(t, vec![], 1, Utc::now()).await.unwrap(), 0);
    let ok = vec![DerivedUpdate { user: u3.clone(), version: 1, state: None }];
    assert_eq!(store.set_derived(t, ok, 1, Utc::now()).await.unwrap(), 1);
    assert!(stale_ids(&*store, t, 1, 2).await.is_empty());
    // A user's generation never moves back.
    let back = vec![DerivedUpdate { user: u3.clone(), version: 1, state: None }];
    assert_eq!(store.set_derived(t, back, 0, Utc::now()).await.unwrap(), 1);
    assert!(stale_ids(&*store, t, 1, 2).await.is_empty());
    // The other tenant's users are not touched by this tenant's calls.
    let foreign = vec![DerivedUpdate { user: u1.clone(), version: 2, state: None }];
    assert_eq!(store.set_derived(other, foreign, 1, Utc::now()).await.unwrap(), 0);
    assert_eq!(stale_ids(&*store, other, 1, 10).await.len(), 1);

    // places_done: an older generation does not finish it; the current one does.
    store.places_done(t, 0).await.unwrap();
    assert_eq!(store.places_pending().await.unwrap(), vec![(t, 1)]);
    store.places_done(t, 1).await.unwrap();
    assert!(store.places_pending().await.unwrap().is_empty());
    // Rules that moved on meanwhile keep the tenant pending.
    assert_eq!(store.set_location_rules(t, "L1", None, Utc::now()).await.unwrap(), 2);
    store.places_done(t, 1).await.unwrap();
    assert_eq!(store.places_pending().await.unwrap(), vec![(t, 2)]);
    assert_eq!(stale_ids(&*store, t, 2, 10).await, vec![u1, u2, u3]);
}

/// A link may name a single locker (access to it alone), or a section or location
/// (everything under it); a place's users are those with access to the whole of it.
#[tokio::test]
async fn access_to_a_locker_a_section_or_a_location() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    store.import_places(t, sample(), Utc::now()).await.unwrap();
    let alice = user(&*store, t, "alice", None).await;
    let bob = user(&*store, t, "bob", None).await;
    let one = group(&*store, t, "One locker", &[&alice]).await;
    let floor = group(&*store, t, "Floor", &[&bob]).await;
    let access = |banks: &[&str], lockers: &[&str]| UserAccess {
        banks: banks.iter().map(|s| s.to_string()).collect(),
        lockers: lockers.iter().map(|s| s.to_string()).collect(),
    };

    assert!(store.grant_access(t, &one, Level::Locker, "K2", Utc::now()).await.unwrap());
    assert!(!store.grant_access(t, &one, Level::Locker, "K2", Utc::now()).await.unwrap());
    assert_eq!(store.user_access(t, "alice").await.unwrap(), Some(access(&[], &["K2"])));
    let e = scim_err(store.grant_access(t, &one, Level::Locker, "B1", Utc::now()).await.unwrap_err());
    assert_eq!((e.status, e.detail.as_str()), (404, "locker 'B1' not found"));
    assert!(store.grant_access(t, &floor, Level::Section, "S1", Utc::now()).await.unwrap());
    assert_eq!(store.user_access(t, "bob").await.unwrap(), Some(access(&["B1", "B2"], &["K1", "K2", "K3"])));
    // A locker granted alone and through its bank is listed once.
    assert!(store.grant_access(t, &one, Level::Bank, "B1", Utc::now()).await.unwrap());
    assert_eq!(store.user_access(t, "alice").await.unwrap(), Some(access(&["B1"], &["K1", "K2"])));

    let links: Vec<(Level, String)> =
        store.access_links(t).await.unwrap().into_iter().map(|l| (l.level, l.place)).collect();
    assert_eq!(links, vec![(Level::Bank, "B1".into()), (Level::Locker, "K2".into()), (Level::Section, "S1".into())]);
    let shown = serde_json::to_value(&store.access_links(t).await.unwrap()[1]).unwrap();
    assert_eq!((shown["locker"].clone(), shown.get("bank")), (json!("K2"), None), "{shown}");

    // Users of a place: linked to it or to a place above it.
    let ids = |r: Option<(u64, Vec<(String, String)>)>| r.unwrap().1.into_iter().map(|(_, n)| n).collect::<Vec<_>>();
    assert_eq!(ids(store.place_users(t, Level::Locker, "K2", 0, 10).await.unwrap()), ["alice", "bob"]);
    assert_eq!(ids(store.place_users(t, Level::Bank, "B2", 0, 10).await.unwrap()), ["bob"]);
    assert_eq!(ids(store.place_users(t, Level::Section, "S1", 0, 10).await.unwrap()), ["bob"]);
    assert!(ids(store.place_users(t, Level::Location, "L1", 0, 10).await.unwrap()).is_empty());

    assert!(store.revoke_access(t, &one, Level::Bank, "B1", Utc::now()).await.unwrap());
    assert!(store.revoke_access(t, &one, Level::Locker, "K2", Utc::now()).await.unwrap());
    assert_eq!(store.user_access(t, "alice").await.unwrap(), Some(access(&[], &[])));
    // Deleting a locker drops its links.
    store.grant_access(t, &one, Level::Locker, "K3", Utc::now()).await.unwrap();
    store.delete_place(t, Level::Locker, "K3", false, Utc::now()).await.unwrap();
    assert_eq!(store.user_access(t, "alice").await.unwrap(), Some(access(&[], &[])));
    assert_eq!(store.access_links(t).await.unwrap().len(), 1);
}
