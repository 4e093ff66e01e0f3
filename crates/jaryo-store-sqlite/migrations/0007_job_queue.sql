-- The job queue: one table for every kind of derived work (drafts now; text extraction,
-- embeddings and imports next), instead of a set of `draft_*` columns per kind on documents.
-- At most one job per kind and document, kept after it ends so its outcome stays visible.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    -- The subject: the document, and the version the running claim read.
    document_id      INTEGER NOT NULL REFERENCES documents (id),
    subject_version  INTEGER,
    state            TEXT    NOT NULL
        CHECK (state IN ('pending', 'running', 'done', 'skipped', 'failed')),
    -- Higher first; equal priorities go oldest document first.
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TEXT,
    last_error       TEXT,
    -- Set while running: who holds the claim and until when.
    lease_owner      TEXT,
    lease_expires_at TEXT,
    -- Bumped by every claim and every re-queue: a claim settles only under its own fence.
    fence            INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, document_id)
);

-- Claims: a kind's due work by state, priority, then oldest document first.
CREATE INDEX jobs_due ON jobs (kind, state, priority DESC, document_id);

-- A kind held back while something it needs is down, until `until` unless resumed before.
CREATE TABLE job_pauses (
    kind   TEXT NOT NULL PRIMARY KEY,
    reason TEXT NOT NULL,
    until  TEXT NOT NULL
) WITHOUT ROWID;

-- Every document's draft work moves onto the queue, oldest document first.
INSERT INTO jobs (kind, document_id, subject_version, state, attempts, next_attempt_at,
                  last_error, lease_owner, lease_expires_at, fence)
SELECT 'draft', id, draft_claimed_version, draft_state, draft_attempts, draft_next_attempt_at,
       draft_last_error, draft_lease_owner, draft_lease_expires_at, 1
FROM documents WHERE draft_state <> 'none' ORDER BY id;

DROP INDEX documents_draft_queue;
ALTER TABLE documents DROP COLUMN draft_state;
ALTER TABLE documents DROP COLUMN draft_attempts;
ALTER TABLE documents DROP COLUMN draft_next_attempt_at;
ALTER TABLE documents DROP COLUMN draft_last_error;
ALTER TABLE documents DROP COLUMN draft_lease_owner;
ALTER TABLE documents DROP COLUMN draft_lease_expires_at;
ALTER TABLE documents DROP COLUMN draft_claim_token;
ALTER TABLE documents DROP COLUMN draft_claimed_version;

-- Whether the fidelity check flagged the document's draft: a column of its own, read by the
-- "needs attention" listing and the re-run selection, instead of a path into
-- source_metadata. Existing drafts keep what their metadata says.
ALTER TABLE documents ADD COLUMN draft_flagged INTEGER NOT NULL DEFAULT 0
    CHECK (draft_flagged IN (0, 1));
UPDATE documents SET draft_flagged = 1
WHERE json_extract(source_metadata, '$.fidelity.flagged') IN (1, 'true');
