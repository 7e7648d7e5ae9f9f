//! ETags: weak per-version tags, If-Match → 412, If-None-Match → 304.

use reqwest::Method;
use serde_json::json;

use crate::common::{TestServer, patch_op};

#[tokio::test]
async fn if_none_match_gives_304_and_if_match_mismatch_gives_412() {
    let s = TestServer::start().await;
    let u = s.create_user("etag").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let etag = u["meta"]["version"].as_str().unwrap().to_string();

    let r = s.send(s.req(Method::GET, &path).header("If-None-Match", &etag)).await;
    assert_eq!(r.status, 304);
    let r = s.send(s.req(Method::GET, &path).header("If-None-Match", "W/\"999\"")).await;
    assert_eq!(r.status, 200);

    let body = patch_op(json!([{"op": "replace", "path": "displayName", "value": "x"}]));
    let r = s
        .send(
            s.req(Method::PATCH, &path)
                .header("If-Match", "W/\"999\"")
                .header("content-type", "application/scim+json")
                .body(body.to_string()),
        )
        .await;
    r.assert_error(412, None);
    assert!(s.get(&path).await.body.get("displayName").is_none(), "a failed precondition changes nothing");

    let r = s
        .send(
            s.req(Method::PATCH, &path)
                .header("If-Match", &etag)
                .header("content-type", "application/scim+json")
                .body(body.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let new_etag = r.header("etag").unwrap().to_string();
    assert_ne!(new_etag, etag);

    // The old tag no longer matches for PUT or DELETE.
    let r = s
        .send(
            s.req(Method::PUT, &path)
                .header("If-Match", &etag)
                .header("content-type", "application/scim+json")
                .body(json!({"userName": "etag"}).to_string()),
        )
        .await;
    r.assert_error(412, None);
    let r = s.send(s.req(Method::DELETE, &path).header("If-Match", &etag)).await;
    r.assert_error(412, None);
    let r = s.send(s.req(Method::DELETE, &path).header("If-Match", &new_etag)).await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn etag_header_matches_meta_version_on_every_response() {
    let s = TestServer::start().await;
    let u = s.create_user("tags").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let g = s.get(&path).await;
    assert_eq!(g.header("etag"), g.body["meta"]["version"].as_str());
    let p = s.patch(&path, &patch_op(json!([{"op": "replace", "path": "title", "value": "t"}]))).await;
    assert_eq!(p.header("etag"), p.body["meta"]["version"].as_str());
    let q = s.put(&path, &json!({"userName": "tags"})).await;
    assert_eq!(q.header("etag"), q.body["meta"]["version"].as_str());
}
