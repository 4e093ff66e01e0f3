//! Tunable bounds of the checker.
//!
//! Field names are flat and stable: a binary maps `JARYO_FIDELITY_<FIELD>` environment variables
//! onto them, and the server's configuration file may hold them under a `fidelity` table.

use serde::{Deserialize, Serialize};

/// Bounds and switches of [`crate::check`]. Every field has a default, so a partial table (or
/// none) deserialises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FidelityConfig {
    /// A draft with more than this many times the source's visible characters is flagged…
    pub max_length_ratio: f64,
    /// …but only when it exceeds the source by at least this many visible characters, so a
    /// 25-character memo that becomes a 120-character structured document is not flagged just
    /// for its headings.
    pub length_excess_floor_chars: usize,
    /// Language drift is judged only when both texts hold at least this many letters (a Hangul
    /// syllable counts as two, see `hangul_letter_weight`); shorter texts cannot be judged.
    pub min_letters_for_language: usize,
    /// How far the Hangul share (0–1) of the draft must move away from the source's, on top of
    /// crossing one half, before the draft counts as written in the other script.
    pub language_drift_min_shift: f64,
    /// How many Latin letters one Hangul syllable weighs when measuring a text's main script. A
    /// syllable carries about as much as two or three Latin letters.
    pub hangul_letter_weight: f64,
    /// Check names and terms (capitalised Latin words, acronyms, Hangul words). The noisiest
    /// rule, so it can be switched off alone.
    pub check_terms: bool,
    /// Latin words shorter than this (in chars) are never terms.
    pub min_latin_term_chars: usize,
    /// Hangul words whose stem is shorter than this (in syllables) are never terms.
    pub min_hangul_term_syllables: usize,
    /// Extra words that are never a finding (case-insensitive), e.g. a team's stock headings.
    pub ignored_terms: Vec<String>,
}

impl Default for FidelityConfig {
    fn default() -> Self {
        Self {
            max_length_ratio: 3.0,
            length_excess_floor_chars: 200,
            min_letters_for_language: 20,
            language_drift_min_shift: 0.35,
            hangul_letter_weight: 2.0,
            check_terms: true,
            min_latin_term_chars: 2,
            min_hangul_term_syllables: 2,
            ignored_terms: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_table_keeps_the_other_defaults() {
        let config: FidelityConfig = serde_json::from_str(r#"{"max_length_ratio": 5.0}"#).unwrap();
        assert_eq!(config.max_length_ratio, 5.0);
        assert_eq!(
            config.length_excess_floor_chars,
            FidelityConfig::default().length_excess_floor_chars
        );
    }
}
