//! A local token issuer for tests: an HTTP server on a loopback port publishing OpenID
//! Connect discovery and a key set (JWKS), and signing whatever claims a test asks for
//! with its current key — ES256 with a P-256 key made at start, RS256 with the committed
//! test key (`oidc_test_key.pem`), or deliberately wrong (`alg: none`, HS256, a `kid` it
//! does not publish). [`Issuer::rotate`] replaces the P-256 key by a new one under a new
//! `kid`, and the key set then publishes only the new one, as an identity provider
//! rotating its keys does; the old key is kept to sign with, for tests that present it.
#![allow(dead_code)] // not every test binary uses every helper

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
};
use serde_json::{Value, json};

const RSA_KID: &str = "rsa-1";

/// How a token is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    /// ES256 with the current P-256 key.
    Es256,
    /// RS256 with the committed RSA key.
    Rs256,
    /// ES256 with the P-256 key before the last rotation (no longer published).
    OldKey,
    /// ES256 with the current key, but the header names a `kid` not published.
    UnknownKid,
    /// `alg: none`, no signature.
    None,
    /// HS256 keyed with the RSA key's public modulus (the classic key-confusion attack).
    Hs256,
}

struct Inner {
    ec: (String, EcdsaKeyPair),
    old: Option<(String, EcdsaKeyPair)>,
    rotations: u32,
    jwks_hits: usize,
}

struct Shared {
    issuer: String,
    rsa: RsaKeyPair,
    inner: Mutex<Inner>,
}

/// A running issuer (stops when dropped).
pub struct Issuer {
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn p256() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A random `jti`.
pub fn jti() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).unwrap();
    b64(bytes)
}

/// The public JWK of a P-256 key.
fn ec_jwk(kid: &str, pair: &EcdsaKeyPair) -> Value {
    let point = pair.public_key().as_ref();
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
           "x": b64(&point[1..33]), "y": b64(&point[33..])})
}

impl Issuer {
    pub async fn start() -> Issuer {
        let pem = include_str!("oidc_test_key.pem");
        let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let rsa = RsaKeyPair::from_pkcs8(&STANDARD.decode(der).unwrap()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Inner { ec: ("ec-0".into(), p256()), old: None, rotations: 0, jwks_hits: 0 };
        let shared = Arc::new(Shared { issuer, rsa, inner: Mutex::new(inner) });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
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
        Issuer { shared, _stop: tx }
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// Where the key set is published.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.shared.issuer)
    }

    /// The key set as published now (public keys only).
    pub fn jwks(&self) -> Value {
        key_set(&self.shared)
    }

    /// How many times the key set was fetched.
    pub fn jwks_hits(&self) -> usize {
        self.shared.inner.lock().unwrap().jwks_hits
    }

    /// The current P-256 key's `kid`.
    pub fn kid(&self) -> String {
        self.shared.inner.lock().unwrap().ec.0.clone()
    }

    /// Replaces the P-256 key by a new one under a new `kid`; the old one is no longer
    /// published (but can still sign, [`Signing::OldKey`]).
    pub fn rotate(&self) {
        let mut i = self.shared.inner.lock().unwrap();
        i.rotations += 1;
        let new = (format!("ec-{}", i.rotations), p256());
        let old = std::mem::replace(&mut i.ec, new);
        i.old = Some(old);
    }

    /// A compact JWS of `claims`, signed as `how` says.
    pub fn sign(&self, claims: &Value, how: Signing) -> String {
        let i = self.shared.inner.lock().unwrap();
        let rng = SystemRandom::new();
        let (header, key): (Value, Option<&EcdsaKeyPair>) = match how {
            Signing::Es256 => (json!({"alg": "ES256", "typ": "JWT", "kid": i.ec.0}), Some(&i.ec.1)),
            Signing::OldKey => {
                let (kid, pair) = i.old.as_ref().expect("rotated before");
                (json!({"alg": "ES256", "typ": "JWT", "kid": kid}), Some(pair))
            }
            Signing::UnknownKid => (json!({"alg": "ES256", "typ": "JWT", "kid": "not-published"}), Some(&i.ec.1)),
            Signing::Rs256 => {
                let input = format!(
                    "{}.{}",
                    b64(json!({"alg": "RS256", "typ": "JWT", "kid": RSA_KID}).to_string()),
                    b64(claims.to_string())
                );
                let mut sig = vec![0u8; self.shared.rsa.public().modulus_len()];
                self.shared.rsa.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).unwrap();
                return format!("{input}.{}", b64(sig));
            }
            Signing::None => {
                return format!("{}.{}.", b64(json!({"alg": "none"}).to_string()), b64(claims.to_string()));
            }
            Signing::Hs256 => {
                let input =
                    format!("{}.{}", b64(json!({"alg": "HS256", "kid": RSA_KID}).to_string()), b64(claims.to_string()));
                let n = RsaPublicKeyComponents::<Vec<u8>>::from(self.shared.rsa.public()).n;
                let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &n), input.as_bytes());
                return format!("{input}.{}", b64(tag.as_ref()));
            }
        };
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = key.unwrap().sign(&rng, input.as_bytes()).unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

fn key_set(s: &Shared) -> Value {
    let i = s.inner.lock().unwrap();
    let rsa = RsaPublicKeyComponents::<Vec<u8>>::from(s.rsa.public());
    json!({"keys": [
        {"kty": "RSA", "kid": RSA_KID, "use": "sig", "alg": "RS256", "n": b64(&rsa.n), "e": b64(&rsa.e)},
        ec_jwk(&i.ec.0, &i.ec.1),
    ]})
}

async fn discovery(State(s): State<Arc<Shared>>) -> Response {
    let base = &s.issuer;
    axum::Json(json!({
        "issuer": base,
        "jwks_uri": format!("{base}/jwks"),
        "token_endpoint": format!("{base}/token"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
    .into_response()
}

async fn jwks(State(s): State<Arc<Shared>>) -> Response {
    s.inner.lock().unwrap().jwks_hits += 1;
    axum::Json(key_set(&s)).into_response()
}
