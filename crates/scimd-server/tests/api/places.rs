//! Places and access: the places tree through the admin API, access resolved
//! through group membership (gained and lost by SCIM changes), location rules with every
//! operator and combination, home locations, the read-only places extension on users,
//! and the recomputation after a rule change.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Resp, TestServer, enc, patch_op};

const PLACES: &str = "urn:scimd:schemas:extension:places:1.0:User";

async fn operator(s: &TestServer) -> String {
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(scimd_server::clock::SystemClock));
    admin.create_admin_token(None).await.unwrap().token
}

/// `METHOD /admin/v1{path}` with the operator token and an optional JSON body.
async fn admin(s: &TestServer, op: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
    let mut rq = s.client.request(method, s.root(&format!("/admin/v1{path}"))).bearer_auth(op);
    if let Some(b) = body {
        rq = rq.json(&b);
    }
    s.send(rq).await
}

fn tree() -> Value {
    json!({"locations": [
        {"key": "hq", "name": "HQ", "sections": [
            {"key": "s1", "name": "Floor 1", "banks": [
                {"key": "b1", "name": "Bank 1", "lockers": [{"key": "l1"}, {"key": "l2"}]},
                {"key": "b2", "name": "Bank 2", "lockers": [{"key": "l3"}]}]}]},
        {"key": "depot", "name": "Depot", "sections": [
            {"key": "s2", "banks": [{"key": "b3", "lockers": [{"key": "l4"}]}]}]}]})
}

async fn with_tree(s: &TestServer, op: &str) {
    use reqwest::Method;
    let r = admin(s, op, Method::PUT, "/tenants/acme/places", Some(tree())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"created": 11, "updated": 0, "unchanged": 0}));
}

#[tokio::test]
async fn the_places_tree_is_imported_listed_changed_and_deleted() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator(&s).await;
    s.create_user("ada").await; // makes the tenant
    with_tree(&s, &op).await;
    // The same file again changes nothing; a changed name and a moved bank are updates.
    let again = admin(&s, &op, Method::PUT, "/tenants/acme/places", Some(tree())).await;
    assert_eq!(again.body, json!({"created": 0, "updated": 0, "unchanged": 11}));
    let mut moved = tree();
    moved["locations"][0]["name"] = json!("Head office");
    let b2 = moved["locations"][0]["sections"][0]["banks"].as_array_mut().unwrap().remove(1);
    moved["locations"][1]["sections"][0]["banks"].as_array_mut().unwrap().push(b2);
    let r = admin(&s, &op, Method::PUT, "/tenants/acme/places", Some(moved)).await;
    assert_eq!(r.body, json!({"created": 0, "updated": 2, "unchanged": 9}));
    let got = admin(&s, &op, Method::GET, "/tenants/acme/places", None).await;
    assert_eq!(got.body["locations"][0]["key"], "depot", "by key: {}", got.body);
    assert_eq!(got.body["locations"][0]["sections"][0]["banks"][0]["key"], "b2", "moved to the depot");
    assert_eq!(got.body["locations"][1]["name"], "Head office");
    assert_eq!(
        got.body["locations"][1]["sections"][0]["banks"][0]["lockers"],
        json!([{"key": "l1", "name": "l1"}, {"key": "l2", "name": "l2"}])
    );
    // One place: create (parent must exist, key unique per level), read, rename.
    let created = admin(
        &s,
        &op,
        Method::POST,
        "/tenants/acme/places/banks",
        Some(json!({"key": "b9", "name": "Bank 9", "parent": "s1"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!((created.body["level"].clone(), created.body["parent"].clone()), (json!("bank"), json!("s1")));
    let dup =
        admin(&s, &op, Method::POST, "/tenants/acme/places/banks", Some(json!({"key": "b9", "parent": "s2"}))).await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    let orphan =
        admin(&s, &op, Method::POST, "/tenants/acme/places/lockers", Some(json!({"key": "l9", "parent": "nope"})))
            .await;
    assert_eq!(orphan.status, 400, "{}", orphan.body);
    assert!(orphan.body["detail"].as_str().unwrap().contains("the bank 'nope'"), "{}", orphan.body);
    let bad = admin(&s, &op, Method::PUT, "/tenants/acme/places", Some(json!({"locations": [{"key": ""}]}))).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let r = admin(&s, &op, Method::PATCH, "/tenants/acme/places/banks/b9", Some(json!({"name": "Bank nine"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(admin(&s, &op, Method::GET, "/tenants/acme/places/banks/b9", None).await.body["name"], "Bank nine");
    assert_eq!(
        admin(&s, &op, Method::PATCH, "/tenants/acme/places/banks/b0", Some(json!({"name": "x"}))).await.status,
        404
    );
    assert_eq!(admin(&s, &op, Method::GET, "/tenants/acme/places/shelves/x", None).await.status, 404);
    // Deleting a parent with children is refused unless asked to cascade.
    let refused = admin(&s, &op, Method::DELETE, "/tenants/acme/places/locations/hq", None).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("cascade"), "{}", refused.body);
    let leaf = admin(&s, &op, Method::DELETE, "/tenants/acme/places/banks/b9", None).await;
    assert_eq!(leaf.body["deleted"], 1);
    let all = admin(&s, &op, Method::DELETE, "/tenants/acme/places/locations/hq?cascade=true", None).await;
    assert_eq!(all.body["deleted"], 5, "hq, s1, b1 and its two lockers: {}", all.body);
    let left = admin(&s, &op, Method::GET, "/tenants/acme/places", None).await;
    assert_eq!(left.body["locations"].as_array().unwrap().len(), 1);
    // The changes are in the tenant's audit trail.
    let events = admin(&s, &op, Method::GET, "/tenants/acme/audit/events?limit=100", None).await;
    let ops: Vec<String> = events
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["op"].as_str().unwrap(), e["rtype"].as_str().unwrap_or("-")))
        .collect();
    for want in ["import Places", "add Bank", "rename Bank", "remove Location"] {
        assert!(ops.iter().any(|o| o == want), "{want} in {ops:?}");
    }
}

#[tokio::test]
async fn access_follows_group_membership_nesting_and_activity() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let ada = s.create_user("ada").await;
    let bob = s.create_user("bob").await;
    let ada_id = ada["id"].as_str().unwrap();
    with_tree(&s, &op).await;
    let staff = s.create_group("Staff", &[]).await;
    let night = s.create_group("Night", &[]).await;
    let staff_id = staff["id"].as_str().unwrap();
    // Groups are named by displayName (or id) when granting.
    for (group, bank) in [("Staff", "b1"), (night["id"].as_str().unwrap(), "b3")] {
        let r = admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": group, "bank": bank}))).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let again =
        admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Staff", "bank": "b1"}))).await;
    assert_eq!((again.status, again.body["granted"].clone()), (200, json!(false)));
    let nope =
        admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Ghosts", "bank": "b1"}))).await;
    assert_eq!(nope.status, 404, "{}", nope.body);
    let access = |user: &'static str| {
        let (s, op) = (&s, op.clone());
        async move { admin(s, &op, Method::GET, &format!("/tenants/acme/users/{user}/access"), None).await.body }
    };
    assert_eq!(access("ada").await, json!({"banks": [], "lockers": []}));
    // Gained by PATCHing the group.
    let r = s
        .patch_group(
            &format!("/Groups/{staff_id}"),
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ada_id}]}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(access("ada").await, json!({"banks": ["b1"], "lockers": ["l1", "l2"]}));
    // Through nesting: Night inside Staff? No: Staff inside Night gives Staff's members Night's
    // banks.
    let r = s
        .patch_group(
            &format!("/Groups/{}", night["id"].as_str().unwrap()),
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": staff_id, "type": "Group"}]}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(access("ada").await, json!({"banks": ["b1", "b3"], "lockers": ["l1", "l2", "l4"]}));
    assert_eq!(access("bob").await, json!({"banks": [], "lockers": []}));
    // Who may use a bank.
    let users = admin(&s, &op, Method::GET, "/tenants/acme/places/banks/b3/users", None).await;
    assert_eq!(users.body["totalResults"], 1, "{}", users.body);
    assert_eq!(users.body["users"][0]["userName"], "ada");
    // Lost by deactivation, and back.
    let off = s
        .patch(&format!("/Users/{ada_id}"), &patch_op(json!([{"op": "replace", "path": "active", "value": false}])))
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(access("ada").await, json!({"banks": [], "lockers": []}));
    assert_eq!(admin(&s, &op, Method::GET, "/tenants/acme/places/banks/b1/users", None).await.body["totalResults"], 0);
    s.patch(&format!("/Users/{ada_id}"), &patch_op(json!([{"op": "replace", "path": "active", "value": true}]))).await;
    // Lost by removal from the group, and by revoking.
    let r = s
        .patch_group(
            &format!("/Groups/{staff_id}"),
            &patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{ada_id}\"]")}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(access("ada").await, json!({"banks": [], "lockers": []}));
    let bob_id = bob["id"].as_str().unwrap();
    s.patch_group(
        &format!("/Groups/{staff_id}"),
        &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": bob_id}]}])),
    )
    .await;
    assert_eq!(access("bob").await["banks"], json!(["b1", "b3"]));
    let r = admin(&s, &op, Method::DELETE, "/tenants/acme/access", Some(json!({"group": "Staff", "bank": "b1"}))).await;
    assert_eq!(r.body["revoked"], true, "{}", r.body);
    assert_eq!(access("bob").await, json!({"banks": ["b3"], "lockers": ["l4"]}));
    let links = admin(&s, &op, Method::GET, "/tenants/acme/access", None).await;
    assert_eq!(links.body.as_array().unwrap().len(), 1, "{}", links.body);
    // Deleting the group or the bank removes the links.
    assert_eq!(s.delete(&format!("/Groups/{}", night["id"].as_str().unwrap())).await.status, 204);
    assert_eq!(access("bob").await, json!({"banks": [], "lockers": []}));
    assert_eq!(admin(&s, &op, Method::GET, "/tenants/acme/users/nobody/access", None).await.status, 404);
}

#[tokio::test]
async fn in_the_locker_preset_access_comes_from_groups_set_on_the_user() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let preset = scimd_server::presets::preset("locker").unwrap();
    let r = admin(&s, &op, Method::PUT, "/tenants/acme/profile", Some(preset)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The preset's groups are the operator's (never made over SCIM).
    let staff =
        admin(&s, &op, Method::POST, "/tenants/acme/groups", Some(json!({"displayName": "Dock workers"}))).await;
    assert_eq!(staff.status, 201, "{}", staff.body);
    let staff = staff.body;
    with_tree(&s, &op).await;
    let r = admin(&s, &op, Method::POST, "/tenants/acme/access", Some(json!({"group": "Dock workers", "bank": "b2"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = s.tenant_token("acme").await;
    let created = s
        .send(s.client.post(s.root("/api/users")).bearer_auth(&token).json(&json!({
            "userName": "dock.worker", "groups": [{"value": staff["id"]}]})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let access = admin(&s, &op, Method::GET, "/tenants/acme/users/dock.worker/access", None).await;
    assert_eq!(access.body, json!({"banks": ["b2"], "lockers": ["l3"]}));
    let id = created.body["id"].as_str().unwrap();
    let r = s
        .send(s.client.patch(s.root(&format!("/api/users/{id}"))).bearer_auth(&token).json(&patch_op(json!([
            {"op": "remove", "path": "groups"}]))))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let access = admin(&s, &op, Method::GET, "/tenants/acme/users/dock.worker/access", None).await;
    assert_eq!(access.body, json!({"banks": [], "lockers": []}));
}

/// Waits (bounded) until the user's places extension reads `want`.
async fn eventually(s: &TestServer, id: &str, want: Value) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = s.get(&format!("/Users/{id}")).await.body;
        if last.get(PLACES).cloned().unwrap_or(Value::Null) == want {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("user {id} never got {want}: {last}");
}

#[tokio::test]
async fn location_rules_decide_users_locations_and_home_and_are_recomputed_when_they_change() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let user = |name: &str, city: &str, lang: &str| json!({"userName": name, "addresses": [{"locality": city}], "preferredLanguage": lang});
    let ada = s.post("/Users", &user("ada", "Amsterdam", "nl")).await.body;
    let ada_id = ada["id"].as_str().unwrap().to_string();
    assert_eq!(ada.get(PLACES), None, "no places, no extension");
    with_tree(&s, &op).await;
    let r = |attr: &str, op: &str, v: &str| json!({"attribute": attr, "op": op, "value": v});
    // hq: Dutch speakers or people in Utrecht; home for those in Amsterdam.
    let hq = json!({"provision": "rules", "match": "any", "rules": [r("language", "equals", "NL"), r("locality", "contains", "trecht")],
                    "home": {"rules": [r("locality", "equals", "amsterdam")]}});
    let set = admin(&s, &op, Method::PUT, "/tenants/acme/places/locations/hq/rules", Some(hq)).await;
    assert_eq!(set.status, 200, "{}", set.body);
    // depot: everyone not in Amsterdam, and speaking English.
    let depot = json!({"provision": "rules", "match": "all", "rules": [r("locality", "not_contains", "dam"), r("language", "equals", "en")],
                       "home": {"match": "any", "rules": [r("language", "equals", "en")]}});
    assert_eq!(
        admin(&s, &op, Method::PUT, "/tenants/acme/places/locations/depot/rules", Some(depot)).await.status,
        200
    );
    let bad =
        admin(&s, &op, Method::PUT, "/tenants/acme/places/locations/hq/rules", Some(json!({"provision": "rules"})))
            .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = admin(&s, &op, Method::PUT, "/tenants/acme/places/banks/b1/rules", Some(json!({}))).await;
    assert_eq!(bad.status, 404, "{}", bad.body);
    // The existing user is recomputed in the background.
    eventually(&s, &ada_id, json!({"locations": ["hq"], "homeLocation": "hq"})).await;
    // New and changed users get theirs with the write.
    let cases = [
        (user("bea", "Utrecht", "de"), json!({"locations": ["hq"]})),
        (user("cas", "London", "en"), json!({"locations": ["depot"], "homeLocation": "depot"})),
        (user("dirk", "Rotterdam", "nl"), json!({"locations": ["hq"]})),
        (user("eve", "Schiedam", "en"), Value::Null),
    ];
    let mut ids = Vec::new();
    for (body, want) in cases {
        let c = s.post("/Users", &body).await;
        assert_eq!(c.status, 201, "{}", c.body);
        assert_eq!(c.body.get(PLACES).cloned().unwrap_or(Value::Null), want, "{}", c.body);
        ids.push(c.body["id"].as_str().unwrap().to_string());
    }
    let moved = s
        .patch(
            &format!("/Users/{}", ids[3]),
            &patch_op(json!([{"op": "replace", "path": "addresses", "value": [{"locality": "Leeds"}]}])),
        )
        .await;
    assert_eq!(moved.body[PLACES], json!({"locations": ["depot"], "homeLocation": "depot"}), "{}", moved.body);
    // The extension is read-only, listed in /Schemas, and filterable.
    let forged = s
        .patch(
            &format!("/Users/{}", ids[0]),
            &patch_op(json!([{"op": "replace", "path": format!("{PLACES}:locations"), "value": ["depot"]}])),
        )
        .await;
    forged.assert_error(400, Some("mutability"));
    let schemas = s.get("/Schemas").await;
    assert!(schemas.body["Resources"].as_array().unwrap().iter().any(|x| x["id"] == PLACES), "{}", schemas.body);
    let in_hq = s.get(&format!("/Users?filter={}", enc(&format!("{PLACES}:locations eq \"hq\"")))).await;
    assert_eq!(in_hq.body["totalResults"], 3, "{}", in_hq.body);
    let home_depot = s.get(&format!("/Users?filter={}", enc(&format!("{PLACES}:homeLocation eq \"depot\"")))).await;
    assert_eq!(home_depot.body["totalResults"], 2, "{}", home_depot.body);
    // The admin API answers from the current rules.
    let of = admin(&s, &op, Method::GET, "/tenants/acme/users/cas/places", None).await;
    assert_eq!(of.body, json!({"locations": ["depot"], "home": "depot"}));
    // A rule change recomputes everyone: hq now provisions all users, home for nobody.
    assert_eq!(
        admin(&s, &op, Method::PUT, "/tenants/acme/places/locations/hq/rules", Some(json!({"provision": "all"})))
            .await
            .status,
        200
    );
    eventually(&s, &ada_id, json!({"locations": ["hq"]})).await;
    eventually(&s, &ids[1], json!({"locations": ["depot", "hq"], "homeLocation": "depot"})).await;
    eventually(&s, &ids[3], json!({"locations": ["depot", "hq"], "homeLocation": "depot"})).await;
    // Clearing a location's rules, or deleting it, takes it from everyone.
    assert_eq!(admin(&s, &op, Method::DELETE, "/tenants/acme/places/locations/depot/rules", None).await.status, 200);
    eventually(&s, &ids[1], json!({"locations": ["hq"]})).await;
    assert_eq!(
        admin(&s, &op, Method::DELETE, "/tenants/acme/places/locations/hq?cascade=true", None).await.status,
        200
    );
    let done = eventually(&s, &ada_id, Value::Null).await;
    assert_eq!(done["userName"], "ada");
}
