-- scimd SQLite schema, version 23. Never edit once landed: add a new migration.
--
-- Provisioning sources: which source manages each resource, and who made each membership.

-- The name of the provisioning source that created the resource (NULL: none, as for every
-- resource made before the tenant declared sources, or by the operator). Its externalIds
-- are matched among its own resources, and other sources may not change it.
ALTER TABLE resources ADD COLUMN source TEXT;

-- A deleted resource's source, so that re-provisioning by externalId stays in its source.
ALTER TABLE tombstones ADD COLUMN source TEXT;

-- Who made a membership, as a bit set: 1 over SCIM, 2 by the operator (portal, admin).
-- A membership exists while a bit is set; a PUT of a group's members over SCIM clears
-- the SCIM bit only, so the operator's memberships survive it, and the other way round.
ALTER TABLE members ADD COLUMN origins INTEGER NOT NULL DEFAULT 1;
