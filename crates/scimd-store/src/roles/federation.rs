//! Federated trusts of a tenant, the keys a client signs assertions with, and the
//! single-use record of assertion `jti`s. Written once for both databases (see `db`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::clients::words;
use crate::db::{Db, Row};
use crate::{ClientKeys, StoreError, StoreResult, TenantId, Trust, normalized_time};

const TRUST_COLUMNS: &str =
    "tenant_id, name, issuer, jwks_uri, audiences, subjects, claims, scopes, created, accept_bearer";

fn json<T: serde::de::DeserializeOwned>(text: String) -> StoreResult<T> {
    serde_json::from_str(&text).map_err(|e| StoreError::Internal(e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

fn trust(r: &impl Row) -> StoreResult<Trust> {
    let claims: BTreeMap<String, String> = json(r.get(6)?)?;
    Ok(Trust {
        tenant: TenantId(r.get(0)?),
        name: r.get(1)?,
        issuer: r.get(2)?,
        jwks_uri: r.get(3)?,
        audiences: json(r.get(4)?)?,
        subjects: json(r.get(5)?)?,
        claims,
        scopes: words(r.get(7)?),
        created: r.get(8)?,
        accept_bearer: r.get(9)?,
    })
}

pub(crate) async fn add_trust(db: &impl Db, t: &Trust, now: DateTime<Utc>) -> StoreResult<()> {
    let now = normalized_time(now);
    let (aud, sub, claims) = (to_json(&t.audiences)?, to_json(&t.subjects)?, to_json(&t.claims)?);
    db.execute(
        "INSERT INTO federation_trusts \
         (tenant_id, name, issuer, jwks_uri, audiences, subjects, claims, scopes, created, accept_bearer) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            &t.tenant.0,
            &t.name,
            &t.issuer,
            &t.jwks_uri,
            &aud,
            &sub,
            &claims,
            &t.scopes.join(" "),
            &now,
            &t.accept_bearer,
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("a trust named '{}'", t.name)),
        e => e,
    })?;
    Ok(())
}

pub(crate) async fn trusts(db: &impl Db, tenant: TenantId) -> StoreResult<Vec<Trust>> {
    let sql = format!("SELECT {TRUST_COLUMNS} FROM federation_trusts WHERE tenant_id = ? ORDER BY name");
    db.query(&sql, &[&tenant.0], |r| trust(r)).await
}

pub(crate) async fn trusts_of_issuer(db: &impl Db, tenant: TenantId, issuer: &str) -> StoreResult<Vec<Trust>> {
    let sql = format!("SELECT {TRUST_COLUMNS} FROM federation_trusts WHERE tenant_id = ? AND issuer = ? ORDER BY name");
    db.query(&sql, &[&tenant.0, &issuer], |r| trust(r)).await
}

pub(crate) async fn bearer_trusts(db: &impl Db) -> StoreResult<Vec<Trust>> {
    let sql = format!("SELECT {TRUST_COLUMNS} FROM federation_trusts WHERE accept_bearer ORDER BY tenant_id, name");
    db.query(&sql, &[], |r| trust(r)).await
}

pub(crate) async fn trust_by_name(db: &impl Db, tenant: TenantId, name: &str) -> StoreResult<Option<Trust>> {
    let sql = format!("SELECT {TRUST_COLUMNS} FROM federation_trusts WHERE tenant_id = ? AND name = ?");
    db.query_opt(&sql, &[&tenant.0, &name], |r| trust(r)).await
}

pub(crate) async fn remove_trust(db: &impl Db, tenant: TenantId, name: &str) -> StoreResult<()> {
    db.execute_one("DELETE FROM federation_trusts WHERE tenant_id = ? AND name = ?", &[&tenant.0, &name]).await
}

/// Sets a client's keys; becoming a private_key_jwt client revokes its secrets. Two
/// statements: PostgreSQL's shell runs them in a transaction, SQLite's writer in one job.
pub(crate) async fn set_client_keys(
    db: &impl Db,
    client_id: &str,
    k: &ClientKeys,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    db.execute_one(
        "UPDATE oauth_clients SET auth_method = ?, jwks = ?, jwks_uri = ?, trust_tenant = ?, trust_name = ? \
         WHERE client_id = ?",
        &[
            &k.auth_method,
            &k.jwks,
            &k.jwks_uri,
            &k.trust.as_ref().map(|t| t.0.0),
            &k.trust.as_ref().map(|t| t.1.as_str()),
            &client_id,
        ],
    )
    .await?;
    if k.private_key_jwt() {
        let now = normalized_time(now);
        db.execute(
            "UPDATE client_secrets SET revoked = ? WHERE revoked IS NULL \
             AND client = (SELECT id FROM oauth_clients WHERE client_id = ?)",
            &[&now, &client_id],
        )
        .await?;
    }
    Ok(())
}

/// Records an assertion's jti; a row kept for an expired assertion is taken over (its
/// replay window is over). One statement: atomic on both databases, across replicas.
pub(crate) async fn claim_jti(
    db: &impl Db,
    issuer: &str,
    jti: &str,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let (expires, now) = (normalized_time(expires), normalized_time(now));
    let n = db
        .execute(
            "INSERT INTO assertion_jtis (issuer, jti, expires) VALUES (?, ?, ?) \
             ON CONFLICT (issuer, jti) DO UPDATE SET expires = excluded.expires \
             WHERE assertion_jtis.expires <= ?",
            &[&issuer, &jti, &expires, &now],
        )
        .await?;
    Ok(n == 1)
}
