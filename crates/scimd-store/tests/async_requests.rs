//! The [`AsyncRequestStore`] contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on
//! PostgreSQL: a request kept, leased to one owner at a time, each operation recorded done
//! with its completion event (fenced by the lease), taken over after its lease expired
//! with what was done, and deleted by its owner.

mod support;

use chrono::Utc;
use scimd_core::events::{EventType, StreamFilter};
use scimd_core::schema::ResourceKind;
use scimd_store::{Method, NewAsyncRequest, NewStream, OpDone};
use serde_json::json;

fn request(txn: &str) -> NewAsyncRequest {
    NewAsyncRequest {
        txn: txn.into(),
        body: "sealed".into(),
        client: Some("client-1".into()),
        client_request_id: Some("theirs".into()),
        base_url: "https://h/scim/v2".into(),
    }
}

fn done(index: i64, subject: &str, status: &str) -> OpDone {
    OpDone {
        index,
        result: json!({"method": "POST", "status": status}),
        kind: ResourceKind::User,
        subject: subject.into(),
        version: Some(1),
    }
}

#[tokio::test]
async fn async_requests_are_leased_fenced_and_taken_over_at_their_next_operation() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let stream = NewStream {
        id: "s1".into(),
        method: Method::Poll,
        url: None,
        audience: None,
        full: false,
        filter: StreamFilter::default(),
        secret: None,
        token_hash: Some("h".into()),
    };
    store.add_stream(t, stream, Utc::now()).await.unwrap();
    store.add_async_request(t, request("r1"), Utc::now()).await.unwrap();

    let claimed = store.claim_async_requests("a", 1000, 2000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let r = &claimed[0];
    assert_eq!(
        (r.txn.as_str(), r.tenant, r.body.as_str(), r.base_url.as_str()),
        ("r1", t, "sealed", "https://h/scim/v2")
    );
    assert_eq!((r.client.as_deref(), r.client_request_id.as_deref()), (Some("client-1"), Some("theirs")));
    assert!(r.done.is_empty());
    assert!(store.claim_async_requests("b", 1500, 3000, 10).await.unwrap().is_empty(), "leased to a");

    // a records its first operation (and its outcome event), then stops.
    assert!(store.async_op_done(t, "r1", "a", done(0, "u1", "201"), 2000, Utc::now()).await.unwrap());
    // b takes over once the lease expired, with what a did; a's late record is refused.
    let taken = store.claim_async_requests("b", 2500, 5000, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].done.len(), 1);
    assert_eq!(taken[0].done[0].0, 0);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&taken[0].done[0].1).unwrap()["status"], "201");
    assert!(!store.async_op_done(t, "r1", "a", done(1, "u2", "201"), 6000, Utc::now()).await.unwrap());
    assert!(store.async_op_done(t, "r1", "b", done(1, "/Users", "409"), 6000, Utc::now()).await.unwrap());

    // One outcome event per operation recorded, its txn the request's and the index.
    let events = store.events_after(t, 0, 10).await.unwrap();
    let seen: Vec<(EventType, &str, Option<&str>)> =
        events.iter().map(|e| (e.event.event, e.event.resource_id.as_str(), e.event.txn.as_deref())).collect();
    assert_eq!(
        seen,
        [(EventType::AsyncResponse, "u1", Some("r1:0")), (EventType::AsyncResponse, "/Users", Some("r1:1"))]
    );
    assert_eq!(events[1].event.payload, json!({"method": "POST", "status": "409"}));

    // Only the owner deletes it; then there is nothing to claim.
    assert!(!store.finish_async_request(t, "r1", "a").await.unwrap());
    assert!(store.finish_async_request(t, "r1", "b").await.unwrap());
    assert!(store.claim_async_requests("c", 9000, 10000, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_async_outcome_of_a_tenant_without_streams_records_no_event() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    store.add_async_request(t, request("r2"), Utc::now()).await.unwrap();
    assert_eq!(store.claim_async_requests("a", 1000, 2000, 10).await.unwrap().len(), 1);
    assert!(store.async_op_done(t, "r2", "a", done(0, "u1", "201"), 3000, Utc::now()).await.unwrap());
    assert!(store.events_after(t, 0, 10).await.unwrap().is_empty());
    // The progress is still kept.
    assert_eq!(store.claim_async_requests("b", 4000, 5000, 10).await.unwrap()[0].done.len(), 1);
}
