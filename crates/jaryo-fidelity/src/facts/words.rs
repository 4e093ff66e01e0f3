//! Words that may be names or terms.
//!
//! Latin words are candidates only when they could name something: a capital letter anywhere
//! (`Stripe`, `OpenSearch`, `SRE`) or a digit (`ec2`, `KR1`). Lowercase words are ordinary
//! vocabulary and never claimed. Letters glued after digits are units (`5km`) and left to the
//! number recogniser.
//!
//! Every Hangul word of two or more syllables is a candidate; whether it is supported is decided
//! after stripping particles and endings (see `pool`).

use std::sync::LazyLock;

use regex::Regex;

use super::{ClaimValue, Recognised, Side, char_before};

static LATIN_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"[A-Za-z\u{00C0}-\u{024F}][A-Za-z0-9\u{00C0}-\u{024F}]*(?:['’][A-Za-z]+)?",
        r"(?:[-_.+&][A-Za-z0-9\u{00C0}-\u{024F}]+)*",
    ))
    .unwrap()
});
static HANGUL_WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[가-힣]+").unwrap());

pub(super) fn latin_words(text: &str, side: Side) -> Vec<Recognised> {
    LATIN_WORD
        .find_iter(text)
        .filter(|word| !char_before(text, word.start()).is_some_and(|c| c.is_ascii_digit()))
        .filter(|word| !scales_preceding_number(text, word.start(), word.as_str()))
        .map(|word| {
            let written = word.as_str();
            let candidate = written
                .chars()
                .any(|c| c.is_uppercase() || c.is_ascii_digit());
            if side == Side::Draft && candidate {
                Recognised::claim(word.range(), ClaimValue::Latin(written.to_owned()))
            } else {
                Recognised::consumed(word.range())
            }
        })
        .collect()
}

pub(super) fn hangul_words(text: &str, side: Side) -> Vec<Recognised> {
    HANGUL_WORD
        .find_iter(text)
        .map(|word| {
            if side == Side::Draft && word.as_str().chars().count() >= 2 {
                Recognised::claim(word.range(), ClaimValue::Hangul(word.as_str().to_owned()))
            } else {
                Recognised::consumed(word.range())
            }
        })
        .collect()
}

/// "3 million": the word belongs to the number before it.
fn scales_preceding_number(text: &str, start: usize, word: &str) -> bool {
    let multiplier = ["hundred", "thousand", "million", "billion"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(word));
    multiplier
        && text[..start]
            .strip_suffix(' ')
            .is_some_and(|before| before.ends_with(|c: char| c.is_ascii_digit()))
}

/// The comparison form of a Latin word: lower case, accents removed (Belém ≡ belem), a
/// possessive dropped (Mia's ≡ Mia).
pub(crate) fn fold_latin(word: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let folded: String = word
        .nfd()
        .filter(|&c| !is_combining_mark(c))
        .collect::<String>()
        .to_lowercase()
        .replace('’', "'");
    folded
        .strip_suffix("'s")
        .map(str::to_owned)
        .unwrap_or(folded)
}

/// All Latin words of a text, for building the source's vocabulary.
pub(crate) fn all_latin_words(text: &str) -> impl Iterator<Item = &str> {
    LATIN_WORD.find_iter(text).map(|word| word.as_str())
}

/// The byte ranges of a text's Latin words written without any capital or digit: ordinary
/// vocabulary, which names nothing but carries the memo's content.
pub(crate) fn lowercase_latin_words(text: &str) -> Vec<std::ops::Range<usize>> {
    LATIN_WORD
        .find_iter(text)
        .filter(|word| !char_before(text, word.start()).is_some_and(|c| c.is_ascii_digit()))
        .filter(|word| {
            !word
                .as_str()
                .chars()
                .any(|c| c.is_uppercase() || c.is_ascii_digit())
        })
        .map(|word| word.range())
        .collect()
}

/// All runs of Hangul syllables of a text with their byte ranges.
pub(crate) fn hangul_runs(text: &str) -> impl Iterator<Item = regex::Match<'_>> {
    HANGUL_WORD.find_iter(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_capitalised_or_digit_words_are_claimed() {
        let claimed: Vec<_> = latin_words("Ask Stripe about the ec2 bill in 5km", Side::Draft)
            .into_iter()
            .filter_map(|r| r.value)
            .collect();
        assert_eq!(
            claimed,
            vec![
                ClaimValue::Latin("Ask".to_owned()),
                ClaimValue::Latin("Stripe".to_owned()),
                ClaimValue::Latin("ec2".to_owned()),
            ]
        );
    }

    #[test]
    fn folding_removes_case_accents_and_possessives() {
        assert_eq!(fold_latin("Belém"), "belem");
        assert_eq!(fold_latin("Mia's"), "mia");
        assert_eq!(fold_latin("Mia’s"), "mia");
    }
}
