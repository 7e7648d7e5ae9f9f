-- scimd PostgreSQL schema, version 9. Never edit once landed: add a new migration.
--
-- Event streams and their outbox. A change's events are written in the change's own
-- transaction, numbered by the tenant's counter (gap-free, in commit order); each stream
-- remembers how far it has delivered (its cursor), so one row per event serves every
-- stream of the tenant. A tenant has a counter only while it has streams: writes of a
-- tenant without one record no events.
CREATE TABLE event_counters (
    tenant_id   BIGINT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    last_seq    BIGINT NOT NULL,
    -- Whether a stream of the tenant wants the full form (the resource with the event).
    full_form   BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE events (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    jti         TEXT NOT NULL,
    time_ms     BIGINT NOT NULL,
    rtype       BIGINT NOT NULL,
    scim_id     TEXT NOT NULL,
    external_id TEXT,
    version     BIGINT,
    event       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    txn         TEXT,
    -- The resource as stored after the change, and when it was created, when a stream
    -- wants the full form.
    data        TEXT,
    created     TEXT,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX events_time ON events (time_ms);

CREATE TABLE event_streams (
    id            TEXT PRIMARY KEY,
    tenant_id     BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    method        TEXT NOT NULL,
    url           TEXT,
    audience      TEXT,
    full_form     BOOLEAN NOT NULL DEFAULT FALSE,
    kinds         TEXT,
    events        TEXT,
    -- The webhook secret or the receiver's bearer token, sealed with the master key.
    secret        TEXT,
    -- The poll credential's SHA-256.
    token_hash    TEXT UNIQUE,
    paused        BOOLEAN NOT NULL DEFAULT FALSE,
    done_seq      BIGINT NOT NULL,
    lease_owner   TEXT,
    lease_until   BIGINT NOT NULL DEFAULT 0,
    next_attempt  BIGINT NOT NULL DEFAULT 0,
    attempts      BIGINT NOT NULL DEFAULT 0,
    failing_since BIGINT,
    last_error    TEXT,
    delivered     BIGINT NOT NULL DEFAULT 0,
    rejected      BIGINT NOT NULL DEFAULT 0,
    dropped       BIGINT NOT NULL DEFAULT 0,
    created       TEXT NOT NULL,
    updated       TEXT NOT NULL
);
CREATE INDEX event_streams_tenant ON event_streams (tenant_id);

-- Events a poll receiver acknowledged beyond its cursor (out of order).
CREATE TABLE event_acks (
    stream_id   TEXT NOT NULL REFERENCES event_streams (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (stream_id, seq)
);
