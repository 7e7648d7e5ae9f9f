//! A mock OpenID Connect provider for tests: an HTTP server on a loopback port with
//! discovery, a JWKS, `/authorize` and `/token`, strict where a real provider is (the
//! client, its redirect URIs and secret; codes used once; PKCE S256 checked) and able to
//! misbehave on demand ([`Trick`]) for negative tests.
//!
//! `/authorize` shows no page: for a valid request it redirects at once to the redirect
//! URI with a code for the user currently set ([`MockOidc::set_user`]), so a browser test
//! simply follows redirects. ID tokens are signed RS256 with the committed test key
//! (`oidc_test_key.pem`, PKCS#8; `ring` cannot make RSA keys) or ES256 with a P-256 key
//! made at start; [`MockOidc::rotate_key`] replaces the P-256 key, as a provider rotating
//! its keys does.
#![allow(dead_code)] // not every test binary uses every helper

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The client registered at start (confidential, with [`CLIENT_SECRET`]).
pub const CLIENT_ID: &str = "scimd-portal";
pub const CLIENT_SECRET: &str = "mock-client-secret";
const RSA_KID: &str = "rsa-1";

/// The person who signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

impl Default for User {
    /// Ann, with a verified `ann@example.com`, in the group `staff`.
    fn default() -> User {
        User {
            sub: "user-ann".into(),
            email: Some("ann@example.com".into()),
            email_verified: true,
            name: Some("Ann Example".into()),
            groups: vec!["staff".into()],
        }
    }
}

/// A misbehaviour of the provider, for negative tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trick {
    /// `/authorize` redirects back with `error=access_denied` (the person declined).
    AccessDenied,
    /// The ID token carries another nonce.
    WrongNonce,
    /// The ID token is meant for another client.
    WrongAudience,
    /// Two audiences (the client's and another) and no `azp`.
    SeveralAudiences,
    /// The ID token expired an hour ago.
    Expired,
    /// The ID token is issued an hour from now.
    FromTheFuture,
    /// The ID token's `iss` is another issuer.
    WrongIssuer,
    /// The signature is damaged.
    BadSignature,
    /// `alg: none`, no signature.
    AlgNone,
    /// `alg: HS256` (a shared-secret MAC).
    Hs256,
    /// Signed by a P-256 key the JWKS never publishes.
    UnknownKid,
    /// The token answer has no ID token.
    NoIdToken,
}

/// Which key signs ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
}

/// Requests served so far, by endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hits {
    pub discovery: usize,
    pub jwks: usize,
    pub authorize: usize,
    pub token: usize,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    user: User,
}

struct Inner {
    client_id: String,
    client_secret: Option<String>,
    redirect_uris: Vec<String>,
    user: User,
    trick: Option<Trick>,
    alg: Alg,
    /// The current P-256 key and its kid.
    ec: (String, EcdsaKeyPair),
    rotations: usize,
    discovery_issuer: Option<String>,
    s256: bool,
    codes: HashMap<String, Grant>,
    hits: Hits,
}

struct Shared {
    issuer: String,
    rsa: RsaKeyPair,
    inner: Mutex<Inner>,
}

/// A running mock provider (stops when dropped).
pub struct MockOidc {
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A mock provider with the defaults: client [`CLIENT_ID`] with [`CLIENT_SECRET`], no
/// redirect URI yet, the default [`User`], RS256, no trick.
pub async fn start() -> MockOidc {
    MockOidc::start().await
}

fn p256() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

fn random() -> String {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl MockOidc {
    pub async fn start() -> MockOidc {
        let pem = include_str!("oidc_test_key.pem");
        let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let rsa = RsaKeyPair::from_pkcs8(&STANDARD.decode(der).unwrap()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Inner {
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            redirect_uris: Vec::new(),
            user: User::default(),
            trick: None,
            alg: Alg::Rs256,
            ec: ("ec-0".into(), p256()),
            rotations: 0,
            discovery_issuer: None,
            s256: true,
            codes: HashMap::new(),
            hits: Hits::default(),
        };
        let shared = Arc::new(Shared { issuer, rsa, inner: Mutex::new(inner) });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        MockOidc { shared, _stop: tx }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.shared.inner.lock().unwrap())
    }

    /// Who signs in from now on.
    pub fn set_user(&self, user: User) {
        self.with(|i| i.user = user);
    }

    /// Misbehave from now on (`None`: behave).
    pub fn set_trick(&self, trick: Option<Trick>) {
        self.with(|i| i.trick = trick);
    }

    /// Sign ID tokens with this algorithm from now on.
    pub fn sign_with(&self, alg: Alg) {
        self.with(|i| i.alg = alg);
    }

    /// Replaces the P-256 key by a new one with a new kid (the JWKS publishes only the new
    /// one), and signs ES256 with it from now on.
    pub fn rotate_key(&self) {
        self.with(|i| {
            i.rotations += 1;
            i.ec = (format!("ec-{}", i.rotations), p256());
            i.alg = Alg::Es256;
        });
    }

    /// Registers the client as `id`, confidential with `secret` or public without.
    pub fn set_client(&self, id: &str, secret: Option<&str>) {
        self.with(|i| {
            i.client_id = id.into();
            i.client_secret = secret.map(Into::into);
        });
    }

    /// Accepts `uri` as a redirect URI of the client (none is accepted until then).
    pub fn allow_redirect_uri(&self, uri: &str) {
        self.with(|i| i.redirect_uris.push(uri.into()));
    }

    /// The discovery document names this issuer instead of the real one.
    pub fn set_discovery_issuer(&self, issuer: Option<&str>) {
        self.with(|i| i.discovery_issuer = issuer.map(Into::into));
    }

    /// Whether discovery lists S256 among the PKCE methods (else only `plain`).
    pub fn set_s256(&self, on: bool) {
        self.with(|i| i.s256 = on);
    }

    pub fn hits(&self) -> Hits {
        self.with(|i| i.hits)
    }
}

async fn discovery(State(s): State<Arc<Shared>>) -> Response {
    let mut i = s.inner.lock().unwrap();
    i.hits.discovery += 1;
    let base = &s.issuer;
    axum::Json(json!({
        "issuer": i.discovery_issuer.clone().unwrap_or_else(|| base.clone()),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": if i.s256 { json!(["S256"]) } else { json!(["plain"]) },
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
        "scopes_supported": ["openid", "email", "profile"],
    }))
    .into_response()
}

async fn jwks(State(s): State<Arc<Shared>>) -> Response {
    let mut i = s.inner.lock().unwrap();
    i.hits.jwks += 1;
    let rsa = RsaPublicKeyComponents::<Vec<u8>>::from(s.rsa.public());
    let point = i.ec.1.public_key().as_ref();
    axum::Json(json!({"keys": [
        {"kty": "RSA", "kid": RSA_KID, "use": "sig", "alg": "RS256", "n": b64(&rsa.n), "e": b64(&rsa.e)},
        {"kty": "EC", "crv": "P-256", "kid": i.ec.0, "use": "sig", "alg": "ES256",
         "x": b64(&point[1..33]), "y": b64(&point[33..])},
    ]}))
    .into_response()
}

fn bad_request(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, why.to_string()).into_response()
}

/// `uri` with these query parameters added.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse(uri).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.into()
}

fn found(location: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

async fn authorize(State(s): State<Arc<Shared>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut i = s.inner.lock().unwrap();
    i.hits.authorize += 1;
    let p = |name: &str| q.get(name).map(String::as_str).unwrap_or_default();
    // Until the client and its redirect URI are known, errors are shown, not redirected.
    if p("client_id") != i.client_id {
        return bad_request("unknown client_id");
    }
    if !i.redirect_uris.iter().any(|u| u == p("redirect_uri")) {
        return bad_request("redirect_uri not registered for this client");
    }
    let redirect_uri = p("redirect_uri").to_string();
    let state = p("state");
    let error = if p("response_type") != "code" {
        Some("unsupported_response_type")
    } else if !p("scope").split(' ').any(|s| s == "openid") {
        Some("invalid_scope")
    } else if p("code_challenge").is_empty() || p("code_challenge_method") != "S256" {
        Some("invalid_request")
    } else if i.trick == Some(Trick::AccessDenied) {
        Some("access_denied")
    } else {
        None
    };
    if let Some(error) = error {
        return found(with_query(&redirect_uri, &[("error", error), ("state", state)]));
    }
    let code = random();
    let grant = Grant {
        redirect_uri: redirect_uri.clone(),
        challenge: p("code_challenge").to_string(),
        nonce: q.get("nonce").cloned(),
        user: i.user.clone(),
    };
    i.codes.insert(code.clone(), grant);
    found(with_query(&redirect_uri, &[("code", &code), ("state", state)]))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({"error": error, "error_description": format!("mock provider: {error}")})))
        .into_response()
}

/// `id:secret` of a Basic header, each form-decoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(value).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let dec = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((dec(id)?, dec(secret)?))
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut i = s.inner.lock().unwrap();
    i.hits.token += 1;
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let p = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if p("grant_type") != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let client_ok = match &i.client_secret {
        Some(secret) => basic_credentials(&headers) == Some((i.client_id.clone(), secret.clone())),
        None => headers.get(header::AUTHORIZATION).is_none() && p("client_id") == i.client_id,
    };
    if !client_ok {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    // Used once, whatever comes of it.
    let Some(grant) = i.codes.remove(p("code")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verified = b64(Sha256::digest(p("code_verifier").as_bytes())) == grant.challenge;
    if grant.redirect_uri != p("redirect_uri") || !verified {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let mut answer = json!({"access_token": random(), "token_type": "Bearer", "expires_in": 300});
    if i.trick != Some(Trick::NoIdToken) {
        answer["id_token"] = Value::String(mint(&s, &i, &grant));
    }
    axum::Json(answer).into_response()
}

/// The ID token for `grant`, with the current trick applied.
fn mint(s: &Shared, i: &Inner, grant: &Grant) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let user = &grant.user;
    let mut claims = json!({
        "iss": s.issuer, "sub": user.sub, "aud": i.client_id,
        "exp": now + 300, "iat": now, "auth_time": now,
        "email_verified": user.email_verified, "groups": user.groups,
    });
    for (name, value) in [("nonce", &grant.nonce), ("email", &user.email), ("name", &user.name)] {
        if let Some(v) = value {
            claims[name] = json!(v);
        }
    }
    match i.trick {
        Some(Trick::WrongNonce) => claims["nonce"] = json!("not-the-nonce"),
        Some(Trick::WrongAudience) => claims["aud"] = json!("another-client"),
        Some(Trick::SeveralAudiences) => claims["aud"] = json!([i.client_id, "another-client"]),
        Some(Trick::Expired) => (claims["iat"], claims["exp"]) = (json!(now - 7200), json!(now - 3600)),
        Some(Trick::FromTheFuture) => (claims["iat"], claims["exp"]) = (json!(now + 3600), json!(now + 7200)),
        Some(Trick::WrongIssuer) => claims["iss"] = json!(format!("{}/other", s.issuer)),
        _ => {}
    }
    let rng = SystemRandom::new();
    let encode = |header: Value| format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let (input, mut signature) = match (i.trick, i.alg) {
        (Some(Trick::AlgNone), _) => (encode(json!({"alg": "none", "typ": "JWT"})), Vec::new()),
        (Some(Trick::Hs256), _) => (encode(json!({"alg": "HS256", "typ": "JWT"})), random().into_bytes()),
        (Some(Trick::UnknownKid), _) => {
            let input = encode(json!({"alg": "ES256", "kid": "unpublished", "typ": "JWT"}));
            let sig = p256().sign(&rng, input.as_bytes()).unwrap();
            (input, sig.as_ref().to_vec())
        }
        (_, Alg::Rs256) => {
            let input = encode(json!({"alg": "RS256", "kid": RSA_KID, "typ": "JWT"}));
            let mut sig = vec![0; s.rsa.public().modulus_len()];
            s.rsa.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).unwrap();
            (input, sig)
        }
        (_, Alg::Es256) => {
            let input = encode(json!({"alg": "ES256", "kid": i.ec.0, "typ": "JWT"}));
            let sig = i.ec.1.sign(&rng, input.as_bytes()).unwrap();
            (input, sig.as_ref().to_vec())
        }
    };
    if i.trick == Some(Trick::BadSignature) {
        signature[10] ^= 0x01;
    }
    format!("{input}.{}", b64(signature))
}

/// Where `/authorize` sent the browser back, read without following the redirect.
#[derive(Debug)]
pub struct Callback {
    pub status: u16,
    /// The `Location`, if any.
    pub location: Option<String>,
    /// Its query parameters (`code`, `state`, or `error`).
    pub params: HashMap<String, String>,
}

/// GETs an authorization URL as a browser would, but stops at the redirect.
pub async fn authorize_once(url: &str) -> Callback {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = http.get(url).send().await.unwrap();
    let location = res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
    let params = location
        .as_deref()
        .map(|l| reqwest::Url::parse(l).unwrap().query_pairs().into_owned().collect())
        .unwrap_or_default();
    Callback { status: res.status().as_u16(), location, params }
}
