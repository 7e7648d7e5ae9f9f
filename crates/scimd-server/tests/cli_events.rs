//! The event commands as operators and scripts run them: `scimd events stream add` for
//! each method (`--json`: the id and the one-time credential), `list`, `pause`, `resume`,
//! `delete`, each change in the audit trail, and `scimd events tail` showing (and with
//! `--follow`, following) what a running server records.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/serve.rs"]
mod serve;
use process::{run, run_ok};
use serve::{Server, scimd};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn operators_manage_streams_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let add = |args: &[&str]| {
        let mut cmd = scimd(&db);
        cmd.args(["events", "stream", "add", "--tenant", "acme"]).args(args);
        cmd
    };

    // Poll: its URL under server.public_url (the path alone without it) and its token.
    let poll = json_of(&run_ok(add(&["--poll", "--json"]).env("SCIMD_SERVER__PUBLIC_URL", "https://scim.example.com")));
    let keys: Vec<&String> = poll.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "poll_url", "token"], "{poll}");
    assert_eq!(poll["poll_url"], "https://scim.example.com/events/v1/poll");
    assert!(poll["token"].as_str().unwrap().starts_with("scimd_"), "{poll}");
    let relative = run_ok(&mut add(&["--poll"]));
    assert!(relative.contains("/events/v1/poll") && relative.contains("public_url"), "{relative}");
    let poll_token = relative.lines().last().unwrap().to_string();
    assert!(poll_token.starts_with("scimd_"), "{relative}");

    let webhook = json_of(&run_ok(&mut add(&[
        "--webhook",
        "https://hooks.acme.example/scim",
        "--types",
        "User",
        "--events",
        "create,deactivate",
        "--json",
    ])));
    let secret = webhook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{webhook}");
    let push = json_of(&run_ok(&mut add(&["--push", "http://127.0.0.1:9/set", "--bearer", "rcv-token-1", "--json"])));
    assert_eq!(push.as_object().unwrap().len(), 1, "{push}");
    let push_id = push["id"].as_str().unwrap().to_string();

    // Mistakes are refused, naming what is wrong.
    for (args, says) in [
        (vec!["--push", "ftp://hooks.acme.example/"], "http"),
        (vec!["--webhook", "https://h.example/", "--events", "created"], "unknown event type 'created'"),
        (vec!["--poll", "--bearer", "x"], "only a push stream"),
    ] {
        let out = run(&mut add(&args));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{args:?}: {err}");
    }
    let out = run(scimd(&db).args(["events", "stream", "add", "--tenant", "acme"]));
    assert!(!out.status.success(), "a method is required");

    let list = run_ok(scimd(&db).args(["events", "stream", "list", "--tenant", "acme"]));
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.iter().map(|r| r[1]).collect::<Vec<_>>(), ["poll", "poll", "webhook", "push"], "{list}");
    assert!(rows.iter().all(|r| r[3] == "active" && r.len() == 10), "{list}");
    for shown in [&list, &run_ok(scimd(&db).args(["events", "stream", "list", "--tenant", "acme", "--json"]))] {
        for hidden in [poll["token"].as_str().unwrap(), &poll_token, &secret, "rcv-token-1"] {
            assert!(!shown.contains(hidden), "{shown}");
        }
    }

    run_ok(scimd(&db).args(["events", "stream", "pause", "--tenant", "acme", &push_id]));
    let shown = json_of(&run_ok(scimd(&db).args(["events", "stream", "show", "--tenant", "acme", &push_id])));
    assert_eq!(shown["status"], "paused", "{shown}");
    run_ok(scimd(&db).args(["events", "stream", "resume", "--tenant", "acme", &push_id]));
    let listed = json_of(&run_ok(scimd(&db).args(["events", "stream", "list", "--tenant", "acme", "--json"])));
    assert_eq!(listed[3]["status"], "active", "{listed}");
    run_ok(scimd(&db).args(["events", "stream", "delete", "--tenant", "acme", &push_id]));
    let out = run(scimd(&db).args(["events", "stream", "delete", "--tenant", "acme", &push_id]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no event stream"), "{out:?}");
    run_ok(scimd(&db).args(["tenant", "create", "globex"]));
    let out =
        run(scimd(&db).args(["events", "stream", "pause", "--tenant", "globex", webhook["id"].as_str().unwrap()]));
    assert!(!out.status.success(), "another tenant's stream is not found");
    assert_eq!(run_ok(scimd(&db).args(["events", "stream", "list", "--tenant", "acme"])).lines().count(), 3);

    // Each change is in the tenant's audit trail, as the command line's.
    let trail = run_ok(scimd(&db).args(["audit", "events", "--tenant", "acme"]));
    for op in ["stream_add", "stream_pause", "stream_resume", "stream_delete"] {
        assert!(trail.lines().any(|l| l.contains(op) && l.contains("CLI")), "{op}: {trail}");
    }
    assert!(trail.lines().filter(|l| l.contains("stream_delete")).all(|l| l.contains(&push_id)), "{trail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tail_shows_and_follows_what_a_running_server_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tail.db").to_string_lossy().into_owned();
    run_ok(scimd(&db).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(&db).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    // Without a stream nothing is recorded; a poll stream keeps what it has not had.
    run_ok(scimd(&db).args(["events", "stream", "add", "--tenant", "acme", "--poll"]));
    let server = Server::start(&db);
    let client = reqwest::Client::new();
    let create = |name: &str| {
        client
            .post(format!("http://{}/scim/v2/Users", server.addr))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(json!({"userName": name}).to_string())
            .send()
    };
    let r = create("pat@acme.example").await.unwrap();
    assert_eq!(r.status(), 201);
    let pat = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    let out = run_ok(scimd(&db).args(["events", "tail", "--tenant", "acme"]));
    let line: Vec<&str> = out.lines().next().unwrap_or_default().split('\t').collect();
    assert_eq!(line[0], "1", "{out}");
    assert_eq!(line[2], "create", "{out}");
    assert_eq!(line[3], format!("User/{pat}"), "{out}");
    assert!(line[4].contains("userName"), "{out}");
    let as_json = json_of(&run_ok(scimd(&db).args(["events", "tail", "--tenant", "acme", "--json"])));
    assert_eq!((as_json["type"].as_str(), as_json["id"].as_str()), (Some("create"), Some(pat.as_str())), "{as_json}");
    assert_eq!(run_ok(scimd(&db).args(["events", "tail", "--tenant", "acme", "--after", "1"])), "");

    // --follow prints an event written after it started.
    let mut follow = scimd(&db)
        .args(["events", "tail", "--tenant", "acme", "--follow", "--json", "--after", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let r = create("sam@acme.example").await.unwrap();
    assert_eq!(r.status(), 201);
    let sam = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let line = rx.recv_timeout(Duration::from_secs(20)).expect("a followed event");
    let _ = follow.kill();
    let _ = follow.wait();
    let e = json_of(&line);
    assert_eq!((e["seq"].as_i64(), e["id"].as_str()), (Some(2), Some(sam.as_str())), "{e}");
}
