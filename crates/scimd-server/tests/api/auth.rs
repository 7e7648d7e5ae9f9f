//! Authentication and tenant isolation.

use serde_json::json;

use crate::common::{TestServer, enc};

#[tokio::test]
async fn missing_and_bad_tokens_are_401_with_challenge() {
    let s = TestServer::start().await;
    let r = s.send(s.client.get(s.url("/Users"))).await;
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let r = s.get_as("scimd_not-a-real-token", "/Users").await;
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").unwrap().contains("invalid_token"));
    let r = s.send(s.client.get(s.url("/Users")).header("authorization", "Basic dXNlcjpwYXNz")).await;
    r.assert_error(401, None);
    let r = s.send(s.client.get(s.url("/ServiceProviderConfig"))).await;
    r.assert_error(401, None);
}

#[tokio::test]
async fn healthz_needs_no_token() {
    let s = TestServer::start().await;
    let r = s.send(s.client.get(format!("http://{}/healthz", s.addr))).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_tenant_cannot_read_change_or_detect_another_tenants_resources() {
    let s = TestServer::start().await;
    let other = s.tenant_token("globex").await;
    let u = s.create_user("shared.name").await;
    let id = u["id"].as_str().unwrap();
    let g = s.create_group("Shared", &[id]).await;
    let gid = g["id"].as_str().unwrap();

    // Reads: 404, empty lists, no counts leak.
    s.get_as(&other, &format!("/Users/{id}")).await.assert_error(404, None);
    s.get_as(&other, &format!("/Groups/{gid}")).await.assert_error(404, None);
    let r = s.get_as(&other, "/Users").await;
    assert_eq!(r.body["totalResults"], 0);
    let r = s.get_as(&other, &format!("/Users?filter={}", enc("userName eq \"shared.name\""))).await;
    assert_eq!(r.body["totalResults"], 0);
    let r = s.get_as(&other, &format!("/Groups?filter={}", enc(&format!("members.value eq \"{id}\"")))).await;
    assert_eq!(r.body["totalResults"], 0);
    // The same userName is free in the other tenant: uniqueness does not leak existence.
    let r = s.post_as(&other, "/Users", &json!({"userName": "shared.name"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let other_id = r.body["id"].as_str().unwrap().to_string();
    // Changes: 404, and nothing changes.
    let r = s
        .send(
            s.client
                .patch(s.url(&format!("/Users/{id}")))
                .bearer_auth(&other)
                .header("content-type", "application/scim+json")
                .body(
                    crate::common::patch_op(json!([{"op": "replace", "path": "title", "value": "pwned"}])).to_string(),
                ),
        )
        .await;
    r.assert_error(404, None);
    let r = s.send(s.client.delete(s.url(&format!("/Users/{id}"))).bearer_auth(&other)).await;
    r.assert_error(404, None);
    // Cross-tenant members are unknown members.
    let r = s.post_as(&other, "/Groups", &json!({"displayName": "X", "members": [{"value": id}]})).await;
    r.assert_error(400, Some("invalidValue"));
    let r = s.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("title").is_none());
    // And the first tenant cannot see the second's user either.
    s.get(&format!("/Users/{other_id}")).await.assert_error(404, None);
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
}

/// A tenant without the SCIM feature gets 403 (with a SCIM error) on every
/// SCIM endpoint, reads and writes alike, and nothing is changed.
#[tokio::test]
async fn a_tenant_without_the_scim_feature_gets_403_everywhere() {
    let s = TestServer::start().await;
    let t = s.store.create_tenant("no-scim", false, chrono::Utc::now()).await.unwrap();
    let token = s.tenant_token("no-scim").await;
    for path in ["/Users", "/Groups", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/Users/x"] {
        s.get_as(&token, path).await.assert_error(403, None);
    }
    s.post_as(&token, "/Users", &json!({"userName": "x"})).await.assert_error(403, None);
    s.store.set_scim_enabled(t.id, true).await.unwrap();
    let fresh = s.tenant_token("no-scim").await;
    let r = s.get_as(&fresh, "/Users").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0, "the refused create stored nothing");
}
