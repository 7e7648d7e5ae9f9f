//! The PATCH engine (RFC 7644 §3.5.2): parsing a PatchOp request and applying its
//! operations, all or nothing, to a stored document — including the shapes Microsoft
//! Entra ID and Okta send (capitalised ops, string booleans, path-less values whose keys
//! are paths, filtered paths that create the element they don't find, member removal by
//! value list), or refusing them in a strict registry. Group members are never part of
//! the document: operations on `members` (and on `User.groups`, when a profile makes it
//! writable) become [`MemberOp`]s that the store applies row by row, so a member change
//! costs O(changed members) whatever the group size.

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult};
use crate::filter::{
    AttrPath, CompValue, CompareOp, Filter, PatchPath, ResolvedAttr, ResolvedFilter, matches, parse_attr_path,
    parse_patch_path, resolve_filter,
};
use crate::resource::{
    MemberValue, check_immutable, finish, is_related, normalize_value, parse_related, root_for, set_sub,
};
use crate::schema::{AttrDef, AttrHome, AttrType, Mutability, Registry, ResourceKind};

pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A change to a group's membership, applied in order.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    Add(Vec<MemberValue>),
    Remove(Vec<String>),
    RemoveAll,
    /// Remove the members matching a `members[...]` value filter.
    RemoveWhere(ResolvedFilter),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    pub doc: Value,
    pub member_ops: Vec<MemberOp>,
    /// A new password (to be hashed), if an operation set one.
    pub password: Option<String>,
    pub changed: bool,
}

fn get_ci<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Parses a PatchOp request body. `strict` (a tenant profile's strict RFC mode) requires
/// `schemas` and lower-case `op` values, which Entra ID does not always send.
pub fn parse_patch_request(body: &Value, strict: bool) -> ScimResult<Vec<PatchOperation>> {
    let Value::Object(o) = body else {
        return Err(ScimError::invalid_syntax("a PatchOp request must be a JSON object"));
    };
    if strict && get_ci(o, "schemas").is_none() {
        return Err(ScimError::invalid_syntax(format!(
            "a PATCH request needs 'schemas': [\"{PATCH_URN}\"] (strict mode)"
        )));
    }
    if let Some(s) = get_ci(o, "schemas") {
        let ok = s
            .as_array()
            .is_some_and(|a| a.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_URN))));
        if !ok {
            return Err(ScimError::invalid_syntax(format!("'schemas' of a PATCH request must be [\"{PATCH_URN}\"]")));
        }
    }
    let ops = match get_ci(o, "Operations") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return Err(ScimError::invalid_syntax("'Operations' is empty: nothing to do")),
        _ => return Err(ScimError::invalid_syntax("a PATCH request needs an 'Operations' array")),
    };
    let mut out = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let Value::Object(m) = op else {
            return Err(ScimError::invalid_syntax(format!("operation {i} is not an object")));
        };
        let op_name = get_ci(m, "op").and_then(Value::as_str);
        if strict && let Some(name) = op_name.filter(|n| !["add", "remove", "replace"].contains(n)) {
            return Err(ScimError::invalid_syntax(format!(
                "operation {i}: 'op' must be add, remove or replace in lower case, got '{name}' (strict mode)"
            )));
        }
        let kind = match op_name.map(str::to_ascii_lowercase).as_deref() {
            Some("add") => PatchOpKind::Add,
            Some("remove") => PatchOpKind::Remove,
            Some("replace") => PatchOpKind::Replace,
            Some(other) => {
                return Err(ScimError::invalid_syntax(format!(
                    "operation {i}: 'op' must be add, remove or replace, got '{other}'"
                )));
            }
            None => return Err(ScimError::invalid_syntax(format!("operation {i} has no 'op'"))),
        };
        let path = match get_ci(m, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if p.trim().is_empty() => None,
            Some(Value::String(p)) => Some(parse_patch_path(p)?),
            Some(_) => return Err(ScimError::invalid_path(format!("operation {i}: 'path' must be a string"))),
        };
        let value = get_ci(m, "value").cloned();
        out.push(PatchOperation { op: kind, path, value });
    }
    Ok(out)
}

struct Engine<'r> {
    reg: &'r Registry,
    kind: ResourceKind,
    doc: Map<String, Value>,
    member_ops: Vec<MemberOp>,
    password: Option<String>,
}

/// A resolved PATCH target attribute.
struct Target<'r> {
    ext: Option<String>,
    top: &'r AttrDef,
    sub: Option<&'r AttrDef>,
    members: bool,
}

impl<'r> Target<'r> {
    fn resolved(&self) -> ResolvedAttr {
        ResolvedAttr {
            ext: self.ext.clone(),
            name: self.top.name.clone(),
            sub: self.sub.map(|s| s.name.clone()),
            ty: self.sub.map(|s| s.ty).unwrap_or(self.top.ty),
            case_exact: self.sub.map(|s| s.case_exact).unwrap_or(self.top.case_exact),
            multi_valued: self.top.multi_valued,
            target: crate::filter::Target::Indexed,
            key: crate::filter::index_key(self.ext.as_deref(), &self.top.name, self.sub.map(|s| s.name.as_str())),
        }
    }
    fn display(&self) -> String {
        match self.sub {
            Some(s) => format!("{}.{}", self.top.name, s.name),
            None => self.top.name.clone(),
        }
    }
}

fn primary_true(v: &Value) -> bool {
    v.get("primary") == Some(&Value::Bool(true))
}

/// Keeps at most one `primary: true` in `arr`: the element at `winner` (if primary).
fn settle_primary(arr: &mut [Value], winners: &[usize]) {
    let Some(&w) = winners.iter().rev().find(|&&i| arr.get(i).is_some_and(primary_true)) else { return };
    for (i, el) in arr.iter_mut().enumerate() {
        if i != w && primary_true(el) {
            el["primary"] = Value::Bool(false);
        }
    }
}

/// Member ids named by `members[value eq "a" or value eq "b"]`, if the filter is only that.
fn member_ids(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, CompValue::Str(s))
            if p.urn.is_none() && p.sub.is_none() && p.attr.eq_ignore_ascii_case("value") =>
        {
            Some(vec![s.clone()])
        }
        Filter::Or(a, b) => {
            let mut x = member_ids(a)?;
            x.extend(member_ids(b)?);
            Some(x)
        }
        _ => None,
    }
}

/// The `sub eq value` conditions of a conjunction, to create a missing element from.
fn eq_conditions(f: &Filter, def: &AttrDef, out: &mut Map<String, Value>) -> bool {
    match f {
        Filter::And(a, b) => eq_conditions(a, def, out) && eq_conditions(b, def, out),
        Filter::Compare(p, CompareOp::Eq, v) if p.urn.is_none() && p.sub.is_none() => {
            let Some(sd) = def.sub(&p.attr) else { return false };
            let v = match v {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Num(n) => serde_json::Number::from_f64(*n).map(Value::Number).unwrap_or(Value::Null),
                CompValue::Null => return false,
            };
            out.insert(sd.name.clone(), v);
            true
        }
        _ => false,
    }
}

impl<'r> Engine<'r> {
    fn target(&self, path: &AttrPath) -> ScimResult<Target<'r>> {
        let (home, top) = self.reg.find_attr(self.kind, path.urn.as_deref(), &path.attr).ok_or_else(|| {
            ScimError::invalid_path(format!(
                "unknown attribute '{path}' for resource type {}",
                self.reg.type_name(self.kind)
            ))
        })?;
        let ext = match home {
            AttrHome::Extension(s) => Some(s.id.clone()),
            _ => None,
        };
        let sub = match &path.sub {
            None => None,
            Some(s) => Some(
                top.sub(s)
                    .filter(|_| top.ty == AttrType::Complex)
                    .ok_or_else(|| ScimError::invalid_path(format!("'{}' has no sub-attribute '{s}'", top.name)))?,
            ),
        };
        let members = is_related(self.kind, home, top);
        Ok(Target { ext, top, sub, members })
    }

    fn root(&mut self, ext: Option<&str>) -> &mut Map<String, Value> {
        root_for(&mut self.doc, ext)
    }

    /// `readOnly` targets: an error when addressed by path, ignored inside path-less values.
    fn writable(&self, t: &Target<'_>, by_path: bool) -> ScimResult<bool> {
        let ro =
            t.top.mutability == Mutability::ReadOnly || t.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly);
        if ro {
            if by_path {
                return Err(ScimError::mutability(format!("attribute '{}' is read-only", t.display())));
            }
            return Ok(false);
        }
        Ok(true)
    }

    fn set_password(&mut self, v: Option<&Value>) -> ScimResult<()> {
        match v {
            Some(Value::String(s)) if !s.is_empty() => {
                self.password = Some(s.clone());
                Ok(())
            }
            _ => Err(ScimError::invalid_value("'password' must be a non-empty string")),
        }
    }

    fn apply(&mut self, op: &PatchOperation) -> ScimResult<()> {
        if self.reg.strict && op.op == PatchOpKind::Remove && op.value.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(ScimError::invalid_syntax(
                "a remove operation takes no 'value' (strict mode): name what to remove in the path, \
                 e.g. members[value eq \"<id>\"]",
            ));
        }
        if self.reg.patch_requires_path && op.path.is_none() {
            // The interoperability profile's PATCH subset: the attribute is named in `path`,
            // never implied by the keys of a `value` object.
            return Err(ScimError::invalid_syntax(
                "every operation needs a 'path' here (this tenant takes no path-less operations): \
                 send one operation per attribute, e.g. {\"op\": \"replace\", \"path\": \"active\", \"value\": false}",
            ));
        }
        match (&op.path, op.op) {
            (None, PatchOpKind::Remove) => Err(ScimError::no_target("a remove operation needs a 'path'")),
            (None, kind) => {
                let Some(Value::Object(values)) = &op.value else {
                    return Err(ScimError::invalid_syntax(
                        "an add or replace without a 'path' needs a 'value' object of attributes",
                    ));
                };
                self.pathless(kind, values)
            }
            (Some(path), kind) => self.with_path(kind, path, op.value.as_ref()),
        }
    }

    fn pathless(&mut self, kind: PatchOpKind, values: &Map<String, Value>) -> ScimResult<()> {
        for (k, v) in values {
            if k.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(urn) = self.reg.schema_of_kind(self.kind, k).map(str::to_string) {
                let Value::Object(inner) = v else {
                    return Err(ScimError::invalid_value(format!(
                        "'{k}' must be an object of that schema's attributes"
                    )));
                };
                for (ik, iv) in inner {
                    if ik.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    let path = parse_attr_path(ik)
                        .map_err(|_| ScimError::invalid_path(format!("unknown attribute '{ik}' in '{k}'")))?;
                    let path = AttrPath { urn: Some(urn.clone()), ..path };
                    self.set(kind, &path, iv, false)?;
                }
                continue;
            }
            let path = parse_attr_path(k).map_err(|_| {
                ScimError::invalid_path(format!(
                    "unknown attribute '{k}' for resource type {}",
                    self.reg.type_name(self.kind)
                ))
            })?;
            if self.reg.strict && (path.sub.is_some() || path.urn.is_some()) {
                return Err(ScimError::invalid_path(format!(
                    "'{k}' is an attribute path, not an attribute name: a path-less value holds attributes \
                     (strict mode); give the path in 'path' instead"
                )));
            }
            self.set(kind, &path, v, false)?;
        }
        Ok(())
    }

    /// add/replace of a value at an attribute path (no value filter).
    fn set(&mut self, kind: PatchOpKind, path: &AttrPath, v: &Value, by_path: bool) -> ScimResult<()> {
        let t = self.target(path)?;
        if !self.writable(&t, by_path)? {
            return Ok(());
        }
        if t.top.mutability == Mutability::WriteOnly {
            return self.set_password(Some(v));
        }
        if t.members {
            let members = parse_related(self.kind, v)?;
            if kind == PatchOpKind::Replace {
                self.member_ops.push(MemberOp::RemoveAll);
            }
            if !members.is_empty() {
                self.member_ops.push(MemberOp::Add(members));
            }
            return Ok(());
        }
        let value = normalize_value(self.reg, self.kind, &t.resolved(), v)?;
        let (top, sub) = (t.top, t.sub);
        let whole = kind == PatchOpKind::Replace && self.reg.replace_complex_whole;
        let root = self.root(t.ext.as_deref());
        if let Some(sd) = sub {
            if top.multi_valued {
                // `emails.type` without a filter: every element.
                let Some(Value::Array(arr)) = root.get_mut(&top.name) else {
                    return Err(ScimError::no_target(format!("'{}' has no values to set '{}' on", top.name, sd.name)));
                };
                for el in arr.iter_mut() {
                    if let Value::Object(o) = el {
                        match &value {
                            Some(x) => o.insert(sd.name.clone(), x.clone()),
                            None => o.remove(&sd.name),
                        };
                    }
                }
                return Ok(());
            }
            set_sub(root, &top.name, &sd.name, value);
            return Ok(());
        }
        let Some(value) = value else {
            root.remove(&top.name);
            return Ok(());
        };
        match (top.multi_valued, top.ty) {
            (true, _) => {
                let new = match value {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                if kind == PatchOpKind::Replace {
                    root.insert(top.name.clone(), Value::Array(new));
                    return Ok(());
                }
                let entry = root.entry(top.name.clone()).or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(arr) = entry else { return Ok(()) };
                let mut added = Vec::new();
                for x in new {
                    if !arr.contains(&x) {
                        arr.push(x);
                        added.push(arr.len() - 1);
                    }
                }
                settle_primary(arr, &added);
            }
            (false, AttrType::Complex) if whole => {
                // The interoperability profile: the value is all the attribute keeps.
                root.insert(top.name.clone(), value);
            }
            (false, AttrType::Complex) => {
                // Both add and replace merge sub-attributes (RFC 7644 §3.5.2.1, §3.5.2.3).
                match (root.get_mut(&top.name), value) {
                    (Some(Value::Object(old)), Value::Object(new)) => {
                        for (k, nv) in new {
                            old.insert(k, nv);
                        }
                    }
                    (_, value) => {
                        root.insert(top.name.clone(), value);
                    }
                }
            }
            (false, _) => {
                root.insert(top.name.clone(), value);
            }
        }
        Ok(())
    }

    fn with_path(&mut self, kind: PatchOpKind, path: &PatchPath, value: Option<&Value>) -> ScimResult<()> {
        // The whole extension: `"path": "urn:…:enterprise:2.0:User"`.
        if path.filter.is_none() && path.attr.sub.is_none() {
            let whole = path.attr.to_string();
            if let Some(urn) = self.reg.schema_of_kind(self.kind, &whole).map(str::to_string)
                && urn != self.reg.core_urn(self.kind)
            {
                return match kind {
                    PatchOpKind::Remove => {
                        self.doc.remove(&urn);
                        Ok(())
                    }
                    _ => {
                        let mut m = Map::new();
                        m.insert(urn, value.cloned().unwrap_or(Value::Null));
                        self.pathless(kind, &m)
                    }
                };
            }
        }
        let Some(filter) = &path.filter else {
            return match kind {
                PatchOpKind::Remove => self.remove(&path.attr, value),
                _ => {
                    let v = value.ok_or_else(|| {
                        ScimError::invalid_syntax(format!("the operation on '{}' needs a 'value'", path.attr))
                    })?;
                    self.set(kind, &path.attr, v, true)
                }
            };
        };
        self.with_filter(kind, &path.attr, filter, path.sub_after_filter.as_deref(), value)
    }

    fn remove(&mut self, path: &AttrPath, value: Option<&Value>) -> ScimResult<()> {
        let t = self.target(path)?;
        self.writable(&t, true)?;
        if t.top.mutability == Mutability::WriteOnly {
            return Err(ScimError::mutability(format!("'{}' cannot be removed", t.top.name)));
        }
        if t.members {
            match value {
                Some(v) if !v.is_null() && t.sub.is_none() => {
                    let ids: Vec<String> = parse_related(self.kind, v)?.into_iter().map(|m| m.value).collect();
                    if !ids.is_empty() {
                        self.member_ops.push(MemberOp::Remove(ids));
                    }
                }
                _ => self.member_ops.push(MemberOp::RemoveAll),
            }
            return Ok(());
        }
        let (top, sub) = (t.top, t.sub);
        let wanted = match value {
            Some(v) if !v.is_null() && top.multi_valued && sub.is_none() => {
                normalize_value(self.reg, self.kind, &t.resolved(), v)?
            }
            _ => None,
        };
        let root = self.root(t.ext.as_deref());
        match sub {
            Some(sd) => match root.get_mut(&top.name) {
                Some(Value::Object(o)) => {
                    o.remove(&sd.name);
                }
                Some(Value::Array(arr)) => {
                    for el in arr.iter_mut() {
                        if let Value::Object(o) = el {
                            o.remove(&sd.name);
                        }
                    }
                }
                _ => {}
            },
            None => match wanted {
                // Entra: remove only the listed values of a multi-valued attribute.
                Some(Value::Array(values)) => {
                    if let Some(Value::Array(arr)) = root.get_mut(&top.name) {
                        let key = |v: &Value| v.get("value").cloned().unwrap_or_else(|| v.clone());
                        let drop: Vec<Value> = values.iter().map(key).collect();
                        arr.retain(|el| !drop.contains(&key(el)));
                    }
                }
                _ => {
                    root.remove(&top.name);
                }
            },
        }
        Ok(())
    }

    fn with_filter(
        &mut self,
        kind: PatchOpKind,
        attr: &AttrPath,
        filter: &Filter,
        sub: Option<&str>,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        let t = self.target(attr)?;
        if t.sub.is_some() || t.top.ty != AttrType::Complex || !t.top.multi_valued {
            return Err(ScimError::invalid_path(format!(
                "'{attr}[...]': a value filter needs a multi-valued complex attribute"
            )));
        }
        let vp = resolve_filter(self.reg, self.kind, &Filter::ValuePath(attr.clone(), Box::new(filter.clone())))
            .map_err(|e| ScimError::invalid_path(e.detail))?;
        let sub_def = match sub {
            Some(s) => Some(
                t.top
                    .sub(s)
                    .ok_or_else(|| ScimError::invalid_path(format!("'{}' has no sub-attribute '{s}'", t.top.name)))?,
            ),
            None => None,
        };
        let full = Target { ext: t.ext.clone(), top: t.top, sub: sub_def, members: t.members };
        self.writable(&full, true)?;
        if t.members {
            return self.members_with_filter(kind, filter, vp, sub, value);
        }
        let (top, ext) = (t.top, t.ext.clone());
        let new_value = match kind {
            PatchOpKind::Remove => None,
            _ => {
                let v = value.ok_or_else(|| {
                    ScimError::invalid_syntax(format!("the operation on '{attr}[...]' needs a 'value'"))
                })?;
                normalize_value(self.reg, self.kind, &full.resolved(), v)?
            }
        };
        let wrap = |el: &Value| -> Value {
            let mut inner = Map::new();
            inner.insert(top.name.clone(), Value::Array(vec![el.clone()]));
            match &ext {
                Some(u) => {
                    let mut outer = Map::new();
                    outer.insert(u.clone(), Value::Object(inner));
                    Value::Object(outer)
                }
                None => Value::Object(inner),
            }
        };
        let root = self.root(t.ext.as_deref());
        let arr: Vec<Value> = match root.get(&top.name) {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        let hits: Vec<usize> =
            arr.iter().enumerate().filter(|(_, el)| matches(&vp, &wrap(el))).map(|(i, _)| i).collect();
        let mut arr = arr;
        match kind {
            PatchOpKind::Remove => {
                if let Some(sd) = sub_def {
                    for &i in &hits {
                        if let Value::Object(o) = &mut arr[i] {
                            o.remove(&sd.name);
                        }
                    }
                    arr.retain(|el| el.as_object().is_some_and(|o| !o.is_empty()));
                } else {
                    let mut i = 0;
                    arr.retain(|_| {
                        let keep = !hits.contains(&i);
                        i += 1;
                        keep
                    });
                }
            }
            _ => {
                if hits.is_empty() && self.reg.strict {
                    return Err(ScimError::no_target(format!("no value of '{attr}' matches the filter (strict mode)")));
                }
                if hits.is_empty() {
                    // Entra ID: add/replace on a filtered path that matches nothing creates it.
                    let mut el = Map::new();
                    if !eq_conditions(filter, top, &mut el) {
                        return Err(ScimError::no_target(format!(
                            "no value of '{attr}' matches the filter, and it is not a list of 'eq' conditions to create one from"
                        )));
                    }
                    match (sub_def, new_value) {
                        (Some(sd), Some(x)) => {
                            el.insert(sd.name.clone(), x);
                        }
                        (None, Some(Value::Object(o))) => el.extend(o),
                        (_, None) => return Ok(()),
                        (None, Some(_)) => {
                            return Err(ScimError::invalid_value(format!(
                                "the value for '{attr}[...]' must be an object"
                            )));
                        }
                    }
                    let created = normalize_value(self.reg, self.kind, &t.resolved(), &Value::Object(el))?;
                    if let Some(Value::Array(mut c)) = created {
                        arr.append(&mut c);
                        let last = arr.len() - 1;
                        settle_primary(&mut arr, &[last]);
                    }
                } else {
                    for &i in &hits {
                        let Value::Object(o) = &mut arr[i] else { continue };
                        match (sub_def, &new_value) {
                            (Some(sd), Some(x)) => {
                                o.insert(sd.name.clone(), x.clone());
                            }
                            (Some(sd), None) => {
                                o.remove(&sd.name);
                            }
                            (None, Some(Value::Object(n))) => {
                                for (k, v) in n {
                                    o.insert(k.clone(), v.clone());
                                }
                            }
                            (None, Some(Value::Array(items))) if items.len() == 1 => {
                                if let Value::Object(n) = &items[0] {
                                    for (k, v) in n {
                                        o.insert(k.clone(), v.clone());
                                    }
                                }
                            }
                            (None, None) => {}
                            (None, Some(_)) => {
                                return Err(ScimError::invalid_value(format!(
                                    "the value for '{attr}[...]' must be an object"
                                )));
                            }
                        }
                    }
                    arr.retain(|el| el.as_object().is_some_and(|o| !o.is_empty()));
                    settle_primary(&mut arr, &hits);
                }
            }
        }
        let root = self.root(t.ext.as_deref());
        if arr.is_empty() {
            root.remove(&top.name);
        } else {
            root.insert(top.name.clone(), Value::Array(arr));
        }
        Ok(())
    }

    fn members_with_filter(
        &mut self,
        kind: PatchOpKind,
        filter: &Filter,
        vp: ResolvedFilter,
        sub: Option<&str>,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        if sub.is_some() {
            return Err(ScimError::mutability("member sub-attributes cannot be changed; remove and add the member"));
        }
        match member_ids(filter) {
            Some(ids) => self.member_ops.push(MemberOp::Remove(ids)),
            None => self.member_ops.push(MemberOp::RemoveWhere(vp)),
        }
        if kind != PatchOpKind::Remove {
            let v =
                value.ok_or_else(|| ScimError::invalid_syntax("the operation on 'members[...]' needs a 'value'"))?;
            let members = parse_related(self.kind, v)?;
            if !members.is_empty() {
                self.member_ops.push(MemberOp::Add(members));
            }
        }
        Ok(())
    }
}

/// Applies the operations in order; all or nothing.
pub fn apply_patch(
    reg: &Registry,
    kind: ResourceKind,
    doc: &Value,
    ops: &[PatchOperation],
) -> ScimResult<PatchOutcome> {
    let start = doc.as_object().cloned().unwrap_or_default();
    let mut e = Engine { reg, kind, doc: start, member_ops: Vec::new(), password: None };
    for op in ops {
        e.apply(op)?;
    }
    let mut out = Value::Object(e.doc);
    // Drop what became empty, check required attributes and immutability.
    if let Value::Object(m) = &mut out {
        for v in m.values_mut() {
            if let Value::Object(inner) = v {
                inner.retain(|_, x| {
                    !(x.is_null()
                        || x.as_object().is_some_and(Map::is_empty)
                        || x.as_array().is_some_and(Vec::is_empty))
                });
            }
        }
    }
    finish(reg, kind, &mut out)?;
    check_immutable(reg, kind, doc, &out)?;
    let changed = out != *doc || !e.member_ops.is_empty() || e.password.is_some();
    Ok(PatchOutcome { doc: out, member_ops: e.member_ops, password: e.password, changed })
}

#[cfg(test)]
mod tests;
