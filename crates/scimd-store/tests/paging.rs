//! Deep pages of unfiltered lists (served from page anchors) return exactly the
//! resources an OFFSET scan would, also after creates and deletes change positions.

mod support;

use chrono::Utc;
use scimd_core::builtin::standard_registry;
use scimd_core::list::{ListParams, PageConfig};
use scimd_core::resource;
use scimd_core::schema::ResourceKind;
use scimd_store::{NewResource, ResourceState, Store, TenantId};
use serde_json::json;

async fn create(store: &dyn Store, tenant: TenantId, name: &str) -> String {
    let reg = standard_registry();
    let doc = resource::prepare(&reg, ResourceKind::User, &json!({"userName": name})).unwrap().doc;
    let state = ResourceState {
        index: resource::index_entries(&reg, ResourceKind::User, &doc),
        unique_key: resource::unique_key(ResourceKind::User, &doc),
        display: resource::display_of(ResourceKind::User, &doc),
        doc,
    };
    let new = NewResource {
        state,
        password_hash: None,
        members: vec![],
        event: None,
        derived_gen: 0,
        writer: Default::default(),
    };
    store.create(tenant, ResourceKind::User, new, Utc::now()).await.unwrap().id
}

async fn page(store: &dyn Store, tenant: TenantId, start: u64, count: u64) -> (u64, Vec<String>) {
    let params = ListParams { start_index: Some(start as i64), count: Some(count as i64), ..ListParams::default() };
    let q = params
        .resolve(&standard_registry(), ResourceKind::User, &PageConfig { default_count: 100, max_count: 1000 })
        .unwrap();
    let p = store.list(tenant, ResourceKind::User, &q, false).await.unwrap();
    (p.total, p.items.into_iter().map(|r| r.id).collect())
}

#[tokio::test]
async fn deep_pages_match_positions_through_creates_and_deletes() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let other = store.create_tenant("o", true, Utc::now()).await.unwrap().id;
    let mut ids = Vec::new();
    for i in 0..2600 {
        ids.push(create(&*store, t, &format!("u{i}")).await);
        if i % 3 == 0 {
            create(&*store, other, &format!("o{i}")).await; // interleaved rows of another tenant
        }
    }
    let check = |ids: Vec<String>| ids;
    for (start, count) in
        [(1, 100), (995, 10), (1001, 100), (1999, 5), (2001, 1000), (2550, 100), (2601, 10), (9000, 10)]
    {
        let (total, got) = page(&*store, t, start, count).await;
        assert_eq!(total, ids.len() as u64);
        let from = (start - 1) as usize;
        let want: Vec<String> = ids.iter().skip(from).take(count as usize).cloned().collect();
        assert_eq!(check(got), want, "startIndex {start} count {count}");
    }
    // Deleting early resources shifts every later position; anchors must follow.
    for id in ids.drain(0..150).collect::<Vec<_>>() {
        store.delete(t, ResourceKind::User, &id, None, Default::default(), None, Utc::now()).await.unwrap();
    }
    ids.push(create(&*store, t, "late").await);
    for (start, count) in [(1001, 100), (2001, 100), (2440, 20)] {
        let (total, got) = page(&*store, t, start, count).await;
        assert_eq!(total, ids.len() as u64);
        let want: Vec<String> = ids.iter().skip((start - 1) as usize).take(count as usize).cloned().collect();
        assert_eq!(got, want, "after deletes: startIndex {start}");
    }
}
