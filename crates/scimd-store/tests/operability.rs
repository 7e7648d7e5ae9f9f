//! What operators watch: [`Store::stats`] (pool and write queue), the query-latency
//! observer ([`Store::set_observer`]) and readiness ([`Store::ready`]), on SQLite or, with
//! `SCIMD_TEST_POSTGRES`, on PostgreSQL; and per backend, readiness failing for a schema
//! that lacks a migration or has one from a newer binary, (SQLite) for a database file
//! renamed away, and (PostgreSQL) for a database that does not answer within 3 s.

mod support;

use std::sync::{Arc, Mutex};

use chrono::Utc;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use scimd_store::{QueryKind, Store};

/// Sets an observer on `store` and returns what it was told (kinds only).
fn observe(store: &dyn Store) -> Arc<Mutex<Vec<QueryKind>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    store.set_observer(Arc::new(move |kind, _elapsed| sink.lock().unwrap().push(kind)));
    seen
}

fn count(seen: &Mutex<Vec<QueryKind>>, kind: QueryKind) -> usize {
    seen.lock().unwrap().iter().filter(|k| **k == kind).count()
}

#[tokio::test]
async fn stats_after_reads_and_writes() {
    let store = support::fresh_store().await;
    for i in 0..5 {
        store.create_tenant(&format!("t{i}"), true, Utc::now()).await.unwrap();
        assert!(store.tenant_by_name(&format!("t{i}")).await.unwrap().is_some());
    }
    let s = store.stats();
    assert!(s.pool_size >= 1, "{s:?}");
    assert_eq!(s.pool_in_use, 0, "{s:?}");
    assert_eq!(s.pool_idle, s.pool_size, "{s:?}");
    assert_eq!(s.pool_waiting, 0, "{s:?}");
    assert_eq!(s.write_queue, 0, "{s:?}");
}

#[tokio::test]
async fn observer_sees_each_read_and_write_once() {
    let store = support::fresh_store().await;
    let seen = observe(&*store);
    store.create_tenant("a", true, Utc::now()).await.unwrap();
    assert_eq!((count(&seen, QueryKind::Write), count(&seen, QueryKind::Read)), (1, 0));
    store.tenant_by_name("a").await.unwrap().unwrap();
    assert_eq!((count(&seen, QueryKind::Write), count(&seen, QueryKind::Read)), (1, 1));
    // Only the first observer counts.
    let ignored = observe(&*store);
    store.tenant_by_name("a").await.unwrap().unwrap();
    assert_eq!(count(&seen, QueryKind::Read), 2);
    assert!(ignored.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ready_on_a_fresh_store() {
    let store = support::fresh_store().await;
    store.ready().await.unwrap();
}

#[tokio::test]
async fn sqlite_not_ready_while_the_file_is_renamed_away() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(path.to_str().unwrap(), SqliteOptions::default()).unwrap();
    store.ready().await.unwrap();
    let away = dir.path().join("moved.db");
    std::fs::rename(&path, &away).unwrap();
    let e = store.ready().await.unwrap_err().to_string();
    assert!(e.contains(&format!("the database file {} was removed or replaced", path.display())), "{e}");
    assert!(e.contains("writes would be lost at restart"), "{e}");
    // Another file at the path is not the database either.
    std::fs::write(&path, b"").unwrap();
    let e = store.ready().await.unwrap_err().to_string();
    assert!(e.contains("was removed or replaced"), "{e}");
    std::fs::remove_file(&path).unwrap();
    std::fs::rename(&away, &path).unwrap();
    store.ready().await.unwrap();
    store.close();
    let e = store.ready().await.unwrap_err().to_string();
    assert!(e.contains("closed"), "{e}");
}

#[tokio::test]
async fn sqlite_not_ready_when_the_schema_differs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(path.to_str().unwrap(), SqliteOptions::default()).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let last: i64 = conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    conn.execute("DELETE FROM schema_migrations WHERE version = ?", [last]).unwrap();
    // Versions need not be contiguous (each branch of work has its own numbers).
    let prev: i64 = conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    let e = store.ready().await.unwrap_err().to_string();
    let want = format!("schema at version {prev}, this scimd expects {last}: run `scimd migrate`");
    assert!(e.contains(&want), "{e}");
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'x'), (?, 'x')", [last, last + 1]).unwrap();
    let e = store.ready().await.unwrap_err().to_string();
    assert!(e.contains(&format!("version {}, newer than this scimd knows ({last})", last + 1)), "{e}");
    conn.execute("DELETE FROM schema_migrations WHERE version = ?", [last + 1]).unwrap();
    store.ready().await.unwrap();
}

#[tokio::test]
async fn postgres_not_ready_when_the_schema_differs() {
    let Ok(admin) = std::env::var("SCIMD_TEST_POSTGRES") else {
        eprintln!("SCIMD_TEST_POSTGRES is not set: nothing to check without PostgreSQL");
        return;
    };
    let url = support::fresh_postgres_database(&admin).await;
    let store = PgStore::connect(&url, PgOptions { pool_size: 2 }).await.unwrap();
    store.ready().await.unwrap();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let last: i64 = client.query_one("SELECT max(version) FROM schema_migrations", &[]).await.unwrap().get(0);
    client.execute("DELETE FROM schema_migrations WHERE version = $1", &[&last]).await.unwrap();
    // Versions need not be contiguous (each branch of work has its own numbers).
    let prev: i64 = client.query_one("SELECT max(version) FROM schema_migrations", &[]).await.unwrap().get(0);
    let e = store.ready().await.unwrap_err().to_string();
    let want = format!("schema at version {prev}, this scimd expects {last}: run `scimd migrate`");
    assert!(e.contains(&want), "{e}");
    client.execute("INSERT INTO schema_migrations VALUES ($1, 'x'), ($1 + 1, 'x')", &[&last]).await.unwrap();
    let e = store.ready().await.unwrap_err().to_string();
    assert!(e.contains(&format!("version {}, newer than this scimd knows ({last})", last + 1)), "{e}");
    client.execute("DELETE FROM schema_migrations WHERE version = $1", &[&(last + 1)]).await.unwrap();
    store.ready().await.unwrap();
    // A database that does not answer: ready() gives up after about 3 s.
    client.batch_execute("BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let started = std::time::Instant::now();
    let e = store.ready().await.unwrap_err().to_string();
    assert!(e.contains("did not answer within 3 s"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    client.batch_execute("ROLLBACK").await.unwrap();
    store.ready().await.unwrap();
    client.batch_execute("DROP TABLE schema_migrations").await.unwrap();
    let e = store.ready().await.unwrap_err().to_string();
    assert!(e.contains("cannot read the schema version") && e.contains("scimd migrate"), "{e}");
}
