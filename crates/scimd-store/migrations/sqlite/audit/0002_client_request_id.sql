-- scimd audit journal schema, version 2. Never edit once landed: add a new migration.
--
-- The request id a client sent (`X-Request-Id`), kept beside the server's own; the same
-- column as the main database's `api_events` gains in its version 13 (appended last in
-- both, so that the two files' events still read as one).
ALTER TABLE api_events ADD COLUMN client_request_id TEXT;
