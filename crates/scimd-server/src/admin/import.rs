//! Importing a tenant's existing users, shared by `scimd user import` and the admin API
//! (`POST /admin/v1/tenants/{name}/users`): a product moving to scimd keeps its users and
//! their ids, so that its identity provider's references still hold.
//!
//! An import is the operator's work, not a SCIM request: the operations the tenant's
//! profile offers do not apply (a profile that refuses POST still gets its users), but its
//! schemas and user rules do, exactly as for a POST. All or nothing: every row is checked
//! first, each refused one is reported with its line and the reason, and only a file
//! without a refused row is written, in one transaction. An id the tenant has already is
//! refused, not updated: once the identity provider manages a user, an older export must
//! not undo its changes (a user is corrected as the product corrects it, by PATCH).
//!
//! CSV columns are SCIM attribute paths (`name.givenName`, `emails[type eq "work"].value`,
//! `urn:…:User:employeeNumber`, the paths of `scimd sync`'s sources) or the short names its
//! CSV source knows (`userName`, `givenName`, `familyName`, `email`, `active`, `externalId`),
//! and `id` and `password`; JSON Lines are SCIM users, one a line, with their `id`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use scimd_core::list::ListParams;
use scimd_core::resource::{self, MemberValue};
use scimd_core::schema::{AttrType, ResourceKind};
use scimd_core::user_name;
use scimd_store::{ChangeEvent, NewEvent, NewResource, StoreError, Tenant};
use scimd_sync::source::{DEFAULT_COLUMNS, Field};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Admin, AdminError, AdminResult};
use crate::service::Tenancy;

/// The most users one import takes: it is written in one transaction, during which the
/// database takes no other write (SQLite's writer, or these rows' locks): split larger
/// files.
pub const MAX_ROWS: usize = 50_000;

/// Refused rows listed in a report (the rest are counted).
const MAX_REPORTED: usize = 100;

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    Csv,
    Jsonl,
}

impl ImportFormat {
    /// `csv`, or `jsonl` (also `ndjson`, `json`).
    pub fn parse(name: &str) -> Option<ImportFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(ImportFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(ImportFormat::Jsonl),
            _ => None,
        }
    }
}

/// Where an import was asked for, for the audit events of the users it creates.
pub enum ImportOrigin<'a> {
    /// An admin API request: the users' events carry its request id, method and path.
    Request(&'a crate::audit::AuditSlot),
    /// The command line, on the database directly.
    CommandLine,
}

/// One refused row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file (a CSV row's first line; the header is line 1).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub reason: String,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Serialize)]
pub struct UserImport {
    pub tenant: String,
    pub format: ImportFormat,
    /// Users in the file.
    pub rows: usize,
    /// Users created: all the rows, or none when a row is refused or when only checking.
    pub imported: usize,
    /// Only checked (`--check`): nothing was written.
    pub checked_only: bool,
    /// Refused rows (the first 100).
    pub errors: Vec<RowError>,
    /// Refused rows beyond those listed.
    pub more_errors: usize,
    /// When only checking: the rows an import would create (line, id, userName), for a
    /// preview of the file (`Admin::preview_import`).
    #[serde(skip)]
    pub planned: Vec<PlannedRow>,
}

/// A row an import would create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRow {
    pub line: usize,
    pub id: String,
    pub user_name: String,
}

impl UserImport {
    /// Every refused row, listed or not.
    pub fn refused(&self) -> usize {
        self.errors.len() + self.more_errors
    }
}

/// A row read from the file: its line and the user it describes (with `id`).
struct Row {
    line: usize,
    body: Result<Map<String, Value>, String>,
}

/// A row found valid: what the store writes for it.
struct Valid {
    line: usize,
    id: String,
    doc: Value,
    password: Option<String>,
    members: Vec<MemberValue>,
    derived_gen: i64,
}

/// A CSV column: the id, the password, or an attribute.
enum Column {
    Id,
    Password,
    Attr(Field, AttrType),
}

/// A CSV header cell as a column, checked against the tenant's User schemas.
fn column(header: &str, tenancy: &Tenancy) -> Result<Column, String> {
    let h = header.trim();
    if h.eq_ignore_ascii_case("id") {
        return Ok(Column::Id);
    }
    if h.eq_ignore_ascii_case("password") {
        return Ok(Column::Password);
    }
    let path = DEFAULT_COLUMNS.iter().find(|(c, _)| c.eq_ignore_ascii_case(h)).map_or(h, |(_, p)| *p);
    let field = Field::parse(path).map_err(|e| format!("column '{h}': {e}"))?;
    let reg = &tenancy.registry;
    let kind = ResourceKind::User;
    let def = match &field {
        Field::Attr(a) => reg.find_attr(kind, None, a).map(|(_, d)| d),
        Field::Sub(a, s) | Field::Typed { attr: a, sub: s, .. } => {
            reg.find_attr(kind, None, a).and_then(|(_, d)| d.sub(s))
        }
        Field::Ext { urn, attr } => reg.find_attr(kind, Some(urn), attr).map(|(_, d)| d),
    };
    match def {
        Some(d) if d.ty != AttrType::Complex => Ok(Column::Attr(field, d.ty)),
        Some(_) => Err(format!("column '{h}': '{path}' is complex: name its sub-attributes (as in name.givenName)")),
        None => Err(format!("column '{h}': the tenant's users have no attribute '{path}'")),
    }
}

/// A CSV cell as the attribute's value: booleans and numbers as such, the rest as text.
fn cell(ty: AttrType, text: &str) -> Result<Value, String> {
    match ty {
        AttrType::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" => Ok(Value::Bool(true)),
            "false" | "0" | "no" | "n" => Ok(Value::Bool(false)),
            _ => Err(format!("'{text}' is not true or false")),
        },
        AttrType::Integer => text.parse::<i64>().map(Value::from).map_err(|_| format!("'{text}' is not an integer")),
        AttrType::Decimal => text
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .ok_or_else(|| format!("'{text}' is not a number")),
        _ => Ok(Value::String(text.to_string())),
    }
}

/// The rows of a CSV file (header first); a header that does not fit refuses the file.
fn csv_rows(text: &str, tenancy: &Tenancy) -> Result<Vec<Row>, RowError> {
    let header_err = |reason: String| RowError { line: 1, id: None, reason };
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| header_err(format!("the header row cannot be read: {e}")))?.clone();
    let columns = headers.iter().map(|h| column(h, tenancy)).collect::<Result<Vec<_>, _>>().map_err(header_err)?;
    if !columns.iter().any(|c| matches!(c, Column::Id)) {
        return Err(header_err("no 'id' column: an import keeps the users' ids, so each row needs one".into()));
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let (line, body) = match rec {
            Err(e) => (e.position().map_or(0, |p| p.line() as usize), Err(format!("not a CSV row: {e}"))),
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| p.line() as usize);
                (line, csv_user(&rec, &columns, headers.len()))
            }
        };
        rows.push(Row { line, body });
    }
    Ok(rows)
}

/// A CSV record as a SCIM user (empty cells are absent).
fn csv_user(rec: &csv::StringRecord, columns: &[Column], width: usize) -> Result<Map<String, Value>, String> {
    if rec.len() != width {
        return Err(format!("{} cells where the header has {width}", rec.len()));
    }
    let mut user = Map::new();
    let mut schemas = vec![Value::String(ResourceKind::User.core_urn().to_string())];
    for (col, text) in columns.iter().zip(rec.iter()) {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match col {
            Column::Id => {
                user.insert("id".into(), Value::String(text.to_string()));
            }
            Column::Password => {
                user.insert("password".into(), Value::String(text.to_string()));
            }
            Column::Attr(field, ty) => {
                let v = cell(*ty, text).map_err(|e| format!("{}: {e}", field.path()))?;
                if let Field::Ext { urn, .. } = field
                    && !schemas.iter().any(|s| s == urn)
                {
                    schemas.push(Value::String(urn.clone()));
                }
                field.set(&mut user, Some(&v));
            }
        }
    }
    user.insert("schemas".into(), Value::Array(schemas));
    Ok(user)
}

/// The rows of a JSON Lines file: one SCIM user a line (blank lines skipped).
fn jsonl_rows(text: &str) -> Vec<Row> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| Row {
            line: n + 1,
            body: match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(o)) => Ok(o),
                Ok(_) => Err("not a JSON object (one user a line)".into()),
                Err(e) => Err(format!("not JSON: {e}")),
            },
        })
        .collect()
}

/// A row's user as the store would write it, checked as a POST of it would be.
fn check_row(mut body: Map<String, Value>, tenancy: &Tenancy) -> Result<(String, Valid), (Option<String>, String)> {
    let id = match body.iter().find(|(k, _)| k.eq_ignore_ascii_case("id")).map(|(_, v)| v.clone()) {
        Some(Value::String(s)) => s,
        None | Some(Value::Null) => {
            return Err((None, "no id: an import keeps the users' ids, so each row needs one".into()));
        }
        Some(other) => return Err((None, format!("the id must be a string, not {other}"))),
    };
    body.retain(|k, _| !k.eq_ignore_ascii_case("id") && !k.eq_ignore_ascii_case("meta"));
    let fail = |e: String| (Some(id.clone()), e);
    scimd_core::resource_id::check(&id).map_err(fail)?;
    let body = Value::Object(body);
    let kind = ResourceKind::User;
    let body = tenancy.profile.user_body(kind, &body);
    let mut prepared = resource::prepare(&tenancy.registry, kind, &body).map_err(|e| fail(e.detail))?;
    user_name::settle(&mut prepared.doc, None).map_err(|e| fail(e.detail))?;
    tenancy.profile.check_user(&mut prepared.doc).map_err(|e| fail(e.detail))?;
    let derived_gen = tenancy.places.apply(&mut prepared.doc);
    let key = resource::unique_key(kind, &prepared.doc).unwrap_or_default();
    Ok((
        key,
        Valid {
            line: 0,
            id,
            doc: prepared.doc,
            password: prepared.password,
            members: prepared.members.unwrap_or_default(),
            derived_gen,
        },
    ))
}

impl Admin {
    /// Imports a tenant's users from a file's text (see the module); `check_only` checks
    /// every row and writes nothing. A file with a refused row imports nothing: the report
    /// lists why (the callers answer it as a failure).
    pub async fn import_users(
        &self,
        tenant: &str,
        format: ImportFormat,
        text: &str,
        check_only: bool,
        origin: ImportOrigin<'_>,
    ) -> AdminResult<(Tenant, UserImport)> {
        let t = self.tenant(tenant).await?;
        let service = crate::service::Service::new(self.store.clone(), self.clock.clone(), Default::default());
        let tenancy = service.profile(t.id).await.map_err(|e| AdminError::internal(format!("{e:?}")))?;
        let mut report = UserImport {
            tenant: t.name.clone(),
            format,
            rows: 0,
            imported: 0,
            checked_only: check_only,
            errors: Vec::new(),
            more_errors: 0,
            planned: Vec::new(),
        };
        let rows = match format {
            ImportFormat::Csv => match csv_rows(text, &tenancy) {
                Ok(rows) => rows,
                Err(e) => {
                    report.errors.push(e);
                    return Ok((t, report));
                }
            },
            ImportFormat::Jsonl => jsonl_rows(text),
        };
        report.rows = rows.len();
        if rows.len() > MAX_ROWS {
            return Err(AdminError::invalid(format!(
                "the file holds {} users, more than the {MAX_ROWS} one import takes (it is one transaction): \
                 split it",
                rows.len()
            )));
        }
        let mut refuse = |line: usize, id: Option<String>, reason: String| {
            if report.errors.len() < MAX_REPORTED {
                report.errors.push(RowError { line, id, reason });
            } else {
                report.more_errors += 1;
            }
        };
        let (mut ids, mut names): (HashMap<String, usize>, HashMap<String, usize>) = Default::default();
        let mut valid = Vec::with_capacity(rows.len());
        for row in rows {
            let checked = row.body.map_err(|e| (None, e)).and_then(|body| check_row(body, &tenancy));
            let (key, mut v) = match checked {
                Ok(ok) => ok,
                Err((id, reason)) => {
                    refuse(row.line, id, reason);
                    continue;
                }
            };
            v.line = row.line;
            if let Some(first) = ids.insert(v.id.clone(), row.line) {
                refuse(row.line, Some(v.id), format!("the id is the one of line {first} too"));
                continue;
            }
            if let Some(first) = names.insert(key, row.line) {
                refuse(row.line, Some(v.id), format!("the userName is line {first}'s too (the same name)"));
                continue;
            }
            match self.clash(&t, &v).await? {
                Some(reason) => refuse(row.line, Some(v.id), reason),
                None => valid.push(v),
            }
        }
        if report.refused() > 0 || check_only {
            if check_only {
                report.planned = valid
                    .iter()
                    .map(|v| PlannedRow {
                        line: v.line,
                        id: v.id.clone(),
                        user_name: v.doc.get("userName").and_then(Value::as_str).unwrap_or_default().to_string(),
                    })
                    .collect();
            }
            return Ok((t, report));
        }
        let mut items = Vec::with_capacity(valid.len());
        for v in valid {
            let password_hash = match v.password {
                Some(p) => Some(super::hash(p).await?),
                None => None,
            };
            let new = NewResource {
                state: crate::service::state_of(&tenancy.registry, ResourceKind::User, v.doc),
                password_hash,
                members: v.members,
                derived_gen: v.derived_gen,
                event: Some(self.import_event(&t, &origin)),
                writer: crate::service::operator_writer(&tenancy.profile),
            };
            items.push((v.id, new));
        }
        let n = items.len();
        self.store.create_with_ids(t.id, ResourceKind::User, items, self.now()).await.map_err(|e| match e {
            StoreError::Conflict(what) => AdminError::conflict(format!(
                "nothing was imported: {what} was taken meanwhile (after the file was checked); run the import again"
            )),
            StoreError::Scim(e) => {
                AdminError { status: e.status, message: format!("nothing was imported: {}", e.detail) }
            }
            e => AdminError::internal(e),
        })?;
        report.imported = n;
        Ok((t, report))
    }

    /// What importing the file would do, with nothing written: the users it would create,
    /// or the rows it refuses with their lines (an import is all or nothing, so one
    /// refused row means nothing would be created): the portal's preview; `--check` is the
    /// same dry run.
    pub async fn preview_import(
        &self,
        tenant: &str,
        format: ImportFormat,
        text: &str,
    ) -> AdminResult<(Tenant, UserImport)> {
        self.import_users(tenant, format, text, true, ImportOrigin::CommandLine).await
    }

    /// Why a valid row cannot be created next to the tenant's resources: its id taken by a
    /// user or a group, its userName by a user, a group it names missing.
    async fn clash(&self, t: &Tenant, v: &Valid) -> AdminResult<Option<String>> {
        for kind in [ResourceKind::User, ResourceKind::Group] {
            if self.store.get(t.id, kind, &v.id, false).await.map_err(AdminError::internal)?.is_some() {
                return Ok(Some(format!(
                    "the tenant has a {} with this id already (imported before?): an import creates users, it does \
                     not update them",
                    kind.name()
                )));
            }
        }
        if let Some(name) = v.doc.get("userName").and_then(Value::as_str) {
            let quoted = serde_json::to_string(name).map_err(AdminError::internal)?;
            let params =
                ListParams { filter: Some(format!("userName eq {quoted}")), count: Some(1), ..ListParams::default() };
            if let Some(u) = self.list_resources(t, ResourceKind::User, params).await?.into_iter().next() {
                return Ok(Some(format!("the userName '{name}' is user {}'s already", u.id)));
            }
        }
        for m in &v.members {
            if self.store.get(t.id, ResourceKind::Group, &m.value, false).await.map_err(AdminError::internal)?.is_none()
            {
                return Ok(Some(format!("group '{}' does not exist", m.value)));
            }
        }
        Ok(None)
    }

    /// The audit event of one imported user: the operator's, apart from SCIM's operations
    /// (op `import`), so that the go-live summary counts only the customer's provisioning.
    fn import_event(&self, t: &Tenant, origin: &ImportOrigin<'_>) -> ChangeEvent {
        match origin {
            ImportOrigin::Request(slot) => slot.change_event(t.id, 201, None),
            ImportOrigin::CommandLine => ChangeEvent {
                event: NewEvent {
                    tenant: Some(t.id),
                    time: self.now(),
                    request_id: self.cli_request_id(),
                    client: None,
                    method: "CLI".into(),
                    path: "scimd user import".into(),
                    rtype: Some("User".into()),
                    resource_id: None,
                    op: "import".into(),
                    status: 201,
                    scim_type: None,
                    duration_ms: 0.0,
                    deactivated: false,
                    client_request_id: None,
                },
                started: std::time::Instant::now(),
                id: Arc::new(AtomicI64::new(0)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_take_their_attributes_types() {
        assert_eq!(cell(AttrType::Boolean, "Yes"), Ok(Value::Bool(true)));
        assert_eq!(cell(AttrType::Boolean, "0"), Ok(Value::Bool(false)));
        assert!(cell(AttrType::Boolean, "maybe").unwrap_err().contains("true or false"));
        assert_eq!(cell(AttrType::Integer, "42"), Ok(Value::from(42)));
        assert!(cell(AttrType::Integer, "4.2").is_err());
        assert_eq!(cell(AttrType::String, "0042"), Ok(Value::String("0042".into())));
        assert_eq!(ImportFormat::parse("NDJSON"), Some(ImportFormat::Jsonl));
        assert_eq!(ImportFormat::parse("xlsx"), None);
    }

    #[test]
    fn json_lines_keep_their_line_numbers() {
        let rows = jsonl_rows("{\"id\": \"1\"}\n\n[1]\nnot json\n");
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 4]);
        assert!(rows[1].body.as_ref().unwrap_err().contains("not a JSON object"));
        assert!(rows[2].body.as_ref().unwrap_err().contains("not JSON"));
    }
}
