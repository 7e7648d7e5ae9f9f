//! The portal's OpenID Connect relying party (`scimd_server::oidc`) against a mock provider
//! over real HTTP on loopback: discovery, the authorization redirect, the code exchange with
//! PKCE, ID token verification (RS256 and ES256, key rotation), each way a provider can
//! misbehave refused, https required off loopback, and who is admitted.

use chrono::Utc;
use scimd_server::oidc::{self, ClientCreds, Exchange, Identity, OidcError, Provider, Relying, Start};

#[path = "../support/oidc.rs"]
pub(crate) mod mock;
use mock::{Alg, CLIENT_ID, CLIENT_SECRET, MockOidc, Trick, User};

const REDIRECT: &str = "https://portal.example.com/portal/sso/callback";

async fn mock() -> MockOidc {
    let m = mock::start().await;
    m.allow_redirect_uri(REDIRECT);
    m
}

fn confidential() -> ClientCreds {
    ClientCreds { id: CLIENT_ID.into(), secret: Some(CLIENT_SECRET.into()) }
}

/// Starts a sign-in and follows the browser to the provider and back: the pending sign-in
/// and the code.
async fn authorize(rp: &Relying, provider: &Provider) -> (Start, String) {
    let start = rp.start(provider, CLIENT_ID, REDIRECT);
    let back = mock::authorize_once(&start.url).await;
    assert_eq!(back.status, 302, "{back:?}");
    assert!(back.location.as_deref().unwrap().starts_with(REDIRECT), "{back:?}");
    assert_eq!(back.params.get("state"), Some(&start.state));
    let code = back.params.get("code").cloned().unwrap_or_else(|| panic!("no code: {back:?}"));
    (start, code)
}

async fn finish(
    rp: &Relying,
    provider: &Provider,
    client: &ClientCreds,
    start: &Start,
    code: &str,
) -> Result<Identity, OidcError> {
    let exchange = Exchange { redirect_uri: REDIRECT, code, verifier: &start.verifier, nonce: &start.nonce };
    rp.finish(provider, client, &exchange, Utc::now()).await
}

/// A whole sign-in through the mock.
async fn sign_in(rp: &Relying, provider: &Provider, client: &ClientCreds) -> Result<Identity, OidcError> {
    let (start, code) = authorize(rp, provider).await;
    finish(rp, provider, client, &start, &code).await
}

fn refused(r: Result<Identity, OidcError>) -> String {
    match r {
        Err(OidcError::Refused(m)) => m,
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn sign_in_with_a_confidential_client_rs256() {
    let m = mock().await;
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();
    assert_eq!(provider.issuer(), m.issuer());
    let identity = sign_in(&rp, &provider, &confidential()).await.unwrap();
    assert_eq!(
        identity,
        Identity {
            subject: "user-ann".into(),
            email: Some("ann@example.com".into()),
            email_verified: true,
            name: Some("Ann Example".into()),
            groups: vec!["staff".into()],
        }
    );
    // The provider is discovered once and kept.
    let again = rp.discover(m.issuer()).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&provider, &again));
    let hits = m.hits();
    assert_eq!((hits.discovery, hits.jwks, hits.token), (1, 1, 1));
}

#[tokio::test]
async fn sign_in_with_a_public_client_es256() {
    let m = mock().await;
    m.set_client("public-portal", None);
    m.sign_with(Alg::Es256);
    m.set_user(User { sub: "bo".into(), email: None, email_verified: false, name: None, groups: vec![] });
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();
    let start = rp.start(&provider, "public-portal", REDIRECT);
    let back = mock::authorize_once(&start.url).await;
    let code = back.params.get("code").unwrap();
    let client = ClientCreds { id: "public-portal".into(), secret: None };
    let identity = finish(&rp, &provider, &client, &start, code).await.unwrap();
    assert_eq!(
        identity,
        Identity { subject: "bo".into(), email: None, email_verified: false, name: None, groups: vec![] }
    );
}

#[tokio::test]
async fn pkce_is_enforced_and_codes_are_single_use() {
    let m = mock().await;
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();

    // A wrong verifier: the provider answers invalid_grant, the client says why.
    let (start, code) = authorize(&rp, &provider).await;
    let wrong = Start { verifier: "x".repeat(43), ..start.clone() };
    let message = refused(finish(&rp, &provider, &confidential(), &wrong, &code).await);
    assert!(message.contains("invalid_grant"), "{message}");
    assert!(!message.contains(&code));
    // The code is spent now, even with the right verifier.
    assert!(refused(finish(&rp, &provider, &confidential(), &start, &code).await).contains("invalid_grant"));

    // The mock itself refuses a wrong verifier, asked directly.
    let (start, code) = authorize(&rp, &provider).await;
    let res = reqwest::Client::new()
        .post(format!("{}/token", m.issuer()))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    drop(start);

    // A good sign-in succeeds once; its code replayed is refused.
    let (start, code) = authorize(&rp, &provider).await;
    finish(&rp, &provider, &confidential(), &start, &code).await.unwrap();
    assert!(refused(finish(&rp, &provider, &confidential(), &start, &code).await).contains("invalid_grant"));
}

#[tokio::test]
async fn every_misbehaviour_is_refused() {
    let m = mock().await;
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();
    for (trick, says) in [
        (Trick::WrongNonce, "attempt"),
        (Trick::WrongAudience, "another application"),
        (Trick::SeveralAudiences, "authorized party"),
        (Trick::Expired, "expired"),
        (Trick::FromTheFuture, "future"),
        (Trick::WrongIssuer, "another provider"),
        (Trick::BadSignature, "signature"),
        (Trick::AlgNone, "RS256 or ES256"),
        (Trick::Hs256, "RS256 or ES256"),
        (Trick::UnknownKid, "does not publish"),
    ] {
        m.set_trick(Some(trick));
        let message = refused(sign_in(&rp, &provider, &confidential()).await);
        assert!(message.contains(says), "{trick:?}: {message}");
    }
    m.set_trick(Some(Trick::NoIdToken));
    assert!(matches!(sign_in(&rp, &provider, &confidential()).await, Err(OidcError::Provider(_))));
    // The person declines: the browser comes back with an error instead of a code.
    m.set_trick(Some(Trick::AccessDenied));
    let start = rp.start(&provider, CLIENT_ID, REDIRECT);
    let back = mock::authorize_once(&start.url).await;
    assert_eq!(back.params.get("state"), Some(&start.state));
    assert!(matches!(oidc::authorization_error(&back.params["error"]), OidcError::Refused(_)));
    // Behaving again, the same provider works.
    m.set_trick(None);
    sign_in(&rp, &provider, &confidential()).await.unwrap();
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_unknown_keys_are_not_refetched_at_once() {
    let m = mock().await;
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();
    sign_in(&rp, &provider, &confidential()).await.unwrap();
    assert_eq!(m.hits().jwks, 1);

    m.rotate_key();
    sign_in(&rp, &provider, &confidential()).await.unwrap();
    assert_eq!(m.hits().jwks, 2, "the new key was fetched");
    sign_in(&rp, &provider, &confidential()).await.unwrap();
    assert_eq!(m.hits().jwks, 2, "and kept");

    // A key that does not exist: refused, without another fetch so soon after the last.
    m.set_trick(Some(Trick::UnknownKid));
    assert!(refused(sign_in(&rp, &provider, &confidential()).await).contains("does not publish"));
    assert_eq!(m.hits().jwks, 2);
}

#[tokio::test]
async fn an_unknown_key_is_looked_for_once() {
    let m = mock().await;
    m.set_trick(Some(Trick::UnknownKid));
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();
    for _ in 0..3 {
        refused(sign_in(&rp, &provider, &confidential()).await);
    }
    assert_eq!(m.hits().jwks, 2, "the discovery's fetch and one more");
}

#[tokio::test]
async fn the_issuer_must_match_exactly() {
    let m = mock().await;
    let rp = Relying::new(true).unwrap();
    // Configured with a trailing slash the provider does not write.
    let with_slash = format!("{}/", m.issuer());
    match rp.discover(&with_slash).await {
        Err(OidcError::Settings(msg)) => assert!(msg.contains("identical"), "{msg}"),
        other => panic!("{other:?}"),
    }
    // A provider naming another issuer.
    m.set_discovery_issuer(Some("https://evil.example.com"));
    assert!(matches!(rp.discover(m.issuer()).await, Err(OidcError::Settings(_))));
    assert_eq!(m.hits().jwks, 0, "nothing is read past a wrong document");
}

#[tokio::test]
async fn https_is_required_off_loopback_and_by_default() {
    let m = mock().await;
    let strict = Relying::new(false).unwrap();
    match strict.discover(m.issuer()).await {
        Err(OidcError::Settings(msg)) => assert!(msg.contains("https"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.hits().discovery, 0, "no request is made");
    let lax = Relying::new(true).unwrap();
    for issuer in ["http://idp.example.com", "http://10.1.2.3:8080", "not a url"] {
        assert!(matches!(lax.discover(issuer).await, Err(OidcError::Settings(_))), "{issuer}");
    }
}

#[tokio::test]
async fn providers_that_cannot_do_the_flow_are_reported() {
    let m = mock().await;
    m.set_s256(false);
    let rp = Relying::new(true).unwrap();
    match rp.discover(m.issuer()).await {
        Err(OidcError::Provider(msg)) => assert!(msg.contains("S256"), "{msg}"),
        other => panic!("{other:?}"),
    }
    // Nobody listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    match rp.discover(&format!("http://127.0.0.1:{port}")).await {
        Err(OidcError::Provider(msg)) => assert!(msg.contains("could not be reached"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_client_secret_is_the_settings_fault_not_the_person() {
    let m = mock().await;
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();
    let wrong = ClientCreds { id: CLIENT_ID.into(), secret: Some("not-the-secret".into()) };
    match sign_in(&rp, &provider, &wrong).await {
        Err(OidcError::Provider(msg)) => {
            assert!(msg.contains("invalid_client"), "{msg}");
            assert!(!msg.contains("not-the-secret"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn who_is_admitted() {
    let m = mock().await;
    let rp = Relying::new(true).unwrap();
    let provider = rp.discover(m.issuer()).await.unwrap();
    let domains = vec!["example.com".to_string()];
    let groups = vec!["portal-admins".to_string()];

    let ann = sign_in(&rp, &provider, &confidential()).await.unwrap();
    assert!(oidc::admits(&ann, &domains, &[]));
    assert!(!oidc::admits(&ann, &[], &groups));
    assert!(!oidc::admits(&ann, &[], &[]), "no rules admit nobody");

    m.set_user(User { email_verified: false, groups: vec!["portal-admins".into()], ..User::default() });
    let unverified = sign_in(&rp, &provider, &confidential()).await.unwrap();
    assert!(!oidc::admits(&unverified, &domains, &[]), "an unverified email does not count");
    assert!(oidc::admits(&unverified, &domains, &groups), "the group does");
}
