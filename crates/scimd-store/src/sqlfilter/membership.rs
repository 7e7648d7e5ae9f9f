//! The SQL of membership filters in PATCH paths: the members of a group, or the groups of a
//! user, that a `members[...]` or `groups[...]` filter selects.

use scimd_core::filter::{ResolvedAttr, ResolvedFilter, Target};
use scimd_core::schema::{AttrType, ResourceKind};

use super::{Compiler, Dialect, R, Sql, SqlValue};

/// `SELECT` of the rowids of a group's members that match a `members[...]` filter (a value
/// path, or a filter on the members' sub-attributes), for either database.
pub(crate) fn members_of_group_where(dialect: Dialect, tenant: i64, group: i64, filter: &ResolvedFilter) -> R<Sql> {
    let (parent, inner) = match filter {
        ResolvedFilter::ValuePath(p, inner) => (p.clone(), inner.as_ref()),
        other => (members_attr(), other),
    };
    let mut c = Compiler::new(dialect, tenant, ResourceKind::Group);
    c.push("SELECT e.elem FROM (");
    c.elem_set_of(&ResolvedFilter::ValuePath(parent, Box::new(inner.clone())))?;
    c.push(") AS e WHERE e.res = ");
    c.param(SqlValue::Integer(group));
    Ok(c.sql)
}

/// `SELECT` of the rowids of a user's groups that match a `groups[...]` filter (a value
/// path, or a filter on the groups' sub-attributes), for either database.
pub(crate) fn groups_of_user_where(dialect: Dialect, tenant: i64, user: i64, filter: &ResolvedFilter) -> R<Sql> {
    let (parent, inner) = match filter {
        ResolvedFilter::ValuePath(p, inner) => (p.clone(), inner.as_ref()),
        other => (
            ResolvedAttr { name: "groups".into(), target: Target::Groups, key: "groups".into(), ..members_attr() },
            other,
        ),
    };
    let mut c = Compiler::new(dialect, tenant, ResourceKind::User);
    c.push("SELECT e.elem FROM (");
    c.elem_set_of(&ResolvedFilter::ValuePath(parent, Box::new(inner.clone())))?;
    c.push(") AS e WHERE e.res = ");
    c.param(SqlValue::Integer(user));
    Ok(c.sql)
}

/// The `members` attribute of a group, as a value path's parent.
fn members_attr() -> ResolvedAttr {
    ResolvedAttr {
        ext: None,
        name: "members".into(),
        sub: None,
        ty: AttrType::Complex,
        case_exact: false,
        multi_valued: true,
        target: Target::Members,
        key: "members".into(),
    }
}
