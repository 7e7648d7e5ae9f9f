//! Deactivation finishes the job, over HTTP: when the identity provider deactivates or
//! deletes a user, the logins scimd issued to the API user of that name (password grant:
//! access tokens, JWT or opaque, and refresh tokens) stop working at once, no new login is
//! granted while the user is inactive, reactivation brings none of the old tokens back,
//! and the time each deactivation took is shown per tenant (admin API, metrics).

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::call;
use crate::common::{TestServer, patch_op};
use crate::oauth::{Client, api_user, client, password_login, refresh, str_of};

const PASSWORD: &str = "a long password 123";

/// A SCIM user `Pat.Lee` provisioned by the identity provider, and the API user
/// `pat.lee` (the same name as userNames compare) signed in with the password grant.
async fn signed_in(s: &TestServer) -> (String, Client, String, String) {
    let user = s.post("/Users", &json!({"userName": "Pat.Lee", "active": true})).await;
    assert_eq!(user.status, 201, "{}", user.body);
    let c = client(s, &["acme"], &["password"], &["scim"], 1200, 3600).await;
    api_user(s, "acme", "pat.lee", PASSWORD).await;
    let login = password_login(s, &c, "pat.lee", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let (access, refresh) = (str_of(&login, "access_token").to_string(), str_of(&login, "refresh_token").to_string());
    let me = s.get_as(&access, "/Me").await;
    assert_eq!((me.status, me.body["id"].clone()), (200, user.body["id"].clone()), "{}", me.body);
    (user.body["id"].as_str().unwrap().to_string(), c, access, refresh)
}

fn refused(r: &crate::common::Resp) {
    assert_eq!(r.status, 401, "{}", r.body);
}

async fn deactivations(s: &TestServer) -> Value {
    let op = s.operator_token().await;
    let r = call(s, Some(&op), Method::GET, "/tenants/acme/deactivations?days=1", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn a_user_deactivated_by_patch_loses_its_tokens_at_once_and_signs_in_again_when_active() {
    let s = TestServer::start().await;
    let (id, c, access, refresh_token) = signed_in(&s).await;
    let off = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(s.patch(&format!("/Users/{id}"), &off).await.status, 200);
    // At once: the access token (checked every time, never cached) and the refresh token.
    refused(&s.get_as(&access, "/Me").await);
    refused(&s.get_as(&access, "/Users").await);
    let r = refresh(&s, &c, &refresh_token).await;
    assert_eq!((r.status, r.body["error"].clone()), (400, json!("invalid_grant")), "{}", r.body);
    // No new login while inactive.
    let again = password_login(&s, &c, "pat.lee", PASSWORD).await;
    assert_eq!((again.status, again.body["error"].clone()), (400, json!("invalid_grant")), "{}", again.body);
    // Active again: a new login works, the old tokens stay dead.
    let on = patch_op(json!([{"op": "replace", "path": "active", "value": true}]));
    assert_eq!(s.patch(&format!("/Users/{id}"), &on).await.status, 200);
    refused(&s.get_as(&access, "/Me").await);
    assert_eq!(refresh(&s, &c, &refresh_token).await.status, 400);
    let fresh = password_login(&s, &c, "pat.lee", PASSWORD).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(s.get_as(str_of(&fresh, "access_token"), "/Me").await.status, 200);
    // The tenant's own (client) token is untouched.
    assert_eq!(s.get("/Users").await.status, 200);

    // Measured and shown: one deactivation, one login ended.
    let d = deactivations(&s).await;
    assert_eq!((d["count"].clone(), d["logins_ended"].clone()), (json!(1), json!(1)), "{d}");
    assert_eq!(d["recent"][0]["id"], id.as_str());
    assert!(d["median_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{d}");
    let op = s.operator_token().await;
    let text = s.client.get(s.root("/metrics")).bearer_auth(&op).send().await.unwrap().text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with("scimd_user_deactivation_seconds_count")).unwrap_or_default();
    assert!(line.ends_with(" 1"), "{line}\n{text}");
}

/// Opaque access tokens, and a PUT that deactivates.
#[tokio::test]
async fn opaque_tokens_end_with_a_put_that_deactivates() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let set = call(&s, Some(&op), Method::PUT, "/tenants/acme/profile", Some(json!({"opaque_access_tokens": true})));
    assert_eq!(set.await.status, 200);
    let (id, c, access, refresh_token) = signed_in(&s).await;
    assert!(!access.starts_with("eyJ"), "opaque: {access}");
    let put = s.put(&format!("/Users/{id}"), &json!({"userName": "Pat.Lee", "active": false})).await;
    assert_eq!(put.status, 200, "{}", put.body);
    refused(&s.get_as(&access, "/Me").await);
    assert_eq!(refresh(&s, &c, &refresh_token).await.status, 400);
}

/// A DELETE ends the logins too: whether the profile keeps the user (inactive) or deletes it.
#[tokio::test]
async fn a_delete_ends_the_users_logins_whether_it_deactivates_or_deletes() {
    for profile in [json!({"delete_deactivates": true}), json!({})] {
        let s = TestServer::start().await;
        let op = s.operator_token().await;
        assert_eq!(call(&s, Some(&op), Method::PUT, "/tenants/acme/profile", Some(profile.clone())).await.status, 200);
        let (id, c, access, refresh_token) = signed_in(&s).await;
        assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204, "{profile}");
        refused(&s.get_as(&access, "/Me").await);
        assert_eq!(refresh(&s, &c, &refresh_token).await.status, 400, "{profile}");
        let d = deactivations(&s).await;
        assert_eq!((d["count"].clone(), d["logins_ended"].clone()), (json!(1), json!(1)), "{profile}: {d}");
    }
}

/// A tenant's deactivations are its own, and the window is checked.
#[tokio::test]
async fn the_deactivation_view_is_per_tenant_and_checks_its_window() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let other = s.tenant_token("globex").await;
    let u = s.post_as(&other, "/Users", &json!({"userName": "gus"})).await;
    let off = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(s.patch_as(&other, &format!("/Users/{}", u.body["id"].as_str().unwrap()), &off).await.status, 200);
    assert_eq!(deactivations(&s).await["count"], 0);
    let g = call(&s, Some(&op), Method::GET, "/tenants/globex/deactivations", None).await;
    assert_eq!((g.status, g.body["count"].clone(), g.body["logins_ended"].clone()), (200, json!(1), json!(0)));
    let bad = call(&s, Some(&op), Method::GET, "/tenants/acme/deactivations?days=0", None).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}
