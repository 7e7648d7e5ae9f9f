//! The PostgreSQL shell's side of event streams and asynchronous requests: for each method
//! of `EventStore` and `AsyncRequestStore`, where its SQL (`roles::events`,
//! `roles::async_requests`) runs — a pooled connection, a write connection, or a transaction (with the rows it locks). Beside `by_role`, which holds every other role's.

use super::*;

impl EventStore for PgStore {
    fn add_stream(&self, tenant: TenantId, s: NewStream, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Stream>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let s = roles::events::add_stream(&Pg(&tx), tenant, s, now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(s)
        })
    }

    fn streams(&self, tenant: Option<TenantId>) -> BoxFut<'_, StoreResult<Vec<Stream>>> {
        Box::pin(async move { roles::events::streams(&Pg(&*self.conn().await?), tenant).await })
    }

    fn stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let id = id.to_string();
        Box::pin(async move { roles::events::stream(&Pg(&*self.conn().await?), tenant, &id).await })
    }

    fn poll_stream(&self, token_hash: &str) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move { roles::events::poll_stream(&Pg(&*self.conn().await?), &token_hash).await })
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
            roles::events::change_stream(&Pg(&*self.write_conn().await?), tenant, &id, change, now).await
        })
    }

    fn delete_stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<bool>> {
        let id = id.to_string();
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            // The counter first: changes of the tenant wait, and none records an event
            // for a tenant left without streams.
            tx.execute("SELECT 1 FROM event_counters WHERE tenant_id = $1 FOR UPDATE", &[&tenant.0])
                .await
                .map_err(pg)?;
            let gone = roles::events::delete_stream(&Pg(&tx), tenant, &id).await?;
            tx.commit().await.map_err(pg)?;
            Ok(gone)
        })
    }

    fn events_after(&self, tenant: TenantId, after: i64, limit: u32) -> BoxFut<'_, StoreResult<Vec<StoredEvent>>> {
        Box::pin(async move { roles::events::events_after(&Pg(&*self.conn().await?), tenant, after, limit).await })
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
            roles::events::claim_streams(&Pg(&*c), &owner, now_ms, until_ms, limit).await
        })
    }

    fn release_streams(&self, owner: &str) -> BoxFut<'_, StoreResult<()>> {
        let owner = owner.to_string();
        Box::pin(async move { roles::events::release_streams(&Pg(&*self.write_conn().await?), &owner).await })
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
            roles::events::advance_stream(&Pg(&*c), &id, owner.as_deref(), progress, now_ms).await
        })
    }

    fn acknowledge(&self, stream: &Stream, jtis: Vec<String>) -> BoxFut<'_, StoreResult<Vec<String>>> {
        let stream = stream.clone();
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            // One acknowledgement of a stream at a time.
            tx.execute("SELECT 1 FROM event_streams WHERE id = $1 FOR UPDATE", &[&stream.id]).await.map_err(pg)?;
            let unknown = roles::events::acknowledge(&Pg(&tx), &stream, jtis).await?;
            tx.commit().await.map_err(pg)?;
            Ok(unknown)
        })
    }

    fn acknowledged(&self, stream: &str) -> BoxFut<'_, StoreResult<Vec<i64>>> {
        let stream = stream.to_string();
        Box::pin(async move { roles::events::acknowledged(&Pg(&*self.conn().await?), &stream).await })
    }

    fn purge_events(&self, keep_after_ms: i64) -> BoxFut<'_, StoreResult<Purged>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let purged = roles::events::purge_events(&Pg(&tx), keep_after_ms).await?;
            tx.commit().await.map_err(pg)?;
            Ok(purged)
        })
    }

    fn replace_stream_secret(&self, id: &str, old: &str, new: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (id, old, new) = (id.to_string(), old.to_string(), new.to_string());
        Box::pin(
            async move { roles::events::replace_stream_secret(&Pg(&*self.write_conn().await?), &id, &old, &new).await },
        )
    }
}

impl AsyncRequestStore for PgStore {
    fn add_async_request(
        &self,
        tenant: TenantId,
        request: NewAsyncRequest,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { roles::async_requests::add(&Pg(&*self.write_conn().await?), tenant, request, now).await })
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
            roles::async_requests::claim(&Pg(&*c), &owner, now_ms, until_ms, limit).await
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
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            // The operation done and its completion event commit together.
            let recorded = roles::async_requests::op_done(&Pg(&tx), tenant, &txn, &owner, done, until_ms, now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(recorded)
        })
    }

    fn finish_async_request(&self, tenant: TenantId, txn: &str, owner: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (txn, owner) = (txn.to_string(), owner.to_string());
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let gone = roles::async_requests::finish(&Pg(&tx), tenant, &txn, &owner).await?;
            tx.commit().await.map_err(pg)?;
            Ok(gone)
        })
    }
}
