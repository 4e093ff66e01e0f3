//! How client commands print for people (and `--json` for programs).

use chrono::{DateTime, Local, Utc};
use jaryo_http::wire::{
    DocumentJson, DocumentPage, MemoJson, MemoPage, SearchKindJson, SearchPageJson, SnippetJson,
};
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

/// How matched words stand out in printed snippets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Highlight {
    /// Bold yellow, for a terminal.
    Ansi,
    /// `**word**`, for pipes, files and `NO_COLOR`.
    Markers,
}

impl Highlight {
    /// ANSI on a terminal unless `NO_COLOR` is set; plain markers otherwise.
    pub fn for_stdout() -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if std::io::stdout().is_terminal() && !no_color {
            Self::Ansi
        } else {
            Self::Markers
        }
    }

    fn open(self) -> &'static str {
        match self {
            Self::Ansi => "\x1b[1;33m",
            Self::Markers => "**",
        }
    }

    fn close(self) -> &'static str {
        match self {
            Self::Ansi => "\x1b[0m",
            Self::Markers => "**",
        }
    }
}

/// A snippet on one line: its text with the marks highlighted, whitespace runs as one space,
/// `…` where the window cuts the text.
fn snippet_line(snippet: &SnippetJson, highlight: Highlight) -> String {
    let text = &snippet.text;
    let mut out = String::new();
    if snippet.html.starts_with('…') {
        out.push('…');
    }
    let push_plain = |out: &mut String, piece: &str| {
        for c in piece.chars() {
            if c.is_whitespace() {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            } else if !c.is_control() {
                out.push(c);
            }
        }
    };
    let mut at = 0;
    for mark in &snippet.marks {
        let (Some(before), Some(marked)) =
            (text.get(at..mark.start), text.get(mark.start..mark.end))
        else {
            continue;
        };
        push_plain(&mut out, before);
        out.push_str(highlight.open());
        push_plain(&mut out, marked);
        out.push_str(highlight.close());
        at = mark.end;
    }
    push_plain(&mut out, text.get(at..).unwrap_or(""));
    let mut line = out.trim().to_owned();
    if snippet.html.ends_with('…') {
        line.push('…');
    }
    line
}

/// Ranked hits, each with its kind, id, title, score and highlighted snippet.
pub fn search_page(page: &SearchPageJson, highlight: Highlight) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if page.hits.is_empty() {
        let _ = writeln!(out, "no matches for {}", page.query);
        return out;
    }
    for hit in &page.hits {
        let kind = match hit.kind {
            SearchKindJson::Memo => "memo",
            SearchKindJson::Document => "document",
        };
        let mut heading = format!(
            "{kind} {}  {}  ({:.2})",
            hit.id,
            first_line(&hit.title, 60),
            hit.score
        );
        if let Some(chunk) = &hit.chunk
            && !chunk.heading_path.is_empty()
        {
            let _ = write!(heading, "  › {}", chunk.heading_path.join(" › "));
        }
        let _ = writeln!(out, "{heading}");
        let _ = writeln!(out, "    {}", snippet_line(&hit.snippet, highlight));
    }
    if let Some(cursor) = &page.next_cursor {
        let _ = writeln!(out, "more: --cursor {cursor}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jaryo_http::wire::{ByteRangeJson, SearchHitJson};

    fn page() -> SearchPageJson {
        let text = "axum 서버를\n\n재시작했다";
        SearchPageJson {
            query: "\"axum\" \"서버\"".into(),
            hits: vec![SearchHitJson {
                kind: SearchKindJson::Memo,
                id: 7,
                title: "axum 서버를".into(),
                score: 1.5,
                snippet: SnippetJson {
                    html: "<mark>axum</mark> <mark>서버</mark>를 재시작했다".into(),
                    text: text.into(),
                    marks: vec![
                        ByteRangeJson { start: 0, end: 4 },
                        ByteRangeJson { start: 5, end: 11 },
                    ],
                    range: ByteRangeJson {
                        start: 0,
                        end: text.len(),
                    },
                },
                chunk: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            }],
            next_cursor: None,
        }
    }

    #[test]
    fn snippets_mark_matches_with_plain_markers_off_a_terminal() {
        let printed = search_page(&page(), Highlight::Markers);
        assert_eq!(
            printed,
            "memo 7  axum 서버를  (1.50)\n    **axum** **서버**를 재시작했다\n"
        );
    }

    #[test]
    fn snippets_use_ansi_bold_on_a_terminal() {
        let printed = search_page(&page(), Highlight::Ansi);
        assert!(printed.contains("\x1b[1;33m서버\x1b[0m를"), "{printed:?}");
    }
}
