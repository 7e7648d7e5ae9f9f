//! Resources and list responses as JSON text, written straight from the stored
//! document's text.
//!
//! A default response (no `attributes` / `excludedAttributes`) shows the stored document
//! as it is, framed by `schemas`, `id`, the computed `groups` / `members` and `meta`. An
//! [`OutputPlan`] decides once per registry and kind whether that holds (no stored
//! attribute is `returned: never/request`); when it does, [`OutputPlan::write_default`]
//! copies the document's top-level values as raw text instead of parsing them into a
//! tree and serializing them again. Its output is byte-for-byte what
//! [`crate::resource::full_resource`] followed by
//! [`crate::projection::Projection::project_owned`] and compact serialization produce
//! (tested below); whenever the plan does not apply, callers use that path.

use std::io::Write;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::list::LIST_URN;
use crate::resource::{CLIENT_SCHEMA, MemberRef, Meta, client_schema};
use crate::schema::{AttrDef, Registry, ResourceKind, Returned};

fn shown_by_default(r: Returned) -> bool {
    matches!(r, Returned::Always | Returned::Default)
}

/// Whether an attribute and all its sub-attributes are shown by default.
fn wholly_shown(def: &AttrDef) -> bool {
    shown_by_default(def.returned) && def.sub_attributes.iter().all(|s| shown_by_default(s.returned))
}

/// How default responses of one resource kind are written, computed from a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPlan {
    kind: ResourceKind,
    /// The core schema URN and `meta.resourceType` of the kind.
    core_urn: String,
    type_name: String,
    /// Extension URNs in registry order (their objects follow the core attributes).
    extensions: Vec<String>,
    /// The stored document can be copied as text.
    verbatim: bool,
    /// Which of `value`, `$ref`, `display`, `type` a related entry shows by default.
    related_subs: [bool; 4],
    /// Whether `groups` / `members` is shown by default at all.
    related_shown: bool,
}

const RELATED_SUBS: [&str; 4] = ["value", "$ref", "display", "type"];

impl OutputPlan {
    /// The kind the plan writes.
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    pub fn new(reg: &Registry, kind: ResourceKind) -> OutputPlan {
        let related_name = related_attr(kind);
        let core = reg.core_schema(kind);
        let exts = reg.extensions(kind);
        let related = core.attr(related_name);
        // Everything a stored document can hold (core attributes except the computed
        // related one and writeOnly ones, which are never stored; extension attributes)
        // plus the common attributes must be shown whole by default.
        let core_ok = core
            .attributes
            .iter()
            .filter(|a| !a.name.eq_ignore_ascii_case(related_name))
            .filter(|a| a.mutability != crate::schema::Mutability::WriteOnly)
            .all(wholly_shown);
        let ext_ok = exts.iter().all(|s| s.attributes.iter().all(wholly_shown));
        let common_ok = reg.common.iter().all(wholly_shown);
        let related_subs =
            RELATED_SUBS.map(|name| related.and_then(|d| d.sub(name)).is_none_or(|s| shown_by_default(s.returned)));
        OutputPlan {
            kind,
            core_urn: reg.core_urn(kind).to_string(),
            type_name: reg.type_name(kind).to_string(),
            extensions: exts.iter().map(|s| s.id.clone()).collect(),
            verbatim: core_ok && ext_ok && common_ok,
            related_subs,
            related_shown: related.is_some_and(|d| shown_by_default(d.returned)),
        }
    }

    /// Whether [`Self::write_default`] can be used for this kind at all.
    pub fn verbatim(&self) -> bool {
        self.verbatim
    }

    /// Writes the default response of a resource from its stored document text (a JSON
    /// object with canonical keys). Returns `false`, having written nothing, if the plan
    /// does not apply or the text is not such an object; the caller then renders from
    /// the parsed document.
    pub fn write_default(
        &self,
        out: &mut Vec<u8>,
        doc_json: &str,
        id: &str,
        meta: &Meta,
        related: Option<&[MemberRef]>,
    ) -> bool {
        if !self.verbatim {
            return false;
        }
        let Ok(Entries(entries)) = serde_json::from_str::<Entries<'_>>(doc_json) else { return false };
        let is_ext = |k: &str| self.extensions.iter().any(|e| e == k);
        // The core schema as the client named it, when the document keeps one.
        let stored_core = match entries.iter().find(|(k, _)| *k == CLIENT_SCHEMA) {
            Some((_, v)) => match serde_json::from_str::<Value>(v.get()) {
                Ok(v) => client_schema(&v).map(str::to_string),
                Err(_) => return false,
            },
            None => None,
        };
        out.extend_from_slice(b"{\"schemas\":[");
        write_str(out, stored_core.as_deref().unwrap_or(&self.core_urn));
        for ext in &self.extensions {
            if entries.iter().any(|(k, _)| *k == ext.as_str()) {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(ext.as_bytes());
                out.push(b'"');
            }
        }
        out.extend_from_slice(b"],\"id\":");
        write_str(out, id);
        // Keys borrowed from the document have no escapes, so they are written as they are.
        let core_entries = entries.iter().filter(|(k, _)| !is_ext(k) && *k != CLIENT_SCHEMA);
        for (k, v) in core_entries.chain(entries.iter().filter(|(k, _)| is_ext(k))) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"\":");
            out.extend_from_slice(v.get().as_bytes());
        }
        if let Some(rel) = related.filter(|r| !r.is_empty() && self.related_shown) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(related_attr(self.kind).as_bytes());
            out.extend_from_slice(b"\":[");
            for (i, m) in rel.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let t = match self.kind {
                    ResourceKind::Group | ResourceKind::Custom(_) => m.kind.name(),
                    ResourceKind::User => "direct",
                };
                let values = [Some(m.value.as_str()), Some(m.location.as_str()), m.display.as_deref(), Some(t)];
                let mut first = true;
                out.push(b'{');
                for ((name, shown), value) in RELATED_SUBS.iter().zip(self.related_subs).zip(values) {
                    let Some(value) = value.filter(|_| shown) else { continue };
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.push(b'"');
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b"\":");
                    write_str(out, value);
                }
                out.push(b'}');
            }
            out.push(b']');
        }
        out.extend_from_slice(b",\"meta\":{\"resourceType\":\"");
        out.extend_from_slice(self.type_name.as_bytes());
        out.extend_from_slice(b"\",\"created\":");
        write_str(out, &meta.created);
        out.extend_from_slice(b",\"lastModified\":");
        write_str(out, &meta.last_modified);
        out.extend_from_slice(b",\"location\":");
        write_str(out, &meta.location);
        out.extend_from_slice(b",\"version\":");
        write_str(out, &meta.version);
        out.extend_from_slice(b"}}");
        true
    }
}

/// `groups` for users, `members` for groups: computed from membership rows.
fn related_attr(kind: ResourceKind) -> &'static str {
    match kind {
        // A declared type has no relation, so its list is always empty.
        ResourceKind::Group | ResourceKind::Custom(_) => "members",
        ResourceKind::User => "groups",
    }
}

/// A JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Opens a ListResponse (RFC 7644 §3.4.2): everything up to the first resource.
/// Resources follow, separated by commas, then [`close_list`].
pub fn open_list(out: &mut Vec<u8>, total: u64, start_index: u64, items_per_page: usize) {
    let _ = write!(
        out,
        "{{\"schemas\":[\"{LIST_URN}\"],\"totalResults\":{total},\"startIndex\":{start_index},\
         \"itemsPerPage\":{items_per_page},\"Resources\":["
    );
}

/// Opens a ListResponse of cursor pagination (RFC 9865): `nextCursor` instead of `startIndex`.
pub fn open_cursor_list(out: &mut Vec<u8>, total: u64, next_cursor: Option<&str>, items_per_page: usize) {
    let _ = write!(out, "{{\"schemas\":[\"{LIST_URN}\"],\"totalResults\":{total},");
    if let Some(c) = next_cursor {
        // A cursor is base64url: no character JSON would escape.
        let _ = write!(out, "\"nextCursor\":\"{c}\",");
    }
    let _ = write!(out, "\"itemsPerPage\":{items_per_page},\"Resources\":[");
}

/// Closes a ListResponse opened by [`open_list`].
pub fn close_list(out: &mut Vec<u8>) {
    out.extend_from_slice(b"]}");
}

/// The top-level entries of a JSON object, in order, as raw text.
struct Entries<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(12));
                while let Some(e) = map.next_entry::<&'de str, &'de RawValue>()? {
                    v.push(e);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::builtin::standard_registry;
    use crate::list::list_response;
    use crate::projection::Projection;
    use crate::resource::{full_resource, prepare};
    use crate::schema::{ENTERPRISE_URN, Mutability};

    fn meta() -> Meta {
        Meta {
            created: "2026-01-02T03:04:05.678Z".into(),
            last_modified: "2026-01-02T03:04:05.679Z".into(),
            location: "http://h/scim/v2/Users/a\"b".into(),
            version: "W/\"3\"".into(),
        }
    }

    fn related(kind: ResourceKind) -> Vec<MemberRef> {
        vec![
            MemberRef { value: "g1".into(), display: Some("Group \"1\"".into()), kind, location: "http://h/1".into() },
            MemberRef { value: "u2".into(), display: None, kind: ResourceKind::User, location: "http://h/2".into() },
        ]
    }

    /// The reference: parse, build the full resource, project, serialize.
    fn by_value(reg: &Registry, kind: ResourceKind, doc: &Value, rel: Option<&[MemberRef]>) -> Vec<u8> {
        let full = full_resource(reg, kind, doc.clone(), "id-1", &meta(), rel);
        serde_json::to_vec(&Projection::default().project_owned(reg, kind, full)).unwrap()
    }

    fn by_text(reg: &Registry, kind: ResourceKind, doc: &Value, rel: Option<&[MemberRef]>) -> Vec<u8> {
        let mut out = Vec::new();
        let text = serde_json::to_string(doc).unwrap();
        assert!(OutputPlan::new(reg, kind).write_default(&mut out, &text, "id-1", &meta(), rel));
        out
    }

    #[test]
    fn same_bytes_as_the_value_path() {
        let reg = standard_registry();
        let user = prepare(
            &reg,
            ResourceKind::User,
            &json!({
                ENTERPRISE_URN: {"employeeNumber": "7", "manager": {"value": "m"}},
                "userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "J\u{e9}nsen"},
                "emails": [{"value": "b@x", "type": "work", "primary": true}], "active": true,
                "displayName": "Babs \"B\" \\ \n", "externalId": "e1",
            }),
        )
        .unwrap()
        .doc;
        for rel in [None, Some(related(ResourceKind::Group))] {
            assert_eq!(
                String::from_utf8(by_text(&reg, ResourceKind::User, &user, rel.as_deref())).unwrap(),
                String::from_utf8(by_value(&reg, ResourceKind::User, &user, rel.as_deref())).unwrap()
            );
        }
        let group = prepare(&reg, ResourceKind::Group, &json!({"displayName": "G"})).unwrap().doc;
        for rel in [None, Some(vec![]), Some(related(ResourceKind::User))] {
            let (t, v) = (
                by_text(&reg, ResourceKind::Group, &group, rel.as_deref()),
                by_value(&reg, ResourceKind::Group, &group, rel.as_deref()),
            );
            assert_eq!(String::from_utf8(t).unwrap(), String::from_utf8(v).unwrap());
        }
        // members.display is returned on request only: not in a default response.
        let out = by_text(&reg, ResourceKind::Group, &group, Some(&related(ResourceKind::User)));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert!(v["members"][0].get("display").is_none(), "{v}");
        assert_eq!(v["members"][0]["type"], "User");
        let empty = by_text(&reg, ResourceKind::User, &json!({}), None);
        assert_eq!(empty, by_value(&reg, ResourceKind::User, &json!({}), None));
    }

    #[test]
    fn a_kept_client_schema_is_named_in_place_of_the_core_urn_on_both_paths() {
        let reg = standard_registry();
        let mut user = prepare(
            &reg,
            ResourceKind::User,
            &json!({ENTERPRISE_URN: {"employeeNumber": "7"}, "userName": "bond", "title": "007"}),
        )
        .unwrap()
        .doc;
        crate::resource::set_client_schema(&mut user, Some("urn:scim:schemas:core:1.0"));
        let (t, v) = (by_text(&reg, ResourceKind::User, &user, None), by_value(&reg, ResourceKind::User, &user, None));
        assert_eq!(String::from_utf8(t.clone()).unwrap(), String::from_utf8(v).unwrap());
        let out: Value = serde_json::from_slice(&t).unwrap();
        assert_eq!(out["schemas"], json!(["urn:scim:schemas:core:1.0", ENTERPRISE_URN]), "{out}");
        assert_eq!(out.as_object().unwrap().keys().filter(|k| *k == "schemas").count(), 1);
        assert_eq!(out["title"], "007");
        crate::resource::set_client_schema(&mut user, None);
        let out: Value = serde_json::from_slice(&by_text(&reg, ResourceKind::User, &user, None)).unwrap();
        assert_eq!(out["schemas"][0], ResourceKind::User.core_urn());
    }

    #[test]
    fn hidden_attributes_turn_the_plan_off() {
        let mut reg = standard_registry();
        assert!(OutputPlan::new(&reg, ResourceKind::User).verbatim());
        let ext = reg.schemas.iter_mut().find(|s| s.id == ENTERPRISE_URN).unwrap();
        ext.attributes[0].returned = Returned::Never;
        let plan = OutputPlan::new(&reg, ResourceKind::User);
        assert!(!plan.verbatim());
        let mut out = Vec::new();
        assert!(!plan.write_default(&mut out, "{}", "x", &meta(), None));
        assert!(out.is_empty());
        // The writeOnly password (never stored) does not count.
        let reg = standard_registry();
        assert_eq!(reg.core_schema(ResourceKind::User).attr("password").unwrap().mutability, Mutability::WriteOnly);
    }

    #[test]
    fn refuses_what_is_not_a_plain_object() {
        let reg = standard_registry();
        let plan = OutputPlan::new(&reg, ResourceKind::User);
        for bad in ["[]", "nope", "{\"a\\u0062\":1}", ""] {
            let mut out = Vec::new();
            assert!(!plan.write_default(&mut out, bad, "x", &meta(), None), "{bad}");
            assert!(out.is_empty());
        }
    }

    #[test]
    fn list_frame_matches_list_response() {
        let items = vec![json!({"a": 1}), json!({"b": [1, 2]})];
        let mut out = Vec::new();
        open_list(&mut out, 7, 3, items.len());
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, it).unwrap();
        }
        close_list(&mut out);
        assert_eq!(out, serde_json::to_vec(&list_response(7, 3, items)).unwrap());
        let mut empty = Vec::new();
        open_list(&mut empty, 0, 1, 0);
        close_list(&mut empty);
        assert_eq!(empty, serde_json::to_vec(&list_response(0, 1, vec![])).unwrap());
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), "[a-zA-Z0-9 \"\\\\é\u{1F600}\n\t]{1,12}"]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever a client sends, once prepared and stored, both paths agree.
        #[test]
        fn text_path_equals_value_path(
            user_name in "[a-z]{1,8}",
            display in text(),
            given in text(),
            emails in proptest::collection::vec((text(), prop_oneof![Just("work"), Just("home")], any::<bool>()), 0..3),
            active in proptest::option::of(any::<bool>()),
            employee in proptest::option::of(text()),
            ext_first in any::<bool>(),
            n_rel in 0usize..3,
        ) {
            let reg = standard_registry();
            let mut body = serde_json::Map::new();
            if ext_first && let Some(e) = &employee {
                body.insert(ENTERPRISE_URN.into(), json!({"employeeNumber": e}));
            }
            body.insert("userName".into(), json!(user_name));
            body.insert("displayName".into(), json!(display));
            body.insert("name".into(), json!({"givenName": given}));
            body.insert("emails".into(), Value::Array(emails.iter().map(|(v, t, p)| json!({"value": v, "type": t, "primary": p})).collect()));
            if let Some(a) = active { body.insert("active".into(), json!(a)); }
            if !ext_first && let Some(e) = &employee {
                body.insert(ENTERPRISE_URN.into(), json!({"employeeNumber": e}));
            }
            let Ok(p) = prepare(&reg, ResourceKind::User, &Value::Object(body)) else { return Ok(()) };
            let rel: Vec<MemberRef> = related(ResourceKind::Group).into_iter().take(n_rel).collect();
            prop_assert_eq!(
                by_text(&reg, ResourceKind::User, &p.doc, Some(&rel)),
                by_value(&reg, ResourceKind::User, &p.doc, Some(&rel))
            );
        }
    }
}
