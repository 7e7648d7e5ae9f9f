//! Test harness: starts the real server on an ephemeral loopback port with a fresh
//! SQLite database, and drives it over HTTP.

use std::sync::Arc;

use chrono::Utc;
use reqwest::header::HeaderMap;
use scimd_server::clock::{Clock, ManualClock, SystemClock};
use scimd_server::oauth::{OAuth, OAuthConfig};
use scimd_server::{AppState, HttpConfig, Service, ServiceConfig};
use scimd_store::Store;
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};

pub struct TestServer {
    pub addr: String,
    pub token: String,
    pub client: reqwest::Client,
    pub store: Arc<SqliteStore>,
    pub db_path: String,
    /// The server's clock, when the test controls it.
    pub clock: Option<Arc<ManualClock>>,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts a SCIM error with this status and scimType.
    #[track_caller]
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        assert_eq!(self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{}", self.body);
        assert_eq!(self.body["status"], status.to_string(), "{}", self.body);
        match scim_type {
            Some(t) => assert_eq!(self.body["scimType"], t, "{}", self.body),
            None => assert!(self.body.get("scimType").is_none(), "{}", self.body),
        }
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", self.body);
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }
}

#[derive(Default)]
pub struct Options {
    pub config: ServiceConfig,
    pub http: HttpConfig,
    pub oauth: OAuthConfig,
    /// Run on a manual clock (starting now) instead of the system clock.
    pub manual_clock: bool,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(opts: Options) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = dir.path().join("scimd.db").to_string_lossy().into_owned();
        let store = Arc::new(SqliteStore::open(&db_path, SqliteOptions::default()).expect("open store"));
        let manual = opts.manual_clock.then(|| Arc::new(ManualClock::new(Utc::now())));
        let clock: Arc<dyn Clock> = match &manual {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let oauth = OAuth::new(store.clone(), clock.clone(), opts.oauth).await.expect("oauth");
        let service = Service::new(store.clone(), clock.clone(), opts.config);
        let sink = scimd_server::audit::AuditSink::start(store.clone());
        let admin = scimd_server::admin::Admin::new(store.clone(), clock.clone()).with_sink(sink.clone());
        let state = AppState::new(scimd_server::AppParts {
            service: Arc::new(service),
            oauth: Arc::new(oauth),
            admin: Arc::new(admin),
            http: Arc::new(opts.http),
            audit: sink,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            scimd_server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        let mut s = TestServer {
            addr,
            token: String::new(),
            client: reqwest::Client::new(),
            store,
            db_path,
            clock: manual,
            _dir: dir,
            shutdown: Some(tx),
        };
        s.token = s.tenant_token("acme").await;
        s
    }

    /// Creates a tenant (if needed) and a fresh token for it.
    pub async fn tenant_token(&self, tenant: &str) -> String {
        let t = match self.store.tenant_by_name(tenant).await.unwrap() {
            Some(t) => t,
            None => self.store.create_tenant(tenant, true, Utc::now()).await.unwrap(),
        };
        let token = scimd_server::auth::generate_token();
        self.store.create_token(t.id, scimd_server::auth::hash_token(&token), Utc::now(), None).await.unwrap();
        token
    }

    /// URL of a path outside the SCIM API (`/oauth2/token`, `/.well-known/…`).
    pub fn root(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a form to a path outside the SCIM API, with optional HTTP Basic credentials.
    pub async fn post_form(&self, path: &str, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Resp {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut req =
            self.client.post(self.root(path)).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        self.send(req).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/scim/v2{}", self.addr, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Resp { status, headers, body }
    }

    fn authed(&self, req: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
        req.bearer_auth(token)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.authed(self.client.get(self.url(path)), &self.token)).await
    }
    pub async fn get_as(&self, token: &str, path: &str) -> Resp {
        self.send(self.authed(self.client.get(self.url(path)), token)).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.body(self.client.post(self.url(path)), body)).await
    }
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> Resp {
        self.send(
            self.authed(self.client.post(self.url(path)), token)
                .header("content-type", "application/scim+json")
                .body(body.to_string()),
        )
        .await
    }
    pub async fn patch_as(&self, token: &str, path: &str, body: &Value) -> Resp {
        self.send(
            self.authed(self.client.patch(self.url(path)), token)
                .header("content-type", "application/scim+json")
                .body(body.to_string()),
        )
        .await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.body(self.client.put(self.url(path)), body)).await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(self.body(self.client.patch(self.url(path)), body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.authed(self.client.delete(self.url(path)), &self.token)).await
    }
    fn body(&self, req: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
        self.authed(req, &self.token).header("content-type", "application/scim+json").body(body.to_string())
    }
    /// A request builder with auth, for custom headers.
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.authed(self.client.request(method, self.url(path)), &self.token)
    }

    /// Creates a user and returns its body (asserting 201).
    pub async fn create_user(&self, user_name: &str) -> Value {
        let r = self
            .post(
                "/Users",
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
                        "name": {"givenName": "Given", "familyName": "Family"},
                        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
                        "active": true}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self
            .post(
                "/Groups",
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// PatchOp body from operations.
pub fn patch_op(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The ids in a ListResponse, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .map(|a| a.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}
