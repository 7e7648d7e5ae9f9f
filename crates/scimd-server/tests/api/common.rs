//! Test harness: starts the real server on an ephemeral loopback port with a fresh
//! database, and drives it over HTTP.
//!
//! The database is SQLite (a file in a temporary directory), or, when
//! `SCIMD_TEST_POSTGRES` is set to the URL of a PostgreSQL server whose role may create
//! databases (`postgres://postgres@127.0.0.1:54329/postgres`, see `scripts/pg`), a
//! database `scimd_t_<random hex>` created on it for this server and dropped with it.
//! Tests reach the database only through the [`Store`] trait and the backend-neutral
//! helpers below (`sql_i64`, `sql_text`, `exec`, `raw_contents`).

use std::sync::Arc;

use chrono::Utc;
use reqwest::header::HeaderMap;
use scimd_server::clock::{Clock, ManualClock, SystemClock};
use scimd_server::oauth::{OAuth, OAuthConfig};
use scimd_server::{AppState, HttpConfig, Service, ServiceConfig};
use scimd_store::Store;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};

pub struct TestServer {
    pub addr: String,
    pub token: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    /// The server's clock, when the test controls it.
    pub clock: Option<Arc<ManualClock>>,
    backend: Backend,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The environment variable naming a PostgreSQL server to test against instead of SQLite.
pub const POSTGRES_ENV: &str = "SCIMD_TEST_POSTGRES";

/// Where a test server's database lives.
enum Backend {
    Sqlite {
        /// The main database file; the others are named after it.
        path: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        /// The server's URL as given (its database is where this one is created and dropped).
        admin_url: String,
        /// The URL of this test server's own database.
        url: String,
        name: String,
    },
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
    pub events: scimd_server::events::EventsConfig,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(opts: Options) -> TestServer {
        let (store, backend): (Arc<dyn Store>, Backend) = match std::env::var(POSTGRES_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("scimd_t_{:016x}", rand::random::<u64>());
                let admin = pg_connect(&admin_url).await;
                admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("CREATE DATABASE");
                drop(admin);
                let url = with_database(&admin_url, &name);
                // Built first, so that the database is dropped even if opening the store fails.
                let backend = Backend::Postgres { admin_url, url: url.clone(), name };
                let store = PgStore::connect(&url, PgOptions::default()).await.expect("open store");
                (Arc::new(store), backend)
            }
            _ => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("scimd.db").to_string_lossy().into_owned();
                let store = SqliteStore::open(&path, SqliteOptions::default()).expect("open store");
                (Arc::new(store), Backend::Sqlite { path, _dir: dir })
            }
        };
        let manual = opts.manual_clock.then(|| Arc::new(ManualClock::new(Utc::now())));
        let clock: Arc<dyn Clock> = match &manual {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let oauth = Arc::new(OAuth::new(store.clone(), clock.clone(), opts.oauth).await.expect("oauth"));
        let keyring = opts.config.keyring.clone();
        let portal_keyring = keyring.clone();
        let service = Arc::new(Service::new(store.clone(), clock.clone(), opts.config));
        let events = scimd_server::events::Events::new(
            store.clone(),
            service.clone(),
            oauth.clone(),
            keyring,
            opts.http.public_url.as_deref(),
            opts.events,
        )
        .expect("events");
        let sink = scimd_server::audit::AuditSink::start(store.clone());
        let admin = scimd_server::admin::Admin::new(store.clone(), clock.clone()).with_sink(sink.clone());
        let portal = scimd_server::portal::Portal::new(
            store.clone(),
            clock.clone(),
            portal_keyring,
            scimd_server::portal::PortalSettings { sso_allow_http_loopback: true, ..Default::default() },
        )
        .with_sign_in(oauth.clone());
        let (admin, portal) = (Arc::new(admin), Arc::new(portal));
        // No relay or gateway: what would be sent is handed back.
        let outbox = scimd_server::onboard::Outbox::new(None, None, store.clone(), clock.clone());
        let settings = scimd_server::onboard::OnboardSettings {
            letterhead: Default::default(),
            link_ttl: std::time::Duration::from_secs(72 * 3600),
            origin: String::new(),
            token_path: "/oauth2/token".into(),
        };
        let onboard = scimd_server::onboard::Onboarding::new(
            store.clone(),
            clock.clone(),
            admin.clone(),
            portal.clone(),
            outbox,
            settings,
        );
        let state = AppState::new(scimd_server::AppParts {
            mounts: Default::default(),
            service,
            oauth,
            events: Arc::new(events),
            admin,
            portal,
            onboard: Arc::new(onboard),
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
            clock: manual,
            backend,
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

    /// A new operator token for the admin API.
    pub async fn operator_token(&self) -> String {
        let admin = scimd_server::admin::Admin::new(self.store.clone(), Arc::new(SystemClock));
        admin.create_admin_token(None).await.unwrap().token
    }

    /// Creates a tenant with a preset's profile through the admin API, as an operator does.
    pub async fn preset_tenant(&self, operator: &str, name: &str, preset: &str) {
        let body = serde_json::json!({"name": name, "preset": preset});
        let r = self.send(self.client.post(self.root("/admin/v1/tenants")).bearer_auth(operator).json(&body)).await;
        assert_eq!(r.status, 201, "{}", r.body);
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
    /// A group PATCH as the identity providers send it (no `attributes`): it answers 204 No
    /// Content with the new ETag; then the group as a GET returns it, with that ETag.
    pub async fn patch_group(&self, path: &str, body: &Value) -> Resp {
        let r = self.patch(path, body).await;
        assert_ne!(r.status, 200, "a group PATCH without `attributes` answers no content: {}", r.body);
        if r.status != 204 {
            return r;
        }
        assert!(r.body.is_null(), "a 204 has no body: {}", r.body);
        let etag = r.header("etag").expect("a group PATCH answers its new ETag").to_string();
        let got = self.get(path).await;
        assert_eq!(got.header("etag"), Some(etag.as_str()), "the PATCH's ETag is the group's");
        got
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

    /// The first column of the first row of a query without parameters, as an integer
    /// (`SELECT count(*) FROM …`). The SQL must be valid for both SQLite and PostgreSQL.
    pub async fn sql_i64(&self, sql: &str) -> i64 {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open(path).expect("open database");
                conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Backend::Postgres { url, .. } => {
                // Cast, so that an int4 column reads as well.
                let sql = format!("SELECT q.v::int8 FROM ({sql}) AS q(v)");
                let row = pg_connect(url).await.query_one(&sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                row.get(0)
            }
        }
    }

    /// The first column of the first row of a query with one `?` placeholder bound to
    /// `param`, as text (`SELECT data FROM resources WHERE scim_id = ?`). The SQL must be
    /// valid for both SQLite and PostgreSQL (the `?` becomes `$1` there).
    pub async fn sql_text(&self, sql: &str, param: &str) -> String {
        assert_eq!(sql.matches('?').count(), 1, "exactly one `?` placeholder: {sql}");
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open(path).expect("open database");
                conn.query_row(sql, [param], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Backend::Postgres { url, .. } => {
                let sql = format!("SELECT q.v::text FROM ({}) AS q(v)", sql.replace('?', "$1"));
                let row =
                    pg_connect(url).await.query_one(&sql, &[&param]).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                row.get(0)
            }
        }
    }

    /// Runs statements (DDL, such as fault-injecting triggers) on the database, behind the
    /// server's back: `sqlite_sql` on SQLite, `postgres_sql` on PostgreSQL.
    pub async fn exec(&self, sqlite_sql: &str, postgres_sql: &str) {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open(path).expect("open database");
                conn.execute_batch(sqlite_sql).unwrap_or_else(|e| panic!("{sqlite_sql}: {e}"));
            }
            Backend::Postgres { url, .. } => {
                pg_connect(url)
                    .await
                    .batch_execute(postgres_sql)
                    .await
                    .unwrap_or_else(|e| panic!("{postgres_sql}: {e}"));
            }
        }
    }

    /// Everything the database holds, as bytes, to look for what must never be stored:
    /// on SQLite, every file of the database (main, audit journal, and their WAL and
    /// shared-memory files), concatenated; on PostgreSQL, the text of every row of every
    /// table of the public schema.
    pub async fn raw_contents(&self) -> Vec<u8> {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let mut all = Vec::new();
                for suffix in ["", "-wal", "-shm", "-audit", "-audit-wal", "-audit-shm"] {
                    match std::fs::read(format!("{path}{suffix}")) {
                        Ok(bytes) => all.extend_from_slice(&bytes),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => panic!("{path}{suffix}: {e}"),
                    }
                }
                all
            }
            Backend::Postgres { url, .. } => {
                let client = pg_connect(url).await;
                let tables = client
                    .query(
                        "SELECT table_name::text FROM information_schema.tables \
                         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
                        &[],
                    )
                    .await
                    .expect("list tables");
                assert!(!tables.is_empty(), "no tables in the public schema");
                let mut all = Vec::new();
                for t in tables {
                    let table: String = t.get(0);
                    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
                    let rows = client.query(&format!("SELECT t::text FROM {quoted} t"), &[]).await.expect("read table");
                    for row in rows {
                        let text: String = row.get(0);
                        all.extend_from_slice(text.as_bytes());
                        all.push(b'\n');
                    }
                }
                all
            }
        }
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

impl Drop for Backend {
    /// Drops a PostgreSQL test database (best effort: a failure is only reported). The
    /// store's connections are still open, so `WITH (FORCE)` ends them; it runs on a
    /// runtime of its own, since this may run on the test's runtime, outside any task.
    fn drop(&mut self) {
        let Backend::Postgres { admin_url, name, .. } = self else { return };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await?;
                tokio::spawn(conn);
                client.batch_execute(&statement).await
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database {name} not dropped: {e}"),
            Err(_) => eprintln!("test database {name} not dropped: the dropping thread panicked"),
        }
    }
}

/// A connection to a PostgreSQL database, driven by a task on the current runtime.
async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("postgres connection: {e}");
        }
    });
    client
}

/// `url` (a `postgres://` URL or a `key=value` connection string) naming database `name`.
fn with_database(url: &str, name: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        // Key/value form: a later `dbname` overrides an earlier one.
        return format!("{url} dbname={name}");
    };
    let (base, query) = match url.find('?') {
        Some(q) => url.split_at(q),
        None => (url, ""),
    };
    let authority_end = base[scheme_end + 3..].find('/').map_or(base.len(), |i| scheme_end + 3 + i);
    format!("{}/{name}{query}", &base[..authority_end])
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
