//! Argon2id, bounded: the one place where the process hashes a password or secret or
//! checks one. Each computation takes about 19 MiB and tens of milliseconds, so the number
//! running at once is bounded by the cores (more would not finish sooner, and a burst of
//! logins or of Bulk creates with passwords would take the process to gigabytes). Callers
//! wait their turn in a bounded queue; past it they are refused at once with [`HashError::Busy`]
//! (answered as a 503 with `Retry-After`), so waiting requests cannot pile up either.

use std::sync::{Arc, LazyLock, OnceLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use rand::RngCore;
use tokio::sync::Semaphore;

/// Callers allowed to wait for a core, per core.
const QUEUE_PER_CORE: usize = 64;

/// Why a hash was not computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    /// Every core is hashing and the queue is full: retry shortly.
    Busy,
    Internal(String),
}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashError::Busy => f.write_str("too many passwords are being checked right now: retry in a second"),
            HashError::Internal(e) => write!(f, "password hashing failed: {e}"),
        }
    }
}

/// The process's figures, registered in every metrics registry (`metrics`).
pub struct Figures {
    /// Presented passwords and secrets checked with argon2 (a login of an unknown user
    /// counts too: it costs the same).
    pub checks: Counter,
    /// Callers refused because the queue was full.
    pub refused: Counter,
    /// Callers waiting for a core.
    pub waiting: Gauge,
}

pub static FIGURES: LazyLock<Figures> =
    LazyLock::new(|| Figures { checks: Counter::default(), refused: Counter::default(), waiting: Gauge::default() });

struct Gate {
    running: Arc<Semaphore>,
    max_waiting: i64,
}

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Gate { running: Arc::new(Semaphore::new(cores)), max_waiting: (cores * QUEUE_PER_CORE) as i64 }
});

/// Counts a caller in the queue until it gets a core (or gives up: a dropped request).
struct Waiting;
impl Drop for Waiting {
    fn drop(&mut self) {
        FIGURES.waiting.dec();
    }
}

/// Runs `f` on a blocking thread once a core is free. The permit moves into the blocking
/// task, so a request that is dropped meanwhile still holds its core until the hash ends:
/// the bound is on computations, not on requests.
async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
    let gate = &*GATE;
    if FIGURES.waiting.inc() >= gate.max_waiting {
        FIGURES.waiting.dec();
        FIGURES.refused.inc();
        return Err(HashError::Busy);
    }
    let waiting = Waiting;
    let permit = gate.running.clone().acquire_owned().await.map_err(|e| HashError::Internal(e.to_string()))?;
    drop(waiting);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .map_err(|e| HashError::Internal(e.to_string()))
}

fn hash_now(secret: &[u8]) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default().hash_password(secret, &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

fn matches(secret: &[u8], hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|parsed| argon2::Argon2::default().verify_password(secret, &parsed).is_ok())
}

/// The argon2id hash (PHC string, random salt) of a new password or secret.
pub async fn hash(secret: String) -> Result<String, HashError> {
    run(move || hash_now(secret.as_bytes())).await?.map_err(HashError::Internal)
}

/// The first of `hashes` that `secret` matches.
pub async fn first_match(secret: String, hashes: Vec<String>) -> Result<Option<String>, HashError> {
    FIGURES.checks.inc();
    run(move || hashes.into_iter().find(|h| matches(secret.as_bytes(), h))).await
}

/// Spends what checking `secret` against a real hash would, and fails: for a login whose
/// user is unknown (or out of the client's reach), so that its answer takes as long as a
/// wrong password's and tells nothing about which usernames exist.
pub async fn check_against_nothing(secret: String) -> Result<(), HashError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    FIGURES.checks.inc();
    run(move || {
        let dummy = DUMMY.get_or_init(|| {
            let mut random = [0u8; 32];
            rand::rng().fill_bytes(&mut random);
            hash_now(&random).unwrap_or_default()
        });
        let _ = matches(secret.as_bytes(), dummy);
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_check_and_the_dummy_never_matches() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert_eq!(first_match("correct horse".into(), vec!["junk".into(), h.clone()]).await.unwrap(), Some(h));
        assert_eq!(first_match("wrong".into(), vec![hash("x".into()).await.unwrap()]).await.unwrap(), None);
        check_against_nothing(String::new()).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_the_rest_finish() {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let n = cores * (QUEUE_PER_CORE + 1) + 20;
        let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(check_against_nothing("guess".into()))).collect();
        let mut busy = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => {}
                Err(HashError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(busy > 0, "{n} callers at once must overflow a queue of {}", cores * QUEUE_PER_CORE);
        assert!(busy < n, "the queue must let some through");
        assert_eq!(FIGURES.waiting.get(), 0);
    }
}
