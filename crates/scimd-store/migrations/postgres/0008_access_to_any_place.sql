-- scimd PostgreSQL schema, version 8. Never edit once landed: add a new migration.
--
-- An access link may name any place, not only a bank, as in the SQLite schema's version
-- 14: a locker (access to that locker alone), or a section or location (every bank and
-- locker under it). The column that named the bank now names the place (its foreign key
-- keeps its name, `access_links_bank_id_fkey`); the links already stored name banks.
ALTER TABLE access_links RENAME COLUMN bank_id TO place_id;
ALTER INDEX access_links_bank RENAME TO access_links_place;
