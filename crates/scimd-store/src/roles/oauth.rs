//! The authorization server's bookkeeping: refresh tokens and their rotation (the
//! decision is `rotation`'s), revoked grants, what verifying an access token needs, opaque
//! access tokens, the failed-login counts (the rule is `lockout`'s), and purging what can
//! no longer matter. Written once for both databases (see `db`).
//!
//! Where a statement must hold a row to the end of its transaction (PostgreSQL: several
//! replicas race on one refresh token or one login key), it says `FOR UPDATE` on
//! PostgreSQL only: SQLite's writer thread runs one write at a time.

use chrono::{DateTime, Utc};

use super::clients::words;
use crate::db::{Db, Dialect, Row};
use crate::lockout::{self, LockoutKey, LoginAttempt, LoginState};
use crate::rotation::{self, Step};
use crate::tokens::{AccessTokenRow, NewAccessToken};
use crate::{
    DetailsLevel, GrantStatus, NewRefresh, RefreshGrant, Rotate, Rotation, StoreResult, TenantId, normalized_time,
};

/// The larger of two values: a scalar `max` on SQLite, `GREATEST` on PostgreSQL; the
/// statements using it are written once with it as a parameter of their macro.
macro_rules! revoke_family_sql {
    ($greatest:literal) => {
        concat!(
            "INSERT INTO revoked_grants (id, expires) SELECT CAST(? AS TEXT), ",
            $greatest,
            "(CAST(? AS TEXT), coalesce((SELECT max(expires) FROM refresh_tokens WHERE family = ?), ?)) \
             ON CONFLICT (id) DO UPDATE SET expires = ",
            $greatest,
            "(revoked_grants.expires, excluded.expires)"
        )
    };
}

macro_rules! revoke_user_logins_sql {
    ($greatest:literal) => {
        concat!(
            "INSERT INTO revoked_grants (id, expires) SELECT r.family, ",
            $greatest,
            "(max(r.expires), ?) FROM refresh_tokens r \
             JOIN api_users u ON u.id = r.api_user WHERE u.tenant_id = ? AND u.username = ? \
             GROUP BY r.family ON CONFLICT (id) DO UPDATE SET expires = ",
            $greatest,
            "(revoked_grants.expires, excluded.expires)"
        )
    };
}

macro_rules! refresh_select {
    () => {
        "SELECT r.family, r.client, c.client_id, r.tenant_id, t.name, u.username, r.scopes, r.created, r.expires, \
         r.used IS NOT NULL, \
         EXISTS (SELECT 1 FROM revoked_grants g WHERE g.id = r.family) OR coalesce(u.disabled IS NOT NULL, FALSE) \
         FROM refresh_tokens r JOIN tenants t ON t.id = r.tenant_id JOIN oauth_clients c ON c.id = r.client \
         LEFT JOIN api_users u ON u.id = r.api_user WHERE r.hash = ?"
    };
}

fn refresh_grant(r: &impl Row) -> StoreResult<RefreshGrant> {
    Ok(RefreshGrant {
        family: r.get(0)?,
        client: r.get(1)?,
        client_id: r.get(2)?,
        tenant: TenantId(r.get(3)?),
        tenant_name: r.get(4)?,
        username: r.get(5)?,
        scopes: words(r.get(6)?),
        created: r.get(7)?,
        expires: r.get(8)?,
        used: r.get(9)?,
        revoked: r.get(10)?,
    })
}

/// A refresh token and its state, by hash; `lock` holds its row to the end of the
/// transaction (a rotation racing on another replica waits, then sees it used).
async fn refresh_by_hash(db: &impl Db, hash: &[u8; 32], lock: bool) -> StoreResult<Option<RefreshGrant>> {
    let sql = match (db.dialect(), lock) {
        (Dialect::Postgres, true) => concat!(refresh_select!(), " FOR UPDATE OF r"),
        _ => refresh_select!(),
    };
    db.query_opt(sql, &[&&hash[..]], |r| refresh_grant(r)).await
}

/// Revokes a grant id (a jti or a refresh family) until the later of `until` and the
/// family's last refresh token's expiry.
async fn revoke_family(db: &impl Db, id: &str, until: &str) -> StoreResult<()> {
    let sql = match db.dialect() {
        Dialect::Sqlite => revoke_family_sql!("max"),
        Dialect::Postgres => revoke_family_sql!("GREATEST"),
    };
    db.execute(sql, &[&id, &until, &id, &until]).await?;
    Ok(())
}

/// Ends every login of an API user for good: its refresh families are revoked (and with
/// them the access tokens they issued, which carry the family).
pub(crate) async fn revoke_user_logins(db: &impl Db, tenant: TenantId, username: &str, now: &str) -> StoreResult<()> {
    let sql = match db.dialect() {
        Dialect::Sqlite => revoke_user_logins_sql!("max"),
        Dialect::Postgres => revoke_user_logins_sql!("GREATEST"),
    };
    db.execute(sql, &[&now, &tenant.0, &username]).await?;
    Ok(())
}

/// The answer kept with the spent refresh token `hash`, if it was spent at or after
/// `grace_since` and the token that replaced it is still unused.
async fn retry_within_grace(db: &impl Db, hash: &[u8; 32], grace_since: &str) -> StoreResult<Option<Vec<u8>>> {
    db.query_opt(
        "SELECT r.retry FROM refresh_tokens r JOIN refresh_tokens s ON s.hash = r.successor \
         WHERE r.hash = ? AND r.used >= ? AND s.used IS NULL AND r.retry IS NOT NULL",
        &[&&hash[..], &grace_since],
        |r| r.get(0),
    )
    .await
}

/// Stores the first refresh token of a login.
pub(crate) async fn store_refresh(db: &impl Db, new: NewRefresh, now: DateTime<Utc>) -> StoreResult<()> {
    let now = normalized_time(now);
    db.execute(
        "INSERT INTO refresh_tokens (hash, family, client, tenant_id, api_user, scopes, created, expires) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            &&new.hash[..],
            &new.family,
            &new.client,
            &new.tenant.0,
            &new.api_user,
            &new.scopes.join(" "),
            &now,
            &normalized_time(new.expires),
        ],
    )
    .await?;
    Ok(())
}

/// Rotates a refresh token (see `Store::rotate_refresh`), in one transaction that holds
/// the token's row (PostgreSQL's shell opens it).
pub(crate) async fn rotate_refresh(db: &impl Db, r: Rotate) -> StoreResult<Rotation> {
    let now = normalized_time(r.now);
    match rotation::step(refresh_by_hash(db, &r.hash, true).await?, r.client, &now) {
        Step::Answer(answer) => Ok(answer),
        Step::Spent(grant) => {
            let retry = retry_within_grace(db, &r.hash, &normalized_time(r.grace_since)).await?;
            if retry.is_none() {
                revoke_family(db, &grant.family, &normalized_time(r.revoke_until)).await?;
            }
            Ok(rotation::spent(grant, retry))
        }
        Step::Rotate(grant) => {
            let new_expires = normalized_time(r.new_expires);
            // The answer kept for a retry of the previous rotation can no longer be given
            // (its new token, this one, is now spent): it goes.
            db.execute("UPDATE refresh_tokens SET retry = NULL WHERE successor = ?", &[&&r.hash[..]]).await?;
            db.execute(
                "UPDATE refresh_tokens SET used = ?, successor = ?, retry = ? WHERE hash = ?",
                &[&now, &&r.new_hash[..], &r.retry, &&r.hash[..]],
            )
            .await?;
            db.execute(
                "INSERT INTO refresh_tokens (hash, family, client, tenant_id, api_user, scopes, created, expires) \
                 SELECT ?, family, client, tenant_id, api_user, scopes, ?, ? FROM refresh_tokens WHERE hash = ?",
                &[&&r.new_hash[..], &now, &new_expires, &&r.hash[..]],
            )
            .await?;
            Ok(rotation::rotated(grant, now, new_expires))
        }
    }
}

/// A refresh token by hash, whatever its state.
pub(crate) async fn refresh_token(db: &impl Db, hash: &[u8; 32]) -> StoreResult<Option<RefreshGrant>> {
    refresh_by_hash(db, hash, false).await
}

/// Revokes an access token (by jti) or a refresh family (by family id) until `expires`.
pub(crate) async fn revoke_grant(db: &impl Db, id: &str, expires: DateTime<Utc>) -> StoreResult<()> {
    revoke_family(db, id, &normalized_time(expires)).await
}

/// For an access token: its tenant's switches, and whether its jti or family is revoked.
pub(crate) async fn grant_status(
    db: &impl Db,
    tenant: TenantId,
    jti: &str,
    family: Option<&str>,
) -> StoreResult<Option<GrantStatus>> {
    db.query_opt(
        "SELECT scim_enabled, audit_details, \
         EXISTS (SELECT 1 FROM revoked_grants WHERE id = ? OR id = ?) FROM tenants WHERE id = ?",
        &[&jti, &family, &tenant.0],
        |r| {
            Ok(GrantStatus {
                scim_enabled: r.get(0)?,
                audit_details: DetailsLevel::from_code(r.get(1)?),
                revoked: r.get(2)?,
            })
        },
    )
    .await
}

/// Stores an opaque access token.
pub(crate) async fn store_access_token(db: &impl Db, t: NewAccessToken, now: DateTime<Utc>) -> StoreResult<()> {
    let now = normalized_time(now);
    db.execute(
        "INSERT INTO access_tokens (hash, jti, family, client, tenant_id, subject, scopes, created, expires) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            &&t.hash[..],
            &t.jti,
            &t.family,
            &t.client,
            &t.tenant.0,
            &t.subject,
            &t.scopes.join(" "),
            &now,
            &normalized_time(t.expires),
        ],
    )
    .await?;
    Ok(())
}

/// An opaque access token by hash, whatever its state.
pub(crate) async fn access_token(db: &impl Db, hash: &[u8; 32]) -> StoreResult<Option<AccessTokenRow>> {
    db.query_opt(
        "SELECT a.jti, a.family, c.client_id, a.tenant_id, t.name, a.subject, a.scopes, a.created, a.expires, \
         t.scim_enabled, t.audit_details, \
         EXISTS (SELECT 1 FROM revoked_grants g WHERE g.id = a.jti OR g.id = a.family) \
         FROM access_tokens a JOIN tenants t ON t.id = a.tenant_id JOIN oauth_clients c ON c.id = a.client \
         WHERE a.hash = ?",
        &[&&hash[..]],
        |r| {
            Ok(AccessTokenRow {
                jti: r.get(0)?,
                family: r.get(1)?,
                client_id: r.get(2)?,
                tenant: TenantId(r.get(3)?),
                tenant_name: r.get(4)?,
                subject: r.get(5)?,
                scopes: words(r.get(6)?),
                created: r.get(7)?,
                expires: r.get(8)?,
                scim_enabled: r.get(9)?,
                audit_details: DetailsLevel::from_code(r.get(10)?),
                revoked: r.get(11)?,
            })
        },
    )
    .await
}

/// Counts a login attempt against every key (see `Store::login_attempt`), in one
/// transaction; PostgreSQL's shell commits it only if the attempt is allowed.
pub(crate) async fn login_attempt(
    db: &impl Db,
    keys: &[LockoutKey],
    lock_secs: i64,
    now: DateTime<Utc>,
) -> StoreResult<LoginAttempt> {
    let until = normalized_time(now + chrono::TimeDelta::seconds(lock_secs));
    let now = normalized_time(now);
    let select = match db.dialect() {
        Dialect::Sqlite => "SELECT failures, locked_until FROM login_failures WHERE key = ?",
        Dialect::Postgres => "SELECT failures, locked_until FROM login_failures WHERE key = ? FOR UPDATE",
    };
    let mut states = Vec::with_capacity(keys.len());
    for k in keys {
        if db.dialect() == Dialect::Postgres {
            // The row is made to exist, then locked to the end of the transaction: the
            // attempts of every replica on this key are counted one at a time.
            db.execute(
                "INSERT INTO login_failures (key, failures, last_failure) VALUES (?, 0, ?) ON CONFLICT (key) DO NOTHING",
                &[&k.key, &now],
            )
            .await?;
        }
        let state = db
            .query_opt(select, &[&k.key], |r| Ok(LoginState { failures: r.get(0)?, locked_until: r.get(1)? }))
            .await?;
        if let Some(until) = state.as_ref().and_then(|s| lockout::locked_at(s, &now)) {
            return Ok(LoginAttempt::Locked { until });
        }
        states.push(state);
    }
    for (k, state) in keys.iter().zip(&states) {
        let next = lockout::count_attempt(state.as_ref(), k.threshold, &until);
        db.execute(
            "INSERT INTO login_failures (key, failures, last_failure, locked_until) VALUES (?, ?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure = excluded.last_failure, \
             locked_until = excluded.locked_until",
            &[&k.key, &next.failures, &now, &next.locked_until],
        )
        .await?;
    }
    Ok(LoginAttempt::Allowed)
}

/// Forgets the counts of these keys (after a successful login): one statement for the
/// one or two keys a login has.
pub(crate) async fn login_succeeded(db: &impl Db, keys: &[String]) -> StoreResult<()> {
    let mut rest = keys;
    while let [a, b, tail @ ..] = rest {
        db.execute("DELETE FROM login_failures WHERE key IN (?, ?)", &[a, b]).await?;
        rest = tail;
    }
    if let [a] = rest {
        db.execute("DELETE FROM login_failures WHERE key = ?", &[a]).await?;
    }
    Ok(())
}

/// Deletes OAuth bookkeeping that can no longer matter; the rows deleted.
pub(crate) async fn purge_oauth(
    db: &impl Db,
    now: DateTime<Utc>,
    refresh_before: DateTime<Utc>,
    failures_before: DateTime<Utc>,
) -> StoreResult<u64> {
    let (now, refresh_before, failures_before) =
        (normalized_time(now), normalized_time(refresh_before), normalized_time(failures_before));
    let mut n = db.execute("DELETE FROM refresh_tokens WHERE expires < ?", &[&refresh_before]).await?;
    n += db.execute("DELETE FROM revoked_grants WHERE expires < ?", &[&now]).await?;
    n += db.execute("DELETE FROM access_tokens WHERE expires < ?", &[&now]).await?;
    n += db.execute("DELETE FROM assertion_jtis WHERE expires < ?", &[&now]).await?;
    n += db
        .execute(
            "DELETE FROM login_failures WHERE last_failure < ? AND (locked_until IS NULL OR locked_until < ?)",
            &[&failures_before, &now],
        )
        .await?;
    Ok(n)
}
