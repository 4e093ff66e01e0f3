//! How client commands print for people (and `--json` for programs).

use chrono::{DateTime, Local, Utc};
use jaryo_http::wire::{DocumentJson, DocumentPage, MemoJson, MemoPage};
use serde::Serialize;

pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn local(time: DateTime<Utc>) -> String {
    time.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The first non-empty line, cut to `chars` characters.
fn first_line(text: &str, chars: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > chars {
        format!("{}…", line.chars().take(chars).collect::<String>())
    } else {
        line.to_owned()
    }
}

pub fn memo_list(page: &MemoPage) {
    if page.items.is_empty() {
        println!("no memos");
        return;
    }
    for memo in &page.items {
        let mut line = format!(
            "{:>6}  {}  {}",
            memo.id,
            local(memo.created_at),
            first_line(&memo.content, 48)
        );
        for tag in &memo.tags {
            line.push_str(&format!("  #{tag}"));
        }
        if let Some(document_id) = memo.document_id {
            line.push_str(&format!("  → document {document_id}"));
        }
        println!("{line}");
    }
    if let Some(cursor) = &page.next_cursor {
        println!("more: --cursor {cursor}");
    }
}

pub fn memo(memo: &MemoJson) {
    println!("memo {}  {}", memo.id, local(memo.created_at));
    if memo.updated_at != memo.created_at {
        println!("edited  {}", local(memo.updated_at));
    }
    if !memo.tags.is_empty() {
        let tags: Vec<String> = memo.tags.iter().map(|t| format!("#{t}")).collect();
        println!("tags    {}", tags.join(" "));
    }
    if let Some(document_id) = memo.document_id {
        println!("library document {document_id}");
    }
    println!();
    println!("{}", memo.content);
}

fn draft_label(document: &DocumentJson) -> String {
    use jaryo_domain::{DraftState, MdDraftStatus};
    match (document.draft.state, document.md_draft_status) {
        (_, Some(MdDraftStatus::Accepted)) => "accepted".into(),
        (_, Some(MdDraftStatus::Rejected)) => "rejected".into(),
        (DraftState::Done, _) => "draft ready".into(),
        (DraftState::Pending, _) if document.draft.attempts > 0 => {
            format!("retrying ({} tries)", document.draft.attempts)
        }
        (DraftState::Pending, _) => "waiting".into(),
        (DraftState::Running, _) => "drafting".into(),
        (DraftState::Skipped, _) => "skipped".into(),
        (DraftState::Failed, _) => "failed".into(),
        (DraftState::None, _) => "-".into(),
    }
}

pub fn document_list(page: &DocumentPage) {
    if page.items.is_empty() {
        println!("no documents");
        return;
    }
    for document in &page.items {
        println!(
            "{:>6}  {:<14}  {}  {}",
            document.id,
            draft_label(document),
            local(document.updated_at),
            first_line(&document.title, 56)
        );
    }
    if let Some(cursor) = &page.next_cursor {
        println!("more: --cursor {cursor}");
    }
}

pub fn document(document: &DocumentJson) {
    println!("document {}  \"{}\"", document.id, document.title);
    println!("origin  {}", document.content_origin);
    println!("draft   {}", draft_label(document));
    if let Some(error) = &document.draft.last_error {
        println!("error   {error}");
    }
    println!(
        "version {}  updated {}",
        document.version,
        local(document.updated_at)
    );
    if let Some(text) = &document.extracted_text {
        println!("\n── original ──\n{text}");
    }
    if let Some(markdown) = &document.md_content {
        println!("\n── markdown ──\n{markdown}");
    }
}
