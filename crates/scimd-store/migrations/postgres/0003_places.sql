-- scimd PostgreSQL schema, version 3. Never edit once landed: add a new migration.
--
-- Places and access, as in the SQLite schema's version 9: one table for the
-- four levels of the places tree (1 = location, 2 = section, 3 = bank, 4 = locker), keys
-- unique per tenant and level; a location's rules as JSON. Access links connect a group
-- to a bank. Unlike SQLite, real foreign keys: deleting a group or a bank drops its
-- access links, deleting a place drops what hangs under it (the store decides whether a
-- place with children may be deleted), and a place or link added while its parent, bank
-- or group is being deleted waits for the delete and fails.
CREATE TABLE places (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      BIGINT NOT NULL,
    level          BIGINT NOT NULL,
    key            TEXT COLLATE "C" NOT NULL,
    name           TEXT NOT NULL,
    parent_id      BIGINT REFERENCES places(id) ON DELETE CASCADE,
    rules          TEXT,
    created        TEXT COLLATE "C" NOT NULL,
    last_modified  TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX places_key ON places (tenant_id, level, key);
CREATE INDEX places_parent ON places (parent_id, key);

CREATE TABLE access_links (
    group_id   BIGINT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
    bank_id    BIGINT NOT NULL REFERENCES places(id) ON DELETE CASCADE,
    tenant_id  BIGINT NOT NULL,
    created    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, bank_id)
);
CREATE INDEX access_links_bank ON access_links (bank_id, group_id);

-- The generation of a tenant's location rules, and the one its users' derived
-- attributes (locations, home location) are all recomputed for.
ALTER TABLE tenants ADD COLUMN places_gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN places_done BIGINT NOT NULL DEFAULT 0;
-- The generation a user's derived attributes were computed with.
ALTER TABLE resources ADD COLUMN derived_gen BIGINT NOT NULL DEFAULT 0;
