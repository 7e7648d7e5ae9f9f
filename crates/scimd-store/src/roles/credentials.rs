//! Long-lived credentials: tenants' bearer tokens, operator (admin) tokens, and API
//! system users (the password grant's principals). Tokens are kept by SHA-256 hash,
//! passwords by argon2 hash. Written once for both databases (see `db`).

use chrono::{DateTime, Utc};

use super::oauth::revoke_user_logins;
use crate::db::{Db, Row};
use crate::{
    ApiUserAuth, ApiUserRow, CredentialRow, DetailsLevel, StoreError, StoreResult, TenantId, TokenTenant,
    normalized_time,
};

/// A token's or a client secret's row as operators see it: `id, created, expires, revoked`.
pub(crate) fn credential(r: &impl Row) -> StoreResult<CredentialRow> {
    Ok(CredentialRow { id: r.get(0)?, created: r.get(1)?, expires: r.get(2)?, revoked: r.get(3)? })
}

/// The id an `INSERT … RETURNING id` gave.
pub(crate) fn returned(id: Option<i64>) -> StoreResult<i64> {
    id.ok_or_else(|| StoreError::Internal("no id returned".into()))
}

pub(crate) async fn create_token(
    db: &impl Db,
    tenant: TenantId,
    hash: &[u8; 32],
    now: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
) -> StoreResult<i64> {
    let (created, expires) = (normalized_time(now), expires.map(normalized_time));
    let id = db
        .query_opt(
            "INSERT INTO api_tokens (tenant_id, hash, created, expires) VALUES (?, ?, ?, ?) RETURNING id",
            &[&tenant.0, &&hash[..], &created, &expires],
            |r| r.get(0),
        )
        .await?;
    returned(id)
}

pub(crate) async fn list_tokens(db: &impl Db, tenant: TenantId) -> StoreResult<Vec<CredentialRow>> {
    db.query(
        "SELECT id, created, expires, revoked FROM api_tokens WHERE tenant_id = ? ORDER BY id",
        &[&tenant.0],
        |r| credential(r),
    )
    .await
}

pub(crate) async fn revoke_token(db: &impl Db, tenant: TenantId, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    // Revoking twice keeps the first time; another tenant's token is not found.
    let now = normalized_time(now);
    db.execute_one(
        "UPDATE api_tokens SET revoked = COALESCE(revoked, ?) WHERE id = ? AND tenant_id = ?",
        &[&now, &id, &tenant.0],
    )
    .await
}

/// The tenant of a valid token, by hash: one index probe (bearer authentication).
pub(crate) async fn token_tenant(
    db: &impl Db,
    hash: &[u8; 32],
    now: DateTime<Utc>,
) -> StoreResult<Option<TokenTenant>> {
    let now = normalized_time(now);
    db.query_opt(
        "SELECT t.id, t.scim_enabled, a.expires, a.id, t.audit_details FROM api_tokens a \
         JOIN tenants t ON t.id = a.tenant_id \
         WHERE a.hash = ? AND a.revoked IS NULL AND (a.expires IS NULL OR a.expires > ?)",
        &[&&hash[..], &now],
        |r| {
            let expires: Option<String> = r.get(2)?;
            Ok(TokenTenant {
                id: r.get(3)?,
                tenant: TenantId(r.get(0)?),
                scim_enabled: r.get(1)?,
                audit_details: DetailsLevel::from_code(r.get(4)?),
                // Rounded down: a cache never keeps the token past its expiry.
                expires: expires.and_then(|e| DateTime::parse_from_rfc3339(&e).ok()).map(|e| e.timestamp()),
            })
        },
    )
    .await
}

pub(crate) async fn create_admin_token(
    db: &impl Db,
    hash: &[u8; 32],
    now: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
) -> StoreResult<i64> {
    let (created, expires) = (normalized_time(now), expires.map(normalized_time));
    let id = db
        .query_opt(
            "INSERT INTO admin_tokens (hash, created, expires) VALUES (?, ?, ?) RETURNING id",
            &[&&hash[..], &created, &expires],
            |r| r.get(0),
        )
        .await?;
    returned(id)
}

pub(crate) async fn admin_token_valid(db: &impl Db, hash: &[u8; 32], now: DateTime<Utc>) -> StoreResult<bool> {
    let now = normalized_time(now);
    let valid = db
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM admin_tokens WHERE hash = ? AND revoked IS NULL \
             AND (expires IS NULL OR expires > ?))",
            &[&&hash[..], &now],
            |r| r.get(0),
        )
        .await?;
    Ok(valid.unwrap_or(false))
}

pub(crate) async fn create_api_user(
    db: &impl Db,
    tenant: TenantId,
    username: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let now = normalized_time(now);
    db.execute(
        "INSERT INTO api_users (tenant_id, username, password_hash, created) VALUES (?, ?, ?, ?)",
        &[&tenant.0, &username, &password_hash, &now],
    )
    .await?;
    Ok(())
}

/// An API user by username (unique across tenants: it selects the tenant at login).
pub(crate) async fn api_user_auth(db: &impl Db, username: &str) -> StoreResult<Option<ApiUserAuth>> {
    db.query_opt(
        "SELECT u.id, u.tenant_id, t.name, u.password_hash, u.disabled IS NOT NULL \
         FROM api_users u JOIN tenants t ON t.id = u.tenant_id WHERE u.username = ?",
        &[&username],
        |r| {
            Ok(ApiUserAuth {
                id: r.get(0)?,
                tenant: TenantId(r.get(1)?),
                tenant_name: r.get(2)?,
                password_hash: r.get(3)?,
                disabled: r.get(4)?,
            })
        },
    )
    .await
}

pub(crate) async fn list_api_users(db: &impl Db, tenant: TenantId) -> StoreResult<Vec<ApiUserRow>> {
    let sql =
        "SELECT username, created, disabled, email, invite_expires FROM api_users WHERE tenant_id = ? ORDER BY id";
    db.query(sql, &[&tenant.0], |r| {
        Ok(ApiUserRow {
            username: r.get(0)?,
            created: r.get(1)?,
            disabled: r.get(2)?,
            email: r.get(3)?,
            invite_expires: r.get(4)?,
        })
    })
    .await
}

/// Disables (ending every login of the user for good) or re-enables an API user. Runs
/// in one transaction (PostgreSQL's shell opens it).
pub(crate) async fn set_api_user_disabled(
    db: &impl Db,
    tenant: TenantId,
    username: &str,
    disabled: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let now = normalized_time(now);
    let value = disabled.then_some(now.as_str());
    db.execute_one(
        "UPDATE api_users SET disabled = ? WHERE tenant_id = ? AND username = ?",
        &[&value, &tenant.0, &username],
    )
    .await?;
    if disabled {
        revoke_user_logins(db, tenant, username, &now).await?;
    }
    Ok(())
}

/// Replaces an API user's password hash and ends every login of the user. Runs in one
/// transaction (PostgreSQL's shell opens it).
pub(crate) async fn set_api_user_password(
    db: &impl Db,
    tenant: TenantId,
    username: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let now = normalized_time(now);
    db.execute_one(
        "UPDATE api_users SET password_hash = ? WHERE tenant_id = ? AND username = ?",
        &[&password_hash, &tenant.0, &username],
    )
    .await?;
    revoke_user_logins(db, tenant, username, &now).await
}
