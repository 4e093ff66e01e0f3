//! The job queue: one mechanism for every kind of derived work (drafts now; text extraction,
//! embeddings and imports next).
//!
//! A job is one piece of work of one [`JobKind`] about one subject, a document: at most one
//! row per kind and document, in each store's `jobs` table, kept after it ends so its outcome
//! stays inspectable (a document's `draft` object is its draft job). A worker claims due
//! jobs of a kind (`SKIP LOCKED` on PostgreSQL, the single writer on SQLite); a claim counts
//! an attempt, holds a lease until renewed or settled, and carries a fence: the job's claim
//! counter, bumped by every claim and every re-queue, so a claimant whose lease lapsed and was
//! taken over, or whose work was asked for again, is refused when it settles or renews
//! ([`Settled::LostClaim`]). A claim also records the subject's version it read; a settlement
//! finding a newer version re-queues the work instead of applying stale results.
//!
//! The decisions are here, once, as pure functions over what a backend read under its lock
//! ([`plan_settle`], [`lapsed_after_last_attempt`], [`Backoff`]); each backend only reads the
//! rows, asks, and writes the plan in its own SQL.

use crate::{StoreError, StoreResult};
use jaryo_domain::{DocumentId, DraftState, Timestamp, UnknownValue};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::watch;

/// What a job does. Each kind has its own handler in a worker and its own document write on
/// settlement; the queue itself treats them all alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobKind {
    /// A model draft of a document's text (`jaryo-worker`).
    Draft,
    /// The text of a document's file, read by a format engine (`jaryo-worker`'s `extraction`).
    Extract,
}

impl JobKind {
    pub const ALL: &'static [JobKind] = &[JobKind::Draft, JobKind::Extract];

    /// The name stored in the `jobs.kind` column and shown on the status page.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Draft => "draft",
            JobKind::Extract => "extract",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownValue {
                kind: "JobKind",
                value: s.to_owned(),
            })
    }
}

/// A job's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub i64);

/// Where a job stands. A subject without a job of a kind is [`DraftState::None`] for that
/// kind; the other states are the job's own, named as the draft states are.
pub type JobState = DraftState;

/// What a worker asks for when it claims work.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    /// Who claims: shown while the work runs, for people and logs.
    pub owner: String,
    /// How long the claim holds without renewal.
    pub lease: Duration,
    /// At most this many claims.
    pub limit: u32,
    /// Work whose lease expired after this many attempts is failed, not claimed again.
    pub max_attempts: u32,
}

/// A worker's hold on one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobClaim {
    pub job: JobId,
    pub kind: JobKind,
    pub document_id: DocumentId,
    /// The subject's version when claimed: results apply only to that version.
    pub version: i64,
    /// Fences this claim: settling or renewing after the job's fence moved on is refused.
    pub fence: i64,
    /// Attempts made for this request before this claim.
    pub previous_attempts: u32,
    pub lease_expires_at: Timestamp,
}

impl JobClaim {
    /// The attempt this claim is: 1 for the first.
    pub fn attempt(&self) -> u32 {
        self.previous_attempts + 1
    }

    /// The claim's identity as one string, for logs: unique across jobs and claims.
    pub fn token(&self) -> String {
        format!("{}.{}", self.job.0, self.fence)
    }
}

/// How a claim of any kind ends, as far as the queue is concerned. A kind's own results (a
/// draft's text) are written by its own settlement in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The work is done; it spent `attempts` attempts (at least one).
    Done { attempts: u32 },
    /// Nothing to do; `model_called` says whether this attempt spent an attempt.
    Skipped { model_called: bool },
    /// The attempt failed; try again at `at`.
    RetryLater { error: String, at: Timestamp },
    /// The last attempt failed; a person can ask again.
    Failed { error: String },
    /// Give the work back without counting this attempt (pre-empted, shutting down, the
    /// kind's dependency down).
    Released,
}

/// What settling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The settlement was written.
    Applied,
    /// The subject changed since the claim: nothing was written and the work is queued again
    /// against the new version.
    Requeued,
    /// The subject was deleted: the work is dropped.
    Dropped,
    /// The claim no longer holds (lease taken over, work asked for again): nothing was
    /// written.
    LostClaim,
}

/// A job as a settlement reads it under its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub state: JobState,
    pub fence: i64,
}

/// The subject as a settlement reads it under its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectRow {
    pub version: i64,
    pub deleted: bool,
}

/// The job's fields after a settlement that applies. The lease always ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobWrite {
    pub state: JobState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<Timestamp>,
}

/// What a backend does to settle a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlePlan {
    /// Nothing: the claim is stale ([`Settled::LostClaim`]).
    Refuse,
    /// Delete the job: its subject is gone ([`Settled::Dropped`]).
    Drop,
    /// Queue the job again from scratch against the new version, and wake the workers
    /// ([`Settled::Requeued`]).
    Requeue,
    /// Write the job (and the kind's own results); wake the workers if `wake`
    /// ([`Settled::Applied`]).
    Apply { job: JobWrite, wake: bool },
}

impl SettlePlan {
    /// Whether the kind's own results are written too.
    pub fn applies(&self) -> bool {
        matches!(self, SettlePlan::Apply { .. })
    }

    /// What the caller is told.
    pub fn settled(&self) -> Settled {
        match self {
            SettlePlan::Refuse => Settled::LostClaim,
            SettlePlan::Drop => Settled::Dropped,
            SettlePlan::Requeue => Settled::Requeued,
            SettlePlan::Apply { .. } => Settled::Applied,
        }
    }
}

/// The one rule of settling: a claim settles only while the job is running under its fence;
/// a deleted subject drops the work, a changed one re-queues it; otherwise the outcome is
/// written, attempts counted as [`JobOutcome`] says.
pub fn plan_settle(
    claim: &JobClaim,
    job: Option<&JobRow>,
    subject: Option<SubjectRow>,
    outcome: &JobOutcome,
) -> SettlePlan {
    let Some(job) = job else {
        return SettlePlan::Refuse;
    };
    if job.fence != claim.fence || job.state != JobState::Running {
        return SettlePlan::Refuse;
    }
    let Some(subject) = subject.filter(|subject| !subject.deleted) else {
        return SettlePlan::Drop;
    };
    if subject.version != claim.version {
        // Whatever this attempt produced belongs to a version that no longer exists.
        return SettlePlan::Requeue;
    }
    let (job, wake) = match outcome {
        JobOutcome::Done { attempts } => (
            JobWrite {
                state: JobState::Done,
                attempts: claim.previous_attempts + (*attempts).max(1),
                last_error: None,
                next_attempt_at: None,
            },
            false,
        ),
        JobOutcome::Skipped { model_called } => (
            JobWrite {
                state: JobState::Skipped,
                attempts: if *model_called {
                    claim.attempt()
                } else {
                    claim.previous_attempts
                },
                last_error: None,
                next_attempt_at: None,
            },
            false,
        ),
        JobOutcome::RetryLater { error, at } => (
            JobWrite {
                state: JobState::Pending,
                attempts: claim.attempt(),
                last_error: Some(error.clone()),
                next_attempt_at: Some(*at),
            },
            false,
        ),
        JobOutcome::Failed { error } => (
            JobWrite {
                state: JobState::Failed,
                attempts: claim.attempt(),
                last_error: Some(error.clone()),
                next_attempt_at: None,
            },
            false,
        ),
        // The attempt the claim counted is given back: the work did not fail.
        JobOutcome::Released => (
            JobWrite {
                state: JobState::Pending,
                attempts: claim.previous_attempts,
                last_error: None,
                next_attempt_at: None,
            },
            true,
        ),
    };
    SettlePlan::Apply { job, wake }
}

/// Why a job whose worker stopped renewing after its last allowed attempt ends failed.
pub fn lapsed_after_last_attempt(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Draft => {
            "the worker drafting this document stopped responding after the last allowed attempt"
        }
        JobKind::Extract => {
            "the worker reading this file stopped responding after the last allowed attempt \
             (the file may be too large or too complex to read)"
        }
    }
}

/// When a claim made now with `lease` lapses.
pub fn lease_end(now: Timestamp, lease: Duration) -> StoreResult<Timestamp> {
    let lease = chrono::Duration::from_std(lease).map_err(StoreError::internal)?;
    Ok(now + lease)
}

/// Retry delays: doubling from `base` with each attempt up to `max`, with "equal jitter"
/// (half fixed, half random), so the retries of many jobs spread out. The random number is
/// the caller's, so tests choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before the attempt after attempt `attempt` (1 for the first), given `unit`
    /// in `[0, 1)` from a jitter source.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let base = self.base.as_millis().min(u128::from(u64::MAX)) as u64;
        let max = (self.max.as_millis().min(u128::from(u64::MAX)) as u64).max(base);
        let full = base
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
            .min(max);
        let half = full / 2;
        let jitter = (half as f64 * unit.clamp(0.0, 1.0)) as u64;
        Duration::from_millis(half + jitter)
    }

    /// When to try again after attempt `attempt` failed at `now`.
    pub fn retry_at(&self, now: Timestamp, attempt: u32, unit: f64) -> Timestamp {
        now + chrono::TimeDelta::from_std(self.delay(attempt, unit))
            .unwrap_or(chrono::TimeDelta::MAX)
    }
}

/// A kind's claims held back while something it needs is down (the model server for
/// drafts): no worker in any process claims it until `until`, unless resumed before. The
/// pauser renews it while the dependency stays down, so a pause whose pauser died lapses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPause {
    pub reason: String,
    pub until: Timestamp,
}

/// One kind's work by state, for the status page and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobQueueStats {
    /// Live subjects' jobs by state; for drafts, `None` counts live documents without one.
    pub by_state: BTreeMap<JobState, u64>,
    /// Pending work whose time has come.
    pub ready: u64,
    /// The earliest time pending work waiting for a retry falls due, or a running claim's
    /// lease lapses.
    pub next_due: Option<Timestamp>,
    /// Set while the kind is paused.
    pub paused: Option<JobPause>,
}

impl JobQueueStats {
    pub fn count(&self, state: JobState) -> u64 {
        self.by_state.get(&state).copied().unwrap_or(0)
    }
}

/// The earlier of two optional times.
pub fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Wakes workers when work may have become ready: after new work, a re-queue, a release.
/// Subscribers never miss a wake-up that happens after they subscribed. One signal serves
/// every kind: a woken worker claims the kinds it handles and finds what there is.
#[derive(Debug, Clone)]
pub struct JobSignal {
    sender: watch::Sender<u64>,
}

impl Default for JobSignal {
    fn default() -> Self {
        Self {
            sender: watch::Sender::new(0),
        }
    }
}

impl JobSignal {
    /// Tells every subscriber that work may be ready.
    pub fn notify(&self) {
        self.sender
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// A receiver whose `changed()` resolves at the next notification.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jaryo_domain::Clock;

    fn claim(previous_attempts: u32) -> JobClaim {
        JobClaim {
            job: JobId(7),
            kind: JobKind::Draft,
            document_id: DocumentId(3),
            version: 4,
            fence: 2,
            previous_attempts,
            lease_expires_at: jaryo_domain::SystemClock.now(),
        }
    }

    const RUNNING: JobRow = JobRow {
        state: JobState::Running,
        fence: 2,
    };
    const LIVE: SubjectRow = SubjectRow {
        version: 4,
        deleted: false,
    };

    #[test]
    fn a_stale_fence_or_a_finished_job_refuses_the_settlement() {
        let done = JobOutcome::Done { attempts: 1 };
        let moved_on = JobRow {
            fence: 3,
            ..RUNNING
        };
        let settled = JobRow {
            state: JobState::Done,
            ..RUNNING
        };
        for job in [None, Some(&moved_on), Some(&settled)] {
            assert_eq!(
                plan_settle(&claim(0), job, Some(LIVE), &done),
                SettlePlan::Refuse
            );
        }
    }

    #[test]
    fn a_deleted_subject_drops_and_a_changed_one_requeues() {
        let done = JobOutcome::Done { attempts: 1 };
        let deleted = SubjectRow {
            deleted: true,
            ..LIVE
        };
        let edited = SubjectRow { version: 5, ..LIVE };
        assert_eq!(
            plan_settle(&claim(0), Some(&RUNNING), Some(deleted), &done),
            SettlePlan::Drop
        );
        assert_eq!(
            plan_settle(&claim(0), Some(&RUNNING), None, &done),
            SettlePlan::Drop
        );
        assert_eq!(
            plan_settle(&claim(0), Some(&RUNNING), Some(edited), &done),
            SettlePlan::Requeue
        );
    }

    #[test]
    fn attempts_count_what_the_claim_spent() {
        let attempts = |outcome| match plan_settle(&claim(2), Some(&RUNNING), Some(LIVE), &outcome)
        {
            SettlePlan::Apply { job, .. } => job.attempts,
            other => panic!("{other:?}"),
        };
        assert_eq!(attempts(JobOutcome::Done { attempts: 2 }), 4);
        assert_eq!(attempts(JobOutcome::Done { attempts: 0 }), 3);
        assert_eq!(
            attempts(JobOutcome::Skipped {
                model_called: false
            }),
            2
        );
        assert_eq!(attempts(JobOutcome::Skipped { model_called: true }), 3);
        assert_eq!(attempts(JobOutcome::Released), 2);
        assert_eq!(
            attempts(JobOutcome::Failed {
                error: "실패".into()
            }),
            3
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_stays_under_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(10),
        };
        assert_eq!(backoff.delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff.delay(1, 0.999_999), Duration::from_millis(999));
        assert_eq!(backoff.delay(2, 0.0), Duration::from_millis(1000));
        assert_eq!(backoff.delay(3, 0.0), Duration::from_millis(2000));
        for attempt in 1..100 {
            assert!(backoff.delay(attempt, 0.999) <= Duration::from_secs(10));
            assert!(backoff.delay(attempt, 0.999) >= backoff.delay(attempt, 0.0));
        }
    }
}
