//! The events a change yields, the attributes it names, and the SET claims.

use serde_json::json;

use super::*;

fn facts<'a>(write: Write, kind: ResourceKind, before: Option<&'a Value>, after: Option<&'a Value>) -> ChangeFacts<'a> {
    ChangeFacts { write, kind, before, after, password: false, members: false }
}

#[test]
fn a_create_names_the_attributes_it_set_but_not_the_frame() {
    let doc = json!({"schemas": ["x"], "id": "1", "userName": "a", "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "d"}});
    let out = prov_events(facts(Write::Create, ResourceKind::User, None, Some(&doc)));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].event, EventType::Create);
    assert_eq!(
        out[0].payload,
        json!({"attributes": ["active", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "userName"]})
    );
}

#[test]
fn a_patch_that_turns_active_off_is_a_patch_then_a_deactivation() {
    let before = json!({"userName": "a", "active": true, "title": "x"});
    let after = json!({"userName": "a", "active": false, "title": "x"});
    let out = prov_events(facts(Write::Patch, ResourceKind::User, Some(&before), Some(&after)));
    let types: Vec<_> = out.iter().map(|d| d.event).collect();
    assert_eq!(types, [EventType::Patch, EventType::Deactivate]);
    assert_eq!(out[0].payload, json!({"attributes": ["active"]}));
    // And back: a put, then an activation.
    let out = prov_events(facts(Write::Replace, ResourceKind::User, Some(&after), Some(&before)));
    assert_eq!(out.iter().map(|d| d.event).collect::<Vec<_>>(), [EventType::Put, EventType::Activate]);
}

#[test]
fn a_change_of_nothing_yields_no_event_but_a_password_or_members_count() {
    let doc = json!({"userName": "a"});
    assert!(prov_events(facts(Write::Patch, ResourceKind::User, Some(&doc), Some(&doc))).is_empty());
    let mut f = facts(Write::Patch, ResourceKind::User, Some(&doc), Some(&doc));
    f.password = true;
    assert_eq!(prov_events(f)[0].payload, json!({"attributes": ["password"]}));
    let g = json!({"displayName": "g"});
    let mut f = facts(Write::Replace, ResourceKind::Group, Some(&g), Some(&g));
    f.members = true;
    assert_eq!(prov_events(f)[0].payload, json!({"attributes": ["members"]}));
}

#[test]
fn a_delete_is_one_event_and_an_absent_active_is_active() {
    let out = prov_events(facts(Write::Delete, ResourceKind::Group, None, None));
    assert_eq!(out, [Draft { event: EventType::Delete, payload: json!({}) }]);
    let before = json!({"userName": "a"});
    let after = json!({"userName": "a", "active": true});
    let out = prov_events(facts(Write::Patch, ResourceKind::User, Some(&before), Some(&after)));
    assert_eq!(out.iter().map(|d| d.event).collect::<Vec<_>>(), [EventType::Patch]);
}

#[test]
fn an_extension_removed_whole_is_named_by_its_attributes() {
    let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let before = json!({urn: {"department": "d", "costCenter": "c"}});
    let after = json!({});
    assert_eq!(changed_attributes(&before, &after), [format!("{urn}:costCenter"), format!("{urn}:department")]);
}

#[test]
fn event_types_parse_from_names_and_uris() {
    for t in EventType::ALL {
        assert_eq!(EventType::parse(t.name()), Some(t));
        assert_eq!(EventType::parse(t.uri(false)), Some(t));
        assert_eq!(EventType::parse(&t.uri(true).to_uppercase()), Some(t));
    }
    assert_eq!(EventType::parse("prov:create"), Some(EventType::Create));
    assert_eq!(EventType::parse("feed:add"), None);
    assert_eq!(EventType::parse("nonsense"), None);
}

fn event() -> Event {
    Event {
        seq: 7,
        jti: "j1".into(),
        time_ms: 1_700_000_000_500,
        kind: ResourceKind::User,
        resource_id: "u1".into(),
        external_id: Some("x1".into()),
        version: Some(3),
        event: EventType::Patch,
        payload: json!({"attributes": ["title"]}),
        txn: Some("req-1".into()),
    }
}

#[test]
fn set_claims_name_the_resource_in_the_scim_subject_format() {
    let c = set_claims(&event(), "https://scimd/acme", "https://receiver", "acme", 1_700_000_001, None);
    assert_eq!(
        c,
        json!({
            "iss": "https://scimd/acme", "iat": 1_700_000_001, "jti": "j1", "aud": "https://receiver",
            "toe": 1_700_000_000, "txn": "req-1",
            "sub_id": {"format": "scim", "uri": "/Users/u1", "externalId": "x1"},
            "events": {"urn:ietf:params:scim:event:prov:patch:notice": {"attributes": ["title"], "version": "W/\"3\""}},
            "seq": 7, "tenant": "acme"
        })
    );
    assert!(c.get("exp").is_none());
}

#[test]
fn an_async_outcome_names_its_resource_or_the_collection_when_there_is_none() {
    let mut e = event();
    e.event = EventType::AsyncResponse;
    e.external_id = None;
    e.txn = Some("req-1:0".into());
    e.payload = json!({"method": "POST", "bulkId": "b1", "status": "201", "location": "https://h/scim/v2/Users/u1"});
    let c = set_claims(&e, "i", "a", "acme", 1, None);
    assert_eq!(c["sub_id"], json!({"format": "scim", "uri": "/Users/u1"}));
    assert_eq!(c["txn"], "req-1:0");
    let member = &c["events"]["urn:ietf:params:scim:event:misc:asyncresp"];
    assert_eq!((member["status"].as_str(), member["version"].as_str()), (Some("201"), Some("W/\"3\"")));
    // A POST that failed created nothing: its collection is the subject.
    e.resource_id = "/Users".into();
    e.version = None;
    assert_eq!(set_claims(&e, "i", "a", "acme", 1, None)["sub_id"]["uri"], "/Users");
}

#[test]
fn the_full_form_carries_the_resource_instead_of_the_attribute_names() {
    let data = json!({"id": "u1", "userName": "a"});
    let (uri, payload) = event_member(&event(), Some(data.clone()));
    assert_eq!(uri, "urn:ietf:params:scim:event:prov:patch:full");
    assert_eq!(payload, json!({"data": data, "version": "W/\"3\""}));
    // A delete has no full form.
    let mut e = event();
    e.event = EventType::Delete;
    e.payload = json!({});
    e.version = None;
    assert_eq!(event_member(&e, Some(json!({}))), ("urn:ietf:params:scim:event:prov:delete", json!({})));
}

#[test]
fn a_filter_takes_kinds_and_event_types() {
    let e = event();
    assert!(StreamFilter::default().admits(&e));
    assert!(!StreamFilter { kinds: Some(vec![ResourceKind::Group]), events: None }.admits(&e));
    assert!(StreamFilter { kinds: None, events: Some(vec![EventType::Patch, EventType::Create]) }.admits(&e));
    assert!(!StreamFilter { kinds: None, events: Some(vec![EventType::Delete]) }.admits(&e));
}
