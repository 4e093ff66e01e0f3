//! Memos: quick notes, kept byte for byte as the person wrote them.

use crate::{DocumentId, InputError, MemoId, Timestamp};
use serde::{Deserialize, Serialize};

/// The largest memo accepted, in bytes of UTF-8.
pub const MEMO_TEXT_MAX_BYTES: usize = 1024 * 1024;

/// The text of a memo: not empty or whitespace-only, at most [`MEMO_TEXT_MAX_BYTES`].
///
/// The text is kept exactly as given (no trimming, no Unicode normalisation): a memo typed on a
/// Mac arrives as NFD Hangul and must come back byte for byte. Only derived data (tags, the
/// search index) is normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoText(String);

impl MemoText {
    pub fn parse(text: String) -> Result<Self, InputError> {
        crate::check_text("content", &text, MEMO_TEXT_MAX_BYTES)?;
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `#tags` this text carries.
    pub fn tags(&self) -> Vec<String> {
        crate::parse_tags(&self.0)
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for MemoText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A memo as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memo {
    pub id: MemoId,
    pub content: String,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The live document this memo was promoted to, if any.
    pub document_id: Option<DocumentId>,
    /// 1 when written, bumped by every change of the text; an edit that names an older
    /// version is refused, so two tabs cannot silently overwrite each other.
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_empty_and_whitespace_only_text() {
        for text in ["", "   ", "\n\t \u{3000}"] {
            assert_eq!(
                MemoText::parse(text.to_owned()),
                Err(InputError::Empty { field: "content" }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn refuses_text_over_the_limit_and_accepts_text_at_it() {
        let at_limit = "가".repeat(MEMO_TEXT_MAX_BYTES / 3);
        assert!(MemoText::parse(at_limit).is_ok());
        let over = "a".repeat(MEMO_TEXT_MAX_BYTES + 1);
        assert!(matches!(
            MemoText::parse(over),
            Err(InputError::TooLong { .. })
        ));
    }

    #[test]
    fn refuses_a_nul_character() {
        assert_eq!(
            MemoText::parse("회의\0메모".to_owned()),
            Err(InputError::NulCharacter { field: "content" })
        );
    }

    #[test]
    fn keeps_text_byte_for_byte() {
        // NFD Hangul (as macOS sends it), surrounding whitespace and emoji survive untouched.
        let nfd = "  \u{1112}\u{1161}\u{11ab}\u{1100}\u{1173}\u{11af} 메모 🧑‍💻\n";
        let text = MemoText::parse(nfd.to_owned()).unwrap();
        assert_eq!(text.as_str().as_bytes(), nfd.as_bytes());
    }
}
