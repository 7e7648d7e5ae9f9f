//! The SQLite store: one database file in WAL mode, and next to it the audit journal
//! (`<database>-audit`, attached to every connection as `audit`) for what is written after
//! a request: events of requests that changed nothing, payloads, the error log. Reads run
//! on pooled connections in the calling task (they are short index probes); writes run on
//! one writer thread that commits several waiting writes in one transaction (group
//! commit), each isolated in a savepoint so that one failing write never affects another.
//! A write's result is released only after its transaction committed.
//!
//! For operators: [`Store::stats`] counts the readers and the writer's queue,
//! [`Store::set_observer`] times every read and write, and [`Store::ready`] checks the
//! schema version and that the database files are still the ones opened.
//!
//! The SQL is in `roles/`, written once for both databases; this file is the execution
//! shell: connections, the writer thread and its group commit, readiness. Beside it:
//! `by_role` and `by_role_events` (which connection each method of the contract runs
//! on; `by_role_transfer` for export and import), `backup` (copies of the files, restore,
//! the serving lock), `migrate` (the schemas), `anchors` (deep list pages), `db` (the `Db` surface over a connection).

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use scimd_core::list::ListQuery;
use scimd_core::places::{Level, PlaceSpec};
use scimd_core::schema::ResourceKind;
use tokio::sync::oneshot;

mod anchors;
pub mod backup;
mod by_role;
mod by_role_events;
mod by_role_federation;
mod by_role_lifecycle;
mod by_role_onboarding;
mod by_role_portal;
mod by_role_transfer;
mod db;
mod files;
mod migrate;
mod user_names;

use anchors::{PageAnchors, skip_to_anchor};
use migrate::{AUDIT_MIGRATIONS, DATA_STEPS, MIGRATIONS, migrate, migrate_journal};

use crate::db::ready;
use crate::places::{
    AccessLink, BankUsers, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess,
};
use crate::roles;
use crate::roles::audit::{self, Events};
use crate::roles::resources::{self, KeyScope, Lock, Skip};
use crate::roles::{clients, credentials, keys, oauth, tenants};
use crate::sqlfilter::SqlValue;
use crate::tokens::{AccessTokenRow, ClientUpdate, NewAccessToken, TokenStore};
use crate::{
    ApiUserAuth, ApiUserRow, AuditRecord, AuditSettings, BoxFut, ChangeEvent, ClientAuth, ClientRow, CredentialRow,
    ErrorRow, EventBucket, EventCount, EventDetails, EventQuery, EventRow, GrantStatus, IfMatch, LockoutKey,
    LoginAttempt, NewClient, NewRefresh, NewResource, Page, QueryKind, QueryObserver, RefreshGrant, Rotate, Rotation,
    SigningKeyRow, Store, StoreError, StoreResult, StoreStats, StoredResource, Tenant, TenantId, TokenTenant, Update,
    check_schema, kind_code, normalized_time,
};
use crate::{AsyncRequest, AsyncRequestStore, NewAsyncRequest, OpDone};
use crate::{AuditStore, Contacts, CredentialStore, OAuthStore, Stage, TenantStore};
use crate::{EventStore, NewStream, Progress, Purged, StoredEvent, Stream, StreamChange};
use db::Lite;

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 256;
/// Idle reader connections kept. Reads run on the runtime's worker threads, one at a
/// time per thread, so about one reader per core is ever busy; a connection opened for a
/// burst beyond that is closed afterwards (with its memory map).
fn max_idle_readers() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get()).clamp(2, 16)
}

/// How hard SQLite flushes on commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// Survives a crash of the process (kill -9); may lose the last commits on power loss.
    Normal,
    /// Also survives power loss (one fsync per group commit).
    Full,
}

/// Options of [`SqliteStore::open`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    /// Page cache per connection, in KiB.
    pub cache_kib: i64,
    /// Bytes of the database file each connection reads through a memory map (0: none).
    /// Mapped reads skip a `pread` and a page copy per page-cache miss, and every
    /// connection shares the operating system's cache of the file instead of keeping
    /// its own copy of hot pages.
    pub mmap_bytes: i64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions { synchronous: Synchronous::Normal, cache_kib: 8192, mmap_bytes: 64 << 30 }
    }
}

type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Writer) -> Completion + Send>;

/// The writer thread's connection and what it remembers between writes. Write jobs get
/// it by reference; it dereferences to the connection.
struct Writer {
    conn: Connection,
    keys: KeyCache,
    /// The next audit event id (0: not read from `counters` yet). Only ever grows, so a
    /// rolled-back job's ids are skipped, never reused.
    next_event: std::cell::Cell<i64>,
}

impl std::ops::Deref for Writer {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Ids of attribute keys (tenant, kind, path) in `attr_keys`, for the writer. An id is
/// learned while a write job runs (`pending`) and becomes `known` only once the job's
/// savepoint is released; a rolled-back job forgets its ids, and a failed commit forgets
/// them all, so the cache never holds an id that is not in the database.
#[derive(Default)]
struct KeyCache {
    known: RefCell<HashMap<KeyScope, HashMap<String, i64>>>,
    pending: RefCell<Vec<(KeyScope, String, i64)>>,
}

impl KeyCache {
    /// The job's savepoint was released: its ids hold for the rest of the transaction.
    fn publish(&self) {
        let mut known = self.known.borrow_mut();
        for (scope, path, id) in self.pending.borrow_mut().drain(..) {
            known.entry(scope).or_default().insert(path, id);
        }
    }

    /// The job was rolled back, and the ids it created with it.
    fn discard(&self) {
        self.pending.borrow_mut().clear();
    }

    /// The transaction failed to commit.
    fn clear(&self) {
        self.discard();
        self.known.borrow_mut().clear();
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: String,
    opts: SqliteOptions,
    readers: Mutex<Vec<Connection>>,
    max_idle_readers: usize,
    anchors: PageAnchors,
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    /// Dropping it stops the checkpoint thread.
    _stop_checkpoints: Mutex<mpsc::Sender<()>>,
    /// Shared with the write jobs in the writer's queue.
    observed: Arc<Observed>,
    /// The database file and the audit journal, with what they named at open
    /// ([`Store::ready`] checks they still do).
    files: Vec<(&'static str, std::path::PathBuf, FileId)>,
}

/// What [`Store::stats`] and the [`QueryObserver`] are fed from.
#[derive(Default)]
struct Observed {
    observer: OnceLock<QueryObserver>,
    /// Readers taken from the pool (or opened) and not yet given back.
    readers_in_use: AtomicU64,
    /// Write jobs submitted whose result is not yet delivered.
    write_queue: AtomicU64,
}

impl Observed {
    /// When an operation starts: the time, if anyone is told its duration.
    fn start(&self) -> Option<Instant> {
        self.observer.get().map(|_| Instant::now())
    }

    fn finish(&self, kind: QueryKind, started: Option<Instant>) {
        if let (Some(t), Some(o)) = (started, self.observer.get()) {
            o(kind, t.elapsed());
        }
    }
}

/// A write job's place in the writer's queue: counted in `write_queue` from submission
/// until dropped, which is just before its result is delivered (or when the job is
/// dropped unrun); the drop is the write's one observation.
struct QueueSlot {
    observed: Arc<Observed>,
    started: Option<Instant>,
}

impl QueueSlot {
    fn new(observed: &Arc<Observed>) -> QueueSlot {
        observed.write_queue.fetch_add(1, Ordering::Relaxed);
        QueueSlot { observed: observed.clone(), started: observed.start() }
    }
}

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.observed.write_queue.fetch_sub(1, Ordering::Relaxed);
        self.observed.finish(QueryKind::Write, self.started);
    }
}

/// A reader taken from the pool; given back when dropped (unless a panic unwinds
/// through it: its transaction may still be open).
struct Reader<'a> {
    conn: Option<Connection>,
    store: &'a SqliteStore,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a reader until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.store.inner.observed.readers_in_use.fetch_sub(1, Ordering::Relaxed);
        if let Some(conn) = self.conn.take()
            && !std::thread::panicking()
        {
            self.store.return_reader(conn);
        }
    }
}

/// What a file was at open: device and inode on Unix (a file renamed over it is another
/// file); elsewhere only that it exists.
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = ();

#[cfg(unix)]
fn file_id(path: &std::path::Path) -> std::io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &std::path::Path) -> std::io::Result<FileId> {
    std::fs::metadata(path).map(|_| ())
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Integer(i) => (*i).into(),
            SqlValue::Real(f) => (*f).into(),
            SqlValue::Text(t) => t.as_str().into(),
        })
    }
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Maps a driver error once: uniqueness violations become conflicts.
fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e
        && f.code == ErrorCode::ConstraintViolation
    {
        let m = msg.clone().unwrap_or_default();
        if m.contains("unique_key") {
            return StoreError::Conflict("userName".into());
        }
        if m.contains("resources.scim_id") {
            return StoreError::Conflict("the id".into());
        }
        if m.contains("tenants.name") {
            return StoreError::Conflict("tenant name".into());
        }
        if m.contains("api_users.username") {
            return StoreError::Conflict("username".into());
        }
        if m.contains("oauth_clients.client_id") {
            return StoreError::Conflict("client id".into());
        }
        return StoreError::Conflict(m);
    }
    internal(e)
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &str, opts: SqliteOptions) -> StoreResult<SqliteStore> {
        files::secure(file_path(path), &journal_path(path));
        migrate_journal(path)?;
        let conn = open_conn(path, &opts, false)?;
        migrate(&conn, MIGRATIONS, DATA_STEPS, "main")?;
        let (tx, rx) = mpsc::channel::<Job>();
        let dirty = Arc::new(AtomicBool::new(true));
        let writer_dirty = dirty.clone();
        std::thread::Builder::new()
            .name("scimd-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, writer_dirty))
            .map_err(internal)?;
        let checkpointer = open_conn(path, &opts, false)?;
        let wal = [format!("{path}-wal"), format!("{}-wal", journal_path(path))].map(std::path::PathBuf::from);
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("scimd-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, wal, dirty, stop_rx))
            .map_err(internal)?;
        // A path SQLite resolves otherwise (a URI with options, say) is not checked.
        let files = [("database file", file_path(path).to_string()), ("audit journal", journal_path(path))]
            .into_iter()
            .filter_map(|(what, p)| {
                let p = std::path::PathBuf::from(p);
                file_id(&p).ok().map(|id| (what, p, id))
            })
            .collect();
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_string(),
                opts,
                readers: Mutex::new(Vec::new()),
                max_idle_readers: max_idle_readers(),
                anchors: PageAnchors::default(),
                writer: Mutex::new(Some(tx)),
                _stop_checkpoints: Mutex::new(stop_tx),
                observed: Arc::default(),
                files,
            }),
        })
    }

    /// Stops the writer thread after the writes already queued.
    pub fn close(&self) {
        self.inner.writer.lock().expect("writer lock").take();
    }

    /// Runs `f` on a pooled reader inside one read transaction (one snapshot, and one
    /// round of WAL locks instead of one per statement). One [`QueryKind::Read`]
    /// observation, taking the reader included.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let started = self.inner.observed.start();
        let r = self.take_reader().and_then(|conn| {
            let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut st| st.execute([]));
            match run("BEGIN") {
                Ok(_) => {
                    let r = f(&conn);
                    let _ = run("COMMIT");
                    r
                }
                Err(e) => Err(internal(e)),
            }
        });
        self.inner.observed.finish(QueryKind::Read, started);
        r
    }

    /// Runs `f`, which must run a single statement, on a pooled reader without an
    /// explicit transaction (the statement's implicit one is its snapshot). One
    /// [`QueryKind::Read`] observation, taking the reader included.
    fn read_one<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let started = self.inner.observed.start();
        let r = self.take_reader().and_then(|conn| f(&conn));
        self.inner.observed.finish(QueryKind::Read, started);
        r
    }

    /// An idle reader of the pool, or a new one; counted in use until dropped.
    fn take_reader(&self) -> StoreResult<Reader<'_>> {
        let conn = self.inner.readers.lock().expect("reader pool").pop();
        let conn = match conn {
            Some(c) => c,
            None => open_conn(&self.inner.path, &self.inner.opts, true)?,
        };
        self.inner.observed.readers_in_use.fetch_add(1, Ordering::Relaxed);
        Ok(Reader { conn: Some(conn), store: self })
    }

    fn return_reader(&self, conn: Connection) {
        let mut pool = self.inner.readers.lock().expect("reader pool");
        if pool.len() < self.inner.max_idle_readers {
            pool.push(conn);
        }
    }

    /// Runs `f` on the writer thread inside a savepoint of the current group commit;
    /// resolves once the commit is durable. Counted in the write queue, and observed as
    /// one [`QueryKind::Write`], from submission until the result is delivered (see
    /// [`QueueSlot`]).
    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Writer) -> StoreResult<T> + Send + 'static,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send + 'static {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let writer = self.inner.writer.lock().expect("writer lock");
        let sent = match writer.as_ref() {
            None => Err("the store is closed"),
            // A failed send drops the job, and with it its slot.
            Some(w) => w.send(write_job(f, tx, QueueSlot::new(&self.inner.observed))).map_err(|_| "the writer stopped"),
        };
        drop(writer);
        async move {
            sent.map_err(|why| StoreError::Internal(why.into()))?;
            rx.await.map_err(|_| StoreError::Internal("the writer stopped".into()))?
        }
    }

    /// [`Store::ready`]: open for writes, the files still the ones opened, the schemas
    /// at the versions this binary knows.
    fn check_ready(&self) -> StoreResult<()> {
        if self.inner.writer.lock().expect("writer lock").is_none() {
            return Err(StoreError::Internal("the store is closed".into()));
        }
        for (what, path, id) in &self.inner.files {
            if file_id(path).ok().as_ref() != Some(id) {
                return Err(StoreError::Internal(format!(
                    "the {what} {} was removed or replaced; writes would be lost at restart",
                    path.display()
                )));
            }
        }
        let (main, audit) = self.read(|conn| {
            let versions = |schema: &str| -> StoreResult<Vec<i64>> {
                let mut st = conn
                    .prepare_cached(&format!("SELECT version FROM {schema}.schema_migrations"))
                    .map_err(|e| internal(format!("reading the {schema} schema version: {e}")))?;
                let rows = st.query_map([], |r| r.get(0)).map_err(internal)?;
                rows.collect::<Result<Vec<i64>, _>>().map_err(internal)
            };
            Ok((versions("main")?, versions("audit")?))
        })?;
        check_schema("database", &main, MIGRATIONS)?;
        check_schema("audit journal", &audit, AUDIT_MIGRATIONS)
    }
}

/// A write job: `f` in a savepoint of the writer's transaction; its completion delivers
/// the result (once the transaction committed) and ends its `slot` in the queue.
fn write_job<T: Send + 'static>(
    f: impl FnOnce(&Writer) -> StoreResult<T> + Send + 'static,
    tx: oneshot::Sender<StoreResult<T>>,
    slot: QueueSlot,
) -> Job {
    Box::new(move |w: &Writer| {
        let r = match w.execute_batch("SAVEPOINT w") {
            Err(e) => Err(internal(e)),
            Ok(()) => {
                let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(w)))
                    .unwrap_or_else(|_| Err(StoreError::Internal("panic in a write".into())));
                let end = if r.is_err() { "ROLLBACK TO w; RELEASE w" } else { "RELEASE w" };
                match (w.execute_batch(end), r) {
                    (Ok(()), Ok(v)) => {
                        w.keys.publish();
                        Ok(v)
                    }
                    (Ok(()), Err(e)) => {
                        w.keys.discard();
                        Err(e)
                    }
                    (Err(e), _) => {
                        // The savepoint's fate is unknown: forget every id learned in it.
                        w.keys.discard();
                        Err(internal(e))
                    }
                }
            }
        };
        Box::new(move |commit_err: Option<&StoreError>| {
            let out = match (commit_err, r) {
                (Some(e), Ok(_)) => Err(e.clone()),
                (_, r) => r,
            };
            // Out of the queue before the result is seen: a caller that got its
            // result never finds its write still counted.
            drop(slot);
            let _ = tx.send(out);
        })
    })
}

fn open_conn(path: &str, opts: &SqliteOptions, reader: bool) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(internal)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(internal)?;
    let sync = match opts.synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    // Only readers map the file: the writer copies every page it changes into its own
    // cache anyway, and each mapping counts the pages it touched in the process's RSS
    // again, although they are the same pages of the operating system's cache.
    let mmap = if reader { opts.mmap_bytes.max(0) } else { 0 };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA cache_size = -{}; PRAGMA mmap_size = {mmap}; \
         PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 16384; PRAGMA journal_size_limit = 67108864;{}",
        opts.cache_kib,
        if reader { " PRAGMA query_only = 1;" } else { "" }
    ))
    .map_err(internal)?;
    // The audit journal: its own WAL, the same durability; only queried by the rare
    // audit reads, so never mapped.
    conn.execute("ATTACH DATABASE ? AS audit", [format!("file:{}?mode=rw", uri_path(&journal_path(path)))])
        .map_err(internal)?;
    conn.execute_batch(&format!(
        "PRAGMA audit.journal_mode = WAL; PRAGMA audit.synchronous = {sync}; PRAGMA audit.mmap_size = 0; \
         PRAGMA audit.journal_size_limit = 67108864;"
    ))
    .map_err(internal)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The audit journal's file: the database's path with `-audit` appended (so a copy of
/// `scimd.db*` takes both, with their WALs).
fn journal_path(path: &str) -> String {
    format!("{}-audit", file_path(path))
}

/// The database's file: `path`, or the path part of a `file:` URI.
fn file_path(path: &str) -> &str {
    match path.strip_prefix("file:") {
        Some(uri) => uri.split(['?', '#']).next().unwrap_or(uri),
        None => path,
    }
}

/// A file path as the path part of an SQLite URI.
fn uri_path(path: &str) -> String {
    path.replace('%', "%25").replace('?', "%3f").replace('#', "%23")
}

/// Copies committed WAL pages into the database file in the background, every 50 ms
/// after writes, so that checkpoints do not stall the writer's commits. Under continuous
/// writes a passive checkpoint can never reach the end of the WAL, so the WAL could never
/// restart: the writer's own auto-checkpoint (64 MiB) does that last, small catch-up.
fn checkpoint_loop(conn: Connection, wal: [std::path::PathBuf; 2], dirty: Arc<AtomicBool>, stop: mpsc::Receiver<()>) {
    /// Past this size the WAL is truncated (holding writers while it runs). Normally the
    /// passive checkpoints keep up and SQLite restarts the WAL by itself, trimming the file
    /// to `journal_size_limit`; this is the emergency brake for a WAL that keeps growing.
    const WAL_LIMIT: u64 = 1024 * 1024 * 1024;
    loop {
        match stop.recv_timeout(std::time::Duration::from_millis(50)) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if !dirty.swap(false, Ordering::AcqRel) {
            continue;
        }
        for (schema, wal) in ["main", "audit"].iter().zip(&wal) {
            let big = std::fs::metadata(wal).map(|m| m.len() > WAL_LIMIT).unwrap_or(false);
            let mode = if big { "TRUNCATE" } else { "PASSIVE" };
            // (busy, frames in the WAL, frames copied): until every frame is copied, readers
            // look each page up in the WAL index first, so try again until it is done.
            match conn.query_row(&format!("PRAGMA {schema}.wal_checkpoint({mode})"), [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            }) {
                Ok((log, copied)) if copied < log => dirty.store(true, Ordering::Release),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, schema, "background checkpoint failed"),
            }
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>, dirty: Arc<AtomicBool>) {
    let conn = Writer { conn, keys: KeyCache::default(), next_event: std::cell::Cell::new(0) };
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Run nothing: dropping the jobs tells every waiting writer it failed.
            drop(batch);
            tracing::error!(error = %e, "cannot begin a write transaction");
            continue;
        }
        let completions: Vec<Completion> = batch.into_iter().map(|job| job(&conn)).collect();
        dirty.store(true, Ordering::Release);
        let commit_err = conn.execute_batch("COMMIT").err().map(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            internal(e)
        });
        if let Some(e) = &commit_err {
            conn.keys.clear();
            tracing::error!(error = %e, "commit failed");
        }
        for c in completions {
            c(commit_err.as_ref());
        }
    }
}

// -------------------------------------------------------------------- row helpers

/// A write job's part in the resource role: the key ids the writer remembers (learned
/// in the job, published when its savepoint is released), and its change events.
impl resources::Shell for &Writer {
    fn known_key(&mut self, scope: KeyScope, path: &str) -> Option<i64> {
        if let Some(id) = self.keys.known.borrow().get(&scope).and_then(|m| m.get(path)) {
            return Some(*id);
        }
        self.keys.pending.borrow().iter().find(|(s, p, _)| *s == scope && p == path).map(|(_, _, id)| *id)
    }

    fn learned_key(&mut self, scope: KeyScope, path: &str, id: i64) {
        self.keys.pending.borrow_mut().push((scope, path.to_string(), id));
    }

    fn change_event(
        &mut self,
        e: ChangeEvent,
        created_id: Option<&str>,
        deactivates: bool,
    ) -> impl std::future::Future<Output = StoreResult<()>> {
        std::future::ready(write_change_event(self, e, created_id, deactivates))
    }
}

// The SQLite shell's part of the audit trail (the SQL both stores share is in
// `roles/audit.rs`): the writer hands out event ids unique across both files and records
// the highest handed out in the file written.

/// Which file's event counter a job saves: `main` (a change's, in the change's
/// transaction) or `audit` (the journal: every other request's).
#[derive(Clone, Copy)]
enum EventFile {
    Main,
    Journal,
}

/// A new audit event id (see [`Writer::next_event`]), unique across both files.
fn event_id(w: &Writer) -> StoreResult<i64> {
    if w.next_event.get() == 0 {
        let stored: Option<i64> = w
            .query_row(
                "SELECT max(coalesce((SELECT value FROM main.counters WHERE name = 'api_events'), 0), \
                 coalesce((SELECT value FROM audit.counters WHERE name = 'api_events'), 0))",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(internal)?;
        w.next_event.set(stored.unwrap_or(0) + 1);
    }
    let id = w.next_event.get();
    w.next_event.set(id + 1);
    Ok(id)
}

/// Records the highest event id handed out, in the current job, in the file written.
fn save_event_counter(w: &Writer, file: EventFile) -> StoreResult<()> {
    w.prepare_cached(match file {
        EventFile::Main => {
            "INSERT INTO main.counters (name, value) VALUES ('api_events', ?) \
             ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)"
        }
        EventFile::Journal => {
            "INSERT INTO audit.counters (name, value) VALUES ('api_events', ?) \
             ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)"
        }
    })
    .and_then(|mut st| st.execute([w.next_event.get() - 1]))
    .map_err(internal)?;
    Ok(())
}

/// Writes a change's event in the change's transaction and publishes its id.
fn write_change_event(conn: &Writer, e: ChangeEvent, created_id: Option<&str>, deactivates: bool) -> StoreResult<()> {
    let (event, published) = e.finish(created_id, deactivates);
    let id = ready(audit::insert_event(&Lite(conn), &event, Events::Main(event_id(conn)?)))?;
    save_event_counter(conn, EventFile::Main)?;
    published.store(id, std::sync::atomic::Ordering::Release);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(dir.path().join("t.db").to_str().unwrap(), SqliteOptions::default()).unwrap()
    }

    #[test]
    fn stats_count_readers_taken_and_idle() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        assert_eq!(store.stats(), StoreStats::default());
        let (a, b) = (store.take_reader().unwrap(), store.take_reader().unwrap());
        let s = store.stats();
        assert_eq!((s.pool_size, s.pool_in_use, s.pool_idle, s.pool_waiting), (2, 2, 0, 0));
        drop(a);
        let s = store.stats();
        assert_eq!((s.pool_size, s.pool_in_use, s.pool_idle), (2, 1, 1));
        drop(b);
        // A read in progress holds one; afterwards it is idle again.
        let during = store.read_one(|_| Ok(store.stats())).unwrap();
        assert_eq!((during.pool_in_use, during.pool_idle), (1, 1));
        let s = store.stats();
        assert_eq!((s.pool_size, s.pool_in_use, s.pool_idle), (2, 0, 2));
    }

    #[tokio::test]
    async fn write_queue_counts_writes_until_their_result_is_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let writes = Arc::new(Mutex::new(Vec::new()));
        let sink = writes.clone();
        store.set_observer(Arc::new(move |kind, _| sink.lock().unwrap().push(kind)));
        let (go, wait) = mpsc::channel::<()>();
        let first = store.write(move |_| {
            wait.recv().ok();
            Ok(1)
        });
        let second = store.write(|_| Ok(2));
        assert_eq!(store.stats().write_queue, 2);
        go.send(()).unwrap();
        assert_eq!((first.await.unwrap(), second.await.unwrap()), (1, 2));
        assert_eq!(store.stats().write_queue, 0);
        assert_eq!(*writes.lock().unwrap(), [QueryKind::Write, QueryKind::Write]);
        // A failed write is one observation too, and leaves the queue.
        let failed = store.write(|_| -> StoreResult<()> { Err(StoreError::NotFound) }).await;
        assert!(matches!(failed, Err(StoreError::NotFound)));
        assert_eq!(store.stats().write_queue, 0);
        assert_eq!(writes.lock().unwrap().len(), 3);
        // Closed: refused without being queued or observed.
        store.close();
        assert!(store.write(|_| Ok(())).await.is_err());
        assert_eq!(store.stats().write_queue, 0);
        assert_eq!(writes.lock().unwrap().len(), 3);
    }
}
