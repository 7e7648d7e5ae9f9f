//! The failed-login counter's rule, shared by both backends: a login attempt is counted
//! *before* its password or secret is checked, so that parallel guesses cannot all be
//! checked before the first failure is written. The store (`roles/oauth`) applies
//! [`count_attempt`] to the stored row inside one transaction (SQLite's single writer;
//! PostgreSQL's row lock), which makes the reservation atomic across threads and replicas.

/// The stored counter of one key (a client id or username, alone or with the caller's
/// address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginState {
    /// Attempts counted since the last success or the end of the last lockout.
    pub failures: i64,
    /// When the current (or last) lockout ends, a normalized time.
    pub locked_until: Option<String>,
}

/// One key of an attempt and the number of attempts it allows per window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutKey {
    pub key: String,
    pub threshold: i64,
}

/// What the store answers to a login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The attempt is counted: check the credential, then report a success with
    /// `login_succeeded` (a failure needs nothing more).
    Allowed,
    /// A key is locked until this normalized time: do not check the credential.
    Locked { until: String },
}

/// Whether a key is locked at `now` (normalized times compare as strings).
pub fn locked_at(state: &LoginState, now: &str) -> Option<String> {
    state.locked_until.as_ref().filter(|until| until.as_str() > now).cloned()
}

/// The key's row after one more attempt at `now`: an expired lockout starts a new count;
/// the attempt that reaches `threshold` is the last one allowed, and locks the key until
/// `until` for everything after it (a success still clears it).
pub fn count_attempt(state: Option<&LoginState>, threshold: i64, until: &str) -> LoginState {
    let previous = match state {
        Some(s) if s.locked_until.is_none() => s.failures,
        _ => 0,
    };
    let failures = previous + 1;
    LoginState { failures, locked_until: (failures >= threshold.max(1)).then(|| until.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2026-01-01T00:00:00.000000Z";
    const T1: &str = "2026-01-01T00:01:00.000000Z";
    const LOCK_END: &str = "2026-01-01T00:05:00.000000Z";
    const T2: &str = "2026-01-01T00:06:00.000000Z";

    #[test]
    fn the_attempt_reaching_the_threshold_is_the_last_allowed() {
        let mut state = None;
        for n in 1..=5 {
            let s = count_attempt(state.as_ref(), 5, LOCK_END);
            assert_eq!(s.failures, n);
            assert_eq!(s.locked_until.is_some(), n == 5);
            assert_eq!(locked_at(&s, T0).is_some(), n == 5);
            state = Some(s);
        }
        assert_eq!(locked_at(state.as_ref().unwrap(), T1).as_deref(), Some(LOCK_END));
    }

    #[test]
    fn an_expired_lockout_starts_a_new_count() {
        let locked = LoginState { failures: 5, locked_until: Some(LOCK_END.into()) };
        assert_eq!(locked_at(&locked, T2), None);
        let s = count_attempt(Some(&locked), 5, "2026-01-01T00:11:00.000000Z");
        assert_eq!(s, LoginState { failures: 1, locked_until: None });
    }

    #[test]
    fn a_threshold_of_one_or_less_allows_one_attempt() {
        assert!(count_attempt(None, 0, LOCK_END).locked_until.is_some());
        assert!(count_attempt(None, 1, LOCK_END).locked_until.is_some());
    }
}
