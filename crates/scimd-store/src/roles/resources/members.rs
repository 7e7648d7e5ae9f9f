//! Memberships: a group's members (`members` of a group) and a user's groups (`groups`
//! set on a user, when a profile allows it), and the texts of their errors.
//!
//! SQLite resolves and writes each member with its own statements on the writer thread;
//! PostgreSQL resolves a list of ids in one `unnest` statement and writes them in another,
//! to spare round trips. Its foreign keys make a member or group deleted meanwhile (by
//! another connection) fail the write; SQLite's writer is alone, so that cannot happen.
//!
//! A membership records who made it (`origins`, a bit set: over SCIM, by the operator). An
//! add sets the writer's bit, a removal clears it, and the row goes when no bit is left:
//! a SCIM client replacing a group's members keeps the operator's, and the other way round.

use std::collections::BTreeSet;

use scimd_core::ScimError;
use scimd_core::patch::MemberOp;
use scimd_core::resource::MemberValue;
use scimd_core::schema::ResourceKind;

use super::read::params;
use crate::db::{Db, Dialect, List, Row};
use crate::roles::places::foreign_key;
use crate::sqlfilter::{groups_of_user_where, members_of_group_where};
use crate::{StoreError, StoreResult, TenantId, kind_code, no_group};

fn invalid(why: impl Into<String>) -> StoreError {
    StoreError::Scim(ScimError::invalid_value(why))
}

fn no_member(m: &MemberValue) -> StoreError {
    invalid(format!(
        "member '{}' does not exist{}",
        m.value,
        m.kind.map(|k| format!(" as a {}", k.name())).unwrap_or_default()
    ))
}

const SELF_MEMBER: &str = "a group cannot be a member of itself";

/// Adds a membership with the writer's origin bit, or adds the bit to the one there is.
const UPSERT: &str = "INSERT INTO members (group_id, member_id, tenant_id, origins) VALUES (?, ?, ?, ?) \
                      ON CONFLICT (group_id, member_id) DO UPDATE SET origins = members.origins | excluded.origins";

/// Clears an origin bit of the memberships `cond` selects (bound after the mask), then
/// drops those left with none; how many were dropped.
async fn clear_origin(db: &impl Db, cond: &str, origin: i64, bound: &[&dyn crate::db::Param]) -> StoreResult<u64> {
    let mask = !origin;
    let mut with_mask: Vec<&dyn crate::db::Param> = vec![&mask];
    with_mask.extend_from_slice(bound);
    db.execute_once(&format!("UPDATE members SET origins = origins & ? WHERE {cond}"), &with_mask).await?;
    db.execute_once(&format!("DELETE FROM members WHERE origins = 0 AND {cond}"), bound).await
}

/// The rowid and kind of a resource that may be a user or a group (a user first).
pub(crate) async fn find_any(
    db: &impl Db,
    tenant: TenantId,
    id: &str,
    kind: Option<ResourceKind>,
) -> StoreResult<Option<(i64, ResourceKind)>> {
    let kinds: &[ResourceKind] = match kind {
        Some(ResourceKind::User) => &[ResourceKind::User],
        Some(ResourceKind::Group) => &[ResourceKind::Group],
        // A declared type's row is never a member.
        Some(ResourceKind::Custom(_)) => &[],
        None => &[ResourceKind::User, ResourceKind::Group],
    };
    for k in kinds {
        let sql = "SELECT id FROM resources WHERE tenant_id = ? AND rtype = ? AND scim_id = ?";
        if let Some(rowid) = db.query_opt(sql, &[&tenant.0, &kind_code(*k), &id], |r| r.get::<i64>(0)).await? {
            return Ok(Some((rowid, *k)));
        }
    }
    Ok(None)
}

/// Adds members to a group: each must exist (as the kind it names, if any) and not be
/// the group itself.
pub(crate) async fn add_members(
    db: &impl Db,
    tenant: TenantId,
    group: i64,
    members: &[MemberValue],
    origin: i64,
) -> StoreResult<()> {
    match db.dialect() {
        Dialect::Sqlite => {
            for m in members {
                let Some((rowid, _)) = find_any(db, tenant, &m.value, m.kind).await? else {
                    return Err(no_member(m));
                };
                if rowid == group {
                    return Err(invalid(SELF_MEMBER));
                }
                db.execute(UPSERT, &[&group, &rowid, &tenant.0, &origin]).await?;
            }
            Ok(())
        }
        // Two statements whatever their number: one resolves every id (a user first, then
        // a group, as `find_any`), one inserts the rows.
        Dialect::Postgres => {
            if members.is_empty() {
                return Ok(());
            }
            let values: Vec<&str> = members.iter().map(|m| m.value.as_str()).collect();
            let kinds: Vec<i64> = members.iter().map(|m| m.kind.map_or(0, kind_code)).collect();
            let resolve = "SELECT coalesce( \
                 (SELECT r.id FROM resources r WHERE r.tenant_id = ? AND r.rtype = 1 AND r.scim_id = v.value AND v.k IN (0, 1)), \
                 (SELECT r.id FROM resources r WHERE r.tenant_id = ? AND r.rtype = 2 AND r.scim_id = v.value AND v.k IN (0, 2))) \
                 FROM unnest(?::text[], ?::bigint[]) WITH ORDINALITY AS v(value, k, i) ORDER BY v.i";
            let found = db
                .query(resolve, &[&tenant.0, &tenant.0, &List(&values), &List(&kinds)], |r| r.get::<Option<i64>>(0))
                .await?;
            let mut ids = Vec::with_capacity(found.len());
            for (m, rowid) in members.iter().zip(found) {
                let Some(rowid) = rowid else { return Err(no_member(m)) };
                if rowid == group {
                    return Err(invalid(SELF_MEMBER));
                }
                ids.push(rowid);
            }
            let ins = "INSERT INTO members (group_id, member_id, tenant_id, origins) \
                       SELECT ?, m, ?, ? FROM unnest(?::bigint[]) AS m ON CONFLICT (group_id, member_id) \
                       DO UPDATE SET origins = members.origins | excluded.origins";
            match db.execute(ins, &[&group, &tenant.0, &origin, &List(&ids)]).await {
                Ok(_) => Ok(()),
                Err(e) if foreign_key(&e).is_some() => {
                    Err(invalid("a member was deleted while it was being added; nothing was changed"))
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// Changes a group's members with the writer's origin bit; whether its members changed:
/// an add counts as a change, a removal only when it dropped a membership (not when it
/// cleared the bit of one another origin keeps). The deletions' own counts say so, so a
/// large group's members are never read for it.
pub(crate) async fn apply_member_ops(
    db: &impl Db,
    tenant: TenantId,
    group: i64,
    ops: &[MemberOp],
    origin: i64,
) -> StoreResult<bool> {
    let mut changed = false;
    for op in ops {
        let dropped = match op {
            MemberOp::Add(values) => {
                add_members(db, tenant, group, values, origin).await?;
                changed = true;
                0
            }
            MemberOp::RemoveAll => clear_origin(db, "group_id = ?", origin, &[&group]).await?,
            MemberOp::Remove(ids) => match db.dialect() {
                Dialect::Sqlite => {
                    let mut dropped = 0;
                    for id in ids {
                        if let Some((rowid, _)) = find_any(db, tenant, id, None).await? {
                            dropped +=
                                clear_origin(db, "group_id = ? AND member_id = ?", origin, &[&group, &rowid]).await?;
                        }
                    }
                    dropped
                }
                Dialect::Postgres => {
                    let cond = "group_id = ? AND member_id IN (SELECT r.id FROM resources r \
                                WHERE r.tenant_id = ? AND r.rtype IN (1, 2) AND r.scim_id = ANY(?::text[]))";
                    clear_origin(db, cond, origin, &[&group, &tenant.0, &List(ids)]).await?
                }
            },
            MemberOp::RemoveWhere(filter) => {
                let sql = members_of_group_where(db.dialect(), tenant.0, group, filter).map_err(StoreError::Scim)?;
                let cond = format!("group_id = ? AND member_id IN ({})", sql.text);
                let mut bound = params(&sql.params);
                bound.insert(0, &group);
                clear_origin(db, &cond, origin, &bound).await?
            }
        };
        changed |= dropped > 0;
    }
    Ok(changed)
}

/// Changes a user's memberships (`User.groups` set on the user, when a profile allows it):
/// `ops` name groups. Each group whose membership of the user differs afterwards gets a
/// new version, in rowid order (a group's representation includes its members; on
/// PostgreSQL, rows are locked in that order); they are returned.
pub(crate) async fn apply_group_ops(
    db: &impl Db,
    tenant: TenantId,
    user: i64,
    ops: &[MemberOp],
    origin: i64,
    now: &str,
) -> StoreResult<Vec<i64>> {
    let groups_of = async || -> StoreResult<BTreeSet<i64>> {
        let mut groups = BTreeSet::new();
        db.query("SELECT group_id FROM members WHERE member_id = ?", &[&user], |r| {
            groups.insert(r.get::<i64>(0)?);
            Ok(())
        })
        .await?;
        Ok(groups)
    };
    let before = groups_of().await?;
    for op in ops {
        match op {
            MemberOp::Add(values) => add_groups(db, tenant, user, values, origin).await?,
            MemberOp::RemoveAll => {
                clear_origin(db, "member_id = ?", origin, &[&user]).await?;
            }
            MemberOp::Remove(ids) => match db.dialect() {
                Dialect::Sqlite => {
                    for id in ids {
                        if let Some((group, _)) = find_any(db, tenant, id, Some(ResourceKind::Group)).await? {
                            clear_origin(db, "group_id = ? AND member_id = ?", origin, &[&group, &user]).await?;
                        }
                    }
                }
                Dialect::Postgres => {
                    let cond = "member_id = ? AND group_id IN (SELECT r.id FROM resources r \
                                WHERE r.tenant_id = ? AND r.rtype = 2 AND r.scim_id = ANY(?::text[]))";
                    clear_origin(db, cond, origin, &[&user, &tenant.0, &List(ids)]).await?;
                }
            },
            MemberOp::RemoveWhere(filter) => {
                let sql = groups_of_user_where(db.dialect(), tenant.0, user, filter).map_err(StoreError::Scim)?;
                let cond = format!("member_id = ? AND group_id IN ({})", sql.text);
                let mut bound = params(&sql.params);
                bound.insert(0, &user);
                clear_origin(db, &cond, origin, &bound).await?;
            }
        }
    }
    let after = groups_of().await?;
    let changed: Vec<i64> = before.symmetric_difference(&after).copied().collect::<BTreeSet<_>>().into_iter().collect();
    for group in &changed {
        db.execute("UPDATE resources SET version = version + 1, last_modified = ? WHERE id = ?", &[&now, group])
            .await?;
    }
    Ok(changed)
}

/// Adds a user to groups, which must exist.
async fn add_groups(db: &impl Db, tenant: TenantId, user: i64, values: &[MemberValue], origin: i64) -> StoreResult<()> {
    match db.dialect() {
        Dialect::Sqlite => {
            for v in values {
                let Some((group, _)) = find_any(db, tenant, &v.value, Some(ResourceKind::Group)).await? else {
                    return Err(invalid(no_group(&v.value)));
                };
                db.execute(UPSERT, &[&group, &user, &tenant.0, &origin]).await?;
            }
            Ok(())
        }
        Dialect::Postgres => {
            let names: Vec<&str> = values.iter().map(|v| v.value.as_str()).collect();
            let resolve = "SELECT v.value, r.id FROM unnest(?::text[]) WITH ORDINALITY AS v(value, i) \
                           LEFT JOIN resources r ON r.tenant_id = ? AND r.rtype = 2 AND r.scim_id = v.value ORDER BY v.i";
            let found = db.query(resolve, &[&List(&names), &tenant.0], |r| r.get::<Option<i64>>(1)).await?;
            let mut groups = Vec::with_capacity(found.len());
            for (v, group) in values.iter().zip(found) {
                let Some(group) = group else { return Err(invalid(no_group(&v.value))) };
                groups.push(group);
            }
            let ins = "INSERT INTO members (group_id, member_id, tenant_id, origins) SELECT g, ?, ?, ? \
                       FROM unnest(?::bigint[]) AS g ON CONFLICT (group_id, member_id) \
                       DO UPDATE SET origins = members.origins | excluded.origins";
            match db.execute(ins, &[&user, &tenant.0, &origin, &List(&groups)]).await {
                Ok(_) => Ok(()),
                Err(e) if foreign_key(&e).is_some() => {
                    Err(invalid("a group was deleted while the user was being added to it; nothing was changed"))
                }
                Err(e) => Err(e),
            }
        }
    }
}
