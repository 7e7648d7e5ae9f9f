//! Onboarding and the go-live check over the admin API and the customer's own endpoint,
//! on a server without an email relay or SMS gateway (what would be sent is handed back
//! once): links that work once and can be re-sent or revoked, the password rule on the
//! set-password page, a client re-keyed rather than made twice, the message log without
//! secrets; test runs refused when they cannot be one, the review's figures against the
//! audit trail, decisions made once, promotion refused where it makes no sense.

use chrono::{Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{call, operator_token};
use crate::common::TestServer;

fn time(d: Duration) -> String {
    (Utc::now() + d).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn tenant(s: &TestServer, op: &str, name: &str) -> Value {
    let r = call(s, Some(op), Method::POST, "/tenants", Some(json!({"name": name, "preset": "locker"}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

async fn onboard(s: &TestServer, op: &str, name: &str, body: Value) -> Value {
    let r = call(s, Some(op), Method::POST, &format!("/tenants/{name}/onboard"), Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The set-password page of a link, and its form's tokens (pre-session cookie, `_csrf`).
async fn page(s: &TestServer, link: &str) -> (u16, String, String, String) {
    let res = s.client.get(s.root(link)).send().await.unwrap();
    let status = res.status().as_u16();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect::<Vec<_>>()
        .join("; ");
    let html = res.text().await.unwrap();
    let csrf =
        html.split("name=\"_csrf\" value=\"").nth(1).map(|r| r[..r.find('"').unwrap()].to_string()).unwrap_or_default();
    (status, html, cookie, csrf)
}

async fn set_password(s: &TestServer, link: &str, password: &str) -> (u16, String) {
    let (status, _, cookie, csrf) = page(s, link).await;
    assert_eq!(status, 200, "{link}");
    let token = link.split("token=").nth(1).unwrap();
    let form = [("_csrf", csrf.as_str()), ("token", token), ("password", password), ("confirm", password)];
    let res = s
        .client
        .post(s.root("/portal/set-password"))
        .header("origin", s.root(""))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn without_a_relay_what_would_be_sent_is_handed_back_once() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    assert_eq!(tenant(&s, &op, "initech").await["stage"], "integration");
    let body = json!({"api_user_email": "Svc@Initech.test", "secret_mobile": "+31612345678",
        "system_user_emails": ["jane@initech.test"]});
    let first = onboard(&s, &op, "initech", body.clone()).await;
    let user = &first["api_user"];
    assert_eq!(
        (user["username"].as_str(), user["created"].as_bool()),
        (Some("svc+integration@initech.test"), Some(true))
    );
    assert_eq!(user["delivery"]["outcome"], "printed", "{first}");
    let link = user["delivery"]["secret"].as_str().unwrap().to_string();
    assert!(link.starts_with("/portal/set-password?token="), "{link}");
    let secret = first["client"]["secret_delivery"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("scimd_cs_"), "{first}");
    let client_id = first["client"]["client_id"].as_str().unwrap().to_string();
    assert!(first["system_users"][0]["delivery"]["secret"].as_str().unwrap().contains("/portal/invite?token="));

    // The admin request's kept payloads have them redacted.
    let events = call(&s, Some(&op), Method::GET, "/tenants/initech/audit/events?op=onboard", None).await.body;
    let event = events[0]["id"].as_i64().unwrap();
    let details = call(&s, Some(&op), Method::GET, &format!("/tenants/initech/audit/events/{event}"), None).await.body;
    let kept = details.to_string();
    assert!(kept.contains("REDACTED") && kept.contains("svc+integration@initech.test"), "{kept}");
    let token = link.split("token=").nth(1).unwrap();
    assert!(!kept.contains(&secret) && !kept.contains(token), "{kept}");

    // Again: nothing made twice; a new link (the old one stops working), a new secret.
    let again = onboard(&s, &op, "initech", json!({})).await;
    assert_eq!(again["api_user"]["created"], false);
    assert_eq!(
        (again["client"]["created"].as_bool(), again["client"]["client_id"].as_str()),
        (Some(false), Some(&*client_id))
    );
    assert_eq!(page(&s, &link).await.0, 404, "the first link was replaced");
    let link = again["api_user"]["delivery"]["secret"].as_str().unwrap().to_string();

    // Revoked, then re-sent.
    let path = "/tenants/initech/api-users/svc+integration@initech.test/link";
    assert_eq!(call(&s, Some(&op), Method::DELETE, path, None).await.status, 200);
    assert_eq!(page(&s, &link).await.0, 404);
    let resent = call(&s, Some(&op), Method::POST, path, None).await;
    let link = resent.body["delivery"]["secret"].as_str().unwrap().to_string();

    // The page shows the username and the rule; the rule is enforced; the link works once.
    let (_, html, _, _) = page(&s, &link).await;
    assert!(html.contains("svc+integration@initech.test") && html.contains("12 to 256 characters"), "{html}");
    assert!(!html.contains("initech/") && !html.contains("jane"), "nothing else of the tenant");
    let (status, html) = set_password(&s, &link, "short").await;
    assert!(status == 400 && html.contains("at least 12 characters"), "{status} {html}");
    let (status, html) = set_password(&s, &link, "svc+integration@initech.test").await;
    assert!(status == 400 && html.contains("cannot be your email or username"), "{status} {html}");
    assert_eq!(set_password(&s, &link, "a sound passphrase 7").await.0, 200);
    assert_eq!(page(&s, &link).await.0, 404, "used once");

    // The API user signs in with the password grant and the last secret (and the first).
    let secret2 = again["client"]["secret_delivery"]["secret"].as_str().unwrap().to_string();
    for sec in [&secret, &secret2] {
        let form = [
            ("grant_type", "password"),
            ("username", "svc+integration@initech.test"),
            ("password", "a sound passphrase 7"),
        ];
        let r = s.post_form("/oauth2/token", Some((&client_id, sec)), &form).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    // The log names each message and its outcome, never a secret or a link.
    let log = call(&s, Some(&op), Method::GET, "/tenants/initech/messages", None).await.body;
    let text = log.to_string();
    assert!(text.contains("\"printed\"") && text.contains("client-secret") && text.contains("[link]"), "{text}");
    assert!(!text.contains(&secret) && !text.contains(&secret2) && !text.contains("token="), "{text}");
    assert!(text.contains("+31…5678") && !text.contains("+31612345678"), "the number masked: {text}");
}

#[tokio::test]
async fn onboarding_mistakes_are_refused_clearly() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    tenant(&s, &op, "initech").await;
    let refused = |body: Value| {
        let s = &s;
        let op = op.clone();
        async move { call(s, Some(&op), Method::POST, "/tenants/initech/onboard", Some(body)).await }
    };
    let r = refused(json!({"secret_mobile": "0612345678"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = refused(json!({"secret_mobile": "+31201234567"})).await;
    assert!(r.status == 400 && r.body["detail"].as_str().unwrap().contains("mobile"), "a landline: {}", r.body);
    let r = refused(json!({"api_user_email": "not-an-address"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(call(&s, Some(&op), Method::POST, "/tenants/nope/onboard", Some(json!({}))).await.status, 404);
    let r = call(&s, Some(&op), Method::POST, "/tenants", Some(json!({"name": "p", "stage": "staging"}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let p = call(&s, Some(&op), Method::POST, "/tenants", Some(json!({"name": "p", "stage": "production"}))).await;
    assert_eq!(p.body["stage"], "production");
    let r = call(&s, Some(&op), Method::POST, "/tenants/p/promote", None).await;
    assert!(r.status == 409 && r.body["detail"].as_str().unwrap().contains("production"), "{}", r.body);
}

fn report(from: &str, to: &str, created: u64) -> Value {
    json!({"started_at": from, "finished_at": to, "source": "users.csv", "target": "http://x/api",
        "dry_run": false, "interrupted": false, "created": created, "updated": 0, "deactivated": 0,
        "deleted": 0, "unchanged": 0, "error_count": 0, "errors": {}, "not_permitted": {}, "failures": [],
        "requests": created, "retries": 0})
}

#[tokio::test]
async fn test_runs_are_checked_reviewed_and_decided_once() {
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    // The default profile (SCIM at /scim/v2), in the integration stage.
    let made = call(&s, Some(&op), Method::POST, "/tenants", Some(json!({"name": "umbrella"}))).await;
    assert_eq!(made.body["stage"], "integration");
    let customer = s.tenant_token("umbrella").await;
    let submissions = s.root("/golive/v1/submissions");

    // The customer's test run: two users made, one refused (a taken userName).
    let from = time(Duration::seconds(-1));
    s.post_as(
        &customer,
        "/Users",
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann"}),
    )
    .await;
    s.post_as(
        &customer,
        "/Users",
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bob"}),
    )
    .await;
    let dup = s
        .post_as(
            &customer,
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann"}),
        )
        .await;
    assert_eq!(dup.status, 409);
    let to = time(Duration::seconds(1));

    // What cannot be a test run is refused, saying why.
    for (body, why) in [
        (json!({"dry_run": true}), "dry run"),
        (json!({"started_at": from, "finished_at": to, "interrupted": true}), "interrupted"),
        (report(&to, &from, 2), "before its end"),
        (report(&from, &time(Duration::hours(2)), 2), "future"),
        (report(&time(Duration::days(-9)), &to, 2), "7 days"),
        (json!({"from": from}), "typed claim"),
    ] {
        let r = s.send(s.client.post(&submissions).bearer_auth(&customer).json(&body)).await;
        assert_eq!(r.status, 400, "{why}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(why), "{why}: {}", r.body);
    }
    assert_eq!(s.send(s.client.post(&submissions).json(&report(&from, &to, 2))).await.status, 401);

    // The customer claims 3 created and no errors: the review marks both differences.
    let r = s.send(s.client.post(&submissions).bearer_auth(&customer).json(&report(&from, &to, 3))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["submitted_by"].as_str().map(|b| b.starts_with("client:token:")), Some(true), "{}", r.body);
    let review = call(&s, Some(&op), Method::GET, &format!("/tenants/umbrella/golive/{id}"), None).await.body;
    let rows = review["rows"].as_array().unwrap();
    let row = |what: &str| rows.iter().find(|r| r["what"] == what).unwrap().clone();
    assert_eq!(
        (row("users created")["claimed"].as_u64(), row("users created")["computed"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(row("users created")["differs"], true);
    assert_eq!(
        (row("failed requests")["computed"].as_u64(), row("failed requests")["differs"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(review["agrees"], false);
    let errors = review["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["status"] == 409 && e["scim_type"] == "uniqueness"), "{review}");

    // Rejected, with feedback (required), once.
    let reject = format!("/tenants/umbrella/golive/{id}/reject");
    let r = call(&s, Some(&op), Method::POST, &reject, Some(json!({"feedback": "  "}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(&s, Some(&op), Method::POST, &reject, Some(json!({"feedback": "Ann is created twice."}))).await;
    assert_eq!((r.status, r.body["review"]["submission"]["state"].as_str()), (200, Some("rejected")), "{}", r.body);
    let r = call(&s, Some(&op), Method::POST, &format!("/tenants/umbrella/golive/{id}/approve"), None).await;
    assert_eq!(r.status, 409, "decided once: {}", r.body);

    // The customer sees the decision and the feedback; another tenant sees nothing of it.
    let mine = s.send(s.client.get(&submissions).bearer_auth(&customer)).await.body;
    assert_eq!(
        (mine[0]["state"].as_str(), mine[0]["feedback"].as_str()),
        (Some("rejected"), Some("Ann is created twice."))
    );
    let other = s.tenant_token("globex").await;
    assert_eq!(s.send(s.client.get(&submissions).bearer_auth(&other)).await.body, json!([]));

    // A typed claim, approved: the tenant is promoted; a later approval promotes nothing.
    let typed =
        json!({"from": from, "to": to, "created": 2, "updated": 0, "deactivated": 0, "deleted": 0, "errors": 1});
    let second = call(&s, Some(&op), Method::POST, "/tenants/umbrella/golive", Some(typed.clone())).await;
    assert_eq!((second.status, second.body["source"].as_str()), (201, Some("typed")), "{}", second.body);
    let id2 = second.body["id"].as_i64().unwrap();
    let review = call(&s, Some(&op), Method::GET, &format!("/tenants/umbrella/golive/{id2}"), None).await.body;
    assert_eq!(review["agrees"], true, "{review}");
    let approved = call(&s, Some(&op), Method::POST, &format!("/tenants/umbrella/golive/{id2}/approve"), None).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.body["promoted"]["production"]["name"], "umbrella-production");
    assert_eq!(approved.body["promoted"]["production"]["counterpart"], "umbrella");
    let third =
        call(&s, Some(&op), Method::POST, "/tenants/umbrella/golive", Some(typed)).await.body["id"].as_i64().unwrap();
    let again = call(&s, Some(&op), Method::POST, &format!("/tenants/umbrella/golive/{third}/approve"), None).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.get("promoted").is_none(), "{}", again.body);
    let r = call(&s, Some(&op), Method::POST, "/tenants/umbrella/promote", None).await;
    assert!(r.status == 409 && r.body["detail"].as_str().unwrap().contains("umbrella-production"), "{}", r.body);

    // Each step is in the audit trail, named (an approval's promotion is the approval's).
    for op_name in ["golive_submit", "golive_reject", "golive_approve"] {
        let events =
            call(&s, Some(&op), Method::GET, &format!("/tenants/umbrella/audit/events?op={op_name}"), None).await.body;
        assert!(!events.as_array().unwrap().is_empty(), "{op_name}: {events}");
    }
    let history = call(&s, Some(&op), Method::GET, "/tenants/umbrella/golive", None).await.body;
    let states: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["approved", "approved", "rejected"]);
}
