//! The job queue on SQLite: claims, leases and fences, settlement, pauses and counts, in the
//! `jobs` and `job_pauses` tables. The rules are `jaryo_store::jobs`'s; this module reads
//! rows and writes their plans.
//!
//! Each call is one `BEGIN IMMEDIATE` transaction on the one write connection, so a claim and
//! the reads it depends on cannot interleave with another claim, in this process or another
//! on the same file: the single writer is the queue's lock.

use crate::SqliteStore;
use crate::codec::{decode_opt_time, encode_time, map_error, parse_enum};
use jaryo_domain::{DocumentId, Timestamp};
use jaryo_store::jobs::{
    JobRow, JobWrite, SettlePlan, SubjectRow, earliest, lapsed_after_last_attempt, lease_end,
    plan_settle,
};
use jaryo_store::{
    ClaimRequest, JobClaim, JobId, JobKind, JobOutcome, JobPause, JobQueueStats, JobState, Settled,
    StoreError, StoreResult,
};
use sqlx::{Row, SqliteConnection};
use std::time::Duration;

fn count(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(StoreError::internal)
}

/// Claims due jobs of `kind` inside the caller's write transaction.
pub(crate) async fn claim_in(
    conn: &mut SqliteConnection,
    kind: JobKind,
    request: &ClaimRequest,
    now: Timestamp,
) -> StoreResult<Vec<JobClaim>> {
    let expires = lease_end(now, request.lease)?;
    let now_text = encode_time(now);
    // Work abandoned by a dead worker after its last allowed attempt ends here, not in an
    // endless cycle of claims.
    sqlx::query(
        "UPDATE jobs SET state = 'failed', last_error = ?1, lease_owner = NULL, \
         lease_expires_at = NULL \
         WHERE kind = ?4 AND state = 'running' AND lease_expires_at <= ?2 AND attempts >= ?3",
    )
    .bind(lapsed_after_last_attempt(kind))
    .bind(&now_text)
    .bind(i64::from(request.max_attempts))
    .bind(kind.as_str())
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    let rows = sqlx::query(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?1, \
         lease_expires_at = ?2, fence = fence + 1, \
         subject_version = (SELECT version FROM documents d WHERE d.id = jobs.document_id) \
         WHERE id IN (SELECT j.id FROM jobs j JOIN documents d ON d.id = j.document_id \
             WHERE j.kind = ?5 AND d.deleted_at IS NULL AND ( \
                 (j.state = 'pending' AND (j.next_attempt_at IS NULL OR j.next_attempt_at <= ?3)) \
                 OR (j.state = 'running' AND j.lease_expires_at <= ?3)) \
             AND NOT EXISTS (SELECT 1 FROM job_pauses p WHERE p.kind = j.kind AND p.until > ?3) \
             ORDER BY j.priority DESC, j.document_id LIMIT ?4) \
         RETURNING id, document_id, subject_version, fence, attempts, priority",
    )
    .bind(&request.owner)
    .bind(encode_time(expires))
    .bind(&now_text)
    .bind(i64::from(request.limit))
    .bind(kind.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    let mut claims = Vec::with_capacity(rows.len());
    let mut order = Vec::with_capacity(rows.len());
    for row in &rows {
        let attempts: i64 = row.try_get("attempts").map_err(map_error)?;
        let priority: i64 = row.try_get("priority").map_err(map_error)?;
        let claim = JobClaim {
            job: JobId(row.try_get("id").map_err(map_error)?),
            kind,
            document_id: DocumentId(row.try_get("document_id").map_err(map_error)?),
            version: row.try_get("subject_version").map_err(map_error)?,
            fence: row.try_get("fence").map_err(map_error)?,
            previous_attempts: count(attempts - 1)?,
            lease_expires_at: expires,
        };
        order.push((-priority, claim.document_id));
        claims.push(claim);
    }
    // RETURNING gives rows in no promised order: hand them out in the claim order.
    let mut ordered: Vec<_> = order.into_iter().zip(claims).collect();
    ordered.sort_by_key(|(key, _)| *key);
    Ok(ordered.into_iter().map(|(_, claim)| claim).collect())
}

pub async fn claim(
    store: &SqliteStore,
    kind: JobKind,
    request: &ClaimRequest,
) -> StoreResult<Vec<JobClaim>> {
    let mut tx = store.begin_write().await?;
    let claims = claim_in(&mut tx, kind, request, store.clock.now()).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(claims)
}

pub async fn renew(store: &SqliteStore, claim: &JobClaim, lease: Duration) -> StoreResult<bool> {
    let expires = lease_end(store.clock.now(), lease)?;
    let mut tx = store.begin_write().await?;
    let renewed = sqlx::query(
        "UPDATE jobs SET lease_expires_at = ?1 WHERE id = ?2 AND fence = ?3 AND state = 'running'",
    )
    .bind(encode_time(expires))
    .bind(claim.job.0)
    .bind(claim.fence)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?
    .rows_affected();
    tx.commit().await.map_err(map_error)?;
    Ok(renewed == 1)
}

/// Reads what a settlement of `claim` decides on and plans it, inside the caller's write
/// transaction.
pub(crate) async fn plan_in(
    conn: &mut SqliteConnection,
    claim: &JobClaim,
    outcome: &JobOutcome,
) -> StoreResult<SettlePlan> {
    let row = sqlx::query(
        "SELECT j.state, j.fence, d.version, d.deleted_at FROM jobs j \
         LEFT JOIN documents d ON d.id = j.document_id WHERE j.id = ?1",
    )
    .bind(claim.job.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_error)?;
    let Some(row) = row else {
        return Ok(plan_settle(claim, None, None, outcome));
    };
    let state: String = row.try_get("state").map_err(map_error)?;
    let job = JobRow {
        state: parse_enum(&state)?,
        fence: row.try_get("fence").map_err(map_error)?,
    };
    let version: Option<i64> = row.try_get("version").map_err(map_error)?;
    let deleted_at: Option<String> = row.try_get("deleted_at").map_err(map_error)?;
    let subject = version.map(|version| SubjectRow {
        version,
        deleted: deleted_at.is_some(),
    });
    Ok(plan_settle(claim, Some(&job), subject, outcome))
}

/// Writes the job's part of a settlement plan; whether the workers should be woken.
pub(crate) async fn write_plan(
    conn: &mut SqliteConnection,
    job: JobId,
    plan: &SettlePlan,
) -> StoreResult<bool> {
    match plan {
        SettlePlan::Refuse => Ok(false),
        SettlePlan::Drop => {
            sqlx::query("DELETE FROM jobs WHERE id = ?1")
                .bind(job.0)
                .execute(&mut *conn)
                .await
                .map_err(map_error)?;
            Ok(false)
        }
        SettlePlan::Requeue => {
            requeue(conn, job).await?;
            Ok(true)
        }
        SettlePlan::Apply { job: write, wake } => {
            write_job(conn, job, write).await?;
            Ok(*wake)
        }
    }
}

async fn write_job(conn: &mut SqliteConnection, job: JobId, write: &JobWrite) -> StoreResult<()> {
    sqlx::query(
        "UPDATE jobs SET state = ?1, attempts = ?2, last_error = ?3, next_attempt_at = ?4, \
         lease_owner = NULL, lease_expires_at = NULL WHERE id = ?5",
    )
    .bind(write.state.as_str())
    .bind(i64::from(write.attempts))
    .bind(write.last_error.as_deref())
    .bind(write.next_attempt_at.map(encode_time))
    .bind(job.0)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

async fn requeue(conn: &mut SqliteConnection, job: JobId) -> StoreResult<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = NULL, \
         last_error = NULL, lease_owner = NULL, lease_expires_at = NULL, fence = fence + 1 \
         WHERE id = ?1",
    )
    .bind(job.0)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn settle(
    store: &SqliteStore,
    claim: &JobClaim,
    outcome: &JobOutcome,
) -> StoreResult<Settled> {
    let mut tx = store.begin_write().await?;
    let plan = plan_in(&mut tx, claim, outcome).await?;
    let wake = write_plan(&mut tx, claim.job, &plan).await?;
    tx.commit().await.map_err(map_error)?;
    if wake {
        store.signal.notify();
    }
    Ok(plan.settled())
}

/// Queues fresh work of `kind` on `document` inside the caller's write transaction: a new
/// job, or the existing one from scratch with its fence moved on (a running claim of it is
/// then refused when it settles).
pub(crate) async fn enqueue_in(
    conn: &mut SqliteConnection,
    kind: JobKind,
    document: DocumentId,
    priority: i32,
) -> StoreResult<JobId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (kind, document_id, state, priority) VALUES (?1, ?2, 'pending', ?3) \
         ON CONFLICT (kind, document_id) DO UPDATE SET state = 'pending', attempts = 0, \
         next_attempt_at = NULL, last_error = NULL, lease_owner = NULL, \
         lease_expires_at = NULL, fence = jobs.fence + 1, priority = excluded.priority \
         RETURNING id",
    )
    .bind(kind.as_str())
    .bind(document.0)
    .bind(priority)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(JobId(id))
}

pub async fn enqueue(
    store: &SqliteStore,
    kind: JobKind,
    document: DocumentId,
    priority: i32,
) -> StoreResult<JobId> {
    let mut tx = store.begin_write().await?;
    let live: Option<i64> =
        sqlx::query_scalar("SELECT id FROM documents WHERE id = ?1 AND deleted_at IS NULL")
            .bind(document.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?;
    if live.is_none() {
        return Err(crate::documents::not_found(document));
    }
    let job = enqueue_in(&mut tx, kind, document, priority).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(job)
}

/// Puts a dead predecessor's running jobs back in the queue, un-counting the attempt its
/// claims counted (the process died; the work did not fail).
pub async fn release_dead_leases(store: &SqliteStore, predecessor: &str) -> StoreResult<u64> {
    let mut tx = store.begin_write().await?;
    let released = sqlx::query(
        "UPDATE jobs SET state = 'pending', attempts = MAX(attempts - 1, 0), \
         next_attempt_at = NULL, lease_owner = NULL, lease_expires_at = NULL \
         WHERE state = 'running' AND substr(lease_owner, 1, length(?1) + 1) = ?1 || '@'",
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

pub async fn pause(store: &SqliteStore, kind: JobKind, pause: &JobPause) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO job_pauses (kind, reason, until) VALUES (?1, ?2, ?3) \
         ON CONFLICT (kind) DO UPDATE SET reason = excluded.reason, until = excluded.until",
    )
    .bind(kind.as_str())
    .bind(&pause.reason)
    .bind(encode_time(pause.until))
    .execute(&mut *tx)
    .await
    .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}

pub async fn resume(store: &SqliteStore, kind: JobKind) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM job_pauses WHERE kind = ?1")
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(())
}

pub async fn stats(store: &SqliteStore, kind: JobKind) -> StoreResult<JobQueueStats> {
    let now = encode_time(store.clock.now());
    let rows = sqlx::query(
        "SELECT COALESCE(j.state, 'none') AS state, count(*) AS n FROM documents d \
         LEFT JOIN jobs j ON j.document_id = d.id AND j.kind = ?1 \
         WHERE d.deleted_at IS NULL GROUP BY 1",
    )
    .bind(kind.as_str())
    .fetch_all(&store.reader)
    .await
    .map_err(map_error)?;
    let mut stats = JobQueueStats::default();
    for row in &rows {
        let state: String = row.try_get("state").map_err(map_error)?;
        let n: i64 = row.try_get("n").map_err(map_error)?;
        stats.by_state.insert(
            parse_enum::<JobState>(&state)?,
            u64::try_from(n).map_err(StoreError::internal)?,
        );
    }
    let row = sqlx::query(
        "SELECT \
           (SELECT count(*) FROM jobs j JOIN documents d ON d.id = j.document_id \
              WHERE j.kind = ?2 AND d.deleted_at IS NULL AND j.state = 'pending' \
              AND (j.next_attempt_at IS NULL OR j.next_attempt_at <= ?1)) AS ready, \
           (SELECT min(j.next_attempt_at) FROM jobs j JOIN documents d ON d.id = j.document_id \
              WHERE j.kind = ?2 AND d.deleted_at IS NULL AND j.state = 'pending' \
              AND j.next_attempt_at > ?1) AS next_retry, \
           (SELECT min(j.lease_expires_at) FROM jobs j JOIN documents d ON d.id = j.document_id \
              WHERE j.kind = ?2 AND d.deleted_at IS NULL AND j.state = 'running') AS next_lapse, \
           (SELECT reason FROM job_pauses WHERE kind = ?2 AND until > ?1) AS paused_for, \
           (SELECT until FROM job_pauses WHERE kind = ?2 AND until > ?1) AS paused_until",
    )
    .bind(&now)
    .bind(kind.as_str())
    .fetch_one(&store.reader)
    .await
    .map_err(map_error)?;
    let ready: i64 = row.try_get("ready").map_err(map_error)?;
    stats.ready = u64::try_from(ready).map_err(StoreError::internal)?;
    stats.next_due = earliest(
        decode_opt_time(row.try_get("next_retry").map_err(map_error)?)?,
        decode_opt_time(row.try_get("next_lapse").map_err(map_error)?)?,
    );
    let reason: Option<String> = row.try_get("paused_for").map_err(map_error)?;
    let until = decode_opt_time(row.try_get("paused_until").map_err(map_error)?)?;
    stats.paused = reason
        .zip(until)
        .map(|(reason, until)| JobPause { reason, until });
    Ok(stats)
}
