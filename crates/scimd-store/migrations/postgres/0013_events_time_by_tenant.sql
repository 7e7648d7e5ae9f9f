-- scimd PostgreSQL schema, version 13. Never edit once landed: add a new migration.
--
-- As the SQLite schema's version 19: the retention purge reads a tenant's events older
-- than a time (`tenant_id = ? AND time_ms < ?`), so its index leads with the tenant, as
-- every key of a tenant's table does (docs/adr/0016).
DROP INDEX events_time;
CREATE INDEX events_time ON events (tenant_id, time_ms);
