-- scimd PostgreSQL schema, version 14. Never edit once landed: add a new migration.
--
-- Credentials without shared secrets. A client may authenticate with a signed assertion
-- (private_key_jwt) instead of a secret: its public keys inline (`jwks`, a JSON key set),
-- at a URL (`jwks_uri`), or those of one of its tenant's federated trusts (`trust_tenant`,
-- `trust_name`: no foreign key, a global table never refers to a tenant's rows).
ALTER TABLE oauth_clients ADD COLUMN auth_method TEXT;
ALTER TABLE oauth_clients ADD COLUMN jwks TEXT;
ALTER TABLE oauth_clients ADD COLUMN jwks_uri TEXT;
ALTER TABLE oauth_clients ADD COLUMN trust_tenant BIGINT;
ALTER TABLE oauth_clients ADD COLUMN trust_name TEXT;

-- A tenant's federated trusts: an issuer whose signed tokens the tenant accepts, with the
-- audiences, subjects and claims they must carry and the scopes they are granted.
CREATE TABLE federation_trusts (
    tenant_id   BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    issuer      TEXT COLLATE "C" NOT NULL,
    -- NULL: discovered from the issuer's metadata.
    jwks_uri    TEXT,
    -- JSON arrays of strings, and a JSON object of claim → value.
    audiences   TEXT COLLATE "C" NOT NULL,
    subjects    TEXT COLLATE "C" NOT NULL,
    claims      TEXT COLLATE "C" NOT NULL,
    scopes      TEXT COLLATE "C" NOT NULL,
    -- Whether its tokens are also accepted as bearer tokens at the SCIM API.
    accept_bearer BOOLEAN NOT NULL DEFAULT FALSE,
    created     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE INDEX federation_trusts_issuer ON federation_trusts (tenant_id, issuer);

-- The jti of every assertion accepted, until the assertion expires: a second use is a
-- replay. Shared by every replica through the database.
CREATE TABLE assertion_jtis (
    issuer   TEXT COLLATE "C" NOT NULL,
    jti      TEXT COLLATE "C" NOT NULL,
    expires  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX assertion_jtis_expires ON assertion_jtis (expires);
