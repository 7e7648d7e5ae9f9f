//! OAuth clients: creating and listing them, their secrets (argon2 hashes; several valid
//! at once while a secret is rotated), their settings, and what the token endpoint needs
//! to authenticate one. Written once for both databases (see `db`).

use chrono::{DateTime, Utc};

use super::credentials::{credential, returned};
use crate::db::{Db, Dialect, Row};
use crate::tokens::ClientUpdate;
use crate::{
    ClientAuth, ClientKeys, ClientRow, NewClient, RefreshExpiry, StoreError, StoreResult, TenantId, normalized_time,
};

/// The key columns of `oauth_clients`, in the order [`keys_at`] reads them.
const KEY_COLUMNS: &str = "auth_method, jwks, jwks_uri, trust_tenant, trust_name";

/// A client's keys read from five columns starting at `i` ([`KEY_COLUMNS`]).
fn keys_at(r: &impl Row, i: usize) -> StoreResult<ClientKeys> {
    let tenant: Option<i64> = r.get(i + 3)?;
    let name: Option<String> = r.get(i + 4)?;
    Ok(ClientKeys {
        auth_method: r.get(i)?,
        jwks: r.get(i + 1)?,
        jwks_uri: r.get(i + 2)?,
        trust: tenant.zip(name).map(|(t, n)| (TenantId(t), n)),
    })
}

/// A list stored as one text of words (grant types, scopes).
pub(crate) fn words(s: String) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// A refresh-expiry setting as stored (`NULL`: the tenant profile's choice).
fn expiry_code(e: Option<RefreshExpiry>) -> Option<&'static str> {
    e.map(RefreshExpiry::name)
}

/// A stored refresh-expiry setting; an unknown value reads as the profile's choice.
fn expiry_of(code: Option<String>) -> Option<RefreshExpiry> {
    code.as_deref().and_then(RefreshExpiry::parse)
}

/// A client with its tenants and first secret. Runs in one transaction (PostgreSQL's
/// shell opens it).
pub(crate) async fn create_client(db: &impl Db, client: NewClient, now: DateTime<Utc>) -> StoreResult<()> {
    let now = normalized_time(now);
    let row = db
        .query_opt(
            "INSERT INTO oauth_clients (client_id, grant_types, scopes, access_ttl, refresh_ttl, created, refresh_expiry, \
             auth_method, jwks, jwks_uri, trust_tenant, trust_name) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                &client.client_id,
                &client.grant_types.join(" "),
                &client.scopes.join(" "),
                &client.access_ttl_secs,
                &client.refresh_ttl_secs,
                &now,
                &expiry_code(client.refresh_expiry),
                &client.keys.auth_method,
                &client.keys.jwks,
                &client.keys.jwks_uri,
                &client.keys.trust.as_ref().map(|t| t.0.0),
                &client.keys.trust.as_ref().map(|t| t.1.as_str()),
            ],
            |r| r.get(0),
        )
        .await?;
    let row: i64 = returned(row)?;
    for t in &client.tenants {
        db.execute("INSERT INTO client_tenants (client, tenant_id) VALUES (?, ?)", &[&row, &t.0]).await?;
    }
    if let Some(hash) = &client.secret_hash {
        db.execute(
            "INSERT INTO client_secrets (client, hash, created, expires) VALUES (?, ?, ?, ?)",
            &[&row, hash, &now, &client.secret_expires.map(normalized_time)],
        )
        .await?;
    }
    Ok(())
}

/// Every client with its tenants and secrets. Runs in one read transaction (one snapshot).
pub(crate) async fn list_clients(db: &impl Db) -> StoreResult<Vec<ClientRow>> {
    let sql = format!(
        "SELECT id, client_id, grant_types, scopes, access_ttl, refresh_ttl, created, refresh_expiry, {KEY_COLUMNS} \
         FROM oauth_clients ORDER BY id"
    );
    let mut clients = db
        .query(&sql, &[], |r| {
            Ok((
                r.get::<i64>(0)?,
                ClientRow {
                    client_id: r.get(1)?,
                    tenants: Vec::new(),
                    grant_types: words(r.get(2)?),
                    scopes: words(r.get(3)?),
                    access_ttl_secs: r.get(4)?,
                    refresh_ttl_secs: r.get(5)?,
                    refresh_expiry: expiry_of(r.get(7)?),
                    created: r.get(6)?,
                    secrets: Vec::new(),
                    keys: keys_at(r, 8)?,
                },
            ))
        })
        .await?;
    for (row, c) in clients.iter_mut() {
        c.tenants = db
            .query(
                "SELECT t.name FROM client_tenants c JOIN tenants t ON t.id = c.tenant_id WHERE c.client = ? \
                 ORDER BY t.id",
                &[&*row],
                |r| r.get(0),
            )
            .await?;
        c.secrets = db
            .query(
                "SELECT id, created, expires, revoked FROM client_secrets WHERE client = ? ORDER BY id",
                &[&*row],
                |r| credential(r),
            )
            .await?;
    }
    Ok(clients.into_iter().map(|(_, c)| c).collect())
}

/// Adds a secret to a client; its id. `NotFound` for an unknown client.
pub(crate) async fn add_client_secret(
    db: &impl Db,
    client_id: &str,
    hash: &str,
    expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let (now, expires) = (normalized_time(now), expires.map(normalized_time));
    db.query_opt(
        "INSERT INTO client_secrets (client, hash, created, expires) \
         SELECT id, ?, ?, ? FROM oauth_clients WHERE client_id = ? RETURNING id",
        &[&hash, &now, &expires, &client_id],
        |r| r.get(0),
    )
    .await?
    .ok_or(StoreError::NotFound)
}

pub(crate) async fn revoke_client_secret(
    db: &impl Db,
    client_id: &str,
    secret: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    // Revoking twice keeps the first time; another client's secret is not found.
    let now = normalized_time(now);
    db.execute_one(
        "UPDATE client_secrets SET revoked = COALESCE(revoked, ?) \
         WHERE id = ? AND client = (SELECT id FROM oauth_clients WHERE client_id = ?)",
        &[&now, &secret, &client_id],
    )
    .await
}

/// Changes a client's settings; `NotFound` for an unknown client.
pub(crate) async fn update_client(db: &impl Db, client_id: &str, u: ClientUpdate) -> StoreResult<()> {
    let set_expiry = u.refresh_expiry.is_some();
    let expiry = u.refresh_expiry.and_then(expiry_code);
    db.execute_one(
        "UPDATE oauth_clients SET access_ttl = coalesce(?, access_ttl), refresh_ttl = coalesce(?, refresh_ttl), \
         refresh_expiry = CASE WHEN ? THEN ? ELSE refresh_expiry END WHERE client_id = ?",
        &[&u.access_ttl_secs, &u.refresh_ttl_secs, &set_expiry, &expiry, &client_id],
    )
    .await
}

/// A list built by the SQL as a JSON array.
fn json<T: serde::de::DeserializeOwned>(text: String) -> StoreResult<T> {
    serde_json::from_str(&text).map_err(|e| StoreError::Internal(e.to_string()))
}

/// The statement of [`client_auth`]: the client, its valid secrets (newest first) and its
/// tenants in one statement (the token endpoint's), the two lists as JSON arrays built
/// by each dialect's aggregate.
macro_rules! client_auth_sql {
    ($list:literal, $end:literal, $pair:literal) => {
        concat!(
            "SELECT c.id, c.client_id, c.grant_types, c.scopes, c.access_ttl, c.refresh_ttl, c.disabled IS NOT NULL, \
             c.refresh_expiry, c.auth_method, c.jwks, c.jwks_uri, c.trust_tenant, c.trust_name, (SELECT ",
            $list,
            "(s.hash ORDER BY s.id DESC)",
            $end,
            " FROM client_secrets s WHERE s.client = c.id AND s.revoked IS NULL \
             AND (s.expires IS NULL OR s.expires > ?)), (SELECT ",
            $list,
            "(",
            $pair,
            "(t.id, t.name) ORDER BY t.id)",
            $end,
            " FROM client_tenants ct JOIN tenants t ON t.id = ct.tenant_id WHERE ct.client = c.id) \
             FROM oauth_clients c WHERE c.client_id = ?"
        )
    };
}

/// A client by its client id, with the secrets valid at `now` and its tenants.
pub(crate) async fn client_auth(db: &impl Db, client_id: &str, now: DateTime<Utc>) -> StoreResult<Option<ClientAuth>> {
    let sql = match db.dialect() {
        Dialect::Sqlite => client_auth_sql!("json_group_array", "", "json_array"),
        // `json_agg` of no rows is NULL, not an empty array.
        Dialect::Postgres => client_auth_sql!("coalesce(json_agg", ", '[]')::text", "json_build_array"),
    };
    let now = normalized_time(now);
    db.query_opt(sql, &[&now, &client_id], |r| {
        let tenants: Vec<(i64, String)> = json(r.get(14)?)?;
        Ok(ClientAuth {
            row: r.get(0)?,
            client_id: r.get(1)?,
            secret_hashes: json(r.get(13)?)?,
            grant_types: words(r.get(2)?),
            scopes: words(r.get(3)?),
            access_ttl_secs: r.get(4)?,
            refresh_ttl_secs: r.get(5)?,
            refresh_expiry: expiry_of(r.get(7)?),
            tenants: tenants.into_iter().map(|(id, name)| (TenantId(id), name)).collect(),
            disabled: r.get(6)?,
            keys: keys_at(r, 8)?,
        })
    })
    .await
}
