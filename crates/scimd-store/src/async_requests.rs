//! Asynchronous requests (RFC 9967 §2.5.1): the [`AsyncRequestStore`] part of the store's
//! contract and the types crossing it (the SQL is in `roles::async_requests`).
//!
//! A request answered `202 Accepted` is stored before the answer. A replica leases it (as
//! it leases an event stream), runs its operations, and records each one done together
//! with its completion event, in one transaction; a replica that takes over an expired
//! lease goes on with the operations not recorded. Once every operation is done, the
//! request is deleted.

use scimd_core::schema::ResourceKind;

use crate::{BoxFut, StoreResult, TenantId};

/// A request to keep until it is run.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAsyncRequest {
    /// The request's id, returned as `Set-Txn`.
    pub txn: String,
    /// The request body as stored (sealed by the caller).
    pub body: String,
    /// The OAuth client (or `token:<id>`) that sent it, for the audit trail.
    pub client: Option<String>,
    /// The request id the client sent, if any.
    pub client_request_id: Option<String>,
    /// The absolute SCIM base URL the request was sent to (for locations).
    pub base_url: String,
}

/// A stored request, as a replica that leased it runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct AsyncRequest {
    pub txn: String,
    pub tenant: TenantId,
    pub body: String,
    pub client: Option<String>,
    pub client_request_id: Option<String>,
    pub base_url: String,
    pub created: String,
    /// The operations recorded as done: each one's index in the request and its result
    /// (a Bulk response operation, JSON), by index.
    pub done: Vec<(i64, String)>,
}

/// One operation of an asynchronous request, done: what its completion event says.
#[derive(Debug, Clone, PartialEq)]
pub struct OpDone {
    /// The operation's zero-based index in the request.
    pub index: i64,
    /// The Bulk response operation (JSON object): the event's payload, and what a
    /// replica going on with the request learns of the operation.
    pub result: serde_json::Value,
    /// The resource type the operation addressed.
    pub kind: ResourceKind,
    /// The resource's id, or a path relative to the SCIM base starting with `/` when
    /// the operation named no resource (a POST that failed: its collection, `/Users`).
    pub subject: String,
    /// The resource's version after the operation, when known.
    pub version: Option<i64>,
}

/// Asynchronous requests waiting to be run or being run.
pub trait AsyncRequestStore {
    /// Keeps a request of the tenant until it is run.
    fn add_async_request(
        &self,
        tenant: TenantId,
        request: NewAsyncRequest,
        now: chrono::DateTime<chrono::Utc>,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// Leases up to `limit` requests not leased by another owner (or whose lease expired)
    /// to `owner` until `until_ms`, oldest first, with the operations they have done.
    fn claim_async_requests(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<AsyncRequest>>>;
    /// Records an operation done and its completion event (`misc:asyncresp`, `txn`
    /// `<txn>:<index>`, when the tenant records events) in one transaction, and extends
    /// the lease to `until_ms`, if `owner` still holds it; whether it was recorded.
    fn async_op_done(
        &self,
        tenant: TenantId,
        txn: &str,
        owner: &str,
        done: OpDone,
        until_ms: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> BoxFut<'_, StoreResult<bool>>;
    /// Deletes a request whose operations are all done (or that cannot run), if `owner`
    /// still holds it; whether it did.
    fn finish_async_request(&self, tenant: TenantId, txn: &str, owner: &str) -> BoxFut<'_, StoreResult<bool>>;
}
