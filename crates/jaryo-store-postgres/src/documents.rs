//! Document rows: promote, direct writes, patches with optimistic concurrency, soft delete.
//!
//! Concurrency: every read that a write depends on locks its row (`FOR UPDATE`), so two
//! processes promoting one memo, or patching one document, queue on the row lock and the
//! second sees what the first committed.

use crate::PostgresStore;
use crate::batch::NewDocumentRow;
use crate::codec::{map_error, parse_enum, to_u32};
use crate::jobs::{enqueue_in, notify_work};
use crate::search::{
    DocumentEntry, index_document, index_memos_promoted_to, unindex_document, unindex_memo,
};
use jaryo_domain::{Document, DocumentId, DraftState, DraftWork, MemoId, Timestamp};
use jaryo_store::{
    DocumentFilter, DocumentPatch, JobKind, NewDocument, Page, PageRequest, StoreError,
    StoreResult, check_direct_origin, edit_requeues_draft, plan_promote,
};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Row};

/// A document's columns with its draft job's, read from [`documents_with_draft!`].
macro_rules! document_columns {
    () => {
        "d.id, title, extracted_text, md_content, content_origin, md_status, md_draft_status, \
         md_extraction_engine, md_generated_at, source_metadata, created_at, updated_at, \
         deleted_at, version, COALESCE(j.state, 'none') AS draft_state, \
         COALESCE(j.attempts, 0) AS draft_attempts, j.next_attempt_at AS draft_next_attempt_at, \
         j.last_error AS draft_last_error, j.lease_owner AS draft_lease_owner, \
         j.lease_expires_at AS draft_lease_expires_at, given_tags"
    };
}

/// Documents beside their draft job (`d`, `j`).
macro_rules! documents_with_draft {
    () => {
        "documents d LEFT JOIN jobs j ON j.document_id = d.id AND j.kind = 'draft'"
    };
}

/// The columns of a document just inserted, which has no draft job yet.
macro_rules! inserted_document_columns {
    () => {
        "id, title, extracted_text, md_content, content_origin, md_status, md_draft_status, \
         md_extraction_engine, md_generated_at, source_metadata, created_at, updated_at, \
         deleted_at, version, 'none' AS draft_state, 0 AS draft_attempts, \
         NULL::timestamptz AS draft_next_attempt_at, NULL::text AS draft_last_error, \
         NULL::text AS draft_lease_owner, NULL::timestamptz AS draft_lease_expires_at, \
         given_tags"
    };
}
pub(crate) use inserted_document_columns;

pub(crate) fn decode(row: &PgRow) -> StoreResult<Document> {
    let text = |name: &str| -> StoreResult<Option<String>> {
        row.try_get::<Option<String>, _>(name).map_err(map_error)
    };
    let time = |name: &str| -> StoreResult<Option<Timestamp>> {
        row.try_get::<Option<Timestamp>, _>(name).map_err(map_error)
    };
    let content_origin: String = row.try_get("content_origin").map_err(map_error)?;
    let draft_state: String = row.try_get("draft_state").map_err(map_error)?;
    let Json(source_metadata): Json<Map<String, Value>> =
        row.try_get("source_metadata").map_err(map_error)?;
    let Json(given_tags): Json<Vec<String>> = row.try_get("given_tags").map_err(map_error)?;
    Ok(Document {
        id: DocumentId(row.try_get("id").map_err(map_error)?),
        title: row.try_get("title").map_err(map_error)?,
        extracted_text: text("extracted_text")?,
        md_content: text("md_content")?,
        content_origin: parse_enum(&content_origin)?,
        md_status: text("md_status")?,
        md_draft_status: text("md_draft_status")?
            .as_deref()
            .map(parse_enum)
            .transpose()?,
        md_extraction_engine: text("md_extraction_engine")?,
        md_generated_at: time("md_generated_at")?,
        source_metadata,
        created_at: row.try_get("created_at").map_err(map_error)?,
        updated_at: row.try_get("updated_at").map_err(map_error)?,
        deleted_at: time("deleted_at")?,
        version: row.try_get("version").map_err(map_error)?,
        draft: DraftWork {
            state: parse_enum(&draft_state)?,
            attempts: to_u32(row.try_get("draft_attempts").map_err(map_error)?)?,
            last_error: text("draft_last_error")?,
            next_attempt_at: time("draft_next_attempt_at")?,
            lease_owner: text("draft_lease_owner")?,
            lease_expires_at: time("draft_lease_expires_at")?,
        },
        given_tags,
    })
}

pub(crate) fn not_found(id: DocumentId) -> StoreError {
    StoreError::NotFound {
        entity: "document",
        id: id.0,
    }
}

/// A live document with its draft work; a soft-deleted or missing one is `NotFound`. `lock`
/// takes the document's row lock for a write that depends on what it read.
pub(crate) async fn fetch_live<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    id: DocumentId,
) -> StoreResult<Document> {
    let row = sqlx::query(concat!(
        "SELECT ",
        document_columns!(),
        " FROM ",
        documents_with_draft!(),
        " WHERE d.id = $1 AND d.deleted_at IS NULL"
    ))
    .bind(id.0)
    .fetch_optional(executor)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    decode(&row)
}

/// [`fetch_live`] with the document's row locked (`FOR UPDATE`), for a write that depends on
/// what it read.
pub(crate) async fn fetch_live_locked(
    conn: &mut sqlx::PgConnection,
    id: DocumentId,
) -> StoreResult<Document> {
    let row = sqlx::query(concat!(
        "SELECT ",
        document_columns!(),
        " FROM ",
        documents_with_draft!(),
        " WHERE d.id = $1 AND d.deleted_at IS NULL FOR UPDATE OF d"
    ))
    .bind(id.0)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    decode(&row)
}

pub async fn promote(store: &PostgresStore, memo_id: MemoId) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    // The row lock makes concurrent promotes of one memo queue here; the second one then
    // reads the link the first committed and answers AlreadyPromoted.
    let memo = sqlx::query(
        "SELECT content, document_id FROM memos WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(memo_id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?
    .ok_or(StoreError::NotFound {
        entity: "memo",
        id: memo_id.0,
    })?;
    let content: String = memo.try_get("content").map_err(map_error)?;
    let linked: Option<i64> = memo.try_get("document_id").map_err(map_error)?;
    let linked_live: Option<i64> = match linked {
        Some(document_id) => {
            sqlx::query_scalar("SELECT id FROM documents WHERE id = $1 AND deleted_at IS NULL")
                .bind(document_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_error)?
        }
        None => None,
    };
    let promoted = plan_promote(memo_id, &content, linked_live.map(DocumentId), now)?;
    let row = sqlx::query(concat!(
        "INSERT INTO documents (title, extracted_text, content_origin, source_metadata, \
         created_at, updated_at) \
         VALUES ($1, $2, 'memo', $3, $4, $4) RETURNING ",
        inserted_document_columns!()
    ))
    .bind(&promoted.title)
    .bind(&content)
    .bind(Json(promoted.source_metadata))
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    let mut document = decode(&row)?;
    enqueue_in(&mut tx, JobKind::Draft, document.id, 0).await?;
    document.draft = DraftWork::queued();
    // The memo's text is only known under the lock; promote is rare enough to analyse here.
    let entry = DocumentEntry::new(&document.title, Some(&content), &store.chunk_config);
    index_document(&mut tx, document.id, &entry).await?;
    sqlx::query("UPDATE memos SET document_id = $1 WHERE id = $2")
        .bind(document.id.0)
        .bind(memo_id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    // The memo's text is the document's now: it is found as the document.
    unindex_memo(&mut tx, memo_id).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(document)
}

pub async fn create(store: &PostgresStore, new: &NewDocument) -> StoreResult<Document> {
    check_direct_origin(new.content_origin)?;
    let (created_at, updated_at) = new.times(store.clock.now());
    let title = new.title_or_derived();
    let entry = DocumentEntry::new(
        &title,
        Some(new.extracted_text.as_str()),
        &store.chunk_config,
    )
    .with_given_tags(&new.tags);
    // Through the batch writer (group commit): the row, its chunks, tags and index row are
    // committed with whatever other new items are queued, before this returns.
    let row = NewDocumentRow {
        title,
        extracted_text: new.extracted_text.as_str().to_owned(),
        content_origin: new.content_origin.as_str(),
        source_metadata: new.source_metadata.clone(),
        given_tags: new.tags.clone(),
        entry,
        created_at,
        updated_at,
    };
    store.batcher.insert_document(row).await
}

pub async fn get(pool: &PgPool, id: DocumentId) -> StoreResult<Document> {
    fetch_live(pool, id).await
}

pub async fn list(
    pool: &PgPool,
    filter: &DocumentFilter,
    page: PageRequest,
) -> StoreResult<Page<Document>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        document_columns!(),
        " FROM ",
        documents_with_draft!(),
        " WHERE d.deleted_at IS NULL AND d.id < $1 \
         AND ($2::text IS NULL OR COALESCE(j.state, 'none') = $2) \
         AND ($3::text IS NULL OR md_draft_status = $3) \
         AND ($4::text IS NULL OR content_origin = $4) \
         AND ($5::bool IS NULL OR (md_draft_status IS NOT DISTINCT FROM 'draft' \
              AND draft_flagged) = $5) \
         AND ($7::bool IS NULL OR COALESCE(j.state IN ('pending', 'running') \
              AND j.last_error IS NOT NULL, false) = $7) \
         AND ($8::text IS NULL \
              OR d.id IN (SELECT document_id FROM document_tags WHERE tag_key = $8)) \
         ORDER BY d.id DESC LIMIT $6"
    ))
    .bind(page.before.unwrap_or(i64::MAX))
    .bind(filter.draft_state.map(|s| s.as_str()))
    .bind(filter.md_draft_status.map(|s| s.as_str()))
    .bind(filter.content_origin.map(|s| s.as_str()))
    .bind(filter.needs_attention)
    .bind(i64::from(page.limit) + 1)
    .bind(filter.retrying)
    .bind(filter.tag.as_deref())
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    let documents = rows.iter().map(decode).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(documents, page.limit, |d| d.id.0))
}

pub async fn update(
    store: &PostgresStore,
    id: DocumentId,
    patch: &DocumentPatch,
) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let current: i64 = sqlx::query_scalar(
        "SELECT version FROM documents WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    if patch.expected_version.is_some_and(|v| v != current) {
        return Err(StoreError::VersionConflict {
            current_version: current,
        });
    }
    sqlx::query(
        "UPDATE documents SET title = COALESCE($1, title), \
         extracted_text = COALESCE($2, extracted_text), version = version + 1, updated_at = $3 \
         WHERE id = $4",
    )
    .bind(patch.title.as_ref().map(|t| t.as_str()))
    .bind(patch.extracted_text.as_ref().map(|t| t.as_str()))
    .bind(now)
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    let mut document = fetch_live(&mut *tx, id).await?;
    if edit_requeues_draft(patch, &document) {
        enqueue_in(&mut tx, JobKind::Draft, id, 0).await?;
        document.draft = DraftWork::queued();
    }
    // Title and original text as they now are (a title-only patch re-reads the stored text).
    let entry = DocumentEntry::new(
        &document.title,
        document.extracted_text.as_deref(),
        &store.chunk_config,
    )
    .with_given_tags(&document.given_tags)
    .with_accepted_markdown(jaryo_store::search::searchable_markdown_of(&document).as_deref());
    index_document(&mut tx, document.id, &entry).await?;
    if patch.extracted_text.is_some() {
        index_memos_promoted_to(&mut tx, document.id).await?;
    }
    let wake = document.draft.state == DraftState::Pending;
    if wake {
        notify_work(&mut tx, JobKind::Draft).await?;
    }
    tx.commit().await.map_err(map_error)?;
    if wake {
        store.signal.notify();
    }
    Ok(document)
}

pub async fn delete(store: &PostgresStore, id: DocumentId) -> StoreResult<()> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let deleted = sqlx::query(
        "UPDATE documents SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?
    .rows_affected();
    if deleted == 0 {
        return Err(not_found(id));
    }
    // Its memo is searched on its own again.
    index_memos_promoted_to(&mut tx, id).await?;
    sqlx::query("UPDATE memos SET document_id = NULL WHERE document_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    unindex_document(&mut tx, id).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}
