//! Secrets never reach the audit trail's stored payloads, whatever a client sends: a JSON
//! body under a form `Content-Type`, the password under its URN-qualified name (at the
//! top, in a path-less PATCH value, as a PATCH path), in Bulk `data`, a tenant's own
//! writeOnly extension attributes, and the admin API's API-user bodies. Each request's
//! stored details are read back through the admin API, then the whole database is
//! searched for the secret.

use serde_json::{Value, json};

use crate::common::{Resp, TestServer, patch_op};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const FORM: &str = "application/x-www-form-urlencoded";

async fn operator(s: &TestServer) -> String {
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(scimd_server::clock::SystemClock));
    admin.create_admin_token(None).await.unwrap().token
}

/// Sends `body` (as text) with this content type and the tenant's token.
async fn send_as(s: &TestServer, method: reqwest::Method, path: &str, content_type: &str, body: &Value) -> Resp {
    s.send(s.req(method, path).header("content-type", content_type).body(body.to_string())).await
}

/// The stored details of the request answered by `r` (found by request id in acme's
/// trail; a Bulk request's are kept with one of its operations' events), as one text.
async fn stored_details(s: &TestServer, op: &str, r: &Resp) -> String {
    let request_id = r.header("x-request-id").expect("a request id");
    let list = s.send(s.client.get(s.root("/admin/v1/tenants/acme/audit/events?limit=1000")).bearer_auth(op)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let events: Vec<&Value> = list.body.as_array().unwrap().iter().filter(|e| e["request_id"] == request_id).collect();
    assert!(!events.is_empty(), "no event for {request_id}: {}", list.body);
    for e in events {
        let id = e["id"].as_i64().unwrap();
        let d =
            s.send(s.client.get(s.root(&format!("/admin/v1/tenants/acme/audit/events/{id}"))).bearer_auth(op)).await;
        if d.status == 200 {
            return d.body.to_string();
        }
        assert_eq!(d.status, 404, "{}", d.body);
    }
    panic!("no details kept for {request_id}");
}

/// Waits for pending audit writes (reading the trail through the admin API does).
async fn flush(s: &TestServer, op: &str) {
    let r = s.send(s.client.get(s.root("/admin/v1/tenants/acme/audit/events?limit=1")).bearer_auth(op)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Asserts that no secret is in the database (any file of it, on SQLite). Call after
/// reading the trail through the admin API, which waits for pending audit writes.
async fn assert_nowhere(s: &TestServer, secrets: &[&str]) {
    let raw = s.raw_contents().await;
    for secret in secrets {
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "'{secret}' is stored in the database");
    }
}

#[tokio::test]
async fn a_password_in_a_json_body_sent_as_a_form_is_redacted() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let body = json!({"schemas": [USER_URN], "userName": "formal", "password": "FormPass-0001"});
    let r = send_as(&s, reqwest::Method::POST, "/Users", FORM, &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d = stored_details(&s, &op, &r).await;
    assert!(d.contains("formal") && d.contains("[REDACTED]"), "the rest is kept: {d}");
    assert!(!d.contains("FormPass-0001"), "{d}");
    assert_nowhere(&s, &["FormPass-0001"]).await;
}

#[tokio::test]
async fn a_password_under_its_urn_qualified_name_is_redacted() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let body = json!({"schemas": [USER_URN], "userName": "urnie", format!("{USER_URN}:password"): "UrnPass-0002"});
    let r = s.post("/Users", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d = stored_details(&s, &op, &r).await;
    assert!(d.contains("urnie") && !d.contains("UrnPass-0002"), "{d}");
    assert_nowhere(&s, &["UrnPass-0002"]).await;
}

#[tokio::test]
async fn a_password_in_a_pathless_patch_value_under_its_urn_is_redacted() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let id = s.create_user("patchy").await["id"].as_str().unwrap().to_string();
    let body = patch_op(json!([{"op": "replace", "value": {format!("{USER_URN}:password"): "PatchPass-0003",
                                                        "title": "Kept"}}]));
    let r = s.patch(&format!("/Users/{id}"), &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = stored_details(&s, &op, &r).await;
    assert!(d.contains("Kept") && !d.contains("PatchPass-0003"), "{d}");
    assert_nowhere(&s, &["PatchPass-0003"]).await;
}

#[tokio::test]
async fn a_password_patch_path_sent_as_a_form_is_redacted() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let id = s.create_user("formpatch").await["id"].as_str().unwrap().to_string();
    let body = patch_op(json!([{"op": "replace", "path": "password", "value": "FormPatch-0004"}]));
    let r = send_as(&s, reqwest::Method::PATCH, &format!("/Users/{id}"), FORM, &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = stored_details(&s, &op, &r).await;
    assert!(!d.contains("FormPatch-0004"), "{d}");
    assert_nowhere(&s, &["FormPatch-0004"]).await;
}

#[tokio::test]
async fn passwords_in_bulk_data_are_redacted() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let id = s.create_user("bulky").await["id"].as_str().unwrap().to_string();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "bulk.a", "password": "BulkPass-0005"}},
        {"method": "POST", "path": "/Users", "bulkId": "b",
         "data": {"userName": "bulk.b", format!("{USER_URN}:password"): "BulkPass-0006"}},
        {"method": "PATCH", "path": format!("/Users/{id}"), "data": patch_op(json!([
            {"op": "replace", "path": format!("{USER_URN}:password"), "value": "BulkPass-0007"}]))},
        {"method": "PUT", "path": format!("/Users/{id}"), "data": {"userName": "bulky", "PassWord": "BulkPass-0008"}}
    ]});
    for content_type in ["application/scim+json", FORM] {
        let r = send_as(&s, reqwest::Method::POST, "/Bulk", content_type, &body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let d = stored_details(&s, &op, &r).await;
        assert!(d.contains("bulk.a"), "the rest is kept: {d}");
        for p in ["BulkPass-0005", "BulkPass-0006", "BulkPass-0007", "BulkPass-0008"] {
            assert!(!d.contains(p), "{p} stored ({content_type}): {d}");
        }
    }
    assert_nowhere(&s, &["BulkPass-0005", "BulkPass-0006", "BulkPass-0007", "BulkPass-0008"]).await;
}

#[tokio::test]
async fn an_api_users_password_sent_to_the_admin_api_is_redacted() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    // As `curl -d '{…}'` sends it (a form type), and as JSON; and the generated one answered.
    for (i, content_type) in [FORM, "application/json", "text/plain"].into_iter().enumerate() {
        let r = s
            .send(
                s.client
                    .post(s.root("/admin/v1/tenants/acme/api-users"))
                    .bearer_auth(&op)
                    .header("content-type", content_type)
                    .body(
                        json!({"username": format!("svc{i}"), "password": format!("AdminPass-000{i}-long")})
                            .to_string(),
                    ),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let generated = s
        .send(
            s.client
                .post(s.root("/admin/v1/tenants/acme/api-users"))
                .bearer_auth(&op)
                .body(json!({"username": "svc-generated"}).to_string()),
        )
        .await;
    assert_eq!(generated.status, 201, "{}", generated.body);
    let answered = generated.body["password"].as_str().unwrap().to_string();
    flush(&s, &op).await;
    assert_nowhere(&s, &["AdminPass-0000-long", "AdminPass-0001-long", "AdminPass-0002-long", &answered]).await;
}

#[tokio::test]
async fn a_tenants_own_secret_attributes_are_redacted_under_every_spelling() {
    const VAULT: &str = "urn:example:vault:1.0:User";
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let profile = json!({"extensions": [{"resource_type": "User", "schema": {"id": VAULT, "attributes": [
        {"name": "recoveryCode", "type": "string", "returned": "never"},
        {"name": "keys", "type": "complex", "multiValued": true, "subAttributes": [
            {"name": "id", "type": "string"},
            {"name": "secretKey", "type": "string", "returned": "never"}]}]}}]});
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/acme/profile")).bearer_auth(&op).json(&profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = s
        .post(
            "/Users",
            &json!({"schemas": [USER_URN, VAULT], "userName": "vaulted",
                    VAULT: {"recoveryCode": "Recovery-0101", "keys": [{"id": "k1", "secretKey": "KeyMaterial-0102"}]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let d = stored_details(&s, &op, &created).await;
    assert!(d.contains("vaulted") && d.contains("k1"), "the rest is kept: {d}");
    assert!(!d.contains("Recovery-0101") && !d.contains("KeyMaterial-0102"), "{d}");

    let patches = [
        json!([{"op": "replace", "path": format!("{VAULT}:recoveryCode"), "value": "Recovery-0103"}]),
        json!([{"op": "replace", "path": format!("{}:KEYS[id eq \"k1\"].secretkey", VAULT.to_uppercase()),
                "value": "KeyMaterial-0104"}]),
        json!([{"op": "replace", "value": {format!("{VAULT}:recoveryCode"): "Recovery-0105"}}]),
        json!([{"op": "replace", "value": {VAULT: {"RecoveryCode": "Recovery-0106"}}}]),
        json!([{"op": "add", "path": format!("{VAULT}:keys"), "value": [{"id": "k2", "secretKey": "KeyMaterial-0107"}]}]),
    ];
    for (i, ops) in patches.into_iter().enumerate() {
        for content_type in ["application/scim+json", FORM] {
            let r = send_as(&s, reqwest::Method::PATCH, &format!("/Users/{id}"), content_type, &patch_op(ops.clone()))
                .await;
            assert_eq!(r.status, 200, "patch {i}: {}", r.body);
            let d = stored_details(&s, &op, &r).await;
            assert!(!d.contains("Recovery-01") && !d.contains("KeyMaterial-01"), "patch {i} ({content_type}): {d}");
        }
    }
    // A filter on a secret holds a guess at it: refused, and withheld from the trail.
    let filter = crate::common::enc(&format!("{VAULT}:recoveryCode eq \"Guess-0108\""));
    let r = s.get(&format!("/Users?filter={filter}")).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let d = stored_details(&s, &op, &r).await;
    assert!(!d.contains("Guess-0108"), "{d}");
    // Another tenant's trail is redacted by its own schemas; the built-in ones still apply.
    let d =
        stored_details(&s, &op, &s.post("/Users", &json!({"userName": "plain", "password": "Plain-0109"})).await).await;
    assert!(!d.contains("Plain-0109"), "{d}");
}
