-- The sizes of the search index's rows (tokens, title and body together), 256 row ids to a
-- block, as little-endian u32s (0: unknown). `jaryo_rank` reads a query's row sizes here, a
-- block at a time, instead of seeking FTS5's `search_fts_docsize` for every ranked row, which
-- cost a search more than anything else about ranking. Written by the store in the same
-- transaction as the index rows (search.rs), in the format of jaryo-fts5-rank's `lengths`.
CREATE TABLE search_lengths (
    block INTEGER PRIMARY KEY,
    sizes BLOB    NOT NULL CHECK (length(sizes) = 1024)
);
-- Rows indexed before this migration have no sizes here. Ranking would still be right (it
-- asks FTS5 for a size it does not find), only slower: mark the index as never built, so the
-- next start rebuilds it (`reindex_if_stale`) and writes every block.
UPDATE search_index_state SET analyzer_version = 0 WHERE id = 1;
