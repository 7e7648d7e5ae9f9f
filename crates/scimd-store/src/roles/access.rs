//! The access event: a change that may move users' effective banks and lockers (a
//! group's members, a user's groups or `active`, an access link, the places tree) watches
//! the users it may affect: their access is read before the change and again after it,
//! in the change's own transaction, and each user whose access moved gets one event
//! carrying the new access.
//!
//! Only for a tenant that records events (it has a stream) and links groups to places
//! (or is linking one now): other changes pay one primary-key probe.

use std::collections::{BTreeMap, BTreeSet};

use scimd_core::events::{Draft, EventType};
use scimd_core::schema::ResourceKind;
use serde_json::json;

use super::events::{self, Subject};
use crate::db::{Db, Dialect, List, Row as _};
use crate::{StoreResult, TenantId};

/// A user's banks and lockers (keys, sorted).
type Access = (Vec<String>, Vec<String>);

/// Which users a change may affect.
#[derive(Debug, Clone)]
pub(crate) enum Users<'a> {
    /// These users (rowids).
    Rows(Vec<i64>),
    /// The users in these groups, through nesting (rowids), and these resources named by
    /// id (users, or groups whose users count too): members a change adds.
    Groups(Vec<i64>, &'a [String]),
    /// The users of groups linked to this place, the places above it or under it.
    Place(i64),
    /// Every user of a group linked to a place.
    All,
}

/// Users watched through a change, with their access before it.
#[derive(Debug)]
pub(crate) struct Watch {
    users: Vec<i64>,
    before: BTreeMap<i64, Access>,
}

/// A recursive statement's list parameter as rows of one column, in the dialect's words.
fn each(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SELECT value FROM json_each(?)",
        Dialect::Postgres => "SELECT unnest(?::bigint[])",
    }
}

/// Starts watching, when the tenant records events (`recording`, as `events::recording`
/// read it in this change) and links groups to places (`linking`: the change itself links
/// one).
pub(crate) async fn watch(
    db: &impl Db,
    tenant: TenantId,
    recording: Option<bool>,
    users: Users<'_>,
    linking: bool,
) -> StoreResult<Option<Watch>> {
    if recording.is_none() {
        return Ok(None);
    }
    if !linking {
        let sql = "SELECT 1 FROM access_links WHERE tenant_id = ? LIMIT 1";
        if db.query_opt(sql, &[&tenant.0], |_| Ok(())).await?.is_none() {
            return Ok(None);
        }
    }
    let users = resolve(db, tenant, users).await?;
    let before = effective(db, &users).await?;
    Ok(Some(Watch { users, before }))
}

/// Records an access event for each watched user whose access moved.
pub(crate) async fn finish(
    db: &impl Db,
    tenant: TenantId,
    watch: Option<Watch>,
    txn: Option<&str>,
    now: &str,
) -> StoreResult<()> {
    let Some(w) = watch else { return Ok(()) };
    let after = effective(db, &w.users).await?;
    let none = (Vec::new(), Vec::new());
    let moved: Vec<i64> =
        w.users.iter().copied().filter(|u| w.before.get(u).unwrap_or(&none) != after.get(u).unwrap_or(&none)).collect();
    if moved.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT id, scim_id, version, data FROM resources WHERE id IN ({}) AND rtype = 1 ORDER BY id",
        each(db.dialect())
    );
    let rows: Vec<(i64, String, i64, String)> =
        db.query(&sql, &[&List(&moved)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).await?;
    let items = rows
        .into_iter()
        .map(|(rowid, id, version, data)| {
            let (banks, lockers) = after.get(&rowid).unwrap_or(&none);
            let subject = Subject::new(ResourceKind::User, &id, Some(version), events::stored_external_id(&data), None);
            (subject, Draft { event: EventType::Access, payload: json!({"banks": banks, "lockers": lockers}) })
        })
        .collect();
    events::append(db, tenant, items, txn, now).await
}

/// The users (rowids, sorted) a change may affect.
async fn resolve(db: &impl Db, tenant: TenantId, users: Users<'_>) -> StoreResult<Vec<i64>> {
    let groups = match users {
        Users::Rows(rows) => return Ok(rows.into_iter().collect::<BTreeSet<_>>().into_iter().collect()),
        Users::Groups(mut groups, named) => {
            let mut direct = Vec::new();
            if !named.is_empty() {
                let sql = match db.dialect() {
                    Dialect::Sqlite => {
                        "SELECT id, rtype FROM resources WHERE tenant_id = ? AND scim_id IN (SELECT value FROM json_each(?))"
                    }
                    Dialect::Postgres => {
                        "SELECT id, rtype FROM resources WHERE tenant_id = ? AND scim_id = ANY(?::text[])"
                    }
                };
                for (id, rtype) in
                    db.query(sql, &[&tenant.0, &List(named)], |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?))).await?
                {
                    if rtype == 2 { groups.push(id) } else { direct.push(id) }
                }
            }
            let mut all = users_of(db, &groups).await?;
            all.extend(direct);
            return Ok(all.into_iter().collect::<BTreeSet<_>>().into_iter().collect());
        }
        Users::Place(place) => {
            let sql = "WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM places WHERE id = ? \
                         UNION ALL SELECT p.id, p.parent_id FROM places p JOIN up ON p.id = up.parent), \
                       down(id) AS (SELECT id FROM places WHERE id = ? \
                         UNION SELECT c.id FROM places c JOIN down ON c.parent_id = down.id) \
                       SELECT DISTINCT group_id FROM access_links \
                       WHERE place_id IN (SELECT id FROM up UNION SELECT id FROM down)";
            db.query(sql, &[&place, &place], |r| r.get::<i64>(0)).await?
        }
        Users::All => {
            let sql = "SELECT DISTINCT group_id FROM access_links WHERE tenant_id = ?";
            db.query(sql, &[&tenant.0], |r| r.get::<i64>(0)).await?
        }
    };
    Ok(users_of(db, &groups).await?.into_iter().collect())
}

/// The users in groups, through nesting.
async fn users_of(db: &impl Db, groups: &[i64]) -> StoreResult<BTreeSet<i64>> {
    if groups.is_empty() {
        return Ok(BTreeSet::new());
    }
    let sql = format!(
        "WITH RECURSIVE g(id) AS ({} UNION SELECT m.member_id FROM members m JOIN g ON m.group_id = g.id \
           JOIN resources s ON s.id = m.member_id AND s.rtype = 2) \
         SELECT DISTINCT m.member_id FROM members m JOIN g ON m.group_id = g.id \
           JOIN resources r ON r.id = m.member_id AND r.rtype = 1",
        each(db.dialect())
    );
    Ok(db.query(&sql, &[&List(groups)], |r| r.get::<i64>(0)).await?.into_iter().collect())
}

/// The effective access of users (rowids): the banks and lockers under the places linked
/// to their groups (through nesting); none for an inactive user. Users without any are
/// absent.
async fn effective(db: &impl Db, users: &[i64]) -> StoreResult<BTreeMap<i64, Access>> {
    let mut out: BTreeMap<i64, Access> = BTreeMap::new();
    if users.is_empty() {
        return Ok(out);
    }
    let active = match db.dialect() {
        Dialect::Sqlite => "coalesce(json_extract(r.data, '$.active'), 1) <> 0",
        Dialect::Postgres => "(r.data::jsonb ->> 'active') IS DISTINCT FROM 'false'",
    };
    let sql = format!(
        "WITH RECURSIVE u(uid) AS ({}), \
         g(uid, id) AS (SELECT m.member_id, m.group_id FROM members m JOIN u ON m.member_id = u.uid \
           UNION SELECT g.uid, m.group_id FROM members m JOIN g ON m.member_id = g.id), \
         t(uid, id, level, key) AS (SELECT g.uid, p.id, p.level, p.key FROM access_links a \
           JOIN g ON a.group_id = g.id JOIN places p ON p.id = a.place_id \
           UNION SELECT t.uid, c.id, c.level, c.key FROM places c JOIN t ON c.parent_id = t.id) \
         SELECT DISTINCT t.uid, t.level, t.key FROM t JOIN resources r ON r.id = t.uid \
         WHERE t.level IN (3, 4) AND {active}",
        each(db.dialect())
    );
    let rows =
        db.query(&sql, &[&List(users)], |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?))).await?;
    for (user, level, key) in rows {
        let a = out.entry(user).or_default();
        if level == 3 { a.0.push(key) } else { a.1.push(key) }
    }
    for a in out.values_mut() {
        a.0.sort();
        a.1.sort();
    }
    Ok(out)
}
