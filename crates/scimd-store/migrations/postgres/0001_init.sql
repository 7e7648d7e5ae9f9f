-- scimd PostgreSQL schema, version 1. Never edit once landed: add a new migration.
--
-- The same model as the SQLite schema at its version 7 (see the SQLite migrations for
-- what each table is for), in PostgreSQL's types. Differences:
-- - Text that is compared or ordered (folded values, times, ids) is COLLATE "C": byte
--   order, as in SQLite, whatever the database's locale, and usable by prefix ranges.
-- - `co`/`ew` filters use a trigram index (pg_trgm, with btree_gin for the key column).
-- - Resource counts are kept in 16 rows per tenant and kind, summed when read, so that
--   concurrent creates do not queue on one row.
-- - Every audit event (a change's, in the change's transaction, or any other) is in one
--   `api_events` table: PostgreSQL has no per-connection page cache for commits to reset.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE tenants (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    created             TEXT COLLATE "C" NOT NULL,
    scim_enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    audit_details       BIGINT NOT NULL DEFAULT 1,
    audit_events_days   BIGINT NOT NULL DEFAULT 90,
    audit_details_days  BIGINT NOT NULL DEFAULT 14
);

CREATE TABLE api_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    hash       BYTEA NOT NULL UNIQUE,
    created    TEXT COLLATE "C" NOT NULL,
    expires    TEXT COLLATE "C",
    revoked    TEXT COLLATE "C"
);

CREATE TABLE resources (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      BIGINT NOT NULL,
    rtype          BIGINT NOT NULL,          -- 1 = User, 2 = Group
    scim_id        TEXT COLLATE "C" NOT NULL,
    unique_key     TEXT COLLATE "C",
    display        TEXT,
    display_fold   TEXT COLLATE "C",
    version        BIGINT NOT NULL,
    created        TEXT COLLATE "C" NOT NULL,
    last_modified  TEXT COLLATE "C" NOT NULL,
    password_hash  TEXT,
    data           TEXT NOT NULL
);
CREATE UNIQUE INDEX resources_scim_id ON resources (tenant_id, rtype, scim_id);
CREATE INDEX resources_kind ON resources (tenant_id, rtype, id);
CREATE UNIQUE INDEX resources_unique_key ON resources (tenant_id, rtype, unique_key);
CREATE INDEX resources_created ON resources (tenant_id, rtype, created);
CREATE INDEX resources_last_modified ON resources (tenant_id, rtype, last_modified);

CREATE TABLE attr_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  BIGINT NOT NULL,
    rtype      BIGINT NOT NULL,
    path       TEXT COLLATE "C" NOT NULL,
    UNIQUE (tenant_id, rtype, path)
);

CREATE TABLE attr_index (
    res   BIGINT NOT NULL,
    key   BIGINT NOT NULL,   -- attr_keys.id
    elem  BIGINT NOT NULL,
    s     TEXT COLLATE "C",
    n     DOUBLE PRECISION,
    PRIMARY KEY (res, key, elem)
);
CREATE INDEX attr_index_s ON attr_index (key, s, res, elem);
CREATE INDEX attr_index_n ON attr_index (key, n, res, elem) WHERE n IS NOT NULL;
CREATE INDEX attr_index_trgm ON attr_index USING gin (key, s gin_trgm_ops);

-- The foreign keys settle a member added while it is being deleted (on another
-- connection): the add waits for the delete and fails, instead of leaving a dangling row.
CREATE TABLE members (
    group_id   BIGINT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    member_id  BIGINT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    tenant_id  BIGINT NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX members_member ON members (member_id, group_id);

CREATE TABLE resource_counts (
    tenant_id  BIGINT NOT NULL,
    rtype      BIGINT NOT NULL,
    shard      BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rtype, shard)
);

CREATE TABLE oauth_clients (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id    TEXT NOT NULL UNIQUE,
    grant_types  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    access_ttl   BIGINT NOT NULL,
    refresh_ttl  BIGINT NOT NULL,
    created      TEXT COLLATE "C" NOT NULL,
    disabled     TEXT COLLATE "C"
);

CREATE TABLE client_secrets (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client   BIGINT NOT NULL REFERENCES oauth_clients(id),
    hash     TEXT NOT NULL,
    created  TEXT COLLATE "C" NOT NULL,
    expires  TEXT COLLATE "C",
    revoked  TEXT COLLATE "C"
);
CREATE INDEX client_secrets_client ON client_secrets (client);

CREATE TABLE client_tenants (
    client     BIGINT NOT NULL REFERENCES oauth_clients(id),
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (client, tenant_id)
);

CREATE TABLE api_users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      BIGINT NOT NULL REFERENCES tenants(id),
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created        TEXT COLLATE "C" NOT NULL,
    disabled       TEXT COLLATE "C"
);
CREATE INDEX api_users_tenant ON api_users (tenant_id);

CREATE TABLE signing_keys (
    kid      TEXT PRIMARY KEY,
    seed     BYTEA NOT NULL,
    created  TEXT COLLATE "C" NOT NULL,
    retired  TEXT COLLATE "C"
);

CREATE TABLE refresh_tokens (
    hash       BYTEA PRIMARY KEY,
    family     TEXT NOT NULL,
    client     BIGINT NOT NULL REFERENCES oauth_clients(id),
    tenant_id  BIGINT NOT NULL REFERENCES tenants(id),
    api_user   BIGINT REFERENCES api_users(id),
    scopes     TEXT NOT NULL,
    created    TEXT COLLATE "C" NOT NULL,
    expires    TEXT COLLATE "C" NOT NULL,
    used       TEXT COLLATE "C"
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

CREATE TABLE revoked_grants (
    id       TEXT PRIMARY KEY,
    expires  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE login_failures (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    last_failure  TEXT COLLATE "C" NOT NULL,
    locked_until  TEXT COLLATE "C"
);

CREATE TABLE admin_tokens (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash     BYTEA NOT NULL UNIQUE,
    created  TEXT COLLATE "C" NOT NULL,
    expires  TEXT COLLATE "C",
    revoked  TEXT COLLATE "C"
);

-- Every audit event; `time` in milliseconds since the Unix epoch, `tenant_id` 0: none.
CREATE TABLE api_events (
    tenant_id    BIGINT NOT NULL,
    time         BIGINT NOT NULL,
    id           BIGINT GENERATED ALWAYS AS IDENTITY,
    request_id   TEXT NOT NULL,
    client       TEXT,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    rtype        TEXT,
    resource_id  TEXT,
    op           TEXT NOT NULL,
    status       BIGINT NOT NULL,
    scim_type    TEXT,
    duration_ms  DOUBLE PRECISION NOT NULL,
    deactivated  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (tenant_id, time, id)
);

CREATE TABLE api_event_details (
    event             BIGINT PRIMARY KEY,
    tenant_id         BIGINT NOT NULL,
    time              BIGINT NOT NULL,
    request_headers   TEXT NOT NULL,
    request_body      TEXT,
    response_headers  TEXT NOT NULL,
    response_body     TEXT
);
CREATE INDEX api_event_details_tenant_time ON api_event_details (tenant_id, time);

CREATE TABLE error_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time        TEXT COLLATE "C" NOT NULL,
    request_id  TEXT NOT NULL,
    tenant_id   BIGINT,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    backtrace   TEXT
);
CREATE INDEX error_log_time ON error_log (time);
