//! Bad input: clear SCIM errors, never a 500, and nothing stored.

use reqwest::Method;
use serde_json::json;

use crate::common::TestServer;

async fn nothing_stored(s: &TestServer) {
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn malformed_json_and_wrong_shapes() {
    let s = TestServer::start().await;
    for body in ["{", "not json", "[1,2]", "\"str\"", "", "{\"userName\": }"] {
        let r = s.send(s.req(Method::POST, "/Users").header("content-type", "application/scim+json").body(body)).await;
        r.assert_error(400, Some("invalidSyntax"));
    }
    nothing_stored(&s).await;
}

#[tokio::test]
async fn wrong_types_and_missing_required() {
    let s = TestServer::start().await;
    let cases = [
        (json!({"displayName": "no userName"}), "invalidValue"),
        (json!({"userName": 42}), "invalidValue"),
        (json!({"userName": "x", "active": "perhaps"}), "invalidValue"),
        (json!({"userName": "x", "name": "flat string"}), "invalidValue"),
        (
            json!({"userName": "x", "emails": [{"value": "a@b", "primary": true}, {"value": "c@d", "primary": true}]}),
            "invalidValue",
        ),
        (json!({"userName": "x", "emails": [{"value": 1}]}), "invalidValue"),
        (json!({"userName": "x", "x509Certificates": [{"value": "not base64!!"}]}), "invalidValue"),
        (json!({"userName": "x", "noSuchAttribute": 1}), "invalidSyntax"),
        (json!({"schemas": ["urn:example:unknown"], "userName": "x"}), "invalidSyntax"),
        (json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "userName": "x"}), "invalidSyntax"),
    ];
    for (body, t) in cases {
        let r = s.post("/Users", &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        r.assert_error(400, Some(t));
    }
    nothing_stored(&s).await;
}

#[tokio::test]
async fn oversized_body_is_413() {
    let mut opts = crate::common::Options::default();
    opts.http.max_body_bytes = 4096;
    let s = TestServer::start_with(opts).await;
    let r = s.post("/Users", &json!({"userName": "big", "displayName": "x".repeat(10_000)})).await;
    r.assert_error(413, None);
    nothing_stored(&s).await;
}

#[tokio::test]
async fn deeply_nested_json_is_400() {
    let s = TestServer::start().await;
    let body = format!("{{\"userName\": \"x\", \"name\": {}1{}}}", "[".repeat(1000), "]".repeat(1000));
    let r = s.send(s.req(Method::POST, "/Users").header("content-type", "application/scim+json").body(body)).await;
    r.assert_error(400, Some("invalidSyntax"));
    nothing_stored(&s).await;
}

#[tokio::test]
async fn unknown_endpoints_and_methods() {
    let s = TestServer::start().await;
    s.get("/Widgets").await.assert_error(404, None);
    s.get("/Users/no-such-id").await.assert_error(404, None);
    let r = s.send(s.req(Method::DELETE, "/Users")).await;
    r.assert_error(405, None);
}

#[tokio::test]
async fn group_without_display_name_is_invalid_value() {
    let s = TestServer::start().await;
    s.post("/Groups", &json!({"members": []})).await.assert_error(400, Some("invalidValue"));
    let r = s.post("/Groups", &json!({"displayName": "g", "members": [{"value": "x", "type": "Robot"}]})).await;
    r.assert_error(400, Some("invalidValue"));
}
