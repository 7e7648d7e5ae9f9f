//! Who may read the SQLite files. The database holds password hashes, audit payloads and
//! the signing keys, so its files are the owner's alone: the database and its audit
//! journal are created 0600 before SQLite opens them (SQLite gives its WAL, shared-memory
//! and rollback-journal files the mode of their database), and files found open to the
//! group or to others are tightened to 0600 at open, with a warning naming them. A
//! deployment that wants another account to read the data uses a copy, not the live files.

/// The files of a database at `db` (a plain file path): the database, its audit journal
/// at `journal`, and the companions SQLite makes beside each.
fn files(db: &str, journal: &str) -> Vec<String> {
    [db, journal].iter().flat_map(|f| ["", "-wal", "-shm", "-journal"].map(|s| format!("{f}{s}"))).collect()
}

/// Creates the database and journal files owner-only if they do not exist yet, and
/// tightens any of their files that the group or others may read or write.
#[cfg(unix)]
pub(super) fn secure(db: &str, journal: &str) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if db.is_empty() || db == ":memory:" {
        return;
    }
    for path in [db, journal] {
        // An empty file is a valid new SQLite database; `create_new` leaves an existing
        // one alone, and SQLite reports any other problem (a missing directory, say).
        let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    }
    for path in files(db, journal) {
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 == 0 {
            continue;
        }
        let tight = mode & 0o600;
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(tight)) {
            Ok(()) => tracing::warn!(
                file = %path,
                "{path} was readable by others than its owner (mode {mode:04o}); changed to {tight:04o}"
            ),
            Err(e) => tracing::warn!(
                file = %path,
                error = %e,
                "{path} is readable by others than its owner (mode {mode:04o}) and cannot be changed: {e}"
            ),
        }
    }
}

#[cfg(not(unix))]
pub(super) fn secure(_db: &str, _journal: &str) {}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_the_owners_and_open_ones_are_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let journal = dir.path().join("x.db-audit");
        let wal = dir.path().join("x.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o664)).unwrap();
        super::secure(db.to_str().unwrap(), journal.to_str().unwrap());
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&journal), 0o600);
        assert_eq!(mode(&wal), 0o600);
        // A read-only file stays read-only.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
        super::secure(db.to_str().unwrap(), journal.to_str().unwrap());
        assert_eq!(mode(&db), 0o400);
    }
}
