//! Events and event streams, written once for both databases: recording a change's events
//! in its transaction (numbered by the tenant's counter), streams and their progress,
//! leases, poll acknowledgements, and the retention bound.
//!
//! Ordering: the counter row is updated last in a change's transaction, so on PostgreSQL
//! its row lock is held from there to the commit; the next change of the tenant takes the
//! next number only once this one committed. A tenant's numbers are therefore gap-free
//! and in commit order, and a cursor never passes an event that commits later. SQLite's
//! one writer gives the same order.

use chrono::{DateTime, Utc};
use scimd_core::events::{Draft, Event, EventType};
use scimd_core::schema::ResourceKind;

use crate::db::{Db, Dialect, Row};
use crate::events::{Method, NewStream, Progress, Purged, StoredEvent, Stream, StreamChange, filter_from, filter_to};
use crate::{StoreError, StoreResult, TenantId, kind_code, kind_from_code, normalized_time};

/// Whether the tenant records events (it has a stream), and if so whether a stream wants
/// the full form. One primary-key probe: what a write of a tenant without streams pays.
pub(crate) async fn recording(db: &impl Db, tenant: TenantId) -> StoreResult<Option<bool>> {
    db.query_opt("SELECT full_form FROM event_counters WHERE tenant_id = ?", &[&tenant.0], |r| r.get(0)).await
}

/// The resource an event is about.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub(crate) kind: ResourceKind,
    pub(crate) id: String,
    pub(crate) external_id: Option<String>,
    pub(crate) version: Option<i64>,
    /// The resource as stored, and when it was created, for streams that want the full form.
    pub(crate) data: Option<(String, String)>,
}

impl Subject {
    /// A resource's subject; `full`: its stored document and creation time, for streams
    /// that want the full form.
    pub(crate) fn new(
        kind: ResourceKind,
        id: &str,
        version: Option<i64>,
        external_id: Option<String>,
        full: Option<(&str, &str)>,
    ) -> Subject {
        let data = full.map(|(doc, created)| (doc.to_string(), created.to_string()));
        Subject { kind, id: id.to_string(), external_id, version, data }
    }
}

/// A document's `externalId`.
pub(crate) fn external_id(doc: &serde_json::Value) -> Option<String> {
    doc.get("externalId").and_then(|x| x.as_str()).map(str::to_string)
}

/// A stored document's `externalId`, read from its text.
pub(crate) fn stored_external_id(doc: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(doc).ok().as_ref().and_then(external_id)
}

/// Records events of a change, numbered after the tenant's last: the counter first (on
/// PostgreSQL its row lock orders the tenant's changes from here to the commit).
pub(crate) async fn append(
    db: &impl Db,
    tenant: TenantId,
    items: Vec<(Subject, Draft)>,
    txn: Option<&str>,
    now: &str,
) -> StoreResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let n = items.len() as i64;
    let sql = "UPDATE event_counters SET last_seq = last_seq + ? WHERE tenant_id = ? RETURNING last_seq";
    let Some(last) = db.query_opt(sql, &[&n, &tenant.0], |r| r.get::<i64>(0)).await? else {
        // The tenant's last stream was deleted meanwhile.
        return Ok(());
    };
    let time_ms = DateTime::parse_from_rfc3339(now).map(|t| t.timestamp_millis()).unwrap_or_default();
    let ins = "INSERT INTO events (tenant_id, seq, jti, time_ms, rtype, scim_id, external_id, version, event, payload, \
               txn, data, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    for (i, (s, d)) in items.into_iter().enumerate() {
        let seq = last - n + 1 + i as i64;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let payload = d.payload.to_string();
        let (data, created) = s.data.unzip();
        db.execute(
            ins,
            &[
                &tenant.0,
                &seq,
                &jti,
                &time_ms,
                &kind_code(s.kind),
                &s.id,
                &s.external_id,
                &s.version,
                &d.event.name(),
                &payload,
                &txn,
                &data,
                &created,
            ],
        )
        .await?;
    }
    Ok(())
}

const STREAM_COLUMNS: &str = "s.id, s.tenant_id, t.name, s.method, s.url, s.audience, s.full_form, s.kinds, s.events, \
     s.secret, s.paused, s.done_seq, coalesce(c.last_seq, s.done_seq), \
     (SELECT e.time_ms FROM events e WHERE e.tenant_id = s.tenant_id AND e.seq > s.done_seq ORDER BY e.seq LIMIT 1), \
     s.next_attempt, s.attempts, s.failing_since, s.last_error, s.delivered, s.rejected, s.dropped, s.created, s.updated \
     FROM event_streams s JOIN tenants t ON t.id = s.tenant_id LEFT JOIN event_counters c ON c.tenant_id = s.tenant_id";

fn stream_row(r: &impl Row) -> StoreResult<Stream> {
    let method: String = r.get(3)?;
    Ok(Stream {
        id: r.get(0)?,
        tenant: TenantId(r.get(1)?),
        tenant_name: r.get(2)?,
        method: Method::parse(&method)
            .ok_or_else(|| StoreError::Internal(format!("unknown stream method {method}")))?,
        url: r.get(4)?,
        audience: r.get(5)?,
        full: r.get(6)?,
        filter: filter_from(r.get(7)?, r.get(8)?),
        secret: r.get(9)?,
        paused: r.get(10)?,
        cursor: r.get(11)?,
        last_seq: r.get(12)?,
        oldest_pending_ms: r.get(13)?,
        next_attempt_ms: r.get(14)?,
        attempts: r.get(15)?,
        failing_since_ms: r.get(16)?,
        last_error: r.get(17)?,
        delivered: r.get(18)?,
        rejected: r.get(19)?,
        dropped: r.get(20)?,
        created: r.get(21)?,
        updated: r.get(22)?,
    })
}

pub(crate) async fn add_stream(
    db: &impl Db,
    tenant: TenantId,
    s: NewStream,
    now: DateTime<Utc>,
) -> StoreResult<Stream> {
    let now = normalized_time(now);
    // The counter exists while the tenant has streams; a new stream starts at its value.
    let counter = "INSERT INTO event_counters (tenant_id, last_seq, full_form) VALUES (?, 0, ?) \
                   ON CONFLICT (tenant_id) DO UPDATE SET full_form = event_counters.full_form OR excluded.full_form \
                   RETURNING last_seq";
    let last: i64 = db
        .query_opt(counter, &[&tenant.0, &s.full], |r| r.get(0))
        .await?
        .ok_or_else(|| StoreError::Internal("the event counter returned no row".into()))?;
    let (kinds, events) = filter_to(&s.filter);
    let ins = "INSERT INTO event_streams (id, tenant_id, method, url, audience, full_form, kinds, events, secret, \
               token_hash, done_seq, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    db.execute(
        ins,
        &[
            &s.id,
            &tenant.0,
            &s.method.as_str(),
            &s.url,
            &s.audience,
            &s.full,
            &kinds,
            &events,
            &s.secret,
            &s.token_hash,
            &last,
            &now,
            &now,
        ],
    )
    .await?;
    stream(db, tenant, &s.id).await?.ok_or_else(|| StoreError::Internal("a stream vanished".into()))
}

pub(crate) async fn streams(db: &impl Db, tenant: Option<TenantId>) -> StoreResult<Vec<Stream>> {
    match tenant {
        Some(t) => {
            let sql = format!("SELECT {STREAM_COLUMNS} WHERE s.tenant_id = ? ORDER BY s.created, s.id");
            db.query(&sql, &[&t.0], |r| stream_row(r)).await
        }
        None => db.query(&format!("SELECT {STREAM_COLUMNS} ORDER BY s.created, s.id"), &[], |r| stream_row(r)).await,
    }
}

pub(crate) async fn stream(db: &impl Db, tenant: TenantId, id: &str) -> StoreResult<Option<Stream>> {
    let sql = format!("SELECT {STREAM_COLUMNS} WHERE s.tenant_id = ? AND s.id = ?");
    db.query_opt(&sql, &[&tenant.0, &id], |r| stream_row(r)).await
}

pub(crate) async fn poll_stream(db: &impl Db, token_hash: &str) -> StoreResult<Option<Stream>> {
    let sql = format!("SELECT {STREAM_COLUMNS} WHERE s.token_hash = ? AND s.method = 'poll'");
    db.query_opt(&sql, &[&token_hash], |r| stream_row(r)).await
}

pub(crate) async fn change_stream(
    db: &impl Db,
    tenant: TenantId,
    id: &str,
    c: StreamChange,
    now: DateTime<Utc>,
) -> StoreResult<Option<Stream>> {
    let now = normalized_time(now);
    let sql = "UPDATE event_streams SET paused = coalesce(?, paused), updated = ? WHERE tenant_id = ? AND id = ?";
    if db.execute(sql, &[&c.paused, &now, &tenant.0, &id]).await? == 0 {
        return Ok(None);
    }
    stream(db, tenant, id).await
}

pub(crate) async fn replace_stream_secret(db: &impl Db, id: &str, old: &str, new: &str) -> StoreResult<bool> {
    let sql = "UPDATE event_streams SET secret = ? WHERE id = ? AND secret = ?";
    Ok(db.execute(sql, &[&new, &id, &old]).await? > 0)
}

pub(crate) async fn delete_stream(db: &impl Db, tenant: TenantId, id: &str) -> StoreResult<bool> {
    if db.execute("DELETE FROM event_streams WHERE tenant_id = ? AND id = ?", &[&tenant.0, &id]).await? == 0 {
        return Ok(false);
    }
    let left = "SELECT count(*), count(CASE WHEN full_form THEN 1 END) FROM event_streams WHERE tenant_id = ?";
    let (count, full): (i64, i64) =
        db.query_opt(left, &[&tenant.0], |r| Ok((r.get(0)?, r.get(1)?))).await?.unwrap_or((0, 0));
    if count == 0 {
        db.execute("DELETE FROM event_counters WHERE tenant_id = ?", &[&tenant.0]).await?;
        db.execute("DELETE FROM events WHERE tenant_id = ?", &[&tenant.0]).await?;
    } else {
        db.execute("UPDATE event_counters SET full_form = ? WHERE tenant_id = ?", &[&(full > 0), &tenant.0]).await?;
    }
    Ok(true)
}

fn event_row(r: &impl Row) -> StoreResult<StoredEvent> {
    let event: String = r.get(7)?;
    let payload: String = r.get(8)?;
    Ok(StoredEvent {
        event: Event {
            seq: r.get(0)?,
            jti: r.get(1)?,
            time_ms: r.get(2)?,
            kind: kind_from_code(r.get(3)?),
            resource_id: r.get(4)?,
            external_id: r.get(5)?,
            version: r.get(6)?,
            event: EventType::parse(&event).ok_or_else(|| StoreError::Internal(format!("unknown event {event}")))?,
            payload: serde_json::from_str(&payload).map_err(|e| StoreError::Internal(e.to_string()))?,
            txn: r.get(9)?,
        },
        data: r.get(10)?,
        created: r.get(11)?,
    })
}

pub(crate) async fn events_after(
    db: &impl Db,
    tenant: TenantId,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<StoredEvent>> {
    let sql = "SELECT seq, jti, time_ms, rtype, scim_id, external_id, version, event, payload, txn, data, created FROM events \
               WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?";
    db.query(sql, &[&tenant.0, &after, &(limit as i64)], |r| event_row(r)).await
}

pub(crate) async fn claim_streams(
    db: &impl Db,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
    limit: u32,
) -> StoreResult<Vec<Stream>> {
    // PostgreSQL: a stream another replica is leasing right now is skipped, not waited for.
    let lock = match db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => "FOR UPDATE OF s SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE event_streams SET lease_owner = ?, lease_until = ? WHERE id IN (SELECT s.id FROM event_streams s \
         JOIN event_counters c ON c.tenant_id = s.tenant_id WHERE s.method <> 'poll' AND s.paused = ? \
         AND s.next_attempt <= ? AND c.last_seq > s.done_seq \
         AND (s.lease_owner IS NULL OR s.lease_until < ? OR s.lease_owner = ?) \
         ORDER BY s.next_attempt, s.id LIMIT ? {lock}) RETURNING id"
    );
    let ids: Vec<String> =
        db.query(&sql, &[&owner, &until_ms, &false, &now_ms, &now_ms, &owner, &(limit as i64)], |r| r.get(0)).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let sql = format!("SELECT {STREAM_COLUMNS} WHERE s.id = ?");
        if let Some(s) = db.query_opt(&sql, &[&id], |r| stream_row(r)).await? {
            out.push(s);
        }
    }
    Ok(out)
}

pub(crate) async fn release_streams(db: &impl Db, owner: &str) -> StoreResult<()> {
    let sql = "UPDATE event_streams SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?";
    db.execute(sql, &[&owner]).await.map(|_| ())
}

pub(crate) async fn advance_stream(
    db: &impl Db,
    id: &str,
    owner: Option<&str>,
    p: Progress,
    now_ms: i64,
) -> StoreResult<bool> {
    let greatest = match db.dialect() {
        Dialect::Sqlite => "max",
        Dialect::Postgres => "GREATEST",
    };
    // Fenced: a replica whose lease expired (and was taken over, or given back) records
    // nothing. A poll stream (no owner) is never leased.
    let fence = "AND coalesce(lease_owner, '') = ?";
    let lease = if p.release { "lease_owner = NULL, lease_until = 0," } else { "" };
    let owner = owner.unwrap_or("");
    let n = match &p.failure {
        None => {
            let sql = format!(
                "UPDATE event_streams SET {lease} done_seq = {greatest}(done_seq, ?), delivered = delivered + ?, \
                 rejected = rejected + ?, attempts = 0, failing_since = NULL, next_attempt = 0 WHERE id = ? {fence}"
            );
            db.execute_once(&sql, &[&p.cursor, &p.delivered, &p.rejected, &id, &owner]).await?
        }
        Some((reason, next)) => {
            let sql = format!(
                "UPDATE event_streams SET {lease} done_seq = {greatest}(done_seq, ?), delivered = delivered + ?, \
                 rejected = rejected + ?, attempts = attempts + 1, failing_since = coalesce(failing_since, ?), \
                 last_error = ?, next_attempt = ? WHERE id = ? {fence}"
            );
            db.execute_once(&sql, &[&p.cursor, &p.delivered, &p.rejected, &now_ms, reason, next, &id, &owner]).await?
        }
    };
    Ok(n > 0)
}

/// How many events past the cursor an acknowledgement looks at to move it.
const ACK_WINDOW: u32 = 10_000;

pub(crate) async fn acknowledge(db: &impl Db, s: &Stream, jtis: Vec<String>) -> StoreResult<Vec<String>> {
    let mut unknown = Vec::new();
    let find = "SELECT seq FROM events WHERE tenant_id = ? AND jti = ?";
    let record = match db.dialect() {
        Dialect::Sqlite => "INSERT OR IGNORE INTO event_acks (stream_id, seq) VALUES (?, ?)",
        Dialect::Postgres => "INSERT INTO event_acks (stream_id, seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
    };
    for jti in jtis {
        match db.query_opt(find, &[&s.tenant.0, &jti], |r| r.get::<i64>(0)).await? {
            Some(seq) if seq > s.cursor => {
                db.execute(record, &[&s.id, &seq]).await?;
            }
            Some(_) => {}
            None => unknown.push(jti),
        }
    }
    // The cursor moves over every event acknowledged, or not for this stream.
    let acked: std::collections::BTreeSet<i64> = db
        .query("SELECT seq FROM event_acks WHERE stream_id = ? ORDER BY seq", &[&s.id], |r| r.get(0))
        .await?
        .into_iter()
        .collect();
    let mut cursor = s.cursor;
    let mut delivered = 0;
    for e in events_after(db, s.tenant, s.cursor, ACK_WINDOW).await? {
        let seq = e.event.seq;
        if seq != cursor + 1 {
            break;
        }
        if acked.contains(&seq) {
            delivered += 1;
        } else if s.filter.admits(&e.event) {
            break;
        }
        cursor = seq;
    }
    if cursor > s.cursor {
        advance_stream(db, &s.id, None, Progress { cursor, delivered, ..Progress::default() }, 0).await?;
        db.execute("DELETE FROM event_acks WHERE stream_id = ? AND seq <= ?", &[&s.id, &cursor]).await?;
    }
    Ok(unknown)
}

pub(crate) async fn acknowledged(db: &impl Db, stream: &str) -> StoreResult<Vec<i64>> {
    db.query("SELECT seq FROM event_acks WHERE stream_id = ? ORDER BY seq", &[&stream], |r| r.get(0)).await
}

pub(crate) async fn purge_events(db: &impl Db, keep_after_ms: i64) -> StoreResult<Purged> {
    let mut out = Purged::default();
    let sql = "SELECT tenant_id, min(done_seq) FROM event_streams GROUP BY tenant_id";
    let tenants: Vec<(i64, i64)> = db.query(sql, &[], |r| Ok((r.get(0)?, r.get(1)?))).await?;
    for (tenant, min_done) in tenants {
        // Too old to keep: up to the newest such event. Streams behind it lose what they
        // had not delivered, and count it.
        let sql = "SELECT max(seq) FROM events WHERE tenant_id = ? AND time_ms < ?";
        let cut = db.query_opt(sql, &[&tenant, &keep_after_ms], |r| r.get::<Option<i64>>(0)).await?.flatten();
        let upto = match cut {
            Some(cut) if cut > min_done => {
                let sql = "SELECT count(*) FROM events WHERE tenant_id = ? AND seq > ? AND seq <= ?";
                let lost: i64 = db.query_opt(sql, &[&tenant, &min_done, &cut], |r| r.get(0)).await?.unwrap_or(0);
                out.dropped += lost.max(0) as u64;
                let behind = "UPDATE event_streams SET dropped = dropped + (? - done_seq), done_seq = ? \
                              WHERE tenant_id = ? AND done_seq < ?";
                db.execute(behind, &[&cut, &cut, &tenant, &cut]).await?;
                let acks = "DELETE FROM event_acks WHERE seq <= ? \
                            AND stream_id IN (SELECT id FROM event_streams WHERE tenant_id = ?)";
                db.execute(acks, &[&cut, &tenant]).await?;
                cut
            }
            _ => min_done,
        };
        let sql = "DELETE FROM events WHERE tenant_id = ? AND seq <= ? AND seq <= ?";
        let n = db.execute(sql, &[&tenant, &min_done, &upto]).await?;
        out.delivered += n;
        if upto > min_done {
            db.execute("DELETE FROM events WHERE tenant_id = ? AND seq <= ?", &[&tenant, &upto]).await?;
        }
    }
    Ok(out)
}
