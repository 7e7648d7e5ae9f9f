//! Operating scimd, through the binary as an operator runs it: the
//! configuration (file, environment, flags, unknown keys, secrets from files, declared
//! tenants, `config print-default` / `show`), request logs in JSON with no secret in
//! them, the request id in headers and error bodies, `/metrics` (on the main address for
//! operators, or on its own), `/healthz`, `/readyz` turning red when the database goes away
//! (SQLite; PostgreSQL when `SCIMD_TEST_POSTGRES` names a server) and `scimd healthcheck`,
//! SIGTERM draining within the grace period, `--version`, `migrate`, completions, and the
//! systemd unit and Dockerfile of `examples/`.

use std::io::{Read, Write};
use std::process::{Child, Command, Output};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;

use process::{run, run_ok, scimd};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Server {
    child: Child,
    addr: String,
    log: Receiver<String>,
}

impl Server {
    fn start(mut cmd: Command, addr: &str) -> Server {
        cmd.arg("serve");
        let (child, log) = process::spawn_listening(cmd, addr, Duration::from_secs(30));
        Server { child, addr: addr.to_string(), log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn sigterm(&self) {
        assert!(Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success());
    }

    /// Waits for the process to exit (at most `within`); returns its status and how long it took.
    fn wait_exit(&mut self, within: Duration) -> (std::process::ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return (s, start.elapsed());
            }
            assert!(start.elapsed() < within, "the server did not exit within {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log lines written so far (waiting `settle` for more).
    fn log_lines(&self, settle: Duration) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(l) = self.log.recv_timeout(settle) {
            out.push(l);
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn addr() -> String {
    format!("127.0.0.1:{}", process::free_port())
}

fn bootstrap(db: &str) -> String {
    run_ok(scimd().args(["--database", db, "tenant", "create", "acme"]));
    run_ok(scimd().args(["--database", db, "token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string()
}

/// The value of the first sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let (n, rest) = series.split_once('{').unwrap_or((series, ""));
        (n == name && labels.iter().all(|x| rest.contains(x))).then(|| value.parse().ok())?
    })
}

#[test]
fn config_errors_name_the_key_and_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scimd.toml");
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:0\"\nlisen = \"oops\"\n").unwrap();
    let o = run(scimd().args(["--config", file.to_str().unwrap(), "serve"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("lisen") && e.contains("scimd.toml") && e.contains("line 3"), "{e}");
    // The same file named by SCIMD_CONFIG.
    let o = run(scimd().env("SCIMD_CONFIG", &file).args(["config", "show"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("lisen"), "{}", stderr(&o));
    // An unknown section or key in a SCIMD_…__… variable.
    let o = run(scimd().env("SCIMD_DATABSE__URL", "sqlite://x.db").args(["config", "show"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("SCIMD_DATABSE__URL") && stderr(&o).contains("databse"), "{}", stderr(&o));
    let o = run(scimd().env("SCIMD_SERVER__WORKRES", "2").args(["config", "show"]));
    assert!(stderr(&o).contains("SCIMD_SERVER__WORKRES") && stderr(&o).contains("workres"), "{}", stderr(&o));
    // A value of the wrong type, and a bad duration.
    let o = run(scimd().env("SCIMD_SERVER__WORKERS", "lots").args(["config", "show"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("SCIMD_SERVER__WORKERS") && stderr(&o).contains("lots"), "{}", stderr(&o));
    std::fs::write(&file, "[server]\nshutdown_grace = \"soon\"\n").unwrap();
    let o = run(scimd().args(["--config", file.to_str().unwrap(), "config", "show"]));
    assert!(stderr(&o).contains("shutdown_grace") && stderr(&o).contains("soon"), "{}", stderr(&o));
    // A secret file that is not there; a tenant with an unknown preset; a tenant key misspelt.
    let o = run(scimd().env("SCIMD_DATABASE__URL_FILE", "/nonexistent/db-url").args(["config", "show"]));
    assert!(stderr(&o).contains("database.url_file") && stderr(&o).contains("/nonexistent/db-url"), "{}", stderr(&o));
    std::fs::write(&file, "[[tenants]]\nname = \"acme\"\npreset = \"lockr\"\n").unwrap();
    let o = run(scimd().args(["--config", file.to_str().unwrap(), "config", "show"]));
    assert!(stderr(&o).contains("lockr") && stderr(&o).contains("locker"), "{}", stderr(&o));
    std::fs::write(&file, "[[tenants]]\nname = \"acme\"\nprest = \"locker\"\n").unwrap();
    let o = run(scimd().args(["--config", file.to_str().unwrap(), "config", "show"]));
    assert!(stderr(&o).contains("prest"), "{}", stderr(&o));
    // A SCIMD_ variable without `__` that no flag reads is not an error (other tools may
    // use the prefix), but it is not silently ignored either: a warning names it.
    let o = run(scimd().env("SCIMD_LISTNE", "127.0.0.1:1").args(["config", "show"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("SCIMD_LISTNE is not a setting of scimd"), "{}", stderr(&o));
    let o = run(scimd().env("SCIMD_LISTEN", "127.0.0.1:1").args(["config", "show"]));
    assert!(!stderr(&o).contains("not a setting"), "{}", stderr(&o));
}

#[test]
fn print_default_round_trips_and_layers_apply_in_order() {
    let printed = run_ok(scimd().args(["config", "print-default"]));
    assert!(printed.lines().filter(|l| l.starts_with('#')).count() > 40, "a commented file");
    let parsed: scimd_server::config::Config = toml::from_str(&printed).unwrap();
    assert_eq!(parsed, scimd_server::config::Config::default());
    // Fed back as the configuration, it is what scimd runs with by default.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scimd.toml");
    std::fs::write(&file, &printed).unwrap();
    let shown = run_ok(scimd().args(["--config", file.to_str().unwrap(), "config", "show"]));
    let without = run_ok(scimd().args(["config", "show"]));
    assert_eq!(shown, without);
    assert_eq!(toml::from_str::<scimd_server::config::Config>(&shown).unwrap(), parsed);
    // The file, under the environment, under the flags.
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:1\"\nworkers = 3\nmax_page_size = 50\n").unwrap();
    let shown = run_ok(scimd().env("SCIMD_SERVER__WORKERS", "4").env("SCIMD_SERVER__LISTEN", "127.0.0.1:2").args([
        "--config",
        file.to_str().unwrap(),
        "config",
        "show",
    ]));
    let c: scimd_server::config::Config = toml::from_str(&shown).unwrap();
    assert_eq!((c.server.listen.as_str(), c.server.workers, c.server.max_page_size), ("127.0.0.1:2", 4, 50));
    // Secrets from files, hidden when shown.
    let url_file = dir.path().join("db-url");
    std::fs::write(&url_file, "postgres://scimd:hunter2-secret@db.internal/scimd\n").unwrap();
    let shown = run_ok(scimd().env("SCIMD_DATABASE__URL_FILE", &url_file).args(["config", "show"]));
    assert!(shown.contains("postgres://scimd:***@db.internal/scimd") && !shown.contains("hunter2"), "{shown}");
    // The flat variable of the flag, as containers name secrets (`…_FILE`).
    let shown = run_ok(scimd().env("SCIMD_DATABASE_URL_FILE", &url_file).args(["config", "show"]));
    assert!(shown.contains("postgres://scimd:***@db.internal/scimd"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_server_logs_json_exposes_metrics_and_keeps_secrets_out_of_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ops.db").display());
    let token = bootstrap(&db);
    let client: Value = serde_json::from_str(
        run_ok(scimd().args(["--database", &db, "client", "create", "--tenant", "acme", "--json"])).trim(),
    )
    .unwrap();
    let (client_id, client_secret) = (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    let admin_file = dir.path().join("admin-token");
    let admin_token = "an-operator-token-of-at-least-32-characters";
    std::fs::write(&admin_file, format!("{admin_token}\n")).unwrap();
    let (main, metrics) = (addr(), addr());
    let file = dir.path().join("scimd.toml");
    std::fs::write(
        &file,
        format!(
            r#"
[database]
url = "{db}"
[server]
listen = "{main}"
admin_token_file = "{}"
[log]
format = "json"
[metrics]
listen = "{metrics}"
[[tenants]]
name = "lockers"
preset = "locker"
[[tenants]]
name = "acme"
audit_details = "all"
"#,
            admin_file.display()
        ),
    )
    .unwrap();
    let mut cmd = scimd();
    cmd.args(["--config", file.to_str().unwrap()]);
    let server = Server::start(cmd, &main);
    let http = reqwest::Client::new();

    // Declared tenants exist with their settings: the locker preset's API is at /api.
    let lockers = run_ok(scimd().args(["--database", &db, "tenant", "profile", "lockers"]));
    assert!(lockers.contains("\"preset\": \"locker\""), "{lockers}");

    // A request that works, one that fails (the request id in the header and the body),
    // a token issued and a token refused.
    let r = http
        .post(server.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ops-bob",
                     "password": "a-user-password-never-logged"})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .get(server.url("/scim/v2/Users/does-not-exist"))
        .bearer_auth(&token)
        .header("x-request-id", "ops-test-404")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The server's id is its own; the client's is logged beside it.
    let missing_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(missing_id, "ops-test-404");
    let body: Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().ends_with(&format!("; request id {missing_id}")), "{body}");
    let form = [("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", client_secret)];
    let r = http.post(server.url("/oauth2/token")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let form =
        [("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", "wrong-secret-value")];
    let r = http.post(server.url("/oauth2/token")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    assert!(body["error_description"].as_str().unwrap().ends_with(&format!("; request id {id}")), "{body}");

    // /metrics lives on its own address, open; not on the main one.
    let r = http.get(server.url("/metrics")).bearer_auth(admin_token).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http.get(format!("http://{metrics}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("openmetrics-text"));
    let text = r.text().await.unwrap();
    let created = ["method=\"POST\"", "route=\"/scim/v2/Users\"", "status=\"201\"", "tenant=\"acme\""];
    assert_eq!(sample(&text, "scimd_http_requests_total", &created), Some(1.0), "{text}");
    let missing = ["route=\"/scim/v2/Users/{id}\"", "status=\"404\"", "tenant=\"acme\""];
    assert_eq!(sample(&text, "scimd_http_requests_total", &missing), Some(1.0), "{text}");
    let latency = ["method=\"POST\"", "route=\"/scim/v2/Users\"", "le=\"+Inf\""];
    assert_eq!(sample(&text, "scimd_http_request_duration_seconds_bucket", &latency), Some(1.0), "{text}");
    let cc = ["grant_type=\"client_credentials\""];
    assert_eq!(sample(&text, "scimd_oauth_tokens_issued_total", &cc), Some(1.0), "{text}");
    let refused = ["grant_type=\"client_credentials\"", "error=\"invalid_client\""];
    assert_eq!(sample(&text, "scimd_oauth_token_failures_total", &refused), Some(1.0), "{text}");
    assert!(sample(&text, "scimd_store_operation_duration_seconds_count", &["kind=\"write\""]).unwrap() >= 1.0);
    assert!(sample(&text, "scimd_store_operation_duration_seconds_count", &["kind=\"read\""]).unwrap() >= 1.0);
    assert!(sample(&text, "scimd_store_pool_connections", &["state=\"idle\""]).is_some(), "{text}");
    assert!(sample(&text, "scimd_store_pool_waiting", &[]).is_some(), "{text}");
    assert!(sample(&text, "scimd_audit_backlog", &[]).is_some(), "{text}");
    for reason in ["contention", "connection"] {
        let label = format!("reason=\"{reason}\"");
        assert!(sample(&text, "scimd_store_retries_total", &[label.as_str()]).is_some(), "{text}");
    }
    assert!(sample(&text, "scimd_http_requests_in_flight", &[]).is_some(), "{text}");
    assert_eq!(sample(&text, "scimd_build_info", &["version=\"0.1.0\""]), Some(1.0), "{text}");
    // Health checks on both addresses.
    for base in [server.url(""), format!("http://{metrics}")] {
        assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
        assert_eq!(http.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    }

    // One JSON line per request, with id, tenant, method, route template, status, time.
    server.sigterm();
    let log = server.log_lines(Duration::from_secs(2));
    let requests: Vec<Value> = log
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "scimd::request")
        .collect();
    let missing = requests.iter().find(|v| v["request_id"] == missing_id.as_str()).expect("the 404 is logged");
    assert_eq!(missing["client_request_id"], "ops-test-404");
    assert!(
        requests
            .iter()
            .filter(|v| v["request_id"] != missing_id.as_str())
            .all(|v| v.get("client_request_id").is_none())
    );
    assert_eq!(missing["tenant"], "acme");
    assert_eq!(missing["method"], "GET");
    assert_eq!(missing["route"], "/scim/v2/Users/{id}");
    assert_eq!(missing["status"], 404);
    assert!(missing["duration_ms"].as_f64().is_some(), "{missing}");
    assert!(log.iter().all(|l| serde_json::from_str::<Value>(l).is_ok()), "every line is JSON: {log:?}");
    let all = log.join("\n");
    for secret in [token.as_str(), client_secret, admin_token, "a-user-password-never-logged", "wrong-secret-value"] {
        assert!(!all.contains(secret), "a secret in the log: {secret}");
    }
}

/// A request whose body is still arriving when SIGTERM comes: sent as headers and half a
/// body on a raw connection.
fn half_sent_create(addr: &str, token: &str, user: &str) -> (std::net::TcpStream, String) {
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user}).to_string();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /scim/v2/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    s.flush().unwrap();
    (s, body[10..].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_within_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("drain.db").display());
    let token = bootstrap(&db);
    let http = reqwest::Client::new();

    // Drained: the request finishes during the grace period, is answered, and is kept.
    let (main, metrics) = (addr(), addr());
    let mut cmd = scimd();
    cmd.args(["--database", &db, "serve", "--listen", &main, "--metrics-listen", &metrics, "--shutdown-grace", "20s"]);
    let (child, log) = process::spawn_listening(cmd, &main, Duration::from_secs(30));
    let mut server = Server { child, addr: main.clone(), log };
    let (mut conn, rest) = half_sent_create(&main, &token, "drained");
    std::thread::sleep(Duration::from_millis(300));
    server.sigterm();
    std::thread::sleep(Duration::from_millis(300));
    // Draining: not ready any more, and no new connections on the main address.
    let r = http.get(format!("http://{metrics}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("shutting down"));
    assert!(std::net::TcpStream::connect(&main).is_err(), "the listener is closed");
    conn.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = conn.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let (status, _) = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    drop(server);

    // Past the grace period: the process exits anyway, saying so.
    let main = addr();
    let mut cmd = scimd();
    cmd.args(["--database", &db, "serve", "--listen", &main, "--shutdown-grace", "1s"]);
    let (child, log) = process::spawn_listening(cmd, &main, Duration::from_secs(30));
    let mut server = Server { child, addr: main.clone(), log };
    let (_conn, _rest) = half_sent_create(&main, &token, "never-finished");
    std::thread::sleep(Duration::from_millis(300));
    server.sigterm();
    let (status, took) = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(10), "{took:?}");
    let log = server.log_lines(Duration::from_millis(500)).join("\n");
    assert!(log.contains("still in flight after the shutdown grace period"), "{log}");

    // What was acknowledged is there.
    let main = addr();
    let mut cmd = scimd();
    cmd.args(["--database", &db, "serve", "--listen", &main]);
    let server = Server::start_args(cmd, &main);
    let r: Value = http
        .get(server.url("/scim/v2/Users?filter=userName%20eq%20%22drained%22"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["totalResults"], 1, "{r}");
}

impl Server {
    /// Starts a command that already says `serve`.
    fn start_args(cmd: Command, addr: &str) -> Server {
        let (child, log) = process::spawn_listening(cmd, addr, Duration::from_secs(30));
        Server { child, addr: addr.to_string(), log }
    }
}

/// `/readyz` and `scimd healthcheck` while the database is there, gone, and back.
async fn readiness_follows_the_database(db: &str, take_away: impl AsyncFnOnce(), bring_back: impl AsyncFnOnce()) {
    run_ok(scimd().args(["--database", db, "migrate"]));
    let main = addr();
    let mut cmd = scimd();
    cmd.args(["--database", db, "serve", "--listen", &main]);
    let server = Server::start_args(cmd, &main);
    let http = reqwest::Client::new();
    let check = || run(scimd().args(["healthcheck", "--url", &format!("http://{main}")]));
    assert_eq!(http.get(server.url("/readyz")).send().await.unwrap().status(), 200);
    assert!(check().status.success());
    take_away().await;
    let r = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let reason = r.text().await.unwrap();
    assert!(reason.contains("database not ready"), "{reason}");
    // Alive all the same (a restart would not help), and the probe fails.
    assert_eq!(http.get(server.url("/healthz")).send().await.unwrap().status(), 200);
    let o = check();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("503"), "{}", stderr(&o));
    assert!(run(scimd().args(["healthcheck", "--live", "--url", &format!("http://{main}")])).status.success());
    bring_back().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if http.get(server.url("/readyz")).send().await.unwrap().status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "ready again once the database is back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(check().status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_turns_red_when_the_sqlite_file_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ready.db");
    let moved = dir.path().join("moved-away.db");
    let db = format!("sqlite://{}", path.display());
    let (p, m) = (path.clone(), moved.clone());
    readiness_follows_the_database(
        &db,
        async || std::fs::rename(&p, &m).unwrap(),
        async || std::fs::rename(&moved, &path).unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_turns_red_when_postgresql_goes_away() {
    let Ok(admin_url) = std::env::var("SCIMD_TEST_POSTGRES") else {
        println!("SCIMD_TEST_POSTGRES is not set: PostgreSQL readiness test not run");
        return;
    };
    let url = process::fresh_database(&admin_url).await;
    let name = url.rsplit('/').next().unwrap().to_string();
    let admin = |sql: String| {
        let admin_url = admin_url.clone();
        async move {
            let (c, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await.unwrap();
            let task = tokio::spawn(conn);
            c.batch_execute(&sql).await.unwrap();
            drop(c);
            let _ = task.await;
        }
    };
    let n = name.clone();
    readiness_follows_the_database(
        &url,
        async || {
            // The database refuses connections, and those open are cut.
            admin(format!(
                "ALTER DATABASE {n} WITH ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{n}'"
            ))
            .await
        },
        async || admin(format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")).await,
    )
    .await;
}

#[test]
fn version_migrate_and_completions() {
    let v = run_ok(scimd().arg("--version"));
    let v = v.trim();
    let commit = v.rsplit_once("(commit ").and_then(|(_, c)| c.strip_suffix(')')).unwrap_or_else(|| panic!("{v}"));
    assert!(v.starts_with(&format!("scimd {} ", env!("CARGO_PKG_VERSION"))), "{v}");
    assert!(commit == "unknown" || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())), "{v}");
    if let Ok(o) = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output()
        && o.status.success()
    {
        assert_eq!(commit, String::from_utf8_lossy(&o.stdout).trim(), "built from this checkout's HEAD");
    }
    // `migrate` alone creates the schema; the database is then ready.
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let out = run_ok(scimd().args(["--database", &db, "migrate"]));
    assert!(out.contains("at the current schema"), "{out}");
    assert!(dir.path().join("m.db").exists());
    for (shell, marker) in [("bash", "_scimd()"), ("zsh", "#compdef scimd"), ("fish", "complete -c scimd")] {
        let script = run_ok(scimd().args(["completions", shell]));
        assert!(script.contains(marker) && script.contains("healthcheck"), "{shell}: {script:.200}");
    }
}

/// The packaging examples run scimd with arguments it accepts.
#[test]
fn the_systemd_unit_and_the_dockerfile_use_real_commands() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let unit = std::fs::read_to_string(root.join("examples/systemd/scimd.service")).unwrap();
    let docker = std::fs::read_to_string(root.join("examples/docker/Dockerfile")).unwrap();
    let exec_start = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart");
    let exec_check = unit.lines().find_map(|l| l.strip_prefix("ExecStartPost=")).expect("ExecStartPost");
    let json_args = |key: &str| -> Vec<String> {
        let line =
            docker.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("{key} in the Dockerfile"));
        let line = line.trim().trim_start_matches("CMD").trim();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{key} {line}: {e}"))
    };
    let mut commands: Vec<Vec<String>> = vec![
        exec_start.split_whitespace().map(str::to_string).collect(),
        exec_check.split_whitespace().map(str::to_string).collect(),
    ];
    let mut entry = json_args("ENTRYPOINT ");
    entry.extend(json_args("CMD "));
    commands.push(entry);
    commands.push(json_args("HEALTHCHECK --interval=10s --timeout=5s CMD "));
    for argv in commands {
        assert!(argv[0].ends_with("scimd"), "{argv:?}");
        // `--help` after the arguments: clap checks every one of them, then prints help.
        let o = run(scimd().args(&argv[1..]).arg("--help"));
        assert!(o.status.success(), "{argv:?}: {}", stderr(&o));
    }
    // The example configuration they point at is the printed default.
    assert!(unit.contains("/etc/scimd/scimd.toml") && docker.contains("examples/scimd.toml"));
}

/// TLS to PostgreSQL as the URL says (`sslmode`, `sslrootcert`): verified against the
/// given root, refused with another root, encrypted without verification on `require`,
/// plain on `disable`. Needs the test PostgreSQL's TLS (`SCIMD_TEST_POSTGRES_CA`, set by
/// scripts/test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_use_tls_as_the_url_says() {
    let (Ok(admin_url), Ok(ca)) = (std::env::var("SCIMD_TEST_POSTGRES"), std::env::var("SCIMD_TEST_POSTGRES_CA"))
    else {
        println!("SCIMD_TEST_POSTGRES(_CA) not set: PostgreSQL TLS test not run");
        return;
    };
    let other_ca = std::path::Path::new(&ca).with_file_name("other-ca.crt");
    let url = process::fresh_database(&admin_url).await;
    let name = url.rsplit('/').next().unwrap().to_string();
    let with = |q: &str| format!("{url}?{q}");
    // The backends of this database, and whether each uses TLS.
    let encrypted = || {
        let (admin_url, name) = (admin_url.clone(), name.clone());
        async move {
            let (c, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await.unwrap();
            let task = tokio::spawn(conn);
            let rows = c
                .query(
                    "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1",
                    &[&name],
                )
                .await
                .unwrap();
            drop(c);
            let _ = task.await;
            rows.iter().map(|r| r.get::<_, bool>(0)).collect::<Vec<bool>>()
        }
    };
    let verified = with(&format!("sslmode=verify-full&sslrootcert={ca}"));
    run_ok(scimd().args(["--database", &verified, "migrate"]));
    let token = bootstrap(&verified);
    for (query, tls) in [(format!("sslmode=verify-full&sslrootcert={ca}"), true), ("sslmode=require".into(), true)]
        .into_iter()
        .chain([("sslmode=disable".to_string(), false)])
    {
        let main = addr();
        let mut cmd = scimd();
        cmd.args(["--database", &with(&query), "serve", "--listen", &main]);
        let server = Server::start_args(cmd, &main);
        let r =
            reqwest::Client::new().get(server.url("/scim/v2/Users?count=0")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200, "{query}");
        let backends = encrypted().await;
        assert!(!backends.is_empty() && backends.iter().all(|b| *b == tls), "{query}: {backends:?}");
        drop(server);
        tokio::time::sleep(Duration::from_millis(300)).await; // its connections close
    }
    // Another root: refused, saying why.
    let o = run(scimd().args([
        "--database",
        &with(&format!("sslmode=verify-full&sslrootcert={}", other_ca.display())),
        "migrate",
    ]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("invalid peer certificate"), "{}", stderr(&o));
    let o = run(scimd().args(["--database", &with("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), "migrate"]));
    assert!(stderr(&o).contains("/nonexistent/ca.pem"), "{}", stderr(&o));
}

/// A tenant created with the command line while the server runs answers at its own base
/// path and token path on its first request (the server rereads the profiles when a
/// request names a path it does not know), and an unknown path still gets its 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_created_while_serving_answers_at_its_paths_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("mounts.db").display());
    run_ok(scimd().args(["--database", &db, "migrate"]));
    let a = addr();
    let mut cmd = scimd();
    cmd.args(["--database", &db, "serve", "--listen", &a]);
    let (child, log) = process::spawn_listening(cmd, &a, Duration::from_secs(30));
    let server = Server { child, addr: a.clone(), log };
    let http = reqwest::Client::new();

    run_ok(scimd().args(["--database", &db, "tenant", "create", "harbour", "--preset", "locker"]));
    let token = run_ok(scimd().args(["--database", &db, "token", "create", "--tenant", "harbour"]))
        .lines()
        .last()
        .unwrap()
        .to_string();
    let r = http.get(server.url("/api/users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    run_ok(scimd().args(["--database", &db, "tenant", "create", "flow", "--preset", "workflow"]));
    let client: Value = serde_json::from_str(
        run_ok(scimd().args(["--database", &db, "client", "create", "--tenant", "flow", "--json"])).trim(),
    )
    .unwrap();
    let r = http
        .post(server.url("/oauth2/server/token"))
        .basic_auth(client["client_id"].as_str().unwrap(), client["client_secret"].as_str())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    let r = http.get(server.url("/nowhere/Users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
