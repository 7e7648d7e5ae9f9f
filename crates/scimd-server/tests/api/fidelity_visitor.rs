//! The visitor manager's integration guide replayed against the `visitor` preset, where a
//! customer moving to scimd would otherwise notice a difference: the guide's own sample
//! payload, `preferredLanguage` kept as sent (with the product's language derived beside
//! it), SCIM 1.x payloads answered in SCIM 1.x, discovery without Groups, PATCH turned off,
//! and multi-location provisioning from the location the integration is installed in.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Resp, TestServer, enc, patch_op};

const SCIM1: &str = "urn:scim:schemas:core:1.0";
const SCIM2_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LANGUAGE: &str = "urn:scimd:schemas:extension:language:1.0:User";
const PLACES: &str = "urn:scimd:schemas:extension:places:1.0:User";

/// The guide's "Sample JSON payload", verbatim.
fn sample() -> Value {
    json!({
        "schemas": ["urn:scim:schemas:core:1.0"],
        "userName": "james.bond.007@mi6.org",
        "name": {"formatted": "James Bond", "familyName": "Bond", "givenName": "James"},
        "emails": [{"value": "james.bond.007@mi6.org", "type": "work", "primary": true}],
        "phoneNumbers": [{"type": "mobile", "value": "+44007007007"}, {"type": "work", "value": "+44007007007"}],
        "addresses": [{"primary": true, "locality": "London"}],
        "title": "Secret Agent 007",
        "preferredLanguage": "en",
        "active": true
    })
}

/// The sample for another colleague: userName and work email `mail`, `key` set to `value`.
fn colleague(mail: &str, key: &str, value: Value) -> Value {
    let mut u = sample();
    u["userName"] = json!(mail);
    u["emails"] = json!([{"value": mail, "type": "work", "primary": true}]);
    u[key] = value;
    u
}

/// The customer's side: a tenant made with the visitor preset and its bearer token (Step 1,
/// installing the integration).
struct Visitor {
    s: TestServer,
    op: String,
    token: String,
}

impl Visitor {
    async fn install() -> Visitor {
        let s = TestServer::start().await;
        let op = s.operator_token().await;
        let t = s
            .send(admin(&s, &op, Method::POST, "/tenants").json(&json!({"name": "reception", "preset": "visitor"})))
            .await;
        assert_eq!(t.status, 201, "{}", t.body);
        let tok = s.send(admin(&s, &op, Method::POST, "/tenants/reception/tokens").json(&json!({}))).await;
        assert_eq!(tok.status, 201, "{}", tok.body);
        let token = tok.body["token"].as_str().unwrap().to_string();
        Visitor { s, op, token }
    }

    /// `METHOD /scim/v1{path}` with the integration's bearer token.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Resp {
        let mut rq = self
            .s
            .client
            .request(method, self.s.root(&format!("/scim/v1{path}")))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json");
        if let Some(b) = body {
            rq = rq.json(b);
        }
        self.s.send(rq).await
    }

    async fn post_user(&self, body: &Value) -> Resp {
        self.call(Method::POST, "/Users", Some(body)).await
    }

    async fn admin(&self, method: Method, path: &str, body: Value) -> Resp {
        self.s.send(admin(&self.s, &self.op, method, path).json(&body)).await
    }
}

fn admin(s: &TestServer, op: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    s.client.request(method, s.root(&format!("/admin/v1{path}"))).bearer_auth(op)
}

#[tokio::test]
async fn the_guides_sample_payload_is_accepted_as_it_is_written() {
    let v = Visitor::install().await;
    // POST /Users with the sample: the same payload back, with the id.
    let created = v.post_user(&sample()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    for k in ["userName", "name", "emails", "phoneNumbers", "addresses", "title", "preferredLanguage", "active"] {
        assert_eq!(created.body[k], sample()[k], "{k} echoed: {}", created.body);
    }
    let id = created.body["id"].as_str().unwrap().to_string();
    // PUT /Users/{id}: the full payload again, id omitted.
    let put = v.call(Method::PUT, &format!("/Users/{id}"), Some(&sample())).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["phoneNumbers"], sample()["phoneNumbers"]);
    // What the guide says fails still fails, and changes nothing: a work number not in
    // E.164 form, a mobile number not in E.164 form, a mobile number that is a landline.
    for (phones, words) in [
        (json!([{"type": "work", "value": "020 7183 8750"}]), "E.164"),
        (json!([{"type": "work", "value": "+44 (0)20 7183 8750"}]), "E.164"),
        (json!([{"type": "mobile", "value": "07911 123456"}]), "E.164"),
        (json!([{"type": "mobile", "value": "+442071838750"}]), "not a mobile number"),
    ] {
        let r = v.post_user(&colleague("q@mi6.org", "phoneNumbers", phones.clone())).await;
        r.assert_error(400, Some("invalidValue"));
        assert!(r.body["detail"].as_str().unwrap().contains(words), "{phones}: {}", r.body);
        let r = v
            .call(
                Method::PUT,
                &format!("/Users/{id}"),
                Some(&colleague("james.bond.007@mi6.org", "phoneNumbers", phones)),
            )
            .await;
        r.assert_error(400, Some("invalidValue"));
    }
    let got = v.call(Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(got.body["phoneNumbers"], sample()["phoneNumbers"], "unchanged: {}", got.body);
    // A real mobile, and a landline as the desk number, are fine.
    let ok = v
        .post_user(&colleague(
            "m@mi6.org",
            "phoneNumbers",
            json!([{"type": "mobile", "value": "+447911123456"}, {"type": "work", "value": "+442071838750"}]),
        ))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
}

#[tokio::test]
async fn preferred_language_is_kept_as_sent_and_the_products_language_derived_beside_it() {
    let v = Visitor::install().await;
    // (sent, the language the product uses): supported codes in any case, the region
    // dropped; anything else, languages the product lacks included, is en.
    let cases = [
        ("en", "en"),
        ("EN", "en"),
        ("en_US", "en"),
        ("fr-BE", "fr"),
        ("ko", "ko"),
        ("pt", "en"),
        ("ja", "en"),
        ("Brussels HQ", "en"),
    ];
    let mut ids = Vec::new();
    for (i, (sent, used)) in cases.iter().enumerate() {
        let r = v.post_user(&colleague(&format!("host{i}@mi6.org"), "preferredLanguage", json!(sent))).await;
        assert_eq!(r.status, 201, "{sent}: {}", r.body);
        assert_eq!(r.body["preferredLanguage"], *sent, "{}", r.body);
        assert_eq!(r.body[LANGUAGE], json!({"language": used}), "{sent}: {}", r.body);
        assert!(r.body["schemas"].as_array().unwrap().contains(&json!(LANGUAGE)), "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    // Stored as sent: read back, and found by a filter on the value as sent.
    let got = v.call(Method::GET, &format!("/Users/{}", ids[7]), None).await;
    assert_eq!(
        (got.body["preferredLanguage"].as_str(), got.body[LANGUAGE]["language"].as_str()),
        (Some("Brussels HQ"), Some("en"))
    );
    let hq = v.call(Method::GET, &format!("/Users?filter={}", enc("preferredLanguage eq \"Brussels HQ\"")), None).await;
    assert_eq!(hq.body["totalResults"], 1, "{}", hq.body);
    let ko =
        v.call(Method::GET, &format!("/Users?filter={}", enc(&format!("{LANGUAGE}:language eq \"ko\""))), None).await;
    assert_eq!(ko.body["totalResults"], 1, "{}", ko.body);
    // The derived language is read-only: a client's value is ignored, a PUT recomputes it.
    let mut forged = colleague("host5@mi6.org", "preferredLanguage", json!("de_AT"));
    forged[LANGUAGE] = json!({"language": "ja"});
    let put = v.call(Method::PUT, &format!("/Users/{}", ids[5]), Some(&forged)).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(
        (put.body["preferredLanguage"].as_str(), put.body[LANGUAGE]["language"].as_str()),
        (Some("de_AT"), Some("de"))
    );
    // /Schemas describes it.
    let schemas = v.call(Method::GET, "/Schemas", None).await;
    let lang = schemas.body["Resources"].as_array().unwrap().iter().find(|s| s["id"] == LANGUAGE).cloned();
    assert_eq!(lang.expect("listed")["attributes"][0]["mutability"], "readOnly");
}

#[tokio::test]
async fn a_scim1_payload_is_answered_with_the_scim1_schema_for_that_user() {
    let v = Visitor::install().await;
    let bond = v.post_user(&sample()).await;
    assert_eq!(bond.status, 201, "{}", bond.body);
    assert_eq!(bond.body["schemas"][0], SCIM1, "{}", bond.body);
    assert!(!bond.body["schemas"].as_array().unwrap().contains(&json!(SCIM2_USER)), "{}", bond.body);
    let bond_id = bond.body["id"].as_str().unwrap().to_string();
    // A client writing SCIM 2.0 to the same tenant is answered in SCIM 2.0.
    let mut modern = colleague("q@mi6.org", "title", json!("Quartermaster"));
    modern["schemas"] = json!([SCIM2_USER]);
    let q = v.post_user(&modern).await;
    assert_eq!(q.status, 201, "{}", q.body);
    assert_eq!(q.body["schemas"][0], SCIM2_USER);
    let q_id = q.body["id"].as_str().unwrap().to_string();
    // Every later answer about a user names the schema its client wrote it with: GET,
    // GET with attributes, the list, and the filter by userName the guide describes.
    let got = v.call(Method::GET, &format!("/Users/{bond_id}"), None).await;
    assert_eq!(got.body["schemas"][0], SCIM1, "{}", got.body);
    let some = v.call(Method::GET, &format!("/Users/{bond_id}?attributes=userName"), None).await;
    assert_eq!(some.body["schemas"][0], SCIM1, "{}", some.body);
    assert!(some.body.get("title").is_none());
    let list = v.call(Method::GET, "/Users?count=5000", None).await;
    let schema_of = |id: &str| {
        list.body["Resources"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["schemas"][0].clone()
    };
    assert_eq!((schema_of(&bond_id), schema_of(&q_id)), (json!(SCIM1), json!(SCIM2_USER)), "{}", list.body);
    let found =
        v.call(Method::GET, &format!("/Users?filter={}", enc("userName eq \"james.bond.007@mi6.org\"")), None).await;
    assert_eq!(found.body["Resources"][0]["schemas"][0], SCIM1, "{}", found.body);
    // PUT answers with what the client sends now.
    let put = v.call(Method::PUT, &format!("/Users/{q_id}"), Some(&colleague("q@mi6.org", "title", json!("Q")))).await;
    assert_eq!(put.body["schemas"][0], SCIM1, "{}", put.body);
    assert_eq!(v.call(Method::GET, &format!("/Users/{q_id}"), None).await.body["schemas"][0], SCIM1);
    // The marker is no attribute: no filter or PUT sees it, and the document is the same.
    let by_title = v.call(Method::GET, &format!("/Users?filter={}", enc("title eq \"Q\"")), None).await;
    assert_eq!(by_title.body["totalResults"], 1, "{}", by_title.body);
    assert_eq!(got.body.as_object().unwrap().keys().filter(|k| *k == "schemas").count(), 1);
}

#[tokio::test]
async fn discovery_shows_users_only_and_patch_is_turned_off() {
    let v = Visitor::install().await;
    // /Schemas: no Group schema for a tenant without Groups.
    let schemas = v.call(Method::GET, "/Schemas", None).await;
    assert_eq!(schemas.status, 200, "{}", schemas.body);
    let ids: Vec<&str> =
        schemas.body["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&SCIM2_USER), "{ids:?}");
    assert!(!ids.iter().any(|i| i.ends_with(":Group")), "{ids:?}");
    assert_eq!(schemas.body["totalResults"], ids.len());
    v.call(Method::GET, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", None).await.assert_error(404, None);
    let types = v.call(Method::GET, "/ResourceTypes", None).await;
    assert_eq!(types.body["totalResults"], 1);
    assert_eq!(types.body["Resources"][0]["id"], "User");
    v.call(Method::GET, "/ResourceTypes/Group", None).await.assert_error(404, None);
    // PATCH: not in the guide, so not supported, and ServiceProviderConfig says so.
    let spc = v.call(Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(spc.body["patch"]["supported"], false, "{}", spc.body);
    let bond = v.post_user(&sample()).await;
    let id = bond.body["id"].as_str().unwrap().to_string();
    let patch = v
        .call(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(&patch_op(json!([{"op": "replace", "path": "title", "value": "M"}]))),
        )
        .await;
    patch.assert_error(501, None);
    let detail = patch.body["detail"].as_str().unwrap();
    assert!(detail.contains("PATCH is not supported") && detail.contains("PUT"), "{detail}");
    let allow = patch.header("allow").unwrap_or_default().to_string();
    assert!(allow.contains("PUT") && !allow.contains("PATCH"), "{allow}");
    assert_eq!(v.call(Method::GET, &format!("/Users/{id}"), None).await.body["title"], "Secret Agent 007");
    // Other tenants keep PATCH (on by default) and the Group schema.
    let plain =
        v.s.patch(
            &format!("/Users/{}", v.s.create_user("ada").await["id"].as_str().unwrap()),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "M"}])),
        )
        .await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert_eq!(v.s.get("/ServiceProviderConfig").await.body["patch"]["supported"], true);
    assert_eq!(v.s.get("/Schemas").await.body["totalResults"], 3);
}

#[tokio::test]
async fn the_location_the_integration_is_installed_in_provisions_everyone_unless_rules_say_otherwise() {
    let v = Visitor::install().await;
    // The customer's locations: London (where the integration is installed), Brussels and
    // Paris. London is the primary location: everyone, and their home.
    let tree = json!({"locations": [{"key": "london", "name": "London"}, {"key": "brussels", "name": "Brussels HQ"},
                                    {"key": "paris", "name": "Paris"}]});
    let r = v.admin(Method::PUT, "/tenants/reception/places", tree).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = v.admin(Method::PUT, "/tenants/reception/places/locations/london/rules", json!({"primary": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Single location: everyone provisioned there, at home there.
    let bond = v.post_user(&sample()).await;
    assert_eq!(bond.status, 201, "{}", bond.body);
    assert_eq!(bond.body[PLACES], json!({"locations": ["london"], "homeLocation": "london"}), "{}", bond.body);
    // Multi-location mapping: Brussels toggled on, "only import specific users" whose
    // city (addresses.locality) or Language is Brussels; the Advanced panel makes it home
    // for those whose Language reads "Brussels HQ". Paris stays toggled off.
    let brussels = json!({"provision": "rules", "match": "any",
        "rules": [{"attribute": "locality", "op": "equals", "value": "Brussels"},
                  {"attribute": "language", "op": "contains", "value": "Brussels"}],
        "home": {"rules": [{"attribute": "language", "op": "equals", "value": "Brussels HQ"}]}});
    let r = v.admin(Method::PUT, "/tenants/reception/places/locations/brussels/rules", brussels).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let hq = v.post_user(&colleague("m@mi6.org", "preferredLanguage", json!("Brussels HQ"))).await;
    assert_eq!(hq.status, 201, "{}", hq.body);
    assert_eq!(
        hq.body[PLACES],
        json!({"locations": ["brussels", "london"], "homeLocation": "brussels"}),
        "{}",
        hq.body
    );
    assert_eq!(
        (hq.body["preferredLanguage"].as_str(), hq.body[LANGUAGE]["language"].as_str()),
        (Some("Brussels HQ"), Some("en"))
    );
    let visiting =
        v.post_user(&colleague("q@mi6.org", "addresses", json!([{"primary": true, "locality": "Brussels"}]))).await;
    assert_eq!(visiting.body[PLACES], json!({"locations": ["brussels", "london"], "homeLocation": "london"}));
    // The admin view says the same; a second primary location is refused.
    let of = v.s.send(admin(&v.s, &v.op, Method::GET, "/tenants/reception/users/m@mi6.org/places")).await;
    assert_eq!(of.body, json!({"locations": ["brussels", "london"], "home": "brussels"}));
    let r = v.admin(Method::PUT, "/tenants/reception/places/locations/paris/rules", json!({"primary": true})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.to_string().contains("'london' is the primary location already"), "{}", r.body);
    // London restricted to London's city by its own rules: no longer everyone's.
    let london = json!({"primary": true, "provision": "rules",
        "rules": [{"attribute": "locality", "op": "equals", "value": "London"}]});
    let r = v.admin(Method::PUT, "/tenants/reception/places/locations/london/rules", london).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let paris = v.post_user(&colleague("p@mi6.org", "addresses", json!([{"locality": "Paris"}]))).await;
    assert_eq!(paris.status, 201, "{}", paris.body);
    assert!(paris.body.get(PLACES).is_none(), "{}", paris.body);
}
