//! The ID token (OpenID Connect Core 1.0, §3.1.3.7): a compact JWS taken apart by
//! `jose::jws` (its algorithm limited to RS256 and ES256 before any key is looked at), its
//! signature checked with the provider's key, then its claims; the pure rules live here,
//! tested without a provider.

use serde_json::{Map, Value};

use super::{Identity, LEEWAY_SECONDS, OidcError};
use crate::jose::jwk::Key;
use crate::jose::jws::{Jws, JwsError, audiences, seconds, text};

/// An ID token taken apart, its signature not yet checked.
pub(super) type Parsed<'a> = Jws<'a>;

/// What the claims must say.
pub(super) struct Expect<'a> {
    pub(super) issuer: &'a str,
    pub(super) client_id: &'a str,
    pub(super) nonce: &'a str,
}

fn refused(what: &str) -> OidcError {
    OidcError::Refused(format!("The sign-in was refused: {what}."))
}

/// Splits an ID token and reads its header: only RS256 and ES256 pass (see `jose::jws`).
pub(super) fn parse(token: &str) -> Result<Parsed<'_>, OidcError> {
    Jws::parse(token).map_err(|e| match e {
        JwsError::Malformed => OidcError::Provider("The identity provider's ID token is malformed.".into()),
        JwsError::Encrypted => OidcError::Provider(
            "The identity provider sent an encrypted ID token; scimd accepts signed ones only.".into(),
        ),
        JwsError::Algorithm => refused("the ID token is not signed with RS256 or ES256"),
        JwsError::Critical => refused("the ID token asks for JWS extensions scimd does not know"),
    })
}

/// Checks the signature with `key` (found for this token's algorithm and `kid`).
pub(super) fn verify_signature(token: &Parsed<'_>, key: &Key) -> Result<(), OidcError> {
    if token.verified_by(key) { Ok(()) } else { Err(refused("the ID token's signature is not valid")) }
}

/// Checks the claims of a token whose signature holds, at `now` (Unix seconds), and reads
/// the identity from them.
pub(super) fn check_claims(claims: &Map<String, Value>, expect: &Expect<'_>, now: i64) -> Result<Identity, OidcError> {
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return Err(refused("the ID token was issued by another provider"));
    }
    let audiences = audiences(claims);
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
    use super::*;
    use crate::jose::jwk::{self, tests::p256};
    use crate::jose::jws;
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

    #[test]
    fn header_refusals_are_worded_for_the_login_page() {
        let body = jws::tests::b64(json!(claims()));
        let token = format!("{}.{body}.", jws::tests::b64(json!({"alg": "none"})));
        assert!(matches!(parse(&token), Err(OidcError::Refused(_))));
        assert!(parse("a.b.c.d.e").unwrap_err().message().contains("encrypted"));
        assert!(matches!(parse("!!.??.##"), Err(OidcError::Provider(_))));
    }

    #[test]
    fn a_bad_signature_is_refused() {
        let (_, key) = p256("k1");
        let key = jwk::parse_set(&json!({"keys": [key]})).remove(0);
        let input =
            format!("{}.{}", jws::tests::b64(json!({"alg": "ES256", "kid": "k1"})), jws::tests::b64(json!(claims())));
        let token = format!("{input}.c2ln");
        assert!(matches!(verify_signature(&parse(&token).unwrap(), &key), Err(OidcError::Refused(_))));
    }
}
