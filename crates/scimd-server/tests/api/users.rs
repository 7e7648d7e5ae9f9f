//! /Users: create, read, replace, delete, attribute characteristics.

use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn create_returns_201_location_etag_and_full_meta() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen",
                    "externalId": "ext-1", "name": {"givenName": "Barbara", "familyName": "Jensen"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(r.header("location"), Some(format!("http://{}/scim/v2/Users/{id}", s.addr).as_str()));
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    let etag = r.header("etag").unwrap();
    assert!(etag.starts_with("W/\""), "{etag}");
    let meta = &r.body["meta"];
    assert_eq!(meta["resourceType"], "User");
    assert_eq!(meta["version"], etag);
    assert_eq!(meta["location"], r.header("location").unwrap());
    assert!(chrono::DateTime::parse_from_rfc3339(meta["created"].as_str().unwrap()).is_ok());
    assert_eq!(meta["created"], meta["lastModified"]);
    assert_eq!(r.body["userName"], "bjensen");
    assert_eq!(r.body["externalId"], "ext-1");
    assert_eq!(r.body["name"]["givenName"], "Barbara");
    assert_eq!(r.body["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));

    let g = s.get(&format!("/Users/{id}")).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body, r.body);
}

#[tokio::test]
async fn full_core_user_and_enterprise_extension_round_trip() {
    let s = TestServer::start().await;
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "full",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara",
                 "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Babs Jensen", "nickName": "Babs", "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide", "userType": "Employee", "preferredLanguage": "en-US", "locale": "en-US",
        "timezone": "America/Los_Angeles", "active": true,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
        "addresses": [{"streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA",
                       "postalCode": "91608", "country": "USA", "type": "work", "primary": true}],
        "entitlements": [{"value": "access"}], "roles": [{"value": "admin"}],
        "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
            "division": "Theme Park", "department": "Tour Operations"}
    });
    let r = s.post("/Users", &user).await;
    assert_eq!(r.status, 201, "{}", r.body);
    for key in [
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
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509Certificates",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ] {
        assert_eq!(r.body[key], user[key], "attribute {key}");
    }
    let schemas = r.body["schemas"].as_array().unwrap();
    assert!(schemas.contains(&json!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")));
}

#[tokio::test]
async fn password_is_write_only_and_read_only_attributes_are_ignored() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "pw",
                    "password": "t1meMa$heen", "id": "client-chosen", "groups": [],
                    "meta": {"resourceType": "Nope", "created": "2001-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get("password").is_none());
    assert_ne!(r.body["id"], "client-chosen");
    assert_eq!(r.body["meta"]["resourceType"], "User");
    let id = r.body["id"].as_str().unwrap();
    let g = s.get(&format!("/Users/{id}?attributes=password")).await;
    assert!(g.body.get("password").is_none(), "{}", g.body);
    // Stored only as an argon2 hash.
    let hash = s.sql_text("SELECT password_hash FROM resources WHERE scim_id = ?", id).await;
    assert!(hash.starts_with("$argon2"), "{hash}");
    let data = s.sql_text("SELECT data FROM resources WHERE scim_id = ?", id).await;
    assert!(!data.contains("t1meMa$heen"));
}

#[tokio::test]
async fn duplicate_user_name_is_409_case_insensitively() {
    let s = TestServer::start().await;
    s.create_user("Dup.User").await;
    let r = s.post("/Users", &json!({"userName": "dup.user"})).await;
    r.assert_error(409, Some("uniqueness"));
    let list = s.get("/Users").await;
    assert_eq!(list.body["totalResults"], 1);
}

#[tokio::test]
async fn racing_creates_of_one_user_name_give_one_201_and_409s() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let mut handles = Vec::new();
    for _ in 0..16 {
        let s = s.clone();
        handles.push(tokio::spawn(async move { s.post("/Users", &json!({"userName": "race"})).await.status }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 15, "{statuses:?}");
}

#[tokio::test]
async fn put_replaces_and_keeps_id_and_created() {
    let s = TestServer::start().await;
    let u = s.create_user("putme").await;
    let id = u["id"].as_str().unwrap();
    let r = s
        .put(
            &format!("/Users/{id}"),
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "putme2",
                    "displayName": "Put Me", "meta": {"created": "1999-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id);
    assert_eq!(r.body["userName"], "putme2");
    assert_eq!(r.body["displayName"], "Put Me");
    assert!(r.body.get("emails").is_none(), "PUT replaces: emails not supplied are cleared");
    assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
    assert_ne!(r.body["meta"]["version"], u["meta"]["version"]);
    let g = s.get(&format!("/Users/{id}")).await;
    assert_eq!(g.body, r.body);
}

#[tokio::test]
async fn put_with_a_different_id_in_the_body_is_a_mutability_error() {
    let s = TestServer::start().await;
    let u = s.create_user("idmismatch").await;
    let id = u["id"].as_str().unwrap();
    let r = s.put(&format!("/Users/{id}"), &json!({"id": "other", "userName": "idmismatch"})).await;
    r.assert_error(400, Some("mutability"));
}

#[tokio::test]
async fn put_to_an_existing_user_name_is_409() {
    let s = TestServer::start().await;
    s.create_user("taken").await;
    let u = s.create_user("renamer").await;
    let r = s.put(&format!("/Users/{}", u["id"].as_str().unwrap()), &json!({"userName": "TAKEN"})).await;
    r.assert_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn delete_then_get_is_404_and_delete_again_is_404() {
    let s = TestServer::start().await;
    let u = s.create_user("gone").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let d = s.delete(&path).await;
    assert_eq!(d.status, 204);
    assert_eq!(d.body, serde_json::Value::Null);
    s.get(&path).await.assert_error(404, None);
    s.delete(&path).await.assert_error(404, None);
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn deactivated_user_is_still_returned() {
    let s = TestServer::start().await;
    let u = s.create_user("inactive").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    let r =
        s.patch(&path, &crate::common::patch_op(json!([{"op": "replace", "path": "active", "value": false}]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let g = s.get(&path).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["active"], false);
}

#[tokio::test]
async fn attributes_and_excluded_attributes_on_get() {
    let s = TestServer::start().await;
    let u = s.create_user("proj").await;
    let id = u["id"].as_str().unwrap();
    let r = s.get(&format!("/Users/{id}?attributes=userName,name.givenName")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id, "id is returned always");
    assert_eq!(r.body["userName"], "proj");
    assert_eq!(r.body["name"], json!({"givenName": "Given"}));
    assert!(r.body.get("emails").is_none());
    let r = s.get(&format!("/Users/{id}?excludedAttributes=emails,name")).await;
    assert!(r.body.get("emails").is_none() && r.body.get("name").is_none());
    assert_eq!(r.body["userName"], "proj");
    assert_eq!(r.body["id"], id);
}

#[tokio::test]
async fn attribute_names_and_urns_are_case_insensitive_on_input() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            &json!({"schemas": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"], "USERNAME": "ci",
                    "Name": {"GIVENNAME": "G"},
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"EmployeeNumber": "7"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["userName"], "ci");
    assert_eq!(r.body["name"]["givenName"], "G");
    assert_eq!(r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "7");
}

#[tokio::test]
async fn user_groups_are_computed_from_memberships() {
    let s = TestServer::start().await;
    let u = s.create_user("member").await;
    let uid = u["id"].as_str().unwrap();
    assert!(u.get("groups").is_none() || u["groups"] == json!([]));
    let g = s.create_group("Admins", &[uid]).await;
    let r = s.get(&format!("/Users/{uid}")).await;
    assert_eq!(r.body["groups"][0]["value"], g["id"]);
    assert_eq!(r.body["groups"][0]["display"], "Admins");
    assert_eq!(r.body["groups"][0]["$ref"], format!("http://{}/scim/v2/Groups/{}", s.addr, g["id"].as_str().unwrap()));
}

#[tokio::test]
async fn endpoint_names_are_matched_in_any_case() {
    // Clients write `/users` (the locker system's documents do); the routes are `/Users`.
    let s = TestServer::start().await;
    let r = s.post("/users", &json!({"userName": "lower"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    assert!(r.header("location").unwrap().ends_with(&format!("/scim/v2/Users/{id}")), "canonical location");
    assert_eq!(s.get(&format!("/USERS/{id}")).await.body["userName"], "lower");
    assert_eq!(s.get("/resourcetypes").await.body["totalResults"], 2);
    assert_eq!(s.get("/serviceProviderConfig").await.status, 200);
    // Only the endpoint name: an id keeps its case, and unknown names stay unknown.
    assert_eq!(s.get(&format!("/Users/{}", id.to_uppercase())).await.status, 404);
    assert_eq!(s.get("/Userz").await.status, 404);
}
