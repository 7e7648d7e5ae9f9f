//! Asynchronous Bulk requests (RFC 9967 §2.5.1): `Prefer: respond-async` from a tenant
//! with an event stream is answered `202` with `Set-Txn`, and each operation's outcome
//! arrives as a `misc:asyncresp` SET (`txn` `<Set-Txn>:<index>`) after the operation's own
//! provisioning events; failOnErrors is honoured; a tenant without a stream is answered
//! synchronously; a request refused as a whole is refused at once; a request left by a
//! replica that stopped is taken over at its next operation.

use std::time::Duration;

use base64::Engine;
use scimd_core::events::StreamFilter;
use scimd_core::schema::ResourceKind;
use scimd_store::{Method, NewStream, OpDone};
use serde_json::{Value, json};

use crate::common::*;
use crate::events::receiver::{Got, Receiver};
use crate::events::verify_set;

const WAIT: Duration = Duration::from_secs(20);
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const ASYNCRESP: &str = "urn:ietf:params:scim:event:misc:asyncresp";

fn user_op(bulk_id: &str, name: &str) -> Value {
    json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}})
}

fn title_op(path: &str, title: &str) -> Value {
    json!({"method": "PATCH", "path": path, "data": {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": title}]}})
}

/// Adds a push stream to `url` to the tenant `acme`, through the store.
async fn add_stream(srv: &TestServer, url: &str, filter: StreamFilter) {
    let t = srv.store.tenant_by_name("acme").await.unwrap().unwrap().id;
    let s = NewStream {
        id: format!("s{:08x}", rand::random::<u32>()),
        method: Method::Push,
        url: Some(url.to_string()),
        audience: None,
        full: false,
        filter,
        secret: None,
        token_hash: None,
    };
    srv.store.add_stream(t, s, chrono::Utc::now()).await.unwrap();
}

async fn bulk_async(srv: &TestServer, prefer: &str, body: &Value) -> Resp {
    let req = srv
        .req(reqwest::Method::POST, "/Bulk")
        .header("prefer", prefer)
        .header("content-type", "application/scim+json")
        .body(body.to_string());
    srv.send(req).await
}

/// The SETs received, verified, as (event URI, claims).
async fn sets(srv: &TestServer, rx: &Receiver, got: &[Got]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for g in got {
        let claims = verify_set(srv, std::str::from_utf8(&g.body).unwrap(), &rx.url).await;
        let uri = claims["events"].as_object().unwrap().keys().next().unwrap().clone();
        out.push((uri, claims));
    }
    out
}

/// Waits until the server holds no asynchronous request any more (all run).
async fn all_run(srv: &TestServer) {
    for _ in 0..400 {
        if srv.sql_i64("SELECT count(*) FROM async_requests").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("asynchronous requests still waiting");
}

#[tokio::test]
async fn an_async_bulk_is_accepted_with_set_txn_and_each_operation_reports_its_outcome() {
    let srv = TestServer::start().await;
    let rx = Receiver::start().await;
    add_stream(&srv, &rx.url, StreamFilter::default()).await;
    let spc = srv.get("/ServiceProviderConfig").await.body;
    assert_eq!(spc["securityEvents"]["asyncRequest"], "request", "{spc}");
    assert!(spc["securityEvents"]["eventUris"].as_array().unwrap().contains(&json!(ASYNCRESP)), "{spc}");

    let body = json!({"schemas": [BULK], "Operations": [
        user_op("u1", "ann"),
        title_op("/Users/bulkId:u1", "Guide"),
        user_op("u2", "ann"),
        {"method": "DELETE", "path": "/Users/no-such-user"},
    ]});
    let r = bulk_async(&srv, "return=minimal, Respond-Async; x=1", &body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body, Value::Null, "no body");
    let txn = r.header("set-txn").expect("Set-Txn").to_string();
    assert_eq!(Some(txn.as_str()), r.header("x-request-id"), "the request's id");
    assert_eq!(r.header("preference-applied"), Some("respond-async"));

    // Op 0: the user's create, then its outcome; op 1: the patch, then its outcome;
    // ops 2 and 3 fail: only their outcomes.
    let got = rx.wait_for(6, WAIT).await;
    let sets = sets(&srv, &rx, &got).await;
    let seen: Vec<(&str, &str)> =
        sets.iter().map(|(uri, c)| (uri.rsplit(':').nth(1).unwrap_or(uri), c["txn"].as_str().unwrap())).collect();
    let (t0, t1, t2, t3) = (format!("{txn}:0"), format!("{txn}:1"), format!("{txn}:2"), format!("{txn}:3"));
    assert_eq!(
        seen,
        [
            ("create", txn.as_str()),
            ("misc", t0.as_str()),
            ("patch", txn.as_str()),
            ("misc", t1.as_str()),
            ("misc", t2.as_str()),
            ("misc", t3.as_str())
        ],
        "{sets:?}"
    );
    let ann = srv.get("/Users?filter=userName%20eq%20%22ann%22").await.body["Resources"][0].clone();
    let id = ann["id"].as_str().unwrap();
    assert_eq!(ann["title"], "Guide");

    let outcome = |i: usize| sets[i].1["events"][ASYNCRESP].clone();
    let created = outcome(1);
    assert_eq!(sets[1].1["sub_id"]["uri"], format!("/Users/{id}"));
    assert_eq!(
        created,
        json!({"method": "POST", "bulkId": "u1", "status": "201", "location": srv.url(&format!("/Users/{id}")),
               "version": "W/\"1\""})
    );
    let patched = outcome(3);
    assert_eq!((patched["method"].as_str(), patched["status"].as_str()), (Some("PATCH"), Some("200")));
    assert_eq!(patched["version"], "W/\"2\"");
    assert_eq!(sets[3].1["sub_id"]["uri"], format!("/Users/{id}"));
    // A POST that failed names the collection, and carries the SCIM error.
    let conflict = outcome(4);
    assert_eq!(sets[4].1["sub_id"]["uri"], "/Users");
    assert_eq!((conflict["status"].as_str(), conflict["bulkId"].as_str()), (Some("409"), Some("u2")));
    assert_eq!(conflict["response"]["scimType"], "uniqueness", "{conflict}");
    assert_eq!(conflict["response"]["status"], "409");
    assert!(conflict.get("location").is_none());
    let missing = outcome(5);
    assert_eq!((missing["method"].as_str(), missing["status"].as_str()), (Some("DELETE"), Some("404")));
    assert_eq!(sets[5].1["sub_id"]["uri"], "/Users/no-such-user");
    all_run(&srv).await;

    // The audit trail: the request accepted, then each operation, under the request's id
    // and the client that sent it.
    let op = srv.operator_token().await;
    let mut seen = Vec::new();
    for _ in 0..100 {
        let events = srv
            .send(srv.client.get(srv.root("/admin/v1/tenants/acme/audit/events?limit=100")).bearer_auth(&op))
            .await
            .body;
        let ours: Vec<&Value> = events.as_array().unwrap().iter().filter(|e| e["request_id"] == txn.as_str()).collect();
        assert!(ours.iter().all(|e| e["client"] == ours[0]["client"] && !e["client"].is_null()), "{ours:?}");
        seen = ours
            .iter()
            .map(|e| {
                let f = |k: &str| e[k].as_str().unwrap_or("-").to_string();
                format!("{} {} {} {} {}", f("method"), f("op"), f("resource_id"), e["status"], f("scim_type"))
            })
            .collect();
        seen.sort();
        if seen.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen,
        [
            "DELETE delete no-such-user 404 -".to_string(),
            format!("PATCH patch {id} 200 -"),
            "POST bulk - 202 -".to_string(),
            "POST create - 409 uniqueness".to_string(),
            format!("POST create {id} 201 -"),
        ]
    );
}

#[tokio::test]
async fn an_async_bulk_honours_fail_on_errors() {
    let srv = TestServer::start().await;
    let rx = Receiver::start().await;
    let only_outcomes = StreamFilter { kinds: None, events: Some(vec![scimd_core::events::EventType::AsyncResponse]) };
    add_stream(&srv, &rx.url, only_outcomes).await;
    let body = json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
        {"method": "DELETE", "path": "/Users/no-such-user"},
        user_op("late", "never"),
    ]});
    let r = bulk_async(&srv, "respond-async", &body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let txn = r.header("set-txn").unwrap().to_string();
    all_run(&srv).await;
    let got = rx.wait_for(1, WAIT).await;
    // The request stopped at the first error: the create never ran, and has no outcome.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sets = sets(&srv, &rx, &rx.got()).await;
    assert_eq!(got.len(), 1);
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0].1["txn"], format!("{txn}:0"));
    assert_eq!(sets[0].1["events"][ASYNCRESP]["status"], "404");
    let found = srv.get("/Users?filter=userName%20eq%20%22never%22").await.body;
    assert_eq!(found["totalResults"], 0, "{found}");
}

#[tokio::test]
async fn an_async_preference_is_ignored_without_a_stream_and_a_malformed_bulk_is_refused_at_once() {
    let srv = TestServer::start().await;
    // No stream: nothing would tell the outcome, so the answer is synchronous.
    let spc = srv.get("/ServiceProviderConfig").await.body;
    assert!(spc.get("securityEvents").is_none(), "{spc}");
    let r = bulk_async(&srv, "respond-async", &json!({"schemas": [BULK], "Operations": [user_op("a", "sync")]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["Operations"][0]["status"], "201");
    assert!(r.header("preference-applied").is_none() && r.header("set-txn").is_none());

    // With a stream, a request refused as a whole is refused synchronously, and kept nowhere.
    let rx = Receiver::start().await;
    add_stream(&srv, &rx.url, StreamFilter::default()).await;
    let r = bulk_async(&srv, "respond-async", &json!({"schemas": [BULK]})).await;
    r.assert_error(400, Some("invalidSyntax"));
    let r = bulk_async(&srv, "respond-async", &json!({"schemas": [BULK], "Operations": [{"path": "/Users"}]})).await;
    r.assert_error(400, Some("invalidSyntax"));
    let twice = json!({"schemas": [BULK], "Operations": [user_op("a", "x1"), user_op("a", "x2")]});
    bulk_async(&srv, "respond-async", &twice).await.assert_error(400, Some("invalidValue"));
    assert_eq!(srv.sql_i64("SELECT count(*) FROM async_requests").await, 0);
    // Without the preference: synchronous as ever.
    let r = srv.post("/Bulk", &json!({"schemas": [BULK], "Operations": [user_op("b", "plain")]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn an_async_bulk_left_by_a_stopped_replica_is_taken_over_at_its_next_operation() {
    let srv = TestServer::start().await;
    let rx = Receiver::start().await;
    let only_outcomes = StreamFilter { kinds: None, events: Some(vec![scimd_core::events::EventType::AsyncResponse]) };
    add_stream(&srv, &rx.url, only_outcomes).await;
    let tenant = srv.store.tenant_by_name("acme").await.unwrap().unwrap().id;
    // A replica took a request, ran its first operation (the user exists), recorded it,
    // and stopped; its lease runs out in a moment.
    let first = srv.post("/Users", &json!({"userName": "resumed"})).await;
    let id = first.body["id"].as_str().unwrap().to_string();
    let body = json!({"schemas": [BULK], "Operations": [
        user_op("r", "resumed"),
        title_op("/Users/bulkId:r", "Taken over"),
        user_op("s", "second"),
    ]});
    let sealed = base64::engine::general_purpose::STANDARD.encode(body.to_string());
    let until = chrono::Utc::now().timestamp_millis() + 1500;
    let row = format!(
        "INSERT INTO async_requests (txn, tenant_id, body, base_url, created, lease_owner, lease_until) \
         VALUES ('stopped-1', {}, '{sealed}', '{}', '2026-01-01T00:00:00.000000000Z', 'gone', {until});",
        tenant.0,
        srv.url("")
    );
    srv.exec(&row, &row).await;
    let result = json!({"method": "POST", "bulkId": "r", "status": "201",
                        "location": srv.url(&format!("/Users/{id}")), "version": "W/\"1\""});
    let done = OpDone { index: 0, result, kind: ResourceKind::User, subject: id.clone(), version: Some(1) };
    assert!(srv.store.async_op_done(tenant, "stopped-1", "gone", done, until, chrono::Utc::now()).await.unwrap());

    let got = rx.wait_for(3, WAIT).await;
    let sets = sets(&srv, &rx, &got).await;
    let txns: Vec<&str> = sets.iter().map(|(_, c)| c["txn"].as_str().unwrap()).collect();
    assert_eq!(txns, ["stopped-1:0", "stopped-1:1", "stopped-1:2"], "each operation once, in order");
    // Operation 1 found the id operation 0 created through its recorded outcome.
    assert_eq!(sets[1].1["sub_id"]["uri"], format!("/Users/{id}"));
    assert_eq!(sets[1].1["events"][ASYNCRESP]["status"], "200");
    assert_eq!(sets[2].1["events"][ASYNCRESP]["status"], "201");
    assert_eq!(srv.get(&format!("/Users/{id}")).await.body["title"], "Taken over");
    let found = srv.get("/Users?filter=userName%20eq%20%22resumed%22").await.body;
    assert_eq!(found["totalResults"], 1, "operation 0 did not run again: {found}");
    all_run(&srv).await;
}
