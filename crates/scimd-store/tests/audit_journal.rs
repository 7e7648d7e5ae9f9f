//! The audit journal keeps the main database still under reads: recording the events,
//! payloads and errors of requests that changed nothing never commits to the main
//! database (a commit there would reset every reader's page cache and memory map), while
//! a change's event is committed with the change.

use chrono::Utc;
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use scimd_store::{AuditRecord, EventDetails, EventQuery, NewError, NewEvent};
use scimd_store::{AuditStore as _, TenantStore as _};

/// `PRAGMA data_version` of an outside connection changes when any other connection
/// commits to the file.
fn data_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0)).unwrap()
}

fn read_event(tenant: scimd_store::TenantId, n: usize) -> NewEvent {
    NewEvent {
        tenant: Some(tenant),
        time: Utc::now(),
        request_id: format!("req-{n}"),
        client: None,
        method: "GET".into(),
        path: "/scim/v2/Users".into(),
        rtype: Some("User".into()),
        resource_id: None,
        op: "list".into(),
        status: 200,
        scim_type: None,
        duration_ms: 0.5,
        deactivated: false,
        client_request_id: None,
    }
}

#[tokio::test]
async fn request_events_payloads_and_errors_never_commit_to_the_main_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db").to_string_lossy().into_owned();
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let tenant = store.create_tenant("acme", true, Utc::now()).await.unwrap();
    let main = rusqlite::Connection::open(&path).unwrap();
    let before = data_version(&main);

    let details = EventDetails {
        request_headers: "{}".into(),
        request_body: None,
        response_headers: "{}".into(),
        response_body: Some("{\"totalResults\":0}".into()),
    };
    let mut batch: Vec<AuditRecord> =
        (0..50).map(|n| AuditRecord::Event(read_event(tenant.id, n), Some(details.clone()))).collect();
    batch.push(AuditRecord::Error(NewError {
        time: Utc::now(),
        request_id: "req-err".into(),
        tenant: Some(tenant.id),
        method: "GET".into(),
        path: "/scim/v2/Users".into(),
        detail: "boom".into(),
        backtrace: None,
    }));
    store.record_audit(batch).await.unwrap();
    assert_eq!(data_version(&main), before, "recording request events committed to the main database");

    // All recorded, with unique ids, payloads and the error readable through the store.
    let events = store.events(tenant.id, &EventQuery { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(events.len(), 50);
    let mut ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    assert!(store.event_details(tenant.id, ids[0]).await.unwrap().is_some());
    let errors = store.errors(None, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z", 10).await.unwrap();
    assert_eq!(errors.len(), 1);

    // A change commits to the main database.
    store.create_tenant("other", true, Utc::now()).await.unwrap();
    assert_ne!(data_version(&main), before);
    store.close();
}
