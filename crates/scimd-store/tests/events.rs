//! The [`EventStore`] contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on PostgreSQL:
//! events recorded with the changes of a tenant that has streams (and only then),
//! numbered in order; leases, fenced progress, poll acknowledgements, retention.

mod support;

use chrono::Utc;
use scimd_core::builtin::standard_registry;
use scimd_core::events::{EventType, StreamFilter, Write};
use scimd_core::resource::{self, MemberValue};
use scimd_core::schema::ResourceKind;
use scimd_store::{
    Change, Method, NewResource, NewStream, Progress, ResourceState, Store, StreamChange, TenantId, Update,
};
use serde_json::{Value, json};

fn state(kind: ResourceKind, doc: Value) -> ResourceState {
    let reg = standard_registry();
    let doc = resource::prepare(&reg, kind, &doc).unwrap().doc;
    ResourceState {
        index: resource::index_entries(&reg, kind, &doc),
        unique_key: resource::unique_key(kind, &doc),
        display: resource::display_of(kind, &doc),
        doc,
    }
}

async fn create(store: &dyn Store, t: TenantId, kind: ResourceKind, doc: Value, members: &[&str]) -> String {
    let members = members.iter().map(|m| MemberValue { value: m.to_string(), kind: None }).collect();
    let new = NewResource {
        state: state(kind, doc),
        password_hash: None,
        members,
        event: None,
        derived_gen: 0,
        writer: Default::default(),
    };
    store.create(t, kind, new, Utc::now()).await.unwrap().id
}

async fn patch(store: &dyn Store, t: TenantId, id: &str, doc: Value) {
    let change = Change {
        state: state(ResourceKind::User, doc),
        password_hash: None,
        member_ops: vec![],
        deactivates: false,
        derived_gen: 0,
    };
    let update = Update {
        if_match: None,
        mutate: Box::new(move |_| Ok(change.clone())),
        related: false,
        event: None,
        write: Write::Patch,
        writer: Default::default(),
    };
    store.update(t, ResourceKind::User, id, update, Utc::now()).await.unwrap();
}

fn stream(id: &str, method: Method) -> NewStream {
    NewStream {
        id: id.into(),
        method,
        url: Some("http://127.0.0.1:9/receiver".into()),
        audience: None,
        full: false,
        filter: StreamFilter::default(),
        secret: None,
        token_hash: Some(format!("hash-{id}")),
    }
}

#[tokio::test]
async fn a_tenant_records_events_only_while_it_has_streams_in_order() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let other = store.create_tenant("o", true, Utc::now()).await.unwrap().id;
    create(&*store, t, ResourceKind::User, json!({"userName": "before"}), &[]).await;
    let s = store.add_stream(t, stream("s1", Method::Push), Utc::now()).await.unwrap();
    assert_eq!((s.cursor, s.last_seq, s.backlog()), (0, 0, 0));

    let u = create(&*store, t, ResourceKind::User, json!({"userName": "alice", "externalId": "x-a"}), &[]).await;
    create(&*store, other, ResourceKind::User, json!({"userName": "elsewhere"}), &[]).await;
    let g = create(&*store, t, ResourceKind::Group, json!({"displayName": "g"}), &[&u]).await;
    patch(&*store, t, &u, json!({"userName": "alice", "externalId": "x-a", "active": false})).await;
    store.delete(t, ResourceKind::User, &u, None, Default::default(), None, Utc::now()).await.unwrap();

    let events = store.events_after(t, 0, 100).await.unwrap();
    let seen: Vec<(i64, EventType, ResourceKind, &str)> =
        events.iter().map(|e| (e.event.seq, e.event.event, e.event.kind, e.event.resource_id.as_str())).collect();
    assert_eq!(
        seen,
        [
            (1, EventType::Create, ResourceKind::User, u.as_str()),
            (2, EventType::Create, ResourceKind::Group, g.as_str()),
            (3, EventType::Patch, ResourceKind::User, u.as_str()),
            (4, EventType::Deactivate, ResourceKind::User, u.as_str()),
            (5, EventType::Delete, ResourceKind::User, u.as_str()),
            (6, EventType::Patch, ResourceKind::Group, g.as_str()),
        ]
    );
    assert_eq!(events[0].event.external_id.as_deref(), Some("x-a"));
    assert_eq!(events[0].event.version, Some(1));
    assert_eq!(events[2].event.payload, json!({"attributes": ["active"]}));
    assert_eq!(events[5].event.payload, json!({"attributes": ["members"]}));
    assert_eq!(events[4].event.version, None);
    // Notice form only: no resource kept.
    assert!(events.iter().all(|e| e.data.is_none()));
    assert!(store.events_after(other, 0, 100).await.unwrap().is_empty());
    let s = store.stream(t, "s1").await.unwrap().unwrap();
    assert_eq!((s.backlog(), s.tenant_name.as_str()), (6, "t"));
    assert!(s.oldest_pending_ms.is_some());

    // The last stream gone, nothing is recorded any more.
    assert!(store.delete_stream(t, "s1").await.unwrap());
    assert!(!store.delete_stream(t, "s1").await.unwrap());
    create(&*store, t, ResourceKind::User, json!({"userName": "after"}), &[]).await;
    assert!(store.events_after(t, 0, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_lease_fences_progress_and_a_paused_stream_is_not_claimed() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    store.add_stream(t, stream("s1", Method::Webhook), Utc::now()).await.unwrap();
    store.add_stream(t, stream("p1", Method::Poll), Utc::now()).await.unwrap();
    assert!(store.claim_streams("a", 1000, 2000, 10).await.unwrap().is_empty(), "nothing to deliver");
    create(&*store, t, ResourceKind::User, json!({"userName": "u1"}), &[]).await;
    create(&*store, t, ResourceKind::User, json!({"userName": "u2"}), &[]).await;

    let claimed = store.claim_streams("a", 1000, 2000, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s1"], "poll streams are never claimed");
    assert!(store.claim_streams("b", 1500, 3000, 10).await.unwrap().is_empty(), "leased to a");
    // Given back (a shutdown): another owner takes it at once, and a's late progress is
    // refused.
    store.release_streams("a").await.unwrap();
    assert_eq!(store.claim_streams("c", 1500, 1600, 10).await.unwrap().len(), 1);
    assert!(!store.advance_stream("s1", Some("a"), Progress::default(), 1550).await.unwrap());
    // b takes over once a's lease expired; a's late progress is refused.
    assert_eq!(store.claim_streams("b", 2500, 5000, 10).await.unwrap().len(), 1);
    let late = Progress { cursor: 1, delivered: 1, ..Progress::default() };
    assert!(!store.advance_stream("s1", Some("a"), late, 2600).await.unwrap());
    let p =
        Progress { cursor: 1, delivered: 1, failure: Some(("503".into(), 9000)), release: true, ..Progress::default() };
    assert!(store.advance_stream("s1", Some("b"), p, 2700).await.unwrap());
    let s = store.stream(t, "s1").await.unwrap().unwrap();
    assert_eq!((s.cursor, s.delivered, s.attempts, s.next_attempt_ms), (1, 1, 1, 9000));
    assert_eq!((s.failing_since_ms, s.last_error.as_deref()), (Some(2700), Some("503")));
    assert!(store.claim_streams("a", 8000, 9000, 10).await.unwrap().is_empty(), "not due yet");
    let ok = Progress { cursor: 2, delivered: 1, release: true, ..Progress::default() };
    assert_eq!(store.claim_streams("a", 9000, 12000, 10).await.unwrap().len(), 1);
    assert!(store.advance_stream("s1", Some("a"), ok, 9100).await.unwrap());
    let s = store.stream(t, "s1").await.unwrap().unwrap();
    assert_eq!((s.cursor, s.backlog(), s.attempts, s.failing_since_ms), (2, 0, 0, None));

    create(&*store, t, ResourceKind::User, json!({"userName": "u3"}), &[]).await;
    store.change_stream(t, "s1", StreamChange { paused: Some(true) }, Utc::now()).await.unwrap().unwrap();
    assert!(store.claim_streams("a", 20000, 30000, 10).await.unwrap().is_empty(), "paused");
    assert!(
        store
            .change_stream(other_tenant(&*store).await, "s1", StreamChange::default(), Utc::now())
            .await
            .unwrap()
            .is_none()
    );
}

async fn other_tenant(store: &dyn Store) -> TenantId {
    store.create_tenant("someone-else", true, Utc::now()).await.unwrap().id
}

#[tokio::test]
async fn acknowledgements_move_a_poll_cursor_over_what_the_stream_takes() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    let mut s = stream("p1", Method::Poll);
    s.filter = StreamFilter { kinds: Some(vec![ResourceKind::User]), events: None };
    store.add_stream(t, s, Utc::now()).await.unwrap();
    let u1 = create(&*store, t, ResourceKind::User, json!({"userName": "u1"}), &[]).await;
    create(&*store, t, ResourceKind::Group, json!({"displayName": "g"}), &[&u1]).await;
    create(&*store, t, ResourceKind::User, json!({"userName": "u2"}), &[]).await;
    let events = store.events_after(t, 0, 10).await.unwrap();
    let s = store.poll_stream("hash-p1").await.unwrap().unwrap();
    // The second user acknowledged first: the cursor waits for the first.
    let unknown = store.acknowledge(&s, vec![events[2].event.jti.clone(), "nope".into()]).await.unwrap();
    assert_eq!(unknown, ["nope"]);
    assert_eq!(store.stream(t, "p1").await.unwrap().unwrap().cursor, 0);
    let s = store.poll_stream("hash-p1").await.unwrap().unwrap();
    store.acknowledge(&s, vec![events[0].event.jti.clone()]).await.unwrap();
    // Past the group's event, which the stream does not take.
    let s = store.stream(t, "p1").await.unwrap().unwrap();
    assert_eq!((s.cursor, s.delivered), (3, 2));
}

#[tokio::test]
async fn retention_drops_what_a_stream_did_not_deliver_and_counts_it() {
    let store = support::fresh_store().await;
    let t = store.create_tenant("t", true, Utc::now()).await.unwrap().id;
    store.add_stream(t, stream("fast", Method::Push), Utc::now()).await.unwrap();
    store.add_stream(t, stream("slow", Method::Push), Utc::now()).await.unwrap();
    for n in 0..4 {
        create(&*store, t, ResourceKind::User, json!({"userName": format!("u{n}")}), &[]).await;
    }
    store.claim_streams("a", 0, i64::MAX, 10).await.unwrap();
    let p = Progress { cursor: 4, delivered: 4, release: true, ..Progress::default() };
    assert!(store.advance_stream("fast", Some("a"), p, 0).await.unwrap());
    let p = Progress { cursor: 1, delivered: 1, release: true, ..Progress::default() };
    assert!(store.advance_stream("slow", Some("a"), p, 0).await.unwrap());
    // Nothing is old yet: only what both have is deleted.
    let purged = store.purge_events(0).await.unwrap();
    assert_eq!((purged.delivered, purged.dropped), (1, 0));
    assert_eq!(store.events_after(t, 0, 10).await.unwrap().len(), 3);
    // Everything is too old now: the slow stream loses three events.
    let purged = store.purge_events(i64::MAX).await.unwrap();
    assert_eq!((purged.delivered, purged.dropped), (0, 3));
    let slow = store.stream(t, "slow").await.unwrap().unwrap();
    assert_eq!((slow.cursor, slow.dropped, slow.backlog()), (4, 3, 0));
    assert!(store.events_after(t, 0, 10).await.unwrap().is_empty());
}
