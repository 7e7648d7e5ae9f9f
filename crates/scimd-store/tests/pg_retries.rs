//! The PostgreSQL store's retries, against a real server (`SCIMD_TEST_POSTGRES`; skipped
//! without it): a write the database breaks off — a real deadlock with a side
//! connection, or a serialization failure raised by a test trigger — runs again and is
//! applied exactly once; past three tries it is unavailable and changes nothing; pooled
//! connections whose server processes were terminated are replaced without failing the
//! work handed to them.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::Utc;
use scimd_core::builtin::standard_registry;
use scimd_core::events::Write;
use scimd_core::resource;
use scimd_core::schema::ResourceKind;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::{
    Change, ChangeEvent, NewEvent, NewResource, ResourceState, Store, StoreError, TenantId, TenantStore, Update, Why,
};
use serde_json::{Value, json};

fn state(doc: Value) -> ResourceState {
    let reg = standard_registry();
    let doc = resource::prepare(&reg, ResourceKind::User, &doc).unwrap().doc;
    ResourceState {
        index: resource::index_entries(&reg, ResourceKind::User, &doc),
        unique_key: resource::unique_key(ResourceKind::User, &doc),
        display: resource::display_of(ResourceKind::User, &doc),
        doc,
    }
}

/// A store on a fresh database, and a side connection to the same database.
async fn open() -> Option<(PgStore, tokio_postgres::Client, String)> {
    let admin = std::env::var("SCIMD_TEST_POSTGRES").ok().filter(|u| !u.is_empty())?;
    let url = support::fresh_postgres_database(&admin).await;
    let store = PgStore::connect(&url, PgOptions { pool_size: 4 }).await.expect("open PostgreSQL store");
    Some((store, side(&url).await, url))
}

async fn side(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("side connection");
    tokio::spawn(conn);
    client
}

async fn user(store: &PgStore, t: TenantId, name: &str) -> String {
    let new = NewResource {
        state: state(json!({"userName": name})),
        password_hash: None,
        members: vec![],
        event: None,
        derived_gen: 0,
        writer: Default::default(),
    };
    store.create(t, ResourceKind::User, new, Utc::now()).await.unwrap().id
}

/// A PATCH's audit event, written with its change; its id is published in `.id`.
fn patch_event(t: TenantId, request_id: &str) -> ChangeEvent {
    let event = NewEvent {
        tenant: Some(t),
        time: Utc::now(),
        request_id: request_id.into(),
        client: None,
        method: "PATCH".into(),
        path: "/scim/v2/Users/x".into(),
        rtype: Some("User".into()),
        resource_id: None,
        op: "patch".into(),
        status: 200,
        scim_type: None,
        duration_ms: 0.0,
        deactivated: false,
        client_request_id: None,
    };
    ChangeEvent { event, started: std::time::Instant::now(), id: Arc::default() }
}

/// Events recorded for a request.
async fn events_of(side: &tokio_postgres::Client, request_id: &str) -> i64 {
    side.query_one("SELECT count(*) FROM api_events WHERE request_id = $1", &[&request_id]).await.unwrap().get(0)
}

/// An update that appends "x" to the user's `nickName` as it finds it (so running it twice
/// on one state would show), counting how often it was called.
fn append_x(calls: Arc<AtomicU32>) -> Update {
    let mutate = Box::new(move |current: &Value| {
        calls.fetch_add(1, Ordering::SeqCst);
        let mut doc = current.clone();
        let nick = format!("{}x", doc.get("nickName").and_then(Value::as_str).unwrap_or_default());
        doc["nickName"] = json!(nick);
        Ok(Change { state: state(doc), password_hash: None, member_ops: vec![], deactivates: false, derived_gen: 0 })
    });
    Update { if_match: None, mutate, related: false, event: None, write: Write::Patch, writer: Default::default() }
}

async fn nick(store: &PgStore, t: TenantId, id: &str) -> (i64, String) {
    let r = store.get(t, ResourceKind::User, id, false).await.unwrap().unwrap();
    let doc: Value = serde_json::from_str(&r.data).unwrap();
    (r.version, doc["nickName"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn a_write_that_deadlocks_runs_again_and_is_applied_once() {
    let Some((store, a, _)) = open().await else { return };
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let id = user(&store, t, "alice").await;
    let rowid: i64 = a.query_one("SELECT id FROM resources WHERE scim_id = $1", &[&id]).await.unwrap().get(0);
    // A test trigger makes every change of a resource wait for an advisory lock the side
    // connection holds: the store's transaction holds the user's row and waits for the
    // side, which then asks for that row — a real deadlock, which PostgreSQL breaks by
    // aborting the transaction that waited first, the store's.
    a.batch_execute(
        "CREATE FUNCTION wait_for_side() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN PERFORM pg_advisory_xact_lock(7525); RETURN NEW; END $$; \
         CREATE TRIGGER wait_for_side BEFORE UPDATE ON resources FOR EACH ROW EXECUTE FUNCTION wait_for_side();",
    )
    .await
    .unwrap();
    a.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7525)").await.unwrap();

    let calls = Arc::new(AtomicU32::new(0));
    let store = Arc::new(store);
    let write = {
        let (store, id, calls) = (store.clone(), id.clone(), calls.clone());
        tokio::spawn(async move { store.update(t, ResourceKind::User, &id, append_x(calls), Utc::now()).await })
    };
    // The store's transaction waits for the advisory lock (holding the user's row).
    wait_until(&a, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").await;
    // The side asks for the row: PostgreSQL finds the cycle and aborts the store's
    // transaction (40P01), which releases the row; the side then ends its transaction.
    a.query("SELECT 1 FROM resources WHERE id = $1 FOR UPDATE", &[&rowid]).await.unwrap();
    a.batch_execute("COMMIT").await.unwrap();

    let stored = write.await.unwrap().expect("the write succeeds after running again");
    assert_eq!(stored.version, 2, "applied once");
    assert_eq!(nick(&store, t, &id).await, (2, "x".to_string()), "applied once, on the state after the deadlock");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the mutator ran in the aborted transaction and in the next");
    assert_eq!(store.stats().retried_transactions, 1);
}

/// Polls `sql` (a count) on the side connection until it is positive.
async fn wait_until(side: &tokio_postgres::Client, sql: &str) {
    for _ in 0..200 {
        let n: i64 = side.query_one(sql, &[]).await.unwrap().get(0);
        if n > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never true: {sql}");
}

/// A test trigger that breaks off the first `n` changes of resources with a serialization
/// failure at `COMMIT` (a deferred constraint trigger: after the change and its audit event
/// were written), counted by a sequence, which a rollback does not undo.
async fn fail_first_changes(side: &tokio_postgres::Client, n: i64) {
    side.batch_execute(&format!(
        "CREATE SEQUENCE failures; \
         CREATE FUNCTION fail_first() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF nextval('failures') <= {n} THEN \
           RAISE EXCEPTION 'provoked serialization failure' USING ERRCODE = '40001'; \
         END IF; RETURN COALESCE(NEW, OLD); END $$; \
         CREATE CONSTRAINT TRIGGER fail_first AFTER UPDATE OR DELETE ON resources \
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_first();"
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn a_serialization_failure_at_commit_runs_again_up_to_three_tries() {
    let Some((store, a, _)) = open().await else { return };
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let id = user(&store, t, "alice").await;
    fail_first_changes(&a, 2).await;
    let calls = Arc::new(AtomicU32::new(0));
    let event = patch_event(t, "req-1");
    let update = Update { event: Some(event.clone()), ..append_x(calls.clone()) };
    let stored = store.update(t, ResourceKind::User, &id, update, Utc::now()).await.unwrap();
    assert_eq!((stored.version, calls.load(Ordering::SeqCst)), (2, 3), "third try commits, once");
    assert_eq!(nick(&store, t, &id).await, (2, "x".to_string()));
    assert_eq!(events_of(&a, "req-1").await, 1, "its audit event written once");
    assert!(event.id.load(Ordering::SeqCst) > 0, "the committed event's id is published");
    assert_eq!(store.stats().retried_transactions, 2);
    // A delete goes through the same loop.
    a.batch_execute("ALTER SEQUENCE failures RESTART").await.unwrap();
    store.delete(t, ResourceKind::User, &id, None, Default::default(), None, Utc::now()).await.unwrap();
    assert!(store.get(t, ResourceKind::User, &id, false).await.unwrap().is_none());
    assert_eq!(store.stats().retried_transactions, 4);
}

#[tokio::test]
async fn a_write_broken_off_three_times_is_unavailable_and_changes_nothing() {
    let Some((store, a, _)) = open().await else { return };
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let id = user(&store, t, "alice").await;
    fail_first_changes(&a, 3).await;
    let calls = Arc::new(AtomicU32::new(0));
    let event = patch_event(t, "req-1");
    let update = Update { event: Some(event.clone()), ..append_x(calls.clone()) };
    match store.update(t, ResourceKind::User, &id, update, Utc::now()).await {
        Err(StoreError::Unavailable(u)) => assert_eq!(u.why, Why::Contention),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(nick(&store, t, &id).await, (1, String::new()), "nothing changed");
    assert_eq!(events_of(&a, "req-1").await, 0);
    assert_eq!(event.id.load(Ordering::SeqCst), 0, "no change event to attach the request's details to");
}

#[tokio::test]
async fn pooled_connections_whose_server_ended_them_are_replaced() {
    let Some((store, a, _)) = open().await else { return };
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let id = user(&store, t, "alice").await;
    // Fill the pool: four connections in use at once, then idle.
    let get = || store.get(t, ResourceKind::User, &id, false);
    let (r1, r2, r3, r4) = tokio::join!(get(), get(), get(), get());
    for r in [r1, r2, r3, r4] {
        assert!(r.unwrap().is_some());
    }
    for pause in [Duration::ZERO, Duration::from_secs(6)] {
        // At once, a read may meet a connection the pool still thinks alive: it runs again
        // on a new one. Idle past the check (6 s), the pool replaces it before handing it
        // out. Either way no work fails.
        tokio::time::sleep(pause).await;
        let before = store.stats().retried_connections;
        let ended: i64 = a
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!(ended >= 1, "the pool's connections were open");
        assert!(store.get(t, ResourceKind::User, &id, false).await.unwrap().is_some(), "a read after {pause:?}");
        let calls = Arc::new(AtomicU32::new(0));
        store.update(t, ResourceKind::User, &id, append_x(calls), Utc::now()).await.expect("a write");
        assert!(store.tenant_by_id(t).await.unwrap().is_some());
        let again = store.stats().retried_connections - before;
        assert!(again <= 1, "at most the first use meets a broken connection: {again}");
        if !pause.is_zero() {
            assert_eq!(again, 0, "connections idle past the check are checked before use");
        }
    }
    assert_eq!(nick(&store, t, &id).await, (3, "xx".to_string()));
}

/// A TCP relay to the database whose connections made before [`Relay::freeze`] stop
/// carrying anything, without closing: what a connection looks like to the process after
/// a network path or a proxy silently dropped it.
struct Relay {
    port: u16,
    /// Connections numbered below this carry nothing.
    frozen_below: Arc<AtomicU32>,
    /// The number of the next connection.
    next: Arc<AtomicU32>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen_below = Arc::new(AtomicU32::new(0));
        let next = Arc::new(AtomicU32::new(0));
        let (frozen, counter) = (frozen_below.clone(), next.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, n, frozen.clone()));
                tokio::spawn(pipe(sr, cw, n, frozen.clone()));
            }
        });
        Relay { port, frozen_below, next }
    }

    fn freeze(&self) {
        self.frozen_below.store(self.next.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    n: u32,
    frozen_below: Arc<AtomicU32>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(read) = from.read(&mut buf).await {
        if read == 0 {
            return;
        }
        if n < frozen_below.load(Ordering::SeqCst) {
            continue; // dropped on the floor; the connection stays open
        }
        if to.write_all(&buf[..read]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn idle_connections_that_no_longer_answer_are_replaced_before_use() {
    let Some(admin) = std::env::var("SCIMD_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) else { return };
    let url = support::fresh_postgres_database(&admin).await;
    // postgres://user@host:port/db → the same through the relay.
    let (head, rest) = url.split_once('@').unwrap();
    let (addr, db) = rest.split_once('/').unwrap();
    let relay = Relay::start(addr.to_string()).await;
    let relayed = format!("{head}@127.0.0.1:{}/{db}", relay.port);
    let store = PgStore::connect(&relayed, PgOptions { pool_size: 2 }).await.expect("open through the relay");
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let id = user(&store, t, "alice").await;
    let get = || store.get(t, ResourceKind::User, &id, false);
    let (a, b) = tokio::join!(get(), get());
    assert!(a.unwrap().is_some() && b.unwrap().is_some());

    tokio::time::sleep(Duration::from_secs(6)).await;
    relay.freeze();
    // Each idle connection fails its check (2 s) and is replaced; without the check the
    // read would wait for an answer that never comes.
    let found = tokio::time::timeout(Duration::from_secs(15), get()).await.expect("the read does not hang");
    assert!(found.unwrap().is_some());
    assert_eq!(store.stats().retried_connections, 0, "replaced before use, not after a failure");
}
