-- scimd SQLite schema, version 2. Never edit once landed: add a new migration.
--
-- Attribute-index rows carried their tenant, kind and path text in the table and again
-- in each index: most of the database. Now (tenant, kind, path) is interned once in
-- attr_keys and rows carry its integer id, which also scopes every probe to a tenant.
-- Only booleans and numbers have `n`, so the number index is partial: comparisons on
-- `n` imply `n IS NOT NULL` and still use it; presence probes use attr_index_s.

CREATE TABLE attr_keys (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL,
    rtype      INTEGER NOT NULL,
    path       TEXT NOT NULL,
    UNIQUE (tenant_id, rtype, path)
);
INSERT INTO attr_keys (tenant_id, rtype, path)
    SELECT DISTINCT tenant_id, rtype, path FROM attr_index ORDER BY tenant_id, rtype, path;

CREATE TABLE attr_index_v2 (
    res    INTEGER NOT NULL,
    key    INTEGER NOT NULL,   -- attr_keys.id
    elem   INTEGER NOT NULL,
    s      TEXT,
    n      REAL,
    PRIMARY KEY (res, key, elem)
) WITHOUT ROWID;
INSERT INTO attr_index_v2 (res, key, elem, s, n)
    SELECT a.res, k.id, a.elem, a.s, a.n
    FROM attr_index a JOIN attr_keys k ON k.tenant_id = a.tenant_id AND k.rtype = a.rtype AND k.path = a.path;
DROP TABLE attr_index;
ALTER TABLE attr_index_v2 RENAME TO attr_index;
CREATE INDEX attr_index_s ON attr_index (key, s, res, elem);
CREATE INDEX attr_index_n ON attr_index (key, n, res, elem) WHERE n IS NOT NULL;
