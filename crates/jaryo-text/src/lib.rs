//! Text analysis shared by every store: normalisation, bigram terms, queries, chunks, snippets.
//!
//! jaryo searches memos and documents by their original words, Korean first-class. This crate
//! is the whole of the *language* side of search, with no I/O: one analyzer that both SQLite
//! FTS5 and PostgreSQL full-text search are fed from, one query language rendered for each,
//! a reference matcher that defines what a match *is*, the chunker, and the snippet
//! highlighter. Stores stay thin: they store strings this crate makes and pass strings this
//! crate renders.
//!
//! Architecture invariant: this crate knows no SQL connection, no HTTP, no storage. It knows
//! the *syntax* of an FTS5 `MATCH` expression and of PostgreSQL `tsvector`/`tsquery` literals,
//! because making those safe is its job.
//!
//! # Code map
//!
//! - `normalize` (private): NFKC + lowercase, with an offset-preserving path.
//! - [`analyzer`]: units and the positional term stream; PostgreSQL `tsvector` literals.
//! - [`query`]: the query language, [`Query`], and its FTS5 / tsquery renderings.
//! - [`matcher`]: the reference semantics ([`matches`](fn@matches)), match spans and scores.
//! - [`snippet`](mod@snippet): highlighted excerpts with byte offsets into the original.
//! - [`chunk`]: heading- and paragraph-aware chunks with byte offsets.
//!
//! # The term stream
//!
//! Text is normalised (NFKC, which includes NFC: macOS's NFD Hangul and NFC Hangul become the
//! same; then lowercase; then Latin accents are folded, `café` → `cafe`) and cut into *units*: words of non-CJK letters and digits (`axum`,
//! `2024`), and runs of CJK characters (`서버를`); punctuation separates units and a change of
//! script ends one (`axum서버` → `axum`, `서버`). A word is one term; a CJK run of *n*
//! characters is *n* terms — its overlapping bigrams, then its last character alone:
//!
//! ```text
//! "Axum 서버를 재시작" → axum 서버 버를 를 재시 시작 작
//! ```
//!
//! The trailing unigram ("run-final") is what makes one-character queries exact without
//! breaking phrase adjacency: every character of a run starts exactly one term, so the query
//! `버` is the prefix query `버*` (it finds 서버, 버스, 버); and a phrase can require a run to
//! end (`"서버 설정"` is `서버 버 설정`). Everything is in **one** stream per field, so one FTS
//! column per field is enough. See [`analyzer`] and [`query`] for the full rules.
//!
//! # Query semantics
//!
//! Whitespace-separated clauses, all required (AND); `"quoted phrases"`; a word ending in `*`
//! is a prefix (`back*` finds `backup` and `backend`); no other operators, so no input can
//! change the query's structure. A Korean word matches inside any longer run
//! (`서버` in `서버를`, `웹서버에서`); a single syllable matches any run containing it; Latin
//! words match whole words, case-insensitively. [`matches`](fn@matches) implements this
//! directly on the text and is the oracle for store tests: a store's hit set for a query must
//! equal the rows for which [`matches_fields`] is true (subject to the PostgreSQL limits
//! below).
//!
//! # How a store must index
//!
//! For every searchable item compute one term string per field, from the **original** text
//! (the memo text, a document's `extracted_text` and title), in the same transaction as the
//! write:
//!
//! ```text
//! title_terms = jaryo_text::index_terms(title)
//! body_terms  = jaryo_text::index_terms(body)
//! ```
//!
//! Record [`ANALYZER_VERSION`] with the index and rebuild it when the version changes.
//!
//! ## SQLite (FTS5)
//!
//! ```sql
//! CREATE VIRTUAL TABLE search_fts USING fts5(
//!     title, body,
//!     tokenize = 'ascii',        -- REQUIRED: splits only on ASCII non-alphanumerics,
//!                                -- keeps every non-ASCII char: reads our terms back intact
//!     content = '',              -- contentless: terms are derived; originals live elsewhere
//!     contentless_delete = 1     -- allows DELETE / INSERT OR REPLACE (SQLite >= 3.43)
//! );
//! INSERT OR REPLACE INTO search_fts(rowid, title, body) VALUES (?1, ?2, ?3);
//! DELETE FROM search_fts WHERE rowid = ?1;   -- on delete and soft delete
//!
//! SELECT rowid, bm25(search_fts, 10.0, 1.0) AS rank   -- title weighs 10x body
//! FROM search_fts WHERE search_fts MATCH ?1           -- ?1 = query.to_fts5_match()
//! ORDER BY rank LIMIT ?2;                             -- bm25: lower is better
//! ```
//!
//! One-character CJK queries render as prefix queries (`"회"*`), which FTS5 answers by
//! scanning the terms that start with that character: exact, and slower than a term lookup. A
//! `prefix = '1'` option would index one-character prefixes, but measured on the benchmark
//! corpus (100k documents) it made the index about 35% bigger and inserts about 40% slower
//! for under 2x on the most frequent syllables only, so it is not recommended.
//!
//! Do not use `unicode61` (it folds diacritics of every script, uses Unicode 6.1 tables, so newer CJK
//! extensions vanish, and treats combining marks as separators), `trigram` (cannot match two
//! syllables) or `porter`. Keep `detail=full` (the default): phrases need positions. Never build
//! a `MATCH` string by hand; bind [`Query::to_fts5_match`] as a parameter. To restrict columns,
//! wrap it: `format!("{{title body}} : ({})", query.to_fts5_match())`.
//!
//! ## PostgreSQL (tsvector)
//!
//! ```sql
//! search_vector tsvector NOT NULL,   -- = $1::tsvector,
//!                                    --   $1 = pg_tsvector_literal(&[(title, TsWeight::A),
//!                                    --                             (body,  TsWeight::D)])
//! CREATE INDEX … USING GIN (search_vector);
//!
//! SELECT id, ts_rank(search_vector, q) AS rank
//! FROM items, CAST($1 AS tsquery) AS q              -- $1 = query.to_tsquery_text()
//! WHERE search_vector @@ q ORDER BY rank DESC LIMIT $2;
//! ```
//!
//! Bind the literals and cast them (`::tsvector`, `::tsquery`); never use
//! `to_tsvector`/`to_tsquery` on terms — PostgreSQL's parser would re-split them by its own,
//! locale-dependent rules (it splits Devanagari at vowel signs, for one). `ts_rank`'s default
//! weights make `A` (title) 10× `D` (body). [`pg_tsvector_literal`] leaves a position gap
//! between fields so phrases never straddle title and body.
//!
//! PostgreSQL limits, reproduced by [`pg_tsvector_literal`]: positions stop at 16,383 and a
//! lexeme keeps at most 256 positions, so **phrase** clauses (Korean words of 3+ syllables,
//! quoted phrases) can miss matches deep inside very long texts; single terms always match.
//! A store needing exactness there can index per chunk, or re-check candidates with
//! [`matches`](fn@matches).
//!
//! # Chunks and snippets
//!
//! [`chunk_markdown`] gives byte ranges of the original `extracted_text` (store them with the
//! document; recompute when the text changes). For a document hit, pick the chunk with the
//! highest [`score`] of its text, then [`snippet_within`] that chunk's range; for a memo,
//! [`snippet()`] over its text. Snippet marks and chunk ranges are **byte** offsets into the
//! original text as stored (clients in UTF-16 land must convert).

/// Version of the term stream. Bump it whenever any text would get different terms (a new
/// normalisation, a changed script table, a new term rule): a store records the version its
/// index was built with and rebuilds (`jaryo reindex`) when it differs from this one.
///
/// Version 2 folds Latin accents (`café` is indexed as `cafe`).
pub const ANALYZER_VERSION: u32 = 2;

pub mod analyzer;
pub mod chunk;
pub mod matcher;
mod normalize;
pub mod query;
pub mod snippet;

pub use analyzer::{
    MAX_WORD_CHARS, TsWeight, UnitKind, for_each_term, index_terms, index_terms_into,
    pg_tsvector_literal, terms,
};
pub use chunk::{Chunk, ChunkConfig, ChunkConfigError, chunk_markdown};
pub use matcher::{MatchScore, MatchSpan, find_matches, matches, matches_fields, score};
pub use query::{MAX_QUERY_BYTES, MAX_QUERY_TERMS, Phrase, Query, QueryError, QueryUnit};
pub use snippet::{Snippet, SnippetConfig, snippet, snippet_of_matches, snippet_within};
