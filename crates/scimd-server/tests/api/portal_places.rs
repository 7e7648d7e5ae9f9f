//! The portal's places and settings pages over HTTP: the places tree (import, add,
//! remove), access links granted and revoked and seen in a member's effective access,
//! location rules previewed (nothing changes) and saved, a place's users, and a tenant's
//! profile and audit settings (a refused profile shown in place); every change audited with
//! the person; a system user of another tenant finds none of it.

use std::sync::Arc;

use scimd_server::admin::Admin;
use scimd_server::clock::SystemClock;
use serde_json::{Value, json};

use super::common::TestServer;
use super::portal::{OPERATOR_PASSWORD, audited, operator, portal};
use super::portal_client::{Browser, Page};

fn admin(s: &TestServer) -> Admin {
    Admin::new(s.store.clone(), Arc::new(SystemClock))
}

async fn acme(s: &TestServer) -> scimd_store::TenantId {
    admin(s).tenant("acme").await.unwrap().id
}

/// An operator signed in, on acme's places page.
async fn signed_in(s: &TestServer) -> (Browser, Page) {
    operator(s, "alice").await;
    let mut b = Browser::new(s);
    b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    let page = b.get("/portal/t/acme/places").await;
    assert_eq!(page.status, 200, "{}", page.body);
    (b, page)
}

/// No inline script, style or handler on a page.
fn strict(page: &Page) {
    for attr in [" onclick=", " onload=", " style=", "javascript:", "<script>"] {
        assert!(!page.body.contains(attr), "{attr} in the page");
    }
}

const TREE: &str = r#"{"locations":[{"key":"hq","name":"Head office","sections":[{"key":"s1","banks":[
    {"key":"b1","lockers":[{"key":"l1"},{"key":"l2"}]},{"key":"b2","lockers":[{"key":"l3"}]}]}]}]}"#;

#[tokio::test]
async fn a_group_granted_a_bank_gives_its_members_access_until_revoked() {
    let s = TestServer::start().await;
    let (mut b, page) = signed_in(&s).await;
    strict(&page);
    let csrf = page.csrf();
    let imported = b.post("/portal/t/acme/places/import", &[("_csrf", &csrf), ("tree", TREE)]).await;
    assert_eq!(imported.status, 303, "{}", imported.body);
    let imported = b.follow(imported).await;
    assert!(imported.body.contains("Imported: 7 created, 0 updated, 0 unchanged."), "{}", imported.body);
    let ada = s.create_user("ada").await;
    let ada_id = ada["id"].as_str().unwrap();
    let crew = s.create_group("Crew", &[ada_id]).await;

    let granted = b
        .post("/portal/t/acme/places/grant", &[("_csrf", &csrf), ("group", "Crew"), ("level", "bank"), ("key", "b1")])
        .await;
    assert_eq!(granted.status, 303, "{}", granted.body);
    let after = b.follow(granted).await;
    assert!(after.body.contains("Crew may use b1 now."), "{}", after.body);
    assert!(after.body.contains("<td>Crew</td>"), "the link is listed");
    let event = audited(&s, acme(&s).await, "portal-grant-access").await;
    assert_eq!(event.client.as_deref(), Some("operator:alice"));

    // The member's effective access, by userName and by id.
    let by_name = b.get("/portal/t/acme/places/access/ada").await;
    assert_eq!(by_name.status, 200, "{}", by_name.body);
    strict(&by_name);
    for key in ["<code>b1</code>", "<code>l1</code>", "<code>l2</code>"] {
        assert!(by_name.body.contains(key), "{key}: {}", by_name.body);
    }
    assert!(!by_name.body.contains("<code>l3</code>"), "b2 is not theirs");
    let by_id = b.get(&format!("/portal/t/acme/places/access/{ada_id}")).await;
    assert!(by_id.body.contains("<h1>Access of ada</h1>") && by_id.body.contains("<code>b1</code>"), "{}", by_id.body);
    let lookup = b.get("/portal/t/acme/places/access?user=ada").await;
    assert_eq!(lookup.location(), Some("/portal/t/acme/places/access/ada"));
    assert_eq!(b.get("/portal/t/acme/places/access/nobody").await.status, 404);
    // The bank's users.
    let users = b.get("/portal/t/acme/places/users/bank/b1").await;
    assert!(users.body.contains("1 active users") && users.body.contains("<td>ada</td>"), "{}", users.body);
    assert_eq!(admin(&s).user_access("acme", "ada").await.unwrap().banks, vec!["b1".to_string()]);

    // A mistake is shown next to the form.
    let unknown = b
        .post("/portal/t/acme/places/grant", &[("_csrf", &csrf), ("group", "Nobody"), ("level", "bank"), ("key", "b1")])
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body.contains("id=\"grant-error\"") && unknown.body.contains("aria-invalid=\"true\""));

    let crew_id = crew["id"].as_str().unwrap();
    let revoked = b
        .post("/portal/t/acme/places/revoke", &[("_csrf", &csrf), ("group", crew_id), ("level", "bank"), ("key", "b1")])
        .await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert!(admin(&s).user_access("acme", "ada").await.unwrap().banks.is_empty());
    let gone = b.get("/portal/t/acme/places/access/ada").await;
    assert!(!gone.body.contains("<code>b1</code>") && gone.body.contains("No whole bank."), "{}", gone.body);
    assert_eq!(audited(&s, acme(&s).await, "portal-revoke-access").await.client.as_deref(), Some("operator:alice"));
}

#[tokio::test]
async fn a_place_added_appears_in_the_tree_and_a_mistake_changes_nothing() {
    let s = TestServer::start().await;
    let (mut b, page) = signed_in(&s).await;
    assert!(page.body.contains("No places yet"), "{}", page.body);
    let csrf = page.csrf();
    let add = |level: &'static str, key: &'static str, parent: &'static str| {
        [
            ("_csrf", csrf.clone()),
            ("level", level.into()),
            ("key", key.into()),
            ("name", String::new()),
            ("parent", parent.into()),
        ]
    };
    for (level, key, parent) in
        [("location", "ams", ""), ("section", "s1", "ams"), ("bank", "b9", "s1"), ("locker", "k1", "b9")]
    {
        let f = add(level, key, parent);
        let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.post("/portal/t/acme/places/add", &fields).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let tree = b.get("/portal/t/acme/places").await;
    strict(&tree);
    assert!(tree.body.contains("1 location · 1 section · 1 bank · 1 locker"), "{}", tree.body);
    // The only location is shown open, its places nested.
    assert!(tree.body.contains("<code>ams</code>") && tree.body.contains("<code>b9</code>"), "{}", tree.body);
    assert!(tree.body.contains("<li>k1 <code>k1</code></li>"), "{}", tree.body);
    assert_eq!(audited(&s, acme(&s).await, "portal-create-place").await.client.as_deref(), Some("operator:alice"));

    // A bank under a section that does not exist: in place, nothing made.
    let f = add("bank", "b10", "nowhere");
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bad = b.post("/portal/t/acme/places/add", &fields).await;
    assert!(bad.status == 400 || bad.status == 404, "{}", bad.body);
    assert!(bad.body.contains("id=\"add-error\"") && bad.body.contains("value=\"b10\""), "{}", bad.body);
    assert_eq!(admin(&s).list_places("acme").await.unwrap().len(), 4);

    // Removing a section with places under it needs "with everything under it".
    let kept = b.post("/portal/t/acme/places/remove", &[("_csrf", &csrf), ("level", "section"), ("key", "s1")]).await;
    assert_eq!(kept.status, 409, "{}", kept.body);
    assert!(kept.body.contains("id=\"remove-error\""));
    let removed = b
        .post(
            "/portal/t/acme/places/remove",
            &[("_csrf", &csrf), ("level", "section"), ("key", "s1"), ("cascade", "on")],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(b.follow(removed).await.body.contains("s1 and 2 places under it were removed."));
    assert_eq!(admin(&s).list_places("acme").await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_location_rules_preview_lists_the_users_they_would_provision_and_changes_nothing() {
    let s = TestServer::start().await;
    let (mut b, page) = signed_in(&s).await;
    let csrf = page.csrf();
    admin(&s).import_places("acme", &serde_json::from_str(TREE).unwrap()).await.unwrap();
    for (name, city) in [("ada", "Amsterdam"), ("bea", "Utrecht"), ("cas", "London")] {
        let u = json!({"userName": name, "addresses": [{"locality": city}]});
        assert_eq!(s.post("/Users", &u).await.status, 201);
    }
    let form = b.get("/portal/t/acme/places/rules/hq").await;
    assert_eq!(form.status, 200, "{}", form.body);
    strict(&form);
    let rules = r#"{"provision":"rules","match":"any","rules":[{"attribute":"locality","op":"equals","value":"amsterdam"},
        {"attribute":"locality","op":"contains","value":"TRECHT"}],"home":{"rules":[{"attribute":"locality","op":"equals","value":"Amsterdam"}]}}"#;
    let preview = b.post("/portal/t/acme/places/rules/hq/preview", &[("_csrf", &csrf), ("rules", rules)]).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("would provision 2 users"), "{}", preview.body);
    assert!(preview.body.contains(">ada</a>") && preview.body.contains(">bea</a>"), "{}", preview.body);
    assert!(!preview.body.contains(">cas</a>"), "London is not provisioned");
    assert!(preview.body.contains("<td>hq</td>"), "what they would get: {}", preview.body);
    // A rule that holds when no value contains the text holds for a user without an address.
    assert_eq!(s.post("/Users", &json!({"userName": "dan"})).await.status, 201);
    let others = r#"{"provision":"rules","rules":[{"attribute":"locality","op":"not_contains","value":"DAM"}]}"#;
    let preview = b.post("/portal/t/acme/places/rules/hq/preview", &[("_csrf", &csrf), ("rules", others)]).await;
    assert!(preview.body.contains("would provision 3 users"), "{}", preview.body);
    for (name, shown) in [("ada", false), ("bea", true), ("cas", true), ("dan", true)] {
        assert_eq!(preview.body.contains(&format!(">{name}</a>")), shown, "{name}: {}", preview.body);
    }
    // Nothing changed.
    assert_eq!(admin(&s).location_rules("acme", "hq").await.unwrap(), Value::Null);
    let ada = admin(&s).user_places("acme", "ada").await.unwrap();
    assert!(ada.locations.is_empty(), "{ada:?}");

    // Invalid rules are shown next to the field, for a preview as for saving.
    let bad = r#"{"provision":"rules"}"#;
    for path in ["/portal/t/acme/places/rules/hq/preview", "/portal/t/acme/places/rules/hq"] {
        let r = b.post(path, &[("_csrf", &csrf), ("rules", bad)]).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("aria-invalid=\"true\"") && r.body.contains("needs at least one rule"), "{}", r.body);
    }
    assert_eq!(admin(&s).location_rules("acme", "hq").await.unwrap(), Value::Null);

    let saved = b.post("/portal/t/acme/places/rules/hq", &[("_csrf", &csrf), ("rules", rules)]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(b.follow(saved).await.body.contains("The rules were saved."));
    assert_eq!(admin(&s).location_rules("acme", "hq").await.unwrap()["provision"], "rules");
    assert_eq!(admin(&s).user_places("acme", "ada").await.unwrap().home.as_deref(), Some("hq"));
    assert_eq!(
        audited(&s, acme(&s).await, "portal-set-location-rules").await.client.as_deref(),
        Some("operator:alice")
    );
    assert_eq!(
        audited(&s, acme(&s).await, "portal-preview-location-rules").await.client.as_deref(),
        Some("operator:alice")
    );
}

#[tokio::test]
async fn settings_show_a_refused_profile_in_place_and_apply_a_valid_one() {
    let s = TestServer::start().await;
    let (mut b, _) = signed_in(&s).await;
    let page = b.get("/portal/t/acme/settings").await;
    assert_eq!(page.status, 200, "{}", page.body);
    strict(&page);
    let csrf = page.csrf();
    let before = admin(&s).profile("acme").await.unwrap();

    let bad =
        b.post("/portal/t/acme/settings/profile", &[("_csrf", &csrf), ("profile", r#"{"no_such_setting": 1}"#)]).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("aria-invalid=\"true\" aria-describedby=\"profile-error\""), "{}", bad.body);
    assert!(bad.body.contains("no_such_setting"), "the message and the text typed are kept: {}", bad.body);
    assert_eq!(admin(&s).profile("acme").await.unwrap(), before, "nothing changed");

    let mut changed = before.clone();
    changed["delete_deactivates"] = json!(!before["delete_deactivates"].as_bool().unwrap_or(false));
    let text = changed.to_string();
    let ok = b.post("/portal/t/acme/settings/profile", &[("_csrf", &csrf), ("profile", &text)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(admin(&s).profile("acme").await.unwrap()["delete_deactivates"], changed["delete_deactivates"]);
    assert_eq!(audited(&s, acme(&s).await, "portal-set-profile").await.client.as_deref(), Some("operator:alice"));

    let preset = b.post("/portal/t/acme/settings/preset", &[("_csrf", &csrf), ("preset", "locker")]).await;
    assert_eq!(preset.status, 303, "{}", preset.body);
    assert_eq!(admin(&s).tenant_view("acme").await.unwrap().preset.as_deref(), Some("locker"));

    // Audit settings: a mistake in place, then a change.
    let audit = |d: &'static str, e: &'static str, p: &'static str| {
        vec![("_csrf", csrf.clone()), ("details", d.into()), ("events_days", e.into()), ("details_days", p.into())]
    };
    let f = audit("all", "7", "30");
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let longer = b.post("/portal/t/acme/settings/audit", &fields).await;
    assert_eq!(longer.status, 400, "{}", longer.body);
    assert!(longer.body.contains("id=\"audit-error\"") && longer.body.contains("value=\"30\""), "{}", longer.body);
    let f = audit("all", "30", "7");
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post("/portal/t/acme/settings/audit", &fields).await.status, 303);
    let t = admin(&s).tenant_view("acme").await.unwrap();
    assert_eq!((t.audit_details, t.audit_events_days, t.audit_details_days), (scimd_store::DetailsLevel::All, 30, 7));
    assert_eq!(audited(&s, acme(&s).await, "portal-set-audit").await.client.as_deref(), Some("operator:alice"));
}

/// A system user of `tenant`, signed in.
async fn system_user(s: &TestServer, tenant: &str, email: &str) -> (Browser, String) {
    let invited = portal(s).invite(tenant, email, "operator:alice").await.unwrap();
    let path = invited.invite_url.split_once("/portal/").map(|(_, p)| format!("/portal/{p}")).unwrap();
    let mut b = Browser::new(s);
    let form = b.get(&path).await;
    let token = form.field("token").unwrap();
    let pw = "a long enough password";
    let set = b
        .post("/portal/invite", &[("_csrf", &form.csrf()), ("token", &token), ("password", pw), ("confirm", pw)])
        .await;
    assert_eq!(set.status, 303, "{}", set.body);
    let home = b.sign_in(email, pw).await;
    assert_eq!(home.status, 200, "{}", home.body);
    let csrf = home.csrf();
    (b, csrf)
}

#[tokio::test]
async fn a_system_user_finds_no_other_tenant_and_reads_their_own_settings_only() {
    let s = TestServer::start().await;
    s.tenant_token("globex").await;
    admin(&s).import_places("acme", &serde_json::from_str(TREE).unwrap()).await.unwrap();
    s.create_user("ada").await;
    let (mut b, csrf) = system_user(&s, "globex", "jo@globex.test").await;
    for path in [
        "/portal/t/acme/places",
        "/portal/t/acme/places/rules/hq",
        "/portal/t/acme/places/access/ada",
        "/portal/t/acme/places/access?user=ada",
        "/portal/t/acme/places/users/bank/b1",
        "/portal/t/acme/settings",
    ] {
        assert_eq!(b.get(path).await.status, 404, "{path}");
    }
    for (path, fields) in [
        ("/portal/t/acme/places/add", vec![("level", "location"), ("key", "x")]),
        ("/portal/t/acme/places/remove", vec![("level", "bank"), ("key", "b1")]),
        ("/portal/t/acme/places/import", vec![("tree", TREE)]),
        ("/portal/t/acme/places/grant", vec![("group", "g"), ("level", "bank"), ("key", "b1")]),
        ("/portal/t/acme/places/revoke", vec![("group", "g"), ("level", "bank"), ("key", "b1")]),
        ("/portal/t/acme/places/rules/hq", vec![("rules", "")]),
        ("/portal/t/acme/places/rules/hq/preview", vec![("rules", "")]),
        ("/portal/t/acme/settings/profile", vec![("profile", "{}")]),
        ("/portal/t/acme/settings/preset", vec![("preset", "locker")]),
        ("/portal/t/acme/settings/audit", vec![("details", "off"), ("events_days", "1"), ("details_days", "1")]),
    ] {
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend(fields);
        assert_eq!(b.post(path, &all).await.status, 404, "{path}");
    }
    assert_eq!(admin(&s).list_places("acme").await.unwrap().len(), 7, "nothing changed");

    // Their own tenant: places are theirs to manage, settings are read-only.
    let places = b.get("/portal/t/globex/places").await;
    assert_eq!(places.status, 200, "{}", places.body);
    let added =
        b.post("/portal/t/globex/places/add", &[("_csrf", &csrf), ("level", "location"), ("key", "dock")]).await;
    assert_eq!(added.status, 303, "{}", added.body);
    let globex = admin(&s).tenant("globex").await.unwrap().id;
    let event = audited(&s, globex, "portal-create-place").await;
    assert!(event.client.as_deref().is_some_and(|c| c.contains("jo@globex.test")), "{:?}", event.client);
    let settings = b.get("/portal/t/globex/settings").await;
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert!(settings.body.contains(" readonly") && !settings.body.contains("Save the profile"), "{}", settings.body);
    let refused = b.post("/portal/t/globex/settings/profile", &[("_csrf", &csrf), ("profile", "{}")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let refused = b.post("/portal/t/globex/settings/preset", &[("_csrf", &csrf), ("preset", "locker")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(admin(&s).tenant_view("globex").await.unwrap().preset, None);
}
