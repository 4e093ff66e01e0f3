-- Search ranked by the same BM25 as SQLite's, over the newest matches first.
--
-- The tsvector table ranked every hit with ts_rank, reading each hit's whole vector: a common
-- word cost a pass over half the library, and ranked otherwise than SQLite. Now each live memo
-- or document is one row of its terms as jaryo-text writes them (the stream SQLite's FTS5
-- table is fed), under the row id SQLite uses (2^40 - a document's id, 2^41 - a memo's), so
-- ascending row ids are newest first, documents before memos. Rust counts a ranked row's
-- phrase occurrences in its terms and computes BM25 (jaryo_store::ranking).

DROP TABLE search_index;

CREATE TABLE search_rows (
    row_id      BIGINT  PRIMARY KEY CHECK (row_id > 0 AND row_id < 2199023255552),
    -- Space-separated terms of a document's title ('' for a memo) and of its body.
    title_terms TEXT    NOT NULL,
    body_terms  TEXT    NOT NULL,
    -- Terms in both: the row's length for BM25.
    tokens      INTEGER NOT NULL CHECK (tokens >= 0)
);

-- What the GIN index holds for a row: its distinct terms, and one "window" lexeme per level
-- L = 0..6 naming the block of 4^L * 1024 consecutive row ids it lies in ('#L:block', outside
-- the term alphabet), so a search asks for the matches among the newest rows first, block
-- by block, without visiting older matches.
CREATE FUNCTION jaryo_search_lexemes(row_id BIGINT, title_terms TEXT, body_terms TEXT)
RETURNS TSVECTOR
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT array_to_tsvector(array_remove(
        string_to_array(title_terms || ' ' || body_terms, ' ')
        || ARRAY(SELECT '#' || level || ':' || (row_id >> (10 + 2 * level))
                 FROM generate_series(0, 6) AS level),
        ''))
$$;

CREATE INDEX search_rows_lexemes ON search_rows
    USING GIN (jaryo_search_lexemes(row_id, title_terms, body_terms));

-- BM25's collection statistics, as sums over shards: rows written and their terms in all.
-- As FTS5's totals on SQLite (a contentless_delete table), a row removed or replaced is not
-- subtracted, so both stores rank with the same N and mean length. Each write adds to one
-- shard in its own transaction: the sums are exact in every snapshot, and concurrent writers
-- rarely wait on the same row.
CREATE TABLE search_totals (
    shard  SMALLINT PRIMARY KEY CHECK (shard >= 0 AND shard < 16),
    rows   BIGINT NOT NULL,
    tokens BIGINT NOT NULL
);

INSERT INTO search_totals (shard, rows, tokens)
SELECT shard, 0, 0 FROM generate_series(0, 15) AS shard;

-- The new index is empty: the reindex that runs at the next start fills it.
UPDATE search_index_state SET analyzer_version = 0;
