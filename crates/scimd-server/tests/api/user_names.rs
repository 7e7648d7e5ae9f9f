//! What counts as the same userName: case (full case folding, `straße` = `STRASSE`),
//! Unicode normalization (composed and decomposed `café`), compatibility forms (full-width
//! `ＡＤＭＩＮ`) and white space at the ends make no second user; control and invisible
//! characters are refused; filters and lookups by userName follow the same rule.

use serde_json::{Value, json};

use crate::common::{TestServer, enc, ids, patch_op};

/// Pairs of names that are the same name (the second sent after the first exists).
const SAME: &[(&str, &str)] =
    &[("straße", "STRASSE"), ("café", "cafe\u{301}"), ("admin", "ＡＤＭＩＮ"), ("ada", "  ADA "), ("Ωmega", "ωMEGA")];

/// Names holding a character no userName may hold, and the code point the error names.
const REFUSED: &[(&str, &str)] = &[
    ("bo\u{200B}b", "U+200B"),
    ("bo\u{200D}b", "U+200D"),
    ("\u{FEFF}bob", "U+FEFF"),
    ("bo\u{AD}b", "U+00AD"),
    ("bob\u{0}", "U+0000"),
    ("bo\u{7}b", "U+0007"),
];

fn user(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})
}

fn rename(name: &str) -> Value {
    patch_op(json!([{"op": "replace", "path": "userName", "value": name}]))
}

async fn filter_ids(s: &TestServer, filter: &str) -> Vec<String> {
    let r = s.get(&format!("/Users?filter={}", enc(filter))).await;
    assert_eq!(r.status, 200, "{filter}: {}", r.body);
    ids(&r.body)
}

#[tokio::test]
async fn variants_of_a_taken_name_are_409_on_create_put_and_patch() {
    let s = TestServer::start().await;
    let other = s.post("/Users", &user("someone-else")).await.body["id"].as_str().unwrap().to_string();
    for (i, (first, second)) in SAME.iter().enumerate() {
        let a = s.post("/Users", &user(first)).await;
        assert_eq!(a.status, 201, "{first:?}: {}", a.body);
        let created = s.post("/Users", &user(second)).await;
        created.assert_error(409, Some("uniqueness"));
        let put = s.put(&format!("/Users/{other}"), &user(second)).await;
        put.assert_error(409, Some("uniqueness"));
        let patched = s.patch(&format!("/Users/{other}"), &rename(second)).await;
        patched.assert_error(409, Some("uniqueness"));
        // The refused writes changed nothing.
        assert_eq!(s.get(&format!("/Users/{other}")).await.body["userName"], "someone-else", "pair {i}");
    }
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], SAME.len() + 1);
}

#[tokio::test]
async fn names_are_stored_trimmed_and_renamed_within_the_same_name() {
    let s = TestServer::start().await;
    let r = s.post("/Users", &user("  grace  ")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["userName"], "grace");
    let id = r.body["id"].as_str().unwrap().to_string();
    // A user may change the spelling of its own name.
    let r = s.patch(&format!("/Users/{id}"), &rename("GRACE")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["userName"], "GRACE");
    let r = s.put(&format!("/Users/{id}"), &user("Grace ")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["userName"], "Grace");
}

#[tokio::test]
async fn control_and_invisible_characters_are_refused_with_400() {
    let s = TestServer::start().await;
    let bob = s.post("/Users", &user("bob")).await.body["id"].as_str().unwrap().to_string();
    for (name, code_point) in REFUSED {
        for r in [
            s.post("/Users", &user(name)).await,
            s.put(&format!("/Users/{bob}"), &user(name)).await,
            s.patch(&format!("/Users/{bob}"), &rename(name)).await,
        ] {
            r.assert_error(400, Some("invalidValue"));
            let detail = r.body["detail"].as_str().unwrap();
            assert!(detail.contains(code_point) && detail.contains("userName"), "{name:?}: {detail}");
        }
    }
    assert_eq!(s.get(&format!("/Users/{bob}")).await.body["userName"], "bob");
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], 1);
    // In Bulk as well.
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "z", "data": user("zero\u{200B}width")}]});
    let r = s.post("/Bulk", &bulk).await;
    assert_eq!(r.body["Operations"][0]["status"], "400", "{}", r.body);
}

#[tokio::test]
async fn filters_on_user_name_find_every_spelling_of_a_name() {
    let s = TestServer::start().await;
    let mut want = Vec::new();
    for (first, _) in SAME {
        want.push(s.post("/Users", &user(first)).await.body["id"].as_str().unwrap().to_string());
    }
    for ((_, second), id) in SAME.iter().zip(&want) {
        let quoted = serde_json::to_string(second.trim()).unwrap();
        assert_eq!(filter_ids(&s, &format!("userName eq {quoted}")).await, std::slice::from_ref(id), "{second:?}");
        let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                            "filter": format!("userName eq {quoted}")});
        assert_eq!(ids(&s.post("/Users/.search", &search).await.body), std::slice::from_ref(id), "{second:?}");
    }
    assert_eq!(filter_ids(&s, "userName sw \"STRA\"").await, [want[0].clone()]);
    assert_eq!(filter_ids(&s, "userName co \"ＭＩ\"").await, [want[2].clone()]);
    assert_eq!(filter_ids(&s, "userName ne \"STRASSE\"").await.len(), SAME.len() - 1);
}

#[tokio::test]
async fn users_addressed_by_user_name_are_found_by_any_spelling() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let r = s
        .send(
            s.client
                .put(s.root("/admin/v1/tenants/acme/profile"))
                .bearer_auth(&op)
                .json(&json!({"users_by_user_name": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = s.post("/Users", &user("straße")).await.body["id"].as_str().unwrap().to_string();
    let r = s.get("/Users/STRASSE").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id);
    let r = s
        .patch(
            &format!("/Users/{}", enc("Straße")),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "X"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id);
}

/// A name stored before these rules (here put behind the server's back) is kept when a
/// client sends it again unchanged: its user can still be updated and deactivated.
#[tokio::test]
async fn a_name_stored_before_the_rules_can_still_be_updated() {
    let s = TestServer::start().await;
    let id = s.post("/Users", &user("legacyname")).await.body["id"].as_str().unwrap().to_string();
    let sql = "UPDATE resources SET data = replace(data, 'legacyname', 'legacy\u{200B}name') WHERE rtype = 1";
    s.exec(sql, sql).await;
    let stored = "legacy\u{200B}name";
    let r =
        s.patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "path": "active", "value": false}]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["userName"], stored);
    let r = s.put(&format!("/Users/{id}"), &json!({"userName": stored, "active": false})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A change of name must follow the rules.
    s.patch(&format!("/Users/{id}"), &rename("other\u{200B}name")).await.assert_error(400, Some("invalidValue"));
}
