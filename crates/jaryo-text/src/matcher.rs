//! The reference matcher: query semantics implemented directly on units, with no term stream,
//! positions or bigrams involved.
//!
//! It is the oracle the stores are tested against (an FTS5 or tsvector result set must equal
//! `matches` over the same rows), and the engine behind snippet marks, so what is marked is
//! exactly what matched. The rules are those in [`crate::query`]'s docs.

use std::ops::Range;

use crate::analyzer::{MAX_WORD_CHARS, UnitKind, for_each_unit, located_units};
use crate::query::{Phrase, Query, QueryUnit};

/// Whether `text` matches every clause of `query`.
pub fn matches(query: &Query, text: &str) -> bool {
    matches_fields(query, &[text])
}

/// Whether every clause of `query` matches within at least one of `fields` (a clause never
/// spans two fields, different clauses may match different fields): how a store with a title
/// column and a body column behaves.
pub fn matches_fields(query: &Query, fields: &[&str]) -> bool {
    let analysed: Vec<Units> = fields.iter().map(|field| Units::of(field)).collect();
    query.phrases().iter().all(|phrase| {
        analysed
            .iter()
            .any(|units| phrase_occurs(phrase.units(), &units.slices()))
    })
}

/// The units of a text in one buffer: their characters end to end, and each unit's kind and
/// range in that buffer.
struct Units {
    chars: Vec<char>,
    units: Vec<(UnitKind, Range<usize>)>,
}

impl Units {
    fn of(text: &str) -> Self {
        let mut chars = Vec::with_capacity(text.len());
        let mut units = Vec::new();
        for_each_unit(text, |kind, unit_chars| {
            let start = chars.len();
            chars.extend_from_slice(unit_chars);
            units.push((kind, start..chars.len()));
        });
        Self { chars, units }
    }

    fn slices(&self) -> Vec<(UnitKind, &[char])> {
        self.units
            .iter()
            .map(|(kind, range)| (*kind, &self.chars[range.clone()]))
            .collect()
    }
}

fn phrase_occurs(phrase: &[QueryUnit], units: &[(UnitKind, &[char])]) -> bool {
    let mut found = false;
    for_each_occurrence(phrase, units, |_| {
        found = true;
        false
    });
    found
}

/// One place where a clause matched a text: the byte range of the original text covered, from
/// the first matched character to the last (separators in between included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchSpan {
    /// Byte range into the original text.
    pub range: Range<usize>,
    /// Index of the clause in [`Query::phrases`].
    pub phrase: usize,
}

/// Every occurrence of every clause of `query` in `text`, sorted by start (then clause).
/// Ranges point into `text` as given, NFD or not: a syllable typed as jamo is covered whole.
pub fn find_matches(query: &Query, text: &str) -> Vec<MatchSpan> {
    let mut spans = find_matches_in_plain_text(query, text)
        .unwrap_or_else(|| find_matches_in_units(query, text));
    spans.sort_by_key(|span| (span.range.start, span.phrase, span.range.end));
    spans
}

/// [`find_matches`] on the analyzer's units: the general path, for any text and query.
fn find_matches_in_units(query: &Query, text: &str) -> Vec<MatchSpan> {
    let located = located_units(text);
    let plain: Vec<(UnitKind, &[char])> = located
        .units
        .iter()
        .map(|(kind, range)| (*kind, &located.chars[range.clone()]))
        .collect();
    // The origin of character `at` of unit `unit`.
    let origin = |unit: usize, at: usize| &located.origins[located.units[unit].1.start + at];
    let mut spans = Vec::new();
    for (phrase_index, phrase) in query.phrases().iter().enumerate() {
        for_each_occurrence(phrase.units(), &plain, |occurrence| {
            let first = origin(occurrence.first_unit, occurrence.first_char);
            let last = origin(occurrence.last_unit, occurrence.last_char_end - 1);
            spans.push(MatchSpan {
                range: first.start..last.end,
                phrase: phrase_index,
            });
            true
        });
    }
    spans
}

/// The byte length of the character at `bytes[at]` when it belongs to *plain* text: ASCII, a
/// precomposed Hangul syllable, or general punctuation (U+2010–U+2027: dashes, quotes,
/// bullets, ellipsis); `None` for any other character (or past the end). `bytes` is a `str`'s,
/// with a character starting at `at`. Read off the UTF-8 bytes, without decoding: the plain
/// characters beyond ASCII are exactly the three-byte ones in those two ranges.
///
/// In text of these alone the analyzer's units can be read off the bytes: normalisation
/// changes nothing but ASCII case (NFKC turns some of the punctuation into other
/// punctuation, a separator either way), word units are the runs of ASCII letters and digits,
/// and CJK units are the runs of Hangul syllables. (The snippet's grapheme boundaries use the
/// same test.)
pub(crate) fn plain_char_len(bytes: &[u8], at: usize) -> Option<usize> {
    let lead = *bytes.get(at)?;
    if lead.is_ascii() {
        return Some(1);
    }
    let &[_, second, third] = bytes.get(at..at + 3)? else {
        return None;
    };
    if lead & 0xf0 != 0xe0 {
        return None;
    }
    let c =
        (u32::from(lead & 0x0f) << 12) | (u32::from(second & 0x3f) << 6) | u32::from(third & 0x3f);
    matches!(c, 0xAC00..=0xD7A3 | 0x2010..=0x2027).then_some(3)
}

/// Whether every character of `text` is plain (see [`plain_char_len`]).
fn is_plain_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match plain_char_len(bytes, at) {
            Some(len) => at += len,
            None => return false,
        }
    }
    true
}

/// [`find_matches`] without the analyzer, for the commonest case: plain text (see
/// [`plain_char_len`]; nearly every Korean or English note) and a query whose clauses are single
/// units. Matches are found on the bytes, with exactly the semantics of
/// [`for_each_occurrence`]: a word equals a whole word unit (cut to [`MAX_WORD_CHARS`], as
/// units are; a prefix word begins one), a CJK unit occurs anywhere inside a run, overlapping occurrences included.
/// `None` when the text or the query needs the general path.
fn find_matches_in_plain_text(query: &Query, text: &str) -> Option<Vec<MatchSpan>> {
    let single_units: Vec<&QueryUnit> = query
        .phrases()
        .iter()
        .map(|phrase| match phrase.units() {
            [unit] => Some(unit),
            _ => None,
        })
        .collect::<Option<_>>()?;
    if !is_plain_text(text) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for (phrase, unit) in single_units.into_iter().enumerate() {
        let needle: String = unit.chars.iter().collect();
        match unit.kind {
            // Plain text has no word characters but ASCII letters and digits, so a word with
            // any other character occurs nowhere.
            UnitKind::Word if needle.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                // Only where the word's first letter (in either case) starts a word.
                let first = needle.as_bytes()[0];
                for start in memchr::memchr2_iter(first, first.to_ascii_uppercase(), bytes) {
                    if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                        continue;
                    }
                    let end = bytes[start..]
                        .iter()
                        .position(|b| !b.is_ascii_alphanumeric())
                        .map_or(bytes.len(), |length| start + length);
                    let unit_end = end.min(start + MAX_WORD_CHARS);
                    let word = &bytes[start..unit_end];
                    let fits = if unit.prefix {
                        word.len() >= needle.len()
                            && word[..needle.len()].eq_ignore_ascii_case(needle.as_bytes())
                    } else {
                        word.eq_ignore_ascii_case(needle.as_bytes())
                    };
                    if fits {
                        spans.push(MatchSpan {
                            range: start..unit_end,
                            phrase,
                        });
                    }
                }
            }
            // Likewise CJK runs are runs of Hangul syllables: any occurrence of a needle of
            // syllables lies inside one.
            UnitKind::Cjk
                if needle
                    .chars()
                    .all(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)) =>
            {
                let mut from = 0;
                while let Some(found) = text[from..].find(needle.as_str()) {
                    let start = from + found;
                    spans.push(MatchSpan {
                        range: start..start + needle.len(),
                        phrase,
                    });
                    // The next occurrence may overlap this one: go on one syllable later.
                    from = start + needle.chars().next().map_or(1, char::len_utf8);
                }
            }
            UnitKind::Word | UnitKind::Cjk => {}
        }
    }
    Some(spans)
}

/// How well a text matches a query, for choosing the best chunk of a document: more distinct
/// clauses first, then more occurrences. Orders ascending, so `max` is best.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct MatchScore {
    pub clauses_matched: usize,
    pub occurrences: usize,
}

impl MatchScore {
    /// The score of a text whose matches are `spans` (as [`find_matches`] gives them).
    pub fn of_spans<'a>(spans: impl IntoIterator<Item = &'a MatchSpan>) -> Self {
        let mut clauses = 0u64;
        let mut result = MatchScore::default();
        for span in spans {
            let bit = 1u64 << (span.phrase % 64);
            if clauses & bit == 0 {
                clauses |= bit;
                result.clauses_matched += 1;
            }
            result.occurrences += 1;
        }
        result
    }
}

/// Scores `text` against `query`.
pub fn score(query: &Query, text: &str) -> MatchScore {
    MatchScore::of_spans(&find_matches(query, text))
}

/// Unit and character coordinates of one occurrence.
struct Occurrence {
    first_unit: usize,
    first_char: usize,
    last_unit: usize,
    last_char_end: usize,
}

/// Whether the text's word `chars` is the query's word `unit`: equal, or begun by it when the
/// query word is a prefix.
#[inline]
fn word_fits(unit: &QueryUnit, chars: &[char]) -> bool {
    if unit.prefix {
        chars.starts_with(&unit.chars)
    } else {
        chars == unit.chars.as_slice()
    }
}

/// Calls `on_match` for each occurrence of the clause `query` in `text`, in text order, until
/// it returns false.
fn for_each_occurrence<C: AsRef<[char]>>(
    query: &[QueryUnit],
    text: &[(UnitKind, C)],
    mut on_match: impl FnMut(Occurrence) -> bool,
) {
    let Some(first) = query.first() else {
        return;
    };
    if query.len() == 1 {
        for (index, (kind, chars)) in text.iter().enumerate() {
            let chars = chars.as_ref();
            if *kind != first.kind {
                continue;
            }
            match kind {
                UnitKind::Word => {
                    if word_fits(first, chars)
                        && !on_match(Occurrence {
                            first_unit: index,
                            first_char: 0,
                            last_unit: index,
                            last_char_end: chars.len(),
                        })
                    {
                        return;
                    }
                }
                UnitKind::Cjk => {
                    let needle = first.chars.as_slice();
                    if needle.len() > chars.len() {
                        continue;
                    }
                    for start in 0..=chars.len() - needle.len() {
                        if &chars[start..start + needle.len()] == needle
                            && !on_match(Occurrence {
                                first_unit: index,
                                first_char: start,
                                last_unit: index,
                                last_char_end: start + needle.len(),
                            })
                        {
                            return;
                        }
                    }
                }
            }
        }
        return;
    }
    let k = query.len();
    if text.len() < k {
        return;
    }
    'start: for start in 0..=text.len() - k {
        for (offset, unit) in query.iter().enumerate() {
            let (kind, chars) = &text[start + offset];
            let chars = chars.as_ref();
            if *kind != unit.kind {
                continue 'start;
            }
            let needle = unit.chars.as_slice();
            let fits = match (kind, offset) {
                (UnitKind::Word, _) => word_fits(unit, chars),
                (UnitKind::Cjk, 0) => chars.ends_with(needle),
                (UnitKind::Cjk, o) if o + 1 == k => chars.starts_with(needle),
                (UnitKind::Cjk, _) => chars == needle,
            };
            if !fits {
                continue 'start;
            }
        }
        let first_chars = text[start].1.as_ref().len();
        let last_unit = start + k - 1;
        let last = &query[k - 1];
        let last_char_end = match last.kind {
            UnitKind::Word => text[last_unit].1.as_ref().len(),
            UnitKind::Cjk => last.chars.len(),
        };
        let occurrence = Occurrence {
            first_unit: start,
            first_char: first_chars - query[0].chars.len(),
            last_unit,
            last_char_end,
        };
        if !on_match(occurrence) {
            return;
        }
    }
}

impl Query {
    /// Reference semantics of this query on one text; see [`matches`](fn@matches).
    pub fn matches(&self, text: &str) -> bool {
        matches(self, text)
    }
}

impl Phrase {
    /// Whether this single clause matches `text`.
    pub fn matches(&self, text: &str) -> bool {
        phrase_occurs(self.units(), &Units::of(text).slices())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn q(input: &str) -> Query {
        Query::parse(input).unwrap()
    }

    #[test]
    fn two_syllable_words_match_inside_inflected_forms() {
        for text in ["서버를 재시작했다", "서버에서 오류", "웹서버 설정", "서버"]
        {
            assert!(q("서버").matches(text), "{text}");
        }
        assert!(q("회의").matches("회의록을 정리"));
        assert!(q("일정").matches("다음 주 일정은"));
        assert!(!q("서버").matches("서 버"));
        assert!(!q("회의").matches("회사 의자"));
    }

    #[test]
    fn particles_in_the_query_must_be_there() {
        assert!(q("서버를").matches("서버를 켰다"));
        assert!(!q("서버를").matches("서버가 켜졌다"));
    }

    #[test]
    fn mixed_queries_are_and_across_scripts() {
        assert!(q("axum 서버").matches("Axum으로 만든 서버"));
        assert!(q("axum 서버").matches("서버는 axum"));
        assert!(!q("axum 서버").matches("axum만 있다"));
        assert!(q("axum서버").matches("AXUM 서버를"));
        assert!(!q("axum서버").matches("axum 웹 서버"));
    }

    #[test]
    fn prefix_words_match_every_word_they_begin() {
        for text in [
            "nightly backup",
            "the Backend crashed",
            "back to work",
            "백업 BACKUPS",
        ] {
            assert!(q("back*").matches(text), "{text}");
        }
        assert!(!q("back*").matches("feedback loop"));
        assert!(!q("back").matches("backup"));
        assert!(q("\"nightly back*\"").matches("Nightly backups ran"));
        assert!(!q("\"nightly back*\"").matches("nightly, feedback"));
        // The whole word is marked, on the plain path and on the general one.
        let plain = find_matches(&q("back*"), "a backup.");
        assert_eq!(
            plain
                .iter()
                .map(|s| (s.range.start, s.range.end))
                .collect::<Vec<_>>(),
            [(2, 8)]
        );
        let general = find_matches(&q("caf*"), "un café.");
        assert_eq!(
            general
                .iter()
                .map(|s| (s.range.start, s.range.end))
                .collect::<Vec<_>>(),
            [(3, 8)]
        );
    }

    #[test]
    fn accents_fold_both_ways() {
        assert!(q("cafe").matches("Un café, s'il vous plaît"));
        assert!(q("café").matches("the cafe on the corner"));
        assert!(q("CRÈME").matches("creme brulee"));
        assert!(q("카페 café").matches("카페에서 cafe 라테"));
        let spans = find_matches(&q("cafe"), "Cafe\u{301}!");
        assert_eq!(
            spans
                .iter()
                .map(|s| (s.range.start, s.range.end))
                .collect::<Vec<_>>(),
            [(0, 6)]
        );
    }

    #[test]
    fn single_characters_match_anywhere_in_a_run() {
        for text in ["회의", "사회", "국회의원", "회"] {
            assert!(q("회").matches(text), "{text}");
        }
        assert!(!q("회").matches("의사"));
        // Latin words compare whole: a one-letter query finds the one-letter word.
        assert!(q("C").matches("C 언어"));
        assert!(!q("c").matches("cargo"));
    }

    #[test]
    fn phrases_respect_run_boundaries() {
        assert!(q("\"서버 설정\"").matches("웹서버 설정을 바꿨다"));
        assert!(q("\"서버 설정\"").matches("서버, 설정"));
        assert!(!q("\"서버 설정\"").matches("서버를 설정"));
        assert!(!q("\"서버 설정\"").matches("설정 서버"));
        assert!(q("\"집 앞\"").matches("우리집 앞에서"));
        assert!(!q("\"집 앞\"").matches("집이 앞에"));
        assert!(q("\"a b c\"").matches("x a b c"));
        assert!(!q("\"a b c\"").matches("a b x c"));
    }

    #[test]
    fn nfd_queries_and_texts_match_nfc() {
        let nfd_text: String = "회의록을 정리했다".nfd().collect();
        let nfd_query: String = "회의록".nfd().collect();
        assert!(q("회의록").matches(&nfd_text));
        assert!(q(&nfd_query).matches("회의록을 정리했다"));
        assert!(q(&nfd_query).matches(&nfd_text));
    }

    #[test]
    fn english_is_case_insensitive() {
        assert!(q("TOKIO").matches("Tokio runtime"));
        assert!(q("tokio Runtime").matches("TOKIO RUNTIME"));
        assert!(!q("tokio").matches("tokyo"));
    }

    #[test]
    fn every_clause_may_match_a_different_field_but_not_across_fields() {
        let query = q("axum 서버");
        assert!(matches_fields(&query, &["Axum 메모", "서버 설정"]));
        let phrase = q("\"메모 서버\"");
        assert!(!matches_fields(&phrase, &["Axum 메모", "서버 설정"]));
    }

    #[test]
    fn find_matches_marks_the_matched_syllables_of_the_original() {
        let text = "웹서버를 재시작";
        let spans = find_matches(&q("서버"), text);
        assert_eq!(spans.len(), 1);
        assert_eq!(&text[spans[0].range.clone()], "서버");

        let nfd: String = text.nfd().collect();
        let spans = find_matches(&q("서버"), &nfd);
        let marked: String = nfd[spans[0].range.clone()].nfc().collect();
        assert_eq!(marked, "서버");
    }

    #[test]
    fn find_matches_spans_a_whole_phrase() {
        let text = "Axum서버를 띄움; axum 서버";
        let spans = find_matches(&q("axum서버"), text);
        let marked: Vec<&str> = spans.iter().map(|s| &text[s.range.clone()]).collect();
        assert_eq!(marked, ["Axum서버", "axum 서버"]);
    }

    /// Plain text over a small alphabet, so that words and runs repeat, overlap and touch;
    /// now and then a word longer than a unit keeps.
    fn plain_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            4 => "[aAbB1 서버하회의\u{2010}-\u{2027}.,\r\n-]{1,12}",
            1 => Just("하하하".to_owned()),
            1 => Just("x".repeat(MAX_WORD_CHARS - 1)),
            1 => Just("Y".repeat(MAX_WORD_CHARS + 3)),
        ];
        proptest::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat())
    }

    proptest::proptest! {
        #[test]
        fn the_plain_text_path_finds_what_the_units_find(
            text in plain_text(),
            words in proptest::sample::subsequence(
                vec![
                    "a", "AB", "b1", "1", "서버", "하하", "회", "버하", "café", "漢", "서버를", "a*",
                    "Ab*", "b1*",
                ],
                1..3,
            ),
            long in proptest::sample::select(vec![None, Some('x'), Some('y')]),
        ) {
            let mut input = words.join(" ");
            if let Some(letter) = long {
                input.push(' ');
                input.push_str(&letter.to_string().repeat(MAX_WORD_CHARS + 1));
            }
            let query = q(&input);
            let mut fast = find_matches_in_plain_text(&query, &text)
                .expect("plain text and single-unit clauses take the fast path");
            fast.sort_by_key(|span| (span.range.start, span.phrase, span.range.end));
            let mut general = find_matches_in_units(&query, &text);
            general.sort_by_key(|span| (span.range.start, span.phrase, span.range.end));
            proptest::prop_assert_eq!(fast, general);
        }
    }

    #[test]
    fn texts_and_queries_the_plain_path_cannot_read_take_the_general_one() {
        assert!(find_matches_in_plain_text(&q("서버"), "서버·설정").is_none());
        assert!(find_matches_in_plain_text(&q("서버"), "ＡＢＣ 서버").is_none());
        assert!(find_matches_in_plain_text(&q("\"서버 설정\""), "서버 설정").is_none());
        let spans = find_matches(&q("서버"), "서버·설정 웹서버");
        assert_eq!(spans.len(), 2);
    }

    #[test]
    fn score_prefers_more_clauses_then_more_occurrences() {
        let query = q("axum 서버");
        let both = score(&query, "axum 서버");
        let many = score(&query, "서버 서버 서버");
        let none = score(&query, "nothing");
        assert_eq!(
            both,
            MatchScore {
                clauses_matched: 2,
                occurrences: 2
            }
        );
        assert_eq!(
            many,
            MatchScore {
                clauses_matched: 1,
                occurrences: 3
            }
        );
        assert!(both > many && many > none);
    }
}
