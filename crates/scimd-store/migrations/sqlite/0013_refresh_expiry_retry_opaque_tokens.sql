-- scimd SQLite schema, version 13. Never edit once landed: add a new migration.
--
-- OAuth: when a client's logins expire, a retried refresh, opaque access tokens.

-- `sliding` or `absolute` (a login's refresh tokens expire one lifetime after the login);
-- NULL: as the profile of the login's tenant says.
ALTER TABLE oauth_clients ADD COLUMN refresh_expiry TEXT;

-- A spent refresh token keeps the hash of the token that replaced it and that rotation's
-- answer, sealed under a key derived from the spent token itself (which is stored only
-- hashed): a client retrying a refresh whose answer it lost gets the same answer within a
-- short grace period. The answer is dropped when the new token is rotated in turn.
ALTER TABLE refresh_tokens ADD COLUMN successor BLOB;
ALTER TABLE refresh_tokens ADD COLUMN retry BLOB;
CREATE INDEX refresh_tokens_successor ON refresh_tokens (successor) WHERE successor IS NOT NULL;

-- Opaque access tokens (tenants whose profile asks for them instead of signed JWTs), by
-- SHA-256 hash. `jti` and `family` are what `revoked_grants` revokes, as for JWTs.
CREATE TABLE access_tokens (
    hash       BLOB PRIMARY KEY,
    jti        TEXT NOT NULL,
    family     TEXT,
    client     INTEGER NOT NULL REFERENCES oauth_clients(id),
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    subject    TEXT,
    scopes     TEXT NOT NULL,
    created    TEXT NOT NULL,
    expires    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX access_tokens_expires ON access_tokens (expires);
