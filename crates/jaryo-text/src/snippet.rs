//! Snippets: the best window of an original text for a query, with the matched parts marked.
//!
//! Marks come from [`crate::matcher::find_matches`], so they are exactly what matched, in
//! byte offsets of the original text (NFD or not; a syllable typed as jamo is marked whole).
//! The window is measured in grapheme clusters and never cuts one, so NFD Korean gets as many
//! visible syllables as NFC Korean and no syllable is ever shown half.
//!
//! Invariant: [`Snippet::html`] is the window's text HTML-escaped, whitespace runs collapsed
//! to one space, with `<mark>`/`</mark>` around the marks and `…` where the window cuts the
//! text; nothing else of the text can inject markup.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::matcher::{MatchSpan, find_matches, plain_char_len};
use crate::query::Query;

/// Snippet settings (flat, so `JARYO_SNIPPET_<FIELD>` maps onto them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SnippetConfig {
    /// Window length in grapheme clusters (user-perceived characters).
    pub max_graphemes: usize,
}

impl Default for SnippetConfig {
    fn default() -> Self {
        Self { max_graphemes: 160 }
    }
}

/// A highlighted excerpt of an original text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// Escaped HTML with `<mark>` around matches; safe to embed as is.
    pub html: String,
    /// The window, as a byte range of the original text.
    pub range: Range<usize>,
    /// Matched parts inside the window, as byte ranges of the original text, sorted and
    /// disjoint.
    pub marks: Vec<Range<usize>>,
}

/// The best snippet of `text` for `query`: the window covering the most distinct clauses, then
/// the most matches, earliest on ties. With no match the window is the start of the text.
pub fn snippet(query: &Query, text: &str, config: &SnippetConfig) -> Snippet {
    snippet_within(query, text, 0..text.len(), config)
}

/// Like [`snippet`], but only looks inside `within` (e.g. the best chunk's range); offsets are
/// still into the whole `text`. `within` is clamped to the text and to char boundaries.
pub fn snippet_within(
    query: &Query,
    text: &str,
    within: Range<usize>,
    config: &SnippetConfig,
) -> Snippet {
    let region = clamp_to_char_boundaries(text, within);
    let base = region.start;
    let spans: Vec<MatchSpan> = find_matches(query, &text[region.clone()])
        .into_iter()
        .map(|span| MatchSpan {
            range: span.range.start + base..span.range.end + base,
            phrase: span.phrase,
        })
        .collect();
    snippet_of_matches(text, region, &spans, config)
}

/// Like [`snippet_within`], with the matches of the query already found: `spans` are byte
/// ranges of `text` (as [`find_matches`] gives them for the whole text); those not wholly
/// inside `within` are left out.
pub fn snippet_of_matches(
    text: &str,
    within: Range<usize>,
    spans: &[MatchSpan],
    config: &SnippetConfig,
) -> Snippet {
    let region = clamp_to_char_boundaries(text, within);
    let base = region.start;
    let marks: Vec<(Range<usize>, u64)> = merge_spans(
        spans
            .iter()
            .filter(|span| span.range.start >= region.start && span.range.end <= region.end)
            .map(|span| {
                (
                    span.range.start - base..span.range.end - base,
                    1u64 << (span.phrase % 64),
                )
            }),
    );
    let region_text = &text[region];
    let boundaries = grapheme_boundaries(region_text);
    let window = choose_window(
        region_text,
        &boundaries,
        &marks,
        config.max_graphemes.max(1),
    );
    let inside: Vec<Range<usize>> = marks
        .iter()
        .filter(|(range, _)| range.start < window.end && range.end > window.start)
        .map(|(range, _)| range.start.max(window.start)..range.end.min(window.end))
        .collect();
    let html = render_html(region_text, &window, &inside);
    Snippet {
        html,
        range: window.start + base..window.end + base,
        marks: inside
            .into_iter()
            .map(|range| range.start + base..range.end + base)
            .collect(),
    }
}

/// Byte offsets where `text`'s grapheme clusters start, and its length.
fn grapheme_boundaries(text: &str) -> Vec<usize> {
    plain_char_starts(text).unwrap_or_else(|| segmented_boundaries(text))
}

/// [`grapheme_boundaries`] by the Unicode segmentation rules, for any text.
fn segmented_boundaries(text: &str) -> Vec<usize> {
    text.grapheme_indices(true)
        .map(|(offset, _)| offset)
        .chain(std::iter::once(text.len()))
        .collect()
}

/// When every character of `text` is plain (as [`plain_char_len`] says) but CR, so that each
/// is a grapheme cluster of its own: the byte offsets where they start, and its length.
///
/// Why those are clusters alone: ASCII but the CR of CRLF, precomposed Hangul syllables (only
/// a following jamo joins one) and general punctuation (dashes, quotes, bullets, ellipsis)
/// neither extend, join nor are joined by another plain character.
fn plain_char_starts(text: &str) -> Option<Vec<usize>> {
    let bytes = text.as_bytes();
    let mut starts = Vec::with_capacity(bytes.len() + 1);
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'\r' {
            return None;
        }
        starts.push(at);
        at += plain_char_len(bytes, at)?;
    }
    starts.push(text.len());
    Some(starts)
}

fn clamp_to_char_boundaries(text: &str, range: Range<usize>) -> Range<usize> {
    let mut start = range.start.min(text.len());
    let mut end = range.end.clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// Sorted, overlapping spans merged into disjoint marks, each with the set of clauses it holds.
fn merge_spans(spans: impl Iterator<Item = (Range<usize>, u64)>) -> Vec<(Range<usize>, u64)> {
    let mut spans: Vec<_> = spans.collect();
    spans.sort_by_key(|(range, _)| (range.start, range.end));
    let mut merged: Vec<(Range<usize>, u64)> = Vec::with_capacity(spans.len());
    for (range, phrases) in spans {
        match merged.last_mut() {
            Some((last, last_phrases)) if range.start < last.end => {
                last.end = last.end.max(range.end);
                *last_phrases |= phrases;
            }
            _ => merged.push((range, phrases)),
        }
    }
    merged
}

/// Index of the grapheme boundary at or before `offset`.
fn boundary_at_or_before(boundaries: &[usize], offset: usize) -> usize {
    match boundaries.binary_search(&offset) {
        Ok(index) => index,
        Err(index) => index.saturating_sub(1),
    }
}

fn is_blank(text: &str, boundaries: &[usize], grapheme: usize) -> bool {
    text[boundaries[grapheme]..boundaries[grapheme + 1]]
        .chars()
        .all(char::is_whitespace)
}

/// Picks the byte window (on grapheme boundaries) with the best marks.
fn choose_window(
    text: &str,
    boundaries: &[usize],
    marks: &[(Range<usize>, u64)],
    max_graphemes: usize,
) -> Range<usize> {
    let graphemes = boundaries.len() - 1;
    // Context shown before the anchor mark, so a match is not the snippet's first word.
    let lead = max_graphemes / 5;
    let window_from = |start: usize| -> (usize, usize) {
        let end = (start + max_graphemes).min(graphemes);
        let start = end.saturating_sub(max_graphemes).min(start);
        (start, end)
    };
    let mut best: Option<((usize, usize), (u32, usize))> = None;
    // Windows anchored on each mark; a quadratic scan, bounded to keep huge texts cheap.
    for (anchor, _) in marks.iter().take(256) {
        let anchor_grapheme = boundary_at_or_before(boundaries, anchor.start);
        let mut start = anchor_grapheme.saturating_sub(lead);
        // Start after a space when there is one in the lead, rather than mid-word.
        if start > 0
            && let Some(space) = (start..anchor_grapheme).find(|&g| is_blank(text, boundaries, g))
        {
            start = space + 1;
        }
        let (start, end) = window_from(start);
        let (start_byte, end_byte) = (boundaries[start], boundaries[end]);
        let mut phrases = 0u64;
        let mut count = 0;
        for (range, mark_phrases) in marks {
            if range.start >= start_byte && range.end <= end_byte {
                phrases |= mark_phrases;
                count += 1;
            }
        }
        let score = (phrases.count_ones(), count);
        if best.is_none_or(|(_, best_score)| score > best_score) {
            best = Some(((start, end), score));
        }
    }
    let (mut start, mut end) = best.map_or_else(|| window_from(0), |(window, _)| window);
    // Never show leading or trailing blanks.
    while start < end && is_blank(text, boundaries, start) {
        start += 1;
    }
    while end > start && is_blank(text, boundaries, end - 1) {
        end -= 1;
    }
    boundaries[start]..boundaries[end]
}

/// Appends `text` HTML-escaped, whitespace runs collapsed to one space (`pending_space`: one
/// is owed before the next visible character, across calls). Runs of characters that need
/// neither are copied whole.
fn push_escaped(out: &mut String, text: &str, pending_space: &mut bool) {
    let mut run_start: Option<usize> = None;
    for (at, c) in text.char_indices() {
        let escaped = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ if c.is_whitespace() => "",
            _ => {
                if run_start.is_none() {
                    if *pending_space {
                        out.push(' ');
                        *pending_space = false;
                    }
                    run_start = Some(at);
                }
                continue;
            }
        };
        if let Some(start) = run_start.take() {
            out.push_str(&text[start..at]);
        }
        if escaped.is_empty() {
            *pending_space = true;
        } else {
            if *pending_space {
                out.push(' ');
                *pending_space = false;
            }
            out.push_str(escaped);
        }
    }
    if let Some(start) = run_start {
        out.push_str(&text[start..]);
    }
}

fn render_html(text: &str, window: &Range<usize>, marks: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(window.len() + marks.len() * 13 + 8);
    if window.start > 0 {
        out.push('…');
    }
    let mut pending_space = false;
    let mut cursor = window.start;
    for mark in marks {
        push_escaped(&mut out, &text[cursor..mark.start], &mut pending_space);
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push_str("<mark>");
        push_escaped(&mut out, &text[mark.clone()], &mut pending_space);
        out.push_str("</mark>");
        cursor = mark.end;
    }
    push_escaped(&mut out, &text[cursor..window.end], &mut pending_space);
    if window.end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn q(input: &str) -> Query {
        Query::parse(input).unwrap()
    }

    #[test]
    fn marks_the_matched_syllables_inside_inflected_forms() {
        let text = "오늘 서버를 재시작했다.";
        let snip = snippet(&q("서버"), text, &SnippetConfig::default());
        assert_eq!(snip.html, "오늘 <mark>서버</mark>를 재시작했다.");
        assert_eq!(
            snip.marks
                .iter()
                .map(|r| &text[r.clone()])
                .collect::<Vec<_>>(),
            ["서버"]
        );
        assert_eq!(snip.range, 0..text.len());
    }

    #[test]
    fn marks_map_back_into_nfd_originals() {
        let text: String = "오늘 서버를 재시작했다.".nfd().collect();
        let snip = snippet(&q("서버"), &text, &SnippetConfig::default());
        assert_eq!(snip.marks.len(), 1);
        let marked: String = text[snip.marks[0].clone()].nfc().collect();
        assert_eq!(marked, "서버");
        // The HTML keeps the original's characters, with the mark around whole syllables.
        let html_nfc: String = snip.html.nfc().collect();
        assert_eq!(html_nfc, "오늘 <mark>서버</mark>를 재시작했다.");
    }

    #[test]
    fn escapes_html_and_collapses_whitespace() {
        let text = "<b>Axum</b> &\n\n  \"서버\"";
        let snip = snippet(&q("axum 서버"), text, &SnippetConfig::default());
        assert_eq!(
            snip.html,
            "&lt;b&gt;<mark>Axum</mark>&lt;/b&gt; &amp; &quot;<mark>서버</mark>&quot;"
        );
    }

    #[test]
    fn picks_the_window_holding_the_most_clauses() {
        let filler = "가나다 ".repeat(60);
        let text = format!("서버 {filler} axum 서버 {filler} 서버");
        let config = SnippetConfig { max_graphemes: 40 };
        let snip = snippet(&q("axum 서버"), &text, &config);
        let marked: Vec<&str> = snip.marks.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(marked, ["axum", "서버"]);
        assert!(snip.html.starts_with('…') && snip.html.ends_with('…'));
        assert!(text[snip.range.clone()].graphemes(true).count() <= 40);
    }

    #[test]
    fn windows_never_cut_a_grapheme() {
        let text: String = "가".repeat(10).nfd().collect::<String>() + " 서버";
        let config = SnippetConfig { max_graphemes: 4 };
        let snip = snippet(&q("서버"), &text, &config);
        let shown = &text[snip.range.clone()];
        let recomposed: String = shown.nfc().collect();
        assert!(recomposed.ends_with("서버"), "{recomposed}");
        assert!(
            text.grapheme_indices(true)
                .any(|(offset, _)| offset == snip.range.start)
        );
    }

    #[test]
    fn plain_text_boundaries_are_the_grapheme_boundaries() {
        let nfd: String = "회의".nfd().collect();
        for text in [
            "서버를 axum으로 — “설정” … 끝\n다음 줄",
            "CRLF\r\n줄바꿈",
            "이모지 👍🏽 와 한글",
            &nfd,
            "각\u{11A8} 받침 자모",
            "",
        ] {
            assert_eq!(
                grapheme_boundaries(text),
                segmented_boundaries(text),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        /// Text mixing plain characters with ones that join them (jamo, combining marks, CR,
        /// emoji modifiers, regional indicators) is segmented as the Unicode rules say.
        #[test]
        fn boundaries_are_the_grapheme_boundaries_of_any_text(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", " ", "\n", "\r", "서", "버", "—", "…", "\u{1100}", "\u{1161}",
                    "\u{11A8}", "\u{301}", "👍", "\u{1F3FD}", "\u{200D}", "\u{1F1F0}", "é",
                ]),
                0..24,
            )
        ) {
            let text = pieces.concat();
            proptest::prop_assert_eq!(grapheme_boundaries(&text), segmented_boundaries(&text));
        }
    }

    #[test]
    fn without_a_match_shows_the_beginning() {
        let text = "첫 문장입니다. 둘째 문장입니다.";
        let snip = snippet(&q("없는말"), text, &SnippetConfig { max_graphemes: 7 });
        assert_eq!(snip.html, "첫 문장입니다…");
        assert!(snip.marks.is_empty());
    }

    #[test]
    fn snippet_within_keeps_offsets_absolute() {
        let text = "서버 하나. 다른 단락의 서버.";
        let second = text.find("다른").unwrap();
        let snip = snippet_within(
            &q("서버"),
            text,
            second..text.len(),
            &SnippetConfig::default(),
        );
        assert_eq!(snip.marks.len(), 1);
        assert!(snip.marks[0].start > second);
        assert_eq!(&text[snip.marks[0].clone()], "서버");
    }
}
