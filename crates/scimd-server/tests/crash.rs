//! Crash safety: writers send creates and PATCHes at full speed while the server
//! is `kill -9`ed at random moments, several times, and restarted; afterwards every write
//! that was acknowledged is present, and every unacknowledged one is either wholly present
//! or absent. On SQLite, and on PostgreSQL when `SCIMD_TEST_POSTGRES` names a server.
//! Bounded: 5 kills, at most ~1.5 s of writing between them, loopback only. Also: SIGTERM
//! drains the requests in flight, and memory stays bounded under sustained overload.

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;

const KILLS: usize = 5;
const WRITERS: usize = 8;

fn scimd(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimd"));
    c.env("SCIMD_DATABASE_URL", url).env("SCIMD_LOG", "warn");
    c
}

fn start(url: &str) -> (Child, String) {
    let addr = format!("127.0.0.1:{}", process::free_port());
    let mut cmd = scimd(url);
    cmd.env("SCIMD_LOG", "info").args(["serve", "--listen", &addr, "--workers", "2"]);
    let (child, _log) = process::spawn_listening(cmd, &addr, Duration::from_secs(30));
    (child, format!("http://{addr}/scim/v2"))
}

/// What a writer knows of one user: whether its create and its PATCH were acknowledged.
#[derive(Debug, Default, Clone, Copy)]
struct Known {
    created: Option<bool>,
    patched: Option<bool>,
}

async fn run(url: &str) {
    let out = scimd(url).args(["tenant", "create", "acme"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = scimd(url).args(["token", "create", "--tenant", "acme"]).output().unwrap();
    let token = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_string();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    // userName → what its writer was told. `Some(false)`: sent, not acknowledged.
    let known: Arc<Mutex<HashMap<String, Known>>> = Arc::default();
    let mut acked = 0usize;
    for round in 0..KILLS {
        let (mut child, base) = start(url);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (http, base, token, known, stop) =
                (http.clone(), base.clone(), token.clone(), known.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let name = format!("r{round}-w{w}-{i}");
                    known.lock().unwrap().insert(name.clone(), Known { created: Some(false), patched: None });
                    let body = json!({"userName": name, "title": "v1", "emails": [{"value": format!("{name}@x.example"), "type": "work"}]});
                    let r = http
                        .post(format!("{base}/Users"))
                        .bearer_auth(&token)
                        .header("content-type", "application/scim+json")
                        .body(body.to_string())
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    if r.status() != 201 {
                        break;
                    }
                    let Ok(v) = r.json::<Value>().await else { break };
                    known.lock().unwrap().get_mut(&name).unwrap().created = Some(true);
                    let id = v["id"].as_str().unwrap().to_string();
                    known.lock().unwrap().get_mut(&name).unwrap().patched = Some(false);
                    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "title", "value": "v2"}]});
                    let r = http
                        .patch(format!("{base}/Users/{id}"))
                        .bearer_auth(&token)
                        .header("content-type", "application/scim+json")
                        .body(patch.to_string())
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 200 => known.lock().unwrap().get_mut(&name).unwrap().patched = Some(true),
                        _ => break,
                    }
                }
            }));
        }
        // A random moment in the next 0.3–1.5 s.
        let wait =
            300 + (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 1200);
        tokio::time::sleep(Duration::from_millis(u64::from(wait))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }
    }
    // Check every user against what its writer was told.
    let (mut child, base) = start(url);
    let known = known.lock().unwrap().clone();
    let mut present_unacked = 0;
    for (name, k) in &known {
        let r: Value = http
            .get(format!("{base}/Users?filter=userName%20eq%20%22{name}%22"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let found = r["Resources"].as_array().unwrap().first().cloned();
        match (k.created, &found) {
            (Some(true), None) => panic!("acknowledged create of {name} lost"),
            (Some(true), Some(u)) => {
                acked += 1;
                if k.patched == Some(true) {
                    assert_eq!(u["title"], "v2", "acknowledged PATCH of {name} lost: {u}");
                } else {
                    assert!(u["title"] == "v1" || u["title"] == "v2", "{name} half-patched: {u}");
                }
            }
            (_, Some(u)) => {
                // Not acknowledged, yet written: wholly.
                present_unacked += 1;
                assert_eq!((u["title"].as_str(), u["emails"][0]["type"].as_str()), (Some("v1"), Some("work")), "{u}");
            }
            (_, None) => {}
        }
        if let Some(u) = &found {
            assert_eq!(r["totalResults"], 1, "{name} once: {u}");
        }
    }
    let total: Value =
        http.get(format!("{base}/Users?count=0")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(total["totalResults"].as_u64().unwrap() as usize, acked + present_unacked, "no user from nowhere");
    assert!(acked > 50, "too few writes to mean anything: {acked}");
    println!(
        "{KILLS} kill -9: {acked} acknowledged creates all present; {present_unacked} unacknowledged present whole"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    run(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    let Ok(admin) = std::env::var("SCIMD_TEST_POSTGRES") else {
        println!("SCIMD_TEST_POSTGRES is not set: PostgreSQL crash test not run");
        return;
    };
    run(&process::fresh_database(&admin).await).await;
}

/// Graceful shutdown (SIGTERM) lets a request in flight finish and be answered; what it
/// wrote is there after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("drain.db").display());
    assert!(scimd(&url).args(["tenant", "create", "acme"]).status().unwrap().success());
    let out = scimd(&url).args(["token", "create", "--tenant", "acme"]).output().unwrap();
    let token = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_string();
    let (mut child, base) = start(&url);
    // A slow request: a Bulk of 40 users with passwords (argon2 each).
    let ops: Vec<Value> = (0..40)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"),
                         "data": {"userName": format!("drain{i}"), "password": "a password to hash slowly"}})
        })
        .collect();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
    let http = reqwest::Client::new();
    let request = tokio::spawn({
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            http.post(format!("{base}/Bulk"))
                .bearer_auth(&token)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let r = request.await.unwrap().expect("the request in flight is answered");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let created = v["Operations"].as_array().unwrap().iter().filter(|o| o["status"] == "201").count();
    assert_eq!(created, 40, "{v}");
    let status = child.wait().unwrap();
    assert!(status.success(), "a graceful exit: {status}");
    let (mut child, base) = start(&url);
    let n: Value =
        http.get(format!("{base}/Users?count=0")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(n["totalResults"], 40);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Sustained overload of a rate-limited tenant does not make the server's own memory grow
/// without bound: its anonymous memory after 20,000 refused and served requests stays
/// within a few MiB of what it was after the first 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_under_sustained_overload() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    assert!(scimd(&url).args(["tenant", "create", "acme"]).status().unwrap().success());
    let out = scimd(&url).args(["token", "create", "--tenant", "acme"]).output().unwrap();
    let token = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_string();
    let addr = format!("127.0.0.1:{}", process::free_port());
    let mut cmd = scimd(&url);
    cmd.env("SCIMD_LOG", "info").args(["serve", "--listen", &addr, "--workers", "2", "--tenant-rate", "50"]);
    let (mut child, _log) = process::spawn_listening(cmd, &addr, Duration::from_secs(30));
    let rss_anon = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find(|l| l.starts_with("RssAnon:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap()
    };
    let http = reqwest::Client::new();
    let burst = |n: usize| {
        let (http, token, addr) = (http.clone(), token.clone(), addr.clone());
        async move {
            let mut tasks = Vec::new();
            for w in 0..16 {
                let (http, token, addr) = (http.clone(), token.clone(), addr.clone());
                tasks.push(tokio::spawn(async move {
                    let mut counts = (0, 0);
                    for i in 0..n / 16 {
                        let r = http
                            .post(format!("http://{addr}/scim/v2/Users"))
                            .bearer_auth(&token)
                            .header("content-type", "application/scim+json")
                            .body(json!({"userName": format!("w{w}-{i}-{}", rand_suffix())}).to_string())
                            .send()
                            .await
                            .unwrap();
                        match r.status().as_u16() {
                            201 => counts.0 += 1,
                            429 => counts.1 += 1,
                            other => panic!("overload answered {other}"),
                        }
                    }
                    counts
                }));
            }
            let mut total = (0, 0);
            for t in tasks {
                let (a, b) = t.await.unwrap();
                total = (total.0 + a, total.1 + b);
            }
            total
        }
    };
    burst(200).await;
    let before = rss_anon(child.id());
    let (served, refused) = burst(20_000).await;
    let after = rss_anon(child.id());
    assert!(refused > served, "{served} served, {refused} refused");
    assert!(after < before + 16 * 1024, "anonymous memory grew from {before} KiB to {after} KiB");
    println!("20,000 requests at 50/s allowed: {served} served, {refused} refused; RssAnon {before} → {after} KiB");
    child.kill().unwrap();
    child.wait().unwrap();
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}
