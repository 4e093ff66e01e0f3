//! Importing a folder of notes into a library: each note becomes a document once, and
//! importing the same folder again adds nothing and updates what changed.
//!
//! Every imported document carries its source key in `source_metadata.import.key`
//! (`vault:<folder name>/<path inside it>`). Before writing, the run reads that key and a
//! fingerprint of title and text from every live document once, so a second import of
//! an unchanged folder writes nothing, a changed note is updated in place, and an import
//! cut short (a crash, Ctrl-C) is finished by running it again: it is resumable because
//! it is idempotent. Times come from the note (front matter, else the file), never "now".

use crate::vault::{self, Note};
use futures::StreamExt;
use jaryo_domain::{ContentOrigin, Document, DocumentId};
use jaryo_store::{
    DocumentFilter, DocumentPatch, NewDocument, PAGE_LIMIT_MAX, PageRequest, Store, StoreError,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Read and check everything, write nothing.
    pub dry_run: bool,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Default, Serialize)]
pub struct ImportSummary {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Files that are not notes (attachments, images), left where they are.
    pub other_files: u64,
    /// Notes that could not be imported, each with the reason.
    pub failed: Vec<ItemProblem>,
    /// Notes imported with something to know (front matter kept in the text).
    pub warnings: Vec<ItemProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemProblem {
    pub path: String,
    pub reason: String,
}

/// How far an import has come.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports every note under `root` into `store`.
pub async fn import_folder(
    store: &dyn Store,
    root: &Path,
    options: ImportOptions,
    progress: &(dyn Fn(ImportProgress) + Send + Sync),
) -> Result<ImportSummary, ImportError> {
    if !root.is_dir() {
        return Err(ImportError::NotAFolder(root.to_owned()));
    }
    let unreadable = |source| ImportError::Unreadable {
        path: root.to_owned(),
        source,
    };
    let root = root.canonicalize().map_err(unreadable)?;
    let vault_name = root
        .file_name()
        .map(|n| vault::portable_path(Path::new(n)))
        .unwrap_or_else(|| "vault".to_owned());
    let listing = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || vault::list(&root))
            .await
            .map_err(|e| unreadable(std::io::Error::other(e)))?
            .map_err(unreadable)?
    };
    let ledger = Ledger::load(store).await?;
    let mut summary = ImportSummary {
        other_files: listing.other_files,
        ..ImportSummary::default()
    };
    let total = listing.notes.len() as u64;
    progress(ImportProgress { done: 0, total });
    let (root, vault_name, ledger) = (&root, vault_name.as_str(), &ledger);
    // A few notes in flight at once: reading one overlaps writing another, and the stores
    // commit concurrent writes together.
    let mut results = futures::stream::iter(listing.notes)
        .map(|relative| async move {
            let path = vault::portable_path(&relative);
            let note = {
                let root = root.clone();
                tokio::task::spawn_blocking(move || vault::read_note(&root, &relative))
                    .await
                    .unwrap_or_else(|e| Err(format!("reading it failed: {e}")))
            };
            let outcome = match note {
                Ok(note) => {
                    let warning = note.warning.clone();
                    let key = format!("vault:{vault_name}/{}", note.path);
                    let written = write_note(store, ledger, vault_name, &key, note, options).await;
                    Ok((written, warning))
                }
                Err(reason) => Err(reason),
            };
            (path, outcome)
        })
        .buffer_unordered(IN_FLIGHT);
    let mut done = 0;
    while let Some((path, outcome)) = results.next().await {
        match outcome {
            Ok((written, warning)) => {
                if let Some(reason) = warning {
                    summary.warnings.push(ItemProblem {
                        path: path.clone(),
                        reason,
                    });
                }
                match written {
                    Ok(Written::Created) => summary.imported += 1,
                    Ok(Written::Updated) => summary.updated += 1,
                    Ok(Written::Unchanged) => summary.unchanged += 1,
                    // The library is gone or refuses writes: stop, the next run resumes.
                    Err(error @ (StoreError::Unavailable(_) | StoreError::Internal(_))) => {
                        return Err(error.into());
                    }
                    Err(error) => summary.failed.push(ItemProblem {
                        path,
                        reason: error.to_string(),
                    }),
                }
            }
            Err(reason) => summary.failed.push(ItemProblem { path, reason }),
        }
        done += 1;
        progress(ImportProgress { done, total });
    }
    summary.failed.sort_by(|a, b| a.path.cmp(&b.path));
    summary.warnings.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(summary)
}

/// Notes read and written at once.
const IN_FLIGHT: usize = 8;

enum Written {
    Created,
    Updated,
    Unchanged,
}

async fn write_note(
    store: &dyn Store,
    ledger: &Ledger,
    vault_name: &str,
    key: &str,
    note: Note,
    options: ImportOptions,
) -> Result<Written, StoreError> {
    let fingerprint = fingerprint(note.title.as_str(), note.text.as_str());
    if let Some((id, stored)) = ledger.by_key.get(key) {
        if *stored == fingerprint {
            return Ok(Written::Unchanged);
        }
        if !options.dry_run {
            let patch = DocumentPatch {
                expected_version: None,
                title: Some(note.title),
                extracted_text: Some(note.text),
            };
            store.update_document(*id, &patch).await?;
        }
        return Ok(Written::Updated);
    }
    if options.dry_run {
        return Ok(Written::Created);
    }
    let mut source_metadata = Map::new();
    source_metadata.insert(
        "import".into(),
        json!({ "source": "folder", "vault": vault_name, "path": note.path, "key": key }),
    );
    if let Some(properties) = note.properties {
        source_metadata.insert("front_matter".into(), Value::Object(properties));
    }
    let new = NewDocument {
        title: Some(note.title),
        extracted_text: note.text,
        content_origin: ContentOrigin::Import,
        source_metadata,
        created_at: Some(note.created_at),
        updated_at: Some(note.updated_at),
        tags: note.tags,
    };
    store.create_document(&new).await?;
    Ok(Written::Created)
}

/// What the library already holds from earlier imports: source key → document and the
/// fingerprint of its title and text.
struct Ledger {
    by_key: HashMap<String, (DocumentId, [u8; 32])>,
}

impl Ledger {
    async fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut by_key = HashMap::new();
        let mut before = None;
        loop {
            let page = store
                .list_documents(
                    &DocumentFilter::default(),
                    PageRequest::new(Some(PAGE_LIMIT_MAX), before),
                )
                .await?;
            for document in &page.items {
                if let Some(key) = import_key(document) {
                    let text = document.extracted_text.as_deref().unwrap_or_default();
                    by_key.insert(
                        key.to_owned(),
                        (document.id, fingerprint(&document.title, text)),
                    );
                }
            }
            match page.next_before {
                Some(next) => before = Some(next),
                None => return Ok(Self { by_key }),
            }
        }
    }
}

/// The source key an imported document carries.
pub fn import_key(document: &Document) -> Option<&str> {
    document.source_metadata.get("import")?.get("key")?.as_str()
}

fn fingerprint(title: &str, text: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(title.as_bytes());
    hash.update([0]);
    hash.update(text.as_bytes());
    hash.finalize().into()
}
