//! A tenant's users and groups in the portal, as a browser uses them: a search with the
//! SCIM filter grammar (its errors in place) a page at a time, users made, edited,
//! deactivated and deleted by hand where the profile allows it (seen through SCIM with the
//! tenant's token), a stale edit refused, a CSV import previewed then applied, group
//! members added and removed, each change in the audit trail with the person, and another
//! tenant's pages out of a system user's reach.

use std::sync::Arc;

use scimd_server::clock::SystemClock;
use serde_json::json;

use super::common::{TestServer, enc};
use super::portal::{OPERATOR_PASSWORD, audited, operator, portal};
use super::portal_client::{Browser, Page};

const PASSWORD: &str = "a long enough password";

/// A system user of `tenant`, signed in (invited, their password set).
async fn system_user(s: &TestServer, tenant: &str, email: &str) -> (Browser, Page) {
    let invited = portal(s).invite(tenant, email, "operator:alice").await.unwrap();
    let path = invited.invite_url.split_once("/portal/").map(|(_, p)| format!("/portal/{p}")).unwrap();
    let mut b = Browser::new(s);
    let form = b.get(&path).await;
    let token = form.field("token").unwrap();
    let fields =
        [("_csrf", form.csrf()), ("token", token), ("password", PASSWORD.into()), ("confirm", PASSWORD.into())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let set = b.post("/portal/invite", &fields).await;
    assert_eq!(set.status, 303, "{}", set.body);
    let home = b.sign_in(email, PASSWORD).await;
    assert_eq!(home.status, 200, "{}", home.body);
    (b, home)
}

async fn tenant_id(s: &TestServer, name: &str) -> scimd_store::TenantId {
    s.store.tenant_by_name(name).await.unwrap().unwrap().id
}

fn no_inline(page: &Page) {
    for attr in [" onclick=", " onload=", " style=", "javascript:", "<script>"] {
        assert!(!page.body.contains(attr), "{attr} in the page");
    }
}

/// The id in a user's or group's page address (`…/users/{id}?done=…`).
fn id_in(location: &str) -> String {
    let tail = location.rsplit_once('/').unwrap().1;
    tail.split('?').next().unwrap().to_string()
}

#[tokio::test]
async fn portal_users_are_searched_a_page_at_a_time_with_filter_errors_in_place() {
    let s = TestServer::start().await;
    for i in 0..55 {
        s.create_user(&format!("user{i:02}")).await;
    }
    let (mut b, _) = system_user(&s, "acme", "jane@acme.test").await;
    let first = b.get("/portal/t/acme/users").await;
    assert_eq!(first.status, 200, "{}", first.body);
    no_inline(&first);
    assert!(first.body.contains("1–50 of 55") && first.body.contains(">user00<") && first.body.contains(">user49<"));
    assert!(!first.body.contains(">user50<"), "50 a page");
    assert!(first.body.contains("user00@example.com"), "emails shown");
    assert!(first.body.contains("href=\"/portal/t/acme/users?start=51\" rel=\"next\""), "a next page");
    let second = b.get("/portal/t/acme/users?start=51").await;
    assert!(second.body.contains("51–55 of 55") && second.body.contains(">user54<"), "{}", second.body);
    assert!(second.body.contains("rel=\"prev\"") && !second.body.contains("rel=\"next\""));

    let found = b.get(&format!("/portal/t/acme/users?filter={}", enc("userName sw \"user1\""))).await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("1–10 of 10") && found.body.contains(">user19<") && !found.body.contains(">user20<"));

    let bad = b.get(&format!("/portal/t/acme/users?filter={}", enc("userName zz \"a\""))).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("aria-invalid=\"true\"") && bad.body.contains("id=\"filter-error\""), "{}", bad.body);
    assert!(bad.body.contains("zz"), "the SCIM error's detail: {}", bad.body);
}

#[tokio::test]
async fn portal_users_are_made_edited_deactivated_and_deleted_by_hand_and_audited() {
    let s = TestServer::start().await;
    let acme = tenant_id(&s, "acme").await;
    let (mut b, _) = system_user(&s, "acme", "jane@acme.test").await;
    let form = b.get("/portal/t/acme/users/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    let made = b
        .post(
            "/portal/t/acme/users",
            &[
                ("_csrf", &csrf),
                ("userName", "jdoe"),
                ("givenName", "John"),
                ("familyName", "Doe"),
                ("email", "jdoe@acme.test"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let id = id_in(made.location().unwrap());
    let scim = s.get(&format!("/Users/{id}")).await;
    assert_eq!(scim.status, 200);
    assert_eq!(scim.body["userName"], "jdoe");
    assert_eq!(scim.body["name"]["givenName"], "John");
    assert_eq!(scim.body["emails"][0]["value"], "jdoe@acme.test");
    let e = audited(&s, acme, "portal-create-user").await;
    assert_eq!(e.client.as_deref(), Some("system-user:jane@acme.test"));

    // A name taken is shown in place, the form kept.
    let again = b.post("/portal/t/acme/users", &[("_csrf", &csrf), ("userName", "JDOE"), ("active", "on")]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.body.contains("aria-invalid=\"true\"") && again.body.contains("value=\"JDOE\""));

    let shown = b.get(&format!("/portal/t/acme/users/{id}")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    no_inline(&shown);
    assert!(
        shown.body.contains(&format!("/portal/t/acme/places/access/{id}")) && shown.body.contains("pre class=\"json\"")
    );
    let version = shown.field("version").unwrap();
    let edit = [("_csrf", csrf.as_str()), ("version", version.as_str()), ("userName", "jdoe"), ("givenName", "Johnny")];
    let mut fields = edit.to_vec();
    fields.extend([("familyName", "Doe"), ("email", "johnny@acme.test")]);
    let saved = b.post(&format!("/portal/t/acme/users/{id}"), &fields).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let scim = s.get(&format!("/Users/{id}")).await;
    assert_eq!(scim.body["name"]["givenName"], "Johnny");
    assert_eq!(scim.body["emails"][0]["value"], "johnny@acme.test");
    assert_eq!(audited(&s, acme, "portal-edit-user").await.client.as_deref(), Some("system-user:jane@acme.test"));

    // The same form again, with the version it was shown with: refused, nothing written.
    let mut stale = fields.clone();
    stale[3] = ("givenName", "Jack");
    let refused = b.post(&format!("/portal/t/acme/users/{id}"), &stale).await;
    assert_eq!(refused.status, 412, "{}", refused.body);
    assert!(refused.body.contains("Someone changed this user"), "{}", refused.body);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["name"]["givenName"], "Johnny");

    let off = b.post(&format!("/portal/t/acme/users/{id}/active"), &[("_csrf", &csrf), ("active", "")]).await;
    assert_eq!(off.status, 303, "{}", off.body);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["active"], false);
    assert!(b.follow(off).await.body.contains("Reactivate"));
    let on = b.post(&format!("/portal/t/acme/users/{id}/active"), &[("_csrf", &csrf), ("active", "on")]).await;
    assert_eq!(on.status, 303);
    assert_eq!(s.get(&format!("/Users/{id}")).await.body["active"], true);
    assert_eq!(audited(&s, acme, "portal-set-user-active").await.client.as_deref(), Some("system-user:jane@acme.test"));

    let gone = b.post(&format!("/portal/t/acme/users/{id}/delete"), &[("_csrf", &csrf)]).await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    assert_eq!(s.get(&format!("/Users/{id}")).await.status, 404);
    assert_eq!(audited(&s, acme, "portal-delete-user").await.client.as_deref(), Some("system-user:jane@acme.test"));
}

#[tokio::test]
async fn portal_a_profile_that_forbids_deletes_shows_no_delete_and_refuses_it() {
    let s = TestServer::start().await;
    let admin = scimd_server::admin::Admin::new(s.store.clone(), Arc::new(SystemClock));
    admin.set_profile("acme", Some(&json!({"users": {"delete": false}}))).await.unwrap();
    let id = s.create_user("kept").await["id"].as_str().unwrap().to_string();
    operator(&s, "root").await;
    let mut b = Browser::new(&s);
    let home = b.sign_in_operator("root", OPERATOR_PASSWORD).await;
    let page = b.get(&format!("/portal/t/acme/users/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("disabled aria-describedby=\"delete-why\""), "{}", page.body);
    assert!(page.body.contains("cannot be deleted"), "the profile's reason: {}", page.body);
    let refused = b.post(&format!("/portal/t/acme/users/{id}/delete"), &[("_csrf", &home.csrf())]).await;
    assert_eq!(refused.status, 405, "{}", refused.body);
    assert_eq!(s.get(&format!("/Users/{id}")).await.status, 200);
}

#[tokio::test]
async fn portal_a_csv_import_is_previewed_then_applied_and_bad_rows_are_listed_by_line() {
    let s = TestServer::start().await;
    let acme = tenant_id(&s, "acme").await;
    let (mut b, _) = system_user(&s, "acme", "jane@acme.test").await;
    let form = b.get("/portal/t/acme/users/import").await;
    assert_eq!(form.status, 200, "{}", form.body);
    no_inline(&form);
    let csrf = form.csrf();
    let csv = "id,userName,givenName,familyName,active\nu-1,alice,Alice,Able,true\nu-2,bob,Bob,Baker,yes\n";
    let preview = b.post("/portal/t/acme/users/import", &[("_csrf", &csrf), ("csv", csv)]).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("2 to create") && preview.body.contains(">alice<") && preview.body.contains(">bob<"));
    assert!(preview.body.contains("/users/import/apply"), "a confirmation");
    assert_eq!(s.get("/Users").await.body["totalResults"], 0, "a preview writes nothing");

    let applied = b.post("/portal/t/acme/users/import/apply", &[("_csrf", &csrf), ("csv", csv)]).await;
    assert_eq!(applied.status, 303, "{}", applied.body);
    assert!(b.follow(applied).await.body.contains("2 users imported."));
    let alice = s.get("/Users/u-1").await;
    assert_eq!(alice.status, 200);
    assert_eq!(alice.body["userName"], "alice");
    assert_eq!(s.get("/Users").await.body["totalResults"], 2);
    assert_eq!(audited(&s, acme, "portal-import-users").await.client.as_deref(), Some("system-user:jane@acme.test"));

    let bad = "id,userName,active\nu-3,carol,true\nu-4,dave,maybe\nu-1,erin,true\n";
    let refused = b.post("/portal/t/acme/users/import", &[("_csrf", &csrf), ("csv", bad)]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("<td class=\"num\">3</td>") && refused.body.contains("<td class=\"num\">4</td>"));
    assert!(refused.body.contains("not true or false") && refused.body.contains("with this id already"));
    assert!(!refused.body.contains("/users/import/apply"), "nothing to confirm");
    // Posted anyway, the apply checks again and writes nothing.
    let forced = b.post("/portal/t/acme/users/import/apply", &[("_csrf", &csrf), ("csv", bad)]).await;
    assert_eq!(forced.status, 422, "{}", forced.body);
    assert_eq!(s.get("/Users").await.body["totalResults"], 2);
}

#[tokio::test]
async fn portal_group_members_are_added_and_removed_and_groups_made() {
    let s = TestServer::start().await;
    let acme = tenant_id(&s, "acme").await;
    let alice = s.create_user("alice").await["id"].as_str().unwrap().to_string();
    let group = s.create_group("Team", &[]).await["id"].as_str().unwrap().to_string();
    operator(&s, "root").await;
    let mut b = Browser::new(&s);
    let home = b.sign_in_operator("root", OPERATOR_PASSWORD).await;
    let csrf = home.csrf();
    let list = b.get("/portal/t/acme/groups").await;
    assert_eq!(list.status, 200, "{}", list.body);
    no_inline(&list);
    assert!(list.body.contains(">Team<") && list.body.contains("/portal/t/acme/places"));

    let add =
        b.post(&format!("/portal/t/acme/groups/{group}/members"), &[("_csrf", &csrf), ("userName", "alice")]).await;
    assert_eq!(add.status, 303, "{}", add.body);
    let members = s.get(&format!("/Groups/{group}")).await.body["members"].clone();
    assert_eq!(members[0]["value"], alice.as_str(), "{members}");
    let page = b.follow(add).await;
    assert!(page.body.contains(">alice<") && page.body.contains("1–1 of 1"), "{}", page.body);
    assert_eq!(audited(&s, acme, "portal-add-member").await.client.as_deref(), Some("operator:root"));
    let nobody =
        b.post(&format!("/portal/t/acme/groups/{group}/members"), &[("_csrf", &csrf), ("userName", "zed")]).await;
    assert_eq!(nobody.status, 404, "{}", nobody.body);
    assert!(nobody.body.contains("no user named"), "{}", nobody.body);

    let out =
        b.post(&format!("/portal/t/acme/groups/{group}/members/remove"), &[("_csrf", &csrf), ("user", &alice)]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    let after = s.get(&format!("/Groups/{group}")).await.body;
    assert!(after.get("members").is_none_or(|m| m.as_array().is_none_or(Vec::is_empty)), "{after}");

    let made = b.post("/portal/t/acme/groups", &[("_csrf", &csrf), ("displayName", "Night shift")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let found = s.get(&format!("/Groups?filter={}", enc("displayName eq \"Night shift\""))).await;
    assert_eq!(found.body["totalResults"], 1);
}

#[tokio::test]
async fn portal_a_system_user_cannot_reach_another_tenants_users() {
    let s = TestServer::start().await;
    s.tenant_token("globex").await;
    let (mut b, home) = system_user(&s, "acme", "jane@acme.test").await;
    for path in [
        "/portal/t/globex/users",
        "/portal/t/globex/users/x",
        "/portal/t/globex/groups",
        "/portal/t/globex/users/import",
    ] {
        assert_eq!(b.get(path).await.status, 404, "{path}");
    }
    let made =
        b.post("/portal/t/globex/users", &[("_csrf", &home.csrf()), ("userName", "intruder"), ("active", "on")]).await;
    assert_eq!(made.status, 404);
    let globex = s.tenant_token("globex").await;
    let r = s.get_as(&globex, &format!("/Users?filter={}", enc("userName eq \"intruder\""))).await;
    assert_eq!(r.body["totalResults"], 0);
}

#[tokio::test]
async fn portal_a_locker_tenants_groups_are_the_products_own_and_users_carry_them() {
    let s = TestServer::start().await;
    let op = s.operator_token().await;
    s.preset_tenant(&op, "lockers", "locker").await;
    let lockers = tenant_id(&s, "lockers").await;
    operator(&s, "root").await;
    let mut b = Browser::new(&s);
    let csrf = b.sign_in_operator("root", OPERATOR_PASSWORD).await.csrf();
    // The identity provider may not create groups: the portal makes the product's own.
    let made = b.post("/portal/t/lockers/groups", &[("_csrf", &csrf), ("displayName", "Bank A")]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let group = id_in(made.location().unwrap());
    let user = b.post("/portal/t/lockers/users", &[("_csrf", &csrf), ("userName", "locky"), ("active", "on")]).await;
    assert_eq!(user.status, 303, "{}", user.body);
    let uid = id_in(user.location().unwrap());
    let page = b.get(&format!("/portal/t/lockers/groups/{group}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("aria-describedby=\"rename-why\""), "no rename through SCIM: {}", page.body);

    // Members are changed through the user's groups.
    let add =
        b.post(&format!("/portal/t/lockers/groups/{group}/members"), &[("_csrf", &csrf), ("userName", "locky")]).await;
    assert_eq!(add.status, 303, "{}", add.body);
    let token = s.tenant_token("lockers").await;
    let read = |uid: String| {
        let req = s.client.get(s.root(&format!("/api/Users/{uid}"))).bearer_auth(&token);
        s.send(req)
    };
    assert_eq!(read(uid.clone()).await.body["groups"][0]["value"], group.as_str());
    assert!(b.follow(add).await.body.contains(">locky<"));
    let out =
        b.post(&format!("/portal/t/lockers/groups/{group}/members/remove"), &[("_csrf", &csrf), ("user", &uid)]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    let after = read(uid.clone()).await.body;
    assert!(after.get("groups").is_none_or(|g| g.as_array().is_none_or(Vec::is_empty)), "{after}");

    let gone = b.post(&format!("/portal/t/lockers/groups/{group}/delete"), &[("_csrf", &csrf)]).await;
    assert_eq!(gone.status, 303, "{}", gone.body);
    let admin = scimd_server::admin::Admin::new(s.store.clone(), Arc::new(SystemClock));
    assert!(admin.list_groups("lockers").await.unwrap().is_empty());
    assert_eq!(audited(&s, lockers, "portal-delete-group").await.client.as_deref(), Some("operator:root"));
}
