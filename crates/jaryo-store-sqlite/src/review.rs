//! The person's review of a draft on SQLite. The rules are `jaryo_store::review`'s; this
//! module reads the document under the write lock and writes what they decide, in one
//! `BEGIN IMMEDIATE` transaction.

use crate::SqliteStore;
use crate::codec::{encode_time, map_error};
use crate::documents::fetch_live;
use jaryo_domain::{Document, DocumentId};
use jaryo_store::review::{ReviewWrite, plan_accept, plan_regenerate, plan_reject};
use jaryo_store::{AcceptDraft, RejectDraft, Reviewer, StoreResult};

async fn write_review(
    store: &SqliteStore,
    id: DocumentId,
    plan: impl FnOnce(&Document) -> StoreResult<ReviewWrite>,
) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let document = fetch_live(&mut *tx, id).await?;
    let write = plan(&document)?;
    sqlx::query(
        "UPDATE documents SET md_content = ?1, md_draft_status = ?2, source_metadata = ?3, \
         version = version + 1, updated_at = ?4 WHERE id = ?5",
    )
    .bind(write.md_content)
    .bind(write.md_draft_status.as_str())
    .bind(serde_json::Value::Object(write.source_metadata).to_string())
    .bind(encode_time(now))
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
    store: &SqliteStore,
    id: DocumentId,
    accept: &AcceptDraft,
) -> StoreResult<Document> {
    let now = store.clock.now();
    write_review(store, id, |document| plan_accept(document, accept, now)).await
}

pub async fn reject(
    store: &SqliteStore,
    id: DocumentId,
    reject: &RejectDraft,
) -> StoreResult<Document> {
    let now = store.clock.now();
    write_review(store, id, |document| plan_reject(document, reject, now)).await
}

pub async fn regenerate(
    store: &SqliteStore,
    id: DocumentId,
    by: Reviewer,
) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let document = fetch_live(&mut *tx, id).await?;
    let metadata = plan_regenerate(&document, by, now);
    // The same queueing as `request_redraft`, with the history entry in the same write.
    sqlx::query("UPDATE documents SET source_metadata = ?1 WHERE id = ?2")
        .bind(serde_json::Value::Object(metadata).to_string())
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
