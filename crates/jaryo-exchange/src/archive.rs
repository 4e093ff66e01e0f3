//! Unpacking an uploaded zip archive of notes (a zipped vault, or an export) for import.
//!
//! An archive is untrusted: entries that would land outside the folder (`../`, absolute
//! paths) are refused, only notes are unpacked (pictures and other attachments are counted,
//! not written), and the number of entries, each note's size and the total unpacked size are
//! bounded, so a zip bomb stops with an error instead of filling the disk.

use std::path::{Path, PathBuf};

/// Limits on what one archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct ArchiveLimits {
    pub max_entries: usize,
    pub max_note_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_entries: 200_000,
            max_note_bytes: (jaryo_domain::DOCUMENT_TEXT_MAX_BYTES
                + crate::front_matter::FRONT_MATTER_MAX_BYTES) as u64,
            max_total_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("the upload is not a zip archive: {0}")]
    NotZip(String),
    #[error("the archive holds over {0} entries")]
    TooManyEntries(usize),
    #[error("{name} in the archive is over the size a note may have")]
    NoteTooLarge { name: String },
    #[error("the archive unpacks to over {} MiB", .0 / (1024 * 1024))]
    TooLarge(u64),
    #[error("cannot unpack the archive: {0}")]
    Io(#[from] std::io::Error),
}

/// What was unpacked: the folder to import, named as the archive's single top folder when
/// it has one, else `name`.
#[derive(Debug)]
pub struct Unpacked {
    pub root: PathBuf,
    /// Entries that are not notes, counted and left out.
    pub other_files: u64,
}

/// Unpacks the notes of the zip archive `file` under `dest` (an empty folder).
pub fn unpack_notes(
    file: std::fs::File,
    dest: &Path,
    name: &str,
    limits: ArchiveLimits,
) -> Result<Unpacked, ArchiveError> {
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| ArchiveError::NotZip(e.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries(limits.max_entries));
    }
    let mut paths = Vec::new();
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| ArchiveError::NotZip(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        match entry.enclosed_name() {
            Some(path) => paths.push((index, path)),
            None => {
                return Err(ArchiveError::NotZip(format!(
                    "{} would unpack outside its folder",
                    String::from_utf8_lossy(entry.name_raw())
                )));
            }
        }
    }
    // A vault zipped as one folder keeps that folder's name: the import's keys use it.
    let single_top = single_top_folder(paths.iter().map(|(_, p)| p.as_path()));
    let root = match &single_top {
        Some(top) => dest.join(top),
        None => dest.join(crate::file_names::portable_stem(name)),
    };
    let mut other_files = 0;
    let mut total = 0u64;
    for (index, path) in paths {
        let relative = match &single_top {
            Some(top) => path.strip_prefix(top).unwrap_or(&path).to_owned(),
            None => path,
        };
        if !crate::vault::is_note(&relative) || is_hidden(&relative) {
            other_files += 1;
            continue;
        }
        let entry = archive
            .by_index(index)
            .map_err(|e| ArchiveError::NotZip(e.to_string()))?;
        let target = root.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // The sizes an archive declares can lie: count what is actually read.
        let mut limited = std::io::Read::take(entry, limits.max_note_bytes + 1);
        let mut out = std::fs::File::create(&target)?;
        let written = std::io::copy(&mut limited, &mut out)?;
        if written > limits.max_note_bytes {
            return Err(ArchiveError::NoteTooLarge {
                name: crate::vault::portable_path(&relative),
            });
        }
        total += written;
        if total > limits.max_total_bytes {
            return Err(ArchiveError::TooLarge(limits.max_total_bytes));
        }
    }
    std::fs::create_dir_all(&root)?;
    Ok(Unpacked { root, other_files })
}

fn single_top_folder<'a>(mut paths: impl Iterator<Item = &'a Path>) -> Option<PathBuf> {
    let first = paths.next()?;
    let top = first.components().next()?;
    // A lone file at the top is not a folder.
    if first.components().count() < 2 {
        return None;
    }
    let top = PathBuf::from(top.as_os_str());
    paths
        .all(|p| p.components().count() >= 2 && p.starts_with(&top))
        .then_some(top)
}

fn is_hidden(path: &Path) -> bool {
    path.components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
}
