-- scimd SQLite schema, version 10. Never edit once landed: add a new migration.
--
-- Users' userName keys are recomputed under the userName rule of scimd-core (Unicode
-- normalization and full case folding): SQL cannot fold Unicode, so the store does it in
-- Rust in this migration's transaction (`sqlite/user_names.rs`). A user whose name now
-- clashes with another's of the same tenant, or holds a character the rule refuses, is
-- recorded here for the operator (`scimd migrate` lists them, and `scimd serve` warns
-- while any is left); `kept_key` is the key it kept: once it changes (the user was
-- renamed) or the user is gone, the entry no longer shows.
CREATE TABLE user_name_issues (
    tenant_id  INTEGER NOT NULL,
    user_id    TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    kept_key   TEXT NOT NULL,
    other_id   TEXT,
    problem    TEXT NOT NULL,
    found      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- Secrets of the whole deployment, shared by every process on this database (the key
-- that seals list cursors): opaque bytes, made by the server on first use.
CREATE TABLE server_secrets (
    name     TEXT PRIMARY KEY,
    value    BLOB NOT NULL,
    created  TEXT NOT NULL
);
