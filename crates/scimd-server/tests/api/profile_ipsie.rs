//! The `ipsie-al1` and `ipsie-al2` presets replay the OpenID Foundation's IPSIE AL SCIM 2.0
//! Profile, requirement by requirement: the operator creates the tenant with the preset
//! over the admin API, and each test sends what the profile says the Identity Service sends
//! and checks what it says the Application answers. Tests are named after the profile's
//! sections: `shared_…` (Shared Prerequisites, both levels), `al1_…`, `al2_…`. The token
//! endpoint's side is replayed with client assertions (RFC 7523) signed by a local key; the
//! other tests use an operator-made tenant token to reach the SCIM API.

use serde_json::{Value, json};

use crate::common::{Resp, TestServer, enc, ids, patch_op};
use crate::issuer::{Issuer, Signing, jti, now};
use crate::profile_interop::{created, interop_tenant, user};

const LEVELS: [&str; 2] = ["ipsie-al1", "ipsie-al2"];
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn filter(s: &TestServer, token: &str, endpoint: &str, f: &str) -> Resp {
    s.get_as(token, &format!("{endpoint}?filter={}", enc(f))).await
}

async fn group(s: &TestServer, token: &str, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
                      "externalId": format!("ext-{name}"), "members": members});
    let r = s.post_as(token, "/Groups", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Shared prerequisites, authentication: the Application publishes RFC 8414 metadata with
/// its `token_endpoint` and `private_key_jwt`; a client-credentials client authenticates
/// with a signed assertion (RFC 7523 §2.2, used once), its token's scope is `scim` and no
/// broader, and that token is accepted on SCIM requests. A client secret is neither issued
/// nor accepted for the tenant's clients.
#[tokio::test]
async fn shared_oauth_metadata_and_client_credentials_with_signed_assertions() {
    let (s, _) = interop_tenant("ipsie-al2").await;
    let meta = s.send(s.client.get(s.root("/.well-known/oauth-authorization-server"))).await;
    assert_eq!(meta.status, 200, "{}", meta.body);
    let endpoint = meta.body["token_endpoint"].as_str().unwrap().to_string();
    assert!(endpoint.ends_with("/oauth2/token"), "{}", meta.body);
    assert!(meta.body["grant_types_supported"].as_array().unwrap().iter().any(|g| g == "client_credentials"));
    let methods = meta.body["token_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(methods.iter().any(|m| m == "private_key_jwt"), "{}", meta.body);
    let op = s.operator_token().await;
    let admin = |body: Value| s.client.post(s.root("/admin/v1/clients")).bearer_auth(&op).json(&body);

    // A client with a secret is not made for the tenant.
    let secret_client =
        s.send(admin(json!({"tenants": ["conformant"], "grants": ["client_credentials"], "scopes": ["scim"]}))).await;
    assert_eq!(secret_client.status, 400, "{}", secret_client.body);
    assert!(secret_client.body.to_string().contains("private_key_jwt"), "{}", secret_client.body);

    let idp = Issuer::start().await;
    let client = s
        .send(admin(json!({"tenants": ["conformant"], "grants": ["client_credentials"], "scopes": ["scim"],
                            "auth_method": "private_key_jwt", "jwks": idp.jwks()})))
        .await;
    assert_eq!(client.status, 201, "{}", client.body);
    assert!(client.body.get("client_secret").is_none(), "{}", client.body);
    let id = client.body["client_id"].as_str().unwrap().to_string();
    let assertion = |aud: &str| {
        let claims = json!({"iss": id, "sub": id, "aud": aud, "iat": now(), "exp": now() + 60, "jti": jti()});
        idp.sign(&claims, Signing::Es256)
    };
    let token_request = |assertion: &str, scope: Option<&str>| {
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_assertion_type", ASSERTION_TYPE.to_string()),
            ("client_assertion", assertion.to_string()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope.to_string()));
        }
        s.client.post(s.root("/oauth2/token")).form(&form)
    };
    let signed = assertion(&endpoint);
    let tok = s.send(token_request(&signed, None)).await;
    assert_eq!(tok.status, 200, "{}", tok.body);
    assert_eq!(tok.body["scope"], "scim");
    assert!(tok.body["expires_in"].as_u64().is_some_and(|e| e > 0), "access tokens expire: {}", tok.body);
    let token = tok.body["access_token"].as_str().unwrap();
    assert_eq!(s.get_as(token, "/Users").await.status, 200);
    // The assertion is used once (the profile's nonce check).
    let again = s.send(token_request(&signed, None)).await;
    assert_eq!((again.status, again.body["error"].as_str()), (401, Some("invalid_client")), "{}", again.body);
    // A scope broader than the client's is refused.
    let broad = s.send(token_request(&assertion(&endpoint), Some("scim admin"))).await;
    assert_eq!(broad.status, 400, "{}", broad.body);

    // A secret client made before the tenant took the profile is refused at the token
    // endpoint from then on, and gets no new secret.
    s.preset_tenant(&op, "later", "visitor").await;
    let old = s.send(admin(json!({"tenants": ["later"], "grants": ["client_credentials"], "scopes": ["scim"]}))).await;
    let (old_id, old_secret) =
        (old.body["client_id"].as_str().unwrap().to_string(), old.body["client_secret"].as_str().unwrap().to_string());
    let form = [("grant_type", "client_credentials")];
    assert_eq!(s.post_form("/oauth2/token", Some((&old_id, &old_secret)), &form).await.status, 200);
    let set = s
        .send(s.client.patch(s.root("/admin/v1/tenants/later")).bearer_auth(&op).json(&json!({"preset": "ipsie-al1"})))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let refused = s.post_form("/oauth2/token", Some((&old_id, &old_secret)), &form).await;
    assert_eq!((refused.status, refused.body["error"].as_str()), (401, Some("invalid_client")), "{}", refused.body);
    let rotated = s
        .send(s.client.post(s.root(&format!("/admin/v1/clients/{old_id}/secrets"))).bearer_auth(&op).json(&json!({})))
        .await;
    assert_eq!(rotated.status, 400, "{}", rotated.body);
}

/// Shared prerequisites, SCIM interoperability: both levels conform to the SCIM 2.0
/// Interoperability Profile (its claim, and its PATCH and schema rules).
#[tokio::test]
async fn shared_both_levels_conform_to_the_interop_profile() {
    for level in LEVELS {
        let (s, token) = interop_tenant(level).await;
        let spc = s.get_as(&token, "/ServiceProviderConfig").await;
        assert_eq!(spc.body["interopProfileConformant"], true, "{level}");
        let id = created(&s, &token, &user("ada")).await;
        let pathless = patch_op(json!([{"op": "replace", "value": {"active": false}}]));
        s.patch_as(&token, &format!("/Users/{id}"), &pathless).await.assert_error(400, Some("invalidSyntax"));
        let mut unknown = user("bob");
        unknown["favouriteColour"] = json!("green");
        s.post_as(&token, "/Users", &unknown).await.assert_error(400, Some("invalidSyntax"));
    }
}

/// Shared prerequisites, performance: rate limits on every SCIM endpoint, 429 with
/// `Retry-After` past them, at least 25 requests a second per tenant, and one tenant's
/// requests do not use another's allowance.
#[tokio::test]
async fn shared_rate_limits_answer_429_with_retry_after() {
    let (s, token) = interop_tenant("ipsie-al1").await;
    let op = s.operator_token().await;
    s.preset_tenant(&op, "neighbour", "ipsie-al1").await;
    let neighbour =
        s.send(s.client.post(s.root("/admin/v1/tenants/neighbour/tokens")).bearer_auth(&op).json(&json!({}))).await;
    let neighbour = neighbour.body["token"].as_str().unwrap().to_string();
    // 25 at once are served.
    let burst = futures_util::future::join_all((0..25).map(|_| s.get_as(&token, "/Users"))).await;
    assert!(burst.iter().all(|r| r.status == 200), "{:?}", burst.iter().map(|r| r.status).collect::<Vec<_>>());
    // Past the tenant's rate (50 a second, a burst of 50): 429 with Retry-After.
    let flood = futures_util::future::join_all((0..120).map(|_| s.get_as(&token, "/Groups"))).await;
    let refused: Vec<&Resp> = flood.iter().filter(|r| r.status == 429).collect();
    assert!(!refused.is_empty(), "some requests are refused");
    let first = refused[0];
    assert!(first.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|v| v >= 1));
    assert_eq!(first.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    // The other tenant has its own allowance.
    assert_eq!(s.get_as(&neighbour, "/Users").await.status, 200);
}

/// Shared prerequisites, performance: `/Bulk` is supported and announced.
#[tokio::test]
async fn shared_bulk_is_supported() {
    for level in LEVELS {
        let (s, token) = interop_tenant(level).await;
        let spc = s.get_as(&token, "/ServiceProviderConfig").await;
        assert_eq!(spc.body["bulk"]["supported"], true, "{level}");
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("ada")},
                {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admins",
                    "members": [{"value": "bulkId:a"}]}}
            ]
        });
        let r = s.post_as(&token, "/Bulk", &body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let statuses: Vec<Value> =
            r.body["Operations"].as_array().unwrap().iter().map(|o| o["status"].clone()).collect();
        assert_eq!(statuses, [json!("201"), json!("201")], "{level}: {}", r.body);
    }
}

/// Shared prerequisites, performance: one PATCH updates several attributes.
#[tokio::test]
async fn shared_one_patch_updates_several_attributes() {
    let (s, token) = interop_tenant("ipsie-al2").await;
    let id = created(&s, &token, &user("ada")).await;
    let r = s
        .patch_as(
            &token,
            &format!("/Users/{id}"),
            &patch_op(json!([
                {"op": "replace", "path": "displayName", "value": "Countess"},
                {"op": "replace", "path": "name.familyName", "value": "King"},
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "countess@example.com"}
            ])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["displayName"].clone(), r.body["name"]["familyName"].clone(), r.body["emails"][0]["value"].clone()),
        (json!("Countess"), json!("King"), json!("countess@example.com"))
    );
}

/// AL1: deactivation and reactivation by PATCH of `active`; GET by id.
#[tokio::test]
async fn al1_deactivate_and_reactivate_a_user_by_patch() {
    for level in LEVELS {
        let (s, token) = interop_tenant(level).await;
        let id = created(&s, &token, &user("ada")).await;
        let path = format!("/Users/{id}");
        for active in [false, true] {
            let r = s
                .patch_as(&token, &path, &patch_op(json!([{"op": "replace", "path": "active", "value": active}])))
                .await;
            assert_eq!(r.status, 200, "{level}: {}", r.body);
            assert_eq!(s.get_as(&token, &path).await.body["active"], active, "{level}");
        }
    }
}

/// AL1: after a DELETE, a new user with the same userName (and externalId) can be created.
#[tokio::test]
async fn al1_a_deleted_users_name_can_be_created_again() {
    for level in LEVELS {
        let (s, token) = interop_tenant(level).await;
        let id = created(&s, &token, &user("ada")).await;
        let del = s.send(s.client.delete(s.url(&format!("/Users/{id}"))).bearer_auth(&token)).await;
        assert_eq!(del.status, 204, "{level}");
        s.get_as(&token, &format!("/Users/{id}")).await.assert_error(404, None);
        let again = created(&s, &token, &user("ada")).await;
        assert_ne!(again, id, "{level}");
    }
}

/// AL1: the four user filters the Application supports.
#[tokio::test]
async fn al1_users_are_found_by_the_required_filters() {
    for level in LEVELS {
        let (s, token) = interop_tenant(level).await;
        let id = created(&s, &token, &user("ada")).await;
        created(&s, &token, &user("bob")).await;
        for f in [
            "username eq \"ada\"",
            "externalId eq \"ext-ada\"",
            "emails[value eq \"ada@example.com\"]",
            "emails[type eq \"work\" and value eq \"ada@example.com\"]",
        ] {
            let r = filter(&s, &token, "/Users", f).await;
            assert_eq!(r.status, 200, "{level} {f}: {}", r.body);
            assert_eq!(ids(&r.body), [id.as_str()], "{level} {f}");
        }
    }
}

/// AL2: the User schema has userName, displayName and active, `externalId` is supported,
/// and there is no `password`: not in `/Schemas`, refused on write, no password changes.
/// AL1 leaves the password alone.
#[tokio::test]
async fn al2_user_schema_has_the_required_attributes_and_no_password() {
    let (s, token) = interop_tenant("ipsie-al2").await;
    let schema = s.get_as(&token, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    assert_eq!(schema.status, 200, "{}", schema.body);
    let names: Vec<&str> =
        schema.body["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    for required in ["userName", "displayName", "active"] {
        assert!(names.contains(&required), "{required}: {names:?}");
    }
    assert!(!names.contains(&"password"), "{names:?}");
    assert_eq!(s.get_as(&token, "/ServiceProviderConfig").await.body["changePassword"]["supported"], false);
    let mut with_password = user("ada");
    with_password["password"] = json!("correct horse battery staple");
    s.post_as(&token, "/Users", &with_password).await.assert_error(400, Some("invalidSyntax"));
    let id = created(&s, &token, &user("ada")).await;
    let r = s
        .patch_as(
            &token,
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "password", "value": "x"}])),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(ids(&filter(&s, &token, "/Users", "externalId eq \"ext-ada\"").await.body), [id]);
    // AL1 does not take the password away.
    let (s1, token1) = interop_tenant("ipsie-al1").await;
    let schema = s1.get_as(&token1, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await;
    assert!(schema.body["attributes"].as_array().unwrap().iter().any(|a| a["name"] == "password"));
}

/// AL2: users are created by POST and updated by PATCH; a page holds at most 1,000 users.
#[tokio::test]
async fn al2_users_are_created_updated_and_listed_in_pages_of_at_most_1000() {
    let (s, token) = interop_tenant("ipsie-al2").await;
    let id = created(&s, &token, &user("ada")).await;
    let r = s
        .patch_as(
            &token,
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "displayName", "value": "A"}])),
        )
        .await;
    assert_eq!(r.status, 200);
    let spc = s.get_as(&token, "/ServiceProviderConfig").await;
    assert_eq!(spc.body["filter"]["maxResults"], 1000);
    assert_eq!(spc.body["pagination"]["cursor"], true, "cursor pagination is offered");
    let list = s.get_as(&token, "/Users?count=100000").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["totalResults"], 1);
}

/// AL2 groups: created with zero members; listed with `excludedAttributes=members`; found
/// by displayName, externalId and `members[value eq …]`; read by id.
#[tokio::test]
async fn al2_groups_are_created_empty_and_found_by_the_required_filters() {
    let (s, token) = interop_tenant("ipsie-al2").await;
    let ada = created(&s, &token, &user("ada")).await;
    let empty = group(&s, &token, "Nobody", &[]).await;
    let admins = group(&s, &token, "Admins", &[&ada]).await;
    let got = s.get_as(&token, &format!("/Groups/{empty}")).await;
    assert_eq!(got.status, 200);
    assert!(got.body.get("members").is_none_or(|m| m.as_array().is_some_and(Vec::is_empty)), "{}", got.body);
    let all = s.get_as(&token, "/Groups?excludedAttributes=members").await;
    assert_eq!(all.body["totalResults"], 2);
    assert!(all.body["Resources"].as_array().unwrap().iter().all(|g| g.get("members").is_none()), "{}", all.body);
    for (f, want) in [
        ("displayName eq \"Admins\"", &admins),
        ("externalId eq \"ext-Nobody\"", &empty),
        (&format!("members[value eq \"{ada}\"]") as &str, &admins),
    ] {
        let r = s.get_as(&token, &format!("/Groups?filter={}&excludedAttributes=members", enc(f))).await;
        assert_eq!(r.status, 200, "{f}: {}", r.body);
        assert_eq!(ids(&r.body), [want.as_str()], "{f}");
    }
}

/// AL2 groups: one PATCH carries at least 50 add or remove operations on `members`.
#[tokio::test]
async fn al2_a_group_patch_takes_50_member_operations() {
    let (s, token) = interop_tenant("ipsie-al2").await;
    // 60 users in one Bulk request, as the profile has an Identity Service make many
    // changes (and as the tenant's rate, 50 a second, prefers).
    let ops: Vec<Value> = (0..60)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": user(&format!("u{i:02}"))}))
        .collect();
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
    let r = s.post_as(&token, "/Bulk", &bulk).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let users: Vec<String> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["location"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(users.len(), 60);
    let g = group(&s, &token, "Everyone", &[]).await;
    let adds: Vec<Value> =
        users.iter().map(|u| json!({"op": "add", "path": "members", "value": [{"value": u}]})).collect();
    let r = s.patch_as(&token, &format!("/Groups/{g}"), &patch_op(Value::Array(adds))).await;
    assert!(r.status == 204 || r.status == 200, "{}", r.body);
    let got = s.get_as(&token, &format!("/Groups/{g}")).await;
    assert_eq!(got.body["members"].as_array().unwrap().len(), 60);
    let removes: Vec<Value> =
        users[..55].iter().map(|u| json!({"op": "remove", "path": format!("members[value eq \"{u}\"]")})).collect();
    let r = s.patch_as(&token, &format!("/Groups/{g}"), &patch_op(Value::Array(removes))).await;
    assert!(r.status == 204 || r.status == 200, "{}", r.body);
    let got = s.get_as(&token, &format!("/Groups/{g}")).await;
    assert_eq!(got.body["members"].as_array().unwrap().len(), 5);
}

/// Security considerations: errors use the SCIM error format and leak nothing internal;
/// every change is in the tenant's audit trail.
#[tokio::test]
async fn security_errors_are_scim_errors_and_changes_are_audited() {
    let (s, token) = interop_tenant("ipsie-al2").await;
    let missing = s.get_as(&token, "/Users/does-not-exist").await;
    missing.assert_error(404, None);
    assert_eq!(missing.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    let id = created(&s, &token, &user("ada")).await;
    let del = s.send(s.client.delete(s.url(&format!("/Users/{id}"))).bearer_auth(&token)).await;
    assert_eq!(del.status, 204);
    let op = s.operator_token().await;
    let mut seen = Value::Null;
    for _ in 0..50 {
        let r =
            s.send(s.client.get(s.root("/admin/v1/tenants/conformant/audit/events?limit=100")).bearer_auth(&op)).await;
        seen = r.body;
        let ops: Vec<&str> = seen.as_array().unwrap().iter().filter_map(|e| e["op"].as_str()).collect();
        if ops.contains(&"create") && ops.contains(&"delete") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the create and the delete are audited: {seen}");
}

/// Shared prerequisites: the Application prohibits local modifications of the users and
/// groups the Identity Service manages. The operator's writes (admin API, portal) are 403
/// and change nothing; the operator still reads; the Identity Service writes as before.
#[tokio::test]
async fn shared_local_changes_are_refused() {
    for level in LEVELS {
        let (s, token) = interop_tenant(level).await;
        let op = s.operator_token().await;
        let groups = s.root("/admin/v1/tenants/conformant/groups");
        let local = s.send(s.client.post(&groups).bearer_auth(&op).json(&json!({"displayName": "Local"}))).await;
        assert_eq!(local.status, 403, "{}", local.body);
        assert!(local.body["detail"].as_str().unwrap_or_default().contains("identity provider"), "{}", local.body);
        let id = group(&s, &token, "Managed", &[]).await;
        let removed = s.send(s.client.delete(format!("{groups}/{id}")).bearer_auth(&op)).await;
        assert_eq!(removed.status, 403, "{}", removed.body);
        let listed = s.send(s.client.get(&groups).bearer_auth(&op)).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let names: Vec<&str> =
            listed.body.as_array().unwrap().iter().filter_map(|g| g["displayName"].as_str()).collect();
        assert_eq!(names, ["Managed"], "{level}: the refused writes changed nothing");
        assert_eq!(s.get_as(&token, &format!("/Groups/{id}")).await.status, 200);
    }
}
