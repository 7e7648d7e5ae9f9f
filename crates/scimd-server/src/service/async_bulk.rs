//! Asynchronous Bulk requests (RFC 9967 §2.5.1): a BulkRequest sent with
//! `Prefer: respond-async` by a tenant that has an event stream is checked as a whole,
//! kept in the store (sealed: it may hold passwords) and answered `202` with its
//! `Set-Txn`; a background task then runs it, and each operation's outcome reaches the
//! tenant's streams as a `misc:asyncresp` event whose `txn` is `<Set-Txn>:<index>`.
//!
//! Durability: the request is stored before the `202`. The replica that leases it runs
//! its operations through the same use cases as a synchronous Bulk request, and records
//! each one done together with its completion event, in one transaction. A replica that
//! takes over after a crash (the lease expired) goes on with the operations not recorded:
//! at least once per operation. An operation interrupted between its change and that
//! record runs again: a POST then meets its own user (409, userName taken; a group, which
//! has no unique attribute, is created twice), a PATCH is applied again (the same values,
//! a new version), a DELETE finds nothing (404).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use scimd_store::{AsyncRequest, AuditRecord, NewAsyncRequest, OpDone};

use super::bulk::{Op, outcome_subject};
use super::*;
use crate::audit::AuditSink;

/// How long a replica holds a request it runs; each operation recorded extends it.
const LEASE: Duration = Duration::from_secs(30);
/// How often a replica looks for requests when it was not woken.
const IDLE_EVERY: Duration = Duration::from_millis(500);
/// Requests run at once by one replica.
const AT_ONCE: u32 = 4;

/// A leased asynchronous request being run: where its outcomes are recorded.
pub(super) struct AsyncRun {
    txn: String,
    owner: String,
    sink: AuditSink,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Service {
    /// Takes a BulkRequest to run in the background, when the tenant has an event stream
    /// to tell the outcome: checks it as a whole (what refuses it is an error now, as for
    /// a synchronous request), stores it and returns its `txn` (the request's id). `None`
    /// when the tenant has no stream: the request is then answered synchronously, which
    /// RFC 7240 allows (a preference may be ignored).
    pub async fn bulk_async(&self, ctx: &Ctx, body: &Value) -> AppResult<Option<String>> {
        self.bulk_plan(ctx, body)?;
        if self.store.streams(Some(ctx.tenant)).await?.is_empty() {
            return Ok(None);
        }
        let info = ctx.audit.as_ref().map(|a| a.info()).unwrap_or_default();
        let txn = ctx.audit.as_ref().map_or_else(crate::oauth::random_id, |a| a.request_id.clone());
        let sealed = self.config.keyring.seal(body.to_string().as_bytes());
        let request = NewAsyncRequest {
            txn: txn.clone(),
            body: base64::engine::general_purpose::STANDARD.encode(sealed),
            client: info.client,
            client_request_id: ctx.audit.as_ref().and_then(|a| a.client_request_id.clone()),
            base_url: ctx.base_url.clone(),
        };
        self.store.add_async_request(ctx.tenant, request, self.clock.now()).await?;
        self.changes.requests.notify_one();
        Ok(Some(txn))
    }

    /// Runs asynchronous requests until the task is dropped: those of this replica at
    /// once, others' (and those left by a replica that stopped) when found by looking.
    pub async fn run_async_requests(self: Arc<Self>, sink: AuditSink) {
        let owner = crate::oauth::random_id();
        loop {
            let woken = self.changes.requests.notified();
            let busy = match self.async_round(&owner, &sink).await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::warn!(error = ?e, "running asynchronous requests failed");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(IDLE_EVERY) => {}
                }
            }
        }
    }

    /// One round: leases the requests waiting and runs each to its end; how many ended
    /// (one that stopped on an error is taken up again after a pause, not at once).
    pub async fn async_round(self: &Arc<Self>, owner: &str, sink: &AuditSink) -> AppResult<usize> {
        let now = now_ms();
        let claimed = self.store.claim_async_requests(owner, now, now + LEASE.as_millis() as i64, AT_ONCE).await?;
        let mut set = tokio::task::JoinSet::new();
        for req in claimed {
            let (me, owner, sink) = (self.clone(), owner.to_string(), sink.clone());
            set.spawn(async move {
                let txn = req.txn.clone();
                let r = me.run_async(req, owner, sink).await;
                if let Err(e) = &r {
                    tracing::warn!(txn = %txn, error = ?e, "an asynchronous request stopped; it is taken up again later");
                }
                r.is_ok()
            });
        }
        let mut ended = 0;
        while let Some(r) = set.join_next().await {
            ended += usize::from(r.unwrap_or(false));
        }
        Ok(ended)
    }

    /// Runs a leased request's operations not yet done, then deletes it.
    async fn run_async(&self, req: AsyncRequest, owner: String, sink: AuditSink) -> AppResult<()> {
        let tenant = req.tenant;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&req.body)
            .map_err(|e| AppError::Internal(format!("asynchronous request {}: {e}", req.txn)))?;
        let plain = self
            .config
            .keyring
            .open(&sealed)
            .map_err(|e| AppError::Internal(format!("asynchronous request {}: {e}", req.txn)))?;
        let body: Value = serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.to_string()))?;
        let slot = Arc::new(AuditSlot::new(
            req.txn.clone(),
            req.client_request_id.clone(),
            "POST".into(),
            "/scim/v2/Bulk".into(),
            self.clock.now(),
            None,
        ));
        slot.set_caller(Some(tenant), req.client.clone(), None);
        let tenancy = self.profile(tenant).await?;
        // The stored request's client: the source it writes as is the one it is in now.
        let writer = writer_of(&tenancy, req.client.as_deref().unwrap_or_default());
        let ctx = Ctx {
            tenant,
            tenancy,
            base_url: req.base_url.clone(),
            audit: Some(slot),
            bulk_op: None,
            subject: None,
            writer,
        };
        let done = req
            .done
            .iter()
            .filter_map(|(i, v)| Some((usize::try_from(*i).ok()?, serde_json::from_str(v).ok()?)))
            .collect();
        match self.bulk_plan(&ctx, &body) {
            Ok(plan) => {
                let run = AsyncRun { txn: req.txn.clone(), owner: owner.clone(), sink };
                self.bulk_run(&ctx, plan, done, Some(&run)).await?;
            }
            // Only a change of the deployment since the request was taken (Bulk turned
            // off, a lower maxOperations) refuses it now.
            Err(e) => tracing::warn!(txn = %req.txn, error = ?e, "an asynchronous request can no longer run; dropped"),
        }
        self.store.finish_async_request(tenant, &req.txn, &owner).await?;
        Ok(())
    }

    /// Records an operation's outcome and its completion event (the lease held), and
    /// hands a failed operation's audit event to the audit trail.
    pub(super) async fn record_outcome(
        &self,
        ctx: &Ctx,
        run: &AsyncRun,
        op: &Op,
        i: usize,
        v: &Value,
    ) -> AppResult<()> {
        let (kind, subject, version) = outcome_subject(op, v);
        let done = OpDone { index: i as i64, result: v.clone(), kind, subject, version };
        let until = now_ms() + LEASE.as_millis() as i64;
        if !self.store.async_op_done(ctx.tenant, &run.txn, &run.owner, done, until, self.clock.now()).await? {
            return Err(AppError::Internal(format!(
                "asynchronous request {}: its lease was taken over by another replica",
                run.txn
            )));
        }
        self.changes.notify();
        if let Some(slot) = &ctx.audit {
            for e in slot.take_failed_ops() {
                run.sink.record(AuditRecord::Event(e, None)).await;
            }
        }
        Ok(())
    }
}
