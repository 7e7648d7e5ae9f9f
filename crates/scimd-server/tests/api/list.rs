//! Listing: paging, stable order, sorting, counts, projection.

use serde_json::json;

use crate::common::{TestServer, ids};

#[tokio::test]
async fn paging_is_stable_and_counts_are_integers() {
    let s = TestServer::start().await;
    let mut created = Vec::new();
    for i in 0..25 {
        created.push(s.create_user(&format!("user{i:02}")).await["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let r = s.get(&format!("/Users?startIndex={start}&count=10")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
        assert_eq!(r.body["totalResults"], 25);
        assert_eq!(r.body["startIndex"], start);
        let page = ids(&r.body);
        assert_eq!(r.body["itemsPerPage"], page.len());
        if page.is_empty() {
            break;
        }
        seen.extend(page);
        start += 10;
    }
    assert_eq!(seen, created, "pages cover every user once, in a stable order");
    // Okta's test connection.
    let r = s.get("/Users?startIndex=1&count=2").await;
    assert_eq!(r.body["itemsPerPage"], 2);
    // count=0 gives only the total.
    let r = s.get("/Users?count=0").await;
    assert_eq!(r.body["totalResults"], 25);
    assert_eq!(r.body["itemsPerPage"], 0);
    // startIndex below 1 is 1.
    let r = s.get("/Users?startIndex=0&count=1").await;
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(ids(&r.body), vec![created[0].clone()]);
}

#[tokio::test]
async fn page_size_default_and_maximum_are_configurable() {
    let mut opts = crate::common::Options::default();
    opts.config.page.default_count = 3;
    opts.config.page.max_count = 5;
    let s = TestServer::start_with(opts).await;
    for i in 0..8 {
        s.create_user(&format!("u{i}")).await;
    }
    assert_eq!(s.get("/Users").await.body["itemsPerPage"], 3);
    assert_eq!(s.get("/Users?count=100").await.body["itemsPerPage"], 5);
}

#[tokio::test]
async fn sorting() {
    let s = TestServer::start().await;
    for n in ["charlie", "Alpha", "bravo"] {
        s.create_user(n).await;
    }
    let names = |r: &serde_json::Value| -> Vec<String> {
        r["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap().to_string()).collect()
    };
    let r = s.get("/Users?sortBy=userName").await;
    assert_eq!(names(&r.body), ["Alpha", "bravo", "charlie"]);
    let r = s.get("/Users?sortBy=userName&sortOrder=descending").await;
    assert_eq!(names(&r.body), ["charlie", "bravo", "Alpha"]);
    let r = s.get("/Users?sortBy=emails.value").await;
    assert_eq!(names(&r.body), ["Alpha", "bravo", "charlie"]);
    let r = s.get("/Users?sortBy=meta.created&sortOrder=descending").await;
    let created: Vec<&str> =
        r.body["Resources"].as_array().unwrap().iter().map(|u| u["meta"]["created"].as_str().unwrap()).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");
    s.get("/Users?sortBy=userName&sortOrder=sideways").await.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn bad_paging_parameters_are_400() {
    let s = TestServer::start().await;
    s.get("/Users?count=ten").await.assert_error(400, Some("invalidValue"));
    s.get("/Users?startIndex=x").await.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn list_projection() {
    let s = TestServer::start().await;
    s.create_user("p").await;
    let r = s.get("/Users?attributes=userName").await;
    let u = &r.body["Resources"][0];
    assert_eq!(u["userName"], "p");
    assert!(u.get("id").is_some());
    assert!(u.get("emails").is_none());
}
