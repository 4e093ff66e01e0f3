//! How client commands print for people (and `--json` for programs).

use chrono::{DateTime, Local, Utc};
use jaryo_client::wire::{
    DocumentJson, DocumentPage, MemoJson, MemoPage, SearchKindJson, SearchPageJson, SnippetJson,
    TagListJson,
};
use serde::Serialize;

pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// `n` with the noun in the right number: "1 memo", "2 memos", "0 memos".
/// A bar for long work whose length is known (or learnt on the way), in `template`'s words.
pub fn progress_bar(template: &str) -> anyhow::Result<indicatif::ProgressBar> {
    use anyhow::Context;
    Ok(indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(template)
            .context("progress bar template")?
            .progress_chars("=> "),
    ))
}

pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
        (DraftState::Done, _) if document.draft.needs_attention => "needs attention".into(),
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
        let mut line = format!(
            "{:>6}  {:<15}  {}  {}",
            document.id,
            draft_label(document),
            local(document.updated_at),
            first_line(&document.title, 56)
        );
        let flags = findings(document).len();
        if document.draft.needs_attention && flags > 0 {
            line.push_str(&format!("  ⚑ {}", count(flags as u64, "flag", "flags")));
        }
        println!("{line}");
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
    let flags = findings(document);
    if document.md_draft_status == Some(jaryo_domain::MdDraftStatus::Draft) && !flags.is_empty() {
        println!(
            "\n── {} the source does not say ──",
            count(flags.len() as u64, "thing", "things")
        );
        for (kind, text) in &flags {
            println!("  ⚑ {:<22} {text}", finding_label(kind));
        }
    }
    if let Some(text) = &document.extracted_text {
        println!("\n── original ──\n{text}");
    }
    if let Some(markdown) = &document.md_content {
        println!("\n── markdown ──\n{markdown}");
    }
}

/// The fidelity check's findings on the document's draft, as `(kind, text)`.
fn findings(document: &DocumentJson) -> Vec<(String, String)> {
    document
        .source_metadata
        .get("fidelity")
        .and_then(|fidelity| fidelity.get("findings"))
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|finding| {
                    Some((
                        finding.get("kind")?.as_str()?.to_owned(),
                        finding.get("text")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A finding kind in words.
fn finding_label(kind: &str) -> &str {
    match kind {
        "number" => "new number",
        "date_time" => "new date or time",
        "url" => "new link",
        "email" => "new e-mail address",
        "phone" => "new phone number",
        "term" => "new name or term",
        "language_drift" => "another language",
        "length_ratio" => "much longer",
        other => other,
    }
}

/// Tags with their counts, most used first.
pub fn tag_list(tags: &TagListJson) {
    if tags.tags.is_empty() {
        println!("no tags yet: write a #tag in a memo");
        return;
    }
    for tag in &tags.tags {
        println!(
            "#{}  {}, {}",
            tag.tag,
            count(tag.memos, "memo", "memos"),
            count(tag.documents, "document", "documents")
        );
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
    // A tag listing has no query, and no scores to show.
    let ranked = !page.query.is_empty();
    if page.hits.is_empty() {
        if ranked {
            let _ = writeln!(out, "no matches for {}", page.query);
        } else {
            let _ = writeln!(out, "nothing carries that tag");
        }
        return out;
    }
    for hit in &page.hits {
        let kind = match hit.kind {
            SearchKindJson::Memo => "memo",
            SearchKindJson::Document => "document",
        };
        let mut heading = format!("{kind} {}  {}", hit.id, first_line(&hit.title, 60));
        if ranked {
            let _ = write!(heading, "  ({:.2})", hit.score);
        }
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
    use jaryo_client::wire::{ByteRangeJson, SearchHitJson};

    fn page() -> SearchPageJson {
        let text = "axum 서버를\n\n재시작했다";
        SearchPageJson {
            query: "\"axum\" \"서버\"".into(),
            hits: vec![SearchHitJson {
                page: None,
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
                snippet_source: Default::default(),
                from_memo: None,
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
    fn counts_say_one_or_many() {
        assert_eq!(count(1, "memo", "memos"), "1 memo");
        assert_eq!(count(2, "memo", "memos"), "2 memos");
        assert_eq!(count(0, "document", "documents"), "0 documents");
    }

    #[test]
    fn snippets_use_ansi_bold_on_a_terminal() {
        let printed = search_page(&page(), Highlight::Ansi);
        assert!(printed.contains("\x1b[1;33m서버\x1b[0m를"), "{printed:?}");
    }
}
