//! Isolation: every documented SCIM operation tried with another tenant's ids,
//! references to another tenant's resources in bodies, filters and Bulk, tokens of the
//! wrong scope, expired and tampered tokens, and the admin API with tenant tokens: all
//! refused, and no error detail names anything of the other tenant.

use chrono::TimeDelta;
use serde_json::{Value, json};

use crate::common::{Options, TestServer, patch_op};

#[tokio::test]
async fn no_tenant_reaches_another_tenants_resources() {
    let s = TestServer::start().await;
    // acme's resources, with names that must never appear in globex's answers.
    let secret_user = s.create_user("acme-secret-user").await;
    let uid = secret_user["id"].as_str().unwrap().to_string();
    let secret_group = s.create_group("acme-secret-group", &[&uid]).await;
    let gid = secret_group["id"].as_str().unwrap().to_string();
    let other = s.tenant_token("globex").await;
    // Both declare a resource type: its endpoints are tried too.
    let op = s.operator_token().await;
    let roles = json!({"resource_types": [{"name": "Role", "endpoint": "/Roles", "schema": "urn:okta:scim:schemas:core:1.0:Role"}]});
    for tenant in ["acme", "globex"] {
        let url = s.root(&format!("/admin/v1/tenants/{tenant}/profile"));
        assert_eq!(s.send(s.client.put(url).bearer_auth(&op).json(&roles)).await.status, 200);
    }
    let own = s.post_as(&other, "/Users", &json!({"userName": "globex-user"})).await;
    let own_id = own.body["id"].as_str().unwrap().to_string();
    let leaks = |body: &Value| {
        let text = body.to_string();
        text.contains("acme-secret")
            || text.contains(&uid) && !text.contains("not found") && !text.contains("does not exist")
    };
    // Every documented operation on a resource id, with acme's ids and globex's token.
    let doc = s.send(s.client.get(s.root("/openapi.json"))).await.body;
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/scim/v2/") || !path.contains("{id}") {
            continue;
        }
        let id = if path.contains("Groups") { &gid } else { &uid };
        // Both tenants declare /Roles: globex asks for acme's ids there too.
        let url = path.replace("{id}", id).replace("{endpoint}", "Roles");
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut rq = s.client.request(m, s.root(&url)).bearer_auth(&other);
            rq = match method.as_str() {
                "put" => {
                    let body =
                        if path.contains("Groups") { json!({"displayName": "x"}) } else { json!({"userName": "x"}) };
                    rq.header("content-type", "application/scim+json").body(body.to_string())
                }
                "patch" => rq
                    .header("content-type", "application/scim+json")
                    .body(patch_op(json!([{"op": "replace", "path": "displayName", "value": "x"}])).to_string()),
                _ => rq,
            };
            let r = s.send(rq).await;
            assert_eq!(r.status, 404, "{method} {path} with another tenant's id: {}", r.body);
            assert!(!leaks(&r.body), "{method} {path} leaks: {}", r.body);
            tried += 1;
        }
    }
    assert!(tried >= 8, "{tried}");
    // Filters, searches and cursors see only the caller's own resources.
    for q in [
        "/Users?filter=userName%20eq%20%22acme-secret-user%22",
        "/Users?filter=userName%20co%20%22secret%22",
        &format!("/Users?filter=id%20eq%20%22{uid}%22"),
        &format!("/Groups?filter=members.value%20eq%20%22{uid}%22"),
        "/Groups?filter=displayName%20sw%20%22acme%22",
        "/Users?cursor=&count=100",
    ] {
        let r = s.get_as(&other, q).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert!(!leaks(&r.body), "{q} leaks: {}", r.body);
    }
    // References to acme's resources in globex's bodies are refused without naming them.
    let r = s.post_as(&other, "/Groups", &json!({"displayName": "g", "members": [{"value": uid}]})).await;
    r.assert_error(400, Some("invalidValue"));
    let r = s
        .patch_as(
            &other,
            &format!("/Users/{own_id}"),
            &patch_op(json!([{"op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": {"value": uid}}])),
        )
        .await;
    // The manager id is the client's own input echoed; nothing of acme's user comes with it.
    assert!(!r.body.to_string().contains("acme-secret"), "{}", r.body);
    assert!(
        r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"].get("displayName").is_none()
    );
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "DELETE", "path": format!("/Users/{uid}")},
        {"method": "PATCH", "path": format!("/Groups/{gid}"), "data": patch_op(json!([{"op": "add", "path": "members", "value": [{"value": own_id}]}]))}]});
    let r = s.post_as(&other, "/Bulk", &bulk).await;
    let statuses: Vec<&str> =
        r.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["404", "404"], "{}", r.body);
    assert!(!leaks(&r.body), "{}", r.body);
    // acme's resources are untouched.
    assert_eq!(s.get(&format!("/Users/{uid}")).await.status, 200);
    let g = s.get(&format!("/Groups/{gid}")).await;
    assert_eq!(g.body["members"].as_array().unwrap().len(), 1, "{}", g.body);
    // The admin API takes no tenant token.
    for path in ["/admin/v1/tenants", "/admin/v1/tenants/acme/audit/events", "/admin/v1/tenants/acme/places"] {
        let r = s.send(s.client.get(s.root(path)).bearer_auth(&other)).await;
        assert_eq!(r.status, 401, "{path}: {}", r.body);
    }
}

#[tokio::test]
async fn wrong_scope_expired_and_tampered_tokens_are_refused() {
    let s = TestServer::start_with(Options { manual_clock: true, ..Options::default() }).await;
    let uid = s.create_user("ada").await["id"].as_str().unwrap().to_string();
    let reader = crate::oauth::client(&s, &["acme"], &["client_credentials"], &["scim:read"], 600, 600).await;
    let r =
        s.post_form("/oauth2/token", Some((&reader.id, &reader.secret)), &[("grant_type", "client_credentials")]).await;
    let token = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(s.get_as(&token, &format!("/Users/{uid}")).await.status, 200);
    // Read scope: no writes, through any door.
    let r = s.post_as(&token, "/Users", &json!({"userName": "eve"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = s
        .patch_as(
            &token,
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "x"}])),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = s
        .post_as(
            &token,
            "/Bulk",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Tampered: a changed claim breaks the signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    claims["scope"] = json!("scim");
    parts[1] = b64.encode(claims.to_string());
    let forged = parts.join(".");
    let r = s.post_as(&forged, "/Users", &json!({"userName": "eve"})).await;
    assert_eq!(r.status, 401, "{}", r.body);
    // Expired.
    s.clock.as_ref().unwrap().advance(TimeDelta::minutes(11));
    let r = s.get_as(&token, &format!("/Users/{uid}")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], 1, "nothing was written");
}
