-- scimd PostgreSQL schema, version 6. Never edit once landed: add a new migration.
--
-- The request id a client sent (`X-Request-Id`), kept beside the server's own (as the
-- SQLite schema's version 13): the server's id is always generated, so a client can
-- neither choose nor collide with it.
ALTER TABLE api_events ADD COLUMN client_request_id TEXT;
