-- scimd SQLite schema, version 21. Never edit once landed: add a new migration.
--
-- The lifecycle identity providers run: what is left of a deleted resource, and how long
-- each deactivation took to take effect.

-- A deleted resource's tombstone: its id, what named it (a user's userName key, a
-- group's folded displayName) and its externalId, kept for the retention the server
-- sets (`--tombstone-days`), so that a profile that re-provisions can bring it back
-- under its id. Never the document, so never a secret.
CREATE TABLE tombstones (
    tenant_id    INTEGER NOT NULL,
    rtype        INTEGER NOT NULL,
    scim_id      TEXT NOT NULL,
    name_key     TEXT,
    external_id  TEXT,
    version      INTEGER NOT NULL,
    created      TEXT NOT NULL,
    deleted      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, rtype, scim_id)
) WITHOUT ROWID;
CREATE INDEX tombstones_name ON tombstones (tenant_id, rtype, name_key);
CREATE INDEX tombstones_external ON tombstones (tenant_id, rtype, external_id);
CREATE INDEX tombstones_deleted ON tombstones (tenant_id, deleted);

-- One row per user deactivation: from the identity provider's request arriving to its
-- last effect (the row written, the user's logins revoked), and how many logins it ended.
CREATE TABLE deactivations (
    tenant_id  INTEGER NOT NULL,
    at         TEXT NOT NULL,
    scim_id    TEXT NOT NULL,
    millis     REAL NOT NULL,
    logins     INTEGER NOT NULL
);
CREATE INDEX deactivations_at ON deactivations (tenant_id, at);

-- The logins (refresh families) of an API user, found when its user is deactivated.
CREATE INDEX refresh_tokens_api_user ON refresh_tokens (api_user) WHERE api_user IS NOT NULL;
