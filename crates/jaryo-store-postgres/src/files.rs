//! Files on PostgreSQL: the bytes in `file_pieces` (`bytea`, a blob per upload), the file's
//! row in `files`, its extraction on the job queue (`extract`). Each piece is its own short
//! transaction; finishing (dedupe, document, file, index, job) is one, holding a transaction
//! advisory lock on the bytes' hash so two processes taking the same file in at once make one
//! document. The rules are in `jaryo_store::files`.

use crate::PostgresStore;
use crate::codec::{map_error, parse_enum, to_u32};
use crate::documents::{decode, fetch_live, inserted_document_columns};
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
use sqlx::postgres::PgRow;
use sqlx::types::Json;

pub async fn begin_upload(store: &PostgresStore) -> StoreResult<UploadId> {
    let now = store.clock.now();
    let abandoned =
        now - chrono::Duration::from_std(ABANDONED_UPLOAD_AFTER).map_err(StoreError::internal)?;
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM file_blobs WHERE NOT complete AND touched_at < $1")
        .bind(abandoned)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    let id: i64 =
        sqlx::query_scalar("INSERT INTO file_blobs (touched_at) VALUES ($1) RETURNING id")
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    Ok(UploadId(id))
}

pub async fn append_upload(
    store: &PostgresStore,
    upload: UploadId,
    seq: u32,
    bytes: &[u8],
) -> StoreResult<()> {
    let now = store.clock.now();
    let seq = i32::try_from(seq).map_err(StoreError::internal)?;
    let mut tx = store.begin_write().await?;
    let touched =
        sqlx::query("UPDATE file_blobs SET touched_at = $1 WHERE id = $2 AND NOT complete")
            .bind(now)
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
    sqlx::query("INSERT INTO file_pieces (blob_id, seq, bytes) VALUES ($1, $2, $3)")
        .bind(upload.0)
        .bind(seq)
        .bind(bytes)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}

pub async fn abandon_upload(store: &PostgresStore, upload: UploadId) -> StoreResult<()> {
    sqlx::query("DELETE FROM file_blobs WHERE id = $1 AND NOT complete")
        .bind(upload.0)
        .execute(&store.pool)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn finish_upload(
    store: &PostgresStore,
    upload: UploadId,
    finished: &FinishedUpload,
) -> StoreResult<FileIntake> {
    let now = store.clock.now();
    let title = file_document_title(&finished.name);
    let entry = DocumentEntry::new(&title, None, &store.chunk_config);
    let size = i64::try_from(finished.size).map_err(StoreError::internal)?;
    let mut tx = store.begin_write().await?;
    // Two uploads of the same bytes finishing at once queue here; the second finds the first.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 23))")
        .bind(&finished.sha256)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    let written: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM file_pieces p JOIN file_blobs b ON b.id = p.blob_id \
         WHERE b.id = $1 AND NOT b.complete",
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
         WHERE f.sha256 = $1 AND f.size = $2 AND d.deleted_at IS NULL \
         ORDER BY f.document_id LIMIT 1",
    )
    .bind(&finished.sha256)
    .bind(size)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?;
    if let Some(existing) = existing {
        sqlx::query("DELETE FROM file_blobs WHERE id = $1")
            .bind(upload.0)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        let document = fetch_live(&mut *tx, DocumentId(existing)).await?;
        tx.commit().await.map_err(map_error)?;
        return Ok(FileIntake {
            document,
            duplicate: true,
        });
    }
    let row = sqlx::query(concat!(
        "INSERT INTO documents (title, content_origin, source_metadata, created_at, updated_at) \
         VALUES ($1, 'file', '{}'::jsonb, $2, $2) RETURNING ",
        inserted_document_columns!()
    ))
    .bind(&title)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    let mut document = decode(&row)?;
    sqlx::query("UPDATE file_blobs SET complete = TRUE, touched_at = $1 WHERE id = $2")
        .bind(now)
        .bind(upload.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    sqlx::query(
        "INSERT INTO files (document_id, blob_id, name, media_type, size, pieces, sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(document.id.0)
    .bind(upload.0)
    .bind(finished.name.as_str())
    .bind(&finished.media_type)
    .bind(size)
    .bind(i32::try_from(finished.pieces).map_err(StoreError::internal)?)
    .bind(&finished.sha256)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    index_document(&mut tx, document.id, &entry).await?;
    jobs::enqueue_in(&mut tx, JobKind::Extract, document.id, 0).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    document.draft = DraftWork::none();
    Ok(FileIntake {
        document,
        duplicate: false,
    })
}

pub async fn files_of(
    store: &PostgresStore,
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
         WHERE d.deleted_at IS NULL AND f.document_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&store.pool)
    .await
    .map_err(map_error)?;
    rows.iter().map(decode_file).collect()
}

fn decode_file(row: &PgRow) -> StoreResult<StoredFile> {
    let get = |name: &str| -> StoreResult<Option<String>> {
        row.try_get::<Option<String>, _>(name).map_err(map_error)
    };
    let job = match get("job_state")? {
        Some(state) => Some(ExtractJobRow {
            state: parse_enum(&state)?,
            attempts: to_u32(row.try_get("job_attempts").map_err(map_error)?)?,
            last_error: get("job_error")?,
        }),
        None => None,
    };
    let file_state: String = row.try_get("extraction_state").map_err(map_error)?;
    let file_state: ExtractionState = parse_enum(&file_state)?;
    let pages: Option<i32> = row.try_get("pages").map_err(map_error)?;
    let Json(spans): Json<Vec<(u32, usize, usize)>> =
        row.try_get("page_spans").map_err(map_error)?;
    let size: i64 = row.try_get("size").map_err(map_error)?;
    Ok(StoredFile {
        document_id: DocumentId(row.try_get("document_id").map_err(map_error)?),
        info: FileInfo {
            name: row.try_get("name").map_err(map_error)?,
            media_type: row.try_get("media_type").map_err(map_error)?,
            size: u64::try_from(size).map_err(StoreError::internal)?,
            sha256: row.try_get("sha256").map_err(map_error)?,
            pages: pages.map(to_u32).transpose()?,
        },
        extraction: extraction_view(
            job.as_ref(),
            file_state,
            get("extraction_error")?,
            get("md_extraction_engine")?,
        ),
        pieces: to_u32(row.try_get("pieces").map_err(map_error)?)?,
        page_spans: spans
            .into_iter()
            .map(|(number, start, end)| PageSpan { number, start, end })
            .collect(),
    })
}

pub async fn read_file_piece(
    store: &PostgresStore,
    document: DocumentId,
    seq: u32,
) -> StoreResult<Option<Vec<u8>>> {
    let seq = i32::try_from(seq).map_err(StoreError::internal)?;
    sqlx::query_scalar(
        "SELECT p.bytes FROM files f JOIN documents d ON d.id = f.document_id \
         JOIN file_pieces p ON p.blob_id = f.blob_id \
         WHERE f.document_id = $1 AND d.deleted_at IS NULL AND p.seq = $2",
    )
    .bind(document.0)
    .bind(seq)
    .fetch_optional(&store.pool)
    .await
    .map_err(map_error)
}

pub async fn settle_extraction(
    store: &PostgresStore,
    claim: &JobClaim,
    outcome: &JobOutcome,
    result: Option<&ExtractedFile>,
) -> StoreResult<Settled> {
    let now = store.clock.now();
    let write = result.map(plan_extracted_document);
    let mut tx = store.begin_write().await?;
    let plan = jobs::plan_in(&mut tx, claim, outcome).await?;
    if plan.applies()
        && let Some(write) = &write
    {
        let spans: Vec<(u32, usize, usize)> = write
            .page_spans
            .iter()
            .map(|span| (span.number, span.start, span.end))
            .collect();
        sqlx::query(
            "UPDATE files SET extraction_state = $1, extraction_error = $2, \
             pages = COALESCE($3, pages), page_spans = $4 WHERE document_id = $5",
        )
        .bind(write.state.as_str())
        .bind(write.error.as_deref())
        .bind(
            write
                .pages
                .map(i32::try_from)
                .transpose()
                .map_err(StoreError::internal)?,
        )
        .bind(Json(spans))
        .bind(claim.document_id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        if let Some(text) = &write.text {
            sqlx::query(
                "UPDATE documents SET extracted_text = $1, \
                 md_content = CASE WHEN content_origin = 'file' THEN $2 ELSE md_content END, \
                 md_extraction_engine = $3, md_status = 'success', md_generated_at = $4, \
                 version = version + 1, updated_at = $4 WHERE id = $5",
            )
            .bind(text)
            .bind(write.markdown.as_deref())
            .bind(write.engine.as_deref())
            .bind(now)
            .bind(claim.document_id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
            let document = fetch_live(&mut *tx, claim.document_id).await?;
            let entry = DocumentEntry::new(
                &document.title,
                document.extracted_text.as_deref(),
                &store.chunk_config,
            )
            .with_given_tags(&document.given_tags)
            .with_accepted_markdown(
                jaryo_store::search::searchable_markdown_of(&document).as_deref(),
            );
            index_document(&mut tx, document.id, &entry).await?;
        } else if let Some(engine) = &write.engine {
            sqlx::query("UPDATE documents SET md_extraction_engine = $1 WHERE id = $2")
                .bind(engine)
                .bind(claim.document_id.0)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
        }
    }
    let wake = jobs::write_plan(&mut tx, claim, &plan).await?;
    tx.commit().await.map_err(map_error)?;
    if wake {
        store.signal.notify();
    }
    Ok(plan.settled())
}
