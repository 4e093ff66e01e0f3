//! Property tests of the invariants the crate documents: chunk bounds and offsets, the term
//! alphabet, the shape of rendered queries, and snippet marks.

mod common;

use jaryo_text::{
    ChunkConfig, Query, SnippetConfig, chunk_markdown, find_matches, matches, snippet, terms,
};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Markdown-ish documents: headings, fences, paragraphs, long runs without spaces, NFD
/// Korean, combining marks and emoji sequences that must not be split.
fn markdown() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        3 => common::text(),
        1 => "[가-힣]{1,80}",
        1 => "[a-z ]{1,120}",
        1 => common::text().prop_map(|t| t.nfd().collect::<String>()),
        1 => prop::sample::select(vec![
            "# 제목", "## Sub", "Title\n=====", "```rust", "```", "~~~", "",
            "e\u{301}\u{301}\u{301}", "👩‍👩‍👧‍👦", "\r\n", "다. 그래서!", "   ", "\t",
        ]).prop_map(str::to_owned),
    ];
    prop::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n"))
}

fn config() -> impl Strategy<Value = ChunkConfig> {
    (32usize..300, 0usize..150).prop_map(|(max_chars, overlap)| ChunkConfig {
        max_chars,
        overlap_chars: overlap.min(max_chars / 2),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn chunks_are_bounded_ordered_aligned_and_cover_the_text(text in markdown(), config in config()) {
        let chunks = chunk_markdown(&text, &config);
        let boundaries: Vec<usize> = text
            .grapheme_indices(true)
            .map(|(offset, _)| offset)
            .chain(std::iter::once(text.len()))
            .collect();
        let mut covered = vec![false; text.len()];
        for (i, chunk) in chunks.iter().enumerate() {
            prop_assert_eq!(chunk.index, i);
            prop_assert!(chunk.range.start < chunk.range.end);
            prop_assert!(boundaries.binary_search(&chunk.range.start).is_ok(), "start splits a grapheme");
            prop_assert!(boundaries.binary_search(&chunk.range.end).is_ok(), "end splits a grapheme");
            let piece = chunk.text(&text);
            prop_assert_eq!(piece.trim(), piece, "chunk has outer whitespace");
            let chars = piece.chars().count();
            prop_assert!(
                chars <= config.max_chars || piece.graphemes(true).count() == 1,
                "chunk of {} chars > {}", chars, config.max_chars
            );
            if i > 0 {
                let previous = &chunks[i - 1];
                prop_assert!(chunk.range.start > previous.range.start);
                prop_assert!(chunk.range.end > previous.range.end);
                if chunk.range.start < previous.range.end {
                    let shared = text[chunk.range.start..previous.range.end].chars().count();
                    prop_assert!(shared <= config.overlap_chars, "overlap {} > {}", shared, config.overlap_chars);
                }
            }
            covered[chunk.range.clone()].iter_mut().for_each(|c| *c = true);
        }
        for (offset, c) in text.char_indices() {
            prop_assert!(c.is_whitespace() || covered[offset], "{:?} at {} is in no chunk", c, offset);
        }
        prop_assert_eq!(chunk_markdown(&text, &config), chunks, "not deterministic");
    }

    #[test]
    fn terms_keep_to_the_safe_alphabet(text in "\\PC{0,60}") {
        for term in terms(&text) {
            prop_assert!(!term.is_empty());
            prop_assert!(
                term.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || !c.is_ascii()),
                "{:?}", term
            );
            prop_assert!(!term.chars().any(char::is_whitespace), "{:?}", term);
        }
    }

    /// Rendered queries are a fixed grammar whatever the input: quoted phrases joined by AND
    /// (FTS5), quoted lexemes joined by `<->` inside parentheses and `&` between (tsquery).
    #[test]
    fn renderings_have_a_fixed_shape(input in "\\PC{0,60}") {
        if let Ok(query) = Query::parse(&input) {
            for clause in query.to_fts5_match().split(" AND ") {
                let body = clause.strip_suffix('*').unwrap_or(clause);
                let inner = body.strip_prefix('"').and_then(|b| b.strip_suffix('"'));
                prop_assert!(inner.is_some_and(|i| !i.is_empty() && !i.contains('"')), "{:?}", clause);
            }
            for clause in query.to_tsquery_text().split(" & ") {
                let clause = clause.strip_prefix('(').and_then(|c| c.strip_suffix(')')).unwrap_or(clause);
                for lexeme in clause.split(" <-> ") {
                    let lexeme = lexeme.strip_suffix(":*").unwrap_or(lexeme);
                    let inner = lexeme.strip_prefix('\'').and_then(|l| l.strip_suffix('\''));
                    prop_assert!(inner.is_some_and(|i| !i.is_empty() && !i.contains(['\'', '\\'])), "{:?}", lexeme);
                }
            }
        }
    }

    /// Marks are real matches: inside the window, on char boundaries, disjoint, and each one
    /// marked in the HTML.
    #[test]
    fn snippet_marks_are_matches_inside_the_window(
        text in common::text(),
        input in common::query(),
        nfd in any::<bool>(),
        width in 8usize..80,
    ) {
        let text = if nfd { text.nfd().collect() } else { text };
        let Ok(query) = Query::parse(&input) else { return Ok(()) };
        let snip = snippet(&query, &text, &SnippetConfig { max_graphemes: width });
        prop_assert!(snip.range.start <= snip.range.end && snip.range.end <= text.len());
        prop_assert!(text[snip.range.clone()].graphemes(true).count() <= width);
        let spans = find_matches(&query, &text);
        for (i, mark) in snip.marks.iter().enumerate() {
            prop_assert!(mark.start < mark.end);
            prop_assert!(snip.range.start <= mark.start && mark.end <= snip.range.end);
            prop_assert!(text.is_char_boundary(mark.start) && text.is_char_boundary(mark.end));
            prop_assert!(i == 0 || snip.marks[i - 1].end <= mark.start);
            prop_assert!(spans.iter().any(|s| s.range.start < mark.end && mark.start < s.range.end));
        }
        prop_assert_eq!(snip.html.matches("<mark>").count(), snip.marks.len());
        // Spans and the matcher agree clause by clause.
        for (index, phrase) in query.phrases().iter().enumerate() {
            prop_assert_eq!(phrase.matches(&text), spans.iter().any(|s| s.phrase == index));
        }
        prop_assert_eq!(
            matches(&query, &text),
            (0..query.phrases().len()).all(|i| spans.iter().any(|s| s.phrase == i))
        );
    }
}
