//! Several scimd processes behind one address share one PostgreSQL database:
//! migrations started together do not race; two replicas creating the same userName give
//! one 201 and one 409; concurrent member additions through both lose no member; a stale
//! `If-Match` on the other replica is 412; a list cursor issued by one replica continues
//! on the other; a bounded concurrent hammering through both
//! leaves every acknowledged create present exactly once; a token revoked through one
//! replica stops working on the other within the documented delay; a signing key rotated
//! through the command line signs tokens one replica issues that the other accepts at
//! once, and a retired key stops verifying on both within the reload interval; a user
//! deactivated through one replica loses its login on the other at once; parallel
//! guesses at a client secret through both replicas get at most the lockout threshold
//! checked.
//!
//! Runs when `SCIMD_TEST_POSTGRES` names a PostgreSQL server (`scripts/test` starts one);
//! without it the test says so and does nothing.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;

fn scimd(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimd"));
    c.env("SCIMD_DATABASE_URL", url).env("SCIMD_LOG", "warn");
    c
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run scimd");
    assert!(out.status.success(), "scimd failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    fn start(url: &str) -> Replica {
        let addr = format!("127.0.0.1:{}", process::free_port());
        let mut cmd = scimd(url);
        cmd.env("SCIMD_LOG", "info").args([
            "serve",
            "--listen",
            &addr,
            "--workers",
            "2",
            "--pg-pool",
            "8",
            "--key-reload",
            "2s",
        ]);
        let (child, _log) = process::spawn_listening(cmd, &addr, Duration::from_secs(30));
        Replica { child, base: format!("http://{addr}") }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r =
            req.bearer_auth(&self.token).header("content-type", "application/scim+json").send().await.expect("request");
        let status = r.status().as_u16();
        let body = r.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }
    async fn post(&self, base: &str, path: &str, body: Value) -> (u16, Value) {
        self.send(self.http.post(format!("{base}/scim/v2{path}")).json(&body)).await
    }
    async fn get(&self, base: &str, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{base}/scim/v2{path}"))).await
    }
    async fn patch(&self, base: &str, path: &str, ops: Value, if_match: Option<&str>) -> (u16, Value) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        let mut req = self.http.patch(format!("{base}/scim/v2{path}")).json(&body);
        if let Some(v) = if_match {
            req = req.header("if-match", v);
        }
        self.send(req).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_postgres_database() {
    let Ok(admin_url) = std::env::var("SCIMD_TEST_POSTGRES") else {
        eprintln!("SCIMD_TEST_POSTGRES is not set: the multi-replica test needs PostgreSQL (scripts/test starts one)");
        return;
    };
    let url = process::fresh_database(&admin_url).await;

    // Two migrations at once: one creates the schema, the other waits and finds it done.
    let m1 = scimd(&url).arg("migrate").spawn().unwrap();
    let m2 = scimd(&url).arg("migrate").spawn().unwrap();
    for mut m in [m1, m2] {
        assert!(m.wait().unwrap().success(), "a concurrent migration failed");
    }
    run_ok(scimd(&url).args(["tenant", "create", "acme"]));
    let token_out = run_ok(scimd(&url).args(["token", "create", "--tenant", "acme"]));
    let token = token_out.lines().last().unwrap().trim().to_string();
    let (a, b) = (Replica::start(&url), Replica::start(&url));
    let api = Api { http: reqwest::Client::new(), token };
    let replicas = [a.base.clone(), b.base.clone()];

    // The same userName through both at once: exactly one wins.
    for i in 0..20 {
        let name = format!("race-{i}@example.com");
        let (x, y) = tokio::join!(
            api.post(&replicas[0], "/Users", json!({"userName": name})),
            api.post(&replicas[1], "/Users", json!({"userName": name.to_uppercase()})),
        );
        let mut statuses = [x.0, y.0];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{x:?} {y:?}");
        let loser = if x.0 == 409 { &x.1 } else { &y.1 };
        assert_eq!(loser["scimType"], "uniqueness", "{loser}");
    }

    // Concurrent member additions to one group through both replicas lose nothing.
    let (s, group) = api.post(&replicas[0], "/Groups", json!({"displayName": "Everyone"})).await;
    assert_eq!(s, 201, "{group}");
    let gid = group["id"].as_str().unwrap().to_string();
    let mut users = Vec::new();
    for i in 0..40 {
        let (s, u) = api.post(&replicas[i % 2], "/Users", json!({"userName": format!("member-{i}")})).await;
        assert_eq!(s, 201, "{u}");
        users.push(u["id"].as_str().unwrap().to_string());
    }
    let mut adds = tokio::task::JoinSet::new();
    for (i, uid) in users.iter().enumerate() {
        let (api, base, path, uid) = (api.clone(), replicas[i % 2].clone(), format!("/Groups/{gid}"), uid.clone());
        adds.spawn(async move {
            api.patch(&base, &path, json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]), None).await
        });
    }
    while let Some(r) = adds.join_next().await {
        let (s, body) = r.unwrap();
        // A group PATCH as the identity providers send it answers no content.
        assert_eq!(s, 204, "{body}");
    }
    let (_, g) = api.get(&replicas[1], &format!("/Groups/{gid}")).await;
    let members: HashSet<&str> =
        g["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    assert_eq!(members.len(), users.len(), "members lost: {g}");
    assert!(users.iter().all(|u| members.contains(u.as_str())));
    // Forty changes, forty versions: none was lost to another.
    assert_eq!(g["meta"]["version"], "W/\"41\"", "{g}");

    // A version read on one replica and spent there is stale on the other.
    let uid = &users[0];
    let (_, u) = api.get(&replicas[0], &format!("/Users/{uid}")).await;
    let version = u["meta"]["version"].as_str().unwrap().to_string();
    let set_title = |t: &str| json!([{"op": "replace", "path": "title", "value": t}]);
    let (s, _) = api.patch(&replicas[0], &format!("/Users/{uid}"), set_title("One"), Some(&version)).await;
    assert_eq!(s, 200);
    let (s, body) = api.patch(&replicas[1], &format!("/Users/{uid}"), set_title("Two"), Some(&version)).await;
    assert_eq!(s, 412, "{body}");

    // A cursor issued by one replica continues on the other: the cursor key is the
    // database's, made once even when both first need it at the same moment.
    let (x, y) =
        tokio::join!(api.get(&replicas[0], "/Users?cursor=&count=5"), api.get(&replicas[1], "/Users?cursor=&count=5"),);
    for (page, other) in [(&x.1, &replicas[1]), (&y.1, &replicas[0])] {
        let c = page["nextCursor"].as_str().unwrap_or_else(|| panic!("{page}"));
        let (s, next) = api.get(other, &format!("/Users?cursor={c}&count=5")).await;
        assert_eq!(s, 200, "{next}");
        assert_eq!(next["itemsPerPage"], 5, "{next}");
    }

    // Hammering: 4 workers × 60 creates, alternating replicas (bounded, loopback only).
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let (api, replicas) = (api.clone(), replicas.clone());
        workers.spawn(async move {
            let mut acked = Vec::new();
            for i in 0..60 {
                let name = format!("hammer-{w}-{i}");
                let (s, body) = api.post(&replicas[(w + i) % 2], "/Users", json!({"userName": name})).await;
                if s == 201 {
                    acked.push((body["id"].as_str().unwrap().to_string(), name));
                } else {
                    assert!(s == 503 || s == 429, "unexpected {s}: {body}");
                }
            }
            acked
        });
    }
    let mut acked = Vec::new();
    while let Some(r) = workers.join_next().await {
        acked.extend(r.unwrap());
    }
    assert!(acked.len() >= 200, "most creates are acknowledged: {}", acked.len());
    // Every acknowledged create is present exactly once, as read through the other replica.
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut start = 1;
    loop {
        let (s, page) =
            api.get(&replicas[1], &format!("/Users?startIndex={start}&count=100&attributes=userName")).await;
        assert_eq!(s, 200, "{page}");
        let items = page["Resources"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        for r in &items {
            let id = r["id"].as_str().unwrap().to_string();
            assert!(seen.insert(id.clone(), r["userName"].as_str().unwrap().to_string()).is_none(), "{id} twice");
        }
        start += items.len();
    }
    for (id, name) in &acked {
        assert_eq!(seen.get(id), Some(name), "acknowledged create {name} ({id}) is missing");
    }
    let hammered = seen.values().filter(|n| n.starts_with("hammer-")).count();
    assert_eq!(hammered, acked.len(), "a create that was not acknowledged is stored");

    // A long-lived token revoked through one replica stops working on the other within
    // the documented delay (its verification is cached for at most 5 seconds).
    let out = run_ok(scimd(&url).args(["token", "create", "--tenant", "acme"]));
    let second = Api { http: api.http.clone(), token: out.lines().last().unwrap().trim().to_string() };
    let token_id = out.lines().next().unwrap().split_whitespace().find_map(|w| w.parse::<i64>().ok());
    let token_id = token_id.unwrap_or_else(|| panic!("no token id in: {out}"));
    assert_eq!(second.get(&replicas[1], "/Users?count=1").await.0, 200);
    run_ok(scimd(&url).args(["token", "revoke", "--tenant", "acme", &token_id.to_string()]));
    let revoked_at = Instant::now();
    loop {
        let (s, _) = second.get(&replicas[1], "/Users?count=1").await;
        if s == 401 {
            break;
        }
        assert!(revoked_at.elapsed() < Duration::from_secs(10), "the revoked token still works after 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(second.get(&replicas[0], "/Users?count=1").await.0, 401);

    // Key rotation: a token issued by one replica under a new key works on the other at
    // once; after the old key is retired, its tokens stop working on both.
    let client: Value =
        serde_json::from_str(run_ok(scimd(&url).args(["client", "create", "--tenant", "acme", "--json"])).trim())
            .unwrap();
    let (cid, secret) = (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    let token_from = |base: String| {
        let http = api.http.clone();
        let (cid, secret) = (cid.to_string(), secret.to_string());
        async move {
            let r = http
                .post(format!("{base}/oauth2/token"))
                .basic_auth(cid, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let body: Value = r.json().await.unwrap();
            body["access_token"].as_str().unwrap().to_string()
        }
    };
    let kid_of = |jwt: &str| -> String {
        use base64::Engine;
        let header = jwt.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        header["kid"].as_str().unwrap().to_string()
    };
    let old = token_from(replicas[0].clone()).await;
    let old_kid = kid_of(&old);
    let with = |t: &str| Api { http: api.http.clone(), token: t.to_string() };
    assert_eq!(with(&old).get(&replicas[1], "/Users?count=1").await.0, 200);
    run_ok(scimd(&url).args(["signing-key", "rotate"]));
    // Replica A signs with the new key once it has reloaded (every 2 s here).
    let deadline = Instant::now() + Duration::from_secs(10);
    let new = loop {
        let t = token_from(replicas[0].clone()).await;
        if kid_of(&t) != old_kid {
            break t;
        }
        assert!(Instant::now() < deadline, "replica A never signed with the rotated key");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // Replica B has not reloaded on its schedule necessarily; the unknown kid makes it.
    assert_eq!(with(&new).get(&replicas[1], "/Users?count=1").await.0, 200);
    // (`--`: a kid made before kids were hex may start with '-'.)
    run_ok(scimd(&url).args(["signing-key", "retire", "--", &old_kid]));
    let retired_at = Instant::now();
    for base in &replicas {
        loop {
            let (s, _) = with(&old).get(base, "/Users?count=1").await;
            if s == 401 {
                break;
            }
            // Reload interval (2 s) plus the verified-token cache (5 s), with slack.
            assert!(retired_at.elapsed() < Duration::from_secs(15), "a retired key still verifies on {base}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(with(&new).get(&replicas[0], "/Users?count=1").await.0, 200);

    // A user the identity provider deactivates through one replica loses its login on the
    // other at once: a user's token is checked in the database with every request.
    let (s, pat) = api.post(&replicas[0], "/Users", json!({"userName": "pat@example.com"})).await;
    assert_eq!(s, 201, "{pat}");
    let login_client: Value = serde_json::from_str(
        run_ok(scimd(&url).args(["client", "create", "--tenant", "acme", "--grant", "password", "--json"])).trim(),
    )
    .unwrap();
    let mut add = scimd(&url);
    add.args(["api-user", "create", "--tenant", "acme", "--username", "pat@example.com", "--password-stdin"]);
    add.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"a long password 123\n").unwrap();
    }
    assert!(child.wait_with_output().unwrap().status.success());
    let (lcid, lsecret) =
        (login_client["client_id"].as_str().unwrap(), login_client["client_secret"].as_str().unwrap());
    let login: Value = api
        .http
        .post(format!("{}/oauth2/token", replicas[0]))
        .basic_auth(lcid, Some(lsecret))
        .form(&[("grant_type", "password"), ("username", "pat@example.com"), ("password", "a long password 123")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_api = with(login["access_token"].as_str().unwrap_or_else(|| panic!("{login}")));
    for _ in 0..2 {
        assert_eq!(user_api.get(&replicas[1], "/Me").await.0, 200);
    }
    let off = json!([{"op": "replace", "path": "active", "value": false}]);
    let path = format!("/Users/{}", pat["id"].as_str().unwrap());
    assert_eq!(api.patch(&replicas[0], &path, off, None).await.0, 200);
    assert_eq!(user_api.get(&replicas[1], "/Me").await.0, 401, "the other replica refuses it at once");
    let refreshed = api
        .http
        .post(format!("{}/oauth2/token", replicas[1]))
        .basic_auth(lcid, Some(lsecret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", login["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 400);

    // Parallel guesses at a client's secret through both replicas: the attempts are
    // counted in the database before each check, so at most the threshold (5) of them
    // are checked in all; the others are refused as locked out.
    let guessed: Value =
        serde_json::from_str(run_ok(scimd(&url).args(["client", "create", "--tenant", "acme", "--json"])).trim())
            .unwrap();
    let gid = guessed["client_id"].as_str().unwrap().to_string();
    let guesses = (0..40).map(|i| {
        let (http, base, gid) = (api.http.clone(), replicas[i % 2].clone(), gid.clone());
        async move {
            http.post(format!("{base}/oauth2/token"))
                .basic_auth(gid, Some(format!("guess {i}")))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s != 429).count();
    assert!(checked <= 5, "{checked} guesses were checked across the replicas: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
}
