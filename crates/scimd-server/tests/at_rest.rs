//! Secrets at rest, through the binary as an operator runs it: the SQLite files are their
//! owner's alone (created 0600 with their WAL, shared-memory and journal files; looser ones
//! tightened at start, with a warning), and the signing keys are sealed under the master
//! key (`--master-key-file`): absent from the database's bytes, still signing and
//! verifying, refused by name under a wrong or missing key, re-keyed during a rotation (an
//! event stream's webhook secret with them), and sealed when a master key is first
//! configured (SQLite; PostgreSQL too when `SCIMD_TEST_POSTGRES` names a server).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use scimd_server::seal::{Keyring, MasterKey};
use serde_json::Value;

#[path = "support/process.rs"]
#[allow(dead_code)] // its spawn_listening drops the start's log lines, which these tests read
mod process;

const MAGIC: &[u8] = b"scimd:sealed:v1:";

use process::{run_ok, scimd};

/// Runs a command that is expected to stop by itself, killing it after 30 seconds.
fn run_bounded(cmd: &mut Command) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run scimd");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

struct Server {
    child: Child,
    addr: String,
    log: Receiver<String>,
    /// The lines logged up to "listening".
    start_log: Vec<String>,
}

impl Server {
    fn start(db: &str, keys: &[&str]) -> Server {
        let addr = format!("127.0.0.1:{}", process::free_port());
        let mut cmd = scimd();
        with_keys(cmd.args(["--database", db]), keys).args(["serve", "--listen", &addr]);
        // As `process::spawn_listening`, keeping what the start logged.
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut start_log = Vec::new();
        loop {
            let line = log.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("server log line");
            let up = line.contains("listening") && line.contains(&addr);
            start_log.push(line);
            if up {
                break;
            }
        }
        Server { child, addr, log, start_log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The log lines written so far.
    fn log_lines(&self) -> Vec<String> {
        let mut out = self.start_log.clone();
        while let Ok(l) = self.log.recv_timeout(Duration::from_millis(300)) {
            out.push(l);
        }
        out
    }

    /// SIGTERM, then waits for the exit (the files are checkpointed and closed).
    fn stop(mut self) {
        assert!(Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success());
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(30), "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `keys`: the master key file, then the previous one.
fn with_keys<'a>(cmd: &'a mut Command, keys: &[&str]) -> &'a mut Command {
    if let Some(k) = keys.first() {
        cmd.args(["--master-key-file", k]);
    }
    if let Some(k) = keys.get(1) {
        cmd.args(["--previous-master-key-file", k]);
    }
    cmd
}

/// A new master key in a file of `dir`; its path and the key.
fn key_file(dir: &std::path::Path, name: &str) -> (String, MasterKey) {
    let text = run_ok(scimd().args(["master-key", "generate"]));
    let path = dir.join(name);
    std::fs::write(&path, &text).unwrap();
    (path.to_string_lossy().into_owned(), MasterKey::from_text(&text).unwrap())
}

/// A tenant and an OAuth client of it: (client id, secret).
fn bootstrap(db: &str, keys: &[&str]) -> (String, String) {
    run_ok(with_keys(scimd().args(["--database", db]), keys).args(["tenant", "create", "acme"]));
    let c: Value = serde_json::from_str(
        run_ok(
            with_keys(scimd().args(["--database", db]), keys).args(["client", "create", "--tenant", "acme", "--json"]),
        )
        .trim(),
    )
    .unwrap();
    (c["client_id"].as_str().unwrap().to_string(), c["client_secret"].as_str().unwrap().to_string())
}

async fn access_token(s: &Server, client: &(String, String)) -> String {
    let res = reqwest::Client::new()
        .post(s.url("/oauth2/token"))
        .basic_auth(&client.0, Some(&client.1))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// Whether the server accepts `token` for a SCIM read.
async fn accepted(s: &Server, token: &str) -> bool {
    let res = reqwest::Client::new().get(s.url("/scim/v2/Users?count=0")).bearer_auth(token).send().await.unwrap();
    res.status() == 200
}

/// The public keys of the JWKS, base64url.
async fn jwks(s: &Server) -> Vec<String> {
    let v: Value = reqwest::get(s.url("/.well-known/jwks.json")).await.unwrap().json().await.unwrap();
    v["keys"].as_array().unwrap().iter().map(|k| k["x"].as_str().unwrap().to_string()).collect()
}

fn public_of(seed: &[u8]) -> String {
    use base64::Engine;
    let seed: [u8; 32] = seed.try_into().expect("a 32-byte seed");
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public)
}

/// The signing keys as stored: (kid, seed, retired).
async fn stored_keys(db: &str) -> Vec<(String, Vec<u8>, bool)> {
    const SQL: &str = "SELECT kid, seed, retired IS NOT NULL FROM signing_keys ORDER BY created, kid";
    if db.starts_with("postgres") {
        let (client, conn) = tokio_postgres::connect(db, tokio_postgres::NoTls).await.unwrap();
        let task = tokio::spawn(conn);
        let rows = client.query(SQL, &[]).await.unwrap();
        drop(client);
        let _ = task.await;
        return rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn.prepare(SQL).unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

/// A deployment secret (`server_secrets`) as stored in the SQLite database at `db`.
fn stored_secret(db: &str, name: &str) -> Vec<u8> {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT value FROM server_secrets WHERE name = ?", [name], |r| r.get(0)).unwrap()
}

/// The one event stream's secret as stored.
async fn stored_stream_secret(db: &str) -> String {
    const SQL: &str = "SELECT secret FROM event_streams";
    if db.starts_with("postgres") {
        let (client, conn) = tokio_postgres::connect(db, tokio_postgres::NoTls).await.unwrap();
        let task = tokio::spawn(conn);
        let secret = client.query_one(SQL, &[]).await.unwrap().get(0);
        drop(client);
        let _ = task.await;
        return secret;
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(SQL, [], |r| r.get(0)).unwrap()
}

/// The first page of users by cursor (which makes the cursor key), and its `nextCursor`.
async fn first_cursor(s: &Server, token: &str) -> String {
    let res =
        reqwest::Client::new().get(s.url("/scim/v2/Users?cursor=&count=1")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    v["nextCursor"].as_str().unwrap_or_else(|| panic!("no nextCursor in {v}")).to_string()
}

/// Every file of the SQLite database at `db` (the database, its journal, their companions).
fn database_files(db: &str) -> Vec<std::path::PathBuf> {
    let path = std::path::Path::new(db);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&name))
        .collect()
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_their_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scimd.db").to_string_lossy().into_owned();
    let client = bootstrap(&db, &[]);
    let token = run_ok(scimd().args(["--database", &db, "token", "create", "--tenant", "acme"]));
    let token = token.lines().last().unwrap().to_string();
    for f in [db.clone(), format!("{db}-audit")] {
        assert_eq!(mode(f.as_ref()), 0o600, "{f}");
    }
    // A database left readable by everyone (as earlier versions made it) is tightened.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = Server::start(&db, &[]);
    let log = s.log_lines().join("\n");
    assert!(log.contains("changed to 0600") && log.contains(&db), "{log}");
    // Writes to both databases while it runs: a user, a token request (audited).
    let res = reqwest::Client::new()
        .post(s.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    access_token(&s, &client).await;
    let expected: Vec<String> = ["", "-wal", "-shm", "-audit", "-audit-wal", "-audit-shm"]
        .iter()
        .map(|suffix| format!("{db}{suffix}"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !expected.iter().all(|f| std::path::Path::new(f).exists()) {
        assert!(Instant::now() < deadline, "not every file appeared: {:?}", database_files(&db));
        std::thread::sleep(Duration::from_millis(50));
    }
    for f in database_files(&db) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    s.stop();
    for f in database_files(&db) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_are_sealed_under_the_master_key_and_refused_under_another() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scimd.db").to_string_lossy().into_owned();
    let (a, key_a) = key_file(dir.path(), "a.key");
    let (b, key_b) = key_file(dir.path(), "b.key");
    let client = bootstrap(&db, &[&a]);
    // A webhook stream's secret, which the delivery reads back, is sealed too.
    let webhook: Value = serde_json::from_str(
        run_ok(with_keys(scimd().args(["--database", &db]), &[&a]).args([
            "events",
            "stream",
            "add",
            "--tenant",
            "acme",
            "--webhook",
            "https://hooks.acme.example/",
            "--json",
        ]))
        .trim(),
    )
    .unwrap();
    let webhook_secret = webhook["secret"].as_str().unwrap().to_string();

    let s = Server::start(&db, &[&a]);
    let log = s.log_lines().join("\n");
    assert!(log.contains(&format!("master key {}", key_a.id())), "{log}");
    assert!(!log.contains("in clear"), "{log}");
    let token = access_token(&s, &client).await;
    assert!(accepted(&s, &token).await);
    let published = jwks(&s).await;
    // Two users, so that the first page by cursor has a next one (and the cursor key is made).
    for name in ["ada", "grace"] {
        let res = reqwest::Client::new()
            .post(s.url("/scim/v2/Users"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(format!(r#"{{"userName": "{name}"}}"#))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let cursor = first_cursor(&s, &token).await;
    s.stop();
    // The cursor key is sealed too.
    let cursor_key = stored_secret(&db, "cursor-key");
    assert!(cursor_key.starts_with(MAGIC), "the stored cursor key is sealed");
    let ring_a = Keyring::new(MasterKey::from_text(&std::fs::read_to_string(&a).unwrap()).unwrap(), vec![]);
    assert_eq!(ring_a.open(&cursor_key).unwrap().len(), 32);
    let stream_secret = stored_stream_secret(&db).await;
    assert!(!stream_secret.contains("whsec_") && !stream_secret.contains(&webhook_secret[6..]));
    assert_eq!(ring_a.open_text(&stream_secret).unwrap(), webhook_secret);

    let rows = stored_keys(&db).await;
    assert_eq!(rows.len(), 1);
    let stored = &rows[0].1;
    assert!(stored.starts_with(MAGIC), "the stored seed is sealed");
    let seed = Keyring::new(MasterKey::from_text(&std::fs::read_to_string(&a).unwrap()).unwrap(), vec![])
        .open(stored)
        .unwrap();
    assert_eq!(vec![public_of(&seed)], published, "the sealed seed is the key that signs");
    for f in database_files(&db) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(seed.len()).any(|w| w == seed), "the seed in clear in {}", f.display());
    }

    // The wrong key, or none: the start fails, naming the key and the setting.
    for keys in [vec![b.as_str()], vec![]] {
        let o =
            run_bounded(with_keys(scimd().args(["--database", &db]), &keys).args(["serve", "--listen", "127.0.0.1:0"]));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{e}");
        assert!(e.contains(&key_a.id()) && e.contains("secrets.master_key_file"), "{e}");
        if !keys.is_empty() {
            assert!(e.contains(&key_b.id()) && e.contains("previous_master_key_file"), "{e}");
        }
    }

    // Rotation: the new key current, the old one previous; everything is re-sealed at start.
    let s = Server::start(&db, &[&b, &a]);
    let log = s.log_lines().join("\n");
    assert!(
        log.contains("3 that were under the previous key"),
        "the signing key, the cursor key and the stream's secret: {log}"
    );
    assert!(accepted(&s, &token).await, "a token signed before the rotation still verifies");
    s.stop();
    let s = Server::start(&db, &[&b]);
    assert!(accepted(&s, &token).await, "the old master key is no longer needed");
    assert_eq!(jwks(&s).await, published);
    s.stop();
    let rows = stored_keys(&db).await;
    let ring_b = Keyring::new(MasterKey::from_text(&std::fs::read_to_string(&b).unwrap()).unwrap(), vec![]);
    assert_eq!(ring_b.open(&rows[0].1).unwrap(), seed);
    assert_eq!(ring_b.open(&stored_secret(&db, "cursor-key")).unwrap(), ring_a.open(&cursor_key).unwrap());
    assert_eq!(ring_b.open_text(&stored_stream_secret(&db).await).unwrap(), webhook_secret);
    // A cursor handed out before the rotation still continues its listing.
    let s = Server::start(&db, &[&b]);
    let res = reqwest::Client::new()
        .get(s.url(&format!("/scim/v2/Users?cursor={cursor}&count=1")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_seeds_are_sealed_when_a_master_key_is_first_configured() {
    let dir = tempfile::tempdir().unwrap();
    let db = match std::env::var("SCIMD_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => process::fresh_database(&url).await,
        _ => dir.path().join("scimd.db").to_string_lossy().into_owned(),
    };
    let client = bootstrap(&db, &[]);
    let push = ["events", "stream", "add", "--tenant", "acme", "--push", "https://r.example/", "--bearer", "rcv-token"];
    run_ok(scimd().args(["--database", &db]).args(push));

    // Without a master key: it works, with the seed in clear, and says so.
    let s = Server::start(&db, &[]);
    let log = s.log_lines().join("\n");
    assert!(log.contains("no master key") && log.contains("stored in clear"), "{log}");
    let token = access_token(&s, &client).await;
    let published = jwks(&s).await;
    s.stop();
    let clear = stored_keys(&db).await[0].1.clone();
    assert_eq!(clear.len(), 32);

    // The operator's command seals it; the server then runs with the key.
    let (a, key_a) = key_file(dir.path(), "a.key");
    let out = run_ok(scimd().args(["--database", &db, "--master-key-file", &a, "master-key", "reseal"]));
    assert!(out.contains("2 secret(s) that were in clear") && out.contains(&key_a.id()), "{out}");
    let ring_a = Keyring::new(MasterKey::from_text(&std::fs::read_to_string(&a).unwrap()).unwrap(), vec![]);
    assert!(Keyring::none().open_text(&stored_stream_secret(&db).await).is_err(), "the push token is sealed");
    assert_eq!(ring_a.open_text(&stored_stream_secret(&db).await).unwrap(), "rcv-token");
    let stored = stored_keys(&db).await[0].1.clone();
    assert!(stored.starts_with(MAGIC) && !stored.windows(32).any(|w| w == clear), "sealed");
    let s = Server::start(&db, &[&a]);
    assert!(accepted(&s, &token).await);
    assert_eq!(jwks(&s).await, published);
    s.stop();

    // Keys made later are sealed too; a retired key's seed is forgotten.
    let keyed = |args: &[&str]| run_ok(scimd().args(["--database", &db, "--master-key-file", &a]).args(args));
    keyed(&["signing-key", "rotate"]);
    let rows = stored_keys(&db).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|(_, seed, _)| seed.starts_with(MAGIC)), "{rows:?}");
    keyed(&["signing-key", "retire", &rows[0].0]);
    let rows = stored_keys(&db).await;
    assert!(rows[0].2 && rows[0].1.is_empty(), "{rows:?}");
}
