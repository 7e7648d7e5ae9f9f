//! The schema model of RFC 7643 §7: attribute definitions with their characteristics,
//! schemas, resource types, and the [`Registry`] that holds what one tenant can use.
//! This module owns the *types* and lookups; the built-in definitions (core User,
//! Enterprise User, Group) live in [`crate::builtin`].

/// URN of the core User schema.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the core Group schema.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// URN of the Enterprise User extension.
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Attribute data types (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Binary,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Binary => "binary",
            AttrType::Complex => "complex",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition with all its characteristics.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDef {
    /// Canonical spelling (e.g. `userName`); matching is case-insensitive.
    pub name: String,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: String,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: Vec<String>,
    pub reference_types: Vec<String>,
    /// Sub-attributes of a complex attribute (empty otherwise).
    pub sub_attributes: Vec<AttrDef>,
}

impl AttrDef {
    /// A readWrite, optional, single-valued, caseExact=false string returned by default.
    pub fn new(name: &str, ty: AttrType) -> Self {
        AttrDef {
            name: name.to_string(),
            ty,
            multi_valued: false,
            description: String::new(),
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    /// Case-insensitive lookup of a sub-attribute.
    pub fn sub(&self, name: &str) -> Option<&AttrDef> {
        self.sub_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A schema (core or extension).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDef {
    /// The schema URN, canonical spelling.
    pub id: String,
    pub name: String,
    pub description: String,
    pub attributes: Vec<AttrDef>,
}

impl SchemaDef {
    /// Case-insensitive lookup of a top-level attribute.
    pub fn attr(&self, name: &str) -> Option<&AttrDef> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// The resource kinds the server stores: the two built-in ones, and the types a
/// tenant's profile declares, each known by its per-tenant code (16..=255, also its
/// stored `rtype`). A custom kind's name, endpoint and schema live in the [`Registry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
    Custom(u8),
}

/// The first code a declared resource type can have; lower codes are the built-in kinds'.
pub const FIRST_CUSTOM_CODE: u8 = 16;

impl ResourceKind {
    /// Whether the kind is one a tenant's profile declared.
    pub fn is_custom(self) -> bool {
        matches!(self, ResourceKind::Custom(_))
    }
    /// `User` / `Group`, as in `meta.resourceType` (a custom kind's name is in the
    /// registry: [`Registry::type_name`]).
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
            ResourceKind::Custom(_) => "Custom",
        }
    }
    /// `/Users` / `/Groups` (a custom kind's is [`ResourceTypeDef::endpoint`]).
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "/Users",
            ResourceKind::Group => "/Groups",
            ResourceKind::Custom(_) => "/",
        }
    }
    /// The core schema URN of a built-in kind (a custom kind's is [`ResourceTypeDef::schema`]).
    pub fn core_urn(self) -> &'static str {
        match self {
            ResourceKind::User => USER_URN,
            ResourceKind::Group => GROUP_URN,
            ResourceKind::Custom(_) => "",
        }
    }
}

/// A schema extension attached to a resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionRef {
    pub schema: String,
    pub required: bool,
}

/// A resource type (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTypeDef {
    pub kind: ResourceKind,
    /// `User`, `Group`, or the declared type's name (`meta.resourceType`).
    pub name: String,
    /// `/Users`, `/Groups`, or the declared type's endpoint.
    pub endpoint: String,
    /// The core schema's URN.
    pub schema: String,
    pub description: String,
    pub extensions: Vec<ExtensionRef>,
    /// The attributes a filter or `sortBy` may name (all when `None`, as for User and Group).
    pub filterable: Option<Vec<String>>,
}

impl ResourceTypeDef {
    /// The resource type of a built-in kind.
    pub fn builtin(kind: ResourceKind, description: &str, extensions: Vec<ExtensionRef>) -> Self {
        ResourceTypeDef {
            kind,
            name: kind.name().to_string(),
            endpoint: kind.endpoint().to_string(),
            schema: kind.core_urn().to_string(),
            description: description.to_string(),
            extensions,
            filterable: None,
        }
    }

    /// Whether a filter or `sortBy` may name the top-level attribute `name`.
    pub fn is_filterable(&self, name: &str) -> bool {
        self.filterable.as_ref().is_none_or(|f| f.iter().any(|a| a.eq_ignore_ascii_case(name)))
    }
}

/// Where an attribute lives: in the core schema of the resource type, in one of its
/// extensions, or among the common attributes (`id`, `externalId`, `meta`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrHome<'a> {
    Common,
    Core(&'a SchemaDef),
    Extension(&'a SchemaDef),
}

/// All schemas and resource types one tenant sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    pub schemas: Vec<SchemaDef>,
    pub resource_types: Vec<ResourceTypeDef>,
    /// Definitions of the common attributes `id`, `externalId` and `meta` (RFC 7643 §3.1).
    pub common: Vec<AttrDef>,
    /// Schema URNs that clients may list in `schemas` although the server does not
    /// know them (e.g. Entra ID's ADSCIM Group URN); they are accepted and ignored.
    pub tolerated_urns: Vec<String>,
    /// Strict RFC 7644 mode (a tenant profile's choice): the identity-provider shapes
    /// tolerated by default are refused (`crate::profile::Profile::strict`).
    pub strict: bool,
    /// Every PATCH operation must name its `path`
    /// (`crate::profile::Profile::patch_requires_path`).
    pub patch_requires_path: bool,
    /// A PATCH `replace` of a whole singular complex attribute replaces it rather than
    /// merging sub-attributes (`crate::profile::Profile::patch_replace_complex_whole`).
    pub replace_complex_whole: bool,
    /// A `type` sub-attribute's value must be one of its `canonicalValues`
    /// (`crate::profile::Profile::canonical_types`).
    pub canonical_types: bool,
}

impl Registry {
    /// Case-insensitive lookup of a schema by URN.
    pub fn schema(&self, urn: &str) -> Option<&SchemaDef> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The resource type of a kind, if the registry serves it.
    pub fn resource_type(&self, kind: ResourceKind) -> Option<&ResourceTypeDef> {
        self.resource_types.iter().find(|r| r.kind == kind)
    }

    /// The core schema of a resource type.
    pub fn core_schema(&self, kind: ResourceKind) -> &SchemaDef {
        self.schema(self.core_urn(kind)).expect("registry holds the core schema of every kind it serves")
    }

    /// The core schema URN of a kind: the built-in one, or the declared type's.
    pub fn core_urn(&self, kind: ResourceKind) -> &str {
        match kind {
            ResourceKind::Custom(_) => self.resource_type(kind).map_or("", |rt| rt.schema.as_str()),
            _ => kind.core_urn(),
        }
    }

    /// The name of a kind as in `meta.resourceType`.
    pub fn type_name(&self, kind: ResourceKind) -> &str {
        match kind {
            ResourceKind::Custom(_) => self.resource_type(kind).map_or("", |rt| rt.name.as_str()),
            _ => kind.name(),
        }
    }

    /// The endpoint of a kind (`/Users`, `/Roles`).
    pub fn type_endpoint(&self, kind: ResourceKind) -> &str {
        match kind {
            ResourceKind::Custom(_) => self.resource_type(kind).map_or("/", |rt| rt.endpoint.as_str()),
            _ => kind.endpoint(),
        }
    }

    /// The declared type served at `endpoint` (`/Roles`, case-insensitively).
    pub fn type_by_endpoint(&self, endpoint: &str) -> Option<&ResourceTypeDef> {
        self.resource_types.iter().find(|rt| rt.kind.is_custom() && rt.endpoint.eq_ignore_ascii_case(endpoint))
    }

    /// The extension schemas of a resource type, in declaration order.
    pub fn extensions(&self, kind: ResourceKind) -> Vec<&SchemaDef> {
        self.resource_type(kind)
            .map(|rt| rt.extensions.iter().filter_map(|e| self.schema(&e.schema)).collect())
            .unwrap_or_default()
    }

    /// The common attribute `name` (`id`, `externalId`, `meta`), case-insensitively.
    pub fn common_attr(&self, name: &str) -> Option<&AttrDef> {
        self.common.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Finds a top-level attribute of a resource type. `urn` restricts the search to
    /// that schema (core or extension); without it, common attributes and the core
    /// schema are searched.
    pub fn find_attr(&self, kind: ResourceKind, urn: Option<&str>, name: &str) -> Option<(AttrHome<'_>, &AttrDef)> {
        let core = self.core_schema(kind);
        match urn {
            None => {
                if let Some(a) = self.common_attr(name) {
                    return Some((AttrHome::Common, a));
                }
                core.attr(name).map(|a| (AttrHome::Core(core), a))
            }
            Some(u) if u.eq_ignore_ascii_case(&core.id) => {
                if let Some(a) = self.common_attr(name) {
                    return Some((AttrHome::Common, a));
                }
                core.attr(name).map(|a| (AttrHome::Core(core), a))
            }
            Some(u) => {
                let ext = self.extensions(kind).into_iter().find(|s| s.id.eq_ignore_ascii_case(u))?;
                ext.attr(name).map(|a| (AttrHome::Extension(ext), a))
            }
        }
    }

    /// Whether `urn` is the core schema or an extension of `kind`; returns the canonical URN.
    pub fn schema_of_kind(&self, kind: ResourceKind, urn: &str) -> Option<&str> {
        let core = self.core_schema(kind);
        if core.id.eq_ignore_ascii_case(urn) {
            return Some(&core.id);
        }
        self.extensions(kind).into_iter().find(|s| s.id.eq_ignore_ascii_case(urn)).map(|s| s.id.as_str())
    }
}
