//! Asynchronous requests, written once for both databases: kept before their `202`, leased
//! by one replica at a time, each operation recorded done with its completion event, and
//! deleted when all are done.

use chrono::{DateTime, Utc};
use scimd_core::events::{Draft, EventType};

use crate::async_requests::{AsyncRequest, NewAsyncRequest, OpDone};
use crate::db::{Db, Dialect, Row};
use crate::roles::events::{self, Subject};
use crate::{StoreResult, TenantId, normalized_time};

pub(crate) async fn add(db: &impl Db, tenant: TenantId, r: NewAsyncRequest, now: DateTime<Utc>) -> StoreResult<()> {
    let sql = "INSERT INTO async_requests (txn, tenant_id, body, client, client_request_id, base_url, created) \
               VALUES (?, ?, ?, ?, ?, ?, ?)";
    let now = normalized_time(now);
    db.execute(sql, &[&r.txn, &tenant.0, &r.body, &r.client, &r.client_request_id, &r.base_url, &now]).await?;
    Ok(())
}

pub(crate) async fn claim(
    db: &impl Db,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
    limit: u32,
) -> StoreResult<Vec<AsyncRequest>> {
    // PostgreSQL: a request another replica is leasing right now is skipped, not waited for.
    let lock = match db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE async_requests SET lease_owner = ?, lease_until = ? WHERE txn IN (SELECT txn FROM async_requests \
         WHERE lease_owner IS NULL OR lease_until < ? OR lease_owner = ? ORDER BY created, txn LIMIT ? {lock}) \
         RETURNING txn"
    );
    let txns: Vec<String> =
        db.query(&sql, &[&owner, &until_ms, &now_ms, &owner, &(limit as i64)], |r| r.get(0)).await?;
    let mut out = Vec::with_capacity(txns.len());
    for txn in txns {
        let sql = "SELECT txn, tenant_id, body, client, client_request_id, base_url, created FROM async_requests \
                   WHERE txn = ?";
        let found = db
            .query_opt(sql, &[&txn], |r| {
                Ok(AsyncRequest {
                    txn: r.get(0)?,
                    tenant: TenantId(r.get(1)?),
                    body: r.get(2)?,
                    client: r.get(3)?,
                    client_request_id: r.get(4)?,
                    base_url: r.get(5)?,
                    created: r.get(6)?,
                    done: Vec::new(),
                })
            })
            .await?;
        if let Some(mut req) = found {
            let sql = "SELECT op_index, result FROM async_request_ops WHERE txn = ? ORDER BY op_index";
            req.done = db.query(sql, &[&txn], |r| Ok((r.get(0)?, r.get(1)?))).await?;
            out.push(req);
        }
    }
    Ok(out)
}

pub(crate) async fn op_done(
    db: &impl Db,
    tenant: TenantId,
    txn: &str,
    owner: &str,
    done: OpDone,
    until_ms: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    // Fenced: a replica whose lease was taken over records nothing (on PostgreSQL this
    // also locks the request's row until the commit).
    let sql = "UPDATE async_requests SET lease_until = ?, next_op = next_op + 1 \
               WHERE txn = ? AND tenant_id = ? AND lease_owner = ?";
    if db.execute(sql, &[&until_ms, &txn, &tenant.0, &owner]).await? == 0 {
        return Ok(false);
    }
    let result = done.result.to_string();
    let ins = "INSERT INTO async_request_ops (txn, op_index, result) VALUES (?, ?, ?)";
    db.execute(ins, &[&txn, &done.index, &result]).await?;
    if events::recording(db, tenant).await?.is_some() {
        let subject =
            Subject { kind: done.kind, id: done.subject, external_id: None, version: done.version, data: None };
        let draft = Draft { event: EventType::AsyncResponse, payload: done.result };
        // RFC 9967 §2.5.1.2: the request's txn and the operation's zero-based index.
        let op_txn = format!("{txn}:{}", done.index);
        events::append(db, tenant, vec![(subject, draft)], Some(&op_txn), &normalized_time(now)).await?;
    }
    Ok(true)
}

pub(crate) async fn finish(db: &impl Db, tenant: TenantId, txn: &str, owner: &str) -> StoreResult<bool> {
    let sql = "DELETE FROM async_requests WHERE txn = ? AND tenant_id = ? AND lease_owner = ?";
    if db.execute(sql, &[&txn, &tenant.0, &owner]).await? == 0 {
        return Ok(false);
    }
    db.execute("DELETE FROM async_request_ops WHERE txn = ?", &[&txn]).await?;
    Ok(true)
}
