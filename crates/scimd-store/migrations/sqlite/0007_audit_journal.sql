-- scimd SQLite schema, version 7. Never edit once landed: add a new migration.
--
-- Payloads and the error log move to the audit journal (the `<database>-audit` file):
-- everything written after a request lives there, so that a read-only workload never
-- commits to this database. Changes' events stay here, in the changes' transactions.
-- Before this runs, opening the store has copied these tables' rows into the journal
-- (committed there first: a crash in between copies again, idempotently).
DROP TABLE api_event_details;
DROP TABLE error_log;
