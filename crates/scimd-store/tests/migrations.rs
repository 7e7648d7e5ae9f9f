//! A database written by an earlier schema version opens, migrates, and answers the same
//! filters afterwards: resources written before the migration and after it alike.

use chrono::Utc;
use rusqlite::params;
use scimd_core::builtin::standard_registry;
use scimd_core::list::{ListParams, PageConfig};
use scimd_core::resource;
use scimd_core::schema::ResourceKind;
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use scimd_store::{NewResource, ResourceState, Store, TenantId};
use serde_json::{Value, json};

const V1: &str = include_str!("../migrations/sqlite/0001_init.sql");

fn doc(v: Value) -> Value {
    resource::prepare(&standard_registry(), ResourceKind::User, &v).unwrap().doc
}

/// Writes a user the way schema version 1 stored it (path text in every index row).
fn insert_v1_user(conn: &rusqlite::Connection, rowid: i64, tenant: i64, scim_id: &str, doc: &Value) {
    let reg = standard_registry();
    conn.execute(
        "INSERT INTO resources (id, tenant_id, rtype, scim_id, unique_key, display, version, created, last_modified, data) \
         VALUES (?, ?, 1, ?, ?, ?, 1, '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', ?)",
        params![
            rowid,
            tenant,
            scim_id,
            resource::unique_key(ResourceKind::User, doc),
            resource::display_of(ResourceKind::User, doc),
            doc.to_string()
        ],
    )
    .unwrap();
    for e in resource::index_entries(&reg, ResourceKind::User, doc) {
        conn.execute(
            "INSERT INTO attr_index (res, path, elem, tenant_id, rtype, s, n) VALUES (?, ?, ?, ?, 1, ?, ?)",
            params![rowid, e.key, e.elem, tenant, e.s, e.n],
        )
        .unwrap();
    }
}

async fn ids(store: &SqliteStore, tenant: TenantId, filter: &str) -> Vec<String> {
    let params = ListParams { filter: Some(filter.into()), ..ListParams::default() };
    let q = params.resolve(&standard_registry(), ResourceKind::User, &PageConfig::default()).unwrap();
    let mut ids: Vec<String> =
        store.list(tenant, ResourceKind::User, &q, false).await.unwrap().items.into_iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn version_1_database_migrates_and_keeps_answering_filters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db").to_string_lossy().into_owned();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL);
             INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z');
             INSERT INTO tenants (id, name, created) VALUES (1, 'a', 'x'), (2, 'b', 'x');",
        )
        .unwrap();
        let ada = doc(json!({"userName": "ada", "active": true, "emails": [{"value": "ada@x", "type": "work"}]}));
        let bob = doc(json!({"userName": "bob", "active": false, "name": {"givenName": "Bob"}}));
        insert_v1_user(&conn, 1, 1, "id-ada", &ada);
        insert_v1_user(&conn, 2, 1, "id-bob", &bob);
        // Another tenant with the same attribute values.
        insert_v1_user(&conn, 3, 2, "id-ada-b", &ada);
    }

    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let (a, b) = (TenantId(1), TenantId(2));
    // Tenants from before the SCIM feature flag keep SCIM access.
    assert!(store.tenant_by_name("a").await.unwrap().unwrap().scim_enabled);
    assert_eq!(ids(&store, a, "userName eq \"ADA\"").await, ["id-ada"]);
    assert_eq!(ids(&store, a, "active eq false").await, ["id-bob"]);
    assert_eq!(ids(&store, a, "emails[type eq \"work\" and value co \"@x\"]").await, ["id-ada"]);
    assert_eq!(ids(&store, a, "name pr").await, ["id-bob"]);
    assert_eq!(ids(&store, a, "active pr").await, ["id-ada", "id-bob"]);
    assert_eq!(ids(&store, b, "userName eq \"ada\"").await, ["id-ada-b"]);
    assert!(ids(&store, b, "userName eq \"bob\"").await.is_empty());

    // Written after the migration, found by the same filters; the old rows still are.
    let d = doc(json!({"userName": "cy", "active": true}));
    let state = ResourceState {
        index: resource::index_entries(&standard_registry(), ResourceKind::User, &d),
        unique_key: resource::unique_key(ResourceKind::User, &d),
        display: resource::display_of(ResourceKind::User, &d),
        doc: d,
    };
    let cy = store
        .create(
            a,
            ResourceKind::User,
            NewResource { state, password_hash: None, members: vec![], event: None, derived_gen: 0 },
            Utc::now(),
        )
        .await
        .unwrap()
        .id;
    let mut want = vec!["id-ada".to_string(), cy];
    want.sort();
    assert_eq!(ids(&store, a, "active eq true").await, want);
    store.close();
    drop(store);

    // Reopening does not migrate again.
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(ids(&store, a, "userName eq \"bob\"").await, ["id-bob"]);
}

/// A version-6 database kept payloads and the error log itself; opening it moves them into
/// the audit journal, where the store finds them, and its change events stay readable.
#[tokio::test]
async fn version_6_audit_payloads_and_errors_move_to_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db").to_string_lossy().into_owned();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL);")
            .unwrap();
        for (version, sql) in [
            (1, V1),
            (2, include_str!("../migrations/sqlite/0002_attr_keys.sql")),
            (3, include_str!("../migrations/sqlite/0003_tenant_scim_enabled.sql")),
            (4, include_str!("../migrations/sqlite/0004_oauth_clients_api_users.sql")),
            (5, include_str!("../migrations/sqlite/0005_oauth_tokens.sql")),
            (6, include_str!("../migrations/sqlite/0006_audit.sql")),
        ] {
            conn.execute_batch(sql).unwrap();
            conn.execute("INSERT INTO schema_migrations VALUES (?, 'x')", [version]).unwrap();
        }
        let now = Utc::now().timestamp_millis();
        conn.execute_batch("INSERT INTO tenants (id, name, created) VALUES (1, 'a', 'x');").unwrap();
        conn.execute(
            "INSERT INTO api_events (tenant_id, time, id, request_id, method, path, op, status, duration_ms) \
             VALUES (1, ?, 7, 'req-7', 'POST', '/scim/v2/Users', 'create', 201, 1.0)",
            [now],
        )
        .unwrap();
        conn.execute("INSERT INTO counters VALUES ('api_events', 7)", []).unwrap();
        conn.execute(
            "INSERT INTO api_event_details VALUES (7, 1, ?, '{}', '{\"userName\":\"ada\"}', '{}', NULL)",
            [now],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO error_log (time, request_id, tenant_id, method, path, detail) \
             VALUES ('2026-11-01T00:00:00.000Z', 'req-8', 1, 'GET', '/scim/v2/Users', 'boom')",
            params![],
        )
        .unwrap();
    }
    for _ in 0..2 {
        // Opening twice: the copy is not repeated into duplicates.
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        let events = store.events(TenantId(1), &scimd_store::EventQuery { limit: 10, ..Default::default() }).await;
        let events = events.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].request_id, "req-7");
        let details = store.event_details(TenantId(1), 7).await.unwrap().expect("payloads kept");
        assert_eq!(details.request_body.as_deref(), Some("{\"userName\":\"ada\"}"));
        let errors = store.errors("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 10).await.unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].detail, "boom");
        store.close();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name IN ('api_event_details', 'error_log')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(left, 0, "the old tables are dropped from the main database");
    assert!(std::path::Path::new(&format!("{path}-audit")).exists());
}
