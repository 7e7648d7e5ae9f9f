//! Two provisioning sources for one tenant (an identity provider for employees, a sync
//! script for contractors), as clients see them over HTTP: each source's `externalId`s are
//! its own (RFC 7643 §3.1), a source cannot change another's resources (403, RFC 7644
//! §3.12), a client in no source reads but does not write, and the memberships the operator
//! makes in the portal are kept apart from those made over SCIM.

use serde_json::{Value, json};

use super::common::{TestServer, enc, patch_op};
use super::events::add_stream;
use super::portal::{OPERATOR_PASSWORD, operator};
use super::portal_client::Browser;

/// The tenant `acme`'s tokens: `entra` (the default source), `contractors`, and a client
/// in neither; and `old`, a user made before the tenant declared its sources.
struct Sources {
    s: TestServer,
    entra: String,
    contractors: String,
    unlisted: String,
    old: String,
    /// The token ids of `entra` and `contractors` (their callers are `token:<id>`).
    ids: (i64, i64),
}

async fn token(s: &TestServer, op: &str) -> (String, i64) {
    let r = s.send(s.client.post(s.root("/admin/v1/tenants/acme/tokens")).bearer_auth(op).json(&json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (r.body["token"].as_str().unwrap().to_string(), r.body["id"].as_i64().unwrap())
}

async fn set_profile(s: &TestServer, op: &str, profile: &Value) -> (u16, Value) {
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/acme/profile")).bearer_auth(op).json(profile)).await;
    (r.status, r.body)
}

async fn two_sources(extra: Value) -> Sources {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let old = s.post("/Users", &json!({"userName": "old", "externalId": "1001"})).await;
    assert_eq!(old.status, 201, "{}", old.body);
    let (entra, e) = token(&s, &op).await;
    let (contractors, c) = token(&s, &op).await;
    let (unlisted, _) = token(&s, &op).await;
    let mut profile = json!({"sources": [
        {"name": "entra", "clients": [format!("token:{e}")], "default": true},
        {"name": "contractors", "clients": [format!("token:{c}")]},
    ]});
    for (k, v) in extra.as_object().into_iter().flatten() {
        profile[k] = v.clone();
    }
    let (status, body) = set_profile(&s, &op, &profile).await;
    assert_eq!(status, 200, "{body}");
    let old = old.body["id"].as_str().unwrap().to_string();
    Sources { s, entra, contractors, unlisted, old, ids: (e, c) }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn created(s: &TestServer, token: &str, path: &str, body: Value) -> String {
    let r = s.post_as(token, path, &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    id(&r.body)
}

async fn by_external_id(s: &TestServer, token: &str, x: &str) -> Vec<String> {
    let r = s.get_as(token, &format!("/Users?filter={}", enc(&format!("externalId eq \"{x}\"")))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ids: Vec<String> = r.body["Resources"].as_array().unwrap().iter().map(id).collect();
    ids.sort();
    ids
}

async fn put_as(s: &TestServer, token: &str, path: &str, body: &Value) -> super::common::Resp {
    s.send(
        s.client
            .put(s.url(path))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(body.to_string()),
    )
    .await
}

async fn members(s: &TestServer, token: &str, group: &str) -> Vec<String> {
    let g = s.get_as(token, &format!("/Groups/{group}")).await;
    assert_eq!(g.status, 200, "{}", g.body);
    let mut ids: Vec<String> =
        g.body["members"].as_array().into_iter().flatten().map(|m| m["value"].as_str().unwrap().into()).collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn sources_external_ids_are_each_sources_own_and_the_default_sees_unowned_ones() {
    let Sources { s, entra, contractors, old, .. } = two_sources(json!({})).await;
    let a = created(&s, &entra, "/Users", json!({"userName": "ann", "externalId": "1001"})).await;
    let b = created(&s, &contractors, "/Users", json!({"userName": "bob", "externalId": "1001"})).await;
    assert_ne!(a, b, "two sources' externalId 1001 are two users");
    assert_eq!(by_external_id(&s, &entra, "1001").await, sorted(vec![a.clone(), old.clone()]), "the default source");
    assert_eq!(by_external_id(&s, &contractors, "1001").await, vec![b.clone()]);
    // Inside a larger filter, and as a predicate of an `and`.
    let both = "externalId eq \"1001\" and userName sw \"b\"";
    let r = s.get_as(&contractors, &format!("/Users?filter={}", enc(both))).await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    let r = s.get_as(&entra, &format!("/Users?filter={}", enc(both))).await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.body);
    // Other attributes are not scoped: every source sees the whole directory.
    let r = s.get_as(&contractors, "/Users").await;
    assert_eq!(r.body["totalResults"], 3, "{}", r.body);
    assert_eq!(s.get_as(&contractors, &format!("/Users/{a}")).await.status, 200);
    assert_eq!(s.sql_i64("SELECT count(*) FROM resources WHERE source = 'contractors'").await, 1);
    assert_eq!(s.sql_i64("SELECT count(*) FROM resources WHERE source IS NULL").await, 1);
}

#[tokio::test]
async fn sources_a_source_cannot_change_another_sources_resources_and_an_unlisted_client_only_reads() {
    let Sources { s, entra, contractors, unlisted, old, .. } = two_sources(json!({})).await;
    let a = created(&s, &entra, "/Users", json!({"userName": "ann", "externalId": "e1"})).await;
    let path = format!("/Users/{a}");
    let rename = patch_op(json!([{"op": "replace", "path": "displayName", "value": "X"}]));
    let r = s.patch_as(&contractors, &path, &rename).await;
    r.assert_error(403, None);
    assert!(r.body["detail"].as_str().unwrap().contains("managed by the provisioning source 'entra'"), "{}", r.body);
    put_as(&s, &contractors, &path, &json!({"userName": "ann"})).await.assert_error(403, None);
    let del = s.send(s.client.delete(s.url(&path)).bearer_auth(&contractors)).await;
    del.assert_error(403, None);
    let got = s.get_as(&entra, &path).await;
    assert_eq!(got.body["meta"]["version"], "W/\"1\"", "nothing changed: {}", got.body);
    assert!(got.body.get("displayName").is_none());
    // Resources of no source: the default source changes them, the others do not.
    let old_path = format!("/Users/{old}");
    s.patch_as(&contractors, &old_path, &rename).await.assert_error(403, None);
    assert_eq!(s.patch_as(&entra, &old_path, &rename).await.status, 200);
    // Its own resources, a source changes; a group too.
    let g = created(&s, &contractors, "/Groups", json!({"displayName": "Crew"})).await;
    let gpatch = patch_op(json!([{"op": "replace", "path": "displayName", "value": "Crew 2"}]));
    s.patch_as(&entra, &format!("/Groups/{g}"), &gpatch).await.assert_error(403, None);
    assert!(matches!(s.patch_as(&contractors, &format!("/Groups/{g}"), &gpatch).await.status, 200 | 204));
    // A client in no source reads, and writes nothing.
    assert_eq!(s.get_as(&unlisted, &path).await.status, 200);
    assert_eq!(s.get_as(&unlisted, "/Users").await.status, 200);
    let r = s.post_as(&unlisted, "/Users", &json!({"userName": "zed"})).await;
    r.assert_error(403, None);
    assert!(r.body["detail"].as_str().unwrap().contains("not one of the tenant's provisioning sources"), "{}", r.body);
    s.patch_as(&unlisted, &old_path, &rename).await.assert_error(403, None);
    assert_eq!(s.sql_i64("SELECT count(*) FROM resources WHERE rtype = 1").await, 2, "zed was not made");
    // The operator (here the server's own tenant token is a client in no source too).
    s.post("/Users", &json!({"userName": "zed"})).await.assert_error(403, None);
}

#[tokio::test]
async fn sources_profile_declarations_are_checked() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    let bad = [
        (json!([{"name": "Entra", "clients": ["c1"]}]), "not a source name"),
        (json!([{"name": "a", "clients": ["c1"]}, {"name": "a", "clients": ["c2"]}]), "declared twice"),
        (json!([{"name": "a", "clients": ["c1"]}, {"name": "b", "clients": ["c1"]}]), "is in both 'a' and 'b'"),
        (
            json!([{"name": "a", "clients": ["c1"], "default": true}, {"name": "b", "clients": ["c2"], "default": true}]),
            "at most one source is the default",
        ),
    ];
    for (sources, why) in bad {
        let (status, body) = set_profile(&s, &op, &json!({"sources": sources})).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.to_string().contains(why), "{why}: {body}");
    }
    // Nothing changed: the tenant's clients still write.
    assert_eq!(s.post("/Users", &json!({"userName": "ann"})).await.status, 201);
}

#[tokio::test]
async fn sources_the_operators_memberships_and_those_made_over_scim_are_kept_apart() {
    let Sources { s, entra, .. } = two_sources(json!({})).await;
    add_stream(&s, "poll", None, Value::Null).await;
    let u1 = created(&s, &entra, "/Users", json!({"userName": "u1"})).await;
    let u2 = created(&s, &entra, "/Users", json!({"userName": "u2"})).await;
    let u3 = created(&s, &entra, "/Users", json!({"userName": "u3"})).await;
    let g = created(&s, &entra, "/Groups", json!({"displayName": "Team", "members": [{"value": u1}]})).await;
    // The operator adds u1 (a member already) and u2 in the portal.
    operator(&s, "root").await;
    let mut b = Browser::new(&s);
    let csrf = b.sign_in_operator("root", OPERATOR_PASSWORD).await.csrf();
    for name in ["u1", "u2"] {
        let add = b.post(&format!("/portal/t/acme/groups/{g}/members"), &[("_csrf", &csrf), ("userName", name)]).await;
        assert_eq!(add.status, 303, "{}", add.body);
    }
    assert_eq!(members(&s, &entra, &g).await, sorted(vec![u1.clone(), u2.clone()]));
    // Entra replaces the members with u3: the operator's u1 and u2 stay.
    let put =
        put_as(&s, &entra, &format!("/Groups/{g}"), &json!({"displayName": "Team", "members": [{"value": u3}]})).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(members(&s, &entra, &g).await, sorted(vec![u1.clone(), u2.clone(), u3.clone()]));
    // Entra removes u1, which the operator added too: it stays, and no membership event
    // is written (the group's version still moves).
    let events = "SELECT count(*) FROM events WHERE payload LIKE '%members%'";
    let before = s.sql_i64(events).await;
    let remove = |u: &str| patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}]));
    let r = s.patch_as(&entra, &format!("/Groups/{g}"), &remove(&u1)).await;
    assert!(matches!(r.status, 200 | 204), "{}", r.body);
    assert_eq!(members(&s, &entra, &g).await, sorted(vec![u1.clone(), u2.clone(), u3.clone()]));
    assert_eq!(s.sql_i64(events).await, before, "a removal that only cleared a bit is no membership change");
    // The operator removes u3, which only Entra added: it stays; then u1: now it goes.
    for u in [&u3, &u1] {
        let out = b.post(&format!("/portal/t/acme/groups/{g}/members/remove"), &[("_csrf", &csrf), ("user", u)]).await;
        assert_eq!(out.status, 303, "{}", out.body);
    }
    assert_eq!(members(&s, &entra, &g).await, sorted(vec![u2.clone(), u3.clone()]));
    assert!(s.sql_i64(events).await > before, "a real removal is an event");
    // Who made each membership: u2 the operator (2), u3 over SCIM (1).
    assert_eq!(s.sql_i64("SELECT sum(origins) FROM members").await, 3);
}

#[tokio::test]
async fn sources_a_users_groups_keep_the_operators_memberships_too() {
    let Sources { s, entra, .. } = two_sources(json!({"user_groups_settable": true})).await;
    let g1 = created(&s, &entra, "/Groups", json!({"displayName": "One"})).await;
    let g2 = created(&s, &entra, "/Groups", json!({"displayName": "Two"})).await;
    let u = created(&s, &entra, "/Users", json!({"userName": "ann", "groups": [{"value": g1}]})).await;
    operator(&s, "root").await;
    let mut b = Browser::new(&s);
    let csrf = b.sign_in_operator("root", OPERATOR_PASSWORD).await.csrf();
    let add = b.post(&format!("/portal/t/acme/groups/{g2}/members"), &[("_csrf", &csrf), ("userName", "ann")]).await;
    assert_eq!(add.status, 303, "{}", add.body);
    // Entra's PUT of the user names no groups: the operator's membership of Two stays.
    let put = put_as(&s, &entra, &format!("/Users/{u}"), &json!({"userName": "ann", "groups": []})).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(members(&s, &entra, &g1).await, Vec::<String>::new());
    assert_eq!(members(&s, &entra, &g2).await, vec![u.clone()]);
}

#[tokio::test]
async fn sources_re_provisioning_by_external_id_stays_in_the_source() {
    let Sources { s, entra, contractors, .. } = two_sources(json!({"reprovision": "restore"})).await;
    let ann = created(&s, &entra, "/Users", json!({"userName": "ann", "externalId": "7"})).await;
    let del = s.send(s.client.delete(s.url(&format!("/Users/{ann}"))).bearer_auth(&entra)).await;
    assert_eq!(del.status, 204, "{}", del.body);
    // Another source's externalId 7 is another identity: a new user, not Entra's ann.
    let bob = created(&s, &contractors, "/Users", json!({"userName": "bob", "externalId": "7"})).await;
    assert_ne!(bob, ann);
    // Entra's own externalId 7 brings ann back under her id.
    let again = created(&s, &entra, "/Users", json!({"userName": "ann2", "externalId": "7"})).await;
    assert_eq!(again, ann, "restored by the source's externalId");
    // An inactive user found by externalId: only among the caller's source's users.
    let off = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    assert!(matches!(s.patch_as(&contractors, &format!("/Users/{bob}"), &off).await.status, 200 | 204));
    let carl = created(&s, &entra, "/Users", json!({"userName": "carl", "externalId": "7"})).await;
    assert!(carl != bob && carl != ann, "Entra's POST does not take the contractors' inactive bob");
    let bob2 = created(&s, &contractors, "/Users", json!({"userName": "bob", "externalId": "7"})).await;
    assert_eq!(bob2, bob, "the contractors' own inactive bob comes back");
}

#[tokio::test]
async fn sources_a_client_moved_to_another_source_writes_as_that_source() {
    let Sources { s, entra, contractors, ids: (e, c), .. } = two_sources(json!({})).await;
    let ann = created(&s, &entra, "/Users", json!({"userName": "ann", "externalId": "e1"})).await;
    let rename = patch_op(json!([{"op": "replace", "path": "displayName", "value": "Ann"}]));
    s.patch_as(&contractors, &format!("/Users/{ann}"), &rename).await.assert_error(403, None);
    let op = s.operator_token().await;
    let moved = json!({"sources": [{"name": "entra", "clients": [format!("token:{e}"), format!("token:{c}")], "default": true}]});
    let (status, body) = set_profile(&s, &op, &moved).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.patch_as(&contractors, &format!("/Users/{ann}"), &rename).await.status, 200);
    assert_eq!(by_external_id(&s, &contractors, "e1").await, vec![ann]);
}
