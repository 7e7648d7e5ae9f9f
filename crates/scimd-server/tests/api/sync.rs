//! `scimd sync` against the live server: each auth mode, each unknown-user
//! policy, converging re-runs, an interrupted run, throttling (429 with Retry-After), a
//! target that allows only some operations, and the report agreeing with the audit
//! summary of the same window. The sync client runs in-process (`scimd_sync::run`) and
//! talks HTTP to the server, through a test proxy where a test needs to meddle.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use scimd_sync::auth::{ClientAuth, Credentials};
use scimd_sync::plan::{MatchKey, Unknown};
use serde_json::json;

use crate::common::{Options, TestServer};

/// What the proxy does to request number `n` (from 1): `Some` answers instead of the server.
type Hook = Arc<dyn Fn(u64) -> Option<Response> + Send + Sync>;

/// A loopback proxy in front of the server; returns its base address.
async fn proxy(upstream: String, hook: Hook) -> String {
    let count = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let (client, upstream, hook, count) = (client.clone(), upstream.clone(), hook.clone(), count.clone());
        async move {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(r) = hook(n) {
                return r;
            }
            let url = format!("http://{upstream}{}", uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
            let mut rq = client.request(method, url).body(body);
            for name in ["authorization", "content-type", "accept"] {
                if let Some(v) = headers.get(name) {
                    rq = rq.header(name, v.clone());
                }
            }
            let r = rq.send().await.expect("upstream");
            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
            let ct = r.headers().get("content-type").cloned();
            let bytes = r.bytes().await.unwrap_or_default();
            let mut res = (status, bytes).into_response();
            if let Some(ct) = ct {
                res.headers_mut().insert("content-type", ct);
            }
            res
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn csv(dir: &Path, name: &str, rows: &[String]) -> PathBuf {
    let p = dir.join(name);
    let mut text = "userName,givenName,familyName,email,active,externalId\n".to_string();
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn row(i: usize, given: &str, active: bool) -> String {
    format!("user{i:03}@corp.example,{given},Family{i},user{i:03}@corp.example,{active},ext-{i}")
}

fn options(source: &Path, target: String, credentials: Credentials, unknown: Unknown) -> scimd_sync::Options {
    scimd_sync::Options {
        source: source.to_path_buf(),
        mapping: None,
        target,
        credentials,
        match_key: MatchKey::UserName,
        unknown,
        dry_run: false,
        concurrency: 4,
        cancel: Arc::new(AtomicBool::new(false)),
        terminal: false,
        quiet: true,
        timeout: Duration::from_secs(30),
    }
}

async fn sync(o: scimd_sync::Options) -> scimd_sync::report::Report {
    scimd_sync::run(o).await.expect("sync runs").0
}

async fn operator(s: &TestServer) -> String {
    let admin = scimd_server::admin::Admin::new(s.store.clone(), std::sync::Arc::new(scimd_server::clock::SystemClock));
    admin.create_admin_token(None).await.unwrap().token
}

#[tokio::test]
async fn a_bearer_token_sync_creates_updates_reports_and_then_plans_nothing() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let target = format!("http://{}/scim/v2", s.addr);
    let bearer = Credentials::Bearer(s.token.clone());
    let rows: Vec<String> = (0..30).map(|i| row(i, "Given", true)).collect();
    let first = csv(dir.path(), "a.csv", &rows);
    let r = sync(options(&first, target.clone(), bearer.clone(), Unknown::Report)).await;
    assert_eq!((r.created, r.updated, r.error_count, r.interrupted), (30, 0, 0, false), "{r:?}");
    let found = s.get("/Users?filter=userName%20eq%20%22user007@corp.example%22").await;
    let u = &found.body["Resources"][0];
    assert_eq!(u["emails"][0], json!({"type": "work", "value": "user007@corp.example"}));
    assert_eq!(u["externalId"], "ext-7");
    // Someone else's user, unknown to the source: reported, left alone.
    s.create_user("stranger").await;
    // Changes: five renamed, two deactivated, three gone from the source.
    let mut rows: Vec<String> =
        (0..27).map(|i| row(i, if i < 5 { "Renamed" } else { "Given" }, !(10..12).contains(&i))).collect();
    rows.push(row(40, "New", true));
    let second = csv(dir.path(), "b.csv", &rows);
    let mut dry = options(&second, target.clone(), bearer.clone(), Unknown::Report);
    dry.dry_run = true;
    let (report, plan) = scimd_sync::run(dry).await.unwrap();
    assert_eq!((report.created, report.planned.get("update").copied()), (0, Some(7)), "{report:?}");
    let listing = scimd_sync::describe(&plan).join("\n");
    assert!(listing.contains("    name.givenName: \"Given\" → \"Renamed\""), "{listing}");
    assert!(listing.contains("report stranger"), "{listing}");
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], 31, "a dry run changes nothing");
    let r = sync(options(&second, target.clone(), bearer.clone(), Unknown::Report)).await;
    assert_eq!((r.created, r.updated, r.deactivated, r.deleted, r.unchanged, r.reported), (1, 7, 2, 0, 20, 4), "{r:?}");
    assert!(r.unknown_users.contains(&"stranger".to_string()), "{r:?}");
    let u = s.get("/Users?filter=userName%20eq%20%22user003@corp.example%22").await;
    assert_eq!(u.body["Resources"][0]["name"]["givenName"], "Renamed");
    // Nothing changed at the source: nothing to do.
    let r = sync(options(&second, target, bearer, Unknown::Report)).await;
    assert_eq!((r.created, r.updated, r.deleted, r.unchanged, r.requests), (0, 0, 0, 28, 2), "{r:?}");
}

#[tokio::test]
async fn each_unknown_user_policy() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let target = format!("http://{}/scim/v2", s.addr);
    let bearer = Credentials::Bearer(s.token.clone());
    let all = csv(dir.path(), "all.csv", &(0..6).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    sync(options(&all, target.clone(), bearer.clone(), Unknown::Report)).await;
    let fewer = csv(dir.path(), "fewer.csv", &(0..4).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    let r = sync(options(&fewer, target.clone(), bearer.clone(), Unknown::Report)).await;
    assert_eq!((r.reported, r.deactivated, r.deleted), (2, 0, 0));
    let r = sync(options(&fewer, target.clone(), bearer.clone(), Unknown::Deactivate)).await;
    assert_eq!((r.reported, r.updated, r.deactivated, r.deleted), (0, 2, 2, 0), "{r:?}");
    let u = s.get("/Users?filter=userName%20eq%20%22user005@corp.example%22").await;
    assert_eq!(u.body["Resources"][0]["active"], false);
    let r = sync(options(&fewer, target.clone(), bearer.clone(), Unknown::Deactivate)).await;
    assert_eq!((r.updated, r.requests), (0, 2), "already inactive: nothing to do");
    let r = sync(options(&fewer, target.clone(), bearer.clone(), Unknown::Delete)).await;
    assert_eq!(r.deleted, 2, "{r:?}");
    assert_eq!(s.get("/Users?count=0").await.body["totalResults"], 4);
}

#[tokio::test]
async fn client_credentials_with_basic_or_form_authentication() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let target = format!("http://{}/scim/v2", s.addr);
    let c = crate::oauth::client(&s, &["acme"], &["client_credentials"], &["scim"], 3600, 3600).await;
    let source = csv(dir.path(), "a.csv", &(0..5).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    for (auth, n) in [(ClientAuth::Basic, 5), (ClientAuth::Form, 0)] {
        let creds = Credentials::ClientCredentials {
            token_url: s.root("/oauth2/token"),
            client_id: c.id.clone(),
            client_secret: c.secret.clone(),
            client_auth: auth,
            scope: None,
        };
        let r = sync(options(&source, target.clone(), creds, Unknown::Report)).await;
        assert_eq!((r.created, r.unchanged, r.error_count, r.auth.logins), (n, 5 - n, 0, 1), "{auth:?}: {r:?}");
    }
    // A wrong secret stops the run before anything is done.
    let creds = Credentials::ClientCredentials {
        token_url: s.root("/oauth2/token"),
        client_id: c.id.clone(),
        client_secret: "wrong".into(),
        client_auth: ClientAuth::Basic,
        scope: None,
    };
    let e = scimd_sync::run(options(&source, target, creds, Unknown::Report)).await.unwrap_err();
    assert!(e.to_string().contains("invalid_client"), "{e}");
}

#[tokio::test]
async fn the_password_grant_refreshes_after_a_401_and_logs_in_again_when_the_refresh_token_expired() {
    let s = TestServer::start_with(Options { manual_clock: true, ..Options::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let c = crate::oauth::client(&s, &["acme"], &["password"], &["scim"], 3600, 86_400).await;
    let tenant = s.store.tenant_by_name("acme").await.unwrap().unwrap();
    let password = "correct horse battery staple";
    let hash = scimd_server::hashing::hash(password.to_string()).await.unwrap();
    s.store.create_api_user(tenant.id, "svc-acme", hash, chrono::Utc::now()).await.unwrap();
    // The server's clock jumps 2 hours at the 10th request (the access token has expired:
    // refresh), then 2 days at the 25th (the refresh token has too: log in again).
    let clock = s.clock.clone().unwrap();
    let hook: Hook = Arc::new(move |n| {
        match n {
            10 => clock.advance(TimeDelta::hours(2)),
            25 => clock.advance(TimeDelta::days(2)),
            _ => {}
        }
        None
    });
    let base = proxy(s.addr.clone(), hook).await;
    let creds = Credentials::Password {
        token_url: format!("http://{base}/oauth2/token"),
        client_id: c.id.clone(),
        client_secret: c.secret.clone(),
        client_auth: ClientAuth::Basic,
        scope: None,
        username: "svc-acme".into(),
        password: password.into(),
    };
    let source = csv(dir.path(), "a.csv", &(0..40).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    let mut o = options(&source, format!("http://{base}/scim/v2"), creds, Unknown::Report);
    o.concurrency = 1;
    let r = sync(o).await;
    assert_eq!((r.created, r.error_count), (40, 0), "{r:?}");
    assert_eq!((r.auth.logins, r.auth.refreshes), (2, 1), "{r:?}");
}

#[tokio::test]
async fn an_interrupted_run_converges_when_run_again() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = cancel.clone();
    let hook: Hook = Arc::new(move |n| {
        if n == 20 {
            stop.store(true, Ordering::SeqCst);
        }
        None
    });
    let base = proxy(s.addr.clone(), hook).await;
    let source = csv(dir.path(), "a.csv", &(0..60).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    let mut o =
        options(&source, format!("http://{base}/scim/v2"), Credentials::Bearer(s.token.clone()), Unknown::Report);
    o.cancel = cancel;
    let r = sync(o).await;
    assert!(r.interrupted, "{r:?}");
    assert!(r.created > 0 && r.created < 60 && r.not_done > 0, "{r:?}");
    assert_eq!(r.created + r.not_done, 60, "every planned create was done or left: {r:?}");
    let target = format!("http://{}/scim/v2", s.addr);
    let r2 = sync(options(&source, target.clone(), Credentials::Bearer(s.token.clone()), Unknown::Report)).await;
    assert_eq!((r2.created, r2.unchanged, r2.interrupted), (60 - r.created, r.created, false), "{r2:?}");
    let r3 = sync(options(&source, target, Credentials::Bearer(s.token.clone()), Unknown::Report)).await;
    assert_eq!((r3.created, r3.updated, r3.unchanged), (0, 0, 60));
}

#[tokio::test]
async fn throttling_is_waited_out_as_retry_after_says() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Requests 5 to 14 are throttled.
    let hook: Hook = Arc::new(|n| {
        (5..15).contains(&n).then(|| {
            let mut r = (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            r
        })
    });
    let base = proxy(s.addr.clone(), hook).await;
    let source = csv(dir.path(), "a.csv", &(0..20).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    let started = std::time::Instant::now();
    let r =
        sync(options(&source, format!("http://{base}/scim/v2"), Credentials::Bearer(s.token.clone()), Unknown::Report))
            .await;
    assert_eq!((r.created, r.error_count), (20, 0), "{r:?}");
    assert_eq!(r.retries, 10, "{r:?}");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
}

#[tokio::test]
async fn a_patch_only_target_gets_updates_and_the_rest_is_reported_as_not_permitted() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let target = format!("http://{}/scim/v2", s.addr);
    let bearer = Credentials::Bearer(s.token.clone());
    let source = csv(dir.path(), "a.csv", &(0..4).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    sync(options(&source, target.clone(), bearer.clone(), Unknown::Report)).await;
    let staffing = scimd_server::presets::preset("staffing").unwrap();
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/acme/profile")).bearer_auth(&op).json(&staffing)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut rows: Vec<String> = (0..3).map(|i| row(i, "Moved", i != 2)).collect();
    rows.extend((10..13).map(|i| row(i, "New", true)));
    let changed = csv(dir.path(), "b.csv", &rows);
    // One request at a time, so that the first refusal of a kind comes back before the
    // next of that kind would be sent (with more in flight, those already sent are refused too).
    let mut o = options(&changed, target, bearer, Unknown::Delete);
    o.concurrency = 1;
    let r = sync(o).await;
    assert_eq!((r.updated, r.deactivated, r.created, r.deleted), (3, 1, 0, 0), "{r:?}");
    assert_eq!(r.not_permitted.get("create"), Some(&3), "{r:?}");
    assert_eq!(r.not_permitted.get("delete"), Some(&1), "{r:?}");
    assert_eq!(r.errors.get("status 405"), Some(&2), "one refusal per kind, the rest not sent: {r:?}");
}

#[tokio::test]
async fn the_report_matches_the_audit_summary_of_its_window() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let target = format!("http://{}/scim/v2", s.addr);
    let bearer = Credentials::Bearer(s.token.clone());
    let source = csv(dir.path(), "a.csv", &(0..10).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    sync(options(&source, target.clone(), bearer.clone(), Unknown::Report)).await;
    // The target now wants userName = work email: rows that break it fail (400).
    let profile = json!({"user_name_is_work_email": true});
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/acme/profile")).bearer_auth(&op).json(&profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut rows: Vec<String> = (0..8).map(|i| row(i, if i < 3 { "Changed" } else { "G" }, i != 4)).collect();
    rows.push("bad.one@corp.example,B,Bad,other@corp.example,true,ext-99".into());
    rows.push("bad.two@corp.example,B,Bad,,true,ext-98".into());
    let changed = csv(dir.path(), "b.csv", &rows);
    let r = sync(options(&changed, target, bearer, Unknown::Delete)).await;
    assert_eq!((r.updated, r.deactivated, r.deleted, r.error_count), (4, 1, 2, 2), "{r:?}");
    let window = format!("from={}&to={}", crate::common::enc(&r.started_at), crate::common::enc(&r.finished_at));
    let summary =
        s.send(s.client.get(s.root(&format!("/admin/v1/tenants/acme/audit/summary?{window}"))).bearer_auth(&op)).await;
    assert_eq!(summary.status, 200, "{}", summary.body);
    let a = &summary.body;
    assert_eq!(
        (a["created"].clone(), a["updated"].clone(), a["deactivated"].clone(), a["deleted"].clone()),
        (json!(r.created), json!(r.updated), json!(r.deactivated), json!(r.deleted)),
        "audit {a} vs report {r:?}"
    );
    assert_eq!(a["error_count"], json!(r.error_count), "{a}");
    assert_eq!(a["errors"], json!(r.errors), "{a}");
}

#[tokio::test]
async fn matching_by_external_id_a_put_only_target_and_the_visitor_preset() {
    let s = TestServer::start().await;
    let op = operator(&s).await;
    let dir = tempfile::tempdir().unwrap();
    // The visitor preset: its API at /scim/v1, userName = work email, a name required.
    s.preset_tenant(&op, "reception", "visitor").await;
    let token = s.tenant_token("reception").await;
    let target = format!("http://{}/scim/v1", s.addr);
    let bearer = Credentials::Bearer(token.clone());
    let source = csv(dir.path(), "a.csv", &(0..5).map(|i| row(i, "G", true)).collect::<Vec<_>>());
    let r = sync(options(&source, target.clone(), bearer.clone(), Unknown::Report)).await;
    assert_eq!((r.created, r.error_count), (5, 0), "{r:?}");
    // Without PATCH (the profile allows none, /ServiceProviderConfig says so): PUT.
    let mut profile = scimd_server::presets::preset("visitor").unwrap();
    profile["users"] = json!({"patch": false});
    let r = s.send(s.client.put(s.root("/admin/v1/tenants/reception/profile")).bearer_auth(&op).json(&profile)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Matched by externalId: a changed userName (and email) is an update, not a new user.
    let rows: Vec<String> = (0..5)
        .map(|i| {
            if i == 1 {
                "renamed@corp.example,G,Family1,renamed@corp.example,true,ext-1".to_string()
            } else {
                row(i, "G", true)
            }
        })
        .collect();
    let renamed = csv(dir.path(), "b.csv", &rows);
    let mut o = options(&renamed, target.clone(), bearer.clone(), Unknown::Delete);
    o.match_key = MatchKey::ExternalId;
    let r = sync(o).await;
    assert_eq!((r.created, r.updated, r.deleted, r.unchanged, r.error_count), (0, 1, 0, 4, 0), "{r:?}");
    let u = s.get_as(&token, "/Users?filter=externalId%20eq%20%22ext-1%22").await;
    assert_eq!(u.status, 404, "the visitor API is not at /scim/v2");
    let u =
        s.send(s.client.get(format!("{target}/Users?filter=externalId%20eq%20%22ext-1%22")).bearer_auth(&token)).await;
    assert_eq!(u.body["Resources"][0]["userName"], "renamed@corp.example", "{}", u.body);
    assert_eq!(u.body["Resources"][0]["name"]["familyName"], "Family1", "the PUT kept the rest");
    let events =
        s.send(s.client.get(s.root("/admin/v1/tenants/reception/audit/events?op=replace")).bearer_auth(&op)).await;
    assert_eq!(events.body.as_array().unwrap().len(), 1, "one PUT: {}", events.body);
}
