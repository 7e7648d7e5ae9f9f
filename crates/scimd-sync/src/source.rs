//! Sources of users: a CSV file (header row; columns mapped to SCIM attributes) or JSON
//! Lines of SCIM-shaped users, behind the [`Source`] trait. This module owns reading them
//! into [`SourceUser`]s — the managed fields of each user — and the field paths.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::SyncError;

/// One attribute the source manages, as a path into a SCIM user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// A top-level attribute: `userName`, `active`, `externalId`, `title`.
    Attr(String),
    /// A sub-attribute of a single complex attribute: `name.givenName`.
    Sub(String, String),
    /// A sub-attribute of the element of a multi-valued attribute with a given type:
    /// `emails[type eq "work"].value`.
    Typed { attr: String, ty: String, sub: String },
    /// An attribute of an extension: `urn:…:User:employeeNumber`.
    Ext { urn: String, attr: String },
}

impl Field {
    /// Parses `userName`, `name.givenName`, `emails[type eq "work"].value` or
    /// `urn:…:User:employeeNumber`.
    pub fn parse(s: &str) -> Result<Field, String> {
        let s = s.trim();
        if s.starts_with("urn:") {
            let (urn, attr) = s.rsplit_once(':').ok_or_else(|| format!("'{s}' names no attribute of its schema"))?;
            return Ok(Field::Ext { urn: urn.to_string(), attr: attr.to_string() });
        }
        if let Some((attr, rest)) = s.split_once('[') {
            let (filter, sub) =
                rest.split_once("].").ok_or_else(|| format!("'{s}': expected attr[type eq \"x\"].sub"))?;
            let ty = filter
                .trim()
                .strip_prefix("type")
                .map(str::trim_start)
                .and_then(|f| f.strip_prefix("eq"))
                .map(|f| f.trim().trim_matches('"'))
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    format!("'{s}': only a filter on the type is supported, as in emails[type eq \"work\"].value")
                })?;
            return Ok(Field::Typed { attr: attr.to_string(), ty: ty.to_string(), sub: sub.to_string() });
        }
        let ok =
            |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-');
        match s.split_once('.') {
            Some((a, b)) if ok(a) && ok(b) => Ok(Field::Sub(a.to_string(), b.to_string())),
            None if ok(s) => Ok(Field::Attr(s.to_string())),
            _ => Err(format!("'{s}' is not an attribute path")),
        }
    }

    /// The field as a SCIM PATCH path.
    pub fn path(&self) -> String {
        match self {
            Field::Attr(a) => a.clone(),
            Field::Sub(a, s) => format!("{a}.{s}"),
            Field::Typed { attr, ty, sub } => format!("{attr}[type eq \"{ty}\"].{sub}"),
            Field::Ext { urn, attr } => format!("{urn}:{attr}"),
        }
    }

    /// Sets the field in a SCIM body (creating what holds it); `None` removes it.
    pub fn set(&self, body: &mut Map<String, Value>, v: Option<&Value>) {
        match self {
            Field::Attr(a) => match v {
                Some(v) => {
                    body.insert(a.clone(), v.clone());
                }
                None => {
                    body.remove(a);
                }
            },
            Field::Sub(a, s) | Field::Ext { urn: a, attr: s } => {
                let e = body.entry(a.clone()).or_insert_with(|| json!({}));
                if let Value::Object(o) = e {
                    match v {
                        Some(v) => o.insert(s.clone(), v.clone()),
                        None => o.remove(s),
                    };
                }
                if body.get(a).and_then(Value::as_object).is_some_and(Map::is_empty) {
                    body.remove(a);
                }
            }
            Field::Typed { attr, ty, sub } => {
                let e = body.entry(attr.clone()).or_insert_with(|| json!([]));
                if !e.is_array() {
                    *e = json!([]);
                }
                let arr = e.as_array_mut().expect("made an array");
                let pos = arr.iter().position(|el| {
                    get_ci(el, "type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(ty))
                });
                match (pos, v) {
                    (Some(i), Some(v)) => {
                        if let Value::Object(o) = &mut arr[i] {
                            o.insert(sub.clone(), v.clone());
                        }
                    }
                    (None, Some(v)) => arr.push(json!({"type": ty, sub.as_str(): v})),
                    (Some(i), None) if sub == "value" => {
                        arr.remove(i);
                    }
                    (Some(i), None) => {
                        if let Value::Object(o) = &mut arr[i] {
                            o.remove(sub);
                        }
                    }
                    (None, None) => {}
                }
                if body.get(attr).and_then(Value::as_array).is_some_and(Vec::is_empty) {
                    body.remove(attr);
                }
            }
        }
    }

    /// The field's value in a SCIM user (attribute names compared case-insensitively).
    pub fn get<'v>(&self, user: &'v Value) -> Option<&'v Value> {
        let v = match self {
            Field::Attr(a) => get_ci(user, a),
            Field::Sub(a, s) => get_ci(get_ci(user, a)?, s),
            Field::Typed { attr, ty, sub } => {
                let el = get_ci(user, attr)?
                    .as_array()?
                    .iter()
                    .find(|e| get_ci(e, "type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(ty)))?;
                get_ci(el, sub)
            }
            Field::Ext { urn, attr } => get_ci(get_ci(user, urn)?, attr),
        };
        v.filter(|v| !v.is_null() && *v != &Value::String(String::new()))
    }
}

pub(crate) fn get_ci<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let m = v.as_object()?;
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// A user as the source has it: the value of every field it manages (`None`: the source
/// says the attribute is absent).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceUser {
    /// Where it came from (line number), for messages.
    pub line: usize,
    pub fields: BTreeMap<Field, Option<Value>>,
}

impl SourceUser {
    pub fn get(&self, f: &Field) -> Option<&Value> {
        self.fields.get(f).and_then(Option::as_ref)
    }
}

/// A source of users.
pub trait Source {
    /// Every user of the source, and the fields the source manages (those a user without
    /// a value for them must not have at the target).
    fn read(&self) -> Result<(Vec<SourceUser>, Vec<Field>), SyncError>;
}

/// The CSV columns when no mapping is given.
pub const DEFAULT_COLUMNS: &[(&str, &str)] = &[
    ("userName", "userName"),
    ("givenName", "name.givenName"),
    ("familyName", "name.familyName"),
    ("email", "emails[type eq \"work\"].value"),
    ("active", "active"),
    ("externalId", "externalId"),
];

/// A CSV file with a header row; each mapped column is one field. Columns that are not
/// mapped are ignored; a mapped column missing from the header is an error.
pub struct CsvSource {
    pub path: std::path::PathBuf,
    /// (column, field) pairs.
    pub columns: Vec<(String, Field)>,
}

impl CsvSource {
    /// With the default columns, or a mapping file: `{"columns": {"Column": "scim.path", …}}`.
    pub fn new(path: &Path, mapping: Option<&Path>) -> Result<CsvSource, SyncError> {
        let columns = match mapping {
            None => DEFAULT_COLUMNS
                .iter()
                .map(|(c, f)| Ok((c.to_string(), Field::parse(f).map_err(SyncError::Source)?)))
                .collect::<Result<Vec<_>, SyncError>>()?,
            Some(m) => {
                let text = std::fs::read_to_string(m)
                    .map_err(|e| SyncError::Source(format!("cannot read the mapping {}: {e}", m.display())))?;
                let v: Value = serde_json::from_str(&text)
                    .map_err(|e| SyncError::Source(format!("the mapping {} is not JSON: {e}", m.display())))?;
                let Some(cols) = v.get("columns").and_then(Value::as_object) else {
                    return Err(SyncError::Source(format!(
                        "the mapping {} needs {{\"columns\": {{\"Column\": \"scim.path\", …}}}}",
                        m.display()
                    )));
                };
                let mut out = Vec::new();
                for (col, path) in cols {
                    let p = path
                        .as_str()
                        .ok_or_else(|| SyncError::Source(format!("column '{col}': the path must be a string")))?;
                    out.push((
                        col.clone(),
                        Field::parse(p).map_err(|e| SyncError::Source(format!("column '{col}': {e}")))?,
                    ));
                }
                out
            }
        };
        Ok(CsvSource { path: path.to_path_buf(), columns })
    }
}

/// A CSV cell as a field's value: `active` as a boolean, everything else a string.
fn cell_value(field: &Field, cell: &str, line: usize) -> Result<Option<Value>, SyncError> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    if matches!(field, Field::Attr(a) if a.eq_ignore_ascii_case("active")) {
        return match cell.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" => Ok(Some(Value::Bool(true))),
            "false" | "0" | "no" | "n" => Ok(Some(Value::Bool(false))),
            _ => Err(SyncError::Source(format!("line {line}: active must be true or false, not '{cell}'"))),
        };
    }
    Ok(Some(Value::String(cell.to_string())))
}

impl Source for CsvSource {
    fn read(&self) -> Result<(Vec<SourceUser>, Vec<Field>), SyncError> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::Headers)
            .flexible(false)
            .from_path(&self.path)
            .map_err(|e| SyncError::Source(format!("cannot read {}: {e}", self.path.display())))?;
        let headers = rdr.headers().map_err(|e| SyncError::Source(format!("{}: {e}", self.path.display())))?.clone();
        let mut idx = Vec::new();
        for (col, field) in &self.columns {
            let i = headers.iter().position(|h| h == col).ok_or_else(|| {
                SyncError::Source(format!("{}: no column '{col}' in the header row", self.path.display()))
            })?;
            idx.push((i, field.clone()));
        }
        let mut users = Vec::new();
        for (n, rec) in rdr.records().enumerate() {
            let line = n + 2;
            let rec = rec.map_err(|e| SyncError::Source(format!("{}: {e}", self.path.display())))?;
            let mut fields = BTreeMap::new();
            for (i, field) in &idx {
                fields.insert(field.clone(), cell_value(field, rec.get(*i).unwrap_or(""), line)?);
            }
            users.push(SourceUser { line, fields });
        }
        Ok((users, self.columns.iter().map(|(_, f)| f.clone()).collect()))
    }
}

/// JSON Lines: one SCIM-shaped user per line. Every field any user has is managed.
pub struct JsonlSource {
    pub path: std::path::PathBuf,
}

/// The fields of a SCIM-shaped user: simple attributes, sub-attributes of complex ones,
/// typed elements of multi-valued ones, extension attributes.
fn flatten(user: &Map<String, Value>, out: &mut BTreeMap<Field, Option<Value>>) {
    for (k, v) in user {
        if matches!(k.as_str(), "schemas" | "id" | "meta" | "groups" | "password") {
            continue;
        }
        match v {
            Value::Object(o) if k.starts_with("urn:") => {
                for (a, x) in o {
                    out.insert(
                        Field::Ext { urn: k.clone(), attr: a.clone() },
                        Some(x.clone()).filter(|x| !x.is_null()),
                    );
                }
            }
            Value::Object(o) => {
                for (s, x) in o {
                    out.insert(Field::Sub(k.clone(), s.clone()), Some(x.clone()).filter(|x| !x.is_null()));
                }
            }
            Value::Array(a)
                if !a.is_empty() && a.iter().all(|e| get_ci(e, "type").and_then(Value::as_str).is_some()) =>
            {
                for e in a {
                    let ty = get_ci(e, "type").and_then(Value::as_str).unwrap_or_default();
                    for (s, x) in e.as_object().into_iter().flatten() {
                        if s.eq_ignore_ascii_case("type") || s.eq_ignore_ascii_case("primary") {
                            continue;
                        }
                        let f = Field::Typed { attr: k.clone(), ty: ty.to_string(), sub: s.clone() };
                        out.insert(f, Some(x.clone()).filter(|x| !x.is_null()));
                    }
                }
            }
            other => {
                out.insert(Field::Attr(k.clone()), Some(other.clone()).filter(|x| !x.is_null()));
            }
        }
    }
}

impl Source for JsonlSource {
    fn read(&self) -> Result<(Vec<SourceUser>, Vec<Field>), SyncError> {
        let text = std::fs::read_to_string(&self.path)
            .map_err(|e| SyncError::Source(format!("cannot read {}: {e}", self.path.display())))?;
        let mut users = Vec::new();
        let mut managed = std::collections::BTreeSet::new();
        for (n, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(l)
                .map_err(|e| SyncError::Source(format!("{} line {}: {e}", self.path.display(), n + 1)))?;
            let Value::Object(o) = v else {
                return Err(SyncError::Source(format!("{} line {}: not a JSON object", self.path.display(), n + 1)));
            };
            let mut fields = BTreeMap::new();
            flatten(&o, &mut fields);
            managed.extend(fields.keys().cloned());
            users.push(SourceUser { line: n + 1, fields });
        }
        // A field one user has and another lacks: the other must not have it.
        for u in &mut users {
            for f in &managed {
                u.fields.entry(f.clone()).or_insert(None);
            }
        }
        Ok((users, managed.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_parse_print_and_read() {
        for p in ["userName", "name.givenName", "emails[type eq \"work\"].value", "urn:x:y:User:employeeNumber"] {
            assert_eq!(Field::parse(p).unwrap().path(), p);
        }
        assert!(Field::parse("emails[value sw \"a\"].value").is_err());
        let u = json!({"Name": {"givenName": "A"}, "emails": [{"type": "Work", "value": "a@x"}], "title": ""});
        assert_eq!(Field::parse("name.givenName").unwrap().get(&u), Some(&json!("A")));
        assert_eq!(Field::parse("emails[type eq \"work\"].value").unwrap().get(&u), Some(&json!("a@x")));
        assert_eq!(Field::parse("title").unwrap().get(&u), None, "empty is absent");
    }

    #[test]
    fn csv_and_jsonl_sources() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("u.csv");
        std::fs::write(&csv, "userName,givenName,familyName,email,active,externalId,extra\nada,Ada,,ada@x,yes,e1,z\n")
            .unwrap();
        let (users, managed) = CsvSource::new(&csv, None).unwrap().read().unwrap();
        assert_eq!(managed.len(), 6);
        assert_eq!(users[0].get(&Field::Attr("active".into())), Some(&json!(true)));
        assert_eq!(users[0].fields[&Field::Sub("name".into(), "familyName".into())], None);
        let bad = dir.path().join("b.csv");
        std::fs::write(&bad, "userName,active\nbob,maybe\n").unwrap();
        let mapping = dir.path().join("m.json");
        std::fs::write(&mapping, r#"{"columns": {"userName": "userName", "active": "active"}}"#).unwrap();
        assert!(CsvSource::new(&bad, Some(&mapping)).unwrap().read().unwrap_err().to_string().contains("line 2"));
        let jl = dir.path().join("u.jsonl");
        std::fs::write(&jl, "{\"userName\": \"ada\", \"name\": {\"givenName\": \"Ada\"}}\n{\"userName\": \"bob\", \"title\": \"Boss\"}\n").unwrap();
        let (users, managed) = JsonlSource { path: jl }.read().unwrap();
        assert_eq!(managed.len(), 3);
        assert_eq!(users[0].fields[&Field::Attr("title".into())], None);
    }
}
