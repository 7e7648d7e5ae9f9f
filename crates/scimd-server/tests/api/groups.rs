//! /Groups: members stored apart, O(1) member changes, member validation, cascades.

use serde_json::{Value, json};

use crate::common::{TestServer, patch_op};

#[tokio::test]
async fn group_create_with_members_renders_value_ref_display_type() {
    let s = TestServer::start().await;
    let u = s.create_user("alice").await;
    let uid = u["id"].as_str().unwrap();
    let g = s.create_group("Team", &[uid]).await;
    assert_eq!(g["displayName"], "Team");
    assert_eq!(g["meta"]["resourceType"], "Group");
    let m = &g["members"][0];
    assert_eq!(m["value"], uid);
    assert_eq!(m["type"], "User");
    assert_eq!(m["$ref"], format!("http://{}/scim/v2/Users/{uid}", s.addr));
    assert!(m.get("display").is_none(), "members.display is returned on request only: {g}");
    let gid = g["id"].as_str().unwrap();
    let r = s.get(&format!("/Groups/{gid}?attributes=displayName,members.value,members.display")).await;
    assert_eq!(r.body["members"], serde_json::json!([{"value": uid, "display": "alice"}]));
    let r = s.get(&format!("/Groups/{gid}?attributes=members.display")).await;
    assert_eq!(r.body["members"], serde_json::json!([{"display": "alice"}]));
}

#[tokio::test]
async fn nested_groups_are_members_of_type_group() {
    let s = TestServer::start().await;
    let inner = s.create_group("Inner", &[]).await;
    let outer = s.create_group("Outer", &[inner["id"].as_str().unwrap()]).await;
    assert_eq!(outer["members"][0]["type"], "Group");
}

#[tokio::test]
async fn unknown_member_is_rejected_and_nothing_is_stored() {
    let s = TestServer::start().await;
    let r = s.post("/Groups", &json!({"displayName": "Bad", "members": [{"value": "does-not-exist"}]})).await;
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(s.get("/Groups").await.body["totalResults"], 0);
    // That write was the tenant's first group: the attribute keys it created were rolled
    // back with it. The next group must still be indexed under keys that exist.
    let g = s.create_group("Good", &[]).await;
    let found = s.get("/Groups?filter=displayName%20eq%20%22good%22").await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    assert_eq!(found.body["Resources"][0]["id"], g["id"]);
}

#[tokio::test]
async fn excluded_members_are_not_returned() {
    let s = TestServer::start().await;
    let u = s.create_user("x").await;
    let g = s.create_group("G", &[u["id"].as_str().unwrap()]).await;
    let gid = g["id"].as_str().unwrap();
    let r = s.get(&format!("/Groups/{gid}?excludedAttributes=members")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("members").is_none(), "{}", r.body);
    assert_eq!(r.body["displayName"], "G");
    let l = s.get("/Groups?excludedAttributes=members").await;
    assert!(l.body["Resources"][0].get("members").is_none());
}

#[tokio::test]
async fn patch_add_and_remove_members_touch_only_those_members() {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.create_user(&format!("m{i}")).await["id"].as_str().unwrap().to_string());
    }
    let g = s.create_group("G", &[&ids[0], &ids[1]]).await;
    let path = format!("/Groups/{}", g["id"].as_str().unwrap());
    let r = s
        .patch_group(
            &path,
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ids[2]}, {"value": ids[3]}]}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 4);
    // Entra's default removal form removes only the listed members.
    let r = s
        .patch_group(&path, &patch_op(json!([{"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got: Vec<&str> = r.body["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    assert_eq!(got.len(), 3);
    assert!(!got.contains(&ids[0].as_str()));
    // Filtered removal.
    let r = s
        .patch_group(&path, &patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])}])))
        .await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
    // Adding an existing member is idempotent.
    let r =
        s.patch_group(&path, &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ids[2]}]}]))).await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
    // Replace the whole list, then empty it.
    let r = s
        .patch_group(&path, &patch_op(json!([{"op": "replace", "path": "members", "value": [{"value": ids[4]}]}])))
        .await;
    assert_eq!(
        r.body["members"],
        json!([{"value": ids[4], "$ref": format!("http://{}/scim/v2/Users/{}", s.addr, ids[4]), "type": "User"}])
    );
    let r = s.patch_group(&path, &patch_op(json!([{"op": "replace", "path": "members", "value": []}]))).await;
    assert!(r.body.get("members").is_none() || r.body["members"] == json!([]), "{}", r.body);
    let r = s
        .patch_group(
            &path,
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ids[0]}, {"value": ids[1]}]}])),
        )
        .await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
    let r = s.patch_group(&path, &patch_op(json!([{"op": "remove", "path": "members"}]))).await;
    assert!(r.body.get("members").is_none() || r.body["members"] == json!([]), "{}", r.body);
}

#[tokio::test]
async fn deleting_a_user_removes_its_memberships() {
    let s = TestServer::start().await;
    let u = s.create_user("leaver").await;
    let stay = s.create_user("stayer").await;
    let g = s.create_group("G", &[u["id"].as_str().unwrap(), stay["id"].as_str().unwrap()]).await;
    let gpath = format!("/Groups/{}", g["id"].as_str().unwrap());
    assert_eq!(s.delete(&format!("/Users/{}", u["id"].as_str().unwrap())).await.status, 204);
    let r = s.get(&gpath).await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["members"][0]["value"], stay["id"]);
    assert_ne!(r.body["meta"]["version"], g["meta"]["version"], "membership change bumps the group's version");
}

#[tokio::test]
async fn group_put_replaces_members() {
    let s = TestServer::start().await;
    let a = s.create_user("a").await;
    let b = s.create_user("b").await;
    let g = s.create_group("G", &[a["id"].as_str().unwrap()]).await;
    let r = s
        .put(
            &format!("/Groups/{}", g["id"].as_str().unwrap()),
            &json!({"displayName": "G2", "members": [{"value": b["id"]}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "G2");
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["members"][0]["value"], b["id"]);
}

#[tokio::test]
async fn filter_groups_by_member_value() {
    let s = TestServer::start().await;
    let a = s.create_user("a").await;
    let aid = a["id"].as_str().unwrap();
    let g1 = s.create_group("With", &[aid]).await;
    s.create_group("Without", &[]).await;
    let r = s.get(&format!("/Groups?filter={}", crate::common::enc(&format!("members.value eq \"{aid}\"")))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(crate::common::ids(&r.body), vec![g1["id"].as_str().unwrap().to_string()]);
    let r = s
        .get(&format!(
            "/Users?filter={}",
            crate::common::enc(&format!("groups.value eq \"{}\"", g1["id"].as_str().unwrap()))
        ))
        .await;
    assert_eq!(crate::common::ids(&r.body), vec![aid.to_string()]);
}

/// Members and groups come back in a stable order (the order the resources were created
/// in), whatever order they were added in, on GET, in lists and after a PATCH.
#[tokio::test]
async fn members_and_groups_are_listed_in_creation_order() {
    let s = TestServer::start().await;
    let mut users = Vec::new();
    for name in ["u0", "u1", "u2", "u3", "u4"] {
        users.push(s.create_user(name).await["id"].as_str().unwrap().to_string());
    }
    let shuffled: Vec<&str> = [3, 0, 4, 1].iter().map(|&i| users[i].as_str()).collect();
    let g = s.create_group("G", &shuffled).await;
    let gid = g["id"].as_str().unwrap().to_string();
    let values = |v: &serde_json::Value, attr: &str| -> Vec<String> {
        v[attr].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_string()).collect()
    };
    let expected: Vec<String> = [0, 1, 3, 4].iter().map(|&i| users[i].clone()).collect();
    assert_eq!(values(&g, "members"), expected);
    assert_eq!(values(&s.get(&format!("/Groups/{gid}")).await.body, "members"), expected);
    let listed = s.get("/Groups?filter=displayName%20eq%20%22G%22").await.body;
    assert_eq!(values(&listed["Resources"][0], "members"), expected);
    let patched = s
        .patch_group(
            &format!("/Groups/{gid}"),
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": users[2]}]}])),
        )
        .await;
    assert_eq!(values(&patched.body, "members"), users);

    // A user's groups, likewise.
    let mut groups = Vec::new();
    for name in ["g0", "g1", "g2"] {
        groups.push(s.create_group(name, &[]).await["id"].as_str().unwrap().to_string());
    }
    for i in [2, 0, 1] {
        let add = json!([{"op": "add", "path": "members", "value": [{"value": users[0]}]}]);
        assert_eq!(s.patch_group(&format!("/Groups/{}", groups[i]), &patch_op(add)).await.status, 200);
    }
    let mut expected = vec![gid.clone()];
    expected.extend(groups.iter().cloned());
    let user = s.get(&format!("/Users/{}", users[0])).await.body;
    assert_eq!(values(&user, "groups"), expected);
    let listed = s.get("/Users?filter=userName%20eq%20%22u0%22").await.body;
    assert_eq!(values(&listed["Resources"][0], "groups"), expected);
}

/// A removal filter on something other than member ids (`members[display eq …]`,
/// `members[type eq …]`) deletes exactly the matching members.
#[tokio::test]
async fn members_removed_by_a_filter_on_their_display_or_type() {
    let s = TestServer::start().await;
    let ada = s.post("/Users", &json!({"userName": "ada", "displayName": "Ada"})).await.body;
    let bob = s.post("/Users", &json!({"userName": "bob", "displayName": "Bob"})).await.body;
    let sub = s.create_group("Sub", &[]).await;
    let ids = [&ada, &bob, &sub].map(|r| r["id"].as_str().unwrap().to_string());
    let g = s.create_group("Team", &[&ids[0], &ids[1], &ids[2]]).await;
    let path = format!("/Groups/{}", g["id"].as_str().unwrap());
    let members = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> =
            r["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let r = s.patch_group(&path, &patch_op(json!([{"op": "remove", "path": "members[display eq \"Ada\"]"}]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut want = vec![ids[1].clone(), ids[2].clone()];
    want.sort();
    assert_eq!(members(&r.body), want);
    let r = s.patch_group(&path, &patch_op(json!([{"op": "remove", "path": "members[type eq \"Group\"]"}]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(members(&r.body), vec![ids[1].clone()]);
}

/// A group PATCH naming neither `attributes` nor `excludedAttributes` (as Entra ID and Okta
/// send it) answers 204 No Content with the new ETag: the member list is neither loaded nor
/// sent. Naming either gets the group (200, as RFC 7644 requires for `attributes`); a user
/// PATCH gets the user; a profile may keep the group in every answer.
#[tokio::test]
async fn a_group_patch_answers_no_content_unless_the_group_is_asked_for() {
    let s = TestServer::start().await;
    let a = s.create_user("a").await["id"].as_str().unwrap().to_string();
    let b = s.create_user("b").await["id"].as_str().unwrap().to_string();
    let g = s.create_group("G", &[&a]).await;
    let path = format!("/Groups/{}", g["id"].as_str().unwrap());
    let before = s.get(&path).await.header("etag").unwrap().to_string();
    let add = |id: &str| patch_op(json!([{"op": "add", "path": "members", "value": [{"value": id}]}]));
    let r = s.patch(&path, &add(&b)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.body.is_null());
    let etag = r.header("etag").unwrap().to_string();
    assert_ne!(etag, before);
    let got = s.get(&path).await;
    assert_eq!(got.header("etag"), Some(etag.as_str()));
    assert_eq!(got.body["members"].as_array().unwrap().len(), 2);
    // The ETag answered is the one a conditional PATCH must name.
    let stale = s
        .req(reqwest::Method::PATCH, &path)
        .header("if-match", &before)
        .header("content-type", "application/scim+json");
    assert_eq!(s.send(stale.body(add(&a).to_string())).await.status, 412);
    let fresh =
        s.req(reqwest::Method::PATCH, &path).header("if-match", &etag).header("content-type", "application/scim+json");
    assert_eq!(s.send(fresh.body(add(&a).to_string())).await.status, 204);

    let r = s.patch(&format!("{path}?attributes=members"), &add(&a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
    let r = s.patch(&format!("{path}?excludedAttributes=members"), &add(&a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["displayName"], "G");
    assert!(r.body.get("members").is_none(), "{}", r.body);
    let r = s
        .patch(&format!("/Users/{a}"), &patch_op(json!([{"op": "replace", "path": "displayName", "value": "A"}])))
        .await;
    assert_eq!((r.status, r.body["displayName"].as_str()), (200, Some("A")));

    let op = s.operator_token().await;
    let r = s
        .send(
            s.client
                .put(s.root("/admin/v1/tenants/acme/profile"))
                .bearer_auth(&op)
                .json(&json!({"group_patch_resource": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.patch(&path, &add(&a)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
}
