//! The original and the draft side by side, with a word-level diff that handles Korean, and
//! the fidelity checker's findings highlighted on the draft.
//!
//! Text is cut into tokens a reader thinks of as words: a run of Hangul (`회의를`), a run of
//! other letters and digits (`axum`, `2024`), a run of whitespace, and each other character
//! alone (punctuation, Markdown syntax, ideographs). Mixed runs split where the script changes,
//! so `2024년` is `2024` + `년`. The token sequences are diffed (patience, with a deadline so a
//! huge document cannot stall a page); words the draft dropped are marked on the original's
//! side, words it added on the draft's. Each side is HTML-escaped here, segment by segment, so
//! the result is safe to embed.

use similar::{Algorithm, DiffOp};
use std::ops::Range;
use std::time::{Duration, Instant};

/// Longer texts are shown without marks: the diff would cost more than it helps.
const MAX_TOKENS: usize = 60_000;
const DEADLINE: Duration = Duration::from_millis(150);

/// A fidelity finding to highlight: a byte range of the draft and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub range: Range<usize>,
    pub label: String,
}

/// Both sides, escaped and marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideBySide {
    pub original_html: String,
    pub draft_html: String,
    /// Whether any word differs.
    pub changed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Hangul,
    Word,
    Space,
    Single,
}

fn is_hangul(c: char) -> bool {
    matches!(c,
        '\u{AC00}'..='\u{D7A3}'
        | '\u{1100}'..='\u{11FF}'
        | '\u{3130}'..='\u{318F}'
        | '\u{A960}'..='\u{A97F}'
        | '\u{D7B0}'..='\u{D7FF}')
}

fn class_of(c: char) -> Class {
    if is_hangul(c) {
        Class::Hangul
    } else if c.is_whitespace() {
        Class::Space
    } else if c.is_alphanumeric() && !is_ideograph(c) {
        Class::Word
    } else {
        Class::Single
    }
}

fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}')
}

/// The byte ranges of `text`'s tokens, in order, covering all of it.
pub fn tokenize(text: &str) -> Vec<Range<usize>> {
    let mut tokens = Vec::new();
    let mut current: Option<(usize, Class)> = None;
    for (at, c) in text.char_indices() {
        let class = class_of(c);
        match current {
            Some((_, open)) if open == class && class != Class::Single => {}
            Some((start, _)) => {
                tokens.push(start..at);
                current = Some((at, class));
            }
            None => current = Some((at, class)),
        }
    }
    if let Some((start, _)) = current {
        tokens.push(start..text.len());
    }
    tokens
}

/// Compares `original` with `draft`; `findings` are byte ranges of `draft` to highlight (ranges
/// that do not fit the draft are ignored).
pub fn compare(original: &str, draft: &str, findings: &[Highlight]) -> SideBySide {
    let old_tokens = tokenize(original);
    let new_tokens = tokenize(draft);
    let mut dropped = Vec::new();
    let mut added = Vec::new();
    if old_tokens.len() + new_tokens.len() <= MAX_TOKENS {
        let old: Vec<&str> = old_tokens.iter().map(|r| &original[r.clone()]).collect();
        let new: Vec<&str> = new_tokens.iter().map(|r| &draft[r.clone()]).collect();
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Patience,
            &old,
            &new,
            Some(Instant::now() + DEADLINE),
        );
        for op in ops {
            match op {
                DiffOp::Equal { .. } => {}
                DiffOp::Delete {
                    old_index, old_len, ..
                } => dropped.extend(words(original, &old_tokens[old_index..old_index + old_len])),
                DiffOp::Insert {
                    new_index, new_len, ..
                } => added.extend(words(draft, &new_tokens[new_index..new_index + new_len])),
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => {
                    dropped.extend(words(original, &old_tokens[old_index..old_index + old_len]));
                    added.extend(words(draft, &new_tokens[new_index..new_index + new_len]));
                }
            }
        }
    }
    let findings: Vec<&Highlight> = findings
        .iter()
        .filter(|f| {
            f.range.start < f.range.end
                && f.range.end <= draft.len()
                && draft.is_char_boundary(f.range.start)
                && draft.is_char_boundary(f.range.end)
        })
        .collect();
    SideBySide {
        changed: !dropped.is_empty() || !added.is_empty(),
        original_html: render_side(original, &dropped, "del", &[]),
        draft_html: render_side(draft, &added, "ins", &findings),
    }
}

/// The tokens worth marking: whitespace changes are not shown.
fn words<'a>(text: &'a str, tokens: &'a [Range<usize>]) -> impl Iterator<Item = Range<usize>> + 'a {
    tokens
        .iter()
        .filter(|r| !text[(*r).clone()].trim().is_empty())
        .cloned()
}

fn covers(ranges: &[Range<usize>], at: usize) -> bool {
    // `ranges` are sorted and disjoint.
    let index = ranges.partition_point(|r| r.end <= at);
    ranges.get(index).is_some_and(|r| r.start <= at)
}

fn render_side(
    text: &str,
    marked: &[Range<usize>],
    mark_class: &str,
    findings: &[&Highlight],
) -> String {
    let mut bounds: Vec<usize> = vec![0, text.len()];
    for r in marked {
        bounds.extend([r.start, r.end]);
    }
    for f in findings {
        bounds.extend([f.range.start, f.range.end]);
    }
    bounds.sort_unstable();
    bounds.dedup();
    let mut html = String::with_capacity(text.len() + text.len() / 4);
    for pair in bounds.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        let segment = &text[start..end];
        let changed = covers(marked, start);
        let finding = findings
            .iter()
            .find(|f| f.range.start <= start && end <= f.range.end);
        match (changed, finding) {
            (false, None) => escape_into(&mut html, segment),
            (true, None) => {
                html.push_str("<span class=\"");
                html.push_str(mark_class);
                html.push_str("\">");
                escape_into(&mut html, segment);
                html.push_str("</span>");
            }
            (changed, Some(finding)) => {
                html.push_str("<mark class=\"finding");
                if changed {
                    html.push(' ');
                    html.push_str(mark_class);
                }
                html.push_str("\" title=\"");
                escape_into(&mut html, &finding.label);
                html.push_str("\">");
                escape_into(&mut html, segment);
                html.push_str("</mark>");
            }
        }
    }
    html
}

/// Appends `text` with `& < > " '` escaped.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        tokenize(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn tokens_split_hangul_latin_digits_and_punctuation() {
        assert_eq!(
            texts("회의: axum 서버를 2024년 배포!"),
            [
                "회의",
                ":",
                " ",
                "axum",
                " ",
                "서버를",
                " ",
                "2024",
                "년",
                " ",
                "배포",
                "!"
            ]
        );
        assert_eq!(
            texts("- [x] **굵게**"),
            ["-", " ", "[", "x", "]", " ", "*", "*", "굵게", "*", "*"]
        );
        assert_eq!(texts(""), Vec::<&str>::new());
    }

    #[test]
    fn the_diff_marks_dropped_and_added_words() {
        let side = compare(
            "주간 회의 일정 조율",
            "# 주간 회의\n\n- 일정 조율 (금요일)",
            &[],
        );
        assert!(side.changed);
        assert!(
            side.draft_html
                .contains("<span class=\"ins\">금요일</span>")
        );
        assert!(!side.draft_html.contains("<span class=\"ins\">주간"));
        assert!(!side.original_html.contains("class=\"del\""));
        let same = compare("같은 글", "같은 글", &[]);
        assert!(!same.changed);
        assert_eq!(same.draft_html, "같은 글");
    }

    #[test]
    fn findings_are_highlighted_and_everything_is_escaped() {
        let draft = "<b>회의</b> 3시, 담당 Kim";
        let start = draft.find("Kim").unwrap();
        let side = compare(
            "<b>회의</b> 담당",
            draft,
            &[
                Highlight {
                    range: start..start + 3,
                    label: "term \"name\"".into(),
                },
                // Out of range: ignored, not a panic.
                Highlight {
                    range: 5..999,
                    label: "x".into(),
                },
            ],
        );
        assert!(side.draft_html.contains("&lt;b&gt;"));
        assert!(!side.draft_html.contains("<b>"));
        assert!(
            side.draft_html
                .contains("<mark class=\"finding ins\" title=\"term &quot;name&quot;\">Kim</mark>"),
            "{}",
            side.draft_html
        );
    }
}
