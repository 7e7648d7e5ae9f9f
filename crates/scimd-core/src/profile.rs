//! Tenant profiles: how one tenant's SCIM endpoint behaves (issue 6, SEEDS.md). A profile
//! is plain settings, stored per tenant as JSON; a preset is a named profile shipped in
//! `examples/presets/`. This module owns the settings, their validation, and the decisions
//! made from them (is an operation offered, which page sizes apply); the server applies
//! them. The default profile is the full RFC 7644 service provider.

use serde::{Deserialize, Serialize};

use crate::error::ScimError;
use crate::schema::ResourceKind;

/// An operation on a resource type, as a profile allows it or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// GET one, list, search.
    Read,
    Create,
    /// PUT.
    Replace,
    Patch,
    Delete,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Create => "create",
            Operation::Replace => "replace",
            Operation::Patch => "patch",
            Operation::Delete => "delete",
        }
    }

    /// The HTTP method (or methods) of the operation on a resource endpoint.
    fn methods(self) -> &'static [&'static str] {
        match self {
            Operation::Read => &["GET"],
            Operation::Create => &["POST"],
            Operation::Replace => &["PUT"],
            Operation::Patch => &["PATCH"],
            Operation::Delete => &["DELETE"],
        }
    }
}

/// What a tenant may do with one resource type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TypeAccess {
    /// Whether the endpoint exists for the tenant at all (listed in `/ResourceTypes`).
    pub offered: bool,
    pub read: bool,
    pub create: bool,
    pub replace: bool,
    pub patch: bool,
    pub delete: bool,
}

impl Default for TypeAccess {
    fn default() -> Self {
        TypeAccess { offered: true, read: true, create: true, replace: true, patch: true, delete: true }
    }
}

impl TypeAccess {
    pub fn allows(&self, op: Operation) -> bool {
        self.offered
            && match op {
                Operation::Read => self.read,
                Operation::Create => self.create,
                Operation::Replace => self.replace,
                Operation::Patch => self.patch,
                Operation::Delete => self.delete,
            }
    }

    /// The methods allowed on an endpoint of the type (an `Allow` header's value).
    pub fn allowed_methods(&self) -> Vec<&'static str> {
        [Operation::Read, Operation::Create, Operation::Replace, Operation::Patch, Operation::Delete]
            .into_iter()
            .filter(|op| self.allows(*op))
            .flat_map(|op| op.methods().iter().copied())
            .collect()
    }
}

/// A tenant's profile. Every field has the default of a full RFC 7644 service provider,
/// so a stored profile names only what it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// The preset this profile came from, if any (informational).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub users: TypeAccess,
    pub groups: TypeAccess,
    /// DELETE on a user sets `active` to false (the user stays readable) instead of
    /// removing it (SEEDS.md W5).
    pub delete_deactivates: bool,
    /// Page size when a list names no `count`; `None`: the server's setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_page_size: Option<u64>,
    /// Largest `count` honoured; `None`: the server's setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u64>,
}

/// The most any profile may set as a page size.
pub const PAGE_SIZE_LIMIT: u64 = 10_000;

impl Profile {
    /// Parses and validates a profile (JSON), naming what is wrong.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let p: Profile = serde_json::from_str(text).map_err(|e| format!("invalid profile: {e}"))?;
        p.validate()?;
        Ok(p)
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, size) in [("default_page_size", self.default_page_size), ("max_page_size", self.max_page_size)] {
            if let Some(n) = size
                && !(1..=PAGE_SIZE_LIMIT).contains(&n)
            {
                return Err(format!("{name} must be between 1 and {PAGE_SIZE_LIMIT}, not {n}"));
            }
        }
        if let (Some(d), Some(m)) = (self.default_page_size, self.max_page_size)
            && d > m
        {
            return Err(format!("default_page_size ({d}) is larger than max_page_size ({m})"));
        }
        if !self.users.offered && !self.groups.offered {
            return Err("a profile must offer Users or Groups".into());
        }
        Ok(())
    }

    pub fn access(&self, kind: ResourceKind) -> &TypeAccess {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
        }
    }

    /// Whether `op` on `kind` is allowed; the SCIM error for the client if not: 404 for a
    /// type the tenant is not offered (as an endpoint that does not exist), 405 for an
    /// operation the type does not offer.
    pub fn check(&self, kind: ResourceKind, op: Operation) -> Result<(), ScimError> {
        let access = self.access(kind);
        if !access.offered {
            return Err(ScimError::new(
                404,
                None,
                format!("this tenant has no {} endpoint: its profile does not offer {}", kind.endpoint(), kind.name()),
            ));
        }
        if !access.allows(op) {
            let allowed = access.allowed_methods();
            return Err(ScimError::new(
                405,
                None,
                format!(
                    "{} cannot be {} by this tenant's clients (its profile allows: {})",
                    kind.endpoint().trim_start_matches('/'),
                    match op {
                        Operation::Read => "read",
                        Operation::Create => "created",
                        Operation::Replace => "replaced",
                        Operation::Patch => "patched",
                        Operation::Delete => "deleted",
                    },
                    if allowed.is_empty() { "nothing".to_string() } else { allowed.join(", ") }
                ),
            ));
        }
        Ok(())
    }

    /// The tenant's page sizes: its own where set, else the server's.
    pub fn page_sizes(&self, server_default: u64, server_max: u64) -> (u64, u64) {
        let max = self.max_page_size.unwrap_or(server_max);
        let default = self.default_page_size.unwrap_or(server_default).min(max);
        (default, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_allow_everything_and_a_stored_profile_names_only_changes() {
        let p = Profile::default();
        for op in [Operation::Read, Operation::Create, Operation::Replace, Operation::Patch, Operation::Delete] {
            assert!(p.check(ResourceKind::User, op).is_ok());
            assert!(p.check(ResourceKind::Group, op).is_ok());
        }
        let q =
            Profile::from_json(r#"{"groups": {"create": false, "replace": false, "patch": false, "delete": false}}"#)
                .unwrap();
        assert!(q.check(ResourceKind::Group, Operation::Read).is_ok());
        let e = q.check(ResourceKind::Group, Operation::Create).unwrap_err();
        assert_eq!(e.status, 405);
        assert!(e.detail.contains("allows: GET"), "{}", e.detail);
        assert_eq!(q.groups.allowed_methods(), ["GET"]);
    }

    #[test]
    fn an_unoffered_type_is_404_and_bad_profiles_are_named() {
        let p = Profile::from_json(r#"{"groups": {"offered": false}}"#).unwrap();
        assert_eq!(p.check(ResourceKind::Group, Operation::Read).unwrap_err().status, 404);
        assert!(Profile::from_json(r#"{"groups": {"offered": false}, "users": {"offered": false}}"#).is_err());
        assert!(Profile::from_json(r#"{"max_page_size": 0}"#).unwrap_err().contains("max_page_size"));
        assert!(Profile::from_json(r#"{"default_page_size": 50, "max_page_size": 10}"#).is_err());
        assert!(Profile::from_json(r#"{"no_such_setting": true}"#).unwrap_err().contains("no_such_setting"));
        assert_eq!(
            Profile::from_json(r#"{"default_page_size": 10, "max_page_size": 5000}"#).unwrap().page_sizes(100, 1000),
            (10, 5000)
        );
        assert_eq!(Profile::default().page_sizes(100, 1000), (100, 1000));
    }
}
