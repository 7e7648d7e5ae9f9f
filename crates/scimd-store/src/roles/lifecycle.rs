//! The lifecycle's SQL: tombstones left by deletions and taken by a resource brought back
//! under its id, the logins of a deactivated user ended, deactivation times, and their
//! purge. Written once for both databases (docs/adr/0012).

use scimd_core::list::SourceScope;
use scimd_core::schema::ResourceKind;
use scimd_core::user_name;

use super::oauth::revoke_user_logins;
use crate::db::{Db, Row};
use crate::lifecycle::{Deactivation, Tombstone};
use crate::{StoreResult, TenantId, kind_code};

/// Leaves the tombstone of the resource with row id `rowid`, about to be deleted in the
/// same transaction: its id, name key, externalId, version and creation time.
pub(crate) async fn leave_tombstone(
    db: &impl Db,
    rowid: i64,
    external_id: Option<String>,
    now: &str,
) -> StoreResult<()> {
    db.execute(
        "INSERT INTO tombstones (tenant_id, rtype, scim_id, name_key, external_id, version, created, deleted, source) \
         SELECT tenant_id, rtype, scim_id, CASE WHEN rtype = 1 THEN unique_key ELSE display_fold END, ?, version, \
         created, ?, source FROM resources WHERE id = ? \
         ON CONFLICT (tenant_id, rtype, scim_id) DO UPDATE SET name_key = excluded.name_key, \
         external_id = excluded.external_id, version = excluded.version, created = excluded.created, \
         deleted = excluded.deleted, source = excluded.source",
        &[&external_id, &now, &rowid],
    )
    .await?;
    Ok(())
}

/// Takes the tombstone of an id a resource is created with, if there is one: the version
/// the resource had and when it was first created.
pub(crate) async fn take_tombstone(
    db: &impl Db,
    tenant: TenantId,
    kind: ResourceKind,
    id: &str,
) -> StoreResult<Option<(i64, String)>> {
    db.query_opt(
        "DELETE FROM tombstones WHERE tenant_id = ? AND rtype = ? AND scim_id = ? RETURNING version, created",
        &[&tenant.0, &kind_code(kind), &id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .await
}

fn tombstone_row(r: &impl Row) -> StoreResult<Tombstone> {
    Ok(Tombstone { id: r.get(0)?, version: r.get(1)?, created: r.get(2)?, deleted: r.get(3)? })
}

/// The most recently deleted resource of the kind with that externalId, else that name.
pub(crate) async fn tombstone(
    db: &impl Db,
    tenant: TenantId,
    kind: ResourceKind,
    external_id: Option<&str>,
    scope: Option<&SourceScope>,
    name_key: Option<&str>,
) -> StoreResult<Option<Tombstone>> {
    // An externalId is the provisioning domain's own (RFC 7643 §3.1): a source's is
    // matched among its resources, the default source's among those of none too.
    const BY_EXTERNAL_ID: &str = "SELECT scim_id, version, created, deleted FROM tombstones \
                                  WHERE tenant_id = ? AND rtype = ? AND external_id = ? \
                                  AND (CAST(? AS TEXT) IS NULL OR source = ? OR (CAST(? AS BIGINT) = 1 AND source IS NULL)) \
                                  ORDER BY deleted DESC LIMIT 1";
    const BY_NAME: &str = "SELECT scim_id, version, created, deleted FROM tombstones \
                           WHERE tenant_id = ? AND rtype = ? AND name_key = ? ORDER BY deleted DESC LIMIT 1";
    let code = kind_code(kind);
    let source = scope.map(|s| s.name.as_str());
    let default = i64::from(scope.is_some_and(|s| s.default));
    if let Some(x) = external_id {
        let bound: [&dyn crate::db::Param; 6] = [&tenant.0, &code, &x, &source, &source, &default];
        if let Some(t) = db.query_opt(BY_EXTERNAL_ID, &bound, |r| tombstone_row(r)).await? {
            return Ok(Some(t));
        }
    }
    if let Some(name) = name_key
        && let Some(t) = db.query_opt(BY_NAME, &[&tenant.0, &code, &name], |r| tombstone_row(r)).await?
    {
        return Ok(Some(t));
    }
    Ok(None)
}

/// Ends the logins of the tenant's API users whose username is the same name as
/// `name`. API usernames are compared as userNames are (`/Me` finds its user so), which
/// SQL cannot: the tenant's few API users are read and compared here.
pub(crate) async fn end_logins(db: &impl Db, tenant: TenantId, name: &str, now: &str) -> StoreResult<u64> {
    let key = user_name::key(name);
    let users: Vec<String> =
        db.query("SELECT username FROM api_users WHERE tenant_id = ?", &[&tenant.0], |r| r.get(0)).await?;
    let mut ended = 0;
    for username in users.into_iter().filter(|u| user_name::key(u) == key) {
        let live: i64 = db
            .query_opt(
                "SELECT count(DISTINCT r.family) FROM refresh_tokens r JOIN api_users u ON u.id = r.api_user \
                 WHERE u.tenant_id = ? AND u.username = ? AND r.expires > ? \
                 AND NOT EXISTS (SELECT 1 FROM revoked_grants g WHERE g.id = r.family)",
                &[&tenant.0, &username, &now],
                |r| r.get(0),
            )
            .await?
            .unwrap_or(0);
        revoke_user_logins(db, tenant, &username, now).await?;
        ended += live as u64;
    }
    Ok(ended)
}

/// Whether the tenant's user of that name is inactive.
pub(crate) async fn user_inactive(db: &impl Db, tenant: TenantId, name: &str) -> StoreResult<bool> {
    let data: Option<String> = db
        .query_opt(
            "SELECT data FROM resources WHERE tenant_id = ? AND rtype = 1 AND unique_key = ?",
            &[&tenant.0, &user_name::key(name)],
            |r| r.get(0),
        )
        .await?;
    Ok(data
        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
        .is_some_and(|doc| !scimd_core::events::is_active(&doc)))
}

pub(crate) async fn record_deactivation(db: &impl Db, tenant: TenantId, d: &Deactivation) -> StoreResult<()> {
    db.execute(
        "INSERT INTO deactivations (tenant_id, at, scim_id, millis, logins) VALUES (?, ?, ?, ?, ?)",
        &[&tenant.0, &d.at, &d.id, &d.millis, &(d.logins as i64)],
    )
    .await?;
    Ok(())
}

pub(crate) async fn deactivations(
    db: &impl Db,
    tenant: TenantId,
    since: &str,
    limit: u32,
) -> StoreResult<Vec<Deactivation>> {
    db.query(
        "SELECT at, scim_id, millis, logins FROM deactivations WHERE tenant_id = ? AND at >= ? \
         ORDER BY at DESC LIMIT ?",
        &[&tenant.0, &since, &(limit as i64)],
        |r| Ok(Deactivation { at: r.get(0)?, id: r.get(1)?, millis: r.get(2)?, logins: r.get::<i64>(3)? as u64 }),
    )
    .await
}

/// Drops tombstones and deactivation times older than `before`, every tenant's.
pub(crate) async fn purge(db: &impl Db, before: &str) -> StoreResult<u64> {
    let a = db.execute("DELETE FROM tombstones WHERE deleted < ?", &[&before]).await?;
    let b = db.execute("DELETE FROM deactivations WHERE at < ?", &[&before]).await?;
    Ok(a + b)
}
