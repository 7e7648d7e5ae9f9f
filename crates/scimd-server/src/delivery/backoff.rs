//! When to try a failed delivery again: exponential backoff with jitter, or the time the
//! receiver asked for in `Retry-After` (RFC 9110 §10.2.3). Pure: the random draw and the
//! current time are passed in.

use std::time::{Duration, SystemTime};

/// The longest wait a receiver's `Retry-After` can ask for; a longer one (or a date
/// further ahead) is cut to this, so a mistaken header cannot park a stream for days.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// The retry policy of one stream: attempt `n` (0 for the first retry) waits a random
/// time between `base / 2` and `min(cap, base · 2ⁿ)`.
///
/// Full jitter (uniform from zero up to the exponential bound) spreads the retries of
/// many streams that failed together; the floor of half the base keeps a receiver that
/// fails at once from being retried in a tight loop when the draw is near zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The bound of the first retry.
    pub base: Duration,
    /// The largest bound: once reached, every retry waits at most this long.
    pub cap: Duration,
}

impl Default for Backoff {
    /// One second, doubling up to five minutes.
    fn default() -> Self {
        Backoff { base: Duration::from_secs(1), cap: Duration::from_secs(300) }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0 for the first), for a draw `rng_unit`
    /// uniform in [0, 1] (a value outside is clamped, NaN counts as 0).
    pub fn delay(&self, attempt: u32, rng_unit: f64) -> Duration {
        let growth = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        let high = self.base.saturating_mul(growth).min(self.cap);
        let low = (self.base / 2).min(high);
        let unit = if rng_unit.is_nan() { 0.0 } else { rng_unit.clamp(0.0, 1.0) };
        low + (high - low).mul_f64(unit)
    }

    /// The wait before retry number `attempt`, drawn at random.
    pub fn next_delay(&self, attempt: u32) -> Duration {
        self.delay(attempt, rand::random::<f64>())
    }

    /// The wait before retry number `attempt` when the receiver may have said how long
    /// to wait: its `Retry-After` is honoured (already bounded by [`RETRY_AFTER_MAX`]),
    /// but never below half the base, so `Retry-After: 0` is no tight loop either.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>, rng_unit: f64) -> Duration {
        match retry_after {
            Some(after) => after.max(self.base / 2),
            None => self.delay(attempt, rng_unit),
        }
    }
}

/// A `Retry-After` value as a wait from `now`: delay-seconds (`120`) or an HTTP-date
/// (`Fri, 04 Dec 2026 21:00:00 GMT`, or the obsolete forms RFC 9110 says to accept). A
/// date in the past is no wait; anything beyond [`RETRY_AFTER_MAX`] is cut to it;
/// anything else (negative, fractional, garbage) is `None`.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Very many digits overflow u64: still "a very long time".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(RETRY_AFTER_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn delays_double_up_to_the_cap_within_the_jitter() {
        let b = Backoff { base: S(2), cap: S(60) };
        assert_eq!(b.delay(0, 1.0), S(2));
        assert_eq!(b.delay(0, 0.0), S(1));
        assert_eq!(b.delay(1, 1.0), S(4));
        assert_eq!(b.delay(3, 1.0), S(16));
        assert_eq!(b.delay(3, 0.5), Duration::from_millis(8500));
        assert_eq!(b.delay(5, 1.0), S(60));
        assert_eq!(b.delay(u32::MAX, 1.0), S(60));
        assert_eq!(b.delay(u32::MAX, 0.0), S(1));
        for attempt in [0, 1, 7, 40, 1000] {
            for unit in [0.0, 0.1, 0.99, 1.0] {
                let d = b.delay(attempt, unit);
                assert!(d >= S(1) && d <= S(60), "attempt {attempt}, draw {unit}: {d:?}");
            }
        }
    }

    #[test]
    fn draws_outside_the_unit_interval_are_clamped() {
        let b = Backoff { base: S(2), cap: S(60) };
        assert_eq!(b.delay(2, -3.0), S(1));
        assert_eq!(b.delay(2, 7.0), S(8));
        assert_eq!(b.delay(2, f64::NAN), S(1));
        assert_eq!(b.delay(2, f64::INFINITY), S(8));
    }

    #[test]
    fn a_cap_below_the_base_wins() {
        let b = Backoff { base: S(10), cap: S(3) };
        assert_eq!(b.delay(0, 0.0), S(3));
        assert_eq!(b.delay(4, 1.0), S(3));
        let random = b.next_delay(2);
        assert_eq!(random, S(3));
        let d = Backoff::default().next_delay(3);
        assert!(d >= Duration::from_millis(500) && d <= S(8));
    }

    #[test]
    fn retry_after_is_honoured_with_a_floor() {
        let b = Backoff { base: S(2), cap: S(60) };
        assert_eq!(b.wait(0, Some(S(7)), 0.0), S(7));
        assert_eq!(b.wait(0, Some(S(600)), 0.0), S(600));
        assert_eq!(b.wait(9, Some(Duration::ZERO), 0.0), S(1));
        assert_eq!(b.wait(1, None, 1.0), S(4));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = httpdate::parse_http_date("Fri, 04 Dec 2026 21:00:00 GMT").unwrap();
        assert_eq!(retry_after("7", now), Some(S(7)));
        assert_eq!(retry_after(" 120 ", now), Some(S(120)));
        assert_eq!(retry_after("0", now), Some(S(0)));
        assert_eq!(retry_after("Fri, 04 Dec 2026 21:00:30 GMT", now), Some(S(30)));
        // The obsolete forms a recipient must still accept.
        assert_eq!(retry_after("Friday, 04-Dec-26 21:01:00 GMT", now), Some(S(60)));
        assert_eq!(retry_after("Fri Dec  4 21:02:00 2026", now), Some(S(120)));
        // In the past: no wait.
        assert_eq!(retry_after("Fri, 04 Dec 2026 20:00:00 GMT", now), Some(Duration::ZERO));
    }

    #[test]
    fn long_retry_afters_are_cut_and_garbage_is_ignored() {
        let now = httpdate::parse_http_date("Fri, 04 Dec 2026 21:00:00 GMT").unwrap();
        assert_eq!(retry_after("86400", now), Some(RETRY_AFTER_MAX));
        assert_eq!(retry_after("99999999999999999999999999", now), Some(RETRY_AFTER_MAX));
        assert_eq!(retry_after("Sat, 05 Dec 2026 21:00:00 GMT", now), Some(RETRY_AFTER_MAX));
        for bad in ["", " ", "-5", "1.5", "+3", "soon", "7 seconds", "Fri, 32 Dec 2026 21:00:00 GMT"] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
    }
}
