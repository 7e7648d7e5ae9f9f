-- scimd SQLite schema, version 1. Never edit once landed: add a new migration.

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created     TEXT NOT NULL
);

-- Bearer tokens: only the SHA-256 of the token is stored; lookup is one index probe.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    hash        BLOB NOT NULL UNIQUE,
    created     TEXT NOT NULL,
    expires     TEXT,
    revoked     TEXT
);

-- One row per SCIM resource. `data` is the canonical document (see scimd-core
-- resource.rs); `unique_key` is the case-folded userName of users.
CREATE TABLE resources (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL,
    rtype         INTEGER NOT NULL,          -- 1 = User, 2 = Group
    scim_id       TEXT NOT NULL,
    unique_key    TEXT,
    display       TEXT,
    display_fold  TEXT,
    version       INTEGER NOT NULL,
    created       TEXT NOT NULL,             -- normalized UTC, byte order = time order
    last_modified TEXT NOT NULL,
    password_hash TEXT,
    data          TEXT NOT NULL
);
CREATE UNIQUE INDEX resources_scim_id ON resources (tenant_id, rtype, scim_id);
-- Ordered by rowid within a tenant and kind: unfiltered pages walk it without sorting.
CREATE INDEX resources_kind ON resources (tenant_id, rtype);
CREATE UNIQUE INDEX resources_unique_key ON resources (tenant_id, rtype, unique_key);
CREATE INDEX resources_created ON resources (tenant_id, rtype, created);
CREATE INDEX resources_last_modified ON resources (tenant_id, rtype, last_modified);

-- Attribute index: one row per stored value (and one marker row per complex value),
-- so that every filter operator is an index probe. (res, path, elem) is unique.
CREATE TABLE attr_index (
    res        INTEGER NOT NULL,
    path       TEXT NOT NULL,
    elem       INTEGER NOT NULL,
    tenant_id  INTEGER NOT NULL,
    rtype      INTEGER NOT NULL,
    s          TEXT,
    n          REAL,
    PRIMARY KEY (res, path, elem)
) WITHOUT ROWID;
CREATE INDEX attr_index_s ON attr_index (tenant_id, rtype, path, s, res, elem);
CREATE INDEX attr_index_n ON attr_index (tenant_id, rtype, path, n, res, elem);

-- Group membership, apart from the group row: adding or removing a member is one row.
CREATE TABLE members (
    group_id   INTEGER NOT NULL,
    member_id  INTEGER NOT NULL,
    tenant_id  INTEGER NOT NULL,
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX members_member ON members (member_id, group_id);

-- Maintained resource counts, so an unfiltered list never counts the collection.
-- `generation` changes with every create and delete: cached page anchors of this
-- tenant and kind are valid only for the generation they were built at.
CREATE TABLE resource_counts (
    tenant_id  INTEGER NOT NULL,
    rtype      INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, rtype)
) WITHOUT ROWID;
