//! Online backup and verified restore of a library's database file.
//!
//! A backup is `VACUUM INTO`: one read transaction on the live database, so it is a
//! consistent snapshot while writers go on (WAL readers never block the writer), compacted as
//! it is copied. SQLite's online backup API was the other candidate; it starts over whenever
//! another connection writes, so under a steady stream of memos it might never finish.
//!
//! Never half a file under the final name: the copy is written to a hidden partial file
//! beside the destination (created empty and owner-only first, since `VACUUM INTO` would
//! create it with the process's umask), checked (`PRAGMA integrity_check`, jaryo's migration
//! table, the library's counts), flushed to disk, and only then renamed over the final name;
//! the directory is flushed after the rename. A process killed on the way leaves at most the
//! partial file, which the next backup to the same name removes first.
//!
//! Restore is the same in reverse: the backup is verified, copied to a partial file in the
//! data directory, flushed and renamed to `jaryo.db`, with the old database's `-wal` and
//! `-shm` files removed first (a stale WAL would be replayed into the restored file).

use crate::DATABASE_FILE_NAME;
use rusqlite::{Connection, OpenFlags};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a backup, a check or a restore failed, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} {why}", path.display())]
    NotALibrary { path: PathBuf, why: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the copy failed: {0}")]
    Copy(#[source] rusqlite::Error),
    #[error("{} already holds a library; restoring over it needs --force", .0.display())]
    LibraryExists(PathBuf),
    #[error("the restored library differs from the backup: {restored:?} against {backup:?}")]
    Mismatch {
        restored: LibraryCounts,
        backup: LibraryCounts,
    },
}

type BackupResult<T> = Result<T, BackupError>;

/// What a verified database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryCounts {
    /// Live (not deleted) memos.
    pub memos: u64,
    /// Live documents.
    pub documents: u64,
    /// The newest migration applied to it.
    pub schema_version: i64,
}

/// A finished backup.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub counts: LibraryCounts,
    pub took: Duration,
}

/// Copies the live database at `source` to `destination` (see the module docs). Blocking:
/// call it from a blocking thread. `destination` is replaced if it exists.
pub fn backup(source: &Path, destination: &Path) -> BackupResult<BackupReport> {
    let started = Instant::now();
    let partial = partial_path(destination)?;
    remove_if_present(&partial)?;
    create_private_empty(&partial)?;
    let copied = copy_snapshot(source, &partial)
        .and_then(|()| verify(&partial))
        .and_then(|counts| flush(&partial).map(|()| counts));
    let counts = match copied {
        Ok(counts) => counts,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, destination).map_err(|error| io(error, destination))?;
    flush_directory(destination)?;
    let bytes = std::fs::metadata(destination)
        .map_err(|error| io(error, destination))?
        .len();
    Ok(BackupReport {
        path: destination.to_owned(),
        bytes,
        counts,
        took: started.elapsed(),
    })
}

/// Checks that `path` is an intact jaryo database and counts what it holds. Blocking.
pub fn verify(path: &Path) -> BackupResult<LibraryCounts> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| invalid(path, &format!("cannot be opened as SQLite ({error})")))?;
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|error| invalid(path, &format!("is not a readable database ({error})")))?;
    if integrity != "ok" {
        return Err(invalid(path, &format!("is damaged: {integrity}")));
    }
    let schema_version: i64 = connection
        .query_row(
            "SELECT max(version) FROM _sqlx_migrations WHERE success",
            [],
            |row| row.get(0),
        )
        .map_err(|_| invalid(path, "is not a jaryo library (no migrations table)"))?;
    let count = |sql: &str| -> BackupResult<u64> {
        let n: i64 = connection
            .query_row(sql, [], |row| row.get(0))
            .map_err(|error| invalid(path, &format!("cannot be counted ({error})")))?;
        u64::try_from(n).map_err(|_| invalid(path, "holds a negative count"))
    };
    Ok(LibraryCounts {
        memos: count("SELECT count(*) FROM memos WHERE deleted_at IS NULL")?,
        documents: count("SELECT count(*) FROM documents WHERE deleted_at IS NULL")?,
        schema_version,
    })
}

/// Restores the backup at `backup` as `<data_dir>/jaryo.db`, verified before and after. A
/// library already there is replaced only with `force`; the caller makes sure no jaryo runs
/// on `data_dir`. Blocking.
pub fn restore(backup: &Path, data_dir: &Path, force: bool) -> BackupResult<LibraryCounts> {
    let counts = verify(backup)?;
    let target = data_dir.join(DATABASE_FILE_NAME);
    if target.exists() && !force {
        return Err(BackupError::LibraryExists(target));
    }
    let partial = partial_path(&target)?;
    remove_if_present(&partial)?;
    create_private_empty(&partial)?;
    let copied = std::fs::copy(backup, &partial)
        .map_err(|error| io(error, &partial))
        .and_then(|_| flush(&partial));
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    for suffix in ["-wal", "-shm"] {
        let mut stale = target.clone().into_os_string();
        stale.push(suffix);
        remove_if_present(Path::new(&stale))?;
    }
    std::fs::rename(&partial, &target).map_err(|error| io(error, &target))?;
    flush_directory(&target)?;
    let restored = verify(&target)?;
    if restored != counts {
        return Err(BackupError::Mismatch {
            restored,
            backup: counts,
        });
    }
    Ok(restored)
}

fn copy_snapshot(source: &Path, partial: &Path) -> BackupResult<()> {
    let connection = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| invalid(source, &format!("cannot be opened ({error})")))?;
    connection
        .busy_timeout(Duration::from_secs(30))
        .map_err(BackupError::Copy)?;
    let target = partial
        .to_str()
        .ok_or_else(|| invalid(partial, "is not a UTF-8 path"))?;
    connection
        .execute("VACUUM INTO ?1", [target])
        .map_err(BackupError::Copy)?;
    Ok(())
}

/// `.<name>.partial` beside `path`: hidden, and never the final name.
fn partial_path(path: &Path) -> BackupResult<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| invalid(path, "names no file"))?
        .to_string_lossy();
    Ok(path.with_file_name(format!(".{name}.partial")))
}

fn create_private_empty(path: &Path) -> BackupResult<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|error| io(error, path))?;
    Ok(())
}

fn remove_if_present(path: &Path) -> BackupResult<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io(error, path)),
    }
}

fn flush(path: &Path) -> BackupResult<()> {
    File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(|error| io(error, path))
}

fn flush_directory(path: &Path) -> BackupResult<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)
        .and_then(|dir| dir.sync_all())
        .map_err(|error| io(error, directory))
}

fn io(source: std::io::Error, path: &Path) -> BackupError {
    BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn invalid(path: &Path, why: &str) -> BackupError {
    BackupError::NotALibrary {
        path: path.to_owned(),
        why: why.to_owned(),
    }
}
