//! Files taken in from disk: `jaryo add PATH...` (files and folders, on the configured store
//! directly, with a progress bar and a summary) and the watched inbox folder (`[files]
//! inbox`), whose files are taken in and moved to `done/` or `failed/` (beside a reason file),
//! like paperless-ngx's consume folder. Both use the store's one way in
//! (`jaryo_store::files::IncomingFile`), as the API does, so they dedupe and refuse alike.

use crate::app;
use crate::config::Config;
use crate::display;
use jaryo_domain::FileName;
use jaryo_store::files::{FILE_PIECE_BYTES, IncomingFile, IntakeError};
use jaryo_store::{FileIntake, Store};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

/// `[files]`: files taken in and the reading of their text.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct FilesSection {
    /// The largest file taken in, in bytes (default 100 MiB).
    pub max_bytes: u64,
    /// A folder watched by `jaryo serve`: files dropped there are taken in and moved to
    /// `done/` or `failed/` (with a `.reason.txt` beside them).
    pub inbox: Option<PathBuf>,
    /// Seconds between two looks at the inbox.
    pub inbox_every_seconds: f64,
    /// Attempts before a file whose reading keeps failing ends `failed`.
    pub max_attempts: u32,
    /// The longest one file may be read for, in seconds.
    pub deadline_seconds: f64,
}

impl Default for FilesSection {
    fn default() -> Self {
        Self {
            max_bytes: jaryo_domain::FILE_MAX_BYTES_DEFAULT,
            inbox: None,
            inbox_every_seconds: 2.0,
            max_attempts: 3,
            deadline_seconds: 120.0,
        }
    }
}

impl FilesSection {
    /// The extraction worker's settings.
    pub fn extraction(&self) -> anyhow::Result<jaryo_worker::ExtractionConfig> {
        anyhow::ensure!(
            self.deadline_seconds.is_finite() && self.deadline_seconds > 0.0,
            "invalid [files] configuration: deadline_seconds must be a positive number"
        );
        let deadline = Duration::from_secs_f64(self.deadline_seconds);
        Ok(jaryo_worker::ExtractionConfig {
            max_attempts: self.max_attempts.max(1),
            deadline,
            lease: (deadline / 2).max(Duration::from_secs(30)),
            ..Default::default()
        })
    }

    fn inbox_interval(&self) -> Duration {
        if self.inbox_every_seconds.is_finite() && self.inbox_every_seconds > 0.0 {
            Duration::from_secs_f64(self.inbox_every_seconds)
        } else {
            Duration::from_secs(2)
        }
    }
}

/// What became of one file.
#[derive(Debug, Clone, Serialize)]
pub struct AddedFile {
    pub path: PathBuf,
    pub document_id: Option<i64>,
    pub duplicate: bool,
    pub error: Option<String>,
}

/// Reads the file at `path` into the store, a piece at a time.
pub async fn take_in_file(
    store: &dyn Store,
    path: &Path,
    max_bytes: u64,
) -> Result<FileIntake, String> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = FileName::parse(&name).map_err(|_| "the file has no usable name".to_owned())?;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|error| format!("cannot open it: {error}"))?;
    let length = file
        .metadata()
        .await
        .map_err(|error| format!("cannot read it: {error}"))?
        .len();
    if length > max_bytes {
        return Err(describe(IntakeError::TooLarge { max: max_bytes }));
    }
    let mut incoming = IncomingFile::begin(store, max_bytes)
        .await
        .map_err(|error| format!("the library cannot take it: {error}"))?;
    let mut buffer = vec![0; FILE_PIECE_BYTES];
    loop {
        let read = match file.read(&mut buffer).await {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) => {
                incoming.abandon().await;
                return Err(format!("cannot read it: {error}"));
            }
        };
        if let Err(error) = incoming.push(&buffer[..read]).await {
            incoming.abandon().await;
            return Err(describe(error));
        }
    }
    incoming
        .finish(name, |name, head| {
            jaryo_extract::sniff(name, head).media_type().to_owned()
        })
        .await
        .map_err(describe)
}

fn describe(error: IntakeError) -> String {
    match error {
        IntakeError::Empty => "the file is empty: there is nothing to keep".into(),
        IntakeError::TooLarge { max } => {
            format!("the file is larger than the limit of {max} bytes ([files] max_bytes)")
        }
        IntakeError::Store(error) => format!("the library cannot take it: {error}"),
    }
}

/// Every file under `paths` (folders recursively, hidden entries and symbolic links skipped),
/// in name order within each folder.
pub fn files_under(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
        if metadata.is_dir() {
            walk(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|error| anyhow::anyhow!("{}: {error}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), found)?;
        } else if kind.is_file() {
            found.push(entry.path());
        }
    }
    Ok(())
}

/// `jaryo add PATH...`: each file becomes a document (or is found already there); a summary,
/// and failure if any file could not be taken in.
pub async fn add(config: &Config, paths: &[PathBuf], json: bool) -> anyhow::Result<()> {
    let files = files_under(paths)?;
    app::create_private_dir(&config.data_dir)?;
    let store = app::open_store(config).await?;
    let total: u64 = files
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|metadata| metadata.len())
        .sum();
    let bar = display::progress_bar(
        "{spinner} adding [{bar:40}] {bytes}/{total_bytes}, {bytes_per_sec}, eta {eta} {msg}",
    )?;
    bar.set_length(total);
    let started = std::time::Instant::now();
    let mut results = Vec::with_capacity(files.len());
    for path in &files {
        bar.set_message(
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let outcome = take_in_file(store.as_ref(), path, config.files.max_bytes).await;
        bar.inc(std::fs::metadata(path).map_or(0, |metadata| metadata.len()));
        results.push(match outcome {
            Ok(intake) => AddedFile {
                path: path.clone(),
                document_id: Some(intake.document.id.0),
                duplicate: intake.duplicate,
                error: None,
            },
            Err(error) => AddedFile {
                path: path.clone(),
                document_id: None,
                duplicate: false,
                error: Some(error),
            },
        });
    }
    bar.finish_and_clear();
    let added = results
        .iter()
        .filter(|r| r.document_id.is_some() && !r.duplicate)
        .count() as u64;
    let duplicates = results.iter().filter(|r| r.duplicate).count() as u64;
    let failed: Vec<&AddedFile> = results.iter().filter(|r| r.error.is_some()).collect();
    if json {
        display::json(&results)?;
    } else {
        println!(
            "{} added, {} already in the library, {} failed ({:.1} s); their text is read in \
             the background by `jaryo serve` or `jaryo worker`",
            display::count(added, "file", "files"),
            duplicates,
            failed.len(),
            started.elapsed().as_secs_f64()
        );
        for result in results.iter().filter(|r| r.duplicate) {
            println!(
                "  duplicate: {} is document {}",
                result.path.display(),
                result.document_id.unwrap_or_default()
            );
        }
        for result in &failed {
            eprintln!(
                "  failed: {}: {}",
                result.path.display(),
                result.error.as_deref().unwrap_or_default()
            );
        }
    }
    anyhow::ensure!(
        failed.is_empty(),
        "{} could not be added",
        display::count(failed.len() as u64, "file", "files")
    );
    Ok(())
}

/// Watches `[files] inbox` until `shutdown`: every file that stays the same size between two
/// looks is taken in and moved to `done/` (taken in, or already there) or `failed/` (with a
/// `.reason.txt`).
pub async fn watch_inbox(
    store: std::sync::Arc<dyn Store>,
    section: FilesSection,
    inbox: PathBuf,
    shutdown: CancellationToken,
) {
    let every = section.inbox_interval();
    let mut seen: std::collections::HashMap<PathBuf, u64> = Default::default();
    tracing::info!(inbox = %inbox.display(), "watching the inbox folder for files");
    loop {
        if let Err(error) = look_once(store.as_ref(), &section, &inbox, &mut seen).await {
            tracing::warn!(%error, inbox = %inbox.display(), "cannot read the inbox folder");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => break,
        }
    }
}

/// One look at the inbox: what is ready goes in; what is still growing waits.
pub async fn look_once(
    store: &dyn Store,
    section: &FilesSection,
    inbox: &Path,
    seen: &mut std::collections::HashMap<PathBuf, u64>,
) -> anyhow::Result<()> {
    let done = inbox.join("done");
    let failed = inbox.join("failed");
    tokio::fs::create_dir_all(&done).await?;
    tokio::fs::create_dir_all(&failed).await?;
    let mut present = std::collections::HashMap::new();
    let mut entries = tokio::fs::read_dir(inbox).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.file_type().await?.is_file() {
            continue;
        }
        present.insert(entry.path(), entry.metadata().await?.len());
    }
    let mut ready: Vec<PathBuf> = present
        .iter()
        .filter(|(path, size)| seen.get(*path) == Some(size))
        .map(|(path, _)| path.clone())
        .collect();
    ready.sort();
    *seen = present;
    for path in ready {
        seen.remove(&path);
        let outcome = take_in_file(store, &path, section.max_bytes).await;
        let file_name = path.file_name().map(ToOwned::to_owned).unwrap_or_default();
        match outcome {
            Ok(intake) => {
                tracing::info!(
                    file = %path.display(),
                    document = intake.document.id.0,
                    duplicate = intake.duplicate,
                    "took a file in from the inbox"
                );
                move_aside(&path, &done.join(&file_name)).await?;
            }
            Err(reason) => {
                tracing::warn!(file = %path.display(), %reason, "an inbox file was refused");
                let target = move_aside(&path, &failed.join(&file_name)).await?;
                let mut reason_file = target.clone().into_os_string();
                reason_file.push(".reason.txt");
                tokio::fs::write(reason_file, format!("{reason}\n")).await?;
            }
        }
    }
    Ok(())
}

/// Moves `from` to `to`, or beside it under a numbered name when `to` is taken; where it went.
async fn move_aside(from: &Path, to: &Path) -> anyhow::Result<PathBuf> {
    let mut target = to.to_owned();
    let mut n = 1;
    while tokio::fs::try_exists(&target).await? {
        let stem = to.file_stem().unwrap_or_default().to_string_lossy();
        let name = match to.extension() {
            Some(extension) => format!("{stem} ({n}).{}", extension.to_string_lossy()),
            None => format!("{stem} ({n})"),
        };
        target = to.with_file_name(name);
        n += 1;
    }
    tokio::fs::rename(from, &target).await?;
    Ok(target)
}
