-- scimd PostgreSQL schema, version 10. Never edit once landed: add a new migration.
--
-- Asynchronous requests (RFC 9967 §2.5.1): a Bulk request answered 202 is kept here
-- before the answer, so nothing acknowledged is lost, and run in the background by
-- whichever replica holds its lease. Each operation done is recorded with its result
-- (in the same transaction as its completion event), so a restart goes on with the
-- operations not recorded; the request is deleted once all are done.
CREATE TABLE async_requests (
    -- The request's id, returned as Set-Txn.
    txn               TEXT PRIMARY KEY,
    tenant_id         BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The BulkRequest, sealed with the master key (it may hold passwords).
    body              TEXT NOT NULL,
    -- Who sent it, for the audit trail, and the SCIM base URL it was sent to.
    client            TEXT,
    client_request_id TEXT,
    base_url          TEXT NOT NULL,
    -- How many operations are recorded as done.
    next_op           BIGINT NOT NULL DEFAULT 0,
    created           TEXT NOT NULL,
    lease_owner       TEXT,
    lease_until       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX async_requests_lease ON async_requests (lease_until);

-- The operations of a request done so far (by their index in the request), with the
-- Bulk response operation each produced.
CREATE TABLE async_request_ops (
    txn         TEXT NOT NULL REFERENCES async_requests (txn) ON DELETE CASCADE,
    op_index    BIGINT NOT NULL,
    result      TEXT NOT NULL,
    PRIMARY KEY (txn, op_index)
);
