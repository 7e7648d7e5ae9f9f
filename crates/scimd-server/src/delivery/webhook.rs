//! Standard Webhooks signatures (standardwebhooks.com), so a receiver can check a webhook
//! with an existing verifier library: the secret is `whsec_` and base64 of random bytes;
//! each message carries `webhook-id` (the same on every retry: the receiver's idempotency
//! key), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
//! (`v1,` and base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the
//! secret's decoded bytes).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use rand::RngCore;

type HmacSha256 = hmac::Hmac<sha2_011::Sha256>;

/// The secret's prefix.
pub const SECRET_PREFIX: &str = "whsec_";
/// The header names, lowercase as the specification writes them.
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// Random bytes in a new secret (the specification allows 24 to 64).
const SECRET_BYTES: usize = 32;

/// A secret that is not `whsec_` followed by base64 of at least one byte. Never says
/// what the secret was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by standard base64 of its key")]
pub struct BadSecret;

/// A new secret: `whsec_` and standard (padded) base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The key a secret stands for. The prefix may be left out, as the reference verifiers
/// allow.
fn key(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    match STANDARD.decode(encoded) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(BadSecret),
    }
}

/// The `webhook-signature` value of one message: `v1,` and base64 of HMAC-SHA256 over
/// `{msg_id}.{timestamp}.{body}`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let mut mac = HmacSha256::new_from_slice(&key(secret)?).map_err(|_| BadSecret)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// The three headers of one message, signed for `timestamp` (the time of this attempt).
pub fn headers(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, BadSecret> {
    Ok(vec![
        (HEADER_ID, msg_id.to_string()),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_SIGNATURE, sign(secret, msg_id, timestamp, body)?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    #[test]
    fn the_specifications_example_signs_the_same() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // Without the prefix: the same key.
        assert_eq!(sign(&SECRET[6..], ID, TS, BODY), sign(SECRET, ID, TS, BODY));
    }

    #[test]
    fn every_part_of_the_message_is_signed() {
        let s = sign(SECRET, ID, TS, BODY).unwrap();
        assert_ne!(sign(SECRET, "msg_other", TS, BODY).unwrap(), s);
        assert_ne!(sign(SECRET, ID, TS + 1, BODY).unwrap(), s);
        assert_ne!(sign(SECRET, ID, TS, br#"{"test": 2432232315}"#).unwrap(), s);
        assert_ne!(sign(&new_secret(), ID, TS, BODY).unwrap(), s);
    }

    #[test]
    fn headers_name_the_message_its_time_and_signature() {
        let h = headers(SECRET, ID, TS, BODY).unwrap();
        assert_eq!(
            h,
            vec![
                ("webhook-id", ID.to_string()),
                ("webhook-timestamp", "1614265330".to_string()),
                ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_string()),
            ]
        );
    }

    #[test]
    fn new_secrets_are_prefixed_base64_of_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        for s in [&a, &b] {
            assert!(s.starts_with("whsec_"));
            assert_eq!(STANDARD.decode(&s[6..]).unwrap().len(), 32);
            assert!(sign(s, ID, TS, BODY).is_ok());
        }
    }

    /// The reference verifier (the one a Rust receiver would use) accepts what we send,
    /// and only that.
    #[test]
    fn the_reference_verifier_accepts_our_messages() {
        let secret = new_secret();
        let now = chrono::Utc::now().timestamp();
        let body = br#"{"type":"prov.create","data":{"id":"2819c223"}}"#;
        let mut map = axum::http::HeaderMap::new();
        for (name, value) in headers(&secret, "msg_2Lz9", now, body).unwrap() {
            map.insert(name, value.parse().unwrap());
        }
        let reference = standardwebhooks::Webhook::new(&secret).unwrap();
        reference.verify(body, &map).expect("verified");
        assert_eq!(reference.sign("msg_2Lz9", now, body).unwrap(), sign(&secret, "msg_2Lz9", now, body).unwrap());
        assert!(reference.verify(br#"{"type":"prov.delete"}"#, &map).is_err());
        assert!(standardwebhooks::Webhook::new(&new_secret()).unwrap().verify(body, &map).is_err());
    }

    #[test]
    fn a_malformed_secret_is_refused_without_being_repeated() {
        for bad in ["whsec_", "", "whsec_not base64!", "whsec_%%%%"] {
            let e = sign(bad, ID, TS, BODY).unwrap_err();
            assert!(bad.is_empty() || bad == "whsec_" || !e.to_string().contains(bad));
            assert!(headers(bad, ID, TS, BODY).is_err());
        }
    }
}
