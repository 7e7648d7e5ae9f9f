//! What responses tell browsers and caches: `nosniff` everywhere, personal data and
//! credentials never stored by a cache, the API documentation under a policy that keeps
//! it unframed and running from its own files; and the URLs the server answers with taken
//! from the request's `Host` and `X-Forwarded-Proto` only as configured.

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{Options, Resp, TestServer};

#[track_caller]
fn assert_no_store(what: &str, r: &Resp) {
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{what}: {:?}", r.headers);
    let cc = r.header("cache-control").unwrap_or_default();
    assert!(cc.split(',').any(|d| d.trim() == "no-store"), "{what}: cache-control '{cc}'");
}

#[tokio::test]
async fn every_response_says_nosniff_and_personal_data_is_never_cached() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let created = s.post("/Users", &json!({"userName": "cached"})).await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_string();
    let c = crate::oauth::client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let token = s.post_form("/oauth2/token", Some((&c.id, &c.secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(token.status, 200);
    let personal = [
        ("create", created),
        ("read", s.get(&format!("/Users/{id}")).await),
        ("list", s.get("/Users").await),
        ("search", s.post("/Users/.search", &json!({"filter": "userName eq \"cached\""})).await),
        ("not found", s.get("/Users/nope").await),
        ("me", s.get("/Me").await),
        ("discovery", s.get("/Schemas").await),
        ("no token", s.send(s.client.get(s.url("/Users"))).await),
        ("token", token),
        ("admin", s.send(s.client.get(s.root("/admin/v1/tenants")).bearer_auth(&op)).await),
        ("admin refused", s.send(s.client.get(s.root("/admin/v1/tenants"))).await),
        ("unknown path", s.send(s.client.get(s.root("/nowhere"))).await),
    ];
    for (what, r) in &personal {
        assert_no_store(what, r);
    }
    for path in ["/healthz", "/readyz", "/openapi.json", "/.well-known/jwks.json"] {
        let r = s.send(s.client.get(s.root(path))).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}: {:?}", r.headers);
    }
    // The signing keys are public and the same for everyone: cacheable.
    let jwks = s.send(s.client.get(s.root("/.well-known/jwks.json"))).await;
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=60"));
}

#[tokio::test]
async fn the_api_documentation_cannot_be_framed_and_runs_from_its_own_files() {
    let s = TestServer::start().await;
    let page = s.send(s.client.get(s.root("/docs/"))).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").expect("a policy").to_string();
    for directive in ["frame-ancestors 'none'", "script-src 'self'", "default-src 'none'", "connect-src 'self'"] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    // What the page loads is its own (relative) files, each served with a type the
    // browser accepts under nosniff; no inline script, which the policy would block.
    let html = page.body.as_str().unwrap().to_string();
    assert!(html.matches("<script").count() == html.matches("<script src=").count(), "{html}");
    let refs: Vec<&str> =
        html.split(['"', '\'']).filter(|p| p.ends_with(".js") || p.ends_with(".css") || p.ends_with(".png")).collect();
    assert!(refs.len() >= 4, "{refs:?}");
    for r in refs {
        assert!(!r.contains("//") && !r.starts_with("data:"), "an outside resource: {r}");
        let asset = s.send(s.client.get(s.root(&format!("/docs/{}", r.trim_start_matches("./"))))).await;
        assert_eq!(asset.status, 200, "{r}");
        let ct = asset.header("content-type").unwrap_or_default();
        let fits = match r.rsplit('.').next() {
            Some("js") => ct.contains("javascript"),
            Some("css") => ct.starts_with("text/css"),
            _ => ct.starts_with("image/png"),
        };
        assert!(fits, "{r} served as '{ct}'");
        assert!(asset.header("content-security-policy").is_some(), "{r}");
    }
    // It reads the API's description from this origin.
    let init = s.send(s.client.get(s.root("/docs/swagger-initializer.js"))).await;
    assert!(init.body.as_str().unwrap().contains("\"/openapi.json\""), "{}", init.body);
}

async fn with_http(http: scimd_server::HttpConfig) -> TestServer {
    TestServer::start_with(Options { http, ..Options::default() }).await
}

/// A create sent with these `Host` and `X-Forwarded-Proto` headers: its `Location`.
async fn location(s: &TestServer, host: &str, proto: &str, user: &str) -> String {
    let r = s
        .send(
            s.req(reqwest::Method::POST, "/Users")
                .header("host", host)
                .header("x-forwarded-proto", proto)
                .header("content-type", "application/scim+json")
                .body(json!({"userName": user}).to_string()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["meta"]["location"], r.header("location").unwrap());
    r.header("location").unwrap().to_string()
}

async fn metadata(s: &TestServer, host: &str, proto: &str) -> Resp {
    s.send(
        s.client
            .get(s.root("/.well-known/oauth-authorization-server"))
            .header("host", host)
            .header("x-forwarded-proto", proto),
    )
    .await
}

/// The `iss` of an access token issued to a request with these headers.
async fn issued_iss(s: &TestServer, host: &str, proto: &str) -> String {
    let c = crate::oauth::client(s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let r = s
        .send(
            s.client
                .post(s.root("/oauth2/token"))
                .header("host", host)
                .header("x-forwarded-proto", proto)
                .basic_auth(&c.id, Some(&c.secret))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let payload = r.body["access_token"].as_str().unwrap().split('.').nth(1).unwrap().to_string();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["iss"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn without_a_public_url_host_is_used_but_forwarded_proto_only_when_trusted() {
    let s = with_http(scimd_server::HttpConfig::default()).await;
    // A client cannot choose the scheme; the host it reached is answered.
    assert!(location(&s, "scim.test:1234", "https", "a").await.starts_with("http://scim.test:1234/scim/v2/Users/"));
    // Not a host: not reflected.
    assert!(location(&s, "evil.example/x?y=", "http", "b").await.starts_with("http://localhost/scim/v2/Users/"));
    // Metadata named after the request's Host is not for a shared cache.
    let m = metadata(&s, "scim.test:1234", "https").await;
    assert_eq!(m.body["issuer"], "http://scim.test:1234");
    assert_no_store("metadata", &m);
    assert!(!m.header("cache-control").unwrap().contains("public"), "{:?}", m.headers);
    assert_eq!(issued_iss(&s, "scim.test:1234", "https").await, "http://scim.test:1234");

    let trusting = with_http(scimd_server::HttpConfig { trust_forwarded_headers: true, ..Default::default() }).await;
    assert!(location(&trusting, "scim.test", "https", "c").await.starts_with("https://scim.test/scim/v2/Users/"));
    assert_eq!(metadata(&trusting, "scim.test", "HTTPS").await.body["issuer"], "https://scim.test");
    // Only the schemes there are.
    assert!(location(&trusting, "scim.test", "gopher", "d").await.starts_with("http://scim.test/"));
}

#[tokio::test]
async fn with_a_public_url_nothing_comes_from_the_request() {
    let s = with_http(scimd_server::HttpConfig {
        public_url: Some("https://scim.example.com/scim/v2".into()),
        trust_forwarded_headers: true,
        ..Default::default()
    })
    .await;
    let loc = location(&s, "evil.example", "http", "a").await;
    assert!(loc.starts_with("https://scim.example.com/scim/v2/Users/"), "{loc}");
    let m = metadata(&s, "evil.example", "http").await;
    assert_eq!(m.body["issuer"], "https://scim.example.com");
    assert_eq!(m.body["token_endpoint"], "https://scim.example.com/oauth2/token");
    assert_eq!(m.header("cache-control"), Some("public, max-age=60"), "the same for everyone: cacheable");
    assert_eq!(issued_iss(&s, "evil.example", "http").await, "https://scim.example.com");
}
