//! Turning client JSON into the canonical stored document and back.
//!
//! The *document* ("doc") is a JSON object whose keys are the canonical names of the
//! resource type's core attributes plus `externalId`, with extension attributes in an
//! object under the canonical extension URN. It never holds `id`, `meta`, writeOnly
//! attributes (`password`), `User.groups` or `Group.members` (both computed from
//! membership rows), nor `schemas`, except as [`CLIENT_SCHEMA`]: the core schema URN a
//! client wrote the resource with, when that is an alias the tenant's profile accepts.
//! Absent means no key: `null`, `""`, `[]` and `{}` are never stored.
//!
//! This module owns: [`prepare`] (POST/PUT bodies: names, types, case, mutability,
//! required, primary), [`normalize_value`] (the same rules for one PATCH value),
//! [`check_immutable`], [`index_entries`] (what the SQL store indexes for filters — the
//! same values the evaluator in [`crate::filter`] sees), and [`full_resource`] (the
//! output form).

use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::{AttrPath, ResolvedAttr, USER_NAME_KEY, fold_case, index_key, normalize_datetime, parse_attr_path};
use crate::schema::{AttrDef, AttrHome, AttrType, Mutability, Registry, ResourceKind};

/// A group member as a client gave it; `display` and `$ref` are computed, not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberValue {
    pub value: String,
    pub kind: Option<ResourceKind>,
}

/// A POST/PUT body after [`prepare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub doc: Value,
    pub password: Option<String>,
    /// Group members, or a user's groups when they are writable: `None` when the body
    /// had no `members` (`groups`).
    pub members: Option<Vec<MemberValue>>,
}

/// One attribute-index row (see `scimd-store`): `key` as [`index_key`], `elem` the
/// element position, `s`/`n` the comparable value (both `None` for a complex element marker).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    pub key: String,
    pub elem: i64,
    pub s: Option<String>,
    pub n: Option<f64>,
}

/// Formatted `meta` values of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub created: String,
    pub last_modified: String,
    pub location: String,
    pub version: String,
}

/// A member of a group (or a group of a user) as rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub value: String,
    pub display: Option<String>,
    pub kind: ResourceKind,
    pub location: String,
}

fn get_ci<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn type_error(name: &str, expected: &str, got: &Value) -> ScimError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    ScimError::invalid_value(format!("attribute '{name}' must be {expected}, got {got}"))
}

/// Normalizes a single (non-array) value of `def`. `None` = unassigned.
fn normalize_single(def: &AttrDef, v: &Value, name: &str, strict: bool) -> ScimResult<Option<Value>> {
    if v.is_null() {
        return Ok(None);
    }
    if strict
        && let Value::String(s) = v
        && !s.is_empty()
        && matches!(def.ty, AttrType::Boolean | AttrType::Integer | AttrType::Decimal | AttrType::Complex)
    {
        // Strict mode: no booleans or numbers as strings, no plain-string `manager`.
        let expected = match def.ty {
            AttrType::Boolean => "true or false (strict mode takes no strings for booleans)",
            AttrType::Complex => "an object (strict mode takes no plain string for it)",
            _ => "a JSON number (strict mode takes no strings for numbers)",
        };
        return Err(type_error(name, expected, v));
    }
    Ok(match def.ty {
        AttrType::String | AttrType::Reference => match v {
            Value::String(s) if s.is_empty() => None,
            Value::String(_) => Some(v.clone()),
            _ => return Err(type_error(name, "a string", v)),
        },
        AttrType::Boolean => match v {
            Value::Bool(_) => Some(v.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            Value::String(s) if s.is_empty() => None,
            _ => return Err(type_error(name, "true or false", v)),
        },
        AttrType::Integer => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(v.clone()),
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9e15) => {
                Some(Value::from(n.as_f64().unwrap_or_default() as i64))
            }
            Value::String(s) if s.trim().parse::<i64>().is_ok() => {
                Some(Value::from(s.trim().parse::<i64>().unwrap_or(0)))
            }
            Value::String(s) if s.is_empty() => None,
            _ => return Err(type_error(name, "an integer", v)),
        },
        AttrType::Decimal => match v {
            Value::Number(_) => Some(v.clone()),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => serde_json::Number::from_f64(f).map(Value::Number),
                _ if s.is_empty() => None,
                _ => return Err(type_error(name, "a decimal number", v)),
            },
            _ => return Err(type_error(name, "a decimal number", v)),
        },
        AttrType::DateTime => match v {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) if normalize_datetime(s).is_some() => Some(Value::String(s.trim().to_string())),
            Value::String(s) => {
                return Err(ScimError::invalid_value(format!(
                    "attribute '{name}' must be an RFC 3339 date-time such as 2024-05-13T04:42:34Z, got '{s}'"
                )));
            }
            _ => return Err(type_error(name, "a date-time string", v)),
        },
        AttrType::Binary => match v {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => {
                let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                let ok = base64::engine::general_purpose::STANDARD.decode(&compact).is_ok()
                    || base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact).is_ok()
                    || base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&compact).is_ok();
                if !ok {
                    return Err(ScimError::invalid_value(format!("attribute '{name}' must be base64-encoded binary")));
                }
                Some(v.clone())
            }
            _ => return Err(type_error(name, "a base64 string", v)),
        },
        AttrType::Complex => match v {
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, sv) in o {
                    let Some(sd) = def.sub(k) else {
                        return Err(ScimError::invalid_syntax(format!(
                            "attribute '{name}' has no sub-attribute '{k}'"
                        )));
                    };
                    if sd.mutability == Mutability::ReadOnly {
                        continue;
                    }
                    let sub_name = format!("{name}.{}", sd.name);
                    if let Some(x) = normalize_attr(sd, sv, &sub_name, strict)? {
                        out.insert(sd.name.clone(), x);
                    }
                }
                if out.is_empty() {
                    None
                } else {
                    for sd in def.sub_attributes.iter().filter(|s| s.required) {
                        if !out.contains_key(&sd.name) {
                            return Err(ScimError::invalid_value(format!(
                                "attribute '{name}.{}' is required",
                                sd.name
                            )));
                        }
                    }
                    Some(Value::Object(out))
                }
            }
            // Entra ID sends enterprise `manager` as a plain id.
            Value::String(s) if def.sub("value").is_some() => {
                if s.is_empty() {
                    None
                } else {
                    let mut m = Map::new();
                    m.insert("value".into(), v.clone());
                    Some(Value::Object(m))
                }
            }
            _ => return Err(type_error(name, "an object", v)),
        },
    })
}

/// Normalizes a value of `def`, single- or multi-valued. `None` = unassigned.
fn normalize_attr(def: &AttrDef, v: &Value, name: &str, strict: bool) -> ScimResult<Option<Value>> {
    if def.multi_valued {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Null => return Ok(None),
            other => vec![other],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if item.is_array() {
                return Err(type_error(name, "an array of values, not of arrays", item));
            }
            if let Some(x) = normalize_single(def, item, name, strict)? {
                out.push(x);
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        if def.ty == AttrType::Complex
            && out.iter().filter(|e| e.get("primary") == Some(&Value::Bool(true))).count() > 1
        {
            return Err(ScimError::invalid_value(format!("at most one value of '{name}' may be primary")));
        }
        Ok(Some(Value::Array(out)))
    } else {
        if v.is_array() {
            return Err(type_error(name, "a single value", v));
        }
        normalize_single(def, v, name, strict)
    }
}

/// Locates the definitions of a resolved attribute.
fn defs<'r>(reg: &'r Registry, kind: ResourceKind, attr: &ResolvedAttr) -> Option<(&'r AttrDef, Option<&'r AttrDef>)> {
    let (_, top) = reg.find_attr(kind, attr.ext.as_deref(), &attr.name)?;
    match &attr.sub {
        None => Some((top, None)),
        Some(s) => Some((top, Some(top.sub(s)?))),
    }
}

/// Normalizes a value destined to one (sub-)attribute (PATCH). `None` = cleared.
pub fn normalize_value(
    reg: &Registry,
    kind: ResourceKind,
    attr: &ResolvedAttr,
    value: &Value,
) -> ScimResult<Option<Value>> {
    let (top, sub) =
        defs(reg, kind, attr).ok_or_else(|| ScimError::invalid_path(format!("unknown attribute '{}'", attr.name)))?;
    match sub {
        Some(sd) => normalize_attr(sd, value, &format!("{}.{}", attr.name, sd.name), reg.strict),
        None => normalize_attr(top, value, &top.name, reg.strict),
    }
}

/// Where a top-level key of a body points.
enum Slot<'r> {
    Ignore,
    Password,
    Members,
    Attr { ext: Option<&'r str>, top: &'r AttrDef, sub: Option<&'r AttrDef> },
}

fn slot<'r>(reg: &'r Registry, kind: ResourceKind, path: &AttrPath, raw: &str) -> ScimResult<Slot<'r>> {
    let unknown =
        || ScimError::invalid_syntax(format!("unknown attribute '{raw}' for resource type {}", reg.type_name(kind)));
    let (home, top) = reg.find_attr(kind, path.urn.as_deref(), &path.attr).ok_or_else(unknown)?;
    if top.mutability == Mutability::ReadOnly {
        return Ok(Slot::Ignore);
    }
    // The only writeOnly attribute a registry can hold is the core password (profiles may
    // not declare others), whose value is hashed and kept apart from the document.
    if top.mutability == Mutability::WriteOnly {
        return Ok(Slot::Password);
    }
    if is_related(kind, home, top) {
        return Ok(Slot::Members);
    }
    let ext = match home {
        AttrHome::Extension(s) => Some(s.id.as_str()),
        _ => None,
    };
    let sub = match &path.sub {
        None => None,
        Some(s) => {
            if top.ty != AttrType::Complex || top.multi_valued {
                return Err(unknown());
            }
            let sd = top.sub(s).ok_or_else(unknown)?;
            if sd.mutability == Mutability::ReadOnly {
                return Ok(Slot::Ignore);
            }
            Some(sd)
        }
    };
    Ok(Slot::Attr { ext, top, sub })
}

/// The object holding an attribute: the document itself, or its extension object (created).
pub(crate) fn root_for<'d>(doc: &'d mut Map<String, Value>, ext: Option<&str>) -> &'d mut Map<String, Value> {
    match ext {
        None => doc,
        Some(u) => {
            let e = doc.entry(u.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !e.is_object() {
                *e = Value::Object(Map::new());
            }
            e.as_object_mut().expect("just made an object")
        }
    }
}

/// Sets (or, with `None`, clears) sub-attribute `sub` of the single complex attribute `attr`.
pub(crate) fn set_sub(root: &mut Map<String, Value>, attr: &str, sub: &str, value: Option<Value>) {
    let entry = root.entry(attr.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(o) = entry {
        match value {
            Some(x) => {
                o.insert(sub.to_string(), x);
            }
            None => {
                o.remove(sub);
            }
        }
    }
}

/// Whether a top-level attribute is the membership relation of its resource type:
/// `Group.members`, or `User.groups` (only reached when a profile makes it writable).
pub(crate) fn is_related(kind: ResourceKind, home: AttrHome<'_>, top: &AttrDef) -> bool {
    matches!(home, AttrHome::Core(_))
        && match kind {
            ResourceKind::Group => top.name == "members",
            ResourceKind::User => top.name == "groups",
            ResourceKind::Custom(_) => false,
        }
}

/// Parses a membership relation from a client value: a group's `members` (users or
/// groups, by `type`), or a user's `groups` (groups; `type`, if given, is `direct`).
pub fn parse_related(kind: ResourceKind, v: &Value) -> ScimResult<Vec<MemberValue>> {
    let name = match kind {
        ResourceKind::Group => "members",
        ResourceKind::User => "groups",
        // A declared type has no membership relation.
        ResourceKind::Custom(_) => return Ok(Vec::new()),
    };
    let items: Vec<&Value> = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(o) = item else {
            return Err(type_error(name, "an array of objects with a 'value'", item));
        };
        let value = match get_ci(o, "value") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ if kind == ResourceKind::User => {
                return Err(ScimError::invalid_value("every group needs a 'value' with the group's id"));
            }
            _ => return Err(ScimError::invalid_value("every member needs a 'value' with the member's id")),
        };
        let t = match get_ci(o, "type") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) if t.is_empty() => None,
            Some(Value::String(t)) => Some(t.as_str()),
            Some(other) => return Err(type_error(&format!("{name}.type"), "a string", other)),
        };
        let kind = match (kind, t) {
            (ResourceKind::Group, None) => None,
            (ResourceKind::Group, Some(t)) if t.eq_ignore_ascii_case("user") => Some(ResourceKind::User),
            (ResourceKind::Group, Some(t)) if t.eq_ignore_ascii_case("group") => Some(ResourceKind::Group),
            (ResourceKind::Group, Some(t)) => {
                return Err(ScimError::invalid_value(format!("member type must be 'User' or 'Group', got '{t}'")));
            }
            (ResourceKind::User, None) => Some(ResourceKind::Group),
            (ResourceKind::User, Some(t)) if t.eq_ignore_ascii_case("direct") => Some(ResourceKind::Group),
            (ResourceKind::User, Some(t)) => {
                return Err(ScimError::invalid_value(format!(
                    "a user's groups can only be set as direct memberships, got type '{t}'"
                )));
            }
            // Not reached: a declared type has no relation (see above).
            (ResourceKind::Custom(_), _) => None,
        };
        for k in o.keys() {
            if !["value", "type", "display", "$ref"].iter().any(|x| x.eq_ignore_ascii_case(k)) {
                return Err(ScimError::invalid_syntax(format!("{name} have no sub-attribute '{k}'")));
            }
        }
        out.push(MemberValue { value, kind });
    }
    Ok(out)
}

/// Checks `schemas` of a body for `kind`.
fn check_schemas(reg: &Registry, kind: ResourceKind, v: &Value) -> ScimResult<()> {
    let Value::Array(items) = v else {
        return Err(ScimError::invalid_syntax("'schemas' must be an array of schema URNs"));
    };
    let mut has_core = false;
    for item in items {
        let Value::String(u) = item else {
            return Err(ScimError::invalid_syntax("'schemas' must be an array of schema URNs"));
        };
        match reg.schema_of_kind(kind, u) {
            Some(c) if c == reg.core_urn(kind) => has_core = true,
            Some(_) => {}
            None if reg.tolerated_urns.iter().any(|t| t.eq_ignore_ascii_case(u)) => {}
            None => {
                return Err(ScimError::invalid_syntax(format!(
                    "unknown schema '{u}' for resource type {}",
                    reg.type_name(kind)
                )));
            }
        }
    }
    if !has_core {
        return Err(ScimError::invalid_syntax(format!("'schemas' must include '{}'", reg.core_urn(kind))));
    }
    Ok(())
}

/// Sets one top-level key of a body into the document being built.
fn put(
    reg: &Registry,
    kind: ResourceKind,
    out: &mut Prepared,
    ext: Option<&str>,
    key: &str,
    v: &Value,
) -> ScimResult<()> {
    let path = parse_attr_path(key).map_err(|_| {
        ScimError::invalid_syntax(format!("unknown attribute '{key}' for resource type {}", reg.type_name(kind)))
    })?;
    if reg.strict && (path.urn.is_some() || path.sub.is_some()) {
        return Err(ScimError::invalid_syntax(format!(
            "'{key}' is an attribute path, not an attribute name (strict mode: nest sub-attributes in their \
             attribute and extension attributes in their schema's object)"
        )));
    }
    let path = match ext {
        Some(u) if path.urn.is_none() => AttrPath { urn: Some(u.to_string()), ..path },
        _ => path,
    };
    match slot(reg, kind, &path, key)? {
        Slot::Ignore => {}
        Slot::Password => match v {
            Value::String(s) if !s.is_empty() => out.password = Some(s.clone()),
            Value::Null => {}
            Value::String(_) => {}
            other => return Err(type_error("password", "a string", other)),
        },
        Slot::Members => out.members = Some(parse_related(kind, v)?),
        Slot::Attr { ext, top, sub } => {
            let doc = out.doc.as_object_mut().expect("doc is an object");
            let root = root_for(doc, ext);
            match sub {
                None => match normalize_attr(top, v, &top.name, reg.strict)? {
                    Some(x) => {
                        // `name` and `name.givenName` in one body: merge.
                        if let (Some(Value::Object(old)), Value::Object(new)) = (root.get_mut(&top.name), &x) {
                            for (k, nv) in new {
                                old.insert(k.clone(), nv.clone());
                            }
                        } else {
                            root.insert(top.name.clone(), x);
                        }
                    }
                    None => {
                        root.remove(&top.name);
                    }
                },
                Some(sd) => {
                    let value = normalize_attr(sd, v, &format!("{}.{}", top.name, sd.name), reg.strict)?;
                    set_sub(root, &top.name, &sd.name, value);
                    if root.get(&top.name).is_some_and(|e| e.as_object().is_some_and(Map::is_empty)) {
                        root.remove(&top.name);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Validates and canonicalizes a POST/PUT body.
pub fn prepare(reg: &Registry, kind: ResourceKind, body: &Value) -> ScimResult<Prepared> {
    let Value::Object(obj) = body else {
        return Err(ScimError::invalid_syntax("the request body must be a JSON object"));
    };
    if reg.strict && get_ci(obj, "schemas").is_none() {
        return Err(ScimError::invalid_syntax(format!(
            "the body needs 'schemas' listing '{}' (strict mode)",
            reg.core_urn(kind)
        )));
    }
    let mut out = Prepared { doc: Value::Object(Map::new()), password: None, members: None };
    for (k, v) in obj {
        if k.eq_ignore_ascii_case("schemas") {
            check_schemas(reg, kind, v)?;
            continue;
        }
        if let Some(urn) = reg.schema_of_kind(kind, k) {
            // An object of one schema's attributes, keyed by its URN.
            match v {
                Value::Null => {}
                Value::Object(inner) => {
                    let urn = urn.to_string();
                    for (ik, iv) in inner.iter().filter(|(ik, _)| !ik.eq_ignore_ascii_case("schemas")) {
                        put(reg, kind, &mut out, Some(&urn), ik, iv)?;
                    }
                }
                other => return Err(type_error(k, "an object of that schema's attributes", other)),
            }
            continue;
        }
        put(reg, kind, &mut out, None, k, v)?;
    }
    finish(reg, kind, &mut out.doc)?;
    Ok(out)
}

/// Removes empty extension objects and checks required attributes.
pub fn finish(reg: &Registry, kind: ResourceKind, doc: &mut Value) -> ScimResult<()> {
    let Some(map) = doc.as_object_mut() else { return Ok(()) };
    map.retain(|_, v| {
        !(v.is_null() || v.as_object().is_some_and(Map::is_empty) || v.as_array().is_some_and(Vec::is_empty))
    });
    let core = reg.core_schema(kind);
    for a in core.attributes.iter().filter(|a| a.required && a.mutability != Mutability::ReadOnly) {
        if !map.contains_key(&a.name) {
            return Err(ScimError::invalid_value(format!("attribute '{}' is required", a.name)));
        }
    }
    for ext in reg.extensions(kind) {
        if let Some(Value::Object(e)) = map.get(&ext.id) {
            for a in ext.attributes.iter().filter(|a| a.required) {
                if !e.contains_key(&a.name) {
                    return Err(ScimError::invalid_value(format!("attribute '{}:{}' is required", ext.id, a.name)));
                }
            }
        }
    }
    if reg.canonical_types {
        crate::canonical::check_types(reg, kind, doc)?;
    }
    Ok(())
}

/// An `immutable` attribute that had a value may not change.
pub fn check_immutable(reg: &Registry, kind: ResourceKind, old: &Value, new: &Value) -> ScimResult<()> {
    let mut schemas = vec![(None, reg.core_schema(kind))];
    schemas.extend(reg.extensions(kind).into_iter().map(|s| (Some(s.id.as_str()), s)));
    for (ext, schema) in schemas {
        let pick = |d: &Value| -> Option<Value> {
            match ext {
                Some(u) => d.get(u).cloned(),
                None => Some(d.clone()),
            }
        };
        let (Some(o), n) = (pick(old), pick(new)) else { continue };
        let n = n.unwrap_or(Value::Null);
        for a in &schema.attributes {
            let (ov, nv) = (o.get(&a.name), n.get(&a.name));
            if a.mutability == Mutability::Immutable && ov.is_some() && ov != nv {
                return Err(ScimError::mutability(format!("attribute '{}' is immutable and cannot change", a.name)));
            }
            if a.ty == AttrType::Complex && !a.multi_valued {
                for sd in a.sub_attributes.iter().filter(|s| s.mutability == Mutability::Immutable) {
                    let (os, ns) = (ov.and_then(|v| v.get(&sd.name)), nv.and_then(|v| v.get(&sd.name)));
                    if os.is_some() && os != ns {
                        return Err(ScimError::mutability(format!(
                            "attribute '{}.{}' is immutable and cannot change",
                            a.name, sd.name
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

fn value_entry(key: String, elem: i64, def: &AttrDef, x: &Value, out: &mut Vec<IndexEntry>) {
    let (s, n) = match def.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => match x.as_str() {
            Some(s) if !s.is_empty() => (
                Some(match def.case_exact {
                    true => s.to_string(),
                    false if key == USER_NAME_KEY => crate::user_name::key(s),
                    false => fold_case(s),
                }),
                None,
            ),
            _ => return,
        },
        AttrType::DateTime => match x.as_str().and_then(normalize_datetime) {
            Some(s) => (Some(s), None),
            None => return,
        },
        AttrType::Boolean => match x.as_bool() {
            Some(b) => (None, Some(if b { 1.0 } else { 0.0 })),
            None => return,
        },
        AttrType::Integer | AttrType::Decimal => match x.as_f64() {
            Some(f) => (None, Some(f)),
            None => return,
        },
        AttrType::Complex => return,
    };
    out.push(IndexEntry { key, elem, s, n });
}

fn entries_for(ext: Option<&str>, def: &AttrDef, val: &Value, out: &mut Vec<IndexEntry>) {
    let items: Vec<&Value> = match val {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    for (i, item) in items.into_iter().enumerate() {
        let elem = i as i64;
        if def.ty == AttrType::Complex {
            let Value::Object(o) = item else { continue };
            if o.is_empty() {
                continue;
            }
            out.push(IndexEntry { key: index_key(ext, &def.name, None), elem, s: None, n: None });
            for (sk, sv) in o {
                let Some(sd) = def.sub(sk) else { continue };
                let key = index_key(ext, &def.name, Some(&sd.name));
                match sv {
                    Value::Array(a) => a.iter().for_each(|x| value_entry(key.clone(), elem, sd, x, out)),
                    x => value_entry(key, elem, sd, x, out),
                }
            }
        } else {
            value_entry(index_key(ext, &def.name, None), elem, def, item, out);
        }
    }
}

/// The attribute-index rows of a document.
pub fn index_entries(reg: &Registry, kind: ResourceKind, doc: &Value) -> Vec<IndexEntry> {
    let mut out = Vec::new();
    let Some(map) = doc.as_object() else { return out };
    for (k, v) in map {
        if let Some(ext) = reg.extensions(kind).into_iter().find(|s| s.id == *k) {
            if let Value::Object(inner) = v {
                for (ik, iv) in inner {
                    if let Some(def) = ext.attr(ik) {
                        entries_for(Some(&ext.id), def, iv, &mut out);
                    }
                }
            }
        } else if let Some((_, def)) = reg.find_attr(kind, None, k) {
            entries_for(None, def, v, &mut out);
        }
    }
    out
}

/// The key of a user's userName (the per-tenant uniqueness key, [`crate::user_name::key`]).
pub fn unique_key(kind: ResourceKind, doc: &Value) -> Option<String> {
    match kind {
        ResourceKind::User => doc.get("userName").and_then(Value::as_str).map(crate::user_name::key),
        ResourceKind::Group | ResourceKind::Custom(_) => None,
    }
}

/// The name shown for a resource as a member or group: displayName, else userName.
pub fn display_of(kind: ResourceKind, doc: &Value) -> Option<String> {
    let d = doc.get("displayName").and_then(Value::as_str);
    match kind {
        ResourceKind::User => d.or_else(|| doc.get("userName").and_then(Value::as_str)).map(str::to_string),
        ResourceKind::Group => d.map(str::to_string),
        // Okta's catalog schemas name a row by displayName, the draft's by display or value.
        ResourceKind::Custom(_) => d
            .or_else(|| doc.get("display").and_then(Value::as_str))
            .or_else(|| doc.get("value").and_then(Value::as_str))
            .map(str::to_string),
    }
}

/// The key under which a document keeps the core schema URN its client wrote it with,
/// when that is not the standard one (`Profile::client_schema`: the SCIM 1.x URN), as a
/// one-element array: responses name it in `schemas` in place of the standard URN.
pub const CLIENT_SCHEMA: &str = "schemas";

/// Keeps (or with `None` forgets) the core schema URN the client used in a document.
pub fn set_client_schema(doc: &mut Value, urn: Option<&str>) {
    let Some(map) = doc.as_object_mut() else { return };
    match urn {
        Some(u) => map.insert(CLIENT_SCHEMA.into(), Value::Array(vec![Value::String(u.to_string())])),
        None => map.remove(CLIENT_SCHEMA),
    };
}

/// The core schema URN a document's client used, from a stored [`CLIENT_SCHEMA`] value.
pub fn client_schema(stored: &Value) -> Option<&str> {
    stored.as_array().and_then(|a| a.first()).and_then(Value::as_str)
}

/// The full output form of a resource (before projection).
pub fn full_resource(
    reg: &Registry,
    kind: ResourceKind,
    doc: Value,
    id: &str,
    meta: &Meta,
    related: Option<&[MemberRef]>,
) -> Value {
    let mut out = Map::new();
    let exts = reg.extensions(kind);
    let mut doc = doc;
    let stored = doc.as_object_mut().and_then(|m| m.remove(CLIENT_SCHEMA));
    let core = stored.as_ref().and_then(client_schema).unwrap_or(reg.core_urn(kind));
    let mut schemas = vec![Value::String(core.to_string())];
    for e in &exts {
        if doc.get(&e.id).is_some() {
            schemas.push(Value::String(e.id.clone()));
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), Value::String(id.to_string()));
    if let Value::Object(map) = doc {
        let mut ext_values = Vec::new();
        for (k, v) in map {
            if exts.iter().any(|e| e.id == k) {
                ext_values.push((k, v));
            } else {
                out.insert(k, v);
            }
        }
        for (k, v) in ext_values {
            out.insert(k, v);
        }
    }
    if let Some(rel) = related.filter(|r| !r.is_empty()) {
        let items = rel
            .iter()
            .map(|m| {
                let mut o = Map::new();
                o.insert("value".into(), Value::String(m.value.clone()));
                o.insert("$ref".into(), Value::String(m.location.clone()));
                if let Some(d) = &m.display {
                    o.insert("display".into(), Value::String(d.clone()));
                }
                let t = match kind {
                    ResourceKind::Group | ResourceKind::Custom(_) => m.kind.name(),
                    ResourceKind::User => "direct",
                };
                o.insert("type".into(), Value::String(t.into()));
                Value::Object(o)
            })
            .collect();
        let name = match kind {
            ResourceKind::Group | ResourceKind::Custom(_) => "members",
            ResourceKind::User => "groups",
        };
        out.insert(name.into(), Value::Array(items));
    }
    let mut m = Map::new();
    m.insert("resourceType".into(), Value::String(reg.type_name(kind).into()));
    m.insert("created".into(), Value::String(meta.created.clone()));
    m.insert("lastModified".into(), Value::String(meta.last_modified.clone()));
    m.insert("location".into(), Value::String(meta.location.clone()));
    m.insert("version".into(), Value::String(meta.version.clone()));
    out.insert("meta".into(), Value::Object(m));
    Value::Object(out)
}

#[cfg(test)]
mod tests;
