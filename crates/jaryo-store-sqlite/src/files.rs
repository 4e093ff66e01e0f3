//! Files on SQLite: the bytes in `file_pieces` (a blob per upload), the file's row in `files`,
//! its extraction on the job queue (`extract`). Each piece is its own short `BEGIN IMMEDIATE`
//! transaction through the one writer, so an upload coming in slowly never holds the write
//! lock; finishing (dedupe, document, file, index, job) is one transaction. The rules are in
//! `jaryo_store::files`.

use crate::SqliteStore;
use crate::codec::{encode_time, map_error, parse_enum};
use crate::documents::{decode, inserted_document_columns};
use crate::jobs;
use crate::search::{DocumentEntry, index_document};
use jaryo_domain::{DocumentId, DraftWork, ExtractionState, FileInfo, PageSpan};
use jaryo_store::files::{
    ABANDONED_UPLOAD_AFTER, ExtractJobRow, extraction_view, file_document_title,
    plan_extracted_document,
};
use jaryo_store::{
    ExtractedFile, FileIntake, FinishedUpload, JobClaim, JobKind, JobOutcome, Settled, StoreError,
    StoreResult, StoredFile, UploadId,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub async fn begin_upload(store: &SqliteStore) -> StoreResult<UploadId> {
    let now = store.clock.now();
    let abandoned =
        now - chrono::Duration::from_std(ABANDONED_UPLOAD_AFTER).map_err(StoreError::internal)?;
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM file_blobs WHERE complete = 0 AND touched_at < ?1")
        .bind(encode_time(abandoned))
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    let id: i64 =
        sqlx::query_scalar("INSERT INTO file_blobs (touched_at) VALUES (?1) RETURNING id")
            .bind(encode_time(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    Ok(UploadId(id))
}

pub async fn append_upload(
    store: &SqliteStore,
    upload: UploadId,
    seq: u32,
    bytes: &[u8],
) -> StoreResult<()> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let touched =
        sqlx::query("UPDATE file_blobs SET touched_at = ?1 WHERE id = ?2 AND complete = 0")
            .bind(encode_time(now))
            .bind(upload.0)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?
            .rows_affected();
    if touched == 0 {
        return Err(StoreError::NotFound {
            entity: "upload",
            id: upload.0,
        });
    }
    sqlx::query("INSERT INTO file_pieces (blob_id, seq, bytes) VALUES (?1, ?2, ?3)")
        .bind(upload.0)
        .bind(i64::from(seq))
        .bind(bytes)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}

pub async fn abandon_upload(store: &SqliteStore, upload: UploadId) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM file_blobs WHERE id = ?1 AND complete = 0")
        .bind(upload.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}

pub async fn finish_upload(
    store: &SqliteStore,
    upload: UploadId,
    finished: &FinishedUpload,
) -> StoreResult<FileIntake> {
    let now = store.clock.now();
    let title = file_document_title(&finished.name);
    // The title's terms are known before the lock; the text comes later, from the worker.
    let entry = DocumentEntry::new(&title, None, &store.chunk_config);
    let mut tx = store.begin_write().await?;
    let written: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM file_pieces p JOIN file_blobs b ON b.id = p.blob_id \
         WHERE b.id = ?1 AND b.complete = 0",
    )
    .bind(upload.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    if written != i64::from(finished.pieces) || finished.pieces == 0 {
        return Err(StoreError::Invalid {
            message: format!(
                "upload {} holds {written} pieces, not the {} expected",
                upload.0, finished.pieces
            ),
        });
    }
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT f.document_id FROM files f JOIN documents d ON d.id = f.document_id \
         WHERE f.sha256 = ?1 AND f.size = ?2 AND d.deleted_at IS NULL \
         ORDER BY f.document_id LIMIT 1",
    )
    .bind(&finished.sha256)
    .bind(size_column(finished.size)?)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?;
    if let Some(existing) = existing {
        sqlx::query("DELETE FROM file_blobs WHERE id = ?1")
            .bind(upload.0)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        let document = crate::documents::fetch_live(&mut *tx, DocumentId(existing)).await?;
        tx.commit().await.map_err(map_error)?;
        return Ok(FileIntake {
            document,
            duplicate: true,
        });
    }
    let row = sqlx::query(concat!(
        "INSERT INTO documents (title, content_origin, source_metadata, created_at, updated_at) \
         VALUES (?1, 'file', '{}', ?2, ?2) RETURNING ",
        inserted_document_columns!()
    ))
    .bind(&title)
    .bind(encode_time(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    let mut document = decode(&row)?;
    sqlx::query("UPDATE file_blobs SET complete = 1, touched_at = ?1 WHERE id = ?2")
        .bind(encode_time(now))
        .bind(upload.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    sqlx::query(
        "INSERT INTO files (document_id, blob_id, name, media_type, size, pieces, sha256) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(document.id.0)
    .bind(upload.0)
    .bind(finished.name.as_str())
    .bind(&finished.media_type)
    .bind(size_column(finished.size)?)
    .bind(i64::from(finished.pieces))
    .bind(&finished.sha256)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    index_document(&mut tx, document.id, &entry, true).await?;
    jobs::enqueue_in(&mut tx, JobKind::Extract, document.id, 0).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    document.draft = DraftWork::none();
    Ok(FileIntake {
        document,
        duplicate: false,
    })
}

fn size_column(size: u64) -> StoreResult<i64> {
    i64::try_from(size).map_err(StoreError::internal)
}

pub async fn files_of(
    store: &SqliteStore,
    documents: &[DocumentId],
) -> StoreResult<Vec<StoredFile>> {
    if documents.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = documents.iter().map(|id| id.0).collect();
    let rows = sqlx::query(
        "SELECT f.document_id, f.name, f.media_type, f.size, f.sha256, f.pages, f.pieces, \
         f.extraction_state, f.extraction_error, f.page_spans, d.md_extraction_engine, \
         j.state AS job_state, j.attempts AS job_attempts, j.last_error AS job_error \
         FROM files f JOIN documents d ON d.id = f.document_id \
         LEFT JOIN jobs j ON j.document_id = f.document_id AND j.kind = 'extract' \
         WHERE d.deleted_at IS NULL AND f.document_id IN (SELECT value FROM json_each(?1))",
    )
    .bind(crate::codec::json_rows(&ids)?)
    .fetch_all(&store.reader)
    .await
    .map_err(map_error)?;
    rows.iter().map(decode_file).collect()
}

fn decode_file(row: &SqliteRow) -> StoreResult<StoredFile> {
    let get = |name: &str| -> StoreResult<Option<String>> {
        row.try_get::<Option<String>, _>(name).map_err(map_error)
    };
    let job_state = get("job_state")?;
    let job = match job_state {
        Some(state) => Some(ExtractJobRow {
            state: parse_enum(&state)?,
            attempts: count(row.try_get("job_attempts").map_err(map_error)?)?,
            last_error: get("job_error")?,
        }),
        None => None,
    };
    let file_state: String = row.try_get("extraction_state").map_err(map_error)?;
    let file_state: ExtractionState = parse_enum(&file_state)?;
    let pages: Option<i64> = row.try_get("pages").map_err(map_error)?;
    let spans: String = row.try_get("page_spans").map_err(map_error)?;
    let size: i64 = row.try_get("size").map_err(map_error)?;
    Ok(StoredFile {
        document_id: DocumentId(row.try_get("document_id").map_err(map_error)?),
        info: FileInfo {
            name: row.try_get("name").map_err(map_error)?,
            media_type: row.try_get("media_type").map_err(map_error)?,
            size: u64::try_from(size).map_err(StoreError::internal)?,
            sha256: row.try_get("sha256").map_err(map_error)?,
            pages: pages.map(count).transpose()?,
        },
        extraction: extraction_view(
            job.as_ref(),
            file_state,
            get("extraction_error")?,
            get("md_extraction_engine")?,
        ),
        pieces: count(row.try_get("pieces").map_err(map_error)?)?,
        page_spans: decode_spans(&spans)?,
    })
}

fn count(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(StoreError::internal)
}

/// Page spans as stored: `[[page, start, end], ...]`, compact for documents of many pages.
pub(crate) fn encode_spans(spans: &[PageSpan]) -> StoreResult<String> {
    let rows: Vec<(u32, usize, usize)> = spans
        .iter()
        .map(|span| (span.number, span.start, span.end))
        .collect();
    serde_json::to_string(&rows).map_err(StoreError::internal)
}

pub(crate) fn decode_spans(text: &str) -> StoreResult<Vec<PageSpan>> {
    let rows: Vec<(u32, usize, usize)> =
        serde_json::from_str(text).map_err(StoreError::internal)?;
    Ok(rows
        .into_iter()
        .map(|(number, start, end)| PageSpan { number, start, end })
        .collect())
}

pub async fn read_file_piece(
    store: &SqliteStore,
    document: DocumentId,
    seq: u32,
) -> StoreResult<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "SELECT p.bytes FROM files f JOIN documents d ON d.id = f.document_id \
         JOIN file_pieces p ON p.blob_id = f.blob_id \
         WHERE f.document_id = ?1 AND d.deleted_at IS NULL AND p.seq = ?2",
    )
    .bind(document.0)
    .bind(i64::from(seq))
    .fetch_optional(&store.reader)
    .await
    .map_err(map_error)
}

pub async fn settle_extraction(
    store: &SqliteStore,
    claim: &JobClaim,
    outcome: &JobOutcome,
    result: Option<&ExtractedFile>,
) -> StoreResult<Settled> {
    let now = store.clock.now();
    let write = result.map(plan_extracted_document);
    // The new text's terms and chunks are computed before the lock.
    let body = write
        .as_ref()
        .and_then(|write| write.text.as_deref())
        .map(|text| crate::search::BodyEntry::new(text, &store.chunk_config));
    let mut tx = store.begin_write().await?;
    let plan = jobs::plan_in(&mut tx, claim, outcome).await?;
    if plan.applies()
        && let Some(write) = &write
    {
        sqlx::query(
            "UPDATE files SET extraction_state = ?1, extraction_error = ?2, \
             pages = COALESCE(?3, pages), page_spans = ?4 WHERE document_id = ?5",
        )
        .bind(write.state.as_str())
        .bind(write.error.as_deref())
        .bind(write.pages.map(i64::from))
        .bind(encode_spans(&write.page_spans)?)
        .bind(claim.document_id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if let Some(text) = &write.text {
            sqlx::query(
                "UPDATE documents SET extracted_text = ?1, \
                 md_content = CASE WHEN content_origin = 'file' THEN ?2 ELSE md_content END, \
                 md_extraction_engine = ?3, md_status = 'success', md_generated_at = ?4, \
                 version = version + 1, updated_at = ?4 WHERE id = ?5",
            )
            .bind(text)
            .bind(write.markdown.as_deref())
            .bind(write.engine.as_deref())
            .bind(encode_time(now))
            .bind(claim.document_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
            let document = crate::documents::fetch_live(&mut *tx, claim.document_id).await?;
            if let Some(body) = body {
                let entry = DocumentEntry::with_body(&document.title, body)
                    .with_given_tags(&document.given_tags)
                    .with_accepted_markdown(
                        jaryo_store::search::searchable_markdown_of(&document).as_deref(),
                    );
                index_document(&mut tx, document.id, &entry, false).await?;
            }
        } else if let Some(engine) = &write.engine {
            sqlx::query("UPDATE documents SET md_extraction_engine = ?1 WHERE id = ?2")
                .bind(engine)
                .bind(claim.document_id.0)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
        }
    }
    let wake = jobs::write_plan(&mut tx, claim.job, &plan).await?;
    tx.commit().await.map_err(map_error)?;
    if wake {
        store.signal.notify();
    }
    Ok(plan.settled())
}
