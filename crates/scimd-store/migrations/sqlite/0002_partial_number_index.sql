-- scimd SQLite schema, version 2. Never edit once landed: add a new migration.
--
-- Only booleans and numbers have `n`; every other attribute-index row has it NULL and
-- was stored in attr_index_n for nothing (a third of the database). Comparisons on `n`
-- imply `n IS NOT NULL`, so SQLite still uses the partial index for them; presence
-- probes (`pr`) use attr_index_s, which keeps every row.
DROP INDEX attr_index_n;
CREATE INDEX attr_index_n ON attr_index (tenant_id, rtype, path, n, res, elem) WHERE n IS NOT NULL;
