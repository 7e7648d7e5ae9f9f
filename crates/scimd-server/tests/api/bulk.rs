//! Bulk (RFC 7644 §3.7): operations of every method, bulkId references in any
//! order, failOnErrors, the advertised limits enforced, a status per operation, and each
//! operation audited like a single request.

use serde_json::{Value, json};

use crate::common::TestServer;

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn bulk(ops: Value) -> Value {
    json!({"schemas": [BULK], "Operations": ops})
}

fn user_op(bulk_id: &str, name: &str) -> Value {
    json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}})
}

#[tokio::test]
async fn a_group_listing_users_created_later_in_the_same_request() {
    let s = TestServer::start().await;
    // The group comes first and refers to users created after it.
    let r = s
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides",
                    "members": [{"type": "User", "value": "bulkId:u1"}, {"type": "User", "value": "bulkId:u2"}]}},
                user_op("u1", "alice"),
                user_op("u2", "bob"),
                {"method": "PATCH", "path": "/Users/bulkId:u1", "data": {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "displayName", "value": "Alice"}]}}
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 4);
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "201", "201", "200"], "{}", r.body);
    assert_eq!(ops[0]["bulkId"], "g");
    let group_loc = ops[0]["location"].as_str().unwrap();
    assert!(ops[0]["version"].as_str().unwrap().starts_with("W/\""));
    let group_id = group_loc.rsplit('/').next().unwrap();
    let g = s.get(&format!("/Groups/{group_id}?attributes=members.display")).await;
    let mut members: Vec<String> = g.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["display"].as_str().unwrap_or_else(|| panic!("{}", g.body)).to_string())
        .collect();
    members.sort();
    assert_eq!(members, ["Alice", "bob"], "{}", g.body);
    // PUT, PATCH and DELETE by id, with versions: a stale one is 412 for that operation only.
    let alice = ops[1]["location"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let bob = ops[2]["location"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let r = s
        .post(
            "/Bulk",
            &bulk(json!([
                {"method": "PUT", "path": format!("/Users/{alice}"), "version": "W/\"1\"",
                 "data": {"userName": "alice", "title": "stale"}},
                {"method": "PUT", "path": format!("/Users/{alice}"), "data": {"userName": "alice", "title": "Guide"}},
                {"method": "DELETE", "path": format!("/Users/{bob}"), "version": ops[2]["version"]},
                {"method": "DELETE", "path": "/Users/no-such-user"}
            ])),
        )
        .await;
    let statuses: Vec<&str> =
        r.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["412", "200", "204", "404"], "{}", r.body);
    assert_eq!(r.body["Operations"][3]["response"]["status"], "404");
    assert_eq!(s.get(&format!("/Users/{alice}")).await.body["title"], "Guide");
    assert_eq!(s.get(&format!("/Users/{bob}")).await.status, 404);
    // Each operation is an event of its own kind in the audit trail.
    let op = s.operator_token().await;
    let events = s.send(s.client.get(s.root("/admin/v1/tenants/acme/audit/events?limit=50")).bearer_auth(&op)).await;
    let kinds: Vec<String> = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e["op"].as_str().unwrap(), e["rtype"].as_str().unwrap_or("-"), e["status"]))
        .collect();
    for want in ["create Group 201", "create User 201", "patch User 200", "replace User 200", "delete User 204"] {
        assert!(kinds.iter().any(|k| k == want), "{want} in {kinds:?}");
    }
}

#[tokio::test]
async fn fail_on_errors_references_and_limits() {
    let s = TestServer::start().await;
    // failOnErrors 1: the first failure ends the request; later operations are not run.
    let mut body = bulk(json!([user_op("a", "dup"), user_op("b", "dup"), user_op("c", "carol")]));
    body["failOnErrors"] = json!(1);
    let r = s.post("/Bulk", &body).await;
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2, "{}", r.body);
    assert_eq!((ops[0]["status"].as_str(), ops[1]["status"].as_str()), (Some("201"), Some("409")));
    assert_eq!(ops[1]["response"]["scimType"], "uniqueness");
    assert_eq!(s.get("/Users?filter=userName%20eq%20%22carol%22").await.body["totalResults"], 0);
    // A reference to a failed operation, to nobody, and a circle: 409 each; the rest runs.
    let r = s
        .post(
            "/Bulk",
            &bulk(json!([
                user_op("x", "dup"),
                {"method": "POST", "path": "/Groups", "bulkId": "gx", "data": {"displayName": "X", "members": [{"value": "bulkId:x"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "gy", "data": {"displayName": "Y", "members": [{"value": "bulkId:nobody"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "c1", "data": {"displayName": "C1", "members": [{"value": "bulkId:c2"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "c2", "data": {"displayName": "C2", "members": [{"value": "bulkId:c1"}]}},
                user_op("ok", "olga")
            ])),
        )
        .await;
    let st: Vec<&str> =
        r.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["409", "409", "409", "409", "409", "201"], "{}", r.body);
    let details: Vec<&str> =
        r.body["Operations"].as_array().unwrap().iter().filter_map(|o| o["response"]["detail"].as_str()).collect();
    assert!(
        details[1].contains("bulkId 'x' failed") && details[2].contains("'nobody'") && details[3].contains("circle"),
        "{details:?}"
    );
    // The limits are advertised and enforced.
    let spc = s.get("/ServiceProviderConfig").await;
    assert_eq!(spc.body["bulk"]["supported"], true);
    let max_ops = spc.body["bulk"]["maxOperations"].as_u64().unwrap();
    let max_payload = spc.body["bulk"]["maxPayloadSize"].as_u64().unwrap();
    assert_eq!((max_ops, max_payload), (1000, 4 * 1024 * 1024));
    let many: Vec<Value> = (0..=max_ops).map(|i| user_op(&format!("m{i}"), &format!("m{i}"))).collect();
    let r = s.post("/Bulk", &bulk(Value::Array(many))).await;
    r.assert_error(413, Some("tooMany"));
    let big = "x".repeat(max_payload as usize);
    let r = s
        .post("/Bulk", &bulk(json!([{"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": big}}])))
        .await;
    r.assert_error(413, None);
    assert!(r.body["detail"].as_str().unwrap().contains(&max_payload.to_string()), "{}", r.body);
    // Malformed operations are the request's error, and nothing runs.
    let r = s.post("/Bulk", &bulk(json!([user_op("z", "zed"), {"method": "GET", "path": "/Users"}]))).await;
    r.assert_error(400, Some("invalidSyntax"));
    assert_eq!(s.get("/Users?filter=userName%20eq%20%22zed%22").await.body["totalResults"], 0);
    let r = s.post("/Bulk", &bulk(json!([user_op("d", "d1"), user_op("d", "d2")]))).await;
    r.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn a_tenant_profile_applies_to_each_operation() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let profile = json!({"groups": {"create": false}});
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/acme/profile")).bearer_auth(&op).json(&profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s
        .post(
            "/Bulk",
            &bulk(json!([user_op("u", "una"),
                {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "G"}}])),
        )
        .await;
    let st: Vec<&str> =
        r.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(st, ["201", "405"], "{}", r.body);
}

#[tokio::test]
async fn failed_operations_are_audited_one_event_each_and_counted_by_the_summary() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let from = (chrono::Utc::now() - chrono::TimeDelta::seconds(1)).to_rfc3339();
    let taken = s.create_user("taken").await["id"].as_str().unwrap().to_string();
    // Some succeed, some fail.
    let mixed = s
        .post(
            "/Bulk",
            &bulk(json!([
                user_op("ok", "fresh"),
                user_op("dup", "taken"),
                {"method": "PATCH", "path": format!("/Users/{taken}"), "data": {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "nosuch", "value": 1}]}},
                {"method": "DELETE", "path": "/Users/no-such-user"}
            ])),
        )
        .await;
    let statuses: Vec<&str> =
        mixed.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "409", "400", "404"], "{}", mixed.body);
    // Every one fails.
    let failed = s
        .post(
            "/Bulk",
            &bulk(json!([user_op("x", "taken"), {"method": "PUT", "path": "/Groups/no-such-group",
                                                  "data": {"displayName": "G"}}])),
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    // Refused as a whole: one event, the request's.
    let refused = s.post("/Bulk", &json!({"schemas": [BULK]})).await;
    refused.assert_error(400, Some("invalidSyntax"));
    let to = (chrono::Utc::now() + chrono::TimeDelta::seconds(1)).to_rfc3339();

    let events = s.send(s.client.get(s.root("/admin/v1/tenants/acme/audit/events?limit=100")).bearer_auth(&op)).await;
    let of = |r: &crate::common::Resp| -> Vec<String> {
        let rid = r.header("x-request-id").unwrap();
        let mut v: Vec<String> = events
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["request_id"] == rid)
            .map(|e| {
                format!(
                    "{} {} {} {} {} {}",
                    e["method"].as_str().unwrap(),
                    e["op"].as_str().unwrap(),
                    e["rtype"].as_str().unwrap_or("-"),
                    e["resource_id"].as_str().unwrap_or("-"),
                    e["status"],
                    e["scim_type"].as_str().unwrap_or("-")
                )
            })
            .collect();
        v.sort();
        v
    };
    let fresh = mixed.body["Operations"][0]["location"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(
        of(&mixed),
        [
            "DELETE delete User no-such-user 404 -".to_string(),
            format!("PATCH patch User {taken} 400 invalidPath"),
            "POST create User - 409 uniqueness".to_string(),
            format!("POST create User {fresh} 201 -"),
        ]
    );
    assert_eq!(
        of(&failed),
        ["POST create User - 409 uniqueness", "PUT replace Group no-such-group 404 -"],
        "one event per operation, none for the request"
    );
    assert_eq!(of(&refused), ["POST bulk - - 400 invalidSyntax"]);
    // The request's payloads are kept once, with one of its events.
    let rid = failed.header("x-request-id").unwrap();
    let mut kept = Vec::new();
    for e in events.body.as_array().unwrap().iter().filter(|e| e["request_id"] == rid) {
        let id = e["id"].as_i64().unwrap();
        let d =
            s.send(s.client.get(s.root(&format!("/admin/v1/tenants/acme/audit/events/{id}"))).bearer_auth(&op)).await;
        if d.status == 200 {
            kept.push(d.body["request_body"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].contains("no-such-group"), "{kept:?}");

    let enc = crate::common::enc;
    let sum = s
        .send(
            s.client
                .get(s.root(&format!("/admin/v1/tenants/acme/audit/summary?from={}&to={}", enc(&from), enc(&to))))
                .bearer_auth(&op),
        )
        .await;
    assert_eq!(sum.status, 200, "{}", sum.body);
    assert_eq!(sum.body["created"], 2, "{}", sum.body);
    assert_eq!(
        sum.body["errors"],
        json!({"uniqueness": 2, "invalidPath": 1, "status 404": 2, "invalidSyntax": 1}),
        "{}",
        sum.body
    );
    assert_eq!(sum.body["error_count"], 6);
    assert_eq!(sum.body["requests"], 8, "{}", sum.body);
}
