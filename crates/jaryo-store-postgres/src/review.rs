//! The person's review of a draft on PostgreSQL. The rules are `jaryo_store::review`'s; this
//! module reads the document with its row locked (`FOR UPDATE`) and writes what they decide in
//! the same transaction, so a review cannot interleave with a settlement or a patch.

use crate::PostgresStore;
use crate::codec::map_error;
use crate::documents::{fetch_live, fetch_live_locked};
use jaryo_domain::{Document, DocumentId};
use jaryo_store::review::{ReviewWrite, plan_accept, plan_regenerate, plan_reject};
use jaryo_store::{AcceptDraft, RejectDraft, Reviewer, StoreResult};
use sqlx::types::Json;

async fn write_review(
    store: &PostgresStore,
    id: DocumentId,
    plan: impl FnOnce(&Document) -> StoreResult<ReviewWrite>,
) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let document = fetch_live_locked(&mut tx, id).await?;
    let write = plan(&document)?;
    sqlx::query(
        "UPDATE documents SET md_content = $1, md_draft_status = $2, source_metadata = $3, \
         version = version + 1, updated_at = $4 WHERE id = $5",
    )
    .bind(write.md_content)
    .bind(write.md_draft_status.as_str())
    .bind(Json(write.source_metadata))
    .bind(now)
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    let reviewed = fetch_live(&mut *tx, id).await?;
    crate::search::index_reviewed_document(&mut tx, &document, &reviewed).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(reviewed)
}

pub async fn accept(
    store: &PostgresStore,
    id: DocumentId,
    accept: &AcceptDraft,
) -> StoreResult<Document> {
    let now = store.clock.now();
    write_review(store, id, |document| plan_accept(document, accept, now)).await
}

pub async fn reject(
    store: &PostgresStore,
    id: DocumentId,
    reject: &RejectDraft,
) -> StoreResult<Document> {
    let now = store.clock.now();
    write_review(store, id, |document| plan_reject(document, reject, now)).await
}

pub async fn regenerate(
    store: &PostgresStore,
    id: DocumentId,
    by: Reviewer,
) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let document = fetch_live_locked(&mut tx, id).await?;
    let metadata = plan_regenerate(&document, by, now);
    // The same queueing as `request_redraft`, with the history entry in the same write.
    sqlx::query("UPDATE documents SET source_metadata = $1 WHERE id = $2")
        .bind(Json(metadata))
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    crate::jobs::enqueue_in(&mut tx, jaryo_store::JobKind::Draft, id, 0).await?;
    let document = fetch_live(&mut *tx, id).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(document)
}
