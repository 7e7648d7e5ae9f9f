//! Filters over HTTP: the RFC 7644 grammar, evaluated in SQL.

use serde_json::json;

use crate::common::{TestServer, enc, ids};

async fn seed(s: &TestServer) -> Vec<String> {
    let users = [
        json!({"userName": "bjensen", "displayName": "Babs Jensen", "title": "Tour Guide", "active": true,
               "externalId": "E1",
               "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                          {"value": "babs@home.org", "type": "home"}],
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "100", "department": "Tours"}}),
        json!({"userName": "jsmith", "displayName": "John Smith", "active": false, "externalId": "e2",
               "emails": [{"value": "jsmith@corp.example.com", "type": "home"},
                          {"value": "john@example.com", "type": "work"}],
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "200"}}),
        json!({"userName": "Zed", "active": true, "nickName": "zz",
               "addresses": [{"locality": "Oslo", "type": "work"}]}),
    ];
    let mut out = Vec::new();
    for u in users {
        let r = s.post("/Users", &u).await;
        assert_eq!(r.status, 201, "{}", r.body);
        out.push(r.body["id"].as_str().unwrap().to_string());
    }
    out
}

async fn find(s: &TestServer, filter: &str) -> Vec<String> {
    let r = s.get(&format!("/Users?filter={}", enc(filter))).await;
    assert_eq!(r.status, 200, "filter {filter}: {}", r.body);
    let mut v = ids(&r.body);
    assert_eq!(r.body["totalResults"].as_u64().unwrap() as usize, v.len(), "filter {filter}");
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn every_operator_and_combination() {
    let s = TestServer::start().await;
    let id = seed(&s).await;
    let (b, j, z) = (id[0].clone(), id[1].clone(), id[2].clone());
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("userName eq \"bjensen\"", vec![b.clone()]),
        ("USERNAME EQ \"BJENSEN\"", vec![b.clone()]),
        ("userName ne \"bjensen\"", sorted(vec![j.clone(), z.clone()])),
        ("userName co \"smi\"", vec![j.clone()]),
        ("userName sw \"bj\"", vec![b.clone()]),
        ("userName ew \"ED\"", vec![z.clone()]),
        ("userName gt \"c\"", sorted(vec![j.clone(), z.clone()])),
        ("userName ge \"jsmith\"", sorted(vec![j.clone(), z.clone()])),
        ("userName lt \"jsmith\"", vec![b.clone()]),
        ("userName le \"jsmith\"", sorted(vec![b.clone(), j.clone()])),
        ("title pr", vec![b.clone()]),
        ("not (title pr)", sorted(vec![j.clone(), z.clone()])),
        ("title eq null", sorted(vec![j.clone(), z.clone()])),
        ("active eq true", sorted(vec![b.clone(), z.clone()])),
        ("active eq false", vec![j.clone()]),
        ("externalId eq \"E1\"", vec![b.clone()]),
        ("externalId eq \"e1\"", vec![]),
        ("emails.value co \"example.com\"", sorted(vec![b.clone(), j.clone()])),
        ("emails eq \"babs@home.org\"", vec![b.clone()]),
        ("emails[type eq \"work\" and value co \"corp\"]", vec![]),
        ("emails[type eq \"home\" and value co \"corp\"]", vec![j.clone()]),
        ("emails[type eq \"work\"].value eq \"john@example.com\"", vec![j.clone()]),
        ("emails[not (type eq \"work\")]", sorted(vec![b.clone(), j.clone()])),
        ("name pr", vec![]),
        ("userName eq \"bjensen\" or userName eq \"Zed\"", sorted(vec![b.clone(), z.clone()])),
        ("active eq true and (nickName pr or title pr)", sorted(vec![b.clone(), z.clone()])),
        ("active eq true and not (nickName pr)", vec![b.clone()]),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"200\"", vec![j.clone()]),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr", vec![b.clone()]),
        ("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"jsmith\"", vec![j.clone()]),
        ("addresses[locality eq \"oslo\"]", vec![z.clone()]),
        (&*Box::leak(format!("id eq \"{b}\"").into_boxed_str()), vec![b.clone()]),
        ("meta.resourceType eq \"User\"", sorted(vec![b.clone(), j.clone(), z.clone()])),
        ("meta.created gt \"2000-01-01T00:00:00Z\"", sorted(vec![b.clone(), j.clone(), z.clone()])),
        ("meta.lastModified lt \"2000-01-01T00:00:00+01:00\"", vec![]),
        ("userName eq \"nobody-with-this-guid-0f8fad5b\"", vec![]),
    ];
    for (f, want) in cases {
        assert_eq!(find(&s, f).await, want, "filter: {f}");
    }
}

#[tokio::test]
async fn invalid_filters_are_400_invalid_filter_and_name_the_problem() {
    let s = TestServer::start().await;
    seed(&s).await;
    for f in [
        "userName eq",
        "userName equals \"x\"",
        "(userName eq \"x\"",
        "userName eq \"x\" and",
        "noSuchAttr eq \"x\"",
        "password eq \"x\"",
        "active gt true",
        "meta.created eq \"not a date\"",
        "userName eq \"unterminated",
        "emails[type eq \"work\"",
    ] {
        let r = s.get(&format!("/Users?filter={}", enc(f))).await;
        r.assert_error(400, Some("invalidFilter"));
    }
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(200), ")".repeat(200));
    s.get(&format!("/Users?filter={}", enc(&deep))).await.assert_error(400, Some("invalidFilter"));
}

#[tokio::test]
async fn post_search_matches_get() {
    let s = TestServer::start().await;
    let id = seed(&s).await;
    let r = s
        .post(
            "/Users/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "filter": "active eq true", "attributes": ["userName"], "sortBy": "userName",
                    "startIndex": 1, "count": 10}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), vec![id[0].clone(), id[2].clone()]);
    assert!(r.body["Resources"][0].get("emails").is_none());
    assert_eq!(r.body["Resources"][0]["userName"], "bjensen");

    let g = s.create_group("Tours", &[]).await;
    let r = s
        .post("/.search", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 100}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 4);
    assert!(ids(&r.body).contains(&g["id"].as_str().unwrap().to_string()));
}

/// Hostile filters are answered quickly and never with a 5xx: deep nesting,
/// long `or` chains, long strings, `co` on any attribute.
#[tokio::test]
async fn pathological_filters_are_bounded() {
    let s = TestServer::start().await;
    for i in 0..20 {
        s.create_user(&format!("p{i}")).await;
    }
    let deep = format!("{}userName eq \"p1\"{}", "(".repeat(5000), ")".repeat(5000));
    let chain = (0..3000).map(|i| format!("userName eq \"p{i}\"")).collect::<Vec<_>>().join(" or ");
    let long = format!("userName co \"{}\"", "a".repeat(20_000));
    let nots = format!("{}(userName pr)", "not ".repeat(3000));
    for (what, filter) in
        [("deep nesting", deep), ("a long or chain", chain), ("a long string", long), ("many nots", nots)]
    {
        let started = std::time::Instant::now();
        let r = s
            .post("/Users/.search", &serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter}))
            .await;
        assert!(r.status < 500, "{what}: {} {}", r.status, r.body);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{what} took {:?}", started.elapsed());
        if r.status != 200 {
            r.assert_error(r.status, r.body["scimType"].as_str());
        }
    }
    for attr in [
        "title",
        "emails.value",
        "name.givenName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ] {
        let r = s.get(&format!("/Users?filter={}", crate::common::enc(&format!("{attr} co \"zz\"")))).await;
        assert_eq!(r.status, 200, "{attr}: {}", r.body);
    }
}
