//! The target's answers: a status and a JSON body, the key its errors are counted under,
//! and how long to wait before asking again (`Retry-After`, else backoff with jitter).
//! Shared by the token requests (`auth`) and the SCIM requests (`apply`).

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

/// How long to wait before the next attempt: the answer's `Retry-After` (seconds or an
/// HTTP date, at most a minute), else `backoff` with some jitter.
pub(crate) fn retry_delay(headers: &HeaderMap, backoff: Duration) -> Duration {
    if let Some(v) = headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()) {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Duration::from_secs(secs.min(60));
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc2822(v.trim()) {
            let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
            let wait = (t.with_timezone(&chrono::Utc) - now).num_milliseconds().clamp(0, 60_000);
            return Duration::from_millis(wait as u64);
        }
    }
    let jitter =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()) % 100;
    backoff + Duration::from_millis(u64::from(jitter) * backoff.as_millis().min(1000) as u64 / 400)
}

/// An answer of the target.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The SCIM error's `scimType`, else `status N`: the key errors are counted under (as
    /// the audit summary does).
    pub fn error_key(&self) -> String {
        match self.body.get("scimType").and_then(Value::as_str) {
            Some(t) => t.to_string(),
            None => format!("status {}", self.status),
        }
    }
}
