-- scimd SQLite schema, version 5. Never edit once landed: add a new migration.
--
-- State of the OAuth 2.0 authorization server: signing keys, refresh tokens (hashed),
-- revoked grants, failed logins (brute-force lockout) and operator tokens (hashed).

-- Ed25519 keys that sign access tokens. The newest unretired key signs; every
-- unretired key is published in the JWKS and verifies. `seed` is the 32-byte private key.
CREATE TABLE signing_keys (
    kid      TEXT PRIMARY KEY,
    seed     BLOB NOT NULL,
    created  TEXT NOT NULL,
    retired  TEXT
) WITHOUT ROWID;

-- Refresh tokens, by SHA-256 hash. A login starts a family; each refresh marks the
-- presented token used and adds the next one to the family. Presenting a used token
-- again revokes the family (revoked_grants).
CREATE TABLE refresh_tokens (
    hash       BLOB PRIMARY KEY,
    family     TEXT NOT NULL,
    client     INTEGER NOT NULL REFERENCES oauth_clients(id),
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    api_user   INTEGER REFERENCES api_users(id),
    scopes     TEXT NOT NULL,
    created    TEXT NOT NULL,
    expires    TEXT NOT NULL,
    used       TEXT
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

-- Revoked access tokens (by jti) and revoked refresh families (by family id, which
-- access tokens carry as `sid`), kept until every token they cover has expired.
CREATE TABLE revoked_grants (
    id       TEXT PRIMARY KEY,
    expires  TEXT NOT NULL
) WITHOUT ROWID;

-- Consecutive failed logins per client id or API username.
CREATE TABLE login_failures (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  TEXT NOT NULL,
    locked_until  TEXT
) WITHOUT ROWID;

-- Operator tokens for the admin API, by SHA-256 hash.
CREATE TABLE admin_tokens (
    id       INTEGER PRIMARY KEY,
    hash     BLOB NOT NULL UNIQUE,
    created  TEXT NOT NULL,
    expires  TEXT,
    revoked  TEXT
);
