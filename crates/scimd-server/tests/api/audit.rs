//! The audit trail over HTTP: every kind of request leaves its event, payloads are kept
//! redacted (or not, per tenant), internal errors are logged with their request id, a
//! failed write leaves neither change nor event, and the go-live summary counts exactly
//! what a scripted run did.

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::common::{Resp, TestServer, enc, patch_op};

async fn operator(s: &TestServer) -> String {
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(scimd_server::clock::SystemClock));
    admin.create_admin_token(None).await.unwrap().token
}

async fn admin_get(s: &TestServer, op: &str, path: &str) -> Resp {
    s.send(s.client.get(s.root(&format!("/admin/v1{path}"))).bearer_auth(op)).await
}

async fn events(s: &TestServer, op: &str) -> Vec<Value> {
    let r = admin_get(s, op, "/tenants/acme/audit/events?limit=1000").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body.as_array().unwrap().clone()
}

fn find<'a>(events: &'a [Value], request_id: &str) -> &'a Value {
    events.iter().find(|e| e["request_id"] == request_id).unwrap_or_else(|| panic!("no event for {request_id}"))
}

fn rid(r: &Resp) -> String {
    r.header("x-request-id").unwrap().to_string()
}

async fn token_id(s: &TestServer) -> i64 {
    s.sql_i64("SELECT max(id) FROM api_tokens").await
}

/// A client of acme with every grant and scope `scim`.
async fn oauth_client(s: &TestServer) -> (String, String) {
    let c = crate::oauth::client(s, &["acme"], &["client_credentials", "password"], &["scim"], 3600, 3600).await;
    (c.id, c.secret)
}

#[tokio::test]
async fn every_kind_of_request_produces_its_event() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let tid = token_id(&s).await;
    let caller = format!("token:{tid}");

    let created = s.post("/Users", &json!({"userName": "audited", "active": true})).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let read = s.get(&format!("/Users/{id}")).await;
    let list = s.get(&format!("/Users?filter={}", enc("userName eq \"audited\""))).await;
    let search = s.post("/Users/.search", &json!({"filter": "userName eq \"audited\""})).await;
    let put = s.put(&format!("/Users/{id}"), &json!({"userName": "audited", "active": true, "title": "t"})).await;
    let patch =
        s.patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "path": "active", "value": false}]))).await;
    let dup = s.post("/Users", &json!({"userName": "AUDITED"})).await;
    let missing = s.get("/Users/00000000-0000-0000-0000-000000000000").await;
    let discovery = s.get("/Schemas").await;
    let deleted = s.delete(&format!("/Users/{id}")).await;
    assert_eq!(
        [
            created.status,
            read.status,
            list.status,
            search.status,
            put.status,
            patch.status,
            dup.status,
            missing.status,
            deleted.status
        ],
        [201, 200, 200, 200, 200, 200, 409, 404, 204]
    );
    let (client_id, secret) = oauth_client(&s).await;
    let token =
        s.post_form("/oauth2/token", Some((&client_id, &secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(token.status, 200);
    let introspect = s
        .post_form(
            "/oauth2/introspect",
            Some((&client_id, &secret)),
            &[("token", token.body["access_token"].as_str().unwrap())],
        )
        .await;

    let failed =
        s.post_form("/oauth2/token", Some((&client_id, "wrong")), &[("grant_type", "client_credentials")]).await;
    assert_eq!(failed.status, 401);

    let ev = events(&s, &op).await;
    let f = find(&ev, &rid(&failed));
    assert_eq!((f["status"].as_u64(), f["scim_type"].as_str()), (Some(401), Some("invalid_client")), "{f}");
    assert_eq!(f["client"], client_id.as_str());
    let e = find(&ev, &rid(&created));
    assert_eq!(
        (e["op"].as_str(), e["status"].as_u64(), e["rtype"].as_str()),
        (Some("create"), Some(201), Some("User"))
    );
    assert_eq!(e["resource_id"], id.as_str());
    assert_eq!(e["client"], caller.as_str());
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], "/scim/v2/Users");
    assert!(e["time"].as_str().unwrap().ends_with('Z'));
    assert!(e["duration_ms"].as_f64().unwrap() >= 0.0);
    for (r, op_name, status) in [
        (&read, "read", 200),
        (&list, "list", 200),
        (&search, "search", 200),
        (&put, "replace", 200),
        (&patch, "patch", 200),
        (&dup, "create", 409),
        (&missing, "read", 404),
        (&discovery, "discovery", 200),
        (&deleted, "delete", 204),
    ] {
        let e = find(&ev, &rid(r));
        assert_eq!(e["op"], op_name, "{e}");
        assert_eq!(e["status"], status, "{e}");
        assert_eq!(e["client"], caller.as_str(), "{e}");
        assert!(!e["path"].as_str().unwrap().contains('?'), "no query strings in events: {e}");
    }
    assert_eq!(find(&ev, &rid(&patch))["deactivated"], true);
    assert_eq!(find(&ev, &rid(&put))["deactivated"], false);
    assert_eq!(find(&ev, &rid(&read))["resource_id"], id.as_str());
    assert_eq!(find(&ev, &rid(&dup))["scim_type"], "uniqueness");
    let t = find(&ev, &rid(&token));
    assert_eq!((t["op"].as_str(), t["status"].as_u64()), (Some("token"), Some(200)));
    assert_eq!(t["client"], client_id.as_str());
    assert_eq!(find(&ev, &rid(&introspect))["op"], "introspect");
    // Newest first.
    let times: Vec<&str> = ev.iter().map(|e| e["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // Filters: by op, by status, paging with `before`.
    let r = admin_get(&s, &op, "/tenants/acme/audit/events?op=create").await;
    assert_eq!(r.body.as_array().unwrap().len(), 2, "{}", r.body);
    let r = admin_get(&s, &op, "/tenants/acme/audit/events?status=409").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let page1 = admin_get(&s, &op, "/tenants/acme/audit/events?limit=3").await;
    let last = page1.body[2]["id"].as_i64().unwrap();
    let page2 = admin_get(&s, &op, &format!("/tenants/acme/audit/events?limit=3&before={last}")).await;
    assert!(page2.body.as_array().unwrap().iter().all(|e| e["id"].as_i64().unwrap() < last));
    assert_eq!(admin_get(&s, &op, "/tenants/acme/audit/events?from=yesterday").await.status, 400);
    // Another tenant sees none of them.
    s.tenant_token("globex").await;
    assert_eq!(admin_get(&s, &op, "/tenants/globex/audit/events").await.body, json!([]));
}

async fn details(s: &TestServer, op: &str, ev: &[Value], r: &Resp) -> Value {
    let id = find(ev, &rid(r))["id"].as_i64().unwrap();
    let d = admin_get(s, op, &format!("/tenants/acme/audit/events/{id}")).await;
    assert_eq!(d.status, 200, "{}", d.body);
    d.body
}

#[tokio::test]
async fn payloads_are_kept_redacted_or_not_per_tenant() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let created = s
        .post(
            "/Users",
            &json!({"userName": "carol", "password": "user-password-1", "emails": [{"value": "c@example.com"}]}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let patched = s
        .patch(
            &format!("/Users/{id}"),
            &patch_op(json!([{"op": "replace", "path": "password", "value": "user-password-2"}])),
        )
        .await;
    assert_eq!(patched.status, 200);
    let (client_id, secret) = oauth_client(&s).await;
    let token = s
        .post_form(
            "/oauth2/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &secret)],
        )
        .await;
    let access = token.body["access_token"].as_str().unwrap().to_string();
    let listed = s.get_as(&access, &format!("/Users?filter={}", enc("userName eq \"carol\""))).await;

    let ev = events(&s, &op).await;
    let d = details(&s, &op, &ev, &created).await;
    let req_headers: Value = serde_json::from_str(d["request_headers"].as_str().unwrap()).unwrap();
    assert_eq!(req_headers["authorization"], "Bearer [REDACTED]");
    assert_eq!(req_headers[":request"], "POST /scim/v2/Users");
    let body = d["request_body"].as_str().unwrap();
    assert!(body.contains("carol") && body.contains("[REDACTED]") && !body.contains("user-password-1"), "{body}");
    assert!(d["response_body"].as_str().unwrap().contains(&id));
    let d = details(&s, &op, &ev, &patched).await;
    assert!(!d["request_body"].as_str().unwrap().contains("user-password-2"), "{d}");
    let d = details(&s, &op, &ev, &token).await;
    let form = d["request_body"].as_str().unwrap();
    assert!(form.contains("grant_type=client_credentials") && form.contains(&client_id), "{form}");
    assert!(!form.contains(&secret), "{form}");
    let response = d["response_body"].as_str().unwrap();
    assert!(response.contains("expires_in") && !response.contains(&access), "{response}");
    // By default (`changes`), successful reads keep no payloads; failed ones do.
    let e = find(&ev, &rid(&listed))["id"].as_i64().unwrap();
    assert_eq!(admin_get(&s, &op, &format!("/tenants/acme/audit/events/{e}")).await.status, 404);
    let failed = s.get_as(&access, "/Users?filter=broken%20%22").await;
    assert_eq!(failed.status, 400);
    let ev = events(&s, &op).await;
    let d = details(&s, &op, &ev, &failed).await;
    assert!(d["response_body"].as_str().unwrap().contains("invalidFilter"), "{d}");

    // Nothing secret anywhere in the database (on SQLite: in any of its files).
    let raw = s.raw_contents().await;
    for secret in ["user-password-1", "user-password-2", secret.as_str(), access.as_str(), s.token.as_str()] {
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} in the database");
    }

    // Every request's payloads, then none: events still, details no more.
    let r = s
        .send(
            s.client
                .patch(s.root("/admin/v1/tenants/acme"))
                .bearer_auth(&op)
                .header("content-type", "application/json")
                .body(json!({"audit_details": "all"}).to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["audit_details"], "all");
    // (The verified-token cache holds a token's settings for up to 5 s: use fresh tokens.)
    let all = s.tenant_token("acme").await;
    let listed = s.get_as(&all, &format!("/Users?filter={}", enc("userName eq \"carol\""))).await;
    let ev = events(&s, &op).await;
    let d = details(&s, &op, &ev, &listed).await;
    assert!(d["request_headers"].as_str().unwrap().contains("filter="), "the query is kept: {d}");
    assert!(d["request_headers"].as_str().unwrap().contains("Bearer [REDACTED]"), "{d}");
    assert!(d["response_body"].as_str().unwrap().contains("carol"), "{d}");
    assert!(!d["request_headers"].as_str().unwrap().contains(&all));
    let r = s
        .send(
            s.client
                .patch(s.root("/admin/v1/tenants/acme"))
                .bearer_auth(&op)
                .header("content-type", "application/json")
                .body(json!({"audit_details": "off"}).to_string()),
        )
        .await;
    assert_eq!(r.body["audit_details"], "off");
    let fresh = s.tenant_token("acme").await;
    let quiet = s
        .patch_as(&fresh, &format!("/Users/{id}"), &patch_op(json!([{"op": "add", "path": "title", "value": "Q"}])))
        .await;
    assert_eq!(quiet.status, 200);
    let ev = events(&s, &op).await;
    let e = find(&ev, &rid(&quiet))["id"].as_i64().unwrap();
    assert_eq!(admin_get(&s, &op, &format!("/tenants/acme/audit/events/{e}")).await.status, 404);
}

#[tokio::test]
async fn an_internal_error_is_logged_with_its_request_id_and_answered_generically() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    // Break inserts into the resource table: the store fails as a full disk would.
    s.exec(
        "CREATE TRIGGER boom BEFORE INSERT ON resources BEGIN SELECT no_such_function(); END;",
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM no_such_function(); \
         RETURN NEW; END $$; \
         CREATE TRIGGER boom BEFORE INSERT ON resources FOR EACH ROW EXECUTE FUNCTION boom();",
    )
    .await;
    let r = s.post("/Users", &json!({"userName": "doomed"})).await;
    r.assert_error(500, None);
    let request_id = rid(&r);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(&request_id), "{detail}");
    assert!(!detail.contains("no_such_function"), "no internals for the client: {detail}");
    s.exec("DROP TRIGGER boom", "DROP TRIGGER boom ON resources; DROP FUNCTION boom();").await;

    let errors = admin_get(&s, &op, "/errors").await;
    assert_eq!(errors.status, 200);
    let e = errors.body.as_array().unwrap().iter().find(|e| e["request_id"] == request_id.as_str()).expect("logged");
    assert!(e["detail"].as_str().unwrap().contains("no_such_function"), "{e}");
    assert_eq!(e["path"], "/scim/v2/Users");
    // The tenant's own error log has it; another tenant's does not.
    let mine = admin_get(&s, &op, "/tenants/acme/audit/errors").await;
    assert!(mine.body.as_array().unwrap().iter().any(|e| e["request_id"] == request_id.as_str()), "{}", mine.body);
    s.tenant_token("globex").await;
    assert_eq!(admin_get(&s, &op, "/tenants/globex/audit/errors").await.body, json!([]));
    let ev = events(&s, &op).await;
    assert_eq!(find(&ev, &request_id)["status"], 500);
    // Nothing was created, and the server works on.
    assert_eq!(s.get(&format!("/Users?filter={}", enc("userName eq \"doomed\""))).await.body["totalResults"], 0);
    assert_eq!(s.post("/Users", &json!({"userName": "fine"})).await.status, 201);
}

#[tokio::test]
async fn a_failed_write_leaves_neither_change_nor_event() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let existing = s.create_user("kept").await;
    let id = existing["id"].as_str().unwrap().to_string();
    // Writing a change's event fails: the change must roll back with it.
    s.exec(
        "CREATE TRIGGER no_events BEFORE INSERT ON api_events WHEN NEW.status < 300 AND NEW.op <> 'read' \
         AND NEW.op <> 'list' BEGIN SELECT RAISE(ABORT, 'event store unavailable'); END;",
        "CREATE FUNCTION no_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         RAISE EXCEPTION 'event store unavailable'; END $$; \
         CREATE TRIGGER no_events BEFORE INSERT ON api_events FOR EACH ROW \
         WHEN (NEW.status < 300 AND NEW.op <> 'read' AND NEW.op <> 'list') EXECUTE FUNCTION no_events();",
    )
    .await;
    let created = s.post("/Users", &json!({"userName": "ghost"})).await;
    assert_eq!(created.status, 500, "{}", created.body);
    let patched =
        s.patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "path": "title", "value": "X"}]))).await;
    assert_eq!(patched.status, 500);
    let deleted = s.delete(&format!("/Users/{id}")).await;
    assert_eq!(deleted.status, 500);
    s.exec("DROP TRIGGER no_events", "DROP TRIGGER no_events ON api_events; DROP FUNCTION no_events();").await;

    assert_eq!(s.get(&format!("/Users?filter={}", enc("userName eq \"ghost\""))).await.body["totalResults"], 0);
    let kept = s.get(&format!("/Users/{id}")).await;
    assert_eq!(kept.status, 200);
    assert!(kept.body.get("title").is_none(), "{}", kept.body);
    assert_eq!(kept.body["meta"]["version"], existing["meta"]["version"]);
    let ev = events(&s, &op).await;
    for r in [&created, &patched, &deleted] {
        let matching: Vec<&Value> = ev.iter().filter(|e| e["request_id"] == rid(r).as_str()).collect();
        assert_eq!(matching.len(), 1, "one event, the failure's: {matching:?}");
        assert_eq!(matching[0]["status"], 500);
    }
}

#[tokio::test]
async fn the_go_live_summary_counts_what_a_scripted_run_did() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let before = s.create_user("before.the.window").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let from = (Utc::now() - TimeDelta::milliseconds(1)).to_rfc3339();

    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.create_user(&format!("sync{i}")).await["id"].as_str().unwrap().to_string());
    }
    let g = s.create_group("Team", &[&ids[0]]).await;
    s.create_group("Other", &[]).await;
    let gid = g["id"].as_str().unwrap();
    assert_eq!(s.put(&format!("/Users/{}", ids[0]), &json!({"userName": "sync0", "title": "T"})).await.status, 200);
    assert_eq!(
        s.patch(&format!("/Users/{}", ids[1]), &patch_op(json!([{"op": "add", "path": "title", "value": "T"}])))
            .await
            .status,
        200
    );
    for id in &ids[2..4] {
        let r = s
            .patch(&format!("/Users/{id}"), &patch_op(json!([{"op": "replace", "path": "active", "value": false}])))
            .await;
        assert_eq!(r.status, 200);
    }
    // Deactivating an inactive user again is an update, not a deactivation.
    s.patch(&format!("/Users/{}", ids[3]), &patch_op(json!([{"op": "replace", "path": "active", "value": false}])))
        .await;
    assert_eq!(
        s.patch(
            &format!("/Groups/{gid}"),
            &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": ids[1]}]}]))
        )
        .await
        .status,
        204
    );
    assert_eq!(s.delete(&format!("/Users/{}", ids[4])).await.status, 204);
    for _ in 0..3 {
        s.get(&format!("/Users/{}", ids[0])).await;
    }
    s.get("/Users?count=2").await;
    assert_eq!(s.post("/Users", &json!({"userName": "sync0"})).await.status, 409);
    assert_eq!(s.get("/Users/not-there").await.status, 404);
    assert_eq!(s.get(&format!("/Users?filter={}", enc("userName xx 1"))).await.status, 400);
    let to = (Utc::now() + TimeDelta::seconds(1)).to_rfc3339();

    let r = admin_get(&s, &op, &format!("/tenants/acme/audit/summary?from={}&to={}", enc(&from), enc(&to))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sum = &r.body;
    assert_eq!(sum["created"], 7, "{sum}");
    assert_eq!(sum["users"]["created"], 5);
    assert_eq!(sum["groups"]["created"], 2);
    assert_eq!(sum["updated"], 6, "{sum}");
    assert_eq!(sum["users"]["updated"], 5);
    assert_eq!(sum["groups"]["updated"], 1);
    assert_eq!(sum["deactivated"], 2);
    assert_eq!(sum["users"]["deactivated"], 2);
    assert_eq!(sum["deleted"], 1);
    assert_eq!(sum["reads"], 4);
    assert_eq!(sum["errors"], json!({"uniqueness": 1, "status 404": 1, "invalidFilter": 1}));
    assert_eq!(sum["error_count"], 3);
    assert_eq!(sum["requests"], 21);
    assert!(sum["first_event"].as_str().unwrap() >= from.as_str().get(..19).unwrap());
    assert!(sum["last_event"].as_str().unwrap() > sum["first_event"].as_str().unwrap());
    // The user created before the window is not counted; a window with nothing is all zeros.
    assert!(before["id"].is_string());
    let empty =
        admin_get(&s, &op, "/tenants/acme/audit/summary?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z").await;
    assert_eq!(empty.body["created"], 0);
    assert_eq!(empty.body["first_event"], Value::Null);
    assert_eq!(
        admin_get(&s, &op, "/tenants/acme/audit/summary?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z")
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn events_and_payloads_past_their_retention_are_purged() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    s.create_user("old.news").await;
    assert!(!events(&s, &op).await.is_empty());
    let acme = s.store.tenant_by_name("acme").await.unwrap().unwrap();
    s.store
        .set_audit_settings(
            acme.id,
            scimd_store::AuditSettings { details: scimd_store::DetailsLevel::All, events_days: 30, details_days: 7 },
        )
        .await
        .unwrap();
    // (events, events with payloads) of acme, through the store.
    let count = || async {
        let q = scimd_store::EventQuery { limit: 100_000, ..Default::default() };
        let events = s.store.events(acme.id, &q).await.unwrap();
        let mut with_payloads = 0;
        for e in &events {
            if s.store.event_details(acme.id, e.id).await.unwrap().is_some() {
                with_payloads += 1;
            }
        }
        (events.len(), with_payloads)
    };
    let (events_before, payloads_before) = count().await;
    assert!(payloads_before > 0);
    // Eight days on: payloads are gone, events stay.
    let mut n = 1;
    while n > 0 {
        n = s.store.purge_audit(Utc::now() + TimeDelta::days(8), 90, 2).await.unwrap();
    }
    assert_eq!(count().await, (events_before, 0));
    // Thirty-one days on: the events too.
    let mut n = 1;
    while n > 0 {
        n = s.store.purge_audit(Utc::now() + TimeDelta::days(31), 90, 1000).await.unwrap();
    }
    assert_eq!(count().await, (0, 0));
}

#[tokio::test]
async fn an_event_without_payloads_says_why() {
    use crate::admin::{call, operator_token};
    let s = TestServer::start().await;
    let op = operator_token(&s).await;
    let created = s.create_user("ada").await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(s.get(&format!("/Users/{id}")).await.status, 200);
    let events = call(&s, Some(&op), reqwest::Method::GET, "/tenants/acme/audit/events?op=read", None).await;
    let read = events.body[0]["id"].as_i64().unwrap_or_else(|| panic!("no read event: {}", events.body));
    let r = call(&s, Some(&op), reqwest::Method::GET, &format!("/tenants/acme/audit/events/{read}"), None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.to_string().contains("successful reads keep no payloads"), "{}", r.body);
    let r = call(&s, Some(&op), reqwest::Method::GET, "/tenants/acme/audit/events/999999", None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.body.to_string().contains("has no event 999999"), "{}", r.body);
}
