//! The plan (pure: no IO): given the source's users and the target's, which users to
//! create, which to update and how (minimal PATCH operations, or a full PUT body for a
//! target without PATCH), and what to do with users the source does not know. Also the
//! per-user diffs `--dry-run` prints.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use crate::source::{Field, SourceUser, get_ci};

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// How source and target users are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKey {
    /// Case-insensitively, as SCIM compares userNames.
    UserName,
    ExternalId,
}

impl MatchKey {
    pub fn field(self) -> Field {
        match self {
            MatchKey::UserName => Field::Attr("userName".into()),
            MatchKey::ExternalId => Field::Attr("externalId".into()),
        }
    }

    fn normalize(self, v: &str) -> String {
        match self {
            // The same name as SCIM servers compare them (case, Unicode forms, spaces at the ends).
            MatchKey::UserName => scimd_core::user_name::key(v),
            MatchKey::ExternalId => v.to_string(),
        }
    }
}

/// What to do with a target user the source does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    Delete,
    Deactivate,
    Report,
}

/// One field's change, for the dry run's diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    pub from: Option<Value>,
    pub to: Option<Value>,
}

/// One request's worth of work.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        key: String,
        body: Value,
    },
    /// `ops` for PATCH, `put` for a target without PATCH; `deactivates` when it turns
    /// `active` from true to false.
    Update {
        key: String,
        id: String,
        ops: Vec<Value>,
        put: Value,
        changes: Vec<Change>,
        deactivates: bool,
    },
    /// A user unknown at the source, deactivated (policy `deactivate`).
    Deactivate {
        key: String,
        id: String,
        put: Value,
    },
    Delete {
        key: String,
        id: String,
    },
    /// A user unknown at the source, only reported (policy `report`).
    Report {
        key: String,
        id: String,
    },
}

impl Action {
    pub fn key(&self) -> &str {
        match self {
            Action::Create { key, .. }
            | Action::Update { key, .. }
            | Action::Deactivate { key, .. }
            | Action::Delete { key, .. }
            | Action::Report { key, .. } => key,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Update { .. } => "update",
            Action::Deactivate { .. } => "deactivate",
            Action::Delete { .. } => "delete",
            Action::Report { .. } => "report",
        }
    }
}

/// The work of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Source users that need nothing.
    pub unchanged: u64,
    /// Source users that cannot be synced (no key, a key twice), with the reason.
    pub problems: Vec<(String, String)>,
}

impl Plan {
    pub fn count(&self, kind: &str) -> u64 {
        self.actions.iter().filter(|a| a.kind() == kind).count() as u64
    }
}

/// Two values are the same if equal as JSON, or as text (a CSV cell against a number).
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            x == y
                || match (x, y) {
                    (Value::String(s), other) | (other, Value::String(s)) if !other.is_string() => {
                        other.to_string().eq_ignore_ascii_case(s)
                    }
                    _ => false,
                }
        }
        _ => false,
    }
}

fn is_active(user: &Value) -> bool {
    get_ci(user, "active").is_none_or(|a| a != &Value::Bool(false) && a != &Value::String("false".into()))
}

/// A target user's key.
fn target_key(key: MatchKey, user: &Value) -> Option<String> {
    key.field().get(user).and_then(Value::as_str).map(|s| key.normalize(s))
}

fn display_key(user: &Value) -> String {
    get_ci(user, "userName").and_then(Value::as_str).unwrap_or("?").to_string()
}

/// The body that creates a source user.
fn create_body(u: &SourceUser) -> Value {
    let mut body = Map::new();
    let mut schemas = vec![Value::String(CORE_USER.into())];
    for (f, v) in &u.fields {
        if let (Field::Ext { urn, .. }, Some(_)) = (f, v)
            && !schemas.iter().any(|s| s == urn)
        {
            schemas.push(Value::String(urn.clone()));
        }
        if v.is_some() {
            f.set(&mut body, v.as_ref());
        }
    }
    let mut out = Map::new();
    out.insert("schemas".into(), Value::Array(schemas));
    out.extend(body);
    Value::Object(out)
}

/// A target user with some fields set, as a full PUT body.
fn put_body(target: &Value, set: &[(Field, Option<Value>)]) -> Value {
    let mut body = target.as_object().cloned().unwrap_or_default();
    for k in ["id", "meta", "groups"] {
        body.retain(|key, _| !key.eq_ignore_ascii_case(k));
    }
    for (f, v) in set {
        f.set(&mut body, v.as_ref());
    }
    if !body.contains_key("schemas") {
        body.insert("schemas".into(), json!([CORE_USER]));
    }
    Value::Object(body)
}

/// The minimal PATCH operations turning the target's fields into the source's.
fn patch_ops(target: &Value, changes: &[(Field, Option<Value>)]) -> Vec<Value> {
    let mut ops = Vec::new();
    // New elements of a multi-valued attribute, one `add` per (attribute, type).
    let mut adds: BTreeMap<(String, String), Map<String, Value>> = BTreeMap::new();
    for (f, v) in changes {
        match (f, v) {
            (Field::Typed { attr, ty, sub }, Some(v)) => {
                let has_element =
                    Field::Typed { attr: attr.clone(), ty: ty.clone(), sub: "type".into() }.get(target).is_some();
                if has_element {
                    ops.push(json!({"op": "replace", "path": f.path(), "value": v}));
                } else {
                    let el = adds.entry((attr.clone(), ty.clone())).or_default();
                    el.insert("type".into(), Value::String(ty.clone()));
                    el.insert(sub.clone(), v.clone());
                }
            }
            (Field::Typed { attr, ty, sub }, None) if sub == "value" => {
                ops.push(json!({"op": "remove", "path": format!("{attr}[type eq \"{ty}\"]")}));
            }
            (f, Some(v)) => ops.push(json!({"op": "replace", "path": f.path(), "value": v})),
            (f, None) => ops.push(json!({"op": "remove", "path": f.path()})),
        }
    }
    for ((attr, _), el) in adds {
        ops.push(json!({"op": "add", "path": attr, "value": [Value::Object(el)]}));
    }
    ops
}

/// Plans a run.
pub fn plan(source: &[SourceUser], managed: &[Field], target: &[Value], key: MatchKey, unknown: Unknown) -> Plan {
    let mut out = Plan::default();
    let key_field = key.field();
    let mut by_key: HashMap<String, &Value> = HashMap::with_capacity(target.len());
    for t in target {
        if let Some(k) = target_key(key, t) {
            by_key.insert(k, t);
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(source.len());
    for u in source {
        let Some(k) = u.get(&key_field).and_then(Value::as_str).map(|s| key.normalize(s)) else {
            out.problems.push((format!("line {}", u.line), format!("no {}", key_field.path())));
            continue;
        };
        if let Some(first) = seen.insert(k.clone(), u.line) {
            out.problems.push((k.clone(), format!("lines {first} and {} have the same {}", u.line, key_field.path())));
            continue;
        }
        let name = u.get(&Field::Attr("userName".into())).and_then(Value::as_str).unwrap_or(&k).to_string();
        let Some(t) = by_key.get(&k) else {
            out.actions.push(Action::Create { key: name, body: create_body(u) });
            continue;
        };
        let changes: Vec<(Field, Option<Value>)> = managed
            .iter()
            .filter_map(|f| {
                let s = u.fields.get(f).cloned().flatten();
                // The key itself matched; a userName differing in case only is the same.
                let equal = if *f == key_field {
                    s.as_ref().and_then(Value::as_str).map(|x| key.normalize(x)) == target_key(key, t)
                } else {
                    same(s.as_ref(), f.get(t))
                };
                (!equal).then(|| (f.clone(), s))
            })
            .collect();
        if changes.is_empty() {
            out.unchanged += 1;
            continue;
        }
        let id = get_ci(t, "id").and_then(Value::as_str).unwrap_or_default().to_string();
        let deactivates = is_active(t)
            && changes.iter().any(|(f, v)| f == &Field::Attr("active".into()) && v == &Some(Value::Bool(false)));
        out.actions.push(Action::Update {
            key: name,
            id,
            ops: patch_ops(t, &changes),
            put: put_body(t, &changes),
            changes: changes
                .iter()
                .map(|(f, v)| Change { path: f.path(), from: f.get(t).cloned(), to: v.clone() })
                .collect(),
            deactivates,
        });
    }
    let known: std::collections::HashSet<&String> = seen.keys().collect();
    let mut unknown_users: Vec<&Value> =
        target.iter().filter(|t| target_key(key, t).is_none_or(|k| !known.contains(&k))).collect();
    unknown_users.sort_by_key(|t| display_key(t));
    for t in unknown_users {
        let id = get_ci(t, "id").and_then(Value::as_str).unwrap_or_default().to_string();
        let name = display_key(t);
        match unknown {
            Unknown::Delete => out.actions.push(Action::Delete { key: name, id }),
            Unknown::Deactivate if is_active(t) => out.actions.push(Action::Deactivate {
                key: name,
                id,
                put: put_body(t, &[(Field::Attr("active".into()), Some(Value::Bool(false)))]),
            }),
            Unknown::Deactivate => {}
            Unknown::Report => out.actions.push(Action::Report { key: name, id }),
        }
    }
    out
}

/// A PatchOp request of operations.
pub fn patch_request(ops: &[Value]) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(fields: &[(&str, Option<Value>)], line: usize) -> SourceUser {
        SourceUser { line, fields: fields.iter().map(|(f, v)| (Field::parse(f).unwrap(), v.clone())).collect() }
    }

    #[test]
    fn user_names_match_as_the_same_name() {
        let managed: Vec<Field> = ["userName", "active"].iter().map(|f| Field::parse(f).unwrap()).collect();
        let source = vec![
            src(&[("userName", Some(json!("STRASSE"))), ("active", Some(json!(true)))], 2),
            src(&[("userName", Some(json!("cafe\u{301} "))), ("active", Some(json!(true)))], 3),
        ];
        let target = vec![
            json!({"id": "1", "userName": "straße", "active": true}),
            json!({"id": "2", "userName": "Café", "active": true}),
        ];
        let p = plan(&source, &managed, &target, MatchKey::UserName, Unknown::Report);
        assert_eq!(p.unchanged, 2, "{:?}", p.actions);
        assert!(p.actions.is_empty() && p.problems.is_empty(), "{:?} {:?}", p.actions, p.problems);
    }

    #[test]
    fn creates_minimal_updates_and_unknown_policies() {
        let managed: Vec<Field> = ["userName", "name.givenName", "emails[type eq \"work\"].value", "active"]
            .iter()
            .map(|f| Field::parse(f).unwrap())
            .collect();
        let source = vec![
            src(
                &[
                    ("userName", Some(json!("Ada"))),
                    ("name.givenName", Some(json!("Ada"))),
                    ("emails[type eq \"work\"].value", Some(json!("ada@x"))),
                    ("active", Some(json!(true))),
                ],
                2,
            ),
            src(
                &[
                    ("userName", Some(json!("bob"))),
                    ("name.givenName", Some(json!("Bob"))),
                    ("emails[type eq \"work\"].value", None),
                    ("active", Some(json!(false))),
                ],
                3,
            ),
            src(
                &[
                    ("userName", Some(json!("cy"))),
                    ("name.givenName", None),
                    ("emails[type eq \"work\"].value", Some(json!("cy@x"))),
                    ("active", None),
                ],
                4,
            ),
            src(&[("userName", Some(json!("ADA")))], 5),
        ];
        let target = vec![
            json!({"id": "1", "userName": "ada", "name": {"givenName": "Ada"}, "emails": [{"type": "work", "value": "ada@x"}], "active": true}),
            json!({"id": "2", "userName": "bob", "name": {"givenName": "Robert"}, "emails": [{"type": "work", "value": "b@x"}], "active": true}),
            json!({"id": "9", "userName": "zed", "active": true}),
        ];
        let p = plan(&source, &managed, &target, MatchKey::UserName, Unknown::Deactivate);
        assert_eq!(p.unchanged, 1, "Ada matches ada, nothing differs");
        assert_eq!(p.problems.len(), 1, "ADA again: {:?}", p.problems);
        let Action::Update { ops, deactivates, .. } = &p.actions[0] else { panic!("{:?}", p.actions[0]) };
        assert!(deactivates);
        assert_eq!(ops.len(), 3, "{ops:?}");
        assert!(ops.contains(&json!({"op": "replace", "path": "name.givenName", "value": "Bob"})));
        assert!(ops.contains(&json!({"op": "remove", "path": "emails[type eq \"work\"]"})));
        let Action::Create { body, .. } = &p.actions[1] else { panic!() };
        assert_eq!(
            body,
            &json!({"schemas": [CORE_USER], "userName": "cy", "emails": [{"type": "work", "value": "cy@x"}]})
        );
        assert!(matches!(&p.actions[2], Action::Deactivate { id, .. } if id == "9"));
        let p = plan(&source, &managed, &target, MatchKey::UserName, Unknown::Delete);
        assert!(matches!(p.actions.last(), Some(Action::Delete { id, .. }) if id == "9"));
        // The same plan again once applied: nothing.
        let applied = vec![
            target[0].clone(),
            json!({"id": "2", "userName": "bob", "name": {"givenName": "Bob"}, "active": false}),
            json!({"id": "3", "userName": "cy", "emails": [{"type": "work", "value": "cy@x"}]}),
        ];
        let p = plan(&source[..3], &managed, &applied, MatchKey::UserName, Unknown::Report);
        assert_eq!((p.actions.len(), p.unchanged), (0, 3), "{:?}", p.actions);
    }

    #[test]
    fn a_missing_typed_element_is_added_and_put_bodies_are_whole() {
        let target =
            json!({"id": "1", "userName": "a", "meta": {}, "title": "T", "emails": [{"type": "home", "value": "h@x"}]});
        let changes = vec![(Field::parse("emails[type eq \"work\"].value").unwrap(), Some(json!("w@x")))];
        assert_eq!(
            patch_ops(&target, &changes),
            vec![json!({"op": "add", "path": "emails", "value": [{"type": "work", "value": "w@x"}]})]
        );
        let put = put_body(&target, &changes);
        assert_eq!(
            put,
            json!({"userName": "a", "title": "T", "emails": [{"type": "home", "value": "h@x"}, {"type": "work", "value": "w@x"}], "schemas": [CORE_USER]})
        );
    }
}
