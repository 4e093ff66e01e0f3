-- Memos and documents: the same tables, columns and constraints as the SQLite store, in
-- PostgreSQL's own types (timestamptz with microseconds, JSONB, identity ids).

CREATE TABLE documents (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title                  TEXT        NOT NULL DEFAULT '',
    extracted_text         TEXT,
    md_content             TEXT,
    content_origin         TEXT        NOT NULL
        CHECK (content_origin IN ('user', 'memo', 'import', 'ai_drafted')),
    md_status              TEXT,
    md_draft_status        TEXT
        CHECK (md_draft_status IN ('draft', 'accepted', 'rejected')),
    md_extraction_engine   TEXT,
    md_generated_at        TIMESTAMPTZ,
    source_metadata        JSONB       NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(source_metadata) = 'object'),
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    deleted_at             TIMESTAMPTZ,
    version                BIGINT      NOT NULL DEFAULT 1,

    -- The drafting work for this document (SPEC §3): explicit, inspectable state.
    draft_state            TEXT        NOT NULL DEFAULT 'none'
        CHECK (draft_state IN ('none', 'pending', 'running', 'done', 'skipped', 'failed')),
    draft_attempts         INTEGER     NOT NULL DEFAULT 0 CHECK (draft_attempts >= 0),
    draft_next_attempt_at  TIMESTAMPTZ,
    draft_last_error       TEXT,
    -- Set while running: who holds the claim, until when, and a token that fences a stale
    -- holder out after its lease was taken over.
    draft_lease_owner      TEXT,
    draft_lease_expires_at TIMESTAMPTZ,
    draft_claim_token      TEXT,
    -- The document version the running claim read; a draft applies only to that version.
    draft_claimed_version  BIGINT,

    -- The seed's migration 212: a draft review status only on AI-drafted content.
    CONSTRAINT md_draft_status_requires_ai_drafted
        CHECK (md_draft_status IS NULL OR content_origin = 'ai_drafted')
);

-- The draft workers' queue: live documents by state, oldest first.
CREATE INDEX documents_draft_queue
    ON documents (draft_state, id)
    WHERE deleted_at IS NULL;

CREATE TABLE memos (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content      TEXT        NOT NULL,
    -- The memo's tags as a JSON array, in order of appearance.
    tags         JSONB       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    document_id  BIGINT      REFERENCES documents (id),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    deleted_at   TIMESTAMPTZ
);

CREATE INDEX memos_document ON memos (document_id) WHERE document_id IS NOT NULL;

-- Tags again, one row each, for filtering; `tag_key` is the lowercased tag.
CREATE TABLE memo_tags (
    tag_key  TEXT   NOT NULL,
    memo_id  BIGINT NOT NULL REFERENCES memos (id),
    PRIMARY KEY (tag_key, memo_id)
);

CREATE INDEX memo_tags_memo ON memo_tags (memo_id);
