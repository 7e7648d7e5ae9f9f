//! RFC 8936's poll exchange: a receiver presents its stream's credential, acknowledges
//! the SETs it has (and those it could not accept, `setErrs`), and gets the next ones in
//! order. What it has not acknowledged it gets again. Without `returnImmediately` the
//! request waits (up to `poll_wait`) for an event to arrive.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Events;
use crate::error::AppResult;

/// SETs answered per poll when the receiver names no `maxEvents`, and the most ever.
const DEFAULT_MAX: u32 = 100;
const MOST: u32 = 1000;
/// How often a waiting poll looks for new events (a change on this replica wakes it).
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A poll request (RFC 8936 §2.4).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollRequest {
    #[serde(default)]
    pub ack: Vec<String>,
    #[serde(default)]
    pub set_errs: HashMap<String, Value>,
    pub max_events: Option<u32>,
    #[serde(default)]
    pub return_immediately: bool,
}

/// A poll response (RFC 8936 §2.5): SETs by `jti`, and whether more are waiting.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollResponse {
    pub sets: Map<String, Value>,
    pub more_available: bool,
}

/// The hash a poll credential is stored as: its SHA-256, as every bearer token's, in hex.
pub fn credential_hash(token: &str) -> String {
    hex::encode(crate::auth::hash_token(token))
}

impl Events {
    /// Answers a poll; `None` when the credential names no poll stream.
    pub async fn poll(&self, token: &str, req: PollRequest) -> AppResult<Option<PollResponse>> {
        let hash = credential_hash(token);
        let Some(mut s) = self.store.poll_stream(&hash).await? else { return Ok(None) };
        for (jti, err) in &req.set_errs {
            tracing::warn!(stream = %s.id, %jti, error = %err, "a poll receiver could not accept an event");
        }
        let acks: Vec<String> = req.ack.into_iter().chain(req.set_errs.into_keys()).collect();
        if !acks.is_empty() {
            self.store.acknowledge(&s, acks).await?;
            s = self.store.poll_stream(&hash).await?.unwrap_or(s);
        }
        let max = req.max_events.unwrap_or(DEFAULT_MAX).min(MOST);
        let deadline = tokio::time::Instant::now() + self.config.poll_wait;
        loop {
            let notified = self.changes.polls.notified();
            let mut sets = Map::new();
            let mut more = false;
            if max > 0 && !s.paused {
                // Acknowledged out of order: not sent again.
                let acked = self.store.acknowledged(&s.id).await?;
                let events = self.store.events_after(s.tenant, s.cursor, max * 2 + 1).await?;
                let wanted =
                    events.iter().filter(|e| s.filter.admits(&e.event) && acked.binary_search(&e.event.seq).is_err());
                for e in wanted {
                    if sets.len() as u32 == max {
                        more = true;
                        break;
                    }
                    sets.insert(e.event.jti.clone(), Value::String(self.set(&s, e).await?));
                }
                more |= events.len() as u32 > max * 2;
            }
            if !sets.is_empty() || req.return_immediately || max == 0 || tokio::time::Instant::now() >= deadline {
                return Ok(Some(PollResponse { sets, more_available: more }));
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(LOOK_EVERY) => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}
