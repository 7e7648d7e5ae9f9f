//! The built-in OAuth 2.0 authorization server over HTTP: each grant, each error,
//! refresh rotation and family revocation, expiry on a manual clock, scopes, tenant
//! isolation, revocation, introspection, lockout, keys and discovery.

use std::time::Duration;

use base64::Engine;
use chrono::{TimeDelta, Utc};
use scimd_server::oauth::OAuthConfig;
use scimd_store::NewClient;
use serde_json::{Value, json};

use crate::common::{Options, Resp, TestServer, enc};

/// A clock a second ahead, so a key created with it is the newest.
struct LaterClock;
impl scimd_server::clock::Clock for LaterClock {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + TimeDelta::seconds(1)
    }
}

pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: String,
}

/// Creates an OAuth client in the store, as `scimd client create` does.
pub(crate) async fn client(
    s: &TestServer,
    tenants: &[&str],
    grants: &[&str],
    scopes: &[&str],
    access: i64,
    refresh: i64,
) -> Client {
    let mut ids = Vec::new();
    for t in tenants {
        let t = match s.store.tenant_by_name(t).await.unwrap() {
            Some(t) => t,
            None => s.store.create_tenant(t, true, Utc::now()).await.unwrap(),
        };
        ids.push(t.id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let secret = scimd_server::auth::generate_client_secret();
    let mut grant_types: Vec<String> = grants.iter().map(|g| g.to_string()).collect();
    if grants.contains(&"password") {
        grant_types.push("refresh_token".into());
    }
    s.store
        .create_client(
            NewClient {
                client_id: id.clone(),
                secret_hash: Some(scimd_server::hashing::hash(secret.clone()).await.unwrap()),
                secret_expires: None,
                grant_types,
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                access_ttl_secs: access,
                refresh_ttl_secs: refresh,
                refresh_expiry: None,
                tenants: ids,
                keys: Default::default(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    Client { id, secret }
}

pub(crate) async fn api_user(s: &TestServer, tenant: &str, username: &str, password: &str) {
    let t = match s.store.tenant_by_name(tenant).await.unwrap() {
        Some(t) => t,
        None => s.store.create_tenant(tenant, true, Utc::now()).await.unwrap(),
    };
    let hash = scimd_server::hashing::hash(password.to_string()).await.unwrap();
    s.store.create_api_user(t.id, username, hash, Utc::now()).await.unwrap();
}

pub(crate) async fn manual() -> TestServer {
    TestServer::start_with(Options { manual_clock: true, ..Options::default() }).await
}

pub(crate) fn advance(s: &TestServer, secs: i64) {
    s.clock.as_ref().expect("manual clock").advance(TimeDelta::seconds(secs));
}

pub(crate) async fn cc_token(s: &TestServer, c: &Client, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    s.post_form("/oauth2/token", Some((&c.id, &c.secret)), &form).await
}

pub(crate) async fn password_login(s: &TestServer, c: &Client, user: &str, password: &str) -> Resp {
    s.post_form(
        "/oauth2/token",
        Some((&c.id, &c.secret)),
        &[("grant_type", "password"), ("username", user), ("password", password)],
    )
    .await
}

pub(crate) async fn refresh(s: &TestServer, c: &Client, token: &str) -> Resp {
    s.post_form("/oauth2/token", Some((&c.id, &c.secret)), &[("grant_type", "refresh_token"), ("refresh_token", token)])
        .await
}

pub(crate) fn str_of<'a>(r: &'a Resp, field: &str) -> &'a str {
    r.body[field].as_str().unwrap_or_else(|| panic!("no {field} in {}", r.body))
}

#[track_caller]
pub(crate) fn assert_oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
    assert!(r.body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    if status == 401 {
        assert!(r.header("www-authenticate").unwrap().starts_with("Basic"), "{:?}", r.headers);
    }
}

#[track_caller]
pub(crate) fn assert_invalid_token(r: &Resp) {
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").unwrap().contains("error=\"invalid_token\""), "{:?}", r.headers);
}

fn jwt_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn client_credentials_with_basic_or_form_auth_gives_a_signed_jwt_that_opens_scim() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["client_credentials"], &["scim"], 1200, 3600).await;
    let r = cc_token(&s, &c, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 1200);
    assert_eq!(r.body["scope"], "scim");
    assert!(r.body.get("refresh_token").is_none(), "no refresh token for client credentials: {}", r.body);
    assert!(r.body.get("http_status_code").is_none(), "only for a profile asking for it: {}", r.body);
    let token = str_of(&r, "access_token").to_string();

    let header = jwt_part(&token, 0);
    assert_eq!(header["alg"], "EdDSA");
    let claims = jwt_part(&token, 1);
    assert_eq!(claims["client_id"], c.id.as_str());
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(claims["scope"], "scim");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 1200);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    // The key that signed it is published.
    let jwks = s.send(s.client.get(s.root("/.well-known/jwks.json"))).await;
    assert_eq!(jwks.status, 200);
    let keys = jwks.body["keys"].as_array().unwrap();
    assert!(
        keys.iter().any(|k| k["kid"] == header["kid"] && k["kty"] == "OKP" && k["crv"] == "Ed25519"),
        "{}",
        jwks.body
    );

    let created = s.post_as(&token, "/Users", &json!({"userName": "via.jwt"})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let r = s.get_as(&token, &format!("/Users?filter={}", enc("userName eq \"via.jwt\""))).await;
    assert_eq!(r.body["totalResults"], 1);
    // The long-lived token of the same tenant sees the same data.
    assert_eq!(s.get(&format!("/Users?filter={}", enc("userName eq \"via.jwt\""))).await.body["totalResults"], 1);

    // Client authentication by form fields.
    let r = s
        .post_form(
            "/oauth2/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &c.id), ("client_secret", &c.secret)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Both at once is refused.
    let r = s
        .post_form(
            "/oauth2/token",
            Some((&c.id, &c.secret)),
            &[("grant_type", "client_credentials"), ("client_id", &c.id), ("client_secret", &c.secret)],
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["client_credentials"], &["scim:read"], 3600, 3600).await;
    let wrong = Client { id: c.id.clone(), secret: "not-the-secret".into() };
    assert_oauth_error(&cc_token(&s, &wrong, &[]).await, 401, "invalid_client");
    let unknown = Client { id: "no-such-client".into(), secret: c.secret.clone() };
    assert_oauth_error(&cc_token(&s, &unknown, &[]).await, 401, "invalid_client");
    assert_oauth_error(
        &s.post_form("/oauth2/token", None, &[("grant_type", "client_credentials")]).await,
        401,
        "invalid_client",
    );
    let r = s.send(s.client.post(s.root("/oauth2/token")).basic_auth("x", Some("y")).body("{}")).await;
    assert_oauth_error(&r, 400, "invalid_request");
    assert_oauth_error(&s.post_form("/oauth2/token", Some((&c.id, &c.secret)), &[]).await, 400, "invalid_request");
    assert_oauth_error(
        &s.post_form("/oauth2/token", Some((&c.id, &c.secret)), &[("grant_type", "authorization_code")]).await,
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(&cc_token(&s, &c, &[("scope", "scim")]).await, 400, "invalid_scope");
    assert_oauth_error(&password_login(&s, &c, "someone", "whatever-password").await, 400, "unauthorized_client");
    assert_oauth_error(&refresh(&s, &c, "scimd_rt_nope").await, 400, "unauthorized_client");
    let body = "grant_type=client_credentials&grant_type=password";
    let r = s
        .send(
            s.client
                .post(s.root("/oauth2/token"))
                .basic_auth(&c.id, Some(&c.secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_request");
    // Still fine afterwards.
    assert_eq!(cc_token(&s, &c, &[("scope", "scim:read")]).await.status, 200);
}

#[tokio::test]
async fn password_grant_refresh_rotation_and_family_revocation_on_replay() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme", "globex"], &["password"], &["scim"], 1200, 900).await;
    api_user(&s, "acme", "svc-acme", "acme password 123").await;
    api_user(&s, "globex", "svc-globex", "globex password 123").await;

    assert_oauth_error(&password_login(&s, &c, "svc-acme", "wrong password").await, 400, "invalid_grant");
    assert_oauth_error(&password_login(&s, &c, "nobody", "acme password 123").await, 400, "invalid_grant");
    let r = s
        .post_form("/oauth2/token", Some((&c.id, &c.secret)), &[("grant_type", "password"), ("username", "svc-acme")])
        .await;
    assert_oauth_error(&r, 400, "invalid_request");

    let login = password_login(&s, &c, "svc-acme", "acme password 123").await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["expires_in"], 1200);
    let access = str_of(&login, "access_token").to_string();
    let rt1 = str_of(&login, "refresh_token").to_string();
    assert_eq!(jwt_part(&access, 1)["tenant"], "acme");
    assert_eq!(jwt_part(&access, 1)["sub"], "svc-acme");
    assert_eq!(s.post_as(&access, "/Users", &json!({"userName": "acme.only"})).await.status, 201);

    // One client reaches a second tenant through that tenant's API user.
    let other = password_login(&s, &c, "svc-globex", "globex password 123").await;
    let other_access = str_of(&other, "access_token").to_string();
    assert_eq!(jwt_part(&other_access, 1)["tenant"], "globex");
    assert_eq!(
        s.get_as(&other_access, &format!("/Users?filter={}", enc("userName eq \"acme.only\""))).await.body["totalResults"],
        0
    );

    // Rotation: a new refresh token each time; the old one is spent.
    let r2 = refresh(&s, &c, &rt1).await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    let rt2 = str_of(&r2, "refresh_token").to_string();
    let access2 = str_of(&r2, "access_token").to_string();
    assert_ne!(rt2, rt1);
    assert_eq!(s.get_as(&access2, "/Users").await.status, 200);
    let r3 = refresh(&s, &c, &rt2).await;
    let rt3 = str_of(&r3, "refresh_token").to_string();
    let access3 = str_of(&r3, "access_token").to_string();

    // Replaying a spent token revokes the whole family: the newest refresh token and the
    // access tokens of the family stop working; the other login is untouched.
    assert_oauth_error(&refresh(&s, &c, &rt1).await, 400, "invalid_grant");
    assert_oauth_error(&refresh(&s, &c, &rt3).await, 400, "invalid_grant");
    assert_invalid_token(&s.get_as(&access3, "/Users").await);
    assert_invalid_token(&s.get_as(&access, "/Users").await);
    assert_eq!(s.get_as(&other_access, "/Users").await.status, 200);

    // Another client cannot use this client's refresh token.
    let c2 = client(&s, &["acme"], &["password"], &["scim"], 1200, 900).await;
    let fresh = password_login(&s, &c, "svc-acme", "acme password 123").await;
    assert_oauth_error(&refresh(&s, &c2, str_of(&fresh, "refresh_token")).await, 400, "invalid_grant");
    // An API user of a tenant the client cannot reach gets nothing.
    api_user(&s, "initech", "svc-initech", "initech password 1").await;
    assert_oauth_error(&password_login(&s, &c, "svc-initech", "initech password 1").await, 400, "invalid_grant");
    // A disabled API user can neither log in nor refresh.
    let acme = s.store.tenant_by_name("acme").await.unwrap().unwrap();
    s.store.set_api_user_disabled(acme.id, "svc-acme", true, Utc::now()).await.unwrap();
    assert_oauth_error(&refresh(&s, &c, str_of(&fresh, "refresh_token")).await, 400, "invalid_grant");
    assert_oauth_error(&password_login(&s, &c, "svc-acme", "acme password 123").await, 400, "invalid_grant");
}

#[tokio::test]
async fn access_and_refresh_tokens_expire_on_the_clock() {
    let s = manual().await;
    let c = client(&s, &["acme"], &["password", "client_credentials"], &["scim"], 1200, 900).await;
    api_user(&s, "acme", "svc", "a long password 1").await;
    let login = password_login(&s, &c, "svc", "a long password 1").await;
    let access = str_of(&login, "access_token").to_string();
    let rt = str_of(&login, "refresh_token").to_string();
    assert_eq!(s.get_as(&access, "/Users").await.status, 200);
    advance(&s, 1199);
    assert_eq!(s.get_as(&access, "/Users").await.status, 200, "valid until its last second (and cached)");
    advance(&s, 1);
    // Expired: 401 with the Bearer challenge and a SCIM body, even though it was cached.
    assert_invalid_token(&s.get_as(&access, "/Users").await);

    // The refresh token (15 minutes) expired too: log in again.
    assert_oauth_error(&refresh(&s, &c, &rt).await, 400, "invalid_grant");
    let login = password_login(&s, &c, "svc", "a long password 1").await;
    let rt = str_of(&login, "refresh_token").to_string();
    advance(&s, 899);
    let r = refresh(&s, &c, &rt).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Each rotation starts a new lifetime.
    let rt = str_of(&r, "refresh_token").to_string();
    advance(&s, 899);
    assert_eq!(refresh(&s, &c, &rt).await.status, 200);

    // Client credentials tokens (15 minutes) too.
    let c15 = client(&s, &["acme"], &["client_credentials"], &["scim"], 900, 900).await;
    let t = cc_token(&s, &c15, &[]).await;
    let t = str_of(&t, "access_token").to_string();
    assert_eq!(s.get_as(&t, "/Users").await.status, 200);
    advance(&s, 900);
    assert_invalid_token(&s.get_as(&t, "/Users").await);
}

#[tokio::test]
async fn tampered_foreign_and_unsigned_tokens_are_401() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["client_credentials"], &["scim:read"], 3600, 3600).await;
    let t = cc_token(&s, &c, &[]).await;
    let token = str_of(&t, "access_token").to_string();
    let parts: Vec<&str> = token.split('.').collect();
    // Widen the scope in the payload, keep the signature.
    let mut claims = jwt_part(&token, 1);
    claims["scope"] = json!("scim");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forged = format!("{}.{}.{}", parts[0], b64.encode(claims.to_string()), parts[2]);
    assert_invalid_token(&s.post_as(&forged, "/Users", &json!({"userName": "x"})).await);
    // `alg: none` with no signature.
    let none = format!("{}.{}.", b64.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    assert_invalid_token(&s.get_as(&none, "/Users").await);
    // A flipped signature byte.
    let mut sig = b64.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], b64.encode(sig));
    assert_invalid_token(&s.get_as(&flipped, "/Users").await);
    // The genuine token still works.
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
}

#[tokio::test]
async fn scopes_gate_reads_and_writes() {
    let s = TestServer::start().await;
    let u = s.create_user("existing").await;
    let id = u["id"].as_str().unwrap();
    let c = client(&s, &["acme"], &["client_credentials"], &["scim", "scim:read", "scim:write", "openid"], 3600, 3600)
        .await;

    let read = cc_token(&s, &c, &[("scope", "scim:read")]).await;
    assert_eq!(read.body["scope"], "scim:read");
    let read = str_of(&read, "access_token").to_string();
    assert_eq!(s.get_as(&read, &format!("/Users/{id}")).await.status, 200);
    assert_eq!(s.post_as(&read, "/Users/.search", &json!({"filter": "userName eq \"existing\""})).await.status, 200);
    let r = s.post_as(&read, "/Users", &json!({"userName": "nope"})).await;
    r.assert_error(403, None);
    assert!(r.header("www-authenticate").unwrap().contains("insufficient_scope"), "{:?}", r.headers);
    let r = s.send(s.client.delete(s.url(&format!("/Users/{id}"))).bearer_auth(&read)).await;
    r.assert_error(403, None);

    let write = cc_token(&s, &c, &[("scope", "scim:write")]).await;
    let write = str_of(&write, "access_token").to_string();
    assert_eq!(s.post_as(&write, "/Users", &json!({"userName": "written"})).await.status, 201);
    s.get_as(&write, "/Users").await.assert_error(403, None);

    // A token with no SCIM scope opens nothing.
    let other = cc_token(&s, &c, &[("scope", "openid")]).await;
    let other = str_of(&other, "access_token").to_string();
    s.get_as(&other, "/Users").await.assert_error(403, None);

    // Default: every scope the client has.
    let all = cc_token(&s, &c, &[]).await;
    assert_eq!(all.body["scope"], "scim scim:read scim:write openid");
    // The user the read token could not delete is still there.
    assert_eq!(s.get(&format!("/Users/{id}")).await.status, 200);
}

#[tokio::test]
async fn head_is_a_read_for_scopes_and_the_audit_trail() {
    let s = TestServer::start().await;
    let u = s.create_user("headed").await;
    let id = u["id"].as_str().unwrap();
    let c = client(&s, &["acme"], &["client_credentials"], &["scim:read", "scim:write"], 3600, 3600).await;
    let head = |token: &str, path: &str| s.send(s.client.head(s.url(path)).bearer_auth(token));
    let write = cc_token(&s, &c, &[("scope", "scim:write")]).await;
    let write = str_of(&write, "access_token").to_string();
    // A write-only token reads nothing with HEAD: not a resource, not whether a filter matches.
    let filter = format!("/Users?filter={}", crate::common::enc("userName eq \"headed\""));
    for path in [format!("/Users/{id}"), "/Users".to_string(), filter.clone(), "/Schemas".to_string()] {
        let r = head(&write, &path).await;
        assert_eq!(r.status, 403, "HEAD {path}: {:?}", r.headers);
        assert!(r.header("www-authenticate").unwrap().contains("insufficient_scope"), "{:?}", r.headers);
    }
    let read = cc_token(&s, &c, &[("scope", "scim:read")]).await;
    let read = str_of(&read, "access_token").to_string();
    let ok = head(&read, &format!("/Users/{id}")).await;
    assert_eq!(ok.status, 200);
    let listed = head(&read, &filter).await;
    assert_eq!(listed.status, 200);
    // Audited as the reads they are.
    let op = s.operator_token().await;
    let events = s.send(s.client.get(s.root("/admin/v1/tenants/acme/audit/events?limit=100")).bearer_auth(&op)).await;
    let event = |r: &Resp| {
        let rid = r.header("x-request-id").unwrap().to_string();
        events.body.as_array().unwrap().iter().find(|e| e["request_id"] == rid.as_str()).unwrap().clone()
    };
    let e = event(&ok);
    assert_eq!(
        (e["method"].as_str(), e["op"].as_str(), e["resource_id"].as_str()),
        (Some("HEAD"), Some("read"), Some(id))
    );
    assert_eq!(event(&listed)["op"], "list");
}

#[tokio::test]
async fn tenants_are_isolated_and_chosen_explicitly_when_a_client_reaches_several() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme", "globex"], &["client_credentials"], &["scim"], 3600, 3600).await;
    assert_oauth_error(&cc_token(&s, &c, &[]).await, 400, "invalid_request");
    assert_oauth_error(&cc_token(&s, &c, &[("tenant", "initech")]).await, 400, "invalid_request");
    let a = cc_token(&s, &c, &[("tenant", "acme")]).await;
    let a = str_of(&a, "access_token").to_string();
    let g = cc_token(&s, &c, &[("tenant", "globex")]).await;
    let g = str_of(&g, "access_token").to_string();

    let created = s.post_as(&a, "/Users", &json!({"userName": "acme.person"})).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let group = s.post_as(&a, "/Groups", &json!({"displayName": "Acme", "members": [{"value": id}]})).await;
    let gid = group.body["id"].as_str().unwrap().to_string();

    s.get_as(&g, &format!("/Users/{id}")).await.assert_error(404, None);
    s.get_as(&g, &format!("/Groups/{gid}")).await.assert_error(404, None);
    assert_eq!(s.get_as(&g, "/Users").await.body["totalResults"], 0);
    assert_eq!(s.get_as(&g, &format!("/Users?filter={}", enc("userName sw \"acme\""))).await.body["totalResults"], 0);
    assert_eq!(s.post_as(&g, "/.search", &json!({"filter": "displayName eq \"Acme\""})).await.body["totalResults"], 0);
    let r = s.send(s.client.delete(s.url(&format!("/Users/{id}"))).bearer_auth(&g)).await;
    r.assert_error(404, None);
    assert_eq!(s.get_as(&a, &format!("/Users/{id}")).await.status, 200);

    // A tenant without the SCIM feature: 403 for the tokens it already had, and no new ones.
    let g2 = cc_token(&s, &c, &[("tenant", "globex")]).await;
    let globex = s.store.tenant_by_name("globex").await.unwrap().unwrap();
    s.store.set_scim_enabled(globex.id, false).await.unwrap();
    s.get_as(str_of(&g2, "access_token"), "/Users").await.assert_error(403, None);
    assert_oauth_error(&cc_token(&s, &c, &[("tenant", "globex")]).await, 400, "unauthorized_client");
}

#[tokio::test]
async fn revocation_and_introspection() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["client_credentials", "password"], &["scim"], 3600, 86400).await;
    let other = client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "svc", "a long password 1").await;
    let basic = Some((c.id.as_str(), c.secret.as_str()));

    let t = cc_token(&s, &c, &[]).await;
    let token = str_of(&t, "access_token").to_string();
    let i = s.post_form("/oauth2/introspect", basic, &[("token", &token)]).await;
    assert_eq!(i.status, 200, "{}", i.body);
    assert_eq!(i.body["active"], true);
    assert_eq!(i.body["client_id"], c.id.as_str());
    assert_eq!(i.body["scope"], "scim");
    assert_eq!(i.body["tenant"], "acme");
    // Another client learns nothing about it, and cannot revoke it.
    let other_basic = Some((other.id.as_str(), other.secret.as_str()));
    let i = s.post_form("/oauth2/introspect", other_basic, &[("token", &token)]).await;
    assert_eq!(i.body, json!({"active": false}));
    assert_eq!(s.post_form("/oauth2/revoke", other_basic, &[("token", &token)]).await.status, 200);
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
    // Introspection and revocation need client authentication.
    assert_oauth_error(&s.post_form("/oauth2/introspect", None, &[("token", &token)]).await, 401, "invalid_client");
    assert_oauth_error(&s.post_form("/oauth2/revoke", None, &[("token", &token)]).await, 401, "invalid_client");

    // Revoking an access token takes effect at once.
    assert_eq!(s.post_form("/oauth2/revoke", basic, &[("token", &token)]).await.status, 200);
    assert_invalid_token(&s.get_as(&token, "/Users").await);
    assert_eq!(s.post_form("/oauth2/introspect", basic, &[("token", &token)]).await.body, json!({"active": false}));
    // Unknown tokens: 200 all the same (RFC 7009 §2.2).
    assert_eq!(s.post_form("/oauth2/revoke", basic, &[("token", "garbage")]).await.status, 200);

    // Revoking a refresh token ends its login: the refresh token and its access tokens.
    let login = password_login(&s, &c, "svc", "a long password 1").await;
    let access = str_of(&login, "access_token").to_string();
    let rt = str_of(&login, "refresh_token").to_string();
    let i = s.post_form("/oauth2/introspect", basic, &[("token", &rt)]).await;
    assert_eq!(i.body["active"], true, "{}", i.body);
    assert_eq!(i.body["token_type"], "refresh_token");
    assert_eq!(i.body["username"], "svc");
    assert_eq!(s.get_as(&access, "/Users").await.status, 200);
    let r = s.post_form("/oauth2/revoke", basic, &[("token", &rt), ("token_type_hint", "refresh_token")]).await;
    assert_eq!(r.status, 200);
    assert_oauth_error(&refresh(&s, &c, &rt).await, 400, "invalid_grant");
    assert_invalid_token(&s.get_as(&access, "/Users").await);
    assert_eq!(s.post_form("/oauth2/introspect", basic, &[("token", &rt)]).await.body, json!({"active": false}));
}

#[tokio::test]
async fn repeated_failed_logins_lock_out_that_client_or_username_only() {
    let s = manual().await;
    let c = client(&s, &["acme"], &["client_credentials", "password"], &["scim"], 3600, 3600).await;
    let bystander = client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let wrong = Client { id: c.id.clone(), secret: "guess".into() };
    for _ in 0..5 {
        assert_oauth_error(&cc_token(&s, &wrong, &[]).await, 401, "invalid_client");
    }
    // Locked: even the right secret is refused for a while, with Retry-After.
    let r = cc_token(&s, &c, &[]).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("300"));
    // Other clients are not affected.
    assert_eq!(cc_token(&s, &bystander, &[]).await.status, 200);
    advance(&s, 301);
    assert_eq!(cc_token(&s, &c, &[]).await.status, 200);

    // Per username, for the password grant.
    api_user(&s, "acme", "target", "the right password").await;
    api_user(&s, "acme", "other", "the other password").await;
    for _ in 0..5 {
        assert_oauth_error(&password_login(&s, &c, "target", "a guess").await, 400, "invalid_grant");
    }
    assert_eq!(password_login(&s, &c, "target", "the right password").await.status, 429);
    assert_eq!(password_login(&s, &c, "other", "the other password").await.status, 200);
    advance(&s, 301);
    assert_eq!(password_login(&s, &c, "target", "the right password").await.status, 200);
    // A success resets the count: four more failures do not lock.
    for _ in 0..4 {
        password_login(&s, &c, "target", "a guess").await;
    }
    assert_eq!(password_login(&s, &c, "target", "the right password").await.status, 200);
}

#[tokio::test]
async fn discovery_configurable_token_path_and_key_rotation() {
    let oauth = OAuthConfig {
        token_path: "/oauth2/server/token".into(),
        issuer: Some("https://auth.example.com".into()),
        key_reload: Duration::ZERO,
        ..OAuthConfig::default()
    };
    let s = TestServer::start_with(Options { oauth, ..Options::default() }).await;
    let m = s.send(s.client.get(s.root("/.well-known/oauth-authorization-server"))).await;
    assert_eq!(m.status, 200);
    assert_eq!(m.body["issuer"], "https://auth.example.com");
    assert_eq!(m.body["token_endpoint"], "https://auth.example.com/oauth2/server/token");
    assert_eq!(m.body["jwks_uri"], "https://auth.example.com/.well-known/jwks.json");
    assert!(m.body["grant_types_supported"].as_array().unwrap().contains(&json!("refresh_token")));
    assert!(m.body["revocation_endpoint"].is_string() && m.body["introspection_endpoint"].is_string());

    // The token request at the configured path, Basic auth, scope=api.
    let c = client(&s, &["acme"], &["client_credentials"], &["api", "scim"], 1200, 3600).await;
    let r = s
        .post_form(
            "/oauth2/server/token",
            Some((&c.id, &c.secret)),
            &[("grant_type", "client_credentials"), ("scope", "api scim")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "api scim");
    let old = str_of(&r, "access_token").to_string();
    assert_eq!(jwt_part(&old, 1)["iss"], "https://auth.example.com");
    let old_kid = jwt_part(&old, 0)["kid"].as_str().unwrap().to_string();

    // Rotation: new tokens carry the new kid; old ones keep working until the old key retires.
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(LaterClock));
    let new_kid = admin.rotate_signing_key().await.unwrap().kid;
    let r =
        s.post_form("/oauth2/server/token", Some((&c.id, &c.secret)), &[("grant_type", "client_credentials")]).await;
    let new = str_of(&r, "access_token").to_string();
    assert_eq!(jwt_part(&new, 0)["kid"], new_kid.as_str());
    let jwks = s.send(s.client.get(s.root("/.well-known/jwks.json"))).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
    assert_eq!(s.get_as(&old, "/Users").await.status, 200);
    s.store.retire_signing_key(&old_kid, Utc::now()).await.unwrap();
    // (A fresh token value: the old one may sit in the verified-token cache for seconds.)
    let jwks = s.send(s.client.get(s.root("/.well-known/jwks.json"))).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 1);
    assert_eq!(s.get_as(&new, "/Users").await.status, 200);
}

#[tokio::test]
async fn expired_oauth_state_is_purged_and_live_state_kept() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["password"], &["scim"], 600, 900).await;
    api_user(&s, "acme", "svc", "a long password 1").await;
    let login = password_login(&s, &c, "svc", "a long password 1").await;
    let rt = str_of(&login, "refresh_token").to_string();
    let basic = Some((c.id.as_str(), c.secret.as_str()));
    s.post_form("/oauth2/revoke", basic, &[("token", str_of(&login, "access_token"))]).await;
    password_login(&s, &c, "svc", "wrong guess").await;
    let counts = async || -> (i64, i64, i64) {
        let count = async |table: &str| s.sql_i64(&format!("SELECT count(*) FROM {table}")).await;
        (count("refresh_tokens").await, count("revoked_grants").await, count("login_failures").await)
    };
    // The failure is counted for the username from this address, and in total.
    assert_eq!(counts().await, (1, 1, 2));
    // Nothing is purged while it still matters.
    let now = Utc::now();
    s.store.purge_oauth(now, now - TimeDelta::days(1), now - TimeDelta::days(1)).await.unwrap();
    assert_eq!(counts().await, (1, 1, 2));
    assert_eq!(refresh(&s, &c, &rt).await.status, 200);
    // Two days later, all of it is.
    let later = now + TimeDelta::days(2);
    let n = s.store.purge_oauth(later, later - TimeDelta::days(1), later - TimeDelta::days(1)).await.unwrap();
    assert_eq!(n, 5, "two refresh tokens (spent and current), one revocation, two failure counts");
    assert_eq!(counts().await, (0, 0, 0));
}

#[tokio::test]
async fn long_lived_tokens_expire_on_the_clock_even_when_cached() {
    let s = manual().await;
    let clock = s.clock.clone().unwrap();
    use scimd_server::clock::Clock;
    let acme = s.store.tenant_by_name("acme").await.unwrap().unwrap();
    let token = scimd_server::auth::generate_token();
    let now = clock.now();
    s.store
        .create_token(acme.id, scimd_server::auth::hash_token(&token), now, Some(now + TimeDelta::days(1)))
        .await
        .unwrap();
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
    advance(&s, 86_399);
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
    advance(&s, 1);
    assert_invalid_token(&s.get_as(&token, "/Users").await);
    // The token without expiry is unaffected.
    assert_eq!(s.get("/Users").await.status, 200);
}

/// `/Me` (RFC 7644 §3.11): the user a password-grant token was issued to.
#[tokio::test]
async fn me_is_the_user_of_a_password_grant_token() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["password", "client_credentials"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "ada@acme.example", "correct horse battery").await;
    api_user(&s, "acme", "svc-only", "correct horse battery").await;
    let ada = s.post("/Users", &serde_json::json!({"userName": "Ada@acme.example", "title": "Engineer"})).await;
    let ada_id = ada.body["id"].as_str().unwrap();
    let token = |r: Resp| str_of(&r, "access_token").to_string();
    let user_token = token(password_login(&s, &c, "ada@acme.example", "correct horse battery").await);
    let me = s.get_as(&user_token, "/Me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], ada_id);
    assert_eq!(me.header("location"), Some(format!("http://{}/scim/v2/Users/{ada_id}", s.addr).as_str()));
    let patched = s
        .patch_as(
            &user_token,
            "/Me",
            &crate::common::patch_op(serde_json::json!([{"op": "replace", "path": "title", "value": "Lead"}])),
        )
        .await;
    assert_eq!(patched.body["title"], "Lead", "{}", patched.body);
    assert_eq!(s.get(&format!("/Users/{ada_id}")).await.body["title"], "Lead");
    // A subject that is no user of the tenant: 404; a client's own token or a long-lived one: 403.
    let svc = token(password_login(&s, &c, "svc-only", "correct horse battery").await);
    let r = s.get_as(&svc, "/Me").await;
    r.assert_error(404, None);
    assert!(r.body["detail"].as_str().unwrap().contains("svc-only"), "{}", r.body);
    let cc = token(cc_token(&s, &c, &[]).await);
    for t in [cc.as_str(), s.token.as_str()] {
        let r = s.get_as(t, "/Me").await;
        r.assert_error(403, None);
        assert!(r.body["detail"].as_str().unwrap().contains("password grant"), "{}", r.body);
    }
    // DELETE /Me removes the user.
    let del = s.send(s.client.delete(s.url("/Me")).bearer_auth(&user_token)).await;
    assert_eq!(del.status, 204);
    assert_eq!(s.get(&format!("/Users/{ada_id}")).await.status, 404);
}

/// `/Me` finds the token's user by the userName rule: an API user `strasse@…` is the
/// SCIM user `Straße@…`.
#[tokio::test]
async fn me_finds_the_user_whose_name_is_the_same_name() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["password"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "strasse@acme.example", "correct horse battery").await;
    let u = s.post("/Users", &serde_json::json!({"userName": "Straße@acme.example"})).await;
    assert_eq!(u.status, 201, "{}", u.body);
    let login = password_login(&s, &c, "strasse@acme.example", "correct horse battery").await;
    let me = s.get_as(str_of(&login, "access_token"), "/Me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], u.body["id"]);
}

#[tokio::test]
async fn an_unknown_oauth_path_answers_in_the_oauth_shape() {
    let s = TestServer::start().await;
    for path in ["/oauth2/server/token", "/oauth2/nowhere"] {
        let r = s.post_form(path, Some(("a-client", "a-secret")), &[("grant_type", "client_credentials")]).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert_eq!(r.body["error"], "invalid_request", "{path}: {}", r.body);
        assert!(str_of(&r, "error_description").contains(path), "{}", r.body);
        assert!(r.body.get("schemas").is_none(), "not a SCIM error: {}", r.body);
    }
    // Elsewhere, an unknown path stays a SCIM 404.
    s.get("/Nothing").await.assert_error(404, None);
}
