//! Schema extensions a profile declares (the locker system's badges): their declaration in
//! SCIM schema form, as `/Schemas` shows one, and its validation into the registry's
//! definitions.

use serde::{Deserialize, Serialize};

use crate::schema::{AttrDef, AttrType, Mutability, Registry, ResourceKind, Returned, SchemaDef, Uniqueness};

/// A schema extension declared by a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecl {
    /// `User` or `Group`.
    pub resource_type: String,
    /// Whether resources of the type must carry it.
    #[serde(default)]
    pub required: bool,
    pub schema: SchemaDoc,
}

/// A schema as `/Schemas` shows one (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchemaDoc {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub attributes: Vec<AttrDoc>,
}

/// An attribute definition as `/Schemas` shows one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttrDoc {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub multi_valued: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub case_exact: bool,
    #[serde(default = "read_write")]
    pub mutability: String,
    #[serde(default = "default_returned")]
    pub returned: String,
    #[serde(default = "no_uniqueness")]
    pub uniqueness: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<AttrDoc>,
}

fn read_write() -> String {
    "readWrite".into()
}
fn default_returned() -> String {
    "default".into()
}
fn no_uniqueness() -> String {
    "none".into()
}

/// An attribute declaration as the registry's definition, or what is wrong with it.
fn attr_def(a: &AttrDoc, depth: u8) -> Result<AttrDef, String> {
    let valid_name = a.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && a.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && a.name.len() <= 64;
    if !valid_name {
        return Err(format!("'{}' is not an attribute name (a letter, then letters, digits, _ or -)", a.name));
    }
    let ty = match a.ty.as_str() {
        "string" => AttrType::String,
        "boolean" => AttrType::Boolean,
        "decimal" => AttrType::Decimal,
        "integer" => AttrType::Integer,
        "dateTime" => AttrType::DateTime,
        "reference" => AttrType::Reference,
        "binary" => AttrType::Binary,
        "complex" => AttrType::Complex,
        other => return Err(format!("attribute '{}': unknown type '{other}'", a.name)),
    };
    let mutability = match a.mutability.as_str() {
        "readOnly" => Mutability::ReadOnly,
        "readWrite" => Mutability::ReadWrite,
        "immutable" => Mutability::Immutable,
        "writeOnly" => Mutability::WriteOnly,
        other => return Err(format!("attribute '{}': unknown mutability '{other}'", a.name)),
    };
    let returned = match a.returned.as_str() {
        "always" => Returned::Always,
        "never" => Returned::Never,
        "default" => Returned::Default,
        "request" => Returned::Request,
        other => return Err(format!("attribute '{}': unknown returned '{other}'", a.name)),
    };
    // scimd keeps one secret per user, the password, and only as a hash: a writeOnly
    // extension attribute would have nowhere safe to go (and was once taken for the password).
    if mutability == Mutability::WriteOnly {
        return Err(format!(
            "attribute '{}': writeOnly is reserved for the password, the one secret scimd keeps (hashed); \
             declare it readWrite with returned \"never\" to keep a value that is never read back",
            a.name
        ));
    }
    if a.uniqueness != "none" {
        return Err(format!(
            "attribute '{}': uniqueness '{}' is not enforced for extension attributes; declare \"none\"",
            a.name, a.uniqueness
        ));
    }
    if ty == AttrType::Complex && (a.sub_attributes.is_empty() || depth > 0) {
        return Err(format!("attribute '{}': a complex attribute needs sub-attributes, and only at the top", a.name));
    }
    if ty != AttrType::Complex && !a.sub_attributes.is_empty() {
        return Err(format!("attribute '{}': only complex attributes have sub-attributes", a.name));
    }
    let mut subs = Vec::new();
    for sub in &a.sub_attributes {
        let d = attr_def(sub, depth + 1)?;
        if subs.iter().any(|s: &AttrDef| s.name.eq_ignore_ascii_case(&d.name)) {
            return Err(format!("attribute '{}': sub-attribute '{}' twice", a.name, d.name));
        }
        subs.push(d);
    }
    Ok(AttrDef {
        name: a.name.clone(),
        ty,
        multi_valued: a.multi_valued,
        description: a.description.clone(),
        required: a.required,
        case_exact: a.case_exact,
        mutability,
        returned,
        uniqueness: Uniqueness::None,
        canonical_values: a.canonical_values.clone(),
        reference_types: a.reference_types.clone(),
        sub_attributes: subs,
    })
}

impl ExtensionDecl {
    /// The kind the extension extends: User, Group, or a type the profile declares.
    pub(super) fn kind(&self, reg: &Registry) -> Result<ResourceKind, String> {
        match self.resource_type.as_str() {
            "User" => Ok(ResourceKind::User),
            "Group" => Ok(ResourceKind::Group),
            other => reg
                .resource_types
                .iter()
                .find(|rt| rt.kind.is_custom() && rt.name == other)
                .map(|rt| rt.kind)
                .ok_or_else(|| {
                    format!(
                        "extension '{}': resource_type must be User, Group or a declared resource type, not '{other}'",
                        self.schema.id
                    )
                }),
        }
    }

    /// The schema definition, validated.
    pub(super) fn schema_def(&self) -> Result<SchemaDef, String> {
        let id = &self.schema.id;
        let urn_ok = id.starts_with("urn:")
            && id.len() <= 200
            && id.chars().all(|c| c.is_ascii_alphanumeric() || ":._-".contains(c))
            && !id.to_ascii_lowercase().starts_with("urn:ietf:params:scim:");
        if !urn_ok {
            return Err(format!(
                "extension schema id '{id}' must be a URN of your own (urn:…, not under urn:ietf:params:scim:)"
            ));
        }
        if self.schema.attributes.is_empty() {
            return Err(format!("extension '{id}' declares no attributes"));
        }
        let mut attributes: Vec<AttrDef> = Vec::new();
        for a in &self.schema.attributes {
            let d = attr_def(a, 0).map_err(|e| format!("extension '{id}': {e}"))?;
            if attributes.iter().any(|x| x.name.eq_ignore_ascii_case(&d.name)) {
                return Err(format!("extension '{id}': attribute '{}' twice", d.name));
            }
            attributes.push(d);
        }
        Ok(SchemaDef {
            id: id.clone(),
            name: if self.schema.name.is_empty() {
                id.rsplit(':').next().unwrap_or(id).to_string()
            } else {
                self.schema.name.clone()
            },
            description: self.schema.description.clone(),
            attributes,
        })
    }
}
