-- One index for token, string, reference and date values instead of two. H2 writes every
-- search_value row into every index of the table, and a row fills either code (tokens, strings,
-- references, quantities) or low and high (dates), never both: the date index held an entry for
-- every token row that no search reads. A Patient create writes about six rows, an AuditEvent
-- eleven, so each write touched one B-tree per row for nothing; at 32 clients on 2 cores creates
-- went from 1,451-1,828/s to 1,960-2,291/s without it (2026-12-03). A date search on H2 reads this
-- index with code IS NULL (db/SearchSql), the same range of low it read in the date index.
-- PostgreSQL keeps its two indexes: its writes are not bound by them, and its planner's choices
-- for date searches were measured with them (bench/run-search).
-- Each statement can run again: a start stopped halfway through runs the whole migration again.
DROP INDEX IF EXISTS search_value_date;
DROP INDEX IF EXISTS search_value_code;
CREATE INDEX IF NOT EXISTS search_value_code ON search_value (project, res_type, param, code, low, high);
