//! What every store decides about documents, once: a promoted memo's document, which origins
//! a direct write may claim, and when an edit makes a draft stale. Pure functions over domain
//! values; each backend reads its rows, asks, and writes the answer in its own SQL.

use crate::drafts::metadata_time;
use crate::{DocumentPatch, StoreError, StoreResult};
use jaryo_domain::{
    ContentOrigin, Document, DocumentId, DraftState, MdDraftStatus, MemoId, Timestamp, derive_title,
};
use serde_json::{Map, Value};

/// A memo's document as a promote writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotedDocument {
    pub title: String,
    /// Provenance: the memo and when it was promoted.
    pub source_metadata: Map<String, Value>,
}

/// The rule of promoting: a memo whose document still lives is promoted already; otherwise
/// its text becomes a new document titled after its first line, recording where it came from.
/// `linked_live` is the memo's linked document if that document is live.
pub fn plan_promote(
    memo: MemoId,
    content: &str,
    linked_live: Option<DocumentId>,
    now: Timestamp,
) -> StoreResult<PromotedDocument> {
    if let Some(document_id) = linked_live {
        return Err(StoreError::AlreadyPromoted {
            memo_id: memo,
            document_id,
        });
    }
    let mut source_metadata = Map::new();
    source_metadata.insert("memo_id".into(), Value::from(memo.0));
    source_metadata.insert("promoted_at".into(), Value::from(metadata_time(now)));
    Ok(PromotedDocument {
        title: derive_title(content),
        source_metadata,
    })
}

/// A direct write makes `user` and `import` documents; `memo` and `ai_drafted` content come
/// only from a promote and a draft.
pub fn check_direct_origin(origin: ContentOrigin) -> StoreResult<()> {
    match origin {
        ContentOrigin::Memo | ContentOrigin::File | ContentOrigin::AiDrafted => {
            Err(StoreError::Constraint(format!(
                "a document cannot be created with content_origin {origin}"
            )))
        }
        ContentOrigin::User | ContentOrigin::Import => Ok(()),
    }
}

/// Whether an applied patch queues a fresh draft: new text makes a finished but unreviewed
/// draft stale. Work that is pending or running needs nothing (the worker sees the new
/// version when it settles and starts over); a reviewed draft (accepted or rejected) is the
/// person's and is left alone.
pub fn edit_requeues_draft(patch: &DocumentPatch, document: &Document) -> bool {
    patch.extracted_text.is_some()
        && matches!(
            document.draft.state,
            DraftState::Done | DraftState::Skipped | DraftState::Failed
        )
        && matches!(document.md_draft_status, None | Some(MdDraftStatus::Draft))
}
