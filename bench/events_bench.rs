//! The events benchmark's driver (run by `bench/events.sh` against a running scimd): a
//! push receiver on a loopback port that timestamps every SET it gets, and three
//! measurements through the public HTTP API:
//!
//! - commit-to-receipt: creates paced at `RATE` per second for `SECS` seconds; for each,
//!   the time from its 201 to the receiver getting its SET (p50, p99, max);
//! - backlog: the stream paused while `BACKLOG` users are created, then resumed; the
//!   events per second until the receiver has them all;
//! - access fan-out: a group of `GROUP` users linked to a bank; the time from the link's
//!   answer until every user's access event arrived.
//!
//! Figures are printed, never asserted. Bounded: every wait has a deadline.
//!
//!   events_bench BASE TENANT_TOKEN OPERATOR_TOKEN TENANT
//!   events_bench receive      (only the receiver: prints its URL, runs until killed)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

#[derive(Default)]
struct Seen {
    /// (when, event URI, subject URI), in arrival order.
    got: Vec<(Instant, String, String)>,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    operator: String,
    tenant: String,
}

impl Api {
    async fn scim(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("{}/scim/v2{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/scim+json")
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rq = self
            .http
            .request(method, format!("{}/admin/v1/tenants/{}{path}", self.base, self.tenant))
            .bearer_auth(&self.operator);
        if let Some(b) = body {
            rq = rq.json(&b);
        }
        let r = rq.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, name: &str) -> Option<String> {
        let (status, body) = self.scim(reqwest::Method::POST, "/Users", json!({"userName": name})).await;
        (status == 201).then(|| body["id"].as_str().unwrap_or_default().to_string())
    }
}

/// The receiver: decodes each SET's claims (no signature check: the API tests verify
/// them; here only arrival times matter) and answers 202.
async fn receiver(seen: Arc<Mutex<Seen>>) -> String {
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let seen = seen.clone();
        async move {
            let now = Instant::now();
            let text = String::from_utf8_lossy(&body);
            let claims: Value = text
                .split('.')
                .nth(1)
                .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok())
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            let uri = claims["events"].as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
            let sub = claims["sub_id"]["uri"].as_str().unwrap_or_default().to_string();
            seen.lock().unwrap().got.push((now, uri, sub));
            StatusCode::ACCEPTED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn wait_for(seen: &Mutex<Seen>, n: usize, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if seen.lock().unwrap().got.len() >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("receive") {
        // Only a receiver (for the create-rate comparison): answers 202 and nothing else, as
        // a product's receiver on another machine costs this one nothing. Prints its URL,
        // runs until killed.
        let app = axum::Router::new().fallback(|| async { StatusCode::ACCEPTED });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("http://{}/events", listener.local_addr().unwrap());
        axum::serve(listener, app).await.unwrap();
        return;
    }
    let [_, base, token, operator, tenant] = &args[..] else {
        eprintln!("usage: events_bench BASE TENANT_TOKEN OPERATOR_TOKEN TENANT | events_bench receive");
        std::process::exit(2);
    };
    let api = Arc::new(Api {
        http: reqwest::Client::builder().pool_max_idle_per_host(128).build().unwrap(),
        base: base.clone(),
        token: token.clone(),
        operator: operator.clone(),
        tenant: tenant.clone(),
    });
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let url = receiver(seen.clone()).await;
    let (status, stream) =
        api.admin(reqwest::Method::POST, "/events/streams", Some(json!({"method": "push", "url": url}))).await;
    assert_eq!(status, 201, "adding the stream: {stream}");
    let stream_id = stream["id"].as_str().unwrap().to_string();
    let run = std::process::id();

    // 1. Commit-to-receipt at a steady rate.
    let (rate, secs) = (env_num("RATE", 1000), env_num("SECS", 10));
    let total = (rate * secs) as usize;
    let start = Instant::now();
    let answered: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(at.into()).await;
        let (api, answered) = (api.clone(), answered.clone());
        tasks.spawn(async move {
            if let Some(id) = api.create(&format!("lat-{run}-{i}")).await {
                answered.lock().unwrap().insert(format!("/Users/{id}"), Instant::now());
            }
        });
        while tasks.len() > 256 {
            tasks.join_next().await;
        }
    }
    while tasks.join_next().await.is_some() {}
    let achieved = total as f64 / start.elapsed().as_secs_f64();
    let all = wait_for(&seen, total, Duration::from_secs(60)).await;
    let mut lat: Vec<Duration> = {
        let answered = answered.lock().unwrap();
        let seen = seen.lock().unwrap();
        seen.got.iter().filter_map(|(t, _, sub)| answered.get(sub).map(|a| t.saturating_duration_since(*a))).collect()
    };
    lat.sort();
    println!(
        "commit-to-receipt at {achieved:.0} creates/s ({total} events{}): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        if all { "" } else { ", NOT ALL RECEIVED" },
        percentile(&lat, 0.50).as_secs_f64() * 1000.0,
        percentile(&lat, 0.99).as_secs_f64() * 1000.0,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );

    // 2. A backlog drained.
    let backlog = env_num("BACKLOG", 100_000) as usize;
    let (s, _) = api.admin(reqwest::Method::POST, &format!("/events/streams/{stream_id}/pause"), None).await;
    assert!(s < 300, "pausing the stream");
    seen.lock().unwrap().got.clear();
    let fill = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (api, next) = (api.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= backlog {
                    break;
                }
                api.create(&format!("backlog-{run}-{i}")).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    println!("backlog: {backlog} creates while the stream was paused, in {:.1} s", fill.elapsed().as_secs_f64());
    let resumed = Instant::now();
    let (s, _) = api.admin(reqwest::Method::POST, &format!("/events/streams/{stream_id}/resume"), None).await;
    assert!(s < 300, "resuming the stream");
    let all = wait_for(&seen, backlog, Duration::from_secs(300)).await;
    let got = seen.lock().unwrap().got.len();
    let took = seen.lock().unwrap().got.last().map(|(t, _, _)| t.duration_since(resumed)).unwrap_or_default();
    println!(
        "backlog drained: {got} events in {:.1} s: {:.0} events/s{}",
        took.as_secs_f64(),
        got as f64 / took.as_secs_f64().max(1e-9),
        if all { "" } else { " (NOT ALL RECEIVED)" }
    );

    // 3. Access for a group of users joining a bank.
    let group_size = env_num("GROUP", 1000) as usize;
    let tree = json!({"locations": [{"key": format!("loc{run}"), "sections": [{"key": format!("sec{run}"),
        "banks": [{"key": format!("bank{run}"), "lockers": [{"key": format!("locker{run}")}]}]}]}]});
    let (s, b) = api.admin(reqwest::Method::PUT, "/places", Some(tree)).await;
    assert!(s < 300, "importing places: {b}");
    let mut ids = Vec::with_capacity(group_size);
    for i in 0..group_size {
        ids.extend(api.create(&format!("member-{run}-{i}")).await);
    }
    let (s, g) = api.scim(reqwest::Method::POST, "/Groups", json!({"displayName": format!("Bank users {run}")})).await;
    assert_eq!(s, 201, "creating the group: {g}");
    let gid = g["id"].as_str().unwrap().to_string();
    for chunk in ids.chunks(100) {
        let members: Vec<Value> = chunk.iter().map(|id| json!({"value": id})).collect();
        let op = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": members}]});
        let (s, _) = api.scim(reqwest::Method::PATCH, &format!("/Groups/{gid}"), op).await;
        assert!(s < 300, "adding members");
    }
    // Everything so far delivered, then only the link's events counted.
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end {
        let (_, view) = api.admin(reqwest::Method::GET, &format!("/events/streams/{stream_id}"), None).await;
        if view["backlog"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen.lock().unwrap().got.clear();
    let linked = {
        let body = json!({"group": format!("Bank users {run}"), "bank": format!("bank{run}")});
        let (s, b) = api.admin(reqwest::Method::POST, "/access", Some(body)).await;
        assert!(s < 300, "linking the group: {b}");
        Instant::now()
    };
    let all = wait_for(&seen, group_size, Duration::from_secs(60)).await;
    let got = seen.lock().unwrap().got.iter().filter(|(_, uri, _)| uri == "urn:scimd:event:access").count();
    let took = seen.lock().unwrap().got.last().map(|(t, _, _)| t.saturating_duration_since(linked)).unwrap_or_default();
    println!(
        "access fan-out: a group of {group_size} linked to a bank: {got} access events within {:.0} ms of the link's answer{}",
        took.as_secs_f64() * 1000.0,
        if all { "" } else { " (NOT ALL RECEIVED)" }
    );
}
