//! Every request shape Entra ID and Okta send (the book's API reference lists them), accepted by default.

use serde_json::json;

use crate::common::{TestServer, enc, ids, patch_op};

#[tokio::test]
async fn entra_queries() {
    let s = TestServer::start().await;
    let u = s
        .post(
            "/Users",
            &json!({"userName": "e@corp.test", "externalId": "ext-9",
                                "emails": [{"type": "work", "value": "e@corp.test", "primary": true}]}),
        )
        .await
        .body;
    let uid = u["id"].as_str().unwrap().to_string();
    for f in
        ["userName eq \"e@corp.test\"", "externalId eq \"ext-9\"", "emails[type eq \"work\"].value eq \"e@corp.test\""]
    {
        let r = s.get(&format!("/Users?filter={}", enc(f))).await;
        assert_eq!(ids(&r.body), vec![uid.clone()], "{f}");
    }
    // "Test connection" filters on a random GUID: 200 with an empty list.
    let r = s.get(&format!("/Users?filter={}", enc("userName eq \"2a5b8d3c-95b0-4e8a-9d7f-0c1e2f3a4b5c\""))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
    assert_eq!(r.body["Resources"], json!([]));
    let g = s.create_group("Sales", &[&uid]).await;
    let gid = g["id"].as_str().unwrap();
    let r = s.get(&format!("/Groups?excludedAttributes=members&filter={}", enc("displayName eq \"Sales\""))).await;
    assert_eq!(ids(&r.body), vec![gid.to_string()]);
    assert!(r.body["Resources"][0].get("members").is_none());
    let r = s.get(&format!("/Groups/{gid}?excludedAttributes=members")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("members").is_none());
}

#[tokio::test]
async fn entra_patch_shapes() {
    let s = TestServer::start().await;
    let u = s.create_user("entra").await;
    let path = format!("/Users/{}", u["id"].as_str().unwrap());
    // Capitalised ops, string booleans.
    let r = s.patch(&path, &patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    let r = s.patch(&path, &patch_op(json!([{"op": "Replace", "path": "active", "value": "True"}]))).await;
    assert_eq!(r.body["active"], true);
    // Filtered and URN paths.
    let r = s
        .patch(
            &path,
            &patch_op(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@corp.test"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "123"}
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["emails"][0]["value"], "new@corp.test");
    assert_eq!(r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "123");
    // Path-less replace with dotted and URN keys: the keys are paths.
    let r = s
        .patch(
            &path,
            &patch_op(json!([{"op": "replace", "value": {
                "displayName": "X", "name.givenName": "Y",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Z"}}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "X");
    assert_eq!(r.body["name"]["givenName"], "Y");
    assert_eq!(r.body["name"]["familyName"], "Family", "other name parts are kept");
    assert_eq!(r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "Z");
    assert!(r.body.get("name.givenName").is_none());
    // add/replace on a filtered path that matches nothing creates the element.
    let r = s
        .patch(
            &path,
            &patch_op(json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+4799999999"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["phoneNumbers"], json!([{"type": "mobile", "value": "+4799999999"}]));
    let r = s
        .patch(
            &path,
            &patch_op(json!([{"op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Oslo"}])),
        )
        .await;
    assert_eq!(r.body["addresses"], json!([{"type": "work", "locality": "Oslo"}]));
    // Manager as a plain string id, cleared with "".
    let m = s.create_user("boss").await;
    let r = s
        .patch(&path, &patch_op(json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": m["id"]}])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"], m["id"]);
    let r = s
        .patch(&path, &patch_op(json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": ""}])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].get("manager").is_none(),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn entra_create_bodies_with_nulls_and_empty_arrays() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                                            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                                "userName": "nulls", "addresses": null, "roles": [], "displayName": null,
                                "active": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get("addresses").is_none() && r.body.get("roles").is_none() && r.body.get("displayName").is_none());
    let r = s
        .post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                                             "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                                 "displayName": "Entra Group", "externalId": "g-ext", "members": []}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn entra_member_add_and_both_removal_forms() {
    let s = TestServer::start().await;
    let a = s.create_user("a").await["id"].as_str().unwrap().to_string();
    let b = s.create_user("b").await["id"].as_str().unwrap().to_string();
    let c = s.create_user("c").await["id"].as_str().unwrap().to_string();
    let g = s.create_group("G", &[]).await;
    let path = format!("/Groups/{}", g["id"].as_str().unwrap());
    let r = s
        .patch_group(&path, &patch_op(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": a}, {"$ref": null, "value": b}, {"value": c}]}])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 3);
    let r =
        s.patch_group(&path, &patch_op(json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}]))).await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2, "removes only the listed member");
    let r =
        s.patch_group(&path, &patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]))).await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["members"][0]["value"], c);
}

#[tokio::test]
async fn okta_flows() {
    let s = TestServer::start().await;
    // Lookup before create, then create with password and groups: [].
    let r = s.get(&format!("/Users?filter={}&startIndex=1&count=100", enc("userName eq \"okta@corp.test\""))).await;
    assert_eq!(r.body["totalResults"], 0);
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "okta@corp.test",
                      "name": {"givenName": "O", "familyName": "K"}, "emails": [{"primary": true, "value": "okta@corp.test", "type": "work"}],
                      "displayName": "O K", "locale": "en-US", "externalId": "00u1", "groups": [], "password": "1mz050nq", "active": true});
    let r = s.post("/Users", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.get("password").is_none());
    let id = r.body["id"].as_str().unwrap().to_string();
    // Duplicate create: 409 uniqueness, never 500.
    s.post("/Users", &body).await.assert_error(409, Some("uniqueness"));
    // Deactivate with a path-less replace.
    let r = s.patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "value": {"active": false}}]))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["active"], false);
    // Full PUT update.
    let mut put = body.clone();
    put["name"]["givenName"] = json!("Olga");
    put["id"] = json!(id);
    let r = s.put(&format!("/Users/{id}"), &put).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["name"]["givenName"], "Olga");
    // Group rename including id in the value; combined remove+add; full push; empty push.
    let u2 = s.create_user("u2").await["id"].as_str().unwrap().to_string();
    let g = s.create_group("Okta Group", &[&id]).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let gpath = format!("/Groups/{gid}");
    let r = s
        .patch_group(&gpath, &patch_op(json!([{"op": "replace", "value": {"id": gid, "displayName": "Renamed"}}])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "Renamed");
    assert_eq!(r.body["id"], gid.as_str());
    let r = s
        .patch_group(
            &gpath,
            &patch_op(json!([
                {"op": "remove", "path": format!("members[value eq \"{id}\"]")},
                {"op": "add", "path": "members", "value": [{"value": u2, "display": "u2"}]}
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["members"][0]["value"], u2.as_str());
    let r = s
        .patch_group(
            &gpath,
            &patch_op(json!([{"op": "replace", "path": "members", "value": [{"value": id}, {"value": u2}]}])),
        )
        .await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
    let r = s.patch_group(&gpath, &patch_op(json!([{"op": "replace", "path": "members", "value": []}]))).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("members").is_none() || r.body["members"] == json!([]));
    // Import pages.
    let r = s.get("/Users?startIndex=1&count=100").await;
    assert!(r.body["totalResults"].is_u64() && r.body["startIndex"].is_u64() && r.body["itemsPerPage"].is_u64());
}
