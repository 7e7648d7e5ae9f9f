//! Secrets scimd must read back, sealed at rest: the signing keys' private seeds, event
//! streams' webhook secrets and push tokens (and any other key the server keeps in the
//! database) are stored encrypted under the operator's master key, so a copy of the
//! database (a backup, a stolen disk, a read-only SQL account) does not yield them.
//! Everything else secret in the database is a one-way hash.
//!
//! [`Keyring::seal`] and [`Keyring::open`] turn bytes into a stored value and back; the
//! store keeps that value as opaque bytes. A sealed value is
//! `MAGIC ‖ key id (8) ‖ nonce (12) ‖ AES-256-GCM-SIV(plain) ‖ tag (16)`, the magic and
//! key id authenticated too (the cipher of sealed cursors as well: one AEAD in the build;
//! GCM-SIV also stays safe should a random nonce ever repeat). The key id (a hash of the key) names the master key that
//! sealed it, so several keys can be read at once and rotation is possible: the current
//! key seals, it and the previous key open, and [`reseal_all`] moves every value to the
//! current key. Without a master key values are kept in clear (as before master keys
//! existed); a value without the magic is a clear one.

use std::fmt;

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use base64::Engine;
use rand::RngCore;
use scimd_store::{CredentialStore, EventStore};
use sha2::{Digest, Sha256};

/// What every sealed value starts with (a clear value never does: seeds and keys are
/// random bytes of fixed length, and the chance of one starting so is 2^-128).
const MAGIC: &[u8; 16] = b"scimd:sealed:v1:";
const ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// One master key: 32 random bytes.
pub struct MasterKey {
    id: [u8; ID_LEN],
    cipher: Aes256GcmSiv,
}

impl MasterKey {
    /// A master key from its text: 32 bytes in base64 (standard or URL-safe, padded or
    /// not) or in hex, surrounding whitespace ignored.
    pub fn from_text(text: &str) -> Result<MasterKey, String> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            let t = t.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(t)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
                .ok()
        };
        match bytes.as_deref().map(<[u8; 32]>::try_from) {
            Some(Ok(key)) => Ok(MasterKey::from_bytes(key)),
            _ => Err("a master key is 32 random bytes in base64 or hex (`scimd master-key generate` makes one)".into()),
        }
    }

    pub fn from_bytes(key: [u8; 32]) -> MasterKey {
        let digest = Sha256::new().chain_update(b"scimd master key id\0").chain_update(key).finalize();
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&digest[..ID_LEN]);
        MasterKey { id, cipher: Aes256GcmSiv::new(&key.into()) }
    }

    /// A new random master key, as the text [`MasterKey::from_text`] reads.
    pub fn generate_text() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// The key's id in hex: it names the key in logs and errors without revealing it.
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

/// Why a stored value cannot be opened. The messages name the setting to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// Sealed, but no master key is configured.
    NoKey { id: String },
    /// Sealed under a key that is neither the current nor a previous one.
    UnknownKey { id: String, known: Vec<String> },
    /// Sealed under a configured key, but it does not open: altered or truncated.
    Corrupt { id: String },
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::NoKey { id } => write!(
                f,
                "it is sealed under master key {id}, but no master key is configured: set secrets.master_key_file \
                 (--master-key-file) to that key"
            ),
            SealError::UnknownKey { id, known } => write!(
                f,
                "it is sealed under master key {id}, which is not among the configured keys ({}): set \
                 secrets.master_key_file (--master-key-file) or secrets.previous_master_key_file \
                 (--previous-master-key-file) to that key",
                known.join(", ")
            ),
            SealError::Corrupt { id } => write!(
                f,
                "it is sealed under master key {id} but does not open with it: the stored value was altered or \
                 truncated"
            ),
        }
    }
}

impl std::error::Error for SealError {}

/// The master keys of a process: the current one seals and opens, the previous one
/// (during a rotation) only opens. Empty: values are kept in clear.
#[derive(Debug, Default)]
pub struct Keyring {
    current: Option<MasterKey>,
    previous: Vec<MasterKey>,
}

impl Keyring {
    /// No master key: values are stored and read in clear.
    pub fn none() -> Keyring {
        Keyring::default()
    }

    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Keyring {
        Keyring { current: Some(current), previous }
    }

    /// Whether a master key is configured (values are sealed).
    pub fn is_configured(&self) -> bool {
        self.current.is_some()
    }

    /// The current master key's id, if there is one.
    pub fn current_id(&self) -> Option<String> {
        self.current.as_ref().map(MasterKey::id)
    }

    /// Whether the master key with this id (as [`Keyring::current_id`] gives it) opens
    /// values here: the current key or a previous one.
    pub fn knows(&self, id: &str) -> bool {
        self.keys().any(|k| k.id() == id)
    }

    /// `plain` as it is to be stored: sealed under the current master key, or as it is
    /// when there is none.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let Some(key) = &self.current else { return plain.to_vec() };
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let header = header(&key.id);
        let sealed = key
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad: &header })
            .expect("AES-256-GCM-SIV seals any value of a sane length");
        let mut out = Vec::with_capacity(header.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// A stored value's plain bytes: opened with the master key that sealed it, or as it
    /// is if it was stored in clear.
    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, SealError> {
        let Some(id) = sealed_id(stored) else { return Ok(stored.to_vec()) };
        let key = self.keys().find(|k| k.id == id).ok_or_else(|| match &self.current {
            None => SealError::NoKey { id: hex::encode(id) },
            Some(_) => SealError::UnknownKey { id: hex::encode(id), known: self.keys().map(MasterKey::id).collect() },
        })?;
        let corrupt = || SealError::Corrupt { id: key.id() };
        let rest = &stored[MAGIC.len() + ID_LEN..];
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(corrupt());
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| corrupt())?;
        key.cipher.decrypt(&Nonce::from(nonce), Payload { msg: sealed, aad: &header(&id) }).map_err(|_| corrupt())
    }

    /// Whether a stored value is not sealed under the current master key (so
    /// [`reseal_all`] would store it anew). Always false without a master key.
    pub fn needs_reseal(&self, stored: &[u8]) -> bool {
        match &self.current {
            None => false,
            Some(key) => sealed_id(stored) != Some(key.id),
        }
    }

    /// A secret text as it is stored in a text column: [`Keyring::seal`]ed, in standard
    /// base64.
    pub fn seal_text(&self, plain: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.seal(plain.as_bytes()))
    }

    /// A text stored by [`Keyring::seal_text`], opened.
    pub fn open_text(&self, stored: &str) -> Result<String, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(stored.trim())
            .map_err(|_| "the stored value is not base64: it was altered".to_string())?;
        let plain = self.open(&bytes).map_err(|e| e.to_string())?;
        String::from_utf8(plain).map_err(|_| "the stored value does not open to text: it was altered".to_string())
    }

    fn keys(&self) -> impl Iterator<Item = &MasterKey> {
        self.current.iter().chain(&self.previous)
    }
}

/// The authenticated start of a sealed value.
fn header(id: &[u8; ID_LEN]) -> Vec<u8> {
    [MAGIC.as_slice(), id].concat()
}

/// The id of the key a stored value is sealed under; `None` for a clear value.
fn sealed_id(stored: &[u8]) -> Option<[u8; ID_LEN]> {
    let rest = stored.strip_prefix(MAGIC.as_slice())?;
    rest.get(..ID_LEN).and_then(|id| id.try_into().ok())
}

/// What [`reseal_all`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    /// Values that were in clear and are now sealed.
    pub sealed: usize,
    /// Values that were sealed under a previous key and are now under the current one.
    pub rekeyed: usize,
}

/// Stores every secret of the database sealed under the current master key: the ones in
/// clear (a master key configured for the first time) and the ones under a previous key
/// (a rotation). Every secret kept reversibly in the database is listed here. Fails,
/// naming the secret and the setting to fix, if one cannot be opened; without a master
/// key, it only checks that every secret opens.
pub async fn reseal_all<S: CredentialStore + EventStore + ?Sized>(
    store: &S,
    keyring: &Keyring,
) -> Result<Resealed, String> {
    let mut done = Resealed::default();
    for key in store.signing_keys().await.map_err(|e| e.to_string())? {
        let plain = keyring.open(&key.seed).map_err(|e| format!("signing key {}: {e}", key.kid))?;
        if !keyring.needs_reseal(&key.seed) {
            continue;
        }
        let was_clear = sealed_id(&key.seed).is_none();
        // Another replica re-sealing it at the same time is as good.
        if store
            .replace_signing_key_seed(&key.kid, key.seed.clone(), keyring.seal(&plain))
            .await
            .map_err(|e| e.to_string())?
        {
            if was_clear { done.sealed += 1 } else { done.rekeyed += 1 }
        }
    }
    for (name, stored) in store.server_secret_values().await.map_err(|e| e.to_string())? {
        let plain = keyring.open(&stored).map_err(|e| format!("server secret {name}: {e}"))?;
        if !keyring.needs_reseal(&stored) {
            continue;
        }
        let was_clear = sealed_id(&stored).is_none();
        if store.replace_server_secret(&name, stored, keyring.seal(&plain)).await.map_err(|e| e.to_string())? {
            if was_clear { done.sealed += 1 } else { done.rekeyed += 1 }
        }
    }
    // Event streams' webhook secrets and push receivers' tokens (`seal_text`: base64).
    for stream in store.streams(None).await.map_err(|e| e.to_string())? {
        let Some(text) = &stream.secret else { continue };
        let what = || format!("the secret of event stream {} (tenant {})", stream.id, stream.tenant_name);
        let stored = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| format!("{}: it is not base64: it was altered", what()))?;
        let plain = keyring.open(&stored).map_err(|e| format!("{}: {e}", what()))?;
        if !keyring.needs_reseal(&stored) {
            continue;
        }
        let was_clear = sealed_id(&stored).is_none();
        let resealed = base64::engine::general_purpose::STANDARD.encode(keyring.seal(&plain));
        if store.replace_stream_secret(&stream.id, text, &resealed).await.map_err(|e| e.to_string())? {
            if was_clear { done.sealed += 1 } else { done.rekeyed += 1 }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    #[test]
    fn sealed_values_open_and_hide_the_plain_bytes() {
        let ring = Keyring::new(key(1), vec![]);
        let plain = [7u8; 32];
        let sealed = ring.seal(&plain);
        assert!(!sealed.windows(32).any(|w| w == plain));
        assert_ne!(ring.seal(&plain), sealed, "a fresh nonce each time");
        assert_eq!(ring.open(&sealed).unwrap(), plain);
        assert!(!ring.needs_reseal(&sealed));
    }

    #[test]
    fn altered_values_and_unknown_keys_are_refused_by_name() {
        let ring = Keyring::new(key(1), vec![]);
        let mut sealed = ring.seal(b"secret");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(ring.open(&sealed), Err(SealError::Corrupt { .. })));
        assert!(matches!(ring.open(&sealed[..MAGIC.len() + ID_LEN + 3]), Err(SealError::Corrupt { .. })));
        let other = Keyring::new(key(2), vec![]).seal(b"secret");
        let e = ring.open(&other).unwrap_err();
        assert!(matches!(e, SealError::UnknownKey { .. }));
        assert!(e.to_string().contains(&key(2).id()) && e.to_string().contains("previous_master_key_file"), "{e}");
        let e = Keyring::none().open(&other).unwrap_err();
        assert!(e.to_string().contains("secrets.master_key_file"), "{e}");
    }

    #[test]
    fn rotation_reads_the_previous_key_and_reseals_under_the_current() {
        let old = Keyring::new(key(1), vec![]).seal(b"seed");
        let ring = Keyring::new(key(2), vec![key(1)]);
        assert!(ring.needs_reseal(&old));
        assert_eq!(ring.open(&old).unwrap(), b"seed");
        assert!(!ring.needs_reseal(&ring.seal(b"seed")));
    }

    #[test]
    fn without_a_key_values_stay_clear_and_clear_values_read_with_one() {
        assert_eq!(Keyring::none().seal(b"seed"), b"seed");
        assert_eq!(Keyring::none().open(b"seed").unwrap(), b"seed");
        assert!(!Keyring::none().needs_reseal(b"seed"));
        let ring = Keyring::new(key(1), vec![]);
        assert_eq!(ring.open(b"seed").unwrap(), b"seed");
        assert!(ring.needs_reseal(b"seed"));
    }

    #[test]
    fn texts_are_sealed_as_base64_and_open_back() {
        let ring = Keyring::new(key(1), vec![]);
        let stored = ring.seal_text("whsec_secret");
        assert!(!stored.contains("whsec_"));
        assert_eq!(ring.open_text(&stored).unwrap(), "whsec_secret");
        assert_eq!(Keyring::none().open_text(&Keyring::none().seal_text("t")).unwrap(), "t");
        assert!(Keyring::none().open_text(&stored).unwrap_err().contains("secrets.master_key_file"));
        assert!(ring.open_text("not base64!").is_err());
    }

    #[test]
    fn key_text_is_base64_or_hex_of_32_bytes() {
        let text = MasterKey::generate_text();
        let k = MasterKey::from_text(&format!("{text}\n")).unwrap();
        assert_eq!(MasterKey::from_text(&hex::encode([9u8; 32])).unwrap().id(), key(9).id());
        assert_eq!(k.id().len(), 16);
        assert!(MasterKey::from_text("short").is_err());
        assert!(MasterKey::from_text(&hex::encode([9u8; 31])).is_err());
    }
}
