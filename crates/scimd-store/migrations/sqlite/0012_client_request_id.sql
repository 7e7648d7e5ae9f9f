-- scimd SQLite schema, version 12. Never edit once landed: add a new migration.
--
-- The request id a client sent (`X-Request-Id`), kept beside the server's own: the
-- server's id is always generated, so a client can neither choose nor collide with it.
-- A change's event lives here; the audit journal gains the same column (its version 2),
-- appended last in both so that the two files' events still read as one.
ALTER TABLE api_events ADD COLUMN client_request_id TEXT;
