//! Events survive a crash during delivery: `scimd serve` is `kill -9`ed while a push
//! stream's (slow) receiver has had only part of the events of acknowledged changes; once
//! restarted on the same database, it delivers the rest. The receiver ends with every
//! event, first seen in order, at least once, each with the same `jti` every time; what it
//! gets twice is only what was sent after the stream's progress was last recorded before
//! the kill (a contiguous run just before the kill, at most a batch). On SQLite, and on
//! PostgreSQL when `SCIMD_TEST_POSTGRES` names a server.
//!
//! Bounded: 400 creates, one kill, loopback only, every wait with a deadline. After the
//! restart the stream waits for the dead process's lease on it to run out (30 s).

use std::collections::HashMap;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/receiver.rs"]
mod receiver;
use process::run_ok;
use receiver::Receiver;

const WRITERS: usize = 4;
const CREATES_PER_WRITER: usize = 100;
/// The receiver's time per request: slow enough that the kill comes mid-delivery.
const SLOW: Duration = Duration::from_millis(25);
/// The most events a stream sends before its progress is recorded (a batch).
const BATCH: usize = 256;

fn scimd(url: &str) -> Command {
    let mut c = process::scimd();
    c.env("SCIMD_DATABASE_URL", url).env("SCIMD_LOG", "warn");
    c
}

fn start(url: &str) -> (Child, String) {
    let addr = format!("127.0.0.1:{}", process::free_port());
    let mut cmd = scimd(url);
    cmd.env("SCIMD_LOG", "info").args(["serve", "--listen", &addr, "--workers", "2"]);
    let (child, _log) = process::spawn_listening(cmd, &addr, Duration::from_secs(30));
    (child, format!("http://{addr}"))
}

/// `seq` and `jti` of a SET.
fn seq_and_jti(body: &[u8]) -> (i64, String) {
    let payload = std::str::from_utf8(body).unwrap().split('.').nth(1).expect("a compact JWS");
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (claims["seq"].as_i64().unwrap(), claims["jti"].as_str().unwrap().to_string())
}

async fn run(url: &str) {
    run_ok(scimd(url).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(url).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    let rx = Receiver::start().await;
    rx.set_delay(SLOW);
    run_ok(scimd(url).args(["events", "stream", "add", "--tenant", "acme", "--push", &rx.url]));

    let (mut child, base) = start(url);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        writers.spawn(async move {
            for i in 0..CREATES_PER_WRITER {
                let r = http
                    .post(format!("{base}/scim/v2/Users"))
                    .bearer_auth(&token)
                    .header("content-type", "application/scim+json")
                    .body(json!({"userName": format!("w{w}-{i}")}).to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201, "{:?}", r.text().await);
            }
        });
    }
    while let Some(r) = writers.join_next().await {
        r.unwrap();
    }
    let n = (WRITERS * CREATES_PER_WRITER) as i64;

    // Killed once the receiver has three quarters of the events: past the first batch,
    // mid-way through the next.
    let end = Instant::now() + Duration::from_secs(60);
    while rx.got().len() < 3 * n as usize / 4 {
        assert!(Instant::now() < end, "the receiver got only {} events in 60 s", rx.got().len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before_kill = rx.got().len();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(before_kill < n as usize, "the receiver had every event before the kill");

    let (mut child, _) = start(url);
    // The rest arrives once the dead process's lease (30 s) has run out.
    let end = Instant::now() + Duration::from_secs(90);
    let got = loop {
        let got = rx.got();
        let seen: std::collections::HashSet<i64> = got.iter().map(|g| seq_and_jti(&g.body).0).collect();
        if seen.len() as i64 >= n {
            break got;
        }
        assert!(Instant::now() < end, "after the restart the receiver has {} of {n} events", seen.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Anything still to come (it should not) comes now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = if rx.got().len() > got.len() { rx.got() } else { got };
    child.kill().unwrap();
    child.wait().unwrap();

    // First appearances in order, gap-free; the same jti every time an event comes.
    let mut jtis: HashMap<i64, String> = HashMap::new();
    let mut highest = 0;
    let mut again = Vec::new();
    let mut back_at = Vec::new();
    for (i, g) in got.iter().enumerate() {
        let (seq, jti) = seq_and_jti(&g.body);
        match jtis.get(&seq) {
            Some(first) => {
                assert_eq!(first, &jti, "event {seq} came again with another jti");
                again.push(seq);
            }
            None => {
                assert_eq!(seq, highest + 1, "event {seq} first came after {highest}");
                jtis.insert(seq, jti);
                highest = seq;
            }
        }
        if i > 0 && seq <= seq_and_jti(&got[i - 1].body).0 {
            back_at.push(i);
        }
    }
    assert_eq!(highest, n);
    // What came twice: sent once before the kill, again after the restart from the last
    // progress recorded; one step back, a contiguous run, at most a batch.
    assert!(back_at.len() <= 1, "the receiver was sent back more than once: at {back_at:?}");
    if let Some(&i) = back_at.first() {
        assert!(i >= before_kill, "sent back at {i}, before the kill ({before_kill} received)");
        let last_before = seq_and_jti(&got[i - 1].body).0;
        let from = seq_and_jti(&got[i].body).0;
        let run: Vec<i64> = (from..=last_before).collect();
        assert_eq!(again, run, "only the events after the last recorded progress come twice");
        assert!(again.len() <= BATCH, "{} events came twice", again.len());
    } else {
        assert!(again.is_empty());
    }
    println!("kill -9 with {before_kill} of {n} events received: {} received again after the restart", again.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_delivery_loses_no_event_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    run(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_delivery_loses_no_event_on_postgres() {
    let Ok(admin) = std::env::var("SCIMD_TEST_POSTGRES") else {
        println!("SCIMD_TEST_POSTGRES is not set: PostgreSQL events crash test not run");
        return;
    };
    run(&process::fresh_database(&admin).await).await;
}
