-- scimd SQLite schema, version 6. Never edit once landed: add a new migration.
--
-- The audit trail: one event per request, its redacted payloads, and
-- the log of internal errors. Per-tenant settings for details and retention.

-- audit_details: 0 no payloads, 1 payloads of changes and failures, 2 of every request.
ALTER TABLE tenants ADD COLUMN audit_details INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tenants ADD COLUMN audit_events_days INTEGER NOT NULL DEFAULT 90;
ALTER TABLE tenants ADD COLUMN audit_details_days INTEGER NOT NULL DEFAULT 14;

-- One row per request (SCIM, token endpoint, admin API). A change's event is written in
-- the change's own transaction. No credentials, no personal data beyond resource ids.
-- `time` is milliseconds since the Unix epoch (UTC): compact, and nothing to format on
-- the hot path. Clustered by (tenant, time): one B-tree, appended at the end of each
-- tenant's range, read by range. `tenant_id` 0: no tenant known. `id` comes from
-- `counters` (name 'api_events').
CREATE TABLE api_events (
    tenant_id    INTEGER NOT NULL,
    time         INTEGER NOT NULL,
    id           INTEGER NOT NULL,
    request_id   TEXT NOT NULL,
    client       TEXT,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    rtype        TEXT,
    resource_id  TEXT,
    op           TEXT NOT NULL,
    status       INTEGER NOT NULL,
    scim_type    TEXT,
    duration_ms  REAL NOT NULL,
    deactivated  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, time, id)
) WITHOUT ROWID;

CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
) WITHOUT ROWID;

-- The redacted request and response of an event (headers as JSON objects, bodies as text).
CREATE TABLE api_event_details (
    event             INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL,
    time              INTEGER NOT NULL,
    request_headers   TEXT NOT NULL,
    request_body      TEXT,
    response_headers  TEXT NOT NULL,
    response_body     TEXT
);
CREATE INDEX api_event_details_tenant_time ON api_event_details (tenant_id, time);

-- Internal errors and panics of requests.
CREATE TABLE error_log (
    id          INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    tenant_id   INTEGER,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    backtrace   TEXT
);
CREATE INDEX error_log_time ON error_log (time);
