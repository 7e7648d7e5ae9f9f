//! What a client sees of a resource: the `attributes` / `excludedAttributes` parameters
//! (RFC 7644 §3.4.2.5) combined with each attribute's `returned` characteristic
//! (RFC 7643 §2.4): `never` is never returned, `always` always, `default` unless excluded
//! or not listed in `attributes`, `request` only when listed.

use serde_json::{Map, Value};

use crate::error::ScimResult;
use crate::filter::{parse_attr_path, resolve_attr};
use crate::schema::{AttrDef, Registry, ResourceKind, Returned};

/// One selected path: an attribute, a sub-attribute, or a whole extension (`name` None).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sel {
    ext: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

/// A parsed `attributes` / `excludedAttributes` pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    attributes: Vec<Sel>,
    excluded: Vec<Sel>,
}

fn sels(reg: &Registry, kind: ResourceKind, items: &[String]) -> Vec<Sel> {
    let mut out = Vec::new();
    for raw in items.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(urn) = reg.schema_of_kind(kind, raw) {
            if urn != reg.core_urn(kind) {
                out.push(Sel { ext: Some(urn.to_string()), name: None, sub: None });
            }
            continue;
        }
        // Unknown names are ignored, as most servers and clients expect.
        let Ok(path) = parse_attr_path(raw) else { continue };
        let Some(attr) = resolve_attr(reg, kind, &path) else { continue };
        out.push(Sel { ext: attr.ext, name: Some(attr.name), sub: attr.sub });
    }
    out
}

impl Projection {
    /// From comma-separated query parameters.
    pub fn parse(
        reg: &Registry,
        kind: ResourceKind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> ScimResult<Projection> {
        let a: Vec<String> = attributes.map(|s| vec![s.to_string()]).unwrap_or_default();
        let e: Vec<String> = excluded.map(|s| vec![s.to_string()]).unwrap_or_default();
        Self::from_lists(reg, kind, &a, &e)
    }

    /// From lists (SearchRequest); entries may themselves be comma-separated.
    pub fn from_lists(
        reg: &Registry,
        kind: ResourceKind,
        attributes: &[String],
        excluded: &[String],
    ) -> ScimResult<Projection> {
        Ok(Projection { attributes: sels(reg, kind, attributes), excluded: sels(reg, kind, excluded) })
    }

    /// Whether the core attribute `attr_name` (e.g. `members`) would be returned at all.
    pub fn wants(&self, reg: &Registry, kind: ResourceKind, attr_name: &str) -> bool {
        let Some((_, def)) = reg.find_attr(kind, None, attr_name) else { return false };
        match def.returned {
            Returned::Never => return false,
            Returned::Always => return true,
            _ => {}
        }
        let named = |s: &Sel| s.ext.is_none() && s.name.as_deref() == Some(def.name.as_str());
        if !self.attributes.is_empty() {
            return self.attributes.iter().any(named);
        }
        if def.returned == Returned::Request {
            return false;
        }
        !self.excluded.iter().any(|s| named(s) && s.sub.is_none())
    }

    /// Whether the projection keeps everything a default response shows.
    pub fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    /// Applies the projection to a resource in full output form, consuming it (the
    /// common case, no parameters, moves the values instead of copying them).
    pub fn project_owned(&self, reg: &Registry, kind: ResourceKind, resource: Value) -> Value {
        if self.is_default() {
            let Value::Object(mut map) = resource else { return resource };
            let mut drop = Vec::new();
            let exts = reg.extensions(kind);
            for (k, v) in map.iter_mut() {
                if let Some(ext) = exts.iter().find(|e| e.id == *k) {
                    // The same rules inside an extension's object.
                    if let Value::Object(inner) = v {
                        inner.retain(|ik, iv| match ext.attr(ik) {
                            Some(def) => keep_by_default(def, iv),
                            None => true,
                        });
                        if inner.is_empty() {
                            drop.push(k.clone());
                        }
                    }
                    continue;
                }
                let Some((_, def)) = reg.find_attr(kind, None, k) else { continue };
                if !keep_by_default(def, v) {
                    drop.push(k.clone());
                }
            }
            for k in &drop {
                map.shift_remove(k);
            }
            // An extension left with nothing to show is no longer listed in `schemas`.
            if let Some(Value::Array(schemas)) = map.get_mut("schemas") {
                schemas.retain(|s| !drop.iter().any(|d| s.as_str() == Some(d.as_str())));
            }
            return Value::Object(map);
        }
        self.project(reg, kind, &resource)
    }

    /// Applies the projection to a resource in full output form.
    pub fn project(&self, reg: &Registry, kind: ResourceKind, resource: &Value) -> Value {
        let Some(map) = resource.as_object() else { return resource.clone() };
        let mut out = Map::new();
        let mut dropped_ext = Vec::new();
        for (k, v) in map {
            if k == "schemas" {
                out.insert(k.clone(), v.clone());
                continue;
            }
            if let Some(ext) = reg.extensions(kind).into_iter().find(|e| e.id == *k) {
                let whole_listed =
                    self.attributes.iter().any(|s| s.ext.as_deref() == Some(&ext.id) && s.name.is_none());
                let whole_excluded =
                    self.excluded.iter().any(|s| s.ext.as_deref() == Some(&ext.id) && s.name.is_none());
                let mut inner = Map::new();
                if let Value::Object(o) = v {
                    for (ik, iv) in o {
                        let Some(def) = ext.attr(ik) else { continue };
                        let kept = if whole_listed {
                            (def.returned != Returned::Never).then(|| iv.clone())
                        } else if whole_excluded && self.attributes.is_empty() {
                            (def.returned == Returned::Always).then(|| iv.clone())
                        } else {
                            self.decide(Some(&ext.id), def, iv)
                        };
                        if let Some(x) = kept {
                            inner.insert(ik.clone(), x);
                        }
                    }
                }
                if inner.is_empty() {
                    dropped_ext.push(ext.id.clone());
                } else {
                    out.insert(k.clone(), Value::Object(inner));
                }
                continue;
            }
            match reg.find_attr(kind, None, k) {
                Some((_, def)) => {
                    if let Some(x) = self.decide(None, def, v) {
                        out.insert(k.clone(), x);
                    }
                }
                None => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(Value::Array(s)) = out.get_mut("schemas") {
            s.retain(|u| !u.as_str().is_some_and(|u| dropped_ext.iter().any(|d| d == u)));
        }
        Value::Object(out)
    }

    /// The part of the value of `def` to return, if any.
    fn decide(&self, ext: Option<&str>, def: &AttrDef, v: &Value) -> Option<Value> {
        let is = |s: &Sel| s.ext.as_deref() == ext && s.name.as_deref() == Some(def.name.as_str());
        match def.returned {
            Returned::Never => return None,
            Returned::Always => return Some(v.clone()),
            _ => {}
        }
        if !self.attributes.is_empty() {
            if self.attributes.iter().any(|s| is(s) && s.sub.is_none()) {
                return Some(strip_never(def, v));
            }
            let subs: Vec<&str> = self.attributes.iter().filter(|s| is(s)).filter_map(|s| s.sub.as_deref()).collect();
            if subs.is_empty() {
                return None;
            }
            return keep_subs(def, v, |name| {
                subs.contains(&name) || def.sub(name).is_some_and(|d| d.returned == Returned::Always)
            });
        }
        if def.returned == Returned::Request || self.excluded.iter().any(|s| is(s) && s.sub.is_none()) {
            return None;
        }
        let ex: Vec<&str> = self.excluded.iter().filter(|s| is(s)).filter_map(|s| s.sub.as_deref()).collect();
        let base = strip_never(def, v);
        if ex.is_empty() {
            return Some(base);
        }
        keep_subs(def, &base, |name| {
            !ex.contains(&name) || def.sub(name).is_some_and(|d| d.returned == Returned::Always)
        })
    }
}

/// Removes sub-attributes whose `returned` is `never` or `request`.
/// Applies the `returned` rules of a default response to one attribute's value: `false`
/// if the attribute is not shown at all, else strips its hidden sub-attributes.
fn keep_by_default(def: &AttrDef, v: &mut Value) -> bool {
    match def.returned {
        Returned::Never | Returned::Request => false,
        _ if def.sub_attributes.iter().any(|s| matches!(s.returned, Returned::Never | Returned::Request)) => {
            *v = strip_never(def, v);
            !v.is_null()
        }
        _ => true,
    }
}

fn strip_never(def: &AttrDef, v: &Value) -> Value {
    if def.sub_attributes.iter().all(|s| !matches!(s.returned, Returned::Never | Returned::Request)) {
        return v.clone();
    }
    keep_subs(def, v, |name| def.sub(name).is_none_or(|d| !matches!(d.returned, Returned::Never | Returned::Request)))
        .unwrap_or(Value::Null)
}

/// Keeps the sub-attributes `keep` accepts, in a complex value or each element of one.
fn keep_subs(def: &AttrDef, v: &Value, keep: impl Fn(&str) -> bool) -> Option<Value> {
    let filter_obj = |o: &Value| -> Option<Value> {
        let m: Map<String, Value> =
            o.as_object()?.iter().filter(|(k, _)| keep(k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        (!m.is_empty()).then_some(Value::Object(m))
    };
    match v {
        Value::Array(a) => {
            let items: Vec<Value> = a.iter().filter_map(filter_obj).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(_) => filter_obj(v),
        other => {
            let _ = def;
            Some(other.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::builtin::standard_registry;

    fn user() -> Value {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
               "id": "1", "userName": "u", "name": {"givenName": "g", "familyName": "f"},
               "emails": [{"value": "a", "type": "work"}],
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"},
               "meta": {"resourceType": "User"}})
    }

    #[test]
    fn default_hides_never_and_request_attributes_of_extensions_too() {
        let mut reg = standard_registry();
        let ext = reg.schemas.iter_mut().find(|s| s.id == crate::schema::ENTERPRISE_URN).unwrap();
        ext.attributes.iter_mut().find(|a| a.name == "employeeNumber").unwrap().returned = Returned::Never;
        let out = Projection::default().project_owned(&reg, ResourceKind::User, user());
        assert!(out.get(crate::schema::ENTERPRISE_URN).is_none(), "{out}");
        assert_eq!(out["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
        assert_eq!(out["userName"], "u");
        // Only the hidden attribute goes when the extension has others.
        let mut with_more = user();
        with_more[crate::schema::ENTERPRISE_URN]["costCenter"] = json!("cc");
        let out = Projection::default().project_owned(&reg, ResourceKind::User, with_more);
        assert_eq!(out[crate::schema::ENTERPRISE_URN], json!({"costCenter": "cc"}));
        assert_eq!(out["schemas"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn attributes_and_excluded() {
        let reg = standard_registry();
        let p =
            Projection::parse(&reg, ResourceKind::User, Some("userName,name.givenName,EMAILS.value"), None).unwrap();
        assert_eq!(
            p.project(&reg, ResourceKind::User, &user()),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "u",
                   "name": {"givenName": "g"}, "emails": [{"value": "a"}]})
        );
        let p = Projection::parse(
            &reg,
            ResourceKind::User,
            None,
            Some("name,emails.type,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
        )
        .unwrap();
        let out = p.project(&reg, ResourceKind::User, &user());
        assert!(out.get("name").is_none());
        assert_eq!(out["emails"], json!([{"value": "a"}]));
        assert_eq!(out["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
        assert_eq!(out["meta"]["resourceType"], "User");
        let p = Projection::parse(
            &reg,
            ResourceKind::User,
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
            None,
        )
        .unwrap();
        let out = p.project(&reg, ResourceKind::User, &user());
        assert_eq!(out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], json!({"employeeNumber": "7"}));
    }

    #[test]
    fn wants_members() {
        let reg = standard_registry();
        let p = Projection::parse(&reg, ResourceKind::Group, None, Some("members")).unwrap();
        assert!(!p.wants(&reg, ResourceKind::Group, "members"));
        let p = Projection::parse(&reg, ResourceKind::Group, Some("displayName"), None).unwrap();
        assert!(!p.wants(&reg, ResourceKind::Group, "members"));
        let p = Projection::default();
        assert!(p.wants(&reg, ResourceKind::Group, "members"));
        assert!(p.wants(&reg, ResourceKind::User, "groups"));
    }
}
