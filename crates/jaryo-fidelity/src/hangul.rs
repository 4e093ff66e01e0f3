//! Hangul helpers: what a syllable is, its initial consonant, and the stems a word may have once
//! its particles and endings are stripped.

use crate::vocabulary::{KOREAN_NOUN_SUFFIXES, KOREAN_SUFFIXES};

const SYLLABLE_FIRST: u32 = 0xAC00;
const SYLLABLE_LAST: u32 = 0xD7A3;
/// Syllables per initial consonant: 21 vowels × 28 finals.
const SYLLABLES_PER_INITIAL: u32 = 21 * 28;

pub(crate) fn is_syllable(c: char) -> bool {
    (SYLLABLE_FIRST..=SYLLABLE_LAST).contains(&(c as u32))
}

/// Any Hangul letter: precomposed syllables and the conjoining and compatibility jamo (ㅋㅋ).
pub(crate) fn is_hangul_letter(c: char) -> bool {
    is_syllable(c)
        || matches!(c, '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}')
}

/// Index (0–18) of the syllable's initial consonant.
pub(crate) fn initial_consonant(c: char) -> Option<u32> {
    is_syllable(c).then(|| (c as u32 - SYLLABLE_FIRST) / SYLLABLES_PER_INITIAL)
}

/// The word itself and every stem reachable by stripping up to two particles or endings
/// (particle after ending: 확인했습니다 → 확인, 서버에서는 → 서버) and derivational noun
/// suffixes (만료일 → 만료).
///
/// Only the first stripping may leave a single syllable (갔다 → 갔, 넣습니다 → 넣): that marks
/// an inflected short word. Later strippings and noun suffixes must leave two syllables, so a
/// name such as 이지은 is not worn down to 이.
pub(crate) fn stem_variants(word: &str) -> Vec<String> {
    let mut variants = vec![word.to_owned()];
    let mut frontier = vec![word.to_owned()];
    for round in 0..2 {
        let mut next = Vec::new();
        for current in &frontier {
            let endings = KOREAN_SUFFIXES.iter().map(|suffix| (*suffix, round == 0));
            let noun_suffixes = KOREAN_NOUN_SUFFIXES.iter().map(|suffix| (*suffix, false));
            for (suffix, may_leave_one) in endings.chain(noun_suffixes) {
                let Some(stem) = current.strip_suffix(suffix) else {
                    continue;
                };
                let syllables = stem.chars().count();
                let long_enough = syllables >= 2 || may_leave_one && syllables == 1;
                if long_enough && !variants.iter().any(|known| known == stem) {
                    variants.push(stem.to_owned());
                    next.push(stem.to_owned());
                }
            }
        }
        frontier = next;
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn particles_and_endings_are_stripped() {
        assert!(stem_variants("서버를").contains(&"서버".to_owned()));
        assert!(stem_variants("서버에서는").contains(&"서버".to_owned()));
        assert!(stem_variants("확인했습니다").contains(&"확인".to_owned()));
        assert!(stem_variants("마무리합니다").contains(&"마무리".to_owned()));
    }

    #[test]
    fn the_word_itself_is_always_a_variant() {
        assert_eq!(stem_variants("박지훈")[0], "박지훈");
    }

    #[test]
    fn names_are_not_worn_down_to_one_syllable() {
        assert!(!stem_variants("이지은").contains(&"이".to_owned()));
        assert!(stem_variants("넣습니다").contains(&"넣".to_owned()));
        assert!(stem_variants("만료일").contains(&"만료".to_owned()));
        assert!(!stem_variants("문서").contains(&"문".to_owned()));
    }

    #[test]
    fn initial_consonants_ignore_vowel_and_final() {
        assert_eq!(initial_consonant('들'), initial_consonant('든'));
        assert_ne!(initial_consonant('수'), initial_consonant('지'));
        assert_eq!(initial_consonant('a'), None);
    }
}
