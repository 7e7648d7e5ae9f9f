//! [`PlacesStore`] on PostgreSQL: the places tree, access links, location rules and the
//! bookkeeping of derived-attribute recomputation, with the SQLite store's
//! semantics (`sqlite/places.rs`) and errors. Each change is one transaction; the foreign
//! keys of migration 3 drop a deleted group's or place's access links and everything under
//! a deleted place, and make a place or link added while its parent, bank or group is
//! being deleted (on another connection) fail instead of dangling.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use scimd_core::ScimError;
use scimd_core::places::{Level, PlaceSpec};
use scimd_core::schema::ResourceKind;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::{PgStore, Tx, pg, row_to_resource};
use crate::places::{
    AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess,
};
use crate::{BoxFut, StoreError, StoreResult, StoredResource, TenantId, normalized_time, state_params};

const PLACE_COLS: &str = "p.level, p.key, p.name, (SELECT q.key FROM places q WHERE q.id = p.parent_id), p.rules, \
                          p.created, p.last_modified FROM places p";

fn row_to_place(r: &Row) -> PlaceRow {
    PlaceRow {
        level: Level::from_code(r.get(0)).unwrap_or(Level::Locker),
        key: r.get(1),
        name: r.get(2),
        parent: r.get(3),
        rules: r.get(4),
        created: r.get(5),
        last_modified: r.get(6),
    }
}

/// A place's id, parent id and name, by level and key; `lock` holds its row (`FOR
/// UPDATE`) to the end of the transaction.
async fn find_place(
    c: &impl GenericClient,
    tenant: TenantId,
    level: Level,
    key: &str,
    lock: bool,
) -> StoreResult<Option<(i64, Option<i64>, String)>> {
    let sql = if lock {
        "SELECT id, parent_id, name FROM places WHERE tenant_id = $1 AND level = $2 AND key = $3 FOR UPDATE"
    } else {
        "SELECT id, parent_id, name FROM places WHERE tenant_id = $1 AND level = $2 AND key = $3"
    };
    let st = c.prepare_cached(sql).await.map_err(pg)?;
    let row = c.query_opt(&st, &[&tenant.0, &level.code(), &key]).await.map_err(pg)?;
    Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
}

fn missing_parent(spec: &PlaceSpec, parent_level: Level, parent_key: &str) -> StoreError {
    StoreError::Scim(ScimError::invalid_value(format!(
        "the {} '{parent_key}' of {} '{}' does not exist",
        parent_level.name(),
        spec.level.name(),
        spec.key
    )))
}

/// A place's key taken at its level.
fn taken(spec: &PlaceSpec) -> StoreError {
    StoreError::Conflict(format!("a {} with the key '{}' exists already", spec.level.name(), spec.key))
}

/// The id of a place's parent, which must exist.
async fn parent_of(c: &impl GenericClient, tenant: TenantId, spec: &PlaceSpec) -> StoreResult<Option<i64>> {
    match (spec.level.parent(), &spec.parent) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(StoreError::Scim(ScimError::invalid_value("a location has no parent"))),
        (Some(pl), None) => {
            Err(StoreError::Scim(ScimError::invalid_value(format!("a {} needs its {}", spec.level.name(), pl.name()))))
        }
        (Some(pl), Some(pk)) => match find_place(c, tenant, pl, pk, false).await? {
            Some((id, _, _)) => Ok(Some(id)),
            None => Err(missing_parent(spec, pl, pk)),
        },
    }
}

async fn insert_place(
    tx: &Tx<'_>,
    tenant: TenantId,
    spec: &PlaceSpec,
    parent: Option<i64>,
    now: &str,
) -> StoreResult<()> {
    let st = tx
        .prepare_cached(
            "INSERT INTO places (tenant_id, level, key, name, parent_id, created, last_modified) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .await
        .map_err(pg)?;
    match tx.execute(&st, &[&tenant.0, &spec.level.code(), &spec.key, &spec.name, &parent, &now]).await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(taken(spec)),
        // The parent was deleted (by another connection) since it was found.
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => match (spec.level.parent(), &spec.parent) {
            (Some(pl), Some(pk)) => Err(missing_parent(spec, pl, pk)),
            _ => Err(pg(e)),
        },
        Err(e) => Err(pg(e)),
    }
}

/// Ids of a place and everything under it, parents before children.
async fn subtree(tx: &Tx<'_>, root: i64) -> StoreResult<Vec<i64>> {
    let st = tx
        .prepare_cached(
            "WITH RECURSIVE t(id) AS (SELECT $1::bigint UNION ALL SELECT p.id FROM places p JOIN t ON p.parent_id = t.id) \
             SELECT id FROM t",
        )
        .await
        .map_err(pg)?;
    Ok(tx.query(&st, &[&root]).await.map_err(pg)?.iter().map(|r| r.get(0)).collect())
}

/// Moves a tenant's rules generation on; returns the new one.
async fn bump_generation(tx: &Tx<'_>, tenant: TenantId) -> StoreResult<i64> {
    let st = tx
        .prepare_cached("UPDATE tenants SET places_gen = places_gen + 1 WHERE id = $1 RETURNING places_gen")
        .await
        .map_err(pg)?;
    Ok(tx.query_one(&st, &[&tenant.0]).await.map_err(pg)?.get(0))
}

async fn group_rowid(c: &impl GenericClient, tenant: TenantId, group: &str) -> StoreResult<Option<i64>> {
    let st = c
        .prepare_cached("SELECT id FROM resources WHERE tenant_id = $1 AND rtype = 2 AND scim_id = $2")
        .await
        .map_err(pg)?;
    Ok(c.query_opt(&st, &[&tenant.0, &group]).await.map_err(pg)?.map(|r| r.get(0)))
}

fn not_found(what: String) -> StoreError {
    StoreError::Scim(ScimError::not_found(what))
}

/// The group and the place of a link, which must exist.
async fn link_ends(
    c: &impl GenericClient,
    tenant: TenantId,
    group: &str,
    level: Level,
    place: &str,
) -> StoreResult<(i64, i64)> {
    let g = group_rowid(c, tenant, group).await?.ok_or_else(|| not_found(format!("group '{group}' not found")))?;
    let (p, _, _) = find_place(c, tenant, level, place, false)
        .await?
        .ok_or_else(|| not_found(format!("{} '{place}' not found", level.name())))?;
    Ok((g, p))
}

impl PgStore {
    async fn import_tree(&self, tenant: TenantId, places: Vec<PlaceSpec>, now: String) -> StoreResult<ImportReport> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut report = ImportReport::default();
        for spec in &places {
            let parent = parent_of(&tx, tenant, spec).await?;
            match find_place(&tx, tenant, spec.level, &spec.key, false).await? {
                None => {
                    insert_place(&tx, tenant, spec, parent, &now).await?;
                    report.created += 1;
                }
                Some((id, old_parent, old_name)) if old_parent != parent || old_name != spec.name => {
                    let st = tx
                        .prepare_cached("UPDATE places SET name = $1, parent_id = $2, last_modified = $3 WHERE id = $4")
                        .await
                        .map_err(pg)?;
                    tx.execute(&st, &[&spec.name, &parent, &now, &id]).await.map_err(pg)?;
                    report.updated += 1;
                }
                Some(_) => report.unchanged += 1,
            }
        }
        tx.commit().await.map_err(pg)?;
        Ok(report)
    }

    async fn delete_subtree(&self, tenant: TenantId, level: Level, key: String, cascade: bool) -> StoreResult<u64> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // Locked first: a child being added on another connection waits, then fails.
        let Some((id, _, _)) = find_place(&tx, tenant, level, &key, true).await? else {
            return Err(StoreError::NotFound);
        };
        let ids = subtree(&tx, id).await?;
        if ids.len() > 1 && !cascade {
            return Err(StoreError::Conflict(format!(
                "{} '{key}' has {} place(s) under it: delete them first, or cascade",
                level.name(),
                ids.len() - 1
            )));
        }
        let had_rules: bool = tx
            .query_one("SELECT EXISTS (SELECT 1 FROM places WHERE id = $1 AND rules IS NOT NULL)", &[&id])
            .await
            .map_err(pg)?
            .get(0);
        // The access links of the places among them go with them (foreign keys).
        tx.execute("DELETE FROM places WHERE id = ANY($1)", &[&ids]).await.map_err(pg)?;
        if had_rules {
            bump_generation(&tx, tenant).await?;
        }
        tx.commit().await.map_err(pg)?;
        Ok(ids.len() as u64)
    }

    async fn derived(
        &self,
        tenant: TenantId,
        updates: Vec<DerivedUpdate>,
        generation: i64,
        now: String,
    ) -> StoreResult<u64> {
        if updates.is_empty() {
            return Ok(0);
        }
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut pending = Vec::new();
        // Every user's row locked in one statement, in rowid order (two passes on other
        // replicas lock overlapping users in the same order), as an update locks it.
        let names: Vec<&str> = updates.iter().map(|u| u.user.as_str()).collect();
        let st = tx
            .prepare_cached(
                "SELECT id, scim_id, version FROM resources WHERE tenant_id = $1 AND rtype = 1 \
                 AND scim_id = ANY($2::text[]) ORDER BY id FOR NO KEY UPDATE",
            )
            .await
            .map_err(pg)?;
        let mut current: HashMap<String, (i64, i64)> = tx
            .query(&st, &[&tenant.0, &names])
            .await
            .map_err(pg)?
            .iter()
            .map(|r| (r.get(1), (r.get(0), r.get(2))))
            .collect();
        let mut written = 0;
        for u in updates {
            let Some((rowid, version)) = current.get_mut(&u.user) else { continue };
            if *version != u.version {
                continue;
            }
            match u.state {
                None => {
                    let st = tx
                        .prepare_cached("UPDATE resources SET derived_gen = GREATEST(derived_gen, $1) WHERE id = $2")
                        .await
                        .map_err(pg)?;
                    tx.execute(&st, &[&generation, &*rowid]).await.map_err(pg)?;
                }
                Some(state) => {
                    let (data, _) = state_params(&state)?;
                    let st = tx
                        .prepare_cached(
                            "UPDATE resources SET data = $1, version = version + 1, last_modified = $2, \
                             derived_gen = GREATEST(derived_gen, $3) WHERE id = $4",
                        )
                        .await
                        .map_err(pg)?;
                    tx.execute(&st, &[&data, &now, &generation, &*rowid]).await.map_err(pg)?;
                    self.rewrite_index(&tx, tenant, ResourceKind::User, *rowid, &state.index, &mut pending).await?;
                    *version += 1;
                }
            }
            written += 1;
        }
        tx.commit().await.map_err(pg)?;
        self.publish_keys(pending);
        Ok(written)
    }
}

impl PlacesStore for PgStore {
    fn import_places(
        &self,
        tenant: TenantId,
        places: Vec<PlaceSpec>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<ImportReport>> {
        Box::pin(self.import_tree(tenant, places, normalized_time(now)))
    }

    fn list_places(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<PlaceRow>>> {
        Box::pin(async move {
            let sql = format!("SELECT {PLACE_COLS} WHERE p.tenant_id = $1 ORDER BY p.level, p.key");
            Ok(self.query(&sql, &[&tenant.0]).await?.iter().map(row_to_place).collect())
        })
    }

    fn create_place(
        &self,
        tenant: TenantId,
        place: PlaceSpec,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<PlaceRow>> {
        let now = normalized_time(now);
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let parent = parent_of(&tx, tenant, &place).await?;
            insert_place(&tx, tenant, &place, parent, &now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(PlaceRow {
                level: place.level,
                key: place.key,
                name: place.name,
                parent: place.parent,
                rules: None,
                created: now.clone(),
                last_modified: now,
            })
        })
    }

    fn rename_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let (key, name, now) = (key.to_string(), name.to_string(), normalized_time(now));
        Box::pin(async move {
            self.exec_one(
                "UPDATE places SET name = $1, last_modified = $2 WHERE tenant_id = $3 AND level = $4 AND key = $5",
                &[&name, &now, &tenant.0, &level.code(), &key],
            )
            .await
        })
    }

    fn delete_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        cascade: bool,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(self.delete_subtree(tenant, level, key.to_string(), cascade))
    }

    fn set_location_rules(
        &self,
        tenant: TenantId,
        location: &str,
        rules: Option<String>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let (location, now) = (location.to_string(), normalized_time(now));
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let st = tx
                .prepare_cached(
                    "UPDATE places SET rules = $1, last_modified = $2 WHERE tenant_id = $3 AND level = 1 AND key = $4",
                )
                .await
                .map_err(pg)?;
            if tx.execute(&st, &[&rules, &now, &tenant.0, &location]).await.map_err(pg)? == 0 {
                return Err(StoreError::NotFound);
            }
            let generation = bump_generation(&tx, tenant).await?;
            tx.commit().await.map_err(pg)?;
            Ok(generation)
        })
    }

    fn places_state(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<PlacesState>> {
        Box::pin(async move {
            let c = self.conn().await?;
            // The generation before the rules: the rules read are at least that new (a
            // change committing in between only makes the caller look again sooner).
            let st = c
                .prepare_cached(
                    "SELECT places_gen, EXISTS (SELECT 1 FROM places WHERE tenant_id = $1 AND level = 1) \
                     FROM tenants WHERE id = $1",
                )
                .await
                .map_err(pg)?;
            let Some(row) = c.query_opt(&st, &[&tenant.0]).await.map_err(pg)? else {
                return Ok(PlacesState::default());
            };
            let st = c
                .prepare_cached(
                    "SELECT key, rules FROM places WHERE tenant_id = $1 AND level = 1 AND rules IS NOT NULL ORDER BY key",
                )
                .await
                .map_err(pg)?;
            let rules = c.query(&st, &[&tenant.0]).await.map_err(pg)?.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(PlacesState { generation: row.get(0), has_locations: row.get(1), rules })
        })
    }

    fn grant_access(
        &self,
        tenant: TenantId,
        group: &str,
        level: Level,
        place: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (group, place, now) = (group.to_string(), place.to_string(), normalized_time(now));
        Box::pin(async move {
            let c = self.write_conn().await?;
            let (g, p) = link_ends(&*c, tenant, &group, level, &place).await?;
            let st = c
                .prepare_cached(
                    "INSERT INTO access_links (group_id, place_id, tenant_id, created) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .await
                .map_err(pg)?;
            match c.execute(&st, &[&g, &p, &tenant.0, &now]).await {
                Ok(n) => Ok(n > 0),
                // The group or the place was deleted (by another connection) since it was found.
                Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
                    let gone_group = e.as_db_error().and_then(|d| d.constraint()) == Some("access_links_group_id_fkey");
                    Err(if gone_group {
                        not_found(format!("group '{group}' not found"))
                    } else {
                        not_found(format!("{} '{place}' not found", level.name()))
                    })
                }
                Err(e) => Err(pg(e)),
            }
        })
    }

    fn revoke_access(&self, tenant: TenantId, group: &str, level: Level, place: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (group, place) = (group.to_string(), place.to_string());
        Box::pin(async move {
            let c = self.write_conn().await?;
            let (g, p) = link_ends(&*c, tenant, &group, level, &place).await?;
            let st =
                c.prepare_cached("DELETE FROM access_links WHERE group_id = $1 AND place_id = $2").await.map_err(pg)?;
            Ok(c.execute(&st, &[&g, &p]).await.map_err(pg)? > 0)
        })
    }

    fn access_links(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<AccessLink>>> {
        Box::pin(async move {
            // `display` is in the database's collation and NULLs sort last in PostgreSQL:
            // ordered as SQLite orders it (bytes, NULLs first).
            let rows = self
                .query(
                    "SELECT r.scim_id, r.display, p.level, p.key, a.created FROM access_links a \
                     JOIN resources r ON r.id = a.group_id JOIN places p ON p.id = a.place_id \
                     WHERE a.tenant_id = $1 ORDER BY p.key, p.level, r.display COLLATE \"C\" NULLS FIRST, r.scim_id",
                    &[&tenant.0],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| AccessLink {
                    group_id: r.get(0),
                    group: r.get(1),
                    level: Level::from_code(r.get(2)).unwrap_or(Level::Bank),
                    place: r.get(3),
                    created: r.get(4),
                })
                .collect())
        })
    }

    fn user_access(&self, tenant: TenantId, user_key: &str) -> BoxFut<'_, StoreResult<Option<UserAccess>>> {
        let user_key = user_key.to_string();
        Box::pin(async move {
            let c = self.conn().await?;
            // Inactive: `active` is JSON false; absent or null is active.
            let st = c
                .prepare_cached(
                    "SELECT id, (data::jsonb ->> 'active') IS DISTINCT FROM 'false' FROM resources \
                     WHERE tenant_id = $1 AND rtype = 1 AND unique_key = $2",
                )
                .await
                .map_err(pg)?;
            let Some(row) = c.query_opt(&st, &[&tenant.0, &user_key]).await.map_err(pg)? else {
                return Ok(None);
            };
            let (user, active): (i64, bool) = (row.get(0), row.get(1));
            let mut access = UserAccess::default();
            if !active {
                return Ok(Some(access));
            }
            // The user's groups, through nesting; the places linked to them and everything
            // under those; of these, the banks and the lockers.
            let st = c
                .prepare_cached(
                    "WITH RECURSIVE g(id) AS (SELECT group_id FROM members WHERE member_id = $1 \
                       UNION SELECT m.group_id FROM members m JOIN g ON m.member_id = g.id), \
                     t(id, level, key) AS (SELECT p.id, p.level, p.key FROM access_links a JOIN g ON a.group_id = g.id \
                       JOIN places p ON p.id = a.place_id \
                       UNION SELECT c.id, c.level, c.key FROM places c JOIN t ON c.parent_id = t.id) \
                     SELECT DISTINCT level, key FROM t WHERE level IN (3, 4) ORDER BY 1, 2",
                )
                .await
                .map_err(pg)?;
            for row in c.query(&st, &[&user]).await.map_err(pg)? {
                let (level, key): (i64, String) = (row.get(0), row.get(1));
                if level == 3 { access.banks.push(key) } else { access.lockers.push(key) }
            }
            Ok(Some(access))
        })
    }

    fn place_users(
        &self,
        tenant: TenantId,
        level: Level,
        place: &str,
        offset: u64,
        limit: u64,
    ) -> BoxFut<'_, StoreResult<Option<BankUsers>>> {
        let place = place.to_string();
        Box::pin(async move {
            let c = self.conn().await?;
            let Some((p, _, _)) = find_place(&*c, tenant, level, &place, false).await? else { return Ok(None) };
            // The place and the places above it; the groups linked to them and the groups
            // nested in those; their active users.
            let sql = |select: &str, page: &str| {
                format!(
                    "WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM places WHERE id = $1 \
                       UNION ALL SELECT p.id, p.parent_id FROM places p JOIN up ON p.id = up.parent), \
                     g(id) AS (SELECT group_id FROM access_links WHERE place_id IN (SELECT id FROM up) \
                       UNION SELECT m.member_id FROM members m JOIN g ON m.group_id = g.id \
                       JOIN resources s ON s.id = m.member_id AND s.rtype = 2) \
                     SELECT {select} FROM resources r WHERE r.id IN (SELECT m.member_id FROM members m JOIN g ON m.group_id = g.id) \
                       AND r.rtype = 1 AND (r.data::jsonb ->> 'active') IS DISTINCT FROM 'false' {page}"
                )
            };
            let st = c.prepare_cached(&sql("count(*)", "")).await.map_err(pg)?;
            let total: i64 = c.query_one(&st, &[&p]).await.map_err(pg)?.get(0);
            let st = c
                .prepare_cached(&sql("r.scim_id, r.data::jsonb ->> 'userName'", "ORDER BY r.id LIMIT $2 OFFSET $3"))
                .await
                .map_err(pg)?;
            let (limit, offset) = (limit.min(i64::MAX as u64) as i64, offset.min(i64::MAX as u64) as i64);
            let users =
                c.query(&st, &[&p, &limit, &offset]).await.map_err(pg)?.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(Some((total.max(0) as u64, users)))
        })
    }

    fn places_pending(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, i64)>>> {
        Box::pin(async move {
            let rows = self
                .query("SELECT id, places_gen FROM tenants WHERE places_gen > places_done ORDER BY id", &[])
                .await?;
            Ok(rows.iter().map(|r| (TenantId(r.get(0)), r.get(1))).collect())
        })
    }

    fn stale_users(
        &self,
        tenant: TenantId,
        generation: i64,
        after: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<(Vec<StoredResource>, Option<i64>)>> {
        Box::pin(async move {
            // Walks the kind's rowid order; `last` is where the next call goes on.
            let rows = self
                .query(
                    "SELECT r.id, r.scim_id, r.version, r.created, r.last_modified, r.data, r.derived_gen \
                     FROM resources r WHERE r.tenant_id = $1 AND r.rtype = 1 AND r.id > $2 ORDER BY r.id LIMIT $3",
                    &[&tenant.0, &after, &i64::from(limit)],
                )
                .await?;
            let mut out = Vec::new();
            let mut last = None;
            for row in &rows {
                let (rowid, r) = row_to_resource(ResourceKind::User, false, row)?;
                last = Some(rowid);
                if row.get::<_, i64>(6) < generation {
                    out.push(r);
                }
            }
            Ok((out, if rows.len() < limit as usize { None } else { last }))
        })
    }

    fn set_derived(
        &self,
        tenant: TenantId,
        updates: Vec<DerivedUpdate>,
        generation: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(self.derived(tenant, updates, generation, normalized_time(now)))
    }

    fn places_done(&self, tenant: TenantId, generation: i64) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            self.exec(
                "UPDATE tenants SET places_done = $1 WHERE id = $2 AND places_gen = $1",
                &[&generation, &tenant.0],
            )
            .await
            .map(|_| ())
        })
    }
}
