//! Event streams delivering what is provisioned: push streams POST signed SETs (RFC 8935)
//! verifiable with the server's JWKS, webhook streams POST Standard Webhooks messages,
//! poll streams answer RFC 8936 polls; in the tenant's order, at least once, through a
//! receiver's failures (retried, `Retry-After` honoured), skipping what a receiver
//! refuses for good; filtered by resource and event type; nothing for a change refused.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use scimd_server::delivery::backoff::Backoff;
use scimd_server::events::EventsConfig;
use serde_json::{Value, json};

use crate::common::*;

#[path = "../support/receiver.rs"]
pub(crate) mod receiver;
use receiver::{Got, Receiver};

pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// A server whose failing streams retry within milliseconds.
pub(crate) async fn server() -> TestServer {
    let events = EventsConfig {
        backoff: Backoff { base: Duration::from_millis(40), cap: Duration::from_millis(200) },
        poll_wait: Duration::from_secs(5),
        ..EventsConfig::default()
    };
    TestServer::start_with(Options { events, ..Options::default() }).await
}

/// Adds a stream to the tenant `acme` through the admin API, as an operator does; the
/// answer (with the stream's one-time secret or token).
pub(crate) async fn add_stream(srv: &TestServer, method: &str, url: Option<&str>, filter: Value) -> Value {
    add_stream_with(srv, json!({"method": method}), url, filter).await
}

/// The same with more settings in the body (`full`, `audience`, …).
async fn add_stream_with(srv: &TestServer, mut body: Value, url: Option<&str>, filter: Value) -> Value {
    let op = srv.operator_token().await;
    if let Some(u) = url {
        body["url"] = json!(u);
    }
    if !filter.is_null() {
        body["filter"] = filter;
    }
    let r =
        srv.send(srv.client.post(srv.root("/admin/v1/tenants/acme/events/streams")).bearer_auth(op).json(&body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn id(created: &Value) -> String {
    created["id"].as_str().unwrap().to_string()
}

/// A SET's claims, verified with the server's published keys.
pub(crate) async fn verify_set(srv: &TestServer, jws: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(jws).unwrap();
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwks = srv.send(srv.client.get(srv.root("/.well-known/jwks.json"))).await.body;
    let kid = header.kid.unwrap();
    let key =
        jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("the SET's key is published");
    let key = DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::EdDSA);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(jws, &key, &v).expect("the SET verifies").claims
}

/// The stream once its cursor reached `cursor` (the receiver has an event a moment before
/// the server records it as delivered).
async fn stream_at(srv: &TestServer, id: &str, cursor: i64) -> scimd_store::Stream {
    let t = srv.store.tenant_by_name("acme").await.unwrap().unwrap().id;
    let end = std::time::Instant::now() + WAIT;
    loop {
        let s = srv.store.stream(t, id).await.unwrap().unwrap();
        if s.cursor >= cursor || std::time::Instant::now() > end {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn event_uri(claims: &Value) -> String {
    claims["events"].as_object().unwrap().keys().next().unwrap().clone()
}

#[tokio::test]
async fn a_push_stream_receives_signed_sets_in_order() {
    let srv = server().await;
    let rx = Receiver::start().await;
    add_stream(&srv, "push", Some(&rx.url), Value::Null).await;
    let created = srv.post("/Users", &json!({"userName": "ada", "externalId": "x-ada"})).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let request_id = created.header("x-request-id").unwrap().to_string();
    srv.patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "path": "active", "value": false}]))).await;
    srv.delete(&format!("/Users/{id}")).await;

    let got = rx.wait_for(4, WAIT).await;
    assert_eq!(got.len(), 4);
    let mut claims = Vec::new();
    for g in &got {
        assert_eq!(g.header("content-type"), Some("application/secevent+jwt"));
        assert_eq!(g.header("accept"), Some("application/json"));
        claims.push(verify_set(&srv, std::str::from_utf8(&g.body).unwrap(), &rx.url).await);
    }
    let uris: Vec<String> = claims.iter().map(event_uri).collect();
    assert_eq!(
        uris,
        [
            "urn:ietf:params:scim:event:prov:create:notice",
            "urn:ietf:params:scim:event:prov:patch:notice",
            "urn:ietf:params:scim:event:prov:deactivate",
            "urn:ietf:params:scim:event:prov:delete",
        ]
    );
    let seqs: Vec<i64> = claims.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    let first = &claims[0];
    assert_eq!(first["sub_id"], json!({"format": "scim", "uri": format!("/Users/{id}"), "externalId": "x-ada"}));
    assert_eq!(first["txn"], request_id.as_str());
    assert_eq!(first["tenant"], "acme");
    assert!(first.get("exp").is_none());
    let create = &first["events"]["urn:ietf:params:scim:event:prov:create:notice"];
    assert_eq!(create["version"], "W/\"1\"");
    assert!(create["attributes"].as_array().unwrap().contains(&json!("userName")));
    assert_eq!(claims[1]["events"]["urn:ietf:params:scim:event:prov:patch:notice"]["attributes"], json!(["active"]));
    // Every jti is unique.
    let jtis: std::collections::HashSet<&str> = claims.iter().map(|c| c["jti"].as_str().unwrap()).collect();
    assert_eq!(jtis.len(), 4);
    // A SET is no access token.
    let set = std::str::from_utf8(&got[0].body).unwrap();
    assert_eq!(srv.get_as(set, "/Users").await.status, 401);
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_the_whole_backlog_in_order_and_retries_honour_retry_after() {
    let srv = server().await;
    let rx = Receiver::start().await;
    rx.set_down(Some(503));
    let stream = id(&add_stream(&srv, "push", Some(&rx.url), Value::Null).await);
    for n in 0..30 {
        srv.post("/Users", &json!({"userName": format!("u{n}")})).await;
    }
    // Down: retried, nothing accepted, the failure recorded.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(rx.got().is_empty());
    let t = srv.store.tenant_by_name("acme").await.unwrap().unwrap().id;
    let s = srv.store.stream(t, &stream).await.unwrap().unwrap();
    assert!(s.attempts >= 1 && s.failing_since_ms.is_some(), "{s:?}");
    assert_eq!(s.backlog(), 30);
    // Up again, after one answer asking for a second's patience.
    rx.script([(429, Some("1"), None)]);
    rx.set_down(None);
    let got = rx.wait_for(30, WAIT).await;
    assert_eq!(got.len(), 30);
    let mut seqs = Vec::new();
    for g in &got {
        let c = verify_set(&srv, std::str::from_utf8(&g.body).unwrap(), &rx.url).await;
        seqs.push(c["seq"].as_i64().unwrap());
    }
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
    let s = stream_at(&srv, &stream, 30).await;
    assert_eq!((s.cursor, s.delivered, s.attempts, s.failing_since_ms), (30, 30, 0, None));
}

#[tokio::test]
async fn an_event_the_receiver_refuses_for_good_is_skipped_and_counted() {
    let srv = server().await;
    let rx = Receiver::start().await;
    rx.script([(400, None, Some(json!({"err": "invalid_audience", "description": "not for us"})))]);
    let stream = id(&add_stream(&srv, "push", Some(&rx.url), Value::Null).await);
    srv.create_user("one").await;
    srv.create_user("two").await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let c = verify_set(&srv, std::str::from_utf8(&got[0].body).unwrap(), &rx.url).await;
    assert_eq!(c["seq"], 2);
    let s = stream_at(&srv, &stream, 2).await;
    assert_eq!((s.rejected, s.delivered, s.cursor), (1, 1, 2));
}

#[tokio::test]
async fn a_webhook_stream_receives_standard_webhooks() {
    let srv = server().await;
    let rx = Receiver::start().await;
    let created = add_stream(&srv, "webhook", Some(&rx.url), Value::Null).await;
    let secret = created["secret"].as_str().expect("the secret, shown once").to_string();
    let user = srv.create_user("ada").await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.header("content-type"), Some("application/json"));
    let (id, ts) = (g.header("webhook-id").unwrap(), g.header("webhook-timestamp").unwrap());
    // Verified as a receiver verifies it, with the Standard Webhooks library.
    let wh = standardwebhooks::Webhook::new(&secret).unwrap();
    wh.verify(&g.body, &g.headers).expect("the webhook verifies");
    assert!(ts.parse::<i64>().is_ok());
    let body: Value = serde_json::from_slice(&g.body).unwrap();
    assert_eq!(body["type"], "user.create");
    assert_eq!(body["data"]["jti"], id);
    assert_eq!(body["data"]["sub_id"]["uri"], format!("/Users/{}", user["id"].as_str().unwrap()));
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_stream_takes_only_the_resource_and_event_types_it_filters_on() {
    let srv = server().await;
    let rx = Receiver::start().await;
    let filter = json!({"resourceTypes": ["Group"], "events": ["create", "urn:ietf:params:scim:event:prov:delete"]});
    add_stream(&srv, "push", Some(&rx.url), filter).await;
    let u = srv.create_user("ada").await;
    let g = srv.create_group("team", &[u["id"].as_str().unwrap()]).await;
    let gid = g["id"].as_str().unwrap();
    srv.patch(&format!("/Groups/{gid}"), &patch_op(json!([{"op": "replace", "path": "displayName", "value": "crew"}])))
        .await;
    srv.delete(&format!("/Groups/{gid}")).await;
    srv.create_user("bob").await;
    // The last user's event is after the group's delete: once it is past, nothing else comes.
    let got = rx.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got_all = rx.got();
    assert_eq!(got_all.len(), 2, "{got:?}");
    let mut uris = Vec::new();
    for g in &got_all {
        uris.push(event_uri(&verify_set(&srv, std::str::from_utf8(&g.body).unwrap(), &rx.url).await));
    }
    assert_eq!(uris, ["urn:ietf:params:scim:event:prov:create:notice", "urn:ietf:params:scim:event:prov:delete"]);
}

#[tokio::test]
async fn a_refused_change_has_no_event() {
    let srv = server().await;
    let rx = Receiver::start().await;
    add_stream(&srv, "push", Some(&rx.url), Value::Null).await;
    let u = srv.create_user("ada").await;
    let id = u["id"].as_str().unwrap();
    srv.post("/Users", &json!({"userName": "ada"})).await.assert_error(409, Some("uniqueness"));
    let bad =
        srv.patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "path": "id", "value": "x"}]))).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let r = srv
        .req(reqwest::Method::PUT, &format!("/Users/{id}"))
        .header("if-match", "W/\"9\"")
        .json(&json!({"userName": "ada2"}));
    assert_eq!(srv.send(r).await.status, 412);
    srv.create_user("bob").await;
    let got = rx.wait_for(2, WAIT).await;
    let mut seqs = Vec::new();
    for g in &got {
        seqs.push(verify_set(&srv, std::str::from_utf8(&g.body).unwrap(), &rx.url).await["seq"].as_i64().unwrap());
    }
    assert_eq!(seqs, [1, 2], "only the two creates, numbered without a gap");
}

async fn poll(srv: &TestServer, token: &str, body: Value) -> Resp {
    srv.send(srv.client.post(srv.root("/events/v1/poll")).bearer_auth(token).json(&body)).await
}

#[tokio::test]
async fn a_poll_stream_answers_polls_redelivers_until_acknowledged_and_waits_for_events() {
    let srv = server().await;
    let created = add_stream(&srv, "poll", None, Value::Null).await;
    let token = created["token"].as_str().expect("the token, shown once").to_string();
    assert_eq!(created["poll_url"], srv.root("/events/v1/poll"));
    srv.create_user("ada").await;
    srv.create_user("bob").await;
    let r = poll(&srv, &token, json!({"returnImmediately": true, "maxEvents": 1})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["moreAvailable"], true);
    let sets = r.body["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1);
    let (jti1, _) = sets.iter().next().unwrap();
    // Not acknowledged: the same again.
    let again = poll(&srv, &token, json!({"returnImmediately": true, "maxEvents": 1})).await;
    assert_eq!(again.body["sets"].as_object().unwrap().keys().next().unwrap(), jti1);
    // The second acknowledged before the first: the first alone comes again.
    let both = poll(&srv, &token, json!({"returnImmediately": true})).await;
    let jtis: Vec<String> = both.body["sets"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(jtis.len(), 2);
    assert_eq!(&jtis[0], jti1, "in order");
    let r = poll(&srv, &token, json!({"ack": [jtis[1]], "returnImmediately": true})).await;
    assert_eq!(r.body["sets"].as_object().unwrap().keys().collect::<Vec<_>>(), [jti1]);
    let r = poll(&srv, &token, json!({"ack": [jti1], "returnImmediately": true})).await;
    assert_eq!(r.body["sets"], json!({}), "both acknowledged");
    srv.create_user("dee").await;
    // Acknowledged: the next.
    let next = poll(&srv, &token, json!({"returnImmediately": true})).await;
    let sets = next.body["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1);
    let (jti2, set2) = sets.iter().next().unwrap();
    assert_ne!(jti2, jti1);
    // Its audience is the poll URL.
    let claims = verify_set(&srv, set2.as_str().unwrap(), &srv.root("/events/v1/poll")).await;
    assert_eq!(claims["jti"], jti2.as_str());
    assert_eq!(next.body["moreAvailable"], false);
    // Acknowledge only (maxEvents 0), then a poll that waits for the next change.
    let r = poll(&srv, &token, json!({"ack": [jti2], "maxEvents": 0})).await;
    assert_eq!(r.body["sets"], json!({}));
    let waiting = {
        let (client, url, token) = (srv.client.clone(), srv.root("/events/v1/poll"), token.clone());
        tokio::spawn(async move {
            let r = client.post(url).bearer_auth(token).json(&json!({})).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    srv.create_user("cy").await;
    let woke =
        tokio::time::timeout(Duration::from_secs(4), waiting).await.expect("the poll returns with the event").unwrap();
    assert_eq!(woke["sets"].as_object().unwrap().len(), 1, "{woke}");
    // A wrong credential, or none.
    assert_eq!(poll(&srv, "nope", json!({})).await.status, 401);
    let r = srv.send(srv.client.post(srv.root("/events/v1/poll")).json(&json!({}))).await;
    assert_eq!((r.status, r.header("www-authenticate")), (401, Some("Bearer")));
    let r = srv.send(srv.client.post(srv.root("/events/v1/poll")).bearer_auth(&token).body("{not json")).await;
    assert_eq!((r.status, r.body["err"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn the_service_provider_config_advertises_security_events_once_a_stream_is_configured() {
    let srv = server().await;
    // Not configured for events: absent (RFC 9967 §4), as clients knowing only RFC 7643 expect.
    assert!(srv.get("/ServiceProviderConfig").await.body.get("securityEvents").is_none());
    add_stream(&srv, "poll", None, Value::Null).await;
    let spc = srv.get("/ServiceProviderConfig").await.body;
    // Bulk with `Prefer: respond-async` is run in the background (tests/api/async_requests.rs).
    assert_eq!(spc["securityEvents"]["asyncRequest"], "request");
    let uris = spc["securityEvents"]["eventUris"].as_array().unwrap();
    assert!(uris.contains(&json!("urn:ietf:params:scim:event:misc:asyncresp")));
    assert!(uris.contains(&json!("urn:ietf:params:scim:event:prov:create:notice")));
    assert!(uris.contains(&json!("urn:ietf:params:scim:event:prov:deactivate")));
    let _ = Got::header;
}

#[tokio::test]
async fn a_full_form_stream_gets_the_resource_as_a_get_returns_it() {
    let srv = server().await;
    let rx = Receiver::start().await;
    add_stream_with(&srv, json!({"method": "push", "full": true}), Some(&rx.url), Value::Null).await;
    let created = srv.post("/Users", &json!({"userName": "ada", "password": "s3cret-Pass!", "title": "Pilot"})).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    srv.patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "path": "title", "value": "Captain"}])))
        .await;
    srv.delete(&format!("/Users/{id}")).await;
    let got = rx.wait_for(3, WAIT).await;
    assert_eq!(got.len(), 3);
    let mut claims = Vec::new();
    for g in &got {
        claims.push(verify_set(&srv, std::str::from_utf8(&g.body).unwrap(), &rx.url).await);
    }
    let create = &claims[0]["events"]["urn:ietf:params:scim:event:prov:create:full"];
    assert_eq!(create["data"]["userName"], "ada");
    assert_eq!(create["data"]["id"], id.as_str());
    assert_eq!(create["data"]["meta"]["version"], "W/\"1\"");
    assert!(create["data"]["meta"]["location"].as_str().unwrap().ends_with(&format!("/Users/{id}")));
    assert!(create["data"].get("password").is_none(), "never the password: {create}");
    assert!(create.get("attributes").is_none());
    let patch = &claims[1]["events"]["urn:ietf:params:scim:event:prov:patch:full"];
    assert_eq!(patch["data"]["title"], "Captain");
    assert_eq!(patch["version"], "W/\"2\"");
    // No full form for a delete.
    assert_eq!(event_uri(&claims[2]), "urn:ietf:params:scim:event:prov:delete");
}

#[tokio::test]
async fn metrics_show_each_streams_figures() {
    let srv = server().await;
    let rx = Receiver::start().await;
    let stream = id(&add_stream(&srv, "push", Some(&rx.url), Value::Null).await);
    let paused = id(&add_stream(&srv, "poll", None, Value::Null).await);
    srv.create_user("ada").await;
    srv.create_user("bob").await;
    rx.wait_for(2, WAIT).await;
    stream_at(&srv, &stream, 2).await;
    let op = srv.operator_token().await;
    let text = srv.client.get(srv.root("/metrics")).bearer_auth(&op).send().await.unwrap().text().await.unwrap();
    let line =
        |name: &str, s: &str, method: &str| format!("{name}{{tenant=\"acme\",stream=\"{s}\",method=\"{method}\"}}");
    for (want, value) in [
        (line("scimd_event_stream_delivered", &stream, "push"), "2"),
        (line("scimd_event_stream_backlog", &stream, "push"), "0"),
        (line("scimd_event_stream_failing", &stream, "push"), "0"),
        (line("scimd_event_stream_backlog", &paused, "poll"), "2"),
        (line("scimd_event_stream_delivered", &paused, "poll"), "0"),
    ] {
        assert!(text.lines().any(|l| l == format!("{want} {value}")), "{want} {value} in:\n{text}");
    }
    assert!(text.contains(&line("scimd_event_stream_lag_seconds", &paused, "poll")));
}

#[tokio::test]
async fn sets_name_the_public_url_as_issuer_and_in_locations() {
    let http = scimd_server::HttpConfig { public_url: Some("https://scim.example.com/".into()), ..Default::default() };
    let events = EventsConfig {
        backoff: Backoff { base: Duration::from_millis(40), cap: Duration::from_millis(200) },
        ..EventsConfig::default()
    };
    let srv = TestServer::start_with(Options { http, events, ..Options::default() }).await;
    let rx = Receiver::start().await;
    add_stream_with(&srv, json!({"method": "push", "full": true}), Some(&rx.url), Value::Null).await;
    let id = srv.create_user("ada").await["id"].as_str().unwrap().to_string();
    let got = rx.wait_for(1, WAIT).await;
    let claims = verify_set(&srv, std::str::from_utf8(&got[0].body).unwrap(), &rx.url).await;
    assert_eq!(claims["iss"], "https://scim.example.com");
    let data = &claims["events"]["urn:ietf:params:scim:event:prov:create:full"]["data"];
    assert_eq!(data["meta"]["location"], format!("https://scim.example.com/scim/v2/Users/{id}"));
}
