//! Backing up and restoring a SQLite deployment's files (`scimd backup`, `scimd restore`),
//! and the lock that tells them a server is using the files.
//!
//! A backup is `VACUUM … INTO` of the database and of the audit journal, each from one read
//! transaction of a connection of its own: a consistent, compacted copy of each file while
//! a server goes on writing (the two copies are two snapshots a moment apart; the journal
//! holds no change's event, so nothing refers across them). The copies are created empty
//! and owner-only first, which also refuses a target that exists.
//!
//! A server holds a shared lock (`flock`) on `<database>-lock` for as long as it serves;
//! a restore (or an import) takes it exclusively without waiting, so it is refused while
//! any server of the files runs, idle or not. The lock file is not SQLite's: SQLite's own
//! POSIX locks on the database would be dropped by the process closing any other
//! descriptor of that file. A writer that takes no lock (another command, an older
//! server) is caught by `BEGIN IMMEDIATE` with no busy wait.

use std::path::{Path, PathBuf};

use super::{AUDIT_MIGRATIONS, MIGRATIONS, SqliteOptions, SqliteStore, file_path, internal, journal_path, uri_path};
use crate::{StoreError, StoreResult};

/// The lock file of the database at `path`.
fn lock_path(path: &str) -> String {
    format!("{}-lock", file_path(path))
}

fn open_lock(path: &str) -> StoreResult<std::fs::File> {
    let lock = lock_path(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(&lock).map_err(|e| internal(format!("cannot open the lock file {lock}: {e}")))
}

/// A server's hold on the database's files: a shared lock, released when dropped.
#[derive(Debug)]
pub struct ServingLock(#[allow(dead_code)] std::fs::File);

impl ServingLock {
    /// Takes the shared lock of the database at `path` (waiting while a restore runs).
    pub fn take(path: &str) -> StoreResult<ServingLock> {
        let f = open_lock(path)?;
        f.lock_shared().map_err(|e| internal(format!("cannot lock {}: {e}", lock_path(path))))?;
        Ok(ServingLock(f))
    }
}

/// The files of the database at `path` held by nobody else: the exclusive lock (while it
/// lives), after checking that no process is writing.
#[derive(Debug)]
pub struct Exclusive(#[allow(dead_code)] std::fs::File);

impl Exclusive {
    /// Refused, saying why, while a server holds the database or a process writes to it.
    pub fn take(path: &str) -> StoreResult<Exclusive> {
        let f = open_lock(path)?;
        let served = || {
            StoreError::Internal(format!(
                "a scimd server is using {}: stop it first (it holds {})",
                file_path(path),
                lock_path(path)
            ))
        };
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(served()),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(internal(format!("cannot lock {}: {e}", lock_path(path))));
            }
        }
        if Path::new(file_path(path)).exists() {
            let conn = rusqlite::Connection::open(path).map_err(internal)?;
            conn.busy_timeout(std::time::Duration::ZERO).map_err(internal)?;
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
                return Err(internal(format!(
                    "another process is writing to {} ({e}): stop it first",
                    file_path(path)
                )));
            }
        }
        Ok(Exclusive(f))
    }
}

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub database: (PathBuf, u64),
    pub journal: (PathBuf, u64),
}

/// A new owner-only empty file (refusing one that exists).
fn create_empty(path: &Path) -> StoreResult<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path).map(|_| ()).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => internal(format!("{} exists: a backup never overwrites", path.display())),
        _ => internal(format!("cannot create {}: {e}", path.display())),
    })
}

/// The journal beside a backup (or any copy) at `target`.
pub fn journal_of(target: &Path) -> PathBuf {
    let mut s = target.as_os_str().to_owned();
    s.push("-audit");
    PathBuf::from(s)
}

/// Copies the database at `path` and its audit journal to `target` and `target-audit`
/// while a server may be writing to them.
pub fn backup(path: &str, target: &Path) -> StoreResult<BackupReport> {
    if !Path::new(file_path(path)).exists() {
        return Err(internal(format!("no database at {}", file_path(path))));
    }
    let journal = journal_of(target);
    create_empty(target)?;
    if let Err(e) = create_empty(&journal) {
        let _ = std::fs::remove_file(target);
        return Err(e);
    }
    let run = || -> StoreResult<()> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
            | rusqlite::OpenFlags::SQLITE_OPEN_URI
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(internal)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(internal)?;
        conn.execute("ATTACH DATABASE ? AS audit", [format!("file:{}?mode=rw", uri_path(&journal_path(path)))])
            .map_err(internal)?;
        for (schema, to) in [("main", target), ("audit", journal.as_path())] {
            let to = to.to_str().ok_or_else(|| internal(format!("{} is not UTF-8", to.display())))?;
            conn.execute(&format!("VACUUM {schema} INTO ?"), [to])
                .map_err(|e| internal(format!("copying the {schema} file: {e}")))?;
        }
        Ok(())
    };
    if let Err(e) = run() {
        let _ = std::fs::remove_file(target);
        let _ = std::fs::remove_file(&journal);
        return Err(e);
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { database: (target.to_path_buf(), size(target)), journal: (journal.clone(), size(&journal)) })
}

/// `PRAGMA integrity_check` of a file: `ok`, or what is wrong.
fn integrity(file: &Path) -> StoreResult<String> {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(internal)?;
    let mut st = conn.prepare("PRAGMA integrity_check").map_err(internal)?;
    let lines: Vec<String> =
        st.query_map([], |r| r.get(0)).map_err(internal)?.collect::<Result<_, _>>().map_err(internal)?;
    Ok(lines.join("; "))
}

/// The newest schema version recorded in a file.
fn schema_version(file: &Path) -> StoreResult<i64> {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(internal)?;
    conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(|e| internal(format!("{} is not a scimd database ({e})", file.display())))
}

/// What a restore did.
#[derive(Debug)]
pub struct RestoreReport {
    /// Where the files it replaced were moved (none: there were none).
    pub moved_aside: Option<PathBuf>,
}

/// Replaces the database at `path` (and its journal) with the backup at `from` (and
/// `from-audit`): refused while a server holds it; both copies checked first; the current
/// files (with their WAL and shared-memory files, which would otherwise be replayed onto
/// the restored ones) moved into `<database>.before-restore-<stamp>/`; then migrated.
pub fn restore(path: &str, from: &Path, stamp: &str) -> StoreResult<RestoreReport> {
    let _held = Exclusive::take(path)?;
    let from_journal = journal_of(from);
    for (f, migrations, what) in [(from, MIGRATIONS, "database"), (from_journal.as_path(), AUDIT_MIGRATIONS, "journal")]
    {
        if !f.is_file() {
            return Err(internal(format!("no backup {what} at {}", f.display())));
        }
        let check = integrity(f)?;
        if check != "ok" {
            return Err(internal(format!("the backup {what} {} fails its integrity check: {check}", f.display())));
        }
        let newest = migrations.last().map_or(0, |(v, _)| *v);
        let version = schema_version(f)?;
        if version > newest {
            return Err(internal(format!(
                "the backup {what} {} is at schema version {version}, newer than this scimd's {newest}: \
                 restore it with the scimd that made it",
                f.display()
            )));
        }
    }
    let db = file_path(path).to_string();
    let journal = journal_path(path);
    let current: Vec<String> = [db.as_str(), journal.as_str()]
        .iter()
        .flat_map(|f| ["", "-wal", "-shm", "-journal"].map(|s| format!("{f}{s}")))
        .filter(|f| Path::new(f).exists())
        .collect();
    let moved_aside = match current.is_empty() {
        true => None,
        false => {
            let dir = PathBuf::from(format!("{db}.before-restore-{stamp}"));
            std::fs::create_dir(&dir).map_err(|e| internal(format!("cannot create {}: {e}", dir.display())))?;
            for f in &current {
                let name = Path::new(f).file_name().ok_or_else(|| internal(format!("{f}: no file name")))?;
                std::fs::rename(f, dir.join(name)).map_err(|e| internal(format!("cannot move {f} aside: {e}")))?;
            }
            Some(dir)
        }
    };
    for (src, dst) in [(from, db.as_str()), (from_journal.as_path(), journal.as_str())] {
        let tmp = format!("{dst}.restoring");
        let _ = std::fs::remove_file(&tmp);
        create_empty(Path::new(&tmp))?;
        std::fs::copy(src, &tmp).map_err(|e| internal(format!("cannot copy {}: {e}", src.display())))?;
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(internal)?;
        std::fs::rename(&tmp, dst).map_err(|e| internal(format!("cannot put {dst} in place: {e}")))?;
    }
    // Opening migrates an older copy; the writer stops at once.
    let store = SqliteStore::open(path, SqliteOptions::default())?;
    store.close();
    Ok(RestoreReport { moved_aside })
}
