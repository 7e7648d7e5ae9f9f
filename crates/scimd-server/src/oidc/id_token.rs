//! The ID token (OpenID Connect Core 1.0, §3.1.3.7): a compact JWS split by hand, its
//! algorithm limited to RS256 and ES256 before any key is looked at, its signature checked
//! with the provider's key, then its claims; the pure rules live here, tested without a
//! provider.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::jwks::{Alg, Key};
use super::{Identity, LEEWAY_SECONDS, OidcError};

/// An ID token taken apart, its signature not yet checked.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    pub(super) alg: Alg,
    pub(super) kid: Option<String>,
    /// `header.claims`, as signed.
    signing_input: &'a str,
    signature: Vec<u8>,
    pub(super) claims: Map<String, Value>,
}

/// What the claims must say.
pub(super) struct Expect<'a> {
    pub(super) issuer: &'a str,
    pub(super) client_id: &'a str,
    pub(super) nonce: &'a str,
}

fn malformed() -> OidcError {
    OidcError::Provider("The identity provider's ID token is malformed.".into())
}

fn refused(what: &str) -> OidcError {
    OidcError::Refused(format!("The sign-in was refused: {what}."))
}

fn json_part(part: &str) -> Result<Map<String, Value>, OidcError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(malformed()),
    }
}

impl<'a> Parsed<'a> {
    /// Splits a compact JWS and reads its header: only RS256 and ES256 pass, so `none`
    /// and HMAC (which would verify with a key the provider publishes) never reach a key.
    pub(super) fn parse(token: &'a str) -> Result<Parsed<'a>, OidcError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, claims, signature] = parts[..] else {
            return Err(if parts.len() == 5 {
                OidcError::Provider(
                    "The identity provider sent an encrypted ID token; scimd accepts signed ones only.".into(),
                )
            } else {
                malformed()
            });
        };
        let head = json_part(header)?;
        let alg = head.get("alg").and_then(Value::as_str).unwrap_or_default();
        let Some(alg) = Alg::from_name(alg) else {
            return Err(refused("the ID token is not signed with RS256 or ES256"));
        };
        // Extensions that must be understood (RFC 7515 §4.1.11): scimd understands none.
        if head.contains_key("crit") {
            return Err(refused("the ID token asks for JWS extensions scimd does not know"));
        }
        let kid = head.get("kid").and_then(Value::as_str).map(String::from);
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed())?;
        let signing_input = &token[..header.len() + 1 + claims.len()];
        Ok(Parsed { alg, kid, signing_input, signature, claims: json_part(claims)? })
    }

    /// Checks the signature with `key` (found for this token's algorithm and `kid`).
    pub(super) fn verify_signature(&self, key: &Key) -> Result<(), OidcError> {
        if key.alg() == self.alg && key.verify(self.signing_input.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(refused("the ID token's signature is not valid"))
        }
    }
}

/// A time claim in seconds (providers write integers, a few write decimals).
fn seconds(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let v = claims.get(name)?;
    v.as_i64().or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims.get(name).and_then(Value::as_str).map(String::from)
}

/// Checks the claims of a token whose signature holds, at `now` (Unix seconds), and reads
/// the identity from them.
pub(super) fn check_claims(claims: &Map<String, Value>, expect: &Expect<'_>, now: i64) -> Result<Identity, OidcError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return Err(refused("the ID token was issued by another provider"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expect.client_id) {
        return Err(refused("the ID token is meant for another application"));
    }
    // Several audiences: the party it was issued to must be named, and be scimd (§2).
    match claims.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != expect.client_id => return Err(refused("the ID token was issued to another application")),
        None if audiences.len() > 1 => {
            return Err(refused("the ID token has several audiences and no authorized party"));
        }
        _ => {}
    }
    let Some(exp) = seconds(claims, "exp") else {
        return Err(refused("the ID token has no expiry"));
    };
    if now >= exp.saturating_add(LEEWAY_SECONDS) {
        return Err(refused("the ID token has expired; please sign in again"));
    }
    let Some(iat) = seconds(claims, "iat") else {
        return Err(refused("the ID token has no issue time"));
    };
    let not_before = seconds(claims, "nbf").unwrap_or(iat);
    if iat.max(not_before) > now.saturating_add(LEEWAY_SECONDS) {
        return Err(refused("the ID token is dated in the future; the clocks may disagree"));
    }
    if claims.get("nonce").and_then(Value::as_str) != Some(expect.nonce) {
        return Err(refused("the ID token does not belong to this sign-in attempt; please sign in again"));
    }
    let subject = text(claims, "sub").filter(|s| !s.is_empty()).ok_or_else(|| refused("the ID token names nobody"))?;
    // Some providers write `email_verified` as a string.
    let email_verified = match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    let groups = match claims.get("groups") {
        Some(Value::Array(gs)) => gs.iter().filter_map(Value::as_str).map(String::from).collect(),
        Some(Value::String(g)) => vec![g.clone()],
        _ => Vec::new(),
    };
    Ok(Identity { subject, email: text(claims, "email"), email_verified, name: text(claims, "name"), groups })
}

#[cfg(test)]
mod tests {
    use super::super::jwks::{self, tests::p256};
    use super::*;
    use ring::rand::SystemRandom;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expect<'static> {
        Expect { issuer: "https://idp.example.com", client_id: "portal", nonce: "n-1" }
    }

    fn claims() -> Map<String, Value> {
        let v = json!({
            "iss": "https://idp.example.com", "aud": "portal", "sub": "u-1",
            "exp": NOW + 300, "iat": NOW, "nonce": "n-1",
            "email": "ann@example.com", "email_verified": true, "name": "Ann", "groups": ["staff"],
        });
        v.as_object().unwrap().clone()
    }

    fn with(changes: Value) -> Map<String, Value> {
        let mut c = claims();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
        c
    }

    fn refused_by(changes: Value) -> String {
        match check_claims(&with(changes), &expect(), NOW) {
            Err(OidcError::Refused(m)) => m,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn good_claims_give_the_identity() {
        let id = check_claims(&claims(), &expect(), NOW).unwrap();
        assert_eq!(
            id,
            Identity {
                subject: "u-1".into(),
                email: Some("ann@example.com".into()),
                email_verified: true,
                name: Some("Ann".into()),
                groups: vec!["staff".into()],
            }
        );
        let id = check_claims(&with(json!({"email_verified": "true", "groups": "one"})), &expect(), NOW).unwrap();
        assert!(id.email_verified);
        assert_eq!(id.groups, ["one"]);
        let id = check_claims(&with(json!({"email_verified": null, "groups": null})), &expect(), NOW).unwrap();
        assert!(!id.email_verified);
        assert!(id.groups.is_empty());
    }

    #[test]
    fn issuer_must_be_exact() {
        assert!(refused_by(json!({"iss": "https://idp.example.com/"})).contains("another provider"));
        assert!(refused_by(json!({"iss": "https://evil.example.com"})).contains("another provider"));
        assert!(refused_by(json!({"iss": null})).contains("another provider"));
    }

    #[test]
    fn audience_and_authorized_party() {
        assert!(refused_by(json!({"aud": "other"})).contains("another application"));
        assert!(refused_by(json!({"aud": ["other", "third"], "azp": "other"})).contains("another application"));
        assert!(refused_by(json!({"aud": ["portal", "other"]})).contains("authorized party"));
        assert!(refused_by(json!({"aud": "portal", "azp": "other"})).contains("issued to another"));
        assert!(check_claims(&with(json!({"aud": ["portal", "other"], "azp": "portal"})), &expect(), NOW).is_ok());
        assert!(check_claims(&with(json!({"aud": ["portal"]})), &expect(), NOW).is_ok());
    }

    #[test]
    fn times_with_leeway() {
        let ok = |c: Value| check_claims(&with(c), &expect(), NOW).is_ok();
        assert!(ok(json!({"exp": NOW - LEEWAY_SECONDS + 1})));
        assert!(refused_by(json!({"exp": NOW - LEEWAY_SECONDS})).contains("expired"));
        assert!(refused_by(json!({"exp": null})).contains("no expiry"));
        assert!(refused_by(json!({"exp": "soon"})).contains("no expiry"));
        assert!(ok(json!({"iat": NOW + LEEWAY_SECONDS})));
        assert!(refused_by(json!({"iat": NOW + LEEWAY_SECONDS + 1})).contains("future"));
        assert!(refused_by(json!({"iat": null})).contains("issue time"));
        assert!(refused_by(json!({"nbf": NOW + 3600})).contains("future"));
        assert!(ok(json!({"exp": (NOW + 10) as f64 + 0.5, "iat": NOW as f64})));
    }

    #[test]
    fn nonce_and_subject() {
        assert!(refused_by(json!({"nonce": "n-2"})).contains("attempt"));
        assert!(refused_by(json!({"nonce": null})).contains("attempt"));
        assert!(refused_by(json!({"sub": ""})).contains("nobody"));
        assert!(refused_by(json!({"sub": 7})).contains("nobody"));
    }

    fn b64(v: Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[test]
    fn only_rs256_and_es256_are_read() {
        let body = b64(json!(claims()));
        for alg in ["none", "HS256", "RS384", "PS256", "EdDSA", ""] {
            let token = format!("{}.{body}.", b64(json!({"alg": alg})));
            assert!(matches!(Parsed::parse(&token), Err(OidcError::Refused(_))), "{alg}");
        }
        let token = format!("{}.{body}.c2ln", b64(json!({"alg": "RS256", "crit": ["exp"]})));
        assert!(matches!(Parsed::parse(&token), Err(OidcError::Refused(_))));
        for bad in ["", "a.b", "a.b.c.d", "!!.??.##", "e30.e30.e30"] {
            assert!(Parsed::parse(bad).is_err(), "{bad}");
        }
        assert!(Parsed::parse("a.b.c.d.e").unwrap_err().message().contains("encrypted"));
    }

    #[test]
    fn signature_checked_with_the_key_of_its_algorithm() {
        let (pair, jwk) = p256("k1");
        let key = jwks::parse_set(&json!({"keys": [jwk]})).remove(0);
        let input = format!("{}.{}", b64(json!({"alg": "ES256", "kid": "k1"})), b64(json!(claims())));
        let sig = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
        let parsed = Parsed::parse(&token).unwrap();
        assert_eq!((parsed.alg, parsed.kid.as_deref()), (Alg::Es256, Some("k1")));
        parsed.verify_signature(&key).unwrap();
        // The same signature over other claims fails.
        let forged = format!(
            "{}.{}.{}",
            b64(json!({"alg": "ES256", "kid": "k1"})),
            b64(json!(with(json!({"sub": "admin"})))),
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        );
        assert!(matches!(Parsed::parse(&forged).unwrap().verify_signature(&key), Err(OidcError::Refused(_))));
        // Another key fails.
        let other = jwks::parse_set(&json!({"keys": [p256("k1").1]})).remove(0);
        assert!(parsed.verify_signature(&other).is_err());
    }
}
