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
//! Longer than the 800 lines a file should have: the PostgreSQL `Store` implementation;
//! newer parts already live in `postgres/`. Splitting it by concern comes with the store
//! written once and the server split by concern (the next restructuring).

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use scimd_core::ScimError;
use scimd_core::list::ListQuery;
use scimd_core::patch::MemberOp;
use scimd_core::places::{Level, PlaceSpec};
use scimd_core::resource::{IndexEntry, MemberValue};
use scimd_core::schema::ResourceKind;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};

mod db;
pub mod tls;
mod user_names;

use crate::places::{
    AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess,
};
use crate::roles;
use crate::roles::audit::{self, Events};
use crate::roles::{clients, credentials, keys, oauth, tenants};
use crate::sqlfilter::{Compiler, Dialect, SqlValue, delete_members_where, groups_of_user_where, numbered};
use crate::tokens::{AccessTokenRow, ClientUpdate, NewAccessToken, TokenStore};
use crate::{
    ApiUserAuth, ApiUserRow, AuditRecord, AuditSettings, BoxFut, Change, ChangeEvent, ClientAuth, ClientRow,
    CredentialRow, ErrorRow, EventCount, EventDetails, EventQuery, EventRow, GrantStatus, IfMatch, LockoutKey,
    LoginAttempt, MemberRow, NewClient, NewRefresh, NewResource, Page, QueryKind, QueryObserver, RefreshGrant, Rotate,
    Rotation, SigningKeyRow, Store, StoreError, StoreResult, StoreStats, StoredResource, Tenant, TenantId, TokenTenant,
    Update, check_if_match, check_schema, kind_code, no_group, normalized_time, related_rows, state_params,
};
use crate::{AuditStore, CredentialStore, OAuthStore, TenantStore};
use db::Pg;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_tenant_profile.sql")),
    (3, include_str!("../migrations/postgres/0003_places.sql")),
    (4, include_str!("../migrations/postgres/0004_user_names_server_secrets.sql")),
    (5, include_str!("../migrations/postgres/0005_retired_key_seeds.sql")),
    (6, include_str!("../migrations/postgres/0006_client_request_id.sql")),
    (7, include_str!("../migrations/postgres/0007_refresh_expiry_retry_opaque_tokens.sql")),
    (8, include_str!("../migrations/postgres/0008_access_to_any_place.sql")),
];
/// The migration whose SQL is followed by the recomputation of userName keys
/// (`user_names::refold`), in its transaction.
const REFOLD_USER_NAMES: i64 = 4;
/// The advisory lock held while migrating (any constant; "scimd" in ASCII).
const MIGRATION_LOCK: i64 = 0x73_6369_6d64;
/// Rows per tenant and kind that resource counts are spread over.
const COUNT_SHARDS: i64 = 16;
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
type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

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

/// Maps a driver error once: uniqueness violations become conflicts.
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
    StoreError::Internal(message(&e))
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
            .build()
            .map_err(internal)?;
        let store =
            PgStore { pool, keys: Mutex::new(HashMap::new()), analyze: Arc::default(), observer: OnceLock::new() };
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

    /// The id of an attribute key, creating it in `tx` if needed; returned in `pending`
    /// until the transaction commits ([`PgStore::publish_keys`]).
    async fn key_id(
        &self,
        tx: &Tx<'_>,
        tenant: TenantId,
        kind: ResourceKind,
        path: &str,
        pending: &mut Vec<((i64, i64, String), i64)>,
    ) -> StoreResult<i64> {
        let scope = (tenant.0, kind_code(kind), path.to_string());
        if let Some(id) = self.keys.lock().expect("keys").get(&scope) {
            return Ok(*id);
        }
        if let Some((_, id)) = pending.iter().find(|(s, _)| *s == scope) {
            return Ok(*id);
        }
        // Created by another transaction meanwhile: ON CONFLICT waits for it, then the
        // SELECT (a new snapshot) sees it.
        let ins = tx
            .prepare_cached(
                "INSERT INTO attr_keys (tenant_id, rtype, path) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, rtype, path) DO NOTHING RETURNING id",
            )
            .await
            .map_err(pg)?;
        let id = match tx.query_opt(&ins, &[&scope.0, &scope.1, &scope.2]).await.map_err(pg)? {
            Some(row) => row.get(0),
            None => {
                let sel = tx
                    .prepare_cached("SELECT id FROM attr_keys WHERE tenant_id = $1 AND rtype = $2 AND path = $3")
                    .await
                    .map_err(pg)?;
                tx.query_one(&sel, &[&scope.0, &scope.1, &scope.2]).await.map_err(pg)?.get(0)
            }
        };
        pending.push((scope, id));
        Ok(id)
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

    async fn write_index(
        &self,
        tx: &Tx<'_>,
        tenant: TenantId,
        kind: ResourceKind,
        rowid: i64,
        entries: &[&IndexEntry],
        pending: &mut Vec<((i64, i64, String), i64)>,
    ) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (mut keys, mut elems, mut ss, mut ns) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for e in entries {
            keys.push(self.key_id(tx, tenant, kind, &e.key, pending).await?);
            elems.push(e.elem);
            ss.push(e.s.clone());
            ns.push(e.n);
        }
        // One statement for all rows.
        let st = tx
            .prepare_cached(
                "INSERT INTO attr_index (res, key, elem, s, n) \
                 SELECT $1, k, e, s, n FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::float8[]) AS x(k, e, s, n) \
                 ON CONFLICT (res, key, elem) DO UPDATE SET s = excluded.s, n = excluded.n",
            )
            .await
            .map_err(pg)?;
        tx.execute(&st, &[&rowid, &keys, &elems, &ss, &ns]).await.map_err(pg)?;
        Ok(())
    }

    /// Writes only the index rows that differ from the stored ones.
    async fn rewrite_index(
        &self,
        tx: &Tx<'_>,
        tenant: TenantId,
        kind: ResourceKind,
        rowid: i64,
        new: &[IndexEntry],
        pending: &mut Vec<((i64, i64, String), i64)>,
    ) -> StoreResult<()> {
        let st = tx.prepare_cached("SELECT key, elem, s, n FROM attr_index WHERE res = $1").await.map_err(pg)?;
        let stored: HashMap<(i64, i64), (Option<String>, Option<f64>)> = tx
            .query(&st, &[&rowid])
            .await
            .map_err(pg)?
            .into_iter()
            .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
            .collect();
        let mut wanted = HashMap::with_capacity(new.len());
        for e in new {
            wanted.insert((self.key_id(tx, tenant, kind, &e.key, pending).await?, e.elem), e);
        }
        let (gone_keys, gone_elems): (Vec<i64>, Vec<i64>) =
            stored.keys().filter(|k| !wanted.contains_key(k)).map(|(k, e)| (*k, *e)).unzip();
        if !gone_keys.is_empty() {
            let del = tx
                .prepare_cached(
                    "DELETE FROM attr_index WHERE res = $1 AND (key, elem) IN \
                     (SELECT * FROM unnest($2::bigint[], $3::bigint[]))",
                )
                .await
                .map_err(pg)?;
            tx.execute(&del, &[&rowid, &gone_keys, &gone_elems]).await.map_err(pg)?;
        }
        let changed: Vec<&IndexEntry> = wanted
            .iter()
            .filter(|(k, e)| stored.get(k).is_none_or(|(s, n)| *s != e.s || *n != e.n))
            .map(|(_, e)| *e)
            .collect();
        self.write_index(tx, tenant, kind, rowid, &changed, pending).await
    }
}

// -------------------------------------------------------------------- row helpers

macro_rules! base_cols {
    () => {
        "r.id, r.scim_id, r.version, r.created, r.last_modified, r.data"
    };
}
// As in the SQLite store: the related resources as one JSON array of `[id, rtype,
// display]`, by internal id.
macro_rules! user_groups_col {
    () => {
        "(SELECT coalesce(json_agg(json_build_array(g.scim_id, g.rtype, g.display) ORDER BY m.group_id), '[]')::text \
          FROM members m JOIN resources g ON g.id = m.group_id WHERE m.member_id = r.id)"
    };
}
macro_rules! group_members_col {
    () => {
        "(SELECT coalesce(json_agg(json_build_array(u.scim_id, u.rtype, u.display) ORDER BY m.member_id), '[]')::text \
          FROM members m JOIN resources u ON u.id = m.member_id WHERE m.group_id = r.id)"
    };
}

fn resource_cols(kind: ResourceKind, related: bool) -> &'static str {
    match (kind, related) {
        (_, false) => base_cols!(),
        (ResourceKind::User, true) => concat!(base_cols!(), ", ", user_groups_col!()),
        (ResourceKind::Group, true) => concat!(base_cols!(), ", ", group_members_col!()),
    }
}

fn row_to_resource(kind: ResourceKind, related: bool, row: &Row) -> StoreResult<(i64, StoredResource)> {
    let related = if related { Some(related_rows(row.get::<_, &str>(6)).map_err(internal)?) } else { None };
    Ok((
        row.get(0),
        StoredResource {
            kind,
            id: row.get(1),
            version: row.get(2),
            created: row.get(3),
            last_modified: row.get(4),
            data: row.get(5),
            related,
        },
    ))
}

/// The row lock a read-modify-write takes on the resource it changes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lock {
    None,
    /// PUT/PATCH: excludes other writers of the row, but not a foreign-key check of a
    /// membership being added elsewhere (which only needs the row to stay), so two groups
    /// added to each other at once do not deadlock.
    Change,
    /// DELETE: excludes those too: a member add racing with the delete waits, then fails.
    Delete,
}

/// One resource by id, locked as asked for the rest of the transaction.
async fn load(
    c: &impl GenericClient,
    tenant: TenantId,
    kind: ResourceKind,
    id: &str,
    related: bool,
    lock: Lock,
) -> StoreResult<Option<(i64, StoredResource)>> {
    macro_rules! by_id {
        ($cols:expr, $tail:expr) => {
            concat!(
                "SELECT ",
                $cols,
                " FROM resources r WHERE r.tenant_id = $1 AND r.rtype = $2 AND r.scim_id = $3",
                $tail
            )
        };
    }
    let sql = match (kind, related, lock) {
        (_, false, Lock::None) => by_id!(base_cols!(), ""),
        (_, false, Lock::Change) => by_id!(base_cols!(), " FOR NO KEY UPDATE"),
        (_, false, Lock::Delete) => by_id!(base_cols!(), " FOR UPDATE"),
        (ResourceKind::User, true, _) => by_id!(concat!(base_cols!(), ", ", user_groups_col!()), ""),
        (ResourceKind::Group, true, _) => by_id!(concat!(base_cols!(), ", ", group_members_col!()), ""),
    };
    let st = c.prepare_cached(sql).await.map_err(pg)?;
    match c.query_opt(&st, &[&tenant.0, &kind_code(kind), &id]).await.map_err(pg)? {
        Some(row) => Ok(Some(row_to_resource(kind, related, &row)?)),
        None => Ok(None),
    }
}

async fn load_related(c: &impl GenericClient, kind: ResourceKind, rowid: i64) -> StoreResult<Vec<MemberRow>> {
    let sql = match kind {
        ResourceKind::User => concat!("SELECT ", user_groups_col!(), " FROM resources r WHERE r.id = $1"),
        ResourceKind::Group => concat!("SELECT ", group_members_col!(), " FROM resources r WHERE r.id = $1"),
    };
    let st = c.prepare_cached(sql).await.map_err(pg)?;
    let row = c.query_one(&st, &[&rowid]).await.map_err(pg)?;
    related_rows(row.get::<_, &str>(0)).map_err(internal)
}

async fn bump_count(tx: &Tx<'_>, tenant: TenantId, kind: ResourceKind, rowid: i64, delta: i64) -> StoreResult<()> {
    let st = tx
        .prepare_cached(
            "INSERT INTO resource_counts (tenant_id, rtype, shard, n) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, rtype, shard) DO UPDATE SET n = resource_counts.n + excluded.n",
        )
        .await
        .map_err(pg)?;
    tx.execute(&st, &[&tenant.0, &kind_code(kind), &rowid.rem_euclid(COUNT_SHARDS), &delta]).await.map_err(pg)?;
    Ok(())
}

fn no_member(m: &MemberValue) -> StoreError {
    StoreError::Scim(ScimError::invalid_value(format!(
        "member '{}' does not exist{}",
        m.value,
        m.kind.map(|k| format!(" as a {}", k.name())).unwrap_or_default()
    )))
}

/// Adds members with two statements whatever their number: one resolves every id (a
/// user first, then a group, as the SQLite store does), one inserts the rows.
async fn add_members(tx: &Tx<'_>, tenant: TenantId, group: i64, members: &[MemberValue]) -> StoreResult<()> {
    if members.is_empty() {
        return Ok(());
    }
    let values: Vec<&str> = members.iter().map(|m| m.value.as_str()).collect();
    let kinds: Vec<i64> = members.iter().map(|m| m.kind.map_or(0, kind_code)).collect();
    let resolve = tx
        .prepare_cached(
            "SELECT coalesce( \
               (SELECT r.id FROM resources r WHERE r.tenant_id = $1 AND r.rtype = 1 AND r.scim_id = v.value AND v.k IN (0, 1)), \
               (SELECT r.id FROM resources r WHERE r.tenant_id = $1 AND r.rtype = 2 AND r.scim_id = v.value AND v.k IN (0, 2))) \
             FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS v(value, k, i) ORDER BY v.i",
        )
        .await
        .map_err(pg)?;
    let rows = tx.query(&resolve, &[&tenant.0, &values, &kinds]).await.map_err(pg)?;
    let mut ids = Vec::with_capacity(rows.len());
    for (m, row) in members.iter().zip(&rows) {
        let Some(rowid) = row.get::<_, Option<i64>>(0) else { return Err(no_member(m)) };
        if rowid == group {
            return Err(StoreError::Scim(ScimError::invalid_value("a group cannot be a member of itself")));
        }
        ids.push(rowid);
    }
    let ins = tx
        .prepare_cached(
            "INSERT INTO members (group_id, member_id, tenant_id) SELECT $1, m, $3 FROM unnest($2::bigint[]) AS m \
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg)?;
    match tx.execute(&ins, &[&group, &ids, &tenant.0]).await {
        Ok(_) => Ok(()),
        // One was deleted by another connection since it was found.
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Err(StoreError::Scim(
            ScimError::invalid_value("a member was deleted while it was being added; nothing was changed"),
        )),
        Err(e) => Err(pg(e)),
    }
}

fn bound(params: &[SqlValue]) -> Params<'_> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

async fn apply_member_ops(tx: &Tx<'_>, tenant: TenantId, group: i64, ops: &[MemberOp]) -> StoreResult<()> {
    for op in ops {
        match op {
            MemberOp::Add(values) => add_members(tx, tenant, group, values).await?,
            MemberOp::RemoveAll => {
                tx.execute("DELETE FROM members WHERE group_id = $1", &[&group]).await.map_err(pg)?;
            }
            MemberOp::Remove(ids) => {
                let del = tx
                    .prepare_cached(
                        "DELETE FROM members WHERE group_id = $1 AND member_id IN (SELECT r.id FROM resources r \
                         WHERE r.tenant_id = $2 AND r.rtype IN (1, 2) AND r.scim_id = ANY($3::text[]))",
                    )
                    .await
                    .map_err(pg)?;
                tx.execute(&del, &[&group, &tenant.0, ids]).await.map_err(pg)?;
            }
            MemberOp::RemoveWhere(filter) => {
                let sql = delete_members_where(Dialect::Postgres, tenant.0, group, filter).map_err(StoreError::Scim)?;
                tx.execute(numbered(&sql.text).as_str(), &bound(&sql.params)).await.map_err(pg)?;
            }
        }
    }
    Ok(())
}

/// Changes a user's memberships (`User.groups` set on the user, when a profile allows it):
/// `ops` name groups. Each group whose membership of the user differs afterwards gets a
/// new version, locked in rowid order (a group's representation includes its members).
async fn apply_group_ops(tx: &Tx<'_>, tenant: TenantId, user: i64, ops: &[MemberOp], now: &str) -> StoreResult<()> {
    let groups_of = tx.prepare_cached("SELECT group_id FROM members WHERE member_id = $1").await.map_err(pg)?;
    let before: BTreeSet<i64> = tx.query(&groups_of, &[&user]).await.map_err(pg)?.iter().map(|r| r.get(0)).collect();
    for op in ops {
        match op {
            MemberOp::Add(values) => {
                let names: Vec<&str> = values.iter().map(|v| v.value.as_str()).collect();
                let resolve = tx
                    .prepare_cached(
                        "SELECT v.value, r.id FROM unnest($2::text[]) WITH ORDINALITY AS v(value, i) \
                         LEFT JOIN resources r ON r.tenant_id = $1 AND r.rtype = 2 AND r.scim_id = v.value ORDER BY v.i",
                    )
                    .await
                    .map_err(pg)?;
                let mut groups = Vec::with_capacity(names.len());
                for row in tx.query(&resolve, &[&tenant.0, &names]).await.map_err(pg)? {
                    match row.get::<_, Option<i64>>(1) {
                        Some(g) => groups.push(g),
                        None => return Err(StoreError::Scim(ScimError::invalid_value(no_group(row.get(0))))),
                    }
                }
                let ins = tx
                    .prepare_cached(
                        "INSERT INTO members (group_id, member_id, tenant_id) SELECT g, $2, $3 \
                         FROM unnest($1::bigint[]) AS g ON CONFLICT DO NOTHING",
                    )
                    .await
                    .map_err(pg)?;
                match tx.execute(&ins, &[&groups, &user, &tenant.0]).await {
                    Ok(_) => {}
                    Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
                        return Err(StoreError::Scim(ScimError::invalid_value(
                            "a group was deleted while the user was being added to it; nothing was changed",
                        )));
                    }
                    Err(e) => return Err(pg(e)),
                }
            }
            MemberOp::RemoveAll => {
                tx.execute("DELETE FROM members WHERE member_id = $1", &[&user]).await.map_err(pg)?;
            }
            MemberOp::Remove(ids) => {
                let st = tx
                    .prepare_cached(
                        "DELETE FROM members WHERE member_id = $1 AND group_id IN (SELECT r.id FROM resources r \
                         WHERE r.tenant_id = $2 AND r.rtype = 2 AND r.scim_id = ANY($3::text[]))",
                    )
                    .await
                    .map_err(pg)?;
                tx.execute(&st, &[&user, &tenant.0, ids]).await.map_err(pg)?;
            }
            MemberOp::RemoveWhere(filter) => {
                let sql = groups_of_user_where(Dialect::Postgres, tenant.0, user, filter).map_err(StoreError::Scim)?;
                let text = format!("DELETE FROM members WHERE member_id = ? AND group_id IN ({})", sql.text);
                let mut params = vec![SqlValue::Integer(user)];
                params.extend(sql.params);
                tx.execute(numbered(&text).as_str(), &bound(&params)).await.map_err(pg)?;
            }
        }
    }
    let after: BTreeSet<i64> = tx.query(&groups_of, &[&user]).await.map_err(pg)?.iter().map(|r| r.get(0)).collect();
    let changed: BTreeSet<i64> = before.symmetric_difference(&after).copied().collect();
    if !changed.is_empty() {
        let bump = tx
            .prepare_cached("UPDATE resources SET version = version + 1, last_modified = $1 WHERE id = $2")
            .await
            .map_err(pg)?;
        for group in changed {
            tx.execute(&bump, &[&now, &group]).await.map_err(pg)?;
        }
    }
    Ok(())
}

/// Writes a change's event in the change's transaction and publishes its id.
async fn write_change_event(
    tx: &Tx<'_>,
    e: ChangeEvent,
    created_id: Option<&str>,
    deactivates: bool,
) -> StoreResult<()> {
    let (event, published) = e.finish(created_id, deactivates);
    let id = audit::insert_event(&Pg(tx), &event, Events::Table).await?;
    published.store(id, std::sync::atomic::Ordering::Release);
    Ok(())
}

/// The `WHERE` of a list: the filter's set (if any), the tenant and kind.
fn where_clause(tenant: TenantId, kind: ResourceKind, query: &ListQuery) -> StoreResult<crate::sqlfilter::Sql> {
    let mut w = Compiler::new(Dialect::Postgres, tenant.0, kind);
    if let Some(f) = &query.filter {
        w.sql.text.push_str("r.id IN (");
        w.set(f).map_err(StoreError::Scim)?;
        w.sql.text.push_str(") AND r.tenant_id = ? AND r.rtype = ?");
    } else {
        w.sql.text.push_str("r.tenant_id = ? AND r.rtype = ?");
    }
    w.sql.params.push(SqlValue::Integer(tenant.0));
    w.sql.params.push(SqlValue::Integer(kind_code(kind)));
    Ok(w.sql)
}

/// A page of a list. Its ids first, then their columns: PostgreSQL computes a scan's
/// output columns (the related-resources subquery included) for the rows an OFFSET skips
/// too, so a deep page would build thousands of member lists to throw away.
fn page_sql(
    tenant: TenantId,
    kind: ResourceKind,
    query: &ListQuery,
    related: bool,
    where_sql: &crate::sqlfilter::Sql,
) -> StoreResult<crate::sqlfilter::Sql> {
    let mut q = Compiler::new(Dialect::Postgres, tenant.0, kind);
    q.sql.text = format!("SELECT r.id FROM resources r WHERE {}", where_sql.text);
    q.sql.params = where_sql.params.clone();
    // Cursor pagination: after a position of the default order, one more row than asked
    // for to know whether another page follows.
    let mut limit = query.count;
    if let Some(after) = query.after {
        q.sql.text.push_str(" AND r.id > ?");
        q.sql.params.push(SqlValue::Integer(after));
        limit = query.count.saturating_add(1);
    }
    q.sql.text.push_str(" ORDER BY ");
    q.order_by(query.sort.as_ref()).map_err(StoreError::Scim)?;
    q.sql.text = format!(
        "SELECT {} FROM unnest(ARRAY({} LIMIT {} OFFSET {})) WITH ORDINALITY AS p(id, pos) \
         JOIN resources r ON r.id = p.id ORDER BY p.pos",
        resource_cols(kind, related),
        q.sql.text,
        limit.min(i64::MAX as u64),
        query.start_index.saturating_sub(1).min(i64::MAX as u64)
    );
    Ok(q.sql)
}

impl PgStore {
    /// PostgreSQL's plan (`EXPLAIN`) for the page of a list query, and for counting its
    /// matches: for operators checking that a filter is served by indexes, and for tests.
    pub async fn explain_list(&self, tenant: TenantId, kind: ResourceKind, query: &ListQuery) -> StoreResult<String> {
        let c = self.conn().await?;
        let where_sql = where_clause(tenant, kind, query)?;
        let page = page_sql(tenant, kind, query, false, &where_sql)?;
        let count = format!("SELECT count(*) FROM resources r WHERE {}", where_sql.text);
        let mut out = Vec::new();
        for (text, params) in [(&page.text, &page.params), (&count, &where_sql.params)] {
            let rows = c.query(format!("EXPLAIN {}", numbered(text)).as_str(), &bound(params)).await.map_err(pg)?;
            out.extend(rows.iter().map(|r| r.get::<_, String>(0)));
        }
        Ok(out.join("\n"))
    }

    async fn list_page(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
        related: bool,
    ) -> StoreResult<Page> {
        let c = self.conn().await?;
        let where_sql = where_clause(tenant, kind, query)?;

        let count_all = async || -> StoreResult<u64> {
            let n: i64 = if query.filter.is_some() {
                let sql = numbered(&format!("SELECT count(*) FROM resources r WHERE {}", where_sql.text));
                c.query_one(sql.as_str(), &bound(&where_sql.params)).await.map_err(pg)?.get(0)
            } else {
                let st = c
                    .prepare_cached(
                        "SELECT coalesce(sum(n), 0)::bigint FROM resource_counts WHERE tenant_id = $1 AND rtype = $2",
                    )
                    .await
                    .map_err(pg)?;
                c.query_one(&st, &[&tenant.0, &kind_code(kind)]).await.map_err(pg)?.get(0)
            };
            Ok(n.max(0) as u64)
        };

        let mut items = Vec::new();
        if query.count == 0 {
            return Ok(Page { total: count_all().await?, items, next: None });
        }
        let q = page_sql(tenant, kind, query, related, &where_sql)?;
        let sql = numbered(&q.text);
        let mut rowids = Vec::new();
        for row in c.query(sql.as_str(), &bound(&q.params)).await.map_err(pg)? {
            let (rowid, r) = row_to_resource(kind, related, &row)?;
            rowids.push(rowid);
            items.push(r);
        }
        let next = crate::page_end(query, &mut items, &rowids);
        // A first page that is not full holds every match.
        let first = query.start_index <= 1 && query.after.is_none_or(|a| a == 0);
        let total = if first && (items.len() as u64) < query.count && query.filter.is_some() {
            items.len() as u64
        } else {
            count_all().await?
        };
        Ok(Page { total, items, next })
    }

    async fn create_resource(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        new: NewResource,
        now: String,
    ) -> StoreResult<StoredResource> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut pending = Vec::new();
        let id = uuid::Uuid::new_v4().to_string();
        let stored = self.insert_resource(&tx, tenant, kind, id, new, &now, &mut pending).await?;
        tx.commit().await.map_err(pg)?;
        self.publish_keys(pending);
        self.created();
        Ok(stored)
    }

    /// [`Store::create_with_ids`]: one transaction. Each id is locked (an advisory lock
    /// on the tenant and the id) before it is looked for among both kinds, so two writers
    /// giving the same id to a user and a group cannot both succeed.
    async fn create_resources_with_ids(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        items: Vec<(String, NewResource)>,
        now: String,
    ) -> StoreResult<Vec<StoredResource>> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut pending = Vec::new();
        let lock = tx.prepare_cached("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))").await.map_err(pg)?;
        let taken = tx
            .prepare_cached("SELECT 1 FROM resources WHERE tenant_id = $1 AND scim_id = $2 LIMIT 1")
            .await
            .map_err(pg)?;
        let mut out = Vec::with_capacity(items.len());
        for (id, new) in items {
            tx.execute(&lock, &[&id, &tenant.0]).await.map_err(pg)?;
            if tx.query_opt(&taken, &[&tenant.0, &id]).await.map_err(pg)?.is_some() {
                return Err(StoreError::Conflict(crate::id_taken(&id)));
            }
            let stored = self
                .insert_resource(&tx, tenant, kind, id.clone(), new, &now, &mut pending)
                .await
                .map_err(|e| crate::naming(e, &id))?;
            out.push(stored);
        }
        tx.commit().await.map_err(pg)?;
        self.publish_keys(pending);
        for _ in 0..out.len() {
            self.created();
        }
        Ok(out)
    }

    /// Inserts a resource with its id, index rows, members and change event in `tx`.
    #[allow(clippy::too_many_arguments)]
    async fn insert_resource(
        &self,
        tx: &Tx<'_>,
        tenant: TenantId,
        kind: ResourceKind,
        id: String,
        new: NewResource,
        now: &str,
        pending: &mut Vec<((i64, i64, String), i64)>,
    ) -> StoreResult<StoredResource> {
        let (data, display_fold) = state_params(&new.state)?;
        let st = tx
            .prepare_cached(
                "INSERT INTO resources (tenant_id, rtype, scim_id, unique_key, display, display_fold, version, created, \
                 last_modified, password_hash, data, derived_gen) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8, $9, $10) \
                 RETURNING id",
            )
            .await
            .map_err(pg)?;
        let rowid: i64 = tx
            .query_one(
                &st,
                &[
                    &tenant.0,
                    &kind_code(kind),
                    &id,
                    &new.state.unique_key,
                    &new.state.display,
                    &display_fold,
                    &now,
                    &new.password_hash,
                    &data,
                    &new.derived_gen,
                ],
            )
            .await
            .map_err(pg)?
            .get(0);
        self.write_index(tx, tenant, kind, rowid, &new.state.index.iter().collect::<Vec<_>>(), pending).await?;
        if !new.members.is_empty() {
            match kind {
                ResourceKind::Group => add_members(tx, tenant, rowid, &new.members).await?,
                ResourceKind::User => {
                    apply_group_ops(tx, tenant, rowid, &[MemberOp::Add(new.members.clone())], now).await?
                }
            }
        }
        bump_count(tx, tenant, kind, rowid, 1).await?;
        if let Some(e) = new.event {
            write_change_event(tx, e, Some(&id), false).await?;
        }
        let related = if kind == ResourceKind::Group || !new.members.is_empty() {
            Some(load_related(tx, kind, rowid).await?)
        } else {
            None
        };
        Ok(StoredResource {
            kind,
            id,
            version: 1,
            created: now.to_string(),
            last_modified: now.to_string(),
            data,
            related: related.or(Some(Vec::new())),
        })
    }

    async fn update_resource(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: String,
        update: Update,
        now: String,
    ) -> StoreResult<StoredResource> {
        let Update { if_match, mutate, related, event } = update;
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        let mut pending = Vec::new();
        // The row lock serializes read-modify-writes of one resource across replicas.
        let Some((rowid, current)) = load(&tx, tenant, kind, &id, false, Lock::Change).await? else {
            return Err(StoreError::NotFound);
        };
        check_if_match(&if_match, current.version)?;
        let current_doc: serde_json::Value = serde_json::from_str(&current.data).map_err(internal)?;
        let Change { state, password_hash, member_ops, deactivates, derived_gen } =
            mutate(&current_doc).map_err(StoreError::Scim)?;
        let (data, display_fold) = state_params(&state)?;
        let version = current.version + 1;
        let st = tx
            .prepare_cached(
                "UPDATE resources SET unique_key = COALESCE($1, unique_key), display = $2, display_fold = $3, version = $4, \
                 last_modified = $5, password_hash = COALESCE($6, password_hash), data = $7, derived_gen = $9 \
                 WHERE id = $8",
            )
            .await
            .map_err(pg)?;
        tx.execute(
            &st,
            &[
                &state.unique_key,
                &state.display,
                &display_fold,
                &version,
                &now,
                &password_hash,
                &data,
                &rowid,
                &derived_gen,
            ],
        )
        .await
        .map_err(pg)?;
        if data != current.data {
            self.rewrite_index(&tx, tenant, kind, rowid, &state.index, &mut pending).await?;
        }
        match kind {
            _ if member_ops.is_empty() => {}
            ResourceKind::Group => apply_member_ops(&tx, tenant, rowid, &member_ops).await?,
            ResourceKind::User => apply_group_ops(&tx, tenant, rowid, &member_ops, &now).await?,
        }
        if let Some(e) = event {
            write_change_event(&tx, e, None, deactivates).await?;
        }
        let related = if related { Some(load_related(&tx, kind, rowid).await?) } else { None };
        tx.commit().await.map_err(pg)?;
        self.publish_keys(pending);
        Ok(StoredResource {
            kind,
            id: current.id,
            version,
            created: current.created,
            last_modified: now,
            data,
            related,
        })
    }

    async fn delete_resource(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: String,
        if_match: Option<IfMatch>,
        event: Option<ChangeEvent>,
        now: String,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(pg)?;
        // Locked first: a member add racing on another replica waits, then fails.
        let Some((rowid, current)) = load(&tx, tenant, kind, &id, false, Lock::Delete).await? else {
            return Err(StoreError::NotFound);
        };
        check_if_match(&if_match, current.version)?;
        tx.execute(
            "UPDATE resources SET version = version + 1, last_modified = $1 \
             WHERE id IN (SELECT group_id FROM members WHERE member_id = $2)",
            &[&now, &rowid],
        )
        .await
        .map_err(pg)?;
        tx.execute("DELETE FROM members WHERE group_id = $1 OR member_id = $1", &[&rowid]).await.map_err(pg)?;
        tx.execute("DELETE FROM attr_index WHERE res = $1", &[&rowid]).await.map_err(pg)?;
        tx.execute("DELETE FROM resources WHERE id = $1", &[&rowid]).await.map_err(pg)?;
        bump_count(&tx, tenant, kind, rowid, -1).await?;
        if let Some(e) = event {
            write_change_event(&tx, e, None, false).await?;
        }
        tx.commit().await.map_err(pg)
    }

    /// Runs one statement and returns its rows; a read unless `sql` is not a `SELECT`
    /// (`INSERT … RETURNING`).
    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let c = self.conn_for(statement_kind(sql)).await?;
        let st = c.prepare_cached(sql).await.map_err(pg)?;
        c.query(&st, params).await.map_err(pg)
    }
}

impl TenantStore for PgStore {
    fn create_tenant(&self, name: &str, scim_enabled: bool, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Tenant>> {
        let name = name.to_string();
        Box::pin(async move { tenants::create(&Pg(&*self.write_conn().await?), name, scim_enabled, now).await })
    }

    fn tenant_by_name(&self, name: &str) -> BoxFut<'_, StoreResult<Option<Tenant>>> {
        let name = name.to_string();
        Box::pin(async move { tenants::by_name(&Pg(&*self.conn().await?), &name).await })
    }

    fn list_tenants(&self) -> BoxFut<'_, StoreResult<Vec<Tenant>>> {
        Box::pin(async move { tenants::all(&Pg(&*self.conn().await?)).await })
    }

    fn set_scim_enabled(&self, tenant: TenantId, enabled: bool) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { tenants::set_scim_enabled(&Pg(&*self.write_conn().await?), tenant, enabled).await })
    }

    fn tenant_profile(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<String>>> {
        Box::pin(async move { tenants::profile(&Pg(&*self.conn().await?), tenant).await })
    }

    fn tenant_profiles(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, String)>>> {
        Box::pin(async move { tenants::profiles(&Pg(&*self.conn().await?)).await })
    }

    fn set_tenant_profile(&self, tenant: TenantId, profile: Option<String>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { tenants::set_profile(&Pg(&*self.write_conn().await?), tenant, profile).await })
    }

    fn set_audit_settings(&self, tenant: TenantId, a: AuditSettings) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { tenants::set_audit_settings(&Pg(&*self.write_conn().await?), tenant, a).await })
    }
}

impl CredentialStore for PgStore {
    fn server_secret(&self, name: &str, fresh: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<u8>>> {
        let name = name.to_string();
        Box::pin(async move { keys::server_secret(&Pg(&*self.write_conn().await?), &name, &fresh, now).await })
    }

    fn server_secret_values(&self) -> BoxFut<'_, StoreResult<Vec<crate::NamedSecret>>> {
        Box::pin(async move { keys::server_secret_values(&Pg(&*self.conn().await?)).await })
    }

    fn replace_server_secret(&self, name: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>> {
        let name = name.to_string();
        Box::pin(async move { keys::replace_server_secret(&Pg(&*self.write_conn().await?), &name, &old, &new).await })
    }

    fn create_token(
        &self,
        tenant: TenantId,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        Box::pin(async move {
            credentials::create_token(&Pg(&*self.write_conn().await?), tenant, &hash, now, expires).await
        })
    }

    fn list_tokens(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<CredentialRow>>> {
        Box::pin(async move { credentials::list_tokens(&Pg(&*self.conn().await?), tenant).await })
    }

    fn revoke_token(&self, tenant: TenantId, id: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { credentials::revoke_token(&Pg(&*self.write_conn().await?), tenant, id, now).await })
    }

    fn token_tenant(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<TokenTenant>>> {
        Box::pin(async move { credentials::token_tenant(&Pg(&*self.conn().await?), &hash, now).await })
    }

    fn create_client(&self, client: NewClient, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            clients::create_client(&Pg(&tx), client, now).await?;
            tx.commit().await.map_err(pg)
        })
    }

    fn list_clients(&self) -> BoxFut<'_, StoreResult<Vec<ClientRow>>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.build_transaction().read_only(true).start().await.map_err(pg)?;
            let clients = clients::list_clients(&Pg(&tx)).await?;
            tx.commit().await.map_err(pg)?;
            Ok(clients)
        })
    }

    fn add_client_secret(
        &self,
        client_id: &str,
        hash: String,
        expires: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let client_id = client_id.to_string();
        Box::pin(async move {
            clients::add_client_secret(&Pg(&*self.write_conn().await?), &client_id, &hash, expires, now).await
        })
    }

    fn revoke_client_secret(&self, client_id: &str, secret: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(async move {
            clients::revoke_client_secret(&Pg(&*self.write_conn().await?), &client_id, secret, now).await
        })
    }

    fn create_api_user(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(async move {
            credentials::create_api_user(&Pg(&*self.write_conn().await?), tenant, &username, &password_hash, now).await
        })
    }

    fn signing_keys(&self) -> BoxFut<'_, StoreResult<Vec<SigningKeyRow>>> {
        Box::pin(async move { keys::signing_keys(&Pg(&*self.conn().await?)).await })
    }

    fn add_signing_key(&self, kid: &str, seed: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let kid = kid.to_string();
        Box::pin(async move { keys::add_signing_key(&Pg(&*self.write_conn().await?), &kid, &seed, now).await })
    }

    fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let kid = kid.to_string();
        Box::pin(async move { keys::retire_signing_key(&Pg(&*self.write_conn().await?), &kid, now).await })
    }

    fn replace_signing_key_seed(&self, kid: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>> {
        let kid = kid.to_string();
        Box::pin(async move { keys::replace_signing_key_seed(&Pg(&*self.write_conn().await?), &kid, &old, &new).await })
    }

    fn client_auth(&self, client_id: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<ClientAuth>>> {
        let client_id = client_id.to_string();
        Box::pin(async move { clients::client_auth(&Pg(&*self.conn().await?), &client_id, now).await })
    }

    fn api_user_auth(&self, username: &str) -> BoxFut<'_, StoreResult<Option<ApiUserAuth>>> {
        let username = username.to_string();
        Box::pin(async move { credentials::api_user_auth(&Pg(&*self.conn().await?), &username).await })
    }

    fn list_api_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<ApiUserRow>>> {
        Box::pin(async move { credentials::list_api_users(&Pg(&*self.conn().await?), tenant).await })
    }

    fn set_api_user_disabled(
        &self,
        tenant: TenantId,
        username: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(async move {
            let mut c = self.write_conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            credentials::set_api_user_disabled(&Pg(&tx), tenant, &username, disabled, now).await?;
            tx.commit().await.map_err(pg)
        })
    }

    fn set_api_user_password(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(async move {
            let mut c = self.write_conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            credentials::set_api_user_password(&Pg(&tx), tenant, &username, &password_hash, now).await?;
            tx.commit().await.map_err(pg)
        })
    }

    fn create_admin_token(
        &self,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        Box::pin(
            async move { credentials::create_admin_token(&Pg(&*self.write_conn().await?), &hash, now, expires).await },
        )
    }

    fn admin_token_valid(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move { credentials::admin_token_valid(&Pg(&*self.conn().await?), &hash, now).await })
    }
}

impl OAuthStore for PgStore {
    fn store_refresh(&self, new: NewRefresh, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { oauth::store_refresh(&Pg(&*self.write_conn().await?), new, now).await })
    }

    fn rotate_refresh(&self, r: Rotate) -> BoxFut<'_, StoreResult<Rotation>> {
        Box::pin(async move {
            // The token's row is locked to the end of the transaction: a rotation racing on
            // another replica waits, then sees it used.
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let rotation = oauth::rotate_refresh(&Pg(&tx), r).await?;
            // Only a rotation and a replay write; any other outcome ends the transaction
            // as it found it (rolled back when dropped).
            if matches!(rotation, Rotation::Rotated(_) | Rotation::Replayed) {
                tx.commit().await.map_err(pg)?;
            }
            Ok(rotation)
        })
    }

    fn refresh_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<RefreshGrant>>> {
        Box::pin(async move { oauth::refresh_token(&Pg(&*self.conn().await?), &hash).await })
    }

    fn revoke_grant(&self, id: &str, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let id = id.to_string();
        Box::pin(async move { oauth::revoke_grant(&Pg(&*self.write_conn().await?), &id, expires).await })
    }

    fn grant_status(
        &self,
        tenant: TenantId,
        jti: &str,
        family: Option<&str>,
    ) -> BoxFut<'_, StoreResult<Option<GrantStatus>>> {
        let (jti, family) = (jti.to_string(), family.map(str::to_string));
        Box::pin(async move { oauth::grant_status(&Pg(&*self.conn().await?), tenant, &jti, family.as_deref()).await })
    }

    fn login_attempt(
        &self,
        keys: Vec<LockoutKey>,
        lock_secs: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<LoginAttempt>> {
        Box::pin(async move {
            let mut c = self.write_conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let attempt = oauth::login_attempt(&Pg(&tx), &keys, lock_secs, now).await?;
            match attempt {
                // Nothing is counted when a key is locked.
                LoginAttempt::Locked { .. } => tx.rollback().await.map_err(pg)?,
                LoginAttempt::Allowed => tx.commit().await.map_err(pg)?,
            }
            Ok(attempt)
        })
    }

    fn login_succeeded(&self, keys: Vec<String>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { oauth::login_succeeded(&Pg(&*self.write_conn().await?), &keys).await })
    }

    fn purge_oauth(
        &self,
        now: DateTime<Utc>,
        refresh_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(async move {
            oauth::purge_oauth(&Pg(&*self.write_conn().await?), now, refresh_before, failures_before).await
        })
    }
}

impl AuditStore for PgStore {
    fn record_audit(&self, batch: Vec<AuditRecord>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            audit::record(&Pg(&tx), &batch, || Ok(Events::Table)).await?;
            tx.commit().await.map_err(pg)
        })
    }

    fn events(&self, tenant: TenantId, q: &EventQuery) -> BoxFut<'_, StoreResult<Vec<EventRow>>> {
        let q = q.clone();
        Box::pin(async move { audit::events(&Pg(&*self.conn().await?), tenant, &q).await })
    }

    fn event_details(&self, tenant: TenantId, event: i64) -> BoxFut<'_, StoreResult<Option<EventDetails>>> {
        Box::pin(async move { audit::details(&Pg(&*self.conn().await?), tenant, event).await })
    }

    fn event_counts(&self, tenant: TenantId, from: i64, to: i64) -> BoxFut<'_, StoreResult<Vec<EventCount>>> {
        Box::pin(async move { audit::counts(&Pg(&*self.conn().await?), tenant, from, to).await })
    }

    fn errors(
        &self,
        tenant: Option<TenantId>,
        from: &str,
        to: &str,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<ErrorRow>>> {
        let (from, to) = (from.to_string(), to.to_string());
        Box::pin(async move { audit::errors(&Pg(&*self.conn().await?), tenant, &from, &to, limit).await })
    }

    fn purge_audit(&self, now: DateTime<Utc>, default_days: i64, batch: u32) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(async move {
            let cutoffs = audit::cutoffs(&Pg(&*self.conn().await?), now, default_days).await?;
            audit::purge(&Pg(&*self.write_conn().await?), &cutoffs, batch).await
        })
    }
}

impl Store for PgStore {
    fn user_name_issues(&self) -> BoxFut<'_, StoreResult<Vec<crate::UserNameIssue>>> {
        Box::pin(self.user_name_issues_now())
    }

    fn create(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        new: NewResource,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<StoredResource>> {
        Box::pin(self.create_resource(tenant, kind, new, normalized_time(now)))
    }

    fn create_with_ids(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        items: Vec<(String, NewResource)>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Vec<StoredResource>>> {
        Box::pin(self.create_resources_with_ids(tenant, kind, items, normalized_time(now)))
    }

    fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Option<StoredResource>>> {
        let id = id.to_string();
        Box::pin(async move {
            let c = self.conn().await?;
            Ok(load(&*c, tenant, kind, &id, related, Lock::None).await?.map(|(_, r)| r))
        })
    }

    fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Page>> {
        let query = query.clone();
        Box::pin(async move { self.list_page(tenant, kind, &query, related).await })
    }

    fn update(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        update: Update,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<StoredResource>> {
        Box::pin(self.update_resource(tenant, kind, id.to_string(), update, normalized_time(now)))
    }

    fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<IfMatch>,
        event: Option<ChangeEvent>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.delete_resource(tenant, kind, id.to_string(), if_match, event, normalized_time(now)))
    }

    /// Not ready when no connection answers, when `schema_migrations` cannot be read or
    /// does not hold exactly the versions this binary knows, or when all that takes more
    /// than 3 s (the pool's own timeouts are 10 s).
    fn ready(&self) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            match tokio::time::timeout(READY_TIMEOUT, self.check_ready()).await {
                Ok(r) => r,
                Err(_) => Err(internal(format!(
                    "the database did not answer within {} s (pool: {:?})",
                    READY_TIMEOUT.as_secs(),
                    self.pool.status()
                ))),
            }
        })
    }

    /// From deadpool's pool status: `pool_size` connections open, `pool_idle` of them
    /// available, `pool_in_use` the rest, `pool_waiting` requests waiting for one.
    /// `write_queue` is always 0: writes run on pooled connections like reads, there is
    /// no queue of their own.
    fn stats(&self) -> StoreStats {
        let s = self.pool.status();
        StoreStats {
            pool_size: s.size as u64,
            pool_in_use: s.size.saturating_sub(s.available) as u64,
            pool_idle: s.available as u64,
            pool_waiting: s.waiting as u64,
            write_queue: 0,
        }
    }

    /// Observes every use of a pooled connection, one observation per use: from the
    /// request for it (waiting for the pool included) until it is given back. A use is a
    /// [`QueryKind::Write`] when it opened a read-write transaction or ran a statement
    /// other than a `SELECT` outside one, otherwise a [`QueryKind::Read`]. A call that
    /// uses one connection counts once (a read-modify-write in one transaction is one
    /// write); the background `ANALYZE` is not observed.
    fn set_observer(&self, observer: QueryObserver) {
        let _ = self.observer.set(observer);
    }

    fn close(&self) {
        self.pool.close();
    }
}

// -------------------------------------------------------------------- PlacesStore

impl PlacesStore for PgStore {
    fn import_places(
        &self,
        tenant: TenantId,
        places: Vec<PlaceSpec>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<ImportReport>> {
        let now = normalized_time(now);
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let report = roles::places::import(&Pg(&tx), tenant, &places, &now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(report)
        })
    }

    fn list_places(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<PlaceRow>>> {
        Box::pin(async move { roles::places::list(&Pg(&*self.conn().await?), tenant).await })
    }

    fn create_place(
        &self,
        tenant: TenantId,
        place: PlaceSpec,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<PlaceRow>> {
        let now = normalized_time(now);
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let row = roles::places::create(&Pg(&tx), tenant, place, now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(row)
        })
    }

    fn rename_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let (key, name, now) = (key.to_string(), name.to_string(), normalized_time(now));
        Box::pin(async move {
            roles::places::rename(&Pg(&*self.write_conn().await?), tenant, level, &key, &name, &now).await
        })
    }

    fn delete_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        cascade: bool,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        let key = key.to_string();
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let n = roles::places::delete(&Pg(&tx), tenant, level, &key, cascade).await?;
            tx.commit().await.map_err(pg)?;
            Ok(n)
        })
    }

    fn set_location_rules(
        &self,
        tenant: TenantId,
        location: &str,
        rules: Option<String>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let (location, now) = (location.to_string(), normalized_time(now));
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let generation = roles::places::set_rules(&Pg(&tx), tenant, &location, rules, &now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(generation)
        })
    }

    fn places_state(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<PlacesState>> {
        Box::pin(async move { roles::places::state(&Pg(&*self.conn().await?), tenant).await })
    }

    fn grant_access(
        &self,
        tenant: TenantId,
        group: &str,
        level: Level,
        place: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (group, place, now) = (group.to_string(), place.to_string(), normalized_time(now));
        Box::pin(async move {
            roles::places::grant(&Pg(&*self.write_conn().await?), tenant, &group, level, &place, &now).await
        })
    }

    fn revoke_access(&self, tenant: TenantId, group: &str, level: Level, place: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (group, place) = (group.to_string(), place.to_string());
        Box::pin(
            async move { roles::places::revoke(&Pg(&*self.write_conn().await?), tenant, &group, level, &place).await },
        )
    }

    fn access_links(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<AccessLink>>> {
        Box::pin(async move { roles::places::links(&Pg(&*self.conn().await?), tenant).await })
    }

    fn user_access(&self, tenant: TenantId, user_key: &str) -> BoxFut<'_, StoreResult<Option<UserAccess>>> {
        let user_key = user_key.to_string();
        Box::pin(async move { roles::places::user_access(&Pg(&*self.conn().await?), tenant, &user_key).await })
    }

    fn place_users(
        &self,
        tenant: TenantId,
        level: Level,
        place: &str,
        offset: u64,
        limit: u64,
    ) -> BoxFut<'_, StoreResult<Option<BankUsers>>> {
        let place = place.to_string();
        Box::pin(async move {
            roles::places::place_users(&Pg(&*self.conn().await?), tenant, level, &place, offset, limit).await
        })
    }

    fn places_pending(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, i64)>>> {
        Box::pin(async move { roles::places::pending(&Pg(&*self.conn().await?)).await })
    }

    fn stale_users(
        &self,
        tenant: TenantId,
        generation: i64,
        after: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<(Vec<StoredResource>, Option<i64>)>> {
        Box::pin(async move {
            roles::places::stale_users(&Pg(&*self.conn().await?), tenant, generation, after, limit).await
        })
    }

    fn set_derived(
        &self,
        tenant: TenantId,
        updates: Vec<DerivedUpdate>,
        generation: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        let now = normalized_time(now);
        Box::pin(async move {
            if updates.is_empty() {
                return Ok(0);
            }
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let (written, reindex) = roles::places::set_derived(&Pg(&tx), tenant, updates, generation, &now).await?;
            let mut pending = Vec::new();
            for (rowid, index) in reindex {
                self.rewrite_index(&tx, tenant, ResourceKind::User, rowid, &index, &mut pending).await?;
            }
            tx.commit().await.map_err(pg)?;
            self.publish_keys(pending);
            Ok(written)
        })
    }

    fn places_done(&self, tenant: TenantId, generation: i64) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { roles::places::done(&Pg(&*self.write_conn().await?), tenant, generation).await })
    }
}

impl TokenStore for PgStore {
    fn store_access_token(&self, t: NewAccessToken, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { oauth::store_access_token(&Pg(&*self.write_conn().await?), t, now).await })
    }

    fn access_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<AccessTokenRow>>> {
        Box::pin(async move { oauth::access_token(&Pg(&*self.conn().await?), &hash).await })
    }

    fn update_client(&self, client_id: &str, u: ClientUpdate) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(async move { clients::update_client(&Pg(&*self.write_conn().await?), &client_id, u).await })
    }
}
