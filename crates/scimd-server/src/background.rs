//! The server's background tasks, in one place: what runs, how often, and why.
//!
//! While an application is served ([`serving`], started by [`crate::serve`] and stopped
//! when it returns, so tests get them too):
//!
//! | task | every | why |
//! |---|---|---|
//! | tenants' mounted paths | 5 s | a profile changed elsewhere (another replica, the command line) moves its base and token paths; a path no mount knows is also reread at once, before answering |
//! | users' locations | 500 ms | after a change of location rules, users' derived place attributes are recomputed in the background, a batch at a time |
//! | idle rate-limiter keys | 60 s | the limiters' memory stays bounded by the tenants and clients active lately |
//! | event delivery | at once after a change here, else every 200 ms | push and webhook streams' events leave in order; changes of other replicas are found by looking (`events`) |
//! | delivered events | 60 s | events every stream of their tenant has are deleted, and those past the retention bound (counted on the streams that lose them) |
//! | asynchronous requests | at once after one is taken here, else every 500 ms | Bulk requests answered `202` run in the background, under a lease; a replica takes over those whose lease expired (`service::async_bulk`) |
//!
//! For the lifetime of `scimd serve` ([`housekeeping`], started at once, then repeated):
//!
//! | task | every | why |
//! |---|---|---|
//! | OAuth bookkeeping | 1 h | expired refresh tokens (a day late, so a late replay is still recognized), spent revocations, idle failed-login counts |
//! | portal sessions | 10 min | sessions past their expiry, invitations past theirs (a session is refused once expired; this only frees the rows) |
//! | audit retention | 10 min | events and payloads past their tenant's days (`audit.days` for those of no tenant), in batches of 5000 with a pause between, so the writer is never held long |
//! | tombstones | 1 h | deleted resources' tombstones and users' deactivation times past `lifecycle.retention` (a POST after that makes a new resource whatever the profile says) |
//!
//! Elsewhere, because each belongs to what it serves: the audit sink's writer task, which
//! writes events in batches (`audit::AuditSink`); the SQLite store's writer and WAL
//! checkpoint threads, and the PostgreSQL pool's (`scimd-store`). Signing keys are
//! reloaded when a token asks for them after `oauth.key_reload`, not by a timer.

use std::sync::Arc;
use std::time::Duration;

use scimd_store::Store;
use tokio::task::JoinHandle;

use crate::http::{AppState, Mounts};
use crate::oauth::OAuth;
use crate::service::Service;

const MOUNTS_EVERY: Duration = Duration::from_secs(5);
const PLACES_EVERY: Duration = Duration::from_millis(500);
const LIMITERS_EVERY: Duration = Duration::from_secs(60);
const EVENTS_PURGE_EVERY: Duration = Duration::from_secs(60);
const PORTAL_PURGE_EVERY: Duration = Duration::from_secs(600);
const OAUTH_PURGE_EVERY: Duration = Duration::from_secs(3600);
const AUDIT_PURGE_EVERY: Duration = Duration::from_secs(600);
const LIFECYCLE_PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Audit rows deleted per statement, and the pause between two statements.
const AUDIT_PURGE_BATCH: u32 = 5000;
const AUDIT_PURGE_PAUSE: Duration = Duration::from_millis(50);

/// Running background tasks; dropping it stops them.
#[must_use = "the tasks stop when this is dropped"]
pub struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// The tasks of a served application. The tenants' mounted paths are read once before
/// this returns, so the first request already finds them.
pub async fn serving(state: &AppState) -> Tasks {
    let (mounts, service) = (state.mounts.clone(), state.service.clone());
    refresh_mounts(&mounts, &service).await;
    let mounts = tokio::spawn(async move {
        loop {
            tokio::time::sleep(MOUNTS_EVERY).await;
            refresh_mounts(&mounts, &service).await;
        }
    });
    let service = state.service.clone();
    let places = tokio::spawn(async move {
        loop {
            tokio::time::sleep(PLACES_EVERY).await;
            match service.recompute_places().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(users = n, "recomputed users' locations after a rules change"),
                Err(e) => tracing::warn!(error = ?e, "recomputing users' locations failed"),
            }
        }
    });
    let limiter_state = state.clone();
    let limiters = tokio::spawn(async move {
        loop {
            tokio::time::sleep(LIMITERS_EVERY).await;
            limiter_state.limiters().forget_idle();
        }
    });
    let delivery = tokio::spawn(state.events.clone().run());
    let events = state.events.clone();
    let purge = tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVENTS_PURGE_EVERY).await;
            if let Err(e) = events.purge().await {
                tracing::warn!(error = ?e, "purging delivered events failed");
            }
        }
    });
    let requests = tokio::spawn(state.service.clone().run_async_requests(state.audit.clone()));
    Tasks(vec![mounts, places, limiters, delivery, purge, requests])
}

async fn refresh_mounts(mounts: &Mounts, service: &Service) {
    if let Err(e) = mounts.refresh(service).await {
        tracing::warn!(error = %e, "reading tenants' mounted paths failed");
    }
}

/// The deployment's housekeeping: the OAuth purge, the audit retention (events of no
/// tenant kept `audit_days`) and the tombstones' (kept `lifecycle`), each run at once and
/// then repeated.
pub fn housekeeping(
    oauth: Arc<OAuth>,
    portal: Arc<crate::portal::Portal>,
    store: Arc<dyn Store>,
    audit_days: i64,
    lifecycle: Duration,
) -> Tasks {
    let lifecycle_store = store.clone();
    let tombstones = tokio::spawn(async move {
        let mut every = tokio::time::interval(LIFECYCLE_PURGE_EVERY);
        let keep = chrono::TimeDelta::from_std(lifecycle).unwrap_or(chrono::TimeDelta::MAX);
        loop {
            every.tick().await;
            match lifecycle_store.purge_lifecycle(chrono::Utc::now() - keep).await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged tombstones and deactivation times past retention"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging tombstones failed"),
            }
        }
    });
    let purge = tokio::spawn(async move {
        let mut every = tokio::time::interval(OAUTH_PURGE_EVERY);
        loop {
            every.tick().await;
            match oauth.purge().await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired OAuth state"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "purging expired OAuth state failed"),
            }
        }
    });
    let sessions = tokio::spawn(async move {
        let mut every = tokio::time::interval(PORTAL_PURGE_EVERY);
        loop {
            every.tick().await;
            match portal.purge().await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired portal sessions and invitations"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purging expired portal sessions failed"),
            }
        }
    });
    let retention = tokio::spawn(async move {
        let mut every = tokio::time::interval(AUDIT_PURGE_EVERY);
        loop {
            every.tick().await;
            let mut total = 0;
            loop {
                match store.purge_audit(chrono::Utc::now(), audit_days, AUDIT_PURGE_BATCH).await {
                    Ok(0) => break,
                    Ok(n) => total += n,
                    Err(e) => {
                        tracing::warn!(error = %e, "purging the audit trail failed");
                        break;
                    }
                }
                tokio::time::sleep(AUDIT_PURGE_PAUSE).await;
            }
            if total > 0 {
                tracing::info!(rows = total, "purged audit records past their retention");
            }
        }
    });
    Tasks(vec![purge, sessions, retention, tombstones])
}
