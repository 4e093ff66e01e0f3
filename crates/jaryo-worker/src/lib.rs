//! jaryo's background work: the draft worker that has the person's own model turn promoted
//! memos into clean Markdown drafts, without adding facts.
//!
//! The seed's contract holds exactly: documents needing a draft, not deleted, oldest id first,
//! in small batches, each settled in its own transaction; text under 20 characters is skipped
//! without a model call; one model call inside the LLM gate at background priority; thinking
//! removed; a non-empty answer becomes the draft (`content_origin = 'ai_drafted'`,
//! `md_draft_status = 'draft'`, `md_status = 'success'`, `md_extraction_engine = 'ai_draft'`,
//! `md_generated_at`, `drafted_at`); an empty answer is a skip; a model or database error leaves
//! the work to be retried.
//!
//! Beyond the seed: the worker wakes the moment work appears and keeps draining; retries are
//! counted and backed off with jitter, ending in `failed` with the error; a model server that is
//! down pauses drafting instead of burning attempts; claims carry a lease renewed while the model
//! generates, so work of a process that died is taken over; a draft is applied only to the text
//! it was made from; a draft pre-empted by a person's call waits for the gate again without
//! counting an attempt; every draft is checked for facts the memo does not hold and for facts of
//! the memo it lost; an answer that echoes the prompt or only talks about the note is not a
//! draft (after the stricter second try, the work ends `failed` with the reason).
//!
//! Architecture invariant: the worker speaks to the database only through the `Store` trait and
//! to the model only through the `jaryo_model::ChatModel` trait inside one `Gate::call`; it
//! knows no SQL, no HTTP, and no model backend.

mod config;
pub mod evaluation;
mod extraction;
mod metrics;
mod prompt;
pub mod sections;
mod worker;

pub use config::DraftConfig;
pub use extraction::{ExtractionConfig, ExtractionOutcome, ExtractionWorker};
pub use metrics::{DraftMetrics, DraftMetricsSnapshot, Histogram, MODEL_LATENCY_BUCKETS};
pub use prompt::{DraftPrompt, MemoLanguage, PROMPT_VERSION, Redraft, clean_answer, instructions};
pub use worker::{
    DraftOutcome, DraftWorker, MIN_DRAFT_CHARS, ReleaseReason, WorkerParts, hostname,
};
