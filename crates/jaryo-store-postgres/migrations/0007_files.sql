-- Files become documents (issue 23): the original bytes kept inside the database, in pieces,
-- beside the document made from them; `content_origin` gains 'file'. The same tables as the
-- SQLite store's migration 0008, in PostgreSQL's types.
ALTER TABLE documents DROP CONSTRAINT documents_content_origin_check;
ALTER TABLE documents ADD CONSTRAINT documents_content_origin_check
    CHECK (content_origin IN ('user', 'memo', 'import', 'file', 'ai_drafted'));

-- An upload's bytes, written piece by piece as they arrive; `complete` once the last piece is
-- in and the upload became a file (an incomplete blob is an upload in flight or abandoned).
CREATE TABLE file_blobs (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complete    BOOLEAN     NOT NULL DEFAULT FALSE,
    -- When a piece was last written: abandoned uploads are swept by age.
    touched_at  TIMESTAMPTZ NOT NULL
);

-- The pieces (at most 256 KiB each), in order from 0. Already compressed formats gain nothing
-- from TOAST's compression: stored as they are.
CREATE TABLE file_pieces (
    blob_id  BIGINT  NOT NULL REFERENCES file_blobs (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL CHECK (seq >= 0),
    bytes    BYTEA   NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
ALTER TABLE file_pieces ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- A document's file: what it is, where its bytes are, and how its extraction ended.
CREATE TABLE files (
    document_id       BIGINT  NOT NULL PRIMARY KEY REFERENCES documents (id),
    blob_id           BIGINT  NOT NULL UNIQUE REFERENCES file_blobs (id),
    name              TEXT    NOT NULL CHECK (name <> ''),
    media_type        TEXT    NOT NULL,
    size              BIGINT  NOT NULL CHECK (size > 0),
    pieces            INTEGER NOT NULL CHECK (pieces > 0),
    -- Lowercase hex of the SHA-256 of the bytes: the same bytes uploaded again are found here.
    sha256            TEXT    NOT NULL CHECK (length(sha256) = 64),
    pages             INTEGER CHECK (pages >= 0),
    -- How the last extraction ended; while it is queued or running, its job says so.
    extraction_state  TEXT    NOT NULL DEFAULT 'pending'
        CHECK (extraction_state IN ('pending', 'done', 'failed', 'unsupported', 'needs_ocr')),
    extraction_error  TEXT,
    -- Where each page's text lies in `extracted_text`: [[page, start, end], ...].
    page_spans        JSONB   NOT NULL DEFAULT '[]'
        CHECK (jsonb_typeof(page_spans) = 'array')
);

CREATE INDEX files_sha256 ON files (sha256);
