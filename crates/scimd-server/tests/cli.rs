//! The `scimd` binary as operators and scripts use it: `tenant create`, `token create`
//! (token alone on the last line), `serve` (logs its address, /healthz), and durability of
//! acknowledged writes across `kill -9`.

use std::process::Stdio;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/serve.rs"]
mod serve;
use process::run_ok;
use serve::{Server, scimd};

#[tokio::test(flavor = "multi_thread")]
async fn tenant_token_serve_and_durability_across_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db").to_string_lossy().into_owned();

    let out = run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    assert!(out.contains("acme"), "{out}");
    let dup = scimd(&db).args(["tenant", "create", "acme"]).output().unwrap();
    assert!(!dup.status.success(), "a second tenant with the same name is refused");

    let out = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"]));
    let token = out.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("scimd_") && !token.contains(' '), "{out}");
    let missing = scimd(&db).args(["token", "create", "--tenant", "nope"]).output().unwrap();
    assert!(!missing.status.success());

    // The token is stored only as a hash.
    let raw = std::fs::read(&db).unwrap();
    assert!(!raw.windows(token.len()).any(|w| w == token.as_bytes()));

    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let health = client.get(format!("http://{}/healthz", server.addr)).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // A token created while the server runs works at once.
    let out = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"]));
    let token2 = out.lines().last().unwrap().trim().to_string();

    let mut ids = Vec::new();
    for i in 0..50 {
        let tok = if i % 2 == 0 { &token } else { &token2 };
        let r = client
            .post(format!("http://{}/scim/v2/Users", server.addr))
            .bearer_auth(tok)
            .header("content-type", "application/scim+json")
            .body(json!({"userName": format!("durable{i}")}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    server.kill9();

    let server = Server::start(&db);
    for id in &ids {
        let r =
            client.get(format!("http://{}/scim/v2/Users/{id}", server.addr)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200, "acknowledged user {id} survived kill -9");
    }
    let r: Value = client
        .get(format!("http://{}/scim/v2/Users?count=0", server.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["totalResults"], 50);
}

/// SCIM is a per-tenant feature; an operator creates a tenant without it and
/// turns it on later, also while the server runs.
#[tokio::test(flavor = "multi_thread")]
async fn tenant_without_scim_gets_403_until_an_operator_turns_it_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v11.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "visitors", "--without-scim"]));
    run_ok(scimd(&db).args(["tenant", "create", "lockers"]));
    let list = run_ok(scimd(&db).args(["tenant", "list"]));
    let flags: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!((flags[0][1], flags[0][3]), ("visitors", "no-scim"), "{list}");
    assert_eq!((flags[1][1], flags[1][3]), ("lockers", "scim"), "{list}");
    let token =
        run_ok(scimd(&db).args(["token", "create", "--tenant", "visitors"])).lines().last().unwrap().to_string();

    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let users = format!("http://{}/scim/v2/Users", server.addr);
    let r = client.get(&users).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "403");
    assert!(body["detail"].as_str().unwrap().contains("not enabled"), "{body}");

    run_ok(scimd(&db).args(["tenant", "set", "visitors", "--scim", "on"]));
    // A token the server has not seen yet is checked at once (seen ones within seconds).
    let fresh =
        run_ok(scimd(&db).args(["token", "create", "--tenant", "visitors"])).lines().last().unwrap().to_string();
    let r = client.get(&users).bearer_auth(&fresh).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let unknown = scimd(&db).args(["tenant", "set", "nope", "--scim", "off"]).output().unwrap();
    assert!(!unknown.status.success());
}

/// Long-lived tokens (the visitor manager's, Entra ID's non-gallery apps) are listed by id, never by value, and
/// revoked by id, within their own tenant only.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_listed_and_revoked_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tok.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    run_ok(scimd(&db).args(["tenant", "create", "globex"]));
    let create = |tenant: &str| {
        let out = run_ok(scimd(&db).args(["token", "create", "--tenant", tenant]));
        let id: i64 = out.split_whitespace().nth(1).unwrap().parse().expect("token id on the first line");
        (id, out.lines().last().unwrap().to_string())
    };
    let (keep_id, keep) = create("acme");
    let (gone_id, gone) = create("acme");
    let (other_id, _) = create("globex");
    run_ok(scimd(&db).args(["token", "create", "--tenant", "acme", "--expires-in-days", "1"]));

    let list = run_ok(scimd(&db).args(["token", "list", "--tenant", "acme"]));
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert_eq!((rows[0][0], rows[0][2], rows[0][3]), (keep_id.to_string().as_str(), "-", "active"));
    assert_ne!(rows[2][2], "-", "an expiry is listed: {list}");
    assert!(!list.contains(&keep) && !list.contains(&gone), "values are never listed");

    // Another tenant's token id is not found, and stays valid.
    let cross = scimd(&db).args(["token", "revoke", "--tenant", "acme", &other_id.to_string()]).output().unwrap();
    assert!(!cross.status.success());
    run_ok(scimd(&db).args(["token", "revoke", "--tenant", "acme", &gone_id.to_string()]));
    run_ok(scimd(&db).args(["token", "revoke", "--tenant", "acme", &gone_id.to_string()])); // idempotent
    let list = run_ok(scimd(&db).args(["token", "list", "--tenant", "acme"]));
    let state = list.lines().nth(1).unwrap().split('\t').nth(3).unwrap();
    assert!(state.starts_with("revoked "), "{list}");

    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let users = format!("http://{}/scim/v2/Users", server.addr);
    assert_eq!(client.get(&users).bearer_auth(&keep).send().await.unwrap().status(), 200);
    let r = client.get(&users).bearer_auth(&gone).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
}

/// The credentials an operator creates for the authorization server: scripts read `--json`
/// output; secrets and passwords are shown once and stored only as argon2 hashes.
#[tokio::test(flavor = "multi_thread")]
async fn clients_and_api_users_are_created_with_secrets_shown_once_and_stored_hashed() {
    use argon2::{PasswordHash, PasswordVerifier};
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("oauth.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    run_ok(scimd(&db).args(["tenant", "create", "globex"]));

    let cc: Value =
        serde_json::from_str(run_ok(scimd(&db).args(["client", "create", "--tenant", "acme", "--json"])).trim())
            .expect("one JSON object");
    let cc_id = cc["client_id"].as_str().unwrap().to_string();
    let cc_secret = cc["client_secret"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&cc_id).is_ok(), "{cc}");
    assert!(cc_secret.len() >= 40, "{cc}");
    let pw: Value = serde_json::from_str(
        run_ok(scimd(&db).args([
            "client",
            "create",
            "--tenant",
            "acme",
            "--tenant",
            "globex",
            "--grant",
            "password",
            "--scope",
            "scim:read scim:write",
            "--access-ttl",
            "20m",
            "--refresh-ttl",
            "15m",
            "--json",
        ]))
        .trim(),
    )
    .unwrap();
    let pw_secret = pw["client_secret"].as_str().unwrap().to_string();
    assert!(!scimd(&db).args(["client", "create", "--tenant", "nope"]).output().unwrap().status.success());

    let mut child = scimd(&db)
        .args(["api-user", "create", "--tenant", "acme", "--username", "svc-acme", "--password-stdin", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let u: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(u, json!({"username": "svc-acme", "password": "correct horse battery staple"}));
    let g: Value = serde_json::from_str(
        run_ok(scimd(&db).args(["api-user", "create", "--tenant", "globex", "--username", "svc-globex", "--json"]))
            .trim(),
    )
    .unwrap();
    let generated = g["password"].as_str().unwrap().to_string();
    assert!(generated.len() >= 20, "{g}");
    // The username selects the tenant, so it is unique across tenants.
    let dup = scimd(&db).args(["api-user", "create", "--tenant", "globex", "--username", "svc-acme"]).output().unwrap();
    assert!(!dup.status.success());

    // Stored: grants, scopes, lifetimes, tenants; secrets only as argon2 hashes.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let row: (String, String, i64, i64) = conn
        .query_row(
            "SELECT grant_types, scopes, access_ttl, refresh_ttl FROM oauth_clients WHERE client_id = ?",
            [pw["client_id"].as_str().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, ("password refresh_token".into(), "scim:read scim:write".into(), 1200, 900));
    let n: i64 = conn.query_row("SELECT count(*) FROM client_tenants", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 3);
    let hash: String = conn
        .query_row(
            "SELECT s.hash FROM client_secrets s JOIN oauth_clients c ON c.id = s.client WHERE c.client_id = ?",
            [&cc_id],
            |r| r.get(0),
        )
        .unwrap();
    argon2::Argon2::default().verify_password(cc_secret.as_bytes(), &PasswordHash::new(&hash).unwrap()).unwrap();
    let hash: String =
        conn.query_row("SELECT password_hash FROM api_users WHERE username = 'svc-globex'", [], |r| r.get(0)).unwrap();
    argon2::Argon2::default().verify_password(generated.as_bytes(), &PasswordHash::new(&hash).unwrap()).unwrap();
    drop(conn);
    for file in [db.clone(), format!("{db}-wal")] {
        let raw = std::fs::read(&file).unwrap_or_default();
        for secret in [&cc_secret, &pw_secret, &generated, &"correct horse battery staple".to_string()] {
            assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()), "a secret in clear in {file}");
        }
    }
}

/// Rotating a client's secret without downtime (Entra gallery apps keep two valid): add a
/// second secret, switch, revoke the first. Listing shows states, never values.
#[tokio::test(flavor = "multi_thread")]
async fn client_secrets_rotate_add_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rot.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let json = |out: String| -> Value { serde_json::from_str(out.trim()).expect("one JSON object") };
    let a = json(run_ok(scimd(&db).args(["client", "create", "--tenant", "acme", "--json"])));
    let b = json(run_ok(scimd(&db).args(["client", "create", "--tenant", "acme", "--json"])));
    let id = a["client_id"].as_str().unwrap();
    let added = json(run_ok(scimd(&db).args(["client", "secret", "add", id, "--expires-in", "90d", "--json"])));
    assert_eq!(added["client_id"], id);
    let new_secret = added["client_secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, a["client_secret"].as_str().unwrap());

    let listed: Vec<Value> = run_ok(scimd(&db).args(["client", "list", "--json"]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    let mine = listed.iter().find(|c| c["client_id"] == id).unwrap();
    assert_eq!(mine["tenants"], json!(["acme"]));
    assert_eq!(mine["grant_types"], json!(["client_credentials"]));
    let states: Vec<&str> = mine["secrets"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["active", "active"], "two valid at once: {mine}");
    assert!(mine["secrets"][1]["expires"].is_string());
    let first = mine["secrets"][0]["id"].as_i64().unwrap();
    let second = mine["secrets"][1]["id"].as_i64().unwrap();

    // Another client's secret id is not found through this client; an unknown client neither.
    let other = b["client_id"].as_str().unwrap();
    assert!(
        !scimd(&db).args(["client", "secret", "revoke", other, &first.to_string()]).output().unwrap().status.success()
    );
    assert!(!scimd(&db).args(["client", "secret", "add", "no-such-client"]).output().unwrap().status.success());
    run_ok(scimd(&db).args(["client", "secret", "revoke", id, &first.to_string()]));
    let table = run_ok(scimd(&db).args(["client", "list"]));
    let line = table.lines().find(|l| l.starts_with(id)).unwrap();
    assert!(line.ends_with(&format!("{first}:revoked,{second}:active")), "{table}");
    for secret in [a["client_secret"].as_str().unwrap(), &new_secret] {
        assert!(!table.contains(secret));
        let raw = std::fs::read(&db).unwrap();
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
}

/// Nothing secret is ever in clear text: after a full run (operator commands, every grant,
/// refresh, failed logins, SCIM writes with a password, revocation, introspection) with
/// debug logging, no secret, password or token appears in the log, the command output
/// aside from the one place it is shown, or the database files.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_logs_or_database_after_a_full_run() {
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secrets.db").to_string_lossy().into_owned();
    let mut secrets: Vec<String> = Vec::new();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let long_lived =
        run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    secrets.push(long_lived.clone());
    let admin = run_ok(scimd(&db).args(["admin-token", "create"])).lines().last().unwrap().to_string();
    secrets.push(admin);
    let c: Value = serde_json::from_str(
        run_ok(scimd(&db).args([
            "client",
            "create",
            "--tenant",
            "acme",
            "--grant",
            "password",
            "--grant",
            "client_credentials",
            "--json",
        ]))
        .trim(),
    )
    .unwrap();
    let (id, secret) = (c["client_id"].as_str().unwrap().to_string(), c["client_secret"].as_str().unwrap().to_string());
    secrets.push(secret.clone());
    let added: Value =
        serde_json::from_str(run_ok(scimd(&db).args(["client", "secret", "add", &id, "--json"])).trim()).unwrap();
    secrets.push(added["client_secret"].as_str().unwrap().to_string());
    let mut child = scimd(&db)
        .args(["api-user", "create", "--tenant", "acme", "--username", "svc", "--password-stdin", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"api user password 42\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    secrets.push("api user password 42".into());

    let server = Server::start_with(&db, "debug");
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.addr);
    let form = |pairs: &[(&str, &str)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let token = |body: String| {
        http.post(format!("{base}/oauth2/token"))
            .basic_auth(&id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let cc: Value = token(form(&[("grant_type", "client_credentials")])).await.unwrap().json().await.unwrap();
    let cc_access = cc["access_token"].as_str().unwrap().to_string();
    let login: Value =
        token(form(&[("grant_type", "password"), ("username", "svc"), ("password", "api user password 42")]))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let rt = login["refresh_token"].as_str().unwrap().to_string();
    let refreshed: Value =
        token(form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)])).await.unwrap().json().await.unwrap();
    let rt2 = refreshed["refresh_token"].as_str().unwrap().to_string();
    let access2 = refreshed["access_token"].as_str().unwrap().to_string();
    secrets.extend([
        cc_access.clone(),
        login["access_token"].as_str().unwrap().to_string(),
        rt.clone(),
        rt2.clone(),
        access2.clone(),
    ]);
    // Failed logins with guessed secrets (logged as failures, never with the guess).
    for guess in ["guessed secret one", "guessed secret two"] {
        let r = http
            .post(format!("{base}/oauth2/token"))
            .basic_auth(&id, Some(guess))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("grant_type", "client_credentials")]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        secrets.push(guess.into());
    }
    // SCIM writes, one carrying a user's password.
    for (tok, name) in [(&cc_access, "one"), (&access2, "two"), (&long_lived, "three")] {
        let r = http
            .post(format!("{base}/scim/v2/Users"))
            .bearer_auth(tok)
            .header("content-type", "application/scim+json")
            .body(json!({"userName": name, "password": format!("user password {name} 99")}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        secrets.push(format!("user password {name} 99"));
    }
    let r = http.get(format!("{base}/scim/v2/Users")).bearer_auth("scimd_a-wrong-token-value").send().await.unwrap();
    assert_eq!(r.status(), 401);
    secrets.push("scimd_a-wrong-token-value".into());
    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let r = http
            .post(format!("{base}{path}"))
            .basic_auth(&id, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("token", &rt2)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let log = server.terminate_and_collect_log();
    assert!(log.contains("/oauth2/token") && log.contains("/scim/v2/Users"), "the run was logged:\n{log}");
    // The audit trail kept the run's payloads (redacted): they were checked too.
    // (In the audit journal next to the database.)
    let conn = rusqlite::Connection::open(format!("{db}-audit")).unwrap();
    let details: i64 = conn.query_row("SELECT count(*) FROM api_event_details", [], |r| r.get(0)).unwrap();
    assert!(details >= 10, "payloads were recorded: {details}");
    drop(conn);

    let files: Vec<String> = ["", "-wal", "-shm", "-audit", "-audit-wal", "-audit-shm"]
        .iter()
        .map(|suffix| format!("{db}{suffix}"))
        .collect();
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "a secret appears in the log: {s}");
        for file in &files {
            let raw = std::fs::read(file).unwrap_or_default();
            assert!(!raw.windows(s.len()).any(|w| w == s.as_bytes()), "a secret appears in {file}: {s}");
        }
    }
}

/// The operator commands added with the authorization server: API users listed, disabled
/// and enabled; signing keys listed, rotated and retired (never the last); operator tokens.
#[tokio::test(flavor = "multi_thread")]
async fn api_users_signing_keys_and_operator_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ops.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    run_ok(scimd(&db).args(["api-user", "create", "--tenant", "acme", "--username", "svc"]));
    let list = run_ok(scimd(&db).args(["api-user", "list", "--tenant", "acme"]));
    assert!(list.starts_with("svc\t") && list.trim_end().ends_with("active"), "{list}");
    run_ok(scimd(&db).args(["api-user", "disable", "--tenant", "acme", "svc"]));
    let list = run_ok(scimd(&db).args(["api-user", "list", "--tenant", "acme"]));
    assert!(list.contains("\tdisabled "), "{list}");
    run_ok(scimd(&db).args(["api-user", "enable", "--tenant", "acme", "svc"]));
    assert!(run_ok(scimd(&db).args(["api-user", "list", "--tenant", "acme"])).trim_end().ends_with("active"));
    let missing = scimd(&db).args(["api-user", "disable", "--tenant", "acme", "nobody"]).output().unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no API user 'nobody'"));

    // Keys: none until a server starts (it creates the first); rotate adds one that signs.
    let server = Server::start(&db);
    drop(server);
    let keys = run_ok(scimd(&db).args(["signing-key", "list"]));
    assert_eq!(keys.lines().count(), 1, "{keys}");
    let first = keys.split('\t').next().unwrap().to_string();
    let refused = scimd(&db).args(["signing-key", "retire", &first]).output().unwrap();
    assert!(!refused.status.success(), "the last key cannot be retired");
    let out = run_ok(scimd(&db).args(["signing-key", "rotate"]));
    assert!(out.contains("signs from now on"), "{out}");
    assert_eq!(run_ok(scimd(&db).args(["signing-key", "list"])).lines().count(), 2);
    run_ok(scimd(&db).args(["signing-key", "retire", &first]));
    let keys = run_ok(scimd(&db).args(["signing-key", "list"]));
    assert_eq!(keys.lines().count(), 1);
    assert!(!keys.contains(&first));

    // An operator token opens the admin API of a running server; nothing else does.
    let op = run_ok(scimd(&db).args(["admin-token", "create"])).lines().last().unwrap().to_string();
    let server = Server::start(&db);
    let http = reqwest::Client::new();
    let r = http.get(format!("http://{}/admin/v1/tenants", server.addr)).bearer_auth(&op).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v[0]["name"], "acme");
    let r = http.get(format!("http://{}/admin/v1/tenants", server.addr)).bearer_auth("nope").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// The go-live check from the command line: a test sync against a running
/// server, then `audit summary --json` over the customer's time window and `audit events`.
#[tokio::test(flavor = "multi_thread")]
async fn audit_summary_and_events_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("audit.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    let server = Server::start(&db);
    let from = chrono::Utc::now().to_rfc3339();
    let http = reqwest::Client::new();
    let base = format!("http://{}/scim/v2", server.addr);
    let mut ids = Vec::new();
    for name in ["alice", "bob"] {
        let r = http
            .post(format!("{base}/Users"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(json!({"userName": name, "active": true}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
    }
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let r = http
        .patch(format!("{base}/Users/{}", ids[0]))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(http.delete(format!("{base}/Users/{}", ids[1])).bearer_auth(&token).send().await.unwrap().status(), 204);
    assert_eq!(http.get(format!("{base}/Users/{}", ids[1])).bearer_auth(&token).send().await.unwrap().status(), 404);
    // A graceful stop writes every event still queued.
    let to = (chrono::Utc::now() + chrono::TimeDelta::seconds(1)).to_rfc3339();
    let log = server.terminate_and_collect_log();
    assert!(log.contains("stopped"), "{log}");

    let out = run_ok(scimd(&db).args(["audit", "summary", "--tenant", "acme", "--from", &from, "--to", &to, "--json"]));
    let s: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (s["created"].as_u64(), s["updated"].as_u64(), s["deleted"].as_u64()),
        (Some(2), Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(s["deactivated"], 1);
    assert_eq!(s["errors"], json!({"status 404": 1}));
    let table = run_ok(scimd(&db).args(["audit", "summary", "--tenant", "acme", "--from", &from, "--to", &to]));
    assert!(table.contains("users: 2 created, 1 updated (1 deactivated), 1 deleted"), "{table}");
    let events = run_ok(scimd(&db).args(["audit", "events", "--tenant", "acme", "--json"]));
    assert_eq!(events.lines().count(), 5, "{events}");
    let newest: Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!((newest["op"].as_str(), newest["status"].as_u64()), (Some("read"), Some(404)));
    let deletes = run_ok(scimd(&db).args(["audit", "events", "--tenant", "acme", "--op", "delete"]));
    assert_eq!(deletes.lines().count(), 1);
    assert!(deletes.contains(&ids[1]), "{deletes}");
    let bad =
        scimd(&db).args(["audit", "summary", "--tenant", "acme", "--from", "monday", "--to", &to]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
}

/// A tenant's profile from a JSON file, printed back with every setting, refused when
/// invalid (naming the setting), and reset to the default.
#[test]
fn tenant_profiles_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "visitor"]));
    let file = dir.path().join("profile.json");
    std::fs::write(&file, r#"{"groups": {"offered": false}, "default_page_size": 10, "max_page_size": 5000}"#).unwrap();
    let out = run_ok(scimd(&db).args(["tenant", "set", "visitor", "--profile", file.to_str().unwrap()]));
    assert!(out.contains("profile set"), "{out}");
    let shown: Value = serde_json::from_str(&run_ok(scimd(&db).args(["tenant", "profile", "visitor"]))).unwrap();
    assert_eq!(shown["groups"]["offered"], false);
    assert_eq!(shown["default_page_size"], 10);
    assert_eq!(shown["users"]["create"], true);
    std::fs::write(&file, r#"{"max_page_size": 99999}"#).unwrap();
    let bad = scimd(&db).args(["tenant", "set", "visitor", "--profile", file.to_str().unwrap()]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("max_page_size"), "{}", String::from_utf8_lossy(&bad.stderr));
    run_ok(scimd(&db).args(["tenant", "set", "visitor", "--profile", "default"]));
    let shown: Value = serde_json::from_str(&run_ok(scimd(&db).args(["tenant", "profile", "visitor"]))).unwrap();
    assert_eq!(shown["groups"]["offered"], true);
}

#[test]
fn tenant_create_names_every_preset_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scimd.db").to_string_lossy().into_owned();
    let help = run_ok(scimd(&db).args(["tenant", "create", "--help"]));
    for (name, _) in scimd_server::presets::PRESETS {
        assert!(help.contains(name), "`tenant create --help` does not name the {name} preset:\n{help}");
    }
    let out = scimd(&db).args(["tenant", "create", "acme", "--preset", "lockers"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let all = scimd_server::presets::PRESETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    assert!(err.contains(&all), "the error lists the presets ({all}): {err}");
    let made = run_ok(scimd(&db).args(["tenant", "create", "acme", "--preset", "Locker"]));
    assert!(made.contains("acme"), "{made}");
}

/// `tenant list` shows each tenant's preset; `tenant set --preset` moves a tenant to
/// another product's behaviour (its paths and rules with it) and refuses an unknown name.
#[test]
fn tenant_set_preset_changes_the_profile_and_tenant_list_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scimd.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "plain"]));
    run_ok(scimd(&db).args(["tenant", "create", "harbour", "--preset", "locker"]));
    let presets = |db: &str| -> Vec<(String, String)> {
        run_ok(scimd(db).args(["tenant", "list"]))
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[1].to_string(), f[4].to_string())
            })
            .collect()
    };
    assert_eq!(presets(&db), [("plain".into(), "-".into()), ("harbour".into(), "locker".into())]);

    let out = run_ok(scimd(&db).args(["tenant", "set", "plain", "--preset", "Workflow"]));
    assert!(out.contains("workflow"), "{out}");
    assert_eq!(presets(&db)[0], ("plain".into(), "workflow".into()));
    let profile: serde_json::Value =
        serde_json::from_str(&run_ok(scimd(&db).args(["tenant", "profile", "plain"]))).unwrap();
    assert_eq!(profile["token_path"], "/oauth2/server/token", "{profile}");
    assert_eq!(profile["delete_deactivates"], true, "{profile}");

    let out = scimd(&db).args(["tenant", "set", "plain", "--preset", "lockers"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        scimd(&db).args(["tenant", "set", "plain", "--preset", "locker", "--profile", "default"]).output().unwrap();
    assert!(!out.status.success(), "--preset and --profile together are refused");
    assert_eq!(presets(&db)[0], ("plain".into(), "workflow".into()), "a refused change changes nothing");
}

/// `scimd tenant deactivations` shows what the server recorded: a user deactivated over
/// SCIM, its time, the logins it ended; the window is checked.
#[tokio::test(flavor = "multi_thread")]
async fn tenant_deactivations_show_what_the_server_measured() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let token =
        run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().trim().to_string();
    let none = run_ok(scimd(&db).args(["tenant", "deactivations", "acme"]));
    assert!(none.starts_with("tenant acme: 0 deactivations since ") && none.contains("median -"), "{none}");
    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let scim = |m: reqwest::Method, path: &str, body: Value| {
        client
            .request(m, format!("http://{}/scim/v2{path}", server.addr))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
    };
    let created: Value =
        scim(reqwest::Method::POST, "/Users", json!({"userName": "kim"})).send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_eq!(scim(reqwest::Method::PATCH, &format!("/Users/{id}"), off).send().await.unwrap().status(), 200);
    let out = run_ok(scimd(&db).args(["tenant", "deactivations", "acme", "--days", "1"]));
    let mut lines = out.lines();
    let head = lines.next().unwrap();
    assert!(head.contains(": 1 deactivations since ") && head.ends_with("; 0 logins ended"), "{out}");
    let row: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!((row[1], row[3]), (id, "0"), "{out}");
    assert!(row[2].parse::<f64>().is_ok_and(|ms| ms > 0.0), "{out}");
    let bad = scimd(&db).args(["tenant", "deactivations", "acme", "--days", "0"]).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("between 1 and 366"));
}
