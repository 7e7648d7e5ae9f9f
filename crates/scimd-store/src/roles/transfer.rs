//! Export and import of a deployment's rows (see `transfer`): for each kind carried, the
//! statement reading its rows by natural keys and the statement writing one back, both
//! written once for both databases.
//!
//! Pages are read by position (`(a, b) > (?, ?)` over the natural key, which both
//! databases compare as rows), not by offset, so a page of resources is an index probe
//! however deep it is. Text keys are ordered byte by byte
//! on both databases (PostgreSQL's `"C"` collation, SQLite's default), so an export reads
//! the same rows in the same order from either. Rows numbered by the database (audit
//! events, messages, error log entries, client secrets, go-live submissions) are read in
//! the order of their ids and written in that order, so the target's new ids keep it.
//!
//! Where the dialects differ: SQLite keeps the audit trail in two files (a change's events
//! in the database file, the rest in the journal attached as `audit`; imported events all
//! go to the journal, which both files' readers read alike), and hands out event ids in
//! its writer (the import shell's [`ImportShell::event_id`]); PostgreSQL's identity
//! columns number them. A list of tenant names is a JSON array for SQLite and an array
//! for PostgreSQL.

use std::collections::HashMap;

use scimd_core::schema::ResourceKind;

use super::resources::{self, Shell};
use crate::db::{Db, Dialect, List, Param, Row};
use crate::transfer::{Field, ImportRow, Kind, Selection, TransferPage, Ty};
use crate::{StoreError, StoreResult, TenantId, kind_from_code};

mod kinds;

/// How a kind's rows are read and written.
#[derive(Debug)]
pub(crate) struct KindSql {
    /// The SELECT list: the kind's columns, in order.
    cols: &'static str,
    /// The FROM clause; `{events}`, `{audit}` name the audit tables of the dialect.
    from: &'static str,
    /// Which rows a selection takes.
    scope: Scope,
    /// The position of a row: its natural key, unique within the selection.
    order: &'static [(&'static str, Ty)],
    /// The INSERT, with `?` for the row's fields at `params`.
    insert: &'static str,
    params: &'static [usize],
    /// A statement run for each row once every row is written, with its fields at these
    /// positions.
    links: Option<(&'static str, &'static [usize])>,
    special: Special,
}

/// Kinds written by more than their INSERT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    None,
    /// A resource: its index rows and count too.
    Resource,
    /// An audit event: its id from the target, its payloads in their own table.
    AuditEvent,
}

#[derive(Debug, Clone, Copy)]
enum Scope {
    /// `t.name` is the tenant's name.
    Tenant,
    /// The deployment's own rows: all of them.
    Deployment,
    /// A condition on a list of tenant names (`{in}`), or every row for everything.
    Shared(&'static str),
}

/// What an import needs from its shell beside statements: the attribute-key ids of the
/// resource role, and audit event ids where the writer hands them out.
pub(crate) trait ImportShell: Shell {
    /// The id for an imported audit event, or none where the table's identity gives it.
    fn event_id(&mut self) -> StoreResult<Option<i64>>;
}

/// The kinds carried, in import order.
pub(crate) fn kinds() -> &'static [Kind] {
    &kinds::KINDS
}

/// A statement's text for the dialect: the audit tables named, a list of names bound.
fn dialect_sql(dialect: Dialect, sql: &str) -> String {
    match dialect {
        Dialect::Sqlite => sql
            .replace("{events}", "(SELECT * FROM main.api_events UNION ALL SELECT * FROM audit.api_events)")
            .replace("{audit}", "audit.")
            .replace("{in}", "IN (SELECT value FROM json_each(?))"),
        Dialect::Postgres => {
            sql.replace("{events}", "api_events").replace("{audit}", "").replace("{in}", "= ANY(?::text[])")
        }
    }
}

/// A page of rows of `kind` for `selection`, after the position `after`.
pub(crate) async fn page(
    db: &impl Db,
    kind: &Kind,
    selection: &Selection,
    after: Option<Vec<Field>>,
    limit: usize,
) -> StoreResult<TransferPage> {
    let k = &kind.sql;
    let dialect = db.dialect();
    let collate = |(expr, ty): &(&str, Ty)| match (dialect, ty) {
        (Dialect::Postgres, Ty::Text) => format!("{expr} COLLATE \"C\""),
        _ => expr.to_string(),
    };
    let order: Vec<String> = k.order.iter().map(collate).collect();
    let order = order.join(", ");
    let mut names: Vec<String> = Vec::new();
    let scope = match (k.scope, selection) {
        (Scope::Tenant, Selection::Tenant(name)) => {
            names.push(name.clone());
            "t.name = ?".to_string()
        }
        (Scope::Deployment, Selection::Everything) | (Scope::Shared(_), Selection::Everything) => "1 = 1".to_string(),
        (Scope::Shared(cond), Selection::Tenants(list)) => {
            names = list.clone();
            cond.to_string()
        }
        (Scope::Shared(cond), Selection::Tenant(name)) => {
            names.push(name.clone());
            cond.to_string()
        }
        _ => {
            return Err(StoreError::Internal(format!("the rows of kind {} are not read for {selection:?}", kind.name)));
        }
    };
    let keyed = match &after {
        Some(_) => {
            let qs = vec!["?"; k.order.len()].join(", ");
            format!(" AND ({order}) > ({qs})")
        }
        None => String::new(),
    };
    let cursor: Vec<&str> = k.order.iter().map(|(e, _)| *e).collect();
    let sql = dialect_sql(
        dialect,
        &format!(
            "SELECT {}, {} FROM {} WHERE {scope}{keyed} ORDER BY {order} LIMIT ?",
            k.cols,
            cursor.join(", "),
            k.from
        ),
    );
    let list = List(&names);
    let one = names.first().cloned().unwrap_or_default();
    let limit_p = (limit + 1) as i64;
    let mut params: Vec<&dyn Param> = Vec::new();
    match (k.scope, selection) {
        (Scope::Tenant, _) => params.push(&one),
        (Scope::Shared(_), Selection::Tenants(_) | Selection::Tenant(_)) => params.push(&list),
        _ => {}
    }
    if let Some(after) = &after {
        params.extend(after.iter().map(|f| f as &dyn Param));
    }
    params.push(&limit_p);
    let width = kind.columns.len();
    let mut rows = db
        .query(&sql, &params, |r| {
            let mut fields = Vec::with_capacity(width + k.order.len());
            for (i, (_, ty)) in kind.columns.iter().chain(k.order.iter()).enumerate() {
                fields.push(read(r, i, *ty)?);
            }
            Ok(fields)
        })
        .await?;
    let next = match rows.len() > limit {
        true => {
            rows.truncate(limit);
            rows.last().map(|r| r[width..].to_vec())
        }
        false => None,
    };
    for r in &mut rows {
        r.truncate(width);
    }
    Ok(TransferPage { rows, next })
}

fn read(r: &impl Row, i: usize, ty: Ty) -> StoreResult<Field> {
    Ok(match ty {
        Ty::Int => r.get::<Option<i64>>(i)?.map_or(Field::Null, Field::Int),
        Ty::Real => r.get::<Option<f64>>(i)?.map_or(Field::Null, Field::Real),
        Ty::Text => r.get::<Option<String>>(i)?.map_or(Field::Null, Field::Text),
        Ty::Bytes => r.get::<Option<Vec<u8>>>(i)?.map_or(Field::Null, Field::Bytes),
        Ty::Bool => r.get::<Option<bool>>(i)?.map_or(Field::Null, Field::Bool),
    })
}

fn text(f: &Field) -> Option<&str> {
    match f {
        Field::Text(s) => Some(s),
        _ => None,
    }
}

/// Writes rows of `kind` (in the caller's unit: one transaction).
pub(crate) async fn import(
    db: &impl Db,
    shell: &mut impl ImportShell,
    kind: &Kind,
    rows: &[ImportRow],
) -> StoreResult<()> {
    let k = &kind.sql;
    let dialect = db.dialect();
    let mut tenants: HashMap<String, TenantId> = HashMap::new();
    // Resources counted per tenant and kind, once for the batch: (tenant, kind, a row id, n).
    let mut counts: Vec<(TenantId, ResourceKind, i64, i64)> = Vec::new();
    for row in rows.iter() {
        if row.fields.len() != kind.columns.len() {
            return Err(StoreError::Internal(format!("a {} row of {} fields", kind.name, row.fields.len())));
        }
        let params: Vec<&dyn Param> = k.params.iter().map(|i| &row.fields[*i] as &dyn Param).collect();
        match k.special {
            Special::None => {
                db.execute(&dialect_sql(dialect, k.insert), &params).await.map_err(|e| naming(kind, e))?;
            }
            Special::Resource => {
                let rowid: i64 = db
                    .query_opt(&dialect_sql(dialect, k.insert), &params, |r| r.get(0))
                    .await
                    .map_err(|e| naming(kind, e))?
                    .ok_or_else(|| StoreError::Internal("an insert returned no row".into()))?;
                let name = text(&row.fields[0]).unwrap_or_default();
                let tenant = match tenants.get(name) {
                    Some(t) => *t,
                    None => {
                        let t = db
                            .query_opt("SELECT id FROM tenants WHERE name = ?", &[&name], |r| r.get(0))
                            .await?
                            .map(TenantId)
                            .ok_or_else(|| StoreError::Internal(format!("no tenant {name}")))?;
                        tenants.insert(name.to_string(), t);
                        t
                    }
                };
                let rk: ResourceKind = match &row.fields[1] {
                    Field::Int(code) => kind_from_code(*code),
                    _ => return Err(StoreError::Internal("a resource without its type".into())),
                };
                resources::write_index(db, shell, tenant, rk, rowid, &row.index.iter().collect::<Vec<_>>()).await?;
                match counts.iter_mut().find(|(t, k, _, _)| *t == tenant && *k == rk) {
                    Some(c) => c.3 += 1,
                    None => counts.push((tenant, rk, rowid, 1)),
                }
            }
            Special::AuditEvent => {
                let id = shell.event_id()?;
                let (cols, marks, returning) = match id {
                    Some(_) => (", id", ", ?", ""),
                    None => ("", "", " RETURNING id"),
                };
                let sql = dialect_sql(dialect, k.insert)
                    .replace("{id}", cols)
                    .replace("{idp}", marks)
                    .replace("{returning}", returning);
                let details = !matches!(row.fields[14], Field::Null);
                let f = &row.fields;
                let mut params = params;
                match id {
                    Some(id) => {
                        params.push(&id);
                        db.execute(&sql, &params).await?;
                        if details {
                            let sql = "INSERT INTO audit.api_event_details (event, tenant_id, time, request_headers, \
                                       request_body, response_headers, response_body) VALUES (?, coalesce((SELECT id \
                                       FROM tenants WHERE name = ?), 0), ?, ?, ?, ?, ?)";
                            db.execute(sql, &[&id, &f[0], &f[1], &f[14], &f[15], &f[16], &f[17]]).await?;
                        }
                    }
                    // The event and its payloads in one statement (one round trip).
                    None if details => {
                        let sql = format!(
                            "WITH e AS ({sql}, tenant_id, time) INSERT INTO api_event_details (event, tenant_id, time, \
                             request_headers, request_body, response_headers, response_body) \
                             SELECT id, tenant_id, time, ?, ?, ?, ? FROM e"
                        );
                        params.extend([&f[14] as &dyn Param, &f[15], &f[16], &f[17]]);
                        db.execute(&sql, &params).await?;
                    }
                    None => {
                        db.execute(&sql, &params).await?;
                    }
                }
            }
        }
    }
    for (tenant, kind, rowid, n) in counts {
        resources::bump_count(db, tenant, kind, rowid, n).await?;
    }
    Ok(())
}

/// Runs the statement written once every row is there, for each row of `kind`.
pub(crate) async fn links(db: &impl Db, kind: &Kind, rows: &[Vec<Field>]) -> StoreResult<()> {
    let Some((sql, at)) = kind.sql.links else { return Ok(()) };
    for row in rows {
        if at.iter().any(|i| row.get(*i).is_none_or(|f| matches!(f, Field::Null))) {
            continue;
        }
        let params: Vec<&dyn Param> = at.iter().map(|i| &row[*i] as &dyn Param).collect();
        db.execute(sql, &params).await?;
    }
    Ok(())
}

/// A failed write of a row, naming its kind (a name taken on the target, say).
fn naming(kind: &Kind, e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(what) => {
            StoreError::Conflict(format!("{what} (a {} row exists on the target)", kind.name))
        }
        e => e,
    }
}

impl rusqlite::ToSql for Field {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Field::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Field::Int(i) => ToSqlOutput::from(*i),
            Field::Real(f) => ToSqlOutput::from(*f),
            Field::Text(s) => ToSqlOutput::from(s.as_str()),
            Field::Bytes(b) => ToSqlOutput::from(b.as_slice()),
            Field::Bool(b) => ToSqlOutput::from(*b),
        })
    }
}

impl tokio_postgres::types::ToSql for Field {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Field::Null => Ok(tokio_postgres::types::IsNull::Yes),
            Field::Int(i) => i.to_sql(ty, out),
            Field::Real(f) => f.to_sql(ty, out),
            Field::Text(s) => s.to_sql(ty, out),
            Field::Bytes(b) => b.to_sql(ty, out),
            Field::Bool(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}
