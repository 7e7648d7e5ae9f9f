-- scimd SQLite schema, version 8. Never edit once landed: add a new migration.
--
-- A tenant's profile: JSON settings of how its SCIM endpoint behaves
-- (`scimd_core::profile::Profile`); NULL: the default, full RFC 7644 behaviour.
ALTER TABLE tenants ADD COLUMN profile TEXT;
