//! `private_key_jwt` client authentication (RFC 7523 §2.2) at the token endpoint, over
//! HTTP: a client registered with its public keys (inline, or at a `jwks_uri` served by a
//! local issuer with rotating keys) gets tokens with signed assertions, each used once;
//! every bad assertion is `invalid_client` (401), and such a client has no secret.

use serde_json::{Value, json};

use crate::common::{Options, Resp, TestServer};

use crate::issuer::{Issuer, Signing, jti, now};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn server() -> TestServer {
    let oauth = scimd_server::oauth::OAuthConfig { federation_allow_http_loopback: true, ..Default::default() };
    TestServer::start_with(Options { oauth, ..Options::default() }).await
}

/// Creates a client through the admin API; its id.
async fn client(s: &TestServer, body: Value) -> String {
    let op = s.operator_token().await;
    let r = s.send(s.client.post(s.root("/admin/v1/clients")).bearer_auth(&op).json(&body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get("client_secret").is_none(), "a private_key_jwt client has no secret: {}", r.body);
    r.body["client_id"].as_str().unwrap().to_string()
}

/// The claims of a good assertion of `id` for server `s`.
fn claims(s: &TestServer, id: &str) -> Value {
    json!({"iss": id, "sub": id, "aud": s.root("/oauth2/token"), "iat": now(), "exp": now() + 120, "jti": jti()})
}

fn with(mut c: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

async fn token(s: &TestServer, id: Option<&str>, assertion: &str) -> Resp {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ];
    if let Some(id) = id {
        form.push(("client_id", id));
    }
    s.post_form("/oauth2/token", None, &form).await
}

fn refused(r: &Resp) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.body["error"], "invalid_client");
}

#[tokio::test]
async fn a_client_with_keys_at_a_url_gets_tokens_with_assertions_used_once() {
    let s = server().await;
    let idp = Issuer::start().await;
    let id = client(
        &s,
        json!({"tenants": ["acme"], "auth_method": "private_key_jwt", "jwks_uri": idp.jwks_uri(), "scopes": ["scim"]}),
    )
    .await;
    let assertion = idp.sign(&claims(&s, &id), Signing::Es256);
    let r = token(&s, Some(&id), &assertion).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let access = r.body["access_token"].as_str().unwrap();
    assert_eq!(s.get_as(access, "/Users").await.status, 200, "the token opens the SCIM API");
    refused(&token(&s, Some(&id), &assertion).await);

    // Without client_id the assertion's sub names the client; RS256 works as ES256 does.
    let r = token(&s, None, &idp.sign(&claims(&s, &id), Signing::Rs256)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The issuer (as audience) is accepted as the token endpoint's URL is.
    let c = with(claims(&s, &id), json!({"aud": [s.root(""), "https://elsewhere.example"]}));
    assert_eq!(token(&s, Some(&id), &idp.sign(&c, Signing::Es256)).await.status, 200);

    // Introspection and revocation take assertions too (their own URL as audience).
    let own = with(claims(&s, &id), json!({"aud": s.root("/oauth2/introspect")}));
    let form = [
        ("token", access),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", &idp.sign(&own, Signing::Es256)),
    ];
    let r = s.post_form("/oauth2/introspect", None, &form).await;
    assert_eq!((r.status, &r.body["active"]), (200, &json!(true)), "{}", r.body);
    let own = with(claims(&s, &id), json!({"aud": s.root("/oauth2/revoke")}));
    let assertion = idp.sign(&own, Signing::Es256);
    let form = [("token", access), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &assertion)];
    assert_eq!(s.post_form("/oauth2/revoke", None, &form).await.status, 200);
    assert_eq!(s.get_as(access, "/Users").await.status, 401, "revoked");
    refused(&s.post_form("/oauth2/revoke", None, &form).await);

    // Every bad assertion is refused alike.
    let bad = [
        (with(claims(&s, &id), json!({"iss": "someone-else"})), Signing::Es256),
        (with(claims(&s, &id), json!({"sub": "someone-else"})), Signing::Es256),
        (with(claims(&s, &id), json!({"aud": "https://other.example/token"})), Signing::Es256),
        (with(claims(&s, &id), json!({"exp": now() - 600})), Signing::Es256),
        (with(claims(&s, &id), json!({"exp": now() + 2 * 3600})), Signing::Es256),
        (with(claims(&s, &id), json!({"exp": null})), Signing::Es256),
        (with(claims(&s, &id), json!({"nbf": now() + 600})), Signing::Es256),
        (with(claims(&s, &id), json!({"jti": null})), Signing::Es256),
        (claims(&s, &id), Signing::None),
        (claims(&s, &id), Signing::Hs256),
        (claims(&s, &id), Signing::UnknownKid),
    ];
    for (c, how) in bad {
        let r = token(&s, Some(&id), &idp.sign(&c, how.clone())).await;
        refused(&r);
        assert!(
            !r.body.to_string().contains("jti") && !r.body.to_string().contains("aud"),
            "no check named: {}",
            r.body
        );
    }
    // A forged signature: the claims changed after signing.
    let good = idp.sign(&claims(&s, &id), Signing::Es256);
    let parts: Vec<&str> = good.split('.').collect();
    let forged =
        format!("{}.{}.{}", parts[0], idp.sign(&claims(&s, &id), Signing::Es256).split('.').nth(1).unwrap(), parts[2]);
    refused(&token(&s, Some(&id), &forged).await);
    // Its client id with a secret, or another client's id on its assertion.
    refused(&s.post_form("/oauth2/token", Some((&id, "guess")), &[("grant_type", "client_credentials")]).await);
    refused(&token(&s, Some("another-client"), &idp.sign(&claims(&s, &id), Signing::Es256)).await);
    // A secret and an assertion together are a malformed request.
    let r = s
        .post_form(
            "/oauth2/token",
            Some((&id, "x")),
            &[
                ("grant_type", "client_credentials"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &good),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn rotated_keys_are_picked_up_and_the_old_one_is_refused() {
    let s = server().await;
    let idp = Issuer::start().await;
    let id =
        client(&s, json!({"tenants": ["acme"], "auth_method": "private_key_jwt", "jwks_uri": idp.jwks_uri()})).await;
    assert_eq!(token(&s, Some(&id), &idp.sign(&claims(&s, &id), Signing::Es256)).await.status, 200);
    let fetched = idp.jwks_hits();
    idp.rotate();
    // The new kid is unknown to scimd: it fetches the key set again, once.
    let r = token(&s, Some(&id), &idp.sign(&claims(&s, &id), Signing::Es256)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(idp.jwks_hits(), fetched + 1);
    // The old key is gone from the set: refused, and no fetch for it within the interval.
    refused(&token(&s, Some(&id), &idp.sign(&claims(&s, &id), Signing::OldKey)).await);
    refused(&token(&s, Some(&id), &idp.sign(&claims(&s, &id), Signing::UnknownKid)).await);
    assert_eq!(idp.jwks_hits(), fetched + 1, "unknown kids are refetched at most every minute");
}

#[tokio::test]
async fn inline_keys_and_switching_methods() {
    let s = server().await;
    let idp = Issuer::start().await;
    let id = client(&s, json!({"tenants": ["acme"], "auth_method": "private_key_jwt", "jwks": idp.jwks()})).await;
    assert_eq!(token(&s, Some(&id), &idp.sign(&claims(&s, &id), Signing::Es256)).await.status, 200);
    assert_eq!(idp.jwks_hits(), 0, "inline keys are never fetched");

    // A client with a secret moved to private_key_jwt: its secret stops working.
    let op = s.operator_token().await;
    let made =
        s.send(s.client.post(s.root("/admin/v1/clients")).bearer_auth(&op).json(&json!({"tenants": ["acme"]}))).await;
    let (cid, secret) = (made.body["client_id"].as_str().unwrap(), made.body["client_secret"].as_str().unwrap());
    let cc = [("grant_type", "client_credentials")];
    assert_eq!(s.post_form("/oauth2/token", Some((cid, secret)), &cc).await.status, 200);
    let path = format!("/admin/v1/clients/{cid}/authentication");
    let set = |body: Value| s.client.put(s.root(&path)).bearer_auth(&op).json(&body);
    let r = s.send(set(json!({"auth_method": "private_key_jwt", "jwks_uri": idp.jwks_uri()}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["auth_method"], "private_key_jwt");
    refused(&s.post_form("/oauth2/token", Some((cid, secret)), &cc).await);
    assert_eq!(token(&s, Some(cid), &idp.sign(&claims(&s, cid), Signing::Es256)).await.status, 200);
    // Back to secrets: the old secret stays revoked.
    assert_eq!(s.send(set(json!({"auth_method": "client_secret"}))).await.status, 200);
    refused(&s.post_form("/oauth2/token", Some((cid, secret)), &cc).await);
    refused(&token(&s, Some(cid), &idp.sign(&claims(&s, cid), Signing::Es256)).await);

    // Bad registrations change nothing.
    for body in [
        json!({"auth_method": "private_key_jwt"}),
        json!({"auth_method": "private_key_jwt", "jwks": {"keys": []}}),
        json!({"auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
        json!({"auth_method": "private_key_jwt", "jwks_uri": "http://idp.example.com/jwks"}),
        json!({"auth_method": "private_key_jwt", "jwks_uri": idp.jwks_uri(), "jwks": idp.jwks()}),
        json!({"auth_method": "private_key_jwt", "trust": "nobody"}),
        json!({"auth_method": "magic"}),
    ] {
        let r = s.send(set(body.clone())).await;
        assert!(matches!(r.status, 400 | 404), "{body}: {} {}", r.status, r.body);
    }
}

#[tokio::test]
async fn metadata_names_private_key_jwt_and_the_jwt_bearer_grant() {
    let s = server().await;
    let m = s.send(s.client.get(s.root("/.well-known/oauth-authorization-server"))).await;
    let has = |field: &str, v: &str| m.body[field].as_array().unwrap().iter().any(|x| x == v);
    for field in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        assert!(has(field, "private_key_jwt"), "{field}");
    }
    assert_eq!(m.body["token_endpoint_auth_signing_alg_values_supported"], json!(["RS256", "ES256"]));
    assert!(has("grant_types_supported", "urn:ietf:params:oauth:grant-type:jwt-bearer"));
}
