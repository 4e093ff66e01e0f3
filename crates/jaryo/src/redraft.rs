//! `jaryo redraft`: re-run drafts selectively — flagged ones, failed ones, those from an older
//! prompt or a given model or time — with a progress bar.

use crate::cli::ClientArgs;
use anyhow::bail;
use chrono::{DateTime, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jaryo_client::ApiClient;
use jaryo_client::wire::{RedraftSelection, parse_date_or_time};

/// Documents queued per request, so the bar moves and one request stays small.
const BATCH: usize = 50;

#[derive(Debug, Args)]
#[command(
    after_help = "--flagged, --failed and --outdated-prompt add to each other; with none \
                        of them every document with draft work is selected. --model, \
                        --drafted-from and --drafted-before narrow the selection. Accepted \
                        drafts are never touched. \
                        Example: jaryo redraft --flagged --drafted-from 2026-11-01"
)]
pub struct RedraftArgs {
    /// Drafts the fidelity check flagged.
    #[arg(long)]
    pub flagged: bool,
    /// Drafts that failed.
    #[arg(long)]
    pub failed: bool,
    /// Drafts made with an older prompt than this jaryo's.
    #[arg(long)]
    pub outdated_prompt: bool,
    /// Only drafts made by this model.
    #[arg(long)]
    pub model: Option<String>,
    /// Only drafts made on or after this date (2026-11-01, from its midnight UTC) or RFC 3339
    /// time.
    #[arg(long)]
    pub drafted_from: Option<String>,
    /// Only drafts made before this date (before its midnight UTC) or RFC 3339 time.
    #[arg(long)]
    pub drafted_before: Option<String>,
    /// Only list what would be queued.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

fn parse_time(flag: &str, value: &str) -> anyhow::Result<DateTime<Utc>> {
    parse_date_or_time(value).map_err(|message| anyhow::anyhow!("{flag}: {message}"))
}

pub async fn run(api: &ApiClient, args: RedraftArgs) -> anyhow::Result<()> {
    let selection = RedraftSelection {
        flagged: args.flagged,
        failed: args.failed,
        outdated_prompt: args.outdated_prompt,
        model: args.model.clone(),
        drafted_from: args
            .drafted_from
            .as_deref()
            .map(|v| parse_time("--drafted-from", v))
            .transpose()?,
        drafted_before: args
            .drafted_before
            .as_deref()
            .map(|v| parse_time("--drafted-before", v))
            .transpose()?,
        document_ids: None,
        dry_run: true,
    };
    if let (Some(from), Some(before)) = (selection.drafted_from, selection.drafted_before)
        && from >= before
    {
        bail!("--drafted-from must be before --drafted-before");
    }
    let matched = api.redraft_selection(&selection).await?;
    if args.dry_run {
        if args.client.json {
            return crate::display::json(&matched);
        }
        println!(
            "{} match",
            crate::display::count(matched.matched as u64, "document", "documents")
        );
        for id in &matched.document_ids {
            println!("  {id}");
        }
        return Ok(());
    }
    if matched.document_ids.is_empty() {
        if args.client.json {
            return crate::display::json(&matched);
        }
        println!("no drafts match");
        return Ok(());
    }
    let bar = if args.client.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(matched.document_ids.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("queueing drafts");
    let mut queued = 0;
    let mut not_found = Vec::new();
    for batch in matched.document_ids.chunks(BATCH) {
        let summary = api
            .redraft_selection(&RedraftSelection {
                document_ids: Some(batch.to_vec()),
                ..RedraftSelection::default()
            })
            .await?;
        queued += summary.queued;
        not_found.extend(summary.not_found);
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    if args.client.json {
        return crate::display::json(&serde_json::json!({
            "matched": matched.matched,
            "queued": queued,
            "document_ids": matched.document_ids,
            "not_found": not_found,
        }));
    }
    println!(
        "queued {}; the worker takes them up now",
        crate::display::count(queued as u64, "new draft", "new drafts")
    );
    if !not_found.is_empty() {
        println!(
            "{} deleted meanwhile",
            crate::display::count(not_found.len() as u64, "was", "were")
        );
    }
    Ok(())
}
