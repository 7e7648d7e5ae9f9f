//! Re-provisioning over HTTP: a deleted resource answers 404 everywhere while its name is
//! free again; with the profile's `reprovision: "restore"` a POST of the same externalId
//! (or, without one, the same userName or displayName) brings a deleted or deactivated
//! resource back under its id, once even when POSTs race; off (the default) it makes a
//! new resource, or answers 409 for a deactivated user's name.

use chrono::{TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::call;
use crate::common::{TestServer, patch_op};

async fn set_profile(s: &TestServer, profile: Value) -> Value {
    let op = s.operator_token().await;
    let r = call(s, Some(&op), Method::PUT, "/tenants/acme/profile", Some(profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

/// The operations of the tenant's audit events, oldest first.
async fn ops(s: &TestServer) -> Vec<String> {
    let op = s.operator_token().await;
    let r = call(s, Some(&op), Method::GET, "/tenants/acme/audit/events?limit=100", None).await;
    let mut v: Vec<(String, String)> = r
        .body
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.body))
        .iter()
        .map(|e| (e["time"].as_str().unwrap_or("").to_string(), e["op"].as_str().unwrap_or("").to_string()))
        .collect();
    v.sort();
    v.into_iter().map(|(_, op)| op).collect()
}

#[tokio::test]
async fn a_deleted_user_answers_404_everywhere_and_comes_back_by_external_id() {
    let s = TestServer::start().await;
    let profile = set_profile(&s, json!({"reprovision": "restore"})).await;
    assert_eq!(
        (profile["reprovision"].clone(), profile["create_reactivates"].clone()),
        (json!("restore"), json!(true))
    );
    let ann = json!({"userName": "ann", "externalId": "entra-1", "title": "Clerk"});
    let created = s.post("/Users", &ann).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = id_of(&created.body);
    let old_etag = created.header("etag").unwrap().to_string();
    assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204);

    // Gone: every operation on the id is 404, and no list or filter finds it.
    let path = format!("/Users/{id}");
    assert_eq!(s.get(&path).await.status, 404);
    s.put(&path, &json!({"userName": "ann"})).await.assert_error(404, None);
    s.patch(&path, &patch_op(json!([{"op": "replace", "path": "title", "value": "x"}]))).await.assert_error(404, None);
    assert_eq!(s.delete(&path).await.status, 404);
    for filter in ["userName eq \"ann\"", "externalId eq \"entra-1\""] {
        let r = s.send(s.req(Method::GET, "/Users").query(&[("filter", filter)])).await;
        assert_eq!(r.body["totalResults"], 0, "{filter}: {}", r.body);
    }
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);

    // Sent again under another name with the same externalId: back under its id, as sent.
    let back = s.post("/Users", &json!({"userName": "ann.lee", "externalId": "entra-1"})).await;
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(id_of(&back.body), id);
    assert!(back.header("location").unwrap().ends_with(&path));
    assert_eq!(back.body["userName"], "ann.lee");
    assert!(back.body.get("title").is_none(), "the body as POSTed: {}", back.body);
    assert_ne!(back.header("etag").unwrap(), old_etag, "an ETag of before the deletion never matches again");
    assert_eq!(back.body["meta"]["created"], created.body["meta"]["created"], "first created then");
    let got = s.get(&path).await;
    assert_eq!((got.status, got.body["userName"].clone()), (200, json!("ann.lee")));
    let stale = s.send(s.req(Method::PUT, &path).header("if-match", &old_etag).json(&json!({"userName": "ann"}))).await;
    stale.assert_error(412, None);
    assert_eq!(ops(&s).await.iter().filter(|o| *o == "restore").count(), 1, "{:?}", ops(&s).await);
    // The go-live summary counts what the client did: two creates, one deletion.
    let op = s.operator_token().await;
    let (from, to) = (Utc::now() - TimeDelta::hours(1), Utc::now() + TimeDelta::hours(1));
    let path =
        format!("/tenants/acme/audit/summary?from={}&to={}", from.to_rfc3339(), to.to_rfc3339()).replace('+', "%2B");
    let sum = call(&s, Some(&op), Method::GET, &path, None).await;
    assert_eq!(
        (sum.body["users"]["created"].clone(), sum.body["users"]["deleted"].clone()),
        (json!(2), json!(1)),
        "{}",
        sum.body
    );
}

#[tokio::test]
async fn without_an_external_id_the_user_name_brings_the_deleted_user_back() {
    let s = TestServer::start().await;
    set_profile(&s, json!({"reprovision": "restore"})).await;
    let id = id_of(&s.create_user("bo").await);
    assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204);
    let back = s.post("/Users", &json!({"userName": "BO", "name": {"givenName": "Bo"}})).await;
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(id_of(&back.body), id);
    // Brought back once: the tombstone is gone, an active user of that name is a 409.
    s.post("/Users", &json!({"userName": "bo"})).await.assert_error(409, Some("uniqueness"));
}

/// Off, the default: a deleted user's name (and externalId) are free again for anyone,
/// and a POST makes a new user; the deleted id stays 404.
#[tokio::test]
async fn off_by_default_deleted_names_are_free_and_a_post_makes_a_new_id() {
    let s = TestServer::start().await;
    let first = s.post("/Users", &json!({"userName": "cy", "externalId": "ext-cy"})).await;
    let id = id_of(&first.body);
    assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204);
    let other = s.post("/Users", &json!({"userName": "cy", "externalId": "ext-cy"})).await;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(id_of(&other.body), id);
    assert_eq!(s.get(&format!("/Users/{id}")).await.status, 404);
    // A deactivated user's name stays taken.
    let p = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(s.patch(&format!("/Users/{}", id_of(&other.body)), &p).await.status, 200);
    s.post("/Users", &json!({"userName": "cy"})).await.assert_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn a_deactivated_user_sent_again_is_reactivated_by_external_id_or_user_name() {
    let s = TestServer::start().await;
    set_profile(&s, json!({"reprovision": "restore"})).await;
    let dee = s.post("/Users", &json!({"userName": "dee", "externalId": "okta-9", "active": true})).await;
    let id = id_of(&dee.body);
    let off = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(s.patch(&format!("/Users/{id}"), &off).await.status, 200);
    // Renamed at the identity provider meanwhile: found by its externalId.
    let back = s.post("/Users", &json!({"userName": "dee.new", "externalId": "okta-9"})).await;
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!((id_of(&back.body), back.body["active"].clone()), (id.clone(), json!(true)));
    // Deactivated again and sent by userName alone.
    assert_eq!(s.patch(&format!("/Users/{id}"), &off).await.status, 200);
    let again = s.post("/Users", &json!({"userName": "dee.new"})).await;
    assert_eq!((again.status, id_of(&again.body)), (201, id.clone()));
    // Active: a conflict, as any taken name.
    s.post("/Users", &json!({"userName": "dee.new", "externalId": "okta-9"}))
        .await
        .assert_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn a_deleted_group_comes_back_with_the_members_its_body_names() {
    let s = TestServer::start().await;
    set_profile(&s, json!({"reprovision": "restore"})).await;
    let u = id_of(&s.create_user("eve").await);
    let g = s.post("/Groups", &json!({"displayName": "Ops", "externalId": "grp-1", "members": [{"value": u}]})).await;
    let gid = id_of(&g.body);
    assert_eq!(s.delete(&format!("/Groups/{gid}")).await.status, 204);
    assert_eq!(s.get(&format!("/Groups/{gid}")).await.status, 404);
    let back = s.post("/Groups", &json!({"displayName": "Operations", "externalId": "grp-1"})).await;
    assert_eq!((back.status, id_of(&back.body)), (201, gid.clone()), "{}", back.body);
    assert!(back.body["members"].as_array().is_none_or(|m| m.is_empty()), "{}", back.body);
    // By displayName when no externalId is sent.
    assert_eq!(s.delete(&format!("/Groups/{gid}")).await.status, 204);
    let by_name = s.post("/Groups", &json!({"displayName": "operations", "members": [{"value": u}]})).await;
    assert_eq!((by_name.status, id_of(&by_name.body)), (201, gid.clone()), "{}", by_name.body);
    assert_eq!(by_name.body["members"][0]["value"], u.as_str());
}

/// Two POSTs of one deleted user at once bring it back once: one 201 with the old id,
/// the others 409 (the user exists again), never a second user.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_posts_of_a_deleted_user_restore_it_once() {
    let s = std::sync::Arc::new(TestServer::start().await);
    set_profile(&s, json!({"reprovision": "restore"})).await;
    let id = id_of(&s.post("/Users", &json!({"userName": "flo", "externalId": "x-flo"})).await.body);
    assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204);
    let mut handles = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            s.post("/Users", &json!({"userName": "flo", "externalId": "x-flo"})).await
        }));
    }
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    let created: Vec<_> = answers.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 1, "{:?}", answers.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    assert_eq!(id_of(&created[0].body), id);
    for r in answers.iter().filter(|r| r.status != 201) {
        r.assert_error(409, Some("uniqueness"));
    }
    let list = s.send(s.req(Method::GET, "/Users").query(&[("filter", "userName eq \"flo\"")])).await;
    assert_eq!((list.body["totalResults"].clone(), list.body["Resources"][0]["id"].clone()), (json!(1), json!(id)));
}

#[tokio::test]
async fn the_setting_is_validated_and_the_earlier_name_still_loads() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let bad = call(&s, Some(&op), Method::PUT, "/tenants/acme/profile", Some(json!({"reprovision": "always"}))).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body["detail"].as_str().unwrap().contains("`off`, `reactivate`, `restore`"), "{}", bad.body);
    let old = set_profile(&s, json!({"create_reactivates": true})).await;
    assert_eq!((old["reprovision"].clone(), old["create_reactivates"].clone()), (json!("reactivate"), json!(true)));
    // `reactivate` brings an inactive user back by userName, and nothing deleted.
    let id = id_of(&s.post("/Users", &json!({"userName": "gil", "active": false})).await.body);
    assert_eq!(id_of(&s.post("/Users", &json!({"userName": "gil"})).await.body), id);
    assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204);
    assert_ne!(id_of(&s.post("/Users", &json!({"userName": "gil"})).await.body), id);
}
