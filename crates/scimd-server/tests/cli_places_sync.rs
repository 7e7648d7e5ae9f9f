//! The places, access and sync commands as operators and customers' scripts run them:
//! their `--json` output, a running server picking up rules set from the command line,
//! and `scimd sync` stopping on Ctrl-C and converging on the next run.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/serve.rs"]
mod serve;
use process::run_ok;
use serve::{Server, scimd};

/// The places and access commands operators script, their `--json` output,
/// and a running server picking up rules set from the command line.
#[tokio::test]
async fn places_and_access_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("places.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    let tree = dir.path().join("tree.json");
    std::fs::write(
        &tree,
        r#"{"locations":[{"key":"hq","name":"HQ","sections":[{"key":"s1","name":"Floor 1",
            "banks":[{"key":"b1","name":"Bank 1","lockers":[{"key":"l1"},{"key":"l2"}]}]}]}]}"#,
    )
    .unwrap();
    let tree = tree.to_string_lossy().into_owned();
    let out = run_ok(scimd(&db).args(["places", "import", "--tenant", "acme", &tree, "--json"]));
    assert_eq!(serde_json::from_str::<Value>(out.trim()).unwrap(), json!({"created": 5, "updated": 0, "unchanged": 0}));
    let out = run_ok(scimd(&db).args(["places", "import", "--tenant", "acme", &tree, "--json"]));
    assert_eq!(serde_json::from_str::<Value>(out.trim()).unwrap()["unchanged"], 5, "re-importing changes nothing");
    let list = run_ok(scimd(&db).args(["places", "list", "--tenant", "acme"]));
    assert!(list.contains("bank\tb1\tBank 1\ts1"), "{list}");
    run_ok(scimd(&db).args(["places", "create", "--tenant", "acme", "locker", "l3", "--parent", "b1"]));
    // The operator's groups, then access for one of them by name.
    let made = run_ok(scimd(&db).args(["group", "create", "--tenant", "acme", "Night shift", "--external-id", "ns"]));
    let (night_id, night_name) = made.trim().split_once('\t').unwrap();
    assert_eq!(night_name, "Night shift");
    let twice = scimd(&db).args(["group", "create", "--tenant", "acme", "Night shift"]).output().unwrap();
    assert!(!twice.status.success() && String::from_utf8_lossy(&twice.stderr).contains(night_id));
    run_ok(scimd(&db).args(["group", "create", "--tenant", "acme", "Temporary"]));
    let groups = run_ok(scimd(&db).args(["group", "list", "--tenant", "acme"]));
    assert!(groups.contains(&format!("{night_id}\tNight shift\tns")) && groups.contains("\tTemporary\t-"), "{groups}");
    run_ok(scimd(&db).args(["group", "delete", "--tenant", "acme", "Temporary"]));
    assert_eq!(run_ok(scimd(&db).args(["group", "list", "--tenant", "acme"])).lines().count(), 1);
    run_ok(scimd(&db).args(["access", "grant", "--tenant", "acme", "--group", "Night shift", "--bank", "b1"]));
    let links = run_ok(scimd(&db).args(["access", "list", "--tenant", "acme"]));
    assert!(links.contains(night_id), "{links}");
    run_ok(scimd(&db).args(["access", "revoke", "--tenant", "acme", "--group", night_id, "--bank", "b1"]));
    let refused = scimd(&db).args(["places", "delete", "--tenant", "acme", "bank", "b1"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cascade"));

    let server = Server::start(&db);
    let http = reqwest::Client::new();
    let base = format!("http://{}/scim/v2", server.addr);
    let send = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };
    let ada = send(reqwest::Method::POST, "/Users", json!({"userName": "ada", "addresses": [{"locality": "Delft"}]}))
        .await
        .unwrap();
    assert_eq!(ada.status(), 201);
    let ada_id = ada.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let group = send(reqwest::Method::POST, "/Groups", json!({"displayName": "Staff", "members": [{"value": ada_id}]}))
        .await
        .unwrap();
    assert_eq!(group.status(), 201);

    run_ok(scimd(&db).args(["access", "grant", "--tenant", "acme", "--group", "Staff", "--bank", "b1"]));
    let out = run_ok(scimd(&db).args(["access", "show", "--tenant", "acme", "--user", "ada", "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(out.trim()).unwrap(),
        json!({"banks": ["b1"], "lockers": ["l1", "l2", "l3"]})
    );
    let users = run_ok(scimd(&db).args(["access", "users", "--tenant", "acme", "--bank", "b1"]));
    assert!(users.contains(&format!("{ada_id}\tada")), "{users}");

    let rules = dir.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"{"provision":"rules","match":"any","rules":[{"attribute":"locality","op":"equals","value":"delft"}],
            "home":{"rules":[{"attribute":"locality","op":"contains","value":"elf"}]}}"#,
    )
    .unwrap();
    // A dry run says whom the rules would provision, and saves nothing.
    let rules_path = rules.to_string_lossy().to_string();
    let dry = ["places", "rules", "--tenant", "acme", "--location", "hq", &rules_path, "--dry-run", "--json"];
    let dry: Value = serde_json::from_str(run_ok(scimd(&db).args(dry)).trim()).unwrap();
    assert_eq!(dry["totalResults"], 1, "{dry}");
    assert_eq!(dry["users"][0]["userName"], "ada", "{dry}");
    assert_eq!(dry["users"][0]["then"], json!({"locations": ["hq"], "home": "hq"}), "{dry}");
    let out = run_ok(scimd(&db).args(["places", "of", "--tenant", "acme", "--user", "ada", "--json"]));
    assert_eq!(serde_json::from_str::<Value>(out.trim()).unwrap(), json!({"locations": [], "home": null}));
    run_ok(scimd(&db).args(["places", "rules", "--tenant", "acme", "--location", "hq", &rules.to_string_lossy()]));
    let out = run_ok(scimd(&db).args(["places", "of", "--tenant", "acme", "--user", "ada", "--json"]));
    assert_eq!(serde_json::from_str::<Value>(out.trim()).unwrap(), json!({"locations": ["hq"], "home": "hq"}));
    // The running server recomputes the user in the background.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let u: Value =
            send(reqwest::Method::GET, &format!("/Users/{ada_id}"), Value::Null).await.unwrap().json().await.unwrap();
        if u["urn:scimd:schemas:extension:places:1.0:User"] == json!({"locations": ["hq"], "homeLocation": "hq"}) {
            break;
        }
        assert!(Instant::now() < deadline, "never recomputed: {u}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run_ok(scimd(&db).args(["access", "revoke", "--tenant", "acme", "--group", "Staff", "--bank", "b1"]));
    let out = run_ok(scimd(&db).args(["access", "show", "--tenant", "acme", "--user", "ada", "--json"]));
    assert_eq!(serde_json::from_str::<Value>(out.trim()).unwrap(), json!({"banks": [], "lockers": []}));
    // Rules changed while no server runs: the next one to start does the recomputation.
    drop(server);
    std::fs::write(&rules, r#"{"provision":"all"}"#).unwrap();
    run_ok(scimd(&db).args(["places", "rules", "--tenant", "acme", "--location", "hq", &rules.to_string_lossy()]));
    let server = Server::start(&db);
    let base = format!("http://{}/scim/v2", server.addr);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let u: Value =
            http.get(format!("{base}/Users/{ada_id}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        if u["urn:scimd:schemas:extension:places:1.0:User"] == json!({"locations": ["hq"]}) {
            break;
        }
        assert!(Instant::now() < deadline, "not recomputed after a restart: {u}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);
    run_ok(scimd(&db).args(["places", "delete", "--tenant", "acme", "location", "hq", "--cascade"]));
    assert_eq!(run_ok(scimd(&db).args(["places", "list", "--tenant", "acme"])), "");
}

/// `scimd sync` as a customer's script runs it: secrets from files, a report file, exit
/// statuses, Ctrl-C (SIGINT) stopping cleanly, and the next run finishing the work.
#[tokio::test]
async fn sync_from_the_command_line_stops_on_sigint_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sync.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let mut csv = String::from("userName,givenName,familyName,email,active,externalId\n");
    for i in 0..3000 {
        csv.push_str(&format!("u{i}@corp.example,Given,Family,u{i}@corp.example,true,e{i}\n"));
    }
    let source = dir.path().join("users.csv");
    std::fs::write(&source, csv).unwrap();
    let server = Server::start(&db);
    let target = format!("http://{}/scim/v2", server.addr);
    let report = dir.path().join("run.json");
    let sync = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_scimd"));
        c.args(["sync", "--source", &source.to_string_lossy(), "--target", &target]);
        c.args(["--token-file", &token_file.to_string_lossy(), "--report", &report.to_string_lossy()]);
        c.args(extra).env_remove("SCIMD_DATABASE_URL");
        c
    };
    let http = reqwest::Client::new();
    let count = || async {
        let v: Value =
            http.get(format!("{target}/Users?count=0")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        v["totalResults"].as_u64().unwrap()
    };
    let child = sync(&["--concurrency", "1"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count().await < 50 {
        assert!(Instant::now() < deadline, "the sync never started creating");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["interrupted"], true, "{r}");
    let created = r["created"].as_u64().unwrap();
    assert!((50..3000).contains(&created), "{r}");
    assert_eq!(count().await, created, "the report counts what was done");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("INTERRUPTED"), "{summary}");
    assert!(!summary.contains(&token) && !String::from_utf8_lossy(&out.stderr).contains(&token), "no secret printed");

    // The next run finishes; the one after has nothing to do; a dry run lists a change.
    let out = sync(&["--concurrency", "8", "--quiet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!((r["created"].as_u64(), r["unchanged"].as_u64()), (Some(3000 - created), Some(created)), "{r}");
    for key in ["started_at", "finished_at", "created", "updated", "deactivated", "deleted", "unchanged", "errors"] {
        assert!(r.get(key).is_some(), "the report has {key}: {r}");
    }
    let out = sync(&["--quiet"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!((r["created"].as_u64(), r["updated"].as_u64(), r["unchanged"].as_u64()), (Some(0), Some(0), Some(3000)));
    let changed = std::fs::read_to_string(&source).unwrap().replace("u7@corp.example,Given", "u7@corp.example,Seven");
    std::fs::write(&source, changed).unwrap();
    let out = sync(&["--dry-run"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("update u7@corp.example:") && listing.contains("name.givenName: \"Given\" → \"Seven\""),
        "{listing}"
    );
    assert!(listing.contains("would update: 1"), "{listing}");
    // No credentials, or a secret on the command line: refused before anything is sent.
    let out = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["sync", "--source", &source.to_string_lossy(), "--target", &target])
        .env_remove("SCIMD_SYNC_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no credentials"));
    let out = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["sync", "--source", &source.to_string_lossy(), "--target", &target, "--client-secret", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "there is no --client-secret flag");
}

/// `scimd sync` is the customer's side: its help names only what a client needs, and a
/// server setting given to it is refused instead of being silently ignored (from the
/// environment, where a server's variables may well be set, it is ignored).
#[test]
fn sync_help_shows_only_client_options_and_refuses_server_settings() {
    let help = run_ok(Command::new(env!("CARGO_BIN_EXE_scimd")).args(["sync", "--help"]));
    for client in ["--source", "--target", "--token-file", "--client-id", "--token-url", "--dry-run"] {
        assert!(help.contains(client), "sync --help names {client}:\n{help}");
    }
    for server in ["--database", "--master-key-file", "--pg-pool", "--sqlite", "--config", "--log-format"] {
        assert!(!help.contains(server), "sync --help does not name {server}:\n{help}");
    }
    for args in [&["sync", "--database", "x.db"][..], &["--pg-pool", "4", "sync"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_scimd"))
            .args(args)
            .args(["--source", "users.csv", "--target", "http://127.0.0.1:9/scim/v2", "--token-file", "t"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is a setting of the server"), "{err}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_scimd"))
        .args(["sync", "--source", "/nonexistent.csv", "--target", "http://127.0.0.1:9/scim/v2", "--token-file", "t"])
        .env("SCIMD_DATABASE_URL", "sqlite://elsewhere.db")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("setting of the server"), "the environment is not refused");
}
