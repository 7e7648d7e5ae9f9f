//! Discovery documents (RFC 7643 §5–§7): ServiceProviderConfig, ResourceType and Schema
//! representations, generated from the same [`Registry`] the server enforces, so they
//! describe exactly what the server does.

use serde_json::{Map, Value, json};

use crate::schema::{AttrDef, Registry, ResourceKind, ResourceTypeDef, SchemaDef};

/// Bulk limits, when bulk is offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkConfig {
    pub max_operations: u64,
    pub max_payload_size: u64,
}

/// What the service provider supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderConfig {
    pub documentation_uri: Option<String>,
    pub patch: bool,
    pub bulk: Option<BulkConfig>,
    pub filter_max_results: u64,
    pub change_password: bool,
    pub sort: bool,
    pub etag: bool,
    /// Security events (RFC 9967 §4): whether the tenant's changes are offered as events
    /// (it has an event stream; absent, the server "is not configured" for them, and
    /// clients that know only RFC 7643's attributes see none), and whether requests may be
    /// answered asynchronously (`Prefer: respond-async`).
    pub security_events: bool,
    pub async_requests: bool,
    /// The tenant claims the SCIM 2.0 Interoperability Profile: `interopProfileConformant`
    /// (draft-zollner-scim-interop-profile §4), shown only when true.
    pub interop_profile_conformant: bool,
}

impl Default for ServiceProviderConfig {
    fn default() -> Self {
        ServiceProviderConfig {
            documentation_uri: None,
            patch: true,
            bulk: None,
            filter_max_results: 1000,
            change_password: true,
            sort: true,
            etag: true,
            security_events: false,
            async_requests: false,
            interop_profile_conformant: false,
        }
    }
}

pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

pub fn service_provider_config_json(cfg: &ServiceProviderConfig, base_url: &str) -> Value {
    let mut v = json!({
        "schemas": [SPC_URN],
        "patch": {"supported": cfg.patch},
        "bulk": match &cfg.bulk {
            Some(b) => json!({"supported": true, "maxOperations": b.max_operations, "maxPayloadSize": b.max_payload_size}),
            None => json!({"supported": false, "maxOperations": 0, "maxPayloadSize": 0}),
        },
        "filter": {"supported": true, "maxResults": cfg.filter_max_results},
        // RFC 9865 §4: both kinds of pagination.
        "pagination": {"cursor": true, "index": true, "defaultPaginationMethod": "index",
                       "maxPageSize": cfg.filter_max_results},
        "changePassword": {"supported": cfg.change_password},
        "sort": {"supported": cfg.sort},
        "etag": {"supported": cfg.etag},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token issued by the operator of this scimd server.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base_url}/ServiceProviderConfig")}
    });
    if cfg.interop_profile_conformant {
        v["interopProfileConformant"] = Value::Bool(true);
    }
    if let Some(d) = &cfg.documentation_uri {
        v["documentationUri"] = Value::String(d.clone());
    }
    if cfg.security_events {
        use crate::events::EventType;
        let mut uris = Vec::new();
        for t in EventType::ALL {
            if t == EventType::AsyncResponse && !cfg.async_requests {
                continue;
            }
            uris.push(t.uri(false));
            if t.has_full_form() {
                uris.push(t.uri(true));
            }
        }
        let mode = if cfg.async_requests { "request" } else { "none" };
        v["securityEvents"] = json!({"asyncRequest": mode, "eventUris": uris});
    }
    v
}

fn attr_json(a: &AttrDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), a.name.clone().into());
    m.insert("type".into(), a.ty.as_str().into());
    m.insert("multiValued".into(), a.multi_valued.into());
    m.insert("description".into(), a.description.clone().into());
    m.insert("required".into(), a.required.into());
    if !a.canonical_values.is_empty() {
        m.insert("canonicalValues".into(), json!(a.canonical_values));
    }
    m.insert("caseExact".into(), a.case_exact.into());
    m.insert("mutability".into(), a.mutability.as_str().into());
    m.insert("returned".into(), a.returned.as_str().into());
    m.insert("uniqueness".into(), a.uniqueness.as_str().into());
    if !a.reference_types.is_empty() {
        m.insert("referenceTypes".into(), json!(a.reference_types));
    }
    if !a.sub_attributes.is_empty() {
        m.insert("subAttributes".into(), Value::Array(a.sub_attributes.iter().map(attr_json).collect()));
    }
    Value::Object(m)
}

pub fn schema_json(schema: &SchemaDef, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_URN],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attr_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base_url}/Schemas/{}", schema.id)}
    })
}

pub fn schemas_json(reg: &Registry, base_url: &str) -> Vec<Value> {
    reg.schemas.iter().map(|s| schema_json(s, base_url)).collect()
}

/// Whether a schema belongs to an offered resource type: as its core schema or as one of
/// its extensions (a schema no resource type names is shown).
pub fn schema_offered(reg: &Registry, id: &str, offered: impl Fn(ResourceKind) -> bool) -> bool {
    let owners: Vec<&ResourceTypeDef> = reg
        .resource_types
        .iter()
        .filter(|rt| rt.schema == id || rt.extensions.iter().any(|e| e.schema == id))
        .collect();
    owners.is_empty() || owners.iter().any(|rt| offered(rt.kind))
}

/// The schemas of the resource types `offered` keeps, for a tenant offered only some.
pub fn schemas_json_of(reg: &Registry, offered: impl Fn(ResourceKind) -> bool, base_url: &str) -> Vec<Value> {
    reg.schemas.iter().filter(|s| schema_offered(reg, &s.id, &offered)).map(|s| schema_json(s, base_url)).collect()
}

/// draft-ietf-scim-roles-entitlements §3.1: a service provider serving roles or
/// entitlements says so in its ServiceProviderConfig, as the top-level complex attribute
/// `RolesAndEntitlements`; `None` when no declared type uses a Role or Entitlement schema
/// (the draft's or Okta's). Users' `roles` and `entitlements` are multi-valued with
/// `primary` and `type`, so those are supported.
pub fn roles_and_entitlements(reg: &Registry) -> Option<Value> {
    use crate::builtin::{IETF_ENTITLEMENT_URN, IETF_ROLE_URN, OKTA_ENTITLEMENT_URN, OKTA_ROLE_URN};
    let declared = |urns: [&str; 2]| {
        reg.resource_types
            .iter()
            .filter(|rt| rt.kind.is_custom() && urns.contains(&rt.schema.as_str()))
            .collect::<Vec<_>>()
    };
    let roles = declared([IETF_ROLE_URN, OKTA_ROLE_URN]);
    let entitlements = declared([IETF_ENTITLEMENT_URN, OKTA_ENTITLEMENT_URN]);
    if roles.is_empty() && entitlements.is_empty() {
        return None;
    }
    let types = |rts: &[&ResourceTypeDef]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for rt in rts {
            let values = reg.core_schema(rt.kind).attr("type").map(|a| a.canonical_values.clone()).unwrap_or_default();
            for v in values {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    };
    let part = |rts: &[&ResourceTypeDef], multiple: &str| {
        let mut o = serde_json::Map::new();
        o.insert("supported".into(), json!(!rts.is_empty()));
        if !rts.is_empty() {
            o.insert(multiple.into(), json!(true));
            o.insert("primarySupported".into(), json!(true));
            o.insert("typeSupported".into(), json!(true));
            let t = types(rts);
            if !t.is_empty() {
                o.insert("types".into(), json!(t));
            }
        }
        Value::Object(o)
    };
    Some(json!({
        "roles": part(&roles, "multipleRolesSupported"),
        "entitlements": part(&entitlements, "multipleEntitlementsSupported"),
    }))
}

pub fn resource_type_json(reg: &Registry, rt: &ResourceTypeDef, base_url: &str) -> Value {
    let _ = reg;
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema,
        "schemaExtensions": rt.extensions.iter().map(|e| json!({"schema": e.schema, "required": e.required})).collect::<Vec<_>>(),
        "meta": {"resourceType": "ResourceType", "location": format!("{base_url}/ResourceTypes/{}", rt.name)}
    })
}

pub fn resource_types_json(reg: &Registry, base_url: &str) -> Vec<Value> {
    reg.resource_types.iter().map(|rt| resource_type_json(reg, rt, base_url)).collect()
}

/// An attribute as JSON Schema (for the OpenAPI document).
fn attr_json_schema(a: &AttrDef) -> Value {
    use crate::schema::{AttrType, Mutability};
    let mut one = match a.ty {
        AttrType::String | AttrType::Reference => json!({"type": "string"}),
        AttrType::Binary => json!({"type": "string", "contentEncoding": "base64"}),
        AttrType::DateTime => json!({"type": "string", "format": "date-time"}),
        AttrType::Boolean => json!({"type": "boolean"}),
        AttrType::Integer => json!({"type": "integer"}),
        AttrType::Decimal => json!({"type": "number"}),
        AttrType::Complex => {
            let props: Map<String, Value> =
                a.sub_attributes.iter().map(|s| (s.name.clone(), attr_json_schema(s))).collect();
            json!({"type": "object", "properties": props})
        }
    };
    if !a.canonical_values.is_empty() && a.ty == AttrType::String && !a.multi_valued {
        one["examples"] = json!(a.canonical_values);
    }
    let mut v = if a.multi_valued { json!({"type": "array", "items": one}) } else { one };
    if !a.description.is_empty() {
        v["description"] = json!(a.description);
    }
    match a.mutability {
        Mutability::ReadOnly => v["readOnly"] = json!(true),
        Mutability::WriteOnly => v["writeOnly"] = json!(true),
        _ => {}
    }
    v
}

/// A resource type as JSON Schema, from the same registry the server enforces: its core
/// attributes, the common ones, and each extension's attributes under the extension's URN.
pub fn resource_json_schema(reg: &Registry, kind: crate::schema::ResourceKind) -> Value {
    let mut props = Map::new();
    props.insert("schemas".into(), json!({"type": "array", "items": {"type": "string"}}));
    for a in &reg.common {
        props.insert(a.name.clone(), attr_json_schema(a));
    }
    let core = reg.core_schema(kind);
    let mut required = Vec::new();
    for a in &core.attributes {
        props.insert(a.name.clone(), attr_json_schema(a));
        if a.required {
            required.push(Value::String(a.name.clone()));
        }
    }
    for ext in reg.extensions(kind) {
        let inner: Map<String, Value> = ext.attributes.iter().map(|a| (a.name.clone(), attr_json_schema(a))).collect();
        props.insert(ext.id.clone(), json!({"type": "object", "description": ext.description, "properties": inner}));
    }
    json!({"type": "object", "description": core.description, "properties": props, "required": required})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::standard_registry;

    #[test]
    fn documents() {
        let reg = standard_registry();
        let s = schemas_json(&reg, "http://x/scim/v2");
        assert_eq!(s.len(), 3);
        let user = &s[0];
        let emails = user["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 4);
        let rts = resource_types_json(&reg, "http://x/scim/v2");
        assert_eq!(rts[0]["endpoint"], "/Users");
        let spc = service_provider_config_json(&ServiceProviderConfig::default(), "http://x/scim/v2");
        assert_eq!(spc["bulk"]["supported"], false);
    }

    #[test]
    fn a_type_not_offered_takes_its_schemas_with_it() {
        let reg = standard_registry();
        let ids = |v: Vec<Value>| v.iter().map(|s| s["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        let users_only = ids(schemas_json_of(&reg, |k| k == ResourceKind::User, "http://x"));
        assert_eq!(users_only, [crate::schema::USER_URN, crate::schema::ENTERPRISE_URN]);
        assert_eq!(ids(schemas_json_of(&reg, |_| true, "http://x")).len(), 3);
        assert!(!schema_offered(&reg, crate::schema::GROUP_URN, |k| k == ResourceKind::User));
        assert!(schema_offered(&reg, "urn:not:named:by:any:type", |_| false));
    }
}
