//! A folder of Markdown and text files, or an Obsidian vault, read note by note.
//!
//! Each note is one document: its title is the file name as Obsidian shows it (without the
//! extension, composed to NFC so a vault copied from macOS, which writes decomposed Hangul,
//! reads the same), its front matter becomes properties, its text stays as written
//! (`[[wikilinks]]` and `![[embeds]]` included). Hidden folders (`.obsidian`, `.trash`, `.git`)
//! are not notes. Symbolic links are not followed, so a vault cannot lead the import outside
//! itself or round in a loop.

use crate::front_matter::{self, FRONT_MATTER_MAX_BYTES};
use jaryo_domain::{DOCUMENT_TEXT_MAX_BYTES, DocumentText, DocumentTitle, Timestamp};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// How deep folders may nest before the walk stops going down.
const DEPTH_MAX: usize = 64;
const NOTE_EXTENSIONS: [&str; 3] = ["md", "markdown", "txt"];

/// What a walk of the folder found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Notes, as paths relative to the folder, in a stable order.
    pub notes: Vec<PathBuf>,
    /// Files that are not notes (attachments, images); kept where they are.
    pub other_files: u64,
}

/// Lists the notes under `root`.
pub fn list(root: &Path) -> std::io::Result<Listing> {
    let mut listing = Listing::default();
    walk(root, Path::new(""), 0, &mut listing)?;
    listing.notes.sort();
    Ok(listing)
}

fn walk(root: &Path, relative: &Path, depth: usize, listing: &mut Listing) -> std::io::Result<()> {
    if depth > DEPTH_MAX {
        return Ok(());
    }
    for entry in std::fs::read_dir(root.join(relative))? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = relative.join(&name);
        // `file_type` does not follow symbolic links: a link is neither a file nor a folder.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, depth + 1, listing)?;
        } else if kind.is_file() {
            if is_note(&path) {
                listing.notes.push(path);
            } else {
                listing.other_files += 1;
            }
        }
    }
    Ok(())
}

pub(crate) fn is_note(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| NOTE_EXTENSIONS.iter().any(|n| n.eq_ignore_ascii_case(e)))
}

/// One note, read and parsed.
#[derive(Debug, Clone)]
pub struct Note {
    /// The path inside the folder, NFC, with `/` between folders, whatever the system.
    pub path: String,
    pub title: DocumentTitle,
    /// The text without its front matter.
    pub text: DocumentText,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The front matter's properties, as they were.
    pub properties: Option<Map<String, Value>>,
    /// Something the person should know that did not stop the import.
    pub warning: Option<String>,
}

/// Reads the note at `relative` under `root`; the error says why it cannot be imported.
pub fn read_note(root: &Path, relative: &Path) -> Result<Note, String> {
    let file = root.join(relative);
    let metadata = std::fs::metadata(&file).map_err(|e| format!("cannot read it: {e}"))?;
    let limit = DOCUMENT_TEXT_MAX_BYTES + FRONT_MATTER_MAX_BYTES;
    if metadata.len() > limit as u64 {
        return Err(format!(
            "it is {} MiB, over the {} MiB a document may hold",
            metadata.len() / (1024 * 1024),
            DOCUMENT_TEXT_MAX_BYTES / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read it: {e}"))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "it is not UTF-8 text (convert it to UTF-8 and import again)".to_owned())?;
    let split = front_matter::split(text);
    // A note that is only properties keeps them as its text, so nothing is lost.
    let body = if split.body.trim().is_empty() {
        text
    } else {
        split.body
    };
    let text = DocumentText::parse("text", body.to_owned()).map_err(|e| match e {
        jaryo_domain::InputError::Empty { .. } => "the note is empty".to_owned(),
        other => other.to_string(),
    })?;
    let stem = relative
        .file_stem()
        .map(|s| s.to_string_lossy().nfc().collect::<String>())
        .unwrap_or_default();
    let title =
        DocumentTitle::parse(&stem).map_err(|e| format!("its name cannot be a title: {e}"))?;
    let properties = split.properties;
    let file_modified = metadata.modified().ok().map(Timestamp::from);
    // A copied or synced file is born when copied but keeps its modification time: the
    // earlier of the two is closer to when the note was written.
    let file_created = match (metadata.created().ok().map(Timestamp::from), file_modified) {
        (Some(born), Some(modified)) => Some(born.min(modified)),
        (born, modified) => born.or(modified),
    };
    let given = |names: &[&str]| {
        properties
            .as_ref()
            .and_then(|p| front_matter::time(p, names))
    };
    let now = chrono::Utc::now();
    let created_at = given(&["created", "date", "created_at", "creation date"])
        .or(file_created)
        .unwrap_or(now);
    let updated_at = given(&[
        "updated",
        "modified",
        "updated_at",
        "last modified",
        "lastmod",
    ])
    .or(file_modified)
    .unwrap_or(created_at);
    Ok(Note {
        path: portable_path(relative),
        title,
        text,
        tags: properties
            .as_ref()
            .map(front_matter::tags)
            .unwrap_or_default(),
        created_at,
        updated_at,
        properties,
        warning: split.problem,
    })
}

/// `relative` with `/` between its parts, composed to NFC.
pub fn portable_path(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().nfc().collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
}
