//! Resource types a tenant's profile declares (Okta's entitlement resources, the roles
//! and entitlements of draft-ietf-scim-roles-entitlements): discovery, the catalog the
//! operator loads, reads, paging and filters over SCIM, the writes refused, and one
//! tenant's types unseen by another.

use serde_json::{Value, json};

use crate::common::{Resp, TestServer};

const OKTA_ROLE: &str = "urn:okta:scim:schemas:core:1.0:Role";
const OKTA_ENTITLEMENT: &str = "urn:okta:scim:schemas:core:1.0:Entitlement";
const IETF_ROLE: &str = "urn:ietf:params:scim:schemas:core:2.0:Role";
const IETF_ENTITLEMENT: &str = "urn:ietf:params:scim:schemas:core:2.0:Entitlement";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

async fn set_profile(s: &TestServer, op: &str, tenant: &str, profile: &Value) -> Resp {
    s.send(s.client.put(s.root(&format!("/admin/v1/tenants/{tenant}/profile"))).bearer_auth(op).json(profile)).await
}

async fn load(s: &TestServer, op: &str, tenant: &str, ty: &str, rows: &Value) -> Resp {
    let url = s.root(&format!("/admin/v1/tenants/{tenant}/types/{ty}/resources"));
    s.send(s.client.put(url).bearer_auth(op).json(rows)).await
}

/// Okta's guide's types: Role, and Profile (Okta's Entitlement schema with a required
/// extension of the product's own).
fn okta_profile() -> Value {
    json!({
        "resource_types": [
            {"name": "Role", "endpoint": "/Roles", "schema": OKTA_ROLE},
            {"name": "Profile", "endpoint": "/Profiles", "schema": OKTA_ENTITLEMENT, "description": "Profiles"}
        ],
        "extensions": [{"resource_type": "Profile", "required": true, "schema": {
            "id": "urn:isvname:scim:schemas:extension:1.0:Profile",
            "attributes": [{"name": "permissions", "type": "string", "multiValued": true}]
        }}]
    })
}

fn roles(n: usize) -> Value {
    Value::Array(
        (1..=n)
            .map(|i| json!({"id": format!("role-{i}"), "displayName": format!("Role {i}"), "type": "Role"}))
            .collect(),
    )
}

#[tokio::test]
async fn okta_reads_resource_types_schemas_then_every_page_of_a_catalog() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let r = set_profile(&s, &op, "acme", &okta_profile()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = load(&s, &op, "acme", "Role", &roles(3)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["added"], json!(["role-1", "role-2", "role-3"]), "{}", r.body);

    // 1. /ResourceTypes names the types Okta looks for by their schema.
    let types = s.get("/ResourceTypes").await;
    assert_eq!(types.status, 200, "{}", types.body);
    let all = types.body["Resources"].as_array().unwrap();
    let role = all.iter().find(|t| t["name"] == "Role").expect("Role listed");
    assert_eq!(role["endpoint"], "/Roles");
    assert_eq!(role["schema"], OKTA_ROLE);
    let profile = all.iter().find(|t| t["name"] == "Profile").expect("Profile listed");
    assert_eq!(profile["schema"], OKTA_ENTITLEMENT);
    assert_eq!(
        profile["schemaExtensions"],
        json!([{"schema": "urn:isvname:scim:schemas:extension:1.0:Profile", "required": true}])
    );
    assert_eq!(s.get("/ResourceTypes/Role").await.body["endpoint"], "/Roles");

    // 2. /Schemas has the schemas and the extension.
    let schemas = s.get("/Schemas").await;
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().filter_map(|x| x["id"].as_str()).collect();
    for urn in [OKTA_ROLE, OKTA_ENTITLEMENT, "urn:isvname:scim:schemas:extension:1.0:Profile"] {
        assert!(ids.contains(&urn), "{urn} in {ids:?}");
    }
    assert_eq!(s.get(&format!("/Schemas/{OKTA_ROLE}")).await.status, 200);

    // 3. Okta's test: GET {endpoint}?count=1&startIndex=1.
    let page = s.get("/Roles?count=1&startIndex=1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["schemas"], json!([LIST]));
    assert_eq!(page.body["totalResults"], 3);
    assert_eq!(page.body["itemsPerPage"], 1);
    let first = &page.body["Resources"][0];
    assert_eq!(first["schemas"], json!([OKTA_ROLE]));
    assert_eq!(first["meta"]["resourceType"], "Role");

    // Okta retrieves every value: the pages walk the whole catalog.
    let mut seen = Vec::new();
    for start in 1..=3 {
        let p = s.get(&format!("/Roles?count=1&startIndex={start}")).await;
        seen.push(p.body["Resources"][0]["id"].as_str().unwrap().to_string());
    }
    seen.sort();
    assert_eq!(seen, ["role-1", "role-2", "role-3"]);

    // One row by its id, where its location says.
    let one = s.get("/Roles/role-2").await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["displayName"], "Role 2");
    assert_eq!(one.body["id"], "role-2");
    assert!(one.body["meta"]["location"].as_str().unwrap().ends_with("/scim/v2/Roles/role-2"), "{}", one.body);
    assert!(one.headers.get("etag").is_some());
    assert_eq!(s.get("/Roles/nope").await.status, 404);
    // The other type is empty until loaded.
    assert_eq!(s.get("/Profiles").await.body["totalResults"], 0);
}

#[tokio::test]
async fn the_drafts_roles_and_entitlements_are_discovered_with_their_service_provider_config() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let plain = s.get("/ServiceProviderConfig").await;
    assert!(plain.body.get("RolesAndEntitlements").is_none(), "{}", plain.body);
    let profile = json!({"resource_types": [
        {"name": "Role", "endpoint": "/Roles", "schema": IETF_ROLE},
        {"name": "Entitlement", "endpoint": "/Entitlements", "schema": IETF_ENTITLEMENT,
         "filterable": ["value", "display", "type"]}
    ]});
    let r = set_profile(&s, &op, "acme", &profile).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let spc = s.get("/ServiceProviderConfig").await;
    let re = &spc.body["RolesAndEntitlements"];
    assert_eq!(re["roles"]["supported"], true, "{}", spc.body);
    assert_eq!(re["roles"]["multipleRolesSupported"], true);
    assert_eq!(re["entitlements"]["supported"], true);
    assert_eq!(re["entitlements"]["multipleEntitlementsSupported"], true);
    let role = s.get(&format!("/Schemas/{IETF_ROLE}")).await;
    assert_eq!(role.status, 200, "{}", role.body);
    let attrs: Vec<&str> =
        role.body["attributes"].as_array().unwrap().iter().filter_map(|a| a["name"].as_str()).collect();
    for a in ["value", "display", "type", "supported", "containedBy", "contains", "totalAssignmentsUsed"] {
        assert!(attrs.contains(&a), "{a} in {attrs:?}");
    }
    let value = role.body["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "value").unwrap();
    assert_eq!(value["required"], true);
    assert_eq!(value["mutability"], "readOnly");

    let rows = json!([
        {"id": "e1", "value": "license-basic", "display": "Basic", "type": "License"},
        {"id": "e2", "value": "license-pro", "display": "Pro", "type": "License", "description": "x"},
        {"id": "e3", "value": "admin", "display": "Admin", "type": "Permission"}
    ]);
    // `description` is not in the draft's schema: the whole load is refused, nothing changes.
    let bad = load(&s, &op, "acme", "Entitlement", &rows).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.to_string().contains("row 2"), "{}", bad.body);
    assert_eq!(s.get("/Entitlements").await.body["totalResults"], 0);
    let mut rows = rows;
    rows[1].as_object_mut().unwrap().remove("description");
    assert_eq!(load(&s, &op, "acme", "Entitlement", &rows).await.status, 200);

    // Filters on filterable attributes work; others are refused.
    let lic = s.get(&format!("/Entitlements?filter={}", crate::common::enc("type eq \"License\""))).await;
    assert_eq!(lic.status, 200, "{}", lic.body);
    assert_eq!(lic.body["totalResults"], 2);
    let bad = s.get(&format!("/Entitlements?filter={}", crate::common::enc("supported eq true"))).await;
    bad.assert_error(400, Some("invalidFilter"));
    assert!(bad.body["detail"].as_str().unwrap().contains("not filterable on Entitlements"), "{}", bad.body);
    assert_eq!(s.get("/Entitlements?sortBy=supported").await.status, 400);
    // A projection.
    let proj = s.get("/Entitlements/e3?attributes=display").await;
    assert_eq!(proj.body["display"], "Admin", "{}", proj.body);
    assert!(proj.body.get("value").is_none(), "{}", proj.body);
    // A search.
    let found = s
        .post(
            "/Entitlements/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "value eq \"admin\""}),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["totalResults"], 1);
}

#[tokio::test]
async fn clients_cannot_write_a_catalog() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    assert_eq!(set_profile(&s, &op, "acme", &okta_profile()).await.status, 200);
    assert_eq!(load(&s, &op, "acme", "Role", &roles(1)).await.status, 200);
    let body = json!({"schemas": [OKTA_ROLE], "displayName": "X"});
    for r in [
        s.post("/Roles", &body).await,
        s.put("/Roles/role-1", &body).await,
        s.patch(
            "/Roles/role-1",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}),
        )
        .await,
        s.delete("/Roles/role-1").await,
        s.put("/Roles", &body).await,
    ] {
        assert_eq!(r.status, 405, "{}", r.body);
        assert_eq!(r.header("allow"), Some("GET"), "{:?}", r.headers);
    }
    assert_eq!(s.get("/Roles/role-1").await.body["displayName"], "Role 1");
}

#[tokio::test]
async fn a_type_is_the_declaring_tenants_only_and_unknown_paths_stay_404() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let other = s.tenant_token("globex").await;
    assert_eq!(set_profile(&s, &op, "acme", &okta_profile()).await.status, 200);
    assert_eq!(load(&s, &op, "acme", "Role", &roles(2)).await.status, 200);
    // Without a token: a path no tenant declares is 404, a declared one asks for a token.
    let anon = s.send(s.client.get(s.url("/Nope"))).await;
    assert_eq!(anon.status, 404, "{}", anon.body);
    let anon = s.send(s.client.get(s.url("/Roles"))).await;
    assert_eq!(anon.status, 401, "{}", anon.body);
    // Another tenant has no /Roles, and cannot read acme's rows.
    assert_eq!(s.get_as(&other, "/Roles").await.status, 404);
    assert_eq!(s.get_as(&other, "/Roles/role-1").await.status, 404);
    assert_eq!(s.get_as(&other, "/ResourceTypes").await.body["totalResults"], 2);
    // A type removed from the profile is gone; declared again, its rows are back.
    assert_eq!(set_profile(&s, &op, "acme", &json!({})).await.status, 200);
    assert_eq!(s.get("/Roles").await.status, 404);
    assert_eq!(set_profile(&s, &op, "acme", &okta_profile()).await.status, 200);
    assert_eq!(s.get("/Roles").await.body["totalResults"], 2);
}

#[tokio::test]
async fn loading_a_catalog_again_adds_changes_and_removes_keeping_ids() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    assert_eq!(set_profile(&s, &op, "acme", &okta_profile()).await.status, 200);
    assert_eq!(load(&s, &op, "acme", "Role", &roles(3)).await.status, 200);
    let v1 = s.get("/Roles/role-1").await.headers.get("etag").cloned();
    let next = json!([
        {"id": "role-1", "displayName": "Role 1", "type": "Role"},
        {"id": "role-2", "displayName": "Role two", "type": "Role"},
        {"id": "role-9", "displayName": "Role 9"}
    ]);
    let r = load(&s, &op, "acme", "role", &next).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["added"], json!(["role-9"]));
    assert_eq!(r.body["changed"], json!(["role-2"]));
    assert_eq!(r.body["removed"], json!(["role-3"]));
    assert_eq!(r.body["unchanged"], 1);
    assert_eq!(s.get("/Roles/role-1").await.headers.get("etag").cloned(), v1, "an unchanged row keeps its version");
    assert_eq!(s.get("/Roles/role-2").await.body["displayName"], "Role two");
    assert_eq!(s.get("/Roles/role-3").await.status, 404);
    let shown = s.send(s.client.get(s.root("/admin/v1/tenants/acme/types/Role/resources")).bearer_auth(&op)).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body.as_array().unwrap().len(), 3);
    // Rows without ids, or an unknown type, are refused.
    assert_eq!(load(&s, &op, "acme", "Role", &json!([{"displayName": "x"}])).await.status, 400);
    assert_eq!(load(&s, &op, "acme", "Nope", &json!([])).await.status, 404);
    // An id a user has already is taken.
    let u = s.create_user("ada").await;
    let taken = json!([{"id": u["id"], "displayName": "clash"}]);
    let r = load(&s, &op, "acme", "Role", &taken).await;
    assert_eq!(r.status, 409, "{}", r.body);
}

#[tokio::test]
async fn a_profiles_resource_types_are_validated() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let cases = [
        (json!([{"name": "Role", "endpoint": "/Users", "schema": OKTA_ROLE}]), "is the server's own"),
        (
            json!([{"name": "Role", "endpoint": "/Roles", "schema": OKTA_ROLE},
                   {"name": "role", "endpoint": "/Roles2", "schema": OKTA_ROLE}]),
            "declared twice",
        ),
        (json!([{"name": "Role", "endpoint": "/Roles", "schema": "urn:x:Role"}]), "is not one scimd knows"),
        (json!([{"name": "Role", "endpoint": "Roles", "schema": OKTA_ROLE}]), "must be '/' and a name"),
        (
            json!([{"name": "Role", "endpoint": "/Roles", "schema": OKTA_ROLE, "filterable": ["nope"]}]),
            "'nope' is not in its schema",
        ),
    ];
    for (types, words) in cases {
        let r = set_profile(&s, &op, "acme", &json!({"resource_types": types})).await;
        assert_eq!(r.status, 400, "{types}: {}", r.body);
        assert!(r.body.to_string().contains(words), "{types}: {} should say {words}", r.body);
    }
    let ext = json!({"extensions": [{"resource_type": "Licence", "schema": {"id": "urn:acme:x", "attributes": [{"name": "a", "type": "string"}]}}]});
    let r = set_profile(&s, &op, "acme", &ext).await;
    assert_eq!(r.status, 400);
    assert!(r.body.to_string().contains("declared resource type"), "{}", r.body);
}

#[tokio::test]
async fn users_carry_roles_and_entitlements_that_name_catalog_rows() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    assert_eq!(set_profile(&s, &op, "acme", &okta_profile()).await.status, 200);
    assert_eq!(load(&s, &op, "acme", "Role", &roles(1)).await.status, 200);
    let u = s
        .post(
            "/Users",
            &json!({"userName": "ada", "roles": [{"value": "role-1", "display": "Role 1"}],
                    "entitlements": [{"value": "lic-1", "display": "Pro", "type": "License"}]}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.body);
    let got = s.get(&format!("/Users/{}", u.body["id"].as_str().unwrap())).await;
    assert_eq!(got.body["roles"][0]["value"], "role-1");
    assert_eq!(got.body["entitlements"][0]["type"], "License");
}

#[tokio::test]
async fn a_declared_type_answers_under_the_tenants_base_path() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let mut profile = okta_profile();
    profile["base_paths"] = json!(["/api"]);
    assert_eq!(set_profile(&s, &op, "acme", &profile).await.status, 200);
    assert_eq!(load(&s, &op, "acme", "Role", &roles(2)).await.status, 200);
    let page = s.send(s.client.get(s.root("/api/Roles?count=1&startIndex=2")).bearer_auth(&s.token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["totalResults"], 2);
    let loc = page.body["Resources"][0]["meta"]["location"].as_str().unwrap();
    assert!(loc.contains("/api/Roles/role-"), "{loc}");
    let types = s.send(s.client.get(s.root("/api/ResourceTypes/Role")).bearer_auth(&s.token)).await;
    assert_eq!(types.body["endpoint"], "/Roles", "{}", types.body);
}
