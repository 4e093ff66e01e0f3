//! The search index on PostgreSQL: a row of terms per live memo or document, the chunks and
//! tags of documents, ranked queries and the reindex.
//!
//! Invariants:
//! - Every indexed row is a live memo or document, indexed with the terms of its current text:
//!   the memo and document writes call [`index_memo`], [`index_document`] and the `unindex_*`
//!   functions inside their own transaction (new items: [`write_rows`] from the batch).
//! - A row holds the term streams `jaryo_text::index_terms` makes of a document's title ('' for
//!   a memo) and of its body (a document's with its accepted Markdown's after a separator
//!   term, `jaryo_store::search::document_body_terms`; a memo searched as the document it was
//!   promoted to has no row) — what SQLite's FTS5 table is fed — under SQLite's row id
//!   (`jaryo_store::ranking`): ascending row ids are newest first, documents before memos.
//!   Its GIN index holds the row's distinct terms and its window lexemes (migration 0005), so
//!   a query finds the rows holding all its terms among a block of the newest rows without
//!   visiting older ones; a phrase of several terms is then checked in the terms themselves
//!   (`strpos` of the space-delimited phrase), so the hit set is exact, not PostgreSQL's
//!   `tsvector` phrase match (which caps positions).
//! - Ranking is SQLite's: BM25 ([`jaryo_store::ranking::Bm25`]) over `search_totals` (rows
//!   and terms written, summed over shards each write adds to in its transaction; as FTS5's
//!   totals, never lowered by a delete, see [`write_rows`]), each ranked
//!   row's phrase occurrences counted in its terms (title weighted 10), the phrase frequencies
//!   sampled and estimated as SQLite does ([`FREQUENCY_SAMPLE`] newest matches per kind). An
//!   unfiltered search ranks the newest `rank_window` matches of each kind; older ones follow
//!   with score 0, newest first. Filtered searches rank every hit. Ties: row id (documents
//!   first, newer first).
//! - A search reads one snapshot (`REPEATABLE READ`): totals, frequencies, ranking and the
//!   hits' items agree.

use crate::PostgresStore;
use crate::codec::map_error;
use jaryo_domain::{DocumentId, MemoId, Timestamp};
use jaryo_store::ranking::{
    self, Bm25, FREQUENCY_SAMPLE, KIND_BOUNDARY, document_rowid, item_of_rowid, memo_rowid,
};
use jaryo_store::{
    ChunkLocation, ReindexProgress, ReindexReport, SearchHit, SearchIndexStatus, SearchKind,
    SearchPage, SearchRequest, StoreError, StoreResult,
};
use jaryo_text::{Chunk, ChunkConfig, Query, chunk_markdown, index_terms};
use sqlx::types::Json;
use sqlx::{PgConnection, Row};
use std::collections::HashMap;

/// Items a reindex batch covers; each batch is one short transaction.
const REINDEX_BATCH: i64 = 256;

/// Shards of `search_totals` (migration 0005).
const TOTALS_SHARDS: i16 = 16;

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

    pub(crate) fn index_row(&self, id: MemoId) -> IndexRow<'_> {
        IndexRow {
            rowid: memo_rowid(id.0),
            title_terms: "",
            body_terms: &self.body_terms,
        }
    }
}

/// Everything a document adds to the index, computed from its title, original text and
/// accepted Markdown.
pub(crate) struct DocumentEntry {
    title_terms: String,
    pub(crate) body: Option<BodyEntry>,
    /// The body's terms followed by the accepted Markdown's
    /// (`jaryo_store::search::document_body_terms`), when the document has some.
    body_with_markdown: Option<String>,
}

/// A document as a reindex reads it: id, title, original text, given tags, Markdown, its
/// review status and the source metadata holding its review history.
type ReindexedDocument = (
    i64,
    String,
    Option<String>,
    Json<Vec<String>>,
    Option<String>,
    Option<String>,
    Json<serde_json::Map<String, serde_json::Value>>,
);

/// The derived data of a document's `extracted_text`.
pub(crate) struct BodyEntry {
    terms: String,
    pub(crate) chunks: Vec<Chunk>,
    pub(crate) tags: Vec<String>,
}

impl DocumentEntry {
    pub(crate) fn new(title: &str, text: Option<&str>, chunk_config: &ChunkConfig) -> Self {
        Self {
            title_terms: index_terms(title),
            body: text.map(|text| BodyEntry {
                terms: index_terms(text),
                chunks: chunk_markdown(text, chunk_config),
                tags: jaryo_domain::parse_tags(text)
                    .iter()
                    .map(|tag| jaryo_store::search::tag_key(tag))
                    .collect(),
            }),
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

    /// Adds the document's given tags (an import's own) to the ones of its text.
    pub(crate) fn with_given_tags(mut self, given: &[String]) -> Self {
        if let Some(body) = &mut self.body {
            jaryo_store::search::add_given_tag_keys(&mut body.tags, given);
        }
        self
    }

    pub(crate) fn index_row(&self, id: DocumentId) -> IndexRow<'_> {
        IndexRow {
            rowid: document_rowid(id.0),
            title_terms: &self.title_terms,
            body_terms: match &self.body_with_markdown {
                Some(terms) => terms,
                None => self.body.as_ref().map_or("", |body| body.terms.as_str()),
            },
        }
    }
}

/// One row of the index.
pub(crate) struct IndexRow<'a> {
    rowid: i64,
    title_terms: &'a str,
    body_terms: &'a str,
}

/// Writes rows of the index in one statement (replacing those with the same row ids unless
/// `fresh`: their items are new) and adds them to a shard of the totals.
///
/// The totals count every row written, and never subtract a row removed or replaced: that is
/// what SQLite's FTS5 table counts (a `contentless_delete` table keeps its totals through
/// deletes), and BM25 must see the same `N` and mean length on both stores.
pub(crate) async fn write_rows(
    conn: &mut PgConnection,
    rows: &[IndexRow<'_>],
    fresh: bool,
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let rowids: Vec<i64> = rows.iter().map(|row| row.rowid).collect();
    if !fresh {
        remove_rows(conn, &rowids).await?;
    }
    let titles: Vec<&str> = rows.iter().map(|row| row.title_terms).collect();
    let bodies: Vec<&str> = rows.iter().map(|row| row.body_terms).collect();
    let tokens: Vec<i32> = rows
        .iter()
        .map(|row| {
            i32::try_from(
                ranking::term_count(row.title_terms) + ranking::term_count(row.body_terms),
            )
            .unwrap_or(i32::MAX)
        })
        .collect();
    sqlx::query(
        "INSERT INTO search_rows (row_id, title_terms, body_terms, tokens) \
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[])",
    )
    .bind(&rowids)
    .bind(&titles)
    .bind(&bodies)
    .bind(&tokens)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    let added: i64 = tokens.iter().map(|&t| i64::from(t)).sum();
    add_to_totals(conn, rows.len() as i64, added).await
}

/// Deletes index rows.
async fn remove_rows(conn: &mut PgConnection, rowids: &[i64]) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_rows WHERE row_id = ANY($1)")
        .bind(rowids)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

/// Adds a write's rows to one shard of `search_totals`, picked at random, so concurrent
/// writers rarely wait for each other's commit on it.
async fn add_to_totals(conn: &mut PgConnection, rows: i64, tokens: i64) -> StoreResult<()> {
    let shard: i16 = rand::random_range(0..TOTALS_SHARDS);
    sqlx::query("UPDATE search_totals SET rows = rows + $1, tokens = tokens + $2 WHERE shard = $3")
        .bind(rows)
        .bind(tokens)
        .bind(shard)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

/// Indexes (or re-indexes) a memo's text.
pub(crate) async fn index_memo(
    conn: &mut PgConnection,
    id: MemoId,
    entry: &MemoEntry,
) -> StoreResult<()> {
    write_rows(conn, &[entry.index_row(id)], false).await
}

/// Indexes an edited memo, or leaves it out while it is searched as the document it was
/// promoted to (`jaryo_store::search::memo_is_searched_as_its_document`).
pub(crate) async fn index_edited_memo(
    conn: &mut PgConnection,
    id: MemoId,
    content: &str,
    entry: &MemoEntry,
) -> StoreResult<()> {
    let document_text: Option<Option<String>> = sqlx::query_scalar(
        "SELECT d.extracted_text FROM memos m \
         JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL WHERE m.id = $1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_error)?;
    if jaryo_store::search::memo_is_searched_as_its_document(
        content,
        document_text.flatten().as_deref(),
    ) {
        unindex_memo(conn, id).await
    } else {
        index_memo(conn, id, entry).await
    }
}

/// Re-decides, for the live memos linked to a document, whether each is indexed on its own or
/// searched as the document (after the document's original text changed or it was deleted;
/// call it before unlinking them). Rare writes: the memos' terms are computed under the lock.
pub(crate) async fn index_memos_promoted_to(
    conn: &mut PgConnection,
    document: DocumentId,
) -> StoreResult<()> {
    let memos: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT m.id, m.content, d.extracted_text FROM memos m \
         LEFT JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL \
         WHERE m.document_id = $1 AND m.deleted_at IS NULL",
    )
    .bind(document.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    for (id, content, document_text) in memos {
        if jaryo_store::search::memo_is_searched_as_its_document(&content, document_text.as_deref())
        {
            unindex_memo(conn, MemoId(id)).await?;
        } else {
            index_memo(conn, MemoId(id), &MemoEntry::new(&content)).await?;
        }
    }
    Ok(())
}

/// Re-indexes a document's row after a review, if the review changed its accepted Markdown
/// (`before` and `after`: the document around the review). Chunks and tags, which come from
/// the original, stay. The texts are only known under the lock; reviews are rare.
pub(crate) async fn index_reviewed_document(
    conn: &mut PgConnection,
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
        rowid: document_rowid(after.id.0),
        title_terms: &title_terms,
        body_terms: &body_terms,
    };
    write_rows(conn, &[row], false).await
}

/// Removes a memo from the index.
pub(crate) async fn unindex_memo(conn: &mut PgConnection, id: MemoId) -> StoreResult<()> {
    remove_rows(conn, &[memo_rowid(id.0)]).await
}

/// Indexes (or re-indexes) a document: its row, and its chunks and tags when it has
/// original text. A document without original text indexes its title only.
pub(crate) async fn index_document(
    conn: &mut PgConnection,
    id: DocumentId,
    entry: &DocumentEntry,
) -> StoreResult<()> {
    write_rows(conn, &[entry.index_row(id)], false).await?;
    delete_document_derivatives(conn, &[id.0]).await?;
    write_document_parts(conn, &[(id, entry)]).await
}

/// The chunks and tags of documents, one statement per table whatever their number.
pub(crate) async fn write_document_parts(
    conn: &mut PgConnection,
    documents: &[(DocumentId, &DocumentEntry)],
) -> StoreResult<()> {
    let mut owners = Vec::new();
    let mut indexes = Vec::new();
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    let mut headings = Vec::new();
    let mut tag_owners = Vec::new();
    let mut tags: Vec<&str> = Vec::new();
    for (id, entry) in documents {
        let Some(body) = &entry.body else {
            continue;
        };
        for chunk in &body.chunks {
            owners.push(id.0);
            indexes.push(i32::try_from(chunk.index).map_err(StoreError::internal)?);
            starts.push(i64::try_from(chunk.range.start).map_err(StoreError::internal)?);
            ends.push(i64::try_from(chunk.range.end).map_err(StoreError::internal)?);
            headings
                .push(serde_json::to_string(&chunk.heading_path).map_err(StoreError::internal)?);
        }
        for tag in &body.tags {
            tag_owners.push(id.0);
            tags.push(tag);
        }
    }
    if !owners.is_empty() {
        sqlx::query(
            "INSERT INTO document_chunks \
             (document_id, chunk_index, byte_start, byte_end, heading_path) \
             SELECT c.document_id, c.chunk_index, c.byte_start, c.byte_end, c.heading_path::jsonb \
             FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::text[]) \
               AS c (document_id, chunk_index, byte_start, byte_end, heading_path)",
        )
        .bind(&owners)
        .bind(&indexes)
        .bind(&starts)
        .bind(&ends)
        .bind(&headings)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    if !tags.is_empty() {
        sqlx::query(
            "INSERT INTO document_tags (tag_key, document_id) \
             SELECT DISTINCT t.tag, t.document_id FROM unnest($1::text[], $2::bigint[]) \
               AS t (tag, document_id) ON CONFLICT DO NOTHING",
        )
        .bind(&tags)
        .bind(&tag_owners)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    Ok(())
}

async fn delete_document_derivatives(conn: &mut PgConnection, ids: &[i64]) -> StoreResult<()> {
    sqlx::query("DELETE FROM document_chunks WHERE document_id = ANY($1)")
        .bind(ids)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    sqlx::query("DELETE FROM document_tags WHERE document_id = ANY($1)")
        .bind(ids)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

/// Removes a document from the index, with its chunks and tags.
pub(crate) async fn unindex_document(conn: &mut PgConnection, id: DocumentId) -> StoreResult<()> {
    remove_rows(conn, &[document_rowid(id.0)]).await?;
    delete_document_derivatives(conn, &[id.0]).await
}

/// Window lexeme levels: level `L` names blocks of `1024 << 2L` row ids (migration 0005).
const TOP_LEVEL: u32 = 6;

fn level_shift(level: u32) -> u32 {
    10 + 2 * level
}

/// What a query asks of the index: the GIN query (every term of every phrase, the last one of
/// a prefix phrase as a prefix) and the phrases of several terms, as the space-delimited
/// patterns a row's terms must hold (`strpos`).
struct Matcher {
    terms: String,
    patterns: Vec<String>,
}

impl Matcher {
    fn new(phrases: &[jaryo_text::Phrase]) -> Self {
        let mut terms = String::new();
        let mut patterns = Vec::new();
        for phrase in phrases {
            let count = phrase.terms().len();
            for (index, term) in phrase.terms().iter().enumerate() {
                if !terms.is_empty() {
                    terms.push_str(" & ");
                }
                push_quoted(&mut terms, term);
                if index + 1 == count && phrase.last_is_prefix() {
                    terms.push_str(":*");
                }
            }
            if count > 1 {
                let mut pattern = String::from(' ');
                pattern.push_str(&phrase.terms().join(" "));
                if !phrase.last_is_prefix() {
                    pattern.push(' ');
                }
                patterns.push(pattern);
            }
        }
        Self { terms, patterns }
    }

    /// The GIN query, restricted to one block of row ids at `level`, or not (`None`).
    fn tsquery(&self, block: Option<(u32, i64)>) -> String {
        match block {
            None => self.terms.clone(),
            Some((level, block)) => format!("{} & '#{level}:{block}'", self.terms),
        }
    }
}

/// Quotes a term for the tsquery input syntax; the term alphabet has no quotes or
/// backslashes, escaping them anyway keeps this safe on its own.
fn push_quoted(out: &mut String, term: &str) {
    out.push('\'');
    for c in term.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
}

/// The matches of `$1` (a [`Matcher`]'s tsquery) with row ids `$2..=$3`, holding every
/// pattern of `$4`, newest first, at most `$5`. (`row_id + 0`: the range is checked on the
/// rows the GIN index finds; the primary key would walk every row of the range instead.)
macro_rules! matches_sql {
    ($columns:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM search_rows r \
             WHERE jaryo_search_lexemes(r.row_id, r.title_terms, r.body_terms) @@ $1::tsquery \
               AND r.row_id + 0 BETWEEN $2 AND $3 \
               AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS p (pattern) \
                   WHERE strpos(' ' || r.title_terms || ' ', p.pattern) = 0 \
                     AND strpos(' ' || r.body_terms || ' ', p.pattern) = 0) \
             ORDER BY r.row_id LIMIT $5"
        )
    };
}

const MATCHES_WITH_TERMS: &str = matches_sql!("r.row_id, r.title_terms, r.body_terms, r.tokens");
const MATCHES: &str = matches_sql!("r.row_id");

/// A matching row, with its terms when it is to be ranked.
struct Matched {
    rowid: i64,
    terms: Option<(String, String, i32)>,
}

/// The newest `limit` matches among row ids `first..=last` (one kind's), asked block by block
/// of window lexemes, newest block first and larger blocks as the matches prove sparse, so a
/// common word reads about `limit` rows and a rare one a few index lookups per level.
async fn newest_matches(
    conn: &mut PgConnection,
    matcher: &Matcher,
    (first, last): (i64, i64),
    limit: i64,
    with_terms: bool,
) -> StoreResult<Vec<Matched>> {
    let mut found: Vec<Matched> = Vec::new();
    let mut position = first;
    let mut step = 0u32;
    while position <= last && (found.len() as i64) < limit {
        // The largest level both due at this step and aligned at the position (a block
        // starting before it would revisit rows already covered).
        let mut level = step.min(TOP_LEVEL);
        while level > 0 && position & ((1i64 << level_shift(level)) - 1) != 0 {
            level -= 1;
        }
        // Past the top level's first block a whole kind's remaining range is one query.
        let block = (step <= TOP_LEVEL + 1).then(|| (level, position >> level_shift(level)));
        let end = match block {
            Some((level, block)) => (((block + 1) << level_shift(level)) - 1).min(last),
            None => last,
        };
        let wanted = limit - found.len() as i64;
        let sql = if with_terms {
            MATCHES_WITH_TERMS
        } else {
            MATCHES
        };
        let rows = sqlx::query(sql)
            .bind(matcher.tsquery(block))
            .bind(position)
            .bind(end)
            .bind(&matcher.patterns)
            .bind(wanted)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error)?;
        for row in rows {
            let rowid: i64 = row.try_get(0).map_err(map_error)?;
            let terms = if with_terms {
                Some((
                    row.try_get(1).map_err(map_error)?,
                    row.try_get(2).map_err(map_error)?,
                    row.try_get(3).map_err(map_error)?,
                ))
            } else {
                None
            };
            found.push(Matched { rowid, terms });
        }
        position = end.saturating_add(1);
        step += 1;
    }
    Ok(found)
}

/// Ranks with the row filters applied through the item tables: every match among row ids
/// `$2..=$3` that passes them, with its terms (`$1`, `$4` as in [`MATCHES`]).
const FILTERED_MATCHES: &str = "\
SELECT r.row_id, r.title_terms, r.body_terms, r.tokens FROM search_rows r \
LEFT JOIN documents d ON r.row_id < 1099511627776 AND d.id = 1099511627776 - r.row_id \
LEFT JOIN memos m ON r.row_id > 1099511627776 AND m.id = 2199023255552 - r.row_id \
WHERE jaryo_search_lexemes(r.row_id, r.title_terms, r.body_terms) @@ $1::tsquery \
  AND r.row_id + 0 BETWEEN $2 AND $3 \
  AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS p (pattern) \
      WHERE strpos(' ' || r.title_terms || ' ', p.pattern) = 0 \
        AND strpos(' ' || r.body_terms || ' ', p.pattern) = 0) \
  AND COALESCE(d.deleted_at, m.deleted_at) IS NULL \
  AND COALESCE(d.id, m.id) IS NOT NULL \
  AND ($5::timestamptz IS NULL OR COALESCE(d.created_at, m.created_at) >= $5) \
  AND ($6::timestamptz IS NULL OR COALESCE(d.created_at, m.created_at) < $6) \
  AND ($7::text IS NULL OR (d.id IS NOT NULL AND COALESCE((SELECT j.state FROM jobs j \
       WHERE j.kind = 'draft' AND j.document_id = d.id), 'none') = $7)) \
  AND ($8::text IS NULL \
       OR EXISTS (SELECT 1 FROM document_tags t WHERE t.tag_key = $8 AND t.document_id = d.id) \
       OR EXISTS (SELECT 1 FROM memo_tags t WHERE t.tag_key = $8 AND t.memo_id = m.id))";

/// The newest document's and memo's ids (ids count up from 1).
const NEWEST_IDS: &str = "SELECT (SELECT max(id) FROM documents), (SELECT max(id) FROM memos)";

/// A ranked index row: its row id and rank (the negated score, as SQLite's `jaryo_rank`
/// gives it; 0 for unranked rows).
type Ranked = (i64, f64);

/// The order of ranked rows: rank (lower first), then row id (documents first, newer first).
fn rank_order(a: &Ranked, b: &Ranked) -> std::cmp::Ordering {
    a.1.total_cmp(&b.1).then(a.0.cmp(&b.0))
}

/// What ranking a query needs once: the query, its matcher and its BM25.
struct Ranker<'a> {
    query: &'a Query,
    matcher: Matcher,
    bm25: Bm25,
}

impl Ranker<'_> {
    fn rank(&self, matched: &Matched) -> Ranked {
        let Some((title, body, tokens)) = &matched.terms else {
            return (matched.rowid, 0.0);
        };
        let occurrences = ranking::weighted_occurrences(self.query, title, body);
        let tokens = u32::try_from(*tokens).unwrap_or(0);
        (matched.rowid, -self.bm25.score(&occurrences, tokens))
    }
}

/// The `k` best of `ranked` after the cursor, in rank order (as SQLite's `jaryo_top`).
fn top_after(mut ranked: Vec<Ranked>, cursor: Option<(f64, i64)>, k: usize) -> Vec<Ranked> {
    if let Some((rank, rowid)) = cursor {
        ranked.retain(|&(row, row_rank)| row_rank > rank || (row_rank == rank && row > rowid));
    }
    ranked.sort_unstable_by(rank_order);
    ranked.truncate(k);
    ranked
}

pub async fn search(store: &PostgresStore, request: &SearchRequest) -> StoreResult<SearchPage> {
    let filter = &request.filter;
    let (low, high) = match filter.kind {
        None => (i64::MIN, i64::MAX),
        Some(SearchKind::Document) => (i64::MIN, KIND_BOUNDARY),
        Some(SearchKind::Memo) => (KIND_BOUNDARY + 1, i64::MAX),
    };
    // Only documents have a draft.
    let high = if filter.draft_state.is_some() {
        high.min(KIND_BOUNDARY)
    } else {
        high
    };
    let cursor = request
        .after
        .map(|cursor| (-cursor.score, ranking::rowid_of(cursor.kind, cursor.id)));
    let limit = i64::from(request.limit.clamp(1, jaryo_store::PAGE_LIMIT_MAX));
    // One snapshot: the statistics, the ranking and the rows it names agree.
    let mut tx = store
        .pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(map_error)?;
    let (newest_document, newest_memo): (Option<i64>, Option<i64>) = sqlx::query_as(NEWEST_IDS)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
    // Each kind's row ids inside the requested range, from its newest item's (`None`: none).
    let kinds = [
        ranking::kind_span(SearchKind::Document, newest_document),
        ranking::kind_span(SearchKind::Memo, newest_memo),
    ];
    let ranges = kinds.map(|span| {
        span.and_then(|(first, last)| {
            let (first, last) = (first.max(low), last.min(high));
            (first <= last).then_some((first, last))
        })
    });
    let (rows, tokens): (i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(rows), 0)::bigint, coalesce(sum(tokens), 0)::bigint \
         FROM search_totals",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    let phrases = request.query.phrases();
    let frequencies = phrase_frequencies(&mut tx, phrases, &kinds).await?;
    let ranker = Ranker {
        query: &request.query,
        matcher: Matcher::new(phrases),
        bm25: Bm25::new(rows, tokens, phrases.len(), frequencies.as_deref()),
    };
    let wanted = usize::try_from(limit + 1).unwrap_or(usize::MAX);
    let ranked = if filter.filters_rows() {
        let mut ranked = Vec::new();
        for (first, last) in ranges.iter().flatten().copied() {
            let rows = sqlx::query(FILTERED_MATCHES)
                .bind(ranker.matcher.tsquery(None))
                .bind(first)
                .bind(last)
                .bind(&ranker.matcher.patterns)
                .bind(filter.created_from)
                .bind(filter.created_before)
                .bind(filter.draft_state.map(|state| state.as_str()))
                .bind(filter.tag.as_deref())
                .fetch_all(&mut *tx)
                .await
                .map_err(map_error)?;
            for row in rows {
                let matched = Matched {
                    rowid: row.try_get(0).map_err(map_error)?,
                    terms: Some((
                        row.try_get(1).map_err(map_error)?,
                        row.try_get(2).map_err(map_error)?,
                        row.try_get(3).map_err(map_error)?,
                    )),
                };
                ranked.push(ranker.rank(&matched));
            }
        }
        top_after(ranked, cursor, wanted)
    } else {
        rank_unfiltered(
            &mut tx,
            &ranker,
            &ranges,
            cursor,
            wanted,
            i64::from(store.search_rank_window),
        )
        .await?
    };
    let has_more = ranked.len() as i64 > limit;
    let page: Vec<(SearchKind, i64, f64)> = ranked
        .iter()
        .take(limit as usize)
        .map(|&(rowid, rank)| {
            let (kind, id) = item_of_rowid(rowid);
            // `0.0 - rank`, not `-rank`: unranked rows (rank 0) score 0, not -0.
            (kind, id, 0.0 - rank)
        })
        .collect();
    let hits = hydrate(&mut tx, request, &page).await?;
    tx.commit().await.map_err(map_error)?;
    let next = if has_more {
        hits.last().map(SearchHit::cursor)
    } else {
        None
    };
    Ok(SearchPage { hits, next })
}

/// The document frequencies of a query's phrases, as SQLite's store computes them: `None` for
/// a one-phrase query; else per phrase the rows holding it, counted up to
/// [`FREQUENCY_SAMPLE`] newest matches per kind and estimated past that
/// ([`ranking::estimated_rows`]).
async fn phrase_frequencies(
    conn: &mut PgConnection,
    phrases: &[jaryo_text::Phrase],
    kinds: &[Option<(i64, i64)>; 2],
) -> StoreResult<Option<Vec<f64>>> {
    if phrases.len() < 2 {
        return Ok(None);
    }
    let mut frequencies = Vec::with_capacity(phrases.len());
    for phrase in phrases {
        let matcher = Matcher::new(std::slice::from_ref(phrase));
        let mut rows = 0.0;
        for span in kinds.iter().flatten().copied() {
            let sample = newest_matches(conn, &matcher, span, FREQUENCY_SAMPLE, false).await?;
            let greatest = sample.iter().map(|matched| matched.rowid).max();
            rows += ranking::estimated_rows(sample.len() as i64, greatest, span);
        }
        frequencies.push(rows);
    }
    Ok(Some(frequencies))
}

/// An unfiltered page's rows, as SQLite's: per kind, the newest `window` matches ranked by
/// relevance, then the older matches unranked (rank 0, after every BM25 rank, which is
/// negative), newest first.
async fn rank_unfiltered(
    conn: &mut PgConnection,
    ranker: &Ranker<'_>,
    ranges: &[Option<(i64, i64)>; 2],
    cursor: Option<(f64, i64)>,
    wanted: usize,
    window: i64,
) -> StoreResult<Vec<Ranked>> {
    // A cursor past every ranked row wants none of them, only where the windows end.
    let past_ranked = cursor.is_some_and(|(rank, _)| rank >= 0.0);
    let mut ranked = Vec::new();
    let mut beyond = Vec::new();
    for (first, last) in ranges.iter().flatten().copied() {
        let matches = newest_matches(conn, &ranker.matcher, (first, last), window, true).await?;
        if matches.len() as i64 >= window
            && let Some(end) = matches.last().map(|matched| matched.rowid)
        {
            beyond.push((end + 1, last));
        }
        ranked.extend(matches.iter().map(|matched| ranker.rank(matched)));
    }
    let mut ranked = top_after(ranked, cursor, if past_ranked { 0 } else { wanted });
    // The ranked windows are exhausted on this page: continue with the older matches.
    let after = match cursor {
        Some((_, rowid)) if past_ranked => rowid,
        _ => i64::MIN,
    };
    for (first, last) in beyond {
        let missing = wanted as i64 - ranked.len() as i64;
        if missing <= 0 {
            break;
        }
        let first = first.max(after.saturating_add(1));
        if first > last {
            continue;
        }
        let older = newest_matches(conn, &ranker.matcher, (first, last), missing, false).await?;
        ranked.extend(older.iter().map(|matched| (matched.rowid, 0.0)));
    }
    Ok(ranked)
}

/// Reads the ranked rows' items (three queries for the whole page) and builds their hits in
/// rank order; an item gone meanwhile is left out.
/// A document of a hit: id, title, original text, created and updated, Markdown, review
/// status, source metadata (only with a status), the memo it was promoted from.
type DocumentOfHit = (
    i64,
    String,
    Option<String>,
    Timestamp,
    Timestamp,
    Option<String>,
    Option<String>,
    Option<Json<serde_json::Map<String, serde_json::Value>>>,
    Option<i64>,
);

async fn hydrate(
    conn: &mut PgConnection,
    request: &SearchRequest,
    ranked: &[(SearchKind, i64, f64)],
) -> StoreResult<Vec<SearchHit>> {
    let ids_of = |kind: SearchKind| -> Vec<i64> {
        ranked
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, id, _)| *id)
            .collect()
    };
    let memo_ids = ids_of(SearchKind::Memo);
    let document_ids = ids_of(SearchKind::Document);

    let mut memos: HashMap<i64, (String, Timestamp, Timestamp)> = HashMap::new();
    if !memo_ids.is_empty() {
        let rows: Vec<(i64, String, Timestamp, Timestamp)> = sqlx::query_as(
            "SELECT id, content, created_at, updated_at FROM memos \
             WHERE id = ANY($1) AND deleted_at IS NULL",
        )
        .bind(&memo_ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
        for (id, content, created_at, updated_at) in rows {
            memos.insert(id, (content, created_at, updated_at));
        }
    }

    let mut documents: HashMap<i64, DocumentOfHit> = HashMap::new();
    let mut chunks: HashMap<i64, Vec<ChunkLocation>> = HashMap::new();
    if !document_ids.is_empty() {
        // What the hit shows, what its accepted Markdown is decided from (the review history
        // only for a reviewed draft), and the live memo it was promoted from.
        let rows: Vec<DocumentOfHit> = sqlx::query_as(
            "SELECT d.id, d.title, d.extracted_text, d.created_at, d.updated_at, d.md_content, \
             d.md_draft_status, \
             CASE WHEN d.md_draft_status IS NULL THEN NULL ELSE d.source_metadata END, \
             (SELECT max(m.id) FROM memos m WHERE m.document_id = d.id AND m.deleted_at IS NULL) \
             FROM documents d WHERE d.id = ANY($1) AND d.deleted_at IS NULL",
        )
        .bind(&document_ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
        for row in rows {
            documents.insert(row.0, row);
        }
        let rows = sqlx::query(
            "SELECT document_id, chunk_index, byte_start, byte_end, heading_path \
             FROM document_chunks WHERE document_id = ANY($1) \
             ORDER BY document_id, chunk_index",
        )
        .bind(&document_ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
        for row in &rows {
            let document_id: i64 = row.try_get("document_id").map_err(map_error)?;
            let index: i32 = row.try_get("chunk_index").map_err(map_error)?;
            let start: i64 = row.try_get("byte_start").map_err(map_error)?;
            let end: i64 = row.try_get("byte_end").map_err(map_error)?;
            let Json(heading_path): Json<Vec<String>> =
                row.try_get("heading_path").map_err(map_error)?;
            chunks.entry(document_id).or_default().push(ChunkLocation {
                index: u32::try_from(index).map_err(StoreError::internal)?,
                range: usize::try_from(start).map_err(StoreError::internal)?
                    ..usize::try_from(end).map_err(StoreError::internal)?,
                heading_path,
            });
        }
    }

    let mut hits = Vec::with_capacity(ranked.len());
    for &(kind, id, score) in ranked {
        if kind == SearchKind::Memo {
            let Some((content, created_at, updated_at)) = memos.remove(&id) else {
                continue;
            };
            hits.push(SearchHit::of_memo(
                &request.query,
                id,
                &content,
                score,
                (created_at, updated_at),
            ));
        } else {
            let Some((_, title, text, created_at, updated_at, md_content, status, metadata, memo)) =
                documents.remove(&id)
            else {
                continue;
            };
            let text = text.unwrap_or_default();
            let document_chunks = chunks.remove(&id).unwrap_or_default();
            let mut hit = SearchHit::of_document(
                &request.query,
                id,
                title,
                (&text, &document_chunks),
                score,
                (created_at, updated_at),
            );
            hit.from_memo = memo;
            if hit.snippet.marks.is_empty()
                && let (Some(status), Some(Json(metadata))) = (status, metadata)
            {
                let markdown = jaryo_store::search::searchable_markdown(
                    md_content.as_deref(),
                    Some(crate::codec::parse_enum(&status)?),
                    &metadata,
                );
                hit = hit.with_accepted_markdown(&request.query, markdown.as_deref());
            }
            hits.push(hit);
        }
    }
    Ok(hits)
}

pub async fn status(store: &PostgresStore) -> StoreResult<SearchIndexStatus> {
    let row = sqlx::query(
        "SELECT analyzer_version, chunk_max_chars, chunk_overlap_chars, \
         (SELECT count(*) FROM memos WHERE deleted_at IS NULL) \
         + (SELECT count(*) FROM documents WHERE deleted_at IS NULL) AS items \
         FROM search_index_state WHERE id = 1",
    )
    .fetch_one(&store.pool)
    .await
    .map_err(map_error)?;
    let version: i32 = row.try_get("analyzer_version").map_err(map_error)?;
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
    store: &PostgresStore,
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
    // Each batch reads its rows `FOR SHARE`: a concurrent edit of one of them waits for the
    // batch (or the batch for the edit), so the edit's fresh terms are never overwritten with
    // old ones.
    let mut after = 0i64;
    loop {
        let mut tx = store.begin_write().await?;
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT m.id, m.content, d.extracted_text FROM memos m \
             LEFT JOIN documents d ON d.id = m.document_id AND d.deleted_at IS NULL \
             WHERE m.deleted_at IS NULL AND m.id > $1 ORDER BY m.id LIMIT $2 FOR SHARE OF m",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        let (promoted, searched): (Vec<_>, Vec<_>) =
            rows.iter().partition(|(_, content, document_text)| {
                jaryo_store::search::memo_is_searched_as_its_document(
                    content,
                    document_text.as_deref(),
                )
            });
        let promoted: Vec<i64> = promoted.iter().map(|(id, ..)| memo_rowid(*id)).collect();
        remove_rows(&mut tx, &promoted).await?;
        let entries: Vec<(MemoId, MemoEntry)> = searched
            .iter()
            .map(|(id, content, _)| (MemoId(*id), MemoEntry::new(content)))
            .collect();
        let index_rows: Vec<IndexRow<'_>> = entries
            .iter()
            .map(|(id, entry)| entry.index_row(*id))
            .collect();
        write_rows(&mut tx, &index_rows, false).await?;
        tx.commit().await.map_err(map_error)?;
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
             WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2 FOR SHARE",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        let entries: Vec<(DocumentId, DocumentEntry)> = rows
            .iter()
            .map(
                |(id, title, text, Json(given), md_content, status, Json(metadata))| {
                    let markdown = match status {
                        Some(status) => jaryo_store::search::searchable_markdown(
                            md_content.as_deref(),
                            Some(crate::codec::parse_enum(status)?),
                            metadata,
                        ),
                        None => None,
                    };
                    let entry = DocumentEntry::new(title, text.as_deref(), &store.chunk_config)
                        .with_given_tags(given)
                        .with_accepted_markdown(markdown.as_deref());
                    Ok((DocumentId(*id), entry))
                },
            )
            .collect::<StoreResult<_>>()?;
        report.chunks += entries
            .iter()
            .map(|(_, entry)| entry.body.as_ref().map_or(0, |body| body.chunks.len()) as u64)
            .sum::<u64>();
        let ids: Vec<i64> = entries.iter().map(|(id, _)| id.0).collect();
        delete_document_derivatives(&mut tx, &ids).await?;
        let parts: Vec<(DocumentId, &DocumentEntry)> =
            entries.iter().map(|(id, entry)| (*id, entry)).collect();
        write_document_parts(&mut tx, &parts).await?;
        let index_rows: Vec<IndexRow<'_>> = entries
            .iter()
            .map(|(id, entry)| entry.index_row(*id))
            .collect();
        write_rows(&mut tx, &index_rows, false).await?;
        tx.commit().await.map_err(map_error)?;
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
        "DELETE FROM search_rows AS r WHERE \
           (r.row_id < 1099511627776 AND NOT EXISTS (SELECT 1 FROM documents d \
              WHERE d.id = 1099511627776 - r.row_id AND d.deleted_at IS NULL)) \
           OR (r.row_id > 1099511627776 AND NOT EXISTS (SELECT 1 FROM memos m \
              WHERE m.id = 2199023255552 - r.row_id AND m.deleted_at IS NULL))",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    sqlx::query(
        "DELETE FROM document_chunks AS c WHERE NOT EXISTS \
         (SELECT 1 FROM documents d WHERE d.id = c.document_id AND d.deleted_at IS NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    sqlx::query(
        "DELETE FROM document_tags AS t WHERE NOT EXISTS \
         (SELECT 1 FROM documents d WHERE d.id = t.document_id AND d.deleted_at IS NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    stamp(&mut tx, store, false).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(report)
}

/// Records this analyzer and chunk settings as what the index was built with; with
/// `only_if_empty`, only on a database that has never held an item.
async fn stamp(
    conn: &mut PgConnection,
    store: &PostgresStore,
    only_if_empty: bool,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE search_index_state SET analyzer_version = $1, chunk_max_chars = $2, \
         chunk_overlap_chars = $3, built_at = $4 \
         WHERE id = 1 AND (NOT $5 OR (analyzer_version = 0 \
           AND NOT EXISTS (SELECT 1 FROM memos) AND NOT EXISTS (SELECT 1 FROM documents)))",
    )
    .bind(i32::try_from(jaryo_text::ANALYZER_VERSION).map_err(StoreError::internal)?)
    .bind(i64::try_from(store.chunk_config.max_chars).map_err(StoreError::internal)?)
    .bind(i64::try_from(store.chunk_config.overlap_chars).map_err(StoreError::internal)?)
    .bind(store.clock.now())
    .bind(only_if_empty)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// Stamps a brand-new, empty database as built by this analyzer and chunk settings, so its
/// first start does not run a reindex over nothing.
pub(crate) async fn stamp_if_empty(store: &PostgresStore) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    stamp(&mut tx, store, true).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}
