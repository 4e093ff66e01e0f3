//! The search index on SQLite: one contentless FTS5 table fed by `jaryo-text`, the chunks and
//! tags of documents, ranked queries and the reindex.
//!
//! Invariants:
//! - Every indexed row is a live memo or document, indexed with the terms of its current text
//!   (a document's row also with its accepted Markdown's, after a separator term; a memo
//!   searched as the document it was promoted to has no row: see `jaryo_store::search`):
//!   the memo and document writes call [`index_memo`], [`index_document`] and [`unindex`] inside
//!   their own transaction, and reviews [`index_reviewed_document`]. Terms and chunks are computed before the transaction where the
//!   text is known in advance, so the write lock is held for writing only.
//! - Row ids count down from the newest item: [`KIND_BOUNDARY`] − a document's id, or
//!   2 × [`KIND_BOUNDARY`] − a memo's id. So a document sorts before a memo on equal rank, and
//!   a newer item before an older one, as the store contract orders them; a kind filter is a
//!   row-id range FTS5 answers from the index; and the newest matches, which an unfiltered
//!   search ranks, come first in FTS5's forward walk (the backward one re-parses each page it
//!   steps back into; a two-word query spends 18 % less time in SQLite going forwards). FTS5
//!   writes its pending terms out whenever a row id is lower than the one before it in a
//!   transaction, so rows are written in row-id order ([`write_index_rows`]).
//! - Ranking is BM25 with the title weighted 10× the body, computed by `jaryo_rank`
//!   (crate `jaryo-fts5-rank`, registered on every search connection) rather than FTS5's
//!   `bm25`: same formula, but the document frequency of each phrase comes from us and each
//!   row's size from [`LENGTHS_TABLE`]. A one-phrase query needs no frequencies (they scale
//!   every score alike); for several phrases each is counted up to [`FREQUENCY_SAMPLE`]
//!   matches per kind and estimated past that ([`phrase_frequencies`]). `bm25` counts every
//!   match of every phrase on each query, which for a common Korean word (a phrase of bigrams)
//!   cost more than all the rest of a search, and reads each row's size with a seek of its own.
//!   The API's score is the negated rank (higher is better).
//! - Every index row written writes its size into its block of [`LENGTHS_TABLE`], in the same
//!   transaction ([`write_index_rows`]).
//! - Bounded ranking: scoring a hit costs about 0.3 µs (reading its positions and its
//!   length), which for a word in half of 100,000 documents adds up to milliseconds. So an
//!   unfiltered search ranks only the newest `rank_window` ([`DEFAULT_RANK_WINDOW`] unless
//!   configured) matches of each kind (documents, memos) by relevance; older matches, if any,
//!   come after them with score 0, newest first, so paging still reaches every hit. Below the
//!   window (almost every query on a personal library) the ranking is exact. Filtered searches
//!   rank every hit.
//! - A search runs on a search connection (`search_pool`) in one read transaction, so a hit
//!   never mixes two versions of an item: the frequencies, one ranking statement, then each
//!   hit's item and chunks by id, read in place and turned into the hit (snippet, best chunk)
//!   at once. Only a page that reaches past a rank window takes a statement more per kind.
//!
//! How the hot path came to be shaped so (measured, each step, with `bench-search`):
//! - The ranking statement is one pass forwards through the index: the aggregate
//!   `jaryo_top` keeps the page's best rows and counts each kind's window (and where a full
//!   one ends) as the rows stream by, with no temporary table and no sort. Ranks travel as
//!   their bits, since SQLite's JSON rounds reals and a cursor must equal the rank it names.
//! - A phrase's frequency is counted exactly up to [`FREQUENCY_SAMPLE`] matches per kind,
//!   newest first, and estimated past that from the span of ids those matches cover: exact
//!   where it matters, bounded where a word is everywhere.
//! - The row numbering changed once (migration 0004 dropped the index of the old numbering,
//!   so the reindex at start rebuilt it), and the row sizes moved into [`LENGTHS_TABLE`]'s
//!   blocks of 256 (migration 0005 marked older indexes stale, so the reindex at start wrote
//!   them): each change is carried by a migration and the start-up reindex, never by a
//!   half-converted index.
//! - The reindex replaces every row in short batches with FTS5's rewriting of levels full of
//!   tombstones (`deletemerge`) turned off, and merges the index once at the end: replacing
//!   every row would otherwise rewrite the index over and over ([`reindex`]).
//! - Writes feed the index in as few statements as possible: a batch of new items writes its
//!   index rows in one `INSERT … SELECT FROM json_each` and their sizes in one read and one
//!   write of the [`LENGTHS_TABLE`] blocks they fall in (`batch.rs`: every sqlx statement is a
//!   round trip to SQLite's thread). FTS5's own merging on the write path takes 16 segments a
//!   level (`automerge`, migration 0003; the default 4 cost an import a third of its writer
//!   time), and the rest waits for a pause in the writes (`index_merge.rs`).

use crate::SqliteStore;
use crate::codec::{
    decode_time, encode_time, execute_with_rows, json_rows, map_error as map_sqlx_error,
};
use crate::search_pool::map_error;
use jaryo_domain::{DocumentId, MemoId};
use jaryo_fts5_rank::lengths;
use jaryo_store::{
    ChunkLocation, ReindexProgress, ReindexReport, SearchHit, SearchIndexStatus, SearchKind,
    SearchPage, SearchRequest, StoreError, StoreResult,
};
use jaryo_text::{Chunk, ChunkConfig, chunk_markdown, index_terms};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};
use sqlx::{Row, SqliteConnection};
use std::collections::BTreeMap;

pub(crate) use jaryo_store::ranking::KIND_BOUNDARY;

/// Items a reindex batch covers; each batch is one short write transaction.
const REINDEX_BATCH: i64 = 256;

/// A document as a reindex reads it: id, title, original text, given tags, Markdown, its
/// review status and the source metadata holding its review history.
type ReindexedDocument = (
    i64,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// Index pages one merge step after a reindex writes, in one short write transaction.
const MERGE_STEP_PAGES: i64 = 1000;

fn document_rowid(id: DocumentId) -> i64 {
    KIND_BOUNDARY - id.0
}

fn memo_rowid(id: MemoId) -> i64 {
    2 * KIND_BOUNDARY - id.0
}

/// The item of an index row id.
fn item_of_rowid(rowid: i64) -> (SearchKind, i64) {
    if rowid > KIND_BOUNDARY {
        (SearchKind::Memo, 2 * KIND_BOUNDARY - rowid)
    } else {
        (SearchKind::Document, KIND_BOUNDARY - rowid)
    }
}

/// The terms of a memo, computed before its write transaction.
pub(crate) struct MemoEntry {
    body_terms: String,
}

impl MemoEntry {
    pub(crate) fn new(content: &str) -> Self {
        Self {
            body_terms: index_terms(content),
        }
    }
}

/// Everything a document adds to the index, computed from its title, original text and
/// accepted Markdown.
pub(crate) struct DocumentEntry {
    title_terms: String,
    body: Option<BodyEntry>,
    /// The body's terms followed by the accepted Markdown's
    /// (`jaryo_store::search::document_body_terms`), when the document has some.
    body_with_markdown: Option<String>,
}

/// The derived data of a document's `extracted_text`.
pub(crate) struct BodyEntry {
    terms: String,
    chunks: Vec<Chunk>,
    tags: Vec<String>,
}

impl BodyEntry {
    pub(crate) fn new(text: &str, chunk_config: &ChunkConfig) -> Self {
        Self {
            terms: index_terms(text),
            chunks: chunk_markdown(text, chunk_config),
            tags: jaryo_domain::parse_tags(text)
                .iter()
                .map(|tag| jaryo_store::search::tag_key(tag))
                .collect(),
        }
    }
}

impl DocumentEntry {
    pub(crate) fn new(title: &str, text: Option<&str>, chunk_config: &ChunkConfig) -> Self {
        Self {
            title_terms: index_terms(title),
            body: text.map(|text| BodyEntry::new(text, chunk_config)),
            body_with_markdown: None,
        }
    }

    pub(crate) fn with_body(title: &str, body: BodyEntry) -> Self {
        Self {
            title_terms: index_terms(title),
            body: Some(body),
            body_with_markdown: None,
        }
    }

    /// Adds the document's accepted Markdown (`jaryo_store::search::searchable_markdown`)
    /// to what its row indexes.
    pub(crate) fn with_accepted_markdown(mut self, markdown: Option<&str>) -> Self {
        self.body_with_markdown = markdown.map(|markdown| {
            let original = self.body.as_ref().map_or("", |body| body.terms.as_str());
            jaryo_store::search::document_body_terms(original, Some(markdown))
        });
        self
    }

    fn body_terms(&self) -> &str {
        match &self.body_with_markdown {
            Some(terms) => terms,
            None => self.body.as_ref().map_or("", |body| body.terms.as_str()),
        }
    }

    /// Adds the document's given tags (an import's own) to the ones of its text.
    pub(crate) fn with_given_tags(mut self, given: &[String]) -> Self {
        if let Some(body) = &mut self.body {
            jaryo_store::search::add_given_tag_keys(&mut body.tags, given);
        }
        self
    }
}

/// One row of the index: a row id and the terms of its title and body columns.
pub(crate) struct IndexRow<'a> {
    rowid: i64,
    title_terms: &'a str,
    body_terms: &'a str,
}

impl MemoEntry {
    pub(crate) fn index_row(&self, id: MemoId) -> IndexRow<'_> {
        IndexRow {
            rowid: memo_rowid(id),
            title_terms: "",
            body_terms: &self.body_terms,
        }
    }
}

impl DocumentEntry {
    pub(crate) fn index_row(&self, id: DocumentId) -> IndexRow<'_> {
        IndexRow {
            rowid: document_rowid(id),
            title_terms: &self.title_terms,
            body_terms: self.body_terms(),
        }
    }

    /// Bytes of text this entry writes, for sizing statements.
    pub(crate) fn weight(&self) -> usize {
        self.title_terms.len() + self.body_terms().len()
    }
}

/// Indexes (or re-indexes) a memo's text.
pub(crate) async fn index_memo(
    conn: &mut SqliteConnection,
    id: MemoId,
    entry: &MemoEntry,
    fresh: bool,
) -> StoreResult<()> {
    write_index_rows(conn, &[entry.index_row(id)], fresh).await
}

/// Writes rows of the index in one statement, in row-id order (see the module's invariants);
/// `fresh`: their row ids are new to it.
///
/// Write them after the statements of the same transaction that insert chunks and tags: each
/// of those opens a statement savepoint, at which FTS5 writes the terms pending so far out as
/// a new index segment — a segment per item, and merges to match.
pub(crate) async fn write_index_rows(
    conn: &mut SqliteConnection,
    rows: &[IndexRow<'_>],
    fresh: bool,
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // A contentless index cannot know whether a row id is in it, so `OR REPLACE` records a
    // tombstone for it, which every later merge must check: new items are plain inserts.
    let sql = if fresh {
        "INSERT INTO search_fts (rowid, title, body) \
         SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)"
    } else {
        "INSERT OR REPLACE INTO search_fts (rowid, title, body) \
         SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)"
    };
    let mut rows: Vec<(i64, &str, &str)> = rows
        .iter()
        .map(|row| (row.rowid, row.title_terms, row.body_terms))
        .collect();
    rows.sort_unstable_by_key(|row| row.0);
    write_lengths(conn, &rows).await?;
    execute_with_rows(conn, sql, &rows).await
}

/// The table of the index rows' sizes, in blocks, that `jaryo_rank` reads (see
/// `jaryo_fts5_rank::lengths`).
pub(crate) const LENGTHS_TABLE: &str = "search_lengths";

/// Records the sizes of index rows (row id, title terms, body terms) in their blocks of
/// [`LENGTHS_TABLE`]: one statement reads the blocks they fall in, one writes them back. The
/// sizes of rows no longer indexed stay behind: they are never read (a query only ranks rows
/// it matches), and a row id comes back only through this function.
async fn write_lengths(conn: &mut SqliteConnection, rows: &[(i64, &str, &str)]) -> StoreResult<()> {
    let mut numbers: Vec<i64> = rows.iter().map(|row| lengths::block_of(row.0)).collect();
    numbers.dedup();
    let stored: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT block, sizes FROM search_lengths \
         WHERE block IN (SELECT value FROM json_each(?1))",
    )
    .bind(json_rows(&numbers)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_sqlx_error)?;
    let mut blocks: BTreeMap<i64, lengths::Block> = stored
        .into_iter()
        .map(|(number, bytes)| (number, lengths::Block::from_stored(bytes)))
        .collect();
    for &(rowid, title, body) in rows {
        blocks
            .entry(lengths::block_of(rowid))
            .or_default()
            .set(rowid, lengths::row_tokens([title, body]));
    }
    let encoded: Vec<(i64, String)> = blocks
        .iter()
        .map(|(number, block)| (*number, hex(block.as_bytes())))
        .collect();
    execute_with_rows(
        conn,
        "INSERT OR REPLACE INTO search_lengths (block, sizes) \
         SELECT value ->> 0, unhex(value ->> 1) FROM json_each(?1)",
        &encoded,
    )
    .await
}

/// Bytes as hexadecimal text, for SQLite's `unhex`: blobs travel in a JSON array of rows.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Indexes an edited memo, or leaves it out while it is searched as the document it was
/// promoted to (`jaryo_store::search::memo_is_searched_as_its_document`).
pub(crate) async fn index_edited_memo(
    conn: &mut SqliteConnection,
    id: MemoId,
    content: &str,
    entry: &MemoEntry,
) -> StoreResult<()> {
    let document_text: Option<Option<String>> = sqlx::query_scalar(
        "SELECT d.extracted_text FROM memos m          JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL WHERE m.id = ?1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_sqlx_error)?;
    if jaryo_store::search::memo_is_searched_as_its_document(
        content,
        document_text.flatten().as_deref(),
    ) {
        unindex_memo(conn, id).await
    } else {
        index_memo(conn, id, entry, false).await
    }
}

/// Re-decides, for the live memos linked to a document, whether each is indexed on its own or
/// searched as the document (after the document's original text changed or it was deleted;
/// call it before unlinking them). Rare writes: the memos' terms are computed under the lock.
pub(crate) async fn index_memos_promoted_to(
    conn: &mut SqliteConnection,
    document: DocumentId,
) -> StoreResult<()> {
    let memos: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT m.id, m.content, d.extracted_text FROM memos m          LEFT JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL          WHERE m.document_id = ?1 AND m.deleted_at IS NULL",
    )
    .bind(document.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_sqlx_error)?;
    for (id, content, document_text) in memos {
        if jaryo_store::search::memo_is_searched_as_its_document(&content, document_text.as_deref())
        {
            unindex_memo(conn, MemoId(id)).await?;
        } else {
            index_memo(conn, MemoId(id), &MemoEntry::new(&content), false).await?;
        }
    }
    Ok(())
}

/// Re-indexes a document's row after a review, if the review changed its accepted Markdown
/// (`before` and `after`: the document around the review). Chunks and tags, which come from
/// the original, stay. The texts are only known under the lock; reviews are rare.
pub(crate) async fn index_reviewed_document(
    conn: &mut SqliteConnection,
    before: &jaryo_domain::Document,
    after: &jaryo_domain::Document,
) -> StoreResult<()> {
    let markdown = jaryo_store::search::searchable_markdown_of(after);
    if markdown == jaryo_store::search::searchable_markdown_of(before) {
        return Ok(());
    }
    let title_terms = index_terms(&after.title);
    let body_terms = jaryo_store::search::document_body_terms(
        &index_terms(after.extracted_text.as_deref().unwrap_or("")),
        markdown.as_deref(),
    );
    let row = IndexRow {
        rowid: document_rowid(after.id),
        title_terms: &title_terms,
        body_terms: &body_terms,
    };
    write_index_rows(conn, &[row], false).await
}

/// Removes a memo from the index.
pub(crate) async fn unindex_memo(conn: &mut SqliteConnection, id: MemoId) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_fts WHERE rowid = ?1")
        .bind(memo_rowid(id))
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx_error)?;
    Ok(())
}

/// Indexes (or re-indexes) a document: its index row, and its chunks and tags when the entry
/// has a body. A document without original text indexes its title only. `fresh`: the
/// document was created in this transaction, so it has nothing to replace.
pub(crate) async fn index_document(
    conn: &mut SqliteConnection,
    id: DocumentId,
    entry: &DocumentEntry,
    fresh: bool,
) -> StoreResult<()> {
    write_document_parts(conn, &[(id, entry)], fresh).await?;
    write_index_rows(conn, &[entry.index_row(id)], fresh).await
}

/// The chunks and tags of documents (replacing their old ones unless `fresh`), in one
/// statement per table whatever the number of documents, chunks and tags: each statement is
/// a round trip to SQLite's thread, which costs more than the insert itself.
pub(crate) async fn write_document_parts(
    conn: &mut SqliteConnection,
    documents: &[(DocumentId, &DocumentEntry)],
    fresh: bool,
) -> StoreResult<()> {
    if !fresh && !documents.is_empty() {
        let ids: Vec<i64> = documents.iter().map(|(id, _)| id.0).collect();
        delete_document_derivatives(conn, &ids).await?;
    }
    let mut chunks: Vec<serde_json::Value> = Vec::new();
    let mut tags: Vec<(&str, i64)> = Vec::new();
    for (id, entry) in documents {
        let Some(body) = &entry.body else {
            continue;
        };
        chunks.extend(body.chunks.iter().map(|chunk| {
            serde_json::json!([
                id.0,
                chunk.index,
                chunk.range.start,
                chunk.range.end,
                chunk.heading_path
            ])
        }));
        tags.extend(body.tags.iter().map(|tag| (tag.as_str(), id.0)));
    }
    if !chunks.is_empty() {
        execute_with_rows(
            conn,
            "INSERT INTO document_chunks \
             (document_id, chunk_index, byte_start, byte_end, heading_path) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value -> 4 \
             FROM json_each(?1)",
            &chunks,
        )
        .await?;
    }
    if !tags.is_empty() {
        execute_with_rows(
            conn,
            "INSERT OR IGNORE INTO document_tags (tag_key, document_id) \
             SELECT value ->> 0, value ->> 1 FROM json_each(?1)",
            &tags,
        )
        .await?;
    }
    Ok(())
}

async fn delete_document_derivatives(conn: &mut SqliteConnection, ids: &[i64]) -> StoreResult<()> {
    execute_with_rows(
        conn,
        "DELETE FROM document_chunks WHERE document_id IN (SELECT value FROM json_each(?1))",
        ids,
    )
    .await?;
    execute_with_rows(
        conn,
        "DELETE FROM document_tags WHERE document_id IN (SELECT value FROM json_each(?1))",
        ids,
    )
    .await
}

/// Removes a document from the index, with its chunks and tags.
pub(crate) async fn unindex_document(
    conn: &mut SqliteConnection,
    id: DocumentId,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_fts WHERE rowid = ?1")
        .bind(document_rowid(id))
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx_error)?;
    delete_document_derivatives(conn, &[id.0]).await
}

/// How many of the newest matches of each kind an unfiltered search ranks (shared with every
/// store; see `jaryo_store::ranking`).
pub use jaryo_store::ranking::DEFAULT_RANK_WINDOW;

/// The matches of `?1` with row ids from `$lo` to `$hi`, each with its `jaryo_rank` (title
/// weighted 10, body 1, the document frequencies `$frequencies`) and the group `$group` (for
/// `jaryo_top`).
macro_rules! ranked_matches {
    ($lo:literal, $hi:literal, $frequencies:literal, $group:literal) => {
        concat!(
            "SELECT rowid, jaryo_rank(search_fts, 10.0, 1.0, ",
            $frequencies,
            ") AS rank, ",
            $group,
            " AS grp FROM search_fts WHERE search_fts MATCH ?1 AND rowid BETWEEN ",
            $lo,
            " AND ",
            $hi
        )
    };
}

/// Ranks without joining the item tables: the fast path when no filter but the kind is set
/// (deleted items are never in the index). Per kind (documents `?2..=?3` as group 0, memos
/// `?4..=?5` as group 1), ranks its newest `?6` matches (its lowest row ids) in one pass
/// through the index; `jaryo_top` keeps the `?9` best after the cursor (`?7`/`?8`, its rank
/// and row id) and counts each window's rows and greatest row id (where a full window ends),
/// streaming the rows rather than writing them to a temporary table and sorting them.
/// `?10`: the [`phrase_frequencies`]. One row: `jaryo_top`'s JSON.
const RANK_UNFILTERED: &str = concat!(
    "SELECT jaryo_top(?9, ?7, ?8, rowid, rank, grp) FROM (SELECT * FROM (",
    ranked_matches!("?2", "?3", "?10", "0"),
    " ORDER BY rowid LIMIT ?6) UNION ALL SELECT * FROM (",
    ranked_matches!("?4", "?5", "?10", "1"),
    " ORDER BY rowid LIMIT ?6))"
);

/// Matches older than the rank window, unranked, newest first: the row ids from `?2` to `?3`
/// after `?4`, at most `?5`.
const MATCHES_BEYOND_WINDOW: &str = "SELECT rowid FROM search_fts \
    WHERE search_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3 AND rowid > ?4 \
    ORDER BY rowid LIMIT ?5";

/// Ranks with the row filters applied through the item tables, `jaryo_top` keeping the `?6`
/// best after the cursor (`?4`/`?5`); one row, as [`RANK_UNFILTERED`]; `?11`: the
/// [`phrase_frequencies`]. (`LIMIT -1`, no limit, keeps SQLite from flattening the ranking
/// into the aggregate, where `jaryo_rank` would get a copy of the table's hidden column
/// instead of its cursor and refuse to run.)
const RANK_FILTERED: &str = concat!(
    "SELECT jaryo_top(?6, ?4, ?5, h.rowid, h.rank, h.grp) FROM (",
    ranked_matches!("?2", "?3", "?11", "0"),
    " LIMIT -1) AS h \
LEFT JOIN documents d ON h.rowid < 1099511627776 AND d.id = 1099511627776 - h.rowid \
LEFT JOIN memos m ON h.rowid > 1099511627776 AND m.id = 2199023255552 - h.rowid \
WHERE COALESCE(d.deleted_at, m.deleted_at) IS NULL \
  AND COALESCE(d.id, m.id) IS NOT NULL \
  AND (?7 IS NULL OR COALESCE(d.created_at, m.created_at) >= ?7) \
  AND (?8 IS NULL OR COALESCE(d.created_at, m.created_at) < ?8) \
  AND (?9 IS NULL OR (d.id IS NOT NULL AND COALESCE((SELECT j.state FROM jobs j \
       WHERE j.kind = 'draft' AND j.document_id = d.id), 'none') = ?9)) \
  AND (?10 IS NULL \
       OR EXISTS (SELECT 1 FROM document_tags t WHERE t.tag_key = ?10 AND t.document_id = d.id) \
       OR EXISTS (SELECT 1 FROM memo_tags t WHERE t.tag_key = ?10 AND t.memo_id = m.id))"
);

/// The first `?4` matches of a phrase (`?1`) with row ids from `?2` to `?3` (one kind's,
/// newest first): how many, and the greatest row id among them.
const PHRASE_SAMPLE: &str = "SELECT count(*), max(rowid) FROM (SELECT rowid FROM search_fts \
    WHERE search_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3 ORDER BY rowid LIMIT ?4)";

/// The newest document's and memo's ids (ids count up from 1).
const NEWEST_IDS: &str = "SELECT (SELECT max(id) FROM documents), (SELECT max(id) FROM memos)";

/// A live document of a hit: what the hit shows, what its accepted Markdown is decided from,
/// and the live memo it was promoted from.
const DOCUMENT_OF_HIT: &str = "SELECT title, extracted_text, created_at, updated_at, \
    md_content, md_draft_status, source_metadata, \
    (SELECT max(m.id) FROM memos m WHERE m.document_id = d.id AND m.deleted_at IS NULL) \
    FROM documents d WHERE id = ?1 AND deleted_at IS NULL";

/// A document's chunks, in order.
const CHUNKS_OF_DOCUMENT: &str = "SELECT chunk_index, byte_start, byte_end, heading_path \
    FROM document_chunks WHERE document_id = ?1 ORDER BY chunk_index";

/// A live memo of a hit.
const MEMO_OF_HIT: &str =
    "SELECT content, created_at, updated_at FROM memos WHERE id = ?1 AND deleted_at IS NULL";

pub use jaryo_store::ranking::FREQUENCY_SAMPLE;

/// What `jaryo_top` returns: the kept rows (row id, rank as `f64` bits) in rank order, and
/// per group its rows and greatest row id.
#[derive(serde::Deserialize)]
struct Top {
    top: Vec<(i64, i64)>,
    groups: Vec<(i64, Option<i64>)>,
}

/// A ranked index row: its row id and rank (0 for unranked rows).
type Ranked = (i64, f64);

/// A search, on a connection of the search pool.
pub async fn search(store: &SqliteStore, request: &SearchRequest) -> StoreResult<SearchPage> {
    let request = request.clone();
    let window = i64::from(store.search_rank_window);
    store
        .search_pool
        .run(move |conn| search_on(conn, &request, window))
        .await
}

fn search_on(
    conn: &mut Connection,
    request: &SearchRequest,
    window: i64,
) -> StoreResult<SearchPage> {
    let filter = &request.filter;
    let (low, high) = match filter.kind {
        None => (i64::MIN, i64::MAX),
        Some(SearchKind::Document) => (i64::MIN, KIND_BOUNDARY),
        Some(SearchKind::Memo) => (KIND_BOUNDARY + 1, i64::MAX),
    };
    let (low, high) = if filter.draft_state.is_some() {
        // Only documents have a draft.
        (low, high.min(KIND_BOUNDARY))
    } else {
        (low, high)
    };
    let cursor_rank = request.after.map(|cursor| -cursor.score);
    let cursor_rowid = request.after.map(|cursor| match cursor.kind {
        SearchKind::Document => document_rowid(DocumentId(cursor.id)),
        SearchKind::Memo => memo_rowid(MemoId(cursor.id)),
    });
    let limit = i64::from(request.limit.clamp(1, jaryo_store::PAGE_LIMIT_MAX));
    let fts_match = request.query.to_fts5_match();
    // One read transaction: the ranking and every item read see one version of the database,
    // so a hit never mixes two versions of an item.
    let tx = conn.transaction().map_err(map_error)?;
    let frequencies = phrase_frequencies(&tx, &request.query.to_fts5_phrases())?;
    let ranked = if filter.filters_rows() {
        let top: String = tx
            .prepare_cached(RANK_FILTERED)
            .and_then(|mut statement| {
                statement.query_row(
                    params![
                        fts_match,
                        low,
                        high,
                        cursor_rank,
                        cursor_rowid,
                        limit + 1,
                        filter.created_from.map(encode_time),
                        filter.created_before.map(encode_time),
                        filter.draft_state.map(|state| state.as_str()),
                        filter.tag.as_deref(),
                        frequencies,
                    ],
                    |row| row.get(0),
                )
            })
            .map_err(map_error)?;
        parse_top(&top)?.ranked()
    } else {
        rank_unfiltered(
            &tx,
            &fts_match,
            (low, high),
            (cursor_rank, cursor_rowid),
            limit + 1,
            window,
            frequencies.as_deref(),
        )?
    };
    let mut hits = Vec::new();
    let mut has_more = false;
    for (rowid, rank) in ranked {
        if hits.len() as i64 == limit {
            // One more live item means another page; its hit is not needed.
            has_more = item_is_live(&tx, rowid)?;
            if has_more {
                break;
            }
            continue;
        }
        if let Some(hit) = hit_of(&tx, &request.query, rowid, rank)? {
            hits.push(hit);
        }
    }
    tx.finish().map_err(map_error)?;
    let next = if has_more {
        hits.last().map(SearchHit::cursor)
    } else {
        None
    };
    Ok(SearchPage { hits, next })
}

/// The document frequencies `jaryo_rank` takes, as a JSON array: per phrase (in the order of
/// the MATCH expression), the live items holding it. `None` for a one-phrase query, whose
/// inverse document frequency would scale every score alike.
///
/// Counting every match of a common phrase would cost more than the rest of the search, so
/// each kind's matches are counted up to [`FREQUENCY_SAMPLE`], newest first: a phrase with
/// fewer is counted exactly; one with that many is estimated as being as dense among all the
/// kind's ids as among those its sample spans (ids count up from 1, so the newest id is how
/// many there are; deleted ids count on both sides of the ratio alike). Unlike a cap, the
/// estimate still tells a phrase in a tenth of a large library from one in half of it, which
/// is what the inverse document frequency weighs.
fn phrase_frequencies(tx: &Connection, phrases: &[String]) -> StoreResult<Option<String>> {
    if phrases.len() < 2 {
        return Ok(None);
    }
    let (newest_document, newest_memo): (Option<i64>, Option<i64>) = tx
        .prepare_cached(NEWEST_IDS)
        .and_then(|mut statement| statement.query_row([], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(map_error)?;
    // Per kind: its row ids from the newest item's (the lowest) to the oldest possible one's.
    let kinds = [
        newest_document.map(|newest| (document_rowid(DocumentId(newest)), KIND_BOUNDARY - 1)),
        newest_memo.map(|newest| (memo_rowid(MemoId(newest)), 2 * KIND_BOUNDARY - 1)),
    ];
    let mut sample = tx.prepare_cached(PHRASE_SAMPLE).map_err(map_error)?;
    let mut frequencies = Vec::with_capacity(phrases.len());
    for phrase in phrases {
        let mut rows = 0.0;
        for (first, last) in kinds.iter().flatten().copied() {
            let (sampled, greatest): (i64, Option<i64>) = sample
                .query_row(params![phrase, first, last, FREQUENCY_SAMPLE], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .map_err(map_error)?;
            rows += estimated_rows(sampled, greatest, (first, last));
        }
        frequencies.push(rows);
    }
    serde_json::to_string(&frequencies)
        .map(Some)
        .map_err(StoreError::internal)
}

use jaryo_store::ranking::estimated_rows;

fn parse_top(json: &str) -> StoreResult<Top> {
    serde_json::from_str(json).map_err(StoreError::internal)
}

impl Top {
    /// The kept rows, in rank order, with their ranks.
    fn ranked(&self) -> Vec<Ranked> {
        self.top
            .iter()
            .map(|&(rowid, bits)| (rowid, f64::from_bits(bits as u64)))
            .collect()
    }
}

/// An unfiltered page's rows: per kind, the newest `window` matches ranked by relevance, then
/// the older matches unranked (rank 0, after every BM25 rank, which is negative), newest
/// first.
fn rank_unfiltered(
    tx: &Connection,
    fts_match: &str,
    (low, high): (i64, i64),
    (cursor_rank, cursor_rowid): (Option<f64>, Option<i64>),
    wanted: i64,
    window: i64,
    frequencies: Option<&str>,
) -> StoreResult<Vec<Ranked>> {
    // The kinds' row-id ranges inside the requested range (`(1, 0)`: none).
    let ranges = [
        (low, high.min(KIND_BOUNDARY - 1)),
        (low.max(KIND_BOUNDARY + 1), high),
    ]
    .map(|(lo, hi)| if lo <= hi { (lo, hi) } else { (1, 0) });
    // A cursor past every ranked row wants none of them (`k` 0 keeps nothing), only where the
    // windows end.
    let past_ranked = cursor_rank.is_some_and(|rank| rank >= 0.0);
    let top: String = tx
        .prepare_cached(RANK_UNFILTERED)
        .and_then(|mut statement| {
            statement.query_row(
                params![
                    fts_match,
                    ranges[0].0,
                    ranges[0].1,
                    ranges[1].0,
                    ranges[1].1,
                    window,
                    cursor_rank,
                    cursor_rowid,
                    if past_ranked { 0 } else { wanted },
                    frequencies,
                ],
                |row| row.get(0),
            )
        })
        .map_err(map_error)?;
    let top = parse_top(&top)?;
    let mut ranked = top.ranked();
    // Per kind, the range past its ranked window (older items), when the window is full
    // (older matches may follow).
    let beyond: Vec<(i64, i64)> = ranges
        .iter()
        .enumerate()
        .filter_map(|(kind, (_, hi))| match top.groups.get(kind) {
            Some(&(rows, Some(end))) if rows >= window => Some((end + 1, *hi)),
            _ => None,
        })
        .collect();
    // The ranked windows are exhausted on this page: continue with the older matches.
    let after = if past_ranked {
        cursor_rowid.unwrap_or(i64::MIN)
    } else {
        i64::MIN
    };
    for (lo, hi) in beyond {
        let missing = wanted - ranked.len() as i64;
        if missing <= 0 {
            break;
        }
        let mut statement = tx
            .prepare_cached(MATCHES_BEYOND_WINDOW)
            .map_err(map_error)?;
        let older = statement
            .query_map(params![fts_match, lo, hi, after, missing], |row| {
                Ok((row.get(0)?, 0.0))
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<Ranked>>>)
            .map_err(map_error)?;
        ranked.extend(older);
    }
    Ok(ranked)
}

/// Whether the item of an index row is live (in the read transaction's view).
fn item_is_live(tx: &Connection, rowid: i64) -> StoreResult<bool> {
    let (sql, id) = match item_of_rowid(rowid) {
        (SearchKind::Document, id) => (DOCUMENT_OF_HIT, id),
        (SearchKind::Memo, id) => (MEMO_OF_HIT, id),
    };
    let mut statement = tx.prepare_cached(sql).map_err(map_error)?;
    statement.exists([id]).map_err(map_error)
}

/// The hit of a ranked index row — its item with a highlighted snippet, a document's from
/// its best chunk — or `None` if the item is not live. The item's text is read in place.
fn hit_of(
    tx: &Connection,
    query: &jaryo_text::Query,
    rowid: i64,
    rank: f64,
) -> StoreResult<Option<SearchHit>> {
    // `0.0 - rank`, not `-rank`: unranked rows (rank 0) score 0, not -0.
    let score = 0.0 - rank;
    let (kind, id) = item_of_rowid(rowid);
    if kind == SearchKind::Memo {
        let mut statement = tx.prepare_cached(MEMO_OF_HIT).map_err(map_error)?;
        let mut rows = statement.query([id]).map_err(map_error)?;
        let Some(row) = rows.next().map_err(map_error)? else {
            return Ok(None);
        };
        let content = text_at(row, 0)?.unwrap_or("");
        let times = (time_at(row, 1)?, time_at(row, 2)?);
        return Ok(Some(SearchHit::of_memo(query, id, content, score, times)));
    }
    let chunks = chunks_of(tx, id)?;
    let mut statement = tx.prepare_cached(DOCUMENT_OF_HIT).map_err(map_error)?;
    let mut rows = statement.query([id]).map_err(map_error)?;
    let Some(row) = rows.next().map_err(map_error)? else {
        return Ok(None);
    };
    let title = text_at(row, 0)?.unwrap_or("").to_owned();
    let text = text_at(row, 1)?.unwrap_or("");
    let times = (time_at(row, 2)?, time_at(row, 3)?);
    let mut hit = SearchHit::of_document(query, id, title, (text, &chunks), score, times);
    hit.from_memo = row.get(7).map_err(map_error)?;
    // Only a draft the person reviewed has Markdown that is searched; the review history is
    // read only then.
    let status: Option<jaryo_domain::MdDraftStatus> =
        text_at(row, 5)?.map(crate::codec::parse_enum).transpose()?;
    if hit.snippet.marks.is_empty() && status.is_some() {
        let metadata = crate::codec::decode_json_object(text_at(row, 6)?.unwrap_or("{}"))?;
        let markdown =
            jaryo_store::search::searchable_markdown(text_at(row, 4)?, status, &metadata);
        hit = hit.with_accepted_markdown(query, markdown.as_deref());
    }
    Ok(Some(hit))
}

/// A document's chunks.
fn chunks_of(tx: &Connection, id: i64) -> StoreResult<Vec<ChunkLocation>> {
    let mut statement = tx.prepare_cached(CHUNKS_OF_DOCUMENT).map_err(map_error)?;
    let mut rows = statement.query([id]).map_err(map_error)?;
    let mut chunks = Vec::new();
    while let Some(row) = rows.next().map_err(map_error)? {
        let index: u32 = row.get(0).map_err(map_error)?;
        let start: i64 = row.get(1).map_err(map_error)?;
        let end: i64 = row.get(2).map_err(map_error)?;
        let heading_path = match text_at(row, 3)? {
            None | Some("[]") => Vec::new(),
            Some(json) => serde_json::from_str(json).map_err(StoreError::internal)?,
        };
        chunks.push(ChunkLocation {
            index,
            range: usize::try_from(start).map_err(StoreError::internal)?
                ..usize::try_from(end).map_err(StoreError::internal)?,
            heading_path,
        });
    }
    Ok(chunks)
}

/// A text column, borrowed from the row (`None` for NULL). Validated as UTF-8 with SIMD: a
/// page's texts are tens of kilobytes of mostly Korean, which the standard library checks a
/// byte at a time (a twentieth of a search).
fn text_at<'row>(row: &'row rusqlite::Row<'_>, index: usize) -> StoreResult<Option<&'row str>> {
    match row.get_ref(index).map_err(map_error)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => simdutf8::basic::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::internal("a stored text is not UTF-8")),
        other => Err(StoreError::internal(format!(
            "a stored text is a {}",
            other.data_type()
        ))),
    }
}

fn time_at(row: &rusqlite::Row<'_>, index: usize) -> StoreResult<jaryo_domain::Timestamp> {
    decode_time(text_at(row, index)?.unwrap_or(""))
}

pub async fn status(store: &SqliteStore) -> StoreResult<SearchIndexStatus> {
    let row = sqlx::query(
        "SELECT analyzer_version, chunk_max_chars, chunk_overlap_chars, \
         (SELECT count(*) FROM memos WHERE deleted_at IS NULL) \
         + (SELECT count(*) FROM documents WHERE deleted_at IS NULL) AS items \
         FROM search_index_state WHERE id = 1",
    )
    .fetch_one(&store.reader)
    .await
    .map_err(map_sqlx_error)?;
    let version: i64 = row.try_get("analyzer_version").map_err(map_sqlx_error)?;
    let max_chars: Option<i64> = row.try_get("chunk_max_chars").map_err(map_sqlx_error)?;
    let overlap_chars: Option<i64> = row.try_get("chunk_overlap_chars").map_err(map_sqlx_error)?;
    let items: i64 = row.try_get("items").map_err(map_sqlx_error)?;
    let chunk_config = match (max_chars, overlap_chars) {
        (Some(max_chars), Some(overlap_chars)) => Some(ChunkConfig {
            max_chars: usize::try_from(max_chars).map_err(StoreError::internal)?,
            overlap_chars: usize::try_from(overlap_chars).map_err(StoreError::internal)?,
        }),
        _ => None,
    };
    let mut status = SearchIndexStatus {
        analyzer_version: u32::try_from(version).map_err(StoreError::internal)?,
        chunk_config,
        items: u64::try_from(items).map_err(StoreError::internal)?,
        stale: false,
    };
    status.stale = status.is_stale(&store.chunk_config);
    Ok(status)
}

pub async fn reindex(
    store: &SqliteStore,
    progress: &(dyn Fn(ReindexProgress) + Send + Sync),
) -> StoreResult<ReindexReport> {
    let total = status(store).await?.items;
    let mut report = ReindexReport {
        memos: 0,
        documents: 0,
        chunks: 0,
    };
    let mut done = 0u64;
    progress(ReindexProgress { done, total });
    // Replacing a row of a contentless index leaves a tombstone for its old entries, and FTS5
    // rewrites a level of the index whenever a tenth of it is tombstones: replacing every row
    // would rewrite the whole index over and over (two thirds of a reindex's time). Let the
    // tombstones pile up instead; the merge at the end drops them all at once.
    set_delete_merge(store, 0).await?;
    // Each batch re-reads and re-indexes under the write lock, so a write of another
    // connection lands wholly before or after it and is never overwritten with old terms.
    let mut after = 0i64;
    loop {
        let mut tx = store.begin_write().await?;
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT m.id, m.content, d.extracted_text FROM memos m \
             LEFT JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL \
             WHERE m.deleted_at IS NULL AND m.id > ?1 ORDER BY m.id LIMIT ?2",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_sqlx_error)?;
        let (promoted, searched): (Vec<_>, Vec<_>) =
            rows.iter().partition(|(_, content, document_text)| {
                jaryo_store::search::memo_is_searched_as_its_document(
                    content,
                    document_text.as_deref(),
                )
            });
        for (id, ..) in promoted {
            unindex_memo(&mut tx, MemoId(*id)).await?;
        }
        let entries: Vec<(MemoId, MemoEntry)> = searched
            .iter()
            .map(|(id, content, _)| (MemoId(*id), MemoEntry::new(content)))
            .collect();
        let index_rows: Vec<IndexRow<'_>> = entries
            .iter()
            .map(|(id, entry)| entry.index_row(*id))
            .collect();
        write_index_rows(&mut tx, &index_rows, false).await?;
        tx.commit().await.map_err(map_sqlx_error)?;
        let Some((last, ..)) = rows.last() else {
            break;
        };
        after = *last;
        report.memos += rows.len() as u64;
        done += rows.len() as u64;
        progress(ReindexProgress { done, total });
    }
    let mut after = 0i64;
    loop {
        let mut tx = store.begin_write().await?;
        let rows: Vec<ReindexedDocument> = sqlx::query_as(
            "SELECT id, title, extracted_text, given_tags, md_content, md_draft_status, \
             source_metadata FROM documents \
             WHERE deleted_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_sqlx_error)?;
        let entries: Vec<(DocumentId, DocumentEntry)> = rows
            .iter()
            .map(
                |(id, title, text, given_tags, md_content, status, metadata)| {
                    let given: Vec<String> =
                        serde_json::from_str(given_tags).map_err(StoreError::internal)?;
                    let markdown = match status {
                        Some(status) => jaryo_store::search::searchable_markdown(
                            md_content.as_deref(),
                            Some(crate::codec::parse_enum(status)?),
                            &crate::codec::decode_json_object(metadata)?,
                        ),
                        None => None,
                    };
                    let entry = DocumentEntry::new(title, text.as_deref(), &store.chunk_config)
                        .with_given_tags(&given)
                        .with_accepted_markdown(markdown.as_deref());
                    Ok((DocumentId(*id), entry))
                },
            )
            .collect::<StoreResult<_>>()?;
        report.chunks += entries
            .iter()
            .map(|(_, entry)| entry.body.as_ref().map_or(0, |body| body.chunks.len()) as u64)
            .sum::<u64>();
        // Chunks and tags first, then the index rows: one index segment per batch (see
        // `write_index_rows`).
        let parts: Vec<(DocumentId, &DocumentEntry)> =
            entries.iter().map(|(id, entry)| (*id, entry)).collect();
        write_document_parts(&mut tx, &parts, false).await?;
        let index_rows: Vec<IndexRow<'_>> = entries
            .iter()
            .map(|(id, entry)| entry.index_row(*id))
            .collect();
        write_index_rows(&mut tx, &index_rows, false).await?;
        tx.commit().await.map_err(map_sqlx_error)?;
        let Some((last, ..)) = rows.last() else {
            break;
        };
        after = *last;
        report.documents += rows.len() as u64;
        done += rows.len() as u64;
        progress(ReindexProgress {
            done,
            total: total.max(done),
        });
    }
    // Recovery: whatever the index holds for items that are gone, and the version stamp.
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "DELETE FROM search_fts WHERE rowid IN ( \
           SELECT rowid FROM search_fts WHERE rowid < 1099511627776 \
             AND 1099511627776 - rowid NOT IN (SELECT id FROM documents WHERE deleted_at IS NULL) \
           UNION ALL \
           SELECT rowid FROM search_fts WHERE rowid > 1099511627776 \
             AND 2199023255552 - rowid NOT IN (SELECT id FROM memos WHERE deleted_at IS NULL))",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_sqlx_error)?;
    sqlx::query(
        "DELETE FROM document_chunks WHERE document_id NOT IN \
         (SELECT id FROM documents WHERE deleted_at IS NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_sqlx_error)?;
    sqlx::query(
        "DELETE FROM document_tags WHERE document_id NOT IN \
         (SELECT id FROM documents WHERE deleted_at IS NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_sqlx_error)?;
    sqlx::query(
        "UPDATE search_index_state SET analyzer_version = ?1, chunk_max_chars = ?2, \
         chunk_overlap_chars = ?3, built_at = ?4 WHERE id = 1",
    )
    .bind(i64::from(jaryo_text::ANALYZER_VERSION))
    .bind(i64::try_from(store.chunk_config.max_chars).map_err(StoreError::internal)?)
    .bind(i64::try_from(store.chunk_config.overlap_chars).map_err(StoreError::internal)?)
    .bind(encode_time(store.clock.now()))
    .execute(&mut *tx)
    .await
    .map_err(map_sqlx_error)?;
    tx.commit().await.map_err(map_sqlx_error)?;
    set_delete_merge(store, DEFAULT_DELETE_MERGE_PERCENT).await?;
    // Every row was replaced, leaving a tombstone per row that searches and merges would
    // check from now on: merge the index into one segment without them, in short steps (one
    // `optimize` would hold the write lock for seconds on a large library).
    while crate::index_merge::merge_step(&store.writer, MERGE_STEP_PAGES).await? {}
    Ok(report)
}

/// FTS5's own default for `deletemerge`: a level of the index is rewritten once this
/// percentage of its entries are tombstones.
const DEFAULT_DELETE_MERGE_PERCENT: i64 = 10;

/// Sets the index's `deletemerge` option (kept in the database; 0 turns it off).
async fn set_delete_merge(store: &SqliteStore, percent: i64) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("INSERT INTO search_fts (search_fts, rank) VALUES ('deletemerge', ?1)")
        .bind(percent)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx_error)?;
    tx.commit().await.map_err(map_sqlx_error)
}

/// Stamps a brand-new, empty database as built by this analyzer and chunk settings, so its
/// first start does not run a reindex over nothing.
pub(crate) async fn stamp_if_empty(store: &SqliteStore) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "UPDATE search_index_state SET analyzer_version = ?1, chunk_max_chars = ?2, \
         chunk_overlap_chars = ?3, built_at = ?4 \
         WHERE id = 1 AND analyzer_version = 0 \
           AND NOT EXISTS (SELECT 1 FROM memos) AND NOT EXISTS (SELECT 1 FROM documents)",
    )
    .bind(i64::from(jaryo_text::ANALYZER_VERSION))
    .bind(i64::try_from(store.chunk_config.max_chars).map_err(StoreError::internal)?)
    .bind(i64::try_from(store.chunk_config.overlap_chars).map_err(StoreError::internal)?)
    .bind(encode_time(store.clock.now()))
    .execute(&mut *tx)
    .await
    .map_err(map_sqlx_error)?;
    tx.commit().await.map_err(map_sqlx_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_put_documents_first_and_newer_items_before_older_ones() {
        assert_eq!(
            KIND_BOUNDARY, 1_099_511_627_776,
            "the SQL literals use this"
        );
        assert_eq!(
            2 * KIND_BOUNDARY,
            2_199_023_255_552,
            "the SQL literals use this"
        );
        let oldest_memo = memo_rowid(MemoId(1));
        assert!(document_rowid(DocumentId(1)) < KIND_BOUNDARY);
        assert!(document_rowid(DocumentId(2)) < document_rowid(DocumentId(1)));
        assert!(memo_rowid(MemoId(KIND_BOUNDARY - 1)) > KIND_BOUNDARY);
        assert!(memo_rowid(MemoId(2)) < oldest_memo);
        assert_eq!(item_of_rowid(oldest_memo), (SearchKind::Memo, 1));
        assert_eq!(
            item_of_rowid(document_rowid(DocumentId(7))),
            (SearchKind::Document, 7)
        );
    }
}
