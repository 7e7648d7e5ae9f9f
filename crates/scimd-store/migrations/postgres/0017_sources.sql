-- scimd PostgreSQL schema, version 17. Never edit once landed: add a new migration.
--
-- As the SQLite schema's version 23: the provisioning source that manages each resource
-- (and each tombstone), and who made each membership (a bit set: 1 over SCIM, 2 by the
-- operator).
ALTER TABLE resources ADD COLUMN source TEXT;
ALTER TABLE tombstones ADD COLUMN source TEXT;
ALTER TABLE members ADD COLUMN origins BIGINT NOT NULL DEFAULT 1;
