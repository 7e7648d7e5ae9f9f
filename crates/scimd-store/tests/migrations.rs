//! A database written by an earlier schema version opens, migrates, and answers the same
//! filters afterwards: resources written before the migration and after it alike.

mod support;

use chrono::Utc;
use rusqlite::params;
use scimd_core::builtin::standard_registry;
use scimd_core::list::{ListParams, PageConfig};
use scimd_core::resource;
use scimd_core::schema::ResourceKind;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use scimd_store::{AuditStore as _, TenantStore as _};
use scimd_store::{Change, NewResource, ResourceState, Store, StoreError, TenantId, Update};
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
        let errors = store.errors(None, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 10).await.unwrap();
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

// ----------------------------------------------- userName keys under the current rule

/// Users as a version-9 (SQLite) / version-3 (PostgreSQL) database keeps them: the key
/// and the indexed userName lower-cased, as the rule of then had it. (tenant, scim id, name)
const OLD_USERS: &[(i64, &str, &str)] = &[
    (1, "id-1", "straße"),
    (1, "id-2", "STRASSE"),
    (1, "id-3", "ＡＤＭＩＮ"),
    (1, "id-4", "admin "),
    (1, "id-5", "b\u{200B}ob"),
    (1, "id-6", "cafe\u{301}"),
    (2, "id-7", "Straße"),
];

fn user_state(name: &str) -> ResourceState {
    let d = doc(json!({"userName": name}));
    ResourceState {
        index: resource::index_entries(&standard_registry(), ResourceKind::User, &d),
        unique_key: resource::unique_key(ResourceKind::User, &d),
        display: resource::display_of(ResourceKind::User, &d),
        doc: d,
    }
}

/// Replaces a user's state; `keep_key` writes it without a key (the key it has stays).
async fn rewrite(store: &dyn Store, tenant: TenantId, id: &str, name: &str, keep_key: bool) -> Result<(), String> {
    let mut state = user_state(name);
    if keep_key {
        state.unique_key = None;
    }
    let change = Change { state, password_hash: None, member_ops: vec![], deactivates: false, derived_gen: 0 };
    let update = Update {
        if_match: None,
        mutate: Box::new(move |_| Ok(change.clone())),
        related: false,
        event: None,
        write: scimd_core::events::Write::Patch,
        writer: Default::default(),
    };
    store.update(tenant, ResourceKind::User, id, update, Utc::now()).await.map(|_| ()).map_err(|e| format!("{e:?}"))
}

async fn ids_in(store: &dyn Store, tenant: TenantId, filter: &str) -> Vec<String> {
    let params = ListParams { filter: Some(filter.into()), ..ListParams::default() };
    let q = params.resolve(&standard_registry(), ResourceKind::User, &PageConfig::default()).unwrap();
    let mut ids: Vec<String> =
        store.list(tenant, ResourceKind::User, &q, false).await.unwrap().items.into_iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// What must hold once the old users were migrated: the new rule answers filters and
/// uniqueness; clashing users are reported, not merged, and can still be updated.
async fn check_migrated_user_names(store: &dyn Store) {
    let (a, b) = (TenantId(1), TenantId(2));
    assert_eq!(ids_in(store, a, "userName eq \"STRASSE\"").await, ["id-1", "id-2"]);
    assert_eq!(ids_in(store, a, "userName eq \"admin\"").await, ["id-3", "id-4"]);
    // A clashing user's kept key is not its name: "admin " (kept by id-4) is nobody's name.
    assert!(ids_in(store, a, "userName eq \"admin \"").await.is_empty());
    assert_eq!(ids_in(store, a, "userName eq \"CAFÉ\"").await, ["id-6"]);
    assert_eq!(ids_in(store, b, "userName eq \"strasse\"").await, ["id-7"]);
    let issues = store.user_name_issues().await.unwrap();
    let found: Vec<(&str, &str, Option<&str>)> =
        issues.iter().map(|i| (i.tenant.as_str(), i.user_id.as_str(), i.other_id.as_deref())).collect();
    assert_eq!(found, [("a", "id-1", Some("id-2")), ("a", "id-4", Some("id-3")), ("a", "id-5", None)]);
    assert!(issues[2].problem.contains("U+200B"), "{}", issues[2].problem);
    // The keys are the new rule's: no further spelling of a taken name gets in.
    let create = |tenant, name: &str| {
        let new = NewResource {
            state: user_state(name),
            password_hash: None,
            members: vec![],
            event: None,
            derived_gen: 0,
            writer: Default::default(),
        };
        store.create(tenant, ResourceKind::User, new, Utc::now())
    };
    assert!(matches!(create(a, "Strasse").await, Err(StoreError::Conflict(_))));
    assert!(matches!(create(a, "admin").await, Err(StoreError::Conflict(_))));
    assert!(matches!(create(b, "STRASSE").await, Err(StoreError::Conflict(_))));
    assert!(create(a, "café-2").await.is_ok());
    // A clashing user keeps working under its name; renamed, it leaves the report.
    rewrite(store, a, "id-1", "straße", true).await.unwrap();
    assert_eq!(store.user_name_issues().await.unwrap().len(), 3);
    assert!(rewrite(store, a, "id-1", "STRASSE", false).await.is_err(), "still the same name as id-2");
    rewrite(store, a, "id-1", "strasse-1", false).await.unwrap();
    let left: Vec<String> = store.user_name_issues().await.unwrap().into_iter().map(|i| i.user_id).collect();
    assert_eq!(left, ["id-4", "id-5"]);
}

#[tokio::test]
async fn sqlite_user_name_keys_are_recomputed_and_clashes_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v9.db").to_string_lossy().into_owned();
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
            (7, include_str!("../migrations/sqlite/0007_audit_journal.sql")),
            (8, include_str!("../migrations/sqlite/0008_tenant_profile.sql")),
            (9, include_str!("../migrations/sqlite/0009_places.sql")),
        ] {
            conn.execute_batch(sql).unwrap();
            conn.execute("INSERT INTO schema_migrations VALUES (?, 'x')", [version]).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO tenants (id, name, created) VALUES (1, 'a', 'x'), (2, 'b', 'x');
             INSERT INTO attr_keys (id, tenant_id, rtype, path) VALUES (1, 1, 1, 'username'), (2, 2, 1, 'username');",
        )
        .unwrap();
        for (i, (tenant, id, name)) in OLD_USERS.iter().enumerate() {
            let rowid = i as i64 + 1;
            conn.execute(
                "INSERT INTO resources (id, tenant_id, rtype, scim_id, unique_key, version, created, last_modified, data) \
                 VALUES (?, ?, 1, ?, ?, 1, '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', ?)",
                params![rowid, tenant, id, name.to_lowercase(), json!({"userName": name}).to_string()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO attr_index (res, key, elem, s) VALUES (?, ?, 0, ?)",
                params![rowid, tenant, name.to_lowercase()],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    check_migrated_user_names(&store).await;
    store.close();
    drop(store);
    // Opening again neither recomputes nor reports anything twice.
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(store.user_name_issues().await.unwrap().len(), 2);
}

#[tokio::test]
async fn postgres_user_name_keys_are_recomputed_and_clashes_reported() {
    let Ok(admin) = std::env::var("SCIMD_TEST_POSTGRES") else {
        eprintln!("SCIMD_TEST_POSTGRES is not set: nothing to check without PostgreSQL");
        return;
    };
    let url = support::fresh_postgres_database(&admin).await;
    {
        let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        let task = tokio::spawn(conn);
        c.batch_execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied TEXT NOT NULL)")
            .await
            .unwrap();
        for (version, sql) in [
            (1i64, include_str!("../migrations/postgres/0001_init.sql")),
            (2, include_str!("../migrations/postgres/0002_tenant_profile.sql")),
            (3, include_str!("../migrations/postgres/0003_places.sql")),
        ] {
            c.batch_execute(sql).await.unwrap();
            c.execute("INSERT INTO schema_migrations VALUES ($1, 'x')", &[&version]).await.unwrap();
        }
        c.batch_execute(
            "INSERT INTO tenants (id, name, created) OVERRIDING SYSTEM VALUE VALUES (1, 'a', 'x'), (2, 'b', 'x');
             INSERT INTO attr_keys (id, tenant_id, rtype, path) OVERRIDING SYSTEM VALUE
                 VALUES (1, 1, 1, 'username'), (2, 2, 1, 'username');",
        )
        .await
        .unwrap();
        for (tenant, id, name) in OLD_USERS {
            let row = c
                .query_one(
                    "INSERT INTO resources (tenant_id, rtype, scim_id, unique_key, version, created, last_modified, data) \
                     VALUES ($1, 1, $2, $3, 1, '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.000000000Z', $4) \
                     RETURNING id",
                    &[tenant, id, &name.to_lowercase(), &json!({"userName": name}).to_string()],
                )
                .await
                .unwrap();
            let rowid: i64 = row.get(0);
            c.execute(
                "INSERT INTO attr_index (res, key, elem, s) VALUES ($1, $2, 0, $3)",
                &[&rowid, tenant, &name.to_lowercase()],
            )
            .await
            .unwrap();
        }
        drop(c);
        let _ = task.await;
    }
    let store = PgStore::connect(&url, PgOptions { pool_size: 2 }).await.unwrap();
    check_migrated_user_names(&store).await;
    drop(store);
    let store = PgStore::connect(&url, PgOptions { pool_size: 2 }).await.unwrap();
    assert_eq!(store.user_name_issues().await.unwrap().len(), 2);
}
