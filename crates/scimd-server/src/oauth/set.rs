//! Security Event Tokens (RFC 8417): the events scimd hands on, signed with the same keys
//! as access tokens (so a receiver verifies them from the JWK Set) but marked with the
//! JOSE type `secevent+jwt`, which the access-token verifier refuses: a SET can never be
//! presented as a bearer token.

use jsonwebtoken::{Algorithm, Header};
use serde_json::Value;

use super::OAuth;
use crate::error::{AppError, AppResult};

/// The JOSE header `typ` of a SET (RFC 8417 §2.3).
pub const SET_TYPE: &str = "secevent+jwt";

/// Whether a JOSE `typ` names a SET: compared without case, with or without the
/// `application/` prefix RFC 7515 §4.1.9 lets a sender leave out.
pub(super) fn is_set_type(typ: &str) -> bool {
    let t = typ.trim();
    let t = match t.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("application/") => &t[12..],
        _ => t,
    };
    t.eq_ignore_ascii_case(SET_TYPE)
}

impl OAuth {
    /// Signs `claims` as a SET with the newest signing key (EdDSA, its `kid` in the
    /// header). The claims are the caller's (`iss`, `iat`, `jti`, `events`, …): this only
    /// signs. Signed when sent rather than when written, a backlog always carries a key
    /// the JWK Set still lists.
    pub async fn sign_set(&self, claims: &Value) -> AppResult<String> {
        let keys = self.keys(self.config.key_reload).await?;
        let Some((kid, key)) = &keys.signer else {
            return Err(AppError::Internal("no signing key".into()));
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(SET_TYPE.into());
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, claims, key).map_err(|e| AppError::Internal(format!("signing a SET: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use base64::Engine;
    use chrono::{TimeZone, Utc};
    use jsonwebtoken::{DecodingKey, Validation};
    use scimd_store::TenantStore;
    use scimd_store::sqlite::{SqliteOptions, SqliteStore};
    use serde_json::json;

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::oauth::{B64, OAuthConfig};

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<SqliteStore>,
        clock: Arc<ManualClock>,
        oauth: OAuth,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("scimd.db");
        let store =
            Arc::new(SqliteStore::open(path.to_str().expect("utf-8 path"), SqliteOptions::default()).expect("store"));
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap()));
        let oauth = OAuth::new(store.clone(), clock.clone(), OAuthConfig::default()).await.expect("oauth");
        Fixture { _dir: dir, store, clock, oauth }
    }

    /// Claims an access token for `tid` would carry, valid for an hour.
    fn access_claims(tid: i64, now: i64) -> Value {
        json!({
            "iss": "https://scim.example.com", "sub": "client", "exp": now + 3600, "iat": now,
            "jti": "a-grant-id", "client_id": "client", "scope": "scim", "tid": tid, "tenant": "acme",
            "events": {"urn:ietf:params:scim:event:prov:delete": {}},
        })
    }

    #[tokio::test]
    async fn a_set_is_signed_with_a_published_key_and_marked_as_a_set() {
        let f = fixture().await;
        let claims = json!({
            "iss": "https://scim.example.com", "iat": 1_764_838_800, "jti": "6164f3bbf6ff41a88dc94f18cb0620e8",
            "aud": ["https://receiver.example.com"],
            "sub_id": {"format": "scim", "uri": "/Users/2b2f880a"},
            "events": {"urn:ietf:params:scim:event:prov:create:notice": {"attributes": ["userName"]}},
        });
        let set = f.oauth.sign_set(&claims).await.unwrap();

        let header = jsonwebtoken::decode_header(&set).unwrap();
        assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
        assert_eq!(header.alg, Algorithm::EdDSA);
        let kid = header.kid.expect("a kid");
        let jwks = f.oauth.jwks().await.unwrap();
        let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid published");
        let public = B64.decode(jwk["x"].as_str().unwrap()).unwrap();
        let mut v = Validation::new(Algorithm::EdDSA);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        v.validate_aud = false;
        let decoded = jsonwebtoken::decode::<Value>(&set, &DecodingKey::from_ed_der(&public), &v).unwrap();
        assert_eq!(decoded.claims, claims);
        // The signature covers the claims: one changed byte and it no longer verifies.
        let mut parts: Vec<String> = set.split('.').map(str::to_string).collect();
        parts[1] = B64.encode(serde_json::to_vec(&json!({"iss": "https://evil.example"})).unwrap());
        assert!(jsonwebtoken::decode::<Value>(&parts.join("."), &DecodingKey::from_ed_der(&public), &v).is_err());
    }

    #[tokio::test]
    async fn a_set_is_never_an_access_token_even_with_an_access_tokens_claims() {
        let f = fixture().await;
        let tenant = f.store.create_tenant("acme", true, f.clock.now()).await.unwrap();
        let claims = access_claims(tenant.id.0, f.clock.now().timestamp());
        // The same claims with the access tokens' header are accepted: only `typ` differs.
        let keys = f.oauth.keys(f.oauth.config.key_reload).await.unwrap();
        let (kid, key) = keys.signer.as_ref().unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, key).unwrap();
        assert!(f.oauth.authenticate(&token).await.unwrap().is_some(), "the control token is an access token");

        let set = f.oauth.sign_set(&claims).await.unwrap();
        assert!(f.oauth.authenticate(&set).await.unwrap().is_none());
        assert!(f.oauth.decode(&set).await.unwrap().is_none());
        for typ in ["SecEvent+JWT", "application/secevent+jwt", "APPLICATION/SECEVENT+JWT"] {
            header.typ = Some(typ.into());
            let t = jsonwebtoken::encode(&header, &claims, key).unwrap();
            assert!(f.oauth.authenticate(&t).await.unwrap().is_none(), "typ {typ} is refused");
        }
    }

    #[test]
    fn set_types_are_recognised_without_case_and_prefix() {
        assert!(is_set_type("secevent+jwt"));
        assert!(is_set_type("Application/SecEvent+JWT"));
        assert!(!is_set_type("JWT"));
        assert!(!is_set_type("at+jwt"));
        assert!(!is_set_type("application/"));
        assert!(!is_set_type("secevent+jwt2"));
        assert!(!is_set_type("é"));
    }
}
