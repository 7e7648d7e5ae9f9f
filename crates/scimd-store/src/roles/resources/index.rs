//! A resource's attribute index (`attr_index`, one row per indexed value, keyed by the id
//! of its attribute path in `attr_keys`), its tenant's count of resources, and what a
//! write needs from the shell it runs in ([`Shell`]).
//!
//! SQLite writes index rows one statement each on its writer thread (no round trips to
//! spare); PostgreSQL writes or deletes them all in one `unnest` statement. The count is
//! one row per tenant and kind on SQLite, with a generation the page anchors follow;
//! PostgreSQL spreads it over [`COUNT_SHARDS`] rows, so concurrent creates on replicas do
//! not all wait for one row lock.

use std::collections::HashMap;
use std::future::Future;

use scimd_core::resource::IndexEntry;
use scimd_core::schema::ResourceKind;

use crate::db::{Db, Dialect, List, Row};
use crate::{ChangeEvent, StoreError, StoreResult, TenantId, kind_code};

/// Rows a tenant's count of a kind is spread over on PostgreSQL (by rowid).
const COUNT_SHARDS: i64 = 16;

/// (tenant id, kind code): the scope of an attribute path.
pub(crate) type KeyScope = (i64, i64);

/// What a write needs from its shell beside statements: the attribute-key ids it
/// remembers between writes (an id learned in a write holds for others only once the
/// write committed: SQLite's writer publishes it when the write's savepoint is released,
/// PostgreSQL's shell when the transaction commits), and where a change's audit event goes.
pub(crate) trait Shell {
    /// A key's id, if committed or learned earlier in this write.
    fn known_key(&mut self, scope: KeyScope, path: &str) -> Option<i64>;

    /// A key's id read or created in this write.
    fn learned_key(&mut self, scope: KeyScope, path: &str, id: i64);

    /// Writes a change's audit event with the change and publishes its id.
    fn change_event(
        &mut self,
        e: ChangeEvent,
        created_id: Option<&str>,
        deactivates: bool,
    ) -> impl Future<Output = StoreResult<()>>;
}

/// The id of an attribute key, created in this write if needed.
async fn key_id(
    db: &impl Db,
    shell: &mut impl Shell,
    tenant: TenantId,
    kind: ResourceKind,
    path: &str,
) -> StoreResult<i64> {
    let scope = (tenant.0, kind_code(kind));
    if let Some(id) = shell.known_key(scope, path) {
        return Ok(id);
    }
    // Created by another transaction meanwhile (PostgreSQL): ON CONFLICT waits for it,
    // then the SELECT (a new snapshot) sees it.
    let ins = "INSERT INTO attr_keys (tenant_id, rtype, path) VALUES (?, ?, ?) \
               ON CONFLICT (tenant_id, rtype, path) DO NOTHING RETURNING id";
    let id = match db.query_opt(ins, &[&scope.0, &scope.1, &path], |r| r.get(0)).await? {
        Some(id) => id,
        None => db
            .query_opt(
                "SELECT id FROM attr_keys WHERE tenant_id = ? AND rtype = ? AND path = ?",
                &[&scope.0, &scope.1, &path],
                |r| r.get(0),
            )
            .await?
            .ok_or_else(|| StoreError::Internal(format!("attribute key '{path}' vanished")))?,
    };
    shell.learned_key(scope, path, id);
    Ok(id)
}

/// Writes index rows of a resource (replacing rows of the same path and element).
pub(crate) async fn write_index(
    db: &impl Db,
    shell: &mut impl Shell,
    tenant: TenantId,
    kind: ResourceKind,
    rowid: i64,
    entries: &[&IndexEntry],
) -> StoreResult<()> {
    match db.dialect() {
        Dialect::Sqlite => {
            for e in entries {
                let key = key_id(db, shell, tenant, kind, &e.key).await?;
                db.execute(
                    "INSERT OR REPLACE INTO attr_index (res, key, elem, s, n) VALUES (?, ?, ?, ?, ?)",
                    &[&rowid, &key, &e.elem, &e.s, &e.n],
                )
                .await?;
            }
        }
        Dialect::Postgres => {
            if entries.is_empty() {
                return Ok(());
            }
            let (mut keys, mut elems, mut ss, mut ns) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for e in entries {
                keys.push(key_id(db, shell, tenant, kind, &e.key).await?);
                elems.push(e.elem);
                ss.push(e.s.as_deref());
                ns.push(e.n);
            }
            // One statement for all rows.
            db.execute(
                "INSERT INTO attr_index (res, key, elem, s, n) \
                 SELECT ?, k, e, s, n FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::float8[]) AS x(k, e, s, n) \
                 ON CONFLICT (res, key, elem) DO UPDATE SET s = excluded.s, n = excluded.n",
                &[&rowid, &List(&keys), &List(&elems), &List(&ss), &List(&ns)],
            )
            .await?;
        }
    }
    Ok(())
}

/// Writes only the index rows that differ from the stored ones (keyed by path and
/// element): a one-attribute PATCH touches one or two rows, not all of them.
pub(crate) async fn rewrite_index(
    db: &impl Db,
    shell: &mut impl Shell,
    tenant: TenantId,
    kind: ResourceKind,
    rowid: i64,
    new: &[IndexEntry],
) -> StoreResult<()> {
    let mut stored: HashMap<(i64, i64), (Option<String>, Option<f64>)> = HashMap::new();
    db.query("SELECT key, elem, s, n FROM attr_index WHERE res = ?", &[&rowid], |r| {
        stored.insert((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?));
        Ok(())
    })
    .await?;
    let mut wanted = HashMap::with_capacity(new.len());
    for e in new {
        wanted.insert((key_id(db, shell, tenant, kind, &e.key).await?, e.elem), e);
    }
    match db.dialect() {
        Dialect::Sqlite => {
            for (key, elem) in stored.keys() {
                if !wanted.contains_key(&(*key, *elem)) {
                    db.execute("DELETE FROM attr_index WHERE res = ? AND key = ? AND elem = ?", &[&rowid, key, elem])
                        .await?;
                }
            }
        }
        Dialect::Postgres => {
            let (gone_keys, gone_elems): (Vec<i64>, Vec<i64>) =
                stored.keys().filter(|k| !wanted.contains_key(k)).map(|(k, e)| (*k, *e)).unzip();
            if !gone_keys.is_empty() {
                db.execute(
                    "DELETE FROM attr_index WHERE res = ? AND (key, elem) IN \
                     (SELECT * FROM unnest(?::bigint[], ?::bigint[]))",
                    &[&rowid, &List(&gone_keys), &List(&gone_elems)],
                )
                .await?;
            }
        }
    }
    let changed: Vec<&IndexEntry> = wanted
        .iter()
        .filter(|(k, e)| stored.get(k).is_none_or(|(s, n)| *s != e.s || *n != e.n))
        .map(|(_, e)| *e)
        .collect();
    write_index(db, shell, tenant, kind, rowid, &changed).await
}

/// Counts a created (`delta` 1) or deleted (-1) resource of the tenant.
pub(crate) async fn bump_count(
    db: &impl Db,
    tenant: TenantId,
    kind: ResourceKind,
    rowid: i64,
    delta: i64,
) -> StoreResult<()> {
    match db.dialect() {
        Dialect::Sqlite => {
            db.execute(
                "INSERT INTO resource_counts (tenant_id, rtype, n, generation) VALUES (?1, ?2, ?3, 1) \
                 ON CONFLICT (tenant_id, rtype) DO UPDATE SET n = n + ?3, generation = generation + 1",
                &[&tenant.0, &kind_code(kind), &delta],
            )
            .await?
        }
        Dialect::Postgres => {
            db.execute(
                "INSERT INTO resource_counts (tenant_id, rtype, shard, n) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (tenant_id, rtype, shard) DO UPDATE SET n = resource_counts.n + excluded.n",
                &[&tenant.0, &kind_code(kind), &rowid.rem_euclid(COUNT_SHARDS), &delta],
            )
            .await?
        }
    };
    Ok(())
}
