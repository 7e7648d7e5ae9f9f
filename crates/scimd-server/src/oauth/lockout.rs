//! The token endpoint's defence against guessing: failed-login counts per principal (a
//! client id or an API username), both per caller address and in total. A guess is
//! counted before its secret is checked, so parallel guesses cannot outrun the count, and
//! a locked principal is refused before any hashing. The address count locks a guesser
//! out after `lockout_threshold` attempts while others from elsewhere still log in; the
//! total count (`lockout_threshold_total`, higher) bounds guessing spread over many
//! addresses. Locking a principal out for everyone therefore takes that many requests
//! from many addresses, not five from anywhere.
//!
//! Identical concurrent attempts (the same principal and secret) are one attempt: the
//! first checks, the others wait for its answer ([`Flights`]). A client that opens many
//! connections at once with its right secret is therefore neither refused nor made to pay
//! one argon2 check per connection, and repeating a guess buys an attacker nothing.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::DateTime;
use scimd_store::{LockoutKey, LoginAttempt};

use super::{OAuth, OAuthError, OResult};

/// The counted keys of one principal as seen from one address.
pub(crate) struct Principal {
    keys: Vec<LockoutKey>,
}

impl Principal {
    /// `name` is the principal's key (`client:ID`, `user:NAME`); `from`, the caller's
    /// address when known.
    pub(crate) fn new(oauth: &OAuth, name: String, from: Option<IpAddr>) -> Principal {
        let c = &oauth.config;
        let mut keys = Vec::with_capacity(2);
        if let Some(ip) = from {
            keys.push(LockoutKey { key: format!("{name}@{ip}"), threshold: c.lockout_threshold });
        }
        let total = if from.is_some() { c.lockout_threshold_total } else { c.lockout_threshold };
        keys.push(LockoutKey { key: name, threshold: total.max(c.lockout_threshold) });
        Principal { keys }
    }
}

impl OAuth {
    /// Counts an attempt of `who` before its credential is checked; a locked principal is
    /// refused with a 429 (error code `error`) and `Retry-After`.
    pub(crate) async fn attempt(&self, who: &Principal, error: &'static str) -> OResult<()> {
        let now = self.clock.now();
        match self.store.login_attempt(who.keys.clone(), self.config.lockout_secs, now).await? {
            LoginAttempt::Allowed => Ok(()),
            LoginAttempt::Locked { until } => {
                let secs =
                    DateTime::parse_from_rfc3339(&until).map(|u| (u.timestamp() - now.timestamp()).max(1)).unwrap_or(1);
                tracing::warn!(key = %who.keys[0].key, %until, "login refused: locked out after repeated failures");
                Err(OAuthError::Client {
                    status: 429,
                    error,
                    description: format!("too many failed logins: try again in {secs} seconds"),
                    retry_after: Some(secs),
                })
            }
        }
    }

    /// Forgets the counts of `who` after a successful login.
    pub(crate) async fn succeeded(&self, who: &Principal) -> OResult<()> {
        Ok(self.store.login_succeeded(who.keys.iter().map(|k| k.key.clone()).collect()).await?)
    }
}

/// One check under way: its answer, once known.
type Flight = Arc<tokio::sync::OnceCell<OResult<bool>>>;

/// Checks under way, by a hash of (principal, secret).
#[derive(Default)]
pub(super) struct Flights {
    under_way: Mutex<HashMap<[u8; 32], Flight>>,
}

impl Flights {
    /// The key of a principal and a presented secret: SHA-256 of both (the secret itself is
    /// never kept; also the key of the cache of verified client secrets).
    pub(super) fn key(principal: &str, secret: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(principal.as_bytes());
        h.update([0u8]);
        h.update(secret.as_bytes());
        h.finalize().into()
    }

    /// Runs `check` unless an identical one is under way, whose answer is then shared.
    pub(super) async fn once(&self, key: [u8; 32], check: impl Future<Output = OResult<bool>>) -> OResult<bool> {
        let cell = self.under_way.lock().expect("flights").entry(key).or_default().clone();
        let answer = cell.get_or_init(|| check).await.clone();
        let mut under_way = self.under_way.lock().expect("flights");
        if under_way.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            under_way.remove(&key);
        }
        answer
    }
}
