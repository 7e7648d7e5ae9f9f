//! A short-lived cache of verified bearer tokens, so that a hot client does not hit the
//! database on every request: SHA-256 of the token → what it grants.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Grant;

/// Verified token hashes, kept for a few seconds. Revocation, and turning a tenant's SCIM
/// feature off, therefore take effect within the cache lifetime (a few seconds).
pub struct TokenCache {
    ttl: Duration,
    max: usize,
    map: Mutex<HashMap<[u8; 32], (Grant, Instant)>>,
}

impl TokenCache {
    pub fn new(ttl: Duration) -> Self {
        TokenCache { ttl, max: 10_000, map: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, hash: &[u8; 32]) -> Option<Grant> {
        let map = self.map.lock().expect("token cache");
        map.get(hash).filter(|(_, at)| at.elapsed() < self.ttl).map(|(t, _)| t.clone())
    }

    pub fn put(&self, hash: [u8; 32], tenant: Grant) {
        let mut map = self.map.lock().expect("token cache");
        if map.len() >= self.max {
            let ttl = self.ttl;
            map.retain(|_, (_, at)| at.elapsed() < ttl);
            if map.len() >= self.max {
                map.clear();
            }
        }
        map.insert(hash, (tenant, Instant::now()));
    }

    /// Forgets every token: after a revocation in this process, which takes effect here at
    /// once (revocations are rare; re-verifying costs a signature check per token).
    pub fn clear(&self) {
        self.map.lock().expect("token cache").clear();
    }
}
