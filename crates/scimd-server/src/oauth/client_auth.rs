//! Client authentication for the token, revocation and introspection endpoints: a signed
//! assertion goes to `assertion`; a secret is refused for a client registered for
//! assertions; otherwise, by id and secret: an unknown or disabled client is refused before any hashing; a secret
//! verified recently is remembered (never a password, only in memory); any other is
//! counted as an attempt (`lockout`) before argon2 checks it, and identical concurrent
//! attempts share one check.

use std::time::{Duration, Instant};

use scimd_store::ClientAuth;

use super::lockout::{self, Principal};
use super::{ClientCredentials, OAuth, OAuthError, OResult};
use crate::hashing;

/// How long a verified client secret is remembered.
const SECRET_CACHE: Duration = Duration::from_secs(300);

impl OAuth {
    /// The cache key of a presented client secret.
    pub(super) fn secret_key(creds: &ClientCredentials) -> [u8; 32] {
        lockout::Flights::key(&creds.client_id, &creds.client_secret)
    }

    /// Whether this exact secret was verified recently against a hash still valid (no
    /// argon2, and nothing to count: only the right secret can hit).
    pub(super) fn secret_remembered(&self, key: &[u8; 32], hashes: &[String]) -> bool {
        let cache = self.secrets.lock().expect("secret cache");
        cache.get(key).is_some_and(|(matched, at)| at.elapsed() < SECRET_CACHE && hashes.contains(matched))
    }

    /// Whether a presented client secret matches one of the client's valid secret hashes
    /// (argon2); a match is remembered.
    pub(super) async fn secret_matches(
        &self,
        creds: &ClientCredentials,
        key: [u8; 32],
        hashes: &[String],
    ) -> OResult<bool> {
        let Some(matched) = hashing::first_match(creds.client_secret.clone(), hashes.to_vec()).await? else {
            return Ok(false);
        };
        let mut cache = self.secrets.lock().expect("secret cache");
        if cache.len() >= 10_000 {
            cache.retain(|_, (_, at)| at.elapsed() < SECRET_CACHE);
            if cache.len() >= 10_000 {
                cache.clear();
            }
        }
        cache.insert(key, (matched, Instant::now()));
        Ok(true)
    }

    /// Authenticates a client by id and secret. An unknown or disabled client is refused
    /// before any hashing; a secret not verified recently is counted as an attempt (see
    /// `lockout`) before argon2 checks it.
    pub(super) async fn authenticate_client(&self, creds: Option<&ClientCredentials>) -> OResult<ClientAuth> {
        let Some(creds) = creds else {
            return Err(OAuthError::invalid_client());
        };
        if let Some(assertion) = &creds.assertion {
            return self.authenticate_assertion(creds, assertion).await;
        }
        let now = self.clock.now();
        let Some(client) = self.store.client_auth(&creds.client_id, now).await? else {
            return Err(OAuthError::invalid_client());
        };
        if client.disabled {
            return Err(OAuthError::invalid_client());
        }
        if client.keys.private_key_jwt() {
            tracing::info!(client_id = %client.client_id, "a secret presented for a private_key_jwt client refused");
            return Err(OAuthError::invalid_client());
        }
        let key = Self::secret_key(creds);
        if self.secret_remembered(&key, &client.secret_hashes) {
            return Ok(client);
        }
        let name = format!("client:{}", creds.client_id);
        let flight = lockout::Flights::key(&name, &creds.client_secret);
        let who = Principal::new(self, name, creds.from);
        let checked = self.checks.once(flight, async {
            // A concurrent identical request may have just verified it.
            if self.secret_remembered(&key, &client.secret_hashes) {
                return Ok(true);
            }
            self.attempt(&who, "invalid_client").await?;
            let ok = self.secret_matches(creds, key, &client.secret_hashes).await?;
            if ok {
                self.succeeded(&who).await?;
            }
            Ok(ok)
        });
        if !checked.await? {
            return Err(OAuthError::invalid_client());
        }
        Ok(client)
    }
}
