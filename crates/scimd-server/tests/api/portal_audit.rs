//! The portal's audit pages over HTTP: a tenant's events and their filters, one event's
//! redacted payloads, the error log, the go-live summary and its chart, and the event
//! streams (paused and resumed by an operator); each refused to a system user of another
//! tenant.

use std::sync::Arc;

use serde_json::{Value, json};

use scimd_server::admin::{Admin, Caller, StreamSpec};
use scimd_server::clock::SystemClock;

use super::common::TestServer;
use super::portal::{OPERATOR_PASSWORD, audited, operator, portal};
use super::portal_client::{Browser, Page, html_unescape};

async fn signed_in_operator(s: &TestServer) -> Browser {
    operator(s, "alice").await;
    let mut b = Browser::new(s);
    let home = b.sign_in_operator("alice", OPERATOR_PASSWORD).await;
    assert_eq!(home.status, 200, "{}", home.body);
    b
}

/// A system user of `tenant`, signed in.
async fn system_user(s: &TestServer, tenant: &str, email: &str) -> Browser {
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
    b
}

async fn acme(s: &TestServer) -> scimd_store::TenantId {
    s.store.tenant_by_name("acme").await.unwrap().unwrap().id
}

/// The page has no inline script or style: every script is a file, or JSON data.
fn no_inline_code(p: &Page) {
    for attr in [" onclick=", " onload=", " onchange=", " style=", "javascript:"] {
        assert!(!p.body.contains(attr), "{attr} in the page");
    }
    for (i, _) in p.body.match_indices("<script") {
        let tag = &p.body[i..i + p.body[i..].find('>').unwrap()];
        assert!(tag.contains(" src=") || tag.contains("type=\"application/json\""), "inline script: {tag}");
    }
}

/// The rows of the events table (each row's text, tags left in).
fn rows(p: &Page) -> Vec<String> {
    let Some(body) = p.between("<tbody>", "</tbody>") else { return Vec::new() };
    body.split("<tr>").skip(1).map(str::to_string).collect()
}

fn user(name: &str, password: Option<&str>) -> Value {
    let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
    if let Some(p) = password {
        u["password"] = json!(p);
    }
    u
}

#[tokio::test]
async fn the_audit_page_lists_a_tenants_requests_newest_first_and_filters_them() {
    let s = TestServer::start().await;
    let mut b = signed_in_operator(&s).await;
    assert_eq!(s.post("/Users", &user("ada", None)).await.status, 201);
    assert_eq!(s.get("/Users/no-such-user").await.status, 404);
    assert_eq!(s.get("/Users").await.status, 200);
    audited(&s, acme(&s).await, "list").await;

    let all = b.get("/portal/t/acme/audit").await;
    assert_eq!(all.status, 200, "{}", all.body);
    no_inline_code(&all);
    let r = rows(&all);
    assert_eq!(r.len(), 3, "{}", all.body);
    assert!(r[0].contains("GET /scim/v2/Users<") && r[0].contains(">list"), "newest first: {}", r[0]);
    assert!(r[2].contains("POST /scim/v2/Users<") && r[2].contains(">201<"), "{}", r[2]);
    assert!(all.body.contains("data-autosubmit"));

    // Errors only: the 404, and the filter stays chosen.
    let errors = b.get("/portal/t/acme/audit?status=4xx").await;
    let r = rows(&errors);
    assert_eq!(r.len(), 1, "{}", errors.body);
    assert!(r[0].contains(">404<") && r[0].contains("/scim/v2/Users/no-such-user"), "{}", r[0]);
    assert!(errors.body.contains("<option value=\"4xx\" selected>"), "the form keeps the filter");

    // By operation, and by exact status.
    let created = b.get("/portal/t/acme/audit?op=create").await;
    let r = rows(&created);
    assert_eq!(r.len(), 1, "{}", created.body);
    assert!(r[0].contains(">201<"));
    assert!(created.body.contains("<option value=\"create\" selected>"));
    assert_eq!(rows(&b.get("/portal/t/acme/audit?status=200").await).len(), 1);
    // A window that ends before the requests: none.
    let before = b.get("/portal/t/acme/audit?from=2020-01-01T00:00&to=2020-01-02T00:00").await;
    assert_eq!(before.status, 200);
    assert!(rows(&before).is_empty() && before.body.contains("value=\"2020-01-01T00:00\""), "{}", before.body);

    // A bad filter is shown in place.
    let bad = b.get("/portal/t/acme/audit?status=teapot&from=yesterday").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("aria-describedby=\"status-error\"") && bad.body.contains("id=\"from-error\""));
    assert!(bad.body.contains("value=\"yesterday\""), "{}", bad.body);

    // The error log has its own page.
    let log = b.get("/portal/t/acme/audit/errors").await;
    assert_eq!(log.status, 200, "{}", log.body);
    assert!(log.body.contains("<h1>Error log</h1>") && log.body.contains("No internal error"));
}

#[tokio::test]
async fn an_events_page_shows_its_payloads_with_the_password_redacted() {
    let s = TestServer::start().await;
    let mut b = signed_in_operator(&s).await;
    let secret = "Sup3r-Secret-Passw0rd";
    let created = s.post("/Users", &user("grace", Some(secret))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(s.get("/Users").await.status, 200);
    let tenant = acme(&s).await;
    let event = audited(&s, tenant, "create").await;

    let page = b.get(&format!("/portal/t/acme/audit/{}", event.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    no_inline_code(&page);
    assert!(page.body.contains("<pre class=\"json\">"), "{}", page.body);
    let text = html_unescape(&page.body).replace("&#34;", "\"");
    assert!(text.contains("\"userName\": \"grace\""), "{text}");
    assert!(text.contains(scimd_server::audit::REDACTED), "{text}");
    assert!(!text.contains(secret), "the password is never shown");

    // A successful read keeps no payloads (the tenant's setting): the page says why.
    let read = audited(&s, tenant, "list").await;
    let page = b.get(&format!("/portal/t/acme/audit/{}", read.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("has no payloads"), "{}", page.body);

    // No such event, or not a number: not found.
    assert_eq!(b.get("/portal/t/acme/audit/999999").await.status, 404);
    assert_eq!(b.get("/portal/t/acme/audit/abc").await.status, 404);
}

#[tokio::test]
async fn the_golive_page_shows_the_summary_and_a_chart_of_the_same_requests() {
    let s = TestServer::start().await;
    let mut b = signed_in_operator(&s).await;
    for name in ["u1", "u2"] {
        assert_eq!(s.post("/Users", &user(name, None)).await.status, 201);
    }
    assert_eq!(s.post("/Users", &user("u1", None)).await.status, 409);
    assert_eq!(s.get("/Users/nope").await.status, 404);
    let tenant = acme(&s).await;
    audited(&s, tenant, "read").await;
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (now + chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let page = b.get(&format!("/portal/t/acme/golive?from={from}&to={to}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    no_inline_code(&page);
    assert!(page.body.contains("/portal/static/uPlot.iife.min."), "the chart's script, on this page");
    assert!(page.body.contains("<div class=\"chart\" data-chart=\"activity\""));

    let admin = Admin::new(s.store.clone(), Arc::new(SystemClock));
    let summary = admin.audit_summary("acme", &from, &to).await.unwrap();
    let figure =
        |label: &str| -> u64 { page.between(&format!("data-figure=\"{label}\">"), "<").unwrap().parse().unwrap() };
    assert_eq!(figure("Requests"), summary["requests"].as_u64().unwrap());
    assert_eq!(figure("Requests"), 4);
    assert_eq!(figure("Created"), summary["created"].as_u64().unwrap());
    assert_eq!(figure("Created"), 2);
    assert_eq!(figure("Errors"), summary["error_count"].as_u64().unwrap());
    assert_eq!(figure("Errors"), 2);

    let data = page.between("<script type=\"application/json\" id=\"activity\">", "</script>").unwrap();
    let chart: Value = serde_json::from_str(&data).unwrap();
    let total =
        |i: usize| chart["series"][i]["values"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum::<u64>();
    assert_eq!(chart["series"][0]["label"], "Requests");
    assert_eq!(total(0), 4u64);
    assert_eq!(total(1), 2u64);
    let x = chart["x"].as_array().unwrap();
    assert_eq!(x.len(), chart["series"][0]["values"].as_array().unwrap().len());
    assert!(x.len() <= 201 && x.len() >= 60, "minute buckets over an hour: {}", x.len());
    // The table beside it has the same buckets.
    let table = page.between("id=\"activity-table\">", "</table>").unwrap();
    assert_eq!(table.matches("<tr><td>").count(), x.len());

    // A window backwards is shown in place.
    let back = b.get(&format!("/portal/t/acme/golive?from={to}&to={from}")).await;
    assert_eq!(back.status, 400, "{}", back.body);
    assert!(back.body.contains("id=\"to-error\""), "{}", back.body);
    // The default window (the last day) renders.
    assert_eq!(b.get("/portal/t/acme/golive").await.status, 200);
}

#[tokio::test]
async fn the_streams_page_shows_a_stream_and_an_operator_pauses_and_resumes_it() {
    let s = TestServer::start().await;
    let mut b = signed_in_operator(&s).await;
    let admin = Admin::new(s.store.clone(), Arc::new(SystemClock));
    let empty = b.get("/portal/t/acme/streams").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert!(empty.body.contains("no event stream"));
    let spec = StreamSpec { method: "poll".into(), ..Default::default() };
    let created = admin.add_stream("acme", spec, None, Caller::CommandLine).await.unwrap();
    let id = created.stream.id.clone();
    let token = created.token.clone().unwrap();

    let page = b.get("/portal/t/acme/streams").await;
    assert_eq!(page.status, 200, "{}", page.body);
    no_inline_code(&page);
    assert!(page.body.contains(&id) && page.body.contains(">active<"), "{}", page.body);
    assert!(!page.body.contains(&token), "the poll token is never shown");

    let paused = b.post(&format!("/portal/t/acme/streams/{id}/pause"), &[("_csrf", &page.csrf())]).await;
    assert_eq!(paused.status, 303, "{}", paused.body);
    assert!(admin.stream("acme", &id).await.unwrap().paused);
    let shown = b.follow(paused).await;
    assert!(shown.body.contains(">paused<") && shown.body.contains("The stream is paused"), "{}", shown.body);
    let event = audited(&s, acme(&s).await, "portal-pause-stream").await;
    assert_eq!(event.client.as_deref(), Some("operator:alice"));
    assert_eq!(event.resource_id.as_deref(), Some(id.as_str()));

    let resumed = b.post(&format!("/portal/t/acme/streams/{id}/resume"), &[("_csrf", &page.csrf())]).await;
    assert_eq!(resumed.status, 303);
    assert!(!admin.stream("acme", &id).await.unwrap().paused);
    // No such stream: not found, nothing changed.
    let none = b.post("/portal/t/acme/streams/nope/pause", &[("_csrf", &page.csrf())]).await;
    assert_eq!(none.status, 404);
}

#[tokio::test]
async fn a_system_user_sees_their_tenants_audit_and_nothing_of_another() {
    let s = TestServer::start().await;
    s.tenant_token("globex").await;
    let admin = Admin::new(s.store.clone(), Arc::new(SystemClock));
    let spec = StreamSpec { method: "poll".into(), ..Default::default() };
    let acme_stream = admin.add_stream("acme", spec.clone(), None, Caller::CommandLine).await.unwrap();
    let own = admin.add_stream("globex", spec, None, Caller::CommandLine).await.unwrap();
    assert_eq!(s.post("/Users", &user("ada", None)).await.status, 201);
    let event = audited(&s, acme(&s).await, "create").await;

    let mut b = system_user(&s, "globex", "jane@globex.test").await;
    for path in [
        "/portal/t/acme/audit".to_string(),
        format!("/portal/t/acme/audit/{}", event.id),
        "/portal/t/acme/audit/errors".into(),
        "/portal/t/acme/golive".into(),
        "/portal/t/acme/streams".into(),
    ] {
        assert_eq!(b.get(&path).await.status, 404, "{path}");
    }
    // Their own tenant's pages open; an event of another tenant is not one of theirs.
    let audit = b.get("/portal/t/globex/audit").await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    assert_eq!(b.get(&format!("/portal/t/globex/audit/{}", event.id)).await.status, 404);
    assert_eq!(b.get("/portal/t/globex/golive").await.status, 200);
    let streams = b.get("/portal/t/globex/streams").await;
    assert_eq!(streams.status, 200);
    assert!(streams.body.contains(&own.stream.id) && !streams.body.contains("/pause\""), "operators pause");
    // Pausing is the operators': refused, for their own stream or another tenant's.
    let csrf = streams.csrf();
    let mine = b.post(&format!("/portal/t/globex/streams/{}/pause", own.stream.id), &[("_csrf", &csrf)]).await;
    assert_eq!(mine.status, 403);
    let theirs = b.post(&format!("/portal/t/acme/streams/{}/pause", acme_stream.stream.id), &[("_csrf", &csrf)]).await;
    assert!(theirs.status == 403 || theirs.status == 404, "{}", theirs.status);
    assert!(!admin.stream("acme", &acme_stream.stream.id).await.unwrap().paused);
    assert!(!admin.stream("globex", &own.stream.id).await.unwrap().paused);
}
