//! Documents: the library. A document keeps its original text (`extracted_text`) untouched
//! forever; the canonical Markdown (`md_content`) may come from the person or from a reviewed
//! model draft.
//!
//! Column and field names follow the seed (`extracted_text`, `md_content`, `content_origin`,
//! `md_status`, `md_draft_status`, `md_extraction_engine`, `md_generated_at`,
//! `source_metadata`), because other tools read them.
//!
//! Invariant (the seed's migration 212, enforced by the database): `md_draft_status` is set only
//! when `content_origin` is `ai_drafted`.

use crate::{DocumentId, InputError, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The largest document text accepted, in bytes of UTF-8.
pub const DOCUMENT_TEXT_MAX_BYTES: usize = 16 * 1024 * 1024;
/// The longest title accepted, in characters.
pub const TITLE_MAX_CHARS: usize = 300;

/// Where a document's current content came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContentOrigin {
    /// Written as a document by the person.
    User,
    /// Promoted from a memo, not drafted yet.
    Memo,
    /// Imported from a file.
    Import,
    /// Extracted from an uploaded file (the file itself is kept beside the document).
    File,
    /// `md_content` is a model draft (reviewed or not; see `md_draft_status`).
    AiDrafted,
}

/// Review state of a model draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MdDraftStatus {
    /// Waiting for the person's review.
    Draft,
    Accepted,
    Rejected,
}

/// Where the drafting work for a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    /// No draft requested.
    None,
    /// Waiting for a worker (possibly until `next_attempt_at`, after a failed attempt).
    Pending,
    /// Claimed by a worker holding a lease.
    Running,
    /// A draft was written.
    Done,
    /// Nothing to draft (text too short, or the model answered nothing).
    Skipped,
    /// Every attempt failed; `last_error` says why. The person can retry.
    Failed,
}

macro_rules! string_enum {
    ($ty:ident { $($variant:ident => $s:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $s),+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok($ty::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($ty), value: s.to_owned() }),
                }
            }
        }
    };
}

/// A stored or requested value that names no variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} value {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

string_enum!(ContentOrigin {
    User => "user",
    Memo => "memo",
    Import => "import",
    File => "file",
    AiDrafted => "ai_drafted",
});
string_enum!(MdDraftStatus { Draft => "draft", Accepted => "accepted", Rejected => "rejected" });
string_enum!(DraftState {
    None => "none",
    Pending => "pending",
    Running => "running",
    Done => "done",
    Skipped => "skipped",
    Failed => "failed",
});

/// The drafting work attached to a document: explicit, inspectable state (SPEC §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftWork {
    pub state: DraftState,
    /// Model calls made for the current request (a redraft starts again at zero).
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When the next attempt may start; `None` means as soon as a worker is free.
    pub next_attempt_at: Option<Timestamp>,
    /// Which worker holds the claim, while `Running`.
    pub lease_owner: Option<String>,
    /// When the claim lapses if its owner stops renewing it.
    pub lease_expires_at: Option<Timestamp>,
}

impl DraftWork {
    pub fn none() -> Self {
        Self {
            state: DraftState::None,
            attempts: 0,
            last_error: None,
            next_attempt_at: None,
            lease_owner: None,
            lease_expires_at: None,
        }
    }

    /// Work just queued: pending, no attempt made yet.
    pub fn queued() -> Self {
        Self {
            state: DraftState::Pending,
            ..Self::none()
        }
    }
}

/// A document as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: DocumentId,
    pub title: String,
    /// The original text, verbatim. Search and chunking use it.
    pub extracted_text: Option<String>,
    pub md_content: Option<String>,
    pub content_origin: ContentOrigin,
    pub md_status: Option<String>,
    pub md_draft_status: Option<MdDraftStatus>,
    pub md_extraction_engine: Option<String>,
    pub md_generated_at: Option<Timestamp>,
    /// Provenance and history: memo id, promoted/drafted times, model, prompt version.
    pub source_metadata: serde_json::Map<String, serde_json::Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    /// Bumped by every change to the document's content; used for optimistic concurrency.
    pub version: i64,
    pub draft: DraftWork,
    /// Tags given with the document when it was written (an import's own tags), beside the
    /// `#tags` of its text; see [`Document::tags`].
    pub given_tags: Vec<String>,
}

impl Document {
    /// Where the document's draft came from, read from its `source_metadata`.
    pub fn draft_provenance(&self) -> crate::DraftProvenance {
        crate::DraftProvenance::read(&self.source_metadata)
    }

    /// A draft awaiting the person's review that the fidelity check flagged: the "needs
    /// attention" of the API, the UI and the listings' filter.
    pub fn needs_attention(&self) -> bool {
        self.md_draft_status == Some(MdDraftStatus::Draft) && self.draft_provenance().flagged()
    }

    /// The document's tags: the given ones, then those of its original text.
    pub fn tags(&self) -> Vec<String> {
        crate::merge_tags(
            &self.given_tags,
            self.extracted_text
                .as_deref()
                .map(crate::parse_tags)
                .unwrap_or_default(),
        )
    }
}

/// Text of a document: not empty or whitespace-only, at most [`DOCUMENT_TEXT_MAX_BYTES`];
/// kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText(String);

impl DocumentText {
    pub fn parse(field: &'static str, text: String) -> Result<Self, InputError> {
        crate::check_text(field, &text, DOCUMENT_TEXT_MAX_BYTES)?;
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A document title: one line, trimmed, not empty, at most [`TITLE_MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentTitle(String);

impl DocumentTitle {
    pub fn parse(title: &str) -> Result<Self, InputError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(InputError::Empty { field: "title" });
        }
        if title.contains(['\n', '\r']) {
            return Err(InputError::NotSingleLine { field: "title" });
        }
        if title.contains('\0') {
            return Err(InputError::NulCharacter { field: "title" });
        }
        let chars = title.chars().count();
        if chars > TITLE_MAX_CHARS {
            return Err(InputError::TooLong {
                field: "title",
                max: TITLE_MAX_CHARS,
                actual: chars,
            });
        }
        Ok(Self(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A title for a document made from `text`: its first non-empty line without Markdown heading
/// or list markers, cut at a word boundary to a readable length.
pub fn derive_title(text: &str) -> String {
    const WANTED_CHARS: usize = 80;
    let line = text
        .lines()
        .map(|line| {
            line.trim()
                .trim_start_matches('#')
                .trim_start_matches(['-', '*', '+', '>'])
                .trim()
        })
        .find(|line| !line.is_empty())
        .unwrap_or("");
    if line.chars().count() <= WANTED_CHARS {
        return line.to_owned();
    }
    let cut: String = line.chars().take(WANTED_CHARS).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(space) if space > WANTED_CHARS / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_titles_from_the_first_meaningful_line() {
        assert_eq!(derive_title("\n\n# 주간 회의\n내용"), "주간 회의");
        assert_eq!(derive_title("- 장보기 목록\n- 우유"), "장보기 목록");
        let long = "word ".repeat(40);
        let title = derive_title(&long);
        assert!(title.ends_with('…'));
        assert!(title.chars().count() <= 81);
    }

    #[test]
    fn titles_are_single_trimmed_lines() {
        assert_eq!(DocumentTitle::parse("  제목 ").unwrap().as_str(), "제목");
        assert!(DocumentTitle::parse("a\nb").is_err());
        assert!(DocumentTitle::parse("   ").is_err());
        assert!(DocumentTitle::parse(&"가".repeat(TITLE_MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for state in DraftState::ALL {
            assert_eq!(state.as_str().parse::<DraftState>(), Ok(*state));
        }
        assert_eq!(
            "ai_drafted".parse::<ContentOrigin>(),
            Ok(ContentOrigin::AiDrafted)
        );
        assert!("bogus".parse::<MdDraftStatus>().is_err());
    }
}
