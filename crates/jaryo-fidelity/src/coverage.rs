//! Coverage, the other half of fidelity: what the source says must still be in the draft.
//!
//! The draft is read *generously* into a pool (every reading of an ambiguous item, as the source
//! is for new facts) and the source's items are looked up in it:
//!
//! - **Facts** — numbers and amounts, dates, times, weekdays, URLs, e-mail addresses, phone
//!   numbers, dotted numerals, and names (a capitalised Latin word that does not start a
//!   sentence or line, an acronym, a word with digits). Each one the draft lost is a
//!   [`FindingKind::Dropped`] finding; matching is by value, so `3시` is kept by `15:00`,
//!   `3만 원` by `30,000원`, `Friday` by `Fri`. Korean has no capitals, so a Hangul name is a
//!   fact where the memo marks it as a person: before a person particle (`민지에게`) or after
//!   a role word (`담당 준호`); it is kept by its stem.
//! - **Content words** — the source's other words, less the function and structure words a
//!   rewrite may drop (particles, endings, `the`, `Summary`). Korean words are compared by stem
//!   (`예산을` is kept by `예산`), English ones case- and inflection-tolerantly (`owns` by
//!   `owner`). When the draft keeps less than [`MIN_CONTENT_SHARE`] of them, one document-level
//!   [`FindingKind::Coverage`] finding says how many and which.
//!
//! A draft that drifted to the other script loses every word by construction; its drift finding
//! says what is wrong, so only facts are checked then.

use std::collections::HashSet;
use std::ops::Range;

use crate::facts::{Claim, ClaimValue, SourceFacts, is_content_hangul, is_content_latin};
use crate::hangul::stem_variants;
use crate::vocabulary::{KOREAN_PERSON_PARTICLES, KOREAN_ROLE_WORDS};
use crate::{FidelityConfig, Finding, FindingKind};

/// A draft keeping less than this share of the source's content words has lost the memo.
pub const MIN_CONTENT_SHARE: f64 = 0.5;
/// Below this many content words a memo is too short to judge by share.
pub const MIN_CONTENT_WORDS: usize = 3;
/// How many lost words a coverage finding names.
const NAMED_LOST_WORDS: usize = 8;

/// The source's items the draft lost. `source` is the NFC source and `masked` its fact view
/// (same byte offsets); `claims` were extracted from it strictly.
pub(crate) fn dropped(
    source: &str,
    masked: &str,
    claims: &[Claim],
    draft_pool: &SourceFacts,
    drifted: bool,
    config: &FidelityConfig,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut seen = HashSet::new();
    let mut content_total = 0usize;
    let mut lost_words: Vec<&str> = Vec::new();
    let mut lost_seen = HashSet::new();
    let mut claimed: Vec<Range<usize>> = Vec::new();

    for claim in claims {
        claimed.push(claim.range.clone());
        let text = &source[claim.range.clone()];
        let kept = match &claim.value {
            ClaimValue::Latin(word) if is_name(masked, claim.range.start, word) => {
                if drifted || !is_content_latin(word, config) {
                    continue;
                }
                draft_pool.keeps_latin_word(word, config)
            }
            ClaimValue::Latin(word) => {
                if drifted || !is_content_latin(word, config) {
                    continue;
                }
                content_total += 1;
                if !draft_pool.keeps_latin_word(word, config)
                    && lost_seen.insert(word.to_lowercase())
                {
                    lost_words.push(text);
                }
                continue;
            }
            ClaimValue::Hangul(word) => {
                if drifted {
                    continue;
                }
                if let Some(name) = korean_name(masked, claim.range.start, word)
                    && !draft_pool.keeps_hangul_word(name, config)
                    && seen.insert(name.to_owned())
                {
                    findings.push(Finding {
                        kind: FindingKind::Dropped,
                        text: name.to_owned(),
                        start: 0,
                        end: 0,
                    });
                }
                if !is_content_hangul(word, config) {
                    continue;
                }
                content_total += 1;
                if !draft_pool.keeps_hangul_word(word, config) && lost_seen.insert(word.clone()) {
                    lost_words.push(text);
                }
                continue;
            }
            _ => draft_pool.supports(claim, config),
        };
        if !kept && seen.insert(text.to_lowercase()) {
            findings.push(Finding {
                kind: FindingKind::Dropped,
                text: text.to_owned(),
                start: 0,
                end: 0,
            });
        }
    }

    if !drifted {
        // Lowercase Latin words are not claims (they name nothing), but they carry content.
        for word in crate::facts::lowercase_latin_words(masked) {
            if claimed
                .iter()
                .any(|range| range.start < word.end && word.start < range.end)
            {
                continue;
            }
            let text = &source[word.clone()];
            if !is_content_latin(text, config) {
                continue;
            }
            content_total += 1;
            if !draft_pool.keeps_latin_word(text, config) && lost_seen.insert(text.to_lowercase()) {
                lost_words.push(text);
            }
        }
    }

    let lost = lost_words.len();
    if content_total >= MIN_CONTENT_WORDS {
        let kept = content_total.saturating_sub(lost);
        if (kept as f64) < MIN_CONTENT_SHARE * content_total as f64 {
            let mut named: Vec<&str> = lost_words.iter().take(NAMED_LOST_WORDS).copied().collect();
            if lost > NAMED_LOST_WORDS {
                named.push("…");
            }
            findings.push(Finding {
                kind: FindingKind::Coverage,
                text: format!(
                    "keeps {kept} of {content_total} content words of the memo; lost: {}",
                    named.join(", ")
                ),
                start: 0,
                end: 0,
            });
        }
    }
    findings
}

/// A capitalised word names something unless it merely starts a sentence or a line; acronyms
/// and words with digits or inner capitals name something anywhere.
fn is_name(masked: &str, start: usize, word: &str) -> bool {
    let inner_capital = word.chars().skip(1).any(char::is_uppercase);
    if inner_capital || word.chars().any(|c| c.is_ascii_digit()) {
        return true;
    }
    let before = masked[..start].trim_end_matches([' ', '\t', '(', '"', '\'', '“', '‘']);
    if let Some(head) = before.strip_suffix('.') {
        // "Dr. Okafor": a title's period does not end a sentence.
        let title = head
            .rsplit(|c: char| !c.is_alphabetic())
            .next()
            .unwrap_or("")
            .to_lowercase();
        return TITLES.contains(&title.as_str());
    }
    !(before.is_empty() || before.ends_with(['\n', '!', '?', ':', '—', '-', '#', '>']))
}

/// A Hangul word that names a person, as the memo marks one: followed by a person particle
/// (`민지에게` → `민지`), or written right after a role word (`담당 준호`, `발표는 서연`). The
/// name is returned less its particle; it has two syllables or more.
fn korean_name<'a>(masked: &str, start: usize, word: &'a str) -> Option<&'a str> {
    let two_syllables = |stem: &str| stem.chars().count() >= 2;
    if let Some(stem) = KOREAN_PERSON_PARTICLES
        .iter()
        .find_map(|particle| word.strip_suffix(particle))
    {
        return two_syllables(stem).then_some(stem);
    }
    let before = masked[..start].trim_end_matches([' ', ':', '\t']);
    if before.len() == masked[..start].len() {
        return None;
    }
    let role_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| crate::hangul::is_syllable(*c))
        .last()
        .map(|(at, _)| at)?;
    let role = &before[role_start..];
    let after_role = stem_variants(role)
        .iter()
        .any(|variant| KOREAN_ROLE_WORDS.contains(variant.as_str()));
    if !after_role {
        return None;
    }
    let name = SUBJECT_PARTICLES
        .iter()
        .find_map(|particle| {
            word.strip_suffix(particle)
                .filter(|stem| two_syllables(stem))
        })
        .unwrap_or(word);
    two_syllables(name).then_some(name)
}

/// Particles a name after a role word may carry (`담당은 준호가`).
const SUBJECT_PARTICLES: &[&str] = &[
    "이랑", "하고", "이가", "이는", "가", "는", "은", "이", "도", "와", "과",
];

/// Abbreviated titles before a name.
const TITLES: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "mt", "jr", "sr", "capt",
];
