//! The draft queue on SQLite: claims with leases and fencing tokens, settlement with the
//! no-lost-update check, redraft, stats.
//!
//! Each call is one `BEGIN IMMEDIATE` transaction, so a claim and the reads it depends on
//! cannot interleave with another process's claim on the same file.

use crate::SqliteStore;
use crate::codec::{decode_json_object, decode_opt_time, encode_time, map_error};
use crate::documents::{decode, document_columns, not_found};
use jaryo_domain::{Document, DocumentId, DraftState};
use jaryo_store::{
    ClaimRequest, DraftClaim, DraftQueueStats, DraftSelection, Settled, Settlement, StoreError,
    StoreResult,
};
use sqlx::Row;
use std::time::Duration;

const LEASE_LAPSED_ERROR: &str =
    "the worker drafting this document stopped responding after the last allowed attempt";

fn lease_end(store: &SqliteStore, lease: Duration) -> StoreResult<jaryo_domain::Timestamp> {
    let lease = chrono::Duration::from_std(lease).map_err(StoreError::internal)?;
    Ok(store.clock.now() + lease)
}

pub async fn claim(store: &SqliteStore, request: &ClaimRequest) -> StoreResult<Vec<DraftClaim>> {
    let now = encode_time(store.clock.now());
    let expires = lease_end(store, request.lease)?;
    let mut tx = store.begin_write().await?;
    // Work abandoned by a dead worker after its last allowed attempt ends here, not in an
    // endless cycle of claims.
    sqlx::query(
        "UPDATE documents SET draft_state = 'failed', draft_last_error = ?1, \
         draft_lease_owner = NULL, draft_lease_expires_at = NULL, draft_claim_token = NULL, \
         draft_claimed_version = NULL \
         WHERE deleted_at IS NULL AND draft_state = 'running' \
         AND draft_lease_expires_at <= ?2 AND draft_attempts >= ?3",
    )
    .bind(LEASE_LAPSED_ERROR)
    .bind(&now)
    .bind(i64::from(request.max_attempts))
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    let rows = sqlx::query(
        "UPDATE documents SET draft_state = 'running', draft_attempts = draft_attempts + 1, \
         draft_lease_owner = ?1, draft_lease_expires_at = ?2, \
         draft_claim_token = lower(hex(randomblob(16))), draft_claimed_version = version \
         WHERE id IN (SELECT id FROM documents WHERE deleted_at IS NULL AND ( \
             (draft_state = 'pending' AND (draft_next_attempt_at IS NULL \
                                           OR draft_next_attempt_at <= ?3)) \
             OR (draft_state = 'running' AND draft_lease_expires_at <= ?3)) \
           ORDER BY id LIMIT ?4) \
         RETURNING id, draft_claim_token, version, title, \
                   COALESCE(extracted_text, md_content, '') AS text, draft_attempts",
    )
    .bind(&request.owner)
    .bind(encode_time(expires))
    .bind(&now)
    .bind(i64::from(request.limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    let mut claims = rows
        .iter()
        .map(|row| {
            let attempts: i64 = row.try_get("draft_attempts").map_err(map_error)?;
            Ok(DraftClaim {
                document_id: DocumentId(row.try_get("id").map_err(map_error)?),
                token: row.try_get("draft_claim_token").map_err(map_error)?,
                version: row.try_get("version").map_err(map_error)?,
                title: row.try_get("title").map_err(map_error)?,
                text: row.try_get("text").map_err(map_error)?,
                previous_attempts: u32::try_from(attempts - 1).map_err(StoreError::internal)?,
                lease_expires_at: expires,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    claims.sort_by_key(|claim| claim.document_id);
    Ok(claims)
}

pub async fn renew(store: &SqliteStore, claim: &DraftClaim, lease: Duration) -> StoreResult<bool> {
    let expires = lease_end(store, lease)?;
    let mut tx = store.begin_write().await?;
    let renewed = sqlx::query(
        "UPDATE documents SET draft_lease_expires_at = ?1 \
         WHERE id = ?2 AND draft_claim_token = ?3 AND draft_state = 'running'",
    )
    .bind(encode_time(expires))
    .bind(claim.document_id.0)
    .bind(&claim.token)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?
    .rows_affected();
    tx.commit().await.map_err(map_error)?;
    Ok(renewed == 1)
}

/// Puts a dead predecessor's running drafts back in the queue, un-counting the attempt its
/// claim counted (the process died; the draft did not fail).
pub async fn release_dead_leases(store: &SqliteStore, predecessor: &str) -> StoreResult<u64> {
    let mut tx = store.begin_write().await?;
    let released = sqlx::query(
        "UPDATE documents SET draft_state = 'pending', \
         draft_attempts = MAX(draft_attempts - 1, 0), draft_next_attempt_at = NULL, \
         draft_lease_owner = NULL, draft_lease_expires_at = NULL, draft_claim_token = NULL, \
         draft_claimed_version = NULL \
         WHERE draft_state = 'running' AND substr(draft_lease_owner, 1, length(?1) + 1) = ?1 || '@'",
    )
    .bind(predecessor)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?
    .rows_affected();
    tx.commit().await.map_err(map_error)?;
    if released > 0 {
        store.signal.notify();
    }
    Ok(released)
}

pub async fn settle(
    store: &SqliteStore,
    claim: &DraftClaim,
    settlement: &Settlement,
) -> StoreResult<Settled> {
    let now = store.clock.now();
    let now_text = encode_time(now);
    let id = claim.document_id.0;
    let mut tx = store.begin_write().await?;
    let row = sqlx::query(
        "SELECT version, deleted_at, draft_state, draft_claim_token, source_metadata \
         FROM documents WHERE id = ?1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(claim.document_id))?;
    let token: Option<String> = row.try_get("draft_claim_token").map_err(map_error)?;
    let state: String = row.try_get("draft_state").map_err(map_error)?;
    if token.as_deref() != Some(claim.token.as_str()) || state != DraftState::Running.as_str() {
        return Ok(Settled::LostClaim);
    }
    let deleted_at: Option<String> = row.try_get("deleted_at").map_err(map_error)?;
    if decode_opt_time(deleted_at)?.is_some() {
        sqlx::query(
            "UPDATE documents SET draft_state = 'none', draft_lease_owner = NULL, \
             draft_lease_expires_at = NULL, draft_claim_token = NULL, \
             draft_claimed_version = NULL WHERE id = ?1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        return Ok(Settled::Dropped);
    }
    let version: i64 = row.try_get("version").map_err(map_error)?;
    if version != claim.version {
        // The person changed the text while the model worked on the old one: whatever this
        // attempt produced belongs to text that no longer exists. Start over on the new text.
        sqlx::query(
            "UPDATE documents SET draft_state = 'pending', draft_attempts = 0, \
             draft_next_attempt_at = NULL, draft_last_error = NULL, draft_lease_owner = NULL, \
             draft_lease_expires_at = NULL, draft_claim_token = NULL, \
             draft_claimed_version = NULL WHERE id = ?1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        store.signal.notify();
        return Ok(Settled::Requeued);
    }
    let source_metadata: String = row.try_get("source_metadata").map_err(map_error)?;
    let mut metadata = decode_json_object(&source_metadata)?;
    let released = matches!(settlement, Settlement::Released);
    match settlement {
        Settlement::Drafted {
            markdown,
            metadata: extra,
            model_calls,
        } => {
            metadata.extend(extra.clone());
            sqlx::query(
                "UPDATE documents SET md_content = ?1, content_origin = 'ai_drafted', \
                 md_draft_status = 'draft', md_status = 'success', \
                 md_extraction_engine = 'ai_draft', md_generated_at = ?2, source_metadata = ?3, \
                 updated_at = ?2, version = version + 1, draft_state = 'done', \
                 draft_last_error = NULL, draft_next_attempt_at = NULL, \
                 draft_lease_owner = NULL, draft_lease_expires_at = NULL, \
                 draft_claim_token = NULL, draft_claimed_version = NULL, draft_attempts = ?5 \
                 WHERE id = ?4",
            )
            .bind(markdown)
            .bind(&now_text)
            .bind(serde_json::Value::Object(metadata).to_string())
            .bind(id)
            .bind(i64::from(claim.previous_attempts + (*model_calls).max(1)))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Settlement::Skipped {
            reason,
            model_called,
            metadata: extra,
        } => {
            metadata.extend(extra.clone());
            metadata.insert(
                "draft_skipped".into(),
                serde_json::json!({
                    "reason": reason,
                    "at": now_text,
                }),
            );
            let attempts = if *model_called {
                claim.attempt()
            } else {
                claim.previous_attempts
            };
            sqlx::query(
                "UPDATE documents SET draft_state = 'skipped', draft_attempts = ?1, \
                 draft_last_error = NULL, draft_next_attempt_at = NULL, source_metadata = ?2, \
                 updated_at = ?3, draft_lease_owner = NULL, draft_lease_expires_at = NULL, \
                 draft_claim_token = NULL, draft_claimed_version = NULL WHERE id = ?4",
            )
            .bind(i64::from(attempts))
            .bind(serde_json::Value::Object(metadata).to_string())
            .bind(&now_text)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Settlement::RetryLater { error, at } => {
            sqlx::query(
                "UPDATE documents SET draft_state = 'pending', draft_last_error = ?1, \
                 draft_next_attempt_at = ?2, draft_lease_owner = NULL, \
                 draft_lease_expires_at = NULL, draft_claim_token = NULL, \
                 draft_claimed_version = NULL WHERE id = ?3",
            )
            .bind(error)
            .bind(encode_time(*at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Settlement::Failed { error } => {
            sqlx::query(
                "UPDATE documents SET draft_state = 'failed', draft_last_error = ?1, \
                 draft_next_attempt_at = NULL, draft_lease_owner = NULL, \
                 draft_lease_expires_at = NULL, draft_claim_token = NULL, \
                 draft_claimed_version = NULL WHERE id = ?2",
            )
            .bind(error)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Settlement::Released => {
            sqlx::query(
                "UPDATE documents SET draft_state = 'pending', draft_attempts = ?1, \
                 draft_next_attempt_at = NULL, draft_lease_owner = NULL, \
                 draft_lease_expires_at = NULL, draft_claim_token = NULL, \
                 draft_claimed_version = NULL WHERE id = ?2",
            )
            .bind(i64::from(claim.previous_attempts))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
    }
    tx.commit().await.map_err(map_error)?;
    if released {
        store.signal.notify();
    }
    Ok(Settled::Applied)
}

pub async fn redraft(store: &SqliteStore, id: DocumentId) -> StoreResult<Document> {
    let mut tx = store.begin_write().await?;
    let row = sqlx::query(concat!(
        "UPDATE documents SET draft_state = 'pending', draft_attempts = 0, \
         draft_next_attempt_at = NULL, draft_last_error = NULL, draft_lease_owner = NULL, \
         draft_lease_expires_at = NULL, draft_claim_token = NULL, draft_claimed_version = NULL \
         WHERE id = ?1 AND deleted_at IS NULL RETURNING ",
        document_columns!()
    ))
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    let document = decode(&row)?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(document)
}

pub async fn stats(store: &SqliteStore) -> StoreResult<DraftQueueStats> {
    let now = encode_time(store.clock.now());
    let rows = sqlx::query(
        "SELECT draft_state, count(*) AS n FROM documents WHERE deleted_at IS NULL \
         GROUP BY draft_state",
    )
    .fetch_all(&store.reader)
    .await
    .map_err(map_error)?;
    let mut stats = DraftQueueStats::default();
    for row in &rows {
        let state: String = row.try_get("draft_state").map_err(map_error)?;
        let count: i64 = row.try_get("n").map_err(map_error)?;
        stats.by_state.insert(
            crate::codec::parse_enum(&state)?,
            u64::try_from(count).map_err(StoreError::internal)?,
        );
    }
    let row = sqlx::query(
        "SELECT \
           (SELECT count(*) FROM documents WHERE deleted_at IS NULL AND draft_state = 'pending' \
              AND (draft_next_attempt_at IS NULL OR draft_next_attempt_at <= ?1)) AS ready, \
           (SELECT min(draft_next_attempt_at) FROM documents WHERE deleted_at IS NULL \
              AND draft_state = 'pending' AND draft_next_attempt_at > ?1) AS next_retry, \
           (SELECT min(draft_lease_expires_at) FROM documents WHERE deleted_at IS NULL \
              AND draft_state = 'running') AS next_lapse",
    )
    .bind(&now)
    .fetch_one(&store.reader)
    .await
    .map_err(map_error)?;
    let ready: i64 = row.try_get("ready").map_err(map_error)?;
    stats.ready = u64::try_from(ready).map_err(StoreError::internal)?;
    let next_retry = decode_opt_time(row.try_get("next_retry").map_err(map_error)?)?;
    let next_lapse = decode_opt_time(row.try_get("next_lapse").map_err(map_error)?)?;
    stats.next_due = match (next_retry, next_lapse) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(stats)
}

pub async fn select(
    store: &SqliteStore,
    selection: &DraftSelection,
    after: Option<DocumentId>,
    limit: u32,
) -> StoreResult<Vec<DocumentId>> {
    let any_category =
        selection.flagged || selection.failed || selection.prompt_version_not.is_some();
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM documents WHERE deleted_at IS NULL AND id > ?1 \
         AND (md_draft_status IS NULL OR md_draft_status != 'accepted') \
         AND ( \
           (?2 AND json_extract(source_metadata, '$.fidelity.flagged') = 1 \
                AND draft_state = 'done') \
           OR (?3 AND draft_state = 'failed') \
           OR (?4 IS NOT NULL AND draft_state = 'done' \
               AND json_extract(source_metadata, '$.draft.prompt_version') IS NOT ?4) \
           OR (NOT ?5 AND draft_state != 'none')) \
         AND (?6 IS NULL OR json_extract(source_metadata, '$.draft.model') = ?6) \
         AND (?7 IS NULL OR json_extract(source_metadata, '$.drafted_at') >= ?7) \
         AND (?8 IS NULL OR json_extract(source_metadata, '$.drafted_at') < ?8) \
         ORDER BY id LIMIT ?9",
    )
    .bind(after.map_or(0, |id| id.0))
    .bind(selection.flagged)
    .bind(selection.failed)
    .bind(selection.prompt_version_not.as_deref())
    .bind(any_category)
    .bind(selection.model.as_deref())
    .bind(selection.drafted_from.map(encode_time))
    .bind(selection.drafted_before.map(encode_time))
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await
    .map_err(map_error)?;
    Ok(ids.into_iter().map(DocumentId).collect())
}
