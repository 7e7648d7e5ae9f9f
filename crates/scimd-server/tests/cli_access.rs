//! `scimd access …` with a single locker, as operators script it: grant a
//! group one locker (or a section), see it in `access show`, `access list` (the level in
//! the last column, the first three as before) and `access users`, and revoke it.

use std::time::Duration;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/serve.rs"]
mod serve;
use process::{free_port, run, run_ok, spawn_listening};
use serve::{Server, scimd};

#[tokio::test]
async fn a_group_is_given_one_locker_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("access.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    let tree = dir.path().join("tree.json");
    std::fs::write(
        &tree,
        r#"{"locations":[{"key":"hq","sections":[{"key":"s1","banks":[
            {"key":"b1","lockers":[{"key":"l1"},{"key":"l2"}]},{"key":"b2","lockers":[{"key":"l3"}]}]}]}]}"#,
    )
    .unwrap();
    run_ok(scimd(&db).args(["places", "import", "--tenant", "acme", &tree.to_string_lossy()]));

    // A user in a group, over SCIM.
    let addr = format!("127.0.0.1:{}", free_port());
    let mut serve = scimd(&db);
    serve.args(["serve", "--listen", &addr]);
    let (mut child, _log) = spawn_listening(serve, &addr, Duration::from_secs(20));
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        http.post(format!("http://{addr}/scim/v2{path}"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };
    let ada = post("/Users", json!({"userName": "ada"})).await.unwrap();
    assert_eq!(ada.status(), 201);
    let ada_id = ada.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let g = post("/Groups", json!({"displayName": "Locker 2", "members": [{"value": ada_id}]})).await.unwrap();
    assert_eq!(g.status(), 201);
    let group_id = g.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    child.kill().unwrap();
    child.wait().unwrap();

    let out = run_ok(scimd(&db).args(["access", "grant", "--tenant", "acme", "--group", "Locker 2", "--locker", "l2"]));
    assert_eq!(out.trim(), "Locker 2 now has access to locker l2");
    let show = |db: &str| {
        let out = run_ok(scimd(db).args(["access", "show", "--tenant", "acme", "--user", "ada", "--json"]));
        serde_json::from_str::<Value>(out.trim()).unwrap()
    };
    assert_eq!(show(&db), json!({"banks": [], "lockers": ["l2"]}));
    let links = run_ok(scimd(&db).args(["access", "list", "--tenant", "acme"]));
    assert_eq!(links, format!("l2\tLocker 2\t{group_id}\tlocker\n"));
    let users = run_ok(scimd(&db).args(["access", "users", "--tenant", "acme", "--locker", "l2"]));
    assert_eq!(users, format!("{ada_id}\tada\n"));
    assert_eq!(run_ok(scimd(&db).args(["access", "users", "--tenant", "acme", "--bank", "b1"])), "");
    // A section: everything in it.
    run_ok(scimd(&db).args(["access", "grant", "--tenant", "acme", "--group", &group_id, "--section", "s1"]));
    assert_eq!(show(&db), json!({"banks": ["b1", "b2"], "lockers": ["l1", "l2", "l3"]}));
    run_ok(scimd(&db).args(["access", "revoke", "--tenant", "acme", "--group", "Locker 2", "--section", "s1"]));
    // One place, exactly.
    for args in [&["--group", "Locker 2"][..], &["--group", "Locker 2", "--locker", "l1", "--bank", "b1"][..]] {
        let out = run(scimd(&db).args(["access", "grant", "--tenant", "acme"]).args(args));
        assert!(!out.status.success(), "{args:?}");
    }
    let wrong = run(scimd(&db).args(["access", "grant", "--tenant", "acme", "--group", "Locker 2", "--locker", "b1"]));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("locker 'b1' not found"));
    let out =
        run_ok(scimd(&db).args(["access", "revoke", "--tenant", "acme", "--group", "Locker 2", "--locker", "l2"]));
    assert_eq!(out.trim(), "Locker 2 no longer has access to locker l2");
    assert_eq!(show(&db), json!({"banks": [], "lockers": []}));
}

/// The portal's people from the command line: an operator made with a password read from
/// standard input (never an argument), listed and disabled; a system user invited with a
/// one-time link printed as JSON, which opens the portal's set-password page once.
#[tokio::test(flavor = "multi_thread")]
async fn operators_and_system_users_of_the_portal_from_the_command_line() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("portal.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let create = |stdin: &'static [u8]| {
        let mut child = scimd(&db)
            .args(["operator", "create", "--username", "alice", "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    let short = create(b"short\n");
    assert!(!short.status.success(), "a short password is refused");
    assert!(String::from_utf8_lossy(&short.stderr).contains("12 characters"));
    assert!(create(b"correct horse battery staple\n").status.success());
    let list = run_ok(scimd(&db).args(["operator", "list"]));
    assert!(list.starts_with("alice\t") && list.contains("\tno-totp\tactive"), "{list}");
    run_ok(scimd(&db).args(["operator", "disable", "alice"]));
    assert!(run_ok(scimd(&db).args(["operator", "list"])).contains("\tdisabled"));

    let out =
        run_ok(scimd(&db).args(["system-user", "invite", "--tenant", "acme", "--email", "Jane@Acme.test", "--json"]));
    let invited: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(invited["email"], "jane@acme.test");
    let url = invited["invite_url"].as_str().unwrap();
    assert!(url.contains("/portal/invite?token=scimd_"), "{url}");
    assert!(run_ok(scimd(&db).args(["system-user", "list", "--tenant", "acme"])).contains("jane@acme.test\t"));
    // The link's token is stored only as a hash.
    let token = url.split("token=").nth(1).unwrap();
    let raw = std::fs::read(&db).unwrap();
    assert!(!raw.windows(token.len()).any(|w| w == token.as_bytes()));

    let server = Server::start(&db);
    let page = reqwest::get(format!("http://{}/portal/invite?token={token}", server.addr)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("jane@acme.test"));
}
