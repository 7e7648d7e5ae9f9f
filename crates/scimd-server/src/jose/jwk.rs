//! Signing keys of others (JSON Web Key Set, RFC 7517) as far as scimd uses them: RSA
//! keys for RS256 and P-256 keys for ES256, verified with `ring`. Keys of other types,
//! curves or algorithms, and keys meant for encryption, are skipped, not refused: providers
//! publish several kinds.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

/// base64url as JWKs write it: without padding, though some providers pad.
const B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The signature algorithms scimd accepts from others (ID tokens, assertions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (keys of 2048 to 8192 bits).
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// The algorithm a JWS header or JWK names, if scimd accepts it.
    pub(crate) fn from_name(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }
}

/// One usable verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    material: Material,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// Modulus (no leading zeros) and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed point `0x04 || x || y`.
    P256(Vec<u8>),
}

impl Key {
    pub(crate) fn alg(&self) -> Alg {
        match self.material {
            Material::Rsa { .. } => Alg::Rs256,
            Material::P256(_) => Alg::Es256,
        }
    }

    /// Whether `signature` is this key's signature of `message` (a JWS signing input).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            Material::P256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(message, signature).is_ok()
            }
        }
    }
}

/// The usable keys of a key set document (`{"keys": [...]}`).
pub(crate) fn parse_set(doc: &Value) -> Vec<Key> {
    let keys = doc.get("keys").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    keys.iter().filter_map(parse_key).collect()
}

fn parse_key(jwk: &Value) -> Option<Key> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let bytes = |name: &str| text(name).and_then(|s| B64.decode(s).ok());
    if text("use").is_some_and(|u| u != "sig") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops").and_then(Value::as_array)
        && !ops.iter().any(|o| o.as_str() == Some("verify"))
    {
        return None;
    }
    let material = match text("kty")? {
        "RSA" => {
            let n = bytes("n")?;
            let n = n[n.iter().position(|b| *b != 0)?..].to_vec();
            Material::Rsa { n, e: bytes("e")? }
        }
        "EC" if text("crv") == Some("P-256") => {
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            Material::P256([&[0x04], x.as_slice(), y.as_slice()].concat())
        }
        _ => return None,
    };
    let key = Key { kid: text("kid").map(String::from), material };
    // A key restricted to another algorithm is not used for this one.
    match text("alg") {
        Some(alg) if Alg::from_name(alg) != Some(key.alg()) => None,
        _ => Some(key),
    }
}

/// The key for a token signed with `alg` by `kid`; without a `kid`, the only key for `alg`.
pub(crate) fn find<'a>(keys: &'a [Key], alg: Alg, kid: Option<&str>) -> Option<&'a Key> {
    let mut candidates = keys.iter().filter(|k| k.alg() == alg);
    match kid {
        Some(kid) => candidates.find(|k| k.kid.as_deref() == Some(kid)),
        None => match (candidates.next(), candidates.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    /// A fresh P-256 key pair and its JWK.
    pub(crate) fn p256(kid: &str) -> (EcdsaKeyPair, Value) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        (pair, jwk)
    }

    #[test]
    fn usable_keys_are_kept_and_others_skipped() {
        let (_, ec) = p256("ec-1");
        let set = json!({"keys": [
            ec,
            {"kty": "RSA", "kid": "rsa-1", "n": "AKxw", "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "rHA", "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "rHA", "e": "AQAB"},
            {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "AA"},
        ]});
        let keys = parse_set(&set);
        let kids: Vec<_> = keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
        assert_eq!(kids, ["ec-1", "rsa-1"]);
        // A leading zero byte of the modulus is dropped (padded base64 is read too).
        assert_eq!(keys[1].material, Material::Rsa { n: vec![0xac, 0x70], e: vec![1, 0, 1] });
        assert!(find(&keys, Alg::Es256, Some("ec-1")).is_some());
        assert!(find(&keys, Alg::Rs256, Some("ec-1")).is_none(), "a kid of another algorithm");
        assert!(find(&keys, Alg::Es256, None).is_some(), "the only ES256 key");
        assert!(find(&keys, Alg::Es256, Some("nope")).is_none());
    }

    #[test]
    fn no_kid_with_several_keys_finds_nothing() {
        let keys = parse_set(&json!({"keys": [p256("a").1, p256("b").1]}));
        assert!(find(&keys, Alg::Es256, None).is_none());
    }

    #[test]
    fn es256_signatures_verify() {
        let (pair, jwk) = p256("k");
        let key = parse_set(&json!({"keys": [jwk]})).remove(0);
        let sig = pair.sign(&SystemRandom::new(), b"header.claims").unwrap();
        assert!(key.verify(b"header.claims", sig.as_ref()));
        assert!(!key.verify(b"header.claimz", sig.as_ref()));
        assert!(!key.verify(b"header.claims", &sig.as_ref()[1..]));
    }
}
