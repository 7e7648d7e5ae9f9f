//! The keys that sign access tokens: Ed25519 through ed25519-dalek as the process's
//! jsonwebtoken crypto, the set of unretired keys loaded from the store (their seeds
//! opened with the master keyring, reloaded every `key_reload`, or at once for an unknown
//! `kid`), new keys, and the public keys as a JWK Set.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand::RngCore;
use serde_json::{Value, json};

use super::{B64, OAuth};
use crate::error::AppResult;

/// The process's jsonwebtoken crypto: Ed25519 only, through ed25519-dalek (the key
/// bytes are the raw 32-byte seed to sign and the raw public key to verify).
static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: ed_signer,
    verifier_factory: ed_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

struct EdSigner(ed25519_dalek::SigningKey);

impl signature::Signer<Vec<u8>> for EdSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.0.sign(msg).to_bytes().to_vec())
    }
}

impl JwtSigner for EdSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

struct EdVerifier(ed25519_dalek::VerifyingKey);

impl signature::Verifier<Vec<u8>> for EdVerifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        let sig = ed25519_dalek::Signature::from_slice(sig)?;
        self.0.verify_strict(msg, &sig)
    }
}

impl JwtVerifier for EdVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

fn bad_key() -> jsonwebtoken::errors::Error {
    jsonwebtoken::errors::ErrorKind::InvalidEddsaKey.into()
}

fn ed_signer(alg: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    let seed: [u8; 32] = key.as_bytes().try_into().map_err(|_| bad_key())?;
    match alg {
        Algorithm::EdDSA => Ok(Box::new(EdSigner(ed25519_dalek::SigningKey::from_bytes(&seed)))),
        _ => Err(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()),
    }
}

fn ed_verifier(alg: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    let public: [u8; 32] = key.try_get_as_bytes()?.try_into().map_err(|_| bad_key())?;
    match alg {
        Algorithm::EdDSA => {
            Ok(Box::new(EdVerifier(ed25519_dalek::VerifyingKey::from_bytes(&public).map_err(|_| bad_key())?)))
        }
        _ => Err(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()),
    }
}

/// The unretired keys, as loaded from the store.
pub(super) struct KeySet {
    /// The newest key: kid and encoding key.
    pub(super) signer: Option<(String, EncodingKey)>,
    pub(super) verifiers: HashMap<String, (DecodingKey, [u8; 32])>,
    /// The seeds, opened.
    pub(super) seeds: HashMap<String, [u8; 32]>,
    pub(super) loaded: Instant,
}

/// A new signing key: a random kid and seed. The kid is hex: a base64url kid could
/// start with `-`, which a command line (`scimd signing-key retire KID`) reads as an option.
pub fn generate_signing_key() -> (String, Vec<u8>) {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let mut kid = [0u8; 12];
    rand::rng().fill_bytes(&mut kid);
    (hex::encode(kid), seed.to_vec())
}

/// An unknown `kid` forces a reload, at most this often.
pub(super) const KEY_RELOAD_UNKNOWN: Duration = Duration::from_secs(1);

/// Installs [`PROVIDER`] as jsonwebtoken's crypto, once per process.
pub(super) fn install_provider() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

impl KeySet {
    /// No key yet (the first load fills it).
    pub(super) fn empty() -> KeySet {
        KeySet { signer: None, verifiers: HashMap::new(), seeds: HashMap::new(), loaded: Instant::now() }
    }
}

impl OAuth {
    /// Loads the unretired keys. A key whose seed does not open (sealed under a master
    /// key this process lacks: another replica went ahead in a rotation) is left out,
    /// unless this process already holds it (a re-sealing changes the stored value, not
    /// the key); the reasons are returned, and logged.
    pub(super) async fn reload_keys(&self) -> AppResult<(Arc<KeySet>, Vec<String>)> {
        let rows = self.store.signing_keys().await?;
        let held = self.keys.read().expect("keys").clone();
        let (mut verifiers, mut seeds, mut unopened) = (HashMap::new(), HashMap::new(), Vec::new());
        let mut signer = None;
        for r in &rows {
            let opened = self.config.keyring.open(&r.seed).map_err(|e| e.to_string()).and_then(|plain| {
                <[u8; 32]>::try_from(plain.as_slice()).map_err(|_| "its seed is not 32 bytes long".to_string())
            });
            let seed = match (opened, held.seeds.get(&r.kid)) {
                (Ok(seed), _) => seed,
                (Err(_), Some(seed)) => *seed,
                (Err(e), None) => {
                    let e = format!("signing key {}: {e}", r.kid);
                    tracing::error!(kid = %r.kid, "{e}");
                    unopened.push(e);
                    continue;
                }
            };
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            verifiers.insert(r.kid.clone(), (DecodingKey::from_ed_der(&public), public));
            seeds.insert(r.kid.clone(), seed);
            signer = signer.or_else(|| Some((r.kid.clone(), EncodingKey::from_ed_der(&seed))));
        }
        let set = Arc::new(KeySet { signer, verifiers, seeds, loaded: Instant::now() });
        *self.keys.write().expect("keys") = set.clone();
        Ok((set, unopened))
    }

    pub(super) async fn keys(&self, max_age: Duration) -> AppResult<Arc<KeySet>> {
        let current = self.keys.read().expect("keys").clone();
        if current.loaded.elapsed() < max_age { Ok(current) } else { Ok(self.reload_keys().await?.0) }
    }

    /// The public keys as a JWK Set.
    pub async fn jwks(&self) -> AppResult<Value> {
        let keys = self.keys(self.config.key_reload).await?;
        let mut list: Vec<(&String, &[u8; 32])> = keys.verifiers.iter().map(|(k, (_, p))| (k, p)).collect();
        list.sort();
        let keys: Vec<Value> = list
            .into_iter()
            .map(|(kid, public)| {
                json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(public), "kid": kid, "alg": "EdDSA", "use": "sig"})
            })
            .collect();
        Ok(json!({ "keys": keys }))
    }
}
