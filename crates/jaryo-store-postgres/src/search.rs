//! The search index on PostgreSQL: one `tsvector` table fed by `jaryo-text`, the chunks and
//! tags of documents, ranked queries and the reindex.
//!
//! Invariants:
//! - Every indexed row is a live memo or document, indexed with the terms of its current text:
//!   the memo and document writes call [`index_memo`], [`index_document`] and the `unindex_*`
//!   functions inside their own transaction.
//! - Vectors and queries are jaryo-text's literals bound as text and cast (`::tsvector`,
//!   `::tsquery`); PostgreSQL's own parser (`to_tsvector`) never sees the text, so both stores
//!   index exactly the same terms.
//! - Ranking is `ts_rank` with its default weights (title `A` 10× body `D`) and length
//!   normalisation 1 (divided by 1 + the log of the vector's length), so a short text dense in
//!   a term beats a long one that mentions it once. Ties: documents before memos, then ids.

use crate::PostgresStore;
use crate::codec::map_error;
use jaryo_domain::{DocumentId, MemoId, Timestamp};
use jaryo_store::{
    ChunkLocation, ReindexProgress, ReindexReport, SearchHit, SearchIndexStatus, SearchKind,
    SearchPage, SearchRequest, StoreError, StoreResult,
};
use jaryo_text::{Chunk, ChunkConfig, TsWeight, chunk_markdown, pg_tsvector_literal};
use sqlx::types::Json;
use sqlx::{PgConnection, Row};
use std::collections::HashMap;

/// `search_index.kind` of a document; memos are [`KIND_MEMO`]. Documents sort first.
const KIND_DOCUMENT: i16 = 0;
const KIND_MEMO: i16 = 1;

/// Items a reindex batch covers; each batch is one short transaction.
const REINDEX_BATCH: i64 = 256;

fn kind_of(kind: SearchKind) -> i16 {
    match kind {
        SearchKind::Document => KIND_DOCUMENT,
        SearchKind::Memo => KIND_MEMO,
    }
}

/// The search vector of a memo.
pub(crate) struct MemoEntry {
    vector: String,
}

impl MemoEntry {
    pub(crate) fn new(content: &str) -> Self {
        Self {
            vector: pg_tsvector_literal(&[(content, TsWeight::D)]),
        }
    }
}

/// Everything a document adds to the index, computed from its title and original text.
pub(crate) struct DocumentEntry {
    vector: String,
    body: Option<BodyEntry>,
}

/// A document as a reindex reads it: id, title, original text, given tags.
type ReindexedDocument = (i64, String, Option<String>, Json<Vec<String>>);

/// The chunks and tags of a document's `extracted_text`.
struct BodyEntry {
    chunks: Vec<Chunk>,
    tags: Vec<String>,
}

impl DocumentEntry {
    pub(crate) fn new(title: &str, text: Option<&str>, chunk_config: &ChunkConfig) -> Self {
        Self {
            vector: pg_tsvector_literal(&[(title, TsWeight::A), (text.unwrap_or(""), TsWeight::D)]),
            body: text.map(|text| BodyEntry {
                chunks: chunk_markdown(text, chunk_config),
                tags: jaryo_domain::parse_tags(text)
                    .iter()
                    .map(|tag| jaryo_store::search::tag_key(tag))
                    .collect(),
            }),
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

async fn upsert_vector(
    conn: &mut PgConnection,
    kind: i16,
    id: i64,
    vector: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO search_index (kind, item_id, search_vector) VALUES ($1, $2, $3::tsvector) \
         ON CONFLICT (kind, item_id) DO UPDATE SET search_vector = EXCLUDED.search_vector",
    )
    .bind(kind)
    .bind(id)
    .bind(vector)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn delete_vector(conn: &mut PgConnection, kind: i16, id: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_index WHERE kind = $1 AND item_id = $2")
        .bind(kind)
        .bind(id)
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
    upsert_vector(conn, KIND_MEMO, id.0, &entry.vector).await
}

/// Removes a memo from the index.
pub(crate) async fn unindex_memo(conn: &mut PgConnection, id: MemoId) -> StoreResult<()> {
    delete_vector(conn, KIND_MEMO, id.0).await
}

/// Indexes (or re-indexes) a document: its vector, and its chunks and tags when it has
/// original text. A document without original text indexes its title only.
pub(crate) async fn index_document(
    conn: &mut PgConnection,
    id: DocumentId,
    entry: &DocumentEntry,
) -> StoreResult<()> {
    upsert_vector(conn, KIND_DOCUMENT, id.0, &entry.vector).await?;
    delete_document_derivatives(conn, id).await?;
    let Some(body) = &entry.body else {
        return Ok(());
    };
    if !body.chunks.is_empty() {
        let mut indexes = Vec::with_capacity(body.chunks.len());
        let mut starts = Vec::with_capacity(body.chunks.len());
        let mut ends = Vec::with_capacity(body.chunks.len());
        let mut headings = Vec::with_capacity(body.chunks.len());
        for chunk in &body.chunks {
            indexes.push(i32::try_from(chunk.index).map_err(StoreError::internal)?);
            starts.push(i64::try_from(chunk.range.start).map_err(StoreError::internal)?);
            ends.push(i64::try_from(chunk.range.end).map_err(StoreError::internal)?);
            headings
                .push(serde_json::to_string(&chunk.heading_path).map_err(StoreError::internal)?);
        }
        sqlx::query(
            "INSERT INTO document_chunks \
             (document_id, chunk_index, byte_start, byte_end, heading_path) \
             SELECT $1, c.chunk_index, c.byte_start, c.byte_end, c.heading_path::jsonb \
             FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::text[]) \
               AS c (chunk_index, byte_start, byte_end, heading_path)",
        )
        .bind(id.0)
        .bind(indexes)
        .bind(starts)
        .bind(ends)
        .bind(headings)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    if !body.tags.is_empty() {
        sqlx::query(
            "INSERT INTO document_tags (tag_key, document_id) \
             SELECT DISTINCT tag, $2 FROM unnest($1::text[]) AS tag ON CONFLICT DO NOTHING",
        )
        .bind(&body.tags)
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    Ok(())
}

async fn delete_document_derivatives(conn: &mut PgConnection, id: DocumentId) -> StoreResult<()> {
    sqlx::query("DELETE FROM document_chunks WHERE document_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    sqlx::query("DELETE FROM document_tags WHERE document_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

/// Removes a document from the index, with its chunks and tags.
pub(crate) async fn unindex_document(conn: &mut PgConnection, id: DocumentId) -> StoreResult<()> {
    delete_vector(conn, KIND_DOCUMENT, id.0).await?;
    delete_document_derivatives(conn, id).await
}

/// Ranked hits after the cursor `($4, $5, $6)` in the order score ↓, kind ↑, id ↓, with the
/// row filters applied through the item tables (the index holds live items only, the joins
/// re-check it within the same snapshot).
const SEARCH: &str = "\
SELECT s.kind, s.item_id, s.score FROM ( \
    SELECT i.kind, i.item_id, ts_rank(i.search_vector, q, 1)::float8 AS score \
    FROM search_index AS i, CAST($1 AS tsquery) AS q \
    WHERE i.search_vector @@ q AND i.kind BETWEEN $2 AND $3) AS s \
LEFT JOIN documents d ON s.kind = 0 AND d.id = s.item_id \
LEFT JOIN memos m ON s.kind = 1 AND m.id = s.item_id \
WHERE ($4::float8 IS NULL \
       OR (-s.score, s.kind, -s.item_id) > (-$4::float8, $5::smallint, -$6::bigint)) \
  AND COALESCE(d.id, m.id) IS NOT NULL \
  AND COALESCE(d.deleted_at, m.deleted_at) IS NULL \
  AND ($8::timestamptz IS NULL OR COALESCE(d.created_at, m.created_at) >= $8) \
  AND ($9::timestamptz IS NULL OR COALESCE(d.created_at, m.created_at) < $9) \
  AND ($10::text IS NULL OR d.draft_state = $10) \
  AND ($11::text IS NULL \
       OR EXISTS (SELECT 1 FROM document_tags t WHERE t.tag_key = $11 AND t.document_id = d.id) \
       OR EXISTS (SELECT 1 FROM memo_tags t WHERE t.tag_key = $11 AND t.memo_id = m.id)) \
ORDER BY s.score DESC, s.kind, s.item_id DESC LIMIT $7";

pub async fn search(store: &PostgresStore, request: &SearchRequest) -> StoreResult<SearchPage> {
    let filter = &request.filter;
    let (low, high) = match filter.kind {
        None => (KIND_DOCUMENT, KIND_MEMO),
        Some(kind) => (kind_of(kind), kind_of(kind)),
    };
    // Only documents have a draft.
    let high = if filter.draft_state.is_some() {
        high.min(KIND_DOCUMENT)
    } else {
        high
    };
    let limit = i64::from(request.limit.clamp(1, jaryo_store::PAGE_LIMIT_MAX));
    // One snapshot: the ranking and the rows it names agree.
    let mut tx = store
        .pool
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(map_error)?;
    let ranked: Vec<(i16, i64, f64)> = sqlx::query_as(SEARCH)
        .bind(request.query.to_tsquery_text())
        .bind(low)
        .bind(high)
        .bind(request.after.map(|cursor| cursor.score))
        .bind(request.after.map(|cursor| kind_of(cursor.kind)))
        .bind(request.after.map(|cursor| cursor.id))
        .bind(limit + 1)
        .bind(filter.created_from)
        .bind(filter.created_before)
        .bind(filter.draft_state.map(|state| state.as_str()))
        .bind(filter.tag.as_deref())
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
    let has_more = ranked.len() > limit as usize;
    let ranked = &ranked[..ranked.len().min(limit as usize)];
    let hits = hydrate(&mut tx, request, ranked).await?;
    tx.commit().await.map_err(map_error)?;
    let next = if has_more {
        hits.last().map(SearchHit::cursor)
    } else {
        None
    };
    Ok(SearchPage { hits, next })
}

/// Reads the ranked rows' items (three queries for the whole page) and builds their hits in
/// rank order; an item gone meanwhile is left out.
async fn hydrate(
    conn: &mut PgConnection,
    request: &SearchRequest,
    ranked: &[(i16, i64, f64)],
) -> StoreResult<Vec<SearchHit>> {
    let ids_of = |kind: i16| -> Vec<i64> {
        ranked
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, id, _)| *id)
            .collect()
    };
    let memo_ids = ids_of(KIND_MEMO);
    let document_ids = ids_of(KIND_DOCUMENT);

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

    type DocumentRow = (String, Option<String>, Timestamp, Timestamp);
    let mut documents: HashMap<i64, DocumentRow> = HashMap::new();
    let mut chunks: HashMap<i64, Vec<ChunkLocation>> = HashMap::new();
    if !document_ids.is_empty() {
        let rows: Vec<(i64, String, Option<String>, Timestamp, Timestamp)> = sqlx::query_as(
            "SELECT id, title, extracted_text, created_at, updated_at FROM documents \
             WHERE id = ANY($1) AND deleted_at IS NULL",
        )
        .bind(&document_ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
        for (id, title, text, created_at, updated_at) in rows {
            documents.insert(id, (title, text, created_at, updated_at));
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
        if kind == KIND_MEMO {
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
            let Some((title, text, created_at, updated_at)) = documents.remove(&id) else {
                continue;
            };
            let text = text.unwrap_or_default();
            let document_chunks = chunks.remove(&id).unwrap_or_default();
            hits.push(SearchHit::of_document(
                &request.query,
                id,
                title,
                (&text, &document_chunks),
                score,
                (created_at, updated_at),
            ));
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
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, content FROM memos WHERE deleted_at IS NULL AND id > $1 \
             ORDER BY id LIMIT $2 FOR SHARE",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        for (id, content) in &rows {
            index_memo(&mut tx, MemoId(*id), &MemoEntry::new(content)).await?;
        }
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
        let rows: Vec<ReindexedDocument> = sqlx::query_as(
            "SELECT id, title, extracted_text, given_tags FROM documents \
             WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2 FOR SHARE",
        )
        .bind(after)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        for (id, title, text, Json(given)) in &rows {
            let entry = DocumentEntry::new(title, text.as_deref(), &store.chunk_config)
                .with_given_tags(given);
            report.chunks += entry.body.as_ref().map_or(0, |body| body.chunks.len()) as u64;
            index_document(&mut tx, DocumentId(*id), &entry).await?;
        }
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
        "DELETE FROM search_index AS i WHERE \
           (i.kind = 0 AND NOT EXISTS (SELECT 1 FROM documents d \
              WHERE d.id = i.item_id AND d.deleted_at IS NULL)) \
           OR (i.kind = 1 AND NOT EXISTS (SELECT 1 FROM memos m \
              WHERE m.id = i.item_id AND m.deleted_at IS NULL))",
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
