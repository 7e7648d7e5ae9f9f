//! [`PlacesStore`] on SQLite: the places tree, access links (a group to any place), location
//! rules and the bookkeeping of derived-attribute recomputation. Writes go through the store's
//! writer thread like every other change.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use scimd_core::ScimError;
use scimd_core::places::{Level, PlaceSpec};
use scimd_core::schema::ResourceKind;

use super::{SqliteStore, Writer, internal, map_err, rewrite_index, row_to_resource};
use crate::places::{
    AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess,
};
use crate::{BoxFut, StoreError, StoreResult, StoredResource, TenantId, normalized_time, state_params};

const PLACE_COLS: &str = "p.level, p.key, p.name, (SELECT q.key FROM places q WHERE q.id = p.parent_id), p.rules, \
                          p.created, p.last_modified FROM places p";

fn row_to_place(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlaceRow> {
    Ok(PlaceRow {
        level: Level::from_code(r.get(0)?).unwrap_or(Level::Locker),
        key: r.get(1)?,
        name: r.get(2)?,
        parent: r.get(3)?,
        rules: r.get(4)?,
        created: r.get(5)?,
        last_modified: r.get(6)?,
    })
}

/// A place's rowid, parent rowid and name, by level and key.
fn find_place(
    conn: &Connection,
    tenant: TenantId,
    level: Level,
    key: &str,
) -> StoreResult<Option<(i64, Option<i64>, String)>> {
    conn.prepare_cached("SELECT id, parent_id, name FROM places WHERE tenant_id = ? AND level = ? AND key = ?")
        .map_err(internal)?
        .query_row(params![tenant.0, level.code(), key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(internal)
}

/// The rowid of a place's parent, which must exist.
fn parent_of(conn: &Connection, tenant: TenantId, spec: &PlaceSpec) -> StoreResult<Option<i64>> {
    match (spec.level.parent(), &spec.parent) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(StoreError::Scim(ScimError::invalid_value("a location has no parent"))),
        (Some(pl), None) => {
            Err(StoreError::Scim(ScimError::invalid_value(format!("a {} needs its {}", spec.level.name(), pl.name()))))
        }
        (Some(pl), Some(pk)) => match find_place(conn, tenant, pl, pk)? {
            Some((id, _, _)) => Ok(Some(id)),
            None => Err(StoreError::Scim(ScimError::invalid_value(format!(
                "the {} '{pk}' of {} '{}' does not exist",
                pl.name(),
                spec.level.name(),
                spec.key
            )))),
        },
    }
}

/// A place's key taken at its level (the same text as the PostgreSQL store's).
fn taken(spec: &PlaceSpec) -> StoreError {
    StoreError::Conflict(format!("a {} with the key '{}' exists already", spec.level.name(), spec.key))
}

fn insert_place(w: &Writer, tenant: TenantId, spec: &PlaceSpec, parent: Option<i64>, now: &str) -> StoreResult<()> {
    w.prepare_cached(
        "INSERT INTO places (tenant_id, level, key, name, parent_id, created, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .and_then(|mut st| st.execute(params![tenant.0, spec.level.code(), spec.key, spec.name, parent, now, now]))
    .map_err(map_err)?;
    Ok(())
}

/// Rowids of a place and everything under it.
fn subtree(conn: &Connection, root: i64) -> StoreResult<Vec<i64>> {
    conn.prepare_cached(
        "WITH RECURSIVE t(id) AS (SELECT ?1 UNION ALL SELECT p.id FROM places p JOIN t ON p.parent_id = t.id) \
         SELECT id FROM t",
    )
    .and_then(|mut st| st.query_map([root], |r| r.get::<_, i64>(0))?.collect())
    .map_err(internal)
}

/// Moves a tenant's rules generation on; returns the new one.
fn bump_generation(conn: &Connection, tenant: TenantId) -> StoreResult<i64> {
    conn.prepare_cached("UPDATE tenants SET places_gen = places_gen + 1 WHERE id = ? RETURNING places_gen")
        .and_then(|mut st| st.query_row([tenant.0], |r| r.get(0)))
        .map_err(internal)
}

fn group_rowid(conn: &Connection, tenant: TenantId, group: &str) -> StoreResult<Option<i64>> {
    conn.prepare_cached("SELECT id FROM resources WHERE tenant_id = ? AND rtype = 2 AND scim_id = ?")
        .and_then(|mut st| st.query_row(params![tenant.0, group], |r| r.get(0)).optional())
        .map_err(internal)
}

fn not_found(what: String) -> StoreError {
    StoreError::Scim(ScimError::not_found(what))
}

/// The group and the place of a link, which must exist.
fn link_ends(conn: &Connection, tenant: TenantId, group: &str, level: Level, place: &str) -> StoreResult<(i64, i64)> {
    let g = group_rowid(conn, tenant, group)?.ok_or_else(|| not_found(format!("group '{group}' not found")))?;
    let (p, _, _) = find_place(conn, tenant, level, place)?
        .ok_or_else(|| not_found(format!("{} '{place}' not found", level.name())))?;
    Ok((g, p))
}

impl PlacesStore for SqliteStore {
    fn import_places(
        &self,
        tenant: TenantId,
        places: Vec<PlaceSpec>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<ImportReport>> {
        let now = normalized_time(now);
        Box::pin(self.write(move |w| {
            let mut report = ImportReport::default();
            for spec in &places {
                let parent = parent_of(w, tenant, spec)?;
                match find_place(w, tenant, spec.level, &spec.key)? {
                    None => {
                        insert_place(w, tenant, spec, parent, &now)?;
                        report.created += 1;
                    }
                    Some((id, old_parent, old_name)) if old_parent != parent || old_name != spec.name => {
                        w.prepare_cached("UPDATE places SET name = ?, parent_id = ?, last_modified = ? WHERE id = ?")
                            .and_then(|mut st| st.execute(params![spec.name, parent, now, id]))
                            .map_err(internal)?;
                        report.updated += 1;
                    }
                    Some(_) => report.unchanged += 1,
                }
            }
            Ok(report)
        }))
    }

    fn list_places(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<PlaceRow>>> {
        let r = self.read(|conn| {
            conn.prepare_cached(&format!("SELECT {PLACE_COLS} WHERE p.tenant_id = ? ORDER BY p.level, p.key"))
                .and_then(|mut st| st.query_map([tenant.0], row_to_place)?.collect())
                .map_err(internal)
        });
        Box::pin(async move { r })
    }

    fn create_place(
        &self,
        tenant: TenantId,
        place: PlaceSpec,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<PlaceRow>> {
        let now = normalized_time(now);
        Box::pin(self.write(move |w| {
            let parent = parent_of(w, tenant, &place)?;
            insert_place(w, tenant, &place, parent, &now).map_err(|e| match e {
                StoreError::Conflict(_) => taken(&place),
                e => e,
            })?;
            Ok(PlaceRow {
                level: place.level,
                key: place.key,
                name: place.name,
                parent: place.parent,
                rules: None,
                created: now.clone(),
                last_modified: now,
            })
        }))
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
        Box::pin(self.write(move |w| {
            let n = w
                .prepare_cached(
                    "UPDATE places SET name = ?, last_modified = ? WHERE tenant_id = ? AND level = ? AND key = ?",
                )
                .and_then(|mut st| st.execute(params![name, now, tenant.0, level.code(), key]))
                .map_err(internal)?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        }))
    }

    fn delete_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        cascade: bool,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        let key = key.to_string();
        Box::pin(self.write(move |w| {
            let Some((id, _, _)) = find_place(w, tenant, level, &key)? else { return Err(StoreError::NotFound) };
            let ids = subtree(w, id)?;
            if ids.len() > 1 && !cascade {
                return Err(StoreError::Conflict(format!(
                    "{} '{key}' has {} place(s) under it: delete them first, or cascade",
                    level.name(),
                    ids.len() - 1
                )));
            }
            let had_rules: bool = w
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM places WHERE id = ? AND rules IS NOT NULL)")
                .and_then(|mut st| st.query_row([id], |r| r.get(0)))
                .map_err(internal)?;
            let mut links = w.prepare_cached("DELETE FROM access_links WHERE place_id = ?").map_err(internal)?;
            let mut del = w.prepare_cached("DELETE FROM places WHERE id = ?").map_err(internal)?;
            for p in ids.iter().rev() {
                links.execute([p]).map_err(internal)?;
                del.execute([p]).map_err(internal)?;
            }
            if had_rules {
                bump_generation(w, tenant)?;
            }
            Ok(ids.len() as u64)
        }))
    }

    fn set_location_rules(
        &self,
        tenant: TenantId,
        location: &str,
        rules: Option<String>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let (location, now) = (location.to_string(), normalized_time(now));
        Box::pin(self.write(move |w| {
            let n = w
                .prepare_cached(
                    "UPDATE places SET rules = ?, last_modified = ? WHERE tenant_id = ? AND level = 1 AND key = ?",
                )
                .and_then(|mut st| st.execute(params![rules, now, tenant.0, location]))
                .map_err(internal)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            bump_generation(w, tenant)
        }))
    }

    fn places_state(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<PlacesState>> {
        let r = self.read(|conn| {
            let Some((generation, has_locations)) = conn
                .prepare_cached(
                    "SELECT places_gen, EXISTS (SELECT 1 FROM places WHERE tenant_id = ?1 AND level = 1) \
                     FROM tenants WHERE id = ?1",
                )
                .and_then(|mut st| st.query_row([tenant.0], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(internal)?
            else {
                return Ok(PlacesState::default());
            };
            let rules = conn
                .prepare_cached(
                    "SELECT key, rules FROM places WHERE tenant_id = ? AND level = 1 AND rules IS NOT NULL ORDER BY key",
                )
                .and_then(|mut st| st.query_map([tenant.0], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(internal)?;
            Ok(PlacesState { generation, has_locations, rules })
        });
        Box::pin(async move { r })
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
        Box::pin(self.write(move |w| {
            let (g, p) = link_ends(w, tenant, &group, level, &place)?;
            let n = w
                .prepare_cached(
                    "INSERT OR IGNORE INTO access_links (group_id, place_id, tenant_id, created) VALUES (?, ?, ?, ?)",
                )
                .and_then(|mut st| st.execute(params![g, p, tenant.0, now]))
                .map_err(internal)?;
            Ok(n > 0)
        }))
    }

    fn revoke_access(&self, tenant: TenantId, group: &str, level: Level, place: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (group, place) = (group.to_string(), place.to_string());
        Box::pin(self.write(move |w| {
            let (g, p) = link_ends(w, tenant, &group, level, &place)?;
            let n = w
                .prepare_cached("DELETE FROM access_links WHERE group_id = ? AND place_id = ?")
                .and_then(|mut st| st.execute(params![g, p]))
                .map_err(internal)?;
            Ok(n > 0)
        }))
    }

    fn access_links(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<AccessLink>>> {
        let r = self.read(|conn| {
            conn.prepare_cached(
                "SELECT r.scim_id, r.display, p.level, p.key, a.created FROM access_links a \
                 JOIN resources r ON r.id = a.group_id JOIN places p ON p.id = a.place_id \
                 WHERE a.tenant_id = ? ORDER BY p.key, p.level, r.display, r.scim_id",
            )
            .and_then(|mut st| {
                st.query_map([tenant.0], |r| {
                    Ok(AccessLink {
                        group_id: r.get(0)?,
                        group: r.get(1)?,
                        level: Level::from_code(r.get(2)?).unwrap_or(Level::Bank),
                        place: r.get(3)?,
                        created: r.get(4)?,
                    })
                })?
                .collect()
            })
            .map_err(internal)
        });
        Box::pin(async move { r })
    }

    fn user_access(&self, tenant: TenantId, user_key: &str) -> BoxFut<'_, StoreResult<Option<UserAccess>>> {
        let r = self.read(|conn| {
            let Some((user, active)) = conn
                .prepare_cached(
                    "SELECT id, coalesce(json_extract(data, '$.active'), 1) FROM resources \
                     WHERE tenant_id = ? AND rtype = 1 AND unique_key = ?",
                )
                .and_then(|mut st| {
                    st.query_row(params![tenant.0, user_key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                        .optional()
                })
                .map_err(internal)?
            else {
                return Ok(None);
            };
            let mut access = UserAccess::default();
            if active == 0 {
                return Ok(Some(access));
            }
            // The user's groups, through nesting; the places linked to them and everything
            // under those; of these, the banks and the lockers.
            let mut st = conn
                .prepare_cached(
                    "WITH RECURSIVE g(id) AS (SELECT group_id FROM members WHERE member_id = ?1 \
                       UNION SELECT m.group_id FROM members m JOIN g ON m.member_id = g.id), \
                     t(id, level, key) AS (SELECT p.id, p.level, p.key FROM access_links a JOIN g ON a.group_id = g.id \
                       JOIN places p ON p.id = a.place_id \
                       UNION SELECT c.id, c.level, c.key FROM places c JOIN t ON c.parent_id = t.id) \
                     SELECT DISTINCT level, key FROM t WHERE level IN (3, 4) ORDER BY 1, 2",
                )
                .map_err(internal)?;
            let rows = st.query_map([user], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).map_err(internal)?;
            for row in rows {
                let (level, key) = row.map_err(internal)?;
                if level == 3 { access.banks.push(key) } else { access.lockers.push(key) }
            }
            Ok(Some(access))
        });
        Box::pin(async move { r })
    }

    fn place_users(
        &self,
        tenant: TenantId,
        level: Level,
        place: &str,
        offset: u64,
        limit: u64,
    ) -> BoxFut<'_, StoreResult<Option<BankUsers>>> {
        let r = self.read(|conn| {
            let Some((p, _, _)) = find_place(conn, tenant, level, place)? else { return Ok(None) };
            // The place and the places above it; the groups linked to them and the groups
            // nested in those; their active users.
            let sql = |select: &str, page: &str| {
                format!(
                    "WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM places WHERE id = ?1 \
                       UNION ALL SELECT p.id, p.parent_id FROM places p JOIN up ON p.id = up.parent), \
                     g(id) AS (SELECT group_id FROM access_links WHERE place_id IN (SELECT id FROM up) \
                       UNION SELECT m.member_id FROM members m JOIN g ON m.group_id = g.id \
                       JOIN resources s ON s.id = m.member_id AND s.rtype = 2) \
                     SELECT {select} FROM resources r WHERE r.id IN (SELECT m.member_id FROM members m JOIN g ON m.group_id = g.id) \
                       AND r.rtype = 1 AND coalesce(json_extract(r.data, '$.active'), 1) <> 0 {page}"
                )
            };
            let total: i64 =
                conn.prepare_cached(&sql("count(*)", "")).and_then(|mut st| st.query_row([p], |r| r.get(0))).map_err(internal)?;
            let users = conn
                .prepare_cached(&sql("r.scim_id, json_extract(r.data, '$.userName')", "ORDER BY r.id LIMIT ?2 OFFSET ?3"))
                .and_then(|mut st| {
                    st.query_map(params![p, limit as i64, offset as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
                })
                .map_err(internal)?;
            Ok(Some((total as u64, users)))
        });
        Box::pin(async move { r })
    }

    fn places_pending(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, i64)>>> {
        let r = self.read_one(|conn| {
            conn.prepare_cached("SELECT id, places_gen FROM tenants WHERE places_gen > places_done ORDER BY id")
                .and_then(|mut st| st.query_map([], |r| Ok((TenantId(r.get(0)?), r.get(1)?)))?.collect())
                .map_err(internal)
        });
        Box::pin(async move { r })
    }

    fn stale_users(
        &self,
        tenant: TenantId,
        generation: i64,
        after: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<(Vec<StoredResource>, Option<i64>)>> {
        let r = self.read(|conn| {
            // Walks the kind's rowid order; `last` is where the next call goes on.
            let mut st = conn
                .prepare_cached(
                    "SELECT r.id, r.scim_id, r.version, r.created, r.last_modified, r.data, r.derived_gen \
                     FROM resources r WHERE r.tenant_id = ? AND r.rtype = 1 AND r.id > ? ORDER BY r.id LIMIT ?",
                )
                .map_err(internal)?;
            let rows = st
                .query_map(params![tenant.0, after, limit], |row| {
                    Ok((row_to_resource(ResourceKind::User, false, row)?, row.get::<_, i64>(6)?))
                })
                .map_err(internal)?;
            let mut out = Vec::new();
            let mut last = None;
            let mut n = 0;
            for row in rows {
                let ((rowid, r), row_gen) = row.map_err(internal)?;
                n += 1;
                last = Some(rowid);
                if row_gen < generation {
                    out.push(r);
                }
            }
            Ok((out, if n < limit { None } else { last }))
        });
        Box::pin(async move { r })
    }

    fn set_derived(
        &self,
        tenant: TenantId,
        updates: Vec<DerivedUpdate>,
        generation: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        let now = normalized_time(now);
        Box::pin(self.write(move |w| {
            let mut written = 0;
            for u in updates {
                let Some(rowid) = w
                    .prepare_cached(
                        "SELECT id FROM resources WHERE tenant_id = ? AND rtype = 1 AND scim_id = ? AND version = ?",
                    )
                    .and_then(|mut st| {
                        st.query_row(params![tenant.0, u.user, u.version], |r| r.get::<_, i64>(0)).optional()
                    })
                    .map_err(internal)?
                else {
                    continue;
                };
                match u.state {
                    None => {
                        w.prepare_cached("UPDATE resources SET derived_gen = max(derived_gen, ?) WHERE id = ?")
                            .and_then(|mut st| st.execute(params![generation, rowid]))
                            .map_err(internal)?;
                    }
                    Some(state) => {
                        let (data, _) = state_params(&state)?;
                        w.prepare_cached(
                            "UPDATE resources SET data = ?, version = version + 1, last_modified = ?, \
                             derived_gen = max(derived_gen, ?) WHERE id = ?",
                        )
                        .and_then(|mut st| st.execute(params![data, now, generation, rowid]))
                        .map_err(internal)?;
                        rewrite_index(w, tenant, ResourceKind::User, rowid, &state.index)?;
                    }
                }
                written += 1;
            }
            Ok(written)
        }))
    }

    fn places_done(&self, tenant: TenantId, generation: i64) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| {
            w.prepare_cached("UPDATE tenants SET places_done = ? WHERE id = ? AND places_gen = ?")
                .and_then(|mut st| st.execute(params![generation, tenant.0, generation]))
                .map_err(internal)?;
            Ok(())
        }))
    }
}
