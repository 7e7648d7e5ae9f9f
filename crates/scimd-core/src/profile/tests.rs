//! The profile's validation and defaults, tested.

use super::*;

#[test]
fn defaults_allow_everything_and_a_stored_profile_names_only_changes() {
    let p = Profile::default();
    for op in [Operation::Read, Operation::Create, Operation::Replace, Operation::Patch, Operation::Delete] {
        assert!(p.check(ResourceKind::User, op).is_ok());
        assert!(p.check(ResourceKind::Group, op).is_ok());
    }
    let q = Profile::from_json(r#"{"groups": {"create": false, "replace": false, "patch": false, "delete": false}}"#)
        .unwrap();
    assert!(q.check(ResourceKind::Group, Operation::Read).is_ok());
    let e = q.check(ResourceKind::Group, Operation::Create).unwrap_err();
    assert_eq!(e.status, 405);
    assert!(e.detail.contains("allows: GET"), "{}", e.detail);
    assert_eq!(q.groups.allowed_methods(), ["GET"]);
}

#[test]
fn an_unoffered_type_is_404_and_bad_profiles_are_named() {
    let p = Profile::from_json(r#"{"groups": {"offered": false}}"#).unwrap();
    assert_eq!(p.check(ResourceKind::Group, Operation::Read).unwrap_err().status, 404);
    assert!(Profile::from_json(r#"{"groups": {"offered": false}, "users": {"offered": false}}"#).is_err());
    assert!(Profile::from_json(r#"{"max_page_size": 0}"#).unwrap_err().contains("max_page_size"));
    assert!(Profile::from_json(r#"{"default_page_size": 50, "max_page_size": 10}"#).is_err());
    assert!(Profile::from_json(r#"{"no_such_setting": true}"#).unwrap_err().contains("no_such_setting"));
    let badges = r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:example:locker:1.0:User",
        "attributes": [{"name": "badges", "type": "complex", "multiValued": true, "subAttributes": [
            {"name": "value", "type": "string"}, {"name": "display", "type": "string"}]}]}}]}"#;
    let reg = Profile::from_json(badges).unwrap().registry().unwrap();
    assert!(reg.find_attr(ResourceKind::User, Some("urn:example:locker:1.0:User"), "badges").is_some());
    for bad in [
        r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:ietf:params:scim:x", "attributes": [{"name": "a", "type": "string"}]}}]}"#,
        r#"{"extensions": [{"resource_type": "Thing", "schema": {"id": "urn:x:y", "attributes": [{"name": "a", "type": "string"}]}}]}"#,
        r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:x:y", "attributes": [{"name": "a", "type": "text"}]}}]}"#,
        r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:x:y", "attributes": [{"name": "a", "type": "string", "uniqueness": "server"}]}}]}"#,
        r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:x:y", "attributes": [{"name": "a", "type": "complex"}]}}]}"#,
        r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:x:y", "attributes": [{"name": "1a", "type": "string"}]}}]}"#,
        r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:x:y", "attributes": [{"name": "pin", "type": "string", "mutability": "writeOnly"}]}}]}"#,
        r#"{"extensions": [{"resource_type": "User", "schema": {"id": "urn:x:y", "attributes": [{"name": "c", "type": "complex", "subAttributes": [{"name": "pin", "type": "string", "mutability": "writeOnly"}]}]}}]}"#,
    ] {
        assert!(Profile::from_json(bad).is_err(), "{bad}");
    }
    let w2 = Profile::from_json(r#"{"token_path": "/oauth2/server/token"}"#).unwrap();
    assert_eq!(w2.token_path.as_deref(), Some("/oauth2/server/token"));
    assert!(Profile::from_json(r#"{"base_paths": ["/oauth2/scim"]}"#).unwrap_err().contains("reserved"));
    assert!(Profile::from_json(r#"{"token_path": "/oauth2/revoke"}"#).unwrap_err().contains("reserved"));
    let mounted = Profile::from_json(r#"{"base_paths": ["/api", "/scim/v1"], "token_path": "/auth/token"}"#).unwrap();
    assert!(mounted.serves_at("/api") && mounted.serves_at("/scim/v1") && !mounted.serves_at("/scim/v2"));
    assert!(Profile::default().serves_at("/scim/v2"));
    assert_eq!(Profile::default().api_paths(), ["/scim/v2"]);
    for url in ["https://h.example/scim/v2", "https://h.example/scim/v2/", "https://h.example/", "https://h.example"] {
        assert_eq!(public_root(url), "https://h.example", "{url}");
    }
    assert_eq!(public_root("https://h.example/prefix/scim/v2"), "https://h.example/prefix");
    assert_eq!(mounted.api_paths(), ["/api", "/scim/v1"]);
    for bad in [
        r#"{"base_paths": ["api"]}"#,
        r#"{"base_paths": ["/api/"]}"#,
        r#"{"base_paths": ["/a b"]}"#,
        r#"{"base_paths": ["/admin/x"]}"#,
        r#"{"base_paths": ["/api"], "token_path": "/api/token"}"#,
    ] {
        assert!(Profile::from_json(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Profile::from_json(r#"{"default_page_size": 10, "max_page_size": 5000}"#).unwrap().page_sizes(100, 1000),
        (10, 5000)
    );
    assert_eq!(Profile::default().page_sizes(100, 1000), (100, 1000));
}

#[test]
fn user_rules() {
    use serde_json::json;
    let p = Profile::from_json(
        r#"{"max_emails": 1, "user_name_is_work_email": true, "require_name": true,
            "preferred_language_fallback": "en"}"#,
    )
    .unwrap();
    let mut ok = json!({"userName": "Ada@Example.com", "name": {"givenName": "Ada"},
                        "emails": [{"value": "ada@example.com", "type": "work"}], "preferredLanguage": "klingon"});
    p.check_user(&mut ok).unwrap();
    // The value as sent stays; the product's language is derived beside it.
    assert_eq!(ok["preferredLanguage"], "klingon");
    assert_eq!(ok[crate::language::LANGUAGE_URN]["language"], "en");
    let mut kept = json!({"userName": "a@x", "name": {"familyName": "A"}, "emails": [{"value": "a@x", "type": "work"}],
                          "preferredLanguage": "de-CH"});
    p.check_user(&mut kept).unwrap();
    assert_eq!(kept["preferredLanguage"], "de-CH");
    assert_eq!(kept[crate::language::LANGUAGE_URN]["language"], "de");
    for (bad, words) in [
        (
            json!({"userName": "a@x", "name": {"givenName": "A"},
                "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}]}),
            "at most 1 email",
        ),
        (
            json!({"userName": "a@x", "name": {"givenName": "A"}, "emails": [{"value": "a@x", "type": "home"}]}),
            "work email",
        ),
        (
            json!({"userName": "alice", "name": {"givenName": "A"}, "emails": [{"value": "a@x", "type": "work"}]}),
            "must be",
        ),
        (json!({"userName": "a@x", "emails": [{"value": "a@x", "type": "work"}]}), "needs a name"),
    ] {
        let mut doc = bad.clone();
        let e = p.check_user(&mut doc).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.contains(words), "{bad}: {}", e.detail);
    }
}

#[test]
fn the_visitor_languages_are_validated_and_listed_in_the_schemas() {
    use serde_json::json;
    let p = Profile::from_json(
        r#"{"preferred_language_fallback": "en", "languages": ["de", "en", "es", "fr", "it", "nl", "sk", "sl", "vi", "ko"]}"#,
    )
    .unwrap();
    for (sent, used) in [("pt", "en"), ("ja", "en"), ("EN", "en"), ("en_US", "en"), ("Brussels HQ", "en"), ("ko", "ko")]
    {
        let mut doc = json!({"userName": "a", "preferredLanguage": sent});
        p.check_user(&mut doc).unwrap();
        assert_eq!(
            (doc["preferredLanguage"].as_str(), doc[crate::language::LANGUAGE_URN]["language"].as_str()),
            (Some(sent), Some(used))
        );
    }
    assert!(p.own_registry());
    let reg = p.registry().unwrap();
    let lang = reg.find_attr(ResourceKind::User, Some(crate::language::LANGUAGE_URN), "language").unwrap().1;
    assert_eq!(lang.mutability, Mutability::ReadOnly);
    for (bad, words) in [
        (r#"{"languages": ["en"]}"#, "needs preferred_language_fallback"),
        (r#"{"preferred_language_fallback": "en", "languages": ["de"]}"#, "not one of languages"),
        (r#"{"preferred_language_fallback": "en", "languages": ["EN"]}"#, "'EN' is not a language code"),
        (r#"{"preferred_language_fallback": "xx"}"#, "not a language code"),
    ] {
        assert!(Profile::from_json(bad).unwrap_err().contains(words), "{bad}");
    }
    assert!(!Profile::default().own_registry());
    // A profile stored before `languages` existed, with a region in its fallback, loads.
    let old = Profile::from_json(r#"{"preferred_language_fallback": "en-US"}"#).unwrap();
    let mut doc = json!({"userName": "a", "preferredLanguage": "Brussels HQ"});
    old.check_user(&mut doc).unwrap();
    assert_eq!(doc[crate::language::LANGUAGE_URN]["language"], "en");
    assert!(Profile::from_json(r#"{"preferred_language_fallback": "de-CH", "languages": ["de"]}"#).is_ok());
}

#[test]
fn patch_turned_off_everywhere_is_not_implemented() {
    let p = Profile::from_json(r#"{"users": {"patch": false}, "groups": {"offered": false}}"#).unwrap();
    let e = p.check(ResourceKind::User, Operation::Patch).unwrap_err();
    assert_eq!(e.status, 501);
    assert!(e.detail.contains("patch.supported=false") && e.detail.contains("PUT"), "{}", e.detail);
    assert!(!p.service_provider_config(&ServiceProviderConfig::default(), 10).patch);
    assert!(p.check(ResourceKind::User, Operation::Replace).is_ok());
    // PATCH on another type still: the operation exists, this endpoint refuses it.
    let q = Profile::from_json(r#"{"users": {"patch": false}}"#).unwrap();
    assert_eq!(q.check(ResourceKind::User, Operation::Patch).unwrap_err().status, 405);
    assert!(Profile::default().check(ResourceKind::User, Operation::Patch).is_ok());
}

#[test]
fn phone_numbers_and_the_scim1_alias() {
    use serde_json::json;
    let p = Profile { phone_numbers_e164: true, ..Profile::default() };
    let user = |phones: Value| json!({"userName": "a", "phoneNumbers": phones});
    // The visitor manager's sample: the same number as mobile and as work.
    let mut sample =
        user(json!([{"type": "mobile", "value": "+44007007007"}, {"type": "work", "value": "+44007007007"}]));
    p.check_user(&mut sample).unwrap();
    for (phones, words) in [
        (json!([{"type": "mobile", "value": "+442071838750"}]), "not a mobile"),
        (json!([{"type": "work", "value": "+44 20 7183 8750"}]), "E.164"),
        (json!([{"type": "home", "value": "07911123456"}]), "E.164"),
    ] {
        let e = p.check_user(&mut user(phones.clone())).unwrap_err();
        assert!(e.detail.contains(words), "{phones}: {}", e.detail);
    }
    let p = Profile { scim1_user_schema: true, ..Profile::default() };
    let body = json!({"schemas": [SCIM1_CORE], "userName": "a"});
    assert_eq!(p.user_body(ResourceKind::User, &body)["schemas"][0], CORE_USER);
    assert_eq!(p.client_schema(ResourceKind::User, &body), Some(SCIM1_CORE));
    assert_eq!(p.client_schema(ResourceKind::User, &json!({"schemas": [CORE_USER]})), None);
    assert_eq!(p.client_schema(ResourceKind::Group, &body), None);
    assert_eq!(Profile::default().client_schema(ResourceKind::User, &body), None);
    assert_eq!(Profile::default().user_body(ResourceKind::User, &body)["schemas"][0], SCIM1_CORE);
}
