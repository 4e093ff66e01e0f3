//! The store: the one seam between jaryo and its database.
//!
//! [`Store`] is what every backend (SQLite, PostgreSQL) satisfies with the same behaviour; the
//! conformance tests run against each. Callers hold an `Arc<dyn Store>` and never see SQL.
//!
//! Architecture invariant: this crate holds no SQL and no I/O; only the backend crates do.
//! Every write that changes what a person sees happens in one transaction in the backend: a
//! memo and its tags, a promote and the memo's link, a delete and everything it hides.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod documents;
mod drafts;
pub mod files;
#[cfg(feature = "conformance")]
pub mod files_conformance;
pub mod jobs;
pub mod ranking;
pub mod review;
pub mod search;
pub mod tags;
pub mod tasks;

pub use documents::{PromotedDocument, check_direct_origin, edit_requeues_draft, plan_promote};
pub use drafts::{
    DraftClaim, DraftDocumentWrite, DraftQueueStats, DraftSelection, DraftSignal, Settlement,
    metadata_time, plan_draft_document,
};
pub use files::{ExtractedFile, FileIntake, FileStore, FinishedUpload, StoredFile, UploadId};
pub use jobs::{
    ClaimRequest, JobClaim, JobId, JobKind, JobOutcome, JobPause, JobQueueStats, JobSignal,
    JobState, Settled,
};
pub use review::{AcceptDraft, RejectDraft, ReviewRefusal, Reviewer};
pub use search::{
    ChunkLocation, ReindexProgress, ReindexReport, SearchCursor, SearchFilter, SearchHit,
    SearchIndexStatus, SearchKind, SearchPage, SearchRequest, SnippetSource,
};
pub use tags::{TagCount, TagRenamed};

use async_trait::async_trait;
use jaryo_domain::{
    ContentOrigin, Document, DocumentId, DocumentText, DocumentTitle, DraftState, MdDraftStatus,
    Memo, MemoId, MemoText,
};
use std::fmt::Debug;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} {id} does not exist")]
    NotFound { entity: &'static str, id: i64 },
    #[error("memo {memo_id} was already promoted to document {document_id}")]
    AlreadyPromoted {
        memo_id: MemoId,
        document_id: DocumentId,
    },
    #[error("it changed since it was read: now at version {current_version}")]
    VersionConflict { current_version: i64 },
    /// A review the document's state does not allow (see [`review`]).
    #[error("{0}")]
    ReviewRefused(ReviewRefusal),
    /// The database refused a write that breaks one of its constraints.
    #[error("the database refused the write: {0}")]
    Constraint(String),
    /// A write derived from stored data would make invalid data (a tag rename making a memo
    /// too long).
    #[error("{message}")]
    Invalid { message: String },
    /// The database could not be reached or did not answer in time; worth retrying.
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal store error")]
    Internal(#[source] BoxError),
}

impl StoreError {
    pub fn internal(error: impl Into<BoxError>) -> Self {
        Self::Internal(error.into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The most items one page may hold.
pub const PAGE_LIMIT_MAX: u32 = 200;
/// The page size when a caller does not ask for one.
pub const PAGE_LIMIT_DEFAULT: u32 = 50;

/// Newest-first keyset pagination: a page holds items with ids below `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub before: Option<i64>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: PAGE_LIMIT_DEFAULT,
            before: None,
        }
    }
}

impl PageRequest {
    /// A request for `limit` items (clamped to `1..=PAGE_LIMIT_MAX`) older than `before`.
    pub fn new(limit: Option<u32>, before: Option<i64>) -> Self {
        Self {
            limit: limit.unwrap_or(PAGE_LIMIT_DEFAULT).clamp(1, PAGE_LIMIT_MAX),
            before,
        }
    }
}

/// One page of results, newest first; `next_before` continues the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_before: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first: the extra row, if
    /// present, only tells that more exist.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> i64) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_before = if has_more {
            rows.last().map(id_of)
        } else {
            None
        };
        Self {
            items: rows,
            next_before,
        }
    }
}

/// Which memos a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoFilter {
    /// Only memos carrying this tag key ([`search::tag_key`]).
    pub tag: Option<String>,
}

/// Which documents a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Only documents whose original text carries this tag key ([`search::tag_key`]).
    pub tag: Option<String>,
    pub draft_state: Option<DraftState>,
    pub md_draft_status: Option<MdDraftStatus>,
    pub content_origin: Option<ContentOrigin>,
    /// `Some(true)`: only drafts awaiting review that the fidelity check flagged (the "needs
    /// attention" of the API and the UI); `Some(false)`: every other document.
    pub needs_attention: Option<bool>,
    /// `Some(true)`: only drafts that failed and will be tried again (pending or running,
    /// with the last attempt's error kept); `Some(false)`: every other document.
    pub retrying: Option<bool>,
}

/// A document written directly (not promoted from a memo).
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: Option<DocumentTitle>,
    pub extracted_text: DocumentText,
    /// `user` or `import`; promoted and drafted documents are made by their own calls.
    pub content_origin: ContentOrigin,
    pub source_metadata: serde_json::Map<String, serde_json::Value>,
    /// An import's own dates: when the note was written and last changed where it came from.
    /// Unset: now (and `updated_at` defaults to `created_at`).
    pub created_at: Option<jaryo_domain::Timestamp>,
    pub updated_at: Option<jaryo_domain::Timestamp>,
    /// Tags given with the document, beside the `#tags` of its text (each one parsed with
    /// `jaryo_domain::parse_one_tag`).
    pub tags: Vec<String>,
}

impl NewDocument {
    /// The given title, or one derived from the text's first meaningful line.
    pub fn title_or_derived(&self) -> String {
        match &self.title {
            Some(title) => title.as_str().to_owned(),
            None => jaryo_domain::derive_title(self.extracted_text.as_str()),
        }
    }

    /// The document's times: the given ones, else `now`; never updated before created.
    pub fn times(
        &self,
        now: jaryo_domain::Timestamp,
    ) -> (jaryo_domain::Timestamp, jaryo_domain::Timestamp) {
        let created = self.created_at.unwrap_or(now);
        let updated = self.updated_at.unwrap_or(created).max(created);
        (
            jaryo_domain::truncate_to_micros(created),
            jaryo_domain::truncate_to_micros(updated),
        )
    }
}

/// A change to a document's own content. Each applied patch bumps the version.
#[derive(Debug, Clone, Default)]
pub struct DocumentPatch {
    /// When set, the patch applies only if the document is still at this version.
    pub expected_version: Option<i64>,
    pub title: Option<DocumentTitle>,
    pub extracted_text: Option<DocumentText>,
}

impl DocumentPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.extracted_text.is_none()
    }
}

/// Everything jaryo keeps, behind one trait.
#[async_trait]
pub trait Store: FileStore + Send + Sync + Debug + 'static {
    /// Saves a new memo with its tags.
    async fn create_memo(&self, text: &MemoText) -> StoreResult<Memo>;
    /// A live memo; a soft-deleted one is `NotFound`.
    async fn get_memo(&self, id: MemoId) -> StoreResult<Memo>;
    /// Live memos, newest first.
    async fn list_memos(&self, filter: &MemoFilter, page: PageRequest) -> StoreResult<Page<Memo>>;
    /// Replaces a memo's text (and so its tags) and bumps its version; a stale
    /// `expected_version` gives `VersionConflict` and changes nothing.
    async fn update_memo(
        &self,
        id: MemoId,
        text: &MemoText,
        expected_version: Option<i64>,
    ) -> StoreResult<Memo>;
    /// Soft-deletes a memo. A document promoted from it stays.
    async fn delete_memo(&self, id: MemoId) -> StoreResult<()>;

    /// Makes a document from a memo: its text verbatim in `extracted_text`,
    /// `content_origin = memo`, provenance in `source_metadata`, and a draft requested.
    /// A memo whose document is still live gives `AlreadyPromoted`.
    async fn promote_memo(&self, id: MemoId) -> StoreResult<Document>;

    async fn create_document(&self, new: &NewDocument) -> StoreResult<Document>;
    /// A live document; a soft-deleted one is `NotFound`.
    async fn get_document(&self, id: DocumentId) -> StoreResult<Document>;
    /// Live documents, newest first.
    async fn list_documents(
        &self,
        filter: &DocumentFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Document>>;
    /// Applies a patch; a stale `expected_version` gives `VersionConflict`.
    async fn update_document(&self, id: DocumentId, patch: &DocumentPatch)
    -> StoreResult<Document>;
    /// Soft-deletes a document and unlinks the memo it came from, so that memo can be
    /// promoted again.
    async fn delete_document(&self, id: DocumentId) -> StoreResult<()>;

    /// Claims up to `request.limit` documents whose draft is due, oldest id first: pending
    /// work whose next attempt time has come, and running work whose lease expired (its
    /// worker died). Each claim counts one attempt and holds a lease until renewed or settled.
    /// Work whose lease expired after its last allowed attempt is marked failed instead.
    async fn claim_drafts(&self, request: &ClaimRequest) -> StoreResult<Vec<DraftClaim>>;
    /// Hands back, at once and without counting the attempt, every running draft whose lease
    /// is held by a worker known to be dead: one whose `lease_owner` is `predecessor` followed
    /// by `@` (a restarted process's earlier self, see the `jaryo` crate's worker seat). Other
    /// owners' leases are left alone. Returns how many drafts went back to the queue.
    async fn release_dead_leases(&self, predecessor: &str) -> StoreResult<u64>;
    /// Extends a claim's lease; `false` when the claim was lost (taken over, redrafted or
    /// settled), in which case its holder must stop.
    async fn renew_draft_lease(
        &self,
        claim: &DraftClaim,
        lease: std::time::Duration,
    ) -> StoreResult<bool>;
    /// Ends a claim. A draft is applied only if the claim still holds and the document is
    /// unchanged since it was claimed; otherwise the work is re-queued against the new text
    /// or dropped with the deleted document.
    async fn settle_draft(
        &self,
        claim: &DraftClaim,
        settlement: &Settlement,
    ) -> StoreResult<Settled>;
    /// Queues a (new) draft of a document, whatever its draft state: retry after failure,
    /// regenerate after success. Attempts start again at zero.
    async fn request_redraft(&self, id: DocumentId) -> StoreResult<Document>;
    /// The person accepts the draft, as drafted or with an edited text, which then becomes
    /// `md_content`. Refused without a draft, while a new one is being made, and on a stale
    /// `expected_version`; recorded in `source_metadata.review_history`; bumps the version.
    /// The rules are [`review::plan_accept`].
    async fn accept_draft(&self, id: DocumentId, accept: &AcceptDraft) -> StoreResult<Document>;
    /// The person rejects the draft: it stays in `md_content`, marked rejected; the original
    /// is untouched. Recorded and refused like [`Store::accept_draft`].
    async fn reject_draft(&self, id: DocumentId, reject: &RejectDraft) -> StoreResult<Document>;
    /// The person asks for a new draft ([`Store::request_redraft`]), recorded in the review
    /// history in the same transaction; an accepted text is kept there whole, since the new
    /// draft will replace it ([`review::plan_regenerate`]).
    async fn regenerate_draft(&self, id: DocumentId, by: Reviewer) -> StoreResult<Document>;
    /// Counts of draft work by state, and when the next piece of waiting work falls due.
    async fn draft_queue_stats(&self) -> StoreResult<DraftQueueStats>;
    /// Fires whenever draft work may have become ready in this store.
    fn draft_signal(&self) -> &DraftSignal;
    /// Live documents matching `selection`, by id ascending, after `after`, at most `limit`.
    async fn select_drafts(
        &self,
        selection: &DraftSelection,
        after: Option<DocumentId>,
        limit: u32,
    ) -> StoreResult<Vec<DocumentId>>;

    /// Queues work of `kind` on a document, whatever the state of its job of that kind: new
    /// work, work asked for again after it ended, or a re-queue of running work (whose claim
    /// is then fenced out). Attempts start again at zero. Wakes the workers.
    async fn enqueue_job(
        &self,
        kind: JobKind,
        document: DocumentId,
        priority: i32,
    ) -> StoreResult<JobId>;
    /// Claims up to `request.limit` due jobs of `kind`, highest priority then oldest document
    /// first: pending work whose next attempt time has come and running work whose lease
    /// lapsed, of live documents, unless the kind is paused. Each claim counts one attempt,
    /// bumps the job's fence and holds a lease; work whose lease lapsed after its last
    /// allowed attempt is failed instead.
    async fn claim_jobs(&self, kind: JobKind, request: &ClaimRequest)
    -> StoreResult<Vec<JobClaim>>;
    /// Extends a claim's lease; `false` when the job's fence moved on (taken over,
    /// re-queued, settled).
    async fn renew_job_lease(
        &self,
        claim: &JobClaim,
        lease: std::time::Duration,
    ) -> StoreResult<bool>;
    /// Ends a claim under its fence ([`jobs::plan_settle`]): a stale claim changes nothing,
    /// a deleted document drops the job, a changed one re-queues it.
    async fn settle_job(&self, claim: &JobClaim, outcome: &JobOutcome) -> StoreResult<Settled>;
    /// Holds back claims of `kind` in every process until `pause.until` (renew it while
    /// the dependency stays down) or [`Store::resume_jobs`].
    async fn pause_jobs(&self, kind: JobKind, pause: &JobPause) -> StoreResult<()>;
    /// Lets claims of `kind` go ahead again, and wakes the workers.
    async fn resume_jobs(&self, kind: JobKind) -> StoreResult<()>;
    /// A kind's work by state, when the next piece falls due, and its pause.
    async fn job_stats(&self, kind: JobKind) -> StoreResult<JobQueueStats>;

    /// Every tag carried by a live memo or document, with how many of each carry it (in no
    /// particular order; [`tags::sort_tag_counts`] orders them for a person).
    async fn list_tags(&self) -> StoreResult<Vec<TagCount>>;

    /// Ranked full-text search over live memos and documents; the contract every backend
    /// keeps (hit set, order, paging, best chunk) is in [`search`].
    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchPage>;
    /// What the search index was built with and whether a reindex is due.
    async fn search_index_status(&self) -> StoreResult<SearchIndexStatus>;
    /// Rebuilds the search index and the chunks of every live item from the original text,
    /// in batches (each its own transaction, so other writers and readers go on meanwhile;
    /// every item stays searchable throughout), and records the analyzer version and chunk
    /// settings. Calls `progress` after each batch. For an analyzer change and for recovery.
    async fn reindex(
        &self,
        progress: &(dyn Fn(ReindexProgress) + Send + Sync),
    ) -> StoreResult<ReindexReport>;
}

/// The one rule of optimistic concurrency, for memos and documents alike: a write naming the
/// version it read goes ahead only while that is still the current version.
pub fn check_version(expected: Option<i64>, current: i64) -> StoreResult<()> {
    match expected {
        Some(expected) if expected != current => Err(StoreError::VersionConflict {
            current_version: current,
        }),
        _ => Ok(()),
    }
}
