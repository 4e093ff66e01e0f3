//! The job queue on PostgreSQL: claims, leases and fences, settlement, pauses and counts, in
//! the `jobs` and `job_pauses` tables. The rules are `jaryo_store::jobs`'s; this module reads
//! rows and writes their plans.
//!
//! Many processes claim from one table at once. A claim selects due rows `FOR UPDATE SKIP
//! LOCKED`, so concurrent claimers take disjoint jobs without waiting on each other, and a
//! row another claimer already took is re-checked against its committed state (READ COMMITTED
//! re-evaluates the locked row), so no job is claimed twice. A settlement locks the document,
//! then the job (the order every write that touches both keeps), before it decides, so it
//! cannot interleave with a patch, a re-queue or a takeover. Writes that make work ready send
//! `NOTIFY jaryo_jobs` in their transaction (see `listener`).

use crate::PostgresStore;
use crate::codec::{map_error, parse_enum, to_u32, to_u64};
use jaryo_domain::{DocumentId, Timestamp};
use jaryo_store::jobs::{
    JobRow, JobWrite, SettlePlan, SubjectRow, earliest, lapsed_after_last_attempt, lease_end,
    plan_settle,
};
use jaryo_store::{
    ClaimRequest, JobClaim, JobId, JobKind, JobOutcome, JobPause, JobQueueStats, Settled,
    StoreError, StoreResult,
};
use sqlx::{PgConnection, Row};
use std::time::Duration;

fn attempts_param(n: u32) -> StoreResult<i32> {
    i32::try_from(n).map_err(StoreError::internal)
}

/// Queues a wake-up for every listening store; PostgreSQL delivers it when the transaction
/// commits, and drops it if it rolls back.
pub(crate) async fn notify_work(conn: &mut PgConnection, kind: JobKind) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify('jaryo_jobs', $1)")
        .bind(kind.as_str())
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

/// Claims due jobs of `kind` inside the caller's transaction.
pub(crate) async fn claim_in(
    conn: &mut PgConnection,
    kind: JobKind,
    request: &ClaimRequest,
    now: Timestamp,
) -> StoreResult<Vec<JobClaim>> {
    let expires = lease_end(now, request.lease)?;
    let max_attempts = attempts_param(request.max_attempts)?;
    // Work abandoned by a dead worker after its last allowed attempt ends here, not in an
    // endless cycle of claims. Rows another claimer holds are skipped, not waited for.
    sqlx::query(
        "UPDATE jobs SET state = 'failed', last_error = $1, lease_owner = NULL, \
         lease_expires_at = NULL \
         WHERE id IN (SELECT id FROM jobs WHERE kind = $4 AND state = 'running' \
             AND lease_expires_at <= $2 AND attempts >= $3 FOR UPDATE SKIP LOCKED)",
    )
    .bind(lapsed_after_last_attempt(kind))
    .bind(now)
    .bind(max_attempts)
    .bind(kind.as_str())
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    // The attempts bound on lapsed leases repeats the statement above: a row skipped there
    // because another claimer held it must not be claimed here past its last attempt.
    let rows = sqlx::query(
        "UPDATE jobs AS j SET state = 'running', attempts = j.attempts + 1, lease_owner = $1, \
         lease_expires_at = $2, fence = j.fence + 1, subject_version = due.version \
         FROM (SELECT q.id, d.version FROM jobs q JOIN documents d ON d.id = q.document_id \
               WHERE q.kind = $6 AND d.deleted_at IS NULL AND ( \
                 (q.state = 'pending' AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= $3)) \
                 OR (q.state = 'running' AND q.lease_expires_at <= $3 AND q.attempts < $5)) \
               AND NOT EXISTS (SELECT 1 FROM job_pauses p WHERE p.kind = q.kind AND p.until > $3) \
               ORDER BY q.priority DESC, q.document_id LIMIT $4 FOR UPDATE OF q SKIP LOCKED) AS due \
         WHERE j.id = due.id \
         RETURNING j.id, j.document_id, j.subject_version, j.fence, j.attempts, j.priority",
    )
    .bind(&request.owner)
    .bind(expires)
    .bind(now)
    .bind(i64::from(request.limit))
    .bind(max_attempts)
    .bind(kind.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    let mut claims = rows
        .iter()
        .map(|row| {
            let attempts: i32 = row.try_get("attempts").map_err(map_error)?;
            let priority: i32 = row.try_get("priority").map_err(map_error)?;
            let claim = JobClaim {
                job: JobId(row.try_get("id").map_err(map_error)?),
                kind,
                document_id: DocumentId(row.try_get("document_id").map_err(map_error)?),
                version: row.try_get("subject_version").map_err(map_error)?,
                fence: row.try_get("fence").map_err(map_error)?,
                previous_attempts: to_u32(attempts - 1)?,
                lease_expires_at: expires,
            };
            Ok((priority, claim))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    // RETURNING gives rows in no promised order: hand them out in the claim order.
    claims.sort_by_key(|(priority, claim)| (-priority, claim.document_id));
    Ok(claims.into_iter().map(|(_, claim)| claim).collect())
}

pub async fn claim(
    store: &PostgresStore,
    kind: JobKind,
    request: &ClaimRequest,
) -> StoreResult<Vec<JobClaim>> {
    let mut tx = store.begin_write().await?;
    let claims = claim_in(&mut tx, kind, request, store.clock.now()).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(claims)
}

pub async fn renew(store: &PostgresStore, claim: &JobClaim, lease: Duration) -> StoreResult<bool> {
    let expires = lease_end(store.clock.now(), lease)?;
    let renewed = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND fence = $3 AND state = 'running'",
    )
    .bind(expires)
    .bind(claim.job.0)
    .bind(claim.fence)
    .execute(&store.pool)
    .await
    .map_err(map_error)?
    .rows_affected();
    Ok(renewed == 1)
}

/// Locks the document and then the job of `claim`, and plans the settlement, inside the
/// caller's transaction.
pub(crate) async fn plan_in(
    conn: &mut PgConnection,
    claim: &JobClaim,
    outcome: &JobOutcome,
) -> StoreResult<SettlePlan> {
    let subject = sqlx::query(
        "SELECT version, deleted_at IS NOT NULL AS deleted FROM documents WHERE id = $1 \
         FOR UPDATE",
    )
    .bind(claim.document_id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_error)?
    .map(|row| -> StoreResult<SubjectRow> {
        Ok(SubjectRow {
            version: row.try_get("version").map_err(map_error)?,
            deleted: row.try_get("deleted").map_err(map_error)?,
        })
    })
    .transpose()?;
    let job = sqlx::query("SELECT state, fence FROM jobs WHERE id = $1 FOR UPDATE")
        .bind(claim.job.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error)?
        .map(|row| -> StoreResult<JobRow> {
            let state: String = row.try_get("state").map_err(map_error)?;
            Ok(JobRow {
                state: parse_enum(&state)?,
                fence: row.try_get("fence").map_err(map_error)?,
            })
        })
        .transpose()?;
    Ok(plan_settle(claim, job.as_ref(), subject, outcome))
}

/// Writes the job's part of a settlement plan, with its wake-up; whether this process's
/// workers should be woken too.
pub(crate) async fn write_plan(
    conn: &mut PgConnection,
    claim: &JobClaim,
    plan: &SettlePlan,
) -> StoreResult<bool> {
    let wake = match plan {
        SettlePlan::Refuse => false,
        SettlePlan::Drop => {
            sqlx::query("DELETE FROM jobs WHERE id = $1")
                .bind(claim.job.0)
                .execute(&mut *conn)
                .await
                .map_err(map_error)?;
            false
        }
        SettlePlan::Requeue => {
            sqlx::query(
                "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = NULL, \
                 last_error = NULL, lease_owner = NULL, lease_expires_at = NULL, \
                 fence = fence + 1 WHERE id = $1",
            )
            .bind(claim.job.0)
            .execute(&mut *conn)
            .await
            .map_err(map_error)?;
            true
        }
        SettlePlan::Apply { job, wake } => {
            write_job(conn, claim.job, job).await?;
            *wake
        }
    };
    if wake {
        notify_work(conn, claim.kind).await?;
    }
    Ok(wake)
}

async fn write_job(conn: &mut PgConnection, job: JobId, write: &JobWrite) -> StoreResult<()> {
    sqlx::query(
        "UPDATE jobs SET state = $1, attempts = $2, last_error = $3, next_attempt_at = $4, \
         lease_owner = NULL, lease_expires_at = NULL WHERE id = $5",
    )
    .bind(write.state.as_str())
    .bind(attempts_param(write.attempts)?)
    .bind(write.last_error.as_deref())
    .bind(write.next_attempt_at)
    .bind(job.0)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn settle(
    store: &PostgresStore,
    claim: &JobClaim,
    outcome: &JobOutcome,
) -> StoreResult<Settled> {
    let mut tx = store.begin_write().await?;
    let plan = plan_in(&mut tx, claim, outcome).await?;
    let wake = write_plan(&mut tx, claim, &plan).await?;
    tx.commit().await.map_err(map_error)?;
    if wake {
        store.signal.notify();
    }
    Ok(plan.settled())
}

/// Queues fresh work of `kind` on `document` inside the caller's transaction, which holds the
/// document's row lock: a new job, or the existing one from scratch with its fence moved on
/// (a running claim of it is then refused when it settles). Sends the wake-up.
pub(crate) async fn enqueue_in(
    conn: &mut PgConnection,
    kind: JobKind,
    document: DocumentId,
    priority: i32,
) -> StoreResult<JobId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (kind, document_id, state, priority) VALUES ($1, $2, 'pending', $3) \
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
    notify_work(conn, kind).await?;
    Ok(JobId(id))
}

/// Locks a live document's row for a write that queues work on it.
pub(crate) async fn lock_live(conn: &mut PgConnection, document: DocumentId) -> StoreResult<()> {
    let live: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM documents WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(document.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_error)?;
    live.map(|_| ())
        .ok_or_else(|| crate::documents::not_found(document))
}

pub async fn enqueue(
    store: &PostgresStore,
    kind: JobKind,
    document: DocumentId,
    priority: i32,
) -> StoreResult<JobId> {
    let mut tx = store.begin_write().await?;
    lock_live(&mut tx, document).await?;
    let job = enqueue_in(&mut tx, kind, document, priority).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(job)
}

/// Puts a dead predecessor's running jobs back in the queue, un-counting the attempt its
/// claims counted (the process died; the work did not fail).
pub async fn release_dead_leases(store: &PostgresStore, predecessor: &str) -> StoreResult<u64> {
    let mut tx = store.begin_write().await?;
    let released = sqlx::query(
        "UPDATE jobs SET state = 'pending', attempts = GREATEST(attempts - 1, 0), \
         next_attempt_at = NULL, lease_owner = NULL, lease_expires_at = NULL \
         WHERE state = 'running' AND substr(lease_owner, 1, length($1) + 1) = $1 || '@'",
    )
    .bind(predecessor)
    .execute(&mut *tx)
    .await
    .map_err(map_error)?
    .rows_affected();
    if released > 0 {
        notify_work(&mut tx, JobKind::Draft).await?;
    }
    tx.commit().await.map_err(map_error)?;
    if released > 0 {
        store.signal.notify();
    }
    Ok(released)
}

pub async fn pause(store: &PostgresStore, kind: JobKind, pause: &JobPause) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO job_pauses (kind, reason, until) VALUES ($1, $2, $3) \
         ON CONFLICT (kind) DO UPDATE SET reason = excluded.reason, until = excluded.until",
    )
    .bind(kind.as_str())
    .bind(&pause.reason)
    .bind(pause.until)
    .execute(&store.pool)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn resume(store: &PostgresStore, kind: JobKind) -> StoreResult<()> {
    let mut tx = store.begin_write().await?;
    sqlx::query("DELETE FROM job_pauses WHERE kind = $1")
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    notify_work(&mut tx, kind).await?;
    tx.commit().await.map_err(map_error)?;
    store.signal.notify();
    Ok(())
}

pub async fn stats(store: &PostgresStore, kind: JobKind) -> StoreResult<JobQueueStats> {
    let now = store.clock.now();
    let rows = sqlx::query(
        "SELECT COALESCE(j.state, 'none') AS state, count(*) AS n FROM documents d \
         LEFT JOIN jobs j ON j.document_id = d.id AND j.kind = $1 \
         WHERE d.deleted_at IS NULL GROUP BY 1",
    )
    .bind(kind.as_str())
    .fetch_all(&store.pool)
    .await
    .map_err(map_error)?;
    let mut stats = JobQueueStats::default();
    for row in &rows {
        let state: String = row.try_get("state").map_err(map_error)?;
        let n: i64 = row.try_get("n").map_err(map_error)?;
        stats.by_state.insert(parse_enum(&state)?, to_u64(n)?);
    }
    let row = sqlx::query(
        "SELECT \
           (SELECT count(*) FROM jobs j JOIN documents d ON d.id = j.document_id \
              WHERE j.kind = $2 AND d.deleted_at IS NULL AND j.state = 'pending' \
              AND (j.next_attempt_at IS NULL OR j.next_attempt_at <= $1)) AS ready, \
           (SELECT min(j.next_attempt_at) FROM jobs j JOIN documents d ON d.id = j.document_id \
              WHERE j.kind = $2 AND d.deleted_at IS NULL AND j.state = 'pending' \
              AND j.next_attempt_at > $1) AS next_retry, \
           (SELECT min(j.lease_expires_at) FROM jobs j JOIN documents d ON d.id = j.document_id \
              WHERE j.kind = $2 AND d.deleted_at IS NULL AND j.state = 'running') AS next_lapse, \
           (SELECT reason FROM job_pauses WHERE kind = $2 AND until > $1) AS paused_for, \
           (SELECT until FROM job_pauses WHERE kind = $2 AND until > $1) AS paused_until",
    )
    .bind(now)
    .bind(kind.as_str())
    .fetch_one(&store.pool)
    .await
    .map_err(map_error)?;
    stats.ready = to_u64(row.try_get("ready").map_err(map_error)?)?;
    stats.next_due = earliest(
        row.try_get("next_retry").map_err(map_error)?,
        row.try_get("next_lapse").map_err(map_error)?,
    );
    let reason: Option<String> = row.try_get("paused_for").map_err(map_error)?;
    let until: Option<Timestamp> = row.try_get("paused_until").map_err(map_error)?;
    stats.paused = reason
        .zip(until)
        .map(|(reason, until)| JobPause { reason, until });
    Ok(stats)
}
