//! The search index on SQLite: one contentless FTS5 table fed by `jaryo-text`, the chunks and
//! tags of documents, ranked queries and the reindex.
//!
//! Invariants:
//! - Every indexed row is a live memo or document, indexed with the terms of its current text:
//!   the memo and document writes call [`index_memo`], [`index_document`] and [`unindex`] inside
//!   their own transaction. Terms and chunks are computed before the transaction where the
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
//!   (crate `jaryo-fts5-rank`, registered on every read connection) rather than FTS5's `bm25`:
//!   same formula, but the document frequency of each phrase comes from us. A one-phrase query
//!   needs none (it scales every score alike); for several phrases each is counted up to
//!   [`FREQUENCY_CAP`] rows. `bm25` counts every match of every phrase on each query, which
//!   for a common Korean word (a phrase of bigrams) cost more than all the rest of a search.
//!   The API's score is the negated rank (higher is better).
//! - Bounded ranking: scoring a hit costs about 0.3 µs (reading its positions and its
//!   length), which for a word in half of 100,000 documents adds up to milliseconds. So an
//!   unfiltered search ranks only the newest `rank_window` ([`DEFAULT_RANK_WINDOW`] unless
//!   configured) matches of each kind (documents, memos) by relevance; older matches, if any,
//!   come after them with score 0, newest first, so paging still reaches every hit. Below the
//!   window (almost every query on a personal library) the ranking is exact. Filtered searches
//!   rank every hit.
//! - A search is one statement on a read connection (each statement is a round trip to
//!   SQLite's thread, each row a message back): it counts the phrases, ranks, and reads the
//!   page's items with their chunks, returned as one JSON value; so a hit never mixes two
//!   versions of an item. Only a page that reaches past a rank window takes a statement more
//!   per kind.

use crate::SqliteStore;
use crate::codec::{decode_time, encode_time, execute_with_rows, map_error};
use jaryo_domain::{DocumentId, MemoId};
use jaryo_store::{
    ChunkLocation, ReindexProgress, ReindexReport, SearchHit, SearchIndexStatus, SearchKind,
    SearchPage, SearchRequest, StoreError, StoreResult,
};
use jaryo_text::{Chunk, ChunkConfig, chunk_markdown, index_terms};
use sqlx::{Row, SqliteConnection};

/// Document row ids lie below this, memo row ids above (up to twice it); ids stay below it.
pub(crate) const KIND_BOUNDARY: i64 = 1 << 40;

/// Items a reindex batch covers; each batch is one short write transaction.
const REINDEX_BATCH: i64 = 256;

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

/// Everything a document adds to the index, computed from its title and original text.
pub(crate) struct DocumentEntry {
    title_terms: String,
    body: Option<BodyEntry>,
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
        }
    }

    pub(crate) fn with_body(title: &str, body: BodyEntry) -> Self {
        Self {
            title_terms: index_terms(title),
            body: Some(body),
        }
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
            body_terms: self.body.as_ref().map_or("", |body| body.terms.as_str()),
        }
    }

    /// Bytes of text this entry writes, for sizing statements.
    pub(crate) fn weight(&self) -> usize {
        self.title_terms.len() + self.body.as_ref().map_or(0, |body| body.terms.len())
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
    execute_with_rows(conn, sql, &rows).await
}

/// Removes a memo from the index.
pub(crate) async fn unindex_memo(conn: &mut SqliteConnection, id: MemoId) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_fts WHERE rowid = ?1")
        .bind(memo_rowid(id))
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
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
        .map_err(map_error)?;
    delete_document_derivatives(conn, &[id.0]).await
}

/// How many of the newest matches of each kind an unfiltered search ranks by relevance, unless
/// configured (`[search] rank_window`). Scoring a window row costs about 0.3 µs at 100,000
/// documents; a query matching more than this many items of a kind is rare in a personal
/// library, and its newest matches are what such a vague query most likely wants.
pub const DEFAULT_RANK_WINDOW: u32 = 500;

/// `frequencies(counts)`: the document frequencies `jaryo_rank` takes, as a JSON array — the
/// rows holding each phrase of the JSON array `$phrases` (in its order), each counted up to
/// `$cap` — or null when `$phrases` is null (a one-phrase query, whose inverse document
/// frequency would scale every score alike).
macro_rules! phrase_frequencies {
    ($phrases:literal, $cap:literal) => {
        concat!(
            "frequencies AS MATERIALIZED (SELECT CASE WHEN ",
            $phrases,
            " IS NULL THEN NULL ELSE \
               (SELECT json_group_array((SELECT count(*) FROM \
                  (SELECT 1 FROM search_fts WHERE search_fts MATCH phrase.value LIMIT ",
            $cap,
            "))) FROM (SELECT value FROM json_each(",
            $phrases,
            ") ORDER BY key) AS phrase) END AS counts)"
        )
    };
}

/// The matches of `?1` with row ids from `$lo` to `$hi`, each with its `jaryo_rank` (title
/// weighted 10, body 1, the [`phrase_frequencies`]) and the group `$group` (for `jaryo_top`).
macro_rules! ranked_matches {
    ($lo:literal, $hi:literal, $group:literal) => {
        concat!(
            "SELECT rowid, jaryo_rank(search_fts, 10.0, 1.0, (SELECT counts FROM frequencies)) \
               AS rank, ",
            $group,
            " AS grp FROM search_fts WHERE search_fts MATCH ?1 AND rowid BETWEEN ",
            $lo,
            " AND ",
            $hi
        )
    };
}

/// `ranked(rowid, rank_bits)`: the page `jaryo_top` kept in `top(result)`, each rank as its
/// `f64` bits.
macro_rules! page_of_top {
    () => {
        "ranked AS MATERIALIZED (SELECT value ->> 0 AS rowid, value ->> 1 AS rank_bits \
           FROM json_each((SELECT result FROM top), '$.top'))"
    };
}

/// The items of the rows of `ranked(rowid, rank_bits)`, read in the statement that ranked
/// them (so a hit never mixes two versions of an item), as one JSON array — one value per
/// statement instead of a row each, which through sqlx's SQLite thread cost more than reading
/// the items. Each element is a [`RankedItem`]; a row whose item is not live is left out.
macro_rules! ranked_items {
    () => {
        "(SELECT json_group_array(json_array( \
            h.rowid, h.rank_bits, d.title, coalesce(d.extracted_text, m.content), \
            coalesce(d.created_at, m.created_at), coalesce(d.updated_at, m.updated_at), \
            CASE WHEN d.id IS NOT NULL THEN json( \
              (SELECT json_group_array( \
                 json_array(chunk_index, byte_start, byte_end, json(heading_path))) \
               FROM (SELECT * FROM document_chunks c WHERE c.document_id = d.id \
                     ORDER BY chunk_index))) END)) \
          FROM ranked h \
          LEFT JOIN documents d \
            ON h.rowid < 1099511627776 AND d.id = 1099511627776 - h.rowid \
           AND d.deleted_at IS NULL \
          LEFT JOIN memos m \
            ON h.rowid > 1099511627776 AND m.id = 2199023255552 - h.rowid \
           AND m.deleted_at IS NULL \
          WHERE d.id IS NOT NULL OR m.id IS NOT NULL)"
    };
}

/// Ranks without joining the item tables: the fast path when no filter but the kind is set
/// (deleted items are never in the index). Per kind (documents `?2..=?3` as group 0, memos
/// `?4..=?5` as group 1), ranks its newest `?6` matches (its lowest row ids) in one pass
/// through the index; `jaryo_top` keeps the `?9` best after the cursor (`?7`/`?8`, its rank
/// and row id) and counts each window's rows and greatest row id (where a full window ends),
/// streaming the rows rather than writing them to a temporary table and sorting them. Then
/// reads the page's items — all in one statement, since every statement is a round trip to
/// SQLite's thread. `?10`/`?11` are the phrases to count and the cap. Returns one row: the
/// groups of `jaryo_top` (JSON) and the [`ranked_items`].
const SEARCH_UNFILTERED: &str = concat!(
    "WITH ",
    phrase_frequencies!("?10", "?11"),
    ", top AS MATERIALIZED (SELECT jaryo_top(?9, ?7, ?8, rowid, rank, grp) AS result FROM ( \
       SELECT * FROM (",
    ranked_matches!("?2", "?3", "0"),
    " ORDER BY rowid LIMIT ?6) UNION ALL SELECT * FROM (",
    ranked_matches!("?4", "?5", "1"),
    " ORDER BY rowid LIMIT ?6))), ",
    page_of_top!(),
    " SELECT (SELECT result -> '$.groups' FROM top), ",
    ranked_items!()
);

/// Matches older than the rank window, unranked, newest first, after the cursor's row id;
/// one row, the [`ranked_items`] (the null keeps the shape of [`SEARCH_UNFILTERED`]).
const SEARCH_BEYOND_WINDOW: &str = concat!(
    "WITH ranked AS MATERIALIZED ( \
    SELECT rowid, 0 AS rank_bits FROM search_fts \
    WHERE search_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3 AND rowid > ?4 \
    ORDER BY rowid LIMIT ?5) \
SELECT NULL, ",
    ranked_items!()
);

/// Ranks with the row filters applied through the item tables, `jaryo_top` keeping the `?6`
/// best after the cursor (`?4`/`?5`); one row, as [`SEARCH_BEYOND_WINDOW`]. (`LIMIT -1`, no
/// limit, keeps SQLite from flattening the ranking into the aggregate, where `jaryo_rank`
/// would get a copy of the table's hidden column instead of its cursor and refuse to run.)
const SEARCH_FILTERED: &str = concat!(
    "WITH ",
    phrase_frequencies!("?11", "?12"),
    ", top AS MATERIALIZED (SELECT jaryo_top(?6, ?4, ?5, h.rowid, h.rank, h.grp) AS result \
    FROM (",
    ranked_matches!("?2", "?3", "0"),
    " LIMIT -1) AS h \
LEFT JOIN documents d ON h.rowid < 1099511627776 AND d.id = 1099511627776 - h.rowid \
LEFT JOIN memos m ON h.rowid > 1099511627776 AND m.id = 2199023255552 - h.rowid \
WHERE COALESCE(d.deleted_at, m.deleted_at) IS NULL \
  AND COALESCE(d.id, m.id) IS NOT NULL \
  AND (?7 IS NULL OR COALESCE(d.created_at, m.created_at) >= ?7) \
  AND (?8 IS NULL OR COALESCE(d.created_at, m.created_at) < ?8) \
  AND (?9 IS NULL OR d.draft_state = ?9) \
  AND (?10 IS NULL \
       OR EXISTS (SELECT 1 FROM document_tags t WHERE t.tag_key = ?10 AND t.document_id = d.id) \
       OR EXISTS (SELECT 1 FROM memo_tags t WHERE t.tag_key = ?10 AND t.memo_id = m.id))), ",
    page_of_top!(),
    " SELECT NULL, ",
    ranked_items!()
);

/// Rows counted per phrase for its document frequency: a phrase in more rows counts as in
/// this many. Counting stops there, so a common phrase costs no more than a rare one, and
/// phrases that common differ little in weight anyway (BM25's IDF flattens out).
pub const FREQUENCY_CAP: i64 = 1000;

/// One element of [`ranked_items`]: a ranked row and its item, memo or document.
#[derive(serde::Deserialize)]
struct RankedItem {
    rowid: i64,
    /// `jaryo_rank`'s rank as `f64` bits (0 for unranked rows).
    rank_bits: i64,
    /// A document's title (none for a memo).
    title: Option<String>,
    /// A memo's content or a document's original text (none for a document without one).
    text: Option<String>,
    created_at: String,
    updated_at: String,
    /// A document's chunks.
    chunks: Option<Vec<StoredChunk>>,
}

/// A chunk as [`ranked_items`] gives it: index, byte start and end, heading path.
type StoredChunk = (u32, usize, usize, Vec<String>);

impl RankedItem {
    fn rank(&self) -> f64 {
        f64::from_bits(self.rank_bits as u64)
    }
}

/// The statement's row: the groups of `jaryo_top` (unfiltered searches only) and the items.
type RankedRow = (Option<String>, String);

/// A group of `jaryo_top`: its rows and greatest row id.
type TopGroup = (i64, Option<i64>);

/// The [`ranked_items`] of a statement, in rank order (then row id, as SQL orders them; a
/// JSON aggregate promises no order).
fn ranked_items(json: &str) -> StoreResult<Vec<RankedItem>> {
    let mut items: Vec<RankedItem> = serde_json::from_str(json).map_err(StoreError::internal)?;
    items.sort_by(|a, b| {
        a.rank()
            .partial_cmp(&b.rank())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.rowid.cmp(&b.rowid))
    });
    Ok(items)
}

pub async fn search(store: &SqliteStore, request: &SearchRequest) -> StoreResult<SearchPage> {
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
    let phrases = request.query.to_fts5_phrases();
    let phrases = if phrases.len() < 2 {
        None
    } else {
        Some(serde_json::to_string(&phrases).map_err(StoreError::internal)?)
    };
    let mut conn = store.reader.acquire().await.map_err(map_error)?;
    let mut items = if filter.filters_rows() {
        let (_, items): RankedRow = sqlx::query_as(SEARCH_FILTERED)
            .bind(&fts_match)
            .bind(low)
            .bind(high)
            .bind(cursor_rank)
            .bind(cursor_rowid)
            .bind(limit + 1)
            .bind(filter.created_from.map(encode_time))
            .bind(filter.created_before.map(encode_time))
            .bind(filter.draft_state.map(|state| state.as_str()))
            .bind(filter.tag.as_deref())
            .bind(phrases.as_deref())
            .bind(FREQUENCY_CAP)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_error)?;
        ranked_items(&items)?
    } else {
        rank_unfiltered(
            &mut conn,
            &fts_match,
            (low, high),
            (cursor_rank, cursor_rowid),
            limit + 1,
            i64::from(store.search_rank_window),
            phrases.as_deref(),
        )
        .await?
    };
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let hits = hits_of(request, items)?;
    let next = if has_more {
        hits.last().map(SearchHit::cursor)
    } else {
        None
    };
    Ok(SearchPage { hits, next })
}

/// An unfiltered page: per kind, the newest `window` matches ranked by relevance, then the
/// older matches unranked (rank 0, after every BM25 rank, which is negative), newest first.
async fn rank_unfiltered(
    conn: &mut SqliteConnection,
    fts_match: &str,
    (low, high): (i64, i64),
    (cursor_rank, cursor_rowid): (Option<f64>, Option<i64>),
    wanted: i64,
    window: i64,
    phrases: Option<&str>,
) -> StoreResult<Vec<RankedItem>> {
    // The kinds' row-id ranges inside the requested range (`(1, 0)`: none).
    let ranges = [
        (low, high.min(KIND_BOUNDARY - 1)),
        (low.max(KIND_BOUNDARY + 1), high),
    ]
    .map(|(lo, hi)| if lo <= hi { (lo, hi) } else { (1, 0) });
    // A cursor past every ranked row wants none of them (`LIMIT 0` ranks nothing), only where
    // the windows start.
    let past_ranked = cursor_rank.is_some_and(|rank| rank >= 0.0);
    let (groups, items): RankedRow = sqlx::query_as(SEARCH_UNFILTERED)
        .bind(fts_match)
        .bind(ranges[0].0)
        .bind(ranges[0].1)
        .bind(ranges[1].0)
        .bind(ranges[1].1)
        .bind(window)
        .bind(cursor_rank)
        .bind(cursor_rowid)
        .bind(if past_ranked { 0 } else { wanted })
        .bind(phrases)
        .bind(FREQUENCY_CAP)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error)?;
    let mut ranked = ranked_items(&items)?;
    let groups: Vec<TopGroup> = match groups {
        Some(groups) => serde_json::from_str(&groups).map_err(StoreError::internal)?,
        None => Vec::new(),
    };
    // Per kind, the range past its ranked window (older items), when the window is full
    // (older matches may follow).
    let beyond: Vec<(i64, i64)> = ranges
        .iter()
        .enumerate()
        .filter_map(|(kind, (_, hi))| match groups.get(kind) {
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
        let (_, items): RankedRow = sqlx::query_as(SEARCH_BEYOND_WINDOW)
            .bind(fts_match)
            .bind(lo)
            .bind(hi)
            .bind(after)
            .bind(missing)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_error)?;
        ranked.extend(ranked_items(&items)?);
    }
    Ok(ranked)
}

/// The hits of ranked items, in their order: each with its highlighted snippet, a
/// document's from its best chunk.
fn hits_of(request: &SearchRequest, items: Vec<RankedItem>) -> StoreResult<Vec<SearchHit>> {
    items
        .into_iter()
        .map(|item| {
            // `0.0 - rank`, not `-rank`: unranked rows (rank 0) score 0, not -0.
            let score = 0.0 - item.rank();
            let times = (
                decode_time(&item.created_at)?,
                decode_time(&item.updated_at)?,
            );
            let text = item.text.as_deref().unwrap_or("");
            let (kind, id) = item_of_rowid(item.rowid);
            if kind == SearchKind::Memo {
                return Ok(SearchHit::of_memo(&request.query, id, text, score, times));
            }
            let chunks: Vec<ChunkLocation> = item
                .chunks
                .unwrap_or_default()
                .into_iter()
                .map(|(index, start, end, heading_path)| ChunkLocation {
                    index,
                    range: start..end,
                    heading_path,
                })
                .collect();
            Ok(SearchHit::of_document(
                &request.query,
                id,
                item.title.unwrap_or_default(),
                (text, &chunks),
                score,
                times,
            ))
        })
        .collect()
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
    .map_err(map_error)?;
    let version: i64 = row.try_get("analyzer_version").map_err(map_error)?;
    let max_chars: Option<i64> = row.try_get("chunk_max_chars").map_err(map_error)?;
    let overlap_chars: Option<i64> = row.try_get("chunk_overlap_chars").map_err(map_error)?;
    let items: i64 = row.try_get("items").map_err(map_error)?;
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
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, content FROM memos WHERE deleted_at IS NULL AND id > ?1 \
             ORDER BY id LIMIT ?2",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        let entries: Vec<(MemoId, MemoEntry)> = rows
            .iter()
            .map(|(id, content)| (MemoId(*id), MemoEntry::new(content)))
            .collect();
        let index_rows: Vec<IndexRow<'_>> = entries
            .iter()
            .map(|(id, entry)| entry.index_row(*id))
            .collect();
        write_index_rows(&mut tx, &index_rows, false).await?;
        tx.commit().await.map_err(map_error)?;
        let Some((last, _)) = rows.last() else {
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
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, title, extracted_text FROM documents WHERE deleted_at IS NULL \
             AND id > ?1 ORDER BY id LIMIT ?2",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        let entries: Vec<(DocumentId, DocumentEntry)> = rows
            .iter()
            .map(|(id, title, text)| {
                let entry = DocumentEntry::new(title, text.as_deref(), &store.chunk_config);
                (DocumentId(*id), entry)
            })
            .collect();
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
        tx.commit().await.map_err(map_error)?;
        let Some((last, _, _)) = rows.last() else {
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
    .map_err(map_error)?;
    sqlx::query(
        "DELETE FROM document_chunks WHERE document_id NOT IN \
         (SELECT id FROM documents WHERE deleted_at IS NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    sqlx::query(
        "DELETE FROM document_tags WHERE document_id NOT IN \
         (SELECT id FROM documents WHERE deleted_at IS NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
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
    .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
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
        .map_err(map_error)?;
    tx.commit().await.map_err(map_error)
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
    .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
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
