//! The `type` values a tenant accepts: when its profile asks for them
//! (`crate::profile::Profile::canonical_types`), every element of a multi-valued complex
//! attribute must carry a `type` its schema lists in the sub-attribute's `canonicalValues`,
//! so that what `/Schemas` declares is what the server takes. Values match without regard
//! to case (a `type` is not `caseExact` in RFC 7643) and are stored as sent.

use serde_json::Value;

use crate::error::{ScimError, ScimResult};
use crate::schema::{AttrDef, AttrType, Registry, ResourceKind};

/// Checks the typed multi-valued attributes of a document (core and extensions) against
/// their declared `type` values: 400 `invalidValue` naming the attribute, the value and
/// the values allowed.
pub fn check_types(reg: &Registry, kind: ResourceKind, doc: &Value) -> ScimResult<()> {
    let core = reg.core_schema(kind);
    check_schema(&core.attributes, doc)?;
    for ext in reg.extensions(kind) {
        if let Some(inner) = doc.get(&ext.id) {
            check_schema(&ext.attributes, inner)?;
        }
    }
    Ok(())
}

fn check_schema(attrs: &[AttrDef], root: &Value) -> ScimResult<()> {
    let typed = attrs.iter().filter(|a| a.multi_valued && a.ty == AttrType::Complex);
    for a in typed {
        let Some(ty) = a.sub("type").filter(|t| !t.canonical_values.is_empty()) else { continue };
        let Some(Value::Array(items)) = root.get(&a.name) else { continue };
        for item in items {
            let Some(value) = item.get(&ty.name).and_then(Value::as_str) else { continue };
            if !ty.canonical_values.iter().any(|c| c.eq_ignore_ascii_case(value)) {
                return Err(ScimError::invalid_value(format!(
                    "'{}' is not a type of {} here: this tenant takes {} (its canonicalValues in /Schemas)",
                    value,
                    a.name,
                    ty.canonical_values.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// Keeps a `type` sub-attribute only where its values are declared: a typed attribute
/// whose values nobody declared (RFC 7643 gives none for `entitlements`, `roles` and
/// `x509Certificates`) loses its `type`, so that every `type` `/Schemas` shows has its
/// `canonicalValues`, and a `type` sent for such an attribute is an unknown
/// sub-attribute.
pub fn drop_undeclared_types(attrs: &mut [AttrDef]) {
    for a in attrs.iter_mut().filter(|a| a.multi_valued && a.ty == AttrType::Complex) {
        a.sub_attributes.retain(|s| !(s.name == "type" && s.canonical_values.is_empty()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::builtin::standard_registry;

    #[test]
    fn declared_types_are_taken_in_any_case_and_others_refused() {
        let reg = standard_registry();
        let ok = json!({"emails": [{"value": "a@x", "type": "Work"}, {"value": "b@x"}],
                        "phoneNumbers": [{"value": "1", "type": "mobile"}]});
        check_types(&reg, ResourceKind::User, &ok).unwrap();
        let bad = json!({"emails": [{"value": "a@x", "type": "office"}]});
        let e = check_types(&reg, ResourceKind::User, &bad).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some(crate::error::ScimType::InvalidValue)));
        assert!(e.detail.contains("work, home, other"), "{}", e.detail);
        // Roles declare no values in RFC 7643: nothing to hold them to.
        check_types(&reg, ResourceKind::User, &json!({"roles": [{"value": "a", "type": "any"}]})).unwrap();
    }

    #[test]
    fn an_undeclared_type_is_dropped_and_declared_ones_stay() {
        let mut reg = standard_registry();
        let user = reg.schemas.iter_mut().find(|s| s.id == crate::schema::USER_URN).unwrap();
        drop_undeclared_types(&mut user.attributes);
        let sub_type = |n: &str| user.attributes.iter().find(|a| a.name == n).unwrap().sub("type").is_some();
        assert!(sub_type("emails") && sub_type("addresses") && sub_type("groups"));
        assert!(!sub_type("roles") && !sub_type("entitlements") && !sub_type("x509Certificates"));
    }
}
