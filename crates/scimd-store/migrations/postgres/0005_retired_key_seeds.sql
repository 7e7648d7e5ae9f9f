-- scimd PostgreSQL schema, version 5. Never edit once landed: add a new migration.
--
-- As the SQLite schema's version 11: a retired signing key neither signs nor verifies
-- again, so retiring now empties `seed`, and this forgets the seeds of keys retired
-- before. (Seeds of active keys may be sealed under the operator's master key; the store
-- keeps them as opaque bytes either way.)
UPDATE signing_keys SET seed = ''::bytea WHERE retired IS NOT NULL;
