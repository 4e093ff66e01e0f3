-- no-transaction
-- Files become documents (issue 23): the original bytes kept inside the database, in pieces,
-- beside the document made from them; `content_origin` gains 'file'.
--
-- SQLite cannot change a CHECK constraint in place, so `documents` is rebuilt (SQLite's
-- documented twelve steps): foreign keys off for the swap, which runs in one transaction of
-- its own, and `foreign_key_check` before it commits. Hence `no-transaction` above: the pragma
-- is a no-op inside a transaction.
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

CREATE TABLE documents_new (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    title                  TEXT    NOT NULL DEFAULT '',
    extracted_text         TEXT,
    md_content             TEXT,
    content_origin         TEXT    NOT NULL
        CHECK (content_origin IN ('user', 'memo', 'import', 'file', 'ai_drafted')),
    md_status              TEXT,
    md_draft_status        TEXT
        CHECK (md_draft_status IN ('draft', 'accepted', 'rejected')),
    md_extraction_engine   TEXT,
    md_generated_at        TEXT,
    source_metadata        TEXT    NOT NULL DEFAULT '{}'
        CHECK (json_valid(source_metadata) AND json_type(source_metadata) = 'object'),
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL,
    deleted_at             TEXT,
    version                INTEGER NOT NULL DEFAULT 1,
    given_tags             TEXT    NOT NULL DEFAULT '[]'
        CHECK (json_valid(given_tags) AND json_type(given_tags) = 'array'),
    draft_flagged          INTEGER NOT NULL DEFAULT 0
        CHECK (draft_flagged IN (0, 1)),

    -- The seed's migration 212: a draft review status only on AI-drafted content.
    CONSTRAINT md_draft_status_requires_ai_drafted
        CHECK (md_draft_status IS NULL OR content_origin = 'ai_drafted')
);

INSERT INTO documents_new (id, title, extracted_text, md_content, content_origin, md_status,
                           md_draft_status, md_extraction_engine, md_generated_at,
                           source_metadata, created_at, updated_at, deleted_at, version,
                           given_tags, draft_flagged)
SELECT id, title, extracted_text, md_content, content_origin, md_status, md_draft_status,
       md_extraction_engine, md_generated_at, source_metadata, created_at, updated_at,
       deleted_at, version, given_tags, draft_flagged
FROM documents ORDER BY id;

-- Ids are never reused, even those of rows that never committed.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'documents_new', seq FROM sqlite_sequence WHERE name = 'documents'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'documents_new');
UPDATE sqlite_sequence
SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'documents'))
WHERE name = 'documents_new';

DROP TABLE documents;
ALTER TABLE documents_new RENAME TO documents;

-- An upload's bytes, written piece by piece as they arrive; `complete` once the last piece is
-- in and the upload became a file (an incomplete blob is an upload in flight or abandoned).
CREATE TABLE file_blobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    complete    INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    -- When a piece was last written: abandoned uploads are swept by age.
    touched_at  TEXT    NOT NULL
);

-- The pieces (at most 256 KiB each), in order from 0. A rowid table: rows this large do not
-- belong in a WITHOUT ROWID b-tree.
CREATE TABLE file_pieces (
    blob_id  INTEGER NOT NULL REFERENCES file_blobs (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL CHECK (seq >= 0),
    bytes    BLOB    NOT NULL,
    UNIQUE (blob_id, seq)
);

-- A document's file: what it is, where its bytes are, and how its extraction ended.
CREATE TABLE files (
    document_id       INTEGER NOT NULL PRIMARY KEY REFERENCES documents (id),
    blob_id           INTEGER NOT NULL UNIQUE REFERENCES file_blobs (id),
    name              TEXT    NOT NULL CHECK (name <> ''),
    media_type        TEXT    NOT NULL,
    size              INTEGER NOT NULL CHECK (size > 0),
    pieces            INTEGER NOT NULL CHECK (pieces > 0),
    -- Lowercase hex of the SHA-256 of the bytes: the same bytes uploaded again are found here.
    sha256            TEXT    NOT NULL CHECK (length(sha256) = 64),
    pages             INTEGER CHECK (pages >= 0),
    -- How the last extraction ended; while it is queued or running, its job says so.
    extraction_state  TEXT    NOT NULL DEFAULT 'pending'
        CHECK (extraction_state IN ('pending', 'done', 'failed', 'unsupported', 'needs_ocr')),
    extraction_error  TEXT,
    -- Where each page's text lies in `extracted_text`: JSON [[page, start, end], ...].
    page_spans        TEXT    NOT NULL DEFAULT '[]'
        CHECK (json_valid(page_spans) AND json_type(page_spans) = 'array')
);

CREATE INDEX files_sha256 ON files (sha256);

PRAGMA foreign_key_check;

COMMIT;

PRAGMA foreign_keys = ON;
