//! The resource types a tenant's profile declares beside User and Group: catalogs such as
//! Okta's Roles and Entitlements or the roles and entitlements of
//! draft-ietf-scim-roles-entitlements. This module owns their declaration, its validation,
//! and their place in the tenant's registry; their codes (the stored `rtype`) come from
//! the store.

use serde::{Deserialize, Serialize};

use crate::builtin::{CATALOG_URNS, catalog_schema};
use crate::schema::{FIRST_CUSTOM_CODE, Registry, ResourceKind, ResourceTypeDef};

/// The most types a profile may declare.
pub const MAX_TYPES: usize = 8;

/// Endpoints a declared type cannot take: the server's own.
const RESERVED: [&str; 10] = [
    "Users",
    "Groups",
    "Me",
    "Bulk",
    "Schemas",
    "ResourceTypes",
    "ServiceProviderConfig",
    ".search",
    "docs",
    "openapi.json",
];

/// A resource type a profile declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDecl {
    /// `Role`, as in `meta.resourceType` and `/ResourceTypes/Role`.
    pub name: String,
    /// `/Roles`, under the tenant's SCIM base.
    pub endpoint: String,
    /// The core schema's URN: one of the built-in catalog schemas
    /// ([`crate::builtin::catalog_schema`]).
    pub schema: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The attributes a filter or `sortBy` may name; absent: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filterable: Option<Vec<String>>,
}

/// The endpoint of a declared type as a stored profile's head reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TypeEndpoint {
    pub endpoint: String,
}

/// Checks a profile's declared types; the error names the type and what is wrong.
pub(super) fn validate(types: &[TypeDecl]) -> Result<(), String> {
    if types.len() > MAX_TYPES {
        return Err(format!("a profile may declare at most {MAX_TYPES} resource types, not {}", types.len()));
    }
    for (i, t) in types.iter().enumerate() {
        let name_ok = t.name.len() <= 64
            && t.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && t.name.chars().all(|c| c.is_ascii_alphanumeric());
        if !name_ok {
            return Err(format!("resource type name '{}' must be letters and digits, starting with a letter", t.name));
        }
        if ["User", "Group"].iter().any(|b| b.eq_ignore_ascii_case(&t.name)) {
            return Err(format!("resource type '{}' is built in", t.name));
        }
        let Some(path) = t.endpoint.strip_prefix('/').filter(|p| {
            p.len() <= 64
                && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric())
        }) else {
            return Err(format!(
                "resource type '{}': endpoint '{}' must be '/' and a name, e.g. /Roles",
                t.name, t.endpoint
            ));
        };
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(path)) {
            return Err(format!("resource type '{}': endpoint '{}' is the server's own", t.name, t.endpoint));
        }
        for other in &types[..i] {
            if other.name.eq_ignore_ascii_case(&t.name) {
                return Err(format!("resource type '{}' is declared twice", t.name));
            }
            if other.endpoint.eq_ignore_ascii_case(&t.endpoint) {
                return Err(format!("endpoint '{}' is declared twice ({} and {})", t.endpoint, other.name, t.name));
            }
        }
        let Some(schema) = catalog_schema(&t.schema) else {
            return Err(format!(
                "resource type '{}': schema '{}' is not one scimd knows (one of {})",
                t.name,
                t.schema,
                CATALOG_URNS.join(", ")
            ));
        };
        for f in t.filterable.iter().flatten() {
            let common = ["id", "externalId"].iter().any(|c| c.eq_ignore_ascii_case(f));
            if !common && schema.attr(f).is_none() {
                return Err(format!("resource type '{}': filterable attribute '{f}' is not in its schema", t.name));
            }
        }
    }
    Ok(())
}

/// Adds the declared types to a registry, each under the code `code` gives its name
/// (a type without a code yet is left out), with the schemas they use.
pub(super) fn add_types(reg: &mut Registry, types: &[TypeDecl], code: impl Fn(usize, &str) -> Option<u8>) {
    for (i, t) in types.iter().enumerate() {
        let Some(code) = code(i, &t.name).filter(|c| *c >= FIRST_CUSTOM_CODE) else { continue };
        let Some(schema) = catalog_schema(&t.schema) else { continue };
        if reg.schema(&schema.id).is_none() {
            reg.schemas.push(schema);
        }
        reg.resource_types.push(ResourceTypeDef {
            kind: ResourceKind::Custom(code),
            name: t.name.clone(),
            endpoint: t.endpoint.clone(),
            schema: t.schema.clone(),
            description: if t.description.is_empty() { t.name.clone() } else { t.description.clone() },
            extensions: Vec::new(),
            filterable: t.filterable.clone(),
        });
    }
}
