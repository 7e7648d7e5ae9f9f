//! Federated trusts over HTTP, against a local issuer with rotating keys on loopback: the
//! JWT bearer grant (RFC 7523 §2.1) turns a trusted issuer's token into a scimd access
//! token for the tenant (end to end: assertion → token → SCIM request); a client bound
//! to a trust authenticates with that issuer's tokens (workload identity federation);
//! wrong issuer, audience, subject, claims, lifetime or signature are refused; several
//! trusts per tenant; a tenant's trust never admits another tenant.

use serde_json::{Value, json};

use crate::common::{Options, Resp, TestServer};

use crate::issuer::{Issuer, Signing, jti, now};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

async fn server() -> TestServer {
    let oauth = scimd_server::oauth::OAuthConfig { federation_allow_http_loopback: true, ..Default::default() };
    TestServer::start_with(Options { oauth, ..Options::default() }).await
}

async fn admin(s: &TestServer, op: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
    let mut req = s.client.request(method, s.root(&format!("/admin/v1{path}"))).bearer_auth(op);
    if let Some(b) = body {
        req = req.json(&b);
    }
    s.send(req).await
}

async fn add_trust(s: &TestServer, op: &str, tenant: &str, body: Value) {
    let r = admin(s, op, reqwest::Method::POST, &format!("/tenants/{tenant}/trusts"), Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// A token of the issuer for `sub`, meant for `aud`.
fn claims(idp: &Issuer, sub: &str, aud: &str) -> Value {
    json!({"iss": idp.issuer(), "sub": sub, "aud": aud, "iat": now(), "exp": now() + 300, "jti": jti()})
}

fn with(mut c: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

async fn grant(s: &TestServer, tenant: &str, assertion: &str) -> Resp {
    s.post_form("/oauth2/token", None, &[("grant_type", JWT_BEARER), ("assertion", assertion), ("tenant", tenant)])
        .await
}

fn not_accepted(r: &Resp) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.body);
}

#[tokio::test]
async fn a_trusted_issuers_token_becomes_a_scimd_token_end_to_end() {
    let s = server().await;
    let op = s.operator_token().await;
    let idp = Issuer::start().await;
    // No jwks_uri: discovered from the issuer's metadata.
    add_trust(
        &s,
        &op,
        "acme",
        json!({"name": "sync", "issuer": idp.issuer(), "audiences": ["scimd-acme"],
               "subjects": ["workload-1"], "scopes": ["scim:read"]}),
    )
    .await;
    let r = grant(&s, "acme", &idp.sign(&claims(&idp, "workload-1", "scimd-acme"), Signing::Es256)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "scim:read");
    assert!(r.body["expires_in"].as_i64().unwrap() <= 300, "never beyond the assertion");
    let access = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(s.get_as(&access, "/Users").await.status, 200);
    let created = s
        .post_as(
            &access,
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x"}),
        )
        .await;
    assert_eq!(created.status, 403, "the trust grants reading only: {}", created.body);
    // RS256 tokens of the issuer work too; an issuer's token may be presented again until
    // it expires (identity providers' tokens are reused), unlike a client's own assertion.
    let rs = idp.sign(&claims(&idp, "workload-1", "scimd-acme"), Signing::Rs256);
    assert_eq!(grant(&s, "acme", &rs).await.status, 200);
    assert_eq!(grant(&s, "acme", &rs).await.status, 200);

    let bad = [
        with(claims(&idp, "workload-1", "scimd-acme"), json!({"iss": "https://evil.example"})),
        claims(&idp, "workload-2", "scimd-acme"),
        claims(&idp, "workload-1", "scimd-other"),
        with(claims(&idp, "workload-1", "scimd-acme"), json!({"exp": now() - 600})),
        with(claims(&idp, "workload-1", "scimd-acme"), json!({"exp": now() + 3 * 86400})),
        with(claims(&idp, "workload-1", "scimd-acme"), json!({"iat": now() + 3600})),
    ];
    for c in bad {
        not_accepted(&grant(&s, "acme", &idp.sign(&c, Signing::Es256)).await);
    }
    for how in [Signing::None, Signing::Hs256, Signing::UnknownKid] {
        not_accepted(&grant(&s, "acme", &idp.sign(&claims(&idp, "workload-1", "scimd-acme"), how)).await);
    }
    // Asking for more than the trust grants.
    let r = s
        .post_form(
            "/oauth2/token",
            None,
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", &idp.sign(&claims(&idp, "workload-1", "scimd-acme"), Signing::Es256)),
                ("tenant", "acme"),
                ("scope", "scim"),
            ],
        )
        .await;
    assert_eq!((r.status, r.body["error"].as_str()), (400, Some("invalid_scope")), "{}", r.body);
    // No tenant named, no assertion.
    let r = s.post_form("/oauth2/token", None, &[("grant_type", JWT_BEARER), ("assertion", "x.y.z")]).await;
    assert_eq!(r.status, 400);
    let r = s.post_form("/oauth2/token", None, &[("grant_type", JWT_BEARER), ("tenant", "acme")]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn several_trusts_per_tenant_and_never_another_tenants() {
    let s = server().await;
    let op = s.operator_token().await;
    s.tenant_token("globex").await;
    let idp = Issuer::start().await;
    let other_idp = Issuer::start().await;
    add_trust(
        &s,
        &op,
        "acme",
        json!({"name": "reader", "issuer": idp.issuer(), "jwks_uri": idp.jwks_uri(), "audiences": ["scimd"],
               "subjects": ["reader"], "scopes": ["scim:read"]}),
    )
    .await;
    // Entra-style: any subject of the issuer whose claims say the right directory and app.
    add_trust(
        &s,
        &op,
        "acme",
        json!({"name": "entra", "issuer": idp.issuer(), "audiences": ["api://scimd"],
               "claims": {"tid": "dir-1", "appid": "app-1"}}),
    )
    .await;
    add_trust(
        &s,
        &op,
        "globex",
        json!({"name": "theirs", "issuer": other_idp.issuer(), "audiences": ["scimd"], "subjects": ["reader"]}),
    )
    .await;
    let r = admin(&s, &op, reqwest::Method::GET, "/tenants/acme/trusts", None).await;
    let names: Vec<&str> = r.body.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["entra", "reader"]);

    let reader = idp.sign(&claims(&idp, "reader", "scimd"), Signing::Es256);
    assert_eq!(grant(&s, "acme", &reader).await.body["scope"], "scim:read");
    let entra = with(claims(&idp, "sp-object-id", "api://scimd"), json!({"tid": "dir-1", "appid": "app-1"}));
    let r = grant(&s, "acme", &idp.sign(&entra, Signing::Es256)).await;
    assert_eq!((r.status, r.body["scope"].as_str()), (200, Some("scim")), "{}", r.body);
    let other_app = with(entra.clone(), json!({"appid": "app-2"}));
    not_accepted(&grant(&s, "acme", &idp.sign(&other_app, Signing::Es256)).await);

    // acme's trusts never admit globex, and globex's issuer never reaches acme.
    not_accepted(&grant(&s, "globex", &reader).await);
    let theirs = other_idp.sign(&claims(&other_idp, "reader", "scimd"), Signing::Es256);
    assert_eq!(grant(&s, "globex", &theirs).await.status, 200);
    not_accepted(&grant(&s, "acme", &theirs).await);
    not_accepted(&grant(&s, "nobody", &theirs).await);
    // A token for acme opens acme only.
    let access = grant(&s, "acme", &reader).await.body["access_token"].as_str().unwrap().to_string();
    let ours = s.create_user("in-acme").await;
    assert_eq!(s.get_as(&access, &format!("/Users/{}", ours["id"].as_str().unwrap())).await.status, 200);
    let globex_token = s.tenant_token("globex").await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "in-globex"});
    let theirs_user = s.post_as(&globex_token, "/Users", &user).await;
    assert_eq!(theirs_user.status, 201, "{}", theirs_user.body);
    let path = format!("/Users/{}", theirs_user.body["id"].as_str().unwrap());
    assert_eq!(s.get_as(&access, &path).await.status, 404);

    // Removing a trust: its tokens are refused from then on.
    let r = admin(&s, &op, reqwest::Method::DELETE, "/tenants/acme/trusts/reader", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    not_accepted(&grant(&s, "acme", &reader).await);
    let r = admin(&s, &op, reqwest::Method::DELETE, "/tenants/acme/trusts/reader", None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_client_bound_to_a_trust_authenticates_with_the_issuers_tokens() {
    let s = server().await;
    let op = s.operator_token().await;
    let idp = Issuer::start().await;
    add_trust(
        &s,
        &op,
        "acme",
        json!({"name": "wif", "issuer": idp.issuer(), "audiences": ["api://AzureADTokenExchange"],
               "subjects": ["system:serviceaccount:sync:scim"]}),
    )
    .await;
    let body = json!({"tenants": ["acme"], "auth_method": "private_key_jwt", "trust": "wif"});
    let made = admin(&s, &op, reqwest::Method::POST, "/clients", Some(body)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["client_id"].as_str().unwrap().to_string();
    let cc = |assertion: String| {
        let id = id.clone();
        let s = &s;
        async move {
            s.post_form(
                "/oauth2/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    let workload = claims(&idp, "system:serviceaccount:sync:scim", "api://AzureADTokenExchange");
    let r = cc(idp.sign(&workload, Signing::Es256)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(s.get_as(r.body["access_token"].as_str().unwrap(), "/Users").await.status, 200);
    for c in [
        claims(&idp, "system:serviceaccount:other:x", "api://AzureADTokenExchange"),
        claims(&idp, "system:serviceaccount:sync:scim", "scimd"),
        with(workload.clone(), json!({"exp": now() - 600})),
    ] {
        assert_eq!(cc(idp.sign(&c, Signing::Es256)).await.status, 401);
    }
    // The issuer rotates its keys: the new kid is fetched, the old key refused.
    idp.rotate();
    assert_eq!(cc(idp.sign(&workload, Signing::Es256)).await.status, 200);
    assert_eq!(cc(idp.sign(&workload, Signing::OldKey)).await.status, 401);
    // The trust removed: the client can no longer authenticate.
    admin(&s, &op, reqwest::Method::DELETE, "/tenants/acme/trusts/wif", None).await;
    assert_eq!(cc(idp.sign(&workload, Signing::Es256)).await.status, 401);
}

#[tokio::test]
async fn bad_trusts_are_refused_and_change_nothing() {
    let s = server().await;
    let op = s.operator_token().await;
    let good = json!({"name": "t", "issuer": "https://login.example.com/v2.0", "audiences": ["a"], "subjects": ["s"]});
    for (change, why) in [
        (json!({"issuer": "http://login.example.com"}), "http issuer"),
        (json!({"issuer": "not a url"}), "not a URL"),
        (json!({"audiences": []}), "no audience"),
        (json!({"subjects": []}), "no subject constraint"),
        (json!({"name": "bad name!"}), "bad name"),
        (json!({"claims": {"aud": "x"}}), "reserved claim"),
        (json!({"jwks_uri": "ftp://x"}), "bad jwks_uri"),
        (json!({"scopes": ["bad\"scope"]}), "bad scope"),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = admin(&s, &op, reqwest::Method::POST, "/tenants/acme/trusts", Some(body)).await;
        assert_eq!(r.status, 400, "{why}: {}", r.body);
    }
    let r = admin(&s, &op, reqwest::Method::GET, "/tenants/acme/trusts", None).await;
    assert_eq!(r.body, json!([]));
    add_trust(&s, &op, "acme", good.clone()).await;
    let r = admin(&s, &op, reqwest::Method::POST, "/tenants/acme/trusts", Some(good)).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = admin(&s, &op, reqwest::Method::GET, "/tenants/nobody/trusts", None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn an_identity_providers_own_tokens_open_the_scim_api_when_its_trust_says_so() {
    let s = server().await;
    let op = s.operator_token().await;
    let okta = Issuer::start().await;
    let entra = Issuer::start().await;
    add_trust(
        &s,
        &op,
        "acme",
        json!({"name": "okta", "issuer": okta.issuer(), "audiences": ["api://scimd"],
               "subjects": ["okta-scim-app"], "scopes": ["scim"], "accept_bearer": true}),
    )
    .await;
    add_trust(
        &s,
        &op,
        "acme",
        json!({"name": "entra", "issuer": entra.issuer(), "audiences": ["api://scimd"], "subjects": ["app"]}),
    )
    .await;
    let token = okta.sign(&claims(&okta, "okta-scim-app", "api://scimd"), Signing::Es256);
    assert_eq!(s.get_as(&token, "/Users").await.status, 200, "the identity provider's own token");
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "from-okta"});
    assert_eq!(s.post_as(&token, "/Users", &user).await.status, 201);
    // scimd's own tokens are unaffected.
    assert_eq!(s.get("/Users").await.status, 200);

    for bad in [
        okta.sign(&claims(&okta, "okta-scim-app", "api://other"), Signing::Es256),
        okta.sign(&claims(&okta, "someone", "api://scimd"), Signing::Es256),
        okta.sign(&with(claims(&okta, "okta-scim-app", "api://scimd"), json!({"exp": now() - 600})), Signing::Es256),
        okta.sign(&claims(&okta, "okta-scim-app", "api://scimd"), Signing::None),
        okta.sign(&claims(&okta, "okta-scim-app", "api://scimd"), Signing::Hs256),
        okta.sign(&claims(&okta, "okta-scim-app", "api://scimd"), Signing::UnknownKid),
        // A trust that does not accept bearer tokens.
        entra.sign(&claims(&entra, "app", "api://scimd"), Signing::Es256),
    ] {
        assert_eq!(s.get_as(&bad, "/Users").await.status, 401);
    }
    // The token opens acme only.
    let globex_token = s.tenant_token("globex").await;
    let theirs = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "in-globex"});
    let theirs = s.post_as(&globex_token, "/Users", &theirs).await;
    let path = format!("/Users/{}", theirs.body["id"].as_str().unwrap());
    assert_eq!(s.get_as(&token, &path).await.status, 404);
    // The trust removed: refused at once.
    admin(&s, &op, reqwest::Method::DELETE, "/tenants/acme/trusts/okta", None).await;
    assert_eq!(s.get_as(&token, "/Users").await.status, 401);
}
