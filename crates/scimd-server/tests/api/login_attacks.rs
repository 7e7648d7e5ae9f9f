//! The token endpoint under attack: parallel guessing, guesses through another tenant's
//! client, lockouts caused by strangers, refused refreshes, disabled API users, tenants
//! whose SCIM is off, and operator changes that must apply at once.

use reqwest::Method;
use serde_json::json;

use crate::admin::{call, operator_token};
use crate::common::{Options, Resp, TestServer};
use crate::oauth::{
    Client, api_user, assert_invalid_token, assert_oauth_error, cc_token, client, password_login, refresh, str_of,
};

/// Sends the same kind of request `n` times at once.
async fn at_once<F, Fut>(n: usize, f: F) -> Vec<Resp>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Resp>,
{
    futures_util::future::join_all((0..n).map(f)).await
}

/// A test server whose token requests come from `ip` (any 127.0.0.0/8 address reaches it).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<std::net::IpAddr>().ok()).build().unwrap()
}

async fn cc_token_from(s: &TestServer, http: &reqwest::Client, c: &Client) -> Resp {
    let req = http
        .post(s.root("/oauth2/token"))
        .basic_auth(&c.id, Some(&c.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials");
    s.send(req).await
}

#[tokio::test]
async fn parallel_guesses_are_counted_before_they_are_checked() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["client_credentials", "password"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "svc", "the right password").await;

    // 40 password guesses at once, the right one last: at most the threshold (5) of them
    // are ever checked; the others are refused as locked out before any hashing.
    let rs = at_once(40, |i| {
        let pw = if i == 39 { "the right password".to_string() } else { format!("guess {i}") };
        let c = &c;
        let s = &s;
        async move { password_login(s, c, "svc", &pw).await }
    })
    .await;
    let checked = rs.iter().filter(|r| r.status != 429).count();
    assert!(checked <= 5, "{checked} guesses were checked: {:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
    for r in rs.iter().filter(|r| r.status == 429) {
        assert_oauth_error(r, 429, "invalid_grant");
        assert!(r.header("retry-after").is_some());
    }

    // Client secrets likewise (a client whose secret was never verified, so not remembered).
    let c = client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let rs = at_once(40, |i| {
        let c = if i == 39 {
            Client { id: c.id.clone(), secret: c.secret.clone() }
        } else {
            Client { id: c.id.clone(), secret: format!("guess {i}") }
        };
        let s = &s;
        async move { cc_token(s, &c, &[]).await }
    })
    .await;
    let checked = rs.iter().filter(|r| r.status != 429).count();
    assert!(checked <= 5, "{checked} secrets were checked: {:?}", rs.iter().map(|r| r.status).collect::<Vec<_>>());
}

#[tokio::test]
async fn another_tenants_client_learns_nothing_about_an_api_user_and_cannot_lock_it_out() {
    let s = TestServer::start().await;
    let a = client(&s, &["acme"], &["password"], &["scim"], 3600, 3600).await;
    let b = client(&s, &["globex"], &["password"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "alice", "alice's password").await;

    // Through B's client, A's user with her right password, with a wrong one, and a
    // username nobody has: the same answer.
    let right = password_login(&s, &b, "alice", "alice's password").await;
    let wrong = password_login(&s, &b, "alice", "a guess").await;
    let unknown = password_login(&s, &b, "nobody", "a guess").await;
    for r in [&right, &wrong, &unknown] {
        assert_oauth_error(r, 400, "invalid_grant");
    }
    let text = |r: &Resp| str_of(r, "error_description").split("; request id").next().unwrap().to_string();
    assert_eq!(text(&right), text(&unknown));
    assert_eq!(text(&wrong), text(&unknown));

    // B's guesses lock B's guesser out (as for any username), never A's user.
    for i in 0..10 {
        password_login(&s, &b, "alice", &format!("guess {i}")).await;
    }
    assert_eq!(password_login(&s, &b, "alice", "alice's password").await.status, 429);
    let r = password_login(&s, &a, "alice", "alice's password").await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn unknown_usernames_cost_a_password_check_like_known_ones() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["password"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "svc", "the right password").await;
    let op = operator_token(&s).await;
    let checks = |m: &str| -> f64 {
        m.lines()
            .find(|l| l.starts_with("scimd_password_checks_total "))
            .and_then(|l| l.split(' ').nth(1))
            .unwrap()
            .parse()
            .unwrap()
    };
    let metrics = |s: &TestServer| {
        let req = s.client.get(s.root("/metrics")).bearer_auth(&op);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    // A first login checks the client's secret too; later ones find it remembered.
    assert_eq!(password_login(&s, &c, "svc", "the right password").await.status, 200);
    let before = checks(&metrics(&s).await);
    assert_oauth_error(&password_login(&s, &c, "svc", "a guess").await, 400, "invalid_grant");
    let known = checks(&metrics(&s).await) - before;
    assert_oauth_error(&password_login(&s, &c, "nobody-at-all", "a guess").await, 400, "invalid_grant");
    let unknown = checks(&metrics(&s).await) - before - known;
    assert_eq!((known, unknown), (1.0, 1.0), "a login of a known and of an unknown user each check one password");
}

#[tokio::test]
async fn a_stranger_locks_out_only_their_own_address() {
    let s = TestServer::start_with(Options {
        oauth: scimd_server::oauth::OAuthConfig {
            lockout_threshold: 5,
            lockout_threshold_total: 12,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let c = client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let wrong = Client { id: c.id.clone(), secret: "a guess".into() };
    let stranger = client_from("127.0.0.2");
    for _ in 0..5 {
        assert_oauth_error(&cc_token_from(&s, &stranger, &wrong).await, 401, "invalid_client");
    }
    assert_eq!(cc_token_from(&s, &stranger, &c).await.status, 429, "the guesser's own address is locked");
    let r = cc_token_from(&s, &client_from("127.0.0.3"), &c).await;
    assert_eq!(r.status, 200, "the client itself, elsewhere, still gets tokens: {}", r.body);

    // Guesses spread over addresses still lock the client out for everyone, past the total.
    for ip in ["127.0.0.4", "127.0.0.5", "127.0.0.6"] {
        let from = client_from(ip);
        for _ in 0..4 {
            cc_token_from(&s, &from, &wrong).await;
        }
    }
    let r = cc_token_from(&s, &client_from("127.0.0.7"), &wrong).await;
    assert_oauth_error(&r, 429, "invalid_client");
    // The exact secret verified a moment ago is still recognized without a check, so a
    // client in use keeps working; one not seen recently is locked out like a guess.
    assert_eq!(cc_token_from(&s, &client_from("127.0.0.7"), &c).await.status, 200);
    let other = client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let other_wrong = Client { id: other.id.clone(), secret: "a guess".into() };
    for ip in ["127.0.0.4", "127.0.0.5", "127.0.0.6"] {
        let from = client_from(ip);
        for _ in 0..4 {
            cc_token_from(&s, &from, &other_wrong).await;
        }
    }
    assert_oauth_error(&cc_token_from(&s, &client_from("127.0.0.8"), &other).await, 429, "invalid_client");
}

#[tokio::test]
async fn a_refused_refresh_changes_nothing() {
    let s = TestServer::start().await;
    let c = client(&s, &["acme"], &["password"], &["scim:read"], 3600, 3600).await;
    api_user(&s, "acme", "svc", "the right password").await;
    let login = password_login(&s, &c, "svc", "the right password").await;
    let rt = str_of(&login, "refresh_token").to_string();
    let r = s
        .post_form(
            "/oauth2/token",
            Some((&c.id, &c.secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("scope", "bogus")],
        )
        .await;
    assert_oauth_error(&r, 400, "invalid_scope");
    // The same token still refreshes, once.
    let r = refresh(&s, &c, &rt).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let next = str_of(&r, "refresh_token").to_string();
    assert_eq!(refresh(&s, &c, &next).await.status, 200);
}

#[tokio::test]
async fn disabling_an_api_user_ends_its_logins_at_once_and_for_good() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let c = client(&s, &["acme"], &["password"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "svc", "the right password").await;
    let login = password_login(&s, &c, "svc", "the right password").await;
    let (access, rt) = (str_of(&login, "access_token").to_string(), str_of(&login, "refresh_token").to_string());
    assert_eq!(s.get_as(&access, "/Users").await.status, 200, "the token works (and is cached)");

    let user = "/tenants/acme/api-users/svc";
    assert_eq!(call(&s, Some(&op), Method::PATCH, user, Some(json!({"disabled": true}))).await.status, 200);
    assert_invalid_token(&s.get_as(&access, "/Users").await);
    assert_oauth_error(&refresh(&s, &c, &rt).await, 400, "invalid_grant");

    // Enabled again: what was issued before stays dead; a new login works.
    assert_eq!(call(&s, Some(&op), Method::PATCH, user, Some(json!({"disabled": false}))).await.status, 200);
    assert_invalid_token(&s.get_as(&access, "/Users").await);
    assert_oauth_error(&refresh(&s, &c, &rt).await, 400, "invalid_grant");
    assert_eq!(password_login(&s, &c, "svc", "the right password").await.status, 200);
}

#[tokio::test]
async fn the_token_endpoint_refuses_tenants_whose_scim_is_off() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let c = client(&s, &["acme"], &["client_credentials", "password"], &["scim"], 3600, 3600).await;
    api_user(&s, "acme", "svc", "the right password").await;
    let login = password_login(&s, &c, "svc", "the right password").await;
    let rt = str_of(&login, "refresh_token").to_string();
    assert_eq!(
        call(&s, Some(&op), Method::PATCH, "/tenants/acme", Some(json!({"scim_enabled": false}))).await.status,
        200
    );
    for r in [
        cc_token(&s, &c, &[]).await,
        password_login(&s, &c, "svc", "the right password").await,
        refresh(&s, &c, &rt).await,
    ] {
        assert_oauth_error(&r, 400, "unauthorized_client");
        assert!(str_of(&r, "error_description").contains("turned off"), "{}", r.body);
    }
    // The refused refresh did not spend the token.
    assert_eq!(
        call(&s, Some(&op), Method::PATCH, "/tenants/acme", Some(json!({"scim_enabled": true}))).await.status,
        200
    );
    assert_eq!(refresh(&s, &c, &rt).await.status, 200);
}

#[tokio::test]
async fn operator_changes_apply_at_once_on_the_replica_that_made_them() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    // A long-lived token, used (so it is cached), then deleted: refused at once.
    let r = call(&s, Some(&op), Method::POST, "/tenants/acme/tokens", Some(json!({}))).await;
    let (token, id) = (r.body["token"].as_str().unwrap().to_string(), r.body["id"].as_i64().unwrap());
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
    assert_eq!(call(&s, Some(&op), Method::DELETE, &format!("/tenants/acme/tokens/{id}"), None).await.status, 200);
    s.get_as(&token, "/Users").await.assert_error(401, None);

    // A JWT signed by a key, used, then the key rotated and retired: refused at once;
    // a token issued right after the rotation is signed by the new key.
    let c = client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let access = str_of(&cc_token(&s, &c, &[]).await, "access_token").to_string();
    assert_eq!(s.get_as(&access, "/Users").await.status, 200);
    let old =
        call(&s, Some(&op), Method::GET, "/signing-keys", None).await.body[0]["kid"].as_str().unwrap().to_string();
    let new = call(&s, Some(&op), Method::POST, "/signing-keys", None).await;
    let new_kid = new.body["kid"].as_str().unwrap().to_string();
    let fresh = str_of(&cc_token(&s, &c, &[]).await, "access_token").to_string();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, fresh.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], new_kid.as_str());
    assert_eq!(call(&s, Some(&op), Method::DELETE, &format!("/signing-keys/{old}"), None).await.status, 200);
    assert_invalid_token(&s.get_as(&access, "/Users").await);
    assert_eq!(s.get_as(&fresh, "/Users").await.status, 200);
}
