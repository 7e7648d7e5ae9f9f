-- scimd SQLite schema, version 19. Never edit once landed: add a new migration.
--
-- The retention purge reads a tenant's events older than a time (`tenant_id = ? AND
-- time_ms < ?`): its index leads with the tenant, as every key of a tenant's table does
-- (docs/adr/0016), instead of walking every tenant's old events.
DROP INDEX events_time;
CREATE INDEX events_time ON events (tenant_id, time_ms);
