-- scimd SQLite schema, version 3. Never edit once landed: add a new migration.
--
-- SCIM provisioning is a per-tenant feature (the visitor manager's add-on): a tenant without it gets no
-- SCIM access, whatever its credentials. Existing tenants keep it.
ALTER TABLE tenants ADD COLUMN scim_enabled INTEGER NOT NULL DEFAULT 1;
