//! Reading resources: the columns a resource is read from and its row mapping, one
//! resource by id (locked as a write asks, on PostgreSQL), the related resources of one,
//! and a page of a list (its `WHERE`, its page statement, its count).
//!
//! The dialects differ in three visible places: the related-resources subquery (SQLite's
//! `json_group_array` follows the scan's order, PostgreSQL's `json_agg` is told it), the
//! page statement (PostgreSQL selects a page's ids first, see [`page_sql`]) and the
//! tenant's count (one row on SQLite, 16 shards on PostgreSQL). A deep page of an
//! unfiltered list starts where the shell says ([`Skip`]: SQLite's page anchors).

use scimd_core::filter::{CompValue, CompareOp, ResolvedFilter};
use scimd_core::list::ListQuery;
use scimd_core::schema::ResourceKind;

use crate::db::{Db, Dialect, Param, Row};
use crate::sqlfilter::{Compiler, Sql, SqlValue};
use crate::{MemberRow, Page, StoreError, StoreResult, StoredResource, TenantId, kind_code, related_rows};

macro_rules! base_cols {
    () => {
        "r.id, r.scim_id, r.version, r.created, r.last_modified, r.data"
    };
}
// The groups of a user / members of a group `r` as one JSON array of `[id, rtype,
// display]`, in membership-index order (by internal id: creation order), so a resource
// and what it relates to come from one statement.
macro_rules! user_groups_col {
    (Sqlite) => {
        "(SELECT json_group_array(json_array(g.scim_id, g.rtype, g.display)) \
          FROM members m JOIN resources g ON g.id = m.group_id WHERE m.member_id = r.id)"
    };
    (Postgres) => {
        "(SELECT coalesce(json_agg(json_build_array(g.scim_id, g.rtype, g.display) ORDER BY m.group_id), '[]')::text \
          FROM members m JOIN resources g ON g.id = m.group_id WHERE m.member_id = r.id)"
    };
}
macro_rules! group_members_col {
    (Sqlite) => {
        "(SELECT json_group_array(json_array(u.scim_id, u.rtype, u.display)) \
          FROM members m JOIN resources u ON u.id = m.member_id WHERE m.group_id = r.id)"
    };
    (Postgres) => {
        "(SELECT coalesce(json_agg(json_build_array(u.scim_id, u.rtype, u.display) ORDER BY m.member_id), '[]')::text \
          FROM members m JOIN resources u ON u.id = m.member_id WHERE m.group_id = r.id)"
    };
}
/// A resource's columns with its related ones, or the related column alone, per dialect.
macro_rules! per_kind {
    ($dialect:expr, $kind:expr, $pre:expr, $post:expr) => {
        match ($dialect, $kind) {
            (Dialect::Sqlite, ResourceKind::User) => concat!($pre, user_groups_col!(Sqlite), $post),
            // A declared type has no members: the group's subquery finds none.
            (Dialect::Sqlite, ResourceKind::Group | ResourceKind::Custom(_)) => {
                concat!($pre, group_members_col!(Sqlite), $post)
            }
            (Dialect::Postgres, ResourceKind::User) => concat!($pre, user_groups_col!(Postgres), $post),
            (Dialect::Postgres, ResourceKind::Group | ResourceKind::Custom(_)) => {
                concat!($pre, group_members_col!(Postgres), $post)
            }
        }
    };
}

/// The columns [`resource`] reads, with or without the related column.
fn resource_cols(dialect: Dialect, kind: ResourceKind, related: bool) -> &'static str {
    if related { per_kind!(dialect, kind, concat!(base_cols!(), ", "), "") } else { base_cols!() }
}

/// A resource (and its rowid) from the columns of [`resource_cols`].
fn resource(kind: ResourceKind, related: bool, row: &impl Row) -> StoreResult<(i64, StoredResource)> {
    let related = if related { Some(related_rows(row.str(6)?).map_err(internal)?) } else { None };
    Ok((
        row.get(0)?,
        StoredResource {
            kind,
            id: row.get(1)?,
            version: row.get(2)?,
            created: row.get(3)?,
            last_modified: row.get(4)?,
            data: row.get(5)?,
            related,
        },
    ))
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// The row lock a read-modify-write takes on the resource it changes: PostgreSQL's, where
/// replicas race; SQLite's writer is alone and takes none.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    None,
    /// PUT/PATCH: excludes other writers of the row, but not a foreign-key check of a
    /// membership being added elsewhere (which only needs the row to stay), so two groups
    /// added to each other at once do not deadlock.
    Change,
    /// DELETE: excludes those too: a member add racing with the delete waits, then fails.
    Delete,
}

/// One resource by id with its rowid, with its related resources if asked (one
/// statement), locked as asked for the rest of the transaction.
pub(crate) async fn load(
    db: &impl Db,
    tenant: TenantId,
    kind: ResourceKind,
    id: &str,
    related: bool,
    lock: Lock,
) -> StoreResult<Option<(i64, StoredResource)>> {
    macro_rules! by_id {
        () => {
            " FROM resources r WHERE r.tenant_id = ? AND r.rtype = ? AND r.scim_id = ?"
        };
    }
    let sql = match (db.dialect(), related, lock) {
        (Dialect::Postgres, false, Lock::Change) => concat!("SELECT ", base_cols!(), by_id!(), " FOR NO KEY UPDATE"),
        (Dialect::Postgres, false, Lock::Delete) => concat!("SELECT ", base_cols!(), by_id!(), " FOR UPDATE"),
        (_, false, _) => concat!("SELECT ", base_cols!(), by_id!()),
        (dialect, true, _) => per_kind!(dialect, kind, concat!("SELECT ", base_cols!(), ", "), by_id!()),
    };
    db.query_opt(sql, &[&tenant.0, &kind_code(kind), &id], |row| resource(kind, related, row)).await
}

/// The related resources of one resource (after a write), through the same subquery reads use.
pub(crate) async fn load_related(db: &impl Db, kind: ResourceKind, rowid: i64) -> StoreResult<Vec<MemberRow>> {
    let sql = per_kind!(db.dialect(), kind, "SELECT ", " FROM resources r WHERE r.id = ?");
    let rows = db.query_opt(sql, &[&rowid], |r| related_rows(r.str(0)?).map_err(internal)).await?;
    rows.ok_or(StoreError::NotFound)
}

/// Where a deep page of an unfiltered list in the default order starts, as the shell
/// knows it (SQLite's page anchors); asked with the page's offset.
pub(crate) enum Skip {
    /// From the start, skipping the whole offset.
    Offset,
    /// From this rowid on, skipping what is left of the offset.
    From { rowid: i64, offset: u64 },
    /// The offset is past the end: the page is empty.
    PastEnd,
}

/// The value of a list filtered by `userName eq "…"` alone.
fn user_name_eq(kind: ResourceKind, query: &ListQuery) -> Option<&str> {
    match &query.filter {
        Some(ResolvedFilter::Compare(attr, CompareOp::Eq, CompValue::Str(literal)))
            if kind == ResourceKind::User && attr.is_user_name() =>
        {
            Some(literal)
        }
        _ => None,
    }
}

/// Whether a list's statements are always the same text, so PostgreSQL may keep them
/// prepared (one statement per connection, not one per filter): the identity providers'
/// lookup by userName, in the default order. Other filters' texts depend on the filter's
/// shape, which the client chooses: those are sent once, typed ([`Db::query_built`]).
fn kept(query: &ListQuery) -> bool {
    user_name_eq(ResourceKind::User, query).is_some() && query.sort.is_none() && query.after.is_none()
}

/// The `WHERE` of a list: the filter's set (if any), the tenant and kind. With a filter,
/// the filter's index probes drive (`r.id IN (…)`); on SQLite the unary `+` keeps the
/// planner from scanning the tenant's resources through the (tenant_id, rtype) index instead.
pub(crate) fn where_clause(
    dialect: Dialect,
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
) -> StoreResult<Sql> {
    let mut c = Compiler::new(dialect, tenant.0, kind).scoped(query.external_id_scope.as_ref());
    if let Some(literal) = user_name_eq(kind, query) {
        c.user_name_eq("r", literal);
        return Ok(c.sql);
    }
    if let Some(f) = &query.filter {
        c.sql.text.push_str("r.id IN (");
        c.set(f).map_err(StoreError::Scim)?;
        c.sql.text.push_str(match dialect {
            Dialect::Sqlite => ") AND +r.tenant_id = ? AND +r.rtype = ?",
            Dialect::Postgres => ") AND r.tenant_id = ? AND r.rtype = ?",
        });
    } else {
        c.sql.text.push_str("r.tenant_id = ? AND r.rtype = ?");
    }
    c.sql.params.push(SqlValue::Integer(tenant.0));
    c.sql.params.push(SqlValue::Integer(kind_code(kind)));
    Ok(c.sql)
}

/// The statement of a page: its rows from `offset` on (after `from`, a rowid the page
/// starts at, if any). On PostgreSQL its ids first, then their columns: PostgreSQL computes
/// a scan's output columns (the related-resources subquery included) for the rows an
/// OFFSET skips too, so a deep page would build thousands of member lists to throw away.
#[allow(clippy::too_many_arguments)]
pub(crate) fn page_sql(
    dialect: Dialect,
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
    related: bool,
    where_sql: &Sql,
    from: Option<i64>,
    offset: u64,
) -> StoreResult<Sql> {
    let mut q = Compiler::new(dialect, tenant.0, kind);
    let cols = match dialect {
        Dialect::Sqlite => resource_cols(dialect, kind, related),
        Dialect::Postgres => "r.id",
    };
    q.sql.text = format!("SELECT {cols} FROM resources r WHERE {}", where_sql.text);
    q.sql.params = where_sql.params.clone();
    if let Some(rowid) = from {
        q.sql.text.push_str(" AND r.id >= ?");
        q.sql.params.push(SqlValue::Integer(rowid));
    }
    // Cursor pagination: the page after a position of the default (rowid) order, one row
    // more than asked for to know whether another page follows.
    let mut limit = query.count;
    if let Some(after) = query.after {
        q.sql.text.push_str(" AND r.id > ?");
        q.sql.params.push(SqlValue::Integer(after));
        limit = query.count.saturating_add(1);
    }
    q.sql.text.push_str(" ORDER BY ");
    q.order_by(query.sort.as_ref()).map_err(StoreError::Scim)?;
    // Integers we computed, not client text. As literals they keep SQLite from
    // re-preparing the statement whenever a bound LIMIT/OFFSET value changes.
    let (limit, offset) = (limit.min(i64::MAX as u64), offset.min(i64::MAX as u64));
    match dialect {
        Dialect::Sqlite => q.sql.text.push_str(&format!(" LIMIT {limit} OFFSET {offset}")),
        Dialect::Postgres => {
            // A statement kept prepared takes its limits as parameters: one text, one plan.
            let limits = if kept(query) {
                q.sql.params.extend([SqlValue::Integer(limit as i64), SqlValue::Integer(offset as i64)]);
                "LIMIT ? OFFSET ?".to_string()
            } else {
                format!("LIMIT {limit} OFFSET {offset}")
            };
            q.sql.text = format!(
                "SELECT {} FROM unnest(ARRAY({} {limits})) WITH ORDINALITY AS p(id, pos) \
                 JOIN resources r ON r.id = p.id ORDER BY p.pos",
                resource_cols(dialect, kind, related),
                q.sql.text,
            )
        }
    }
    Ok(q.sql)
}

/// The statement counting a list's matches (with a filter).
pub(crate) fn count_sql(where_sql: &Sql) -> String {
    format!("SELECT count(*) FROM resources r WHERE {}", where_sql.text)
}

/// A statement's parameters as the [`Db`] binds them.
pub(crate) fn params(values: &[SqlValue]) -> Vec<&dyn Param> {
    values.iter().map(|v| v as &dyn Param).collect()
}

/// A page of a list: its items, the total of matches, the cursor of the next page.
/// `skip` says where a deep page of an unfiltered list in the default order starts.
pub(crate) async fn list<D: Db>(
    db: &D,
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
    related: bool,
    skip: impl FnOnce(u64) -> StoreResult<Skip>,
) -> StoreResult<Page> {
    let dialect = db.dialect();
    let where_sql = where_clause(dialect, tenant, kind, query)?;
    let count_all = async || -> StoreResult<u64> {
        let n: i64 = if query.filter.is_some() {
            let count = count_sql(&where_sql);
            if kept(query) {
                db.query(&count, &params(&where_sql.params), |r| r.get(0)).await?.pop()
            } else {
                db.query_built(&count, &where_sql.params, |r| r.get(0)).await?.pop()
            }
        } else {
            let sql = match dialect {
                Dialect::Sqlite => "SELECT n FROM resource_counts WHERE tenant_id = ? AND rtype = ?",
                Dialect::Postgres => {
                    "SELECT coalesce(sum(n), 0)::bigint FROM resource_counts WHERE tenant_id = ? AND rtype = ?"
                }
            };
            db.query_opt(sql, &[&tenant.0, &kind_code(kind)], |r| r.get(0)).await?
        }
        .unwrap_or(0);
        Ok(n.max(0) as u64)
    };

    if query.count == 0 {
        return Ok(Page { total: count_all().await?, items: Vec::new(), next: None });
    }
    let mut offset = query.start_index.saturating_sub(1);
    let mut from = None;
    if query.filter.is_none() && query.sort.is_none() && offset > 0 {
        match skip(offset)? {
            Skip::Offset => {}
            Skip::From { rowid, offset: rest } => (from, offset) = (Some(rowid), rest),
            Skip::PastEnd => return Ok(Page { total: count_all().await?, items: Vec::new(), next: None }),
        }
    }
    let q = page_sql(dialect, tenant, kind, query, related, &where_sql, from, offset)?;
    let mut rowids = Vec::new();
    let map = |row: &D::Row<'_>| {
        let (rowid, r) = resource(kind, related, row)?;
        rowids.push(rowid);
        Ok(r)
    };
    let mut items = if kept(query) {
        db.query(&q.text, &params(&q.params), map).await?
    } else {
        db.query_built(&q.text, &q.params, map).await?
    };
    let next = crate::page_end(query, &mut items, &rowids);
    // A first page that is not full holds every match: no need to count them again.
    let first = query.start_index <= 1 && query.after.is_none_or(|a| a == 0);
    let total = if first && (items.len() as u64) < query.count && query.filter.is_some() {
        items.len() as u64
    } else {
        count_all().await?
    };
    Ok(Page { total, items, next })
}
