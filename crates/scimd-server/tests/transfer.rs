//! Moving data as an operator does, through the real binary: `scimd export` and `scimd
//! import` from SQLite to PostgreSQL and back (SQLite to SQLite without PostgreSQL), the
//! exports equal apart from their headers and the imported server answering as before
//! (a user by id and by `userName eq`, an old bearer token, a token for an old client
//! secret); one tenant moved into a server that has another; a changed file, or one
//! sealed under a master key the target lacks, refused with nothing written; `scimd
//! backup` while a server takes writes, then `scimd restore` (refused while a server
//! holds the files); PostgreSQL's own `pg_dump`/`pg_restore` following the book,
//! compared through `scimd export`.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/serve.rs"]
mod serve;

use process::{free_port, run, run_ok};
use serve::Server;

/// `scimd` on the database at `url`.
fn scimd(url: &str) -> Command {
    let mut c = process::scimd();
    c.env("SCIMD_DATABASE_URL", url).env("SCIMD_LOG", "warn");
    c
}

fn sqlite(dir: &tempfile::TempDir, name: &str) -> String {
    format!("sqlite://{}", dir.path().join(name).display())
}

fn start(url: &str) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = scimd(url);
    cmd.env("SCIMD_LOG", "info").args(["serve", "--listen", &addr]);
    let (child, log) = process::spawn_listening(cmd, &addr, Duration::from_secs(30));
    Server { child, addr, log }
}

fn stop(s: Server) {
    s.terminate_and_collect_log();
}

fn export(url: &str, file: &std::path::Path, tenants: &[&str]) -> String {
    let mut c = scimd(url);
    c.arg("export").arg("-o").arg(file);
    for t in tenants {
        c.args(["--tenant", t]);
    }
    run_ok(&mut c);
    std::fs::read_to_string(file).unwrap()
}

fn import(url: &str, file: &std::path::Path) -> std::process::Output {
    run(scimd(url).arg("import").arg(file))
}

/// An export without its header line (which says where and when it was made).
fn body(export: &str) -> &str {
    export.split_once('\n').unwrap().1
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The PostgreSQL server of the tests, if there is one.
fn postgres() -> Option<String> {
    std::env::var("SCIMD_TEST_POSTGRES").ok().filter(|u| !u.is_empty())
}

/// A tenant with a bearer token and an OAuth client: (token, client id, client secret).
fn tenant(url: &str, name: &str) -> (String, String, String) {
    run_ok(scimd(url).args(["tenant", "create", name]));
    let token = run_ok(scimd(url).args(["token", "create", "--tenant", name])).lines().last().unwrap().to_string();
    let c: Value =
        serde_json::from_str(run_ok(scimd(url).args(["client", "create", "--tenant", name, "--json"])).trim()).unwrap();
    (token, c["client_id"].as_str().unwrap().into(), c["client_secret"].as_str().unwrap().into())
}

async fn post(addr: &str, token: &str, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/scim/v2/{path}"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "POST {path}");
    res.json().await.unwrap()
}

async fn get(addr: &str, token: &str, path: &str) -> (u16, Value) {
    let res =
        reqwest::Client::new().get(format!("http://{addr}/scim/v2/{path}")).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn client_token(addr: &str, id: &str, secret: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/oauth2/token"))
        .basic_auth(id, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

/// A tenant's users and a group, written through the server: alice's id.
async fn seed(url: &str, token: &str) -> String {
    let s = start(url);
    let alice = post(&s.addr, token, "Users", json!({"userName": "alice", "name": {"givenName": "Alice"}, "emails": [{"value": "alice@example.com", "primary": true}], "password": "Alice-Pass-1"})).await;
    let bob = post(&s.addr, token, "Users", json!({"userName": "bob", "active": false, "externalId": "E-2"})).await;
    post(
        &s.addr,
        token,
        "Groups",
        json!({"displayName": "staff", "members": [{"value": alice["id"]}, {"value": bob["id"]}]}),
    )
    .await;
    stop(s);
    alice["id"].as_str().unwrap().to_string()
}

/// Rows of the kinds the server's requests do not make: places, an event stream (whose
/// events the seeded changes then record), a portal operator and system user, an API user,
/// an operator token.
fn more_kinds(dir: &tempfile::TempDir, url: &str) {
    let places = dir.path().join("places.json");
    std::fs::write(
        &places,
        r#"{"locations":[{"key":"l1","name":"HQ","sections":[{"key":"s1","name":"S","banks":[{"key":"b1","name":"B","lockers":[{"key":"k1"}]}]}]}]}"#,
    )
    .unwrap();
    run_ok(scimd(url).args(["places", "import", "--tenant", "acme"]).arg(&places));
    run_ok(scimd(url).args(["events", "stream", "add", "--tenant", "acme", "--poll"]));
    let mut op = scimd(url)
        .args(["operator", "create", "--username", "root", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(op.stdin.as_mut().unwrap(), b"Operator-Pass-123!\n").unwrap();
    assert!(op.wait().unwrap().success());
    run_ok(scimd(url).args(["system-user", "invite", "--tenant", "acme", "--email", "it@example.com"]));
    run_ok(scimd(url).args(["api-user", "create", "--tenant", "acme", "--username", "acme-sync"]));
    run_ok(scimd(url).args(["admin-token", "create"]));
    // A declared resource type and its catalog, loaded from the command line.
    let profile = dir.path().join("profile.json");
    std::fs::write(
        &profile,
        r#"{"resource_types": [{"name": "Role", "endpoint": "/Roles", "schema": "urn:okta:scim:schemas:core:1.0:Role"}]}"#,
    )
    .unwrap();
    run_ok(scimd(url).args(["tenant", "set", "acme", "--profile"]).arg(&profile));
    let roles = dir.path().join("roles.json");
    std::fs::write(&roles, r#"[{"id": "r-admin", "displayName": "Administrator", "type": "Role"}]"#).unwrap();
    let loaded = run_ok(scimd(url).args(["tenant", "catalog", "set", "acme", "Role", "--file"]).arg(&roles));
    assert!(loaded.contains("1 added") && loaded.contains("added\tr-admin"), "{loaded}");
    let shown = run_ok(scimd(url).args(["tenant", "catalog", "show", "acme", "Role"]));
    assert!(shown.contains("\"Administrator\""), "{shown}");
}

/// The catalog of acme's declared type answers as before (its rows under their code).
async fn catalog_as_before(url: &str, token: &str) {
    let s = start(url);
    let (status, role) = get(&s.addr, token, "Roles/r-admin").await;
    assert_eq!((status, role["displayName"].as_str()), (200, Some("Administrator")), "{role}");
    let (_, found) = get(&s.addr, token, "Roles?filter=displayName%20eq%20%22administrator%22").await;
    assert_eq!(found["totalResults"], 1, "{found}");
    stop(s);
}

/// The server on `url` answers for the data seeded: alice by id and by filter, with the
/// old bearer token and with a token for the old client secret.
async fn answers_as_before(url: &str, token: &str, client: (&str, &str), alice: &str) {
    let s = start(url);
    let (status, user) = get(&s.addr, token, &format!("Users/{alice}")).await;
    assert_eq!((status, user["userName"].as_str()), (200, Some("alice")), "{user}");
    assert_eq!(user["groups"][0]["display"], "staff", "{user}");
    let jwt = client_token(&s.addr, client.0, client.1).await;
    let (status, found) = get(&s.addr, &jwt, "Users?filter=userName%20eq%20%22ALICE%22").await;
    assert_eq!((status, found["totalResults"].as_u64()), (200, Some(1)), "{found}");
    assert_eq!(found["Resources"][0]["id"], alice);
    let (_, found) = get(&s.addr, token, "Users?filter=externalId%20eq%20%22E-2%22").await;
    assert_eq!(found["Resources"][0]["userName"], "bob", "{found}");
    let (_, all) = get(&s.addr, token, "Users?count=0").await;
    assert_eq!(all["totalResults"], 2);
    stop(s);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_moves_through_postgres_and_back_and_the_server_answers_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let a = sqlite(&dir, "a.db");
    let (token, client, secret) = tenant(&a, "acme");
    tenant(&a, "globex");
    more_kinds(&dir, &a);
    let alice = seed(&a, &token).await;
    // The provisioning source that manages each user, and who made each membership (over
    // SCIM and by the operator), travel with them.
    let conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
    conn.execute_batch("UPDATE resources SET source = 'entra' WHERE rtype = 1; UPDATE members SET origins = 3")
        .unwrap();
    drop(conn);
    run_ok(scimd(&a).args(["access", "grant", "--tenant", "acme", "--group", "staff", "--bank", "b1"]));
    let first = export(&a, &dir.path().join("a.jsonl"), &[]);
    assert_eq!(first.matches("\"source\":\"entra\"").count(), 2, "each user's source");
    assert_eq!(first.matches("\"origins\":3").count(), 2, "each membership's origins");
    for kind in
        ["place", "access_link", "event_stream", "event", "portal_operator", "portal_user", "api_user", "type_code"]
    {
        assert!(first.contains(&format!("{{\"t\":\"{kind}\"")), "no {kind} row");
    }
    assert!(first.starts_with("{\"format\":\"scimd-export\",\"version\":1,"), "{first}");
    assert!(first.lines().nth(1).unwrap().starts_with("{\"t\":\"tenant\",\"name\":\"acme\""));
    // No secret in the clear: tokens and client secrets as hashes only.
    assert!(!first.contains(&token) && !first.contains(&secret) && !first.contains("Alice-Pass-1"));

    let mut last = dir.path().join("a.jsonl");
    if let Some(pg) = postgres() {
        let p = process::fresh_database(&pg).await;
        let out = import(&p, &last);
        assert!(out.status.success(), "{}", stderr(&out));
        let again = export(&p, &dir.path().join("p.jsonl"), &[]);
        assert!(again.contains("\"source\":\"postgres\""));
        assert_eq!(body(&first), body(&again));
        answers_as_before(&p, &token, (&client, &secret), &alice).await;
        catalog_as_before(&p, &token).await;
        last = dir.path().join("p.jsonl");
    }
    let c = sqlite(&dir, "c.db");
    let out = import(&c, &last);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("counts and digests verified"));
    assert_eq!(body(&first), body(&export(&c, &dir.path().join("c.jsonl"), &[])));
    answers_as_before(&c, &token, (&client, &secret), &alice).await;
    catalog_as_before(&c, &token).await;

    // A whole export goes into an empty database only.
    let out = import(&c, &dir.path().join("a.jsonl"));
    assert!(stderr(&out).contains("the target has tenants already"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_moves_into_a_server_that_has_another() {
    let dir = tempfile::tempdir().unwrap();
    let a = sqlite(&dir, "a.db");
    let (token, client, secret) = tenant(&a, "acme");
    let (globex, _, _) = tenant(&a, "globex");
    let alice = seed(&a, &token).await;
    let s = start(&a);
    post(&s.addr, &globex, "Users", json!({"userName": "not.moved"})).await;
    stop(s);
    let file = dir.path().join("acme.jsonl");
    let text = export(&a, &file, &["acme"]);
    assert!(!text.contains("not.moved") && !text.contains("\"signing_key\""), "only acme's rows");

    let b = match postgres() {
        Some(pg) => process::fresh_database(&pg).await,
        None => sqlite(&dir, "b.db"),
    };
    let (other, _, _) = tenant(&b, "initech");
    let s = start(&b);
    let peter = post(&s.addr, &other, "Users", json!({"userName": "alice"})).await;
    stop(s);
    let out = import(&b, &file);
    assert!(out.status.success(), "{}", stderr(&out));
    let tenants = run_ok(scimd(&b).args(["tenant", "list"]));
    assert!(tenants.contains("acme") && tenants.contains("initech"), "{tenants}");
    answers_as_before(&b, &token, (&client, &secret), &alice).await;
    let s = start(&b);
    let (status, user) = get(&s.addr, &other, &format!("Users/{}", peter["id"].as_str().unwrap())).await;
    assert_eq!((status, user["userName"].as_str()), (200, Some("alice")));
    let (_, theirs) = get(&s.addr, &other, "Users?count=0").await;
    assert_eq!(theirs["totalResults"], 1, "the other tenant's users are its own");
    stop(s);

    // Once only: the tenant is there now.
    let out = import(&b, &file);
    assert!(stderr(&out).contains("has a tenant 'acme' already"), "{}", stderr(&out));
}

#[test]
fn a_changed_or_cut_file_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let a = sqlite(&dir, "a.db");
    tenant(&a, "acme");
    let csv = dir.path().join("u.csv");
    std::fs::write(&csv, "id,userName,givenName\nU-1,alice,Alice\nU-2,bob,Bob\n").unwrap();
    run_ok(scimd(&a).args(["user", "import", "--tenant", "acme"]).arg(&csv));
    let text = export(&a, &dir.path().join("a.jsonl"), &[]);

    let changed = dir.path().join("changed.jsonl");
    std::fs::write(&changed, text.replacen("\\\"userName\\\":\\\"bob\\\"", "\\\"userName\\\":\\\"mallory\\\"", 1))
        .unwrap();
    assert_ne!(std::fs::read_to_string(&changed).unwrap(), text);
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, text.lines().take(text.lines().count() - 1).collect::<Vec<_>>().join("\n")).unwrap();

    let e = sqlite(&dir, "e.db");
    for (file, why) in [(&changed, "resource: the rows differ (digest mismatch)"), (&cut, "it was cut short")] {
        let out = import(&e, file);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
        assert_eq!(run_ok(scimd(&e).args(["tenant", "list"])).trim(), "", "nothing written");
    }

    // Sealed under a master key: only a configuration with that key imports it.
    let key = dir.path().join("master.key");
    std::fs::write(&key, run_ok(process::scimd().args(["master-key", "generate"]))).unwrap();
    let sealed = dir.path().join("sealed.jsonl");
    run_ok(scimd(&a).arg("--master-key-file").arg(&key).arg("export").arg("-o").arg(&sealed));
    let out = import(&e, &sealed);
    assert!(stderr(&out).contains("which this configuration does not have"), "{}", stderr(&out));
    assert_eq!(run_ok(scimd(&e).args(["tenant", "list"])).trim(), "", "nothing written");
    run_ok(scimd(&e).arg("--master-key-file").arg(&key).arg("import").arg(&sealed));
    assert!(run_ok(scimd(&e).args(["tenant", "list"])).contains("acme"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_under_writes_restores_into_a_stopped_servers_place() {
    let dir = tempfile::tempdir().unwrap();
    let a = sqlite(&dir, "a.db");
    let (token, _, _) = tenant(&a, "acme");
    let s = start(&a);
    let (created, done) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let writer = {
        let (addr, token, created, done) = (s.addr.clone(), token.clone(), created.clone(), done.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !done.load(Ordering::Relaxed) {
                n += 1;
                post(&addr, &token, "Users", json!({"userName": format!("user{n}")})).await;
                created.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while created.load(Ordering::Relaxed) < 30 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = created.load(Ordering::Relaxed);
    let backup = dir.path().join("backup.db");
    let out = tokio::task::spawn_blocking({
        let (a, backup) = (a.clone(), backup.clone());
        move || run(scimd(&a).arg("backup").arg(&backup))
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let during = created.load(Ordering::Relaxed);
    done.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(during > before || created.load(Ordering::Relaxed) > before, "the server kept writing");
    #[cfg(unix)]
    for f in [backup.clone(), dir.path().join("backup.db-audit")] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600, "{}", f.display());
    }
    let again = run(scimd(&a).arg("backup").arg(&backup));
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));
    stop(s);

    let check = rusqlite::Connection::open(&backup).unwrap();
    let ok: String = check.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    drop(check);

    // Into the place of another deployment: refused while its server runs.
    let r = sqlite(&dir, "r.db");
    let (other, _, _) = tenant(&r, "initech");
    let running = start(&r);
    let refused = run(scimd(&r).arg("restore").arg(&backup));
    assert!(stderr(&refused).contains("a scimd server is using"), "{}", stderr(&refused));
    stop(running);
    let out = run_ok(scimd(&r).arg("restore").arg(&backup));
    assert!(out.contains("before-restore-") && out.contains("integrity checked"), "{out}");
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("r.db.before-restore-"))
        .expect("the replaced files kept");
    assert!(aside.join("r.db").exists() && aside.join("r.db-audit").exists());
    assert!(
        !dir.path().join("r.db-wal").exists() || std::fs::metadata(dir.path().join("r.db-wal")).unwrap().len() == 0
    );

    let s = start(&r);
    let (_, all) = get(&s.addr, &token, "Users?count=0").await;
    assert!(all["totalResults"].as_u64().unwrap() >= before, "{all} < {before}");
    assert_eq!(get(&s.addr, &other, "Users?count=0").await.0, 401, "the replaced deployment's token is gone");
    stop(s);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_is_backed_up_with_pg_dump_as_the_book_says() {
    let Some(pg) = postgres() else { return };
    if Command::new("pg_dump").arg("--version").output().is_err() {
        eprintln!("pg_dump is not on PATH: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = process::fresh_database(&pg).await;
    let (token, _, _) = tenant(&p, "acme");
    let alice = seed(&p, &token).await;
    let refused = run(scimd(&p).arg("backup").arg(dir.path().join("x")));
    assert!(stderr(&refused).contains("pg_dump -Fc"), "{}", stderr(&refused));

    let dump = dir.path().join("scimd.dump");
    let out = Command::new("pg_dump").args(["-Fc", "--no-owner", "-d", &p, "-f"]).arg(&dump).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let q = process::fresh_database(&pg).await;
    let out =
        Command::new("pg_restore").args(["--no-owner", "--single-transaction", "-d", &q]).arg(&dump).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    run_ok(scimd(&q).arg("migrate"));
    let before = export(&p, &dir.path().join("p.jsonl"), &[]);
    let after = export(&q, &dir.path().join("q.jsonl"), &[]);
    assert_eq!(body(&before), body(&after));
    let s = start(&q);
    assert_eq!(get(&s.addr, &token, &format!("Users/{alice}")).await.0, 200);
    stop(s);
}
