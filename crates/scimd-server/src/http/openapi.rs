//! The OpenAPI 3.1 document of scimd's HTTP API (`/openapi.json`) and Swagger UI
//! (`/docs`, its assets built into the binary). The document is built here from one table
//! of operations — the routes the router serves, each with the [`Operation`] its route
//! names, checked against the route table by a unit test and by a test that sends every
//! documented operation to the real router — and the SCIM resource schemas are generated
//! from the same registry the server enforces (`scimd_core::discovery`).
//!
//! A tenant's own description (`<base>/openapi.json`, [`tenant_document`]) is cut from the
//! same table: its SCIM operations at its base path, only those its profile allows, its
//! token endpoint, and its resource schemas with its extensions.

use std::borrow::Cow;

use scimd_core::builtin::standard_registry;
use scimd_core::discovery::resource_json_schema;
use scimd_core::profile::{self, Profile};
use scimd_core::schema::{Registry, ResourceKind};
use serde_json::{Map, Value, json};

use crate::operation::{AdminTarget, CustomOp, Operation};

/// Where an operation's security comes from.
#[derive(Clone, Copy)]
enum Auth {
    /// A tenant's bearer token (long-lived or an OAuth access token).
    Tenant,
    /// An operator token of the admin API.
    Operator,
    /// OAuth client authentication (HTTP Basic or form fields).
    Client,
    /// An event stream's poll credential.
    PollCredential,
    Public,
}

/// A request body.
#[derive(Clone, Copy)]
enum Body {
    Empty,
    /// `application/scim+json` of a component schema.
    Scim(&'static str),
    /// `application/json` of a component schema.
    Json(&'static str),
    /// `application/x-www-form-urlencoded` of a component schema.
    Form(&'static str),
}

/// A successful answer: status, and `(content type, component schema)` if it has a body.
type Ok = (u16, Option<(&'static str, &'static str)>);

struct Op {
    method: &'static str,
    /// What the route is (as the router names it).
    operation: Operation,
    /// Built per tenant request too: owned where it is computed, never leaked.
    path: Cow<'static, str>,
    tag: &'static str,
    summary: &'static str,
    params: &'static [&'static str],
    body: Body,
    ok: Ok,
    auth: Auth,
}

const SCIM: &str = "application/scim+json";
const JSON: &str = "application/json";

const LIST_PARAMS: &[&str] =
    &["filter", "sortBy", "sortOrder", "startIndex", "count", "cursor", "attributes", "excludedAttributes"];
const PROJECTION: &[&str] = &["attributes", "excludedAttributes"];

macro_rules! op {
    ($m:literal $p:literal, $operation:expr, $tag:literal, $summary:literal, $params:expr, $body:expr, $ok:expr, $auth:expr) => {
        Op {
            method: $m,
            operation: $operation,
            path: Cow::Borrowed($p),
            tag: $tag,
            summary: $summary,
            params: $params,
            body: $body,
            ok: $ok,
            auth: $auth,
        }
    };
}

/// Every operation of the API. `{token}` is the token endpoint's configured path.
fn operations() -> Vec<Op> {
    use AdminTarget::*;
    use Auth::*;
    use Body::*;
    use Operation::*;
    use ResourceKind::User;
    let mut ops = Vec::new();
    for (res, schema, kind) in [("Users", "User", ResourceKind::User), ("Groups", "Group", ResourceKind::Group)] {
        // The two resource types share their shape; the paths are written out once each.
        let p = |suffix: &str| -> Cow<'static, str> { Cow::Owned(format!("/scim/v2/{res}{suffix}")) };
        let t: &'static str = res;
        let sch: &'static str = schema;
        ops.push(Op {
            method: "get",
            operation: List(kind),
            path: p(""),
            tag: t,
            summary: "List or filter",
            params: LIST_PARAMS,
            body: Empty,
            ok: (200, Some((SCIM, "ListResponse"))),
            auth: Tenant,
        });
        ops.push(Op {
            method: "post",
            operation: Create(kind),
            path: p(""),
            tag: t,
            summary: "Create",
            params: PROJECTION,
            body: Scim(sch),
            ok: (201, Some((SCIM, sch))),
            auth: Tenant,
        });
        ops.push(Op {
            method: "post",
            operation: Search(Some(kind)),
            path: p("/.search"),
            tag: t,
            summary: "Search",
            params: &[],
            body: Scim("SearchRequest"),
            ok: (200, Some((SCIM, "ListResponse"))),
            auth: Tenant,
        });
        ops.push(Op {
            method: "get",
            operation: Read(kind),
            path: p("/{id}"),
            tag: t,
            summary: "Read one",
            params: PROJECTION,
            body: Empty,
            ok: (200, Some((SCIM, sch))),
            auth: Tenant,
        });
        ops.push(Op {
            method: "put",
            operation: Replace(kind),
            path: p("/{id}"),
            tag: t,
            summary: "Replace",
            params: PROJECTION,
            body: Scim(sch),
            ok: (200, Some((SCIM, sch))),
            auth: Tenant,
        });
        ops.push(Op {
            method: "patch",
            operation: Patch(kind),
            path: p("/{id}"),
            tag: t,
            summary: "Modify (PatchOp)",
            params: PROJECTION,
            body: Scim("PatchOp"),
            ok: (200, Some((SCIM, sch))),
            auth: Tenant,
        });
        ops.push(Op {
            method: "delete",
            operation: Delete(kind),
            path: p("/{id}"),
            tag: t,
            summary: "Delete",
            params: &[],
            body: Empty,
            ok: (204, None),
            auth: Tenant,
        });
    }
    // The resource types a tenant's profile declares (`/Roles`): read only.
    ops.extend([
        op!("get" "/scim/v2/{endpoint}", Custom(CustomOp::List), "Declared types", "List a resource type the tenant's profile declares (e.g. /Roles)", LIST_PARAMS, Empty, (200, Some((SCIM, "ListResponse"))), Tenant),
        op!("post" "/scim/v2/{endpoint}/.search", Custom(CustomOp::Search), "Declared types", "Search a declared resource type", &[], Scim("SearchRequest"), (200, Some((SCIM, "ListResponse"))), Tenant),
        op!("get" "/scim/v2/{endpoint}/{id}", Custom(CustomOp::Read), "Declared types", "Read one resource of a declared type", PROJECTION, Empty, (200, Some((SCIM, "Object"))), Tenant),
    ]);
    ops.extend([
        op!("get" "/scim/v2/Me", Read(User), "Me", "The token's user", PROJECTION, Empty, (200, Some((SCIM, "User"))), Tenant),
        op!("put" "/scim/v2/Me", Replace(User), "Me", "Replace the token's user", PROJECTION, Scim("User"), (200, Some((SCIM, "User"))), Tenant),
        op!("patch" "/scim/v2/Me", Patch(User), "Me", "Modify the token's user", PROJECTION, Scim("PatchOp"), (200, Some((SCIM, "User"))), Tenant),
        op!("delete" "/scim/v2/Me", Delete(User), "Me", "Delete the token's user", &[], Empty, (204, None), Tenant),
        op!("post" "/scim/v2/Bulk", Bulk, "Bulk", "Several operations in one request", &[], Scim("BulkRequest"), (200, Some((SCIM, "BulkResponse"))), Tenant),
        op!("post" "/scim/v2/.search", Search(None), "Discovery", "Search users and groups", &[], Scim("SearchRequest"), (200, Some((SCIM, "ListResponse"))), Tenant),
        op!("get" "/scim/v2/ServiceProviderConfig", Discovery, "Discovery", "What this service provider supports", &[], Empty, (200, Some((SCIM, "Object"))), Tenant),
        op!("get" "/scim/v2/ResourceTypes", Discovery, "Discovery", "Resource types", &[], Empty, (200, Some((SCIM, "ListResponse"))), Tenant),
        op!("get" "/scim/v2/ResourceTypes/{name}", Discovery, "Discovery", "One resource type", &[], Empty, (200, Some((SCIM, "Object"))), Tenant),
        op!("get" "/scim/v2/Schemas", Discovery, "Discovery", "Schemas", &[], Empty, (200, Some((SCIM, "ListResponse"))), Tenant),
        op!("get" "/scim/v2/Schemas/{urn}", Discovery, "Discovery", "One schema", &[], Empty, (200, Some((SCIM, "Object"))), Tenant),
        op!("get" "/scim/v2/openapi.json", Discovery, "Discovery", "The tenant's API as the tenant sees it (OpenAPI 3.1; a mounted tenant's at its base path)", &[], Empty, (200, Some((JSON, "Object"))), Tenant),
        op!("get" "/scim/v2/docs", Discovery, "Discovery", "Swagger UI on the tenant's API description (asks for the tenant's token)", &[], Empty, (200, Some(("text/html", "Text"))), Public),
        op!("post" "{token}", Token, "OAuth", "Token endpoint (client_credentials, password, refresh_token)", &[], Form("TokenRequest"), (200, Some((JSON, "TokenResponse"))), Client),
        op!("post" "/oauth2/revoke", Revoke, "OAuth", "Revoke a token (RFC 7009)", &[], Form("TokenForm"), (200, Some((JSON, "Object"))), Client),
        op!("post" "/oauth2/introspect", Introspect, "OAuth", "Introspect a token (RFC 7662)", &[], Form("TokenForm"), (200, Some((JSON, "Object"))), Client),
        op!("get" "/.well-known/jwks.json", Discovery, "OAuth", "Keys that sign access tokens and Security Event Tokens", &[], Empty, (200, Some((JSON, "Object"))), Public),
        op!("post" "/events/v1/poll", EventsPoll, "Events", "Poll an event stream: acknowledge SETs, receive the next ones (RFC 8936)", &[], Json("Object"), (200, Some((JSON, "Object"))), PollCredential),
        op!("post" "/golive/v1/submissions", GoLive("golive_submit"), "Onboarding", "Submit a test run for the go-live check with the tenant's own token: a `scimd sync --report` file, or {\"from\", \"to\", \"created\", \"updated\", \"deactivated\", \"deleted\", \"errors\"}", &[], Json("Object"), (201, Some((JSON, "Object"))), Tenant),
        op!("get" "/golive/v1/submissions", GoLive("golive_list"), "Onboarding", "The tenant's go-live submissions with their decisions and feedback", &[], Empty, (200, Some((JSON, "Array"))), Tenant),
        op!("get" "/.well-known/oauth-authorization-server", Discovery, "OAuth", "Authorization server metadata (RFC 8414)", &[], Empty, (200, Some((JSON, "Object"))), Public),
        op!("get" "/healthz", Health, "Health", "Liveness: the process answers", &[], Empty, (200, Some(("text/plain", "Text"))), Public),
        op!("get" "/readyz", Health, "Health", "Readiness: the database is reachable and migrated, and the process is not shutting down (503 with the reason otherwise)", &[], Empty, (200, Some(("text/plain", "Text"))), Public),
        op!("get" "/metrics", Health, "Health", "Prometheus metrics (OpenMetrics text), unless served on a separate address", &[], Empty, (200, Some(("application/openmetrics-text", "Text"))), Operator),
        op!("get" "/admin/v1/tenants", Admin("admin", Nothing), "Admin", "List tenants", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants", Admin("admin", Nothing), "Admin", "Create a tenant (optionally with a preset)", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("patch" "/admin/v1/tenants/{name}", Admin("admin", Nothing), "Admin", "Change a tenant's SCIM feature or audit settings", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/profile", Admin("admin", Nothing), "Admin", "A tenant's profile", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("put" "/admin/v1/tenants/{name}/profile", Admin("admin", Nothing), "Admin", "Set a tenant's profile", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/profile", Admin("admin", Nothing), "Admin", "Reset a tenant's profile", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/tokens", Admin("admin", Nothing), "Admin", "A tenant's long-lived tokens", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/tokens", Admin("admin", Nothing), "Admin", "Create a long-lived token (shown once)", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/tokens/{id}", Admin("admin", Nothing), "Admin", "Revoke a long-lived token", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/api-users", Admin("admin", Nothing), "Admin", "A tenant's API system users", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/api-users", Admin("admin", Nothing), "Admin", "Create an API system user", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("patch" "/admin/v1/tenants/{name}/api-users/{username}", Admin("admin", Nothing), "Admin", "Disable or enable an API system user", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/clients", Admin("admin", Nothing), "Admin", "OAuth clients", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/clients", Admin("admin", Nothing), "Admin", "Create an OAuth client (secret shown once)", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("patch" "/admin/v1/clients/{id}", Admin("admin", Nothing), "Admin", "Change a client's lifetimes or login expiry (refresh_expiry)", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/clients/{id}/secrets", Admin("admin", Nothing), "Admin", "Add a client secret (rotation)", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/clients/{id}/secrets/{secret}", Admin("admin", Nothing), "Admin", "Revoke a client secret", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("put" "/admin/v1/clients/{id}/authentication", Admin("admin", Nothing), "Admin", "Set how a client authenticates (client_secret, or private_key_jwt with jwks, jwks_uri or trust)", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/trusts", Admin("admin", Nothing), "Admin", "A tenant's federated trusts", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/trusts", Admin("admin", Nothing), "Admin", "Add a federated trust (issuer, keys, audiences, subjects, claims, scopes)", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/trusts/{trust}", Admin("admin", Nothing), "Admin", "Remove a federated trust", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/audit/events", Admin("admin", Nothing), "Audit", "A tenant's events, newest first", &["from", "to", "client", "status", "op", "before", "limit"], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/audit/events/{id}", Admin("admin", Nothing), "Audit", "An event's payloads", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/audit/summary", Admin("admin", Nothing), "Audit", "The go-live summary of a window", &["from", "to"], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/errors", Admin("admin", Nothing), "Audit", "The error log", &["from", "to", "limit"], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("get" "/admin/v1/signing-keys", Admin("admin", Nothing), "Admin", "Keys that sign access tokens", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/signing-keys", Admin("admin", Nothing), "Admin", "Rotate the signing key", &[], Empty, (201, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/signing-keys/{kid}", Admin("admin", Nothing), "Admin", "Retire a signing key", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/places", Admin("query", Places), "Places", "The places tree", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("put" "/admin/v1/tenants/{name}/places", Admin("import", Places), "Places", "Import a places tree", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/places/{level}", Admin("add", Place), "Places", "Create a place", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/places/{level}/{key}", Admin("query", Place), "Places", "One place", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("patch" "/admin/v1/tenants/{name}/places/{level}/{key}", Admin("rename", Place), "Places", "Rename a place", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/places/{level}/{key}", Admin("remove", Place), "Places", "Delete a place", &["cascade"], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/places/{level}/{key}/rules", Admin("query", Place), "Places", "A location's rules", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("put" "/admin/v1/tenants/{name}/places/{level}/{key}/rules", Admin("rules", Place), "Places", "Set a location's rules", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/places/{level}/{key}/rules", Admin("rules", Place), "Places", "Clear a location's rules", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/places/{level}/{key}/users", Admin("query", Place), "Places", "The users that may use a place (the whole of it)", &["startIndex", "count"], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/groups", Admin("query", Groups), "Admin", "A tenant's groups (id, displayName, externalId)", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/groups", Admin("group_add", Groups), "Admin", "Create a group as the operator (displayName, externalId)", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/groups/{group}", Admin("group_remove", Group), "Admin", "Delete a group by id or displayName", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/access", Admin("query", Access), "Places", "Access links", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/access", Admin("grant", Access), "Places", "Give a group access to a place: {\"group\", and one of \"locker\", \"bank\", \"section\", \"location\"}", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/access", Admin("revoke", Access), "Places", "Take a group's access to a place away", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/users/{user}/access", Admin("query", UserAccess), "Places", "The banks and lockers a user may use", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/users/{user}/places", Admin("query", UserAccess), "Places", "A user's locations and home location", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/events/streams", Admin("query", Streams), "Events", "A tenant's event streams, with their status and progress", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/events/streams", Admin("stream_add", Streams), "Events", "Add an event stream: {\"method\": push|poll|webhook, \"url\", \"audience\", \"full\", \"filter\": {\"resourceTypes\", \"events\"}, \"bearer_token\"} (a webhook's secret or a poll stream's token shown once)", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/events/streams/{id}", Admin("query", Stream), "Events", "One event stream", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/events/streams/{id}", Admin("stream_delete", Stream), "Events", "Delete an event stream (its undelivered events are lost to it)", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/events/streams/{id}/pause", Admin("stream_pause", Stream), "Events", "Pause an event stream (its events wait)", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/events/streams/{id}/resume", Admin("stream_resume", Stream), "Events", "Resume an event stream", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/onboard", Admin("onboard", Onboarding), "Onboarding", "Make what the tenant's customer is missing and send it: {\"api_user_email\", \"secret_mobile\", \"system_user_emails\": []} (a link or secret not sent is in the answer, once)", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/promote", Admin("promote", Onboarding), "Onboarding", "Make an integration tenant's production counterpart ({\"name\"} optional) and send its credentials", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/messages", Admin("query", Onboarding), "Onboarding", "The emails and text messages sent for the tenant, newest first (never a secret)", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/api-users/{username}/link", Admin("link_resend", Nothing), "Onboarding", "Send an API system user a new set-password link", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("delete" "/admin/v1/tenants/{name}/api-users/{username}/link", Admin("link_revoke", Nothing), "Onboarding", "Make an API system user's pending set-password link stop working", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/golive", Admin("query", Submissions), "Onboarding", "The tenant's go-live submissions, newest first", &[], Empty, (200, Some((JSON, "Array"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/golive", Admin("golive_submit", Submissions), "Onboarding", "Submit a test run on the customer's behalf: a `scimd sync` report, or {\"from\", \"to\", \"created\", \"updated\", \"deactivated\", \"deleted\", \"errors\"}", &[], Json("Object"), (201, Some((JSON, "Object"))), Operator),
        op!("get" "/admin/v1/tenants/{name}/golive/{id}", Admin("query", Submission), "Onboarding", "A submission beside what the audit trail recorded in its window", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/golive/{id}/approve", Admin("golive_approve", Submission), "Onboarding", "Approve: the tenant is promoted (unless it was) and its production credentials sent", &[], Empty, (200, Some((JSON, "Object"))), Operator),
        op!("post" "/admin/v1/tenants/{name}/golive/{id}/reject", Admin("golive_reject", Submission), "Onboarding", "Reject with feedback ({\"feedback\"}), emailed to the customer", &[], Json("Object"), (200, Some((JSON, "Object"))), Operator),
    ]);
    ops
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

fn query_param(name: &str) -> Value {
    let schema = match name {
        "startIndex" | "count" | "limit" | "status" | "before" => json!({"type": "integer"}),
        "cascade" => json!({"type": "boolean"}),
        _ => json!({"type": "string"}),
    };
    json!({"name": name, "in": "query", "required": false, "schema": schema})
}

/// The error statuses every authenticated operation may answer, with what they mean.
const ERRORS: &[(&str, &str)] = &[
    ("400", "The request is not valid (nothing was changed)"),
    ("401", "No valid credentials"),
    ("403", "The credentials do not allow this"),
    ("404", "No such resource or endpoint"),
    ("405", "The operation is not allowed for this tenant"),
    ("409", "A conflict, such as a userName taken"),
    ("412", "The version (If-Match) is not current"),
    ("413", "The request is too large"),
    ("500", "An internal error (the request id names it in the error log)"),
];

/// The kinds of error body: (name prefix, content type, schema).
const ERROR_KINDS: &[(&str, &str, &str)] = &[
    ("Scim", SCIM, "ScimError"),
    ("OAuth", JSON, "OAuthError"),
    ("Admin", JSON, "AdminError"),
    ("Events", JSON, "EventsError"),
];

/// The error answers of an operation, by what kind of endpoint it is (references to
/// `components.responses`).
fn errors(auth: Auth) -> Map<String, Value> {
    let prefix = match auth {
        Auth::Tenant => "Scim",
        Auth::Client => "OAuth",
        Auth::PollCredential => "Events",
        Auth::Operator => "Admin",
        Auth::Public => return Map::new(),
    };
    ERRORS
        .iter()
        .map(|(status, _)| (status.to_string(), json!({"$ref": format!("#/components/responses/{prefix}{status}")})))
        .collect()
}

/// `components.responses`: every error answer of every kind.
fn error_responses() -> Value {
    let mut out = Map::new();
    for (prefix, ct, schema) in ERROR_KINDS {
        for (status, what) in ERRORS {
            out.insert(
                format!("{prefix}{status}"),
                json!({"description": what, "content": {*ct: {"schema": reference(schema)}}}),
            );
        }
    }
    Value::Object(out)
}

fn components(reg: &Registry) -> Value {
    let scim_error = json!({"type": "object", "required": ["schemas", "status"], "properties": {
        "schemas": {"type": "array", "items": {"type": "string"}},
        "status": {"type": "string", "description": "The HTTP status, as a string"},
        "scimType": {"type": "string"}, "detail": {"type": "string"}}});
    json!({
        "responses": error_responses(),
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A tenant's long-lived token or an OAuth access token"},
            "operator": {"type": "http", "scheme": "bearer", "description": "An operator token (scimd admin-token create)"},
            "client": {"type": "http", "scheme": "basic", "description": "client_id:client_secret (or the form fields)"},
            "stream": {"type": "http", "scheme": "bearer", "description": "A poll stream's credential (scimd events stream add --poll)"}
        },
        "schemas": {
            "User": resource_json_schema(reg, ResourceKind::User),
            "Group": resource_json_schema(reg, ResourceKind::Group),
            "ScimError": scim_error,
            "ListResponse": {"type": "object", "properties": {
                "schemas": {"type": "array", "items": {"type": "string"}},
                "totalResults": {"type": "integer"}, "startIndex": {"type": "integer"},
                "itemsPerPage": {"type": "integer"}, "nextCursor": {"type": "string"},
                "Resources": {"type": "array", "items": {"type": "object"}}}},
            "SearchRequest": {"type": "object", "properties": {
                "schemas": {"type": "array", "items": {"type": "string"}},
                "filter": {"type": "string"}, "sortBy": {"type": "string"}, "sortOrder": {"type": "string"},
                "startIndex": {"type": "integer"}, "count": {"type": "integer"}, "cursor": {"type": "string"},
                "attributes": {"type": "array", "items": {"type": "string"}},
                "excludedAttributes": {"type": "array", "items": {"type": "string"}}}},
            "PatchOp": {"type": "object", "required": ["Operations"], "properties": {
                "schemas": {"type": "array", "items": {"type": "string"}},
                "Operations": {"type": "array", "items": {"type": "object", "required": ["op"], "properties": {
                    "op": {"type": "string", "enum": ["add", "remove", "replace"]},
                    "path": {"type": "string"}, "value": {}}}}}},
            "BulkRequest": {"type": "object", "required": ["Operations"], "properties": {
                "schemas": {"type": "array", "items": {"type": "string"}},
                "failOnErrors": {"type": "integer"},
                "Operations": {"type": "array", "items": {"type": "object", "required": ["method", "path"], "properties": {
                    "method": {"type": "string", "enum": ["POST", "PUT", "PATCH", "DELETE"]},
                    "path": {"type": "string"}, "bulkId": {"type": "string"}, "version": {"type": "string"},
                    "data": {"type": "object"}}}}}},
            "BulkResponse": {"type": "object", "properties": {
                "schemas": {"type": "array", "items": {"type": "string"}},
                "Operations": {"type": "array", "items": {"type": "object", "properties": {
                    "method": {"type": "string"}, "bulkId": {"type": "string"}, "location": {"type": "string"},
                    "version": {"type": "string"}, "status": {"type": "string"}, "response": reference("ScimError")}}}}},
            "TokenRequest": {"type": "object", "required": ["grant_type"], "properties": {
                "grant_type": {"type": "string", "enum": ["client_credentials", "password", "refresh_token",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer"]},
                "scope": {"type": "string"}, "username": {"type": "string"}, "password": {"type": "string"},
                "refresh_token": {"type": "string"}, "tenant": {"type": "string"},
                "assertion": {"type": "string", "description": "The JWT of the jwt-bearer grant (RFC 7523 §2.1)"},
                "client_id": {"type": "string"}, "client_secret": {"type": "string"},
                "client_assertion_type": {"type": "string", "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]},
                "client_assertion": {"type": "string", "description": "private_key_jwt (RFC 7523 §2.2)"}}},
            "TokenForm": {"type": "object", "required": ["token"], "properties": {
                "token": {"type": "string"}, "client_id": {"type": "string"}, "client_secret": {"type": "string"},
                "client_assertion_type": {"type": "string", "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]},
                "client_assertion": {"type": "string"}}},
            "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in"], "properties": {
                "access_token": {"type": "string"}, "token_type": {"type": "string"}, "expires_in": {"type": "integer"},
                "scope": {"type": "string"}, "refresh_token": {"type": "string"}, "http_status_code": {"type": "integer"}}},
            "EventsError": {"type": "object", "required": ["err", "description"], "properties": {
                "err": {"type": "string", "description": "An RFC 8935 error code (invalid_request, authentication_failed)"},
                "description": {"type": "string"}}},
            "OAuthError": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string"}, "error_description": {"type": "string"}}},
            "AdminError": {"type": "object", "properties": {"status": {"type": "integer"}, "detail": {"type": "string"}}},
            "Object": {"type": "object"},
            "Array": {"type": "array", "items": {"type": "object"}},
            "Text": {"type": "string"}
        }
    })
}

/// The whole document; `token_path` is where the token endpoint is served.
pub fn document(token_path: &str) -> Value {
    let info = json!({
        "title": "scimd",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "A SCIM 2.0 service provider (RFC 7643/7644) with its OAuth 2.0 authorization server and admin API. \
                        A tenant with its own base path (a profile's base_paths) serves the SCIM paths there too."
    });
    build(operations(), token_path, info, components(&standard_registry()))
}

/// A tenant's API as the tenant sees it: the SCIM operations its profile allows, at
/// `base` (where the request arrived: `/scim/v2` or its profile's mount), its token
/// endpoint (`token_path`: its profile's, else the server's) with revocation and
/// introspection, and its resource schemas from its own `registry` (extensions included).
/// `bulk`: whether the server offers Bulk.
pub fn tenant_document(profile: &Profile, registry: &Registry, base: &str, token_path: &str, bulk: bool) -> Value {
    let writes = [
        profile::Operation::Create,
        profile::Operation::Replace,
        profile::Operation::Patch,
        profile::Operation::Delete,
    ];
    let any_write = |k: ResourceKind| writes.iter().any(|op| profile.access(k).allows(*op));
    let readable = profile.users.allows(profile::Operation::Read) || profile.groups.allows(profile::Operation::Read);
    let ops: Vec<Op> = operations()
        .into_iter()
        .filter(|o| match o.operation {
            Operation::Token | Operation::Revoke | Operation::Introspect => true,
            Operation::Bulk => bulk && (any_write(ResourceKind::User) || any_write(ResourceKind::Group)),
            Operation::Search(None) => readable,
            Operation::Custom(_) => !profile.resource_types.is_empty(),
            // The rest of the tenant's SCIM API: what its profile allows of it.
            op if o.path.starts_with("/scim/v2/") => {
                op.access().is_none_or(|(kind, op)| profile.access(kind).allows(op))
            }
            _ => false,
        })
        .map(|mut o| {
            if let Some(rest) = o.path.strip_prefix("/scim/v2") {
                o.path = Cow::Owned(format!("{base}{rest}"));
            }
            o
        })
        .collect();
    let mut components = components(registry);
    if profile.hide_group_members
        && let Some(props) = components["schemas"]["Group"]["properties"].as_object_mut()
    {
        props.remove("members");
    }
    if !profile.groups.offered
        && let Some(schemas) = components["schemas"].as_object_mut()
    {
        schemas.remove("Group");
    }
    let mut description = format!(
        "The SCIM 2.0 API (RFC 7643/7644) of this tenant, at {base}, as its profile offers it: only the operations \
         listed are allowed. Tokens come from {token_path}."
    );
    if profile.query_attribute_filters {
        description.push_str(
            " A list also takes a simple attribute as a query parameter, as an equality filter \
             (?userName=x is filter=userName eq \"x\").",
        );
    }
    let info = json!({"title": format!("scimd SCIM API at {base}"), "version": env!("CARGO_PKG_VERSION"),
                      "description": description});
    let mut doc = build(ops, token_path, info, components);
    if profile.group_patch_resource
        && let Some(responses) = doc["paths"][format!("{base}/Groups/{{id}}")]["patch"]["responses"].as_object_mut()
    {
        responses.remove("204");
    }
    doc
}

/// The document of `ops`.
fn build(ops: Vec<Op>, token_path: &str, info: Value, components: Value) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for op in ops {
        let path = if op.path == "{token}" { token_path.to_string() } else { op.path.to_string() };
        let mut params: Vec<Value> = Vec::new();
        for seg in path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        params.extend(op.params.iter().map(|p| query_param(p)));
        let mut responses = errors(op.auth);
        let (status, body) = op.ok;
        let mut ok = json!({"description": "Success"});
        if let Some((ct, schema)) = body {
            ok["content"] = json!({ct: {"schema": reference(schema)}});
        }
        responses.insert(status.to_string(), ok);
        if op.operation == Operation::Bulk {
            // RFC 9967 §2.5.1: run in the background when the tenant has an event stream.
            params.push(json!({"name": "Prefer", "in": "header", "required": false, "schema": {"type": "string"},
                "description": "respond-async: a tenant with an event stream is answered 202 and each operation's \
                                outcome arrives as a misc:asyncresp event (txn: Set-Txn, ':', the operation's index)"}));
            let header = |d: &str| json!({"description": d, "schema": {"type": "string"}});
            responses.insert(
                "202".into(),
                json!({"description": "Accepted to run in the background (no body)",
                "headers": {"Set-Txn": header("The txn of the outcome events"),
                            "Preference-Applied": header("respond-async")}}),
            );
        }
        if op.operation == Operation::Patch(ResourceKind::Group) {
            responses.insert(
                "204".into(),
                json!({"description": "No content, with the new ETag: a request naming neither attributes nor \
                                       excludedAttributes, unless the tenant's profile sets group_patch_resource",
                       "headers": {"ETag": {"description": "The group's new version", "schema": {"type": "string"}}}}),
            );
        }
        if op.method == "get" && matches!(op.auth, Auth::Tenant) && path.contains("{id}") {
            responses.insert("304".into(), json!({"description": "Not modified (If-None-Match)"}));
        }
        let operation_id = format!(
            "{}{}",
            op.method,
            path.split(['/', '{', '}', '.', '-']).filter(|s| !s.is_empty()).map(capitalize).collect::<String>()
        );
        let mut o = json!({
            "tags": [op.tag], "summary": op.summary, "operationId": operation_id,
            "parameters": params, "responses": responses,
        });
        match op.body {
            Body::Empty => {}
            Body::Scim(s) => o["requestBody"] = json!({"required": true, "content": {SCIM: {"schema": reference(s)}}}),
            Body::Json(s) => o["requestBody"] = json!({"required": true, "content": {JSON: {"schema": reference(s)}}}),
            Body::Form(s) => {
                o["requestBody"] = json!({"required": true, "content": {"application/x-www-form-urlencoded": {"schema": reference(s)}}})
            }
        }
        o["security"] = match op.auth {
            Auth::Tenant => json!([{"bearer": []}]),
            Auth::Operator => json!([{"operator": []}]),
            Auth::Client => json!([{"client": []}, {}]),
            Auth::PollCredential => json!([{"stream": []}]),
            Auth::Public => json!([]),
        };
        paths.entry(path).or_insert_with(|| json!({}))[op.method] = o;
    }
    json!({
        "openapi": "3.1.0",
        "info": info,
        "paths": paths,
        "components": components,
    })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The documented operations (method, path), for the test that routes each of them.
pub fn documented(token_path: &str) -> Vec<(String, String)> {
    operations()
        .into_iter()
        .map(|o| {
            (o.method.to_uppercase(), if o.path == "{token}" { token_path.to_string() } else { o.path.to_string() })
        })
        .collect()
}

/// The documented operations (method, path, what the route is), for the test that the
/// router names each as documented.
#[cfg(test)]
pub(super) fn documented_operations(token_path: &str) -> Vec<(String, String, Operation)> {
    operations()
        .into_iter()
        .map(|o| {
            let path = if o.path == "{token}" { token_path.to_string() } else { o.path.to_string() };
            (o.method.to_uppercase(), path, o.operation)
        })
        .collect()
}
