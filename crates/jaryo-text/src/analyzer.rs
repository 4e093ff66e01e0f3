//! The analyzer: from text to **units**, and from units to the positional **term stream**.
//!
//! After normalisation (NFKC, lowercase) each character is a word character, a CJK
//! character (Hangul, Han, Kana, Bopomofo), a combining mark, or a separator. Maximal runs of
//! one kind form units:
//!
//! - a **word** unit: letters and digits of any non-CJK script (`axum`, `v2`, `2024`, `café`,
//!   which normalisation has already folded to `cafe`),
//!   with their combining marks; capped at [`MAX_WORD_CHARS`] characters (the rest is dropped,
//!   identically for text and queries);
//! - a **CJK** unit: a run of CJK characters (`서버를`). A script change ends a unit, so
//!   `axum서버` is the two units `axum`, `서버`.
//!
//! Units become terms at consecutive positions:
//!
//! - a word unit is one term: `axum`;
//! - a CJK unit of *n* characters is *n* terms: its *n−1* overlapping bigrams followed by its
//!   last character alone, the **run-final unigram**: `서버를` → `서버 버를 를`; `집` → `집`.
//!
//! Why the run-final unigram and not a unigram per character: extra unigrams interleaved with
//! the bigrams would break the adjacency that phrase queries rely on. With exactly one
//! run-final unigram per run, every character of a run is the first character of exactly one
//! term (`서`→`서버`, `버`→`버를`, `를`→`를`), so a one-character query `버` is the prefix query
//! `버*` and finds every run containing 버, and the unigram also marks where a run ends, which
//! lets a phrase such as `"서버 설정"` demand that `서버` ends its run (see [`crate::query`]).
//!
//! Invariant (the *term alphabet*): every term is non-empty and consists only of ASCII
//! `[0-9a-z]` and non-ASCII letters, digits and marks. So a tokenizer that splits on ASCII
//! whitespace and punctuation and keeps every non-ASCII character (SQLite FTS5's `ascii`
//! tokenizer) reads the space-joined stream back as exactly these terms, and a quoted term can
//! never contain a quote, an operator or whitespace.

use std::collections::BTreeMap;
use std::ops::Range;

use unicode_normalization::char::is_combining_mark;

use crate::normalize::{for_each_folded_char, for_each_folded_char_with_origin};

/// Longest word unit, in characters; longer words keep only this prefix. Keeps one base64 blob
/// from bloating the index and stays far below PostgreSQL's 2 KB lexeme limit.
pub const MAX_WORD_CHARS: usize = 128;

/// PostgreSQL's largest tsvector position; later positions are clamped to it, as
/// `to_tsvector` does.
pub const PG_MAX_POSITION: u16 = 16_383;

/// PostgreSQL keeps at most this many positions per lexeme.
pub const PG_MAX_POSITIONS_PER_LEXEME: usize = 256;

/// Budget for the summed bytes of distinct lexemes in one tsvector (PostgreSQL refuses more
/// than 1 MiB); lexemes first seen beyond it are left out.
pub const PG_MAX_LEXEME_BYTES: usize = 1_000_000;

/// What a unit is made of; decides how it becomes terms and how it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnitKind {
    /// Letters and digits of a non-CJK script. Matches whole words only.
    Word,
    /// A run of Hangul, Han, Kana or Bopomofo. Matches any substring of a run.
    Cjk,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Word,
    Cjk,
    Mark,
    Separator,
}

#[inline]
fn classify(c: char) -> CharClass {
    if c.is_ascii() {
        // Only [0-9a-z] survive: this is what keeps the term alphabet safe for FTS5's `ascii`
        // tokenizer (which would split on `_`, `'`, …).
        return if c.is_ascii_alphanumeric() {
            CharClass::Word
        } else {
            CharClass::Separator
        };
    }
    if ('\u{AC00}'..='\u{D7A3}').contains(&c) {
        // Hangul syllables first: the bulk of Korean text, and no table lookup needed.
        return CharClass::Cjk;
    }
    if c.is_alphanumeric() {
        if is_cjk(c) {
            CharClass::Cjk
        } else {
            CharClass::Word
        }
    } else if is_combining_mark(c) {
        CharClass::Mark
    } else {
        CharClass::Separator
    }
}

/// Scripts written without spaces between words (or, for Korean, with particles glued to
/// words), which therefore need bigrams. Only called for alphanumeric characters, so
/// punctuation inside these blocks (`、`, `・`) stays a separator.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF      // Hangul Jamo
        | 0x2E80..=0x2FDF    // CJK and Kangxi radicals
        | 0x3005..=0x3007    // 々 〆 〇
        | 0x3021..=0x3029    // Hangzhou numerals
        | 0x3031..=0x3035    // Kana repeat marks
        | 0x3038..=0x303C
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3100..=0x312F    // Bopomofo
        | 0x3130..=0x318F    // Hangul compatibility jamo
        | 0x31A0..=0x31BF    // Bopomofo extended
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xA960..=0xA97F    // Hangul jamo extended A
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xD7B0..=0xD7FF    // Hangul jamo extended B
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // Halfwidth Katakana
        | 0xFFA0..=0xFFDC    // Halfwidth Hangul
        | 0x1B000..=0x1B16F  // Kana supplement and extensions
        | 0x20000..=0x3FFFF  // CJK extensions B and later, compatibility supplement
    )
}

/// Where a unit character came from in the original text; `()` when nobody asks.
pub(crate) trait Origin: Clone {
    /// Widens this origin to also cover `next` (a mark folded into the previous character).
    fn absorb(&mut self, next: &Self);
}

impl Origin for () {
    #[inline]
    fn absorb(&mut self, _next: &Self) {}
}

impl Origin for Range<usize> {
    fn absorb(&mut self, next: &Self) {
        self.end = self.end.max(next.end);
    }
}

/// Groups normalised characters into units; calls back once per finished unit with its
/// characters and their origins. Buffers are reused across units.
struct UnitScanner<O> {
    kind: Option<UnitKind>,
    chars: Vec<char>,
    origins: Vec<O>,
}

impl<O: Origin> UnitScanner<O> {
    fn new() -> Self {
        Self {
            kind: None,
            chars: Vec::with_capacity(32),
            origins: Vec::with_capacity(32),
        }
    }

    #[inline]
    fn push(&mut self, c: char, origin: O, on_unit: &mut impl FnMut(UnitKind, &[char], &[O])) {
        match classify(c) {
            CharClass::Word => self.extend(UnitKind::Word, c, origin, on_unit),
            CharClass::Cjk => self.extend(UnitKind::Cjk, c, origin, on_unit),
            CharClass::Mark => match self.kind {
                Some(UnitKind::Word) => self.append(c, origin),
                // A mark NFKC could not compose (a variation selector on a Han character) is
                // not a character of the run: skip it so 漢 and 漢+VS match each other.
                Some(UnitKind::Cjk) => {
                    if let Some(last) = self.origins.last_mut() {
                        last.absorb(&origin);
                    }
                }
                None => {}
            },
            CharClass::Separator => self.flush(on_unit),
        }
    }

    #[inline]
    fn extend(
        &mut self,
        kind: UnitKind,
        c: char,
        origin: O,
        on_unit: &mut impl FnMut(UnitKind, &[char], &[O]),
    ) {
        if self.kind != Some(kind) {
            self.flush(on_unit);
            self.kind = Some(kind);
        }
        self.append(c, origin);
    }

    #[inline]
    fn append(&mut self, c: char, origin: O) {
        if self.kind == Some(UnitKind::Word) && self.chars.len() >= MAX_WORD_CHARS {
            return;
        }
        self.chars.push(c);
        self.origins.push(origin);
    }

    fn flush(&mut self, on_unit: &mut impl FnMut(UnitKind, &[char], &[O])) {
        if let Some(kind) = self.kind.take() {
            on_unit(kind, &self.chars, &self.origins);
            self.chars.clear();
            self.origins.clear();
        }
    }
}

/// Calls `on_unit` for every unit of `text`, in order.
pub(crate) fn for_each_unit(text: &str, mut on_unit: impl FnMut(UnitKind, &[char])) {
    let mut scanner = UnitScanner::<()>::new();
    let mut forward = |kind: UnitKind, chars: &[char], _: &[()]| on_unit(kind, chars);
    for_each_folded_char(text, |c| scanner.push(c, (), &mut forward));
    scanner.flush(&mut forward);
}

/// The units of an original text, each character mapped back to the bytes it came from: the
/// characters of all units end to end, their origins alongside, and each unit's kind and range
/// in those two buffers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LocatedUnits {
    pub chars: Vec<char>,
    pub origins: Vec<Range<usize>>,
    pub units: Vec<(UnitKind, Range<usize>)>,
}

/// The units of `text`, each character mapped back to the bytes of `text` it came from.
pub(crate) fn located_units(text: &str) -> LocatedUnits {
    let mut located = LocatedUnits {
        chars: Vec::with_capacity(text.len()),
        origins: Vec::with_capacity(text.len()),
        units: Vec::new(),
    };
    let mut scanner = UnitScanner::<Range<usize>>::new();
    let mut collect = |kind: UnitKind, chars: &[char], origins: &[Range<usize>]| {
        let start = located.chars.len();
        located.chars.extend_from_slice(chars);
        located.origins.extend_from_slice(origins);
        located.units.push((kind, start..located.chars.len()));
    };
    for_each_folded_char_with_origin(text, |c, origin| scanner.push(c, origin, &mut collect));
    scanner.flush(&mut collect);
    located
}

/// Calls `emit` with the terms of one unit, in position order.
#[inline]
pub(crate) fn for_each_unit_term(kind: UnitKind, chars: &[char], emit: &mut impl FnMut(&[char])) {
    match kind {
        UnitKind::Word => emit(chars),
        UnitKind::Cjk => {
            for pair in chars.windows(2) {
                emit(pair);
            }
            if let Some(last) = chars.last() {
                emit(std::slice::from_ref(last));
            }
        }
    }
}

/// Calls `emit` with every term of `text`, in position order (position = call index).
pub fn for_each_term(text: &str, mut emit: impl FnMut(&str)) {
    let mut term = String::with_capacity(64);
    for_each_unit(text, |kind, chars| {
        for_each_unit_term(kind, chars, &mut |term_chars: &[char]| {
            term.clear();
            term.extend(term_chars);
            emit(&term);
        });
    });
}

/// The terms of `text`, in position order.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_term(text, |term| out.push(term.to_owned()));
    out
}

/// The term stream of `text` as one string, terms separated by single spaces: the value to
/// store in an FTS5 column created with `tokenize='ascii'`.
pub fn index_terms(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    index_terms_into(text, &mut out);
    out
}

/// Appends the term stream of `text` to `out` (space-separated, a space first if `out` is not
/// empty), returning the number of terms appended. Reusing `out` across documents avoids an
/// allocation per document in bulk indexing.
pub fn index_terms_into(text: &str, out: &mut String) -> usize {
    let mut count = 0;
    for_each_unit(text, |kind, chars| {
        for_each_unit_term(kind, chars, &mut |term_chars: &[char]| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(term_chars);
            count += 1;
        });
    });
    count
}

/// A PostgreSQL tsvector weight; `ts_rank` weighs `A` highest. Give titles `A` and bodies `D`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsWeight {
    A,
    B,
    C,
    D,
}

impl TsWeight {
    fn suffix(self) -> &'static str {
        match self {
            TsWeight::A => "A",
            TsWeight::B => "B",
            TsWeight::C => "C",
            // D is PostgreSQL's default weight and is printed without a letter.
            TsWeight::D => "",
        }
    }
}

/// A PostgreSQL `tsvector` literal for the given fields, to be bound as text and cast with
/// `$1::tsvector`. Never pass the term stream through `to_tsvector`: PostgreSQL's parser would
/// re-split terms by its own (locale-dependent) rules. The literal is taken verbatim.
///
/// Fields get consecutive positions starting at 1, with one unused position between fields so
/// no phrase can match across a field boundary. Positions follow PostgreSQL's limits:
/// beyond [`PG_MAX_POSITION`] they are clamped (phrase matches that far into a text are lost,
/// single terms still match), at most [`PG_MAX_POSITIONS_PER_LEXEME`] are kept per lexeme, and
/// lexemes beyond [`PG_MAX_LEXEME_BYTES`] are dropped.
pub fn pg_tsvector_literal(fields: &[(&str, TsWeight)]) -> String {
    // Unused positions between fields: a phrase needs consecutive positions, so it cannot
    // bridge two fields.
    const FIELD_GAP: u32 = 1;
    let mut lexemes: BTreeMap<String, Vec<(u16, TsWeight)>> = BTreeMap::new();
    let mut lexeme_bytes = 0usize;
    let mut position: u32 = 1;
    for &(text, weight) in fields {
        for_each_term(text, |term| {
            let clamped = position.min(u32::from(PG_MAX_POSITION)) as u16;
            position += 1;
            if let Some(positions) = lexemes.get_mut(term) {
                if positions.len() < PG_MAX_POSITIONS_PER_LEXEME
                    && positions.last().is_none_or(|&(last, _)| last != clamped)
                {
                    positions.push((clamped, weight));
                }
            } else if lexeme_bytes + term.len() <= PG_MAX_LEXEME_BYTES {
                lexeme_bytes += term.len();
                lexemes.insert(term.to_owned(), vec![(clamped, weight)]);
            }
        });
        position = position.saturating_add(FIELD_GAP);
    }
    let mut out = String::with_capacity(lexeme_bytes * 2);
    for (lexeme, positions) in &lexemes {
        if !out.is_empty() {
            out.push(' ');
        }
        push_pg_quoted(&mut out, lexeme);
        out.push(':');
        for (i, (pos, weight)) in positions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&pos.to_string());
            out.push_str(weight.suffix());
        }
    }
    out
}

/// Quotes a lexeme for PostgreSQL's tsvector/tsquery input syntax. The term alphabet already
/// excludes quotes and backslashes; escaping them anyway keeps this safe on its own.
pub(crate) fn push_pg_quoted(out: &mut String, lexeme: &str) {
    out.push('\'');
    for c in lexeme.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn korean_runs_become_bigrams_then_the_run_final_unigram() {
        assert_eq!(
            terms("서버를 재시작"),
            ["서버", "버를", "를", "재시", "시작", "작"]
        );
    }

    #[test]
    fn a_single_syllable_run_is_one_term() {
        assert_eq!(terms("집 앞"), ["집", "앞"]);
    }

    #[test]
    fn script_changes_split_units() {
        assert_eq!(
            terms("axum서버에서"),
            ["axum", "서버", "버에", "에서", "서"]
        );
        assert_eq!(terms("3월"), ["3", "월"]);
    }

    #[test]
    fn latin_is_lowercased_punctuation_dropped_numbers_kept() {
        assert_eq!(
            terms("Tokio_Util v1.2, 2024-03-15! DON'T"),
            ["tokio", "util", "v1", "2", "2024", "03", "15", "don", "t"]
        );
    }

    #[test]
    fn nfd_text_gives_the_same_terms_as_nfc() {
        let nfc = "회의록을 정리했다";
        let nfd: String = nfc.nfd().collect();
        assert_eq!(terms(&nfd), terms(nfc));
    }

    #[test]
    fn latin_accents_fold_away_inside_the_word() {
        // Precomposed or not, é is e; an accent NFKC cannot compose onto its letter goes too.
        assert_eq!(terms("Café Cafe\u{301} x\u{301}y"), ["cafe", "cafe", "xy"]);
        // Marks of other scripts stay inside the word.
        assert_eq!(terms("हिंदी"), ["हिंदी"]);
    }

    #[test]
    fn variation_selectors_do_not_split_a_han_run() {
        assert_eq!(terms("漢\u{FE00}字"), terms("漢字"));
    }

    #[test]
    fn cjk_punctuation_separates_runs() {
        assert_eq!(terms("東京・大阪"), ["東京", "京", "大阪", "阪"]);
    }

    #[test]
    fn long_words_are_capped_identically() {
        let long = "a".repeat(MAX_WORD_CHARS + 50);
        assert_eq!(terms(&long), ["a".repeat(MAX_WORD_CHARS)]);
    }

    #[test]
    fn index_terms_joins_with_single_spaces_and_counts() {
        let mut out = String::from("제목");
        let added = index_terms_into("Axum 서버", &mut out);
        assert_eq!(out, "제목 axum 서버 버");
        assert_eq!(added, 3);
        assert_eq!(index_terms("!!! ..."), "");
    }

    #[test]
    fn term_alphabet_excludes_ascii_punctuation_and_whitespace() {
        let hostile = "\"quoted\" a*b NEAR(x y) col:val a&b|c !d \\e 'f' {g} [h] ^i ~j 서버\"를";
        for term in terms(hostile) {
            assert!(!term.is_empty());
            assert!(
                term.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || !c.is_ascii()),
                "term {term:?} leaks ASCII syntax"
            );
        }
    }

    #[test]
    fn pg_literal_weights_fields_and_leaves_a_gap_between_them() {
        let literal = pg_tsvector_literal(&[("Axum 서버", TsWeight::A), ("서버", TsWeight::D)]);
        // title: axum@1 서버@2 버@3; gap @4; body: 서버@5 버@6.
        assert_eq!(literal, "'axum':1A '버':3A,6 '서버':2A,5");
    }

    #[test]
    fn pg_literal_clamps_positions_like_postgres() {
        let text = "x ".repeat(20_000) + "tail";
        let literal = pg_tsvector_literal(&[(&text, TsWeight::D)]);
        assert!(literal.contains("'tail':16383"), "{literal:.80}");
        let x_positions = literal
            .split_once("'x':")
            .map(|(_, rest)| rest.split(',').count());
        assert_eq!(x_positions, Some(PG_MAX_POSITIONS_PER_LEXEME));
    }
}
