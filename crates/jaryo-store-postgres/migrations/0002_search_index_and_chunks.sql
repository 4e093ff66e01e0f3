-- Search: one tsvector index over memos and documents, document chunks, document tags, and
-- what the index was built with. The tsvector literals are made by jaryo-text (NFKC,
-- lowercase, Hangul bigrams) in Rust, bound as text and cast, never passed through
-- to_tsvector, and written in the same transaction as the memo or document they index.

-- One row per live memo or document. `kind` 0 is a document, 1 a memo: documents order
-- before memos on equal rank, as the store contract wants. A document's vector holds its
-- title at weight A and its original text at weight D (ts_rank weighs A 10x D); a memo's
-- holds its text at weight D.
CREATE TABLE search_index (
    kind          SMALLINT NOT NULL CHECK (kind IN (0, 1)),
    item_id       BIGINT   NOT NULL,
    search_vector TSVECTOR NOT NULL,
    PRIMARY KEY (kind, item_id)
);

CREATE INDEX search_index_vector ON search_index USING GIN (search_vector);

-- Chunks of a live document's `extracted_text`: byte ranges, recomputed when the text changes.
CREATE TABLE document_chunks (
    document_id  BIGINT  NOT NULL REFERENCES documents (id),
    chunk_index  INTEGER NOT NULL CHECK (chunk_index >= 0),
    byte_start   BIGINT  NOT NULL CHECK (byte_start >= 0),
    byte_end     BIGINT  NOT NULL CHECK (byte_end >= byte_start),
    -- The heading titles the chunk sits under, outermost first.
    heading_path JSONB   NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(heading_path) = 'array'),
    PRIMARY KEY (document_id, chunk_index)
);

-- The #tags of a live document's `extracted_text`, for the search tag filter; `tag_key` is
-- the lowercased tag, as in memo_tags.
CREATE TABLE document_tags (
    tag_key      TEXT   NOT NULL,
    document_id  BIGINT NOT NULL REFERENCES documents (id),
    PRIMARY KEY (tag_key, document_id)
);

CREATE INDEX document_tags_document ON document_tags (document_id);

-- What the index and chunks were built with. Version 0: never built, so rows written before
-- this migration get indexed by a reindex.
CREATE TABLE search_index_state (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    analyzer_version    INTEGER NOT NULL,
    chunk_max_chars     BIGINT,
    chunk_overlap_chars BIGINT,
    built_at            TIMESTAMPTZ
);

INSERT INTO search_index_state (id, analyzer_version) VALUES (1, 0);
