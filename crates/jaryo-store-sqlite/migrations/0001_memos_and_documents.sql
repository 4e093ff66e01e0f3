-- Memos and documents. Timestamps are UTC text in one fixed format
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ), so text order is time order.

CREATE TABLE documents (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    title                  TEXT    NOT NULL DEFAULT '',
    extracted_text         TEXT,
    md_content             TEXT,
    content_origin         TEXT    NOT NULL
        CHECK (content_origin IN ('user', 'memo', 'import', 'ai_drafted')),
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

    -- The drafting work for this document (SPEC §3): explicit, inspectable state.
    draft_state            TEXT    NOT NULL DEFAULT 'none'
        CHECK (draft_state IN ('none', 'pending', 'running', 'done', 'skipped', 'failed')),
    draft_attempts         INTEGER NOT NULL DEFAULT 0 CHECK (draft_attempts >= 0),
    draft_next_attempt_at  TEXT,
    draft_last_error       TEXT,
    -- Set while running: who holds the claim, until when, and a token that fences a stale
    -- holder out after its lease was taken over.
    draft_lease_owner      TEXT,
    draft_lease_expires_at TEXT,
    draft_claim_token      TEXT,
    -- The document version the running claim read; a draft applies only to that version.
    draft_claimed_version  INTEGER,

    -- The seed's migration 212: a draft review status only on AI-drafted content.
    CONSTRAINT md_draft_status_requires_ai_drafted
        CHECK (md_draft_status IS NULL OR content_origin = 'ai_drafted')
);

-- The draft worker's queue: live documents by state, oldest first.
CREATE INDEX documents_draft_queue
    ON documents (draft_state, id)
    WHERE deleted_at IS NULL;

CREATE TABLE memos (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    content      TEXT    NOT NULL,
    -- The memo's tags as a JSON array, in order of appearance.
    tags         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    document_id  INTEGER REFERENCES documents (id),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    deleted_at   TEXT
);

CREATE INDEX memos_document ON memos (document_id) WHERE document_id IS NOT NULL;

-- Tags again, one row each, for filtering; `tag_key` is the lowercased tag.
CREATE TABLE memo_tags (
    tag_key  TEXT    NOT NULL,
    memo_id  INTEGER NOT NULL REFERENCES memos (id),
    PRIMARY KEY (tag_key, memo_id)
) WITHOUT ROWID;

CREATE INDEX memo_tags_memo ON memo_tags (memo_id);
