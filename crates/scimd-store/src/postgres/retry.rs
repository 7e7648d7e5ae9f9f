//! Running PostgreSQL work again where that is safe, and nowhere else (docs/adr/0008,
//! "Retries"):
//!
//! - a transaction the database broke off (serialization failure `40001`, deadlock
//!   `40P01`, at any statement or at `COMMIT`) runs again from its start in a fresh
//!   transaction, at most [`TRIES`] tries in all, after a short random pause;
//! - a transaction or a read whose connection broke before anything was committed runs
//!   again once, at once, on a new connection (the pool's idle connections are dropped
//!   first: they most likely broke with it);
//! - a commit whose connection broke, or a statement that commits by itself, is never run
//!   again: whether it took effect is unknown, and the caller answers 503.
//!
//! The loops are the macros `transaction!` and `read!` (macros, so that the work borrows
//! the caller's values as ordinary code does); the classification of a driver error is
//! `classify`, used by the shell's one error mapping (`pg`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_postgres::error::SqlState;

use super::PgStore;
use crate::{StoreError, Unavailable, Why};

/// Tries of a transaction the database breaks off, the first included.
pub(super) const TRIES: u32 = 3;

/// How often work ran again, since the start (for [`crate::StoreStats`]).
#[derive(Default)]
pub(super) struct Retries {
    pub(super) transactions: AtomicU64,
    pub(super) connections: AtomicU64,
}

/// The tries of one piece of work.
pub(super) struct Attempts<'a> {
    store: &'a PgStore,
    tries: u32,
    reconnected: bool,
}

impl<'a> Attempts<'a> {
    pub(super) fn new(store: &'a PgStore) -> Self {
        Attempts { store, tries: 1, reconnected: false }
    }

    /// Whether to run a transaction again after `e`; pauses first when the database broke
    /// it off (the other party to a deadlock gets time to finish).
    pub(super) async fn again(&mut self, e: &StoreError) -> bool {
        let StoreError::Unavailable(u) = e else { return false };
        let again = match u.why {
            Why::Contention if self.tries < TRIES => {
                self.tries += 1;
                self.store.retries.transactions.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(pause(self.tries)).await;
                true
            }
            Why::Lost => self.reconnect(),
            _ => false,
        };
        if !again {
            given_up(u, self.tries);
        }
        again
    }

    /// Whether to run a read again after `e`: once, when its connection broke.
    pub(super) fn again_read(&mut self, e: &StoreError) -> bool {
        let StoreError::Unavailable(u) = e else { return false };
        let again = u.why == Why::Lost && self.reconnect();
        if !again {
            given_up(u, self.tries);
        }
        again
    }

    fn reconnect(&mut self) -> bool {
        if self.reconnected {
            return false;
        }
        self.reconnected = true;
        self.store.retries.connections.fetch_add(1, Ordering::Relaxed);
        // A connection breaks with its siblings (the server restarted, failed over, or a
        // proxy dropped them): the idle ones go too, so the next try gets a new one.
        self.store.pool.retain(|_, _| false);
        true
    }
}

/// The caller answers 503 without the driver's message: it is logged here.
fn given_up(u: &Unavailable, tries: u32) {
    tracing::warn!(why = u.why.as_str(), tries, detail = %u.detail, "the database could not do the work now");
}

/// The pause before try `n` (2 or 3): random, 5–25 ms before the second, 10–50 ms before
/// the third, so that two transactions that deadlocked do not meet again in step.
fn pause(n: u32) -> Duration {
    let scale = u64::from(n.saturating_sub(1).max(1));
    Duration::from_millis(rand::random_range(5 * scale..=25 * scale))
}

/// What a driver error means for running the work again: the database broke the
/// transaction off, or the connection is gone; `None` for every other error.
pub(super) fn classify(e: &tokio_postgres::Error) -> Option<Why> {
    match e.as_db_error() {
        Some(db) => {
            let code = db.code();
            if *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED {
                Some(Why::Contention)
            } else if *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || code.code().starts_with("08")
            {
                // The server ended the session (terminated, shutting down): the connection
                // is gone with the transaction.
                Some(Why::Lost)
            } else {
                None
            }
        }
        None if e.is_closed() || io_error(e) => Some(Why::Lost),
        None => None,
    }
}

fn io_error(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// A failed `COMMIT`: a broken connection
/// leaves the outcome unknown (never run again); anything else is as [`super::pg`] says.
pub(super) fn committing(e: tokio_postgres::Error) -> StoreError {
    match super::pg(e) {
        StoreError::Unavailable(Unavailable { why: Why::Lost, detail }) => {
            StoreError::Unavailable(Unavailable { why: Why::Unknown, detail })
        }
        other => other,
    }
}

/// For statements that commit by themselves (never run again): [`Why::Lost`] becomes
/// [`Why::Unknown`], and the give-up is logged as the loops' are.
pub(super) fn unknown_if_lost(e: StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(Unavailable { why, detail }) => {
            let why = if why == Why::Lost { Why::Unknown } else { why };
            let u = Unavailable { why, detail };
            given_up(&u, 1);
            StoreError::Unavailable(u)
        }
        other => other,
    }
}

/// Runs `$body` (a block ending in `Ok(value)`, `?` allowed) with `$tx` a fresh
/// read-write transaction on a pooled connection, then commits it (or, with a third
/// argument, only when that function of the value says so; otherwise the transaction is
/// rolled back when dropped), running it all again as the module says. The body must be
/// able to run more than once: what it consumes, it clones.
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:block) => {
        transaction!($store, |$tx| $body, |_| true)
    };
    ($store:expr, |$tx:ident| $body:block, $keep:expr) => {{
        let store: &PgStore = $store;
        let mut attempts = retry::Attempts::new(store);
        loop {
            let r: StoreResult<_> = async {
                let mut c = store.conn().await?;
                let $tx = c.transaction().await.map_err(pg)?;
                let r: StoreResult<_> = async $body.await;
                let out = r?;
                if ($keep)(&out) {
                    $tx.commit().await.map_err(retry::committing)?;
                }
                Ok(out)
            }
            .await;
            match r {
                Err(e) if attempts.again(&e).await => continue,
                r => break r,
            }
        }
    }};
}

/// Runs `$call` (a future of a `StoreResult`) with `$db` a pooled connection as a `Db`,
/// and once more on a fresh connection when the first one broke.
macro_rules! read {
    ($store:expr, |$db:ident| $call:expr) => {{
        let store: &PgStore = $store;
        let mut attempts = retry::Attempts::new(store);
        loop {
            let r: StoreResult<_> = async {
                let c = store.conn().await?;
                let $db = &Pg(&*c);
                $call.await
            }
            .await;
            match r {
                Err(e) if attempts.again_read(&e) => continue,
                r => break r,
            }
        }
    }};
}

pub(super) use {read, transaction};
