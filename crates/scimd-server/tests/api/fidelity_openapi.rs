//! Each tenant's API described as the tenant sees it: `<base>/openapi.json`
//! gives the SCIM operations its profile allows at its base path, its token endpoint and
//! its schemas with its extensions (the locker preset's badges), for the tenant's bearer
//! token; `<base>/docs` is Swagger UI on it; `/openapi.json` stays the whole server.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::TestServer;

const BADGES: &str = "urn:scimd:schemas:extension:locker:1.0:User";

fn methods(doc: &Value, path: &str) -> Vec<String> {
    let mut m: Vec<String> = doc["paths"][path].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    m.sort();
    m
}

#[tokio::test]
async fn the_locker_tenant_sees_its_own_api_at_its_base_path() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    s.preset_tenant(&op, "harbour", "locker").await;
    let token = s.tenant_token("harbour").await;

    // Without the tenant's token: 401, as the rest of its API (a path names no tenant).
    let r = s.send(s.client.get(s.root("/api/openapi.json"))).await;
    r.assert_error(401, None);

    let r = s.send(s.client.get(s.root("/api/openapi.json")).bearer_auth(&token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    // Its base path, nothing of the server's own or of the admin API.
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(paths.iter().all(|p| p.starts_with("/api/") || p.starts_with("/oauth2/")), "{paths:?}");
    // Users: every operation; Groups: read only (the preset refuses changes), no POST.
    assert_eq!(methods(&doc, "/api/Users"), ["get", "post"]);
    assert_eq!(methods(&doc, "/api/Users/{id}"), ["delete", "get", "patch", "put"]);
    assert_eq!(methods(&doc, "/api/Groups"), ["get"]);
    assert_eq!(methods(&doc, "/api/Groups/{id}"), ["get"]);
    assert_eq!(methods(&doc, "/api/Groups/.search"), ["post"]);
    assert!(doc["paths"]["/oauth2/token"]["post"].is_object(), "how to get a token");
    assert!(doc["paths"]["/api/ServiceProviderConfig"]["get"].is_object());
    // Its schemas: the badges extension, groups settable on the user, no members shown.
    let user = &doc["components"]["schemas"]["User"]["properties"];
    let badge = &user[BADGES]["properties"]["badges"];
    assert_eq!(badge["type"], "array", "{badge}");
    assert!(badge["items"]["properties"]["value"].is_object() && badge["items"]["properties"]["display"].is_object());
    assert_ne!(user["groups"]["readOnly"], true, "settable on the user: {}", user["groups"]);
    assert!(doc["components"]["schemas"]["Group"]["properties"].get("members").is_none());
    // Its lookup by a userName parameter is described.
    assert!(doc["info"]["description"].as_str().unwrap().contains("?userName=x"), "{}", doc["info"]);
    // Every operation id is unique and every reference resolves.
    let text = doc.to_string();
    for name in text.split("\"#/components/schemas/").skip(1).map(|r| r.split('"').next().unwrap()) {
        assert!(doc["components"]["schemas"].get(name).is_some(), "{name} is referenced but not defined");
    }

    // Each documented operation is routed as documented, for this tenant.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let url: String =
                path.split('/').map(|seg| if seg.starts_with('{') { "x" } else { seg }).collect::<Vec<_>>().join("/");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = s.send(s.client.request(m, s.root(&url)).bearer_auth(&token).json(&json!({}))).await;
            let detail = r.body["detail"].as_str().unwrap_or_default();
            assert!(
                r.status != 405 && !detail.starts_with("no SCIM endpoint"),
                "{method} {path} documented but refused: {} {}",
                r.status,
                r.body
            );
        }
    }
    // What the profile refuses is not documented, and is refused.
    let r = s.send(s.client.post(s.root("/api/groups")).bearer_auth(&token).json(&json!({"displayName": "x"}))).await;
    assert_eq!(r.status, 405);

    // The server-wide document is unchanged by the tenant: the full API at /scim/v2.
    let full = s.send(s.client.get(s.root("/openapi.json"))).await.body;
    assert_eq!(methods(&full, "/scim/v2/Groups"), ["get", "post"]);
    assert!(full["paths"]["/admin/v1/tenants"].is_object());
    assert!(full["components"]["schemas"]["User"]["properties"].get(BADGES).is_none());
}

#[tokio::test]
async fn a_tenant_without_groups_or_creates_sees_neither() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let profile = json!({"users": {"create": false}, "groups": {"offered": false}});
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/acme/profile")).bearer_auth(&op).json(&profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = s.send(s.client.get(s.root("/scim/v2/openapi.json")).bearer_auth(&s.token)).await.body;
    assert_eq!(methods(&doc, "/scim/v2/Users"), ["get"], "no POST: {}", doc["paths"]);
    assert!(doc["paths"].get("/scim/v2/Groups").is_none() && doc["paths"].get("/scim/v2/Groups/{id}").is_none());
    assert!(doc["components"]["schemas"].get("Group").is_none());
    // Another tenant at the same path sees its own (the full default profile).
    let other = s.tenant_token("other").await;
    let doc = s.send(s.client.get(s.root("/scim/v2/openapi.json")).bearer_auth(&other)).await.body;
    assert_eq!(methods(&doc, "/scim/v2/Users"), ["get", "post"]);
    assert_eq!(methods(&doc, "/scim/v2/Groups/{id}"), ["delete", "get", "patch", "put"]);
    // A tenant's description is only at its own base path.
    let r = s.send(s.client.get(s.root("/api/openapi.json")).bearer_auth(&s.token)).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test]
async fn the_tenant_docs_page_is_swagger_ui_on_the_tenant_description() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    s.preset_tenant(&op, "harbour", "locker").await;
    for (path, spec) in [("/api/docs", "\"/api/openapi.json\""), ("/scim/v2/docs", "\"/scim/v2/openapi.json\"")] {
        let page = s.client.get(s.root(path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        // The server's documentation policy: no inline script.
        let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(html.contains("/docs/swagger-ui-bundle.js") && html.contains(spec), "{path}: {html}");
        assert!(!html.contains("<script>"), "{html}");
        let init = s.client.get(s.root(&format!("{path}/init.js"))).send().await.unwrap();
        assert_eq!(init.status(), 200, "{path}/init.js");
        let js = init.text().await.unwrap();
        assert!(js.contains("SwaggerUIBundle") && js.contains("Authorization"), "sends the tenant's token: {js}");
    }
    // Its assets are the server's.
    let bundle = s.client.get(s.root("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
}
