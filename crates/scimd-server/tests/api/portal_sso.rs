//! Single sign-on to the portal through a tenant's OpenID Connect provider (the mock
//! provider of tests/support/oidc.rs on loopback): the round trip, the system user made on
//! the first sign-in and found again after, and who is refused.

use super::common::TestServer;
use super::oidc_client::mock::{self, User};
use super::portal::portal;
use super::portal_client::Browser;

async fn with_sso(s: &TestServer, domains: &str, groups: &str) -> mock::MockOidc {
    let m = mock::start().await;
    m.allow_redirect_uri(&s.root("/portal/sso/callback"));
    let settings = scimd_server::portal::PortalSettings { sso_allow_http_loopback: true, ..Default::default() };
    let p = scimd_server::portal::Portal::new(
        s.store.clone(),
        std::sync::Arc::new(scimd_server::clock::SystemClock),
        std::sync::Arc::default(),
        settings,
    );
    p.set_sso("acme", m.issuer(), mock::CLIENT_ID, Some(mock::CLIENT_SECRET), domains, groups).await.unwrap();
    m
}

/// Where the start page moves on to: the provider's authorization URL (its refresh, not a
/// redirect, which a form's `form-action 'self'` would refuse).
fn provider_url(start: &super::portal_client::Page) -> String {
    assert!(!start.body.contains(" style=") && !start.body.contains("<script>"), "{}", start.body);
    let at = start.body.find("content=\"0; url=").expect("the start page moves on") + "content=\"0; url=".len();
    let end = at + start.body[at..].find('"').unwrap();
    start.body[at..end].replace("&amp;", "&").replace("&#38;", "&")
}

/// Starts at the portal's SSO link, follows the provider's redirect back, and the page
/// that moves on to the portal.
async fn sso(b: &mut Browser, tenant: &str) -> super::portal_client::Page {
    let start = b.get(&format!("/portal/sso?tenant={tenant}")).await;
    if start.status != 200 {
        return start;
    }
    let at_provider = b.get(&provider_url(&start)).await;
    assert_eq!(at_provider.status, 302, "{}", at_provider.body);
    let back = at_provider.location().unwrap().to_string();
    b.get(&back).await
}

#[tokio::test]
async fn a_system_user_signs_in_through_the_tenants_provider() {
    let s = TestServer::start().await;
    let _m = with_sso(&s, "example.com", "").await;
    let mut b = Browser::new(&s);
    let done = sso(&mut b, "acme").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("http-equiv=\"refresh\""), "moves on to the portal from our own page");
    let first = b.get("/portal/").await;
    let home = b.follow(first).await;
    assert!(home.body.contains("<h1>acme</h1>"), "{}", home.body);
    // The first sign-in made the system user; the next finds it again.
    let users = portal(&s).list_system_users("acme").await.unwrap();
    assert_eq!(users.len(), 1);
    assert!(users[0].sso && users[0].email == "ann@example.com" && !users[0].has_password);
    let mut again = Browser::new(&s);
    assert_eq!(sso(&mut again, "acme").await.status, 200);
    assert_eq!(portal(&s).list_system_users("acme").await.unwrap().len(), 1);
}

#[tokio::test]
async fn sso_refuses_who_the_tenant_does_not_admit_and_a_forged_answer() {
    let s = TestServer::start().await;
    let m = with_sso(&s, "", "portal-admins").await;
    let mut b = Browser::new(&s);
    let refused = sso(&mut b, "acme").await;
    assert_eq!(refused.status, 403, "Ann is in 'staff', not 'portal-admins'");
    assert!(refused.body.contains("ask your administrator"), "{}", refused.body);
    assert!(!b.cookies.contains_key("__Host-scimd_session"));

    m.set_user(User { groups: vec!["portal-admins".into()], ..User::default() });
    // An answer whose state is not the one this browser started with.
    let start = b.get("/portal/sso?tenant=acme").await;
    let at_provider = b.get(&provider_url(&start)).await;
    let back = at_provider.location().unwrap().replace("state=", "state=x");
    let forged = b.get(&back).await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    // A tenant without SSO, or none at all, says so the same way.
    s.tenant_token("globex").await;
    assert_eq!(sso(&mut b, "globex").await.status, 404);
    assert_eq!(sso(&mut b, "nobody").await.status, 404);
    // Admitted now.
    assert_eq!(sso(&mut b, "acme").await.status, 200);
}
