//! The portal's onboarding and go-live pages over HTTP: an operator onboards a tenant
//! (the test server has no relay nor gateway, so links and the secret are shown once on
//! the result page), the set-password link works, the tenant is promoted, the message log
//! shows no secret; a system user submits a test run and cannot decide it, an operator
//! reviews it (a differing figure is marked), rejects it (feedback required) and approves
//! another (the production tenant is made), after which the system user sees both stages.

use chrono::{TimeDelta, Utc};
use scimd_server::clock::SystemClock;

use super::common::TestServer;
use super::portal::{OPERATOR_PASSWORD, audited, operator, portal};
use super::portal_client::{Browser, Page, html_unescape};

const PASSWORD: &str = "a long enough password";

/// A system user of `tenant`, signed in (invited, their password set).
async fn system_user(s: &TestServer, tenant: &str, email: &str) -> Browser {
    let invited = portal(s).invite(tenant, email, "operator:alice").await.unwrap();
    let path = invited.invite_url.split_once("/portal/").map(|(_, p)| format!("/portal/{p}")).unwrap();
    let mut b = Browser::new(s);
    let form = b.get(&path).await;
    let token = form.field("token").unwrap();
    let fields =
        [("_csrf", form.csrf()), ("token", token), ("password", PASSWORD.into()), ("confirm", PASSWORD.into())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post("/portal/invite", &fields).await.status, 303);
    let home = b.sign_in(email, PASSWORD).await;
    assert_eq!(home.status, 200, "{}", home.body);
    b
}

/// The values shown once on a result page (what was not sent), in order.
fn shown_values(page: &Page) -> Vec<String> {
    let marker = "class=\"secret\" data-value=\"printed\">";
    page.body.split(marker).skip(1).map(|rest| html_unescape(&rest[..rest.find('<').unwrap()])).collect()
}

/// A form's path on the page (the `action` ending with `suffix`).
fn action(page: &Page, suffix: &str) -> String {
    let end = format!("{suffix}\"");
    let at = page.body.find(&end).unwrap_or_else(|| panic!("no form posting to …{suffix}:\n{}", page.body));
    let start = page.body[..at].rfind("action=\"").unwrap() + 8;
    html_unescape(&page.body[start..at + suffix.len()])
}

fn utc(t: chrono::DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[tokio::test]
async fn an_operator_onboards_a_tenant_promotes_it_and_reads_the_message_log() {
    let s = TestServer::start().await;
    operator(&s, "alice").await;
    let mut b = Browser::new(&s);
    let home = b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    // The tenants' stages and counterparts are listed; a new tenant is integration by default.
    assert!(home.body.contains(">Stage</th>"), "{}", home.body);
    assert!(home.body.contains("name=\"stage\" type=\"radio\" value=\"integration\" checked"), "{}", home.body);

    // A tenant made in the portal starts in integration (the test server's acme is production).
    let made =
        b.post("/portal/tenants", &[("_csrf", &home.csrf()), ("name", "initech"), ("stage", "integration")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page = b.get("/portal/t/initech/onboarding").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"stage\">integration<") && page.body.contains("Promote"), "{}", page.body);
    assert!(b.get("/portal/t/initech").await.body.contains("/portal/t/initech/onboarding"), "linked from the tenant");

    // A wrong number is said on the form, nothing sent.
    let csrf = page.csrf();
    let bad = b.post("/portal/t/initech/onboarding", &[("_csrf", &csrf), ("secret_mobile", "call me")]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("id=\"onboard-error\"") && bad.body.contains("value=\"call me\""), "{}", bad.body);

    let sent = b
        .post(
            "/portal/t/initech/onboarding",
            &[
                ("_csrf", &csrf),
                ("api_user_email", "svc@initech.test"),
                ("secret_mobile", "+31 6 12345678"),
                ("system_users", "jane@initech.test\r\nbob@initech.test\r\n"),
            ],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("Onboarding sent") && sent.body.contains("not sent"), "{}", sent.body);
    assert_eq!(sent.headers.get("cache-control").unwrap(), "no-store");
    // The set-password link, the secret, two signup links: shown once, each with a copy button.
    let values = shown_values(&sent);
    assert_eq!(values.len(), 4, "{values:?}\n{}", sent.body);
    let (link, secret) = (values[0].clone(), values[1].clone());
    assert!(link.starts_with("/portal/set-password?token="), "{link}");
    assert!(values[2].contains("/portal/invite") && values[3].contains("/portal/invite"), "{values:?}");
    assert!(sent.body.contains("data-copy=\"#value-0\""));
    assert!(sent.body.contains("svc+integration@initech.test"), "the API user is named");

    // The link works at /portal/set-password, once.
    let mut api = Browser::new(&s);
    let form = api.get(&link).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("svc+integration@initech.test"), "{}", form.body);
    let pw = "the api user's own password";
    let token = form.field("token").unwrap();
    let set = api
        .post("/portal/set-password", &[("_csrf", &form.csrf()), ("token", &token), ("password", pw), ("confirm", pw)])
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert!(set.body.contains("Password set"), "{}", set.body);
    assert_eq!(api.get(&link).await.status, 404);

    // The message log lists the messages without their links or secret.
    let log = b.get("/portal/t/initech/onboarding").await;
    for kind in ["api-user-password", "client-id", "client-secret", "system-user-invite"] {
        assert!(log.body.contains(&format!("<td>{kind}</td>")), "{kind} not logged:\n{}", log.body);
    }
    for v in &values {
        assert!(!log.body.contains(v.as_str()), "a shown value is in the log: {v}");
    }
    let token_part = link.split("token=").nth(1).unwrap();
    assert!(!log.body.contains(token_part) && !log.body.contains(&secret));
    let made = audited(&s, s.store.tenant_by_name("initech").await.unwrap().unwrap().id, "portal-onboard").await;
    assert_eq!(made.client.as_deref(), Some("operator:alice"));

    // The API user's link: re-sent (a new one shown), then revoked (it no longer works).
    let resend = action(&log, "/resend");
    assert_eq!(resend, "/portal/t/initech/onboarding/api-users/svc%2Bintegration%40initech.test/resend");
    let again = b.post(&resend, &[("_csrf", &csrf)]).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let fresh = shown_values(&again);
    assert_eq!(fresh.len(), 1, "{}", again.body);
    let listed = b.get("/portal/t/initech/onboarding").await;
    assert!(listed.body.contains(">pending</span> expires"), "{}", listed.body);
    let revoked = b.post(&action(&listed, "/revoke"), &[("_csrf", &csrf)]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    let after = b.follow(revoked).await;
    assert!(after.body.contains("no longer works") && after.body.contains("none pending"), "{}", after.body);
    assert_eq!(api.get(&fresh[0]).await.status, 404);

    // Promotion: the production tenant made, what was copied said, its credentials shown.
    let promoted = b.post("/portal/t/initech/onboarding/promote", &[("_csrf", &csrf), ("name", "")]).await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert!(promoted.body.contains("Promoted to initech-production"), "{}", promoted.body);
    assert!(promoted.body.contains("href=\"/portal/t/initech-production\""), "{}", promoted.body);
    assert!(promoted.body.contains("Copied:"), "{}", promoted.body);
    assert_eq!(shown_values(&promoted).len(), 2, "a new link and a new secret: {}", promoted.body);
    let production = s.store.tenant_by_name("initech-production").await.unwrap().unwrap();
    assert_eq!(production.stage, scimd_store::Stage::Production);
    // Promoted once: the form is gone, a second promotion is refused with a page.
    let page = b.get("/portal/t/initech/onboarding").await;
    assert!(!page.body.contains("/onboarding/promote") && page.body.contains(">initech-production</a>"));
    let twice = b.post("/portal/t/initech/onboarding/promote", &[("_csrf", &csrf), ("name", "")]).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(twice.body.contains("promoted already"), "{}", twice.body);
    let tenants = b.get("/portal/tenants").await;
    assert!(tenants.body.contains(">production<") && tenants.body.contains("href=\"/portal/t/initech-production\""));

    // A system user has no onboarding page, and its navigation no link to it.
    let mut jane = system_user(&s, "initech", "jane@initech.test").await;
    let refused = jane.get("/portal/t/initech/onboarding").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(!jane.get("/portal/t/initech").await.body.contains("/onboarding"));
    let posted = jane.post("/portal/t/initech/onboarding/promote", &[("_csrf", &refused.csrf())]).await;
    assert_eq!(posted.status, 403);
}

/// Waits until the tenant's audit trail holds `n` events of `op`.
async fn wait_events(s: &TestServer, tenant: scimd_store::TenantId, op: &str, n: usize) {
    let q = scimd_store::EventQuery { op: Some(op.into()), limit: 100, ..Default::default() };
    for _ in 0..100 {
        if s.store.events(tenant, &q).await.unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} events of {op}");
}

/// The go-live form's fields: the window and the five figures (one failed request).
fn claim<'a>(csrf: &'a str, from: &'a str, to: &'a str, created: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("from", from),
        ("to", to),
        ("created", created),
        ("updated", "0"),
        ("deactivated", "0"),
        ("deleted", "0"),
        ("errors", "1"),
    ]
}

#[tokio::test]
async fn a_test_run_is_submitted_reviewed_rejected_and_another_approved() {
    let s = TestServer::start().await;
    operator(&s, "alice").await;
    s.tenant_token("globex").await;
    // An integration tenant (the test server's acme is production) and its sync's token.
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(SystemClock));
    admin.create_tenant("initech", true).await.unwrap();
    let sync = s.tenant_token("initech").await;
    let initech = s.store.tenant_by_name("initech").await.unwrap().unwrap().id;
    let from = utc(Utc::now() - TimeDelta::minutes(10));
    // The test run: one user made, one refused as taken (a failed request).
    let ada = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"});
    assert_eq!(s.post_as(&sync, "/Users", &ada).await.status, 201);
    assert_eq!(s.post_as(&sync, "/Users", &ada).await.status, 409);
    wait_events(&s, initech, "create", 2).await;
    let to = utc(Utc::now() + TimeDelta::seconds(5));

    let mut jane = system_user(&s, "initech", "jane@initech.test").await;
    let golive = jane.get("/portal/t/initech/golive").await;
    assert_eq!(golive.status, 200, "{}", golive.body);
    assert!(golive.body.contains("Submit a test run") && golive.body.contains("No test run submitted yet"));
    let csrf = golive.csrf();
    // A window that is not a time is said on the form.
    let bad = jane.post("/portal/t/initech/golive", &claim(&csrf, "yesterday", &to, "3")).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("is not a time") && bad.body.contains("value=\"yesterday\""), "{}", bad.body);

    // Three users claimed where the server saw one: submitted, and marked on the review.
    let submitted = jane.post("/portal/t/initech/golive", &claim(&csrf, &from, &to, "3")).await;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    let review = jane.follow(submitted).await;
    assert_eq!(review.status, 200, "{}", review.body);
    assert!(review.body.contains("<h1>Test run 1</h1>") && review.body.contains("submitted: an operator reviews it"));
    let row = review.between("<tr class=\"differs", "</tr>").expect("a row marked as differing");
    assert!(row.contains("users created") && row.contains("differs"), "{row}");
    assert!(review.body.contains("<td>uniqueness</td>") && review.body.contains("POST /scim/v2/Users"));
    assert!(!review.body.contains("/golive/1/approve\""), "no decision forms for a system user");
    let approve = jane.post("/portal/t/initech/golive/1/approve", &[("_csrf", &csrf)]).await;
    assert_eq!(approve.status, 403, "{}", approve.body);
    assert_eq!(jane.get("/portal/t/initech/golive/nope").await.status, 404);
    let history = jane.get("/portal/t/initech/golive").await;
    assert!(
        history.body.contains("href=\"/portal/t/initech/golive/1\"")
            && history.body.contains("system-user:jane@initech.test")
    );

    // The operator reviews: a rejection needs feedback.
    let mut b = Browser::new(&s);
    let home = b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    let op_csrf = home.csrf();
    let page = b.get("/portal/t/initech/golive/1").await;
    assert!(page.body.contains("/golive/1/approve") && page.body.contains("/golive/1/reject"), "{}", page.body);
    let empty = b.post("/portal/t/initech/golive/1/reject", &[("_csrf", &op_csrf), ("feedback", "  ")]).await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert!(empty.body.contains("give feedback") && empty.body.contains("id=\"feedback-error\""), "{}", empty.body);
    let feedback = "You created 1 user, not 3: run it again and report what it did.";
    let rejected = b.post("/portal/t/initech/golive/1/reject", &[("_csrf", &op_csrf), ("feedback", feedback)]).await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert!(rejected.body.contains("<h2 id=\"decision-heading\">Rejected</h2>"), "{}", rejected.body);
    assert!(rejected.body.contains("Rejection notice") && rejected.body.contains("jane@initech.test"));
    assert!(rejected.body.contains("id=\"state\">rejected<"), "{}", rejected.body);
    assert!(!rejected.body.contains("action=\"/portal/t/initech/golive/1/approve\""), "decided: no forms");
    let again = b.post("/portal/t/initech/golive/1/approve", &[("_csrf", &op_csrf)]).await;
    assert_eq!(again.status, 409, "decided once: {}", again.body);
    let history = jane.get("/portal/t/initech/golive").await;
    assert!(history.body.contains(">rejected<") && history.body.contains("You created 1 user, not 3"));

    // A second run, approved: the production tenant is made and its credentials shown.
    assert_eq!(jane.post("/portal/t/initech/golive", &claim(&csrf, &from, &to, "1")).await.status, 303);
    let approved = b.post("/portal/t/initech/golive/2/approve", &[("_csrf", &op_csrf)]).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert!(approved.body.contains("<h2 id=\"decision-heading\">Approved</h2>"), "{}", approved.body);
    assert!(approved.body.contains("href=\"/portal/t/initech-production\""), "{}", approved.body);
    assert!(approved.body.contains("Approval notice"), "{}", approved.body);
    let production = s.store.tenant_by_name("initech-production").await.unwrap().unwrap();
    assert_eq!(production.stage, scimd_store::Stage::Production);
    // The approvals tried are audited: the system user's refused, the operator's made.
    let refused = audited(&s, initech, "portal-golive-approve").await;
    assert_eq!((refused.client.as_deref(), refused.status), (Some("system-user:jane@initech.test"), 403));
    wait_events(&s, initech, "portal-golive-approve", 3).await;
    let q = scimd_store::EventQuery { op: Some("portal-golive-approve".into()), limit: 10, ..Default::default() };
    let newest = s.store.events(initech, &q).await.unwrap().remove(0);
    assert_eq!((newest.client.as_deref(), newest.status), (Some("operator:alice"), 200));
    audited(&s, initech, "portal-golive-reject").await;
    audited(&s, initech, "portal-golive-submit").await;

    // The system user now sees both stages, and still nothing else.
    let overview = jane.get("/portal/t/initech").await;
    assert!(overview.body.contains("href=\"/portal/t/initech-production\""), "{}", overview.body);
    let other = jane.get("/portal/t/initech-production").await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert!(other.body.contains("<h1>initech-production</h1>") && other.body.contains("href=\"/portal/t/initech\""));
    assert_eq!(jane.get("/portal/t/initech-production/golive").await.status, 200);
    assert_eq!(jane.get("/portal/t/globex").await.status, 404);
}
