//! RFC 9865 cursors, sealed: a `nextCursor` is the position it continues from (a row of
//! the collection's default order, global to the database) encrypted and authenticated
//! under the server's cursor key, bound to the listing it was issued for: the tenant, the
//! resource type and the filter. So a cursor tells a client nothing (not even how many
//! rows other tenants wrote), and one that was forged, altered, or issued for another
//! tenant, resource type or filter does not open: 400 `invalidCursor`.
//!
//! AES-256-GCM-SIV (RFC 8452) with a fixed nonce: a misuse-resistant AEAD, so sealing
//! needs no randomness (this crate stays pure) and the same position of the same listing
//! always gives the same cursor, which reveals nothing more. The key is the caller's
//! (the server keeps it in the database, the same on every replica).

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use base64::Engine;

use crate::error::{ScimError, ScimResult, ScimType};
use crate::schema::ResourceKind;

/// The length of a cursor key, in bytes.
pub const KEY_LEN: usize = 32;

/// What seals the cursors of one request: the server's key and the tenant asking.
#[derive(Clone, Copy)]
pub struct CursorSeal<'a> {
    pub key: &'a [u8; KEY_LEN],
    pub tenant: i64,
}

impl std::fmt::Debug for CursorSeal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorSeal").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

/// The listing a cursor belongs to, as authenticated data.
fn scope(seal: &CursorSeal<'_>, kind: ResourceKind, filter: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + filter.len());
    aad.extend_from_slice(b"scimd cursor 1\0");
    aad.extend_from_slice(&seal.tenant.to_le_bytes());
    aad.extend_from_slice(kind.name().as_bytes());
    if let ResourceKind::Custom(code) = kind {
        aad.push(code);
    }
    aad.push(0);
    aad.extend_from_slice(filter.as_bytes());
    aad
}

fn cipher(seal: &CursorSeal<'_>) -> Aes256GcmSiv {
    Aes256GcmSiv::new(seal.key.into())
}

/// The cursor of position `after` in the listing of `kind` filtered by `filter` (its
/// canonical text, empty without a filter).
pub fn seal(seal: &CursorSeal<'_>, kind: ResourceKind, filter: &str, after: i64) -> String {
    let aad = scope(seal, kind, filter);
    let sealed = cipher(seal)
        .encrypt(&Nonce::default(), Payload { msg: &after.to_le_bytes(), aad: &aad })
        .expect("sealing eight bytes cannot fail");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
}

/// The position a cursor names (0 for an empty one: the first page). Errors: 400
/// `invalidCursor` for a cursor this server did not issue for this listing.
pub fn open(seal: &CursorSeal<'_>, kind: ResourceKind, filter: &str, cursor: &str) -> ScimResult<i64> {
    let cursor = cursor.trim();
    if cursor.is_empty() {
        return Ok(0);
    }
    let aad = scope(seal, kind, filter);
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| cipher(seal).decrypt(&Nonce::default(), Payload { msg: &b, aad: &aad }).ok())
        .and_then(|p| <[u8; 8]>::try_from(p.as_slice()).ok())
        .map(i64::from_le_bytes)
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ScimError::bad_request(
                ScimType::InvalidCursor,
                "this cursor was not issued for this listing: a cursor only continues the listing it came from \
                 (the same tenant, resource type and filter); send an empty cursor to start again",
            )
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEY: [u8; KEY_LEN] = [7; KEY_LEN];

    fn s(tenant: i64) -> CursorSeal<'static> {
        CursorSeal { key: &KEY, tenant }
    }

    #[test]
    fn a_cursor_opens_only_for_its_listing() {
        let c = seal(&s(1), ResourceKind::User, "", 42);
        assert_eq!(open(&s(1), ResourceKind::User, "", &c).unwrap(), 42);
        assert_eq!(open(&s(1), ResourceKind::User, "", " ").unwrap(), 0);
        for (seal_, kind, filter) in [
            (s(2), ResourceKind::User, ""),
            (s(1), ResourceKind::Group, ""),
            (s(1), ResourceKind::User, "userName pr"),
            (CursorSeal { key: &[8; KEY_LEN], tenant: 1 }, ResourceKind::User, ""),
        ] {
            let e = open(&seal_, kind, filter, &c).unwrap_err();
            assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidCursor)));
        }
        // The position is not readable in the cursor.
        assert!(!c.contains("42") && c.len() == 32, "{c}");
        // Cursors of the previous form (a plain position) are refused.
        let old = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("c1:42");
        assert!(open(&s(1), ResourceKind::User, "", &old).is_err());
    }

    proptest! {
        /// Any change to a cursor makes it refused.
        #[test]
        fn tampered_cursors_never_open(after in 0i64..i64::MAX, at in 0usize..32, bit in 0u8..6) {
            let c = seal(&s(3), ResourceKind::Group, "displayName sw \"a\"", after);
            prop_assert_eq!(open(&s(3), ResourceKind::Group, "displayName sw \"a\"", &c).unwrap(), after);
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut bytes = c.into_bytes();
            let i = alphabet.iter().position(|&x| x == bytes[at]).unwrap();
            bytes[at] = alphabet[i ^ (1 << bit)];
            let tampered = String::from_utf8(bytes).unwrap();
            prop_assert!(open(&s(3), ResourceKind::Group, "displayName sw \"a\"", &tampered).is_err());
        }
    }
}
