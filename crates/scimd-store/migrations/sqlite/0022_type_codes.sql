-- scimd SQLite schema, version 22. Never edit once landed: add a new migration.
--
-- The resource types a tenant's profile declares (Roles, Entitlements, ...): each name's
-- code, which is also the `rtype` of its rows in `resources`. A code is given once and
-- never reused: a type removed from the profile keeps its rows, unseen, and the same
-- name declared again finds them.
CREATE TABLE type_codes (
    tenant_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    code       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name),
    UNIQUE (tenant_id, code)
) WITHOUT ROWID;
