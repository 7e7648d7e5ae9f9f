//! A tenant's Credentials, Connect and People pages of the portal, as a browser uses them:
//! a token, a client secret, a password or an invitation link made there is shown once
//! and works (against SCIM, the token endpoint, the invitation page), stops working when
//! revoked, and never appears in the audit trail or an address; each change is audited
//! with the person; a system user of another tenant finds none of these pages.

use std::sync::Arc;

use scimd_server::admin::{Admin, ClientSpec};
use scimd_server::clock::SystemClock;
use scimd_store::{EventQuery, TenantId};

use super::common::TestServer;
use super::portal::{OPERATOR_PASSWORD, audited, operator, portal};
use super::portal_client::{Browser, Page};

const PASSWORD: &str = "a long enough password";

fn admin(s: &TestServer) -> Admin {
    Admin::new(s.store.clone(), Arc::new(SystemClock))
}

/// A system user of `tenant`, invited, with a password set, signed in.
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

async fn signed_in_operator(s: &TestServer) -> Browser {
    operator(s, "alice").await;
    let mut b = Browser::new(s);
    b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    b
}

/// The secret a page shows once.
fn shown(p: &Page) -> String {
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("you will not see it again"), "{}", p.body);
    assert!(p.body.contains("data-copy=\"#shown-secret\" hidden"), "{}", p.body);
    assert_eq!(p.headers.get("cache-control").unwrap(), "no-store");
    p.between("id=\"shown-secret\" class=\"secret\">", "<").expect("a secret on the page")
}

/// A fact shown beside the secret (`Client id`, `Username`).
fn fact(p: &Page, label: &str) -> String {
    p.between(&format!("<dt>{label}</dt><dd><code>"), "<").unwrap_or_else(|| panic!("no {label}: {}", p.body))
}

/// No inline script or style, no handler attribute: the policy forbids them.
fn strict(p: &Page) {
    for bad in [" onclick=", " onload=", " onsubmit=", " style=", "javascript:", "<script>"] {
        assert!(!p.body.contains(bad), "{bad} in the page");
    }
}

/// Every visible input has a label naming it, and the page one `<h1>`.
fn labelled(p: &Page) {
    assert_eq!(p.body.matches("<h1>").count(), 1);
    for input in p.body.split("<input ").skip(1).map(|rest| &rest[..rest.find('>').unwrap()]) {
        if input.contains("type=\"hidden\"") {
            continue;
        }
        let id = input.split("id=\"").nth(1).and_then(|r| r.split('"').next()).expect("an input with an id");
        assert!(p.body.contains(&format!("<label for=\"{id}\">")), "no label for {id}");
    }
}

/// A POST with the page's token.
async fn post(b: &mut Browser, csrf: &str, path: &str, fields: &[(&str, &str)]) -> Page {
    let mut all = vec![("_csrf", csrf)];
    all.extend_from_slice(fields);
    b.post(path, &all).await
}

async fn tenant_id(s: &TestServer, name: &str) -> TenantId {
    s.store.tenant_by_name(name).await.unwrap().unwrap().id
}

/// Neither the audit trail of `tenant` nor any address in it holds one of `secrets`.
async fn no_secret_audited(s: &TestServer, tenant: TenantId, secrets: &[&str]) {
    let q = EventQuery { limit: 1000, ..Default::default() };
    let events = format!("{:?}", s.store.events(tenant, &q).await.unwrap());
    for secret in secrets {
        assert!(!events.contains(secret), "a secret in the audit trail");
    }
}

async fn token_grant(s: &TestServer, id: &str, secret: &str, form: &[(&str, &str)]) -> super::common::Resp {
    s.post_form("/oauth2/token", Some((id, secret)), form).await
}

#[tokio::test]
async fn portal_tokens_work_against_scim_until_revoked() {
    let s = TestServer::start().await;
    let mut b = system_user(&s, "acme", "jane@acme.test").await;
    let page = b.get("/portal/t/acme/credentials").await;
    assert_eq!(page.status, 200, "{}", page.body);
    strict(&page);
    labelled(&page);
    assert!(page.body.contains("<h1>Credentials</h1>"));
    let csrf = page.csrf();

    // A lifetime that is not a number of days is refused in place, nothing made.
    let bad = post(&mut b, &csrf, "/portal/t/acme/credentials/tokens", &[("days", "forever")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("aria-invalid=\"true\"") && bad.body.contains("whole number of days"), "{}", bad.body);
    assert!(bad.body.contains("value=\"forever\""));
    let before = admin(&s).list_tokens("acme").await.unwrap().len();

    let made = post(&mut b, &csrf, "/portal/t/acme/credentials/tokens", &[("days", "30")]).await;
    let token = shown(&made);
    strict(&made);
    assert_eq!(admin(&s).list_tokens("acme").await.unwrap().len(), before + 1);
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
    // Shown once: the page does not show it again.
    assert!(!b.get("/portal/t/acme/credentials").await.body.contains(&token));

    let id = made.between("<h2 id=\"shown-heading\">Token ", " created").unwrap();
    let revoked = post(&mut b, &csrf, &format!("/portal/t/acme/credentials/tokens/{id}/revoke"), &[]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    let after = b.follow(revoked).await;
    assert!(after.body.contains("The token is revoked"), "{}", after.body);
    assert_eq!(s.get_as(&token, "/Users").await.status, 401, "a revoked token stops working at once");
    let listed = admin(&s).list_tokens("acme").await.unwrap();
    assert_eq!(listed.iter().find(|t| t.id.to_string() == id).unwrap().state, "revoked");

    let acme = tenant_id(&s, "acme").await;
    for op in ["portal-create-token", "portal-revoke-token"] {
        let e = audited(&s, acme, op).await;
        assert_eq!(e.client.as_deref(), Some("system-user:jane@acme.test"), "{op}");
    }
    no_secret_audited(&s, acme, &[&token]).await;
}

#[tokio::test]
async fn portal_clients_are_made_and_their_secrets_rotated() {
    let s = TestServer::start().await;
    let mut b = signed_in_operator(&s).await;
    let csrf = b.get("/portal/t/acme/credentials").await.csrf();
    const C: &str = "/portal/t/acme/credentials";

    // Errors in place, then a client made.
    let none = post(&mut b, &csrf, &format!("{C}/clients"), &[("scopes", "scim")]).await;
    assert_eq!(none.status, 400);
    assert!(none.body.contains("id=\"grant-error\""), "{}", none.body);
    let scopeless = post(&mut b, &csrf, &format!("{C}/clients"), &[("grant", "password"), ("scopes", " ")]).await;
    assert_eq!(scopeless.status, 400);
    assert!(scopeless.body.contains("id=\"scopes-error\""), "{}", scopeless.body);
    assert!(admin(&s).list_clients().await.unwrap().is_empty(), "nothing made");
    let made =
        post(&mut b, &csrf, &format!("{C}/clients"), &[("grant", "client_credentials"), ("scopes", "scim")]).await;
    let first = shown(&made);
    strict(&made);
    let id = fact(&made, "Client id");
    let r = token_grant(&s, &id, &first, &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let access = r.body["access_token"].as_str().unwrap();
    assert_eq!(s.get_as(access, "/Users").await.status, 200);

    // Rotation: a second secret, both valid, then the first revoked.
    let rotated = post(&mut b, &csrf, &format!("{C}/clients/{id}/secrets"), &[("days", "90")]).await;
    let second = shown(&rotated);
    assert_eq!(token_grant(&s, &id, &second, &[("grant_type", "client_credentials")]).await.status, 200);
    let clients = admin(&s).list_clients().await.unwrap();
    let secrets = &clients.iter().find(|c| c.client_id == id).unwrap().secrets;
    assert_eq!(secrets.len(), 2);
    assert!(secrets[0].expires.is_none() && secrets[1].expires.is_some());
    let old = secrets[0].id;
    let revoked = post(&mut b, &csrf, &format!("{C}/clients/{id}/secrets/{old}/revoke"), &[]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert!(b.follow(revoked).await.body.contains("The secret is revoked"));
    assert_eq!(token_grant(&s, &id, &first, &[("grant_type", "client_credentials")]).await.status, 401);

    let acme = tenant_id(&s, "acme").await;
    for op in ["portal-create-client", "portal-add-client-secret", "portal-revoke-client-secret"] {
        assert_eq!(audited(&s, acme, op).await.client.as_deref(), Some("operator:alice"), "{op}");
    }
    no_secret_audited(&s, acme, &[&first, &second]).await;
}

#[tokio::test]
async fn portal_api_users_log_in_with_the_password_shown_once() {
    let s = TestServer::start().await;
    let grants = ["password".to_string()];
    let client = admin(&s).create_tenant_client("acme", &grants, "scim", None).await.unwrap();
    let (id, secret) = (client.client_id.as_str(), client.client_secret.as_str());
    let mut b = signed_in_operator(&s).await;
    let csrf = b.get("/portal/t/acme/credentials").await.csrf();
    const C: &str = "/portal/t/acme/credentials";

    // A generated password shown once; a taken name refused in place.
    let made = post(&mut b, &csrf, &format!("{C}/api-users"), &[("username", "svc-acme")]).await;
    let password = shown(&made);
    let taken = post(&mut b, &csrf, &format!("{C}/api-users"), &[("username", "svc-acme")]).await;
    assert_eq!(taken.status, 409);
    assert!(taken.body.contains("id=\"username-error\"") && taken.body.contains("is taken"), "{}", taken.body);
    let login = [("grant_type", "password"), ("username", "svc-acme"), ("password", password.as_str())];
    let r = token_grant(&s, id, secret, &login).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.get_as(r.body["access_token"].as_str().unwrap(), "/Users").await.status, 200);

    // A new password: the old one stops working. Disabled: no login; enabled: back.
    let renewed = post(&mut b, &csrf, &format!("{C}/api-users/svc-acme/password"), &[]).await;
    let new_password = shown(&renewed);
    assert_ne!(token_grant(&s, id, secret, &login).await.status, 200);
    let login = [("grant_type", "password"), ("username", "svc-acme"), ("password", new_password.as_str())];
    assert_eq!(post(&mut b, &csrf, &format!("{C}/api-users/svc-acme/disable"), &[]).await.status, 303);
    assert_ne!(token_grant(&s, id, secret, &login).await.status, 200);
    assert_eq!(post(&mut b, &csrf, &format!("{C}/api-users/svc-acme/enable"), &[]).await.status, 303);
    assert_eq!(token_grant(&s, id, secret, &login).await.status, 200);

    let acme = tenant_id(&s, "acme").await;
    for op in
        ["portal-create-api-user", "portal-set-api-user-password", "portal-disable-api-user", "portal-enable-api-user"]
    {
        assert_eq!(audited(&s, acme, op).await.client.as_deref(), Some("operator:alice"), "{op}");
    }
    no_secret_audited(&s, acme, &[&password, &new_password]).await;
}

#[tokio::test]
async fn portal_clients_shared_with_other_tenants_are_left_to_the_operator() {
    let s = TestServer::start().await;
    s.tenant_token("globex").await;
    let spec = |tenants: &[&str]| ClientSpec {
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        keys: None,
        grants: vec!["client_credentials".into()],
        scopes: vec!["scim".into()],
        access_ttl_secs: 3600,
        refresh_ttl_secs: 86400,
        refresh_expiry: None,
        secret_expires_secs: None,
    };
    let shared = admin(&s).create_client(spec(&["acme", "globex"])).await.unwrap();
    let theirs = admin(&s).create_client(spec(&["globex"])).await.unwrap();

    let mut b = system_user(&s, "acme", "jane@acme.test").await;
    let page = b.get("/portal/t/acme/credentials").await;
    assert!(page.body.contains(&shared.client_id), "{}", page.body);
    assert!(!page.body.contains("globex") && !page.body.contains(&theirs.client_id), "no other tenant's name");
    assert!(page.body.contains("also other tenants"));
    let csrf = page.csrf();
    let c = &shared.client_id;
    let rotate = post(&mut b, &csrf, &format!("/portal/t/acme/credentials/clients/{c}/secrets"), &[]).await;
    assert_eq!(rotate.status, 403, "{}", rotate.body);
    let revoke = post(&mut b, &csrf, &format!("/portal/t/acme/credentials/clients/{c}/secrets/1/revoke"), &[]).await;
    assert_eq!(revoke.status, 403);
    let other = &theirs.client_id;
    let foreign = post(&mut b, &csrf, &format!("/portal/t/acme/credentials/clients/{other}/secrets"), &[]).await;
    assert_eq!(foreign.status, 404);
    let clients = admin(&s).list_clients().await.unwrap();
    assert!(clients.iter().all(|c| c.secrets.len() == 1), "no secret added");

    // A client of their own, which they may rotate.
    let fields = [("grant", "client_credentials"), ("scopes", "scim")];
    let made = post(&mut b, &csrf, "/portal/t/acme/credentials/clients", &fields).await;
    let id = fact(&made, "Client id");
    let mine = admin(&s).list_clients().await.unwrap().into_iter().find(|c| c.client_id == id).unwrap();
    assert_eq!(mine.tenants, vec!["acme".to_string()]);
    let rotate = post(&mut b, &csrf, &format!("/portal/t/acme/credentials/clients/{id}/secrets"), &[]).await;
    shown(&rotate);

    // The operator sees the other tenant's name and may rotate the shared client.
    let mut op = signed_in_operator(&s).await;
    let page = op.get("/portal/t/acme/credentials").await;
    assert!(page.body.contains("acme, globex"), "{}", page.body);
    labelled(&page);
    let rotate = post(&mut op, &page.csrf(), &format!("/portal/t/acme/credentials/clients/{c}/secrets"), &[]).await;
    shown(&rotate);
}

#[tokio::test]
async fn portal_connect_gives_the_tenants_url_and_a_working_token() {
    let s = TestServer::start().await;
    let mut b = signed_in_operator(&s).await;
    let page = b.get("/portal/t/acme/connect").await;
    assert_eq!(page.status, 200, "{}", page.body);
    strict(&page);
    labelled(&page);
    let base = s.root("").trim_end_matches('/').to_string();
    let url = page.between("<code id=\"scim-url\">", "<").unwrap();
    assert_eq!(url, format!("{base}/scim/v2"));
    for setting in ["Tenant URL", "Secret Token", "aadOptscim062020", "SCIM connector base URL", "HTTP Header"] {
        assert!(page.body.contains(setting), "{setting}");
    }
    assert!(page.body.contains("<dt>Unique identifier field for users</dt><dd><code>userName</code>"));
    assert!(!page.body.contains("href=\"http"), "nothing external is linked");

    let made = post(&mut b, &page.csrf(), "/portal/t/acme/connect/token", &[]).await;
    let token = shown(&made);
    assert!(made.body.contains("the token shown above"));
    assert_eq!(s.get_as(&token, "/Users").await.status, 200);
    assert_eq!(
        audited(&s, tenant_id(&s, "acme").await, "portal-create-token").await.client.as_deref(),
        Some("operator:alice")
    );

    // A tenant whose profile mounts its API elsewhere is given that path.
    let op = s.operator_token().await;
    s.preset_tenant(&op, "lockers", "locker").await;
    let page = b.get("/portal/t/lockers/connect").await;
    assert_eq!(page.between("<code id=\"scim-url\">", "<").unwrap(), format!("{base}/api"));
}

#[tokio::test]
async fn portal_people_invites_once_and_manages_system_users() {
    let s = TestServer::start().await;
    let mut b = system_user(&s, "acme", "jane@acme.test").await;
    let page = b.get("/portal/t/acme/people").await;
    assert_eq!(page.status, 200, "{}", page.body);
    strict(&page);
    labelled(&page);
    let csrf = page.csrf();

    let bad = post(&mut b, &csrf, "/portal/t/acme/people/invite", &[("email", "not an email")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"email-error\"") && bad.body.contains("aria-invalid=\"true\""), "{}", bad.body);
    let invited = post(&mut b, &csrf, "/portal/t/acme/people/invite", &[("email", "Bob@Acme.test")]).await;
    let link = shown(&invited);
    assert!(invited.body.contains("Link works until"), "{}", invited.body);
    let path = link.split_once("/portal/").map(|(_, p)| format!("/portal/{p}")).unwrap();
    assert!(link.starts_with(s.root("").trim_end_matches('/')), "{link}");

    // The link works once.
    let mut bob = Browser::new(&s);
    let form = bob.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let token = form.field("token").unwrap();
    let fields =
        [("_csrf", form.csrf()), ("token", token), ("password", PASSWORD.into()), ("confirm", PASSWORD.into())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(bob.post("/portal/invite", &fields).await.status, 303);
    assert_eq!(bob.get(&path).await.status, 404);
    assert_eq!(bob.sign_in("bob@acme.test", PASSWORD).await.status, 200);
    // Once signed in, a colleague cannot send them a new link (it would set their password).
    let again = post(&mut b, &csrf, "/portal/t/acme/people/invite", &[("email", "bob@acme.test")]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("id=\"email-error\"") && again.body.contains("signed in already"), "{}", again.body);

    // Disable (their sessions end), enable, delete; never oneself.
    let users = portal(&s).list_system_users("acme").await.unwrap();
    let id_of = |email: &str| users.iter().find(|u| u.email == email).unwrap().id;
    let (bob_id, jane_id) = (id_of("bob@acme.test"), id_of("jane@acme.test"));
    let people = "/portal/t/acme/people/users";
    assert_eq!(post(&mut b, &csrf, &format!("{people}/{bob_id}/disable"), &[]).await.status, 303);
    assert_eq!(bob.get("/portal/t/acme/people").await.status, 303, "bob's session ended");
    assert!(portal(&s).list_system_users("acme").await.unwrap().iter().any(|u| u.id == bob_id && u.disabled));
    assert_eq!(post(&mut b, &csrf, &format!("{people}/{bob_id}/enable"), &[]).await.status, 303);
    let myself = post(&mut b, &csrf, &format!("{people}/{jane_id}/disable"), &[]).await;
    assert_eq!(myself.status, 409, "{}", myself.body);
    assert_eq!(post(&mut b, &csrf, &format!("{people}/{bob_id}/delete"), &[]).await.status, 303);
    assert!(portal(&s).list_system_users("acme").await.unwrap().iter().all(|u| u.id != bob_id));

    let acme = tenant_id(&s, "acme").await;
    for op in [
        "portal-invite-system-user",
        "portal-disable-system-user",
        "portal-enable-system-user",
        "portal-delete-system-user",
    ] {
        assert_eq!(audited(&s, acme, op).await.client.as_deref(), Some("system-user:jane@acme.test"), "{op}");
    }
    let invite_token = link.rsplit_once("token=").unwrap().1.to_string();
    no_secret_audited(&s, acme, &[&invite_token]).await;
}

#[tokio::test]
async fn portal_sso_form_shows_errors_in_place_and_keeps_its_secret() {
    let s = TestServer::start().await;
    let mut b = signed_in_operator(&s).await;
    let page = b.get("/portal/t/acme/people").await;
    let base = s.root("").trim_end_matches('/').to_string();
    assert_eq!(page.between("<code id=\"redirect-uri\">", "<").unwrap(), format!("{base}/portal/sso/callback"));
    assert!(page.body.contains("data-copy=\"#redirect-uri\""));
    let csrf = page.csrf();
    const SSO: &str = "/portal/t/acme/people/sso";
    let form = |issuer: &'static str, domains: &'static str| {
        vec![
            ("issuer", issuer),
            ("client_id", "portal-app"),
            ("client_secret", "the provider's secret"),
            ("domains", domains),
            ("groups", ""),
        ]
    };

    let bad = post(&mut b, &csrf, SSO, &form("ftp://idp.example.test", "acme.test")).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"issuer-error\"") && bad.body.contains("https://"), "{}", bad.body);
    assert!(bad.body.contains("value=\"ftp://idp.example.test\"") && bad.body.contains("value=\"acme.test\""));
    assert!(!bad.body.contains("the provider&#39;s secret") && !bad.body.contains("provider's secret"));
    let nobody = post(&mut b, &csrf, SSO, &form("https://idp.example.test", "")).await;
    assert_eq!(nobody.status, 400);
    assert!(nobody.body.contains("id=\"domains-error\""), "{}", nobody.body);
    assert!(portal(&s).sso_settings("acme").await.unwrap().is_none(), "nothing saved");

    let saved = post(&mut b, &csrf, SSO, &form("https://idp.example.test", "acme.test, acme.de")).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let sso = portal(&s).sso_settings("acme").await.unwrap().unwrap();
    assert_eq!(sso.allowed_domains, vec!["acme.test", "acme.de"]);
    assert!(sso.has_secret);
    let page = b.follow(saved).await;
    assert!(page.body.contains("Single sign-on is saved") && page.body.contains("A secret is stored"));
    assert!(!page.body.contains("provider&#39;s secret") && !page.body.contains("provider's secret"));

    // A blank secret keeps the stored one; removing turns it off.
    let mut keep = form("https://idp.example.test", "acme.test");
    keep[2].1 = "";
    assert_eq!(post(&mut b, &csrf, SSO, &keep).await.status, 303);
    assert!(portal(&s).sso_settings("acme").await.unwrap().unwrap().has_secret);
    assert_eq!(post(&mut b, &csrf, &format!("{SSO}/remove"), &[]).await.status, 303);
    assert!(portal(&s).sso_settings("acme").await.unwrap().is_none());

    let acme = tenant_id(&s, "acme").await;
    for op in ["portal-set-sso", "portal-remove-sso"] {
        assert_eq!(audited(&s, acme, op).await.client.as_deref(), Some("operator:alice"), "{op}");
    }
    no_secret_audited(&s, acme, &["provider's secret", "provider%27s"]).await;
}

#[tokio::test]
async fn portal_credentials_pages_of_another_tenant_are_not_found() {
    let s = TestServer::start().await;
    s.tenant_token("globex").await;
    let client = admin(&s)
        .create_tenant_client("acme", &["client_credentials".to_string()], "scim", None)
        .await
        .unwrap()
        .client_id;
    admin(&s).create_api_user("acme", "svc-acme", None).await.unwrap();
    let token = admin(&s).create_token("acme", None).await.unwrap();
    let jane = portal(&s).invite("acme", "jane@acme.test", "operator:alice").await.unwrap();
    let jane_id = portal(&s).list_system_users("acme").await.unwrap()[0].id;
    assert_eq!(jane.email, "jane@acme.test");

    let mut b = system_user(&s, "globex", "gina@globex.test").await;
    let csrf = b.get("/portal/t/globex/credentials").await.csrf();
    for page in ["credentials", "connect", "people"] {
        let p = b.get(&format!("/portal/t/acme/{page}")).await;
        assert_eq!(p.status, 404, "{page}");
        assert!(!p.body.contains("svc-acme") && !p.body.contains(&client));
    }
    let t = "/portal/t/acme";
    let posts = [
        format!("{t}/credentials/tokens"),
        format!("{t}/credentials/tokens/{}/revoke", token.id),
        format!("{t}/credentials/clients"),
        format!("{t}/credentials/clients/{client}/secrets"),
        format!("{t}/credentials/clients/{client}/secrets/1/revoke"),
        format!("{t}/credentials/api-users"),
        format!("{t}/credentials/api-users/svc-acme/password"),
        format!("{t}/credentials/api-users/svc-acme/disable"),
        format!("{t}/credentials/api-users/svc-acme/enable"),
        format!("{t}/connect/token"),
        format!("{t}/people/invite"),
        format!("{t}/people/users/{jane_id}/disable"),
        format!("{t}/people/users/{jane_id}/enable"),
        format!("{t}/people/users/{jane_id}/delete"),
        format!("{t}/people/sso"),
        format!("{t}/people/sso/remove"),
    ];
    let fields = [
        ("username", "svc-other"),
        ("grant", "client_credentials"),
        ("scopes", "scim"),
        ("email", "eve@acme.test"),
        ("issuer", "https://idp.example.test"),
        ("client_id", "x"),
        ("domains", "acme.test"),
    ];
    for path in &posts {
        let p = post(&mut b, &csrf, path, &fields).await;
        assert_eq!(p.status, 404, "{path}: {}", p.body);
    }
    // Nothing changed.
    assert_eq!(admin(&s).list_tokens("acme").await.unwrap().len(), 2);
    assert!(admin(&s).list_tokens("acme").await.unwrap().iter().all(|t| t.state == "active"));
    assert_eq!(admin(&s).list_clients().await.unwrap()[0].secrets.len(), 1);
    let users = admin(&s).list_api_users("acme").await.unwrap();
    assert!(users.len() == 1 && users[0].disabled.is_none());
    let people = portal(&s).list_system_users("acme").await.unwrap();
    assert!(people.len() == 1 && !people[0].disabled);
    assert!(portal(&s).sso_settings("acme").await.unwrap().is_none());
    assert_eq!(s.get_as(&token.token, "/Users").await.status, 200);
}
