//! The onboarding contract, on SQLite or, with `SCIMD_TEST_POSTGRES`, on PostgreSQL:
//! tenants' stages, counterparts and contacts; API system users' set-password links (once,
//! unexpired, ending earlier logins); the message log; go-live submissions decided once.

mod support;

use chrono::{DateTime, TimeDelta, Utc};

use scimd_store::{Contacts, Decision, NewMessage, NewSubmission, Stage, StoreError};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z").unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn stages_counterparts_and_contacts() {
    let store = support::fresh_store().await;
    let old = store.create_tenant("old", true, t0()).await.unwrap();
    assert_eq!(old.stage, Stage::Production, "made the old way: production");
    let i = store.create_staged_tenant("acme", true, Stage::Integration, t0()).await.unwrap();
    let p = store.create_staged_tenant("acme-production", true, Stage::Production, t0()).await.unwrap();
    assert_eq!(store.tenant_by_id(i.id).await.unwrap().unwrap().stage, Stage::Integration);
    store.link_counterparts(i.id, p.id).await.unwrap();
    store.link_counterparts(i.id, p.id).await.unwrap(); // the same link again changes nothing
    assert_eq!(store.tenant_by_id(i.id).await.unwrap().unwrap().counterpart, Some(p.id));
    assert_eq!(store.tenant_by_id(p.id).await.unwrap().unwrap().counterpart, Some(i.id));
    let taken = store.link_counterparts(i.id, old.id).await.unwrap_err();
    assert!(matches!(taken, StoreError::Conflict(_)), "{taken:?}");
    assert_eq!(store.tenant_by_id(old.id).await.unwrap().unwrap().counterpart, None, "nothing half done");

    let contacts = Contacts { email: Some("svc@acme.test".into()), mobile: Some("+31612345678".into()) };
    store.set_tenant_contacts(i.id, contacts.clone()).await.unwrap();
    assert_eq!(store.tenant_by_name("acme").await.unwrap().unwrap().contacts, contacts);
}

#[tokio::test]
async fn set_password_links_work_once_and_expire() {
    let store = support::fresh_store().await;
    let t = store.create_staged_tenant("acme", true, Stage::Integration, t0()).await.unwrap();
    store.create_api_user(t.id, "svc@acme.test", "unusable".into(), t0()).await.unwrap();
    let later = t0() + TimeDelta::hours(72);
    let missing = store.set_api_user_invite(t.id, "nobody", None, Some(("h0".into(), later))).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    store
        .set_api_user_invite(t.id, "svc@acme.test", Some("svc@acme.test".into()), Some(("h1".into(), later)))
        .await
        .unwrap();
    let users = store.list_api_users(t.id).await.unwrap();
    assert_eq!(users[0].email.as_deref(), Some("svc@acme.test"));
    assert!(users[0].invite_expires.is_some());

    assert!(store.api_user_invitation("h1", later).await.unwrap().is_none(), "expired at its expiry");
    let found = store.api_user_invitation("h1", t0()).await.unwrap().unwrap();
    assert_eq!((found.tenant, found.username.as_str()), (t.id, "svc@acme.test"));
    assert!(store.accept_api_user_invitation("h1", "new".into(), later).await.unwrap().is_none());
    let done = store.accept_api_user_invitation("h1", "new".into(), t0()).await.unwrap().unwrap();
    assert_eq!(done.username, "svc@acme.test");
    assert_eq!(store.api_user_auth("svc@acme.test").await.unwrap().unwrap().password_hash, "new");
    assert!(store.accept_api_user_invitation("h1", "again".into(), t0()).await.unwrap().is_none(), "once");

    // Revoked: the link stops working.
    store.set_api_user_invite(t.id, "svc@acme.test", None, Some(("h2".into(), later))).await.unwrap();
    store.set_api_user_invite(t.id, "svc@acme.test", None, None).await.unwrap();
    assert!(store.api_user_invitation("h2", t0()).await.unwrap().is_none());
    assert!(store.list_api_users(t.id).await.unwrap()[0].invite_expires.is_none());
}

#[tokio::test]
async fn messages_and_submissions() {
    let store = support::fresh_store().await;
    let t = store.create_staged_tenant("acme", true, Stage::Integration, t0()).await.unwrap();
    let other = store.create_tenant("other", true, t0()).await.unwrap();
    for kind in ["client-id", "client-secret"] {
        let m = NewMessage {
            tenant: Some(t.id),
            channel: "email".into(),
            kind: kind.into(),
            recipient: "svc@acme.test".into(),
            outcome: "sent".into(),
            detail: None,
            text: "[secret]".into(),
        };
        store.log_message(m, t0()).await.unwrap();
    }
    let log = store.messages(t.id, 10).await.unwrap();
    assert_eq!(log.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), ["client-secret", "client-id"]);
    assert_eq!(store.messages(t.id, 1).await.unwrap().len(), 1);
    assert!(store.messages(other.id, 10).await.unwrap().is_empty());

    let new = NewSubmission {
        window_from: "2026-03-01T09:00:00.000Z".into(),
        window_to: "2026-03-01T09:30:00.000Z".into(),
        claimed: r#"{"created":3}"#.into(),
        source: "report".into(),
        submitted_by: "client:abc".into(),
    };
    let s = store.create_submission(t.id, new.clone(), t0()).await.unwrap();
    assert_eq!((s.state.as_str(), s.source.as_str()), ("submitted", "report"));
    assert!(store.submission(other.id, s.id).await.unwrap().is_none(), "scoped by tenant");
    let decision = |approved| Decision {
        approved,
        computed: "{}".into(),
        decided_by: "operator:olga".into(),
        feedback: Some("three users missing".into()),
        production: None,
    };
    assert!(!store.decide_submission(other.id, s.id, decision(false), t0()).await.unwrap());
    assert!(store.decide_submission(t.id, s.id, decision(false), t0()).await.unwrap());
    assert!(!store.decide_submission(t.id, s.id, decision(true), t0()).await.unwrap(), "decided once");
    let got = store.submission(t.id, s.id).await.unwrap().unwrap();
    assert_eq!(got.state, "rejected");
    assert_eq!(got.feedback.as_deref(), Some("three users missing"));
    let second = store.create_submission(t.id, new, t0()).await.unwrap();
    let history = store.submissions(t.id).await.unwrap();
    assert_eq!(history.iter().map(|s| s.id).collect::<Vec<_>>(), [second.id, s.id]);
}
