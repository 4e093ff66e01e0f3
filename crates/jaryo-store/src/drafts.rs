//! Drafts on the job queue: a draft claim carries the text to draft, and a draft settlement
//! writes the draft into the document in the same transaction as the job.
//!
//! A document's draft is its [`JobKind::Draft`] job ([`crate::jobs`]); the document's
//! `draft` object is read from it. The rules of what a settlement writes to the document live
//! here once ([`plan_draft_document`]); the job's part is [`crate::jobs::plan_settle`].

use crate::jobs::{JobClaim, JobOutcome, JobQueueStats, JobSignal};
use jaryo_domain::Timestamp;
use serde_json::{Map, Value};
use std::ops::Deref;

/// A worker's hold on one document's draft: the job's claim and the text it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftClaim {
    pub job: JobClaim,
    pub title: String,
    /// The text to draft from (`extracted_text`).
    pub text: String,
}

/// A draft claim reads as its job's claim: `claim.document_id`, `claim.version`,
/// `claim.attempt()`.
impl Deref for DraftClaim {
    type Target = JobClaim;
    fn deref(&self) -> &JobClaim {
        &self.job
    }
}

impl DraftClaim {
    /// Draft claims from the queue's claims and the `(title, text)` read for each document,
    /// in the queue's claim order.
    pub fn assemble(
        claims: Vec<JobClaim>,
        mut texts: std::collections::HashMap<i64, (String, String)>,
    ) -> crate::StoreResult<Vec<DraftClaim>> {
        claims
            .into_iter()
            .map(|job| {
                let (title, text) =
                    texts
                        .remove(&job.document_id.0)
                        .ok_or(crate::StoreError::NotFound {
                            entity: "document",
                            id: job.document_id.0,
                        })?;
                Ok(DraftClaim { job, title, text })
            })
            .collect()
    }
}

/// How a claim ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// The model answered: apply `markdown` as the draft, merging `metadata` into the
    /// document's `source_metadata`. `model_calls` is how many calls this attempt made (a
    /// stricter second try after a fidelity check counts too).
    Drafted {
        markdown: String,
        metadata: Map<String, Value>,
        model_calls: u32,
    },
    /// Nothing to draft. `model_called` says whether this attempt used the model (an empty
    /// answer) or not (text too short).
    Skipped {
        reason: String,
        model_called: bool,
        metadata: Map<String, Value>,
    },
    /// The attempt failed; try again at `at`.
    RetryLater { error: String, at: Timestamp },
    /// The last attempt failed; the person can retry.
    Failed { error: String },
    /// Give the work back without counting this attempt (pre-empted, shutting down, model
    /// server down).
    Released,
}

impl Settlement {
    /// The queue's part of the settlement.
    pub fn job_outcome(&self) -> JobOutcome {
        match self {
            Settlement::Drafted { model_calls, .. } => JobOutcome::Done {
                attempts: *model_calls,
            },
            Settlement::Skipped { model_called, .. } => JobOutcome::Skipped {
                model_called: *model_called,
            },
            Settlement::RetryLater { error, at } => JobOutcome::RetryLater {
                error: error.clone(),
                at: *at,
            },
            Settlement::Failed { error } => JobOutcome::Failed {
                error: error.clone(),
            },
            Settlement::Released => JobOutcome::Released,
        }
    }
}

/// What a draft settlement writes to the document beside its job.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftDocumentWrite {
    /// `markdown` becomes `md_content`: `content_origin = ai_drafted`, `md_draft_status =
    /// draft`, `md_status = success`, `md_extraction_engine = ai_draft`, generated and
    /// updated now, the version bumped, `flagged` kept as its own column.
    Drafted {
        markdown: String,
        source_metadata: Map<String, Value>,
        flagged: bool,
    },
    /// Only the metadata (with the `draft_skipped` entry) changes, updated now.
    Skipped { source_metadata: Map<String, Value> },
}

/// How timestamps are written inside `source_metadata`: fixed-width RFC 3339 in UTC with
/// microseconds, so text order is time order on either store.
pub fn metadata_time(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// What an applied draft settlement writes to the document, given its `source_metadata`
/// as read under the lock: the worker's metadata merged over it, and a skip recorded with
/// its reason and time. Nothing for the outcomes that change only the job.
pub fn plan_draft_document(
    settlement: &Settlement,
    mut source_metadata: Map<String, Value>,
    now: Timestamp,
) -> Option<DraftDocumentWrite> {
    match settlement {
        Settlement::Drafted {
            markdown, metadata, ..
        } => {
            source_metadata.extend(metadata.clone());
            let flagged = jaryo_domain::DraftProvenance::read(&source_metadata).flagged();
            Some(DraftDocumentWrite::Drafted {
                markdown: markdown.clone(),
                source_metadata,
                flagged,
            })
        }
        Settlement::Skipped {
            reason, metadata, ..
        } => {
            source_metadata.extend(metadata.clone());
            source_metadata.insert(
                "draft_skipped".into(),
                serde_json::json!({ "reason": reason, "at": metadata_time(now) }),
            );
            Some(DraftDocumentWrite::Skipped { source_metadata })
        }
        Settlement::RetryLater { .. } | Settlement::Failed { .. } | Settlement::Released => None,
    }
}

/// Which drafted documents to select for a re-run. The categories (`flagged`, `failed`,
/// `prompt_version_not`) are alternatives: a document in any of them is selected, and with none
/// set every document with draft work is. The other fields narrow the selection. Documents
/// whose draft was accepted are never selected: the person has decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftSelection {
    /// Drafts the fidelity check flagged.
    pub flagged: bool,
    /// Drafts that failed.
    pub failed: bool,
    /// Drafts made with a prompt version other than this one (an older prompt).
    pub prompt_version_not: Option<String>,
    /// Only drafts made by this model.
    pub model: Option<String>,
    /// Only drafts made at or after this time.
    pub drafted_from: Option<Timestamp>,
    /// Only drafts made before this time.
    pub drafted_before: Option<Timestamp>,
}

/// Draft work by state: the draft kind's job statistics.
pub type DraftQueueStats = JobQueueStats;

/// Wakes draft workers: the job queue's signal.
pub type DraftSignal = JobSignal;
