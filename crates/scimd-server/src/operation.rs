//! Which operation a request is ([`Operation`]), named once: where its route is declared
//! (each method with its handler and its operation, recorded in the HTTP layer's route
//! table), and read from there by the scope check (does it change resources?), the audit
//! trail (the event's operation, resource type and id), the metrics (the route's label
//! from the same table) and the API's description (what a tenant's profile must allow;
//! its table of operations is checked against the routes by a test).
//!
//! A request no route answers — a path nothing serves, a method an endpoint does not
//! serve — and a Bulk request's operations (addressed by a method and a path in its body)
//! have no route: [`Operation::unrouted`] names them from the method and path, as the
//! audit trail has always named them.

use scimd_core::places::Level;
use scimd_core::profile;
use scimd_core::schema::ResourceKind;

/// The operation, resource type and resource id of a request, as its audit event
/// records them.
pub type Classified = (&'static str, Option<&'static str>, Option<String>);

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `GET /Users`, `GET /Groups`.
    List(ResourceKind),
    /// `POST /Users`, `POST /Groups`.
    Create(ResourceKind),
    /// `POST /Users/.search`, `POST /Groups/.search`, or of both at the root (`None`).
    Search(Option<ResourceKind>),
    /// `GET` of one resource (or `/Me`).
    Read(ResourceKind),
    /// `PUT` of one resource (or `/Me`).
    Replace(ResourceKind),
    /// `PATCH` of one resource (or `/Me`).
    Patch(ResourceKind),
    /// `DELETE` of one resource (or `/Me`).
    Delete(ResourceKind),
    /// `POST /Bulk` (its operations have an event each; the request its own only when it
    /// was refused as a whole).
    Bulk,
    /// A discovery document: SCIM's (`/ServiceProviderConfig`, `/Schemas`,
    /// `/ResourceTypes`, a tenant's API description) or the authorization server's
    /// (`/.well-known/…`).
    Discovery,
    /// The token endpoint.
    Token,
    /// Token revocation (RFC 7009).
    Revoke,
    /// Token introspection (RFC 7662).
    Introspect,
    /// An event stream's receiver polling for its events (RFC 8936), with the stream's
    /// own credential.
    EventsPoll,
    /// A customer's go-live submissions, with its tenant's bearer token: the operation's
    /// name in the audit trail (`golive_submit`, `golive_list`).
    GoLive(&'static str),
    /// The admin API: the operation's name in the audit trail and what it addresses.
    /// Names apart from SCIM's, so that the go-live summary (the customer's provisioning)
    /// does not count the operator's work.
    Admin(&'static str, AdminTarget),
    /// A change made in the portal (a form posted, a sign-in): the operation's name in
    /// the audit trail, which records the person (never the form: it may hold a password).
    Portal(&'static str),
    /// A page of the portal, or one of its assets: not audited (what a person reads there
    /// comes from use cases the trail already shows).
    PortalPage,
    /// Health checks and metrics scrapes: not audited.
    Health,
    /// A request to a resource type a tenant's profile declares (`/Roles`, `/Roles/{id}`):
    /// which of them is the tenant's, so its route names only what is done.
    Custom(CustomOp),
    /// Anything else: the server's own API description, a method an endpoint does not
    /// serve, a path nothing serves; with the resource type its path names, if any.
    Other(Option<ResourceKind>),
}

/// What a request to a declared resource type does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomOp {
    List,
    Search,
    Read,
    Create,
    Replace,
    Patch,
    Delete,
}

impl CustomOp {
    fn name(self) -> &'static str {
        match self {
            CustomOp::List => "list",
            CustomOp::Search => "search",
            CustomOp::Read => "read",
            CustomOp::Create => "create",
            CustomOp::Replace => "replace",
            CustomOp::Patch => "patch",
            CustomOp::Delete => "delete",
        }
    }
}

/// What an admin operation on one tenant addresses (from its path's parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminTarget {
    /// Nothing the audit trail names.
    Nothing,
    /// The places tree as a whole.
    Places,
    /// One place, or the places of one level: its level and key are the path's
    /// `{level}` and `{key}`.
    Place,
    /// Access links.
    Access,
    /// One user's access (the path's `{user}`).
    UserAccess,
    /// The tenant's users (an import).
    Users,
    /// The tenant's groups.
    Groups,
    /// One group (the path's `{group}`).
    Group,
    /// The tenant's event streams.
    Streams,
    /// One event stream (the path's `{id}`).
    Stream,
    /// The tenant itself, in its onboarding (the path's `{name}`).
    Onboarding,
    /// The tenant's go-live submissions.
    Submissions,
    /// One go-live submission (the path's `{id}`).
    Submission,
}

impl Operation {
    /// Whether it changes resources (the scopes a token needs for it): everything but
    /// lists, reads, searches and discovery.
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Operation::List(_)
                | Operation::Read(_)
                | Operation::Search(_)
                | Operation::Custom(CustomOp::List | CustomOp::Search | CustomOp::Read)
                | Operation::Discovery
                | Operation::Health
                | Operation::PortalPage
                | Operation::EventsPoll
                | Operation::GoLive("golive_list")
        )
    }

    /// What a tenant's profile must allow for it, for a SCIM resource operation.
    pub fn access(self) -> Option<(ResourceKind, profile::Operation)> {
        match self {
            Operation::List(k) | Operation::Read(k) | Operation::Search(Some(k)) => Some((k, profile::Operation::Read)),
            Operation::Create(k) => Some((k, profile::Operation::Create)),
            Operation::Replace(k) => Some((k, profile::Operation::Replace)),
            Operation::Patch(k) => Some((k, profile::Operation::Patch)),
            Operation::Delete(k) => Some((k, profile::Operation::Delete)),
            _ => None,
        }
    }

    /// The operation, resource type and resource id the audit trail records for a request
    /// sent to `path` (as routed: a mounted path reads as its `/scim/v2` route); `None`
    /// for what is not audited.
    pub fn audited(self, path: &str) -> Option<Classified> {
        let kind = |k: ResourceKind| Some(if k == ResourceKind::Group { "Group" } else { "User" });
        let scim = |op: &'static str, rtype: Option<&'static str>| Some((op, rtype, scim_id(path)));
        match self {
            Operation::Health | Operation::PortalPage => None,
            Operation::Portal(op) => Some((op, None, None)),
            Operation::List(k) => scim("list", kind(k)),
            Operation::Create(k) => scim("create", kind(k)),
            Operation::Search(k) => scim("search", k.and_then(kind)),
            Operation::Read(k) => scim("read", kind(k)),
            Operation::Replace(k) => scim("replace", kind(k)),
            Operation::Patch(k) => scim("patch", kind(k)),
            Operation::Delete(k) => scim("delete", kind(k)),
            Operation::Other(k) => scim("other", k.and_then(kind)),
            // The type's name is the tenant's: the path (kept with the event) names it.
            Operation::Custom(op) => Some((op.name(), None, custom_id(path))),
            Operation::Bulk => Some(("bulk", None, None)),
            Operation::Discovery => Some(("discovery", None, None)),
            Operation::Token => Some(("token", None, None)),
            Operation::Revoke => Some(("revoke", None, None)),
            Operation::Introspect => Some(("introspect", None, None)),
            Operation::EventsPoll => Some(("events-poll", None, None)),
            Operation::GoLive(op) => Some((op, Some("GoLiveSubmission"), None)),
            Operation::Admin(op, target) => Some(admin_audited(op, target, path)),
        }
    }

    /// A request no route names (see the module's documentation), from its method and path.
    pub fn unrouted(method: &str, path: &str) -> Operation {
        // HEAD is a GET without the body: it reads what the GET would.
        let method = if method.eq_ignore_ascii_case("HEAD") { "GET" } else { method };
        if matches!(path, "/healthz" | "/readyz" | "/metrics") {
            return Operation::Health;
        }
        if let Some(rest) = path.strip_prefix("/scim/v2/") {
            let mut parts = rest.splitn(2, '/');
            let first = parts.next().unwrap_or("");
            let second = parts.next().filter(|s| !s.is_empty());
            let kind = match first {
                "Users" | "Me" => Some(ResourceKind::User),
                "Groups" => Some(ResourceKind::Group),
                _ => None,
            };
            let builtin = matches!(
                first,
                "Users"
                    | "Groups"
                    | "Me"
                    | "Bulk"
                    | ".search"
                    | "ServiceProviderConfig"
                    | "Schemas"
                    | "ResourceTypes"
                    | "openapi.json"
                    | "docs"
                    | ""
            );
            if !builtin {
                // Another name is a resource type a tenant's profile may declare.
                use CustomOp as C;
                let op = match (second, method) {
                    (Some(".search"), "POST") => C::Search,
                    (None, "GET") => C::List,
                    (None, "POST") => C::Create,
                    (Some(_), "GET") => C::Read,
                    (_, "PUT") => C::Replace,
                    (_, "PATCH") => C::Patch,
                    (_, "DELETE") => C::Delete,
                    _ => return Operation::Other(None),
                };
                return Operation::Custom(op);
            }
            if first == "Me" {
                // `/Me` is one user: the token's.
                return match method {
                    "GET" => Operation::Read(ResourceKind::User),
                    "PUT" => Operation::Replace(ResourceKind::User),
                    "PATCH" => Operation::Patch(ResourceKind::User),
                    "DELETE" => Operation::Delete(ResourceKind::User),
                    _ => Operation::Other(kind),
                };
            }
            if first == ".search" || second == Some(".search") {
                return Operation::Search(kind);
            }
            if first == "Bulk" {
                return Operation::Bulk;
            }
            return match (kind, second, method) {
                (Some(k), None, "GET") => Operation::List(k),
                (Some(k), None, "POST") => Operation::Create(k),
                (Some(k), Some(_), "GET") => Operation::Read(k),
                (Some(k), Some(_), "PUT") => Operation::Replace(k),
                (Some(k), Some(_), "PATCH") => Operation::Patch(k),
                (Some(k), Some(_), "DELETE") => Operation::Delete(k),
                (None, _, "GET") => Operation::Discovery,
                _ => Operation::Other(kind),
            };
        }
        if path == "/portal" || path.starts_with("/portal/") {
            return if method == "GET" { Operation::PortalPage } else { Operation::Portal("portal") };
        }
        if let Some(rest) = path.strip_prefix("/admin/v1/tenants/") {
            return unrouted_admin(method, rest);
        }
        match path {
            "/oauth2/revoke" => Operation::Revoke,
            "/oauth2/introspect" => Operation::Introspect,
            "/events/v1/poll" => Operation::EventsPoll,
            "/golive/v1/submissions" if method == "GET" => Operation::GoLive("golive_list"),
            "/golive/v1/submissions" if method == "POST" => Operation::GoLive("golive_submit"),
            p if p.starts_with("/.well-known/") => Operation::Discovery,
            p if p.starts_with("/admin/") => Operation::Admin("admin", AdminTarget::Nothing),
            _ if method == "POST" => Operation::Token,
            _ => Operation::Other(None),
        }
    }
}

/// The id of the user or group a SCIM path addresses (`/scim/v2/Users/{id}`), as sent.
fn scim_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/scim/v2/")?;
    let (first, second) = rest.split_once('/')?;
    (matches!(first, "Users" | "Groups") && !second.is_empty() && second != ".search").then(|| second.to_string())
}

/// The id of the resource a declared type's path addresses (`/scim/v2/Roles/{id}`).
fn custom_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/scim/v2/")?;
    let (_, second) = rest.split_once('/')?;
    (!second.is_empty() && second != ".search").then(|| second.to_string())
}

/// An admin operation's event: its resource type and key come from the path's parameters
/// (`/admin/v1/tenants/{name}/places/{level}/{key}…`, `…/users/{user}/…`, `…/groups/{group}`,
/// `…/events/streams/{id}…`).
fn admin_audited(op: &'static str, target: AdminTarget, path: &str) -> Classified {
    let params: Vec<&str> = path.strip_prefix("/admin/v1/tenants/").map(|r| r.split('/').collect()).unwrap_or_default();
    let param = |i: usize| params.get(i).map(|s| s.to_string());
    match target {
        AdminTarget::Nothing => (op, None, None),
        AdminTarget::Places => (op, Some("Places"), None),
        AdminTarget::Place => match params.get(2).and_then(|l| Level::parse(l)) {
            Some(Level::Location) => (op, Some("Location"), param(3)),
            Some(Level::Section) => (op, Some("Section"), param(3)),
            Some(Level::Bank) => (op, Some("Bank"), param(3)),
            Some(Level::Locker) => (op, Some("Locker"), param(3)),
            None => ("admin", None, None),
        },
        AdminTarget::Access => (op, Some("Access"), None),
        AdminTarget::UserAccess => (op, Some("Access"), param(2)),
        AdminTarget::Users => (op, Some("User"), None),
        AdminTarget::Groups => (op, Some("Group"), None),
        AdminTarget::Group => (op, Some("Group"), param(2)),
        AdminTarget::Streams => (op, Some("EventStream"), None),
        AdminTarget::Stream => (op, Some("EventStream"), param(3)),
        AdminTarget::Onboarding => (op, Some("Tenant"), param(0)),
        AdminTarget::Submissions => (op, Some("GoLiveSubmission"), None),
        AdminTarget::Submission => (op, Some("GoLiveSubmission"), param(2)),
    }
}

/// An admin request on one tenant (`{tenant}/…`) that no route names.
fn unrouted_admin(method: &str, rest: &str) -> Operation {
    use AdminTarget::*;
    let parts: Vec<&str> = rest.split('/').collect();
    let write = |op: &'static str| if method == "GET" { "query" } else { op };
    let (op, target) = match parts.as_slice() {
        [_, "places"] => (write("import"), Places),
        [_, "places", _, tail @ ..] => {
            let op = match (tail, method) {
                (_, "GET") => "query",
                ([], _) => "add",
                ([_, "rules"], _) => "rules",
                ([_, ..], "PATCH") => "rename",
                ([_, ..], "DELETE") => "remove",
                _ => "admin",
            };
            (op, Place)
        }
        [_, "access"] => match method {
            "POST" => ("grant", Access),
            "DELETE" => ("revoke", Access),
            _ => ("query", Access),
        },
        [_, "users"] => (write("import"), Users),
        [_, "users", _, ..] => ("query", UserAccess),
        [_, "groups", tail @ ..] => match (method, tail) {
            ("POST", []) => ("group_add", Groups),
            ("DELETE", [_]) => ("group_remove", Group),
            _ => ("query", Groups),
        },
        [_, "events", "streams"] => (write("stream_add"), Streams),
        [_, "events", "streams", _] => (if method == "DELETE" { "stream_delete" } else { "query" }, Stream),
        [_, "events", "streams", _, action @ ("pause" | "resume")] => match (method, *action) {
            ("POST", "pause") => ("stream_pause", Stream),
            ("POST", _) => ("stream_resume", Stream),
            _ => ("query", Stream),
        },
        [_, "onboard"] => (write("onboard"), Onboarding),
        [_, "promote"] => (write("promote"), Onboarding),
        [_, "messages"] => ("query", Onboarding),
        [_, "api-users", _, "link"] => match method {
            "POST" => ("link_resend", Nothing),
            "DELETE" => ("link_revoke", Nothing),
            _ => ("admin", Nothing),
        },
        [_, "golive"] => (write("golive_submit"), Submissions),
        [_, "golive", _] => ("query", Submission),
        [_, "golive", _, action @ ("approve" | "reject")] => match (method, *action) {
            ("POST", "approve") => ("golive_approve", Submission),
            ("POST", _) => ("golive_reject", Submission),
            _ => ("query", Submission),
        },
        _ => ("admin", Nothing),
    };
    Operation::Admin(op, target)
}
