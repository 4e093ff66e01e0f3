//! `jaryo redraft`: re-run drafts selectively — flagged ones, failed ones, those from an older
//! prompt or a given model or time — with a progress bar.

use crate::cli::ClientArgs;
use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jaryo_http::client::ApiClient;
use jaryo_http::wire::RedraftSelection;

/// Documents queued per request, so the bar moves and one request stays small.
const BATCH: usize = 50;

#[derive(Debug, Args)]
#[command(
    after_help = "--flagged, --failed and --outdated-prompt add to each other; with none \
                        of them every document with draft work is selected. --model, --since \
                        and --until narrow the selection. Accepted drafts are never touched. \
                        Example: jaryo redraft --flagged --since 2026-11-01"
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
    /// Only drafts made on or after this date (2026-11-01) or RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only drafts made before this date or RFC 3339 time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only list what would be queued.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

fn parse_time(flag: &str, value: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").with_context(|| {
        format!("{flag} wants a date like 2026-11-01 or an RFC 3339 time, not {value:?}")
    })?;
    Ok(date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc())
}

pub async fn run(api: &ApiClient, args: RedraftArgs) -> anyhow::Result<()> {
    let selection = RedraftSelection {
        flagged: args.flagged,
        failed: args.failed,
        outdated_prompt: args.outdated_prompt,
        model: args.model.clone(),
        drafted_from: args
            .since
            .as_deref()
            .map(|v| parse_time("--since", v))
            .transpose()?,
        drafted_before: args
            .until
            .as_deref()
            .map(|v| parse_time("--until", v))
            .transpose()?,
        document_ids: None,
        dry_run: true,
    };
    if let (Some(from), Some(before)) = (selection.drafted_from, selection.drafted_before)
        && from >= before
    {
        bail!("--since must be before --until");
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
