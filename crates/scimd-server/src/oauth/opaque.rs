//! Opaque access tokens, for tenants whose profile asks for them instead of signed JWTs
//! (the workflow platform's shape: 40 lowercase hex characters). They carry 160 random
//! bits, so a SHA-256 hash is a safe stored form and a lookup is one index probe; what they
//! grant lives in the store's row (tenant, client, scopes, expiry, login), and they are
//! revoked like JWTs, by their id or their login's family in `revoked_grants`.

use chrono::DateTime;
use rand::RngCore;
use scimd_store::AccessTokenRow;
use serde_json::{Value, json};

/// A new opaque access token.
pub fn generate() -> String {
    let mut b = [0u8; 20];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Whether a bearer token has the shape of an opaque access token.
pub fn is_opaque(token: &str) -> bool {
    token.len() == 40 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A stored time (RFC 3339) as Unix seconds, rounded down.
pub fn unix_of(time: &str) -> i64 {
    DateTime::parse_from_rfc3339(time).map(|t| t.timestamp()).unwrap_or(0)
}

/// The RFC 7662 answer for an active opaque token.
pub fn introspection(a: &AccessTokenRow) -> Value {
    json!({
        "active": true, "token_type": "Bearer", "scope": a.scopes.join(" "), "client_id": a.client_id,
        "sub": a.subject.as_deref().unwrap_or(&a.client_id), "exp": unix_of(&a.expires), "iat": unix_of(&a.created),
        "jti": a.jti, "tenant": a.tenant_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_40_lowercase_hex_and_random() {
        let (a, b) = (generate(), generate());
        assert!(is_opaque(&a) && is_opaque(&b));
        assert_ne!(a, b);
        assert!(is_opaque("aebda3f1adcab6c90653bd1899613e880dc8002d"));
        assert!(!is_opaque("AEBDA3F1ADCAB6C90653BD1899613E880DC8002D"));
        assert!(!is_opaque("aebda3f1adcab6c90653bd1899613e880dc8002"));
        assert!(!is_opaque("scimd_aebda3f1adcab6c90653bd1899613e880d"));
    }
}
