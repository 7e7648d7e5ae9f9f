//! Tenant profiles: resource types and operations offered per tenant, with the
//! refusals a client sees and discovery telling the truth; DELETE that deactivates; the
//! tenant's page sizes; profiles set, read and validated through the admin API.

use serde_json::{Value, json};

use crate::common::{Resp, TestServer, patch_op};

async fn operator(s: &TestServer) -> String {
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(scimd_server::clock::SystemClock));
    admin.create_admin_token(None).await.unwrap().token
}

/// A server whose tenant `acme` has this profile (set before any SCIM request).
async fn with_profile(profile: Value) -> TestServer {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/acme/profile")).bearer_auth(&op).json(&profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    s
}

#[track_caller]
fn refused(r: &Resp, status: u16, words: &str) {
    r.assert_error(status, None);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(words), "detail '{detail}' should say '{words}'");
}

#[tokio::test]
async fn read_only_groups_refuse_every_change_and_say_what_is_allowed() {
    // Groups are configured by administrators only.
    let s = with_profile(json!({"groups": {"create": false, "replace": false, "patch": false, "delete": false}})).await;
    refused(&s.post("/Groups", &json!({"displayName": "Staff"})).await, 405, "allows: GET");
    // Reads work (an empty list), users are untouched.
    assert_eq!(s.get("/Groups").await.status, 200);
    let u = s.create_user("ada").await;
    let uid = u["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/Users/{uid}")).await.status, 200);
    refused(
        &s.patch("/Groups/some-id", &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}])))
            .await,
        405,
        "cannot be patched",
    );
    refused(&s.put("/Groups/some-id", &json!({"displayName": "X"})).await, 405, "cannot be replaced");
    refused(&s.delete("/Groups/some-id").await, 405, "cannot be deleted");
    // Still offered, so still discovered.
    let types = s.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 2, "{}", types.body);
}

#[tokio::test]
async fn a_users_only_tenant_has_no_groups_endpoint_and_discovery_says_so() {
    let s = with_profile(json!({"groups": {"offered": false}})).await;
    for r in [s.get("/Groups").await, s.post("/Groups", &json!({"displayName": "X"})).await] {
        refused(&r, 404, "no /Groups endpoint");
    }
    let types = s.get("/ResourceTypes").await;
    assert_eq!(types.body["totalResults"], 1, "{}", types.body);
    assert_eq!(types.body["Resources"][0]["name"], "User");
    assert_eq!(s.get("/ResourceTypes/Group").await.status, 404);
    // The root search covers users only.
    s.create_user("grace").await;
    let found = s.post("/.search", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["totalResults"], 1);
}

#[tokio::test]
async fn a_patch_only_tenant_reads_and_patches_users_and_nothing_else() {
    // Only PATCH on users, plus reads.
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let profile = json!({"users": {"create": false, "replace": false, "delete": false}, "groups": {"offered": false}});
    let other = s.tenant_token("staffing").await;
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/staffing/profile")).bearer_auth(&op).json(&profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let kim = s.post_as(&other, "/Users", &json!({"userName": "kim"})).await;
    refused(&kim, 405, "cannot be created");
    // Acme (default profile) still creates; staffing reads, patches, and is refused the rest.
    let acme_user = s.create_user("lee").await;
    assert!(acme_user["id"].is_string());
    let listed = s.get_as(&other, "/Users").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["totalResults"], 0);
    let deleted = s.send(s.client.delete(s.url("/Users/any")).bearer_auth(&other)).await;
    refused(&deleted, 405, "allows: GET, PATCH");
    let put = s
        .send(
            s.client
                .put(s.url("/Users/any"))
                .bearer_auth(&other)
                .header("content-type", "application/scim+json")
                .json(&json!({"userName": "x"})),
        )
        .await;
    refused(&put, 405, "cannot be replaced");
    // A PATCH is allowed: it reaches the resource (404 for an unknown id, not 405).
    let patched = s
        .patch_as(&other, "/Users/unknown-id", &patch_op(json!([{"op": "replace", "path": "active", "value": false}])))
        .await;
    patched.assert_error(404, None);
}

#[tokio::test]
async fn delete_deactivates_a_user_that_stays_readable() {
    let s = with_profile(json!({"delete_deactivates": true})).await;
    let u = s.create_user("leaver").await;
    let id = u["id"].as_str().unwrap();
    let r = s.delete(&format!("/Users/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let after = s.get(&format!("/Users/{id}")).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["active"], false);
    assert_ne!(after.body["meta"]["version"], u["meta"]["version"]);
    // Deleting again is the same (idempotent); an unknown id is still 404.
    assert_eq!(s.delete(&format!("/Users/{id}")).await.status, 204);
    s.delete("/Users/nobody").await.assert_error(404, None);
    // Groups are still removed.
    let g = s.create_group("Temp", &[]).await;
    let gid = g["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/Groups/{gid}")).await.status, 204);
    assert_eq!(s.get(&format!("/Groups/{gid}")).await.status, 404);
}

#[tokio::test]
async fn the_tenants_page_sizes_apply() {
    // 10 per page by default, up to 5,000.
    let s = with_profile(json!({"default_page_size": 10, "max_page_size": 5000})).await;
    for i in 0..12 {
        s.create_user(&format!("u{i}")).await;
    }
    let page = s.get("/Users").await;
    assert_eq!(page.body["itemsPerPage"], 10, "{}", page.body);
    assert_eq!(page.body["totalResults"], 12);
    let all = s.get("/Users?count=5000").await;
    assert_eq!(all.body["itemsPerPage"], 12, "{}", all.body);
}

#[tokio::test]
async fn profiles_are_validated_read_and_reset_through_the_admin_api() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let url = s.root("/admin/v1/tenants/acme/profile");
    let got = s.send(s.client.get(&url).bearer_auth(&op)).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["users"]["create"], true, "every setting spelled out: {}", got.body);
    assert_eq!(got.body["delete_deactivates"], false);
    for (bad, words) in [
        (json!({"no_such_setting": 1}), "no_such_setting"),
        (json!({"max_page_size": 0}), "max_page_size"),
        (json!({"users": {"offered": false}, "groups": {"offered": false}}), "must offer"),
        (json!({"default_page_size": 100, "max_page_size": 10}), "larger than"),
        // A writeOnly extension attribute would have been taken for the user's password.
        (
            json!({"extensions": [{"resource_type": "User", "schema": {"id": "urn:example:pins:1.0:User",
                "attributes": [{"name": "pin", "type": "string", "mutability": "writeOnly"}]}}]}),
            "reserved for the password",
        ),
    ] {
        let r = s.send(s.client.put(&url).bearer_auth(&op).json(&bad)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body.to_string().contains(words), "{bad}: {}", r.body);
    }
    let set = s.send(s.client.put(&url).bearer_auth(&op).json(&json!({"delete_deactivates": true}))).await;
    assert_eq!(set.body["delete_deactivates"], true);
    let reset = s.send(s.client.delete(&url).bearer_auth(&op)).await;
    assert_eq!(reset.status, 200);
    assert_eq!(reset.body["delete_deactivates"], false);
    let missing = s.send(s.client.get(s.root("/admin/v1/tenants/nobody/profile")).bearer_auth(&op)).await;
    assert_eq!(missing.status, 404);
    // SCIM tokens do not reach it.
    let r = s.send(s.client.get(&url).bearer_auth(&s.token)).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn user_rules_refuse_what_breaks_them_on_create_replace_and_patch() {
    // One email at most; userName = work email and a name required; the language.
    let s = with_profile(json!({"max_emails": 1, "user_name_is_work_email": true, "require_name": true,
                                "preferred_language_fallback": "en"}))
    .await;
    let ok = json!({"userName": "ada@example.com", "name": {"givenName": "Ada", "familyName": "Lovelace"},
                    "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
                    "preferredLanguage": "elvish"});
    let created = s.post("/Users", &ok).await;
    assert_eq!(created.status, 201, "{}", created.body);
    // Not a language: kept as sent, and the product's language is the fallback.
    assert_eq!(created.body["preferredLanguage"], "elvish", "kept as sent");
    assert_eq!(created.body["urn:scimd:schemas:extension:language:1.0:User"]["language"], "en", "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    for (body, words) in [
        (
            json!({"userName": "bob@example.com", "name": {"givenName": "Bob"},
                "emails": [{"value": "bob@example.com", "type": "work"}, {"value": "bob@home.example", "type": "home"}]}),
            "at most 1 email",
        ),
        (
            json!({"userName": "bob", "name": {"givenName": "Bob"}, "emails": [{"value": "bob@example.com", "type": "work"}]}),
            "must be the user's work email",
        ),
        (json!({"userName": "bob@example.com", "name": {"givenName": "Bob"}}), "needs a work email"),
        (
            json!({"userName": "bob@example.com", "emails": [{"value": "bob@example.com", "type": "work"}]}),
            "needs a name",
        ),
    ] {
        let r = s.post("/Users", &body).await;
        r.assert_error(400, Some("invalidValue"));
        assert!(r.body["detail"].as_str().unwrap().contains(words), "{}: {}", body, r.body);
    }
    // A PUT and a PATCH are held to the same rules, and change nothing when refused.
    let mut renamed = ok.clone();
    renamed["userName"] = json!("someone.else@example.com");
    s.put(&format!("/Users/{id}"), &renamed).await.assert_error(400, Some("invalidValue"));
    let second_email =
        patch_op(json!([{"op": "add", "path": "emails", "value": [{"value": "x@y.example", "type": "home"}]}]));
    s.patch(&format!("/Users/{id}"), &second_email).await.assert_error(400, Some("invalidValue"));
    let now = s.get(&format!("/Users/{id}")).await;
    assert_eq!(now.body["meta"]["version"], created.body["meta"]["version"]);
    let lang = patch_op(json!([{"op": "replace", "path": "preferredLanguage", "value": "de-CH"}]));
    assert_eq!(s.patch(&format!("/Users/{id}"), &lang).await.body["preferredLanguage"], "de-CH");
}

#[tokio::test]
async fn group_members_are_never_returned_but_still_kept() {
    let s = with_profile(json!({"hide_group_members": true})).await;
    let u = s.create_user("ada").await;
    let uid = u["id"].as_str().unwrap();
    let g = s.post("/Groups", &json!({"displayName": "Staff", "members": [{"value": uid}]})).await;
    assert_eq!(g.status, 201, "{}", g.body);
    assert!(g.body.get("members").is_none(), "{}", g.body);
    let gid = g.body["id"].as_str().unwrap();
    for r in [
        s.get(&format!("/Groups/{gid}")).await.body,
        s.get(&format!("/Groups/{gid}?attributes=members")).await.body,
        s.get("/Groups").await.body["Resources"][0].clone(),
    ] {
        assert!(r.get("members").is_none(), "{r}");
    }
    // The membership exists: the user's groups show it, and a member filter finds it.
    assert_eq!(s.get(&format!("/Users/{uid}")).await.body["groups"][0]["value"], gid);
    let found = s.get(&format!("/Groups?filter=members.value%20eq%20%22{uid}%22")).await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
}

#[tokio::test]
async fn users_are_addressed_by_user_name_as_well_as_by_id() {
    // GET/PATCH/PUT/DELETE /Users/{userName}.
    let s = with_profile(json!({"users_by_user_name": true, "delete_deactivates": true})).await;
    let u = s.create_user("jane.doe@example.com").await;
    let id = u["id"].as_str().unwrap();
    let by_name = s.get("/Users/jane.doe@example.com").await;
    assert_eq!(by_name.status, 200, "{}", by_name.body);
    assert_eq!(by_name.body["id"], id);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["id"], id, "by id still");
    let patched = s
        .patch("/Users/JANE.DOE@example.com", &patch_op(json!([{"op": "replace", "path": "title", "value": "CTO"}])))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["title"], "CTO");
    let put =
        s.put("/Users/jane.doe@example.com", &json!({"userName": "jane.doe@example.com", "displayName": "Jane"})).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["id"], id);
    assert_eq!(s.delete("/Users/jane.doe@example.com").await.status, 204);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["active"], false);
    s.get("/Users/nobody@example.com").await.assert_error(404, None);
}

#[tokio::test]
async fn visitor_style_payloads_scim1_schema_and_e164_phone_numbers() {
    // The SCIM 1.x core schema URN, and E.164 phone numbers (mobile numbers must be mobile).
    let s = with_profile(json!({"scim1_user_schema": true, "phone_numbers_e164": true})).await;
    let user = |phones: Value| {
        json!({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "visitor@example.com",
               "name": {"givenName": "Vi", "familyName": "Sitor"},
               "emails": [{"value": "visitor@example.com", "type": "work", "primary": true}],
               "phoneNumbers": phones, "title": "Guest", "active": true})
    };
    let created = s
        .post(
            "/Users",
            &user(json!([{"value": "+447911123456", "type": "mobile"}, {"value": "+442071838750", "type": "work"}])),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    // Answered with the schema the client wrote the user with.
    assert_eq!(created.body["schemas"][0], "urn:scim:schemas:core:1.0");
    let id = created.body["id"].as_str().unwrap().to_string();
    for (phones, words) in [
        (json!([{"value": "+442071838750", "type": "mobile"}]), "not a mobile number"),
        (json!([{"value": "+44 7911 123456", "type": "work"}]), "E.164"),
        (json!([{"value": "+0441234", "type": "work"}]), "E.164"),
    ] {
        let mut body = user(phones.clone());
        body["userName"] = json!("other@example.com");
        let r = s.post("/Users", &body).await;
        r.assert_error(400, Some("invalidValue"));
        assert!(r.body["detail"].as_str().unwrap().contains(words), "{phones}: {}", r.body);
    }
    // An update with a landline as mobile fails and changes nothing.
    let r = s.put(&format!("/Users/{id}"), &user(json!([{"value": "+442071838750", "type": "mobile"}]))).await;
    r.assert_error(400, Some("invalidValue"));
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["phoneNumbers"][0]["value"], "+447911123456");
    // Without the profile, the 1.x URN is refused as an unknown schema.
    let plain = TestServer::start().await;
    assert_eq!(plain.post("/Users", &user(json!([]))).await.status, 400);
}

#[tokio::test]
async fn a_tenants_api_answers_at_its_base_paths_only_and_locations_follow() {
    // The locker system's `/api/users` and the visitor manager's `/scim/v1`.
    let s = with_profile(json!({"base_paths": ["/api", "/scim/v1"]})).await;
    let at = |base: &str, path: &str| format!("http://{}{base}{path}", s.addr);
    let created = s
        .send(
            s.client
                .post(at("/api", "/Users"))
                .bearer_auth(&s.token)
                .header("content-type", "application/scim+json")
                .json(&json!({"userName": "ada"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(created.body["meta"]["location"], at("/api", &format!("/Users/{id}")));
    assert_eq!(created.header("location"), Some(at("/api", &format!("/Users/{id}")).as_str()));
    let via_v1 = s.send(s.client.get(at("/scim/v1", &format!("/Users/{id}"))).bearer_auth(&s.token)).await;
    assert_eq!(via_v1.status, 200, "{}", via_v1.body);
    assert_eq!(via_v1.body["meta"]["location"], at("/scim/v1", &format!("/Users/{id}")));
    let filtered =
        s.send(s.client.get(at("/api", "/Users?filter=userName%20eq%20%22ada%22")).bearer_auth(&s.token)).await;
    assert_eq!(filtered.body["totalResults"], 1, "{}", filtered.body);
    let spc = s.send(s.client.get(at("/scim/v1", "/ServiceProviderConfig")).bearer_auth(&s.token)).await;
    assert_eq!(spc.status, 200);
    // Not at the server's own base for this tenant.
    let r = s.get(&format!("/Users/{id}")).await;
    refused(&r, 404, "/api, /scim/v1");
    // Another tenant (default profile) is not reachable through acme's mounts.
    let other = s.tenant_token("other").await;
    let r = s.send(s.client.get(at("/api", "/Users")).bearer_auth(&other)).await;
    refused(&r, 404, "its API is at /scim/v2)");
    assert_eq!(s.get_as(&other, "/Users").await.status, 200);
    // The audit trail records the path as the client sent it.
    let op = operator(&s).await;
    let ev = s.send(s.client.get(s.root("/admin/v1/tenants/acme/audit/events?limit=50")).bearer_auth(&op)).await;
    assert!(ev.body.as_array().unwrap().iter().any(|e| e["path"] == "/scim/v1/Users/".to_string() + id), "{}", ev.body);
}

#[tokio::test]
async fn a_tenants_token_path_is_another_path_of_the_token_endpoint() {
    // POST {base}/oauth2/server/token, Basic client credentials.
    let s = with_profile(json!({"token_path": "/oauth2/server/token"})).await;
    let c = crate::oauth::client(&s, &["acme"], &["client_credentials"], &["scim"], 1200, 3600).await;
    let r =
        s.post_form("/oauth2/server/token", Some((&c.id, &c.secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["expires_in"], 1200);
    let token = r.body["access_token"].as_str().unwrap();
    assert_eq!(s.get_as(token, "/Users").await.status, 200);
    // The server's own token path still works.
    let r = s.post_form("/oauth2/token", Some((&c.id, &c.secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_declared_extension_is_validated_stored_filtered_patched_and_discovered() {
    // Badges, multi-valued, each with only `value` and `display`.
    const URN: &str = "urn:example:locker:1.0:User";
    let s = with_profile(json!({"extensions": [{"resource_type": "User", "schema": {
        "id": URN, "name": "LockerUser", "description": "Locker system user",
        "attributes": [{"name": "badges", "type": "complex", "multiValued": true, "subAttributes": [
            {"name": "value", "type": "string"}, {"name": "display", "type": "string"}]}]}}]}))
    .await;
    let created = s
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", URN], "userName": "ada",
                    URN: {"badges": [{"value": "B-17", "display": "Main entrance"}]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body[URN]["badges"][0]["value"], "B-17", "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    // Filtered like a core attribute.
    let f = format!("/Users?filter={}", crate::common::enc(&format!("{URN}:badges.value eq \"B-17\"")));
    assert_eq!(s.get(&f).await.body["totalResults"], 1, "{}", s.get(&f).await.body);
    // Patched by its full path.
    let add = patch_op(
        json!([{"op": "add", "path": format!("{URN}:badges"), "value": [{"value": "B-18", "display": "Garage"}]}]),
    );
    let p = s.patch(&format!("/Users/{id}"), &add).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body[URN]["badges"].as_array().unwrap().len(), 2);
    // Only `value` and `display`: anything else is refused.
    let bad = s
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", URN], "userName": "bob",
                               URN: {"badges": [{"value": "B-1", "colour": "red"}]}}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    // Discovered: /Schemas and the User resource type list it.
    let schema = s.get(&format!("/Schemas/{URN}")).await;
    assert_eq!(schema.status, 200, "{}", schema.body);
    assert_eq!(schema.body["attributes"][0]["name"], "badges");
    let rt = s.get("/ResourceTypes/User").await;
    assert!(rt.body["schemaExtensions"].as_array().unwrap().iter().any(|e| e["schema"] == URN), "{}", rt.body);
    // Another tenant does not see it.
    let other = s.tenant_token("other").await;
    assert_eq!(s.get_as(&other, &format!("/Schemas/{URN}")).await.status, 404);
}

/// The ids of the groups a user response lists.
fn group_ids(user: &Value) -> Vec<String> {
    let mut v: Vec<String> = user["groups"]
        .as_array()
        .map(|a| a.iter().map(|g| g["value"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn user_groups_set_on_the_user_change_memberships() {
    // Groups are settable on the user.
    let s = with_profile(json!({"user_groups_settable": true})).await;
    let staff = s.create_group("Staff", &[]).await;
    let night = s.create_group("Night shift", &[]).await;
    let (staff_id, night_id) = (staff["id"].as_str().unwrap(), night["id"].as_str().unwrap());
    let mut both = vec![staff_id.to_string(), night_id.to_string()];
    both.sort();
    // /Schemas says groups is writable.
    let schema = s.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    let groups_def = schema.body["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "groups").unwrap();
    assert_eq!(groups_def["mutability"], "readWrite", "{groups_def}");

    // POST with groups: the user is a member of both, as each group shows.
    let u = s
        .post(
            "/Users",
            &json!({"userName": "ada", "groups": [{"value": staff_id}, {"value": night_id, "type": "direct"}]}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.body);
    assert_eq!(group_ids(&u.body), both);
    assert_eq!(u.body["groups"][0]["type"], "direct");
    let uid = u.body["id"].as_str().unwrap().to_string();
    let g = s.get(&format!("/Groups/{staff_id}")).await;
    assert_eq!(g.body["members"][0]["value"], uid.as_str(), "{}", g.body);
    assert_ne!(g.body["meta"]["version"], staff["meta"]["version"], "the group's version changes with its members");
    // Filtering users by group works on memberships set this way.
    let by_group = s.get(&format!("/Users?filter=groups.value%20eq%20%22{night_id}%22")).await;
    assert_eq!(by_group.body["totalResults"], 1, "{}", by_group.body);

    // PATCH remove by filter on display, then add back; PATCH replace to one group.
    let p = s
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "remove", "path": "groups[display eq \"Night shift\"]"}])),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(group_ids(&p.body), vec![staff_id.to_string()]);
    let p = s
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "add", "path": "groups", "value": [{"value": night_id}]}])),
        )
        .await;
    assert_eq!(group_ids(&p.body), both);
    let p = s
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "replace", "path": "groups", "value": [{"value": night_id}]}])),
        )
        .await;
    assert_eq!(group_ids(&p.body), vec![night_id.to_string()]);
    assert_eq!(s.get(&format!("/Groups/{staff_id}")).await.body.get("members"), None, "staff is empty now");
    // PATCH remove by value list, as Entra ID does for members.
    let p = s
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "remove", "path": "groups", "value": [{"value": night_id}]}])),
        )
        .await;
    assert_eq!(p.body.get("groups"), None, "{}", p.body);

    // PUT replaces the user's groups; a PUT without groups leaves none.
    let put = s.put(&format!("/Users/{uid}"), &json!({"userName": "ada", "groups": [{"value": staff_id}]})).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(group_ids(&put.body), vec![staff_id.to_string()]);
    // The same groups again: the memberships, and so the group's version, stay as they were.
    let version = s.get(&format!("/Groups/{staff_id}")).await.body["meta"]["version"].clone();
    let again = s
        .put(
            &format!("/Users/{uid}"),
            &json!({"userName": "ada", "displayName": "Ada", "groups": [{"value": staff_id}]}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(s.get(&format!("/Groups/{staff_id}")).await.body["meta"]["version"], version);
    let put = s.put(&format!("/Users/{uid}"), &json!({"userName": "ada"})).await;
    assert_eq!(put.body.get("groups"), None, "{}", put.body);

    // Refusals change nothing: an unknown group, a user id as a group, an indirect membership.
    let other = s.create_user("bob").await;
    let before = s.get(&format!("/Users/{uid}")).await.body;
    for (groups, words) in [
        (json!([{"value": staff_id}, {"value": "no-such-group"}]), "group 'no-such-group' does not exist"),
        (json!([{"value": other["id"]}]), "does not exist"),
        (json!([{"value": staff_id, "type": "indirect"}]), "direct memberships"),
    ] {
        let r = s
            .patch(&format!("/Users/{uid}"), &patch_op(json!([{"op": "add", "path": "groups", "value": groups}])))
            .await;
        r.assert_error(400, Some("invalidValue"));
        assert!(r.body["detail"].as_str().unwrap().contains(words), "{words}: {}", r.body);
        let r = s.post("/Users", &json!({"userName": "eve", "groups": groups})).await;
        r.assert_error(400, Some("invalidValue"));
    }
    assert_eq!(s.get(&format!("/Users/{uid}")).await.body, before);
    assert_eq!(s.get("/Users?filter=userName%20eq%20%22eve%22").await.body["totalResults"], 0);
}

#[tokio::test]
async fn without_the_setting_user_groups_stay_read_only() {
    let s = TestServer::start().await;
    let staff = s.create_group("Staff", &[]).await;
    let u = s.post("/Users", &json!({"userName": "ada", "groups": [{"value": staff["id"]}]})).await;
    assert_eq!(u.status, 201, "{}", u.body);
    assert_eq!(u.body.get("groups"), None, "readOnly groups are ignored in a body: {}", u.body);
    let uid = u.body["id"].as_str().unwrap();
    let p = s
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([{"op": "add", "path": "groups", "value": [{"value": staff["id"]}]}])),
        )
        .await;
    p.assert_error(400, Some("mutability"));
}

#[tokio::test]
async fn strict_mode_refuses_the_identity_provider_shapes_that_are_tolerated_by_default() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let strict = s.tenant_token("strict").await;
    let lenient = s.tenant_token("lenient").await;
    let r = s
        .send(s.client.put(s.root("/admin/v1/tenants/strict/profile")).bearer_auth(&op).json(&json!({"strict": true})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let core = "urn:ietf:params:scim:schemas:core:2.0:User";
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let user =
        |name: &str| json!({"schemas": [core], "userName": name, "emails": [{"value": "w@x.org", "type": "work"}]});
    let mut ids = std::collections::HashMap::new();
    for (tok, name) in [(&strict, "strict"), (&lenient, "lenient")] {
        let u = s.post_as(tok, "/Users", &user("ada")).await;
        assert_eq!(u.status, 201, "{name}: {}", u.body);
        ids.insert(name, u.body["id"].as_str().unwrap().to_string());
    }
    // Each body is accepted by default and refused in strict mode, naming the rule.
    let creates: Vec<(Value, &str, &str)> = vec![
        (json!({"userName": "b"}), "needs 'schemas'", "invalidSyntax"),
        (json!({"schemas": [core], "userName": "b", "active": "True"}), "true or false", "invalidValue"),
        (json!({"schemas": [core, ent], "userName": "b", ent: {"manager": "some-id"}}), "an object", "invalidValue"),
        (json!({"schemas": [core], "userName": "b", "name.givenName": "B"}), "attribute path", "invalidSyntax"),
        (
            json!({"schemas": [core, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"], "userName": "b"}),
            "unknown schema",
            "invalidSyntax",
        ),
    ];
    for (i, (body, words, scim_type)) in creates.into_iter().enumerate() {
        let mut lenient_body = body.clone();
        lenient_body["userName"] = json!(format!("b{i}"));
        let ok = s.post_as(&lenient, "/Users", &lenient_body).await;
        assert_eq!(ok.status, 201, "tolerated by default: {body} {}", ok.body);
        let r = s.post_as(&strict, "/Users", &body).await;
        r.assert_error(400, Some(scim_type));
        assert!(r.body["detail"].as_str().unwrap().contains(words), "{words}: {}", r.body);
    }
    let patches: Vec<(Value, &str, &str)> = vec![
        (
            json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
            "needs 'schemas'",
            "invalidSyntax",
        ),
        (patch_op(json!([{"op": "Replace", "path": "active", "value": false}])), "lower case", "invalidSyntax"),
        (patch_op(json!([{"op": "replace", "path": "active", "value": "False"}])), "true or false", "invalidValue"),
        (patch_op(json!([{"op": "replace", "value": {"name.givenName": "Ada"}}])), "attribute path", "invalidPath"),
        (
            patch_op(json!([{"op": "remove", "path": "emails", "value": [{"value": "w@x.org"}]}])),
            "takes no 'value'",
            "invalidSyntax",
        ),
        (
            patch_op(json!([{"op": "add", "path": "emails[type eq \"home\"].value", "value": "h@x.org"}])),
            "matches the filter",
            "noTarget",
        ),
    ];
    for (body, words, scim_type) in patches {
        let ok = s.patch_as(&lenient, &format!("/Users/{}", ids["lenient"]), &body).await;
        assert_eq!(ok.status, 200, "tolerated by default: {body} {}", ok.body);
        let before = s.get_as(&strict, &format!("/Users/{}", ids["strict"])).await.body;
        let r = s.patch_as(&strict, &format!("/Users/{}", ids["strict"]), &body).await;
        r.assert_error(400, Some(scim_type));
        assert!(r.body["detail"].as_str().unwrap().contains(words), "{words}: {}", r.body);
        assert_eq!(s.get_as(&strict, &format!("/Users/{}", ids["strict"])).await.body, before, "nothing changed");
    }
    // The RFC's own forms work in strict mode.
    let ok = s
        .patch_as(
            &strict,
            &format!("/Users/{}", ids["strict"]),
            &patch_op(json!([{"op": "replace", "value": {"name": {"givenName": "Ada"}, "active": false}},
                             {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@x.org"}])),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!((ok.body["active"].clone(), ok.body["emails"][0]["value"].clone()), (json!(false), json!("a@x.org")));
}

#[tokio::test]
async fn the_service_provider_config_tells_what_the_tenants_profile_allows() {
    let s = with_profile(
        json!({"users": {"patch": false, "replace": false}, "groups": {"offered": false}, "max_page_size": 50}),
    )
    .await;
    let spc = s.get("/ServiceProviderConfig").await;
    assert_eq!(spc.body["patch"]["supported"], false, "{}", spc.body);
    assert_eq!(spc.body["changePassword"]["supported"], false);
    assert_eq!(spc.body["filter"]["maxResults"], 50);
    // Groups-only PATCH still counts as PATCH supported.
    let s = with_profile(json!({"users": {"patch": false}})).await;
    let spc = s.get("/ServiceProviderConfig").await;
    assert_eq!(
        (spc.body["patch"]["supported"].clone(), spc.body["changePassword"]["supported"].clone()),
        (json!(true), json!(true))
    );
}
