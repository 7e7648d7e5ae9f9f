-- scimd PostgreSQL schema, version 15. Never edit once landed: add a new migration.
--
-- As the SQLite schema's version 21: deleted resources' tombstones, the time each user
-- deactivation took, and the logins of an API user by user.
CREATE TABLE tombstones (
    tenant_id    BIGINT NOT NULL,
    rtype        BIGINT NOT NULL,
    scim_id      TEXT COLLATE "C" NOT NULL,
    name_key     TEXT COLLATE "C",
    external_id  TEXT COLLATE "C",
    version      BIGINT NOT NULL,
    created      TEXT COLLATE "C" NOT NULL,
    deleted      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, rtype, scim_id)
);
CREATE INDEX tombstones_name ON tombstones (tenant_id, rtype, name_key);
CREATE INDEX tombstones_external ON tombstones (tenant_id, rtype, external_id);
CREATE INDEX tombstones_deleted ON tombstones (tenant_id, deleted);

CREATE TABLE deactivations (
    tenant_id  BIGINT NOT NULL,
    at         TEXT COLLATE "C" NOT NULL,
    scim_id    TEXT COLLATE "C" NOT NULL,
    millis     DOUBLE PRECISION NOT NULL,
    logins     BIGINT NOT NULL
);
CREATE INDEX deactivations_at ON deactivations (tenant_id, at);

CREATE INDEX refresh_tokens_api_user ON refresh_tokens (api_user) WHERE api_user IS NOT NULL;
