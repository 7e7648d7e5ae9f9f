//! Whose event a refused request is: a request refused before its tenant was known (an
//! expired access token, a token without the scope, a failed login through a client
//! shared by several tenants) is in the events and the go-live summary of the tenant its
//! credential names; a forged token names no one, and its event is read by the operator
//! among the events of no tenant.

use base64::Engine;
use serde_json::{Value, json};

use crate::admin::operator_token;
use crate::common::{TestServer, enc};
use crate::oauth::{advance, api_user, cc_token, client, manual, password_login, str_of};

async fn admin_get(s: &TestServer, op: &str, path: &str) -> Value {
    let r = s.send(s.client.get(s.root(&format!("/admin/v1{path}"))).bearer_auth(op)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body
}

/// The events of `tenant` (or of no tenant) that answered `status`.
async fn refused(s: &TestServer, op: &str, tenant: Option<&str>, status: u16) -> Vec<Value> {
    let path = match tenant {
        Some(t) => format!("/tenants/{t}/audit/events?status={status}"),
        None => format!("/audit/events?status={status}"),
    };
    admin_get(s, op, &path).await.as_array().unwrap().clone()
}

#[tokio::test]
async fn refused_requests_are_in_the_events_of_the_tenant_their_credential_names() {
    let s = manual().await;
    let op = operator_token(&s).await;
    let acme = client(&s, &["acme"], &["client_credentials"], &["scim"], 600, 0).await;
    let reader = client(&s, &["acme"], &["client_credentials"], &["scim:read"], 600, 0).await;

    // An access token that has expired still names its tenant.
    let r = cc_token(&s, &acme, &[]).await;
    let token = str_of(&r, "access_token").to_string();
    advance(&s, 601);
    let r = s.send(s.client.get(s.url("/Users")).bearer_auth(&token)).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let events = refused(&s, &op, Some("acme"), 401).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["client"], acme.id.as_str());

    // A token whose scopes do not allow a write.
    let r = cc_token(&s, &reader, &[]).await;
    let read_only = str_of(&r, "access_token").to_string();
    let r = s
        .send(
            s.client
                .post(s.url("/Users"))
                .bearer_auth(&read_only)
                .header("content-type", "application/scim+json")
                .body(json!({"userName": "x"}).to_string()),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let events = refused(&s, &op, Some("acme"), 403).await;
    assert_eq!((events.len(), &events[0]["client"]), (1, &json!(reader.id)), "{events:?}");

    // A token signed by no key of this server names no one: its event has no tenant.
    let forged = forged_token(&token);
    let r = s.send(s.client.get(s.url("/Users")).bearer_auth(&forged)).await;
    assert_eq!(r.status, 401);
    assert_eq!(refused(&s, &op, Some("acme"), 401).await.len(), 1, "the forged token's event is not acme's");
    let nobody = refused(&s, &op, None, 401).await;
    assert_eq!(nobody.len(), 1, "{nobody:?}");
    assert_eq!(nobody[0]["request_id"], r.header("x-request-id").unwrap());

    // The go-live summary of acme counts its refusals.
    let sum = admin_get(
        &s,
        &op,
        &format!("/tenants/acme/audit/summary?from={}&to={}", enc("2020-01-01T00:00:00Z"), enc("2100-01-01T00:00:00Z")),
    )
    .await;
    assert_eq!(sum["errors"]["status 401"], 1, "{sum}");
    assert_eq!(sum["errors"]["status 403"], 1, "{sum}");
}

#[tokio::test]
async fn a_failed_login_through_a_shared_client_is_the_users_tenants() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let shared = client(&s, &["acme", "globex"], &["password"], &["scim"], 600, 3600).await;
    api_user(&s, "globex", "sync@globex", "a long enough password").await;

    let r = password_login(&s, &shared, "sync@globex", "wrong password").await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = password_login(&s, &shared, "nobody@anywhere", "wrong password").await;
    assert_eq!(r.status, 400, "{}", r.body);

    let globex = refused(&s, &op, Some("globex"), 400).await;
    assert_eq!(globex.len(), 1, "{globex:?}");
    assert_eq!((&globex[0]["op"], &globex[0]["client"]), (&json!("token"), &json!(shared.id)));
    assert!(refused(&s, &op, Some("acme"), 400).await.is_empty());
    // A user nobody has is nobody's tenant's: the operator reads it with the rest.
    let nobody = refused(&s, &op, None, 400).await;
    assert_eq!(nobody.len(), 1, "{nobody:?}");

    // A failed login naming its tenant through the parameter is that tenant's.
    let r = s
        .post_form(
            "/oauth2/token",
            Some((&shared.id, &shared.secret)),
            &[("grant_type", "password"), ("username", "nobody"), ("password", "x"), ("tenant", "acme")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(refused(&s, &op, Some("acme"), 400).await.len(), 1);

    // The operator reads an event of no tenant's payloads too, or is told why not.
    let id = nobody[0]["id"].as_i64().unwrap();
    let r = s.send(s.client.get(s.root(&format!("/admin/v1/audit/events/{id}"))).bearer_auth(&op)).await;
    assert!(
        r.status == 200 || (r.status == 404 && r.body["detail"].as_str().unwrap().contains("no tenant")),
        "{}",
        r.body
    );
}

/// `token` with its tenant kept and its signature replaced.
fn forged_token(token: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 64]);
    parts[2] = &sig;
    parts.join(".")
}

/// A tenant whose users are addressed by userName (often an email address): the audit
/// trail shows the user's id where the path named the user, never the name.
#[tokio::test]
async fn a_user_addressed_by_user_name_is_named_by_id_in_the_audit_trail() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    s.preset_tenant(&op, "flow", "workflow").await;
    let token = s.tenant_token("flow").await;
    let send = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = s.client.request(method, s.root(path)).bearer_auth(&token);
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        s.send(req)
    };
    let created = send(reqwest::Method::POST, "/scim/v2/Users", Some(json!({"userName": "pat.lee@example.com"}))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(send(reqwest::Method::GET, "/scim/v2/Users/pat.lee@example.com", None).await.status, 200);
    assert_eq!(send(reqwest::Method::GET, "/scim/v2/Users/pat.lee%40example.com", None).await.status, 200);
    assert_eq!(send(reqwest::Method::DELETE, "/scim/v2/Users/pat.lee@example.com", None).await.status, 204);
    assert_eq!(send(reqwest::Method::GET, "/scim/v2/Users/nobody@example.com", None).await.status, 404);

    let events = admin_get(&s, &op, "/tenants/flow/audit/events?limit=100").await;
    let text = events.to_string();
    assert!(!text.contains("pat.lee") && !text.contains("nobody@"), "names in the events: {text}");
    let by_id = format!("/scim/v2/Users/{id}");
    let reads: Vec<&Value> = events.as_array().unwrap().iter().filter(|e| e["op"] == "read").collect();
    assert_eq!(reads.len(), 3, "{text}");
    for e in &reads[1..] {
        assert_eq!((&e["path"], &e["resource_id"]), (&json!(by_id), &json!(id)), "{e}");
    }
    assert_eq!(reads[0]["path"], "/scim/v2/Users/{userName}", "the unknown name: {}", reads[0]);
    let delete = events.as_array().unwrap().iter().find(|e| e["op"] == "delete").unwrap();
    assert_eq!((&delete["path"], &delete["resource_id"]), (&json!(by_id), &json!(id)), "{delete}");
}
