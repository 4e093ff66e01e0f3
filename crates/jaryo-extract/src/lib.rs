//! Format engines: turn the bytes of an uploaded file into text, a Markdown rendering and pages.
//!
//! The crate is pure: it knows no store, no HTTP and no queue. The caller (the `extract` job)
//! hands it the original bytes and the file's name and gets back an [`Extracted`] or an
//! [`ExtractError`] whose [`ExtractError::code`] is stable and whose `Display` is a reason a
//! person can read.
//!
//! Invariants:
//! - Every input is untrusted. Decompression is bounded ([`Limits::max_unpacked_bytes`]), pages
//!   are bounded ([`Limits::max_pages`]), output is bounded ([`Limits::max_output_chars`]) and
//!   the work is bounded in time ([`Limits::deadline`]); a zip bomb ends [`ExtractError::TooLarge`].
//! - No input panics the caller: third-party parsers run under `catch_unwind` as a last resort,
//!   and a panic there becomes [`ExtractError::Broken`].
//! - `extract` is synchronous and CPU-bound; async callers run it in `spawn_blocking`.
//!
//! # Code map
//!
//! - `text`: encodings (BOM, UTF-8, CP949/EUC-KR and others guessed by `chardetng`).
//! - `html`: Readability (`dom_smoothie`) to Markdown; shape checks before parsing.
//! - `pdf`: `lopdf` + `pdf-extract`, pages as byte ranges; bounded inflation, form checks,
//!   encryption, scanned pages to OCR.
//! - `docx`, `hwpx`: our readers over `zipped` (a bounded zip) and `xml` (a flat pull reader).
//! - `hwp5`: our HWP 5.0 reader, distribution documents included (why our own: its docs).
//! - `ocr`: the `tesseract` command, with a timeout.
//! - `doc`: the block model the structured engines fill, rendered to text and Markdown once.
//! - [`generate`]: files of every format for tests and benchmarks.
//!
//! Crates were chosen by reading the real samples in `../shared/samples/` (see
//! `tests/samples.rs`); where no crate read a format (HWP 5.0, HWPX) or the crates that did
//! unpacked zips without a bound (DOCX), the reader is ours.

use std::io::Read;
use std::time::{Duration, Instant};

mod doc;
mod docx;
pub mod generate;
mod html;
mod hwp5;
mod hwpx;
mod ocr;
mod pdf;
mod text;
mod xml;
mod zipped;

/// Bounds applied to one file's extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_input_bytes: u64,
    /// Largest total of decompressed bytes (zip entries, HWP streams, PDF streams) per file.
    pub max_unpacked_bytes: u64,
    /// Pages past this are refused ([`ExtractError::TooLarge`]).
    pub max_pages: u32,
    /// Characters of text past this are refused ([`ExtractError::TooLarge`]).
    pub max_output_chars: usize,
    /// Wall-clock budget for one file.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 100 * 1024 * 1024,
            max_unpacked_bytes: 512 * 1024 * 1024,
            max_pages: 2000,
            max_output_chars: 20_000_000,
            deadline: Duration::from_secs(120),
        }
    }
}

/// The kinds of file jaryo knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Markdown,
    Html,
    Pdf,
    Docx,
    Hwpx,
    Hwp,
    Png,
    Jpeg,
    Other,
}

impl Format {
    /// The IANA media type a file of this format is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain",
            Format::Markdown => "text/markdown",
            Format::Html => "text/html",
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Hwpx => "application/hwp+zip",
            Format::Hwp => "application/x-hwp",
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Other => "application/octet-stream",
        }
    }

    /// A short lowercase name, for logs and reasons.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Hwpx => "hwpx",
            Format::Hwp => "hwp",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Other => "other",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One page of the extracted text: `text[start..end]` (byte offsets on char boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number, as the document counts it.
    pub number: u32,
    pub start: usize,
    pub end: usize,
}

/// What an engine read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Plain text: what search, chunks and Ask read.
    pub text: String,
    /// A Markdown rendering keeping the structure the format has (headings, lists, tables).
    pub markdown: String,
    /// Byte ranges of `text`, one per page, for formats that have pages (PDF); empty otherwise.
    pub pages: Vec<Page>,
    /// How many pages the file has, where the format says.
    pub page_count: Option<u32>,
    /// The document's own title, where the format carries one.
    pub title: Option<String>,
    /// The engine's name and version, e.g. `jaryo-hwp5 0.1`.
    pub engine: String,
}

/// Why a file gave no text. [`ExtractError::code`] is stable; `Display` is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("{format} files are kept but their text is not read")]
    Unsupported { format: Format },
    #[error("the file has no text layer and needs OCR: {reason}")]
    NeedsOcr { reason: String },
    #[error("the file is encrypted: {reason}")]
    Encrypted { reason: String },
    #[error("the file is broken: {reason}")]
    Broken { reason: String },
    #[error("the file is too large to read: {reason}")]
    TooLarge { reason: String },
    #[error("reading the file took longer than allowed")]
    TimedOut,
}

impl ExtractError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::Unsupported { .. } => "unsupported",
            ExtractError::NeedsOcr { .. } => "needs_ocr",
            ExtractError::Encrypted { .. } => "encrypted",
            ExtractError::Broken { .. } => "broken",
            ExtractError::TooLarge { .. } => "too_large",
            ExtractError::TimedOut => "timed_out",
        }
    }
}

/// The format of a file: by its first bytes first, by its name's extension second.
///
/// `head` is the start of the file (a few KiB is enough). Magic bytes decide where they can:
/// a PDF named `.txt` is a PDF. Containers are told apart by what they hold (an HWPX zip
/// stores its `mimetype` first and uncompressed; a DOCX holds `word/`; an HWP 5.0 compound
/// file names its `FileHeader` stream). Text formats, which have no magic, go by extension,
/// then by content.
pub fn sniff(file_name: &str, head: &[u8]) -> Format {
    let ext = extension(file_name);
    if head.starts_with(b"%PDF-") || find(&head[..head.len().min(1024)], b"%PDF-").is_some() {
        return Format::Pdf;
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Format::Png;
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Format::Jpeg;
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        let file_header: Vec<u8> = "FileHeader"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        if ext == "hwp" || find(head, &file_header).is_some() {
            return Format::Hwp;
        }
        // A password-protected DOCX is an encrypted package inside a compound file.
        if ext == "docx" {
            return Format::Docx;
        }
        return Format::Other;
    }
    if head.starts_with(b"PK\x03\x04") {
        if find(head, b"application/hwp+zip").is_some() || ext == "hwpx" {
            return Format::Hwpx;
        }
        if find(head, b"word/").is_some() || ext == "docx" {
            return Format::Docx;
        }
        return Format::Other;
    }
    match ext.as_str() {
        "md" | "markdown" => return Format::Markdown,
        "html" | "htm" | "xhtml" => return Format::Html,
        "txt" | "text" | "csv" | "tsv" | "log" => return Format::Text,
        // An image in XML: its source is not its text.
        "svg" | "svgz" => return Format::Other,
        // No magic but the name says so: the engine will say what is wrong with it.
        "pdf" => return Format::Pdf,
        "png" => return Format::Png,
        "jpg" | "jpeg" => return Format::Jpeg,
        "docx" => return Format::Docx,
        "hwpx" => return Format::Hwpx,
        "hwp" => return Format::Hwp,
        _ => {}
    }
    if looks_like_html(head) {
        return Format::Html;
    }
    if looks_like_text(head) {
        return Format::Text;
    }
    Format::Other
}

fn extension(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn looks_like_html(head: &[u8]) -> bool {
    let start = &head[..head.len().min(512)];
    let lower: Vec<u8> = start.iter().map(u8::to_ascii_lowercase).collect();
    let trimmed = lower
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(&lower)
        .trim_ascii_start();
    trimmed.starts_with(b"<!doctype html") || trimmed.starts_with(b"<html")
}

/// Text has no magic: a byte-order mark, or no NUL and few control bytes.
fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xEF, 0xBB, 0xBF])
        || head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
    {
        return true;
    }
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C | 0x1B))
        .count();
    controls * 100 < head.len()
}

/// Reads one file. Synchronous and CPU-bound: async callers run it in `spawn_blocking`.
///
/// The format is [`sniff`]ed from the bytes and the name; each engine is bounded by `limits`.
pub fn extract(bytes: &[u8], file_name: &str, limits: &Limits) -> Result<Extracted, ExtractError> {
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(ExtractError::TooLarge {
            reason: format!(
                "{} bytes is over the limit of {} bytes",
                bytes.len(),
                limits.max_input_bytes
            ),
        });
    }
    if bytes.is_empty() {
        return Err(ExtractError::Broken {
            reason: "the file is empty".into(),
        });
    }
    let format = sniff(file_name, &bytes[..bytes.len().min(SNIFF_LEN)]);
    // Parsers recurse over nesting a file controls (HTML elements, PDF forms); a deep stack
    // of its own keeps a hostile file from overflowing the caller's (an overflow aborts the
    // process, which no `catch_unwind` can stop). Address space only: pages are touched as used.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("jaryo-extract".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || extract_format(bytes, format, limits))
            .map_err(|e| ExtractError::Broken {
                reason: format!("no thread to read the file on ({e})"),
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(ExtractError::Broken {
                    reason: "the file could not be parsed".into(),
                })
            })
    })
}

/// The stack the parsers run on.
const PARSER_STACK: usize = 64 * 1024 * 1024;

fn extract_format(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let mut budget = Budget::new(limits);
    let extracted = guard(|| match format {
        Format::Text => Ok(text::extract_plain(bytes, &mut budget)),
        Format::Markdown => Ok(text::extract_markdown(bytes, &mut budget)),
        Format::Html => html::extract(bytes, &mut budget),
        Format::Pdf => pdf::extract(bytes, &mut budget),
        Format::Docx => docx::extract(bytes, &mut budget),
        Format::Hwpx => hwpx::extract(bytes, &mut budget),
        Format::Hwp => hwp5::extract(bytes, &mut budget),
        Format::Png | Format::Jpeg => ocr::extract_image(bytes, format, &mut budget),
        Format::Other => Err(ExtractError::Unsupported { format }),
    })?;
    budget.check_time()?;
    let chars = extracted.text.chars().count();
    if chars > limits.max_output_chars {
        return Err(ExtractError::TooLarge {
            reason: format!(
                "{chars} characters of text is over the limit of {}",
                limits.max_output_chars
            ),
        });
    }
    Ok(extracted)
}

/// How many leading bytes [`extract`] hands to [`sniff`].
pub const SNIFF_LEN: usize = 8192;

/// Whether `tesseract` is on the PATH with Korean and English.
pub fn ocr_available() -> bool {
    ocr::available()
}

/// Runs a parser so that a panic in it (a third party's bug on odd input) becomes
/// [`ExtractError::Broken`] instead of unwinding into the caller.
pub(crate) fn guard<T>(run: impl FnOnce() -> Result<T, ExtractError>) -> Result<T, ExtractError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(ExtractError::Broken {
            reason: "the file could not be parsed".into(),
        })
    })
}

/// What one file may still spend: time and decompressed bytes.
pub(crate) struct Budget {
    started: Instant,
    deadline: Duration,
    unpacked_left: u64,
    pub(crate) limits: Limits,
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            started: Instant::now(),
            deadline: limits.deadline,
            unpacked_left: limits.max_unpacked_bytes,
            limits: limits.clone(),
        }
    }

    pub(crate) fn check_time(&self) -> Result<(), ExtractError> {
        if self.started.elapsed() > self.deadline {
            Err(ExtractError::TimedOut)
        } else {
            Ok(())
        }
    }

    /// Time left before the deadline.
    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_sub(self.started.elapsed())
    }

    /// Charges `n` decompressed bytes; past the limit the file is [`ExtractError::TooLarge`].
    pub(crate) fn charge_unpacked(&mut self, n: u64) -> Result<(), ExtractError> {
        if n > self.unpacked_left {
            self.unpacked_left = 0;
            return Err(ExtractError::TooLarge {
                reason: format!(
                    "it unpacks to more than {} bytes",
                    self.limits.max_unpacked_bytes
                ),
            });
        }
        self.unpacked_left -= n;
        Ok(())
    }

    /// Reads `reader` to its end, charging every byte and checking the clock as it goes.
    pub(crate) fn read_to_end(&mut self, mut reader: impl Read) -> Result<Vec<u8>, ExtractError> {
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut chunk) {
                Ok(0) => return Ok(out),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ExtractError::Broken {
                        reason: format!("a compressed part does not unpack ({e})"),
                    });
                }
            };
            self.charge_unpacked(n as u64)?;
            self.check_time()?;
            out.extend_from_slice(&chunk[..n]);
        }
    }
}
