-- scimd SQLite schema, version 4. Never edit once landed: add a new migration.
--
-- Credentials an operator creates for the built-in OAuth 2.0 authorization server.
-- Secrets and passwords are stored only as argon2 hashes.

-- An OAuth client: the calling server (Entra ID, a sync script). `grant_types` and
-- `scopes` are space-separated; lifetimes are in seconds.
CREATE TABLE oauth_clients (
    id           INTEGER PRIMARY KEY,
    client_id    TEXT NOT NULL UNIQUE,
    grant_types  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    access_ttl   INTEGER NOT NULL,
    refresh_ttl  INTEGER NOT NULL,
    created      TEXT NOT NULL,
    disabled     TEXT
);

-- Several secrets may be valid at once, so a client can rotate without downtime.
CREATE TABLE client_secrets (
    id       INTEGER PRIMARY KEY,
    client   INTEGER NOT NULL REFERENCES oauth_clients(id),
    hash     TEXT NOT NULL,
    created  TEXT NOT NULL,
    expires  TEXT,
    revoked  TEXT
);
CREATE INDEX client_secrets_client ON client_secrets (client);

-- The tenants a client may reach.
CREATE TABLE client_tenants (
    client     INTEGER NOT NULL REFERENCES oauth_clients(id),
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    PRIMARY KEY (client, tenant_id)
) WITHOUT ROWID;

-- API system users (service accounts, as the smart-locker system's integration uses): the
-- username selects the tenant, so it is unique across tenants.
CREATE TABLE api_users (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created        TEXT NOT NULL,
    disabled       TEXT
);
CREATE INDEX api_users_tenant ON api_users (tenant_id);
