//! The SQLite schemas: the database's and the audit journal's migrations, applied in order
//! at open, each in its transaction (with the Rust steps some follow).

use super::*;

pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_attr_keys.sql")),
    (3, include_str!("../../migrations/sqlite/0003_tenant_scim_enabled.sql")),
    (4, include_str!("../../migrations/sqlite/0004_oauth_clients_api_users.sql")),
    (5, include_str!("../../migrations/sqlite/0005_oauth_tokens.sql")),
    (6, include_str!("../../migrations/sqlite/0006_audit.sql")),
    (7, include_str!("../../migrations/sqlite/0007_audit_journal.sql")),
    (8, include_str!("../../migrations/sqlite/0008_tenant_profile.sql")),
    (9, include_str!("../../migrations/sqlite/0009_places.sql")),
    (10, include_str!("../../migrations/sqlite/0010_user_names_server_secrets.sql")),
    (11, include_str!("../../migrations/sqlite/0011_retired_key_seeds.sql")),
    (12, include_str!("../../migrations/sqlite/0012_client_request_id.sql")),
    (13, include_str!("../../migrations/sqlite/0013_refresh_expiry_retry_opaque_tokens.sql")),
    (14, include_str!("../../migrations/sqlite/0014_access_to_any_place.sql")),
    (15, include_str!("../../migrations/sqlite/0015_event_streams.sql")),
    (16, include_str!("../../migrations/sqlite/0016_async_requests.sql")),
    (17, include_str!("../../migrations/sqlite/0017_portal.sql")),
    (18, include_str!("../../migrations/sqlite/0018_onboarding.sql")),
    (19, include_str!("../../migrations/sqlite/0019_events_time_by_tenant.sql")),
    (20, include_str!("../../migrations/sqlite/0020_federation.sql")),
    (21, include_str!("../../migrations/sqlite/0021_tombstones_deactivations.sql")),
    (22, include_str!("../../migrations/sqlite/0022_type_codes.sql")),
    (23, include_str!("../../migrations/sqlite/0023_sources.sql")),
];
/// Steps in Rust that follow a migration's SQL, in its transaction.
pub(super) type DataStep = fn(&Connection) -> StoreResult<()>;
pub(super) const DATA_STEPS: &[(i64, DataStep)] = &[(10, user_names::refold)];
/// The audit journal's own schema versions.
pub(super) const AUDIT_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/audit/0001_audit.sql")),
    (2, include_str!("../../migrations/sqlite/audit/0002_client_request_id.sql")),
];

/// Creates or migrates the audit journal, and moves into it the payloads and error log
/// that older versions kept in the main database (committed in the journal before
/// migration 7 drops them there; repeated after a crash in between without duplicates).
pub(super) fn migrate_journal(path: &str) -> StoreResult<()> {
    let journal = journal_path(path);
    let conn = Connection::open(&journal).map_err(internal)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(internal)?;
    conn.execute_batch("PRAGMA journal_mode = WAL").map_err(internal)?;
    migrate(&conn, AUDIT_MIGRATIONS, &[], "main")?;
    if std::path::Path::new(&journal[..journal.len() - "-audit".len()]).exists() {
        conn.execute("ATTACH DATABASE ? AS old", [format!("file:{}?mode=ro", uri_path(path))]).map_err(internal)?;
        let legacy: bool = conn
            .query_row(
                "SELECT count(*) = 2 FROM old.sqlite_master WHERE type = 'table' AND name IN ('api_event_details', 'error_log')",
                [],
                |r| r.get(0),
            )
            .map_err(internal)?;
        if legacy {
            conn.execute_batch(
                "BEGIN IMMEDIATE; \
                 INSERT OR IGNORE INTO main.api_event_details SELECT * FROM old.api_event_details; \
                 INSERT OR IGNORE INTO main.error_log SELECT * FROM old.error_log; COMMIT;",
            )
            .map_err(internal)?;
        }
        conn.execute_batch("DETACH DATABASE old").map_err(internal)?;
    }
    Ok(())
}

/// Applies the `migrations` not yet recorded in `schema`'s `schema_migrations`, each
/// followed by its data step, if it has one.
pub(super) fn migrate(
    conn: &Connection,
    migrations: &[(i64, &str)],
    steps: &[(i64, DataStep)],
    schema: &str,
) -> StoreResult<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
    ))
    .map_err(internal)?;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(internal)?;
    let r = (|| {
        for (version, sql) in migrations {
            let done: Option<i64> = conn
                .query_row(
                    &format!("SELECT version FROM {schema}.schema_migrations WHERE version = ?"),
                    [version],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?;
            if done.is_none() {
                conn.execute_batch(sql).map_err(internal)?;
                for (_, step) in steps.iter().filter(|(v, _)| v == version) {
                    step(conn)?;
                }
                conn.execute(
                    &format!(
                        "INSERT INTO {schema}.schema_migrations (version, applied) \
                         VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
                    ),
                    params![version],
                )
                .map_err(internal)?;
            }
        }
        Ok(())
    })();
    match r {
        Ok(()) => conn.execute_batch("COMMIT").map_err(internal),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
