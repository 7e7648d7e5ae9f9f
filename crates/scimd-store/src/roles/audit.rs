//! The audit trail: writing events (a change's, in the change's own unit; every other
//! request's, in batches), their payloads and the error log; reading them back; purging
//! them past their retention. Written once for both databases (see `db`).
//!
//! Where the two really differ: SQLite keeps a change's events in the database file
//! (`main`) and everything else in the audit journal attached as `audit`, so events are
//! read from both files and their ids are handed out by the writer thread (its counters
//! are the SQLite shell's); PostgreSQL has one table of each, whose identity columns give
//! the ids. [`Events`] and [`Tables`] name where each statement goes.

use chrono::{DateTime, Utc};

use crate::db::{Db, Dialect, List, Param, Row};
use crate::{
    AuditRecord, ErrorRow, EventBucket, EventCount, EventDetails, EventQuery, EventRow, NewEvent, StoreError,
    StoreResult, TenantId, normalized_time,
};

/// Where an event is written.
#[derive(Clone, Copy)]
pub(crate) enum Events {
    /// SQLite's database file: a change's event, in the change's transaction, with the id
    /// the writer handed out.
    Main(i64),
    /// SQLite's audit journal: every other request's event, with the id the writer handed
    /// out.
    Journal(i64),
    /// PostgreSQL's one table, whose identity column gives the id.
    Table,
}

/// The audit tables of a dialect, for the statements that are not on a request's path.
struct Tables {
    /// Every file's events (SQLite: the database file's, then the journal's).
    events: &'static [&'static str],
    details: &'static str,
    errors: &'static str,
}

fn tables(dialect: Dialect) -> Tables {
    match dialect {
        Dialect::Sqlite => Tables {
            events: &["main.api_events", "audit.api_events"],
            details: "audit.api_event_details",
            errors: "audit.error_log",
        },
        Dialect::Postgres => Tables { events: &["api_events"], details: "api_event_details", errors: "error_log" },
    }
}

/// An audit write's failure: never a client's conflict (the shells map a failed constraint
/// to one, but the audit tables have none a request can break: a trigger's abort, say, is
/// the store's failure), always the store's.
fn failed(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(m) => StoreError::Internal(m),
        e => e,
    }
}

macro_rules! insert_event {
    ($table:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (id, tenant_id, time, request_id, client, method, path, rtype, resource_id, op, status, scim_type, \
             duration_ms, deactivated, client_request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
    };
}

/// Writes one event; its id.
pub(crate) async fn insert_event(db: &impl Db, e: &NewEvent, to: Events) -> StoreResult<i64> {
    let (id, sql) = match to {
        Events::Main(id) => (id, insert_event!("main.api_events")),
        Events::Journal(id) => (id, insert_event!("audit.api_events")),
        // The id is the identity column's (the first parameter is not bound).
        Events::Table => (
            0,
            "INSERT INTO api_events (tenant_id, time, request_id, client, method, path, rtype, resource_id, op, \
             status, scim_type, duration_ms, deactivated, client_request_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ),
    };
    let p: [&dyn Param; 15] = [
        &id,
        &e.tenant.unwrap_or(TenantId::NONE).0,
        &e.time.timestamp_millis(),
        &e.request_id,
        &e.client,
        &e.method,
        &e.path,
        &e.rtype,
        &e.resource_id,
        &e.op,
        &i64::from(e.status),
        &e.scim_type,
        &e.duration_ms,
        &e.deactivated,
        &e.client_request_id,
    ];
    match to {
        Events::Table => db
            .query_opt(sql, &p[1..], |r| r.get(0))
            .await
            .map_err(failed)?
            .ok_or_else(|| StoreError::Internal("no event id returned".into())),
        Events::Main(_) | Events::Journal(_) => {
            db.execute(sql, &p).await.map_err(failed)?;
            Ok(id)
        }
    }
}

/// Writes (or replaces) an event's payloads.
pub(crate) async fn insert_details(
    db: &impl Db,
    event: i64,
    tenant: Option<TenantId>,
    time: i64,
    d: &EventDetails,
) -> StoreResult<()> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "INSERT OR REPLACE INTO audit.api_event_details (event, tenant_id, time, request_headers, request_body, \
             response_headers, response_body) VALUES (?, ?, ?, ?, ?, ?, ?)"
        }
        Dialect::Postgres => {
            "INSERT INTO api_event_details (event, tenant_id, time, request_headers, request_body, response_headers, \
             response_body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event) DO UPDATE SET \
             request_headers = excluded.request_headers, request_body = excluded.request_body, \
             response_headers = excluded.response_headers, response_body = excluded.response_body"
        }
    };
    let tenant = tenant.unwrap_or(TenantId::NONE).0;
    db.execute(
        sql,
        &[&event, &tenant, &time, &d.request_headers, &d.request_body, &d.response_headers, &d.response_body],
    )
    .await
    .map_err(failed)?;
    Ok(())
}

/// Events without details as one `INSERT … SELECT FROM unnest(…)` (PostgreSQL).
async fn insert_events_at_once(db: &impl Db, events: &[&NewEvent]) -> StoreResult<()> {
    let col = |f: fn(&NewEvent) -> Option<String>| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let tenants: Vec<i64> = events.iter().map(|e| e.tenant.unwrap_or(TenantId::NONE).0).collect();
    let times: Vec<i64> = events.iter().map(|e| e.time.timestamp_millis()).collect();
    let statuses: Vec<i64> = events.iter().map(|e| i64::from(e.status)).collect();
    let durations: Vec<f64> = events.iter().map(|e| e.duration_ms).collect();
    let deactivated: Vec<bool> = events.iter().map(|e| e.deactivated).collect();
    let (request_ids, methods, paths, ops) = (
        col(|e| Some(e.request_id.clone())),
        col(|e| Some(e.method.clone())),
        col(|e| Some(e.path.clone())),
        col(|e| Some(e.op.clone())),
    );
    let (clients, rtypes, resource_ids, scim_types, client_request_ids) = (
        col(|e| e.client.clone()),
        col(|e| e.rtype.clone()),
        col(|e| e.resource_id.clone()),
        col(|e| e.scim_type.clone()),
        col(|e| e.client_request_id.clone()),
    );
    let sql = "INSERT INTO api_events (tenant_id, time, request_id, client, method, path, rtype, resource_id, op, \
               status, scim_type, duration_ms, deactivated, client_request_id) \
               SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], \
               ?::text[], ?::text[], ?::bigint[], ?::text[], ?::float8[], ?::bool[], ?::text[])";
    let p: [&dyn Param; 14] = [
        &List(&tenants),
        &List(&times),
        &List(&request_ids),
        &List(&clients),
        &List(&methods),
        &List(&paths),
        &List(&rtypes),
        &List(&resource_ids),
        &List(&ops),
        &List(&statuses),
        &List(&scim_types),
        &List(&durations),
        &List(&deactivated),
        &List(&client_request_ids),
    ];
    db.execute(sql, &p).await.map_err(failed)?;
    Ok(())
}

/// Writes a batch of the audit sink in the shell's one unit; `next` says where each new
/// event goes (SQLite: the journal, with the id the writer hands out). Whether it wrote an
/// event.
pub(crate) async fn record(
    db: &impl Db,
    batch: &[AuditRecord],
    mut next: impl FnMut() -> StoreResult<Events>,
) -> StoreResult<bool> {
    let errors = match db.dialect() {
        Dialect::Sqlite => {
            "INSERT INTO audit.error_log (time, request_id, tenant_id, method, path, detail, backtrace) \
             VALUES (?, ?, ?, ?, ?, ?, ?)"
        }
        Dialect::Postgres => {
            "INSERT INTO error_log (time, request_id, tenant_id, method, path, detail, backtrace) \
             VALUES (?, ?, ?, ?, ?, ?, ?)"
        }
    };
    let mut events = false;
    // PostgreSQL: the events without details (reads, mostly) in one statement, not one
    // round trip each; their ids are not needed (nothing refers to them).
    let at_once = db.dialect() == Dialect::Postgres;
    if at_once {
        let plain: Vec<&NewEvent> = batch
            .iter()
            .filter_map(|r| match r {
                AuditRecord::Event(e, None) => Some(e),
                _ => None,
            })
            .collect();
        if !plain.is_empty() {
            insert_events_at_once(db, &plain).await?;
            events = true;
        }
    }
    for r in batch {
        match r {
            AuditRecord::Event(_, None) if at_once => {}
            AuditRecord::Event(e, details) => {
                let id = insert_event(db, e, next()?).await?;
                events = true;
                if let Some(d) = details {
                    insert_details(db, id, e.tenant, e.time.timestamp_millis(), d).await?;
                }
            }
            AuditRecord::Details { event, tenant, time, details } => {
                insert_details(db, *event, *tenant, time.timestamp_millis(), details).await?
            }
            AuditRecord::Error(e) => {
                let p: [&dyn Param; 7] = [
                    &normalized_time(e.time),
                    &e.request_id,
                    &e.tenant.map(|t| t.0),
                    &e.method,
                    &e.path,
                    &e.detail,
                    &e.backtrace,
                ];
                db.execute(errors, &p).await.map_err(failed)?;
            }
        }
    }
    Ok(events)
}

/// Milliseconds since the epoch as the event time text both stores give.
fn ms_text(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn status(code: i64) -> u16 {
    u16::try_from(code).unwrap_or(0)
}

fn event(r: &impl Row) -> StoreResult<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        time: ms_text(r.get(1)?),
        request_id: r.get(2)?,
        client: r.get(3)?,
        method: r.get(4)?,
        path: r.get(5)?,
        rtype: r.get(6)?,
        resource_id: r.get(7)?,
        op: r.get(8)?,
        status: status(r.get(9)?),
        scim_type: r.get(10)?,
        duration_ms: r.get(11)?,
        deactivated: r.get(12)?,
        client_request_id: r.get(13)?,
    })
}

// The conditions of an event query, for each file's events (parameters: see `events`).
macro_rules! event_where {
    () => {
        "tenant_id = ? AND time >= coalesce(CAST(? AS BIGINT), 0) \
         AND time < coalesce(CAST(? AS BIGINT), 9223372036854775807) AND (CAST(? AS TEXT) IS NULL OR client = ?) \
         AND (CAST(? AS BIGINT) IS NULL OR status = ?) AND (CAST(? AS BIGINT) IS NULL OR status / 100 = ?) \
         AND (CAST(? AS TEXT) IS NULL OR op = ?) \
         AND (CAST(? AS BIGINT) IS NULL OR id < ?)"
    };
}
macro_rules! event_cols {
    () => {
        "id, time, request_id, client, method, path, rtype, resource_id, op, status, scim_type, duration_ms, \
         deactivated, client_request_id"
    };
}

/// A tenant's events, newest first.
pub(crate) async fn events(db: &impl Db, tenant: TenantId, q: &EventQuery) -> StoreResult<Vec<EventRow>> {
    let (status, limit) = (q.status.map(i64::from), i64::from(q.limit.max(1)));
    let class = q.status_class.map(i64::from);
    let w: [&dyn Param; 13] = [
        &tenant.0, &q.from, &q.to, &q.client, &q.client, &status, &status, &class, &class, &q.op, &q.op, &q.before,
        &q.before,
    ];
    let sql = match db.dialect() {
        // Each file's newest matches by its primary key, then merged.
        Dialect::Sqlite => concat!(
            "SELECT ",
            event_cols!(),
            " FROM (SELECT * FROM (SELECT * FROM main.api_events WHERE ",
            event_where!(),
            " ORDER BY time DESC, id DESC LIMIT ?) UNION ALL SELECT * FROM (SELECT * FROM audit.api_events WHERE ",
            event_where!(),
            " ORDER BY time DESC, id DESC LIMIT ?)) ORDER BY time DESC, id DESC LIMIT ?"
        ),
        Dialect::Postgres => concat!(
            "SELECT ",
            event_cols!(),
            " FROM api_events WHERE ",
            event_where!(),
            " ORDER BY time DESC, id DESC LIMIT ?"
        ),
    };
    // Each file's conditions and limit, then (SQLite) the merged limit.
    let files = tables(db.dialect()).events.len();
    let mut p: Vec<&dyn Param> = Vec::with_capacity(files * (w.len() + 1) + 1);
    for _ in 0..files {
        p.extend(w);
        p.push(&limit);
    }
    if files > 1 {
        p.push(&limit);
    }
    db.query(sql, &p, |r| event(r)).await
}

pub(crate) async fn details(db: &impl Db, tenant: TenantId, event: i64) -> StoreResult<Option<EventDetails>> {
    let sql = format!(
        "SELECT request_headers, request_body, response_headers, response_body FROM {} WHERE event = ? AND tenant_id = ?",
        tables(db.dialect()).details
    );
    db.query_opt(&sql, &[&event, &tenant.0], |r| {
        Ok(EventDetails {
            request_headers: r.get(0)?,
            request_body: r.get(1)?,
            response_headers: r.get(2)?,
            response_body: r.get(3)?,
        })
    })
    .await
}

/// A tenant's events in `[from, to)` (milliseconds), counted by kind and outcome.
pub(crate) async fn counts(db: &impl Db, tenant: TenantId, from: i64, to: i64) -> StoreResult<Vec<EventCount>> {
    let source = match db.dialect() {
        Dialect::Sqlite => "(SELECT * FROM main.api_events UNION ALL SELECT * FROM audit.api_events)",
        Dialect::Postgres => "api_events",
    };
    let sql = format!(
        "SELECT rtype, op, status, scim_type, deactivated, count(*), min(time), max(time) FROM {source} \
         WHERE tenant_id = ? AND time >= ? AND time < ? GROUP BY rtype, op, status, scim_type, deactivated"
    );
    db.query(&sql, &[&tenant.0, &from, &to], |r| event_count(r, 0)).await
}

/// An outcome's count from its row: `rtype, op, status, scim_type, deactivated, count(*),
/// min(time), max(time)` from column `at`.
fn event_count(r: &impl Row, at: usize) -> StoreResult<EventCount> {
    Ok(EventCount {
        rtype: r.get(at)?,
        op: r.get(at + 1)?,
        status: status(r.get(at + 2)?),
        scim_type: r.get(at + 3)?,
        deactivated: r.get(at + 4)?,
        count: r.get::<i64>(at + 5)?.max(0) as u64,
        first: ms_text(r.get(at + 6)?),
        last: ms_text(r.get(at + 7)?),
    })
}

/// A tenant's events in `[from, to)` counted by outcome in buckets of `width` ms from
/// `origin`: one pass over the tenant's events of the window (its key), grouped by bucket
/// and outcome.
pub(crate) async fn buckets(
    db: &impl Db,
    tenant: TenantId,
    origin: i64,
    width: i64,
    from: i64,
    to: i64,
) -> StoreResult<Vec<EventBucket>> {
    let source = match db.dialect() {
        Dialect::Sqlite => {
            "(SELECT tenant_id, time, rtype, op, status, scim_type, deactivated FROM main.api_events \
             UNION ALL SELECT tenant_id, time, rtype, op, status, scim_type, deactivated FROM audit.api_events)"
        }
        Dialect::Postgres => "api_events",
    };
    let sql = format!(
        "SELECT (time - CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS b, rtype, op, status, scim_type, deactivated, \
         count(*), min(time), max(time) FROM {source} WHERE tenant_id = ? AND time >= ? AND time < ? \
         GROUP BY b, rtype, op, status, scim_type, deactivated ORDER BY b"
    );
    let width = width.max(1);
    db.query(&sql, &[&origin, &width, &tenant.0, &from, &to], |r| {
        Ok(EventBucket { index: r.get(0)?, count: event_count(r, 1)? })
    })
    .await
}

/// The error log in `[from, to)`, newest first, of one tenant or all.
pub(crate) async fn errors(
    db: &impl Db,
    tenant: Option<TenantId>,
    from: &str,
    to: &str,
    limit: u32,
) -> StoreResult<Vec<ErrorRow>> {
    let sql = format!(
        "SELECT id, time, request_id, tenant_id, method, path, detail, backtrace FROM {} \
         WHERE time >= ? AND time < ? AND (CAST(? AS BIGINT) IS NULL OR tenant_id = ?) \
         ORDER BY time DESC, id DESC LIMIT ?",
        tables(db.dialect()).errors
    );
    let tenant = tenant.map(|t| t.0);
    db.query(&sql, &[&from, &to, &tenant, &tenant, &i64::from(limit.max(1))], |r| {
        Ok(ErrorRow {
            id: r.get(0)?,
            time: r.get(1)?,
            request_id: r.get(2)?,
            tenant_id: r.get(3)?,
            method: r.get(4)?,
            path: r.get(5)?,
            detail: r.get(6)?,
            backtrace: r.get(7)?,
        })
    })
    .await
}

/// What a purge deletes before: per tenant (id, events cutoff, payloads cutoff, in
/// milliseconds), tenant 0 (events of no tenant) kept `default_days`, and the error log's
/// cutoff (its time text).
pub(crate) struct Cutoffs {
    tenants: Vec<(i64, i64, i64)>,
    errors: String,
}

/// Reads the tenants' retention; [`purge`] then deletes what is past it.
pub(crate) async fn cutoffs(db: &impl Db, now: DateTime<Utc>, default_days: i64) -> StoreResult<Cutoffs> {
    let day = |d: i64| (now - chrono::TimeDelta::days(d.max(0))).timestamp_millis();
    let mut tenants = db
        .query("SELECT id, audit_events_days, audit_details_days FROM tenants", &[], |r| {
            Ok((r.get::<i64>(0)?, day(r.get(1)?), day(r.get(2)?)))
        })
        .await?;
    // Tenant 0: events of no tenant, kept `default_days`.
    tenants.push((0, day(default_days), day(default_days)));
    Ok(Cutoffs { tenants, errors: normalized_time(now - chrono::TimeDelta::days(default_days.max(0))) })
}

/// Deletes at most `batch` payloads, events and errors past their cutoffs; how many.
pub(crate) async fn purge(db: &impl Db, cutoffs: &Cutoffs, batch: u32) -> StoreResult<u64> {
    let t = tables(db.dialect());
    let mut left = i64::from(batch);
    let mut n = 0u64;
    for (tenant, events_cutoff, details_cutoff) in &cutoffs.tenants {
        let details = format!(
            "DELETE FROM {0} WHERE event IN (SELECT event FROM {0} WHERE tenant_id = ? AND time < ? LIMIT ?)",
            t.details
        );
        let events = t.events.iter().map(|table| {
            format!(
                "DELETE FROM {table} WHERE (tenant_id, time, id) IN \
                 (SELECT tenant_id, time, id FROM {table} WHERE tenant_id = ? AND time < ? LIMIT ?)"
            )
        });
        for (sql, cutoff) in std::iter::once((details, details_cutoff)).chain(events.map(|sql| (sql, events_cutoff))) {
            if left <= 0 {
                return Ok(n);
            }
            let k = db.execute(&sql, &[tenant, cutoff, &left]).await.map_err(failed)?;
            left -= k as i64;
            n += k;
        }
    }
    if left > 0 {
        let sql = format!("DELETE FROM {0} WHERE id IN (SELECT id FROM {0} WHERE time < ? LIMIT ?)", t.errors);
        n += db.execute(&sql, &[&cutoffs.errors, &left]).await.map_err(failed)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event times were SQLite's `strftime` text; both stores now give `ms_text`'s.
    #[test]
    fn event_times_read_as_sqlite_wrote_them() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        for ms in [0i64, 1, 999, 1_000, 1_733_331_258_123, 1_733_331_259_999, 4_102_444_799_999] {
            let sqlite: String = c
                .query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ? / 1000.0, 'unixepoch')", [ms], |r| r.get(0))
                .unwrap();
            assert_eq!(ms_text(ms), sqlite, "{ms}");
        }
    }

    #[test]
    fn an_audit_write_never_reports_a_conflict() {
        assert!(matches!(failed(StoreError::Conflict("boom".into())), StoreError::Internal(m) if m == "boom"));
        assert!(matches!(failed(StoreError::NotFound), StoreError::NotFound));
    }
}
