//! The authorization server as the products' guides use it, replayed over HTTP: the
//! locker system's login that ends 30 days after the password grant however often it is
//! refreshed (and the sliding alternative), a refresh retried after a lost answer, the
//! workflow platform's opaque 40-hex access tokens and its `http_status_code` on errors.

use scimd_server::oauth::OAuthConfig;
use serde_json::{Value, json};

use crate::common::{Options, Resp, TestServer};
use crate::oauth::{Client, advance, assert_invalid_token, assert_oauth_error, refresh, str_of};

const DAY: i64 = 86400;

async fn operator(s: &TestServer) -> String {
    s.operator_token().await
}

async fn admin(s: &TestServer, op: &str, method: reqwest::Method, path: &str, body: Value) -> Resp {
    s.send(s.client.request(method, s.root(&format!("/admin/v1{path}"))).bearer_auth(op).json(&body)).await
}

/// A tenant made with a preset, through the admin API.
async fn tenant(s: &TestServer, op: &str, name: &str, preset: Option<&str>) {
    let mut body = json!({"name": name});
    if let Some(p) = preset {
        body["preset"] = json!(p);
    }
    let r = admin(s, op, reqwest::Method::POST, "/tenants", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// An OAuth client made through the admin API (as `scimd client create` makes it).
async fn admin_client(s: &TestServer, op: &str, body: Value) -> Client {
    let r = admin(s, op, reqwest::Method::POST, "/clients", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    Client { id: str_of(&r, "client_id").to_string(), secret: str_of(&r, "client_secret").to_string() }
}

/// The locker guide's setup: a company (tenant) with the preset, a client for the
/// password grant (1-hour access tokens, 30-day refresh tokens: the defaults) and the
/// company's API system user.
async fn locker_company(s: &TestServer, op: &str, company: &str, expiry: Option<&str>) -> Client {
    if s.store.tenant_by_name(company).await.unwrap().is_none() {
        tenant(s, op, company, Some("locker")).await;
    }
    let mut body = json!({"tenants": [company], "grants": ["password"]});
    if let Some(e) = expiry {
        body["refresh_expiry"] = json!(e);
    }
    let c = admin_client(s, op, body).await;
    let user = format!("svc-{company}");
    let r = admin(
        s,
        op,
        reqwest::Method::POST,
        &format!("/tenants/{company}/api-users"),
        json!({"username": user, "password": "a long api password 1"}),
    )
    .await;
    assert!(r.status == 201 || r.status == 409, "{}", r.body);
    c
}

/// The guide's `GET /api/users` with an access token.
async fn locker_users(s: &TestServer, token: &str) -> Resp {
    s.send(s.client.get(s.root("/api/users")).bearer_auth(token)).await
}

async fn login(s: &TestServer, c: &Client, user: &str) -> Resp {
    let r = s
        .post_form(
            "/oauth2/token",
            Some((&c.id, &c.secret)),
            &[("grant_type", "password"), ("username", user), ("password", "a long api password 1")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

async fn introspect(s: &TestServer, c: &Client, token: &str) -> Value {
    s.post_form("/oauth2/introspect", Some((&c.id, &c.secret)), &[("token", token)]).await.body
}

fn manual() -> Options {
    Options { manual_clock: true, ..Options::default() }
}

/// Locker guide: "After 30 days the refresh token expires and cannot be used anymore on
/// the identity server. The client must then login with username/password again."
#[tokio::test]
async fn locker_login_ends_30_days_after_the_password_grant_however_often_it_is_refreshed() {
    let s = TestServer::start_with(manual()).await;
    let op = operator(&s).await;
    let c = locker_company(&s, &op, "lockers-inc", None).await;
    let first = login(&s, &c, "svc-lockers-inc").await;
    let mut rt = str_of(&first, "refresh_token").to_string();
    let end = introspect(&s, &c, &rt).await["exp"].as_i64().unwrap();
    assert_eq!(end - introspect(&s, &c, &rt).await["iat"].as_i64().unwrap(), 30 * DAY);
    // Refreshing every day (each access token lives an hour) never moves the end.
    for day in 1..30 {
        advance(&s, DAY);
        let r = refresh(&s, &c, &rt).await;
        assert_eq!(r.status, 200, "day {day}: {}", r.body);
        assert_eq!(r.body["expires_in"], 3600);
        rt = str_of(&r, "refresh_token").to_string();
        assert_eq!(introspect(&s, &c, &rt).await["exp"], end, "day {day}");
        assert_eq!(locker_users(&s, str_of(&r, "access_token")).await.status, 200);
    }
    // A second before the end it still refreshes; at the end the client must log in again.
    advance(&s, DAY - 1);
    let r = refresh(&s, &c, &rt).await;
    assert_eq!(r.status, 200, "{}", r.body);
    rt = str_of(&r, "refresh_token").to_string();
    advance(&s, 1);
    let r = refresh(&s, &c, &rt).await;
    assert_oauth_error(&r, 400, "invalid_grant");
    assert!(r.body["error_description"].as_str().unwrap().contains("log in again"), "{}", r.body);
    login(&s, &c, "svc-lockers-inc").await;
}

/// The other behaviour, per client: a sliding login lives as long as it is refreshed
/// within each lifetime, even in a tenant whose preset says absolute; and a client's
/// setting can be changed (admin API, as `scimd client set`).
#[tokio::test]
async fn a_sliding_client_keeps_sliding_and_the_setting_can_be_changed() {
    let s = TestServer::start_with(manual()).await;
    let op = operator(&s).await;
    let sliding = locker_company(&s, &op, "lockers-inc", Some("sliding")).await;
    let listed = admin(&s, &op, reqwest::Method::GET, "/clients", json!(null)).await;
    let row = listed.body.as_array().unwrap().iter().find(|c| c["client_id"] == sliding.id.as_str()).unwrap().clone();
    assert_eq!(row["refresh_expiry"], "sliding", "{row}");
    let mut rt = str_of(&login(&s, &sliding, "svc-lockers-inc").await, "refresh_token").to_string();
    for day in 1..=40 {
        advance(&s, DAY);
        let r = refresh(&s, &sliding, &rt).await;
        assert_eq!(r.status, 200, "day {day}: {}", r.body);
        rt = str_of(&r, "refresh_token").to_string();
    }
    let exp = introspect(&s, &sliding, &rt).await;
    assert_eq!(exp["exp"].as_i64().unwrap() - exp["iat"].as_i64().unwrap(), 30 * DAY, "{exp}");

    // Switched to absolute: the login ends one lifetime (now 2 days) from this refresh on.
    let r = admin(
        &s,
        &op,
        reqwest::Method::PATCH,
        &format!("/clients/{}", sliding.id),
        json!({"refresh_expiry": "absolute", "refresh_ttl": "2d"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["refresh_expiry"].clone(), r.body["refresh_ttl"].clone()), (json!("absolute"), json!(2 * DAY)));
    let r = refresh(&s, &sliding, &rt).await;
    rt = str_of(&r, "refresh_token").to_string();
    advance(&s, DAY);
    let r = refresh(&s, &sliding, &rt).await;
    rt = str_of(&r, "refresh_token").to_string();
    advance(&s, DAY);
    assert_oauth_error(&refresh(&s, &sliding, &rt).await, 400, "invalid_grant");
    // Bad values are refused and change nothing.
    let path = format!("/clients/{}", sliding.id);
    let r = admin(&s, &op, reqwest::Method::PATCH, &path, json!({"refresh_expiry": "forever"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = admin(&s, &op, reqwest::Method::PATCH, "/clients/no-such-client", json!({"refresh_expiry": null})).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // A tenant without a preset slides by default.
    tenant(&s, &op, "plain", None).await;
    let plain = admin_client(&s, &op, json!({"tenants": ["plain"], "grants": ["password"]})).await;
    let r = admin(
        &s,
        &op,
        reqwest::Method::POST,
        "/tenants/plain/api-users",
        json!({"username": "svc-plain", "password": "a long api password 1"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut rt = str_of(&login(&s, &plain, "svc-plain").await, "refresh_token").to_string();
    for _ in 0..3 {
        advance(&s, 20 * DAY);
        let r = refresh(&s, &plain, &rt).await;
        assert_eq!(r.status, 200, "{}", r.body);
        rt = str_of(&r, "refresh_token").to_string();
    }
}

/// Locker guide: "Client users refresh token to get a new access token and refresh
/// token." A client whose refresh answer is lost (a timeout) and that retries within the
/// grace period gets the same new pair; past the grace period, or once the new pair has
/// been used, a reuse is theft and ends the login.
#[tokio::test]
async fn a_refresh_retried_within_the_grace_period_gets_the_same_pair_and_later_reuse_ends_the_login() {
    let s = TestServer::start_with(manual()).await;
    let op = operator(&s).await;
    let c = locker_company(&s, &op, "lockers-inc", None).await;
    let rt1 = str_of(&login(&s, &c, "svc-lockers-inc").await, "refresh_token").to_string();
    let answer = refresh(&s, &c, &rt1).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (access2, rt2) = (str_of(&answer, "access_token").to_string(), str_of(&answer, "refresh_token").to_string());
    // The answer was lost; 5 seconds later the client retries with the same token.
    advance(&s, 5);
    let retry = refresh(&s, &c, &rt1).await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(str_of(&retry, "access_token"), access2);
    assert_eq!(str_of(&retry, "refresh_token"), rt2);
    assert_eq!(retry.body["expires_in"], 3600 - 5);
    assert_eq!(retry.body["scope"], answer.body["scope"]);
    // Neither token of the pair is stored in clear.
    let raw = s.raw_contents().await;
    for secret in [&access2, &rt2] {
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "a token of the kept pair is in clear");
    }
    // The pair works, and the login goes on.
    assert_eq!(locker_users(&s, &access2).await.status, 200);
    let next = refresh(&s, &c, &rt2).await;
    assert_eq!(next.status, 200, "{}", next.body);
    let access3 = str_of(&next, "access_token").to_string();
    // Once the new pair was used, the old token (even within the grace period) is theft.
    advance(&s, 1);
    assert_oauth_error(&refresh(&s, &c, &rt1).await, 400, "invalid_grant");
    assert_invalid_token(&locker_users(&s, &access3).await);
    assert_oauth_error(&refresh(&s, &c, str_of(&next, "refresh_token")).await, 400, "invalid_grant");

    // Past the grace period a reuse ends the login too.
    let rt1 = str_of(&login(&s, &c, "svc-lockers-inc").await, "refresh_token").to_string();
    let answer = refresh(&s, &c, &rt1).await;
    advance(&s, 11);
    let late = refresh(&s, &c, &rt1).await;
    assert_oauth_error(&late, 400, "invalid_grant");
    assert!(late.body["error_description"].as_str().unwrap().contains("already used"), "{}", late.body);
    assert_invalid_token(&locker_users(&s, str_of(&answer, "access_token")).await);
    assert_oauth_error(&refresh(&s, &c, str_of(&answer, "refresh_token")).await, 400, "invalid_grant");
    // Another client cannot use the grace period.
    let other = locker_company(&s, &op, "lockers-inc", None).await;
    let rt1 = str_of(&login(&s, &c, "svc-lockers-inc").await, "refresh_token").to_string();
    let answer = refresh(&s, &c, &rt1).await;
    assert_oauth_error(&refresh(&s, &other, &rt1).await, 400, "invalid_grant");
    assert_eq!(locker_users(&s, str_of(&answer, "access_token")).await.status, 200);
}

/// The grace period is a server setting; zero turns it off: any reuse is theft.
#[tokio::test]
async fn without_a_grace_period_a_retried_refresh_ends_the_login() {
    let oauth = OAuthConfig { refresh_grace: std::time::Duration::ZERO, ..OAuthConfig::default() };
    let s = TestServer::start_with(Options { oauth, manual_clock: true, ..Options::default() }).await;
    let op = operator(&s).await;
    let c = locker_company(&s, &op, "lockers-inc", None).await;
    let rt1 = str_of(&login(&s, &c, "svc-lockers-inc").await, "refresh_token").to_string();
    let answer = refresh(&s, &c, &rt1).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_oauth_error(&refresh(&s, &c, &rt1).await, 400, "invalid_grant");
    assert_invalid_token(&locker_users(&s, str_of(&answer, "access_token")).await);
}

/// The workflow guide's token request, verbatim: Basic credentials, a raw form body.
async fn guide_token_request(s: &TestServer, id: &str, secret: &str) -> Resp {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    s.send(
        s.client
            .post(s.root("/oauth2/server/token"))
            .header("Content-type", "application/x-www-form-urlencoded")
            .header("Authorization", format!("Basic {encoded}"))
            .body("grant_type=client_credentials&scope=api"),
    )
    .await
}

async fn workflow_app(s: &TestServer, op: &str) -> Client {
    tenant(s, op, "flow", Some("workflow")).await;
    admin_client(
        s,
        op,
        json!({"tenants": ["flow"], "grants": ["client_credentials"], "scopes": ["api", "usersync", "openid"], "access_ttl": "20m"}),
    )
    .await
}

/// Workflow guide, step 2: the response "contains the access token"
/// (`"access_token": "aebda3f1adcab6c90653bd1899613e880dc8002d"`): an opaque 40-hex token
/// that opens SCIM, is introspectable and revocable, and expires.
#[tokio::test]
async fn workflow_access_tokens_are_opaque_40_hex_introspectable_and_revocable() {
    let s = TestServer::start_with(manual()).await;
    let op = operator(&s).await;
    let app = workflow_app(&s, &op).await;
    let r = guide_token_request(&s, &app.id, &app.secret).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = str_of(&r, "access_token").to_string();
    assert!(token.len() == 40 && token.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{token}");
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 1200);
    assert_eq!(r.body["scope"], "api usersync openid");
    assert_eq!(r.body["http_status_code"], 200);
    // It opens the tenant's SCIM API.
    let user = json!({"userName": "pat.lee@example.com", "name": {"givenName": "Pat"}, "active": true});
    assert_eq!(s.post_as(&token, "/Users", &user).await.status, 201);
    assert_eq!(s.get_as(&token, "/Users/pat.lee@example.com").await.status, 200);
    // Stored only as a hash.
    let raw = s.raw_contents().await;
    assert!(!raw.windows(40).any(|w| w == token.as_bytes()), "the access token is stored in clear");
    // Introspection (the application's own credentials).
    let i = introspect(&s, &app, &token).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(
        (i["client_id"].as_str(), i["scope"].as_str(), i["tenant"].as_str()),
        (Some(app.id.as_str()), Some("api usersync openid"), Some("flow"))
    );
    assert_eq!(i["exp"].as_i64().unwrap() - i["iat"].as_i64().unwrap(), 1200);
    let other = admin_client(&s, &op, json!({"tenants": ["flow"], "scopes": ["api"]})).await;
    assert_eq!(introspect(&s, &other, &token).await, json!({"active": false}));
    // Another application cannot revoke it; its own can, at once.
    let revoke = async |c: &Client| s.post_form("/oauth2/revoke", Some((&c.id, &c.secret)), &[("token", &token)]).await;
    assert_eq!(revoke(&other).await.status, 200);
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
    assert_eq!(revoke(&app).await.status, 200);
    assert_invalid_token(&s.get_as(&token, "/Users").await);
    assert_eq!(introspect(&s, &app, &token).await, json!({"active": false}));
    // A fresh one expires after its 20 minutes.
    let fresh = str_of(&guide_token_request(&s, &app.id, &app.secret).await, "access_token").to_string();
    assert_ne!(fresh, token);
    advance(&s, 1199);
    assert_eq!(s.get_as(&fresh, "/Users").await.status, 200);
    advance(&s, 1);
    assert_invalid_token(&s.get_as(&fresh, "/Users").await);
    assert_eq!(introspect(&s, &app, &fresh).await, json!({"active": false}));
    // A made-up token of the same shape opens nothing.
    assert_invalid_token(&s.get_as("aebda3f1adcab6c90653bd1899613e880dc8002d", "/Users").await);

    // Elsewhere access tokens stay signed JWTs.
    tenant(&s, &op, "plain", None).await;
    let plain = admin_client(&s, &op, json!({"tenants": ["plain"]})).await;
    let r =
        s.post_form("/oauth2/token", Some((&plain.id, &plain.secret)), &[("grant_type", "client_credentials")]).await;
    assert!(str_of(&r, "access_token").starts_with("eyJ"), "{}", r.body);
    assert!(r.body.get("http_status_code").is_none(), "{}", r.body);
}

/// Workflow guide, step 2, failing: the same request with a wrong secret, a scope the
/// application was not given, an unknown application. The answers carry
/// `http_status_code` as the successful one does; a tenant without the switch's do not.
#[tokio::test]
async fn workflow_token_errors_carry_http_status_code() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let app = workflow_app(&s, &op).await;
    let r = guide_token_request(&s, &app.id, "not-the-secret").await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert_eq!(r.body["http_status_code"], 401, "{}", r.body);
    let r = guide_token_request(&s, "no-such-application", "whatever").await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert_eq!(r.body["http_status_code"], 401, "{}", r.body);
    let narrow = admin_client(&s, &op, json!({"tenants": ["flow"], "scopes": ["openid"]})).await;
    let r = guide_token_request(&s, &narrow.id, &narrow.secret).await;
    assert_oauth_error(&r, 400, "invalid_scope");
    assert_eq!(r.body["http_status_code"], 400, "{}", r.body);
    // The same client at the server's own token path: its tenant asks for the field.
    let r = s.post_form("/oauth2/token", Some((&app.id, &app.secret)), &[("grant_type", "password")]).await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    assert_eq!(r.body["http_status_code"], 400, "{}", r.body);

    // A tenant without the switch: standard RFC 6749 answers.
    tenant(&s, &op, "plain", None).await;
    let plain = admin_client(&s, &op, json!({"tenants": ["plain"]})).await;
    let r = s
        .post_form("/oauth2/token", Some((&plain.id, "not-the-secret")), &[("grant_type", "client_credentials")])
        .await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(r.body.get("http_status_code").is_none(), "{}", r.body);
    let r = s.post_form("/oauth2/token", Some(("no-such-client", "x")), &[("grant_type", "client_credentials")]).await;
    assert!(r.body.get("http_status_code").is_none(), "{}", r.body);
}

/// The retry's kept answer is dropped once the new token is spent in turn: at most one
/// per login is ever kept.
#[tokio::test]
async fn at_most_one_kept_answer_per_login() {
    let s = TestServer::start_with(manual()).await;
    let op = operator(&s).await;
    let c = locker_company(&s, &op, "lockers-inc", None).await;
    let mut rt = str_of(&login(&s, &c, "svc-lockers-inc").await, "refresh_token").to_string();
    for _ in 0..3 {
        advance(&s, 60);
        rt = str_of(&refresh(&s, &c, &rt).await, "refresh_token").to_string();
    }
    assert_eq!(s.sql_i64("SELECT count(*) FROM refresh_tokens WHERE retry IS NOT NULL").await, 1);
}

/// Opaque access tokens from the password and refresh grants belong to their login: `/Me`
/// knows their user, a retried refresh returns the same opaque token, and revoking the
/// login's refresh token (or disabling the API user) ends them.
#[tokio::test]
async fn opaque_tokens_of_a_login_follow_it() {
    let s = TestServer::start_with(manual()).await;
    let op = operator(&s).await;
    tenant(&s, &op, "ops", None).await;
    let put = s
        .send(
            s.client
                .put(s.root("/admin/v1/tenants/ops/profile"))
                .bearer_auth(&op)
                .json(&json!({"opaque_access_tokens": true})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let c = admin_client(&s, &op, json!({"tenants": ["ops"], "grants": ["password"]})).await;
    let r = admin(
        &s,
        &op,
        reqwest::Method::POST,
        "/tenants/ops/api-users",
        json!({"username": "ada@ops.example", "password": "a long api password 1"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ops = s.tenant_token("ops").await;
    assert_eq!(s.post_as(&ops, "/Users", &json!({"userName": "ada@ops.example"})).await.status, 201);
    let first = login(&s, &c, "ada@ops.example").await;
    let access = str_of(&first, "access_token").to_string();
    assert_eq!(access.len(), 40, "{}", first.body);
    let me = s.get_as(&access, "/Me").await;
    assert_eq!((me.status, me.body["userName"].clone()), (200, json!("ada@ops.example")), "{}", me.body);
    assert_eq!(introspect(&s, &c, &access).await["sub"], "ada@ops.example");
    let rt = str_of(&first, "refresh_token").to_string();
    let next = refresh(&s, &c, &rt).await;
    let access2 = str_of(&next, "access_token").to_string();
    assert_eq!(access2.len(), 40, "{}", next.body);
    assert_eq!(str_of(&refresh(&s, &c, &rt).await, "access_token"), access2, "a retry gets the same opaque token");
    let revoked =
        s.post_form("/oauth2/revoke", Some((&c.id, &c.secret)), &[("token", str_of(&next, "refresh_token"))]).await;
    assert_eq!(revoked.status, 200);
    for t in [&access, &access2] {
        assert_invalid_token(&s.get_as(t, "/Users").await);
    }
    // Disabling the API user ends a new login's opaque tokens too.
    let again = str_of(&login(&s, &c, "ada@ops.example").await, "access_token").to_string();
    assert_eq!(s.get_as(&again, "/Users").await.status, 200);
    let r = admin(&s, &op, reqwest::Method::PATCH, "/tenants/ops/api-users/ada@ops.example", json!({"disabled": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_invalid_token(&s.get_as(&again, "/Users").await);
}
