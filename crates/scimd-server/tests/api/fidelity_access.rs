//! Access to specific lockers (the locker system: "access for users to (specific lockers) is
//! controlled by a link between a specific user group and a locker"): an access link may
//! name one locker, as well as a whole bank, section or location, through the admin API;
//! a user's access shows the lockers granted one by one; a place's users are those with
//! access to the whole of it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Resp, TestServer};

/// `METHOD /admin/v1{path}` with the operator token and an optional JSON body.
async fn admin(s: &TestServer, op: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
    let mut rq = s.client.request(method, s.root(&format!("/admin/v1{path}"))).bearer_auth(op);
    if let Some(b) = body {
        rq = rq.json(&b);
    }
    s.send(rq).await
}

#[tokio::test]
async fn a_group_is_given_access_to_one_locker_through_the_admin_api() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    // The locker preset's tenant: groups are the operator's, set on users over SCIM.
    let preset = scimd_server::presets::preset("locker").unwrap();
    assert_eq!(admin(&s, &op, Method::PUT, "/tenants/acme/profile", Some(preset)).await.status, 200);
    let tree = json!({"locations": [{"key": "hq", "sections": [{"key": "s1", "banks": [
        {"key": "b1", "lockers": [{"key": "l1"}, {"key": "l2"}]}, {"key": "b2", "lockers": [{"key": "l3"}]}]}]}]});
    assert_eq!(admin(&s, &op, Method::PUT, "/tenants/acme/places", Some(tree)).await.status, 200);
    let mut groups = Vec::new();
    for name in ["Locker 2 only", "Floor 1"] {
        let g = admin(&s, &op, Method::POST, "/tenants/acme/groups", Some(json!({"displayName": name}))).await;
        assert_eq!(g.status, 201, "{}", g.body);
        groups.push(g.body["id"].as_str().unwrap().to_string());
    }
    let token = s.tenant_token("acme").await;
    for (user, group) in [("ada", &groups[0]), ("bob", &groups[1])] {
        let r = s
            .send(s.client.post(s.root("/api/users")).bearer_auth(&token).json(&json!({
                "userName": user, "groups": [{"value": group}]})))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    // One locker, then a whole section.
    let r =
        admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Locker 2 only", "locker": "l2"})))
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body, json!({"group": "Locker 2 only", "locker": "l2", "granted": true}));
    let again =
        admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Locker 2 only", "locker": "l2"})))
            .await;
    assert_eq!((again.status, again.body["granted"].clone()), (200, json!(false)));
    let r =
        admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Floor 1", "section": "s1"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Shown where a user's access is shown.
    let access = |user: &'static str| {
        let (s, op) = (&s, op.clone());
        async move { admin(s, &op, Method::GET, &format!("/tenants/acme/users/{user}/access"), None).await.body }
    };
    assert_eq!(access("ada").await, json!({"banks": [], "lockers": ["l2"]}));
    assert_eq!(access("bob").await, json!({"banks": ["b1", "b2"], "lockers": ["l1", "l2", "l3"]}));
    // And in the links, each under its level.
    let links = admin(&s, &op, Method::GET, "/tenants/acme/access", None).await.body;
    let shown: Vec<(Value, Value, Value)> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["group"].clone(), l["locker"].clone(), l["section"].clone()))
        .collect();
    assert_eq!(
        shown,
        vec![(json!("Locker 2 only"), json!("l2"), Value::Null), (json!("Floor 1"), Value::Null, json!("s1"))]
    );
    // Who may use a locker: linked to it or to a place above it.
    let users = admin(&s, &op, Method::GET, "/tenants/acme/places/lockers/l2/users", None).await;
    let names: Vec<&str> =
        users.body["users"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["ada", "bob"], "{}", users.body);
    let users = admin(&s, &op, Method::GET, "/tenants/acme/places/banks/b1/users", None).await;
    assert_eq!(users.body["totalResults"], 1, "the whole bank is bob's only: {}", users.body);

    // Mistakes are named.
    for (body, status, words) in [
        (json!({"group": "Floor 1"}), 400, "exactly one place"),
        (json!({"group": "Floor 1", "bank": "b1", "locker": "l1"}), 400, "exactly one place"),
        (json!({"group": "Floor 1", "locker": "b1"}), 404, "locker 'b1' not found"),
        (json!({"group": "Floor 1", "shelf": "x"}), 400, "shelf"),
    ] {
        let r = admin(&s, &op, Method::POST, "/tenants/acme/access", Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap_or_default().contains(words), "{body}: {}", r.body);
    }

    // Revoked one locker at a time; deleting a locker drops its links.
    let r =
        admin(&s, &op, Method::DELETE, "/tenants/acme/access", Some(json!({"group": "Locker 2 only", "locker": "l2"})))
            .await;
    assert_eq!(r.body, json!({"group": "Locker 2 only", "locker": "l2", "revoked": true}));
    assert_eq!(access("ada").await, json!({"banks": [], "lockers": []}));
    admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Locker 2 only", "locker": "l3"}))).await;
    assert_eq!(access("ada").await, json!({"banks": [], "lockers": ["l3"]}));
    let r = admin(&s, &op, Method::DELETE, "/tenants/acme/places/lockers/l3", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(access("ada").await, json!({"banks": [], "lockers": []}));
    assert_eq!(admin(&s, &op, Method::GET, "/tenants/acme/access", None).await.body.as_array().unwrap().len(), 1);
}
