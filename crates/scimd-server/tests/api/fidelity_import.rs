//! A product moving to scimd keeps its users' and groups' ids: the operator imports the
//! users that exist in the product already (CSV or JSON Lines, through the admin API),
//! whatever the tenant's profile lets the identity provider do, and gives operator-made
//! groups the ids the product knew them by. The staffing tool's guide (document 003) is
//! replayed on top: its users exist in the product, its identity provider only reads and
//! updates them, by the product's id.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Resp, TestServer, patch_op};

async fn admin_post(s: &TestServer, op: &str, path: &str, body: Value) -> Resp {
    s.send(s.client.post(s.root(&format!("/admin/v1{path}"))).bearer_auth(op).json(&body)).await
}

/// POSTs an import file to the admin API.
async fn import(s: &TestServer, op: &str, tenant: &str, query: &str, content_type: &str, file: &str) -> Resp {
    s.send(
        s.client
            .post(s.root(&format!("/admin/v1/tenants/{tenant}/users{query}")))
            .bearer_auth(op)
            .header("content-type", content_type)
            .body(file.to_string()),
    )
    .await
}

fn req(s: &TestServer, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    s.client.request(method, s.root(path)).bearer_auth(token).header("content-type", "application/scim+json")
}

/// The staffing tool's users, exported from the product with their ids.
const STAFF_CSV: &str = "id,userName,givenName,familyName,email,active,title,password\n\
    AP-1001,temp.worker,Tess,Worker,tess@example.com,yes,Picker,Import-Pass-1001\n\
    AP-1002,shift.lead,Sam,Lead,\"sam@example.com\",true,\"Lead, night shift\",\n";

/// Document 003 with the users imported: the subscriber updates them by the product's ids.
#[tokio::test]
async fn staffing_users_are_imported_with_their_ids_and_updated_as_the_guide_says() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let t = admin_post(&s, &op, "/tenants", json!({"name": "assignments", "preset": "staffing"})).await;
    assert_eq!(t.status, 201, "{}", t.body);

    // Checking first writes nothing.
    let checked = import(&s, &op, "assignments", "?check=true", "text/csv", STAFF_CSV).await;
    assert_eq!(checked.status, 200, "{}", checked.body);
    assert_eq!((checked.body["rows"].clone(), checked.body["imported"].clone()), (json!(2), json!(0)));
    let tenant = s.store.tenant_by_name("assignments").await.unwrap().unwrap();
    let none = s.store.get(tenant.id, scimd_core::schema::ResourceKind::User, "AP-1001", false).await.unwrap();
    assert!(none.is_none(), "a check imports nothing");

    // The import, although the profile refuses POST.
    let r = import(&s, &op, "assignments", "", "text/csv; charset=utf-8", STAFF_CSV).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.body["rows"].clone(), r.body["imported"].clone()), (json!(2), json!(2)), "{}", r.body);

    // The API subscriber's JWT, then the guide's update by the user's id.
    let sub = crate::oauth::client(&s, &["assignments"], &["client_credentials"], &["scim"], 900, 3600).await;
    let tok = s.post_form("/oauth2/token", Some((&sub.id, &sub.secret)), &[("grant_type", "client_credentials")]).await;
    let jwt = tok.body["access_token"].as_str().unwrap().to_string();
    let got = s.send(req(&s, Method::GET, "/scim/v2/Users/AP-1001", &jwt)).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["id"], "AP-1001");
    assert_eq!(got.body["userName"], "temp.worker");
    assert_eq!(got.body["name"]["givenName"], "Tess");
    assert_eq!(got.body["emails"][0]["value"], "tess@example.com");
    assert_eq!(got.body["emails"][0]["type"], "work");
    assert_eq!(got.body["active"], true);
    assert!(got.body.get("password").is_none());
    let lead = s.send(req(&s, Method::GET, "/scim/v2/Users/AP-1002", &jwt)).await;
    assert_eq!(lead.body["title"], "Lead, night shift", "a quoted CSV cell: {}", lead.body);
    let moved = s
        .send(req(&s, Method::PATCH, "/scim/v2/Users/AP-1001", &jwt).json(&patch_op(json!([
            {"op": "replace", "path": "active", "value": false}
        ]))))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["id"], "AP-1001");
    // The identity provider still may not create.
    let post = s.send(req(&s, Method::POST, "/scim/v2/Users", &jwt).json(&json!({"userName": "x"}))).await;
    assert_eq!(post.status, 405, "{}", post.body);

    // The password is stored hashed, never as given.
    let hash = s.sql_text("SELECT password_hash FROM resources WHERE scim_id = ?", "AP-1001").await;
    assert!(hash.starts_with("$argon2"), "{hash}");
    let raw = s.raw_contents().await;
    assert!(!raw.windows(16).any(|w| w == b"Import-Pass-1001"), "the password is nowhere in the database");

    // The operator's work in the audit trail: one `import` event per user, none counted
    // as the customer's provisioning.
    let ev =
        s.send(s.client.get(s.root("/admin/v1/tenants/assignments/audit/events?op=import")).bearer_auth(&op)).await;
    let all = ev.body.as_array().unwrap();
    let (events, checks): (Vec<&Value>, Vec<&Value>) = all.iter().partition(|e| e["resource_id"].is_string());
    let mut ids: Vec<&str> = events.iter().filter_map(|e| e["resource_id"].as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["AP-1001", "AP-1002"], "{}", ev.body);
    assert!(events.iter().all(|e| e["status"] == 201 && e["rtype"] == "User" && e["method"] == "POST"), "{}", ev.body);
    assert_eq!(events[0]["request_id"], events[1]["request_id"], "one request");
    assert_eq!(checks.len(), 1, "the check is recorded too: {}", ev.body);
    assert_eq!(checks[0]["status"], 200);
    let from = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let to = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    let sum = s
        .send(
            s.client
                .get(s.root("/admin/v1/tenants/assignments/audit/summary"))
                .query(&[("from", &from), ("to", &to)])
                .bearer_auth(&op),
        )
        .await;
    assert_eq!(sum.body["users"]["created"], 0, "{}", sum.body);
}

/// Every bad row is reported with its line and reason, and a file with one imports nothing.
#[tokio::test]
async fn a_file_with_bad_rows_imports_nothing_and_names_each_row() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    admin_post(&s, &op, "/tenants", json!({"name": "assignments", "preset": "staffing"})).await;
    let first = "{\"id\": \"E-1\", \"userName\": \"ada\"}\n";
    assert_eq!(import(&s, &op, "assignments", "", "application/x-ndjson", first).await.status, 201);

    let file = [
        r#"{"id": "E-2", "userName": "bob", "name": {"givenName": "Bob"}, "password": "Bob-secret-12"}"#,
        r#"{"userName": "no.id"}"#,
        "",
        r#"{"id": "E-4", "userName": "ADA"}"#,
        r#"{"id": "E-1", "userName": "carl"}"#,
        r#"{"id": "a/b", "userName": "dora"}"#,
        r#"{"id": "E-7", "userName": "eve", "active": "maybe"}"#,
        r#"{"id": "E-8", "userName": "bob"}"#,
        r#"{"id": "E-2", "userName": "fay"}"#,
        r#"{"id": "E-10", "userName": "gus", "nickname": 7}"#,
        "not json",
    ]
    .join("\n");
    let r = import(&s, &op, "assignments", "", "application/x-ndjson", &file).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("nothing was imported"), "{}", r.body);
    let errors = r.body["report"]["errors"].as_array().unwrap();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 4, 5, 6, 7, 8, 9, 10, 11], "{}", r.body);
    let reason = |line: u64| errors.iter().find(|e| e["line"] == line).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(reason(2).contains("no id"), "{}", reason(2));
    assert!(reason(4).contains("userName 'ADA' is user E-1's"), "{}", reason(4));
    assert!(reason(5).contains("has a User with this id already"), "{}", reason(5));
    assert!(reason(6).contains("'/'"), "{}", reason(6));
    assert!(reason(7).contains("active"), "{}", reason(7));
    assert!(reason(8).contains("line 1's too"), "{}", reason(8));
    assert!(reason(9).contains("line 1 too"), "{}", reason(9));
    assert!(reason(10).contains("nickName"), "{}", reason(10));
    assert!(reason(11).contains("not JSON"), "{}", reason(11));
    // The good row was not imported either; the password of line 1 is not in the payload kept.
    let tenant = s.store.tenant_by_name("assignments").await.unwrap().unwrap();
    let bob = s.store.get(tenant.id, scimd_core::schema::ResourceKind::User, "E-2", false).await.unwrap();
    assert!(bob.is_none(), "all or nothing");
    let raw = s.raw_contents().await;
    assert!(!raw.windows(13).any(|w| w == b"Bob-secret-12"), "a refused file's password is not kept either");

    // A CSV header naming no attribute of the tenant's users refuses the file at line 1.
    let r = import(&s, &op, "assignments", "", "text/csv", "id,userName,shoeSize\nE-9,ivy,42\n").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["report"]["errors"][0]["line"], 1);
    assert!(r.body["report"]["errors"][0]["reason"].as_str().unwrap().contains("shoeSize"), "{}", r.body);
    let r = import(&s, &op, "assignments", "", "text/csv", "userName\nivy\n").await;
    assert!(r.body["report"]["errors"][0]["reason"].as_str().unwrap().contains("no 'id' column"), "{}", r.body);
    // Neither CSV nor JSON Lines.
    let r = import(&s, &op, "assignments", "", "application/pdf", "%PDF").await;
    assert_eq!(r.status, 400);
    assert!(r.body["detail"].as_str().unwrap().contains("text/csv"), "{}", r.body);
    let r = import(&s, &op, "nobody", "", "text/csv", STAFF_CSV).await;
    assert_eq!(r.status, 404, "{}", r.body);
}

/// The import checks each user as the tenant's POST would: its profile's user rules too.
#[tokio::test]
async fn imported_users_meet_the_tenants_rules() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    admin_post(&s, &op, "/tenants", json!({"name": "reception", "preset": "visitor"})).await;
    let file = "id,userName,givenName,email\n\
                V-1,ann@example.com,Ann,ann@example.com\n\
                V-2,bert,Bert,bert@example.com\n";
    let r = import(&s, &op, "reception", "", "text/csv", file).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let errors = r.body["report"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", r.body);
    assert_eq!((errors[0]["line"].clone(), errors[0]["id"].clone()), (json!(3), json!("V-2")));
    assert!(errors[0]["reason"].as_str().unwrap().contains("work email"), "{}", r.body);
}

/// Operator-made groups keep the ids the operator gives them; a clash or a bad id is refused.
#[tokio::test]
async fn operator_made_groups_keep_the_ids_given() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let made = admin_post(&s, &op, "/tenants/acme/groups", json!({"displayName": "Night shift", "id": "G-100"})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["id"], "G-100");
    let got = s.get("/Groups/G-100").await;
    assert_eq!((got.status, got.body["displayName"].clone()), (200, json!("Night shift")), "{}", got.body);
    // The id is taken: by this group, or by a user.
    let again = admin_post(&s, &op, "/tenants/acme/groups", json!({"displayName": "Day shift", "id": "G-100"})).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body["detail"].as_str().unwrap().contains("the id 'G-100'"), "{}", again.body);
    let user = s.create_user("alice").await;
    let uid = user["id"].as_str().unwrap();
    let clash = admin_post(&s, &op, "/tenants/acme/groups", json!({"displayName": "Day shift", "id": uid})).await;
    assert_eq!(clash.status, 409, "{}", clash.body);
    for bad in ["", "a/b", "x".repeat(129).as_str(), "has space", ".search"] {
        let r = admin_post(&s, &op, "/tenants/acme/groups", json!({"displayName": "Day shift", "id": bad})).await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.body);
    }
    // Without an id, one is generated as before.
    let generated = admin_post(&s, &op, "/tenants/acme/groups", json!({"displayName": "Day shift"})).await;
    assert_eq!(generated.status, 201, "{}", generated.body);
    assert!(uuid::Uuid::parse_str(generated.body["id"].as_str().unwrap()).is_ok());
    // Imported users may not take a group's id either, and members find the group by it.
    let r = import(&s, &op, "acme", "", "text/csv", "id,userName\nG-100,bob\n").await;
    assert!(r.body["report"]["errors"][0]["reason"].as_str().unwrap().contains("Group with this id"), "{}", r.body);
    let added = s
        .patch_group("/Groups/G-100", &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}])))
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(s.get(&format!("/Users/{uid}")).await.body["groups"][0]["value"], "G-100");
}
