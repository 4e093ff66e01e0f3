//! Exporting a library as a folder of Markdown files that opens as an Obsidian vault.
//!
//! ```text
//! jaryo-export.json          what this folder is (written last: a folder without it is
//!                            an export that did not finish)
//! memos/<date> <first words>.md
//! documents/<title>.md       what the person accepted, or the original when nothing was
//! originals/<title>.md       the original, verbatim, beside an accepted draft
//! ```
//!
//! Each file opens with YAML front matter: id, title, tags, times, where the content came
//! from, the draft's state, the memo a document came from, the fidelity summary and the rest
//! of the document's metadata. Memos and documents are read a page at a time, so memory
//! stays bounded whatever the library's size. Files are readable by their owner only, like
//! the library itself.

use crate::file_names::{NameSet, portable_stem};
use jaryo_domain::{Document, MdDraftStatus, Memo, Timestamp};
use jaryo_store::{DocumentFilter, MemoFilter, PAGE_LIMIT_MAX, PageRequest, Store, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The name of the file that marks a finished export.
pub const MANIFEST: &str = "jaryo-export.json";
/// The format this code writes; an import reads the versions it knows.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct ExportSummary {
    pub memos: u64,
    pub documents: u64,
    /// Originals written beside accepted drafts.
    pub originals: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct ExportProgress {
    pub memos: u64,
    pub documents: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0} is not empty: export into a new or empty folder")]
    NotEmpty(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the front matter of {path}: {message}")]
    FrontMatter { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Serialize)]
struct Manifest {
    format: &'static str,
    version: u32,
    exported_at: String,
    memos: u64,
    documents: u64,
}

#[derive(Serialize)]
struct MemoProperties<'a> {
    jaryo: &'static str,
    id: i64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    created: String,
    updated: String,
    /// The document this memo was promoted to.
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<i64>,
}

#[derive(Serialize)]
struct DocumentProperties<'a> {
    jaryo: &'static str,
    id: i64,
    title: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    created: String,
    updated: String,
    content_origin: &'static str,
    draft: DraftProperties,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_memo: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fidelity: Option<&'a Value>,
    /// Where the original is, when the body is an accepted draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    original: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    source_metadata: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct DraftProperties {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    review: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engine: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generated: Option<String>,
}

fn time(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Where an export's files go: a folder ([`FolderSink`]) or a zip archive ([`ZipSink`]).
/// Paths use `/` between folders.
pub trait ExportSink: Send {
    fn add_file(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()>;
}

/// Writes every live memo and document of `store` under `dir` (made if missing; refused when
/// it holds anything).
pub async fn export_to_folder(
    store: &dyn Store,
    dir: &Path,
    progress: &(dyn Fn(ExportProgress) + Send + Sync),
) -> Result<ExportSummary, ExportError> {
    let mut sink = FolderSink::create(dir)?;
    export_library(store, &mut sink, progress).await
}

/// Writes every live memo and document of `store` into `sink`, the manifest last.
pub async fn export_library(
    store: &dyn Store,
    sink: &mut dyn ExportSink,
    progress: &(dyn Fn(ExportProgress) + Send + Sync),
) -> Result<ExportSummary, ExportError> {
    let mut summary = ExportSummary::default();
    let report = |s: &ExportSummary| {
        progress(ExportProgress {
            memos: s.memos,
            documents: s.documents,
        });
    };

    let mut memo_names = NameSet::default();
    let mut before = None;
    loop {
        let page = store
            .list_memos(
                &MemoFilter::default(),
                PageRequest::new(Some(PAGE_LIMIT_MAX), before),
            )
            .await?;
        for memo in &page.items {
            let name = memo_names.claim(&memo_stem(memo), "md");
            summary.bytes += add(sink, &format!("memos/{name}"), memo_note(memo))?;
            summary.memos += 1;
        }
        report(&summary);
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }

    let mut document_names = NameSet::default();
    let mut before = None;
    loop {
        let page = store
            .list_documents(
                &DocumentFilter::default(),
                PageRequest::new(Some(PAGE_LIMIT_MAX), before),
            )
            .await?;
        for document in &page.items {
            let name = document_names.claim(&portable_stem(&document.title), "md");
            let original = match accepted_draft(document) {
                Some(_) => {
                    let path = format!("originals/{name}");
                    let text = document.extracted_text.clone().unwrap_or_default();
                    summary.bytes += add(sink, &path, Ok(text))?;
                    summary.originals += 1;
                    Some(path)
                }
                None => None,
            };
            let path = format!("documents/{name}");
            summary.bytes += add(sink, &path, document_note(document, original))?;
            summary.documents += 1;
        }
        report(&summary);
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }

    let manifest = Manifest {
        format: "jaryo-export",
        version: FORMAT_VERSION,
        exported_at: time(chrono::Utc::now()),
        memos: summary.memos,
        documents: summary.documents,
    };
    let manifest = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string());
    summary.bytes += add(sink, MANIFEST, manifest)?;
    Ok(summary)
}

fn add(
    sink: &mut dyn ExportSink,
    path: &str,
    content: Result<String, String>,
) -> Result<u64, ExportError> {
    let content = content.map_err(|message| ExportError::FrontMatter {
        path: PathBuf::from(path),
        message,
    })?;
    sink.add_file(path, content.as_bytes())
        .map_err(|source| ExportError::Write {
            path: PathBuf::from(path),
            source,
        })?;
    Ok(content.len() as u64)
}

/// The accepted draft, when the person accepted one: what they read as the document.
fn accepted_draft(document: &Document) -> Option<&str> {
    (document.md_draft_status == Some(MdDraftStatus::Accepted))
        .then_some(document.md_content.as_deref())
        .flatten()
}

fn memo_stem(memo: &Memo) -> String {
    let first_words: String = memo
        .content
        .lines()
        .map(|line| line.trim().trim_start_matches('#').trim())
        .find(|line| !line.is_empty())
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    portable_stem(&format!(
        "{} {first_words}",
        memo.created_at.format("%Y-%m-%d")
    ))
}

fn memo_note(memo: &Memo) -> Result<String, String> {
    let properties = MemoProperties {
        jaryo: "memo",
        id: memo.id.0,
        tags: &memo.tags,
        created: time(memo.created_at),
        updated: time(memo.updated_at),
        document: memo.document_id.map(|d| d.0),
    };
    crate::front_matter::render(&properties, &memo.content)
}

fn document_note(document: &Document, original: Option<String>) -> Result<String, String> {
    let body = accepted_draft(document)
        .or(document.extracted_text.as_deref())
        .or(document.md_content.as_deref())
        .unwrap_or_default();
    let properties = DocumentProperties {
        jaryo: "document",
        id: document.id.0,
        title: &document.title,
        tags: document.tags(),
        created: time(document.created_at),
        updated: time(document.updated_at),
        content_origin: document.content_origin.as_str(),
        draft: DraftProperties {
            state: document.draft.state.as_str(),
            review: document.md_draft_status.map(MdDraftStatus::as_str),
            engine: document.md_extraction_engine.clone(),
            generated: document.md_generated_at.map(time),
        },
        from_memo: document.source_metadata.get("memo_id"),
        fidelity: document.source_metadata.get("fidelity"),
        original,
        source_metadata: &document.source_metadata,
    };
    crate::front_matter::render(&properties, body)
}

/// An export into a folder, checked empty and made private; subfolders are made as files
/// need them.
pub struct FolderSink {
    root: PathBuf,
}

impl FolderSink {
    pub fn create(path: &Path) -> Result<Self, ExportError> {
        let failed = |source| ExportError::Write {
            path: path.to_owned(),
            source,
        };
        match std::fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(ExportError::NotEmpty(path.to_owned()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path).map_err(failed)?;
            }
            Err(e) => return Err(failed(e)),
        }
        private_dir(path).map_err(failed)?;
        Ok(Self {
            root: path.to_owned(),
        })
    }
}

impl ExportSink for FolderSink {
    fn add_file(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        let mut target = self.root.clone();
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            target.push(part);
            if parts.peek().is_some() && !target.is_dir() {
                std::fs::create_dir(&target)?;
                private_dir(&target)?;
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&target)?.write_all(bytes)
    }
}

/// An export into a zip archive (what `GET /api/v1/export` sends).
pub struct ZipSink<W: Write + std::io::Seek + Send> {
    zip: zip::ZipWriter<W>,
}

impl<W: Write + std::io::Seek + Send> ZipSink<W> {
    pub fn new(writer: W) -> Self {
        Self {
            zip: zip::ZipWriter::new(writer),
        }
    }

    /// Writes the archive's directory; without it the archive cannot be read.
    pub fn finish(self) -> std::io::Result<W> {
        self.zip.finish().map_err(std::io::Error::other)
    }
}

impl<W: Write + std::io::Seek + Send> ExportSink for ZipSink<W> {
    fn add_file(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o600);
        self.zip
            .start_file(path, options)
            .map_err(std::io::Error::other)?;
        self.zip.write_all(bytes)
    }
}

#[cfg(unix)]
fn private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn private_dir(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
