//! The database the operator commands and `serve` work on, opened as the configuration
//! says (SQLite or PostgreSQL; the master keyring is read first, so a bad key fails
//! before the database is touched), and `scimd migrate`.

use std::sync::Arc;

use scimd_store::Store;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::sqlite::{SqliteOptions, SqliteStore, Synchronous as SqlSync};

use crate::admin::Admin;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, is_postgres, redacted_url, sqlite_path};
use crate::seal::Keyring;

/// An open database with what works on it.
pub(super) struct Database {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keyring: Arc<Keyring>,
    /// The operator's use cases over it.
    pub admin: Admin,
}

impl Database {
    pub(super) async fn open(cfg: &Config) -> Result<Database, String> {
        let keyring = Arc::new(cfg.secrets.keyring()?);
        let store = open_store(&cfg.database).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let admin = Admin::new(store.clone(), clock.clone())
            .with_keyring(keyring.clone())
            .with_failing_after(cfg.events.failing_after);
        Ok(Database { store, clock, keyring, admin })
    }
}

async fn open_store(db: &crate::config::DatabaseConfig) -> Result<Arc<dyn Store>, String> {
    if is_postgres(&db.url) {
        let store = PgStore::connect(&db.url, PgOptions { pool_size: db.pg_pool.max(2) })
            .await
            .map_err(|e| format!("cannot open database '{}': {e}", redacted_url(&db.url)))?;
        return Ok(Arc::new(store));
    }
    let path = sqlite_path(&db.url)?;
    let synchronous = match db.sqlite_synchronous {
        crate::config::Synchronous::Normal => SqlSync::Normal,
        crate::config::Synchronous::Full => SqlSync::Full,
    };
    SqliteStore::open(
        &path,
        SqliteOptions {
            synchronous,
            mmap_bytes: db.sqlite_mmap_mib.max(0) << 20,
            cache_kib: db.sqlite_cache_mib.max(1) << 10,
        },
    )
    .map(|s| Arc::new(s) as Arc<dyn Store>)
    .map_err(|e| format!("cannot open database '{path}': {e}"))
}

/// A SQLite database's serving lock (see `scimd_store::sqlite::backup`), none for
/// PostgreSQL.
pub(super) fn serving_lock(cfg: &Config) -> Result<Option<scimd_store::sqlite::backup::ServingLock>, String> {
    if is_postgres(&cfg.database.url) {
        return Ok(None);
    }
    let path = sqlite_path(&cfg.database.url)?;
    if path.is_empty() || path == ":memory:" {
        return Ok(None);
    }
    scimd_store::sqlite::backup::ServingLock::take(&path).map(Some).map_err(|e| e.to_string())
}

/// `scimd migrate`: the schema brought up to date, then the users the userName rule
/// left for the operator.
pub(super) async fn migrate(cfg: &Config, db: &Database) -> Result<(), String> {
    let store = &db.store;
    store.ready().await.map_err(|e| e.to_string())?;
    println!("database {} is at the current schema", redacted_url(&cfg.database.url));
    let issues = store.user_name_issues().await.map_err(|e| e.to_string())?;
    if !issues.is_empty() {
        println!(
            "{} user(s) need you since the userName rule changed (listed here until renamed or deleted):",
            issues.len()
        );
        for i in issues {
            println!("tenant {}\tuser {}\tuserName {:?}\t{}", i.tenant, i.user_id, i.user_name, i.problem);
        }
    }
    Ok(())
}
