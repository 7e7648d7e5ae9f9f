//! PATCH (RFC 7644 §3.5.2): operations, paths, errors, atomicity.

use serde_json::json;

use crate::common::{TestServer, patch_op};

async fn user(s: &TestServer) -> (String, serde_json::Value) {
    let u = s
        .post(
            "/Users",
            &json!({"userName": "patchme", "name": {"givenName": "A", "familyName": "B"},
                    "emails": [{"value": "w@example.com", "type": "work", "primary": true},
                               {"value": "h@example.com", "type": "home"}],
                    "phoneNumbers": [{"value": "+4712345678", "type": "mobile"}]}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.body);
    (format!("/Users/{}", u.body["id"].as_str().unwrap()), u.body)
}

#[tokio::test]
async fn add_replace_remove_with_and_without_paths() {
    let s = TestServer::start().await;
    let (path, _) = user(&s).await;
    let r = s
        .patch(
            &path,
            &patch_op(json!([
                {"op": "add", "path": "title", "value": "Boss"},
                {"op": "replace", "path": "name.givenName", "value": "Alice"},
                {"op": "add", "path": "emails", "value": [{"value": "x@example.com", "type": "other"}]},
                {"op": "replace", "value": {"displayName": "Alice B", "nickName": "al"}},
                {"op": "remove", "path": "phoneNumbers"},
                {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "home2@example.com"},
                {"op": "remove", "path": "emails[type eq \"other\"]"},
                {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "42"}
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["title"], "Boss");
    assert_eq!(b["name"]["givenName"], "Alice");
    assert_eq!(b["name"]["familyName"], "B");
    assert_eq!(b["displayName"], "Alice B");
    assert_eq!(b["nickName"], "al");
    assert!(b.get("phoneNumbers").is_none());
    let emails = b["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2, "{b}");
    assert!(emails.iter().any(|e| e["value"] == "home2@example.com" && e["type"] == "home"));
    assert_eq!(b["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "42");
    assert!(
        b["schemas"].as_array().unwrap().contains(&json!("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"))
    );
    assert_eq!(s.get(&path).await.body, r.body, "the answer is what is stored");
}

#[tokio::test]
async fn patch_honours_attributes() {
    let s = TestServer::start().await;
    let (path, _) = user(&s).await;
    let r = s
        .patch(
            &format!("{path}?attributes=userName"),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "T"}])),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["userName"], "patchme");
    assert!(r.body.get("title").is_none());
}

#[tokio::test]
async fn errors_change_nothing() {
    let s = TestServer::start().await;
    let (path, before) = user(&s).await;
    let cases = [
        (
            json!([{"op": "replace", "path": "title", "value": "ok"}, {"op": "replace", "path": "noSuch", "value": 1}]),
            "invalidPath",
        ),
        (json!([{"op": "replace", "path": "title", "value": "ok"}, {"op": "remove"}]), "noTarget"),
        (json!([{"op": "replace", "path": "id", "value": "x"}]), "mutability"),
        (json!([{"op": "replace", "path": "meta.created", "value": "2001-01-01T00:00:00Z"}]), "mutability"),
        (json!([{"op": "replace", "path": "active", "value": "maybe"}]), "invalidValue"),
        (json!([{"op": "remove", "path": "userName"}]), "invalidValue"),
        (json!([{"op": "jump", "path": "title", "value": "x"}]), "invalidSyntax"),
        (json!([{"op": "replace", "path": "emails[type eq ", "value": "x"}]), "invalidPath"),
        (json!([]), "invalidSyntax"),
    ];
    for (ops, scim_type) in cases {
        let r = s.patch(&path, &patch_op(ops.clone())).await;
        r.assert_error(400, Some(scim_type));
    }
    let r = s.patch(&path, &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]})).await;
    r.assert_error(400, Some("invalidSyntax"));
    let after = s.get(&path).await.body;
    assert_eq!(after, before, "no failed PATCH changed anything");
}

#[tokio::test]
async fn patch_user_name_to_a_taken_one_is_409() {
    let s = TestServer::start().await;
    s.create_user("taken").await;
    let (path, _) = user(&s).await;
    let r = s.patch(&path, &patch_op(json!([{"op": "replace", "path": "userName", "value": "Taken"}]))).await;
    r.assert_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn patch_of_a_missing_resource_is_404() {
    let s = TestServer::start().await;
    let r = s.patch("/Users/nope", &patch_op(json!([{"op": "replace", "path": "title", "value": "x"}]))).await;
    r.assert_error(404, None);
}

#[tokio::test]
async fn setting_primary_clears_the_other_primary() {
    let s = TestServer::start().await;
    let (path, _) = user(&s).await;
    let r = s
        .patch(&path, &patch_op(json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let primaries: Vec<_> = r.body["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["primary"] == true)
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(primaries, vec![json!("home")]);
}

#[tokio::test]
async fn filters_see_patched_values() {
    let s = TestServer::start().await;
    let (path, u) = user(&s).await;
    s.patch(
        &path,
        &patch_op(json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@corp.test"}])),
    )
    .await;
    let r = s.get(&format!("/Users?filter={}", crate::common::enc("emails.value eq \"new@corp.test\""))).await;
    assert_eq!(crate::common::ids(&r.body), vec![u["id"].as_str().unwrap().to_string()]);
    let r = s.get(&format!("/Users?filter={}", crate::common::enc("emails.value eq \"w@example.com\""))).await;
    assert_eq!(r.body["totalResults"], 0);
}
