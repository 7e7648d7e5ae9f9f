//! The SQLite shell's side of event streams and asynchronous requests: for each method
//! of `EventStore` and `AsyncRequestStore`, where its SQL (`roles::events`,
//! `roles::async_requests`) runs — a reader, or the writer thread. Beside `by_role`, which holds every other role's.

use super::*;

impl EventStore for SqliteStore {
    fn add_stream(&self, tenant: TenantId, s: NewStream, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Stream>> {
        Box::pin(self.write(move |w| ready(roles::events::add_stream(&Lite(w), tenant, s, now))))
    }

    fn streams(&self, tenant: Option<TenantId>) -> BoxFut<'_, StoreResult<Vec<Stream>>> {
        let r = self.read_one(|c| ready(roles::events::streams(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let r = self.read_one(|c| ready(roles::events::stream(&Lite(c), tenant, id)));
        Box::pin(async move { r })
    }

    fn poll_stream(&self, token_hash: &str) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let r = self.read_one(|c| ready(roles::events::poll_stream(&Lite(c), token_hash)));
        Box::pin(async move { r })
    }

    fn change_stream(
        &self,
        tenant: TenantId,
        id: &str,
        change: StreamChange,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<Stream>>> {
        let id = id.to_string();
        Box::pin(self.write(move |w| ready(roles::events::change_stream(&Lite(w), tenant, &id, change, now))))
    }

    fn delete_stream(&self, tenant: TenantId, id: &str) -> BoxFut<'_, StoreResult<bool>> {
        let id = id.to_string();
        Box::pin(self.write(move |w| ready(roles::events::delete_stream(&Lite(w), tenant, &id))))
    }

    fn events_after(&self, tenant: TenantId, after: i64, limit: u32) -> BoxFut<'_, StoreResult<Vec<StoredEvent>>> {
        let r = self.read_one(|c| ready(roles::events::events_after(&Lite(c), tenant, after, limit)));
        Box::pin(async move { r })
    }

    fn claim_streams(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<Stream>>> {
        let owner = owner.to_string();
        Box::pin(self.write(move |w| ready(roles::events::claim_streams(&Lite(w), &owner, now_ms, until_ms, limit))))
    }

    fn release_streams(&self, owner: &str) -> BoxFut<'_, StoreResult<()>> {
        let owner = owner.to_string();
        Box::pin(self.write(move |w| ready(roles::events::release_streams(&Lite(w), &owner))))
    }

    fn advance_stream(
        &self,
        id: &str,
        owner: Option<&str>,
        progress: Progress,
        now_ms: i64,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (id, owner) = (id.to_string(), owner.map(str::to_string));
        Box::pin(
            self.write(move |w| {
                ready(roles::events::advance_stream(&Lite(w), &id, owner.as_deref(), progress, now_ms))
            }),
        )
    }

    fn acknowledge(&self, stream: &Stream, jtis: Vec<String>) -> BoxFut<'_, StoreResult<Vec<String>>> {
        let stream = stream.clone();
        Box::pin(self.write(move |w| ready(roles::events::acknowledge(&Lite(w), &stream, jtis))))
    }

    fn acknowledged(&self, stream: &str) -> BoxFut<'_, StoreResult<Vec<i64>>> {
        let r = self.read_one(|c| ready(roles::events::acknowledged(&Lite(c), stream)));
        Box::pin(async move { r })
    }

    fn purge_events(&self, keep_after_ms: i64) -> BoxFut<'_, StoreResult<Purged>> {
        Box::pin(self.write(move |w| ready(roles::events::purge_events(&Lite(w), keep_after_ms))))
    }

    fn replace_stream_secret(&self, id: &str, old: &str, new: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (id, old, new) = (id.to_string(), old.to_string(), new.to_string());
        Box::pin(self.write(move |w| ready(roles::events::replace_stream_secret(&Lite(w), &id, &old, &new))))
    }
}

impl AsyncRequestStore for SqliteStore {
    fn add_async_request(
        &self,
        tenant: TenantId,
        request: NewAsyncRequest,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(roles::async_requests::add(&Lite(w), tenant, request, now))))
    }

    fn claim_async_requests(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<AsyncRequest>>> {
        let owner = owner.to_string();
        Box::pin(self.write(move |w| ready(roles::async_requests::claim(&Lite(w), &owner, now_ms, until_ms, limit))))
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
        Box::pin(
            self.write(move |w| {
                ready(roles::async_requests::op_done(&Lite(w), tenant, &txn, &owner, done, until_ms, now))
            }),
        )
    }

    fn finish_async_request(&self, tenant: TenantId, txn: &str, owner: &str) -> BoxFut<'_, StoreResult<bool>> {
        let (txn, owner) = (txn.to_string(), owner.to_string());
        Box::pin(self.write(move |w| ready(roles::async_requests::finish(&Lite(w), tenant, &txn, &owner))))
    }
}
