//! Each shipped preset replays its product's integration guide end to end over HTTP: the
//! operator creates the tenant with the preset and its credentials, the client obtains a
//! token exactly as the document says, then does what the document allows, and meets each
//! documented refusal and validation error.

use chrono::TimeDelta;
use serde_json::{Value, json};

use crate::common::{Options, Resp, TestServer, patch_op};

async fn operator(s: &TestServer) -> String {
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(scimd_server::clock::SystemClock));
    admin.create_admin_token(None).await.unwrap().token
}

async fn admin_post(s: &TestServer, op: &str, path: &str, body: Value) -> Resp {
    s.send(s.client.post(s.root(&format!("/admin/v1{path}"))).bearer_auth(op).json(&body)).await
}

/// A request to `{origin}{path}` with a bearer token and a JSON body.
fn req(s: &TestServer, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    s.client.request(method, s.root(path)).bearer_auth(token).header("content-type", "application/scim+json")
}

/// The visitor management's integration guide.
#[tokio::test]
async fn visitor_preset_replays_the_generic_scim_document() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator(&s).await;
    // Installing the integration: the tenant with the preset, and its long-lived bearer token.
    let t = admin_post(&s, &op, "/tenants", json!({"name": "reception", "preset": "visitor"})).await;
    assert_eq!(t.status, 201, "{}", t.body);
    let tok = admin_post(&s, &op, "/tenants/reception/tokens", json!({})).await;
    assert_eq!(tok.status, 201, "{}", tok.body);
    let token = tok.body["token"].as_str().unwrap().to_string();

    // The document's sample payload (with numbers that exist: the sample's are fictional).
    let bond = json!({
        "schemas": ["urn:scim:schemas:core:1.0"],
        "userName": "james.bond.007@mi6.org",
        "name": {"formatted": "James Bond", "familyName": "Bond", "givenName": "James"},
        "emails": [{"value": "james.bond.007@mi6.org", "type": "work", "primary": true}],
        "phoneNumbers": [{"type": "mobile", "value": "+447911123456"}, {"type": "work", "value": "+442071838750"}],
        "addresses": [{"primary": true, "locality": "London"}],
        "title": "Secret Agent 007",
        "preferredLanguage": "en",
        "active": true
    });
    // POST /Users: the same payload back, plus the id.
    let created = s.send(req(&s, Method::POST, "/scim/v1/Users", &token).json(&bond)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    for k in ["userName", "name", "emails", "phoneNumbers", "addresses", "title", "preferredLanguage", "active"] {
        assert_eq!(created.body[k], bond[k], "{k} echoed: {}", created.body);
    }
    let id = created.body["id"].as_str().unwrap().to_string();
    // GET /Users/{id}; the filter by userName finds the one user.
    let got = s.send(req(&s, Method::GET, &format!("/scim/v1/Users/{id}"), &token)).await;
    assert_eq!(got.status, 200);
    let found = s
        .send(req(&s, Method::GET, "/scim/v1/Users?filter=userName%20eq%20%22james.bond.007@mi6.org%22", &token))
        .await;
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    // Pages of 10 by default, count up to 5,000, startIndex.
    for i in 0..11 {
        let mut u = bond.clone();
        let mail = format!("agent{i}@mi6.org");
        u["userName"] = json!(mail);
        u["emails"] = json!([{"value": mail, "type": "work", "primary": true}]);
        assert_eq!(s.send(req(&s, Method::POST, "/scim/v1/Users", &token).json(&u)).await.status, 201);
    }
    let page = s.send(req(&s, Method::GET, "/scim/v1/Users", &token)).await;
    assert_eq!((page.body["totalResults"].clone(), page.body["itemsPerPage"].clone()), (json!(12), json!(10)));
    let rest = s.send(req(&s, Method::GET, "/scim/v1/Users?startIndex=11&count=5000", &token)).await;
    assert_eq!(rest.body["itemsPerPage"], 2, "{}", rest.body);
    // PUT /Users/{id}: the full payload, id omitted in the body.
    let mut promoted = bond.clone();
    promoted["title"] = json!("Commander");
    let put = s.send(req(&s, Method::PUT, &format!("/scim/v1/Users/{id}"), &token).json(&promoted)).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["title"], "Commander");
    // Documented validations: each fails the create or update, and changes nothing.
    let refused = |body: Value, words: &'static str| {
        let (s, token) = (&s, token.clone());
        async move {
            let r = s.send(req(s, Method::POST, "/scim/v1/Users", &token).json(&body)).await;
            r.assert_error(400, Some("invalidValue"));
            assert!(r.body["detail"].as_str().unwrap().contains(words), "{words}: {}", r.body);
        }
    };
    let with = |k: &str, v: Value| {
        let mut u = bond.clone();
        u["userName"] = json!("m@mi6.org");
        u["emails"] = json!([{"value": "m@mi6.org", "type": "work"}]);
        u[k] = v;
        u
    };
    refused(with("phoneNumbers", json!([{"type": "mobile", "value": "+442071838750"}])), "not a mobile number").await;
    refused(with("phoneNumbers", json!([{"type": "work", "value": "020 7183 8750"}])), "E.164").await;
    refused(with("userName", json!("m")), "must be the user's work email").await;
    refused(with("name", Value::Null), "needs a name").await;
    let mut no_email = with("emails", Value::Null);
    no_email.as_object_mut().unwrap().remove("emails");
    refused(no_email, "work email").await;
    // The email is the unique external identifier.
    let dup = s.send(req(&s, Method::POST, "/scim/v1/Users", &token).json(&bond)).await;
    dup.assert_error(409, Some("uniqueness"));
    // A value that is not a language is kept as sent; the product's language is en.
    let lang = s
        .send(req(&s, Method::POST, "/scim/v1/Users", &token).json(&with("preferredLanguage", json!("Klingon"))))
        .await;
    assert_eq!(lang.status, 201, "{}", lang.body);
    assert_eq!(lang.body["preferredLanguage"], "Klingon");
    assert_eq!(lang.body["urn:scimd:schemas:extension:language:1.0:User"]["language"], "en");
    // Only /Users: /Groups is refused, and discovery lists users only.
    let groups = s.send(req(&s, Method::GET, "/scim/v1/Groups", &token)).await;
    groups.assert_error(404, None);
    let types = s.send(req(&s, Method::GET, "/scim/v1/ResourceTypes", &token)).await;
    assert_eq!(types.body["totalResults"], 1);
    // The API lives at /scim/v1 for this tenant, not at the server's /scim/v2.
    assert_eq!(s.get_as(&token, "/Users").await.status, 404);
    // DELETE /Users/{id}, no body.
    let del = s.send(s.client.delete(s.root(&format!("/scim/v1/Users/{id}"))).bearer_auth(&token)).await;
    assert_eq!(del.status, 204);
    assert_eq!(s.send(req(&s, Method::GET, &format!("/scim/v1/Users/{id}"), &token)).await.status, 404);
}

/// The staffing tool's integration guide.
#[tokio::test]
async fn staffing_preset_replays_the_scim2_update_document() {
    use reqwest::Method;
    let s = TestServer::start_with(Options { manual_clock: true, ..Options::default() }).await;
    let op = operator(&s).await;
    let t = admin_post(&s, &op, "/tenants", json!({"name": "assignments", "preset": "staffing"})).await;
    assert_eq!(t.status, 201, "{}", t.body);
    // The API subscriber: a GUID and a secret key, registered for SCIM, JWTs of 15 minutes.
    let sub = crate::oauth::client(&s, &["assignments"], &["client_credentials"], &["scim"], 900, 3600).await;
    assert!(uuid::Uuid::parse_str(&sub.id).is_ok(), "the subscriber is a GUID");
    // The users exist in the product already (the staffing tool's own records).
    let tenant = s.store.tenant_by_name("assignments").await.unwrap().unwrap();
    let reg = scimd_core::builtin::standard_registry();
    let doc = scimd_core::resource::prepare(
        &reg,
        scimd_core::schema::ResourceKind::User,
        &json!({"userName": "temp.worker", "active": true, "roles": [{"value": "worker"}]}),
    )
    .unwrap()
    .doc;
    let state = scimd_store::ResourceState {
        index: scimd_core::resource::index_entries(&reg, scimd_core::schema::ResourceKind::User, &doc),
        unique_key: scimd_core::resource::unique_key(scimd_core::schema::ResourceKind::User, &doc),
        display: scimd_core::resource::display_of(scimd_core::schema::ResourceKind::User, &doc),
        doc,
    };
    let worker = s
        .store
        .create(
            tenant.id,
            scimd_core::schema::ResourceKind::User,
            scimd_store::NewResource {
                state,
                password_hash: None,
                members: vec![],
                event: None,
                derived_gen: 0,
                writer: Default::default(),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();

    // GUID + secret → JWT.
    let r = s.post_form("/oauth2/token", Some((&sub.id, &sub.secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["expires_in"], 900);
    let jwt = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(jwt.split('.').count(), 3, "a JWT");
    // The update operation, by id: a team move (role) and a leaver (active).
    let path = format!("/scim/v2/Users/{}", worker.id);
    let moved = s
        .send(req(&s, Method::PATCH, &path, &jwt).json(&patch_op(json!([
            {"op": "replace", "path": "roles", "value": [{"value": "team-lead"}]},
            {"op": "replace", "path": "active", "value": false}
        ]))))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["roles"][0]["value"], "team-lead");
    assert_eq!(moved.body["active"], false);
    // Reads are offered; everything else is refused.
    assert_eq!(s.send(req(&s, Method::GET, &path, &jwt)).await.status, 200);
    for (method, p, body) in [
        (Method::POST, "/scim/v2/Users".to_string(), Some(json!({"userName": "new"}))),
        (Method::PUT, path.clone(), Some(json!({"userName": "temp.worker"}))),
        (Method::DELETE, path.clone(), None),
    ] {
        let mut rq = req(&s, method.clone(), &p, &jwt);
        if let Some(b) = body {
            rq = rq.json(&b);
        }
        let r = s.send(rq).await;
        assert_eq!(r.status, 405, "{method} {p}: {}", r.body);
    }
    assert_eq!(s.send(req(&s, Method::GET, "/scim/v2/Groups", &jwt)).await.status, 404);
    // After 15 minutes the token is rejected; the client asks for a new one.
    s.clock.as_ref().unwrap().advance(TimeDelta::minutes(16));
    let late = s.send(req(&s, Method::GET, &path, &jwt)).await;
    assert_eq!(late.status, 401, "{}", late.body);
    let again =
        s.post_form("/oauth2/token", Some((&sub.id, &sub.secret)), &[("grant_type", "client_credentials")]).await;
    let fresh = again.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(s.send(req(&s, Method::GET, &path, &fresh)).await.status, 200);
}

/// The workflow platform's integration guide.
#[tokio::test]
async fn workflow_preset_replays_the_oauth_application_document() {
    use reqwest::Method;
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let t = admin_post(&s, &op, "/tenants", json!({"name": "flow", "preset": "workflow"})).await;
    assert_eq!(t.status, 201, "{}", t.body);
    // The OAuth application: client credentials, scopes API and user sync, 20 minutes.
    let app =
        crate::oauth::client(&s, &["flow"], &["client_credentials"], &["api", "usersync", "openid"], 1200, 3600).await;
    // POST {base}/oauth2/server/token, form-encoded, HTTP Basic, grant_type + scope=api.
    let r = s
        .post_form(
            "/oauth2/server/token",
            Some((&app.id, &app.secret)),
            &[("grant_type", "client_credentials"), ("scope", "api")],
        )
        .await;
    // The response shape: every scope of the application, and the status field.
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 1200);
    assert_eq!(r.body["scope"], "api usersync openid");
    assert_eq!(r.body["http_status_code"], 200);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    // `api` opens SCIM for this tenant; the same token's scopes would not elsewhere.
    let create = s
        .send(
            req(&s, Method::POST, "/scim/v2/Users", &token)
                .json(&json!({"userName": "pat.lee@example.com", "name": {"givenName": "Pat"}, "active": true})),
        )
        .await;
    assert_eq!(create.status, 201, "{}", create.body);
    let id = create.body["id"].as_str().unwrap().to_string();
    // Users addressed by userName.
    let by_name = "/scim/v2/Users/pat.lee@example.com";
    assert_eq!(s.send(req(&s, Method::GET, by_name, &token)).await.body["id"], id.as_str());
    let patched = s
        .send(
            req(&s, Method::PATCH, by_name, &token)
                .json(&patch_op(json!([{"op": "replace", "path": "title", "value": "Analyst"}]))),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["title"], "Analyst");
    let put = s
        .send(
            req(&s, Method::PUT, by_name, &token)
                .json(&json!({"userName": "pat.lee@example.com", "displayName": "Pat Lee"})),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["displayName"], "Pat Lee");
    // DELETE deactivates; the user stays readable.
    let del = s.send(s.client.delete(s.root(by_name)).bearer_auth(&token)).await;
    assert_eq!(del.status, 204, "{}", del.body);
    let after = s.send(req(&s, Method::GET, by_name, &token)).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.body["active"], false);
    // A scope the application was not given is refused; an application with only
    // `openid` gets tokens that do not open SCIM.
    let r = s
        .post_form(
            "/oauth2/server/token",
            Some((&app.id, &app.secret)),
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .await;
    assert_eq!((r.status, r.body["error"].clone()), (400, json!("invalid_scope")), "{}", r.body);
    let login_only = crate::oauth::client(&s, &["flow"], &["client_credentials"], &["openid"], 1200, 3600).await;
    let r = s
        .post_form(
            "/oauth2/server/token",
            Some((&login_only.id, &login_only.secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(r.body["scope"], "openid", "{}", r.body);
    let openid = r.body["access_token"].as_str().unwrap().to_string();
    let denied = s.send(req(&s, Method::GET, by_name, &openid)).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    // Every operation the guide shows is on users: the platform has no groups endpoint.
    assert_eq!(s.send(req(&s, Method::GET, "/scim/v2/Groups", &token)).await.status, 404);
    let types = s.send(req(&s, Method::GET, "/scim/v2/ResourceTypes", &token)).await;
    assert_eq!(types.body["totalResults"], 1, "{}", types.body);
}

/// A group as the product's administrators configure it (never over SCIM): the
/// operator creates it through the admin API.
async fn admin_group(s: &TestServer, op: &str, tenant: &str, name: &str) -> String {
    let r = admin_post(s, op, &format!("/tenants/{tenant}/groups"), json!({"displayName": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["displayName"], name);
    r.body["id"].as_str().unwrap().to_string()
}

/// The smart-locker system's integration guides.
#[tokio::test]
async fn locker_preset_replays_the_locker_integration_document() {
    use reqwest::Method;
    const BADGES: &str = "urn:scimd:schemas:extension:locker:1.0:User";
    let s = TestServer::start_with(Options { manual_clock: true, ..Options::default() }).await;
    let op = operator(&s).await;
    // Onboarding: the integration company, its API system user, the client id/secret.
    // One client reaches two companies through two API system users.
    for company in ["harbour", "airport"] {
        let t = admin_post(&s, &op, "/tenants", json!({"name": company, "preset": "locker"})).await;
        assert_eq!(t.status, 201, "{}", t.body);
    }
    let client = admin_post(
        &s,
        &op,
        "/clients",
        json!({"tenants": ["harbour", "airport"], "grants": ["password"], "access_ttl": "1h", "refresh_ttl": "30d"}),
    )
    .await;
    assert_eq!(client.status, 201, "{}", client.body);
    let (cid, secret) = (client.body["client_id"].as_str().unwrap(), client.body["client_secret"].as_str().unwrap());
    let mut system_users = Vec::new();
    for company in ["harbour", "airport"] {
        let u = admin_post(
            &s,
            &op,
            &format!("/tenants/{company}/api-users"),
            json!({"username": format!("scim@{company}")}),
        )
        .await;
        assert_eq!(u.status, 201, "{}", u.body);
        system_users
            .push((u.body["username"].as_str().unwrap().to_string(), u.body["password"].as_str().unwrap().to_string()));
    }
    let groups =
        [admin_group(&s, &op, "harbour", "Dock workers").await, admin_group(&s, &op, "harbour", "Office").await];

    // The password grant with the client id/secret; access and refresh tokens.
    let login = |user: usize| {
        let (s, (name, password)) = (&s, system_users[user].clone());
        async move {
            s.post_form(
                "/oauth2/token",
                Some((cid, secret)),
                &[("grant_type", "password"), ("username", &name), ("password", &password)],
            )
            .await
        }
    };
    let r = login(0).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["expires_in"], 3600);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();

    // POST /api/users with the supported attributes, groups set on the user, badges.
    let ada = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", BADGES],
        "userName": "ada.l",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "active": true,
        "emails": [{"value": "ada@harbour.example", "type": "work", "primary": true}],
        "groups": [{"value": groups[0]}],
        BADGES: {"badges": [{"value": "04A1B2C3", "display": "Main badge"}]}
    });
    let created = s.send(req(&s, Method::POST, "/api/users", &token).json(&ada)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "the id is assigned by the server");
    assert_eq!(created.body["groups"][0]["value"], groups[0].as_str());
    assert_eq!(created.body["groups"][0]["display"], "Dock workers");
    assert_eq!(created.body[BADGES]["badges"][0]["value"], "04A1B2C3");
    assert!(created.body["meta"]["location"].as_str().unwrap().ends_with(&format!("/api/Users/{id}")));
    // The userName is unique; a lookup by userName returns the single user.
    let dup = s.send(req(&s, Method::POST, "/api/users", &token).json(&ada)).await;
    dup.assert_error(409, Some("uniqueness"));
    let found = s.send(req(&s, Method::GET, "/api/users?filter=userName%20eq%20%22ada.l%22", &token)).await;
    assert_eq!((found.body["totalResults"].clone(), found.body["Resources"][0]["id"].clone()), (json!(1), json!(id)));
    // Badges are filterable.
    let by_badge = s
        .send(req(&s, Method::GET, &format!("/api/users?filter={BADGES}:badges.value%20eq%20%2204A1B2C3%22"), &token))
        .await;
    assert_eq!(by_badge.body["totalResults"], 1, "{}", by_badge.body);
    // At most one email; a badge has only value and display.
    let mut two = ada.clone();
    two["userName"] = json!("two.mails");
    two["emails"] = json!([{"value": "a@x.example", "type": "work"}, {"value": "b@x.example", "type": "home"}]);
    let r = s.send(req(&s, Method::POST, "/api/users", &token).json(&two)).await;
    r.assert_error(400, Some("invalidValue"));
    assert!(r.body["detail"].as_str().unwrap().contains("at most 1 email"), "{}", r.body);
    let mut odd_badge = ada.clone();
    odd_badge["userName"] = json!("odd.badge");
    odd_badge[BADGES] = json!({"badges": [{"value": "1", "colour": "red"}]});
    let r = s.send(req(&s, Method::POST, "/api/users", &token).json(&odd_badge)).await;
    r.assert_error(400, Some("invalidSyntax"));

    // PUT by id: a new name and the other group.
    let mut moved = ada.clone();
    moved["name"]["familyName"] = json!("King");
    moved["groups"] = json!([{"value": groups[1]}]);
    let put = s.send(req(&s, Method::PUT, &format!("/api/users/{id}"), &token).json(&moved)).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["name"]["familyName"], "King");
    assert_eq!(put.body["groups"].as_array().unwrap().len(), 1);
    assert_eq!(put.body["groups"][0]["display"], "Office");
    // PATCH by id: a second group, a second badge, deactivation.
    let patched = s
        .send(req(&s, Method::PATCH, &format!("/api/users/{id}"), &token).json(&patch_op(json!([
            {"op": "add", "path": "groups", "value": [{"value": groups[0]}]},
            {"op": "add", "path": format!("{BADGES}:badges"), "value": [{"value": "04D5E6F7"}]},
            {"op": "replace", "path": "active", "value": false}
        ]))))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["groups"].as_array().unwrap().len(), 2);
    assert_eq!(patched.body[BADGES]["badges"].as_array().unwrap().len(), 2);
    assert_eq!(patched.body["active"], false);

    // Groups are read (one, all, paged) without members, and never changed over SCIM.
    let all = s.send(req(&s, Method::GET, "/api/groups?startIndex=1&count=1", &token)).await;
    assert_eq!((all.body["totalResults"].clone(), all.body["itemsPerPage"].clone()), (json!(2), json!(1)));
    let one = s.send(req(&s, Method::GET, &format!("/api/groups/{}", groups[0]), &token)).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body.get("members"), None, "{}", one.body);
    let asked = s.send(req(&s, Method::GET, &format!("/api/groups/{}?attributes=members", groups[0]), &token)).await;
    assert_eq!(asked.body.get("members"), None, "even when asked: {}", asked.body);
    for (method, path, body) in [
        (Method::POST, "/api/groups".to_string(), Some(json!({"displayName": "New"}))),
        (Method::PUT, format!("/api/groups/{}", groups[0]), Some(json!({"displayName": "Renamed"}))),
        (
            Method::PATCH,
            format!("/api/groups/{}", groups[0]),
            Some(patch_op(json!([{"op": "remove", "path": "members"}]))),
        ),
        (Method::DELETE, format!("/api/groups/{}", groups[0]), None),
    ] {
        let mut rq = req(&s, method.clone(), &path, &token);
        if let Some(b) = body {
            rq = rq.json(&b);
        }
        let r = s.send(rq).await;
        r.assert_error(405, None);
        assert!(r.header("allow").is_some_and(|a| a.contains("GET")), "{method} {path}");
    }
    // Discovery tells the truth: writable User.groups, read-only groups, the badges schema.
    let schemas = s.send(req(&s, Method::GET, "/api/Schemas", &token)).await;
    assert!(schemas.body["Resources"].as_array().unwrap().iter().any(|x| x["id"] == BADGES), "{}", schemas.body);
    let user_schema =
        s.send(req(&s, Method::GET, "/api/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", &token)).await;
    let g = user_schema.body["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "groups").unwrap().clone();
    assert_eq!(g["mutability"], "readWrite");
    // The other company, through the same client, sees none of this one's users.
    let other = login(1).await;
    let other_token = other.body["access_token"].as_str().unwrap().to_string();
    let theirs = s.send(req(&s, Method::GET, "/api/users", &other_token)).await;
    assert_eq!(theirs.body["totalResults"], 0, "{}", theirs.body);

    // After an hour the API answers 401; the refresh token gives a new access token
    // and a new refresh token.
    s.clock.as_ref().unwrap().advance(TimeDelta::minutes(61));
    let late = s.send(req(&s, Method::GET, &format!("/api/users/{id}"), &token)).await;
    assert_eq!(late.status, 401, "{}", late.body);
    let r = s
        .post_form(
            "/oauth2/token",
            Some((cid, secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let refresh2 = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh, "a new refresh token");
    assert_eq!(s.send(req(&s, Method::GET, &format!("/api/users/{id}"), &token)).await.status, 200);
    // After 30 days the refresh token no longer works: log in with username/password again.
    s.clock.as_ref().unwrap().advance(TimeDelta::days(31));
    let r = s
        .post_form(
            "/oauth2/token",
            Some((cid, secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh2)],
        )
        .await;
    assert_eq!((r.status, r.body["error"].clone()), (400, json!("invalid_grant")), "{}", r.body);
    let r = login(0).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_string();

    // DELETE by id removes the user (and its memberships).
    let del = s.send(s.client.delete(s.root(&format!("/api/users/{id}"))).bearer_auth(&token)).await;
    assert_eq!(del.status, 204, "{}", del.body);
    assert_eq!(s.send(req(&s, Method::GET, &format!("/api/users/{id}"), &token)).await.status, 404);
    // The server's own /scim/v2 is not where this tenant's API lives.
    assert_eq!(s.send(req(&s, Method::GET, "/scim/v2/Users", &token)).await.status, 404);
}
