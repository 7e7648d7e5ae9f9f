//! The API's description: `/openapi.json` (OpenAPI 3.1) built from code, every
//! documented operation routed by the real router, a snapshot that shows any API change in
//! review, and Swagger UI served from the binary at `/docs`.

use serde_json::{Value, json};

use crate::common::TestServer;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/openapi.snapshot.json");

#[tokio::test]
async fn the_document_is_served_and_matches_its_snapshot() {
    let s = TestServer::start().await;
    let r = s.send(s.client.get(s.root("/openapi.json"))).await;
    assert_eq!(r.status, 200);
    let doc = r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/scim/v2/Users", "/scim/v2/Users/{id}", "/scim/v2/Bulk", "/scim/v2/Me", "/oauth2/token", "/healthz"] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    // The resource schemas come from the registry the server enforces.
    let user = &doc["components"]["schemas"]["User"]["properties"];
    assert_eq!(user["userName"]["type"], "string");
    assert_eq!(user["groups"]["readOnly"], true);
    assert_eq!(user["emails"]["items"]["properties"]["primary"]["type"], "boolean");
    assert!(
        user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["properties"]["employeeNumber"].is_object()
    );
    // Every response is described (OpenAPI 3.1 requires it), and operation ids are unique.
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()), "{method} {path}: duplicate id");
            for (status, resp) in op["responses"].as_object().unwrap() {
                let resp = match resp["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/responses/")) {
                    Some(name) => &doc["components"]["responses"][name],
                    None => resp,
                };
                assert!(resp["description"].is_string(), "{method} {path} {status}");
            }
        }
    }
    // The snapshot: an API change shows up as a change of this file in review.
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(SNAPSHOT, &pretty).unwrap();
    }
    let expected = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        expected == pretty,
        "the API description changed; review it and run `UPDATE_SNAPSHOTS=1 cargo nextest run -p scimd-server \
         --test api openapi` to accept it ({SNAPSHOT})"
    );
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    // A declared resource type, for the routes of declared types (`/scim/v2/{endpoint}`).
    let roles =
        json!({"resource_types": [{"name": "X", "endpoint": "/x", "schema": "urn:okta:scim:schemas:core:1.0:Role"}]});
    let url = s.root("/admin/v1/tenants/acme/profile");
    assert_eq!(s.send(s.client.put(url).bearer_auth(&op).json(&roles)).await.status, 200);
    let doc = s.send(s.client.get(s.root("/openapi.json"))).await.body;
    let mut n = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, o) in item.as_object().unwrap() {
            let url =
                path.split('/').map(|seg| if seg.starts_with('{') { "x" } else { seg }).collect::<Vec<_>>().join("/");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut rq = s.client.request(m, s.root(&url));
            rq = match o["security"][0].as_object().and_then(|m| m.keys().next()).map(String::as_str) {
                Some("bearer") => rq.bearer_auth(&s.token),
                Some("operator") => rq.bearer_auth(&op),
                _ => rq,
            };
            if o.get("requestBody").is_some() {
                let ct = o["requestBody"]["content"].as_object().unwrap().keys().next().unwrap().clone();
                let body =
                    if ct.contains("form") { "grant_type=client_credentials".to_string() } else { "{}".to_string() };
                rq = rq.header("content-type", ct).body(body);
            }
            let r = s.send(rq).await;
            let detail = r.body.get("detail").and_then(Value::as_str).unwrap_or("");
            let fallback = detail.starts_with("no SCIM endpoint at")
                || detail == "no such admin endpoint"
                || detail.contains("is not supported on");
            assert!(!fallback, "{method} {path} is documented but not routed: {} {}", r.status, r.body);
            n += 1;
        }
    }
    assert!(n > 60, "{n} operations");
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let s = TestServer::start().await;
    let page = s.client.get(s.root("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let init = s.client.get(s.root("/docs/swagger-initializer.js")).send().await.unwrap().text().await.unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
    let bundle = s.client.get(s.root("/docs/swagger-ui-bundle.js")).send().await.unwrap();
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
}

/// Schemathesis (PyPI) generates requests from `/openapi.json` for every operation and
/// checks the live server's answers against the document: no 5xx, and no status, content
/// type or body that contradicts it. Bounded: 10 examples per operation, a fixed seed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_answer_contradicting_the_document() {
    let s = TestServer::start().await;
    let st = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/st");
    assert!(st.exists(), "schemathesis is not installed: run scripts/setup-venv (looked for {})", st.display());
    let op = s.operator_token().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("st.toml");
    std::fs::write(
        &config,
        format!("[auth.openapi.bearer]\nbearer = \"{}\"\n[auth.openapi.operator]\nbearer = \"{op}\"\n", s.token),
    )
    .unwrap();
    let url = s.root("/openapi.json");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(st)
            .args(["--config-file", &config.to_string_lossy(), "run", &url])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            ])
            .args(["--max-examples", "10", "--seed", "1", "--workers", "1", "--generation-database", "none"])
            .args(["--phases", "examples,coverage,fuzzing", "--request-timeout", "10", "--no-color"])
            .current_dir(dir.path())
            .output()
    })
    .await
    .unwrap()
    .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.lines().rev().find(|l| l.contains("generated")).unwrap_or_default().to_string();
    assert!(
        out.status.success(),
        "schemathesis found failures ({summary}):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("schemathesis: {summary}");
}
