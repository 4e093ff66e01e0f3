//! Files: the original bytes of an uploaded file, kept in the database beside the document
//! made from them, and where the extraction of its text stands.
//!
//! A file's name is what the person's system called it, kept as given but for what would make
//! it unsafe to show or to write back (directories, control characters); its bytes are kept
//! exactly.

use crate::InputError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The largest file accepted when no limit is configured: 100 MiB.
pub const FILE_MAX_BYTES_DEFAULT: u64 = 100 * 1024 * 1024;
/// The longest file name kept, in bytes of UTF-8 (what most file systems allow).
pub const FILE_NAME_MAX_BYTES: usize = 255;

/// A file's name: its last path component, no control characters, not empty, at most
/// [`FILE_NAME_MAX_BYTES`] (cut at a character boundary, the extension kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    /// The name a client gave (it may carry a path: only its last component counts).
    pub fn parse(given: &str) -> Result<Self, InputError> {
        let last = given.rsplit(['/', '\\']).next().unwrap_or("");
        let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
        let cleaned = cleaned.trim();
        if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
            return Err(InputError::Empty { field: "file name" });
        }
        Ok(Self(cut_keeping_extension(cleaned, FILE_NAME_MAX_BYTES)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The extension, lowercased, without its dot (`pdf`), if the name has one.
    pub fn extension(&self) -> Option<String> {
        let (stem, extension) = self.0.rsplit_once('.')?;
        (!stem.is_empty() && !extension.is_empty()).then(|| extension.to_lowercase())
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn cut_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension)
        .filter(|extension| extension.len() <= 16)
        .unwrap_or("");
    let room = max
        - if extension.is_empty() {
            0
        } else {
            extension.len() + 1
        };
    let mut end = room;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    if extension.is_empty() {
        name[..end].to_owned()
    } else {
        format!("{}.{extension}", &name[..end])
    }
}

/// What a document's JSON says about its file (`file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileInfo {
    /// The file's name as uploaded (its last path component).
    pub name: String,
    /// Its media type, from what its bytes and name say (`application/pdf`).
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, lowercase hex: the same bytes uploaded again are a duplicate.
    pub sha256: String,
    /// How many pages it has, once extracted, for formats with pages.
    pub pages: Option<u32>,
}

/// Where the extraction of a file's text stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExtractionState {
    /// Waiting for a worker (possibly until a retry's time).
    Pending,
    /// A worker is reading the file.
    Running,
    /// The text was read: `extracted_text` and `md_content` hold it.
    Done,
    /// Every attempt failed, or the file cannot be read (broken, encrypted); `error` says why.
    /// The person can retry.
    Failed,
    /// A kind of file jaryo keeps but cannot read; it is found by its name.
    Unsupported,
    /// The file's text is an image (a scan, a photo) and no OCR engine is installed.
    NeedsOcr,
}

impl ExtractionState {
    pub const ALL: &'static [ExtractionState] = &[
        ExtractionState::Pending,
        ExtractionState::Running,
        ExtractionState::Done,
        ExtractionState::Failed,
        ExtractionState::Unsupported,
        ExtractionState::NeedsOcr,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExtractionState::Pending => "pending",
            ExtractionState::Running => "running",
            ExtractionState::Done => "done",
            ExtractionState::Failed => "failed",
            ExtractionState::Unsupported => "unsupported",
            ExtractionState::NeedsOcr => "needs_ocr",
        }
    }

    /// Whether the work has ended (a person may ask for it again).
    pub fn is_settled(self) -> bool {
        !matches!(self, ExtractionState::Pending | ExtractionState::Running)
    }
}

impl fmt::Display for ExtractionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExtractionState {
    type Err = crate::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExtractionState::ALL
            .iter()
            .copied()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| crate::UnknownValue {
                kind: "ExtractionState",
                value: s.to_owned(),
            })
    }
}

/// What a document's JSON says about the extraction of its file's text (`extraction`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Extraction {
    pub state: ExtractionState,
    /// The engine that read the file, with its version (`pdf-text 0.1`), once it did.
    pub engine: Option<String>,
    /// Attempts made for the current request (a retry starts again at zero).
    pub attempts: u32,
    /// Why the last attempt failed or why the file cannot be read, for a person.
    pub error: Option<String>,
}

/// Where one page's text lies in a document's `extracted_text`: bytes `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSpan {
    /// The page's number, from 1.
    pub number: u32,
    pub start: usize,
    pub end: usize,
}

/// The page holding byte `offset` of the text the spans describe: the last page starting at
/// or before it (text between two pages belongs to the one before).
pub fn page_at(spans: &[PageSpan], offset: usize) -> Option<u32> {
    spans
        .iter()
        .take_while(|span| span.start <= offset)
        .last()
        .map(|span| span.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_their_last_component() {
        assert_eq!(
            FileName::parse("C:\\문서\\회의록.hwp").unwrap().as_str(),
            "회의록.hwp"
        );
        assert_eq!(
            FileName::parse("../../etc/passwd").unwrap().as_str(),
            "passwd"
        );
        assert_eq!(FileName::parse("a\u{0}b\n.txt").unwrap().as_str(), "ab.txt");
        assert!(FileName::parse("dir/").is_err());
        assert!(FileName::parse("  ").is_err());
        assert!(FileName::parse("..").is_err());
    }

    #[test]
    fn long_file_names_are_cut_keeping_their_extension() {
        let name = FileName::parse(&format!("{}.pdf", "가".repeat(200))).unwrap();
        assert!(name.as_str().len() <= FILE_NAME_MAX_BYTES);
        assert!(name.as_str().ends_with("가.pdf"));
        assert_eq!(name.extension().as_deref(), Some("pdf"));
        assert_eq!(FileName::parse(".bashrc").unwrap().extension(), None);
        assert_eq!(
            FileName::parse("Report.PDF")
                .unwrap()
                .extension()
                .as_deref(),
            Some("pdf")
        );
    }

    #[test]
    fn a_text_offset_names_its_page() {
        let spans = [
            PageSpan {
                number: 1,
                start: 0,
                end: 10,
            },
            PageSpan {
                number: 2,
                start: 12,
                end: 30,
            },
        ];
        assert_eq!(page_at(&spans, 0), Some(1));
        assert_eq!(page_at(&spans, 11), Some(1));
        assert_eq!(page_at(&spans, 12), Some(2));
        assert_eq!(page_at(&spans, 100), Some(2));
        assert_eq!(page_at(&[], 5), None);
    }

    #[test]
    fn extraction_states_round_trip_through_their_names() {
        for state in ExtractionState::ALL {
            assert_eq!(state.as_str().parse::<ExtractionState>(), Ok(*state));
        }
    }
}
