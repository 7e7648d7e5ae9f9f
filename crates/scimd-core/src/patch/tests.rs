//! The PATCH engine's tests: each operation, path form and refusal.

use serde_json::json;

use super::*;
use crate::builtin::standard_registry;

fn run(kind: ResourceKind, doc: Value, ops: Value) -> ScimResult<PatchOutcome> {
    let reg = standard_registry();
    let ops = parse_patch_request(&json!({"schemas": [PATCH_URN], "Operations": ops}), false)?;
    apply_patch(&reg, kind, &doc, &ops)
}

fn user() -> Value {
    json!({"userName": "u", "name": {"givenName": "g", "familyName": "f"},
           "emails": [{"value": "w@x", "type": "work", "primary": true}, {"value": "h@x", "type": "home"}]})
}

#[test]
fn entra_shapes() {
    let o = run(ResourceKind::User, user(), json!([{"op": "Replace", "path": "active", "value": "False"}])).unwrap();
    assert_eq!(o.doc["active"], false);
    let o = run(
        ResourceKind::User,
        user(),
        json!([{"op": "replace", "value": {"displayName": "x", "name.givenName": "y",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "z"}}]),
    )
    .unwrap();
    assert_eq!(o.doc["name"], json!({"givenName": "y", "familyName": "f"}));
    assert_eq!(o.doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], json!({"employeeNumber": "z"}));
    let o = run(
        ResourceKind::User,
        user(),
        json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "1"}]),
    )
    .unwrap();
    assert_eq!(o.doc["phoneNumbers"], json!([{"type": "mobile", "value": "1"}]));
    let o = run(
        ResourceKind::User,
        user(),
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "n@x"}]),
    )
    .unwrap();
    assert_eq!(o.doc["emails"][0], json!({"value": "n@x", "type": "work", "primary": true}));
    let o = run(ResourceKind::User, user(), json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m1"}])).unwrap();
    assert_eq!(o.doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"], json!({"value": "m1"}));
    let o = run(ResourceKind::User, o.doc, json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": ""}])).unwrap();
    assert!(o.doc.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").is_none());
}

#[test]
fn members() {
    let g = json!({"displayName": "g"});
    let o = run(
        ResourceKind::Group,
        g.clone(),
        json!([
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "a"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "b"}]},
            {"op": "remove", "path": "members[value eq \"c\"]"},
            {"op": "replace", "path": "members", "value": []},
            {"op": "remove", "path": "members[type eq \"User\"]"},
            {"op": "replace", "value": {"id": "x", "displayName": "new"}}
        ]),
    )
    .unwrap();
    assert_eq!(o.doc, json!({"displayName": "new"}));
    assert_eq!(o.member_ops.len(), 5);
    assert_eq!(o.member_ops[0], MemberOp::Add(vec![MemberValue { value: "a".into(), kind: None }]));
    assert_eq!(o.member_ops[1], MemberOp::Remove(vec!["b".into()]));
    assert_eq!(o.member_ops[2], MemberOp::Remove(vec!["c".into()]));
    assert_eq!(o.member_ops[3], MemberOp::RemoveAll);
    assert!(matches!(o.member_ops[4], MemberOp::RemoveWhere(_)));
}

#[test]
fn errors_and_atomicity() {
    let t = |ops: Value| run(ResourceKind::User, user(), ops).unwrap_err().scim_type.unwrap().as_str();
    assert_eq!(t(json!([{"op": "remove"}])), "noTarget");
    assert_eq!(t(json!([{"op": "replace", "path": "id", "value": "x"}])), "mutability");
    assert_eq!(t(json!([{"op": "replace", "path": "bogus", "value": "x"}])), "invalidPath");
    assert_eq!(t(json!([{"op": "remove", "path": "userName"}])), "invalidValue");
    assert_eq!(t(json!([{"op": "nope", "path": "title"}])), "invalidSyntax");
    assert_eq!(
        t(
            json!([{"op": "replace", "path": "emails[type co \"w\"].value", "value": "x"}, {"op": "replace", "path": "emails[value sw \"zz\"].value", "value": "y"}])
        ),
        "noTarget"
    );
}

#[test]
fn primary_moves() {
    let o = run(
        ResourceKind::User,
        user(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
    )
    .unwrap();
    let p: Vec<bool> = o.doc["emails"].as_array().unwrap().iter().map(|e| e["primary"] == true).collect();
    assert_eq!(p, vec![false, true]);
}

#[test]
fn password_goes_to_the_outcome() {
    let o = run(ResourceKind::User, user(), json!([{"op": "replace", "path": "password", "value": "s3cret"}])).unwrap();
    assert_eq!(o.password.as_deref(), Some("s3cret"));
    assert!(o.doc.get("password").is_none());
}

fn profile_registry(profile: Value) -> Registry {
    serde_json::from_value::<crate::profile::Profile>(profile).unwrap().registry().unwrap()
}

#[test]
fn writable_user_groups_become_member_ops() {
    let reg = profile_registry(json!({"user_groups_settable": true}));
    let ops = parse_patch_request(
        &json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "add", "path": "groups", "value": [{"value": "g1", "type": "direct"}]},
            {"op": "remove", "path": "groups[value eq \"g2\"]"},
            {"op": "replace", "value": {"groups": []}}
        ]}),
        false,
    )
    .unwrap();
    let o = apply_patch(&reg, ResourceKind::User, &user(), &ops).unwrap();
    assert_eq!(
        o.member_ops[0],
        MemberOp::Add(vec![MemberValue { value: "g1".into(), kind: Some(ResourceKind::Group) }])
    );
    assert_eq!(o.member_ops[1], MemberOp::Remove(vec!["g2".into()]));
    assert_eq!(o.member_ops[2], MemberOp::RemoveAll);
    assert_eq!(o.doc, user(), "groups never enter the document");
    // The standard registry keeps them read-only.
    let e = apply_patch(&standard_registry(), ResourceKind::User, &user(), &ops).unwrap_err();
    assert_eq!(e.scim_type, Some(crate::error::ScimType::Mutability));
}

#[test]
fn a_strict_registry_refuses_the_tolerated_shapes() {
    let strict = profile_registry(json!({"strict": true}));
    let run_strict = |ops: Value| {
        let ops = parse_patch_request(&json!({"schemas": [PATCH_URN], "Operations": ops}), true)?;
        apply_patch(&strict, ResourceKind::User, &user(), &ops)
    };
    for ops in [
        json!([{"op": "Replace", "path": "active", "value": false}]),
        json!([{"op": "replace", "path": "active", "value": "False"}]),
        json!([{"op": "replace", "value": {"name.givenName": "y"}}]),
        json!([{"op": "remove", "path": "emails", "value": [{"value": "h@x"}]}]),
        json!([{"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@x"}]),
    ] {
        assert!(run_strict(ops.clone()).is_err(), "{ops}");
        assert!(run(ResourceKind::User, user(), ops.clone()).is_ok(), "tolerated by default: {ops}");
    }
    assert!(parse_patch_request(&json!({"Operations": [{"op": "add", "path": "title", "value": "x"}]}), true).is_err());
    let o = run_strict(json!([{"op": "replace", "value": {"name": {"givenName": "y"}, "active": false}}])).unwrap();
    assert_eq!((o.doc["name"]["givenName"].clone(), o.doc["active"].clone()), (json!("y"), json!(false)));
}

#[test]
fn a_path_can_be_required() {
    let reg = profile_registry(json!({"patch_requires_path": true}));
    let ops = |o: Value| parse_patch_request(&json!({"schemas": [PATCH_URN], "Operations": o}), false).unwrap();
    let pathless = ops(
        json!([{"op": "replace", "path": "active", "value": false}, {"op": "replace", "value": {"active": false}}]),
    );
    let e = apply_patch(&reg, ResourceKind::User, &user(), &pathless).unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some(crate::error::ScimType::InvalidSyntax)));
    assert!(e.detail.contains("needs a 'path'"), "{}", e.detail);
    let with_path = ops(json!([{"op": "replace", "path": "active", "value": false}]));
    assert_eq!(apply_patch(&reg, ResourceKind::User, &user(), &with_path).unwrap().doc["active"], false);
}

#[test]
fn a_replace_of_a_complex_attribute_can_replace_it_whole() {
    let named = json!({"userName": "a", "name": {"givenName": "Ada", "familyName": "Lovelace"}});
    let ops = parse_patch_request(
        &json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "path": "name", "value": {"givenName": "Augusta"}}]}),
        false,
    )
    .unwrap();
    // RFC 7644: replace merges; the interoperability profile: the value is the whole attribute.
    let merged = apply_patch(&standard_registry(), ResourceKind::User, &named, &ops).unwrap();
    assert_eq!(merged.doc["name"], json!({"givenName": "Augusta", "familyName": "Lovelace"}));
    let whole = profile_registry(json!({"patch_replace_complex_whole": true}));
    let replaced = apply_patch(&whole, ResourceKind::User, &named, &ops).unwrap();
    assert_eq!(replaced.doc["name"], json!({"givenName": "Augusta"}));
    // add still merges.
    let add = parse_patch_request(
        &json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "name", "value": {"givenName": "Augusta"}}]}),
        false,
    )
    .unwrap();
    let added = apply_patch(&whole, ResourceKind::User, &named, &add).unwrap();
    assert_eq!(added.doc["name"], json!({"givenName": "Augusta", "familyName": "Lovelace"}));
}

#[test]
fn declared_types_hold_for_patch_too() {
    let reg = profile_registry(json!({"canonical_types": true, "type_values": {"roles": ["admin", "member"]}}));
    let ops = |o: Value| parse_patch_request(&json!({"schemas": [PATCH_URN], "Operations": o}), false).unwrap();
    let ok = ops(json!([{"op": "add", "path": "roles", "value": [{"value": "r1", "type": "Admin"}]}]));
    assert_eq!(apply_patch(&reg, ResourceKind::User, &user(), &ok).unwrap().doc["roles"][0]["type"], "Admin");
    let bad = ops(json!([{"op": "add", "path": "emails", "value": [{"value": "x@y", "type": "office"}]}]));
    let e = apply_patch(&reg, ResourceKind::User, &user(), &bad).unwrap_err();
    assert_eq!(e.scim_type, Some(crate::error::ScimType::InvalidValue));
    // No values were declared for entitlements: they have no type.
    let untyped = ops(json!([{"op": "add", "path": "entitlements", "value": [{"value": "e", "type": "x"}]}]));
    let e = apply_patch(&reg, ResourceKind::User, &user(), &untyped).unwrap_err();
    assert_eq!(e.scim_type, Some(crate::error::ScimType::InvalidSyntax), "{}", e.detail);
}
