//! On PostgreSQL, filters are served by indexes, never by reading a tenant's resources:
//! `eq` and `sw` by the btree on (attribute key, folded value), `co` and `ew` by the
//! trigram index, counts likewise (a tiny table such as the attribute keys may be scanned). Checked on PostgreSQL's own plans (`EXPLAIN`) of the
//! SQL the store runs, on a tenant of 1,500 users with current statistics.
//!
//! Runs when `SCIMD_TEST_POSTGRES` names a PostgreSQL server (`scripts/test` starts one).

mod support;

use chrono::Utc;
use scimd_core::builtin::standard_registry;
use scimd_core::list::{ListParams, ListQuery, PageConfig};
use scimd_core::resource;
use scimd_core::schema::ResourceKind;
use scimd_store::TenantStore as _;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::{NewResource, ResourceState, Store};
use serde_json::json;

fn query(filter: &str) -> ListQuery {
    let params = ListParams { filter: Some(filter.to_string()), ..ListParams::default() };
    params
        .resolve(&standard_registry(), ResourceKind::User, &PageConfig { default_count: 100, max_count: 1000 })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_use_indexes() {
    let Ok(admin) = std::env::var("SCIMD_TEST_POSTGRES") else {
        eprintln!("SCIMD_TEST_POSTGRES is not set: nothing to check without PostgreSQL");
        return;
    };
    let url = support::fresh_postgres_database(&admin).await;
    let store = PgStore::connect(&url, PgOptions { pool_size: 4 }).await.unwrap();
    let reg = standard_registry();
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    for i in 0..1500 {
        let doc = json!({"userName": format!("user{i}@example.com"), "displayName": format!("User {i}"),
                         "emails": [{"value": format!("u{i}@corp{}.example", i % 7), "type": "work"}]});
        let doc = resource::prepare(&reg, ResourceKind::User, &doc).unwrap().doc;
        let state = ResourceState {
            index: resource::index_entries(&reg, ResourceKind::User, &doc),
            unique_key: resource::unique_key(ResourceKind::User, &doc),
            display: resource::display_of(ResourceKind::User, &doc),
            doc,
        };
        store
            .create(
                t,
                ResourceKind::User,
                NewResource {
                    state,
                    password_hash: None,
                    members: vec![],
                    event: None,
                    derived_gen: 0,
                    writer: Default::default(),
                },
                Utc::now(),
            )
            .await
            .unwrap();
    }
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute("VACUUM ANALYZE").await.unwrap();

    for (filter, index) in [
        ("userName eq \"user77@example.com\"", "attr_index_s"),
        ("userName sw \"user14\"", "attr_index_s"),
        ("emails.value co \"77@corp\"", "attr_index_trgm"),
        ("displayName ew \"r 1234\"", "attr_index_trgm"),
    ] {
        let plan = store.explain_list(t, ResourceKind::User, &query(filter)).await.unwrap();
        assert!(plan.contains(index), "{filter}: not served by {index}:\n{plan}");
        for table in ["resources", "attr_index", "members"] {
            assert!(!plan.contains(&format!("Seq Scan on {table}")), "{filter}: reads all of {table}:\n{plan}");
        }
        // The answer is right, too.
        let page = store.list(t, ResourceKind::User, &query(filter), false).await.unwrap();
        assert!(page.total > 0, "{filter}: nothing found");
    }
}
