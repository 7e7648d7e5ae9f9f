//! The SQL filter path must return exactly the resources the core's in-memory
//! evaluator (`scimd_core::filter::matches`) accepts. Generates random users and random
//! filters (as text, through the real parser and resolver) and compares the id sets.

use std::collections::BTreeSet;

mod support;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use scimd_core::builtin::standard_registry;
use scimd_core::filter::{matches, parse_filter, resolve_filter};
use scimd_core::list::{ListParams, ListQuery, PageConfig};
use scimd_core::resource::{self, MemberRef, Meta};
use scimd_core::schema::ResourceKind;

use scimd_store::{NewResource, ResourceState, normalized_time};
use serde_json::{Value, json};

const WORDS: &[&str] =
    &["alpha", "Alpha", "ALPHA", "alp", "beta", "bet", "ha", "Ærø", "ærø", "straße", "a", "", "zz", "al%", "a_b"];
const TYPES: &[&str] = &["work", "home", "Work", "other"];
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

fn email() -> impl Strategy<Value = Value> {
    (word(), prop::option::of(prop::sample::select(TYPES)), prop::option::of(any::<bool>())).prop_map(|(v, t, p)| {
        let mut e = json!({ "value": format!("{v}@x.test") });
        if let Some(t) = t {
            e["type"] = json!(t);
        }
        if p == Some(false) {
            e["primary"] = json!(false);
        }
        e
    })
}

fn user() -> impl Strategy<Value = Value> {
    (
        prop::option::of(word()),
        prop::option::of(word()),
        prop::option::of(any::<bool>()),
        prop::collection::vec(email(), 0..3),
        prop::option::of(word()),
        prop::option::of(word()),
        prop::option::of((word(), prop::sample::select(TYPES))),
    )
        .prop_map(|(display, title, active, emails, ext, emp, addr)| {
            let mut u = json!({});
            if let Some(d) = display {
                u["displayName"] = json!(d);
            }
            if let Some(t) = title {
                u["title"] = json!(t);
            }
            if let Some(a) = active {
                u["active"] = json!(a);
            }
            if !emails.is_empty() {
                u["emails"] = json!(emails);
            }
            if let Some(e) = ext {
                u["externalId"] = json!(e);
            }
            if let Some(e) = emp {
                u[ENT] = json!({ "employeeNumber": e, "department": "Dept" });
            }
            if let Some((l, t)) = addr {
                u["addresses"] = json!([{ "locality": l, "type": t }]);
            }
            u
        })
}

fn lit() -> impl Strategy<Value = String> {
    prop_oneof![
        word().prop_map(|w| format!("\"{w}\"")),
        word().prop_map(|w| format!("\"{w}@x.test\"")),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("null".to_string()),
    ]
}

fn op() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"][..])
}

fn attr() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "userName",
            "displayName",
            "title",
            "active",
            "externalId",
            "emails",
            "emails.value",
            "emails.type",
            "emails.primary",
            "addresses.locality",
            "name.givenName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        ][..],
    )
}

fn sub_attr() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["value", "type", "primary", "display"][..])
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (attr(), op(), lit()).prop_map(|(a, o, l)| format!("{a} {o} {l}")),
        1 => attr().prop_map(|a| format!("{a} pr")),
        2 => (sub_attr(), op(), lit(), sub_attr(), lit()).prop_map(|(a, o, l, b, m)| {
            format!("emails[{a} {o} {l} and {b} eq {m}]")
        }),
        1 => (sub_attr(), op(), lit()).prop_map(|(a, o, l)| format!("emails[not ({a} {o} {l})]")),
        1 => (sub_attr(), lit(), lit()).prop_map(|(a, l, m)| format!("emails[type eq {l} or {a} co {m}]")),
        1 => (lit(), lit()).prop_map(|(l, m)| format!("emails[type eq {l}].value sw {m}")),
    ]
}

fn filter() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn run_case(users: Vec<Value>, filters: Vec<String>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let reg = standard_registry();
        let store = support::fresh_store().await;
        let now = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let tenant = store.create_tenant("t", true, now).await.unwrap();
        let noise = store.create_tenant("noise", true, now).await.unwrap();
        let mut full = Vec::new();
        for (i, mut u) in users.into_iter().enumerate() {
            u["userName"] = json!(format!("user{i}"));
            let prepared = resource::prepare(&reg, ResourceKind::User, &u)
                .map_err(|e| TestCaseError::fail(format!("{e}: {u}")))?;
            let doc = prepared.doc;
            let state = ResourceState {
                index: resource::index_entries(&reg, ResourceKind::User, &doc),
                unique_key: resource::unique_key(ResourceKind::User, &doc),
                display: resource::display_of(ResourceKind::User, &doc),
                doc: doc.clone(),
            };
            let t = now + chrono::TimeDelta::seconds(i as i64);
            // The same user in another tenant must never show up.
            store
                .create(
                    noise.id,
                    ResourceKind::User,
                    NewResource {
                        state: state.clone(),
                        password_hash: None,
                        members: vec![],
                        event: None,
                        derived_gen: 0,
                        writer: Default::default(),
                    },
                    t,
                )
                .await
                .unwrap();
            let stored = store
                .create(
                    tenant.id,
                    ResourceKind::User,
                    NewResource {
                        state,
                        password_hash: None,
                        members: vec![],
                        event: None,
                        derived_gen: 0,
                        writer: Default::default(),
                    },
                    t,
                )
                .await
                .unwrap();
            let meta = Meta {
                created: normalized_time(t),
                last_modified: normalized_time(t),
                location: format!("http://x/Users/{}", stored.id),
                version: "W/\"1\"".into(),
            };
            let no_groups: &[MemberRef] = &[];
            full.push((
                stored.id.clone(),
                resource::full_resource(&reg, ResourceKind::User, doc.clone(), &stored.id, &meta, Some(no_groups)),
            ));
        }
        for f in filters {
            let Ok(parsed) = parse_filter(&f) else {
                return Err(TestCaseError::fail(format!("generated filter does not parse: {f}")));
            };
            let Ok(resolved) = resolve_filter(&reg, ResourceKind::User, &parsed) else { continue };
            let want: BTreeSet<String> =
                full.iter().filter(|(_, r)| matches(&resolved, r)).map(|(id, _)| id.clone()).collect();
            let params =
                ListParams::from_query(&[("filter".to_string(), f.clone()), ("count".to_string(), "1000".to_string())])
                    .unwrap();
            let query: ListQuery =
                params.resolve(&reg, ResourceKind::User, &PageConfig { default_count: 1000, max_count: 1000 }).unwrap();
            let page = store
                .list(tenant.id, ResourceKind::User, &query, false)
                .await
                .map_err(|e| TestCaseError::fail(format!("{f}: {e}")))?;
            let got: BTreeSet<String> = page.items.iter().map(|r| r.id.clone()).collect();
            prop_assert_eq!(page.total as usize, got.len(), "totalResults for {}", f);
            prop_assert_eq!(&got, &want, "filter: {}", f);
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn sql_filter_agrees_with_the_evaluator(users in prop::collection::vec(user(), 1..10), filters in prop::collection::vec(filter(), 1..24)) {
        run_case(users, filters)?;
    }
}

#[test]
fn fixed_regressions() {
    let users = vec![
        json!({"emails": [{"value": "alpha@x.test", "type": "work"}, {"value": "beta@x.test", "type": "home"}], "active": true}),
        json!({"emails": [{"value": "ALPHA@x.test", "type": "home"}], "title": "Ærø"}),
        json!({"displayName": "straße", "active": false}),
        json!({}),
    ];
    let filters = [
        "emails[type eq \"work\" and value sw \"alpha\"]",
        "emails[type eq \"home\" and value sw \"alpha\"]",
        "emails[not (type eq \"work\")]",
        "emails.type ne \"work\"",
        "title eq \"ærø\"",
        "displayName co \"SS\"",
        "displayName co \"ß\"",
        "active eq false or not (active pr)",
        "emails.value ew \"@X.TEST\"",
        "userName gt \"user1\" and userName lt \"user3\"",
        "emails[type eq \"home\"].value sw \"a\"",
        "title eq null",
        "title ne null",
        "emails co \"\"",
    ]
    .map(str::to_string)
    .to_vec();
    run_case(users, filters).unwrap();
}
