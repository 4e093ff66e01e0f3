-- Index row ids now count down from the newest item (search.rs), so that the newest matches,
-- which an unfiltered search ranks, come first in FTS5's forward walk. Rows numbered the old
-- way are dropped and the index is marked as never built: the next start rebuilds it
-- (`reindex_if_stale`), as after an analyzer change.
INSERT INTO search_fts (search_fts) VALUES ('delete-all');
UPDATE search_index_state SET analyzer_version = 0 WHERE id = 1;
