//! The PostgreSQL store: the same model and the same filter SQL as the SQLite store
//! (the `sqlfilter` compiler, in its PostgreSQL dialect), for several scimd processes sharing
//! one database. Correctness across processes rests on the database alone: unique
//! indexes decide races to create (409), a resource being changed is locked by its row
//! (`FOR UPDATE`) for the read-modify-write, foreign keys settle a member added while it
//! is deleted, and a refresh token is rotated under its row lock. Migrations run under an
//! advisory lock, so replicas starting together do not race.
//!
//! For operators: [`Store::stats`] reports the connection pool, [`Store::set_observer`]
//! times every use of a pooled connection (the `Conn` guard), and [`Store::ready`]
//! checks the schema version within a few seconds.
//!
//! The SQL is in `roles/`, written once for both databases; this file is the execution
//! shell: the pool, migrations, readiness. Beside it: `by_role` (which connection or
//! transaction each method of the contract runs on, what is published after commit;
//! `by_role_events` for event streams and asynchronous requests),
//! `db` (the `Db` surface), `retry` (running a transaction or a read again where that is
//! safe: every write transaction, and the contract's reads on a pooled connection outside
//! a transaction, go through its loops), `tls`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use scimd_core::list::ListQuery;
use scimd_core::places::{Level, PlaceSpec};
use scimd_core::schema::ResourceKind;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};

mod by_role;
mod by_role_events;
mod by_role_federation;
mod by_role_lifecycle;
mod by_role_onboarding;
mod by_role_places;
mod by_role_portal;
mod by_role_transfer;
mod db;
mod retry;
pub mod tls;
mod user_names;

use crate::places::{
    AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess,
};
use crate::roles;
use crate::roles::audit::{self, Events};
use crate::roles::resources::{self, KeyScope, Lock, Skip};
use crate::roles::{clients, credentials, keys, oauth, tenants};
use crate::sqlfilter::{Dialect, SqlValue, numbered};
use crate::tokens::{AccessTokenRow, ClientUpdate, NewAccessToken, TokenStore};
use crate::{
    ApiUserAuth, ApiUserRow, AuditRecord, AuditSettings, BoxFut, ChangeEvent, ClientAuth, ClientRow, CredentialRow,
    ErrorRow, EventBucket, EventCount, EventDetails, EventQuery, EventRow, GrantStatus, IfMatch, LockoutKey,
    LoginAttempt, NewClient, NewRefresh, NewResource, Page, QueryKind, QueryObserver, RefreshGrant, Rotate, Rotation,
    SigningKeyRow, Store, StoreError, StoreResult, StoreStats, StoredResource, Tenant, TenantId, TokenTenant, Update,
    Writer, check_schema, normalized_time,
};
use crate::{AsyncRequest, AsyncRequestStore, NewAsyncRequest, OpDone};
use crate::{AuditStore, Contacts, CredentialStore, OAuthStore, Stage, TenantStore};
use crate::{EventStore, NewStream, Progress, Purged, StoredEvent, Stream, StreamChange};
use db::Pg;
use retry::{read, transaction};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_tenant_profile.sql")),
    (3, include_str!("../migrations/postgres/0003_places.sql")),
    (4, include_str!("../migrations/postgres/0004_user_names_server_secrets.sql")),
    (5, include_str!("../migrations/postgres/0005_retired_key_seeds.sql")),
    (6, include_str!("../migrations/postgres/0006_client_request_id.sql")),
    (7, include_str!("../migrations/postgres/0007_refresh_expiry_retry_opaque_tokens.sql")),
    (8, include_str!("../migrations/postgres/0008_access_to_any_place.sql")),
    (9, include_str!("../migrations/postgres/0009_event_streams.sql")),
    (10, include_str!("../migrations/postgres/0010_async_requests.sql")),
    (11, include_str!("../migrations/postgres/0011_portal.sql")),
    (12, include_str!("../migrations/postgres/0012_onboarding.sql")),
    (13, include_str!("../migrations/postgres/0013_events_time_by_tenant.sql")),
    (14, include_str!("../migrations/postgres/0014_federation.sql")),
    (15, include_str!("../migrations/postgres/0015_tombstones_deactivations.sql")),
    (16, include_str!("../migrations/postgres/0016_type_codes.sql")),
    (17, include_str!("../migrations/postgres/0017_sources.sql")),
];
/// The migration whose SQL is followed by the recomputation of userName keys
/// (`user_names::refold`), in its transaction.
const REFOLD_USER_NAMES: i64 = 4;
/// The advisory lock held while migrating (any constant; "scimd" in ASCII).
const MIGRATION_LOCK: i64 = 0x73_6369_6d64;
/// A pooled connection unused for longer is checked with an empty query before it is
/// handed out (deadpool's `pre_recycle` hook): a broken one is replaced.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(5);
/// The most that check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// The most [`Store::ready`] takes (the pool's own timeouts are 10 s).
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// Options of [`PgStore::connect`].
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections in the pool (reads and writes alike).
    pub pool_size: usize,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions { pool_size: 16 }
    }
}

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    pool: Pool,
    /// Committed ids of attribute keys (tenant, kind code, path).
    keys: Mutex<HashMap<(i64, i64, String), i64>>,
    analyze: Arc<Analyze>,
    observer: OnceLock<QueryObserver>,
    retries: retry::Retries,
}

/// A pooled connection, timed for the [`QueryObserver`] from the request for it (waiting
/// for the pool included) until it is dropped: one observation per use. It is a
/// [`QueryKind::Write`] when taken with [`PgStore::write_conn`] (single mutating
/// statements) or once [`Conn::transaction`] opened a read-write transaction on it;
/// otherwise a [`QueryKind::Read`] (a read-only transaction from `build_transaction`
/// included). It dereferences to deadpool's connection; functions generic over
/// `GenericClient` take `&*conn`.
pub(crate) struct Conn<'a> {
    client: Client,
    kind: QueryKind,
    /// The observer and the start, when there is an observer.
    timing: Option<(&'a QueryObserver, Instant)>,
}

impl Conn<'_> {
    /// Opens a read-write transaction: the connection's use counts as a write.
    pub(crate) async fn transaction(&mut self) -> Result<Tx<'_>, tokio_postgres::Error> {
        self.kind = QueryKind::Write;
        self.client.transaction().await
    }
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some((observer, started)) = self.timing {
            observer(self.kind, started.elapsed());
        }
    }
}

/// Fresh planner statistics while tables grow fast. Autovacuum analyzes a table only
/// after a 10% change and on its own schedule (a minute apart); during an initial sync of
/// 100,000 users in a minute the planner would keep thinking the tables hold a handful of
/// rows, and walk a tenant's whole resource index for a `userName eq` filter (measured:
/// 17 requests/s instead of thousands). So each process analyzes the resource tables
/// itself after every `max(1,000, 10% of the resources)` creates it made.
#[derive(Default)]
struct Analyze {
    creates: AtomicU64,
    /// Creates after which to analyze (0: 1,000).
    threshold: AtomicU64,
    running: AtomicBool,
}

type Client = deadpool_postgres::Object;
type Tx<'a> = deadpool_postgres::Transaction<'a>;

impl ToSql for SqlValue {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            SqlValue::Integer(i) => i.to_sql(ty, out),
            SqlValue::Real(f) => f.to_sql(ty, out),
            SqlValue::Text(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <f64 as ToSql>::accepts(ty) || <String as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Maps a driver error once: uniqueness violations become conflicts; a transaction the
/// database broke off, or a broken connection, is unavailable (`retry`).
fn pg(e: tokio_postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error()
        && *db.code() == SqlState::UNIQUE_VIOLATION
    {
        let what = match db.constraint().unwrap_or_default() {
            "resources_unique_key" => "userName",
            // Ids given by an operator (generated ones do not collide).
            "resources_scim_id" => return StoreError::Conflict("the id".into()),
            "tenants_name_key" => "tenant name",
            "api_users_username_key" => "username",
            "oauth_clients_client_id_key" => "client id",
            other => return StoreError::Conflict(other.to_string()),
        };
        return StoreError::Conflict(what.into());
    }
    match retry::classify(&e) {
        Some(why) => StoreError::Unavailable(crate::Unavailable { why, detail: message(&e) }),
        None => StoreError::Internal(message(&e)),
    }
}

/// A driver error with the server's message (its `Display` says only "db error").
fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", e, db.message(), db.code().code()),
        // Its cause too: "error performing TLS handshake: invalid peer certificate: …".
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    let why = match &e {
        deadpool_postgres::PoolError::Backend(pe) => message(pe),
        other => other.to_string(),
    };
    StoreError::Internal(format!("no database connection: {why}"))
}

/// A statement's kind: a read if it is a `SELECT`.
fn statement_kind(sql: &str) -> QueryKind {
    let head = sql.trim_start().get(..6).unwrap_or_default();
    if head.eq_ignore_ascii_case("select") { QueryKind::Read } else { QueryKind::Write }
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`, TLS as its
    /// `sslmode` and `sslrootcert` say: see [`tls`]) and migrates the schema under an
    /// advisory lock.
    pub async fn connect(url: &str, opts: PgOptions) -> StoreResult<PgStore> {
        let (url, tls) = tls::split(url)?;
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|e| internal(format!("database URL: {e}")))?;
        config.ssl_mode(tls.mode.ssl_mode());
        let mc = || ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = match tls::connector(&tls)? {
            Some(connector) => Manager::from_config(config, connector, mc()),
            None => Manager::from_config(config, NoTls, mc()),
        };
        let pool = Pool::builder(manager)
            .max_size(opts.pool_size.max(2))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .pre_recycle(deadpool_postgres::Hook::async_fn(|client, metrics| {
                Box::pin(async move {
                    // A connection idle a while may have been ended by the server, a proxy or
                    // the network without the process seeing it (`Fast` recycling checks
                    // only what the process saw): one empty round trip, and a broken one is
                    // replaced instead of failing the work it was handed to.
                    if metrics.last_used() < CHECK_IDLE_AFTER {
                        return Ok(());
                    }
                    match tokio::time::timeout(CHECK_TIMEOUT, client.simple_query("")).await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => Err(deadpool_postgres::HookError::Backend(e)),
                        Err(_) => Err(deadpool_postgres::HookError::message("an idle connection did not answer")),
                    }
                })
            }))
            .build()
            .map_err(internal)?;
        let store = PgStore {
            pool,
            keys: Mutex::new(HashMap::new()),
            analyze: Arc::default(),
            observer: OnceLock::new(),
            retries: retry::Retries::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A pooled connection for reads, or for a transaction ([`Conn`]).
    async fn conn(&self) -> StoreResult<Conn<'_>> {
        self.conn_for(QueryKind::Read).await
    }

    /// A pooled connection for mutating statements outside a transaction.
    async fn write_conn(&self) -> StoreResult<Conn<'_>> {
        self.conn_for(QueryKind::Write).await
    }

    async fn conn_for(&self, kind: QueryKind) -> StoreResult<Conn<'_>> {
        let timing = self.observer.get().map(|o| (o, Instant::now()));
        match self.pool.get().await {
            Ok(client) => Ok(Conn { client, kind, timing }),
            Err(e) => {
                if let Some((o, started)) = timing {
                    o(kind, started.elapsed());
                }
                Err(pool_err(e))
            }
        }
    }

    /// [`Store::ready`], unbounded in time.
    async fn check_ready(&self) -> StoreResult<()> {
        let c = self.conn().await?;
        let rows = c
            .query("SELECT version FROM schema_migrations", &[])
            .await
            .map_err(|e| internal(format!("cannot read the schema version ({}): run `scimd migrate`", message(&e))))?;
        let applied: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        check_schema("database", &applied, MIGRATIONS)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // Held to the end of the transaction: a second replica waits here, then finds
        // every migration applied.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied TEXT NOT NULL)",
        )
        .await
        .map_err(pg)?;
        for (version, sql) in MIGRATIONS {
            let done = tx
                .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[version])
                .await
                .map_err(pg)?
                .is_some();
            if !done {
                tx.batch_execute(sql).await.map_err(|e| internal(format!("migration {version}: {e}")))?;
                if *version == REFOLD_USER_NAMES {
                    user_names::refold(&tx).await?;
                }
                tx.execute("INSERT INTO schema_migrations (version, applied) VALUES ($1, now()::text)", &[version])
                    .await
                    .map_err(pg)?;
            }
        }
        tx.commit().await.map_err(pg)
    }

    /// Counts a committed create; past the threshold, analyzes in the background.
    fn created(&self) {
        let a = &self.analyze;
        let n = a.creates.fetch_add(1, Ordering::Relaxed) + 1;
        let threshold = a.threshold.load(Ordering::Relaxed).max(1000);
        if n < threshold || a.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, a) = (self.pool.clone(), self.analyze.clone());
        tokio::spawn(async move {
            let r: Result<i64, String> = async {
                let c = pool.get().await.map_err(|e| e.to_string())?;
                c.batch_execute("ANALYZE resources, attr_index, members").await.map_err(|e| message(&e))?;
                let row = c
                    .query_one("SELECT coalesce(sum(n), 0)::bigint FROM resource_counts", &[])
                    .await
                    .map_err(|e| message(&e))?;
                Ok(row.get(0))
            }
            .await;
            match r {
                Ok(total) => a.threshold.store((total.max(0) as u64 / 10).max(1000), Ordering::Relaxed),
                Err(e) => tracing::warn!(error = %e, "analyzing the resource tables failed"),
            }
            a.creates.store(0, Ordering::Relaxed);
            a.running.store(false, Ordering::Release);
        });
    }

    fn publish_keys(&self, pending: Vec<((i64, i64, String), i64)>) {
        let mut keys = self.keys.lock().expect("keys");
        for (scope, id) in pending {
            keys.insert(scope, id);
        }
    }
}

/// A write's transaction in the resource role, with the attribute-key ids it learned:
/// published for the store's other writes once the transaction commits.
struct Unit<'a, 'c> {
    store: &'a PgStore,
    tx: &'a Tx<'c>,
    pending: Vec<((i64, i64, String), i64)>,
}

impl<'a, 'c> Unit<'a, 'c> {
    fn new(store: &'a PgStore, tx: &'a Tx<'c>) -> Self {
        Unit { store, tx, pending: Vec::new() }
    }
}

/// After a change that failed, its events were not written (a try that wrote one was rolled
/// back), or are not known to be: the request's own event is recorded instead, as for any
/// failed request, so their published ids are taken back.
fn forget_events<'e>(events: impl Iterator<Item = &'e ChangeEvent>) {
    for e in events {
        e.id.store(0, Ordering::Release);
    }
}

impl resources::Shell for Unit<'_, '_> {
    fn known_key(&mut self, scope: KeyScope, path: &str) -> Option<i64> {
        let scope = (scope.0, scope.1, path.to_string());
        if let Some(id) = self.store.keys.lock().expect("keys").get(&scope) {
            return Some(*id);
        }
        self.pending.iter().find(|(s, _)| *s == scope).map(|(_, id)| *id)
    }

    fn learned_key(&mut self, scope: KeyScope, path: &str, id: i64) {
        self.pending.push(((scope.0, scope.1, path.to_string()), id));
    }

    async fn change_event(&mut self, e: ChangeEvent, created_id: Option<&str>, deactivates: bool) -> StoreResult<()> {
        let (event, published) = e.finish(created_id, deactivates);
        let id = audit::insert_event(&Pg(self.tx), &event, Events::Table).await?;
        published.store(id, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

impl PgStore {
    /// PostgreSQL's plan (`EXPLAIN`) for the page of a list query, and for counting its
    /// matches: for operators checking that a filter is served by indexes, and for tests.
    pub async fn explain_list(&self, tenant: TenantId, kind: ResourceKind, query: &ListQuery) -> StoreResult<String> {
        let c = self.conn().await?;
        let where_sql = resources::where_clause(Dialect::Postgres, tenant, kind, query)?;
        let offset = query.start_index.saturating_sub(1);
        let page = resources::page_sql(Dialect::Postgres, tenant, kind, query, false, &where_sql, None, offset)?;
        let count = resources::count_sql(&where_sql);
        let mut out = Vec::new();
        for (text, params) in [(&page.text, &page.params), (&count, &where_sql.params)] {
            let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            let rows = c.query(format!("EXPLAIN {}", numbered(text)).as_str(), &params).await.map_err(pg)?;
            out.extend(rows.iter().map(|r| r.get::<_, String>(0)));
        }
        Ok(out.join("\n"))
    }

    /// Runs one statement and returns its rows; a read unless `sql` is not a `SELECT`
    /// (`INSERT … RETURNING`).
    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let c = self.conn_for(statement_kind(sql)).await?;
        let st = c.prepare_cached(sql).await.map_err(pg)?;
        c.query(&st, params).await.map_err(pg)
    }
}
