//! The settings conformance profiles need (the SCIM 2.0 Interoperability Profile,
//! draft-zollner-scim-interop-profile, and the OpenID Foundation's IPSIE SCIM profile, which
//! builds on it): how they change the tenant's registry (PATCH rules, declared `type`
//! values, no `password`), their validation, and what keeps a profile from the
//! interoperability profile's claim (`interopProfileConformant`), so that a tenant never
//! claims it while its other settings break it.

use crate::schema::{AttrType, Mutability, Registry, USER_URN};

use super::Profile;

/// Most `type` values one attribute may declare, and the longest one.
const MAX_TYPE_VALUES: usize = 100;
const MAX_TYPE_VALUE_LEN: usize = 64;

/// The interoperability profile's `count` every service provider takes (§6.4).
pub const INTEROP_MIN_PAGE: u64 = 100;

impl Profile {
    /// Whether any of these settings is on (the tenant then needs a registry of its own).
    pub(super) fn conformance_rules(&self) -> bool {
        self.patch_requires_path
            || self.patch_replace_complex_whole
            || self.canonical_types
            || !self.type_values.is_empty()
            || self.no_password
    }

    /// Applies the settings to the tenant's registry (the standard one, changed).
    pub(super) fn apply_conformance_rules(&self, reg: &mut Registry) {
        reg.patch_requires_path = self.patch_requires_path;
        reg.replace_complex_whole = self.patch_replace_complex_whole;
        reg.canonical_types = self.canonical_types;
        let user = reg.schemas.iter_mut().find(|s| s.id == USER_URN).expect("the standard registry has User");
        if self.no_password {
            user.attributes.retain(|a| a.name != "password");
        }
        for (name, values) in &self.type_values {
            let ty = user
                .attributes
                .iter_mut()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .and_then(|a| a.sub_attributes.iter_mut().find(|s| s.name == "type"));
            if let Some(ty) = ty {
                ty.canonical_values = values.clone();
            }
        }
        if self.canonical_types {
            for schema in reg.schemas.iter_mut() {
                crate::canonical::drop_undeclared_types(&mut schema.attributes);
            }
        }
    }

    /// Checks `type_values`, and that a claim of the interoperability profile holds.
    pub(super) fn validate_conformance(&self) -> Result<(), String> {
        let standard = crate::builtin::standard_registry();
        let user = standard.schema(USER_URN).expect("the standard registry has User");
        for (name, values) in &self.type_values {
            let typed = user
                .attributes
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .filter(|a| a.multi_valued && a.ty == AttrType::Complex && a.mutability != Mutability::ReadOnly)
                .filter(|a| a.sub("type").is_some());
            if typed.is_none() {
                return Err(format!(
                    "type_values: '{name}' is not a User attribute with a type (emails, phoneNumbers, ims, photos, \
                     addresses, entitlements, roles, x509Certificates)"
                ));
            }
            if values.is_empty() || values.len() > MAX_TYPE_VALUES {
                return Err(format!("type_values: '{name}' needs between 1 and {MAX_TYPE_VALUES} values"));
            }
            for (i, v) in values.iter().enumerate() {
                if v.trim().is_empty() || v.len() > MAX_TYPE_VALUE_LEN || v.chars().any(char::is_control) {
                    return Err(format!(
                        "type_values: '{name}' has '{v}', which is not a type value (1 to {MAX_TYPE_VALUE_LEN} \
                         characters, no control characters)"
                    ));
                }
                if values[..i].iter().any(|w| w.eq_ignore_ascii_case(v)) {
                    return Err(format!("type_values: '{name}' lists '{v}' twice"));
                }
            }
        }
        if self.interop_profile_conformant {
            let gaps = self.interop_gaps();
            if !gaps.is_empty() {
                return Err(format!(
                    "interop_profile_conformant claims the SCIM interoperability profile, which this profile \
                     does not meet: {}",
                    gaps.join("; ")
                ));
            }
        }
        Ok(())
    }

    /// What in this profile breaks the SCIM 2.0 Interoperability Profile, one sentence each
    /// (empty: nothing the profile decides does). The rest of the draft's requirements hold
    /// for every tenant.
    pub fn interop_gaps(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        let mut gap = |on: bool, what: &str| {
            if on {
                gaps.push(what.to_string());
            }
        };
        gap(!self.strict, "unknown schema URNs must be refused (§5.3): set strict");
        gap(
            !self.patch_requires_path,
            "PATCH operations without a path must be refused (§6.5.1.1): set patch_requires_path",
        );
        gap(
            !self.patch_replace_complex_whole,
            "a replace of a complex attribute must replace it whole (§6.5.2.1): set patch_replace_complex_whole",
        );
        gap(!self.canonical_types, "every type must have its canonicalValues (§5.4): set canonical_types");
        gap(self.delete_deactivates, "DELETE must delete, not deactivate (§6.6): unset delete_deactivates");
        gap(self.users_by_user_name, "resources are addressed by id only (§6.1): unset users_by_user_name");
        gap(self.scim1_user_schema, "a schema URN /Schemas does not list is refused (§5.3): unset scim1_user_schema");
        for (name, access) in [("users", &self.users), ("groups", &self.groups)] {
            if access.offered && !(access.read && access.patch) {
                gaps.push(format!("{name} must be readable and patchable (§6.3, §6.5)"));
            }
        }
        if let Some(max) = self.max_page_size.filter(|m| *m < INTEROP_MIN_PAGE) {
            gaps.push(format!("a count of {INTEROP_MIN_PAGE} must be honoured (§6.4): max_page_size is {max}"));
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTEROP: &str = r#"{"interop_profile_conformant": true, "strict": true, "patch_requires_path": true,
        "patch_replace_complex_whole": true, "canonical_types": true}"#;

    #[test]
    fn the_claim_needs_the_rules_and_names_what_is_missing() {
        let p = Profile::from_json(INTEROP).unwrap();
        assert!(p.interop_gaps().is_empty());
        let e = Profile::from_json(r#"{"interop_profile_conformant": true}"#).unwrap_err();
        for words in ["set strict", "patch_requires_path", "patch_replace_complex_whole", "canonical_types"] {
            assert!(e.contains(words), "{words}: {e}");
        }
        let with = |extra: &str| {
            let text = INTEROP.replacen('{', &format!("{{{extra}, "), 1);
            Profile::from_json(&text).unwrap_err()
        };
        assert!(with(r#""delete_deactivates": true"#).contains("§6.6"));
        assert!(with(r#""users_by_user_name": true"#).contains("§6.1"));
        assert!(with(r#""scim1_user_schema": true"#).contains("§5.3"));
        assert!(with(r#""groups": {"patch": false}"#).contains("groups must be readable and patchable"));
        assert!(with(r#""max_page_size": 50"#).contains("§6.4"));
        // A type not offered needs nothing.
        Profile::from_json(&INTEROP.replacen('{', r#"{"groups": {"offered": false, "patch": false}, "#, 1)).unwrap();
    }

    #[test]
    fn the_registry_declares_every_type_and_drops_the_password() {
        let p = Profile::from_json(&INTEROP.replacen(
            '{',
            r#"{"no_password": true, "type_values": {"roles": ["admin", "member"]}, "#,
            1,
        ))
        .unwrap();
        let reg = p.registry().unwrap();
        assert!(reg.strict && reg.patch_requires_path && reg.replace_complex_whole && reg.canonical_types);
        let user = reg.schema(USER_URN).unwrap();
        assert!(user.attr("password").is_none());
        for a in user.attributes.iter().filter(|a| a.multi_valued && a.ty == AttrType::Complex) {
            if let Some(t) = a.sub("type") {
                assert!(!t.canonical_values.is_empty(), "{} declares its types", a.name);
            }
        }
        assert_eq!(user.attr("roles").unwrap().sub("type").unwrap().canonical_values, ["admin", "member"]);
        assert!(user.attr("entitlements").unwrap().sub("type").is_none());
        let spc = p.service_provider_config(&Default::default(), 1000);
        assert!(spc.interop_profile_conformant && !spc.change_password);
        let doc = crate::discovery::service_provider_config_json(&spc, "http://x");
        assert_eq!(doc["interopProfileConformant"], true);
        let plain = Profile::default().service_provider_config(&Default::default(), 1000);
        assert!(
            crate::discovery::service_provider_config_json(&plain, "http://x")
                .get("interopProfileConformant")
                .is_none()
        );
    }

    #[test]
    fn type_values_are_checked() {
        let bad = [
            (r#"{"type_values": {"userName": ["a"]}}"#, "not a User attribute with a type"),
            (r#"{"type_values": {"groups": ["a"]}}"#, "not a User attribute with a type"),
            (r#"{"type_values": {"roles": []}}"#, "between 1 and"),
            (r#"{"type_values": {"roles": ["a", "A"]}}"#, "twice"),
            (r#"{"type_values": {"roles": [" "]}}"#, "not a type value"),
        ];
        for (text, words) in bad {
            let e = Profile::from_json(text).unwrap_err();
            assert!(e.contains(words), "{text}: {e}");
        }
        Profile::from_json(r#"{"type_values": {"Roles": ["admin"], "emails": ["work", "school"]}}"#).unwrap();
    }
}
