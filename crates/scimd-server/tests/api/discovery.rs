//! Discovery endpoints describe exactly what the server does.

use crate::common::TestServer;

#[tokio::test]
async fn service_provider_config() {
    let s = TestServer::start().await;
    let r = s.get("/ServiceProviderConfig").await;
    assert_eq!(r.status, 200);
    let b = &r.body;
    assert_eq!(b["schemas"][0], "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig");
    assert_eq!(b["patch"]["supported"], true);
    assert_eq!(b["filter"]["supported"], true);
    assert_eq!(b["filter"]["maxResults"], 1000);
    assert_eq!(b["sort"]["supported"], true);
    assert_eq!(b["etag"]["supported"], true);
    assert_eq!(
        (b["bulk"]["supported"].clone(), b["bulk"]["maxOperations"].clone()),
        (serde_json::json!(true), serde_json::json!(1000))
    );
    assert_eq!(b["authenticationSchemes"][0]["type"], "oauthbearertoken");
}

#[tokio::test]
async fn resource_types_and_schemas() {
    let s = TestServer::start().await;
    let r = s.get("/ResourceTypes").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 2);
    let r = s.get("/ResourceTypes/User").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["endpoint"], "/Users");
    assert_eq!(r.body["schema"], "urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(r.body["schemaExtensions"][0]["schema"], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    s.get("/ResourceTypes/Widget").await.assert_error(404, None);

    let r = s.get("/Schemas").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 3);
    let r = s.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    assert_eq!(r.status, 200);
    let attrs = r.body["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");
    let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
    assert_eq!(emails["multiValued"], true);
    assert!(emails["subAttributes"].as_array().unwrap().iter().any(|a| a["name"] == "primary"));
    for name in [
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
        assert!(attrs.iter().any(|a| a["name"] == name), "{name} in the User schema");
    }
    let r = s.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").await;
    assert_eq!(r.status, 200);
    s.get("/Schemas/urn:nope").await.assert_error(404, None);
}
