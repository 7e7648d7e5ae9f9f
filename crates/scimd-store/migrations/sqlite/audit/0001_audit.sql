-- scimd audit journal schema (the `<database>-audit` file next to the SQLite database),
-- version 1. Never edit once landed: add a new migration.
--
-- What is written after a request, off its path: the events of requests that changed
-- nothing (reads, lists, token requests, failures), the redacted payloads of every event,
-- and the log of internal errors. A change's own event is not here: it is written in the
-- main database, in the change's transaction. Kept in a file of its own because every
-- commit to a SQLite database resets the page cache (and memory map) of each of its
-- readers: a read-only workload writing its events into the main database would read
-- at half speed (ADR 0007).

-- Same shape as the main database's `api_events`; ids are unique across both.
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

-- The redacted request and response of an event (of either file).
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
