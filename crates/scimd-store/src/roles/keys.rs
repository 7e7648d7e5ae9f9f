//! The authorization server's signing keys and the deployment's secrets: opaque bytes
//! to the store (sealed under the master key by the server, or clear). Written once for
//! both databases (see `db`).

use chrono::{DateTime, Utc};

use crate::db::{Db, Dialect, Param, Row};
use crate::{NamedSecret, SigningKeyRow, StoreError, StoreResult, normalized_time};

pub(crate) async fn signing_keys(db: &impl Db) -> StoreResult<Vec<SigningKeyRow>> {
    db.query("SELECT kid, seed, created FROM signing_keys WHERE retired IS NULL ORDER BY created DESC, kid", &[], |r| {
        Ok(SigningKeyRow { kid: r.get(0)?, seed: r.get(1)?, created: r.get(2)? })
    })
    .await
}

pub(crate) async fn add_signing_key(db: &impl Db, kid: &str, seed: &[u8], now: DateTime<Utc>) -> StoreResult<()> {
    let now = normalized_time(now);
    db.execute("INSERT INTO signing_keys (kid, seed, created) VALUES (?, ?, ?)", &[&kid, &seed, &now]).await?;
    Ok(())
}

/// Retires a key; its seed is forgotten (an empty value in its place).
pub(crate) async fn retire_signing_key(db: &impl Db, kid: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let (now, forgotten): (String, &[u8]) = (normalized_time(now), &[]);
    db.execute_one(
        "UPDATE signing_keys SET retired = ?, seed = ? WHERE kid = ? AND retired IS NULL",
        &[&now, &forgotten, &kid],
    )
    .await
}

/// Replaces an unretired key's seed if it is still `old`; whether it did.
pub(crate) async fn replace_signing_key_seed(db: &impl Db, kid: &str, old: &[u8], new: &[u8]) -> StoreResult<bool> {
    overwriting(
        db,
        "UPDATE signing_keys SET seed = ? WHERE kid = ? AND seed = ? AND retired IS NULL",
        &[&new, &kid, &old],
    )
    .await
}

/// The secret of that name, storing `fresh` first if there is none: of two processes
/// storing one at once, the first wins and both read it.
pub(crate) async fn server_secret(db: &impl Db, name: &str, fresh: &[u8], now: DateTime<Utc>) -> StoreResult<Vec<u8>> {
    let now = normalized_time(now);
    db.execute(
        "INSERT INTO server_secrets (name, value, created) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
        &[&name, &fresh, &now],
    )
    .await?;
    db.query_opt("SELECT value FROM server_secrets WHERE name = ?", &[&name], |r| r.get(0))
        .await?
        .ok_or_else(|| StoreError::Internal(format!("the server secret '{name}' vanished")))
}

pub(crate) async fn server_secret_values(db: &impl Db) -> StoreResult<Vec<NamedSecret>> {
    db.query("SELECT name, value FROM server_secrets ORDER BY name", &[], |r| Ok((r.get(0)?, r.get(1)?))).await
}

/// Replaces a secret's bytes if they are still `old`; whether it did.
pub(crate) async fn replace_server_secret(db: &impl Db, name: &str, old: &[u8], new: &[u8]) -> StoreResult<bool> {
    overwriting(db, "UPDATE server_secrets SET value = ? WHERE name = ? AND value = ?", &[&new, &name, &old]).await
}

/// Runs an update of secret bytes; whether it changed one row. On SQLite the old bytes
/// are overwritten in the file, not left in a free page (`secure_delete`, on for this
/// statement only).
async fn overwriting(db: &impl Db, sql: &str, params: &[&dyn Param]) -> StoreResult<bool> {
    let sqlite = db.dialect() == Dialect::Sqlite;
    if sqlite {
        db.query("PRAGMA secure_delete = ON", &[], |_| Ok(())).await?;
    }
    let n = db.execute(sql, params).await;
    if sqlite {
        db.query("PRAGMA secure_delete = OFF", &[], |_| Ok(())).await?;
    }
    Ok(n? == 1)
}
