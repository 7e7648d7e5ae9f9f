//! The portal over HTTP, as a browser uses it: signing in (password, then the second
//! factor, set up at the first sign-in), sessions, invitations, and the defences of its
//! forms (anti-forgery token, origin) and of its pages (headers, tenants kept apart).
//! The same flows run in a real browser in `portal_browser.rs`.

use std::sync::Arc;

use scimd_server::clock::SystemClock;
use scimd_server::portal::{Portal, PortalSettings};

use super::common::TestServer;
use super::portal_client::Browser;

pub const OPERATOR_PASSWORD: &str = "correct horse battery staple";

/// The portal's use cases on the test server's database (as the command line runs them).
pub fn portal(s: &TestServer) -> Portal {
    Portal::new(s.store.clone(), Arc::new(SystemClock), Arc::default(), PortalSettings::default())
}

pub async fn operator(s: &TestServer, name: &str) {
    portal(s).create_operator(name, OPERATOR_PASSWORD).await.unwrap();
}

#[tokio::test]
async fn an_operator_signs_in_with_a_password_and_a_code_and_creates_a_tenant() {
    let s = TestServer::start().await;
    operator(&s, "alice").await;
    let mut b = Browser::new(&s);
    let home = b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("<h1>Tenants</h1>") && home.body.contains(">acme<"), "{}", home.body);

    let created = b
        .post("/portal/tenants", &[("_csrf", &home.csrf()), ("name", "Globex"), ("preset", "locker"), ("scim", "on")])
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let tenant = b.follow(created).await;
    assert!(tenant.body.contains("Tenant Globex created.") && tenant.body.contains("locker"), "{}", tenant.body);

    // A name taken is shown in place, with the form kept.
    let again = b.post("/portal/tenants", &[("_csrf", &home.csrf()), ("name", "Globex"), ("preset", "")]).await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("aria-invalid=\"true\"") && again.body.contains("already exists"), "{}", again.body);
    assert!(again.body.contains("value=\"Globex\""));

    // The operator's changes are in the audit trail with the person who made them.
    let made = audited(&s, scimd_store::TenantId::NONE, "portal-create-tenant").await;
    assert_eq!(made.client.as_deref(), Some("operator:alice"));
    assert_eq!(made.status, 303);
}

/// The first audit event of `op` (events are written in the background: waited for).
pub async fn audited(s: &TestServer, tenant: scimd_store::TenantId, op: &str) -> scimd_store::EventRow {
    let q = scimd_store::EventQuery { op: Some(op.into()), limit: 100, ..Default::default() };
    for _ in 0..100 {
        let events = s.store.events(tenant, &q).await.unwrap();
        if let Some(e) = events.into_iter().last() {
            return e;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no audit event of {op}");
}

#[tokio::test]
async fn a_system_user_sets_a_password_through_the_invitation_and_sees_only_their_tenant() {
    let s = TestServer::start().await;
    s.tenant_token("globex").await;
    let invited = portal(&s).invite("acme", "Jane@Acme.test", "operator:alice").await.unwrap();
    assert_eq!(invited.email, "jane@acme.test");
    let path = invited.invite_url.split_once("/portal/").map(|(_, p)| format!("/portal/{p}")).unwrap();

    let mut b = Browser::new(&s);
    let form = b.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("jane@acme.test") && !form.body.contains("acme<"), "only the email is shown");
    let token = form.field("token").unwrap();
    let short = b
        .post(
            "/portal/invite",
            &[("_csrf", &form.csrf()), ("token", &token), ("password", "short"), ("confirm", "short")],
        )
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("at least 12 characters"), "{}", short.body);
    let pw = "a long enough password";
    let set = b
        .post("/portal/invite", &[("_csrf", &form.csrf()), ("token", &token), ("password", pw), ("confirm", pw)])
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    // The link works once.
    assert_eq!(b.get(&path).await.status, 404);

    let home = b.sign_in("jane@acme.test", pw).await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("<h1>acme</h1>"), "{}", home.body);
    // Another tenant does not exist for them, nor does the operators' list of tenants.
    assert_eq!(b.get("/portal/t/globex").await.status, 404);
    assert_eq!(b.get("/portal/tenants").await.status, 403);
    let csrf = home.csrf();
    let other = b.post("/portal/t/globex/scim", &[("_csrf", &csrf), ("on", "")]).await;
    assert_eq!(other.status, 403, "only operators turn SCIM off");
    // An API system user's password does not open the portal.
    let admin = scimd_server::admin::Admin::new(s.store.clone(), Arc::new(SystemClock));
    admin.create_api_user("acme", "sync-bot", Some("api user password 1".into())).await.unwrap();
    let mut api = Browser::new(&s);
    let refused = api.sign_in("sync-bot", "api user password 1").await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("is wrong"), "{}", refused.body);
}

#[tokio::test]
async fn forged_forms_are_refused_and_pages_carry_a_strict_policy() {
    let s = TestServer::start().await;
    operator(&s, "alice").await;
    let mut b = Browser::new(&s);
    let home = b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    let csrf = home.csrf();
    let policy = home.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(home.headers.get("x-frame-options").unwrap(), "DENY");
    for attr in [" onclick=", " onload=", " style=", "javascript:"] {
        assert!(!home.body.contains(attr), "{attr} in the page");
    }
    assert!(!home.body.contains("<script>"), "no inline script");

    // No token, a wrong one, another site's origin: refused, nothing created.
    let none = b.post("/portal/tenants", &[("name", "Forged1")]).await;
    assert_eq!(none.status, 403);
    let wrong = b.post("/portal/tenants", &[("_csrf", "nope"), ("name", "Forged2")]).await;
    assert_eq!(wrong.status, 403);
    b.origin = "http://evil.example".into();
    let cross = b.post("/portal/tenants", &[("_csrf", &csrf), ("name", "Forged3")]).await;
    assert_eq!(cross.status, 403);
    b.origin = b.base.trim_end_matches('/').to_string();
    let site = b
        .post_with("/portal/tenants", &[("_csrf", &csrf), ("name", "Forged4")], &[("sec-fetch-site", "cross-site")])
        .await;
    assert_eq!(site.status, 403);
    for n in ["Forged1", "Forged2", "Forged3", "Forged4"] {
        assert!(s.store.tenant_by_name(n).await.unwrap().is_none(), "{n}");
    }
    // Signed out, the session's cookie opens nothing.
    let cookie = b.cookies.get("__Host-scimd_session").cloned().unwrap();
    let out = b.post("/portal/sign-out", &[("_csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    b.cookies.insert("__Host-scimd_session".into(), cookie);
    let after = b.get("/portal/tenants").await;
    assert_eq!(after.status, 303);
    assert!(after.location().unwrap().starts_with("/portal/login"));
}

#[tokio::test]
async fn sign_ins_are_throttled_and_a_code_is_good_once() {
    let s = TestServer::start().await;
    operator(&s, "alice").await;
    let mut b = Browser::new(&s);
    for _ in 0..5 {
        let p = b.sign_in("alice", "wrong password here").await;
        assert_eq!(p.status, 401);
    }
    let locked = b.sign_in("alice", OPERATOR_PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.headers.get("retry-after").is_some());
    assert!(locked.body.contains("try again in"), "{}", locked.body);

    // The code of a second factor is good once.
    operator(&s, "bob").await;
    let mut b = Browser::new(&s);
    b.sign_in_operator("bob", OPERATOR_PASSWORD).await;
    let (secret, used) = b.totp.clone().unwrap();
    let code = scimd_server::portal::code_at(&secret, used).unwrap();
    let mut again = Browser::new(&s);
    let login = again.get("/portal/login").await;
    let step = again
        .post("/portal/login", &[("_csrf", &login.csrf()), ("login", "bob"), ("password", OPERATOR_PASSWORD)])
        .await;
    let second = again.follow(step).await;
    assert!(!second.body.contains("totp-secret"), "the key is shown only until it is set up");
    let replay = again.post("/portal/login/code", &[("_csrf", &second.csrf()), ("code", &code)]).await;
    assert_eq!(replay.status, 401);
    assert!(replay.body.contains("used already"), "{}", replay.body);
}

#[tokio::test]
async fn a_message_after_a_change_shows_once_and_a_made_up_one_never() {
    let s = TestServer::start().await;
    operator(&s, "alice").await;
    let mut b = Browser::new(&s);
    let home = b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    let made_up = b.get("/portal/t/acme?done=Call%20this%20number%20now").await;
    assert_eq!(made_up.status, 200);
    assert!(!made_up.body.contains("Call this number"), "a message from a link is not shown");
    let off = b.post("/portal/t/acme/scim", &[("_csrf", &home.csrf()), ("on", "")]).await;
    assert_eq!(off.status, 303);
    assert!(!off.location().unwrap().contains("SCIM"), "the message is not in the address");
    let shown = b.follow(off).await;
    assert!(shown.body.contains("SCIM provisioning is off."), "{}", shown.body);
    let again = b.get("/portal/t/acme?done=").await;
    assert!(!again.body.contains("SCIM provisioning is off."), "shown once");
}
