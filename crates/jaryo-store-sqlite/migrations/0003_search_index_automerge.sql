-- FTS5 writes each write transaction's terms as a new index segment and, by default, merges
-- segments as soon as 4 of a size pile up: with a commit every few dozen documents, an
-- import rewrote its terms five or six times on the write path, a third of the writer's
-- time. With 16, about half as often. The store merges the whole index into one segment in
-- the background once writes pause (index_merge.rs), which is what queries then read.
INSERT INTO search_fts (search_fts, rank) VALUES ('automerge', 16);
