//! Tenant profiles: how one tenant's SCIM endpoint behaves. A profile
//! is plain settings, stored per tenant as JSON; a preset is a named profile shipped in
//! `examples/presets/`. This module owns the settings, their validation, and the decisions
//! made from them (is an operation offered, which page sizes apply); the server applies
//! them. The default profile is the full RFC 7644 service provider.

mod conformance;
mod extensions;
mod head;
mod reprovision;
mod sources;
mod types;

pub use extensions::{AttrDoc, ExtensionDecl, SchemaDoc};
pub use head::ProfileHead;
pub use reprovision::Reprovision;
pub use sources::{Caller, MAX_SOURCES, SourceDecl};
pub use types::{TypeDecl, TypeEndpoint};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::discovery::ServiceProviderConfig;
use crate::error::ScimError;
use crate::language::{is_language_code, is_language_tag, language_of};
use crate::schema::{ExtensionRef, Mutability, Registry, ResourceKind};

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

/// A declared type's default: listed and read, never written by a client.
pub const READ_ONLY: TypeAccess =
    TypeAccess { offered: true, read: true, create: false, replace: false, patch: false, delete: false };

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
    /// Which requests' payloads (redacted) the tenant's audit trail keeps, applied to the
    /// tenant's audit settings each time this profile is set (the staffing tool logs
    /// the payloads of every request, reads included: `all`). The operator may change the
    /// tenant's setting afterwards (`tenant set --audit-details`); `None` leaves it alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<AuditDetails>,
    /// Where the tenant's SCIM API is mounted, e.g. `["/api"]` or `["/scim/v1"]`;
    /// empty: the server's `/scim/v2` only.
    pub base_paths: Vec<String>,
    /// A further path of the token endpoint for this tenant's clients, e.g.
    /// `/oauth2/server/token`; the server's own stays too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_path: Option<String>,
    pub users: TypeAccess,
    pub groups: TypeAccess,
    /// DELETE on a user sets `active` to false (the user stays readable) instead of
    /// removing it.
    pub delete_deactivates: bool,
    /// What a POST that meets an inactive user, or a deleted resource's tombstone, does
    /// (`off`, `reactivate`, `restore`): see [`Reprovision`] and [`Profile::reprovision`].
    pub reprovision: Reprovision,
    /// The earlier name of `reprovision: "reactivate"`, still read (stored profiles say it);
    /// shown as whether a POST of an inactive user's userName brings that user back.
    pub create_reactivates: bool,
    /// Page size when a list names no `count`; `None`: the server's setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_page_size: Option<u64>,
    /// Largest `count` honoured; `None`: the server's setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u64>,
    /// Most emails a user may have (one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_emails: Option<usize>,
    /// A user needs a work email, and its userName must be that email.
    pub user_name_is_work_email: bool,
    /// A user needs a `name` with a givenName or familyName.
    pub require_name: bool,
    /// Derive the language the product uses for each user: `preferredLanguage` stays
    /// as sent (location rules match on it, non-language values included), and the
    /// read-only `language` of the language extension (`crate::language::LANGUAGE_URN`)
    /// is its language when the product offers it (case ignored, region dropped), else
    /// this fallback (`en`). `None`: no derived language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_language_fallback: Option<String>,
    /// The language codes the product offers, for the derived language (de, en, es,
    /// fr, it, nl, sk, sl, vi, ko); empty: every ISO 639-1 language.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// The members of a group are never returned; they can still be set.
    pub hide_group_members: bool,
    /// A PATCH of a group that names neither `attributes` nor `excludedAttributes` answers
    /// 200 with the group, members included. Off (the default) it answers 204 No Content
    /// with the new ETag: RFC 7644 allows either, Entra ID and Okta ignore the body, and a
    /// large group's member list is then neither loaded nor sent for every change.
    pub group_patch_resource: bool,
    /// `User.groups` is writable: setting it on a user (POST, PUT, PATCH) changes
    /// the user's memberships, in the user's transaction. `/Schemas` shows it readWrite.
    pub user_groups_settable: bool,
    /// Strict RFC 7644 mode: the identity-provider shapes tolerated by default
    /// (what Entra ID and Okta send: capitalised PATCH ops, booleans and numbers as strings, path-less
    /// PATCH keys that are paths, member removal by a value list, filtered PATCH paths
    /// that create what they do not find, a plain-string `manager`, unknown schema URNs,
    /// a PATCH without `schemas`) are refused with a 400 naming the rule.
    pub strict: bool,
    /// Users may be addressed by userName in the path as well as by id.
    pub users_by_user_name: bool,
    /// Phone numbers must be written in E.164 form (`+`, country code, at most 15 digits),
    /// and one of type `mobile` must not be a landline as libphonenumber's metadata knows
    /// it (`crate::phone` says why the two checks differ).
    pub phone_numbers_e164: bool,
    /// Accept the SCIM 1.x core schema URN `urn:scim:schemas:core:1.0` for users, as an
    /// alias of the SCIM 2.0 core User schema. A user written with it remembers it:
    /// responses about that user name the 1.x URN in `schemas`, as the product does.
    pub scim1_user_schema: bool,
    /// Further scope names that give this tenant's access tokens every SCIM operation, as
    /// `scim` does (the workflow platform's `api` and `usersync`).
    pub scim_scopes: Vec<String>,
    /// A `client_credentials` or `password` token is granted every scope of the client,
    /// whatever the request's `scope` names (which must still be the client's), and the
    /// response says so (the workflow platform answers `scope=api` with
    /// `"api usersync openid"`).
    pub grant_all_client_scopes: bool,
    /// Answers of the token endpoint carry `http_status_code`, the response's numeric status:
    /// `200` on success (the workflow platform's sample response) and the error's status on a
    /// refusal.
    pub token_http_status_code: bool,
    /// How long a login lasts for the tenant's OAuth clients that do not set it themselves
    /// (`scimd client create|set --refresh-expiry`): `sliding` (each refresh starts a new
    /// refresh-token lifetime) or `absolute` (the refresh tokens of a login expire one lifetime
    /// after the password grant, however often they are refreshed: the locker system's 30 days
    /// after the login). `None`: sliding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_expiry: Option<RefreshExpiry>,
    /// Access tokens are opaque: 40 lowercase hex characters (160 random bits), stored only as
    /// a hash, introspectable and revocable like any other (the workflow platform's token
    /// shape), instead of signed JWTs.
    pub opaque_access_tokens: bool,
    /// The tenant's clients authenticate with signed assertions only (`private_key_jwt`,
    /// RFC 7523 §2.2): a token request of a client that presents a secret is refused
    /// (`invalid_client`) whatever grant it asks for, and the operator cannot give one of
    /// the tenant's clients a secret. The IPSIE profile's client credentials.
    pub private_key_jwt_only: bool,
    /// Schema extensions of the tenant's resource types, declared in SCIM schema form
    /// (the locker system's `badges`): validated, stored, filtered and patched like the
    /// Enterprise User extension, and listed in `/Schemas` and `/ResourceTypes`.
    pub extensions: Vec<ExtensionDecl>,
    /// Resource types beside User and Group (catalogs: Roles, Entitlements), read by the
    /// tenant's clients and loaded by the operator; see [`TypeDecl`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<TypeDecl>,
    /// The codes of the declared types (their stored `rtype`), set by whoever read the
    /// profile from the store; not part of the profile's text.
    #[serde(skip)]
    pub type_codes: Vec<(String, u8)>,
    /// A list request's query parameters named after a simple attribute are equality
    /// filters: `GET /Users?userName=x` is `filter=userName eq "x"` (the locker
    /// system's clients look a user up this way), ANDed with a `filter` if there is one.
    /// Off, such a parameter is refused (400) like any other unknown one.
    pub query_attribute_filters: bool,
    /// `/ServiceProviderConfig` says `"interopProfileConformant": true`: the tenant claims
    /// the SCIM 2.0 Interoperability Profile (draft-zollner-scim-interop-profile). The claim
    /// is refused unless the profile's other settings meet it (`Profile::interop_gaps`).
    pub interop_profile_conformant: bool,
    /// Every PATCH operation must name its `path`; one without is refused (400
    /// `invalidSyntax`), as the interoperability profile's PATCH subset says. Off, a path-less
    /// operation's `value` object names the attributes (RFC 7644 §3.5.2.1; Entra ID sends them).
    pub patch_requires_path: bool,
    /// A PATCH `replace` of a whole singular complex attribute (`"path": "name"`) replaces
    /// it: sub-attributes the value leaves out are removed, as the interoperability profile
    /// says. Off, `replace` merges sub-attributes like `add` (RFC 7644 §3.5.2.3).
    pub patch_replace_complex_whole: bool,
    /// A `type` of a multi-valued attribute (`emails[].type`…) must be one of the values
    /// `/Schemas` declares for it (its `canonicalValues`: RFC 7643's, or `type_values`),
    /// case ignored; another is refused (400 `invalidValue`). An attribute with no declared
    /// values (`entitlements`, `roles`, `x509Certificates` unless `type_values` names them)
    /// then has no `type` at all, so every `type` `/Schemas` shows has its values.
    pub canonical_types: bool,
    /// The `type` values of User attributes, by attribute name (`{"roles": ["admin"]}`),
    /// declared as the `type` sub-attribute's `canonicalValues` in place of RFC 7643's.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub type_values: std::collections::BTreeMap<String, Vec<String>>,
    /// Users have no `password`: the User schema does not list it, a request naming it is
    /// refused as an unknown attribute (400 `invalidSyntax`), and `changePassword` is not
    /// supported (IPSIE AL2: the Application does not support the password attribute).
    pub no_password: bool,
    /// Requests a second the tenant's SCIM clients may make together (a burst of as many),
    /// beyond which they get 429 with `Retry-After`; on top of the server's `--tenant-rate`.
    /// Per process, like the server's rates. `None`: the server's limits only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// The tenant's provisioning sources (see [`SourceDecl`]); empty: every client is
    /// one provisioning domain, as before sources existed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceDecl>,
    /// The tenant's users and groups are changed by its identity provider only: the
    /// operator's changes (portal, admin API, CLI group and import commands) are refused
    /// with 403 (IPSIE: the Application prohibits local modifications of what the Identity
    /// Service manages). Reads stay open to the operator.
    pub forbid_local_changes: bool,
}

/// When the refresh tokens of a login expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefreshExpiry {
    /// One lifetime after the refresh that issued it: a login lives as long as it is
    /// refreshed within each lifetime.
    Sliding,
    /// One lifetime after the login (the password grant), however often it is refreshed.
    Absolute,
}

impl RefreshExpiry {
    pub fn name(self) -> &'static str {
        match self {
            RefreshExpiry::Sliding => "sliding",
            RefreshExpiry::Absolute => "absolute",
        }
    }

    /// `sliding` or `absolute`, as written in profiles, commands and the admin API.
    pub fn parse(s: &str) -> Option<RefreshExpiry> {
        match s {
            "sliding" => Some(RefreshExpiry::Sliding),
            "absolute" => Some(RefreshExpiry::Absolute),
            _ => None,
        }
    }
}

/// Which payloads a profile has the audit trail keep (as the tenant's audit settings say
/// them: `off`, `changes`, `all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditDetails {
    Off,
    Changes,
    All,
}

impl Profile {
    /// The schemas and resource types of a tenant with this profile: the built-in ones and
    /// its declared extensions.
    /// Whether the tenant's schemas differ from the standard ones (a registry of its own).
    pub fn own_registry(&self) -> bool {
        !self.extensions.is_empty()
            || !self.resource_types.is_empty()
            || self.user_groups_settable
            || self.strict
            || self.preferred_language_fallback.is_some()
            || self.conformance_rules()
    }

    pub fn registry(&self) -> Result<Registry, String> {
        let mut reg = crate::builtin::standard_registry();
        if self.strict {
            reg.strict = true;
            reg.tolerated_urns.clear();
        }
        if self.user_groups_settable {
            let user = reg.schemas.iter_mut().find(|s| s.id == CORE_USER).expect("the standard registry has User");
            if let Some(groups) = user.attributes.iter_mut().find(|a| a.name == "groups") {
                groups.mutability = Mutability::ReadWrite;
                groups.description = "The groups the user is a direct member of; setting them changes the \
                                      user's memberships."
                    .into();
                for sub in groups.sub_attributes.iter_mut().filter(|s| s.name == "value" || s.name == "type") {
                    sub.mutability = Mutability::ReadWrite;
                }
            }
        }
        if self.preferred_language_fallback.is_some() {
            crate::builtin::add_language_extension(&mut reg);
        }
        self.apply_conformance_rules(&mut reg);
        // Before the extensions, which may extend a declared type. Without codes from the
        // store (a profile being checked), each type takes a stand-in code.
        types::add_types(&mut reg, &self.resource_types, |i, name| {
            if self.type_codes.is_empty() {
                u8::try_from(i).ok().map(|i| crate::schema::FIRST_CUSTOM_CODE + i)
            } else {
                self.type_codes.iter().find(|(n, _)| n == name).map(|(_, c)| *c)
            }
        });
        for ext in &self.extensions {
            let kind = ext.kind(&reg)?;
            let schema = ext.schema_def()?;
            if reg.schema(&schema.id).is_some() {
                return Err(format!("extension '{}' is declared twice", schema.id));
            }
            if let Some(rt) = reg.resource_types.iter_mut().find(|r| r.kind == kind) {
                rt.extensions.push(ExtensionRef { schema: schema.id.clone(), required: ext.required });
            }
            reg.schemas.push(schema);
        }
        Ok(reg)
    }
}

/// The SCIM 1.x core schema URN.
pub const SCIM1_CORE: &str = "urn:scim:schemas:core:1.0";
/// The SCIM 2.0 core User schema URN.
const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// The highest rate a profile may set (requests a second).
pub const RATE_LIMIT_MAX: u32 = 100_000;

/// The most any profile may set as a page size.
pub const PAGE_SIZE_LIMIT: u64 = 10_000;

impl Profile {
    /// Parses and validates a profile (JSON), naming what is wrong.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let mut p: Profile = serde_json::from_str(text).map_err(|e| format!("invalid profile: {e}"))?;
        p.validate()?;
        p.settle_reprovision();
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
        if let Some(r) = self.rate_limit
            && !(1..=RATE_LIMIT_MAX).contains(&r)
        {
            return Err(format!("rate_limit must be between 1 and {RATE_LIMIT_MAX} requests a second, not {r}"));
        }
        if !self.users.offered && !self.groups.offered {
            return Err("a profile must offer Users or Groups".into());
        }
        for path in &self.base_paths {
            check_mount(path, false)?;
        }
        if let Some(t) = &self.token_path {
            check_mount(t, true)?;
        }
        if let Some(t) = &self.token_path
            && self.base_paths.iter().any(|b| t == b || t.starts_with(&format!("{b}/")))
        {
            return Err(format!("token_path '{t}' lies under one of the base paths"));
        }
        if self.max_emails == Some(0) && self.user_name_is_work_email {
            return Err("user_name_is_work_email needs max_emails of at least 1".into());
        }
        // A language tag, as profiles stored before `languages` existed may hold (`en-US`).
        if let Some(l) = &self.preferred_language_fallback
            && !is_language_tag(l)
        {
            return Err(format!("preferred_language_fallback '{l}' is not a language code"));
        }
        if let Some(l) = self.languages.iter().find(|l| !is_language_code(l)) {
            return Err(format!("languages: '{l}' is not a language code (ISO 639-1, lower case)"));
        }
        if !self.languages.is_empty() {
            match &self.preferred_language_fallback {
                None => return Err("languages needs preferred_language_fallback (the language used otherwise)".into()),
                Some(f) if !language_of(f).is_some_and(|l| self.languages.contains(&l)) => {
                    return Err(format!("preferred_language_fallback '{f}' is not one of languages"));
                }
                Some(_) => {}
            }
        }
        types::validate(&self.resource_types)?;
        if !self.extensions.is_empty() || !self.resource_types.is_empty() {
            // Building it checks the declarations; without any there is nothing to check.
            self.registry()?;
        }
        self.validate_sources()?;
        self.validate_conformance()
    }

    /// Applies the profile's rules for users to a prepared (canonical) user document:
    /// refuses what breaks them (400 `invalidValue`, naming the rule), and writes the
    /// derived language when the profile asks for it (`preferredLanguage` is never changed).
    pub fn check_user(&self, doc: &mut Value) -> Result<(), ScimError> {
        let emails: Vec<&Value> =
            doc.get("emails").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
        if let Some(max) = self.max_emails
            && emails.len() > max
        {
            return Err(ScimError::invalid_value(format!(
                "a user may have at most {max} email{} here; {} were given",
                if max == 1 { "" } else { "s" },
                emails.len()
            )));
        }
        if self.user_name_is_work_email {
            let work = emails
                .iter()
                .find(|e| e.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("work")))
                .and_then(|e| e.get("value").and_then(Value::as_str));
            let Some(work) = work else {
                return Err(ScimError::invalid_value("a user needs a work email (emails[type eq \"work\"]) here"));
            };
            let user_name = doc.get("userName").and_then(Value::as_str).unwrap_or_default();
            if !user_name.eq_ignore_ascii_case(work) {
                return Err(ScimError::invalid_value(format!(
                    "userName '{user_name}' must be the user's work email '{work}' here"
                )));
            }
        }
        if self.require_name {
            let named = doc.get("name").is_some_and(|n| {
                ["givenName", "familyName", "formatted"]
                    .iter()
                    .any(|k| n.get(k).and_then(Value::as_str).is_some_and(|v| !v.trim().is_empty()))
            });
            if !named {
                return Err(ScimError::invalid_value(
                    "a user needs a name (name.givenName, name.familyName or name.formatted) here",
                ));
            }
        }
        if self.phone_numbers_e164 {
            for p in doc.get("phoneNumbers").and_then(Value::as_array).into_iter().flatten() {
                let value = p.get("value").and_then(Value::as_str).unwrap_or_default();
                let kind = p.get("type").and_then(Value::as_str).unwrap_or_default();
                crate::phone::check(value, kind)?;
            }
        }
        if let Some(fallback) = &self.preferred_language_fallback {
            crate::language::set_derived(doc, &self.languages, fallback);
        }
        Ok(())
    }

    /// The endpoint of a kind: `/Users`, `/Groups`, or a declared type's.
    pub fn type_endpoint(&self, kind: ResourceKind) -> &str {
        let ResourceKind::Custom(code) = kind else { return kind.endpoint() };
        self.type_codes
            .iter()
            .find(|(_, c)| *c == code)
            .and_then(|(name, _)| self.resource_types.iter().find(|t| &t.name == name))
            .map_or("/", |t| t.endpoint.as_str())
    }

    pub fn access(&self, kind: ResourceKind) -> &TypeAccess {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
            ResourceKind::Custom(_) => &READ_ONLY,
        }
    }

    /// Whether `op` on `kind` is allowed; the SCIM error for the client if not: 404 for a
    /// type the tenant is not offered (as an endpoint that does not exist), 405 for an
    /// operation the type does not offer.
    pub fn check(&self, kind: ResourceKind, op: Operation) -> Result<(), ScimError> {
        let access = self.access(kind);
        let endpoint = self.type_endpoint(kind);
        if !access.offered {
            return Err(ScimError::new(
                404,
                None,
                format!("this tenant has no {endpoint} endpoint: its profile does not offer {}", kind.name()),
            ));
        }
        if op == Operation::Patch && !self.patch_supported() {
            // RFC 7644 §3.12: an operation the service provider does not support at all
            // (its ServiceProviderConfig says patch.supported=false) is 501.
            return Err(ScimError::new(
                501,
                None,
                "PATCH is not supported for this tenant (its profile turns it off; /ServiceProviderConfig says \
                 patch.supported=false): send the whole resource with PUT",
            )
            .with_allow(access.allowed_methods()));
        }
        if !access.allows(op) {
            let allowed = access.allowed_methods();
            let allow = allowed.clone();
            return Err(ScimError::new(
                405,
                None,
                format!(
                    "{} cannot be {} by this tenant's clients (its profile allows: {})",
                    endpoint.trim_start_matches('/'),
                    match op {
                        Operation::Read => "read",
                        Operation::Create => "created",
                        Operation::Replace => "replaced",
                        Operation::Patch => "patched",
                        Operation::Delete => "deleted",
                    },
                    if allowed.is_empty() { "nothing".to_string() } else { allowed.join(", ") }
                ),
            )
            .with_allow(allow));
        }
        Ok(())
    }

    /// Whether some offered type of the tenant allows PATCH (`patch.supported`).
    pub fn patch_supported(&self) -> bool {
        self.users.allows(Operation::Patch) || self.groups.allows(Operation::Patch)
    }

    /// The server's ServiceProviderConfig as this tenant sees it: PATCH supported only if
    /// an offered type allows it, password changes only if users can be changed, and the
    /// tenant's largest page as `filter.maxResults`.
    pub fn service_provider_config(&self, server: &ServiceProviderConfig, max_page: u64) -> ServiceProviderConfig {
        let patch = self.patch_supported();
        let users_change = self.users.allows(Operation::Patch) || self.users.allows(Operation::Replace);
        ServiceProviderConfig {
            patch: server.patch && patch,
            change_password: server.change_password && users_change && !self.no_password,
            filter_max_results: max_page,
            interop_profile_conformant: self.interop_profile_conformant,
            ..server.clone()
        }
    }

    /// The tenant's page sizes: its own where set, else the server's.
    pub fn page_sizes(&self, server_default: u64, server_max: u64) -> (u64, u64) {
        let max = self.max_page_size.unwrap_or(server_max);
        let default = self.default_page_size.unwrap_or(server_default).min(max);
        (default, max)
    }
}

/// Paths the server keeps for itself: no profile may mount anything at or under them
/// (a token path may lie under `/oauth2`, but not on its other endpoints).
const RESERVED: &[&str] = &["/admin", "/.well-known", "/healthz", "/oauth2/revoke", "/oauth2/introspect"];

/// A path a profile may mount an endpoint at: absolute, no trailing slash, plain segments.
fn check_mount(path: &str, token: bool) -> Result<(), String> {
    if !token && (path == "/oauth2" || path.starts_with("/oauth2/")) {
        return Err(format!("'{path}' is reserved by the server (/oauth2)"));
    }
    let plain = |seg: &str| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
    let ok = path.starts_with('/') && path.len() <= 100 && path[1..].split('/').all(plain);
    if !ok {
        return Err(format!("'{path}' is not a usable path: '/' and plain segments (letters, digits, - . _ ~)"));
    }
    if let Some(r) = RESERVED.iter().find(|r| path == **r || path.starts_with(&format!("{r}/"))) {
        return Err(format!("'{path}' is reserved by the server ({r})"));
    }
    Ok(())
}

/// Where a tenant's SCIM API answers when its profile mounts it nowhere else.
pub const DEFAULT_BASE_PATH: &str = "/scim/v2";

/// The server's public root from a configured public URL, which may name the SCIM API
/// (`https://host/scim/v2`) or the root itself (`https://host/`): `https://host`.
pub fn public_root(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    url.strip_suffix(DEFAULT_BASE_PATH).unwrap_or(url)
}

impl Profile {
    /// The paths the tenant's SCIM API answers at: its mounts, else the default.
    pub fn api_paths(&self) -> Vec<&str> {
        if self.base_paths.is_empty() {
            vec![DEFAULT_BASE_PATH]
        } else {
            self.base_paths.iter().map(String::as_str).collect()
        }
    }

    /// Whether the tenant's SCIM API answers at `base` (`/scim/v2` or a custom mount).
    pub fn serves_at(&self, base: &str) -> bool {
        self.api_paths().contains(&base)
    }
}

/// Whether a body names the SCIM 1.x core schema URN (in `schemas`, or as the key of an
/// attribute object).
fn names_scim1(body: &Value) -> bool {
    match body {
        Value::Object(o) => {
            o.contains_key(SCIM1_CORE)
                || o.get("schemas").and_then(Value::as_array).is_some_and(|s| s.iter().any(|u| u == SCIM1_CORE))
        }
        _ => false,
    }
}

impl Profile {
    /// The core schema URN a client wrote a user with, when it is not the standard one:
    /// the SCIM 1.x URN, when the profile accepts it and the body names it. The user's
    /// document keeps it (`resource::set_client_schema`), so that every response about
    /// the user names the schema its client uses, as the SCIM 1.x product does.
    pub fn client_schema(&self, kind: ResourceKind, body: &Value) -> Option<&'static str> {
        (self.scim1_user_schema && kind == ResourceKind::User && names_scim1(body)).then_some(SCIM1_CORE)
    }

    /// A request body with the SCIM 1.x core schema URN read as the 2.0 User schema, when
    /// the profile accepts it (in `schemas`, and as the key of an attribute object).
    pub fn user_body<'a>(&self, kind: ResourceKind, body: &'a Value) -> std::borrow::Cow<'a, Value> {
        if self.client_schema(kind, body).is_none() {
            return std::borrow::Cow::Borrowed(body);
        }
        let mut out = body.clone();
        let obj = out.as_object_mut().expect("an object");
        if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
            for s in schemas.iter_mut() {
                if s == SCIM1_CORE {
                    *s = Value::String(CORE_USER.into());
                }
            }
        }
        if let Some(Value::Object(attrs)) = obj.remove(SCIM1_CORE) {
            for (k, v) in attrs {
                obj.entry(k).or_insert(v);
            }
        }
        std::borrow::Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests;
