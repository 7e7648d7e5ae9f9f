-- scimd SQLite schema, version 11. Never edit once landed: add a new migration.
--
-- A retired signing key neither signs nor verifies again, so its private key has no use
-- left: retiring now empties `seed`, and this forgets the seeds of keys retired before.
-- (Seeds of active keys may be sealed under the operator's master key; the store keeps
-- them as opaque bytes either way.)
UPDATE signing_keys SET seed = x'' WHERE retired IS NOT NULL;
