//! The built-in schemas of RFC 7643: the core User (§4.1, characteristics as in §8.7.1),
//! the Enterprise User extension (§4.3), the core Group (§4.2), and the common attributes
//! `id`, `externalId` and `meta` (§3.1). Owns definitions only; lookups are in `schema`.

use crate::language::LANGUAGE_URN;
use crate::places::PLACES_URN;
use crate::schema::{
    AttrDef, AttrType, ENTERPRISE_URN, ExtensionRef, GROUP_URN, Mutability, Registry, ResourceKind, ResourceTypeDef,
    Returned, SchemaDef, USER_URN, Uniqueness,
};

/// Schema URNs Entra ID adds to `schemas`; accepted and ignored.
pub const MICROSOFT_GROUP_URN: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
pub const MICROSOFT_USER_URN: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User";

/// Small builder over [`AttrDef`] to keep the definitions readable.
struct A(AttrDef);

impl A {
    fn s(name: &str, desc: &str) -> A {
        let mut d = AttrDef::new(name, AttrType::String);
        d.description = desc.to_string();
        A(d)
    }
    fn t(name: &str, ty: AttrType, desc: &str) -> A {
        let mut a = A::s(name, desc);
        a.0.ty = ty;
        if matches!(ty, AttrType::Reference | AttrType::Binary) {
            a.0.case_exact = true;
        }
        a
    }
    fn complex(name: &str, desc: &str, subs: Vec<AttrDef>) -> A {
        let mut a = A::t(name, AttrType::Complex, desc);
        a.0.sub_attributes = subs;
        a
    }
    fn multi(mut self) -> A {
        self.0.multi_valued = true;
        self
    }
    fn required(mut self) -> A {
        self.0.required = true;
        self
    }
    fn exact(mut self) -> A {
        self.0.case_exact = true;
        self
    }
    fn ro(mut self) -> A {
        self.0.mutability = Mutability::ReadOnly;
        self
    }
    fn immutable(mut self) -> A {
        self.0.mutability = Mutability::Immutable;
        self
    }
    fn returned(mut self, r: Returned) -> A {
        self.0.returned = r;
        self
    }
    fn unique(mut self, u: Uniqueness) -> A {
        self.0.uniqueness = u;
        self
    }
    fn canonical(mut self, values: &[&str]) -> A {
        self.0.canonical_values = values.iter().map(|v| v.to_string()).collect();
        self
    }
    fn refs(mut self, types: &[&str]) -> A {
        self.0.reference_types = types.iter().map(|v| v.to_string()).collect();
        self
    }
    fn mutability(mut self, m: Mutability) -> A {
        self.0.mutability = m;
        self
    }
    fn d(self) -> AttrDef {
        self.0
    }
}

/// `value`, `display`, `type`, `primary` of a multi-valued attribute.
fn mv(name: &str, desc: &str, value: AttrDef, types: &[&str]) -> AttrDef {
    A::complex(
        name,
        desc,
        vec![
            value,
            A::s("display", "A human-readable name, primarily used for display purposes.").d(),
            A::s("type", &format!("A label indicating the attribute's function, e.g. {}.", types.join(", ")))
                .canonical(types)
                .d(),
            A::t(
                "primary",
                AttrType::Boolean,
                "A Boolean value indicating the 'primary' or preferred attribute value.",
            )
            .d(),
        ],
    )
    .multi()
    .d()
}

fn user_schema() -> SchemaDef {
    let name = A::complex(
        "name",
        "The components of the user's real name.",
        vec![
            A::s(
                "formatted",
                "The full name, including all middle names, titles, and suffixes, formatted for display.",
            )
            .d(),
            A::s("familyName", "The family name of the User, or last name.").d(),
            A::s("givenName", "The given name of the User, or first name.").d(),
            A::s("middleName", "The middle name(s) of the User.").d(),
            A::s("honorificPrefix", "The honorific prefix(es) of the User, or title (e.g. 'Ms.').").d(),
            A::s("honorificSuffix", "The honorific suffix(es) of the User, or suffix (e.g. 'III').").d(),
        ],
    )
    .d();
    let addresses = A::complex(
        "addresses",
        "A physical mailing address for this User.",
        vec![
            A::s("formatted", "The full mailing address, formatted for display.").d(),
            A::s("streetAddress", "The full street address component.").d(),
            A::s("locality", "The city or locality component.").d(),
            A::s("region", "The state or region component.").d(),
            A::s("postalCode", "The zip code or postal code component.").d(),
            A::s("country", "The country name component.").d(),
            A::s("type", "A label indicating the attribute's function, e.g. 'work' or 'home'.")
                .canonical(&["work", "home", "other"])
                .d(),
            A::t("primary", AttrType::Boolean, "A Boolean value indicating the primary address.").d(),
        ],
    )
    .multi()
    .d();
    let groups = A::complex(
        "groups",
        "A list of groups to which the user belongs, either through direct membership or through nested groups.",
        vec![
            A::s("value", "The identifier of the User's group.").ro().d(),
            A::t("$ref", AttrType::Reference, "The URI of the corresponding 'Group' resource.")
                .refs(&["User", "Group"])
                .ro()
                .d(),
            A::s("display", "A human-readable name, primarily used for display purposes.").ro().d(),
            A::s("type", "A label indicating the attribute's function, e.g. 'direct' or 'indirect'.")
                .canonical(&["direct", "indirect"])
                .ro()
                .d(),
        ],
    )
    .multi()
    .ro()
    .d();
    SchemaDef {
        id: USER_URN.to_string(),
        name: "User".to_string(),
        description: "User Account".to_string(),
        attributes: vec![
            A::s("userName", "Unique identifier for the User, typically used by the user to directly authenticate.")
                .required()
                .unique(Uniqueness::Server)
                .d(),
            name,
            A::s("displayName", "The name of the User, suitable for display to end-users.").d(),
            A::s("nickName", "The casual way to address the user in real life.").d(),
            A::t(
                "profileUrl",
                AttrType::Reference,
                "A fully qualified URL pointing to a page representing the User's online profile.",
            )
            .refs(&["external"])
            .d(),
            A::s("title", "The user's title, such as 'Vice President'.").d(),
            A::s("userType", "Used to identify the relationship between the organization and the user.").d(),
            A::s("preferredLanguage", "Indicates the User's preferred written or spoken language.").d(),
            A::s("locale", "Used to indicate the User's default location for purposes of localizing items.").d(),
            A::s("timezone", "The User's time zone in the 'Olson' time zone database format.").d(),
            A::t("active", AttrType::Boolean, "A Boolean value indicating the User's administrative status.").d(),
            A::s("password", "The User's cleartext password; never returned.")
                .mutability(Mutability::WriteOnly)
                .returned(Returned::Never)
                .d(),
            mv(
                "emails",
                "Email addresses for the user.",
                A::s("value", "Email address for the User.").d(),
                &["work", "home", "other"],
            ),
            mv(
                "phoneNumbers",
                "Phone numbers for the User.",
                A::s("value", "Phone number of the User.").d(),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            mv(
                "ims",
                "Instant messaging addresses for the User.",
                A::s("value", "Instant messaging address for the User.").d(),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            mv(
                "photos",
                "URLs of photos of the User.",
                A::t("value", AttrType::Reference, "URL of a photo of the User.").refs(&["external"]).d(),
                &["photo", "thumbnail"],
            ),
            addresses,
            groups,
            mv(
                "entitlements",
                "A list of entitlements for the User.",
                A::s("value", "The value of an entitlement.").d(),
                &[],
            ),
            mv("roles", "A list of roles for the User.", A::s("value", "The value of a role.").d(), &[]),
            mv(
                "x509Certificates",
                "A list of certificates issued to the User.",
                A::t("value", AttrType::Binary, "The value of an X.509 certificate.").d(),
                &[],
            ),
        ],
    }
}

fn enterprise_schema() -> SchemaDef {
    SchemaDef {
        id: ENTERPRISE_URN.to_string(),
        name: "EnterpriseUser".to_string(),
        description: "Enterprise User".to_string(),
        attributes: vec![
            A::s("employeeNumber", "Numeric or alphanumeric identifier assigned to a person.").d(),
            A::s("costCenter", "Identifies the name of a cost center.").d(),
            A::s("organization", "Identifies the name of an organization.").d(),
            A::s("division", "Identifies the name of a division.").d(),
            A::s("department", "Identifies the name of a department.").d(),
            A::complex(
                "manager",
                "The User's manager.",
                vec![
                    A::s("value", "The id of the SCIM resource representing the User's manager.").d(),
                    A::t("$ref", AttrType::Reference, "The URI of the SCIM resource representing the User's manager.")
                        .refs(&["User"])
                        .d(),
                    A::s("displayName", "The displayName of the User's manager.").ro().d(),
                ],
            )
            .d(),
        ],
    }
}

/// Adds the places extension to a registry: a tenant with places sees it.
pub fn add_places_extension(reg: &mut Registry) {
    if reg.schema(PLACES_URN).is_some() {
        return;
    }
    reg.schemas.push(places_schema());
    if let Some(rt) = reg.resource_types.iter_mut().find(|r| r.kind == ResourceKind::User) {
        rt.extensions.push(ExtensionRef { schema: PLACES_URN.to_string(), required: false });
    }
}

/// The places extension: a user's locations and home location, decided by the
/// tenant's location rules (`crate::places`), read-only and filterable.
fn places_schema() -> SchemaDef {
    SchemaDef {
        id: PLACES_URN.to_string(),
        name: "UserPlaces".to_string(),
        description: "The locations that provision the user, and the user's home location".to_string(),
        attributes: vec![
            A::s("locations", "Keys of the locations whose rules provision the user.").exact().multi().ro().d(),
            A::s("homeLocation", "Key of the user's home location.").exact().ro().d(),
        ],
    }
}

/// Adds the language extension to a registry: a tenant whose profile derives the language
/// the product uses (`preferred_language_fallback`) sees it.
pub fn add_language_extension(reg: &mut Registry) {
    if reg.schema(LANGUAGE_URN).is_some() {
        return;
    }
    reg.schemas.push(SchemaDef {
        id: LANGUAGE_URN.to_string(),
        name: "UserLanguage".to_string(),
        description: "The language the product uses for the user, derived from preferredLanguage".to_string(),
        attributes: vec![
            A::s(
                "language",
                "The language code the product uses for the user: preferredLanguage's language when the \
                 product offers it (case ignored, region dropped), else the tenant's fallback.",
            )
            .ro()
            .d(),
        ],
    });
    if let Some(rt) = reg.resource_types.iter_mut().find(|r| r.kind == ResourceKind::User) {
        rt.extensions.push(ExtensionRef { schema: LANGUAGE_URN.to_string(), required: false });
    }
}

fn group_schema() -> SchemaDef {
    SchemaDef {
        id: GROUP_URN.to_string(),
        name: "Group".to_string(),
        description: "Group".to_string(),
        attributes: vec![
            A::s("displayName", "A human-readable name for the Group.").required().d(),
            A::complex(
                "members",
                "A list of members of the Group.",
                vec![
                    A::s("value", "Identifier of the member of this Group.").exact().immutable().d(),
                    A::t(
                        "$ref",
                        AttrType::Reference,
                        "The URI corresponding to a SCIM resource that is a member of this Group.",
                    )
                    .refs(&["User", "Group"])
                    .immutable()
                    .d(),
                    A::s("type", "A label indicating the type of resource, e.g. 'User' or 'Group'.")
                        .canonical(&["User", "Group"])
                        .immutable()
                        .d(),
                    // Not in RFC 7643's Group schema; computed from the member, so only on request.
                    A::s("display", "A human-readable name of the member (its displayName or userName).")
                        .ro()
                        .returned(Returned::Request)
                        .d(),
                ],
            )
            .multi()
            .d(),
        ],
    }
}

fn common_attributes() -> Vec<AttrDef> {
    vec![
        A::s("id", "A unique identifier for a SCIM resource as defined by the service provider.")
            .exact()
            .ro()
            .returned(Returned::Always)
            .unique(Uniqueness::Server)
            .d(),
        A::s("externalId", "An identifier for the resource as defined by the provisioning client.").exact().d(),
        A::complex(
            "meta",
            "A complex attribute containing resource metadata.",
            vec![
                A::s("resourceType", "The name of the resource type of the resource.").exact().ro().d(),
                A::t(
                    "created",
                    AttrType::DateTime,
                    "The date and time the resource was added to the service provider.",
                )
                .ro()
                .d(),
                A::t("lastModified", AttrType::DateTime, "The most recent date and time the resource was modified.")
                    .ro()
                    .d(),
                A::t("location", AttrType::Reference, "The URI of the resource being returned.")
                    .refs(&["uri"])
                    .ro()
                    .d(),
                A::s("version", "The version of the resource being returned.").exact().ro().d(),
            ],
        )
        .ro()
        .d(),
    ]
}

/// The Role schema of draft-ietf-scim-roles-entitlements (§3.2).
pub const IETF_ROLE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Role";
/// The Entitlement schema of draft-ietf-scim-roles-entitlements (§3.3).
pub const IETF_ENTITLEMENT_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Entitlement";
/// Okta's Role schema (its guide "Build a SCIM 2.0 server with entitlements").
pub const OKTA_ROLE_URN: &str = "urn:okta:scim:schemas:core:1.0:Role";
/// Okta's Entitlement schema.
pub const OKTA_ENTITLEMENT_URN: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";

/// The catalog schemas a declared resource type may use, by URN: the draft's Role and
/// Entitlement, and Okta's. Every attribute is readOnly: clients read catalogs, the
/// operator loads them. A schema enters a tenant's registry only when one of its types
/// uses it.
pub fn catalog_schema(urn: &str) -> Option<SchemaDef> {
    let ietf = |id: &str, name: &str, what: &str, supported_required: bool| {
        let mut supported = A::t("supported", AttrType::Boolean, &format!("Whether the {what} can be assigned."));
        if supported_required {
            supported = supported.required();
        }
        SchemaDef {
            id: id.to_string(),
            name: name.to_string(),
            description: format!("{name} (draft-ietf-scim-roles-entitlements)"),
            attributes: vec![
                A::s("value", &format!("The {what}'s value, as users' {what}s carry it.")).required().ro().d(),
                A::s("display", &format!("A human-readable name of the {what}.")).ro().d(),
                A::s("type", &format!("The {what}'s type.")).ro().d(),
                A::t("primary", AttrType::Boolean, "Whether it is the primary one.").ro().d(),
                supported.ro().d(),
                A::t("limitedAssignmentsPermitted", AttrType::Boolean, "Whether assignments are limited in number.")
                    .ro()
                    .d(),
                A::t("totalAssignmentsPermitted", AttrType::Integer, "How many assignments are permitted.").ro().d(),
                A::t("totalAssignmentsUsed", AttrType::Integer, "How many assignments are used.").ro().d(),
                A::s("containedBy", &format!("The {what}s that contain this one.")).multi().ro().d(),
                A::s("contains", &format!("The {what}s this one contains.")).multi().ro().d(),
            ],
        }
    };
    let okta = |id: &str, name: &str| SchemaDef {
        id: id.to_string(),
        name: name.to_string(),
        description: format!("{name} (Okta)"),
        attributes: vec![
            A::s("displayName", &format!("A human-readable name of the {}.", name.to_lowercase())).required().ro().d(),
            A::s("type", "Its type (e.g. License).").ro().d(),
            A::s("description", "What it grants.").ro().d(),
        ],
    };
    match urn {
        IETF_ROLE_URN => Some(ietf(IETF_ROLE_URN, "Role", "role", true)),
        IETF_ENTITLEMENT_URN => Some(ietf(IETF_ENTITLEMENT_URN, "Entitlement", "entitlement", false)),
        OKTA_ROLE_URN => Some(okta(OKTA_ROLE_URN, "Role")),
        OKTA_ENTITLEMENT_URN => Some(okta(OKTA_ENTITLEMENT_URN, "Entitlement")),
        _ => None,
    }
}

/// The URNs [`catalog_schema`] knows.
pub const CATALOG_URNS: [&str; 4] = [IETF_ROLE_URN, IETF_ENTITLEMENT_URN, OKTA_ROLE_URN, OKTA_ENTITLEMENT_URN];

/// The registry every tenant starts from: User (with the Enterprise extension) and Group.
pub fn standard_registry() -> Registry {
    Registry {
        schemas: vec![user_schema(), enterprise_schema(), group_schema()],
        resource_types: vec![
            ResourceTypeDef::builtin(
                ResourceKind::User,
                "User Account",
                vec![ExtensionRef { schema: ENTERPRISE_URN.to_string(), required: false }],
            ),
            ResourceTypeDef::builtin(ResourceKind::Group, "Group", vec![]),
        ],
        common: common_attributes(),
        tolerated_urns: vec![MICROSOFT_GROUP_URN.to_string(), MICROSOFT_USER_URN.to_string()],
        strict: false,
        patch_requires_path: false,
        replace_complex_whole: false,
        canonical_types: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::AttrHome;

    #[test]
    fn every_rfc_user_attribute_is_defined() {
        let reg = standard_registry();
        let user = reg.core_schema(ResourceKind::User);
        for name in [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
        ] {
            assert!(user.attr(name).is_some(), "{name}");
        }
        assert_eq!(user.attr("USERNAME").unwrap().uniqueness, Uniqueness::Server);
        assert_eq!(user.attr("password").unwrap().returned, Returned::Never);
        assert!(user.attr("emails").unwrap().sub("PRIMARY").is_some());
    }

    #[test]
    fn urn_qualified_lookups() {
        let reg = standard_registry();
        let (home, a) =
            reg.find_attr(ResourceKind::User, Some(&ENTERPRISE_URN.to_uppercase()), "employeenumber").unwrap();
        assert!(matches!(home, AttrHome::Extension(_)));
        assert_eq!(a.name, "employeeNumber");
        let (home, a) = reg.find_attr(ResourceKind::User, Some(USER_URN), "username").unwrap();
        assert!(matches!(home, AttrHome::Core(_)));
        assert_eq!(a.name, "userName");
        assert!(matches!(reg.find_attr(ResourceKind::User, None, "ID"), Some((AttrHome::Common, _))));
        assert!(reg.find_attr(ResourceKind::Group, Some(ENTERPRISE_URN), "employeeNumber").is_none());
        assert_eq!(reg.find_attr(ResourceKind::Group, None, "members").unwrap().1.sub("value").unwrap().name, "value");
    }
}
