//! Backups of the SQLite library: `jaryo backup FILE`, `jaryo restore FILE`, and `[backup]`
//! on a schedule inside `jaryo serve`. The copy itself, its checks and the never-half-a-file
//! rule are `jaryo_store_sqlite::backup`'s; this module decides when, where and how many.
//!
//! Scheduled backups are named `jaryo-<UTC time>.db` in `[backup] dir`, so their names sort
//! by age; the newest name tells when the next one is due, across restarts, and all but the
//! newest `keep` are removed after each backup.

use crate::config::Config;
use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use jaryo_store_sqlite::backup::{self, BackupReport};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `[backup]`: backups on a schedule inside `jaryo serve` (SQLite only).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupSection {
    /// Hours between two backups; 0 turns scheduled backups off.
    pub every_hours: f64,
    /// How many scheduled backups to keep; older ones are removed.
    pub keep: usize,
    /// Where scheduled backups go; unset means `<data-dir>/backups`.
    pub dir: Option<PathBuf>,
}

impl Default for BackupSection {
    fn default() -> Self {
        Self {
            every_hours: 0.0,
            keep: 7,
            dir: None,
        }
    }
}

const NAME_PREFIX: &str = "jaryo-";
const NAME_SUFFIX: &str = ".db";
const NAME_TIME: &str = "%Y%m%dT%H%M%S%.6fZ";
/// After a failed scheduled backup, the next try comes this much later (or at the regular
/// time, if that is sooner).
const RETRY_AFTER: Duration = Duration::from_secs(600);

impl BackupSection {
    /// The time between two backups, or `None` when scheduled backups are off.
    pub fn interval(&self) -> anyhow::Result<Option<Duration>> {
        if self.every_hours == 0.0 {
            return Ok(None);
        }
        anyhow::ensure!(
            self.every_hours.is_finite() && self.every_hours > 0.0,
            "invalid [backup] configuration: every_hours must be a positive number of hours, or 0 \
             for no scheduled backups"
        );
        anyhow::ensure!(
            self.keep >= 1,
            "invalid [backup] configuration: keep must be at least 1"
        );
        Ok(Some(Duration::from_secs_f64(self.every_hours * 3600.0)))
    }

    pub fn dir(&self, data_dir: &Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| data_dir.join("backups"))
    }
}

/// A backup found in the backup directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    pub path: PathBuf,
    pub at: DateTime<Utc>,
    pub bytes: u64,
}

/// The scheduled backups in `dir`, oldest first (what is not named like one is left alone).
pub fn scheduled_backups(dir: &Path) -> Vec<BackupFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<BackupFile> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let time = name.strip_prefix(NAME_PREFIX)?.strip_suffix(NAME_SUFFIX)?;
            let at = NaiveDateTime::parse_from_str(time, NAME_TIME)
                .ok()?
                .and_utc();
            let bytes = entry.metadata().ok()?.len();
            Some(BackupFile {
                path: entry.path(),
                at,
                bytes,
            })
        })
        .collect();
    found.sort_by_key(|backup| backup.at);
    found
}

/// Copies the library in `config`'s data directory to `destination` on a blocking thread.
pub async fn backup_to(config: &Config, destination: &Path) -> anyhow::Result<BackupReport> {
    anyhow::ensure!(
        config.database_url.is_none(),
        "the library is on PostgreSQL: back it up with pg_dump (README, \"Backups\"); jaryo \
         export works on both stores"
    );
    let source = config.data_dir.join(jaryo_store_sqlite::DATABASE_FILE_NAME);
    anyhow::ensure!(
        source.exists(),
        "there is no library in {} (no {})",
        config.data_dir.display(),
        jaryo_store_sqlite::DATABASE_FILE_NAME
    );
    let destination = destination.to_owned();
    tokio::task::spawn_blocking(move || backup::backup(&source, &destination))
        .await
        .context("the backup task failed")?
        .context("the backup failed")
}

/// Runs scheduled backups until `shutdown`: the first when the newest one in the backup
/// directory is `every_hours` old (at once if there is none), then every `every_hours`.
pub async fn run_schedule(config: Config, every: Duration, shutdown: CancellationToken) {
    let dir = config.backup.dir(&config.data_dir);
    if let Err(error) = crate::app::create_private_dir(&dir) {
        tracing::error!(%error, "scheduled backups are off: cannot create their directory");
        return;
    }
    tracing::info!(dir = %dir.display(), every_hours = config.backup.every_hours,
        keep = config.backup.keep, "scheduled backups");
    let mut wait = match scheduled_backups(&dir).last() {
        Some(newest) => (newest.at + every).signed_duration_since(Utc::now()),
        None => chrono::TimeDelta::zero(),
    }
    .to_std()
    .unwrap_or(Duration::ZERO);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        let name = format!("{NAME_PREFIX}{}{NAME_SUFFIX}", Utc::now().format(NAME_TIME));
        wait = match backup_to(&config, &dir.join(name)).await {
            Ok(report) => {
                tracing::info!(
                    file = %report.path.display(),
                    bytes = report.bytes,
                    memos = report.counts.memos,
                    documents = report.counts.documents,
                    seconds = report.took.as_secs_f64(),
                    "backup made"
                );
                prune(&dir, config.backup.keep);
                every
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "the scheduled backup failed");
                every.min(RETRY_AFTER)
            }
        };
    }
}

/// Removes all but the newest `keep` scheduled backups.
fn prune(dir: &Path, keep: usize) {
    let backups = scheduled_backups(dir);
    let excess = backups.len().saturating_sub(keep);
    for old in &backups[..excess] {
        if let Err(error) = std::fs::remove_file(&old.path) {
            tracing::warn!(file = %old.path.display(), %error, "cannot remove an old backup");
        }
    }
}
