//! The PostgreSQL shell's side of event streams and asynchronous requests: for each method
//! of `EventStore` and `AsyncRequestStore`, where its SQL (`roles::events`,
//! `roles::async_requests`) runs — a pooled connection, a write connection, or a transaction (with the rows it locks). Beside `by_role`, which holds every other role's.

use super::*;

impl EventStore for PgStore {
    fn add_stream(&self, tenant: TenantId, s: NewStream, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Stream>> {
        Box::pin(async move {
            transaction!(self, |tx| { roles::events::add_stream(&Pg(&tx), tenant, s.clone(), now).await })
        })
    }

    fn streams(&self, tenant: Option<TenantId>) -> BoxFut<'_, StoreResult<Vec<Stream>>> {
        Box::pin(async move { read!(self, |db| roles::events::streams(db, tenant)) })
    }

    fn stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let id = id.to_string();
        Box::pin(async move { read!(self, |db| roles::events::stream(db, tenant, &id)) })
    }

    fn poll_stream(&self, token_hash: &str) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move { read!(self, |db| roles::events::poll_stream(db, &token_hash)) })
    }

    fn change_stream(
        &self,
        tenant: TenantId,
        id: &str,
        change: StreamChange,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let id = id.to_string();
        Box::pin(async move {
            roles::events::change_stream(&Pg(&*self.write_conn().await?), tenant, &id, change, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn delete_stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<bool>> {
        let id = id.to_string();
        Box::pin(async move {
            let gone = transaction!(self, |tx| {
                // The counter first: changes of the tenant wait, and none records an event
                // for a tenant left without streams.
                tx.execute("SELECT 1 FROM event_counters WHERE tenant_id = $1 FOR UPDATE", &[&tenant.0])
                    .await
                    .map_err(pg)?;
                let gone = roles::events::delete_stream(&Pg(&tx), tenant, &id).await?;
                Ok(gone)
            })?;
            Ok(gone)
        })
    }

    fn events_after(&self, tenant: TenantId, after: i64, limit: u32) -> BoxFut<'_, StoreResult<Vec<StoredEvent>>> {
        Box::pin(async move { read!(self, |db| roles::events::events_after(db, tenant, after, limit)) })
    }

    fn claim_streams(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<Stream>>> {
        let owner = owner.to_string();
        Box::pin(async move {
            let c = self.write_conn().await?;
            roles::events::claim_streams(&Pg(&*c), &owner, now_ms, until_ms, limit)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn release_streams(&self, owner: &str) -> BoxFut<'_, StoreResult<()>> {
        let owner = owner.to_string();
        Box::pin(async move {
            roles::events::release_streams(&Pg(&*self.write_conn().await?), &owner)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn advance_stream(
        &self,
        id: &str,
        owner: Option<&str>,
        progress: Progress,
        now_ms: i64,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (id, owner) = (id.to_string(), owner.map(str::to_string));
        Box::pin(async move {
            let c = self.write_conn().await?;
            roles::events::advance_stream(&Pg(&*c), &id, owner.as_deref(), progress, now_ms)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn acknowledge(&self, stream: &Stream, jtis: Vec<String>) -> BoxFut<'_, StoreResult<Vec<String>>> {
        let stream = stream.clone();
        Box::pin(async move {
            let unknown = transaction!(self, |tx| {
                // One acknowledgement of a stream at a time.
                tx.execute("SELECT 1 FROM event_streams WHERE id = $1 FOR UPDATE", &[&stream.id]).await.map_err(pg)?;
                let unknown = roles::events::acknowledge(&Pg(&tx), &stream, jtis.clone()).await?;
                Ok(unknown)
            })?;
            Ok(unknown)
        })
    }

    fn acknowledged(&self, stream: &str) -> BoxFut<'_, StoreResult<Vec<i64>>> {
        let stream = stream.to_string();
        Box::pin(async move { read!(self, |db| roles::events::acknowledged(db, &stream)) })
    }

    fn purge_events(&self, keep_after_ms: i64) -> BoxFut<'_, StoreResult<Purged>> {
        Box::pin(async move { transaction!(self, |tx| { roles::events::purge_events(&Pg(&tx), keep_after_ms).await }) })
    }

    fn replace_stream_secret(&self, id: &str, old: &str, new: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (id, old, new) = (id.to_string(), old.to_string(), new.to_string());
        Box::pin(async move {
            roles::events::replace_stream_secret(&Pg(&*self.write_conn().await?), &id, &old, &new)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }
}

impl AsyncRequestStore for PgStore {
    fn add_async_request(
        &self,
        tenant: TenantId,
        request: NewAsyncRequest,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            roles::async_requests::add(&Pg(&*self.write_conn().await?), tenant, request, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn claim_async_requests(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<AsyncRequest>>> {
        let owner = owner.to_string();
        Box::pin(async move {
            let c = self.write_conn().await?;
            roles::async_requests::claim(&Pg(&*c), &owner, now_ms, until_ms, limit)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn async_op_done(
        &self,
        tenant: TenantId,
        txn: &str,
        owner: &str,
        done: OpDone,
        until_ms: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (txn, owner) = (txn.to_string(), owner.to_string());
        Box::pin(async move {
            // The operation done and its completion event commit together.
            transaction!(self, |tx| {
                roles::async_requests::op_done(&Pg(&tx), tenant, &txn, &owner, done.clone(), until_ms, now).await
            })
        })
    }

    fn finish_async_request(&self, tenant: TenantId, txn: &str, owner: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (txn, owner) = (txn.to_string(), owner.to_string());
        Box::pin(async move {
            transaction!(self, |tx| { roles::async_requests::finish(&Pg(&tx), tenant, &txn, &owner).await })
        })
    }
}
