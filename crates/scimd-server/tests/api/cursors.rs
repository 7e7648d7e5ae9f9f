//! RFC 9865 cursors are opaque and bound to the listing they were issued for: another
//! tenant, another resource type, another filter, a tampered or forged cursor: 400
//! `invalidCursor`, with nothing of the listing they came from.

use base64::Engine;
use serde_json::json;

use crate::common::{TestServer, enc};

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

#[track_caller]
fn refused(r: &crate::common::Resp) {
    r.assert_error(400, Some("invalidCursor"));
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains("empty cursor"), "says what to do: {detail}");
    assert!(r.body.get("Resources").is_none(), "{}", r.body);
}

#[tokio::test]
async fn a_cursor_continues_only_the_listing_it_came_from() {
    let s = TestServer::start().await;
    for i in 0..3 {
        s.create_user(&format!("acme-user-{i}")).await;
    }
    let uid = s.create_user("acme-member").await["id"].as_str().unwrap().to_string();
    s.create_group("acme-group-a", &[&uid]).await;
    s.create_group("acme-group-b", &[]).await;
    let globex = s.tenant_token("globex").await;
    for i in 0..3 {
        let r = s.post_as(&globex, "/Users", &json!({"userName": format!("globex-user-{i}")})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let first = s.get("/Users?cursor=&count=1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let cursor = first.body["nextCursor"].as_str().unwrap().to_string();
    // Opaque: no position in clear.
    let raw = b64().decode(&cursor).expect("base64url");
    assert!(!raw.starts_with(b"c1:") && raw.len() >= 24, "{cursor}");
    // Its own listing goes on with it, also through .search.
    let next = s.get(&format!("/Users?cursor={cursor}&count=1")).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(next.body["itemsPerPage"], 1);
    // Another tenant, another resource type, another filter: refused.
    let other = s.send(s.client.get(s.url(&format!("/Users?cursor={cursor}&count=1"))).bearer_auth(&globex)).await;
    refused(&other);
    assert!(!other.body.to_string().contains("acme"), "{}", other.body);
    refused(&s.get(&format!("/Groups?cursor={cursor}&count=1")).await);
    refused(&s.get(&format!("/Users?cursor={cursor}&count=1&filter={}", enc("userName pr"))).await);
    let search =
        |c: &str| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "cursor": c, "count": 1});
    refused(&s.post("/Groups/.search", &search(&cursor)).await);
    assert_eq!(s.post("/Users/.search", &search(&cursor)).await.status, 200);
    // Tampered (every position) and forged (a position in clear, as cursors once were).
    let mut bytes = cursor.clone().into_bytes();
    for i in 0..bytes.len() {
        let was = bytes[i];
        bytes[i] = if was == b'A' { b'B' } else { b'A' };
        refused(&s.get(&format!("/Users?count=1&cursor={}", String::from_utf8(bytes.clone()).unwrap())).await);
        bytes[i] = was;
    }
    for position in [0, 1, 2, 5, 1000] {
        let forged = b64().encode(format!("c1:{position}"));
        refused(&s.get(&format!("/Users?count=1&cursor={forged}")).await);
    }
}

/// A filtered listing's cursors work with the same filter however it is spaced, and a
/// cursor of one tenant's listing stays good while other tenants write.
#[tokio::test]
async fn a_filtered_cursor_survives_other_tenants_writes() {
    let s = TestServer::start().await;
    for i in 0..4 {
        s.create_user(&format!("pager-{i}")).await;
    }
    let filter = "userName sw \"pager\"";
    let first = s.get(&format!("/Users?count=2&cursor=&filter={}", enc(filter))).await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_string();
    let globex = s.tenant_token("globex").await;
    for i in 0..3 {
        s.post_as(&globex, "/Users", &json!({"userName": format!("pager-{i}")})).await;
    }
    let spaced = "userName  sw   \"pager\"";
    let r = s.get(&format!("/Users?count=2&cursor={cursor}&filter={}", enc(spaced))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["itemsPerPage"], 2);
    assert!(r.body.get("nextCursor").is_none(), "{}", r.body);
}
