//! Document rows: promote, direct writes, patches with optimistic concurrency, soft delete.

use crate::SqliteStore;
use crate::codec::{
    decode_json_object, decode_opt_time, decode_time, encode_time, map_error, parse_enum,
};
use crate::search::{
    BodyEntry, DocumentEntry, index_document, index_memos_promoted_to, unindex_document,
    unindex_memo,
};
use jaryo_domain::{Document, DocumentId, DraftWork, MemoId};
use jaryo_store::{
    DocumentFilter, DocumentPatch, NewDocument, Page, PageRequest, StoreError, StoreResult,
    check_direct_origin, edit_requeues_draft, plan_promote,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

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
         NULL AS draft_next_attempt_at, NULL AS draft_last_error, NULL AS draft_lease_owner, \
         NULL AS draft_lease_expires_at, given_tags"
    };
}
pub(crate) use inserted_document_columns;

pub(crate) fn decode(row: &SqliteRow) -> StoreResult<Document> {
    let get_text = |name: &str| -> StoreResult<Option<String>> {
        row.try_get::<Option<String>, _>(name).map_err(map_error)
    };
    let content_origin: String = row.try_get("content_origin").map_err(map_error)?;
    let draft_state: String = row.try_get("draft_state").map_err(map_error)?;
    let source_metadata: String = row.try_get("source_metadata").map_err(map_error)?;
    let attempts: i64 = row.try_get("draft_attempts").map_err(map_error)?;
    let given_tags: String = row.try_get("given_tags").map_err(map_error)?;
    Ok(Document {
        id: DocumentId(row.try_get("id").map_err(map_error)?),
        title: row.try_get("title").map_err(map_error)?,
        extracted_text: get_text("extracted_text")?,
        md_content: get_text("md_content")?,
        content_origin: parse_enum(&content_origin)?,
        md_status: get_text("md_status")?,
        md_draft_status: get_text("md_draft_status")?
            .as_deref()
            .map(parse_enum)
            .transpose()?,
        md_extraction_engine: get_text("md_extraction_engine")?,
        md_generated_at: decode_opt_time(get_text("md_generated_at")?)?,
        source_metadata: decode_json_object(&source_metadata)?,
        created_at: decode_time(row.try_get("created_at").map_err(map_error)?)?,
        updated_at: decode_time(row.try_get("updated_at").map_err(map_error)?)?,
        deleted_at: decode_opt_time(get_text("deleted_at")?)?,
        version: row.try_get("version").map_err(map_error)?,
        draft: DraftWork {
            state: parse_enum(&draft_state)?,
            attempts: u32::try_from(attempts).map_err(StoreError::internal)?,
            last_error: get_text("draft_last_error")?,
            next_attempt_at: decode_opt_time(get_text("draft_next_attempt_at")?)?,
            lease_owner: get_text("draft_lease_owner")?,
            lease_expires_at: decode_opt_time(get_text("draft_lease_expires_at")?)?,
        },
        given_tags: serde_json::from_str(&given_tags).map_err(StoreError::internal)?,
    })
}

pub(crate) fn not_found(id: DocumentId) -> StoreError {
    StoreError::NotFound {
        entity: "document",
        id: id.0,
    }
}

/// A live document with its draft work; a soft-deleted or missing one is `NotFound`.
pub(crate) async fn fetch_live<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    id: DocumentId,
) -> StoreResult<Document> {
    let row = sqlx::query(concat!(
        "SELECT ",
        document_columns!(),
        " FROM ",
        documents_with_draft!(),
        " WHERE d.id = ?1 AND d.deleted_at IS NULL"
    ))
    .bind(id.0)
    .fetch_optional(executor)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    decode(&row)
}

pub async fn promote(store: &SqliteStore, memo_id: MemoId) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let memo =
        sqlx::query("SELECT content, document_id FROM memos WHERE id = ?1 AND deleted_at IS NULL")
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
            sqlx::query_scalar("SELECT id FROM documents WHERE id = ?1 AND deleted_at IS NULL")
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
         VALUES (?1, ?2, 'memo', ?3, ?4, ?4) RETURNING ",
        inserted_document_columns!()
    ))
    .bind(&promoted.title)
    .bind(&content)
    .bind(serde_json::Value::Object(promoted.source_metadata).to_string())
    .bind(encode_time(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    let mut document = decode(&row)?;
    crate::jobs::enqueue_in(&mut tx, jaryo_store::JobKind::Draft, document.id, 0).await?;
    document.draft = DraftWork::queued();
    // The memo's text is only known under the lock; promote is rare enough to analyse here.
    let entry = DocumentEntry::new(&document.title, Some(&content), &store.chunk_config);
    index_document(&mut tx, document.id, &entry, true).await?;
    sqlx::query("UPDATE memos SET document_id = ?1 WHERE id = ?2")
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

pub async fn create(store: &SqliteStore, new: &NewDocument) -> StoreResult<Document> {
    check_direct_origin(new.content_origin)?;
    let (created_at, updated_at) = new.times(store.clock.now());
    let title = new.title_or_derived();
    let entry = DocumentEntry::new(
        &title,
        Some(new.extracted_text.as_str()),
        &store.chunk_config,
    )
    .with_given_tags(&new.tags);
    let row = crate::batch::NewDocumentRow {
        title,
        extracted_text: new.extracted_text.as_str().to_owned(),
        content_origin: new.content_origin.as_str(),
        source_metadata: serde_json::Value::Object(new.source_metadata.clone()).to_string(),
        given_tags: serde_json::to_string(&new.tags).map_err(StoreError::internal)?,
        entry,
        created_at,
        updated_at,
    };
    store.batcher.insert_document(row).await
}

pub async fn get(pool: &SqlitePool, id: DocumentId) -> StoreResult<Document> {
    fetch_live(pool, id).await
}

pub async fn list(
    pool: &SqlitePool,
    filter: &DocumentFilter,
    page: PageRequest,
) -> StoreResult<Page<Document>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        document_columns!(),
        " FROM ",
        documents_with_draft!(),
        " WHERE d.deleted_at IS NULL AND d.id < ?1 \
         AND (?2 IS NULL OR COALESCE(j.state, 'none') = ?2) \
         AND (?3 IS NULL OR md_draft_status = ?3) \
         AND (?4 IS NULL OR content_origin = ?4) \
         AND (?5 IS NULL OR (md_draft_status IS 'draft' AND draft_flagged = 1) = ?5) \
         AND (?7 IS NULL OR (COALESCE(j.state IN ('pending', 'running') \
              AND j.last_error IS NOT NULL, 0)) = ?7) \
         AND (?8 IS NULL OR d.id IN (SELECT document_id FROM document_tags WHERE tag_key = ?8)) \
         ORDER BY d.id DESC LIMIT ?6"
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
    store: &SqliteStore,
    id: DocumentId,
    patch: &DocumentPatch,
) -> StoreResult<Document> {
    let now = store.clock.now();
    // New original text: its terms, chunks and tags are computed before taking the lock.
    let new_body = patch
        .extracted_text
        .as_ref()
        .map(|text| BodyEntry::new(text.as_str(), &store.chunk_config));
    let mut tx = store.begin_write().await?;
    let current: i64 =
        sqlx::query_scalar("SELECT version FROM documents WHERE id = ?1 AND deleted_at IS NULL")
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
        "UPDATE documents SET title = COALESCE(?1, title), \
         extracted_text = COALESCE(?2, extracted_text), version = version + 1, updated_at = ?3 \
         WHERE id = ?4",
    )
    .bind(patch.title.as_ref().map(|t| t.as_str()))
    .bind(patch.extracted_text.as_ref().map(|t| t.as_str()))
    .bind(encode_time(now))
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    let mut document = fetch_live(&mut *tx, id).await?;
    let requeue = edit_requeues_draft(patch, &document);
    if requeue {
        crate::jobs::enqueue_in(&mut tx, jaryo_store::JobKind::Draft, id, 0).await?;
        document.draft = DraftWork::queued();
    }
    let entry = match new_body {
        Some(body) => DocumentEntry::with_body(&document.title, body),
        // A title-only change: the body's terms are recomputed from the stored text.
        None => DocumentEntry::new(
            &document.title,
            document.extracted_text.as_deref(),
            &store.chunk_config,
        ),
    }
    .with_given_tags(&document.given_tags)
    .with_accepted_markdown(jaryo_store::search::searchable_markdown_of(&document).as_deref());
    index_document(&mut tx, document.id, &entry, false).await?;
    if patch.extracted_text.is_some() {
        index_memos_promoted_to(&mut tx, document.id).await?;
    }
    tx.commit().await.map_err(map_error)?;
    if document.draft.state == jaryo_domain::DraftState::Pending {
        store.signal.notify();
    }
    Ok(document)
}

pub async fn delete(store: &SqliteStore, id: DocumentId) -> StoreResult<()> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let deleted = sqlx::query(
        "UPDATE documents SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2 AND deleted_at IS NULL",
    )
    .bind(encode_time(now))
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
    sqlx::query("UPDATE memos SET document_id = NULL WHERE document_id = ?1")
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    unindex_document(&mut tx, id).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}
