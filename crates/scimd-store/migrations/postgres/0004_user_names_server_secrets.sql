-- scimd PostgreSQL schema, version 4. Never edit once landed: add a new migration.
--
-- As the SQLite schema's version 10: users' userName keys are recomputed under the
-- userName rule of scimd-core by the store, in Rust, in this migration's transaction
-- (`postgres/user_names.rs`); users whose name now clashes with another's of the same
-- tenant, or holds a character the rule refuses, are recorded for the operator.
CREATE TABLE user_name_issues (
    tenant_id  BIGINT NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    user_name  TEXT NOT NULL,
    kept_key   TEXT COLLATE "C" NOT NULL,
    other_id   TEXT COLLATE "C",
    problem    TEXT NOT NULL,
    found      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- Secrets of the whole deployment, shared by every replica (the key that seals list
-- cursors): opaque bytes, made by the server on first use.
CREATE TABLE server_secrets (
    name     TEXT COLLATE "C" PRIMARY KEY,
    value    BYTEA NOT NULL,
    created  TEXT NOT NULL
);
