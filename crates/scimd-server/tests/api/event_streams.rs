//! Event streams managed by the operator over the admin API: each kind created with its
//! one-time credential (never shown again), bad streams refused with a clear reason,
//! pause, resume and delete, tenants kept apart, every change in the audit trail, and a
//! stream's figures following the tenant's changes.

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::admin::{call, operator_token};
use crate::common::TestServer;

const STREAMS: &str = "/tenants/acme/events/streams";

async fn add(s: &TestServer, op: &str, body: Value) -> Value {
    let r = call(s, Some(op), Method::POST, STREAMS, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

/// What no view may hold: the webhook's secret, the poll token, the push receiver's token.
fn assert_hides(view: &Value, secrets: &[&str]) {
    let text = view.to_string();
    for s in secrets {
        assert!(!text.contains(s), "{s} shown in {text}");
    }
    for key in ["secret", "token", "token_hash", "bearer_token"] {
        assert!(view.get(key).is_none(), "{key} in {view}");
    }
}

#[tokio::test]
async fn operators_add_each_kind_of_stream_and_see_its_credential_once() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;

    let poll = add(&s, &op, json!({"method": "poll", "audience": "urn:acme:lockers"})).await;
    let token = poll["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("scimd_"), "{poll}");
    assert_eq!(poll["poll_url"], s.root("/events/v1/poll"));
    assert_eq!((poll["method"].as_str(), poll["status"].as_str()), (Some("poll"), Some("active")));
    assert_eq!(poll["tenant"], "acme");
    assert!(poll.get("secret").is_none(), "{poll}");
    // The receiver's token finds its stream by its hash.
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let found = s.store.poll_stream(&hash).await.unwrap().expect("the poll stream by its token's hash");
    assert_eq!(found.id, poll["id"].as_str().unwrap());

    let webhook = add(
        &s,
        &op,
        json!({"method": "webhook", "url": "https://hooks.acme.example/scim", "full": true,
               "filter": {"resourceTypes": ["User"], "events": ["create", "urn:ietf:params:scim:event:prov:deactivate"]}}),
    )
    .await;
    let secret = webhook["secret"].as_str().unwrap().to_string();
    let raw = secret.strip_prefix("whsec_").expect("a Standard Webhooks secret");
    use base64::Engine;
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(raw).unwrap().len(), 32);
    assert_eq!(webhook["filter"], json!({"resourceTypes": ["User"], "events": ["create", "deactivate"]}));
    assert_eq!(webhook["full"], true);
    assert!(webhook.get("token").is_none(), "{webhook}");

    let bearer = "receiver-expects-this-0123456789";
    let push = add(&s, &op, json!({"method": "push", "url": "http://127.0.0.1:9/set", "bearer_token": bearer})).await;
    assert_hides(&push, &[bearer]);
    // Stored sealed (in clear without a master key, as the signing keys), read back by the delivery.
    let stored = s.store.stream(found.tenant, push["id"].as_str().unwrap()).await.unwrap().unwrap();
    let keyring = scimd_server::seal::Keyring::none();
    assert_eq!(keyring.open_text(stored.secret.as_deref().unwrap()).unwrap(), bearer);

    let list = call(&s, Some(&op), Method::GET, STREAMS, None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    // Listed oldest first (streams made in the same instant come in their ids' order).
    let items = list.body.as_array().unwrap();
    let created: Vec<&str> = items.iter().map(|v| v["created"].as_str().unwrap()).collect();
    assert!(created.windows(2).all(|w| w[0] <= w[1]), "{created:?}");
    let mut methods: Vec<&str> = items.iter().map(|v| v["method"].as_str().unwrap()).collect();
    methods.sort_unstable();
    assert_eq!(methods, ["poll", "push", "webhook"]);
    for v in list.body.as_array().unwrap() {
        assert_hides(v, &[&token, &secret, bearer]);
        let one = call(&s, Some(&op), Method::GET, &format!("{STREAMS}/{}", v["id"].as_str().unwrap()), None).await;
        assert_eq!(one.status, 200, "{}", one.body);
        assert_eq!(&one.body, v);
    }

    // The credentials are kept out of the audit trail's payloads too.
    let events = call(&s, Some(&op), Method::GET, "/tenants/acme/audit/events?op=stream_add", None).await;
    assert_eq!(events.body.as_array().map(Vec::len), Some(3), "{}", events.body);
    for e in events.body.as_array().unwrap() {
        let d = call(&s, Some(&op), Method::GET, &format!("/tenants/acme/audit/events/{}", e["id"]), None).await;
        assert_eq!(d.status, 200, "{}", d.body);
        assert!(d.body.to_string().contains("[REDACTED]") || d.body["response_body"].is_null(), "{}", d.body);
        assert_hides(&d.body, &[&token, &secret, bearer]);
    }
}

#[tokio::test]
async fn a_bad_stream_is_refused_with_a_clear_reason_and_nothing_is_created() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let cases = [
        (json!({"method": "webhook", "url": "ftp://hooks.acme.example/"}), "http"),
        (json!({"method": "push", "url": "not a url"}), "not a valid URL"),
        (json!({"method": "push", "url": "https://user:pw@hooks.acme.example/"}), "credentials"),
        (json!({"method": "webhook"}), "needs the receiver's URL"),
        (json!({"method": "poll", "url": "https://hooks.acme.example/"}), "no receiver URL"),
        (json!({"method": "push", "url": "https://r.example/", "filter": {"events": ["created"]}}), "'created'"),
        (json!({"method": "push", "url": "https://r.example/", "filter": {"resourceTypes": ["Device"]}}), "'Device'"),
        (json!({"method": "webhook", "url": "https://r.example/", "bearer_token": "x"}), "only a push stream"),
        (json!({"method": "carrier-pigeon"}), "push, poll or webhook"),
        (json!({"method": "poll", "colour": "blue"}), "colour"),
    ];
    for (body, says) in cases {
        let r = call(&s, Some(&op), Method::POST, STREAMS, Some(body.clone())).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{body}: {detail}");
    }
    let list = call(&s, Some(&op), Method::GET, STREAMS, None).await;
    assert_eq!(list.body, json!([]));
    assert_eq!(s.sql_i64("SELECT count(*) FROM event_streams").await, 0);
    let r = call(&s, Some(&op), Method::POST, "/tenants/nope/events/streams", Some(json!({"method": "poll"}))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(call(&s, Some(&s.token), Method::GET, STREAMS, None).await.status, 401);
}

#[tokio::test]
async fn streams_pause_resume_and_delete_and_stay_within_their_tenant() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    s.tenant_token("globex").await;
    let id = add(&s, &op, json!({"method": "webhook", "url": "https://hooks.acme.example/"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = format!("{STREAMS}/{id}");

    let r = call(&s, Some(&op), Method::POST, &format!("{one}/pause"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["paused"].as_bool(), r.body["status"].as_str()), (Some(true), Some("paused")));
    assert_eq!(call(&s, Some(&op), Method::GET, &one, None).await.body["status"], "paused");
    let r = call(&s, Some(&op), Method::POST, &format!("{one}/resume"), None).await;
    assert_eq!((r.body["paused"].as_bool(), r.body["status"].as_str()), (Some(false), Some("active")));

    // Another tenant's path finds nothing, and changes nothing.
    let theirs = format!("/tenants/globex/events/streams/{id}");
    assert_eq!(call(&s, Some(&op), Method::GET, "/tenants/globex/events/streams", None).await.body, json!([]));
    for (m, path) in [
        (Method::GET, theirs.clone()),
        (Method::POST, format!("{theirs}/pause")),
        (Method::POST, format!("{theirs}/resume")),
        (Method::DELETE, theirs.clone()),
    ] {
        let r = call(&s, Some(&op), m.clone(), &path, None).await;
        assert_eq!(r.status, 404, "{m} {path}: {}", r.body);
    }
    assert_eq!(call(&s, Some(&op), Method::GET, &one, None).await.status, 200);

    let r = call(&s, Some(&op), Method::DELETE, &one, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["deleted"]["id"], id.as_str());
    assert_eq!(call(&s, Some(&op), Method::GET, &one, None).await.status, 404);
    assert_eq!(call(&s, Some(&op), Method::DELETE, &one, None).await.status, 404);
    assert_eq!(call(&s, Some(&op), Method::POST, &format!("{one}/pause"), None).await.status, 404);

    // Each change is the operator's, in the tenant's trail, naming the stream.
    for op_name in ["stream_add", "stream_pause", "stream_resume", "stream_delete"] {
        let events = call(&s, Some(&op), Method::GET, &format!("/tenants/acme/audit/events?op={op_name}"), None).await;
        let rows = events.body.as_array().unwrap_or_else(|| panic!("{}", events.body));
        assert_eq!(rows.len(), 1, "{op_name}: {}", events.body);
        assert_eq!(rows[0]["rtype"], "EventStream", "{}", events.body);
        assert_eq!(rows[0]["resource_id"], id.as_str(), "{}", events.body);
    }
    let theirs = call(&s, Some(&op), Method::GET, "/tenants/globex/audit/events?op=stream_delete", None).await;
    assert_eq!(theirs.body, json!([]), "a refused change is no change of theirs");
}

#[tokio::test]
async fn a_streams_figures_follow_the_tenants_changes() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    // A poll stream moves only when its receiver polls; a paused one not at all.
    let poll = add(&s, &op, json!({"method": "poll"})).await["id"].as_str().unwrap().to_string();
    let paused = add(&s, &op, json!({"method": "webhook", "url": "http://127.0.0.1:9/hook"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    call(&s, Some(&op), Method::POST, &format!("{STREAMS}/{paused}/pause"), None).await;
    let before = call(&s, Some(&op), Method::GET, &format!("{STREAMS}/{poll}"), None).await.body;
    assert_eq!((before["backlog"].as_i64(), before["lastSeq"].as_i64()), (Some(0), Some(0)), "{before}");

    let user = s.create_user("pat@acme.example").await;
    assert!(user["id"].is_string(), "{user}");
    for id in [&poll, &paused] {
        let v = call(&s, Some(&op), Method::GET, &format!("{STREAMS}/{id}"), None).await.body;
        assert_eq!(
            (v["cursor"].as_i64(), v["lastSeq"].as_i64(), v["backlog"].as_i64()),
            (Some(0), Some(1), Some(1)),
            "{v}"
        );
        assert!(v["lagSeconds"].as_i64().is_some_and(|l| l >= 0), "{v}");
        assert_eq!((v["delivered"].as_i64(), v["attempts"].as_i64()), (Some(0), Some(0)), "{v}");
        assert!(v["nextAttempt"].is_null() && v["lastError"].is_null(), "{v}");
    }
    // A stream added now takes only what comes after it.
    let late = add(&s, &op, json!({"method": "poll"})).await;
    assert_eq!((late["cursor"].as_i64(), late["backlog"].as_i64()), (Some(1), Some(0)), "{late}");
}
