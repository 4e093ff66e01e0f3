//! Normalisation: the one mapping from text as typed to the characters the analyzer sees.
//!
//! Every character goes through Unicode **NFKC** (which includes NFC's canonical composition,
//! so macOS's decomposed Hangul `ᄒ ᅬ ᄋ ᅴ` becomes `회의`; the compatibility part also folds
//! fullwidth `ＡＢＣ１２３` to `abc123` and `㎏` to `kg`), then **lowercase**, then **Latin
//! accents are folded**: a Latin letter with diacritics becomes its base letter (`é` → `e`,
//! `ệ` → `e`) and the combining diacritical marks (U+0300–U+036F) left standing after NFKC
//! are dropped. So `cafe` finds `café` and `café` finds `cafe`, and `Crème` and `creme` are
//! one word. Only Latin is folded: in other scripts a mark can make a different letter
//! (Cyrillic `й` is not `и`), and Hangul must never be decomposed (it would fall apart into
//! jamo). Letters with no canonical decomposition (`ø`, `ł`, `ß`, `æ`) stay as they are.
//!
//! Two paths produce the same characters:
//! - [`for_each_folded_char`] is the indexing path: no offsets, no allocation when the input is
//!   already normalised (the common case).
//! - [`for_each_folded_char_with_origin`] also reports, for every output character, the byte
//!   range of the *original* text it came from, so snippets can mark the original (possibly
//!   NFD) text exactly.
//!
//! Invariant: both paths yield the same character sequence for every input (a property test
//! holds them to it). The offset path cuts the input into segments that normalise
//! independently — a segment starts at a character that can neither combine with, nor reorder
//! around, what precedes it — so normalising segment by segment equals normalising the whole.

use std::ops::Range;

use unicode_normalization::char::{
    canonical_combining_class, decompose_canonical, decompose_compatible,
};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Whether `text` is already NFKC, by Unicode's quick check; text of ASCII and Hangul
/// syllables alone (most of what jaryo sees) is known to be, without looking anything up.
fn is_normalized(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii() || is_hangul_syllable(c))
        || is_nfkc_quick(text.chars()) == IsNormalized::Yes
}

/// A precomposed Hangul syllable: always NFKC, combining class 0, no case.
#[inline]
fn is_hangul_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// Lowercases one normalised character and folds Latin accents. ASCII takes the cheap path;
/// everything else uses the full Unicode mapping, which may yield more than one character
/// (`İ` → `i` + U+0307, whose dot is then dropped).
#[inline]
fn fold_char(c: char, emit: &mut impl FnMut(char)) {
    if c.is_ascii() {
        emit(c.to_ascii_lowercase());
    } else if is_hangul_syllable(c) {
        // Hangul syllables have no case; skipping the case table is most of Korean's cost.
        emit(c);
    } else {
        for lower in c.to_lowercase() {
            fold_latin_accents(lower, emit);
        }
    }
}

/// The combining diacritical marks block: the accents of Latin (and Greek and Cyrillic).
#[inline]
fn is_diacritical_mark(c: char) -> bool {
    ('\u{300}'..='\u{36F}').contains(&c)
}

/// The precomposed Latin letters with diacritics: Latin-1 Supplement, Latin Extended-A and
/// -B, and Latin Extended Additional (Vietnamese, among others).
#[inline]
fn is_accented_latin(c: char) -> bool {
    ('\u{C0}'..='\u{24F}').contains(&c) || ('\u{1E00}'..='\u{1EFF}').contains(&c)
}

/// Emits `c` without its Latin accents: a precomposed Latin letter as its canonical
/// decomposition's base letter(s), a standing diacritical mark as nothing.
#[inline]
fn fold_latin_accents(c: char, emit: &mut impl FnMut(char)) {
    if is_diacritical_mark(c) {
        return;
    }
    if is_accented_latin(c) {
        decompose_canonical(c, |part| {
            if !is_diacritical_mark(part) {
                emit(part);
            }
        });
    } else {
        emit(c);
    }
}

/// Calls `emit` with every analyzer character of `text`, in order.
pub(crate) fn for_each_folded_char(text: &str, mut emit: impl FnMut(char)) {
    // The quick check is one cheap pass; already-normalised text (nearly all of it) then skips
    // the decompose/recompose machinery entirely.
    if is_normalized(text) {
        for c in text.chars() {
            fold_char(c, &mut emit);
        }
    } else {
        for c in text.nfkc() {
            fold_char(c, &mut emit);
        }
    }
}

/// Calls `emit` with every analyzer character of `text` and the byte range of the original
/// text it came from. Characters produced by one normalisation segment (a syllable spelled as
/// three jamo, a letter with its combining marks) all report that segment's whole range; in
/// text already normalised every character reports its own.
pub(crate) fn for_each_folded_char_with_origin(
    text: &str,
    mut emit: impl FnMut(char, Range<usize>),
) {
    if is_normalized(text) {
        // Already normalised (nearly all text): every character stands for itself. A mark
        // keeps its own range here rather than its segment's, which the analyzer merges into
        // the unit it belongs to either way.
        for (offset, c) in text.char_indices() {
            let range = offset..offset + c.len_utf8();
            fold_char(c, &mut |folded| emit(folded, range.clone()));
        }
        return;
    }
    let mut segment_start = 0;
    for (offset, c) in text.char_indices() {
        if offset > segment_start && starts_segment(c) {
            emit_segment(text, segment_start..offset, &mut emit);
            segment_start = offset;
        }
    }
    if segment_start < text.len() {
        emit_segment(text, segment_start..text.len(), &mut emit);
    }
}

fn emit_segment(text: &str, range: Range<usize>, emit: &mut impl FnMut(char, Range<usize>)) {
    let segment = &text[range.clone()];
    let mut chars = segment.chars();
    if let (Some(only), None) = (chars.next(), chars.next())
        && (only < '\u{300}'
            || is_hangul_syllable(only)
            || nfkc_quick_check(only) == IsNormalized::Yes)
    {
        fold_char(only, &mut |folded| emit(folded, range.clone()));
        return;
    }
    for c in segment.nfkc() {
        fold_char(c, &mut |folded| emit(folded, range.clone()));
    }
}

/// True when normalisation can never join `c` with anything before it: it has combining class
/// 0, does not compose backwards (NFKC_QC ≠ Maybe: Hangul vowel/final jamo, some Indic vowel
/// signs), and if it decomposes, its decomposition starts with such a character too (a
/// compatibility jamo `ㅏ` decomposes to a vowel jamo that composes backwards).
fn starts_segment(c: char) -> bool {
    if c < '\u{300}' || is_hangul_syllable(c) {
        // Below the combining diacritics block every character is a plain starter, and so is
        // a precomposed Hangul syllable (a jamo after it may join it, not the other way).
        return true;
    }
    if canonical_combining_class(c) != 0 {
        return false;
    }
    match nfkc_quick_check(c) {
        IsNormalized::Yes => true,
        IsNormalized::Maybe => false,
        IsNormalized::No => {
            let mut first = None;
            decompose_compatible(c, |d| {
                first.get_or_insert(d);
            });
            first.is_some_and(|d| {
                d < '\u{300}'
                    || (canonical_combining_class(d) == 0
                        && nfkc_quick_check(d) == IsNormalized::Yes)
            })
        }
    }
}

fn nfkc_quick_check(c: char) -> IsNormalized {
    is_nfkc_quick(std::iter::once(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> String {
        let mut out = String::new();
        for_each_folded_char(text, |c| out.push(c));
        out
    }

    fn folded_with_origin(text: &str) -> (String, Vec<Range<usize>>) {
        let mut out = String::new();
        let mut origins = Vec::new();
        for_each_folded_char_with_origin(text, |c, origin| {
            out.push(c);
            origins.push(origin);
        });
        (out, origins)
    }

    #[test]
    fn nfd_hangul_composes_to_the_same_syllables_as_nfc() {
        let nfd: String = "회의 일정".nfd().collect();
        assert_ne!(nfd, "회의 일정");
        assert_eq!(folded(&nfd), "회의 일정");
        assert_eq!(folded_with_origin(&nfd).0, "회의 일정");
    }

    #[test]
    fn latin_is_lowercased_and_fullwidth_folded() {
        assert_eq!(folded("Axum ＳＥＲＶＥＲ １２"), "axum server 12");
    }

    #[test]
    fn latin_accents_fold_to_their_base_letters() {
        assert_eq!(folded("Café crème"), "cafe creme");
        assert_eq!(folded("Cafe\u{301}"), "cafe");
        assert_eq!(folded("Việt Nam Ångström naïve"), "viet nam angstrom naive");
        // Letters that are not a base letter with an accent stay; so do other scripts' marks.
        assert_eq!(folded("ø ł ß æ"), "ø ł ß æ");
        assert_eq!(folded("й"), "й");
        assert_eq!(folded("회의 カフェ"), "회의 カフェ");
        let (chars, origins) = folded_with_origin("Cafe\u{301}!");
        assert_eq!(chars, "cafe!");
        // The folded e still points at the e and its accent.
        assert_eq!(origins[3], 3..6);
    }

    #[test]
    fn origins_of_nfd_syllables_cover_all_their_jamo() {
        let nfd: String = "서버".nfd().collect();
        let (chars, origins) = folded_with_origin(&nfd);
        assert_eq!(chars, "서버");
        // 서 = ᄉ + ᅥ (two jamo, 3 bytes each); 버 = ᄇ + ᅥ.
        assert_eq!(origins, vec![0..6, 6..12]);
    }

    #[test]
    fn compatibility_jamo_compose_across_what_looks_like_a_boundary() {
        // ㅋ + ㅏ are two compatibility jamo; NFKC turns them into one syllable 카, so the
        // segment must span both.
        let (chars, origins) = folded_with_origin("ㅋㅏ");
        assert_eq!(chars, "카");
        assert_eq!(origins, vec![0..6]);
        assert_eq!(folded("ㅋㅏ"), "카");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text rich in what normalisation reorders or composes: jamo, compatibility jamo,
    /// combining marks in and out of canonical order, fullwidth and compatibility characters.
    fn tricky_text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "ᄒ", "ᅬ", "ᆫ", "ᄋ", "ᅴ", "ㄱ", "ㅏ", "ㅋ", "회", "가", "e", "\u{301}", "\u{323}",
            "\u{302}", "Å", "\u{212B}", "ﬁ", "Ａ", "１", "㈜", "İ", "ß", "漢", "\u{FE00}", "か",
            "\u{3099}", "\u{0F73}", "\u{0F71}", " ", ".", "\n",
        ]);
        prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn both_paths_yield_the_same_characters(text in tricky_text()) {
            let mut plain = String::new();
            for_each_folded_char(&text, |c| plain.push(c));
            let mut located = String::new();
            for_each_folded_char_with_origin(&text, |c, _| located.push(c));
            prop_assert_eq!(&located, &plain);
            // The reference: the whole text normalised at once, lowercased, its Latin letters
            // decomposed and every diacritical mark dropped.
            let whole: String = text
                .nfkc()
                .flat_map(char::to_lowercase)
                .flat_map(|c| {
                    let mut parts = Vec::new();
                    if ('\u{C0}'..='\u{24F}').contains(&c) || ('\u{1E00}'..='\u{1EFF}').contains(&c) {
                        unicode_normalization::char::decompose_canonical(c, |p| parts.push(p));
                    } else {
                        parts.push(c);
                    }
                    parts
                })
                .filter(|c| !('\u{300}'..='\u{36F}').contains(c))
                .collect();
            prop_assert_eq!(&plain, &whole);
        }

        #[test]
        fn origins_are_ordered_char_aligned_ranges_of_the_input(text in tricky_text()) {
            let mut previous_end = 0;
            let mut previous_start = 0;
            for_each_folded_char_with_origin(&text, |_, origin| {
                assert!(origin.start < origin.end && origin.end <= text.len());
                assert!(text.is_char_boundary(origin.start) && text.is_char_boundary(origin.end));
                assert!(origin.start >= previous_start);
                assert!(origin.start >= previous_end || origin.start == previous_start);
                previous_start = origin.start;
                previous_end = origin.end;
            });
        }
    }
}
