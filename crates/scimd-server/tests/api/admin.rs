//! The admin HTTP API: operator-token protection, and the operator commands over JSON,
//! checked end to end (a client created here gets tokens that open SCIM).

use chrono::Utc;
use serde_json::{Value, json};

use crate::common::{Options, Resp, TestServer};

pub(crate) async fn operator_token(s: &TestServer) -> String {
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(scimd_server::clock::SystemClock));
    admin.create_admin_token(None).await.unwrap().token
}

pub(crate) async fn call(
    s: &TestServer,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let mut req = s.client.request(method, s.root(&format!("/admin/v1{path}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    s.send(req).await
}

#[tokio::test]
async fn the_admin_api_needs_an_operator_token_never_a_tenant_token() {
    let s = TestServer::start().await;
    let r = call(&s, None, reqwest::Method::GET, "/tenants", None).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(call(&s, Some(&s.token), reqwest::Method::GET, "/tenants", None).await.status, 401);
    assert_eq!(call(&s, Some("scimd_made-up"), reqwest::Method::GET, "/tenants", None).await.status, 401);
    let op = operator_token(&s).await;
    let r = call(&s, Some(&op), reqwest::Method::GET, "/tenants", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body[0]["name"], "acme");
    // An operator token is not a SCIM token either.
    s.get_as(&op, "/Users").await.assert_error(401, None);
}

#[tokio::test]
async fn a_configured_operator_token_is_accepted() {
    let configured = "an operator token from the configuration file 0123456789";
    let http = scimd_server::HttpConfig {
        admin_token: Some(scimd_server::auth::hash_token(configured)),
        ..scimd_server::HttpConfig::default()
    };
    let s = TestServer::start_with(Options { http, ..Options::default() }).await;
    assert_eq!(call(&s, Some(configured), reqwest::Method::GET, "/clients", None).await.status, 200);
    assert_eq!(
        call(
            &s,
            Some("an operator token from the configuration file 012345678"),
            reqwest::Method::GET,
            "/clients",
            None
        )
        .await
        .status,
        401
    );
}

#[tokio::test]
async fn operators_provision_tenants_clients_users_tokens_and_keys_over_http() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let op = Some(op.as_str());

    let r = call(&s, op, Method::POST, "/tenants", Some(json!({"name": "initech"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["scim_enabled"], true);
    assert_eq!(call(&s, op, Method::POST, "/tenants", Some(json!({"name": "initech"}))).await.status, 409);
    assert_eq!(call(&s, op, Method::POST, "/tenants", Some(json!({"nom": "x"}))).await.status, 400);
    assert_eq!(call(&s, op, Method::POST, "/tenants", Some(json!({"name": ""}))).await.status, 400);

    // A password client with tutorial lifetimes, and an API user with a generated password.
    let r = call(
        &s,
        op,
        Method::POST,
        "/clients",
        Some(json!({"tenants": ["initech"], "grants": ["password"], "scopes": ["scim"], "access_ttl": "20m", "refresh_ttl": 900})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (id, secret) =
        (r.body["client_id"].as_str().unwrap().to_string(), r.body["client_secret"].as_str().unwrap().to_string());
    assert_eq!(call(&s, op, Method::POST, "/clients", Some(json!({"tenants": ["nope"]}))).await.status, 404);
    assert_eq!(
        call(&s, op, Method::POST, "/clients", Some(json!({"tenants": ["initech"], "grants": ["implicit"]})))
            .await
            .status,
        400
    );
    let r = call(&s, op, Method::POST, "/tenants/initech/api-users", Some(json!({"username": "svc-initech"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let password = r.body["password"].as_str().unwrap().to_string();
    assert_eq!(
        call(&s, op, Method::POST, "/tenants/initech/api-users", Some(json!({"username": "x", "password": "short"})))
            .await
            .status,
        400
    );

    let login = s
        .post_form(
            "/oauth2/token",
            Some((&id, &secret)),
            &[("grant_type", "password"), ("username", "svc-initech"), ("password", &password)],
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["expires_in"], 1200);
    let access = login.body["access_token"].as_str().unwrap();
    assert_eq!(s.post_as(access, "/Users", &json!({"userName": "made.by.admin.client"})).await.status, 201);

    // Listing never shows secrets.
    let r = call(&s, op, Method::GET, "/clients", None).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.to_string().contains(&secret));
    assert_eq!(r.body[0]["grant_types"], json!(["password", "refresh_token"]));
    assert_eq!(r.body[0]["secrets"][0]["state"], "active");

    // Rotate the client's secret, revoke the first one.
    let r = call(&s, op, Method::POST, &format!("/clients/{id}/secrets"), None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let first = call(&s, op, Method::GET, "/clients", None).await.body[0]["secrets"][0]["id"].as_i64().unwrap();
    assert_eq!(call(&s, op, Method::DELETE, &format!("/clients/{id}/secrets/{first}"), None).await.status, 200);
    let r = s
        .post_form(
            "/oauth2/token",
            Some((&id, &secret)),
            &[("grant_type", "password"), ("username", "svc-initech"), ("password", &password)],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(call(&s, op, Method::DELETE, "/clients/nope/secrets/1", None).await.status, 404);

    // Disable the API user.
    let r =
        call(&s, op, Method::PATCH, "/tenants/initech/api-users/svc-initech", Some(json!({"disabled": true}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(&s, op, Method::GET, "/tenants/initech/api-users", None).await;
    assert!(r.body[0]["disabled"].is_string(), "{}", r.body);

    // A lifetime beyond ten years is a mistake, refused (not a date overflowing).
    let r =
        call(&s, op, Method::POST, "/tenants/initech/tokens", Some(json!({"expires_in_days": 4000000000u32}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("3650 days"), "{}", r.body);
    // Long-lived tokens: create, use, list, revoke.
    let r = call(&s, op, Method::POST, "/tenants/initech/tokens", Some(json!({"expires_in_days": 30}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_string();
    let tid = r.body["id"].as_i64().unwrap();
    assert_eq!(s.get_as(&token, "/Users").await.body["totalResults"], 1);
    let r = call(&s, op, Method::GET, "/tenants/initech/tokens", None).await;
    assert_eq!(r.body[0]["state"], "active");
    assert!(!r.body.to_string().contains(&token));
    assert_eq!(call(&s, op, Method::DELETE, &format!("/tenants/initech/tokens/{tid}"), None).await.status, 200);
    assert_eq!(call(&s, op, Method::DELETE, "/tenants/initech/tokens/99999", None).await.status, 404);

    // SCIM off and on.
    let r = call(&s, op, Method::PATCH, "/tenants/initech", Some(json!({"scim_enabled": false}))).await;
    assert_eq!(r.body["scim_enabled"], false);
    assert_eq!(call(&s, op, Method::PATCH, "/tenants/nope", Some(json!({"scim_enabled": false}))).await.status, 404);

    // Signing keys: rotate, list, retire the old; the last one cannot be retired.
    let keys = call(&s, op, Method::GET, "/signing-keys", None).await;
    assert_eq!(keys.body.as_array().unwrap().len(), 1);
    let old = keys.body[0]["kid"].as_str().unwrap().to_string();
    let new = call(&s, op, Method::POST, "/signing-keys", None).await;
    assert_eq!(new.status, 201);
    assert_eq!(call(&s, op, Method::DELETE, &format!("/signing-keys/{old}"), None).await.status, 200);
    let last = new.body["kid"].as_str().unwrap();
    assert_eq!(call(&s, op, Method::DELETE, &format!("/signing-keys/{last}"), None).await.status, 409);
    assert_eq!(call(&s, op, Method::GET, "/nothing-here", None).await.status, 404);
    let _ = Utc::now();
}

/// Path and query parameters that do not parse are JSON errors like every other (found by
/// schemathesis: they were plain text).
#[tokio::test]
async fn unparsable_path_and_query_parameters_are_json_errors() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    for path in ["/tenants/acme/audit/events/seven", "/tenants/acme/places/banks/b1/users?startIndex=first"] {
        let r = s.send(s.client.get(s.root(&format!("/admin/v1{path}"))).bearer_auth(&op)).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert_eq!(r.body["status"], 400);
        assert!(r.body["detail"].as_str().unwrap().contains("not valid"), "{}", r.body);
    }
}

/// Operators create, list and delete groups of a tenant whose identity provider may not
/// (the locker preset's); the provider then puts users in them; the operator's changes are
/// audited apart from the customer's provisioning.
#[tokio::test]
async fn operators_manage_groups_of_a_tenant_whose_provider_may_not() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let r = call(&s, Some(&op), Method::POST, "/tenants", Some(json!({"name": "harbour", "preset": "locker"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let from = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let body = json!({"displayName": "Dock workers", "externalId": "dock-1"});
    let r = call(&s, Some(&op), Method::POST, "/tenants/harbour/groups", Some(body.clone())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let dock = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["externalId"], "dock-1");
    // One group per displayName; a group needs one; unknown fields and tenants refused.
    let again = call(&s, Some(&op), Method::POST, "/tenants/harbour/groups", Some(body)).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body["detail"].as_str().unwrap().contains(&dock), "{}", again.body);
    let r = call(&s, Some(&op), Method::POST, "/tenants/harbour/groups", Some(json!({"displayName": " "}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(&s, Some(&op), Method::POST, "/tenants/harbour/groups", Some(json!({"name": "x"}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(&s, Some(&op), Method::POST, "/tenants/nope/groups", Some(json!({"displayName": "x"}))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(call(&s, Some(&s.token), Method::GET, "/tenants/harbour/groups", None).await.status, 401);
    let office = call(&s, Some(&op), Method::POST, "/tenants/harbour/groups", Some(json!({"displayName": "Office"})))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The provider (a token of the tenant) sees them, may not create one, and puts a user in one.
    let token = s.tenant_token("harbour").await;
    let scim = |m: Method, path: &str| {
        s.client.request(m, s.root(path)).bearer_auth(&token).header("content-type", "application/scim+json")
    };
    let r = s.send(scim(Method::POST, "/api/groups").body(json!({"displayName": "Mine"}).to_string())).await;
    assert_eq!(r.status, 405, "{}", r.body);
    let user = json!({"userName": "pat@harbour.test", "name": {"givenName": "Pat", "familyName": "Lee"},
                      "emails": [{"value": "pat@harbour.test"}], "groups": [{"value": dock}]});
    let r = s.send(scim(Method::POST, "/api/users").body(user.to_string())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["groups"][0]["display"], "Dock workers");
    let user_id = r.body["id"].as_str().unwrap().to_string();

    let list = call(&s, Some(&op), Method::GET, "/tenants/harbour/groups", None).await;
    assert_eq!(list.status, 200);
    let names: Vec<&str> = list.body.as_array().unwrap().iter().map(|g| g["displayName"].as_str().unwrap()).collect();
    assert_eq!(names, ["Dock workers", "Office"]);
    // Deleted by displayName (or id): the membership goes with it.
    let r = call(&s, Some(&op), Method::DELETE, "/tenants/harbour/groups/Dock%20workers", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["deleted"]["id"], dock.as_str());
    let r = s.send(scim(Method::GET, &format!("/api/users/{user_id}"))).await;
    assert!(r.body.get("groups").is_none_or(|g| g.as_array().is_some_and(|a| a.is_empty())), "{}", r.body);
    let r = call(&s, Some(&op), Method::DELETE, "/tenants/harbour/groups/Dock%20workers", None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = call(&s, Some(&op), Method::DELETE, &format!("/tenants/harbour/groups/{office}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Audited as the operator's work: events of their own, not counted as provisioning.
    let events = call(&s, Some(&op), Method::GET, "/tenants/harbour/audit/events?op=group_add", None).await;
    assert_eq!(events.body.as_array().map(Vec::len), Some(2), "{}", events.body);
    let to = (Utc::now() + chrono::TimeDelta::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let summary =
        call(&s, Some(&op), Method::GET, &format!("/tenants/harbour/audit/summary?from={from}&to={to}"), None).await;
    assert_eq!(summary.body["groups"]["created"], 0, "{}", summary.body);
    assert_eq!(summary.body["users"]["created"], 1, "{}", summary.body);
}

/// API users' usernames may not hold the characters userNames may not (invisible ones
/// make a name that looks like another's).
#[tokio::test]
async fn api_user_names_with_invisible_characters_are_refused() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let op = Some(op.as_str());
    assert_eq!(call(&s, op, Method::POST, "/tenants", Some(json!({"name": "initech"}))).await.status, 201);
    for name in ["svc\u{200B}initech", "svc\u{AD}initech", "\u{FEFF}svc", "svc\u{0}"] {
        let r = call(&s, op, Method::POST, "/tenants/initech/api-users", Some(json!({"username": name}))).await;
        assert_eq!(r.status, 400, "{name:?}: {}", r.body);
        assert!(r.body.to_string().contains("U+"), "{}", r.body);
    }
    let r = call(&s, op, Method::POST, "/tenants/initech/api-users", Some(json!({"username": "svc-initech"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// `PATCH /tenants/{name}` with a preset replaces the tenant's profile at once: the
/// answer and the tenant list name the preset, and the product's paths answer.
#[tokio::test]
async fn an_operator_moves_a_tenant_to_a_preset_over_http() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let op = Some(op.as_str());
    let token = s.tenant_token("harbour").await;
    assert_eq!(s.send(s.client.get(s.root("/api/users")).bearer_auth(&token)).await.status, 404);

    let r = call(&s, op, Method::PATCH, "/tenants/harbour", Some(json!({"preset": "locker"}))).await;
    assert_eq!((r.status, &r.body["preset"]), (200, &json!("locker")), "{}", r.body);
    let r = call(&s, op, Method::GET, "/tenants", None).await;
    let listed = r.body.as_array().unwrap().iter().find(|t| t["name"] == "harbour").unwrap().clone();
    assert_eq!(listed["preset"], "locker", "{listed}");
    let r = s.send(s.client.get(s.root("/api/users")).bearer_auth(&token)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let r = call(&s, op, Method::PATCH, "/tenants/harbour", Some(json!({"preset": "lockers"}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("locker, staffing, visitor, workflow"), "{}", r.body);
}

/// An API user's password is changed by the operator (given, or generated and answered
/// once): the old password and every login made with it stop working, the new one logs
/// in, and neither password is kept anywhere in the database.
#[tokio::test]
async fn an_api_users_password_is_reset_and_its_old_logins_end() {
    use crate::oauth::{api_user, client, password_login, refresh, str_of};
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let op = Some(op.as_str());
    let c = client(&s, &["harbour"], &["password"], &["scim"], 3600, 86400).await;
    api_user(&s, "harbour", "scim@harbour", "the first password").await;
    let login = password_login(&s, &c, "scim@harbour", "the first password").await;
    assert_eq!(login.status, 200, "{}", login.body);
    let old_refresh = str_of(&login, "refresh_token").to_string();

    let path = "/tenants/harbour/api-users/scim@harbour/password";
    let r = call(&s, op, Method::POST, path, Some(json!({"password": "short"}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(&s, op, Method::POST, "/tenants/harbour/api-users/nobody/password", None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = call(&s, op, Method::POST, path, Some(json!({"password": "the second password"}))).await;
    assert_eq!((r.status, &r.body["username"]), (200, &json!("scim@harbour")), "{}", r.body);

    assert_eq!(password_login(&s, &c, "scim@harbour", "the first password").await.status, 400);
    assert_eq!(refresh(&s, &c, &old_refresh).await.status, 400, "the old login ended");
    assert_eq!(password_login(&s, &c, "scim@harbour", "the second password").await.status, 200);

    let r = call(&s, op, Method::POST, path, None).await;
    let generated = r.body["password"].as_str().unwrap().to_string();
    assert!(generated.len() >= 12, "{}", r.body);
    assert_eq!(password_login(&s, &c, "scim@harbour", &generated).await.status, 200);
    call(&s, op, Method::GET, "/tenants/harbour/audit/events?limit=1", None).await;
    let raw = s.raw_contents().await;
    for secret in ["the first password", "the second password", generated.as_str()] {
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "'{secret}' is stored");
    }
}
