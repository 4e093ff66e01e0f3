-- Search: one FTS5 index over memos and documents, document chunks, document tags, and what
-- the index was built with. Terms are made by jaryo-text (NFKC, lowercase, Hangul bigrams)
-- in Rust and written here in the same transaction as the memo or document they index.

-- `ascii` reads jaryo-text's space-separated terms back intact (it splits only on ASCII
-- non-alphanumerics); contentless, because the originals live in memos and documents.
-- Row ids: a document's id, or 2^40 + a memo's id, so one BM25 ranks both kinds on the same
-- statistics and a kind filter is a row-id range the index answers itself.
-- A memo's text is its `body`; its `title` is empty.
CREATE VIRTUAL TABLE search_fts USING fts5(
    title,
    body,
    tokenize = 'ascii',
    content = '',
    contentless_delete = 1
);

-- Chunks of a live document's `extracted_text`: byte ranges, recomputed when the text changes.
CREATE TABLE document_chunks (
    document_id  INTEGER NOT NULL REFERENCES documents (id),
    chunk_index  INTEGER NOT NULL CHECK (chunk_index >= 0),
    byte_start   INTEGER NOT NULL CHECK (byte_start >= 0),
    byte_end     INTEGER NOT NULL CHECK (byte_end >= byte_start),
    -- JSON array of the heading titles the chunk sits under, outermost first.
    heading_path TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(heading_path)),
    PRIMARY KEY (document_id, chunk_index)
) WITHOUT ROWID;

-- The #tags of a live document's `extracted_text`, for the search tag filter; `tag_key` is
-- the lowercased tag, as in memo_tags.
CREATE TABLE document_tags (
    tag_key      TEXT    NOT NULL,
    document_id  INTEGER NOT NULL REFERENCES documents (id),
    PRIMARY KEY (tag_key, document_id)
) WITHOUT ROWID;

CREATE INDEX document_tags_document ON document_tags (document_id);

-- What the index and chunks were built with. Version 0: never built, so rows written before
-- this migration get indexed by the reindex that runs when jaryo next starts.
CREATE TABLE search_index_state (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    analyzer_version    INTEGER NOT NULL,
    chunk_max_chars     INTEGER,
    chunk_overlap_chars INTEGER,
    built_at            TEXT
);

INSERT INTO search_index_state (id, analyzer_version) VALUES (1, 0);
