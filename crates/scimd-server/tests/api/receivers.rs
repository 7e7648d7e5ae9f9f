//! The example event receivers (`examples/receivers`, shown in the book) run
//! for real against the live server: the Python ones as processes (webhook verified with
//! the `standardwebhooks` package, push and poll with PyJWT against the JWKS), the Rust
//! one's code in this process. Each must print the events it verified, in order, and refuse
//! what it cannot verify.
//!
//! Needs the virtualenv made by `scripts/setup-venv` (or `SCIMD_PYTHON` pointing at a Python
//! that has its packages). A missing Python is a failure, not a skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use scimd_core::events::StreamFilter;
use scimd_server::delivery::backoff::Backoff;
use scimd_server::events::EventsConfig;
use scimd_store::{Method, NewStream};
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::common::*;

#[path = "../../../../examples/receivers/receiver.rs"]
#[allow(dead_code)] // its `main` and crypto provider serve the example binary only
mod rust_receiver;

const WAIT: Duration = Duration::from_secs(30);
const ISSUER: &str = "https://scim.example.test";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    match std::env::var("SCIMD_PYTHON") {
        Ok(p) => PathBuf::from(p),
        Err(_) => root().join(".venv/bin/python"),
    }
}

/// Lines printed by a receiver, as they come.
struct Lines {
    name: String,
    rx: UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn new(name: &str) -> (UnboundedSender<String>, Lines) {
        let (tx, rx) = unbounded_channel();
        (tx, Lines { name: name.to_string(), rx, seen: vec![] })
    }

    /// The next line containing `needle`.
    async fn wait_for(&mut self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                _ => panic!("{}: no line with {needle:?}; it printed {:#?}", self.name, self.seen),
            }
        }
    }

    /// The next `n` lines about verified events; nothing refused among them.
    async fn verified(&mut self, n: usize) -> Vec<String> {
        let from = self.seen.len();
        let mut out = vec![];
        while out.len() < n {
            let line = self.wait_for("verified").await;
            out.push(line);
        }
        assert!(!self.seen[from..].iter().any(|l| l.starts_with("refused")), "{}: {:#?}", self.name, self.seen);
        out
    }
}

/// A Python receiver from `examples/receivers`, killed when dropped.
struct Python {
    child: Child,
    lines: Lines,
}

impl Python {
    fn start(script: &str, env: &[(&str, &str)]) -> Python {
        let py = python();
        assert!(
            py.exists(),
            "the receivers' Python is not installed: run scripts/setup-venv (looked for {})",
            py.display()
        );
        let mut child = Command::new(py)
            .arg(root().join("examples/receivers").join(script))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the receiver");
        let (tx, lines) = Lines::new(script);
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Python { child, lines }
    }

    /// Its URL, from the line saying where it listens.
    async fn url(&mut self) -> String {
        let line = self.lines.wait_for("listening on ").await;
        line.trim_start_matches("listening on ").to_string()
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adds a stream to the tenant `acme`, as `scimd events stream add` would.
async fn add_stream(srv: &TestServer, method: Method, url: Option<&str>, audience: Option<&str>, secret: Option<&str>) {
    let t = srv.store.tenant_by_name("acme").await.unwrap().unwrap().id;
    let sealed = secret.map(|s| {
        base64::engine::general_purpose::STANDARD.encode(scimd_server::seal::Keyring::none().seal(s.as_bytes()))
    });
    let token_hash = (method == Method::Poll).then(|| scimd_server::events::credential_hash(secret.unwrap()));
    let s = NewStream {
        id: format!("s{:08x}", rand::random::<u32>()),
        method,
        url: url.map(str::to_string),
        audience: audience.map(str::to_string),
        full: false,
        filter: StreamFilter::default(),
        secret: if method == Method::Poll { None } else { sealed },
        token_hash,
    };
    srv.store.add_stream(t, s, chrono::Utc::now()).await.unwrap();
}

/// Serves a router on a loopback port; its URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The Rust receiver's callback, printing as its `main` does, onto `tx`.
fn printer(tx: UnboundedSender<String>) -> rust_receiver::OnEvent {
    Arc::new(move |what: &str, claims: &Value| {
        let _ = tx.send(format!(
            "verified {what} {} seq {}",
            claims["sub_id"]["uri"].as_str().unwrap_or(""),
            claims["seq"]
        ));
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_receivers_verify_and_print_each_delivery_method() {
    let srv = TestServer::start_with(Options {
        oauth: scimd_server::oauth::OAuthConfig { issuer: Some(ISSUER.into()), ..Default::default() },
        events: EventsConfig {
            backoff: Backoff { base: Duration::from_millis(40), cap: Duration::from_millis(200) },
            poll_wait: Duration::from_secs(5),
            ..EventsConfig::default()
        },
        ..Options::default()
    })
    .await;
    let jwks = srv.root("/.well-known/jwks.json");
    let poll_url = srv.root("/events/v1/poll");
    let secret = scimd_server::delivery::webhook::new_secret();
    let push_audience = "https://product.example.test/scim-events";
    let (py_token, rs_token) = (scimd_server::auth::generate_token(), scimd_server::auth::generate_token());

    // Python: a webhook receiver, a push receiver, a poll client.
    let mut py_webhook = Python::start("webhook_receiver.py", &[("WEBHOOK_SECRET", &secret), ("PORT", "0")]);
    let set_env = [("JWKS_URL", jwks.as_str()), ("ISSUER", ISSUER), ("PORT", "0")];
    let mut py_push = Python::start("push_receiver.py", &[&set_env[..], &[("AUDIENCE", push_audience)]].concat());
    let (py_webhook_url, py_push_url) = (py_webhook.url().await, py_push.url().await);
    add_stream(&srv, Method::Webhook, Some(&py_webhook_url), None, Some(&secret)).await;
    add_stream(&srv, Method::Push, Some(&py_push_url), Some(push_audience), None).await;
    add_stream(&srv, Method::Poll, None, Some(&poll_url), Some(&py_token)).await;
    let poll_env =
        [("POLL_URL", poll_url.as_str()), ("POLL_TOKEN", py_token.as_str()), ("AUDIENCE", poll_url.as_str())];
    let mut py_poll = Python::start("poll_client.py", &[&set_env[..], &poll_env[..]].concat());

    // Rust: the same three, from the example's code. The push stream's audience is its URL.
    let (tx, mut rs_webhook) = Lines::new("rust webhook");
    let rs_webhook_url = serve(rust_receiver::webhook_app(&secret, printer(tx))).await;
    add_stream(&srv, Method::Webhook, Some(&rs_webhook_url), None, Some(&secret)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rs_push_url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, mut rs_push) = Lines::new("rust push");
    let push = rust_receiver::Push {
        keys: rust_receiver::Keys::new(&jwks),
        issuer: ISSUER.into(),
        audience: rs_push_url.clone(),
        on_event: printer(tx),
    };
    let app = rust_receiver::push_app(Arc::new(push));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    add_stream(&srv, Method::Push, Some(&rs_push_url), None, None).await;
    let (tx, mut rs_poll) = Lines::new("rust poll");
    let poll = rust_receiver::Push {
        keys: rust_receiver::Keys::new(&jwks),
        issuer: ISSUER.into(),
        audience: poll_url.clone(),
        on_event: printer(tx),
    };
    add_stream(&srv, Method::Poll, None, Some(&poll_url), Some(&rs_token)).await;
    let poller = {
        let (url, token) = (poll_url.clone(), rs_token.clone());
        tokio::spawn(async move { rust_receiver::poll_forever(&url, &token, &poll).await })
    };

    // A forged webhook and a forged SET are refused (401: kept and retried by a real sender).
    let forged =
        scimd_server::delivery::webhook::headers(&scimd_server::delivery::webhook::new_secret(), "x", now(), b"{}")
            .unwrap();
    for url in [&py_webhook_url, &rs_webhook_url] {
        let mut r = srv.client.post(url.as_str()).body("{}");
        for (k, v) in &forged {
            r = r.header(*k, v);
        }
        assert_eq!(r.send().await.unwrap().status(), 401, "{url}");
    }
    let kid = srv.send(srv.client.get(&jwks)).await.body["keys"][0]["kid"].as_str().unwrap().to_string();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.typ = Some("secevent+jwt".into());
    header.kid = Some(kid);
    let claims = json!({"iss": ISSUER, "aud": push_audience, "jti": "x", "iat": now(), "events": {}});
    let seed: [u8; 32] = rand::random();
    let forged_set =
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_ed_der(&seed)).expect("sign");
    for url in [&py_push_url, &rs_push_url] {
        let r =
            srv.client.post(url.as_str()).header("content-type", "application/secevent+jwt").body(forged_set.clone());
        assert_eq!(r.send().await.unwrap().status(), 401, "{url}");
    }
    py_webhook.lines.wait_for("refused").await;
    py_push.lines.wait_for("refused").await;

    // A change: a user created, then deactivated.
    let user = srv.post("/Users", &json!({"userName": "ada", "externalId": "x-ada"})).await.body;
    let sub = format!("/Users/{}", user["id"].as_str().unwrap());
    srv.patch(&sub, &patch_op(json!([{"op": "replace", "path": "active", "value": false}]))).await;

    let webhooks = [
        format!("verified user.create {sub} seq 1"),
        format!("verified user.patch {sub} seq 2"),
        format!("verified user.deactivate {sub} seq 3"),
    ];
    let sets = [
        format!("verified urn:ietf:params:scim:event:prov:create:notice {sub} seq 1"),
        format!("verified urn:ietf:params:scim:event:prov:patch:notice {sub} seq 2"),
        format!("verified urn:ietf:params:scim:event:prov:deactivate {sub} seq 3"),
    ];
    assert_eq!(py_webhook.lines.verified(3).await, webhooks);
    assert_eq!(rs_webhook.verified(3).await, webhooks);
    assert_eq!(py_push.lines.verified(3).await, sets);
    assert_eq!(rs_push.verified(3).await, sets);
    assert_eq!(py_poll.lines.verified(3).await, sets);
    assert_eq!(rs_poll.verified(3).await, sets);
    poller.abort();
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
