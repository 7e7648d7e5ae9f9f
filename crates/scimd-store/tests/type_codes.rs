//! The codes of the resource types tenants' profiles declare, on SQLite or, with
//! `SCIMD_TEST_POSTGRES`, on PostgreSQL: given from 16 in the order names are first seen,
//! per tenant, kept for good (a name asked again, or after others, has its code), and
//! rows stored under a code are that kind's only.

mod support;

use chrono::Utc;
use scimd_core::schema::ResourceKind;
use scimd_store::{NewResource, ResourceState};
use serde_json::json;

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_name_gets_a_code_once_and_keeps_it() {
    let store = support::fresh_store().await;
    let a = store.create_tenant("a", true, Utc::now()).await.unwrap().id;
    let b = store.create_tenant("b", true, Utc::now()).await.unwrap().id;
    let first = store.type_codes(a, names(&["Role", "Entitlement"])).await.unwrap();
    assert_eq!(first, vec![("Role".to_string(), 16), ("Entitlement".to_string(), 17)]);
    // Another order, a new name: the old ones keep theirs, the new one takes the next.
    let again = store.type_codes(a, names(&["Licence", "Role"])).await.unwrap();
    assert_eq!(again, vec![("Licence".to_string(), 18), ("Role".to_string(), 16)]);
    // Dropped from the profile and declared again: still its code.
    assert_eq!(store.type_codes(a, names(&["Entitlement"])).await.unwrap(), vec![("Entitlement".to_string(), 17)]);
    // Per tenant.
    assert_eq!(store.type_codes(b, names(&["Licence"])).await.unwrap(), vec![("Licence".to_string(), 16)]);
    assert_eq!(store.type_codes(a, vec![]).await.unwrap(), vec![]);
}

#[tokio::test]
async fn rows_under_a_code_are_that_kinds_only() {
    let store = support::fresh_store().await;
    let a = store.create_tenant("a", true, Utc::now()).await.unwrap().id;
    let codes = store.type_codes(a, names(&["Role", "Entitlement"])).await.unwrap();
    let (role, ent) = (ResourceKind::Custom(codes[0].1), ResourceKind::Custom(codes[1].1));
    let new = |v: &str| NewResource {
        state: ResourceState { doc: json!({"value": v}), unique_key: None, display: Some(v.into()), index: vec![] },
        password_hash: None,
        members: vec![],
        derived_gen: 0,
        event: None,
        writer: Default::default(),
    };
    store.create_with_ids(a, role, vec![("r1".into(), new("admin"))], Utc::now()).await.unwrap();
    let got = store.get(a, role, "r1", false).await.unwrap().expect("the row");
    assert_eq!(got.kind, role);
    assert!(store.get(a, ent, "r1", false).await.unwrap().is_none());
    assert!(store.get(a, ResourceKind::User, "r1", false).await.unwrap().is_none());
    // Ids are unique among users and groups, and among a type's own rows; two catalogs
    // may share one.
    let clash = store.create_with_ids(a, role, vec![("r1".into(), new("x"))], Utc::now()).await;
    assert!(clash.is_err(), "{clash:?}");
    store.create_with_ids(a, ent, vec![("r1".into(), new("x"))], Utc::now()).await.unwrap();
    assert_eq!(store.get(a, ent, "r1", false).await.unwrap().unwrap().data, r#"{"value":"x"}"#);
    assert_eq!(store.get(a, role, "r1", false).await.unwrap().unwrap().data, r#"{"value":"admin"}"#);
}
