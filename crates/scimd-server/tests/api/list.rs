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

/// Every id of a cursor-paged walk, following `nextCursor` from `first` (a query string);
/// after each page, deletes the users `between` names and creates as many new ones.
async fn walk(s: &TestServer, first: &str, between: impl Fn(usize) -> Option<Vec<String>>) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = first.to_string();
    for page in 0.. {
        let r = s.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.get("startIndex").is_none(), "cursor pages have no startIndex: {}", r.body);
        for u in r.body["Resources"].as_array().unwrap() {
            ids.push(u["id"].as_str().unwrap().to_string());
        }
        if let Some(deleted) = between(page) {
            for (i, id) in deleted.iter().enumerate() {
                assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204);
                s.create_user(&format!("mid{page}-{i}")).await;
            }
        }
        match r.body["nextCursor"].as_str() {
            Some(c) => url = format!("/Users?count=10&cursor={c}"),
            None => break,
        }
    }
    ids
}

#[tokio::test]
async fn cursor_pages_are_stable_under_inserts_and_deletes() {
    let s = TestServer::start().await;
    let mut created = Vec::new();
    for i in 0..25 {
        created.push(s.create_user(&format!("c{i:02}")).await["id"].as_str().unwrap().to_string());
    }
    let spc = s.get("/ServiceProviderConfig").await;
    assert_eq!(
        (spc.body["pagination"]["cursor"].clone(), spc.body["pagination"]["index"].clone()),
        (json!(true), json!(true))
    );
    // A plain walk: three pages, every user once.
    let first = s.get("/Users?cursor&count=10").await;
    assert_eq!((first.body["totalResults"].clone(), first.body["itemsPerPage"].clone()), (json!(25), json!(10)));
    let ids = walk(&s, "/Users?cursor=&count=10", |_| None).await;
    assert_eq!(ids, created, "in creation order, each once");
    // While walking, users are added and some not yet seen (and some seen) are deleted:
    // every user that exists throughout is seen exactly once.
    let to_delete = vec![created[3].clone(), created[17].clone(), created[22].clone()];
    let ids = walk(&s, "/Users?cursor=&count=10", |page| (page == 0).then(|| to_delete.clone())).await;
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        assert!(seen.insert(id.clone()), "{id} twice");
    }
    for id in created.iter().filter(|id| !to_delete.contains(id)) {
        assert!(seen.contains(id), "{id} skipped");
    }
    assert!(!seen.contains(&created[17]) && !seen.contains(&created[22]), "deleted before reached");
    assert_eq!(ids.len(), 10 + 13 + 3, "the first page, the 13 others left, and the 3 added during the walk");
    for i in 0..3 {
        s.create_user(&format!("late{i}")).await;
    }
    // A filter pages the same way; .search takes a cursor in its body.
    let r = s.get("/Users?filter=userName%20sw%20%22late%22&cursor=&count=2").await;
    assert_eq!((r.body["totalResults"].clone(), r.body["itemsPerPage"].clone()), (json!(3), json!(2)), "{}", r.body);
    let next = r.body["nextCursor"].as_str().unwrap();
    let r = s
        .post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "userName sw \"late\"", "cursor": next, "count": 2}),
        )
        .await;
    assert_eq!(r.body["itemsPerPage"], 1, "{}", r.body);
    assert!(r.body.get("nextCursor").is_none(), "the last page: {}", r.body);
    // Mistakes: a cursor not handed out, with startIndex, with sortBy.
    s.get("/Users?cursor=bm9wZQ").await.assert_error(400, Some("invalidCursor"));
    s.get("/Users?cursor=&startIndex=1").await.assert_error(400, Some("invalidValue"));
    s.get("/Users?cursor=&sortBy=userName").await.assert_error(400, Some("invalidValue"));
}
