//! Domain types of jaryo: memos, documents, the draft work attached to a document, and the
//! rules that turn raw input into them.
//!
//! Architecture invariant: this crate does no I/O. It knows nothing of HTTP, SQL or the model
//! server; every other crate speaks in its types. Input is parsed into these types at the edge
//! (for instance [`MemoText`] cannot be empty or oversized), so inner code never re-validates.

mod clock;
mod document;
mod file;
mod ids;
mod memo;
mod provenance;
mod tags;

pub use chrono::TimeDelta;
pub use clock::{Clock, ManualClock, SystemClock, Timestamp, truncate_to_micros};
pub use document::{
    ContentOrigin, DOCUMENT_TEXT_MAX_BYTES, Document, DocumentText, DocumentTitle, DraftState,
    DraftWork, MdDraftStatus, TITLE_MAX_CHARS, UnknownValue, derive_title,
};
pub use file::{
    Extraction, ExtractionState, FILE_MAX_BYTES_DEFAULT, FILE_NAME_MAX_BYTES, FileInfo, FileName,
    PageSpan, page_at,
};
pub use ids::{DocumentId, MemoId};
pub use memo::{MEMO_TEXT_MAX_BYTES, Memo, MemoText};
pub use provenance::{DraftProvenance, FidelityFinding, FidelitySummary};
pub use tags::{merge_tags, parse_one_tag, parse_tag, parse_tags, rename_tag_in_text};

/// Why a piece of user input was refused. The HTTP layer maps each variant to 422 with a
/// stable code; the message is safe to show a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long: {actual} bytes, at most {max} allowed")]
    TooLong {
        field: &'static str,
        max: usize,
        actual: usize,
    },
    #[error("{field} must be a single line")]
    NotSingleLine { field: &'static str },
    /// PostgreSQL cannot store U+0000 in text, and no editor means one: refused on every store
    /// alike rather than failing on one.
    #[error("{field} must not contain a NUL character (U+0000)")]
    NulCharacter { field: &'static str },
}

/// The rules every kept text (a memo, a document's text) follows: not empty or whitespace-only,
/// no NUL character, at most `max_bytes` of UTF-8.
fn check_text(field: &'static str, text: &str, max_bytes: usize) -> Result<(), InputError> {
    if text.trim().is_empty() {
        return Err(InputError::Empty { field });
    }
    if text.contains('\0') {
        return Err(InputError::NulCharacter { field });
    }
    if text.len() > max_bytes {
        return Err(InputError::TooLong {
            field,
            max: max_bytes,
            actual: text.len(),
        });
    }
    Ok(())
}
