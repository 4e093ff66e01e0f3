//! The person's review of a model draft: accept (as drafted or edited), reject, regenerate.
//!
//! The rules live here, once, as pure functions over a [`Document`]; each backend reads the
//! document under its write lock, asks [`plan_accept`], [`plan_reject`] or
//! [`plan_regenerate`] what to write, and writes exactly that in the same transaction. So both
//! stores decide identically, and the database's CHECK constraint (`md_draft_status` only on
//! `ai_drafted` content) holds on every path: a review never sets a status on a document that
//! has no draft.
//!
//! Every action appends an entry to `source_metadata.review_history` (see [`ReviewEntry`]),
//! oldest first, so the history can be shown. Regenerating a draft the person accepted keeps
//! the accepted text in that entry (`replaced_text`): the new draft replaces `md_content` when
//! it lands, and the accepted words can still be read and restored (accept with them as the
//! edited text). The original (`extracted_text`) is never touched by a review.

use crate::{StoreError, StoreResult};
use jaryo_domain::{Document, InputError};
use jaryo_domain::{DocumentText, DraftState, MdDraftStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `source_metadata` key holding the review history.
pub const REVIEW_HISTORY_KEY: &str = "review_history";
/// At most this many entries are kept; older ones are dropped first.
pub const REVIEW_HISTORY_MAX: usize = 100;

/// Who acted: through the web UI or through the JSON API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reviewer {
    Web,
    Api,
}

impl Reviewer {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Api => "api",
        }
    }
}

/// Accept the draft, as drafted or with the person's edits.
#[derive(Debug, Clone)]
pub struct AcceptDraft {
    pub by: Reviewer,
    /// When set, the review applies only if the document is still at this version.
    pub expected_version: Option<i64>,
    /// The person's edited text, which becomes the accepted `md_content`.
    pub md_content: Option<DocumentText>,
}

/// Reject the draft: it stays in `md_content`, marked rejected.
#[derive(Debug, Clone)]
pub struct RejectDraft {
    pub by: Reviewer,
    pub expected_version: Option<i64>,
}

/// Why a review was refused. Each is a conflict with the document's state, not bad input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("the document has no model draft to review")]
    NoDraft,
    #[error("a new draft is being made; review it when it is ready")]
    DraftInProgress,
    #[error("the draft is already accepted; send an edited text to change it")]
    AlreadyAccepted,
    #[error("the draft is already rejected")]
    AlreadyRejected,
}

impl ReviewRefusal {
    /// A stable code for programs.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoDraft => "no_draft",
            Self::DraftInProgress => "draft_in_progress",
            Self::AlreadyAccepted => "already_accepted",
            Self::AlreadyRejected => "already_rejected",
        }
    }
}

/// What an action did, as stored in `source_metadata.review_history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Accept,
    Reject,
    /// A new draft requested while one existed.
    Regenerate,
    /// A new draft requested while none existed (after a failure or a skip).
    Retry,
}

/// One entry of the review history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEntry {
    pub action: ReviewAction,
    /// RFC 3339, UTC, microseconds.
    pub at: String,
    pub by: Reviewer,
    /// The review status before the action (`null`: no draft).
    pub from_status: Option<MdDraftStatus>,
    /// Accept: whether the person changed the draft's text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub edited: bool,
    /// Length in characters of `md_content` before the action.
    pub previous_length: Option<usize>,
    /// Length in characters of `md_content` after the action.
    pub length: Option<usize>,
    /// Regenerate after accept: the accepted text the new draft will replace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_text: Option<String>,
}

/// What a backend writes for an accept or a reject, all in one transaction with a version
/// bump and `updated_at = now`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewWrite {
    pub md_content: Option<String>,
    pub md_draft_status: MdDraftStatus,
    pub source_metadata: Map<String, Value>,
}

/// The review history stored in `metadata`, oldest first; unreadable entries are skipped.
pub fn review_history(metadata: &Map<String, Value>) -> Vec<ReviewEntry> {
    metadata
        .get(REVIEW_HISTORY_KEY)
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| serde_json::from_value(entry.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn encode_time(at: Timestamp) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn chars(text: Option<&str>) -> Option<usize> {
    text.map(|text| text.chars().count())
}

fn with_entry(metadata: &Map<String, Value>, entry: &ReviewEntry) -> Map<String, Value> {
    let mut metadata = metadata.clone();
    let mut history = match metadata.remove(REVIEW_HISTORY_KEY) {
        Some(Value::Array(entries)) => entries,
        _ => Vec::new(),
    };
    history.push(serde_json::to_value(entry).expect("a review entry serialises"));
    if history.len() > REVIEW_HISTORY_MAX {
        history.drain(..history.len() - REVIEW_HISTORY_MAX);
    }
    metadata.insert(REVIEW_HISTORY_KEY.into(), Value::Array(history));
    metadata
}

fn reviewable(document: &Document, expected_version: Option<i64>) -> StoreResult<MdDraftStatus> {
    if let Some(expected) = expected_version
        && expected != document.version
    {
        return Err(StoreError::VersionConflict {
            current_version: document.version,
        });
    }
    let Some(status) = document.md_draft_status else {
        return Err(StoreError::ReviewRefused(ReviewRefusal::NoDraft));
    };
    if matches!(
        document.draft.state,
        DraftState::Pending | DraftState::Running
    ) {
        return Err(StoreError::ReviewRefused(ReviewRefusal::DraftInProgress));
    }
    Ok(status)
}

/// What accepting writes, or why it is refused: no draft, a new draft under way, a stale
/// version, or an already accepted draft with no change.
pub fn plan_accept(
    document: &Document,
    accept: &AcceptDraft,
    now: Timestamp,
) -> StoreResult<ReviewWrite> {
    let from = reviewable(document, accept.expected_version)?;
    let current = document.md_content.as_deref();
    let edited_text = accept
        .md_content
        .as_ref()
        .map(DocumentText::as_str)
        .filter(|text| Some(*text) != current);
    if from == MdDraftStatus::Accepted && edited_text.is_none() {
        return Err(StoreError::ReviewRefused(ReviewRefusal::AlreadyAccepted));
    }
    let md_content = edited_text.or(current).map(str::to_owned);
    let entry = ReviewEntry {
        action: ReviewAction::Accept,
        at: encode_time(now),
        by: accept.by,
        from_status: Some(from),
        edited: edited_text.is_some(),
        previous_length: chars(current),
        length: chars(md_content.as_deref()),
        replaced_text: None,
    };
    Ok(ReviewWrite {
        md_content,
        md_draft_status: MdDraftStatus::Accepted,
        source_metadata: with_entry(&document.source_metadata, &entry),
    })
}

/// What rejecting writes, or why it is refused. The draft's text stays.
pub fn plan_reject(
    document: &Document,
    reject: &RejectDraft,
    now: Timestamp,
) -> StoreResult<ReviewWrite> {
    let from = reviewable(document, reject.expected_version)?;
    if from == MdDraftStatus::Rejected {
        return Err(StoreError::ReviewRefused(ReviewRefusal::AlreadyRejected));
    }
    let current = document.md_content.as_deref();
    let entry = ReviewEntry {
        action: ReviewAction::Reject,
        at: encode_time(now),
        by: reject.by,
        from_status: Some(from),
        edited: false,
        previous_length: chars(current),
        length: chars(current),
        replaced_text: None,
    };
    Ok(ReviewWrite {
        md_content: current.map(str::to_owned),
        md_draft_status: MdDraftStatus::Rejected,
        source_metadata: with_entry(&document.source_metadata, &entry),
    })
}

/// The `source_metadata` a regenerate (a redraft the person asked for) writes along with
/// queueing the work: the entry records what the new draft will replace, and an accepted text
/// is kept whole.
pub fn plan_regenerate(document: &Document, by: Reviewer, now: Timestamp) -> Map<String, Value> {
    let current = document.md_content.as_deref();
    let entry = ReviewEntry {
        action: if document.md_draft_status.is_some() {
            ReviewAction::Regenerate
        } else {
            ReviewAction::Retry
        },
        at: encode_time(now),
        by,
        from_status: document.md_draft_status,
        edited: false,
        previous_length: chars(current),
        length: None,
        replaced_text: (document.md_draft_status == Some(MdDraftStatus::Accepted))
            .then(|| current.map(str::to_owned))
            .flatten(),
    };
    with_entry(&document.source_metadata, &entry)
}

/// Parses a person's edited draft text at the edge: not empty, not oversized.
pub fn parse_edited_text(text: String) -> Result<DocumentText, InputError> {
    DocumentText::parse("md_content", text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jaryo_domain::{Clock, ContentOrigin, DocumentId, DraftWork};

    fn drafted(status: MdDraftStatus) -> Document {
        let now = jaryo_domain::SystemClock.now();
        Document {
            id: DocumentId(1),
            title: "t".into(),
            extracted_text: Some("원문".into()),
            md_content: Some("초안".into()),
            content_origin: ContentOrigin::AiDrafted,
            md_status: Some("success".into()),
            md_draft_status: Some(status),
            md_extraction_engine: Some("ai_draft".into()),
            md_generated_at: Some(now),
            source_metadata: Map::new(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            given_tags: Vec::new(),
            version: 3,
            draft: DraftWork {
                state: DraftState::Done,
                ..DraftWork::none()
            },
        }
    }

    fn accept(text: Option<&str>) -> AcceptDraft {
        AcceptDraft {
            by: Reviewer::Api,
            expected_version: None,
            md_content: text.map(|t| parse_edited_text(t.into()).unwrap()),
        }
    }

    #[test]
    fn accepting_records_whether_the_text_was_edited() {
        let now = jaryo_domain::SystemClock.now();
        let doc = drafted(MdDraftStatus::Draft);
        let plain = plan_accept(&doc, &accept(None), now).unwrap();
        assert_eq!(plain.md_content.as_deref(), Some("초안"));
        let entry = &review_history(&plain.source_metadata)[0];
        assert!(!entry.edited);
        assert_eq!(entry.from_status, Some(MdDraftStatus::Draft));
        // The same text sent back is not an edit.
        let same = plan_accept(&doc, &accept(Some("초안")), now).unwrap();
        assert!(!review_history(&same.source_metadata)[0].edited);
        let edited = plan_accept(&doc, &accept(Some("고친 초안")), now).unwrap();
        assert_eq!(edited.md_content.as_deref(), Some("고친 초안"));
        let entry = &review_history(&edited.source_metadata)[0];
        assert!(entry.edited);
        assert_eq!((entry.previous_length, entry.length), (Some(2), Some(5)));
    }

    #[test]
    fn refusals_name_their_reason() {
        let now = jaryo_domain::SystemClock.now();
        let mut none = drafted(MdDraftStatus::Draft);
        none.md_draft_status = None;
        none.content_origin = ContentOrigin::Memo;
        assert!(matches!(
            plan_accept(&none, &accept(None), now),
            Err(StoreError::ReviewRefused(ReviewRefusal::NoDraft))
        ));
        let mut busy = drafted(MdDraftStatus::Draft);
        busy.draft.state = DraftState::Running;
        assert!(matches!(
            plan_reject(
                &busy,
                &RejectDraft {
                    by: Reviewer::Web,
                    expected_version: None
                },
                now
            ),
            Err(StoreError::ReviewRefused(ReviewRefusal::DraftInProgress))
        ));
        let stale = AcceptDraft {
            expected_version: Some(2),
            ..accept(None)
        };
        assert!(matches!(
            plan_accept(&drafted(MdDraftStatus::Draft), &stale, now),
            Err(StoreError::VersionConflict { current_version: 3 })
        ));
        assert!(matches!(
            plan_accept(&drafted(MdDraftStatus::Accepted), &accept(None), now),
            Err(StoreError::ReviewRefused(ReviewRefusal::AlreadyAccepted))
        ));
    }

    #[test]
    fn regenerating_an_accepted_draft_keeps_its_text() {
        let now = jaryo_domain::SystemClock.now();
        let metadata = plan_regenerate(&drafted(MdDraftStatus::Accepted), Reviewer::Web, now);
        let entry = &review_history(&metadata)[0];
        assert_eq!(entry.action, ReviewAction::Regenerate);
        assert_eq!(entry.replaced_text.as_deref(), Some("초안"));
        let metadata = plan_regenerate(&drafted(MdDraftStatus::Draft), Reviewer::Web, now);
        assert_eq!(review_history(&metadata)[0].replaced_text, None);
    }

    #[test]
    fn the_history_is_bounded_oldest_first() {
        let now = jaryo_domain::SystemClock.now();
        let mut doc = drafted(MdDraftStatus::Draft);
        for _ in 0..REVIEW_HISTORY_MAX + 5 {
            doc.source_metadata = plan_regenerate(&doc, Reviewer::Api, now);
        }
        assert_eq!(
            review_history(&doc.source_metadata).len(),
            REVIEW_HISTORY_MAX
        );
    }
}
