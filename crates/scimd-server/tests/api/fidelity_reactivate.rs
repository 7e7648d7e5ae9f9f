//! The workflow platform deactivates a user on DELETE ("deleting (deactivating in
//! Bizagi) a user", document 002) and its identity provider creates the user again with
//! the next provisioning: that POST brings the user back (same id, active, updated with
//! the body) instead of a 409, and the go-live summary counts those DELETEs as
//! deactivations, not deletions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Resp, TestServer};

fn req(s: &TestServer, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    s.client.request(method, s.root(path)).bearer_auth(token).header("content-type", "application/scim+json")
}

async fn summary(s: &TestServer, op: &str, tenant: &str) -> Value {
    let from = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    let url = s.root(&format!("/admin/v1/tenants/{tenant}/audit/summary"));
    let r: Resp = s.send(s.client.get(url).query(&[("from", &from), ("to", &to)]).bearer_auth(op)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn a_deleted_workflow_user_posted_again_comes_back_with_its_id() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    s.preset_tenant(&op, "flow", "workflow").await;
    // The guide's OAuth application and token request.
    let app =
        crate::oauth::client(&s, &["flow"], &["client_credentials"], &["api", "usersync", "openid"], 1200, 3600).await;
    let r = s
        .post_form(
            "/oauth2/server/token",
            Some((&app.id, &app.secret)),
            &[("grant_type", "client_credentials"), ("scope", "api")],
        )
        .await;
    let token = r.body["access_token"].as_str().unwrap().to_string();

    // Create, then DEL [Project_URL]/scim/v2/Users/{userName}: deactivated.
    let pat =
        json!({"userName": "pat.lee@example.com", "name": {"givenName": "Pat"}, "title": "Clerk", "active": true});
    let created = s.send(req(&s, Method::POST, "/scim/v2/Users", &token).json(&pat)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let by_name = "/scim/v2/Users/pat.lee@example.com";
    for _ in 0..2 {
        let del = s.send(req(&s, Method::DELETE, by_name, &token)).await;
        assert_eq!(del.status, 204, "{}", del.body);
    }
    assert_eq!(s.send(req(&s, Method::GET, by_name, &token)).await.body["active"], false);

    // The next provisioning POSTs the user again: back, same id, with the new body.
    let again = json!({"userName": "Pat.Lee@example.com", "name": {"givenName": "Patricia"}, "displayName": "Pat Lee"});
    let back = s.send(req(&s, Method::POST, "/scim/v2/Users", &token).json(&again)).await;
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(back.body["id"], id.as_str());
    assert_eq!(back.body["active"], true);
    assert_eq!(back.body["name"]["givenName"], "Patricia");
    assert_eq!(back.body["displayName"], "Pat Lee");
    assert!(back.body.get("title").is_none(), "replaced by the body, as a PUT: {}", back.body);
    assert!(back.header("location").unwrap().ends_with(&format!("/Users/{id}")));
    let got = s.send(req(&s, Method::GET, &format!("/scim/v2/Users/{id}"), &token)).await;
    assert_eq!((got.body["active"].clone(), got.body["userName"].clone()), (json!(true), json!("Pat.Lee@example.com")));
    // An active user of that name is still a conflict.
    let dup = s.send(req(&s, Method::POST, "/scim/v2/Users", &token).json(&again)).await;
    dup.assert_error(409, Some("uniqueness"));

    // The go-live summary: two creates, two deactivations, no deletion.
    let sum = summary(&s, &op, "flow").await;
    let users = &sum["users"];
    assert_eq!(users["deleted"], 0, "{sum}");
    assert_eq!(users["deactivated"], 2, "{sum}");
    assert_eq!(users["created"], 2, "{sum}");
    assert_eq!(sum["deleted"], 0, "{sum}");
    assert_eq!(sum["errors"]["uniqueness"], 1, "{sum}");
}

/// Off by default: with DELETE as deactivation alone, a POST of the name is a 409.
#[tokio::test]
async fn without_the_switch_a_deactivated_users_name_stays_taken() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let url = s.root("/admin/v1/tenants/acme/profile");
    let set = s.send(s.client.put(&url).bearer_auth(&op).json(&json!({"delete_deactivates": true}))).await;
    assert_eq!(set.body["create_reactivates"], false, "{}", set.body);
    let u = s.create_user("kim").await;
    assert_eq!(s.delete(&format!("/Users/{}", u["id"].as_str().unwrap())).await.status, 204);
    let r = s.post("/Users", &json!({"userName": "kim"})).await;
    r.assert_error(409, Some("uniqueness"));
    let sum = summary(&s, &op, "acme").await;
    assert_eq!((sum["users"]["deleted"].clone(), sum["users"]["deactivated"].clone()), (json!(0), json!(1)), "{sum}");
}
