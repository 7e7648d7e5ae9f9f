-- scimd SQLite schema, version 14. Never edit once landed: add a new migration.
--
-- An access link may name any place, not only a bank: a locker (access to that locker
-- alone), or a section or location (every bank and locker under it). The column that
-- named the bank now names the place; the links already stored name banks, as before.
ALTER TABLE access_links RENAME COLUMN bank_id TO place_id;
DROP INDEX access_links_bank;
CREATE INDEX access_links_place ON access_links (place_id, group_id);
