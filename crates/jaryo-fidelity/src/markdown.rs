//! Masks Markdown syntax so it is never mistaken for content.
//!
//! A model turns a memo into Markdown: it adds `#` headings, `-` and `1.` list markers, `**`
//! emphasis, code fences, `[text](url)` links and `|` tables. None of that is a fact, and list
//! numbering in particular is not a new number. Masking replaces syntax with spaces of the same
//! byte length.
//!
//! Invariant: both views have exactly the byte length of the input and keep every unmasked
//! character at its byte offset, so offsets found in a view are offsets into the input.
//!
//! The scanner is line-based and deliberately simpler than CommonMark: memos are rough text, and
//! a full parser would turn an indented memo line into a code block. What it does not know it
//! leaves as text, which errs towards checking more.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// The two views of a text the checker reads.
pub(crate) struct MaskedText {
    /// Content for fact extraction: syntax masked, code kept (a port number in a code block is a
    /// fact like any other).
    pub(crate) facts: String,
    /// Content for judging the language: syntax and code masked.
    pub(crate) language: String,
}

impl MaskedText {
    pub(crate) fn new(text: &str) -> Self {
        let mut facts_mask = vec![false; text.len()];
        let mut language_mask = vec![false; text.len()];
        let mut in_fence: Option<&str> = None;
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let range = line_start..line_start + line.len();
            line_start = range.end;
            let trimmed = line.trim_start();
            if let Some(fence) = in_fence {
                mark(&mut language_mask, range.clone());
                if trimmed.starts_with(fence) {
                    mark(&mut facts_mask, range);
                    in_fence = None;
                }
                continue;
            }
            if let Some(fence) = fence_opening(trimmed) {
                mark(&mut facts_mask, range.clone());
                mark(&mut language_mask, range);
                in_fence = Some(fence);
                continue;
            }
            let mut line_mask = LineMask::default();
            mask_line(line, &mut line_mask);
            for masked in &line_mask.syntax {
                let absolute = range.start + masked.start..range.start + masked.end;
                mark(&mut facts_mask, absolute.clone());
                mark(&mut language_mask, absolute);
            }
            for code in &line_mask.code {
                mark(
                    &mut language_mask,
                    range.start + code.start..range.start + code.end,
                );
            }
        }
        Self {
            facts: apply(text, &facts_mask),
            language: apply(text, &language_mask),
        }
    }

    /// Characters that are neither whitespace nor syntax: what a reader actually reads.
    pub(crate) fn visible_chars(&self) -> usize {
        self.facts.chars().filter(|c| !c.is_whitespace()).count()
    }
}

/// Byte ranges of field labels in a masked view: the words before the first colon of a line
/// (`**교통**: 서울역`, `Location: near the office`), at most three words, no digits, with content
/// after the colon. Models label fields this way to structure a memo; the label names the field,
/// the value after it carries the fact.
pub(crate) fn label_spans(view: &str) -> Vec<Range<usize>> {
    const MAX_LABEL_CHARS: usize = 24;
    const MAX_LABEL_WORDS: usize = 3;
    let mut spans = Vec::new();
    let mut line_start = 0;
    for line in view.split_inclusive('\n') {
        let offset = line_start;
        line_start += line.len();
        let Some((colon, colon_char)) = line.char_indices().find(|&(_, c)| c == ':' || c == '：')
        else {
            continue;
        };
        let label = &line[..colon];
        let value = &line[colon + colon_char.len_utf8()..];
        let trimmed = label.trim();
        let is_label = !trimmed.is_empty()
            && trimmed.chars().count() <= MAX_LABEL_CHARS
            && trimmed.split_whitespace().count() <= MAX_LABEL_WORDS
            && !trimmed.chars().any(|c| c.is_ascii_digit())
            && value.starts_with(char::is_whitespace)
            && !value.trim().is_empty();
        if is_label {
            let start = offset + (label.len() - label.trim_start().len());
            spans.push(start..offset + colon);
        }
    }
    spans
}

fn fence_opening(trimmed: &str) -> Option<&'static str> {
    if trimmed.starts_with("```") {
        Some("```")
    } else if trimmed.starts_with("~~~") {
        Some("~~~")
    } else {
        None
    }
}

#[derive(Default)]
struct LineMask {
    /// Byte ranges (within the line) of syntax, masked in both views.
    syntax: Vec<Range<usize>>,
    /// Byte ranges of inline code content, masked for the language only.
    code: Vec<Range<usize>>,
}

static THEMATIC_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,}|(?:=\s*){3,})\s*$").unwrap()
});
static TABLE_DELIMITER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$").unwrap());
/// Block prefixes: quotes; a heading marker with optional section numbering ("## 2. Plan",
/// "## 2.1 Scope"); or a bullet or ordered marker with an optional task box. A number only counts
/// as numbering when it ends in "." or ")" (or is dotted after a heading), so "## 3 things" keeps
/// its 3.
static BLOCK_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^[ \t]*(?:>[ \t]?)*",
        r"(?:",
        r"#{1,6}(?:[ \t]+|$)(?:\d{1,3}(?:\.\d{1,3})*\.[ \t]+|\d{1,3}(?:\.\d{1,3})+[ \t]+)?",
        r"|",
        r"(?:[-*+•·▪◦‣][ \t]+|\(?\d{1,3}[.)](?:[ \t]+|$))(?:\[[ xX]\][ \t]+)?",
        r")?",
    ))
    .unwrap()
});
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(!?\[)([^\]\n]*)(\]\()([^)\s]*)((?:\s+"[^"\n]*")?\))"#).unwrap()
});
static HTML_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>").unwrap());
static AUTOLINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>]+|[^\s<>@]+@[^\s<>]+)>").unwrap()
});
static TRAILING_HASHES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[ \t]+#+[ \t]*$").unwrap());

fn mask_line(line: &str, mask: &mut LineMask) {
    let content_end = line.trim_end_matches(['\n', '\r']).len();
    let content = &line[..content_end];
    if THEMATIC_BREAK.is_match(content) || TABLE_DELIMITER.is_match(content) {
        mask.syntax.push(0..content_end);
        return;
    }
    let prefix_end = BLOCK_PREFIX.find(content).map_or(0, |m| m.end());
    if prefix_end > 0 {
        mask.syntax.push(0..prefix_end);
    }
    let is_heading = content[..prefix_end].contains('#');
    if is_heading && let Some(hashes) = TRAILING_HASHES.find(content) {
        mask.syntax.push(hashes.range());
    }

    let code_spans = inline_code_spans(content, prefix_end);
    for span in &code_spans {
        mask.syntax.push(span.open.clone());
        mask.syntax.push(span.close.clone());
        mask.code.push(span.open.end..span.close.start);
    }
    let in_code = |at: usize| {
        code_spans
            .iter()
            .any(|span| span.open.start <= at && at < span.close.end)
    };

    for caps in LINK.captures_iter(content) {
        let Some(whole) = caps.get(0) else { continue };
        if in_code(whole.start()) {
            continue;
        }
        for group in [1, 3, 5] {
            if let Some(part) = caps.get(group) {
                mask.syntax.push(part.range());
            }
        }
    }
    for found in AUTOLINK.captures_iter(content) {
        let (Some(whole), Some(inner)) = (found.get(0), found.get(1)) else {
            continue;
        };
        if !in_code(whole.start()) {
            mask.syntax.push(whole.start()..inner.start());
            mask.syntax.push(inner.end()..whole.end());
        }
    }
    for tag in HTML_TAG.find_iter(content) {
        if !in_code(tag.start()) && !AUTOLINK.is_match(tag.as_str()) {
            mask.syntax.push(tag.range());
        }
    }

    let bytes = content.as_bytes();
    for (at, &byte) in bytes.iter().enumerate().skip(prefix_end) {
        if in_code(at) {
            continue;
        }
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + 1).copied();
        let masked = match byte {
            b'*' | b'|' => true,
            b'~' => before == Some(b'~') || after == Some(b'~'),
            // snake_case identifiers keep their underscores; emphasis underscores touch a space.
            b'_' => !(before.is_some_and(is_word_byte) && after.is_some_and(is_word_byte)),
            // A backslash escape: the backslash is syntax, the escaped character is text.
            b'\\' => after.is_some_and(|next| next.is_ascii_punctuation()),
            _ => false,
        };
        if masked {
            mask.syntax.push(at..at + 1);
        }
    }
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte >= 0x80
}

struct CodeSpan {
    open: Range<usize>,
    close: Range<usize>,
}

/// Backtick runs closed by a run of the same length on the same line (CommonMark's rule,
/// without multi-line spans).
fn inline_code_spans(content: &str, from: usize) -> Vec<CodeSpan> {
    let bytes = content.as_bytes();
    let mut spans = Vec::new();
    let mut at = from;
    while at < bytes.len() {
        if bytes[at] != b'`' {
            at += 1;
            continue;
        }
        let run = bytes[at..].iter().take_while(|&&b| b == b'`').count();
        let mut search = at + run;
        let mut closed = None;
        while search < bytes.len() {
            if bytes[search] == b'`' {
                let close_run = bytes[search..].iter().take_while(|&&b| b == b'`').count();
                if close_run == run {
                    closed = Some(search);
                    break;
                }
                search += close_run;
            } else {
                search += 1;
            }
        }
        match closed {
            Some(close) => {
                spans.push(CodeSpan {
                    open: at..at + run,
                    close: close..close + run,
                });
                at = close + run;
            }
            None => at += run,
        }
    }
    spans
}

fn mark(mask: &mut [bool], range: Range<usize>) {
    for flag in &mut mask[range] {
        *flag = true;
    }
}

/// Replaces every masked character with as many spaces as it has bytes.
fn apply(text: &str, mask: &[bool]) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, c) in text.char_indices() {
        if mask[index] {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> String {
        let masked = MaskedText::new(text);
        assert_eq!(masked.facts.len(), text.len());
        assert_eq!(masked.language.len(), text.len());
        masked
            .facts
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn language(text: &str) -> String {
        let masked = MaskedText::new(text);
        masked
            .language
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn headings_lists_and_emphasis_are_masked() {
        assert_eq!(
            facts("# 회의 메모\n\n## 1. 논의\n- **예산**: 3만 원\n2. 둘째 _항목_\n"),
            "회의 메모 논의 예산 : 3만 원 둘째 항목"
        );
    }

    #[test]
    fn list_numbering_is_masked_but_numbers_in_text_are_not() {
        assert_eq!(facts("1. 물 500ml\n2) 끓이기 10분"), "물 500ml 끓이기 10분");
        assert_eq!(facts("3.5 회의"), "3.5 회의");
    }

    #[test]
    fn links_keep_text_and_destination() {
        assert_eq!(
            facts("see [the docs](https://example.com/a) and <https://b.org>"),
            "see the docs https://example.com/a and https://b.org"
        );
    }

    #[test]
    fn tables_lose_pipes_and_delimiter_rows() {
        assert_eq!(
            facts("| 항목 | 금액 |\n| --- | ---: |\n| 택시 | 12,800원 |"),
            "항목 금액 택시 12,800원"
        );
    }

    #[test]
    fn code_is_a_fact_but_not_language() {
        let text = "Run `nginx -t` then\n```bash\nsystemctl restart nginx\n```\n";
        assert_eq!(facts(text), "Run nginx -t then systemctl restart nginx");
        assert_eq!(language(text), "Run then");
    }

    #[test]
    fn snake_case_keeps_underscores() {
        assert_eq!(
            facts("BILLING_API_KEY and __bold__"),
            "BILLING_API_KEY and bold"
        );
    }

    #[test]
    fn field_labels_are_found_before_a_colon() {
        let text = "- **교통**: 서울역\n- 10:30 회의\nsee https://a.io\n# Bug: PDF crash\nno colon";
        let masked = MaskedText::new(text);
        let labels: Vec<&str> = label_spans(&masked.facts)
            .into_iter()
            .map(|span| masked.facts[span].trim())
            .collect();
        assert_eq!(labels, ["교통", "Bug"]);
    }

    #[test]
    fn visible_chars_ignore_syntax_and_spaces() {
        assert_eq!(MaskedText::new("## 제목\n- a b").visible_chars(), 4);
    }
}
