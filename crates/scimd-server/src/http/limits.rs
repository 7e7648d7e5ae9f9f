//! Overload protection: per-tenant and per-client request rates (429 with `Retry-After`,
//! checked once a request's credentials are known; a tenant's profile may set its own
//! rate), a bound on requests in flight (beyond it, 503 at once rather than a queue that
//! grows), a time limit per request (503), and the bounds on connections that
//! `connections` applies. Rates are per process: with several replicas, each enforces its
//! own.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Limits of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests per second one tenant may make (a burst of as many); 0: no limit.
    pub tenant_per_sec: u32,
    /// Requests per second one client (OAuth client or long-lived token) may make; 0: no limit.
    pub client_per_sec: u32,
    /// Requests handled at once; more are answered 503 at once.
    pub max_concurrent: usize,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Open connections, their request heads' time and their idle time (see `connections`).
    pub connections: super::connections::ConnLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tenant_per_sec: 0,
            client_per_sec: 0,
            max_concurrent: 1024,
            request_timeout: Duration::from_secs(60),
            connections: Default::default(),
        }
    }
}

/// The rate limiters of one process.
pub struct Limiters {
    tenant: Option<(u32, DefaultKeyedRateLimiter<i64>)>,
    client: Option<(u32, DefaultKeyedRateLimiter<Arc<str>>)>,
    /// The rates tenants' profiles set (`Profile::rate_limit`): one limiter keyed by tenant
    /// for each rate in use, so a profile's rate applies to each of its tenants apart.
    profiles: RwLock<HashMap<u32, DefaultKeyedRateLimiter<i64>>>,
}

/// A refused request: which limit, and how long to wait.
pub struct OverLimit {
    pub what: &'static str,
    pub per_sec: u32,
    pub retry_after: Duration,
}

impl Limiters {
    pub fn new(l: &Limits) -> Limiters {
        fn keyed<K: std::hash::Hash + Eq + Clone>(n: u32) -> Option<(u32, DefaultKeyedRateLimiter<K>)> {
            NonZeroU32::new(n).map(|q| (n, RateLimiter::keyed(Quota::per_second(q))))
        }
        Limiters { tenant: keyed(l.tenant_per_sec), client: keyed(l.client_per_sec), profiles: RwLock::default() }
    }

    /// Takes one request of a tenant's and a client's allowance.
    pub fn check(&self, tenant: i64, client: &Arc<str>) -> Result<(), OverLimit> {
        let over = |what, per_sec, e: governor::NotUntil<_>| OverLimit {
            what,
            per_sec,
            retry_after: e.wait_time_from(DefaultClock::default().now()),
        };
        if let Some((n, r)) = &self.tenant {
            r.check_key(&tenant).map_err(|e| over("this tenant", *n, e))?;
        }
        if let Some((n, r)) = &self.client {
            r.check_key(client).map_err(|e| over("this client", *n, e))?;
        }
        Ok(())
    }

    /// Takes one request of a tenant's allowance under its profile's rate (`per_sec`
    /// requests a second, a burst of as many), besides the server's limits.
    pub fn check_profile(&self, tenant: i64, per_sec: u32) -> Result<(), OverLimit> {
        let Some(quota) = NonZeroU32::new(per_sec) else { return Ok(()) };
        let over = |e: governor::NotUntil<_>| OverLimit {
            what: "this tenant",
            per_sec,
            retry_after: e.wait_time_from(DefaultClock::default().now()),
        };
        if let Some(r) = self.profiles.read().expect("profile limiters").get(&per_sec) {
            return r.check_key(&tenant).map_err(over);
        }
        let mut all = self.profiles.write().expect("profile limiters");
        let r = all.entry(per_sec).or_insert_with(|| RateLimiter::keyed(Quota::per_second(quota)));
        r.check_key(&tenant).map_err(over)
    }

    /// Forgets keys idle long enough to hold a full allowance again (bounded memory).
    pub fn forget_idle(&self) {
        for r in self.profiles.read().expect("profile limiters").values() {
            r.retain_recent();
        }
        if let Some((_, r)) = &self.tenant {
            r.retain_recent();
        }
        if let Some((_, r)) = &self.client {
            r.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profiles_rate_holds_each_of_its_tenants_apart() {
        let l = Limiters::new(&Limits::default());
        for _ in 0..3 {
            assert!(l.check_profile(1, 3).is_ok());
        }
        let Err(over) = l.check_profile(1, 3) else { panic!("the fourth in a burst of three is refused") };
        assert_eq!((over.what, over.per_sec), ("this tenant", 3));
        assert!(over.retry_after > Duration::ZERO);
        // Another tenant of the same rate, and the same tenant under another rate, have
        // their own allowance; the server's own limits are off.
        assert!(l.check_profile(2, 3).is_ok());
        assert!(l.check_profile(1, 10).is_ok());
        assert!(l.check(1, &Arc::from("client")).is_ok());
        l.forget_idle();
    }
}
