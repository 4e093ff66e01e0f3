-- Memos get a version like documents: bumped by every change of the text, so an edit made
-- from an older read (a second tab) is refused instead of silently overwriting the first.
ALTER TABLE memos ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1);

-- Tags given with a document when it was written (an import's own tags, as a JSON array),
-- kept beside the #tags of its text so a reindex derives both again.
ALTER TABLE documents ADD COLUMN given_tags JSONB NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(given_tags) = 'array');
