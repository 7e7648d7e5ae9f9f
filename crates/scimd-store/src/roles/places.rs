//! Places: a tenant's places tree, the access links between groups and places, the
//! location rules, and the bookkeeping of the background recomputation of users' derived
//! attributes ([`crate::places::PlacesStore`]). Written once for both databases (see `db`);
//! which parent a place needs is the core's rule ([`PlaceSpec::parent_place`]).
//!
//! Each shell runs a change as one unit: SQLite's on its writer thread (writes are
//! serialized there), PostgreSQL's in a transaction, where replicas race: a deleted place
//! is locked first, and the recomputation locks its users in rowid order. The foreign keys
//! of PostgreSQL's schema drop a deleted place's access links and make a place or link
//! added while its parent, place or group is being deleted fail; SQLite's schema has none,
//! so the links go explicitly.

use std::collections::HashMap;

use scimd_core::ScimError;
use scimd_core::places::{Level, PlaceSpec};
use scimd_core::resource::IndexEntry;
use scimd_core::schema::ResourceKind;

use scimd_core::events::{ChangeFacts, Write, prov_events};

use super::access::{self, Users};
use super::events::{self, Subject};
use crate::db::{Db, Dialect, List, Row};
use crate::places::{AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, UserAccess};
use crate::{StoreError, StoreResult, StoredResource, TenantId, state_params};

const SELECT_PLACES: &str = "SELECT p.level, p.key, p.name, (SELECT q.key FROM places q WHERE q.id = p.parent_id), \
                             p.rules, p.created, p.last_modified FROM places p WHERE p.tenant_id = ? \
                             ORDER BY p.level, p.key";

fn place(r: &impl Row) -> StoreResult<PlaceRow> {
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

/// A place's rowid, parent rowid and name, by level and key. With `lock`, PostgreSQL holds
/// its row (`FOR UPDATE`) to the end of the transaction; SQLite's writer needs no lock.
async fn find(
    db: &impl Db,
    tenant: TenantId,
    level: Level,
    key: &str,
    lock: bool,
) -> StoreResult<Option<(i64, Option<i64>, String)>> {
    let sql = match (lock, db.dialect()) {
        (true, Dialect::Postgres) => {
            "SELECT id, parent_id, name FROM places WHERE tenant_id = ? AND level = ? AND key = ? FOR UPDATE"
        }
        _ => "SELECT id, parent_id, name FROM places WHERE tenant_id = ? AND level = ? AND key = ?",
    };
    db.query_opt(sql, &[&tenant.0, &level.code(), &key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).await
}

fn invalid(why: String) -> StoreError {
    StoreError::Scim(ScimError::invalid_value(why))
}

/// The rowid of a place's parent, which must exist.
async fn parent_of(db: &impl Db, tenant: TenantId, spec: &PlaceSpec) -> StoreResult<Option<i64>> {
    match spec.parent_place().map_err(invalid)? {
        None => Ok(None),
        Some((level, key)) => match find(db, tenant, level, key, false).await? {
            Some((id, _, _)) => Ok(Some(id)),
            None => Err(invalid(spec.missing_parent())),
        },
    }
}

/// A place's key taken at its level.
fn taken(spec: &PlaceSpec) -> StoreError {
    StoreError::Conflict(format!("a {} with the key '{}' exists already", spec.level.name(), spec.key))
}

/// Whether a statement failed on a foreign key (only PostgreSQL's schema has them), and on
/// which constraint: the PostgreSQL shell reports it with the server's message and code.
pub(crate) fn foreign_key(e: &StoreError) -> Option<&str> {
    match e {
        StoreError::Internal(m) if m.ends_with("(23503)") => Some(m),
        _ => None,
    }
}

async fn insert(db: &impl Db, tenant: TenantId, spec: &PlaceSpec, parent: Option<i64>, now: &str) -> StoreResult<()> {
    let sql = "INSERT INTO places (tenant_id, level, key, name, parent_id, created, last_modified) \
               VALUES (?, ?, ?, ?, ?, ?, ?)";
    match db.execute(sql, &[&tenant.0, &spec.level.code(), &spec.key, &spec.name, &parent, &now, &now]).await {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(taken(spec)),
        // The parent was deleted (by another connection) since it was found.
        Err(e) if foreign_key(&e).is_some() && parent.is_some() => Err(invalid(spec.missing_parent())),
        Err(e) => Err(e),
    }
}

/// A place and everything under it, as a subquery of their rowids (the place's rowid bound).
macro_rules! subtree {
    () => {
        "WITH RECURSIVE t(id) AS (SELECT CAST(? AS BIGINT) UNION ALL \
         SELECT p.id FROM places p JOIN t ON p.parent_id = t.id) SELECT id FROM t"
    };
}

/// Moves a tenant's rules generation on; returns the new one.
async fn bump_generation(db: &impl Db, tenant: TenantId) -> StoreResult<i64> {
    db.query_opt(
        "UPDATE tenants SET places_gen = places_gen + 1 WHERE id = ? RETURNING places_gen",
        &[&tenant.0],
        |r| r.get(0),
    )
    .await?
    .ok_or(StoreError::NotFound)
}

fn not_found(what: String) -> StoreError {
    StoreError::Scim(ScimError::not_found(what))
}

fn group_not_found(group: &str) -> StoreError {
    not_found(format!("group '{group}' not found"))
}

fn place_not_found(level: Level, place: &str) -> StoreError {
    not_found(format!("{} '{place}' not found", level.name()))
}

/// The group and the place of a link, which must exist.
async fn link_ends(db: &impl Db, tenant: TenantId, group: &str, level: Level, place: &str) -> StoreResult<(i64, i64)> {
    let g = db
        .query_opt(
            "SELECT id FROM resources WHERE tenant_id = ? AND rtype = 2 AND scim_id = ?",
            &[&tenant.0, &group],
            |r| r.get::<i64>(0),
        )
        .await?
        .ok_or_else(|| group_not_found(group))?;
    let (p, _, _) = find(db, tenant, level, place, false).await?.ok_or_else(|| place_not_found(level, place))?;
    Ok((g, p))
}

/// Whether the user row `r` is active: its `active` is not JSON false (absent or null is
/// active), in the dialect's JSON words.
fn active(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "coalesce(json_extract(r.data, '$.active'), 1) <> 0",
        Dialect::Postgres => "(r.data::jsonb ->> 'active') IS DISTINCT FROM 'false'",
    }
}

/// Creates or updates every place of a tree (parents first), in the shell's one unit.
pub(crate) async fn import(
    db: &impl Db,
    tenant: TenantId,
    places: &[PlaceSpec],
    now: &str,
) -> StoreResult<ImportReport> {
    // Places moved or added may move the access of every linked group's users.
    let watch = access::watch(db, tenant, events::recording(db, tenant).await?, Users::All, false).await?;
    let mut report = ImportReport::default();
    for spec in places {
        let parent = parent_of(db, tenant, spec).await?;
        match find(db, tenant, spec.level, &spec.key, false).await? {
            None => {
                insert(db, tenant, spec, parent, now).await?;
                report.created += 1;
            }
            Some((id, old_parent, old_name)) if old_parent != parent || old_name != spec.name => {
                db.execute(
                    "UPDATE places SET name = ?, parent_id = ?, last_modified = ? WHERE id = ?",
                    &[&spec.name, &parent, &now, &id],
                )
                .await?;
                report.updated += 1;
            }
            Some(_) => report.unchanged += 1,
        }
    }
    access::finish(db, tenant, watch, None, now).await?;
    Ok(report)
}

pub(crate) async fn list(db: &impl Db, tenant: TenantId) -> StoreResult<Vec<PlaceRow>> {
    db.query(SELECT_PLACES, &[&tenant.0], |r| place(r)).await
}

/// Creates one place, in the shell's one unit.
pub(crate) async fn create(db: &impl Db, tenant: TenantId, spec: PlaceSpec, now: String) -> StoreResult<PlaceRow> {
    let parent = parent_of(db, tenant, &spec).await?;
    // A bank or locker under a linked place is more access for that place's users.
    let watch = match parent {
        Some(p) => access::watch(db, tenant, events::recording(db, tenant).await?, Users::Place(p), false).await?,
        None => None,
    };
    insert(db, tenant, &spec, parent, &now).await?;
    access::finish(db, tenant, watch, None, &now).await?;
    Ok(PlaceRow {
        level: spec.level,
        key: spec.key,
        name: spec.name,
        parent: spec.parent,
        rules: None,
        created: now.clone(),
        last_modified: now,
    })
}

pub(crate) async fn rename(
    db: &impl Db,
    tenant: TenantId,
    level: Level,
    key: &str,
    name: &str,
    now: &str,
) -> StoreResult<()> {
    db.execute_one(
        "UPDATE places SET name = ?, last_modified = ? WHERE tenant_id = ? AND level = ? AND key = ?",
        &[&name, &now, &tenant.0, &level.code(), &key],
    )
    .await
}

/// Deletes a place (and with `cascade` everything under it), in the shell's one unit.
pub(crate) async fn delete(
    db: &impl Db,
    tenant: TenantId,
    level: Level,
    key: &str,
    cascade: bool,
    now: &str,
) -> StoreResult<u64> {
    // Locked first: a child being added on another connection waits, then fails.
    let Some((id, _, _)) = find(db, tenant, level, key, true).await? else { return Err(StoreError::NotFound) };
    let watch = access::watch(db, tenant, events::recording(db, tenant).await?, Users::Place(id), false).await?;
    let ids: Vec<i64> = db.query(subtree!(), &[&id], |r| r.get(0)).await?;
    if ids.len() > 1 && !cascade {
        return Err(StoreError::Conflict(format!(
            "{} '{key}' has {} place(s) under it: delete them first, or cascade",
            level.name(),
            ids.len() - 1
        )));
    }
    let had_rules: bool = db
        .query_opt("SELECT EXISTS (SELECT 1 FROM places WHERE id = ? AND rules IS NOT NULL)", &[&id], |r| r.get(0))
        .await?
        .unwrap_or(false);
    if db.dialect() == Dialect::Sqlite {
        // PostgreSQL's foreign keys drop the links with the places.
        db.execute(concat!("DELETE FROM access_links WHERE place_id IN (", subtree!(), ")"), &[&id]).await?;
    }
    db.execute(concat!("DELETE FROM places WHERE id IN (", subtree!(), ")"), &[&id]).await?;
    if had_rules {
        bump_generation(db, tenant).await?;
    }
    access::finish(db, tenant, watch, None, now).await?;
    Ok(ids.len() as u64)
}

/// Sets or clears a location's rules and moves the generation on, in the shell's one unit.
pub(crate) async fn set_rules(
    db: &impl Db,
    tenant: TenantId,
    location: &str,
    rules: Option<String>,
    now: &str,
) -> StoreResult<i64> {
    db.execute_one(
        "UPDATE places SET rules = ?, last_modified = ? WHERE tenant_id = ? AND level = 1 AND key = ?",
        &[&rules, &now, &tenant.0, &location],
    )
    .await?;
    bump_generation(db, tenant).await
}

pub(crate) async fn state(db: &impl Db, tenant: TenantId) -> StoreResult<PlacesState> {
    // The generation before the rules: the rules read are at least that new (a change
    // committing in between only makes the caller look again sooner).
    let Some((generation, has_locations)) = db
        .query_opt(
            "SELECT places_gen, EXISTS (SELECT 1 FROM places WHERE tenant_id = ? AND level = 1) FROM tenants WHERE id = ?",
            &[&tenant.0, &tenant.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .await?
    else {
        return Ok(PlacesState::default());
    };
    let rules = db
        .query(
            "SELECT key, rules FROM places WHERE tenant_id = ? AND level = 1 AND rules IS NOT NULL ORDER BY key",
            &[&tenant.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .await?;
    Ok(PlacesState { generation, has_locations, rules })
}

pub(crate) async fn grant(
    db: &impl Db,
    tenant: TenantId,
    group: &str,
    level: Level,
    place: &str,
    now: &str,
) -> StoreResult<bool> {
    let (g, p) = link_ends(db, tenant, group, level, place).await?;
    let watch =
        access::watch(db, tenant, events::recording(db, tenant).await?, Users::Groups(vec![g], &[]), true).await?;
    let sql = "INSERT INTO access_links (group_id, place_id, tenant_id, created) VALUES (?, ?, ?, ?) \
               ON CONFLICT DO NOTHING";
    match db.execute(sql, &[&g, &p, &tenant.0, &now]).await {
        Ok(n) => {
            access::finish(db, tenant, watch, None, now).await?;
            Ok(n > 0)
        }
        // The group or the place was deleted (by another connection) since it was found.
        Err(e) => match foreign_key(&e) {
            Some(m) if m.contains("\"access_links_group_id_fkey\"") => Err(group_not_found(group)),
            Some(_) => Err(place_not_found(level, place)),
            None => Err(e),
        },
    }
}

pub(crate) async fn revoke(
    db: &impl Db,
    tenant: TenantId,
    group: &str,
    level: Level,
    place: &str,
    now: &str,
) -> StoreResult<bool> {
    let (g, p) = link_ends(db, tenant, group, level, place).await?;
    let watch =
        access::watch(db, tenant, events::recording(db, tenant).await?, Users::Groups(vec![g], &[]), false).await?;
    let gone = db.execute("DELETE FROM access_links WHERE group_id = ? AND place_id = ?", &[&g, &p]).await? > 0;
    access::finish(db, tenant, watch, None, now).await?;
    Ok(gone)
}

pub(crate) async fn links(db: &impl Db, tenant: TenantId) -> StoreResult<Vec<AccessLink>> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT r.scim_id, r.display, p.level, p.key, a.created FROM access_links a \
             JOIN resources r ON r.id = a.group_id JOIN places p ON p.id = a.place_id \
             WHERE a.tenant_id = ? ORDER BY p.key, p.level, r.display, r.scim_id"
        }
        // `display` is in the database's collation and NULLs sort last in PostgreSQL:
        // ordered as SQLite orders it (bytes, NULLs first).
        Dialect::Postgres => {
            "SELECT r.scim_id, r.display, p.level, p.key, a.created FROM access_links a \
             JOIN resources r ON r.id = a.group_id JOIN places p ON p.id = a.place_id \
             WHERE a.tenant_id = ? ORDER BY p.key, p.level, r.display COLLATE \"C\" NULLS FIRST, r.scim_id"
        }
    };
    db.query(sql, &[&tenant.0], |r| {
        Ok(AccessLink {
            group_id: r.get(0)?,
            group: r.get(1)?,
            level: Level::from_code(r.get(2)?).unwrap_or(Level::Bank),
            place: r.get(3)?,
            created: r.get(4)?,
        })
    })
    .await
}

/// A user's banks and lockers; the shell gives a snapshot (SQLite: one read transaction).
pub(crate) async fn user_access(db: &impl Db, tenant: TenantId, user_key: &str) -> StoreResult<Option<UserAccess>> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT r.id, coalesce(json_extract(r.data, '$.active'), 1) <> 0 FROM resources r \
             WHERE r.tenant_id = ? AND r.rtype = 1 AND r.unique_key = ?"
        }
        Dialect::Postgres => {
            "SELECT r.id, (r.data::jsonb ->> 'active') IS DISTINCT FROM 'false' FROM resources r \
             WHERE r.tenant_id = ? AND r.rtype = 1 AND r.unique_key = ?"
        }
    };
    let Some((user, active)) =
        db.query_opt(sql, &[&tenant.0, &user_key], |r| Ok((r.get::<i64>(0)?, r.get::<bool>(1)?))).await?
    else {
        return Ok(None);
    };
    let mut access = UserAccess::default();
    if !active {
        return Ok(Some(access));
    }
    // The user's groups, through nesting; the places linked to them and everything under
    // those; of these, the banks and the lockers.
    let rows = db
        .query(
            "WITH RECURSIVE g(id) AS (SELECT group_id FROM members WHERE member_id = ? \
               UNION SELECT m.group_id FROM members m JOIN g ON m.member_id = g.id), \
             t(id, level, key) AS (SELECT p.id, p.level, p.key FROM access_links a JOIN g ON a.group_id = g.id \
               JOIN places p ON p.id = a.place_id \
               UNION SELECT c.id, c.level, c.key FROM places c JOIN t ON c.parent_id = t.id) \
             SELECT DISTINCT level, key FROM t WHERE level IN (3, 4) ORDER BY 1, 2",
            &[&user],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )
        .await?;
    for (level, key) in rows {
        if level == 3 { access.banks.push(key) } else { access.lockers.push(key) }
    }
    Ok(Some(access))
}

/// A page of the active users that may use a place; the shell gives a snapshot.
pub(crate) async fn place_users(
    db: &impl Db,
    tenant: TenantId,
    level: Level,
    place: &str,
    offset: u64,
    limit: u64,
) -> StoreResult<Option<BankUsers>> {
    let Some((p, _, _)) = find(db, tenant, level, place, false).await? else { return Ok(None) };
    // The place and the places above it; the groups linked to them and the groups nested
    // in those; their active users.
    let sql = |select: &str, page: &str| {
        format!(
            "WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM places WHERE id = ? \
               UNION ALL SELECT p.id, p.parent_id FROM places p JOIN up ON p.id = up.parent), \
             g(id) AS (SELECT group_id FROM access_links WHERE place_id IN (SELECT id FROM up) \
               UNION SELECT m.member_id FROM members m JOIN g ON m.group_id = g.id \
               JOIN resources s ON s.id = m.member_id AND s.rtype = 2) \
             SELECT {select} FROM resources r WHERE r.id IN (SELECT m.member_id FROM members m JOIN g ON m.group_id = g.id) \
               AND r.rtype = 1 AND {} {page}",
            active(db.dialect())
        )
    };
    let total: i64 = db.query_opt(&sql("count(*)", ""), &[&p], |r| r.get(0)).await?.unwrap_or(0);
    let user_name = match db.dialect() {
        Dialect::Sqlite => "r.scim_id, json_extract(r.data, '$.userName')",
        Dialect::Postgres => "r.scim_id, r.data::jsonb ->> 'userName'",
    };
    let (limit, offset) = (limit.min(i64::MAX as u64) as i64, offset.min(i64::MAX as u64) as i64);
    let users = db
        .query(&sql(user_name, "ORDER BY r.id LIMIT ? OFFSET ?"), &[&p, &limit, &offset], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .await?;
    Ok(Some((total.max(0) as u64, users)))
}

pub(crate) async fn pending(db: &impl Db) -> StoreResult<Vec<(TenantId, i64)>> {
    db.query("SELECT id, places_gen FROM tenants WHERE places_gen > places_done ORDER BY id", &[], |r| {
        Ok((TenantId(r.get(0)?), r.get(1)?))
    })
    .await
}

/// A user's row as [`crate::places::PlacesStore::stale_users`] gives it (without its
/// groups), with its rowid and derived-attributes generation.
fn stale_user(r: &impl Row) -> StoreResult<(i64, StoredResource, i64)> {
    let user = StoredResource {
        kind: ResourceKind::User,
        id: r.get(1)?,
        version: r.get(2)?,
        created: r.get(3)?,
        last_modified: r.get(4)?,
        data: r.get(5)?,
        related: None,
    };
    Ok((r.get(0)?, user, r.get(6)?))
}

/// Up to `limit` users after rowid `after` whose derived attributes are older than
/// `generation`, with the rowid to continue after (`None`: the pass is over).
pub(crate) async fn stale_users(
    db: &impl Db,
    tenant: TenantId,
    generation: i64,
    after: i64,
    limit: u32,
) -> StoreResult<(Vec<StoredResource>, Option<i64>)> {
    // Walks the kind's rowid order; `last` is where the next call goes on.
    let rows = db
        .query(
            "SELECT r.id, r.scim_id, r.version, r.created, r.last_modified, r.data, r.derived_gen \
             FROM resources r WHERE r.tenant_id = ? AND r.rtype = 1 AND r.id > ? ORDER BY r.id LIMIT ?",
            &[&tenant.0, &after, &i64::from(limit)],
            |r| stale_user(r),
        )
        .await?;
    let full = rows.len() >= limit as usize;
    let last = rows.last().map(|(rowid, _, _)| *rowid);
    let out = rows.into_iter().filter(|(_, _, row_gen)| *row_gen < generation).map(|(_, r, _)| r).collect();
    Ok((out, if full { last } else { None }))
}

/// Records users' derived attributes of `generation` (see
/// [`crate::places::PlacesStore::set_derived`]), in the shell's one unit. Returns how many
/// were recorded, and the users whose state changed with their new index entries: the
/// index is the resource code's, which each shell rewrites in the same unit.
pub(crate) async fn set_derived(
    db: &impl Db,
    tenant: TenantId,
    updates: Vec<DerivedUpdate>,
    generation: i64,
    now: &str,
) -> StoreResult<(u64, Vec<(i64, Vec<IndexEntry>)>)> {
    // Every user's row read (on PostgreSQL locked) in one statement, in rowid order (two
    // passes on other replicas lock overlapping users in the same order), as an update
    // locks it.
    let names: Vec<&str> = updates.iter().map(|u| u.user.as_str()).collect();
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT id, scim_id, version, data, created FROM resources WHERE tenant_id = ? AND rtype = 1 \
             AND scim_id IN (SELECT value FROM json_each(?)) ORDER BY id"
        }
        Dialect::Postgres => {
            "SELECT id, scim_id, version, data, created FROM resources WHERE tenant_id = ? AND rtype = 1 \
             AND scim_id = ANY(?::text[]) ORDER BY id FOR NO KEY UPDATE"
        }
    };
    let mut current: HashMap<String, (i64, i64, String, String)> = db
        .query(sql, &[&tenant.0, &List(&names)], |r| {
            Ok((r.get::<String>(1)?, (r.get(0)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        })
        .await?
        .into_iter()
        .collect();
    // A user's derived attributes are part of what it is: a change of them is a patch.
    let recording = events::recording(db, tenant).await?;
    let mut changes = Vec::new();
    let greatest = match db.dialect() {
        Dialect::Sqlite => [
            "UPDATE resources SET derived_gen = max(derived_gen, ?) WHERE id = ?",
            "UPDATE resources SET data = ?, version = version + 1, last_modified = ?, \
             derived_gen = max(derived_gen, ?) WHERE id = ?",
        ],
        Dialect::Postgres => [
            "UPDATE resources SET derived_gen = GREATEST(derived_gen, ?) WHERE id = ?",
            "UPDATE resources SET data = ?, version = version + 1, last_modified = ?, \
             derived_gen = GREATEST(derived_gen, ?) WHERE id = ?",
        ],
    };
    let (mut written, mut reindex) = (0, Vec::new());
    for u in updates {
        let Some((rowid, version, before, created)) = current.get_mut(&u.user) else { continue };
        if *version != u.version {
            continue;
        }
        match u.state {
            None => {
                db.execute(greatest[0], &[&generation, &*rowid]).await?;
            }
            Some(state) => {
                let (data, _) = state_params(&state)?;
                db.execute(greatest[1], &[&data, &now, &generation, &*rowid]).await?;
                *version += 1;
                if let Some(full) = recording {
                    let before: serde_json::Value = serde_json::from_str(before).unwrap_or_default();
                    let facts = ChangeFacts {
                        write: Write::Patch,
                        kind: ResourceKind::User,
                        before: Some(&before),
                        after: Some(&state.doc),
                        password: false,
                        members: false,
                    };
                    let stored = full.then_some((data.as_str(), created.as_str()));
                    let subject = Subject::new(
                        ResourceKind::User,
                        &u.user,
                        Some(*version),
                        events::external_id(&state.doc),
                        stored,
                    );
                    changes.extend(prov_events(facts).into_iter().map(|d| (subject.clone(), d)));
                }
                reindex.push((*rowid, state.index));
            }
        }
        written += 1;
    }
    events::append(db, tenant, changes, None, now).await?;
    Ok((written, reindex))
}

/// Marks a tenant's recomputation of `generation` finished (unless the rules moved on).
pub(crate) async fn done(db: &impl Db, tenant: TenantId, generation: i64) -> StoreResult<()> {
    db.execute(
        "UPDATE tenants SET places_done = ? WHERE id = ? AND places_gen = ?",
        &[&generation, &tenant.0, &generation],
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_key_violation_is_read_from_the_postgresql_shells_text() {
        let gone = StoreError::Internal(
            "db error: insert or update on table \"access_links\" violates foreign key constraint \
             \"access_links_group_id_fkey\" (23503)"
                .into(),
        );
        assert!(foreign_key(&gone).is_some_and(|m| m.contains("\"access_links_group_id_fkey\"")));
        assert!(foreign_key(&StoreError::Internal("db error: event store unavailable (P0001)".into())).is_none());
        assert!(foreign_key(&StoreError::Conflict("places_key".into())).is_none());
    }
}
