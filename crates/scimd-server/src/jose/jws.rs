//! A compact JWS (RFC 7515) taken apart by hand: three base64url parts, a JSON header whose
//! `alg` must be RS256 or ES256 before any key is looked at (so `none` and HMAC, which
//! would verify with a key the signer publishes, never reach a key), no `crit`
//! extensions, and JSON claims; the signature checked with a key of that algorithm. Also
//! the claim readers every verifier shares.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::jwk::{Alg, Key};

/// Why a token could not be read. Callers word it for their audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwsError {
    /// Not three base64url parts of JSON objects.
    Malformed,
    /// Five parts: an encrypted token (JWE), which scimd does not read.
    Encrypted,
    /// Signed with another algorithm than RS256 or ES256 (`none` and HMAC included).
    Algorithm,
    /// Asks for JWS extensions (`crit`) scimd does not know.
    Critical,
}

/// A JWS taken apart, its signature not yet checked.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub(crate) alg: Alg,
    pub(crate) kid: Option<String>,
    /// `header.claims`, as signed.
    signing_input: &'a str,
    signature: Vec<u8>,
    pub(crate) claims: Map<String, Value>,
}

fn json_part(part: &str) -> Result<Map<String, Value>, JwsError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwsError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwsError::Malformed),
    }
}

impl<'a> Jws<'a> {
    /// Splits a compact JWS and reads its header and claims.
    pub(crate) fn parse(token: &'a str) -> Result<Jws<'a>, JwsError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, signature] = parts[..] else {
            return Err(if parts.len() == 5 { JwsError::Encrypted } else { JwsError::Malformed });
        };
        let head = json_part(header)?;
        let alg = head.get("alg").and_then(Value::as_str).unwrap_or_default();
        let Some(alg) = Alg::from_name(alg) else {
            return Err(JwsError::Algorithm);
        };
        // Extensions that must be understood (RFC 7515 §4.1.11): scimd understands none.
        if head.contains_key("crit") {
            return Err(JwsError::Critical);
        }
        let kid = head.get("kid").and_then(Value::as_str).map(String::from);
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwsError::Malformed)?;
        let signing_input = &token[..header.len() + 1 + claims.len()];
        Ok(Jws { alg, kid, signing_input, signature, claims: json_part(claims)? })
    }

    /// Whether `key` (of this token's algorithm) made the signature.
    pub(crate) fn verified_by(&self, key: &Key) -> bool {
        key.alg() == self.alg && key.verify(self.signing_input.as_bytes(), &self.signature)
    }
}

/// A time claim in seconds (issuers write integers, a few write decimals).
pub(crate) fn seconds(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let v = claims.get(name)?;
    v.as_i64().or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

/// A text claim.
pub(crate) fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(String::from)
}

/// The audiences of `aud` (one string or an array of them).
pub(crate) fn audiences(claims: &Map<String, Value>) -> Vec<&str> {
    match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::jwk::{self, tests::p256};
    use super::*;
    use ring::rand::SystemRandom;
    use serde_json::json;

    pub(crate) fn b64(v: Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn only_rs256_and_es256_are_read() {
        let body = b64(json!({"sub": "x"}));
        for alg in ["none", "HS256", "RS384", "PS256", "EdDSA", ""] {
            let token = format!("{}.{body}.", b64(json!({"alg": alg})));
            assert_eq!(Jws::parse(&token).unwrap_err(), JwsError::Algorithm, "{alg}");
        }
        let token = format!("{}.{body}.c2ln", b64(json!({"alg": "RS256", "crit": ["exp"]})));
        assert_eq!(Jws::parse(&token).unwrap_err(), JwsError::Critical);
        for bad in ["", "a.b", "a.b.c.d", "!!.??.##", "e30.e30.e30"] {
            assert!(Jws::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Jws::parse("a.b.c.d.e").unwrap_err(), JwsError::Encrypted);
    }

    #[test]
    fn signature_checked_with_the_key_of_its_algorithm() {
        let (pair, key_jwk) = p256("k1");
        let key = jwk::parse_set(&json!({"keys": [key_jwk]})).remove(0);
        let input = format!("{}.{}", b64(json!({"alg": "ES256", "kid": "k1"})), b64(json!({"sub": "u"})));
        let sig = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
        let parsed = Jws::parse(&token).unwrap();
        assert_eq!((parsed.alg, parsed.kid.as_deref()), (Alg::Es256, Some("k1")));
        assert!(parsed.verified_by(&key));
        // The same signature over other claims fails.
        let forged = format!(
            "{}.{}.{}",
            b64(json!({"alg": "ES256", "kid": "k1"})),
            b64(json!({"sub": "admin"})),
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        );
        assert!(!Jws::parse(&forged).unwrap().verified_by(&key));
        // Another key fails.
        let other = jwk::parse_set(&json!({"keys": [p256("k1").1]})).remove(0);
        assert!(!parsed.verified_by(&other));
    }

    #[test]
    fn claims_are_read_leniently() {
        let c = json!({"exp": 10.5, "iat": 7, "aud": ["a", 3, "b"], "sub": "s"}).as_object().unwrap().clone();
        assert_eq!((seconds(&c, "exp"), seconds(&c, "iat"), seconds(&c, "nbf")), (Some(10), Some(7), None));
        assert_eq!(audiences(&c), ["a", "b"]);
        assert_eq!(text(&c, "sub").as_deref(), Some("s"));
    }
}
