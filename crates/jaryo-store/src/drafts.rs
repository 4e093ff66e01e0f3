//! The draft queue's vocabulary: claims, leases, how a claim ends, and the wake-up signal.
//!
//! The queue lives in the documents' own `draft_*` columns, so a document and its work change
//! together. A claim is fenced by a token: after its lease expired and another worker took the
//! work over, or after a redraft, the old holder's settlement is refused (`Settled::LostClaim`),
//! so a draft is never applied twice.

use jaryo_domain::{DocumentId, DraftState, Timestamp};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;

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

/// A worker's hold on one document's draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftClaim {
    pub document_id: DocumentId,
    /// Fences this claim: settling with a stale token is refused.
    pub token: String,
    /// The document version the text was read at.
    pub version: i64,
    pub title: String,
    /// The text to draft from (`extracted_text`).
    pub text: String,
    /// Model calls made for this request before this claim.
    pub previous_attempts: u32,
    pub lease_expires_at: Timestamp,
}

impl DraftClaim {
    /// The attempt this claim is: 1 for the first.
    pub fn attempt(&self) -> u32 {
        self.previous_attempts + 1
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

/// What settling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The settlement was written.
    Applied,
    /// The document's text changed since the claim: nothing was written and the work is
    /// queued again against the new text.
    Requeued,
    /// The document was deleted: the work is dropped.
    Dropped,
    /// The claim no longer holds (lease taken over, redraft): nothing was written.
    LostClaim,
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

/// Draft work by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftQueueStats {
    pub by_state: BTreeMap<DraftState, u64>,
    /// Pending work whose time has come.
    pub ready: u64,
    /// The earliest time pending work waiting for a retry falls due, or a running claim's
    /// lease lapses.
    pub next_due: Option<Timestamp>,
}

impl DraftQueueStats {
    pub fn count(&self, state: DraftState) -> u64 {
        self.by_state.get(&state).copied().unwrap_or(0)
    }
}

/// Wakes workers when draft work may have become ready: after a promote, a redraft, a
/// re-queue. Subscribers never miss a wake-up that happens after they subscribed.
#[derive(Debug, Clone)]
pub struct DraftSignal {
    sender: watch::Sender<u64>,
}

impl Default for DraftSignal {
    fn default() -> Self {
        Self {
            sender: watch::Sender::new(0),
        }
    }
}

impl DraftSignal {
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
