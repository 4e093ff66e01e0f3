//! Drafts on PostgreSQL's job queue (`jobs`): a claim reads the text to draft, a settlement
//! writes the draft into the document in the same transaction as the job, with the document
//! and the job locked (`jobs::plan_in`). The rules are `jaryo_store::jobs::plan_settle` and
//! `jaryo_store::plan_draft_document`.

use crate::PostgresStore;
use crate::codec::map_error;
use crate::documents::fetch_live;
use crate::jobs;
use jaryo_domain::{Document, DocumentId, Timestamp};
use jaryo_store::{
    ClaimRequest, DraftClaim, DraftDocumentWrite, DraftSelection, JobKind, Settled, Settlement,
    StoreResult, metadata_time, plan_draft_document,
};
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::{PgConnection, Row};

pub async fn claim(store: &PostgresStore, request: &ClaimRequest) -> StoreResult<Vec<DraftClaim>> {
    let mut tx = store.begin_write().await?;
    let claims = jobs::claim_in(&mut tx, JobKind::Draft, request, store.clock.now()).await?;
    let ids: Vec<i64> = claims.iter().map(|claim| claim.document_id.0).collect();
    let rows = sqlx::query(
        "SELECT id, title, COALESCE(extracted_text, md_content, '') AS text FROM documents \
         WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    let mut texts = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id").map_err(map_error)?;
        let title: String = row.try_get("title").map_err(map_error)?;
        let text: String = row.try_get("text").map_err(map_error)?;
        texts.insert(id, (title, text));
    }
    DraftClaim::assemble(claims, texts)
}

pub async fn settle(
    store: &PostgresStore,
    claim: &DraftClaim,
    settlement: &Settlement,
) -> StoreResult<Settled> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let plan = jobs::plan_in(&mut tx, &claim.job, &settlement.job_outcome()).await?;
    if plan.applies() {
        let Json(metadata): Json<Map<String, Value>> =
            sqlx::query_scalar("SELECT source_metadata FROM documents WHERE id = $1")
                .bind(claim.document_id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_error)?;
        if let Some(write) = plan_draft_document(settlement, metadata, now) {
            write_document(&mut tx, claim.document_id, &write, now).await?;
        }
    }
    let wake = jobs::write_plan(&mut tx, &claim.job, &plan).await?;
    tx.commit().await.map_err(map_error)?;
    if wake {
        store.signal.notify();
    }
    Ok(plan.settled())
}

async fn write_document(
    conn: &mut PgConnection,
    id: DocumentId,
    write: &DraftDocumentWrite,
    now: Timestamp,
) -> StoreResult<()> {
    match write {
        DraftDocumentWrite::Drafted {
            markdown,
            source_metadata,
            flagged,
        } => sqlx::query(
            "UPDATE documents SET md_content = $1, content_origin = 'ai_drafted', \
             md_draft_status = 'draft', md_status = 'success', \
             md_extraction_engine = 'ai_draft', md_generated_at = $2, source_metadata = $3, \
             updated_at = $2, version = version + 1, draft_flagged = $4 WHERE id = $5",
        )
        .bind(markdown)
        .bind(now)
        .bind(Json(source_metadata))
        .bind(flagged)
        .bind(id.0),
        DraftDocumentWrite::Skipped { source_metadata } => {
            sqlx::query("UPDATE documents SET source_metadata = $1, updated_at = $2 WHERE id = $3")
                .bind(Json(source_metadata))
                .bind(now)
                .bind(id.0)
        }
    }
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn redraft(store: &PostgresStore, id: DocumentId) -> StoreResult<Document> {
    let mut tx = store.begin_write().await?;
    jobs::lock_live(&mut tx, id).await?;
    jobs::enqueue_in(&mut tx, JobKind::Draft, id, 0).await?;
    let document = fetch_live(&mut *tx, id).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(document)
}

pub async fn select(
    store: &PostgresStore,
    selection: &DraftSelection,
    after: Option<DocumentId>,
    limit: u32,
) -> StoreResult<Vec<DocumentId>> {
    let any_category =
        selection.flagged || selection.failed || selection.prompt_version_not.is_some();
    // `drafted_at` is compared as text, as on SQLite: the worker writes it in the fixed-width
    // form `metadata_time` makes, whose text order is time order.
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT d.id FROM documents d LEFT JOIN jobs j ON j.document_id = d.id AND j.kind = 'draft' \
         WHERE deleted_at IS NULL AND d.id > $1 \
         AND (md_draft_status IS NULL OR md_draft_status <> 'accepted') \
         AND ( \
           ($2 AND draft_flagged AND j.state = 'done') \
           OR ($3 AND j.state = 'failed') \
           OR ($4::text IS NOT NULL AND j.state = 'done' \
               AND source_metadata #>> '{draft,prompt_version}' IS DISTINCT FROM $4) \
           OR (NOT $5 AND j.state IS NOT NULL)) \
         AND ($6::text IS NULL OR source_metadata #>> '{draft,model}' = $6) \
         AND ($7::text IS NULL OR source_metadata ->> 'drafted_at' >= $7) \
         AND ($8::text IS NULL OR source_metadata ->> 'drafted_at' < $8) \
         ORDER BY d.id LIMIT $9",
    )
    .bind(after.map_or(0, |id| id.0))
    .bind(selection.flagged)
    .bind(selection.failed)
    .bind(selection.prompt_version_not.as_deref())
    .bind(any_category)
    .bind(selection.model.as_deref())
    .bind(selection.drafted_from.map(metadata_time))
    .bind(selection.drafted_before.map(metadata_time))
    .bind(i64::from(limit))
    .fetch_all(&store.pool)
    .await
    .map_err(map_error)?;
    Ok(ids.into_iter().map(DocumentId).collect())
}
