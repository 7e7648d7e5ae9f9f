//! Event delivery: each push and webhook stream's events sent to its receiver in the
//! order of the tenant's sequence numbers, at least once, by whichever replica holds the
//! stream's lease; poll streams answered when their receiver asks (`poll`).
//!
//! A round for one stream: lease it, read its events after its cursor, send them one by
//! one (a receiver never sees an event before the one written before it), move the cursor
//! after each batch, give the lease back. A failed send ends the round: the stream waits
//! (exponential backoff with jitter, or the receiver's `Retry-After`) and starts again at
//! the same event. A receiver that refuses an event for good (RFC 8935's 400 with an
//! `err`, or 410) has it skipped and counted, so one bad event does not stop the stream.
//!
//! Beside this file: `message` (what a receiver gets: a signed SET or a webhook),
//! `poll` (RFC 8936's poll exchange).

mod message;
mod poll;

pub use poll::{PollRequest, PollResponse, credential_hash};

use std::sync::Arc;
use std::time::Duration;

use scimd_store::{Progress, Store, Stream};

use crate::delivery::backoff::Backoff;
use crate::delivery::send::{Outcome, Sender};
use crate::error::AppResult;
use crate::oauth::OAuth;
use crate::seal::Keyring;
use crate::service::Service;

/// How often a replica looks for streams to deliver when it was not woken.
const IDLE_EVERY: Duration = Duration::from_millis(200);
/// How long a replica lets a burst of changes gather before a round: a round then carries
/// many events for one lease and one progress write, instead of one event each (the
/// database's writer is the creates' bottleneck).
const GATHER: Duration = Duration::from_millis(20);
/// How long a replica holds a stream it delivers; a round ends well before.
const LEASE: Duration = Duration::from_secs(30);
/// The longest a round of one stream lasts before its lease is given back.
const ROUND: Duration = Duration::from_secs(10);
// A round, and the one send that may be under way when its time is up, end before the
// lease does.
const _: () = assert!(ROUND.as_secs() + crate::delivery::send::REQUEST_TIMEOUT.as_secs() < LEASE.as_secs());
/// Events read per batch, and the cursor moved after each.
const BATCH: u32 = 256;
/// Streams delivered at once by one replica.
const STREAMS_AT_ONCE: u32 = 16;

/// Settings of event delivery.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// After failing this long, a stream is reported failing (log, metric, admin API).
    pub failing_after: Duration,
    /// Events older than this are dropped even if a stream has not delivered them.
    pub retention: Duration,
    /// Waits between attempts of a failing stream.
    pub backoff: Backoff,
    /// The longest a poll without `returnImmediately` waits for events.
    pub poll_wait: Duration,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            failing_after: Duration::from_secs(600),
            retention: Duration::from_secs(7 * 24 * 3600),
            backoff: Backoff::default(),
            poll_wait: Duration::from_secs(25),
        }
    }
}

/// Event delivery for one process.
pub struct Events {
    store: Arc<dyn Store>,
    service: Arc<Service>,
    oauth: Arc<OAuth>,
    keyring: Arc<Keyring>,
    sender: Sender,
    config: EventsConfig,
    /// This replica's name in leases.
    owner: String,
    /// The SETs' issuer, and the base of the SCIM API (for the full form's locations).
    issuer: String,
    scim_base: String,
    /// Raised after a change of this replica, so its events leave at once.
    changes: Arc<crate::service::Changes>,
}

impl Events {
    pub fn new(
        store: Arc<dyn Store>,
        service: Arc<Service>,
        oauth: Arc<OAuth>,
        keyring: Arc<Keyring>,
        public_url: Option<&str>,
        config: EventsConfig,
    ) -> AppResult<Events> {
        // `server.public_url` names the SCIM API (`https://host/scim/v2`) or only the root,
        // as the HTTP layer reads it.
        let origin = scimd_core::profile::public_root(public_url.unwrap_or("")).to_string();
        let scim_base = format!("{origin}/scim/v2");
        let issuer = oauth.issuer(if origin.is_empty() { "urn:scimd" } else { &origin });
        Ok(Events {
            store,
            oauth,
            keyring,
            sender: Sender::new()?,
            config,
            owner: crate::oauth::random_id(),
            issuer,
            scim_base,
            changes: service.changes(),
            service,
        })
    }

    pub fn config(&self) -> &EventsConfig {
        &self.config
    }

    /// Delivers streams' events until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        loop {
            let notified = self.changes.delivery.notified();
            let busy = match self.round().await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::warn!(error = ?e, "delivering events failed");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = notified => tokio::time::sleep(GATHER).await,
                    _ = tokio::time::sleep(IDLE_EVERY) => {}
                }
            }
        }
    }

    /// One round: the streams due, each delivered as far as it goes; how many there were.
    pub async fn round(self: &Arc<Self>) -> AppResult<usize> {
        let now = now_ms();
        let streams =
            self.store.claim_streams(&self.owner, now, now + LEASE.as_millis() as i64, STREAMS_AT_ONCE).await?;
        let n = streams.len();
        let mut set = tokio::task::JoinSet::new();
        for s in streams {
            let me = self.clone();
            set.spawn(async move { me.deliver(s).await });
        }
        while let Some(r) = set.join_next().await {
            if let Ok(Err(e)) = r {
                tracing::warn!(error = ?e, "delivering a stream's events failed");
            }
        }
        Ok(n)
    }

    /// Sends a leased stream's events in order, until none is left, one fails, or the
    /// round's time is up; records its progress after each batch.
    async fn deliver(&self, s: Stream) -> AppResult<()> {
        let started = std::time::Instant::now();
        let secret = self.open_secret(&s)?;
        let mut cursor = s.cursor;
        let mut failure = None;
        let (mut delivered, mut rejected) = (0, 0);
        'round: while started.elapsed() < ROUND {
            let batch = self.store.events_after(s.tenant, cursor, BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let full = batch.len() == BATCH as usize;
            for e in batch {
                // Checked before each event, not only each batch: a batch to a slow
                // receiver can outlast the lease, and another replica would then send
                // the same events again, interleaved with these.
                if started.elapsed() >= ROUND {
                    break;
                }
                if !s.filter.admits(&e.event) {
                    cursor = e.event.seq;
                    continue;
                }
                let msg = self.message(&s, secret.as_deref(), &e).await?;
                let url = s.url.as_deref().unwrap_or_default();
                match self.sender.post(url, msg.content_type, &msg.headers, msg.body).await {
                    Outcome::Delivered => delivered += 1,
                    Outcome::Rejected { reason } => {
                        tracing::warn!(stream = %s.id, seq = e.event.seq, %reason, "the receiver refused an event; skipped");
                        rejected += 1;
                    }
                    Outcome::Retry { reason, after } => {
                        let attempt = s.attempts.max(0) as u32;
                        let wait = self.config.backoff.wait(attempt, after, rand::random::<f64>());
                        failure = Some((reason, now_ms() + wait.as_millis() as i64));
                        break 'round;
                    }
                }
                cursor = e.event.seq;
            }
            if !full {
                break;
            }
            // More to come: the progress so far recorded before the next batch.
            if !self.checkpoint(&s, cursor, delivered, rejected).await? {
                // The lease was lost (this replica stalled): another replica goes on.
                return Ok(());
            }
            (delivered, rejected) = (0, 0);
        }
        // Logged when the stream has failed long enough, then at every doubling of its
        // attempts (not at every round).
        if let Some((reason, _)) = &failure
            && s.failing(now_ms(), self.config.failing_after)
            && (s.attempts + 1).count_ones() == 1
        {
            tracing::warn!(stream = %s.id, tenant = %s.tenant_name, %reason, "an event stream is failing");
        }
        let end = Progress { cursor, delivered, rejected, failure, release: true };
        self.store.advance_stream(&s.id, Some(&self.owner), end, now_ms()).await?;
        Ok(())
    }

    /// Moves the stream's cursor (when this replica still holds its lease).
    async fn checkpoint(&self, s: &Stream, cursor: i64, delivered: i64, rejected: i64) -> AppResult<bool> {
        let p = Progress { cursor, delivered, rejected, ..Progress::default() };
        Ok(self.store.advance_stream(&s.id, Some(&self.owner), p, now_ms()).await?)
    }

    /// The stream's secret (webhook) or bearer token (push), unsealed.
    fn open_secret(&self, s: &Stream) -> AppResult<Option<String>> {
        let Some(sealed) = &s.secret else { return Ok(None) };
        let plain = self.keyring.open_text(sealed);
        plain.map(Some).map_err(|e| crate::error::AppError::Internal(format!("stream {}: its secret: {e}", s.id)))
    }

    /// Gives back the leases this process holds (at shutdown; its rounds were stopped, and
    /// what they sent after their last recorded progress is sent again by the next owner).
    pub async fn release(&self) {
        if let Err(e) = self.store.release_streams(&self.owner).await {
            tracing::warn!(error = %e, "giving back the event streams' leases failed");
        }
    }

    /// Every stream's figures, for the metrics.
    pub async fn figures(&self) -> AppResult<Vec<crate::metrics::StreamFigures>> {
        let now = now_ms();
        Ok(self
            .store
            .streams(None)
            .await?
            .into_iter()
            .map(|s| crate::metrics::StreamFigures {
                failing: s.failing(now, self.config.failing_after),
                lag_seconds: s.oldest_pending_ms.map(|t| (now - t).max(0) as f64 / 1000.0).unwrap_or(0.0),
                backlog: s.backlog(),
                tenant: s.tenant_name,
                stream: s.id,
                method: s.method.as_str(),
                delivered: s.delivered,
                rejected: s.rejected,
                dropped: s.dropped,
                attempts: s.attempts,
            })
            .collect())
    }

    /// Deletes events every stream has, and those past the retention bound.
    pub async fn purge(&self) -> AppResult<scimd_store::Purged> {
        let keep_after = now_ms() - self.config.retention.as_millis() as i64;
        let purged = self.store.purge_events(keep_after).await?;
        if purged.dropped > 0 {
            tracing::warn!(
                events = purged.dropped,
                "dropped events past the retention bound that a stream had not delivered"
            );
        }
        Ok(purged)
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
