//! Language drift: the draft's main script differs from the source's.
//!
//! A text's Hangul share is `w·H / (w·H + L)` over its prose, where `H` counts Hangul letters,
//! `L` Latin letters and `w` is [`FidelityConfig::hangul_letter_weight`] (one syllable carries as
//! much as two or three Latin letters). Code, URLs, e-mail addresses and Markdown syntax are not
//! prose. The draft drifted when its share is on the other side of one half than the source's
//! *and* moved by at least [`FidelityConfig::language_drift_min_shift`], so a Korean memo full of
//! English terms is not "English" because its draft kept those terms.

use crate::FidelityConfig;
use crate::facts::{Claim, ClaimValue};
use crate::hangul::is_hangul_letter;

/// Letter counts of a text's prose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ScriptProfile {
    pub(crate) hangul: usize,
    pub(crate) latin: usize,
}

impl ScriptProfile {
    /// Counts letters of the language view, leaving out the spans of URLs and e-mail addresses
    /// found among `claims` (made on the facts view, whose offsets are the same).
    pub(crate) fn measure(language_view: &str, claims: &[Claim]) -> Self {
        let machine_spans: Vec<_> = claims
            .iter()
            .filter(|claim| matches!(claim.value, ClaimValue::Url(_) | ClaimValue::Email(_)))
            .map(|claim| claim.range.clone())
            .collect();
        let mut profile = Self {
            hangul: 0,
            latin: 0,
        };
        for (index, c) in language_view.char_indices() {
            if machine_spans.iter().any(|span| span.contains(&index)) {
                continue;
            }
            if is_hangul_letter(c) {
                profile.hangul += 1;
            } else if c.is_alphabetic() && is_latin(c) {
                profile.latin += 1;
            }
        }
        profile
    }

    fn weighted_letters(&self, config: &FidelityConfig) -> f64 {
        self.hangul as f64 * config.hangul_letter_weight + self.latin as f64
    }

    fn hangul_share(&self, config: &FidelityConfig) -> f64 {
        let total = self.weighted_letters(config);
        if total == 0.0 {
            0.0
        } else {
            self.hangul as f64 * config.hangul_letter_weight / total
        }
    }
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

/// A summary such as `hangul → latin` when the draft drifted, `None` otherwise (including when
/// either text is too short to judge).
pub(crate) fn detect_drift(
    source: &ScriptProfile,
    draft: &ScriptProfile,
    config: &FidelityConfig,
) -> Option<String> {
    let minimum = config.min_letters_for_language as f64;
    if source.weighted_letters(config) < minimum || draft.weighted_letters(config) < minimum {
        return None;
    }
    let source_share = source.hangul_share(config);
    let draft_share = draft.hangul_share(config);
    let crossed = (source_share >= 0.5) != (draft_share >= 0.5);
    let moved = (source_share - draft_share).abs() >= config.language_drift_min_shift;
    (crossed && moved).then(|| {
        format!(
            "{} → {} (Hangul share {:.0}% → {:.0}%)",
            script_name(source_share),
            script_name(draft_share),
            source_share * 100.0,
            draft_share * 100.0
        )
    })
}

fn script_name(hangul_share: f64) -> &'static str {
    if hangul_share >= 0.5 {
        "hangul"
    } else {
        "latin"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> ScriptProfile {
        ScriptProfile::measure(text, &[])
    }

    #[test]
    fn korean_answered_in_english_drifts() {
        let config = FidelityConfig::default();
        let drift = detect_drift(
            &profile("내일 할 일: 세금계산서 발행, 거래처에 견적서 보내기"),
            &profile("Tomorrow: issue the tax invoice, send the quote to the client"),
            &config,
        );
        assert!(drift.unwrap().starts_with("hangul → latin"));
    }

    #[test]
    fn korean_with_english_terms_kept_does_not_drift() {
        let config = FidelityConfig::default();
        let source = profile("k8s 클러스터 업그레이드, staging에서 테스트 후 prod 적용");
        let draft =
            profile("k8s 클러스터 업그레이드: staging에서 먼저 테스트하고 prod에 적용합니다");
        assert_eq!(detect_drift(&source, &draft, &config), None);
    }

    #[test]
    fn short_texts_are_not_judged() {
        let config = FidelityConfig::default();
        assert_eq!(
            detect_drift(&profile("치과"), &profile("Dentist appointment"), &config),
            None
        );
    }
}
