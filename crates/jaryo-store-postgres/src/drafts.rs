//! The draft queue on PostgreSQL: claims with leases and fencing tokens, settlement with the
//! no-lost-update check, redraft, stats.
//!
//! Many processes claim from one table at once. A claim selects due rows `FOR UPDATE SKIP
//! LOCKED`, so concurrent claimers take disjoint rows without waiting on each other, and a
//! row another claimer already took is re-checked against its committed state (READ
//! COMMITTED re-evaluates the locked row), so no row is claimed twice. A settlement locks its
//! row before comparing token and version, so it cannot interleave with a patch, a redraft or
//! a takeover of the same document.

use crate::codec::{map_error, parse_enum, to_u32, to_u64};
use crate::documents::{decode, document_columns, metadata_time, not_found};
use crate::{PostgresStore, notify_draft_work};
use jaryo_domain::{Document, DocumentId, DraftState, Timestamp};
use jaryo_store::{
    ClaimRequest, DraftClaim, DraftQueueStats, DraftSelection, Settled, Settlement, StoreError,
    StoreResult,
};
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::types::Json;
use std::time::Duration;

const LEASE_LAPSED_ERROR: &str =
    "the worker drafting this document stopped responding after the last allowed attempt";

fn lease_end(store: &PostgresStore, lease: Duration) -> StoreResult<Timestamp> {
    let lease = chrono::Duration::from_std(lease).map_err(StoreError::internal)?;
    Ok(store.clock.now() + lease)
}

fn attempts_param(n: u32) -> StoreResult<i32> {
    i32::try_from(n).map_err(StoreError::internal)
}

pub async fn claim(store: &PostgresStore, request: &ClaimRequest) -> StoreResult<Vec<DraftClaim>> {
    let now = store.clock.now();
    let expires = lease_end(store, request.lease)?;
    let max_attempts = attempts_param(request.max_attempts)?;
    let mut tx = store.begin_write().await?;
    // Work abandoned by a dead worker after its last allowed attempt ends here, not in an
    // endless cycle of claims. Rows another claimer holds are skipped, not waited for.
    sqlx::query(
        "UPDATE documents SET draft_state = 'failed', draft_last_error = $1, \
         draft_lease_owner = NULL, draft_lease_expires_at = NULL, draft_claim_token = NULL, \
         draft_claimed_version = NULL \
         WHERE id IN (SELECT id FROM documents WHERE deleted_at IS NULL \
             AND draft_state = 'running' AND draft_lease_expires_at <= $2 \
             AND draft_attempts >= $3 FOR UPDATE SKIP LOCKED)",
    )
    .bind(LEASE_LAPSED_ERROR)
    .bind(now)
    .bind(max_attempts)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    // The attempts bound on lapsed leases repeats the statement above: a row skipped there
    // because another claimer held it must not be claimed here past its last attempt.
    let rows = sqlx::query(
        "UPDATE documents AS d SET draft_state = 'running', \
         draft_attempts = d.draft_attempts + 1, draft_lease_owner = $1, \
         draft_lease_expires_at = $2, \
         draft_claim_token = replace(gen_random_uuid()::text, '-', ''), \
         draft_claimed_version = d.version \
         FROM (SELECT id FROM documents WHERE deleted_at IS NULL AND ( \
                 (draft_state = 'pending' AND (draft_next_attempt_at IS NULL \
                                               OR draft_next_attempt_at <= $3)) \
                 OR (draft_state = 'running' AND draft_lease_expires_at <= $3 \
                     AND draft_attempts < $5)) \
               ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) AS due \
         WHERE d.id = due.id \
         RETURNING d.id, d.draft_claim_token, d.version, d.title, \
                   COALESCE(d.extracted_text, d.md_content, '') AS text, d.draft_attempts",
    )
    .bind(&request.owner)
    .bind(expires)
    .bind(now)
    .bind(i64::from(request.limit))
    .bind(max_attempts)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    let mut claims = rows
        .iter()
        .map(|row| {
            let attempts: i32 = row.try_get("draft_attempts").map_err(map_error)?;
            Ok(DraftClaim {
                document_id: DocumentId(row.try_get("id").map_err(map_error)?),
                token: row.try_get("draft_claim_token").map_err(map_error)?,
                version: row.try_get("version").map_err(map_error)?,
                title: row.try_get("title").map_err(map_error)?,
                text: row.try_get("text").map_err(map_error)?,
                previous_attempts: to_u32(attempts - 1)?,
                lease_expires_at: expires,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    claims.sort_by_key(|claim| claim.document_id);
    Ok(claims)
}

pub async fn renew(
    store: &PostgresStore,
    claim: &DraftClaim,
    lease: Duration,
) -> StoreResult<bool> {
    let expires = lease_end(store, lease)?;
    let mut tx = store.begin_write().await?;
    let renewed = sqlx::query(
        "UPDATE documents SET draft_lease_expires_at = $1 \
         WHERE id = $2 AND draft_claim_token = $3 AND draft_state = 'running'",
    )
    .bind(expires)
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
pub async fn release_dead_leases(store: &PostgresStore, predecessor: &str) -> StoreResult<u64> {
    let mut tx = store.begin_write().await?;
    let released = sqlx::query(
        "UPDATE documents SET draft_state = 'pending', \
         draft_attempts = GREATEST(draft_attempts - 1, 0), draft_next_attempt_at = NULL, \
         draft_lease_owner = NULL, draft_lease_expires_at = NULL, draft_claim_token = NULL, \
         draft_claimed_version = NULL \
         WHERE draft_state = 'running' AND substr(draft_lease_owner, 1, length($1) + 1) = $1 || '@'",
    )
    .bind(predecessor)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?
    .rows_affected();
    if released > 0 {
        sqlx::query("SELECT pg_notify('jaryo_drafts', '')")
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
    }
    tx.commit().await.map_err(map_error)?;
    if released > 0 {
        store.signal.notify();
    }
    Ok(released)
}

pub async fn settle(
    store: &PostgresStore,
    claim: &DraftClaim,
    settlement: &Settlement,
) -> StoreResult<Settled> {
    let now = store.clock.now();
    let id = claim.document_id.0;
    let mut tx = store.begin_write().await?;
    let row = sqlx::query(
        "SELECT version, deleted_at, draft_state, draft_claim_token, source_metadata \
         FROM documents WHERE id = $1 FOR UPDATE",
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
    let deleted_at: Option<Timestamp> = row.try_get("deleted_at").map_err(map_error)?;
    if deleted_at.is_some() {
        sqlx::query(
            "UPDATE documents SET draft_state = 'none', draft_lease_owner = NULL, \
             draft_lease_expires_at = NULL, draft_claim_token = NULL, \
             draft_claimed_version = NULL WHERE id = $1",
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
             draft_claimed_version = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        notify_draft_work(&mut tx, claim.document_id).await?;
        tx.commit().await.map_err(map_error)?;
        store.signal.notify();
        return Ok(Settled::Requeued);
    }
    let Json(mut metadata): Json<Map<String, Value>> =
        row.try_get("source_metadata").map_err(map_error)?;
    let released = matches!(settlement, Settlement::Released);
    match settlement {
        Settlement::Drafted {
            markdown,
            metadata: extra,
            model_calls,
        } => {
            metadata.extend(extra.clone());
            sqlx::query(
                "UPDATE documents SET md_content = $1, content_origin = 'ai_drafted', \
                 md_draft_status = 'draft', md_status = 'success', \
                 md_extraction_engine = 'ai_draft', md_generated_at = $2, source_metadata = $3, \
                 updated_at = $2, version = version + 1, draft_state = 'done', \
                 draft_last_error = NULL, draft_next_attempt_at = NULL, \
                 draft_lease_owner = NULL, draft_lease_expires_at = NULL, \
                 draft_claim_token = NULL, draft_claimed_version = NULL, draft_attempts = $5 \
                 WHERE id = $4",
            )
            .bind(markdown)
            .bind(now)
            .bind(Json(metadata))
            .bind(id)
            .bind(attempts_param(
                claim.previous_attempts + (*model_calls).max(1),
            )?)
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
                    "at": metadata_time(now),
                }),
            );
            let attempts = if *model_called {
                claim.attempt()
            } else {
                claim.previous_attempts
            };
            sqlx::query(
                "UPDATE documents SET draft_state = 'skipped', draft_attempts = $1, \
                 draft_last_error = NULL, draft_next_attempt_at = NULL, source_metadata = $2, \
                 updated_at = $3, draft_lease_owner = NULL, draft_lease_expires_at = NULL, \
                 draft_claim_token = NULL, draft_claimed_version = NULL WHERE id = $4",
            )
            .bind(attempts_param(attempts)?)
            .bind(Json(metadata))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Settlement::RetryLater { error, at } => {
            sqlx::query(
                "UPDATE documents SET draft_state = 'pending', draft_last_error = $1, \
                 draft_next_attempt_at = $2, draft_lease_owner = NULL, \
                 draft_lease_expires_at = NULL, draft_claim_token = NULL, \
                 draft_claimed_version = NULL WHERE id = $3",
            )
            .bind(error)
            .bind(*at)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Settlement::Failed { error } => {
            sqlx::query(
                "UPDATE documents SET draft_state = 'failed', draft_last_error = $1, \
                 draft_next_attempt_at = NULL, draft_lease_owner = NULL, \
                 draft_lease_expires_at = NULL, draft_claim_token = NULL, \
                 draft_claimed_version = NULL WHERE id = $2",
            )
            .bind(error)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        }
        Settlement::Released => {
            sqlx::query(
                "UPDATE documents SET draft_state = 'pending', draft_attempts = $1, \
                 draft_next_attempt_at = NULL, draft_lease_owner = NULL, \
                 draft_lease_expires_at = NULL, draft_claim_token = NULL, \
                 draft_claimed_version = NULL WHERE id = $2",
            )
            .bind(attempts_param(claim.previous_attempts)?)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
            notify_draft_work(&mut tx, claim.document_id).await?;
        }
    }
    tx.commit().await.map_err(map_error)?;
    if released {
        store.signal.notify();
    }
    Ok(Settled::Applied)
}

pub async fn redraft(store: &PostgresStore, id: DocumentId) -> StoreResult<Document> {
    let mut tx = store.begin_write().await?;
    let row = sqlx::query(concat!(
        "UPDATE documents SET draft_state = 'pending', draft_attempts = 0, \
         draft_next_attempt_at = NULL, draft_last_error = NULL, draft_lease_owner = NULL, \
         draft_lease_expires_at = NULL, draft_claim_token = NULL, draft_claimed_version = NULL \
         WHERE id = $1 AND deleted_at IS NULL RETURNING ",
        document_columns!()
    ))
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    let document = decode(&row)?;
    notify_draft_work(&mut tx, id).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(document)
}

pub async fn stats(store: &PostgresStore) -> StoreResult<DraftQueueStats> {
    let now = store.clock.now();
    let rows = sqlx::query(
        "SELECT draft_state, count(*) AS n FROM documents WHERE deleted_at IS NULL \
         GROUP BY draft_state",
    )
    .fetch_all(&store.pool)
    .await
    .map_err(map_error)?;
    let mut stats = DraftQueueStats::default();
    for row in &rows {
        let state: String = row.try_get("draft_state").map_err(map_error)?;
        let count: i64 = row.try_get("n").map_err(map_error)?;
        stats.by_state.insert(parse_enum(&state)?, to_u64(count)?);
    }
    let row = sqlx::query(
        "SELECT \
           (SELECT count(*) FROM documents WHERE deleted_at IS NULL AND draft_state = 'pending' \
              AND (draft_next_attempt_at IS NULL OR draft_next_attempt_at <= $1)) AS ready, \
           (SELECT min(draft_next_attempt_at) FROM documents WHERE deleted_at IS NULL \
              AND draft_state = 'pending' AND draft_next_attempt_at > $1) AS next_retry, \
           (SELECT min(draft_lease_expires_at) FROM documents WHERE deleted_at IS NULL \
              AND draft_state = 'running') AS next_lapse",
    )
    .bind(now)
    .fetch_one(&store.pool)
    .await
    .map_err(map_error)?;
    stats.ready = to_u64(row.try_get("ready").map_err(map_error)?)?;
    let next_retry: Option<Timestamp> = row.try_get("next_retry").map_err(map_error)?;
    let next_lapse: Option<Timestamp> = row.try_get("next_lapse").map_err(map_error)?;
    stats.next_due = match (next_retry, next_lapse) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(stats)
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
        "SELECT id FROM documents WHERE deleted_at IS NULL AND id > $1 \
         AND (md_draft_status IS NULL OR md_draft_status <> 'accepted') \
         AND ( \
           ($2 AND source_metadata #> '{fidelity,flagged}' IN ('true'::jsonb, '1'::jsonb) \
               AND draft_state = 'done') \
           OR ($3 AND draft_state = 'failed') \
           OR ($4::text IS NOT NULL AND draft_state = 'done' \
               AND source_metadata #>> '{draft,prompt_version}' IS DISTINCT FROM $4) \
           OR (NOT $5 AND draft_state <> 'none')) \
         AND ($6::text IS NULL OR source_metadata #>> '{draft,model}' = $6) \
         AND ($7::text IS NULL OR source_metadata ->> 'drafted_at' >= $7) \
         AND ($8::text IS NULL OR source_metadata ->> 'drafted_at' < $8) \
         ORDER BY id LIMIT $9",
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
