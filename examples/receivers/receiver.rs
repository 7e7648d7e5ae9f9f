//! A product receiving scimd's events in Rust, one of the three delivery methods at a time:
//!
//! ```sh
//! WEBHOOK_SECRET=whsec_… PORT=9001 cargo run -p scimd-server --example receiver -- webhook
//! JWKS_URL=… ISSUER=… AUDIENCE=… PORT=9002 cargo run -p scimd-server --example receiver -- push
//! POLL_URL=… POLL_TOKEN=… JWKS_URL=… ISSUER=… AUDIENCE=… cargo run -p scimd-server --example receiver -- poll
//! ```
//!
//! (the same settings as the Python receivers beside this file). Webhooks are checked with
//! the `standardwebhooks` crate, Security Event Tokens with `jsonwebtoken` against scimd's
//! JWKS. Prints one line per verified event. Something that does not verify is answered
//! 401, so scimd keeps it and tries again rather than dropping it.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

/// What the receiver does with a verified event: its short description and its claims.
pub type OnEvent = Arc<dyn Fn(&str, &Value) + Send + Sync>;

/// A webhook's body, once its signature and timestamp are right.
pub fn verify_webhook(webhook: &standardwebhooks::Webhook, headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
    webhook.verify(body, headers).map_err(|e| e.to_string())?;
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// scimd's signing keys, fetched from its JWKS, fetched again for a key it does not know
/// (scimd rotates its keys).
pub struct Keys {
    url: String,
    http: reqwest::Client,
    set: Mutex<JwkSet>,
}

impl Keys {
    pub fn new(url: &str) -> Keys {
        Keys { url: url.to_string(), http: reqwest::Client::new(), set: Mutex::new(JwkSet { keys: vec![] }) }
    }

    /// A SET's claims, once its type, signature, issuer and audience are right.
    pub async fn verify(&self, token: &str, issuer: &str, audience: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        if header.typ.as_deref() != Some("secevent+jwt") {
            return Err("not a Security Event Token".into());
        }
        let kid = header.kid.ok_or("no kid")?;
        if self.set.lock().unwrap().find(&kid).is_none() {
            let fresh: JwkSet = self
                .http
                .get(&self.url)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            *self.set.lock().unwrap() = fresh;
        }
        let key = match self.set.lock().unwrap().find(&kid) {
            Some(jwk) => DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?,
            None => return Err(format!("no key {kid} in the JWKS")),
        };
        let mut v = Validation::new(Algorithm::EdDSA);
        v.validate_exp = false; // a SET states a fact: it has no expiry
        v.set_required_spec_claims(&["iss", "aud"]);
        v.set_issuer(&[issuer]);
        v.set_audience(&[audience]);
        Ok(jsonwebtoken::decode::<Value>(token, &key, &v).map_err(|e| e.to_string())?.claims)
    }
}

/// The event URI of a SET's claims (one event per SET).
fn event_uri(claims: &Value) -> &str {
    claims["events"].as_object().and_then(|m| m.keys().next()).map_or("", |k| k.as_str())
}

/// A webhook receiver: `POST /`. (`on_event` is where a product deduplicates by `jti`:
/// delivery is at least once.)
pub fn webhook_app(secret: &str, on_event: OnEvent) -> Router {
    let webhook = standardwebhooks::Webhook::new(secret).expect("a whsec_ secret");
    async fn handler(
        State(hook): State<Arc<(standardwebhooks::Webhook, OnEvent)>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let (webhook, on_event) = &*hook;
        match verify_webhook(webhook, &headers, &body) {
            Ok(message) => {
                on_event(message["type"].as_str().unwrap_or(""), &message["data"]);
                StatusCode::NO_CONTENT
            }
            Err(_) => StatusCode::UNAUTHORIZED,
        }
    }
    Router::new().route("/", axum::routing::post(handler)).with_state(Arc::new((webhook, on_event)))
}

/// What a push receiver checks SETs against.
pub struct Push {
    pub keys: Keys,
    pub issuer: String,
    pub audience: String,
    pub on_event: OnEvent,
}

/// A push receiver (RFC 8935): `POST /`, one SET per request, answered 202.
pub fn push_app(push: Arc<Push>) -> Router {
    async fn handler(State(p): State<Arc<Push>>, body: String) -> StatusCode {
        match p.keys.verify(&body, &p.issuer, &p.audience).await {
            Ok(claims) => {
                (p.on_event)(event_uri(&claims), &claims);
                StatusCode::ACCEPTED
            }
            Err(_) => StatusCode::UNAUTHORIZED,
        }
    }
    Router::new().route("/", axum::routing::post(handler)).with_state(push)
}

/// A poll client (RFC 8936): asks for the next SETs, verifies each, acknowledges it in the
/// next poll; forever.
pub async fn poll_forever(url: &str, token: &str, push: &Push) {
    let http = reqwest::Client::new();
    let mut ack: Vec<String> = vec![];
    loop {
        let request = http.post(url).bearer_auth(token).json(&json!({"ack": ack, "maxEvents": 100}));
        let answer: Value = match request.send().await.and_then(|r| r.error_for_status()) {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => {
                // scimd restarting, the network: ask again, with the same acknowledgements.
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
        };
        ack.clear();
        for (jti, set) in answer["sets"].as_object().into_iter().flatten() {
            match push.keys.verify(set.as_str().unwrap_or(""), &push.issuer, &push.audience).await {
                Ok(claims) => {
                    (push.on_event)(event_uri(&claims), &claims);
                    ack.push(jti.clone());
                }
                // Not acknowledged: it comes again.
                Err(_) => break,
            }
        }
    }
}

// Only for this example: the workspace builds jsonwebtoken without a crypto backend (scimd
// brings its own). A product enables jsonwebtoken's `rust_crypto` feature instead.
mod ed25519 {
    use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
    use jsonwebtoken::errors::{ErrorKind, Result};
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

    pub static PROVIDER: CryptoProvider =
        CryptoProvider { signer_factory: signer, verifier_factory: verifier, key_utils: KeyUtils::new_unimplemented() };

    struct Verifier(ed25519_dalek::VerifyingKey);

    impl signature::Verifier<Vec<u8>> for Verifier {
        fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
            self.0.verify_strict(msg, &ed25519_dalek::Signature::from_slice(sig)?)
        }
    }

    impl JwtVerifier for Verifier {
        fn algorithm(&self) -> Algorithm {
            Algorithm::EdDSA
        }
    }

    fn signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
        Err(ErrorKind::InvalidAlgorithm.into())
    }

    fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
        let public: [u8; 32] = key.try_get_as_bytes()?.try_into().map_err(|_| ErrorKind::InvalidEddsaKey)?;
        match alg {
            Algorithm::EdDSA => Ok(Box::new(Verifier(
                ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| ErrorKind::InvalidEddsaKey)?,
            ))),
            _ => Err(ErrorKind::InvalidAlgorithm.into()),
        }
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("set {name}"))
}

#[tokio::main]
async fn main() {
    let _ = ed25519::PROVIDER.install_default();
    let on_event: OnEvent = Arc::new(|what, claims| {
        println!("verified {what} {} seq {}", claims["sub_id"]["uri"].as_str().unwrap_or(""), claims["seq"]);
    });
    let push = || Push {
        keys: Keys::new(&env("JWKS_URL")),
        issuer: env("ISSUER"),
        audience: env("AUDIENCE"),
        on_event: on_event.clone(),
    };
    let app = match std::env::args().nth(1).as_deref() {
        Some("webhook") => webhook_app(&env("WEBHOOK_SECRET"), on_event.clone()),
        Some("push") => push_app(Arc::new(push())),
        Some("poll") => return poll_forever(&env("POLL_URL"), &env("POLL_TOKEN"), &push()).await,
        _ => panic!("usage: receiver webhook|push|poll"),
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.expect("bind");
    println!("listening on http://{}/", listener.local_addr().expect("address"));
    axum::serve(listener, app).await.expect("serve");
}
