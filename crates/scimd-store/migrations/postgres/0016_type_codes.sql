-- scimd PostgreSQL schema, version 16. Never edit once landed: add a new migration.
--
-- As the SQLite schema's version 22: the code of each resource type a tenant's profile
-- declares, which is also the `rtype` of its rows; given once, never reused.
CREATE TABLE type_codes (
    tenant_id  BIGINT NOT NULL,
    name       TEXT NOT NULL,
    code       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name),
    UNIQUE (tenant_id, code)
);
