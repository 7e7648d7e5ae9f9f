//! Operability over HTTP: `/metrics` on the main address is for operators and
//! counts requests by route template (a tenant's mounted path counted as the route it
//! serves), status and tenant; health checks; the request id in every error body.

use serde_json::{Value, json};

use crate::common::TestServer;

/// The value of the first sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let (n, rest) = series.split_once('{').unwrap_or((series, ""));
        (n == name && labels.iter().all(|x| rest.contains(x))).then(|| value.parse().ok())?
    })
}

#[tokio::test]
async fn metrics_on_the_main_address_need_an_operator_and_count_routes_and_tenants() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    assert_eq!(client.get(s.root("/metrics")).send().await.unwrap().status(), 401);
    assert_eq!(client.get(s.root("/metrics")).bearer_auth(&s.token).send().await.unwrap().status(), 401);
    // A tenant whose profile mounts its API at /api (the locker preset).
    let op = s.operator_token().await;
    let r = client
        .post(s.root("/admin/v1/tenants"))
        .bearer_auth(&op)
        .json(&json!({"name": "lockers", "preset": "locker"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let lockers = s.tenant_token("lockers").await;
    for _ in 0..3 {
        let r = client.get(s.root("/api/Users?count=1")).bearer_auth(&lockers).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(s.get("/Users/nope").await.status, 404);
    let r = client.get(s.root("/metrics")).bearer_auth(&op).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let mounted = ["method=\"GET\"", "route=\"/scim/v2/Users\"", "status=\"200\"", "tenant=\"lockers\""];
    assert_eq!(sample(&text, "scimd_http_requests_total", &mounted), Some(3.0), "{text}");
    let missing = ["route=\"/scim/v2/Users/{id}\"", "status=\"404\"", "tenant=\"acme\""];
    assert_eq!(sample(&text, "scimd_http_requests_total", &missing), Some(1.0), "{text}");
    // Refused scrapes count too, without a tenant; no series carries a resource id.
    assert_eq!(sample(&text, "scimd_http_requests_total", &["route=\"/metrics\"", "status=\"401\""]), Some(2.0));
    assert!(!text.contains("nope"), "{text}");
}

#[tokio::test]
async fn health_and_readiness() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    let r = client.get(s.root("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client.get(s.root("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ready\n");
}

#[tokio::test]
async fn every_error_body_carries_the_request_id() {
    let s = TestServer::start().await;
    let client = reqwest::Client::new();
    let check = |r: reqwest::Response| async move {
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let body: Value = r.json().await.unwrap();
        let text = body.get("detail").or(body.get("error_description")).or(body.get("requestId")).unwrap();
        assert!(text.as_str().unwrap().ends_with(&id), "{id}: {body}");
    };
    // SCIM errors: not found, bad filter, no token, a bad body.
    check(client.get(s.url("/Users/nope")).bearer_auth(&s.token).send().await.unwrap()).await;
    check(client.get(s.url("/Users?filter=userName%20zz%20%22x%22")).bearer_auth(&s.token).send().await.unwrap()).await;
    check(client.get(s.url("/Users")).send().await.unwrap()).await;
    check(
        client
            .post(s.url("/Users"))
            .bearer_auth(&s.token)
            .header("content-type", "application/scim+json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    // OAuth and admin errors.
    check(client.post(s.root("/oauth2/token")).form(&[("grant_type", "password")]).send().await.unwrap()).await;
    check(client.get(s.root("/admin/v1/tenants")).send().await.unwrap()).await;
}

#[tokio::test]
async fn a_clients_request_id_is_kept_apart_from_the_servers_own() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let with_id = |id: &str| s.req(reqwest::Method::GET, "/Users/nope").header("x-request-id", id.to_string());
    let first = s.send(with_id("client-chosen-1")).await;
    let server_id = first.header("x-request-id").unwrap().to_string();
    assert_ne!(server_id, "client-chosen-1", "the server's id is its own");
    assert!(first.body["detail"].as_str().unwrap().ends_with(&format!("; request id {server_id}")), "{}", first.body);
    // A client that sends the server's id of another request (or the same id twice) gets
    // a new one each time: ids never collide.
    let replay = s.send(with_id(&server_id)).await;
    let again = s.send(with_id("client-chosen-1")).await;
    let ids = [&server_id, replay.header("x-request-id").unwrap(), again.header("x-request-id").unwrap()];
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "{ids:?}");
    // An id that is no sane token (too long) is not kept.
    let long = s.send(with_id(&"x".repeat(300))).await;
    let created = s
        .send(
            s.req(reqwest::Method::POST, "/Users")
                .header("x-request-id", "client-create-7")
                .header("content-type", "application/scim+json")
                .body(json!({"userName": "tagged"}).to_string()),
        )
        .await;
    assert_eq!(created.status, 201);

    // The trail has the server's id, and the client's beside it.
    let events = s.send(s.client.get(s.root("/admin/v1/tenants/acme/audit/events?limit=100")).bearer_auth(&op)).await;
    let events = events.body.as_array().unwrap().clone();
    let of = |r: &crate::common::Resp| {
        let id = r.header("x-request-id").unwrap();
        let matching: Vec<&Value> = events.iter().filter(|e| e["request_id"] == id).collect();
        assert_eq!(matching.len(), 1, "{id}: {events:?}");
        matching[0].clone()
    };
    assert_eq!(of(&first)["client_request_id"], "client-chosen-1");
    assert_eq!(of(&replay)["client_request_id"], server_id.as_str());
    assert_eq!(of(&again)["client_request_id"], "client-chosen-1");
    assert_eq!(of(&long)["client_request_id"], Value::Null);
    // A change's event (written with the change) too.
    assert_eq!(of(&created)["client_request_id"], "client-create-7");
    assert!(events.iter().all(|e| e["request_id"] != "client-chosen-1" && e["request_id"] != "client-create-7"));
}
