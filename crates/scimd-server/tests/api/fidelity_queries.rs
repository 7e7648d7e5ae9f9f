//! Query parameters: one an endpoint does not know is refused (400 `invalidValue`, naming
//! it and what the endpoint accepts) on every SCIM endpoint, never ignored — a lookup
//! answered with every user would look like an answer; the standard parameters and what
//! Entra ID and Okta send still work; and a profile may read simple
//! attribute names as equality filters, as the locker preset does for its guide's
//! "GET /users call with a username".

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{TestServer, enc};

fn detail(v: &Value) -> &str {
    v["detail"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn an_unknown_query_parameter_is_refused_on_every_scim_endpoint() {
    let s = TestServer::start().await;
    let ada = s.create_user("ada").await;
    s.create_user("bob").await;
    let id = ada["id"].as_str().unwrap();
    let group = s.create_group("Staff", &[id]).await;
    let gid = group["id"].as_str().unwrap();

    // The lookup that used to answer with every user.
    let r = s.get("/Users?userName=ada").await;
    r.assert_error(400, Some("invalidValue"));
    assert!(detail(&r.body).contains("unknown query parameter 'userName'"), "{}", r.body);
    assert!(detail(&r.body).contains("filter, sortBy, sortOrder, startIndex, count"), "{}", r.body);
    assert!(detail(&r.body).contains("filter=userName eq"), "the detail says what to send: {}", r.body);

    // Every other endpoint, for every method: refused, and nothing changed.
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "carol"});
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []});
    let cases: Vec<(Method, String, Option<Value>, &str)> = vec![
        (Method::GET, format!("/Users/{id}?force=1"), None, "accepts attributes, excludedAttributes"),
        (Method::HEAD, "/Groups?members=x".into(), None, ""),
        (Method::POST, "/Users?upsert=true".into(), Some(body.clone()), "accepts attributes, excludedAttributes"),
        (Method::PUT, format!("/Users/{id}?x=1"), Some(body.clone()), "accepts attributes"),
        (Method::PATCH, format!("/Users/{id}?count=1"), Some(json!({})), "accepts attributes"),
        (Method::DELETE, format!("/Users/{id}?hard=true"), None, "takes no query parameters"),
        (Method::DELETE, format!("/Groups/{gid}?attributes=id"), None, "takes no query parameters"),
        (Method::POST, "/Users/.search?filter=x".into(), Some(search.clone()), "takes no query parameters"),
        (Method::POST, "/.search?x=1".into(), Some(search), "takes no query parameters"),
        (Method::POST, "/Bulk?failOnErrors=1".into(), Some(bulk), "takes no query parameters"),
        (Method::GET, "/Schemas?type=User".into(), None, "accepts filter"),
        (Method::GET, "/ResourceTypes/User?x=1".into(), None, "accepts filter"),
        (Method::GET, "/ServiceProviderConfig?v=2".into(), None, "accepts filter"),
    ];
    for (method, path, body, words) in cases {
        let mut rq = s.req(method.clone(), &path);
        if let Some(b) = &body {
            rq = rq.json(b);
        }
        let r = s.send(rq).await;
        assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
        if method != Method::HEAD {
            r.assert_error(400, Some("invalidValue"));
            assert!(detail(&r.body).contains(words), "{method} {path}: {}", r.body);
        }
    }
    let all = s.get("/Users").await;
    assert_eq!(all.body["totalResults"], 2, "nothing created or deleted: {}", all.body);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["userName"], "ada");
    assert_eq!(s.get(&format!("/Groups/{gid}")).await.status, 200);

    // What the RFC and the identity providers send still works, names in any case.
    for path in [
        format!("/Users?filter={}&startIndex=1&count=100", enc("userName eq \"ada\"")),
        "/Users?startIndex=1&count=2".into(),
        format!("/Groups?excludedAttributes=members&filter={}", enc("displayName eq \"Staff\"")),
        format!("/Groups/{gid}?excludedAttributes=members"),
        "/Users?sortBy=userName&sortOrder=descending&attributes=userName".into(),
        "/Users?cursor=&count=1".into(),
        format!("/Users?FILTER={}&Count=5", enc("userName eq \"bob\"")),
        format!("/Users/{id}?attributes=userName"),
        "/ServiceProviderConfig".into(),
        "/Schemas?startIndex=1&count=10".into(),
    ] {
        let r = s.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    // Without the profile's switch, an attribute name is unknown like any other.
    let r = s.get("/Users?externalId=x").await;
    r.assert_error(400, Some("invalidValue"));
}

/// The locker system's guide: "Client retrieves the user … by using the GET /users call
/// with a username. This will return the single user entity if it exists."
#[tokio::test]
async fn the_locker_preset_looks_a_user_up_by_the_user_name_as_a_query_parameter() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let admin = |method: Method, path: &str, body: Value| {
        s.client.request(method, s.root(&format!("/admin/v1{path}"))).bearer_auth(&op).json(&body)
    };
    let t = s.send(admin(Method::POST, "/tenants", json!({"name": "harbour", "preset": "locker"}))).await;
    assert_eq!(t.status, 201, "{}", t.body);
    let tok = s.send(admin(Method::POST, "/tenants/harbour/tokens", json!({}))).await;
    let token = tok.body["token"].as_str().unwrap().to_string();
    let call = |method: Method, path: &str| {
        s.client.request(method, s.root(path)).bearer_auth(&token).header("content-type", "application/scim+json")
    };
    let mut ids = Vec::new();
    for (name, active) in [("ada.l", true), ("bob.k", true), ("carl.m", false)] {
        let u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name,
                       "name": {"givenName": "G", "familyName": "F"}, "active": active,
                       "emails": [{"value": format!("{name}@harbour.example"), "type": "work"}]});
        let r = s.send(call(Method::POST, "/api/users").json(&u)).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }

    // The guide's request: the single user when it exists (userName matches caselessly).
    let r = s.send(call(Method::GET, "/api/users?userName=ada.l")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    assert_eq!(r.body["Resources"][0]["id"], ids[0].as_str());
    let r = s.send(call(Method::GET, "/api/users?username=ADA.L")).await;
    assert_eq!(r.body["Resources"][0]["id"], ids[0].as_str(), "{}", r.body);
    // None when it does not: an empty list, never every user.
    let r = s.send(call(Method::GET, "/api/users?userName=nobody")).await;
    assert_eq!((r.status, r.body["totalResults"].clone()), (200, json!(0)), "{}", r.body);
    // With a filter too, both must match; booleans and sub-attributes work alike.
    let both = format!("/api/users?userName=carl.m&filter={}", enc("active eq true"));
    assert_eq!(s.send(call(Method::GET, &both)).await.body["totalResults"], 0);
    let r = s.send(call(Method::GET, "/api/users?active=false&name.givenName=G")).await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    assert_eq!(r.body["Resources"][0]["id"], ids[2].as_str());
    // The badges extension's attributes are attributes too.
    let r = s.send(call(Method::GET, "/api/users?urn:scimd:schemas:extension:locker:1.0:User:badges.value=04A1")).await;
    assert_eq!((r.status, r.body["totalResults"].clone()), (200, json!(0)), "{}", r.body);
    // A name that is no simple attribute is still refused.
    for path in ["/api/users?user=ada.l", "/api/users?name=ada", "/api/groups?members=x"] {
        let r = s.send(call(Method::GET, path)).await;
        r.assert_error(400, Some("invalidValue"));
        assert!(detail(&r.body).contains("unknown query parameter"), "{path}: {}", r.body);
    }
    // Only lists read them: a parameter on one user is refused as elsewhere.
    let r = s.send(call(Method::GET, &format!("/api/users/{}?userName=ada.l", ids[0]))).await;
    r.assert_error(400, Some("invalidValue"));
}
