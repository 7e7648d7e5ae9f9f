//! Preparing a body, its index entries and its output slots, tested.

use serde_json::json;

use super::*;
use crate::builtin::standard_registry;
use crate::schema::ENTERPRISE_URN;

fn prep(v: Value) -> ScimResult<Prepared> {
    prepare(&standard_registry(), ResourceKind::User, &v)
}

#[test]
fn canonical_names_nulls_readonly_and_password() {
    let p = prep(json!({"USERNAME": "a", "Name": {"givenname": "G", "familyName": null}, "id": "x", "groups": [],
        "addresses": null, "roles": [], "password": "pw", "nickName": "", "active": "False",
        "meta": {"created": "x"}}))
    .unwrap();
    assert_eq!(p.doc, json!({"userName": "a", "name": {"givenName": "G"}, "active": false}));
    assert_eq!(p.password.as_deref(), Some("pw"));
}

#[test]
fn urn_keys_and_paths() {
    let p = prep(json!({"userName": "a", "name.givenName": "G",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"manager": "boss-id"}}))
    .unwrap();
    assert_eq!(p.doc["name"], json!({"givenName": "G"}));
    assert_eq!(p.doc[ENTERPRISE_URN], json!({"employeeNumber": "7", "manager": {"value": "boss-id"}}));
}

#[test]
fn errors() {
    let e = |v: Value| prep(v).unwrap_err().scim_type.unwrap().as_str();
    assert_eq!(e(json!({"name": {"givenName": "x"}})), "invalidValue");
    assert_eq!(e(json!({"userName": "a", "bogus": 1})), "invalidSyntax");
    assert_eq!(e(json!({"userName": "a", "name": {"bogus": 1}})), "invalidSyntax");
    assert_eq!(e(json!({"userName": "a", "schemas": ["urn:x"]})), "invalidSyntax");
    assert_eq!(e(json!({"userName": "a", "schemas": [ENTERPRISE_URN]})), "invalidSyntax");
    assert_eq!(e(json!({"userName": ["a"]})), "invalidValue");
    assert_eq!(
        e(json!({"userName": "a", "emails": [{"value": "x", "primary": true}, {"value": "y", "primary": true}]})),
        "invalidValue"
    );
    assert_eq!(e(json!({"userName": "a", "x509Certificates": [{"value": "@@@"}]})), "invalidValue");
}

#[test]
fn index_rows() {
    let reg = standard_registry();
    let p =
        prep(json!({"userName": "Ab", "emails": [{"value": "X@Y", "type": "work", "primary": true}, {"value": "z"}],
        "externalId": "EXT", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"}}))
        .unwrap();
    let rows = index_entries(&reg, ResourceKind::User, &p.doc);
    let has = |k: &str, e: i64, s: Option<&str>, n: Option<f64>| {
        rows.iter().any(|r| r.key == k && r.elem == e && r.s.as_deref() == s && r.n == n)
    };
    assert!(has("username", 0, Some("ab"), None));
    assert!(has("emails", 0, None, None));
    assert!(has("emails", 1, None, None));
    assert!(has("emails.value", 0, Some("x@y"), None));
    assert!(has("emails.primary", 0, None, Some(1.0)));
    assert!(has("emails.value", 1, Some("z"), None));
    assert!(has("externalid", 0, Some("EXT"), None));
    assert!(has("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber", 0, Some("7"), None));
}

#[test]
fn immutable_attributes_cannot_change_once_set() {
    let mut reg = standard_registry();
    let user = reg.schemas.iter_mut().find(|s| s.id == crate::schema::USER_URN).unwrap();
    let mut badge = AttrDef::new("badgeId", AttrType::String);
    badge.mutability = Mutability::Immutable;
    user.attributes.push(badge);
    let old = json!({"userName": "u"});
    // Setting it the first time is allowed; changing or clearing it afterwards is not.
    assert!(check_immutable(&reg, ResourceKind::User, &old, &json!({"userName": "u", "badgeId": "b1"})).is_ok());
    let set = json!({"userName": "u", "badgeId": "b1"});
    assert!(check_immutable(&reg, ResourceKind::User, &set, &set).is_ok());
    for new in [json!({"userName": "u", "badgeId": "b2"}), json!({"userName": "u"})] {
        let e = check_immutable(&reg, ResourceKind::User, &set, &new).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::Mutability));
        assert!(e.detail.contains("badgeId"));
    }
}

#[test]
fn members() {
    let reg = standard_registry();
    let p = prepare(
        &reg,
        ResourceKind::Group,
        &json!({"displayName": "g", "members": [{"value": "a", "$ref": null}, {"value": "b", "type": "group"}]}),
    )
    .unwrap();
    assert_eq!(
        p.members.unwrap(),
        vec![
            MemberValue { value: "a".into(), kind: None },
            MemberValue { value: "b".into(), kind: Some(ResourceKind::Group) }
        ]
    );
    assert!(
        prepare(&reg, ResourceKind::Group, &json!({"displayName": "g", "members": [{"value": "a", "type": "robot"}]}))
            .is_err()
    );
}
