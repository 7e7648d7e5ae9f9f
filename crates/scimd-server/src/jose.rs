//! Verifying what others sign (JOSE), shared by the portal's OpenID Connect relying party
//! (`oidc`) and the OAuth server's assertions (`oauth`): key sets (`jwk`: RS256 and ES256
//! over `ring`), compact JWS taken apart with the algorithm restricted before any key is
//! looked at (`jws`), and key sets fetched over HTTPS with bounded reads, cached, and
//! fetched again for an unknown `kid` at most every [`KEY_REFETCH_INTERVAL`] (`remote`).
//! A leaf: it knows nothing of tenants, clients or the store. Hand-written because the
//! `jsonwebtoken` and `openidconnect` crates verify RSA through `rsa`, which has an
//! advisory without a fix.

use std::time::Duration;

pub(crate) mod jwk;
pub(crate) mod jws;
pub(crate) mod remote;

/// At most one fetch of a key set for an unknown `kid` in this time: a token naming keys
/// that do not exist must not make scimd hammer the party publishing them.
pub const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// How far `exp`, `iat` and `nbf` may be off, for clocks that disagree a little.
pub const LEEWAY_SECONDS: i64 = 60;
