-- scimd PostgreSQL schema, version 11. Never edit once landed: add a new migration.
--
-- The portal: the people who sign in to the web console. Operators see every tenant and
-- sign in with a password and a TOTP second factor; a tenant's system users (its
-- customer's admins) see only their tenant and sign in with a password set through a
-- one-time invitation link, or with their company's OpenID Connect provider.

CREATE TABLE portal_operators (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    -- argon2 (PHC string).
    password_hash   TEXT NOT NULL,
    -- The TOTP seed, sealed with the master key; unconfirmed until the operator has
    -- entered a first code from it.
    totp_seed       TEXT,
    totp_confirmed  BOOLEAN NOT NULL DEFAULT FALSE,
    -- The last TOTP time step accepted: a code is good once.
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created         TEXT NOT NULL
);

CREATE TABLE portal_users (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Lowercased; a person is a system user of one tenant.
    email           TEXT NOT NULL UNIQUE,
    -- argon2 (PHC string); none until the invitation is accepted (or for SSO only).
    password_hash   TEXT,
    -- The pending invitation: SHA-256 (hex) of its one-time token, and when it expires.
    invite_hash     TEXT UNIQUE,
    invite_expires  TEXT,
    -- `issuer subject` of the SSO identity that signed in as this user.
    sso_subject     TEXT,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    -- Who made it (`operator:<name>`, `sso`).
    created_by      TEXT,
    created         TEXT NOT NULL
);
CREATE INDEX portal_users_tenant ON portal_users (tenant_id, email);

-- Signed-in sessions (and those waiting for their second factor), by SHA-256 (hex) of the
-- cookie's token. Revoking a session deletes its row.
CREATE TABLE portal_sessions (
    id_hash         TEXT PRIMARY KEY,
    operator_id     BIGINT REFERENCES portal_operators (id) ON DELETE CASCADE,
    user_id         BIGINT REFERENCES portal_users (id) ON DELETE CASCADE,
    -- `second_factor` or `signed_in`.
    stage           TEXT NOT NULL,
    -- The session's anti-forgery token, in every form.
    csrf            TEXT NOT NULL,
    created         TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    expires         TEXT NOT NULL,
    address         TEXT,
    user_agent      TEXT
);
CREATE INDEX portal_sessions_operator ON portal_sessions (operator_id);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires);

-- A tenant's single sign-on: its OpenID Connect provider and who it admits.
CREATE TABLE portal_sso (
    tenant_id       BIGINT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    -- Sealed with the master key; none for a public client.
    client_secret   TEXT,
    -- Space-separated lists.
    allowed_domains TEXT NOT NULL DEFAULT '',
    allowed_groups  TEXT NOT NULL DEFAULT '',
    updated         TEXT NOT NULL
);
