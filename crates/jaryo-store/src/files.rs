//! Files: the original bytes of an uploaded file, kept inside the database in pieces so one
//! database (and a backup of it) holds the whole library, and the extraction of their text as
//! derived work on the job queue (the `extract` kind).
//!
//! An upload is streamed in: [`FileStore::begin_upload`] opens a blob, each piece of at most
//! [`FILE_PIECE_BYTES`] is written as it arrives ([`FileStore::append_upload`], a short
//! transaction each, so an upload never holds the write lock while the network is slow), and
//! [`FileStore::finish_upload`] turns the complete blob into a document in one transaction —
//! or, when a live document already holds the same bytes (same SHA-256), drops the blob and
//! answers that document ([`FileIntake::duplicate`]). A blob never finished (a client that
//! left, a process that died) is swept once it is [`ABANDONED_UPLOAD_AFTER`] old. Bytes go out
//! the same way, a piece at a time ([`FileStore::read_file_piece`]); no step holds more than a
//! piece.
//!
//! The rules both backends follow are here as pure functions: what an extraction's result
//! writes into the document ([`plan_extracted_document`]) and what a document's `extraction`
//! says, from its job and its file's last outcome ([`extraction_view`]).

use crate::StoreResult;
use crate::jobs::{JobClaim, JobOutcome, JobState, Settled};
use async_trait::async_trait;
use jaryo_domain::{
    DOCUMENT_TEXT_MAX_BYTES, Document, DocumentId, Extraction, ExtractionState, FileInfo, FileName,
    PageSpan,
};
use std::time::Duration;

/// The most bytes one stored piece holds: large enough that a 100 MiB file is 400 rows, small
/// enough that streaming holds little memory.
pub const FILE_PIECE_BYTES: usize = 256 * 1024;

/// An unfinished upload whose last piece is older than this is abandoned and swept.
pub const ABANDONED_UPLOAD_AFTER: Duration = Duration::from_secs(60 * 60);

/// An upload in flight: its blob's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UploadId(pub i64);

/// What is known of an upload once its last piece is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedUpload {
    pub name: FileName,
    pub media_type: String,
    pub size: u64,
    /// Lowercase hex of the SHA-256 of the bytes.
    pub sha256: String,
    /// How many pieces were written (`0..pieces`).
    pub pieces: u32,
}

/// What finishing an upload made.
#[derive(Debug, Clone, PartialEq)]
pub struct FileIntake {
    pub document: Document,
    /// A live document already held the same bytes: it is `document`, and nothing new was
    /// kept.
    pub duplicate: bool,
}

/// A document's file as stored, with where its extraction stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub document_id: DocumentId,
    pub info: FileInfo,
    pub extraction: Extraction,
    /// How many pieces hold its bytes (`0..pieces`).
    pub pieces: u32,
    /// Where each page's text lies in the document's `extracted_text`.
    pub page_spans: Vec<PageSpan>,
}

/// What an engine made of a file: the result a settlement writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractedFile {
    /// The file's text was read.
    Text {
        text: String,
        markdown: String,
        /// The engine's name and version (`md_extraction_engine`).
        engine: String,
        pages: Vec<PageSpan>,
        page_count: Option<u32>,
    },
    /// A file jaryo keeps but cannot read; found by its name.
    Unsupported { reason: String },
    /// A picture of text and no OCR engine to read it.
    NeedsOcr { reason: String },
    /// The file cannot be read (broken, encrypted, too large to unpack): retrying will not
    /// help.
    Unreadable { reason: String },
}

impl ExtractedFile {
    /// The state it leaves the file in.
    pub fn state(&self) -> ExtractionState {
        match self {
            ExtractedFile::Text { .. } => ExtractionState::Done,
            ExtractedFile::Unsupported { .. } => ExtractionState::Unsupported,
            ExtractedFile::NeedsOcr { .. } => ExtractionState::NeedsOcr,
            ExtractedFile::Unreadable { .. } => ExtractionState::Failed,
        }
    }

    /// The queue's side of it: each ends the job (an unreadable file is failed at once, with
    /// its reason, rather than retried).
    pub fn job_outcome(&self) -> JobOutcome {
        match self {
            ExtractedFile::Unreadable { reason } => JobOutcome::Failed {
                error: reason.clone(),
            },
            _ => JobOutcome::Done { attempts: 1 },
        }
    }
}

/// What a settled extraction writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedDocumentWrite {
    /// `extracted_text` (kept whole but for NUL characters, which no store keeps, cut at
    /// [`DOCUMENT_TEXT_MAX_BYTES`]); `None` leaves the document's text as it is.
    pub text: Option<String>,
    /// `md_content`, written only while the document's content is still the file's own.
    pub markdown: Option<String>,
    pub engine: Option<String>,
    /// The file's row.
    pub state: ExtractionState,
    pub error: Option<String>,
    pub pages: Option<u32>,
    pub page_spans: Vec<PageSpan>,
}

/// What a settlement writes for `result`.
pub fn plan_extracted_document(result: &ExtractedFile) -> ExtractedDocumentWrite {
    match result {
        ExtractedFile::Text {
            text,
            markdown,
            engine,
            pages,
            page_count,
        } => {
            let (text, removed) = storable_text(text);
            let spans = if removed == 0 {
                pages
                    .iter()
                    .filter(|span| span.start <= span.end && span.end <= text.len())
                    .copied()
                    .collect()
            } else {
                // The offsets moved; pages are still counted, but not placed.
                Vec::new()
            };
            let (markdown, _) = storable_text(markdown);
            let has_text = !text.trim().is_empty();
            ExtractedDocumentWrite {
                text: has_text.then_some(text),
                markdown: (has_text && !markdown.trim().is_empty()).then_some(markdown),
                engine: Some(engine.clone()),
                state: ExtractionState::Done,
                error: None,
                pages: page_count.or_else(|| spans.last().map(|span: &PageSpan| span.number)),
                page_spans: spans,
            }
        }
        ExtractedFile::Unsupported { reason }
        | ExtractedFile::NeedsOcr { reason }
        | ExtractedFile::Unreadable { reason } => ExtractedDocumentWrite {
            text: None,
            markdown: None,
            engine: None,
            state: result.state(),
            error: Some(reason.clone()),
            pages: None,
            page_spans: Vec::new(),
        },
    }
}

/// `text` without NUL characters and cut (at a character boundary) to what a document keeps;
/// how many bytes were removed.
fn storable_text(text: &str) -> (String, usize) {
    let mut kept: String = if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text.to_owned()
    };
    if kept.len() > DOCUMENT_TEXT_MAX_BYTES {
        let mut end = DOCUMENT_TEXT_MAX_BYTES;
        while !kept.is_char_boundary(end) {
            end -= 1;
        }
        kept.truncate(end);
    }
    let removed = text.len() - kept.len();
    (kept, removed)
}

/// A file's job as a document's `extraction` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractJobRow {
    pub state: JobState,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// What a document's `extraction` says: the job while it is queued, running or failed (the
/// queue's own failures, such as a lapsed last lease, are the job's), else how the last
/// extraction ended, as the file's row records it.
pub fn extraction_view(
    job: Option<&ExtractJobRow>,
    file_state: ExtractionState,
    file_error: Option<String>,
    engine: Option<String>,
) -> Extraction {
    let attempts = job.map_or(0, |job| job.attempts);
    let (state, error) = match job.map(|job| job.state) {
        Some(JobState::Pending) => (
            ExtractionState::Pending,
            job.and_then(|job| job.last_error.clone()),
        ),
        Some(JobState::Running) => (
            ExtractionState::Running,
            job.and_then(|job| job.last_error.clone()),
        ),
        Some(JobState::Failed) => (
            ExtractionState::Failed,
            job.and_then(|job| job.last_error.clone()).or(file_error),
        ),
        _ => (file_state, file_error),
    };
    Extraction {
        state,
        engine: (state == ExtractionState::Done).then_some(engine).flatten(),
        attempts,
        error,
    }
}

/// The document a file becomes: its title is the file's name, so it is found by it before
/// (and whether or not) its text is read.
pub fn file_document_title(name: &FileName) -> String {
    let title: String = name
        .as_str()
        .chars()
        .take(jaryo_domain::TITLE_MAX_CHARS)
        .collect();
    title
}

/// How much of a file's start [`IncomingFile`] keeps, to tell its kind.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Why a file was not taken in.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the file is empty: there is nothing to keep")]
    Empty,
    #[error("the file is larger than the limit of {max} bytes")]
    TooLarge { max: u64 },
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// A file on its way into the store, from whatever reads it (an HTTP body, a file on disk):
/// its bytes pushed chunk by chunk are written in pieces of [`FILE_PIECE_BYTES`] and hashed as
/// they pass, so at most one piece is held. The one way in for every intake (the API, `jaryo
/// add`, the inbox folder), so they dedupe and refuse alike.
pub struct IncomingFile<'a> {
    store: &'a dyn FileStore,
    upload: UploadId,
    max_bytes: u64,
    piece: Vec<u8>,
    head: Vec<u8>,
    hasher: sha2::Sha256,
    size: u64,
    pieces: u32,
}

impl<'a> IncomingFile<'a> {
    /// Opens an upload for a file of at most `max_bytes`.
    pub async fn begin(store: &'a dyn FileStore, max_bytes: u64) -> StoreResult<Self> {
        use sha2::Digest;
        Ok(Self {
            upload: store.begin_upload().await?,
            store,
            max_bytes,
            piece: Vec::with_capacity(FILE_PIECE_BYTES),
            head: Vec::with_capacity(SNIFF_BYTES),
            hasher: sha2::Sha256::new(),
            size: 0,
            pieces: 0,
        })
    }

    /// The next bytes of the file. Past the limit: [`IntakeError::TooLarge`] (then
    /// [`IncomingFile::abandon`] it).
    pub async fn push(&mut self, mut chunk: &[u8]) -> Result<(), IntakeError> {
        use sha2::Digest;
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            return Err(IntakeError::TooLarge {
                max: self.max_bytes,
            });
        }
        self.hasher.update(chunk);
        if self.head.len() < SNIFF_BYTES {
            let wanted = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..wanted]);
        }
        while !chunk.is_empty() {
            let room = FILE_PIECE_BYTES - self.piece.len();
            let (now, rest) = chunk.split_at(room.min(chunk.len()));
            self.piece.extend_from_slice(now);
            chunk = rest;
            if self.piece.len() == FILE_PIECE_BYTES {
                self.write_piece().await?;
            }
        }
        Ok(())
    }

    async fn write_piece(&mut self) -> Result<(), IntakeError> {
        self.store
            .append_upload(self.upload, self.pieces, &self.piece)
            .await?;
        self.pieces += 1;
        self.piece.clear();
        Ok(())
    }

    /// The file's first bytes (up to [`SNIFF_BYTES`]), to tell its kind.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Bytes pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Ends the file: a new document, or the live one that already holds these bytes.
    /// `media_type` is told the name and the file's first bytes.
    pub async fn finish(
        mut self,
        name: FileName,
        media_type: impl FnOnce(&str, &[u8]) -> String,
    ) -> Result<FileIntake, IntakeError> {
        use sha2::Digest;
        let outcome = async {
            if self.size == 0 {
                return Err(IntakeError::Empty);
            }
            if !self.piece.is_empty() {
                self.write_piece().await?;
            }
            let finished = FinishedUpload {
                media_type: media_type(name.as_str(), &self.head),
                name,
                size: self.size,
                sha256: hex(&self.hasher.clone().finalize()),
                pieces: self.pieces,
            };
            Ok(self.store.finish_upload(self.upload, &finished).await?)
        }
        .await;
        if outcome.is_err() {
            let _ = self.store.abandon_upload(self.upload).await;
        }
        outcome
    }

    /// Drops the file and whatever of it was written.
    pub async fn abandon(self) {
        let _ = self.store.abandon_upload(self.upload).await;
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// Files kept in the database, and their extraction. Every backend implements it; `Store`
/// requires it.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Opens a new upload (and sweeps uploads abandoned [`ABANDONED_UPLOAD_AFTER`] ago).
    async fn begin_upload(&self) -> StoreResult<UploadId>;
    /// Writes piece `seq` (from 0, at most [`FILE_PIECE_BYTES`]) of an unfinished upload.
    async fn append_upload(&self, upload: UploadId, seq: u32, bytes: &[u8]) -> StoreResult<()>;
    /// Turns a complete upload into a document (`content_origin = file`, titled by the
    /// file's name, searchable by it at once, its extraction queued) in one transaction; or,
    /// when a live document holds the same bytes, drops the upload and answers that one.
    async fn finish_upload(
        &self,
        upload: UploadId,
        finished: &FinishedUpload,
    ) -> StoreResult<FileIntake>;
    /// Drops an unfinished upload and its pieces.
    async fn abandon_upload(&self, upload: UploadId) -> StoreResult<()>;
    /// The files of those of `documents` that are live and have one, in no particular order.
    async fn files_of(&self, documents: &[DocumentId]) -> StoreResult<Vec<StoredFile>>;
    /// Piece `seq` of a live document's file; `None` past the last piece.
    async fn read_file_piece(&self, document: DocumentId, seq: u32)
    -> StoreResult<Option<Vec<u8>>>;
    /// Ends an extraction claim under its fence ([`crate::jobs::plan_settle`]); when it
    /// applies and `result` is given, writes [`plan_extracted_document`] in the same
    /// transaction (and re-indexes the document's new text).
    async fn settle_extraction(
        &self,
        claim: &JobClaim,
        outcome: &JobOutcome,
        result: Option<&ExtractedFile>,
    ) -> StoreResult<Settled>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_nul_keeps_its_pages() {
        let write = plan_extracted_document(&ExtractedFile::Text {
            text: "첫 쪽\n둘째 쪽".into(),
            markdown: "첫 쪽\n\n둘째 쪽".into(),
            engine: "pdf 1".into(),
            pages: vec![
                PageSpan {
                    number: 1,
                    start: 0,
                    end: 7,
                },
                PageSpan {
                    number: 2,
                    start: 8,
                    end: 17,
                },
            ],
            page_count: None,
        });
        assert_eq!(write.state, ExtractionState::Done);
        assert_eq!(write.pages, Some(2));
        assert_eq!(write.page_spans.len(), 2);
        assert_eq!(write.text.as_deref(), Some("첫 쪽\n둘째 쪽"));
    }

    #[test]
    fn nul_characters_are_dropped_and_spans_past_the_text_too() {
        let write = plan_extracted_document(&ExtractedFile::Text {
            text: "a\0b".into(),
            markdown: String::new(),
            engine: "text 1".into(),
            pages: vec![PageSpan {
                number: 1,
                start: 0,
                end: 3,
            }],
            page_count: Some(1),
        });
        assert_eq!(write.text.as_deref(), Some("ab"));
        assert_eq!(write.markdown, None);
        assert!(write.page_spans.is_empty());
        assert_eq!(write.pages, Some(1));
    }

    #[test]
    fn blank_text_leaves_the_document_without_one() {
        let write = plan_extracted_document(&ExtractedFile::Text {
            text: "  \n".into(),
            markdown: String::new(),
            engine: "text 1".into(),
            pages: Vec::new(),
            page_count: None,
        });
        assert_eq!(write.text, None);
        assert_eq!(write.state, ExtractionState::Done);
    }

    #[test]
    fn the_view_follows_the_job_then_the_file() {
        let running = ExtractJobRow {
            state: JobState::Running,
            attempts: 1,
            last_error: None,
        };
        let view = extraction_view(Some(&running), ExtractionState::Pending, None, None);
        assert_eq!(view.state, ExtractionState::Running);
        let done = ExtractJobRow {
            state: JobState::Done,
            attempts: 1,
            last_error: None,
        };
        let view = extraction_view(
            Some(&done),
            ExtractionState::NeedsOcr,
            Some("no OCR".into()),
            Some("image 1".into()),
        );
        assert_eq!(view.state, ExtractionState::NeedsOcr);
        assert_eq!(view.engine, None);
        assert_eq!(view.error.as_deref(), Some("no OCR"));
        let failed = ExtractJobRow {
            state: JobState::Failed,
            attempts: 3,
            last_error: Some("worker stopped".into()),
        };
        let view = extraction_view(Some(&failed), ExtractionState::Pending, None, None);
        assert_eq!(view.state, ExtractionState::Failed);
        assert_eq!(view.error.as_deref(), Some("worker stopped"));
    }
}
