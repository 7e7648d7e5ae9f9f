//! The answer of a refresh, kept for a client that retries it after losing the response
//! (a timeout): within the grace period the spent refresh token gets the same new pair
//! back instead of revoking its login.
//!
//! The pair is kept with the spent token in the database, encrypted (AES-256-GCM-SIV)
//! under a key derived from the spent refresh token itself, which the database holds only
//! as a SHA-256 hash (of another domain): whoever reads the database, a backup or the
//! master key cannot open it; only the client presenting the spent token can, and it is
//! exactly who is entitled to the answer. It works alike on SQLite and PostgreSQL and on
//! every replica, and needs no master key.

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Authenticated with the ciphertext: a value sealed for anything else never opens here.
const AAD: &[u8] = b"scimd refresh retry v1";
const NONCE_LEN: usize = 12;

/// What a rotation answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub access_token: String,
    pub refresh_token: String,
    pub scope: String,
    /// When the access token expires (Unix seconds): a retry answers with what is left.
    pub expires: i64,
}

fn cipher(spent_token: &str) -> Aes256GcmSiv {
    let key: [u8; 32] =
        Sha256::new().chain_update(b"scimd refresh retry key\0").chain_update(spent_token).finalize().into();
    Aes256GcmSiv::new(&key.into())
}

/// `answer`, sealed under the key of `spent_token`: `nonce ‖ ciphertext ‖ tag`.
pub fn seal(spent_token: &str, answer: &Answer) -> Vec<u8> {
    let plain = serde_json::to_vec(answer).unwrap_or_default();
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher(spent_token)
        .encrypt(&Nonce::from(nonce), Payload { msg: &plain, aad: AAD })
        .expect("AES-GCM-SIV encrypts any message of this size");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out
}

/// The answer sealed under the key of `spent_token`, if it opens.
pub fn open(spent_token: &str, sealed: &[u8]) -> Option<Answer> {
    if sealed.len() <= NONCE_LEN {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let plain = cipher(spent_token).decrypt(&Nonce::from(nonce), Payload { msg: body, aad: AAD }).ok()?;
    serde_json::from_slice(&plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> Answer {
        Answer { access_token: "a".into(), refresh_token: "r".into(), scope: "scim".into(), expires: 42 }
    }

    #[test]
    fn only_the_spent_token_opens_its_answer() {
        let sealed = seal("scimd_rt_one", &answer());
        assert_eq!(open("scimd_rt_one", &sealed), Some(answer()));
        assert_eq!(open("scimd_rt_two", &sealed), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(open("scimd_rt_one", &tampered), None);
        assert_eq!(open("scimd_rt_one", &sealed[..5]), None);
        // Neither token appears in what is stored.
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("scim") && !text.contains("\"r\""));
    }
}
