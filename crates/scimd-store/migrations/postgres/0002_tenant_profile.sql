-- scimd PostgreSQL schema, version 2. Never edit once landed: add a new migration.
--
-- A tenant's profile, as in the SQLite schema's version 8.
ALTER TABLE tenants ADD COLUMN profile TEXT;
