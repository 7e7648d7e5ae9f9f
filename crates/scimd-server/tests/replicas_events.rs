//! Event delivery by several replicas: two `scimd serve` processes on one PostgreSQL
//! database take changes through both at once, and each of the tenant's streams gets every
//! event exactly once, in the order of the tenant's sequence numbers (a user's deactivation
//! never before its creation): a push stream to a fast receiver (SETs verified with the
//! published keys), a webhook stream to a slow receiver (a batch of events outlasts a
//! replica's lease on the stream, so a round must give the lease back in time, or the other
//! replica would send the same events again meanwhile), and a poll stream polled through
//! both replicas in turn.
//!
//! Runs when `SCIMD_TEST_POSTGRES` names a PostgreSQL server (`scripts/test` starts one);
//! without it the test says so and does nothing. Bounded: 80 users (280 events), loopback
//! only, every wait with a deadline.

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

#[path = "support/process.rs"]
mod process;
#[path = "support/receiver.rs"]
mod receiver;
use process::run_ok;
use receiver::{Got, Receiver};

const WRITERS: usize = 4;
const USERS_PER_WRITER: usize = 20;
/// How long the slow receiver takes to answer each request: a batch (up to 256 events)
/// takes longer than a replica's 30 s lease on the stream.
const SLOW: Duration = Duration::from_millis(150);

fn scimd(url: &str) -> Command {
    let mut c = process::scimd();
    c.env("SCIMD_DATABASE_URL", url).env("SCIMD_LOG", "warn");
    c
}

struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    fn start(url: &str) -> Replica {
        let addr = format!("127.0.0.1:{}", process::free_port());
        let mut cmd = scimd(url);
        cmd.env("SCIMD_LOG", "info").args(["serve", "--listen", &addr, "--workers", "2", "--pg-pool", "8"]);
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

fn json_of(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// A SET's claims, unverified (the push stream's are verified separately).
fn set_claims(jws: &str) -> Value {
    let payload = jws.split('.').nth(1).expect("a compact JWS");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn event_uri(claims: &Value) -> String {
    claims["events"].as_object().unwrap().keys().next().unwrap().clone()
}

/// The short name of an event URI: `create`, `patch`, `deactivate`, `delete`, ….
fn short(uri: &str) -> &str {
    let rest = uri.strip_prefix("urn:ietf:params:scim:event:prov:").unwrap_or(uri);
    rest.split(':').next().unwrap()
}

/// Checks that `claims` (in the order a receiver got them) are the events 1..=`n`, each
/// once, in order, and that each user's events are those its writer caused, in order.
fn assert_once_in_order(stream: &str, claims: &[Value], n: i64, expected: &HashMap<String, Vec<&str>>) {
    let seqs: Vec<i64> = claims.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    let want: Vec<i64> = (1..=n).collect();
    if seqs != want {
        let mut count: BTreeMap<i64, usize> = BTreeMap::new();
        for s in &seqs {
            *count.entry(*s).or_default() += 1;
        }
        let twice: Vec<_> = count.iter().filter(|(_, c)| **c > 1).map(|(s, _)| *s).collect();
        let missing: Vec<_> = want.iter().filter(|s| !count.contains_key(s)).collect();
        let backwards = seqs.windows(2).filter(|w| w[1] <= w[0]).count();
        panic!(
            "{stream}: not every event once in order: {} received, duplicated {twice:?}, missing {missing:?}, \
             {backwards} steps backwards",
            seqs.len()
        );
    }
    let mut per_user: HashMap<String, Vec<String>> = HashMap::new();
    for c in claims {
        assert_eq!(c["tenant"], "acme", "{c}");
        let uri = c["sub_id"]["uri"].as_str().unwrap();
        let id = uri.strip_prefix("/Users/").unwrap_or_else(|| panic!("{stream}: an event of no user: {c}"));
        per_user.entry(id.to_string()).or_default().push(short(&event_uri(c)).to_string());
    }
    assert_eq!(per_user.len(), expected.len(), "{stream}: events of users no writer made");
    for (id, want) in expected {
        assert_eq!(per_user.get(id).map(Vec::as_slice).unwrap_or_default(), want.as_slice(), "{stream}: user {id}");
    }
}

/// Waits (at most `within`) until the stream's cursor is at `seq`.
async fn wait_for_cursor(url: &str, id: &str, seq: i64, within: Duration) {
    let end = Instant::now() + within;
    loop {
        let shown = json_of(&run_ok(scimd(url).args(["events", "stream", "show", "--tenant", "acme", id])));
        if shown["cursor"].as_i64() == Some(seq) {
            return;
        }
        assert!(Instant::now() < end, "stream {id} never reached {seq}: {shown}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_deliver_each_event_once_per_stream_in_order() {
    let Ok(admin_url) = std::env::var("SCIMD_TEST_POSTGRES") else {
        eprintln!("SCIMD_TEST_POSTGRES is not set: the multi-replica events test needs PostgreSQL");
        return;
    };
    let url = process::fresh_database(&admin_url).await;
    run_ok(scimd(&url).arg("migrate"));
    run_ok(scimd(&url).args(["tenant", "create", "acme"]));
    let token = run_ok(scimd(&url).args(["token", "create", "--tenant", "acme"])).lines().last().unwrap().to_string();
    let add = |args: &[&str]| {
        let mut cmd = scimd(&url);
        cmd.args(["events", "stream", "add", "--tenant", "acme", "--json"]).args(args);
        json_of(&run_ok(&mut cmd))
    };
    let fast = Receiver::start().await;
    let slow = Receiver::start().await;
    slow.set_delay(SLOW);
    let push = add(&["--push", &fast.url]);
    let webhook = add(&["--webhook", &slow.url]);
    let poll = add(&["--poll"]);
    let (push_id, webhook_id) = (push["id"].as_str().unwrap(), webhook["id"].as_str().unwrap());
    let secret = webhook["secret"].as_str().unwrap().to_string();
    let poll_token = poll["token"].as_str().unwrap().to_string();

    let (a, b) = (Replica::start(&url), Replica::start(&url));
    let replicas = [a.base.clone(), b.base.clone()];
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();

    // Writers, each through both replicas: a user created through one is deactivated
    // through the other (a patch, then its deactivation), and every other one deleted.
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (http, token, replicas) = (http.clone(), token.clone(), replicas.clone());
        writers.spawn(async move {
            // A request the server sheds under load (503, 429) changed nothing: sent again.
            let send = |req: reqwest::RequestBuilder| {
                let token = token.clone();
                async move {
                    for _ in 0..20 {
                        let req = req.try_clone().unwrap().bearer_auth(&token);
                        let r = req.header("content-type", "application/scim+json").send().await.expect("a request");
                        let status = r.status().as_u16();
                        if status != 503 && status != 429 {
                            return (status, r.json::<Value>().await.unwrap_or(Value::Null));
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    panic!("the servers shed every attempt");
                }
            };
            let mut users = Vec::new();
            for i in 0..USERS_PER_WRITER {
                let (one, other) = (&replicas[(w + i) % 2], &replicas[(w + i + 1) % 2]);
                let body = json!({"userName": format!("w{w}-u{i}")});
                let (s, u) = send(http.post(format!("{one}/scim/v2/Users")).json(&body)).await;
                assert_eq!(s, 201, "{u}");
                let id = u["id"].as_str().unwrap().to_string();
                let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "active", "value": false}]});
                let (s, u) = send(http.patch(format!("{other}/scim/v2/Users/{id}")).json(&off)).await;
                assert_eq!(s, 200, "{u}");
                let mut events = vec!["create", "patch", "deactivate"];
                if i % 2 == 0 {
                    let (s, u) = send(http.delete(format!("{one}/scim/v2/Users/{id}"))).await;
                    assert_eq!(s, 204, "{u}");
                    events.push("delete");
                }
                users.push((id, events));
            }
            users
        });
    }
    let mut expected: HashMap<String, Vec<&str>> = HashMap::new();
    while let Some(r) = writers.join_next().await {
        expected.extend(r.unwrap());
    }
    let n: i64 = expected.values().map(|e| e.len() as i64).sum();
    let shown = json_of(&run_ok(scimd(&url).args(["events", "stream", "show", "--tenant", "acme", push_id])));
    assert_eq!(shown["lastSeq"].as_i64(), Some(n), "one event per acknowledged change, no more: {shown}");

    // The poll stream, polled through both replicas in turn, acknowledging what it got.
    let mut polled = Vec::new();
    let mut ack: Vec<String> = Vec::new();
    for round in 0..100 {
        let body = json!({"ack": ack, "maxEvents": 50, "returnImmediately": true});
        let r = http
            .post(format!("{}/events/v1/poll", replicas[round % 2]))
            .bearer_auth(&poll_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.unwrap();
        let sets = answer["sets"].as_object().unwrap();
        if sets.is_empty() {
            break;
        }
        ack = sets.keys().cloned().collect();
        let mut claims: Vec<Value> = sets.values().map(|s| set_claims(s.as_str().unwrap())).collect();
        claims.sort_by_key(|c| c["seq"].as_i64());
        polled.extend(claims);
    }
    assert_once_in_order("poll", &polled, n, &expected);

    // The push stream: every SET signed with a published key, every event once, in order.
    let got = fast.wait_for(n as usize, Duration::from_secs(60)).await;
    assert!(got.len() >= n as usize, "the push receiver got {} of {n} events", got.len());
    wait_for_cursor(&url, push_id, n, Duration::from_secs(30)).await;
    // Anything sent again would have come by now: the stream is done.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let jwks: Value =
        http.get(format!("{}/.well-known/jwks.json", replicas[1])).send().await.unwrap().json().await.unwrap();
    // Checked as a receiver checks it: the header's key among the published ones, the
    // Ed25519 signature over the first two parts, the audience.
    let verify = |g: &Got| -> Value {
        let jws = std::str::from_utf8(&g.body).unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("EdDSA"), Some("secevent+jwt")));
        let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header["kid"]).expect("a published key");
        let x: [u8; 32] = b64.decode(key["x"].as_str().unwrap()).unwrap().try_into().unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&b64.decode(parts[2]).unwrap()).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        key.verify_strict(signed.as_bytes(), &signature).expect("the SET verifies");
        let claims = set_claims(jws);
        assert_eq!(claims["aud"], fast.url.as_str(), "{claims}");
        claims
    };
    let pushed: Vec<Value> = fast.got().iter().map(verify).collect();
    assert_once_in_order("push", &pushed, n, &expected);

    // The slow webhook receiver: the same, though a batch outlasts a lease.
    let within = SLOW * n as u32 + Duration::from_secs(60);
    let got = slow.wait_for(n as usize, within).await;
    assert!(got.len() >= n as usize, "the slow webhook receiver got {} of {n} events", got.len());
    wait_for_cursor(&url, webhook_id, n, Duration::from_secs(30)).await;
    tokio::time::sleep(SLOW * 4).await;
    let wh = standardwebhooks::Webhook::new(&secret).unwrap();
    let hooked: Vec<Value> = slow
        .got()
        .iter()
        .map(|g| {
            wh.verify(&g.body, &g.headers).expect("the webhook verifies");
            serde_json::from_slice::<Value>(&g.body).unwrap()["data"].clone()
        })
        .collect();
    assert_once_in_order("webhook", &hooked, n, &expected);
}
