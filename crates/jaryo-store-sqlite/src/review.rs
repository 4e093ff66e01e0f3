//! The person's review of a draft on SQLite. The rules are `jaryo_store::review`'s; this
//! module reads the document under the write lock and writes what they decide, in one
//! `BEGIN IMMEDIATE` transaction.

use crate::SqliteStore;
use crate::codec::{encode_time, map_error};
use crate::documents::{decode, document_columns, not_found};
use jaryo_domain::{Document, DocumentId};
use jaryo_store::review::{ReviewWrite, plan_accept, plan_regenerate, plan_reject};
use jaryo_store::{AcceptDraft, RejectDraft, Reviewer, StoreResult};

async fn read_locked(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    id: DocumentId,
) -> StoreResult<Document> {
    let row = sqlx::query(concat!(
        "SELECT ",
        document_columns!(),
        " FROM documents WHERE id = ?1 AND deleted_at IS NULL"
    ))
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    decode(&row)
}

async fn write_review(
    store: &SqliteStore,
    id: DocumentId,
    plan: impl FnOnce(&Document) -> StoreResult<ReviewWrite>,
) -> StoreResult<Document> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let document = read_locked(&mut tx, id).await?;
    let write = plan(&document)?;
    let row = sqlx::query(concat!(
        "UPDATE documents SET md_content = ?1, md_draft_status = ?2, source_metadata = ?3, \
         version = version + 1, updated_at = ?4 WHERE id = ?5 RETURNING ",
        document_columns!()
    ))
    .bind(write.md_content)
    .bind(write.md_draft_status.as_str())
    .bind(serde_json::Value::Object(write.source_metadata).to_string())
    .bind(encode_time(now))
    .bind(id.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    let reviewed = decode(&row)?;
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
    let document = read_locked(&mut tx, id).await?;
    let metadata = plan_regenerate(&document, by, now);
    // The same queueing as `request_redraft`, with the history entry in the same write.
    let row = sqlx::query(concat!(
        "UPDATE documents SET source_metadata = ?1, draft_state = 'pending', \
         draft_attempts = 0, draft_next_attempt_at = NULL, draft_last_error = NULL, \
         draft_lease_owner = NULL, draft_lease_expires_at = NULL, draft_claim_token = NULL, \
         draft_claimed_version = NULL WHERE id = ?2 RETURNING ",
        document_columns!()
    ))
    .bind(serde_json::Value::Object(metadata).to_string())
    .bind(id.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_error)?;
    let document = decode(&row)?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(document)
}
