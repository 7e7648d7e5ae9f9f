//! Lowers a resolved SCIM filter into SQL over the attribute index (`attr_index`),
//! the resource table and the membership table. Never pastes client text into SQL:
//! every literal is a bound parameter, every path comes from the schema.
//!
//! Shape: a filter becomes a *set* query (`SELECT res …`, index-driven) when it can
//! drive the search, and a *predicate* (`EXISTS …` correlated on a resource id) when
//! it only narrows one. `and` picks its most selective operand as the driver and
//! checks the rest as predicates; `or` is a `UNION`; `not` scans the tenant's
//! resources of the kind. Value paths (`emails[type eq "work" and value co "x"]`)
//! work on `(res, elem)` pairs so that all conditions hold for the same element.
//! The semantics are those of `scimd_core::filter::matches`; a property test checks it.
//!
//! The SQL is the same for SQLite and PostgreSQL but for a few functions ([`Dialect`]);
//! parameters are always written `?` (PostgreSQL's store numbers them, [`numbered`]).

use scimd_core::ScimError;
use scimd_core::filter::{CompValue, CompareOp, ResolvedAttr, ResolvedFilter, Target, fold_case};
use scimd_core::list::{SortOrder, SourceScope};
use scimd_core::schema::{AttrType, ResourceKind};

mod membership;
mod user_name;

pub(crate) use membership::{groups_of_user_where, members_of_group_where};

/// A bound parameter, whatever the database.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Integer(i64),
    Real(f64),
    Text(String),
}

/// SQL text with its positional parameters (`?`).
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<SqlValue>,
}

/// Which database the SQL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

pub(crate) struct Compiler {
    pub sql: Sql,
    dialect: Dialect,
    tenant: i64,
    kind: ResourceKind,
    alias: usize,
    /// The caller's provisioning source: `externalId` comparisons match its resources only.
    scope: Option<SourceScope>,
}

type R<T> = Result<T, ScimError>;

fn unsupported(what: &str) -> ScimError {
    ScimError::invalid_filter(format!("filtering on '{what}' is not supported"))
}

impl Compiler {
    pub fn new(dialect: Dialect, tenant: i64, kind: ResourceKind) -> Self {
        Compiler { sql: Sql::default(), dialect, tenant, kind, alias: 0, scope: None }
    }

    /// Scopes `externalId` comparisons to a provisioning source (RFC 7643 §3.1).
    pub fn scoped(mut self, scope: Option<&SourceScope>) -> Self {
        self.scope = scope.cloned();
        self
    }

    /// ` AND <resource res is the source's>` after a condition on `externalId`: the
    /// source's own, and for the default source those of none as well.
    fn source_scope(&mut self, attr: &ResolvedAttr, res: &str) {
        let Some(s) = self.scope.clone().filter(|_| attr.key == "externalid") else { return };
        let a = self.fresh("s");
        self.push(&format!(" AND EXISTS (SELECT 1 FROM resources {a} WHERE {a}.id = {res} AND ({a}.source = "));
        self.param(SqlValue::Text(s.name));
        self.push(&if s.default { format!(" OR {a}.source IS NULL))") } else { "))".to_string() });
    }

    fn push(&mut self, s: &str) {
        self.sql.text.push_str(s);
    }

    fn param(&mut self, v: SqlValue) {
        self.sql.text.push('?');
        self.sql.params.push(v);
    }

    fn fresh(&mut self, base: &str) -> String {
        self.alias += 1;
        format!("{base}{}", self.alias)
    }

    fn tenant_rtype(&mut self, alias: &str) {
        let t = self.tenant;
        let k = crate::kind_code(self.kind);
        self.push(&format!("{alias}.tenant_id = "));
        self.param(SqlValue::Integer(t));
        self.push(&format!(" AND {alias}.rtype = "));
        self.param(SqlValue::Integer(k));
    }

    /// `{alias}.key = <the id of the attribute key (tenant, kind, path)>`: attribute-index
    /// rows are keyed by an interned (tenant, kind, path), so this one condition scopes
    /// the probe to the tenant and kind. A key nobody has written yet matches nothing.
    fn key_eq(&mut self, alias: &str, path: &str) {
        let (t, k) = (self.tenant, crate::kind_code(self.kind));
        self.push(&format!("{alias}.key = (SELECT id FROM attr_keys WHERE tenant_id = "));
        self.param(SqlValue::Integer(t));
        self.push(" AND rtype = ");
        self.param(SqlValue::Integer(k));
        self.push(" AND path = ");
        self.param(SqlValue::Text(path.to_string()));
        self.push(")");
    }

    fn tenant_only(&mut self, alias: &str) {
        let t = self.tenant;
        self.push(&format!("{alias}.tenant_id = "));
        self.param(SqlValue::Integer(t));
    }

    /// A condition on `col` for `op value`.
    fn cond(&mut self, col: &str, op: CompareOp, v: &CompValue) -> R<()> {
        let lit = match v {
            CompValue::Str(s) => SqlValue::Text(s.clone()),
            CompValue::Num(n) => SqlValue::Real(*n),
            CompValue::Bool(b) => SqlValue::Real(if *b { 1.0 } else { 0.0 }),
            CompValue::Null => return Err(ScimError::invalid_filter("null is only valid with eq and ne")),
        };
        let text = match v {
            CompValue::Str(s) => Some(s.as_str()),
            _ => None,
        };
        match op {
            CompareOp::Eq | CompareOp::Ne => {
                self.push(&format!("{col} {} ", if op == CompareOp::Eq { "=" } else { "<>" }));
                self.param(lit);
            }
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                let sym = match op {
                    CompareOp::Gt => ">",
                    CompareOp::Ge => ">=",
                    CompareOp::Lt => "<",
                    _ => "<=",
                };
                self.push(&format!("{col} {sym} "));
                self.param(lit);
            }
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                let Some(s) = text else {
                    return Err(ScimError::invalid_filter(format!("'{}' needs a string", op.as_str())));
                };
                if s.is_empty() {
                    self.push(&format!("{col} IS NOT NULL"));
                    return Ok(());
                }
                let len = s.chars().count() as i64;
                match op {
                    CompareOp::Co if self.dialect == Dialect::Postgres => {
                        // LIKE, so that the trigram index can serve it.
                        self.push(&format!("{col} LIKE "));
                        self.param(SqlValue::Text(format!("%{}%", like_escaped(s))));
                    }
                    CompareOp::Co => {
                        self.push(&format!("instr({col}, "));
                        self.param(SqlValue::Text(s.to_string()));
                        self.push(") > 0");
                    }
                    CompareOp::Sw => {
                        self.push(&format!("({col} >= "));
                        self.param(SqlValue::Text(s.to_string()));
                        if let Some(up) = prefix_upper_bound(s) {
                            self.push(&format!(" AND {col} < "));
                            self.param(SqlValue::Text(up));
                        }
                        // (A computed length, not client text: written inline.)
                        self.push(&format!(" AND substr({col}, 1, {len}) = "));
                        self.param(SqlValue::Text(s.to_string()));
                        self.push(")");
                    }
                    _ if self.dialect == Dialect::Postgres => {
                        self.push(&format!("{col} LIKE "));
                        self.param(SqlValue::Text(format!("%{}", like_escaped(s))));
                    }
                    _ => {
                        self.push(&format!("substr({col}, -{len}) = "));
                        self.param(SqlValue::Text(s.to_string()));
                    }
                }
            }
        }
        Ok(())
    }

    /// The value column of an indexed attribute.
    fn index_col(attr: &ResolvedAttr) -> &'static str {
        match attr.ty {
            AttrType::Boolean | AttrType::Integer | AttrType::Decimal => "n",
            _ => "s",
        }
    }

    /// Column expression of a `members`/`groups` sub-attribute on the joined resource `alias`.
    fn related_col(&self, attr: &ResolvedAttr, alias: &str) -> R<Option<String>> {
        let sub = attr.sub.as_deref().unwrap_or("value");
        Ok(Some(match sub.to_ascii_lowercase().as_str() {
            "value" => format!("{alias}.scim_id"),
            "display" => {
                if attr.case_exact {
                    format!("{alias}.display")
                } else {
                    format!("{alias}.display_fold")
                }
            }
            "type" => {
                if attr.target == Target::Groups {
                    "'direct'".to_string()
                } else if attr.case_exact {
                    format!("(CASE {alias}.rtype WHEN 2 THEN 'Group' ELSE 'User' END)")
                } else {
                    format!("(CASE {alias}.rtype WHEN 2 THEN 'group' ELSE 'user' END)")
                }
            }
            other => return Err(unsupported(&format!("{}.{other}", attr.name))),
        }))
    }

    /// Column of the resources table for Id/Meta targets (None: constant target).
    fn resource_col(&self, attr: &ResolvedAttr, alias: &str) -> R<Option<String>> {
        Ok(match attr.target {
            Target::Id => Some(format!("{alias}.scim_id")),
            Target::MetaCreated => Some(format!("{alias}.created")),
            Target::MetaLastModified => Some(format!("{alias}.last_modified")),
            Target::MetaVersion => {
                if attr.case_exact {
                    Some(format!("('W/\"' || {alias}.version || '\"')"))
                } else {
                    Some(format!("('w/\"' || {alias}.version || '\"')"))
                }
            }
            Target::MetaResourceType | Target::Meta => None,
            Target::MetaLocation => return Err(unsupported("meta.location")),
            _ => unreachable!("not a resource column"),
        })
    }

    /// For `meta.resourceType`: evaluates the comparison now, as the evaluator would.
    fn constant_truth(&self, attr: &ResolvedAttr, op: CompareOp, v: &CompValue) -> bool {
        let name = self.kind.name();
        let actual = if attr.case_exact { name.to_string() } else { fold_case(name) };
        let CompValue::Str(lit) = v else { return false };
        match op {
            CompareOp::Eq => actual == *lit,
            CompareOp::Ne => actual != *lit,
            CompareOp::Co => actual.contains(lit.as_str()),
            CompareOp::Sw => actual.starts_with(lit.as_str()),
            CompareOp::Ew => actual.ends_with(lit.as_str()),
            CompareOp::Gt => actual.as_str() > lit.as_str(),
            CompareOp::Ge => actual.as_str() >= lit.as_str(),
            CompareOp::Lt => actual.as_str() < lit.as_str(),
            CompareOp::Le => actual.as_str() <= lit.as_str(),
        }
    }

    // ---------------------------------------------------------------- sets of res

    /// Appends a `SELECT res …` of the resources (of this tenant and kind, or a superset
    /// restricted later by the caller) that satisfy `f`.
    pub fn set(&mut self, f: &ResolvedFilter) -> R<()> {
        match f {
            ResolvedFilter::And(..) => {
                let mut parts = Vec::new();
                flatten_and(f, &mut parts);
                let (i, _) = parts.iter().enumerate().min_by_key(|(_, p)| score(p)).expect("and has operands");
                let driver = parts.remove(i);
                let a = self.fresh("d");
                self.push("SELECT res FROM (");
                self.set(driver)?;
                self.push(&format!(") AS {a} WHERE "));
                let res = format!("{a}.res");
                for (n, p) in parts.iter().enumerate() {
                    if n > 0 {
                        self.push(" AND ");
                    }
                    self.pred(p, &res)?;
                }
                Ok(())
            }
            ResolvedFilter::Or(a, b) => {
                let (x, y) = (self.fresh("o"), self.fresh("o"));
                self.push("SELECT res FROM (");
                self.set(a)?;
                self.push(&format!(") AS {x} UNION SELECT res FROM ("));
                self.set(b)?;
                self.push(&format!(") AS {y}"));
                Ok(())
            }
            ResolvedFilter::Not(inner) => {
                let a = self.fresh("n");
                self.push(&format!("SELECT {a}.id AS res FROM resources {a} WHERE "));
                self.tenant_rtype(&a);
                self.push(" AND NOT (");
                self.pred(inner, &format!("{a}.id"))?;
                self.push(")");
                Ok(())
            }
            ResolvedFilter::Present(attr) => self.leaf_set(attr, None),
            ResolvedFilter::Compare(attr, op, v) => self.leaf_set(attr, Some((*op, v))),
            ResolvedFilter::ValuePath(parent, inner) => {
                let a = self.fresh("v");
                self.push("SELECT res FROM (");
                self.elem_set(parent, inner)?;
                self.push(&format!(") AS {a}"));
                Ok(())
            }
        }
    }

    fn leaf_set(&mut self, attr: &ResolvedAttr, cmp: Option<(CompareOp, &CompValue)>) -> R<()> {
        match attr.target {
            Target::Indexed => {
                let x = self.fresh("x");
                self.push(&format!("SELECT {x}.res AS res FROM attr_index {x} WHERE "));
                self.key_eq(&x, &attr.key);
                if let Some((op, v)) = cmp {
                    self.push(" AND ");
                    self.cond(&format!("{x}.{}", Self::index_col(attr)), op, v)?;
                }
                self.source_scope(attr, &format!("{x}.res"));
                Ok(())
            }
            Target::Members | Target::Groups => {
                let (m, o) = (self.fresh("m"), self.fresh("u"));
                let (res_col, other_col) =
                    if attr.target == Target::Members { ("group_id", "member_id") } else { ("member_id", "group_id") };
                self.push(&format!(
                    "SELECT {m}.{res_col} AS res FROM members {m} JOIN resources {o} ON {o}.id = {m}.{other_col} WHERE "
                ));
                self.tenant_only(&m);
                self.related_cond(attr, &o, cmp)?;
                Ok(())
            }
            _ => {
                let a = self.fresh("r");
                self.push(&format!("SELECT {a}.id AS res FROM resources {a} WHERE "));
                self.tenant_rtype(&a);
                self.resource_cond(attr, &a, cmp)
            }
        }
    }

    /// ` AND <condition>` on a joined member/group resource; nothing for plain presence.
    fn related_cond(&mut self, attr: &ResolvedAttr, o: &str, cmp: Option<(CompareOp, &CompValue)>) -> R<()> {
        if attr.sub.is_none() && cmp.is_none() {
            return Ok(());
        }
        let col = self.related_col(attr, o)?.expect("related columns exist");
        match cmp {
            Some((op, v)) => {
                self.push(" AND ");
                self.cond(&col, op, v)
            }
            None => {
                self.push(&format!(" AND {col} IS NOT NULL AND {col} <> ''"));
                Ok(())
            }
        }
    }

    /// ` AND <condition>` on a resources row for Id/Meta targets.
    fn resource_cond(&mut self, attr: &ResolvedAttr, a: &str, cmp: Option<(CompareOp, &CompValue)>) -> R<()> {
        let Some((op, v)) = cmp else {
            // id, meta and its set sub-attributes are always present.
            self.resource_col(attr, a)?;
            return Ok(());
        };
        match self.resource_col(attr, a)? {
            Some(col) => {
                self.push(" AND ");
                self.cond(&col, op, v)
            }
            None => {
                let t = self.constant_truth(attr, op, v);
                self.push(if t { " AND TRUE" } else { " AND FALSE" });
                Ok(())
            }
        }
    }

    // ---------------------------------------------------------------- predicates on res

    /// Appends a boolean expression: resource `res` satisfies `f`.
    pub fn pred(&mut self, f: &ResolvedFilter, res: &str) -> R<()> {
        match f {
            ResolvedFilter::And(a, b) | ResolvedFilter::Or(a, b) => {
                let op = if matches!(f, ResolvedFilter::And(..)) { " AND " } else { " OR " };
                self.push("(");
                self.pred(a, res)?;
                self.push(op);
                self.pred(b, res)?;
                self.push(")");
                Ok(())
            }
            ResolvedFilter::Not(a) => {
                self.push("NOT (");
                self.pred(a, res)?;
                self.push(")");
                Ok(())
            }
            ResolvedFilter::Present(attr) => self.leaf_pred(attr, None, res),
            ResolvedFilter::Compare(attr, op, v) => self.leaf_pred(attr, Some((*op, v)), res),
            ResolvedFilter::ValuePath(parent, inner) => {
                let mk = self.fresh("mk");
                match parent.target {
                    Target::Indexed => {
                        self.push(&format!("EXISTS (SELECT 1 FROM attr_index {mk} WHERE {mk}.res = {res} AND "));
                        self.key_eq(&mk, &parent.key);
                        self.push(" AND ");
                        self.elem_pred(parent, inner, &format!("{mk}.res"), &format!("{mk}.elem"))?;
                    }
                    Target::Members => {
                        self.push(&format!("EXISTS (SELECT 1 FROM members {mk} WHERE {mk}.group_id = {res} AND "));
                        self.elem_pred(parent, inner, &format!("{mk}.group_id"), &format!("{mk}.member_id"))?;
                    }
                    Target::Groups => {
                        self.push(&format!("EXISTS (SELECT 1 FROM members {mk} WHERE {mk}.member_id = {res} AND "));
                        self.elem_pred(parent, inner, &format!("{mk}.member_id"), &format!("{mk}.group_id"))?;
                    }
                    _ => return Err(unsupported(&parent.name)),
                }
                self.push(")");
                Ok(())
            }
        }
    }

    fn leaf_pred(&mut self, attr: &ResolvedAttr, cmp: Option<(CompareOp, &CompValue)>, res: &str) -> R<()> {
        match attr.target {
            Target::Indexed => {
                let x = self.fresh("x");
                self.push(&format!("EXISTS (SELECT 1 FROM attr_index {x} WHERE {x}.res = {res} AND "));
                self.key_eq(&x, &attr.key);
                if let Some((op, v)) = cmp {
                    self.push(" AND ");
                    self.cond(&format!("{x}.{}", Self::index_col(attr)), op, v)?;
                }
                self.source_scope(attr, &format!("{x}.res"));
                self.push(")");
            }
            Target::Members | Target::Groups => {
                let (m, o) = (self.fresh("m"), self.fresh("u"));
                let (res_col, other_col) =
                    if attr.target == Target::Members { ("group_id", "member_id") } else { ("member_id", "group_id") };
                self.push(&format!(
                    "EXISTS (SELECT 1 FROM members {m} JOIN resources {o} ON {o}.id = {m}.{other_col} WHERE {m}.{res_col} = {res}"
                ));
                self.related_cond(attr, &o, cmp)?;
                self.push(")");
            }
            _ => {
                let a = self.fresh("r");
                self.push(&format!("EXISTS (SELECT 1 FROM resources {a} WHERE {a}.id = {res}"));
                self.resource_cond(attr, &a, cmp)?;
                self.push(")");
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- elements of a value path

    /// Appends `SELECT res, elem …` for a `ValuePath` filter: the matching elements.
    pub fn elem_set_of(&mut self, vp: &ResolvedFilter) -> R<()> {
        match vp {
            ResolvedFilter::ValuePath(parent, inner) => self.elem_set(parent, inner),
            _ => Err(ScimError::invalid_filter("expected a value path")),
        }
    }

    /// Appends `SELECT res, elem …`: the elements of `parent` satisfying `f`.
    fn elem_set(&mut self, parent: &ResolvedAttr, f: &ResolvedFilter) -> R<()> {
        match f {
            ResolvedFilter::And(..) => {
                let mut parts = Vec::new();
                flatten_and(f, &mut parts);
                let (i, _) = parts.iter().enumerate().min_by_key(|(_, p)| score(p)).expect("and has operands");
                let driver = parts.remove(i);
                let a = self.fresh("d");
                self.push("SELECT res, elem FROM (");
                self.elem_set(parent, driver)?;
                self.push(&format!(") AS {a} WHERE "));
                let (res, elem) = (format!("{a}.res"), format!("{a}.elem"));
                for (n, p) in parts.iter().enumerate() {
                    if n > 0 {
                        self.push(" AND ");
                    }
                    self.elem_pred(parent, p, &res, &elem)?;
                }
                Ok(())
            }
            ResolvedFilter::Or(a, b) => {
                let (x, y) = (self.fresh("o"), self.fresh("o"));
                self.push("SELECT res, elem FROM (");
                self.elem_set(parent, a)?;
                self.push(&format!(") AS {x} UNION SELECT res, elem FROM ("));
                self.elem_set(parent, b)?;
                self.push(&format!(") AS {y}"));
                Ok(())
            }
            ResolvedFilter::Not(inner) => {
                let mk = self.fresh("mk");
                let (res, elem) = self.elements_from(parent, &mk)?;
                self.push(" AND NOT (");
                self.elem_pred(parent, inner, &res, &elem)?;
                self.push(")");
                Ok(())
            }
            ResolvedFilter::Present(attr) => self.elem_leaf_set(parent, attr, None),
            ResolvedFilter::Compare(attr, op, v) => self.elem_leaf_set(parent, attr, Some((*op, v))),
            ResolvedFilter::ValuePath(..) => Err(ScimError::invalid_filter("value paths cannot be nested")),
        }
    }

    /// `SELECT <res>, <elem> FROM <all elements of parent> WHERE <tenant scope>`; returns the
    /// column expressions for res and elem.
    fn elements_from(&mut self, parent: &ResolvedAttr, mk: &str) -> R<(String, String)> {
        match parent.target {
            Target::Indexed => {
                self.push(&format!("SELECT {mk}.res AS res, {mk}.elem AS elem FROM attr_index {mk} WHERE "));
                self.key_eq(mk, &parent.key);
                Ok((format!("{mk}.res"), format!("{mk}.elem")))
            }
            Target::Members => {
                self.push(&format!("SELECT {mk}.group_id AS res, {mk}.member_id AS elem FROM members {mk} WHERE "));
                self.tenant_only(mk);
                Ok((format!("{mk}.group_id"), format!("{mk}.member_id")))
            }
            Target::Groups => {
                self.push(&format!("SELECT {mk}.member_id AS res, {mk}.group_id AS elem FROM members {mk} WHERE "));
                self.tenant_only(mk);
                Ok((format!("{mk}.member_id"), format!("{mk}.group_id")))
            }
            _ => Err(unsupported(&parent.name)),
        }
    }

    fn elem_leaf_set(
        &mut self,
        parent: &ResolvedAttr,
        attr: &ResolvedAttr,
        cmp: Option<(CompareOp, &CompValue)>,
    ) -> R<()> {
        match parent.target {
            Target::Indexed => {
                let x = self.fresh("x");
                self.push(&format!("SELECT {x}.res AS res, {x}.elem AS elem FROM attr_index {x} WHERE "));
                self.key_eq(&x, &attr.key);
                if let Some((op, v)) = cmp {
                    self.push(" AND ");
                    self.cond(&format!("{x}.{}", Self::index_col(attr)), op, v)?;
                }
                Ok(())
            }
            Target::Members | Target::Groups => {
                let (m, o) = (self.fresh("m"), self.fresh("u"));
                let (res_col, other_col) = if parent.target == Target::Members {
                    ("group_id", "member_id")
                } else {
                    ("member_id", "group_id")
                };
                self.push(&format!(
                    "SELECT {m}.{res_col} AS res, {m}.{other_col} AS elem FROM members {m} JOIN resources {o} ON {o}.id = {m}.{other_col} WHERE "
                ));
                self.tenant_only(&m);
                self.related_cond(attr, &o, cmp)
            }
            _ => Err(unsupported(&parent.name)),
        }
    }

    /// Appends a boolean expression: element `elem` of resource `res` satisfies `f`.
    fn elem_pred(&mut self, parent: &ResolvedAttr, f: &ResolvedFilter, res: &str, elem: &str) -> R<()> {
        match f {
            ResolvedFilter::And(a, b) | ResolvedFilter::Or(a, b) => {
                let op = if matches!(f, ResolvedFilter::And(..)) { " AND " } else { " OR " };
                self.push("(");
                self.elem_pred(parent, a, res, elem)?;
                self.push(op);
                self.elem_pred(parent, b, res, elem)?;
                self.push(")");
                Ok(())
            }
            ResolvedFilter::Not(a) => {
                self.push("NOT (");
                self.elem_pred(parent, a, res, elem)?;
                self.push(")");
                Ok(())
            }
            ResolvedFilter::Present(attr) => self.elem_leaf_pred(parent, attr, None, res, elem),
            ResolvedFilter::Compare(attr, op, v) => self.elem_leaf_pred(parent, attr, Some((*op, v)), res, elem),
            ResolvedFilter::ValuePath(..) => Err(ScimError::invalid_filter("value paths cannot be nested")),
        }
    }

    fn elem_leaf_pred(
        &mut self,
        parent: &ResolvedAttr,
        attr: &ResolvedAttr,
        cmp: Option<(CompareOp, &CompValue)>,
        res: &str,
        elem: &str,
    ) -> R<()> {
        match parent.target {
            Target::Indexed => {
                let x = self.fresh("x");
                self.push(&format!(
                    "EXISTS (SELECT 1 FROM attr_index {x} WHERE {x}.res = {res} AND {x}.elem = {elem} AND "
                ));
                self.key_eq(&x, &attr.key);
                if let Some((op, v)) = cmp {
                    self.push(" AND ");
                    self.cond(&format!("{x}.{}", Self::index_col(attr)), op, v)?;
                }
                self.push(")");
                Ok(())
            }
            Target::Members | Target::Groups => {
                let o = self.fresh("u");
                self.push(&format!("EXISTS (SELECT 1 FROM resources {o} WHERE {o}.id = {elem}"));
                self.related_cond(attr, &o, cmp)?;
                self.push(")");
                Ok(())
            }
            _ => Err(unsupported(&parent.name)),
        }
    }

    // ---------------------------------------------------------------- sorting

    /// The ORDER BY clause (without the keyword) for a sort, on resource alias `r`.
    pub fn order_by(&mut self, sort: Option<&(ResolvedAttr, SortOrder)>) -> R<()> {
        let Some((attr, order)) = sort else {
            self.push("r.id");
            return Ok(());
        };
        let dir = match order {
            SortOrder::Ascending => "ASC NULLS LAST",
            SortOrder::Descending => "DESC NULLS FIRST",
        };
        match attr.target {
            Target::Indexed if self.kind == ResourceKind::User && attr.key == "username" => {
                self.push(&format!("r.unique_key {dir}, r.id"));
            }
            Target::Indexed => {
                let x = self.fresh("x");
                let col = Self::index_col(attr);
                self.push(&format!("(SELECT {x}.{col} FROM attr_index {x} WHERE {x}.res = r.id AND "));
                self.key_eq(&x, &attr.key);
                self.push(&format!(" ORDER BY {x}.elem LIMIT 1) {dir}, r.id"));
            }
            Target::Id => self.push(&format!("r.scim_id {dir}, r.id")),
            Target::MetaCreated => self.push(&format!("r.created {dir}, r.id")),
            Target::MetaLastModified => self.push(&format!("r.last_modified {dir}, r.id")),
            Target::MetaVersion => self.push(&format!("r.version {dir}, r.id")),
            _ => self.push("r.id"),
        }
        Ok(())
    }
}

fn flatten_and<'a>(f: &'a ResolvedFilter, out: &mut Vec<&'a ResolvedFilter>) {
    match f {
        ResolvedFilter::And(a, b) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        other => out.push(other),
    }
}

/// Estimated selectivity (lower = fewer rows = better driver).
fn score(f: &ResolvedFilter) -> u8 {
    match f {
        ResolvedFilter::Compare(a, op, _) => {
            if a.target == Target::MetaResourceType {
                return 9;
            }
            match op {
                CompareOp::Eq => 1,
                CompareOp::Sw => 2,
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => 3,
                _ => 4,
            }
        }
        ResolvedFilter::Present(a) => match a.target {
            Target::Indexed | Target::Members | Target::Groups => 5,
            _ => 9,
        },
        ResolvedFilter::ValuePath(_, inner) => score(inner),
        ResolvedFilter::And(a, b) => score(a).min(score(b)),
        ResolvedFilter::Or(a, b) => score(a).max(score(b)),
        ResolvedFilter::Not(_) => 9,
    }
}

/// `s` for a PostgreSQL LIKE pattern (default escape character `\\`).
fn like_escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `sql` with its `?` parameters numbered `$1`, `$2`, … (PostgreSQL). The compiler never
/// writes a `?` inside a quoted literal; quoted text is skipped all the same.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let (mut n, mut quoted) = (0, false);
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// The smallest string greater than every string starting with `prefix`, if any.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        let mut next = c as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(n) = char::from_u32(next) {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests;
