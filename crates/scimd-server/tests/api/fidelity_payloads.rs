//! The staffing tool logs "all the payloads from the requests", header and body, with the
//! Authorization header and the token request's secret hidden, and the token request's
//! username kept (document 003, "Things to note"): its preset keeps the payloads of every
//! request, reads included. The payload of a read is its request line and headers and the
//! response it got (a GET sends no body: what it disclosed is what the audit must show).

use serde_json::{Value, json};

use crate::common::TestServer;

async fn details(s: &TestServer, op: &str, tenant: &str, event: &Value) -> Value {
    let id = event["id"].as_i64().unwrap();
    let r =
        s.send(s.client.get(s.root(&format!("/admin/v1/tenants/{tenant}/audit/events/{id}"))).bearer_auth(op)).await;
    assert_eq!(r.status, 200, "event {event}: {}", r.body);
    r.body
}

async fn events(s: &TestServer, op: &str, tenant: &str, which: &str) -> Vec<Value> {
    let r = s
        .send(s.client.get(s.root(&format!("/admin/v1/tenants/{tenant}/audit/events?op={which}"))).bearer_auth(op))
        .await;
    r.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn the_staffing_preset_keeps_the_payloads_of_reads_and_of_the_token_request() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let admin = |path: &str| s.client.post(s.root(&format!("/admin/v1{path}"))).bearer_auth(&op);
    let t = s.send(admin("/tenants").json(&json!({"name": "assignments", "preset": "staffing"}))).await;
    assert_eq!(t.status, 201, "{}", t.body);
    assert_eq!(t.body["audit_details"], "all", "{}", t.body);
    let file = "id,userName,givenName\nAP-1,temp.worker,Tess\n";
    let r = s.send(admin("/tenants/assignments/users").header("content-type", "text/csv").body(file)).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // The subscriber's GUID and secret key, in the token request's body.
    let sub = crate::oauth::client(&s, &["assignments"], &["client_credentials"], &["scim"], 900, 3600).await;
    let tok = s
        .post_form(
            "/oauth2/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &sub.id), ("client_secret", &sub.secret)],
        )
        .await;
    assert_eq!(tok.status, 200, "{}", tok.body);
    let jwt = tok.body["access_token"].as_str().unwrap().to_string();
    let got = s.get_as(&jwt, "/Users/AP-1").await;
    assert_eq!(got.status, 200, "{}", got.body);
    let listed = s.get_as(&jwt, "/Users?filter=userName%20eq%20%22temp.worker%22").await;
    assert_eq!(listed.body["totalResults"], 1);

    // The read: its request line and headers (the token hidden), and the response.
    let reads = events(&s, &op, "assignments", "read").await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    let d = details(&s, &op, "assignments", &reads[0]).await;
    let headers: Value = serde_json::from_str(d["request_headers"].as_str().unwrap()).unwrap();
    assert_eq!(headers[":request"], "GET /scim/v2/Users/AP-1", "{d}");
    assert_eq!(headers["authorization"], "Bearer [REDACTED]", "{d}");
    let body: Value = serde_json::from_str(d["response_body"].as_str().unwrap()).unwrap();
    assert_eq!((body["id"].clone(), body["userName"].clone()), (json!("AP-1"), json!("temp.worker")), "{d}");
    assert!(!d.to_string().contains(&jwt), "the token is never kept");
    let lists = events(&s, &op, "assignments", "list").await;
    let d = details(&s, &op, "assignments", &lists[0]).await;
    assert!(d["response_body"].as_str().unwrap().contains("temp.worker"), "{d}");

    // The token request: the username (the subscriber's GUID) kept, the secret and the
    // token hidden.
    let tokens = events(&s, &op, "assignments", "token").await;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0]["client"], sub.id.as_str());
    let d = details(&s, &op, "assignments", &tokens[0]).await;
    let form = d["request_body"].as_str().unwrap();
    assert!(form.contains(&format!("client_id={}", sub.id)), "{d}");
    assert!(!form.contains(&sub.secret) && form.contains("client_secret=%5BREDACTED%5D"), "{d}");
    assert!(!d.to_string().contains(&jwt), "{d}");

    // The operator may still choose otherwise for the tenant.
    let set = s
        .send(
            s.client
                .patch(s.root("/admin/v1/tenants/assignments"))
                .bearer_auth(&op)
                .json(&json!({"audit_details": "changes"})),
        )
        .await;
    assert_eq!(set.body["audit_details"], "changes", "{}", set.body);
}
