//! The deployment's own secrets kept in the database (not the operator's configuration):
//! made here on first use, stored by the store as opaque bytes, the same for every
//! replica sharing the database. Reading and writing each one happens in one function
//! below, the one place to seal it at rest.

use rand::RngCore;
use scimd_core::cursor::KEY_LEN;
use scimd_store::CredentialStore;

use crate::clock::Clock;
use crate::seal::Keyring;

/// The name of the cursor key in `server_secrets`.
const CURSOR_KEY: &str = "cursor-key";
/// The name of the key sealing the portal's pending single sign-ons (kept in a cookie).
const PORTAL_KEY: &str = "portal-key";

/// The key sealing list cursors (`scimd_core::cursor`): the stored one, else a new random
/// one, stored (of replicas starting together, all end up with the first one stored).
/// At rest it is sealed under the master key, when there is one (`seal`).
pub async fn cursor_key(
    store: &dyn CredentialStore,
    clock: &dyn Clock,
    keyring: &Keyring,
) -> Result<[u8; KEY_LEN], String> {
    named_key(CURSOR_KEY, store, clock, keyring).await
}

/// The key sealing what the portal keeps in a browser's cookie during a single sign-on
/// (the provider's `state`, the nonce, the PKCE verifier): like the cursor key, one per
/// deployment, a key of its own.
pub async fn portal_key(store: &dyn CredentialStore, clock: &dyn Clock, keyring: &Keyring) -> Result<[u8; 32], String> {
    named_key(PORTAL_KEY, store, clock, keyring).await
}

async fn named_key(
    name: &str,
    store: &dyn CredentialStore,
    clock: &dyn Clock,
    keyring: &Keyring,
) -> Result<[u8; KEY_LEN], String> {
    let mut fresh = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut fresh);
    let stored = store.server_secret(name, keyring.seal(&fresh), clock.now()).await.map_err(|e| format!("{e:?}"))?;
    let stored = keyring.open(&stored).map_err(|e| format!("the stored {name}: {e}"))?;
    <[u8; KEY_LEN]>::try_from(stored.as_slice())
        .map_err(|_| format!("the stored {name} has {} bytes, not {KEY_LEN}", stored.len()))
}
