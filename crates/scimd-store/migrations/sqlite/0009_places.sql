-- scimd SQLite schema, version 9. Never edit once landed: add a new migration.
--
-- Places and access: one table for the four levels of the places tree
-- (1 = location, 2 = section, 3 = bank, 4 = locker), keys unique per tenant and level;
-- a location's rules as JSON. Access links connect a group to a bank.
CREATE TABLE places (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL,
    level         INTEGER NOT NULL,
    key           TEXT NOT NULL,
    name          TEXT NOT NULL,
    parent_id     INTEGER,
    rules         TEXT,
    created       TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE UNIQUE INDEX places_key ON places (tenant_id, level, key);
CREATE INDEX places_parent ON places (parent_id, key);

CREATE TABLE access_links (
    group_id   INTEGER NOT NULL,
    bank_id    INTEGER NOT NULL,
    tenant_id  INTEGER NOT NULL,
    created    TEXT NOT NULL,
    PRIMARY KEY (group_id, bank_id)
) WITHOUT ROWID;
CREATE INDEX access_links_bank ON access_links (bank_id, group_id);

-- The generation of a tenant's location rules, and the one its users' derived
-- attributes (locations, home location) are all recomputed for.
ALTER TABLE tenants ADD COLUMN places_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN places_done INTEGER NOT NULL DEFAULT 0;
-- The generation a user's derived attributes were computed with.
ALTER TABLE resources ADD COLUMN derived_gen INTEGER NOT NULL DEFAULT 0;
