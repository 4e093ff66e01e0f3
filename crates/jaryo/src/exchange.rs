//! `jaryo import` and `jaryo export`: the library in and out, on the configured store
//! directly (SQLite or PostgreSQL), with a progress bar and a summary.

use crate::app;
use crate::config::Config;
use crate::display;
use anyhow::Context;
use jaryo_exchange::{ImportOptions, export_to_folder, import_folder};
use std::path::Path;

pub async fn import(config: &Config, path: &Path, dry_run: bool, json: bool) -> anyhow::Result<()> {
    app::create_private_dir(&config.data_dir)?;
    let store = app::open_store(config).await?;
    let bar = display::progress_bar(
        "{spinner} importing [{bar:40}] {pos}/{len} notes, {per_sec}, eta {eta}",
    )?;
    let started = std::time::Instant::now();
    let summary = import_folder(
        store.as_ref(),
        path,
        ImportOptions { dry_run },
        &|progress| {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
        },
    )
    .await
    .with_context(|| format!("the import of {} stopped", path.display()))?;
    bar.finish_and_clear();
    if json {
        display::json(&summary)?;
    } else {
        let would = if dry_run { "would be " } else { "" };
        println!(
            "{}: {} {would}imported, {} {would}updated, {} already there ({:.1} s)",
            path.display(),
            display::count(summary.imported, "note", "notes"),
            summary.updated,
            summary.unchanged,
            started.elapsed().as_secs_f64()
        );
        if summary.other_files > 0 {
            println!(
                "{} that {} not notes (attachments, images) left where they are",
                display::count(summary.other_files, "file", "files"),
                if summary.other_files == 1 {
                    "is"
                } else {
                    "are"
                }
            );
        }
        for warning in &summary.warnings {
            println!("  note: {}: {}", warning.path, warning.reason);
        }
        for failure in &summary.failed {
            eprintln!("  failed: {}: {}", failure.path, failure.reason);
        }
    }
    anyhow::ensure!(
        summary.failed.is_empty(),
        "{} could not be imported",
        display::count(summary.failed.len() as u64, "note", "notes")
    );
    Ok(())
}

pub async fn export(config: &Config, dir: &Path) -> anyhow::Result<()> {
    let store = app::open_store(config).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    let started = std::time::Instant::now();
    let summary = export_to_folder(store.as_ref(), dir, &|progress| {
        bar.set_message(format!(
            "exporting: {} memos, {} documents",
            progress.memos, progress.documents
        ));
        bar.tick();
    })
    .await
    .with_context(|| format!("the export to {} stopped", dir.display()))?;
    bar.finish_and_clear();
    println!(
        "exported {} and {} ({} of originals beside accepted drafts; {:.1} MB) to {} in {:.1} s",
        display::count(summary.memos, "memo", "memos"),
        display::count(summary.documents, "document", "documents"),
        summary.originals,
        summary.bytes as f64 / 1_000_000.0,
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
