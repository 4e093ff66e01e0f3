//! Checks a model's draft against the memo it was made from: "add no facts, keep the language"
//! is verified instead of hoped for.
//!
//! [`check`] is a pure function (no I/O, no clock, no randomness) from a source text and a draft
//! to a [`FidelityReport`]. The report lists [`Finding`]s:
//!
//! - **new facts** — numbers and amounts, dates and times, URLs, e-mail addresses, phone numbers
//!   and names/terms that occur in the draft but have no counterpart in the source;
//! - **language drift** — the draft is written in another script (Hangul vs Latin) than the
//!   source;
//! - **length ratio** — the draft is much longer than the source;
//! - **dropped** facts and **coverage** — what the source says that the draft lost: its numbers,
//!   dates, times, amounts, addresses and names one by one, and its content words as a share
//!   (rules in the `coverage` module).
//!
//! [`answer::check_answer`] wraps [`check`] for a model's raw answer: it removes safe wrappers
//! (fence markers, a leading "Here is the note:" line), finds prompt echo and commentary, and
//! says whether the answer is a draft at all.
//!
//! # How a fact is matched
//!
//! Both texts are NFC-normalised (macOS sends NFD Hangul) and their Markdown syntax is masked out
//! (headings, list markers and list numbering, emphasis, code fences, link brackets, table
//! pipes), so syntax is never a finding. Facts are then extracted from the source *generously*
//! (every reading of an ambiguous item goes into the source's pool: "3.5" is 3.5 and also 3 March;
//! "3시" is 03:00 and 15:00; "천 원" is 1000) and from the draft *strictly*; a draft item is
//! supported when any of its readings is in the pool. Words of a field label before a colon
//! (`**교통**: …`, `Location: …`) are structure, not terms; numbers in them are still checked. Numbers are compared by value, so
//! "30,000원", "3만 원" and "₩30,000" are the same fact; the unit is deliberately not compared
//! (see the crate's weaknesses below). The rules per kind are documented in the `facts` module.
//!
//! # Invariants
//!
//! - Finding offsets are byte offsets into the draft exactly as given (not its normalised form),
//!   always on char boundaries, and `text == draft[start..end]` for fact findings.
//! - Document-level findings ([`FindingKind::LanguageDrift`], [`FindingKind::LengthRatio`],
//!   [`FindingKind::Coverage`]) span the whole draft (`0..draft.len()`) and carry a short
//!   human-readable summary in `text`.
//! - [`FindingKind::Dropped`] findings carry the source's wording in `text` and an empty span
//!   (`0..0`): the item is not in the draft.
//! - Findings are sorted by `start`, then by kind.
//! - [`CHECKER_VERSION`] changes whenever a rule changes what is flagged, so stored reports can be
//!   re-checked selectively.
//!
//! When the draft drifted to the other script, term findings are dropped (across scripts every
//! word is "new"); numbers, dates and addresses are still checked.
//!
//! # Known weaknesses
//!
//! The checker compares surface forms, not meaning:
//! - a number that keeps its value but changes its unit (30분 → 30%) passes, and so does a number
//!   that happens to occur anywhere in the memo (a phone's digits, a date's day);
//! - a paraphrase or a generic word the model adds (증상, "Chapter" for "ch") is flagged as a
//!   term, and a transliteration (깃허브 → GitHub) too; a word the lists treat as structure
//!   (요약, "Summary") or a field label before a colon is never flagged, even when it is new;
//! - two-syllable Korean words that end like a particle or ending (회의, 영어) are read as
//!   inflected one-syllable words and not checked;
//! - a derived fact (a sum, a year added to a date) is flagged even when correct, except the
//!   weekday of a date the memo states in full;
//! - relative dates (내일, "next Friday") are words, not dates, and are not resolved.

pub mod answer;
mod config;
pub mod coverage;
mod facts;
mod hangul;
mod language;
mod markdown;
mod normalize;
mod report;
mod vocabulary;

pub mod evaluation;

pub use config::FidelityConfig;
pub use report::{
    CHECKER_VERSION, FidelityReport, Finding, FindingKind, Severity, UnsupportedItem,
};

use facts::{Claim, SourceFacts, extract_claims};
use language::ScriptProfile;
use markdown::MaskedText;
use normalize::NormalizedText;

/// Checks `draft` against `source` and reports every unsupported fact, every fact of the source
/// the draft lost, too little of the source's content, language drift and an excessive length. Pure and deterministic; cost is roughly linear in the two lengths.
pub fn check(source: &str, draft: &str, config: &FidelityConfig) -> FidelityReport {
    let source_norm = NormalizedText::new(source);
    let draft_norm = NormalizedText::new(draft);
    let source_masked = MaskedText::new(source_norm.as_str());
    let draft_masked = MaskedText::new(draft_norm.as_str());

    let source_claims = extract_claims(&source_masked.facts, facts::Side::Source);
    let pool = SourceFacts::gather(source_norm.as_str(), &source_claims);
    let draft_claims = extract_claims(&draft_masked.facts, facts::Side::Draft);
    let labels = markdown::label_spans(&draft_masked.facts);

    let mut findings = Vec::new();

    let source_script = ScriptProfile::measure(&source_masked.language, &source_claims);
    let draft_script = ScriptProfile::measure(&draft_masked.language, &draft_claims);
    let drift = language::detect_drift(&source_script, &draft_script, config);
    if let Some(summary) = &drift {
        findings.push(document_finding(FindingKind::LanguageDrift, summary, draft));
    }

    for claim in &draft_claims {
        let kind = claim.finding_kind();
        // Across scripts every term is "new"; the drift finding already says what is wrong.
        if kind == FindingKind::Term && (drift.is_some() || !config.check_terms) {
            continue;
        }
        // "**교통**: …" names a field; the value after the colon carries the fact.
        let in_label = labels
            .iter()
            .any(|label| label.start <= claim.range.start && claim.range.end <= label.end);
        if kind == FindingKind::Term && in_label {
            continue;
        }
        if pool.supports(claim, config) {
            continue;
        }
        findings.push(fact_finding(claim, &draft_norm, draft));
    }

    if let Some(summary) = length_excess(&source_masked, &draft_masked, config) {
        findings.push(document_finding(FindingKind::LengthRatio, &summary, draft));
    }

    // Coverage: the memo's items looked up in the draft, read generously as the memo is above.
    let draft_pool = SourceFacts::gather(
        draft_norm.as_str(),
        &extract_claims(&draft_masked.facts, facts::Side::Source),
    );
    let memo_items = extract_claims(&source_masked.facts, facts::Side::Draft);
    for mut finding in coverage::dropped(
        source_norm.as_str(),
        &source_masked.facts,
        &memo_items,
        &draft_pool,
        drift.is_some(),
        config,
    ) {
        if finding.kind.is_document_level() {
            finding.end = draft.len();
        }
        findings.push(finding);
    }

    findings.sort_by_key(|finding| (finding.start, finding.kind));
    FidelityReport::new(findings)
}

fn fact_finding(claim: &Claim, draft_norm: &NormalizedText<'_>, draft: &str) -> Finding {
    let span = draft_norm.to_original(claim.range.clone());
    Finding {
        kind: claim.finding_kind(),
        text: draft[span.clone()].to_owned(),
        start: span.start,
        end: span.end,
    }
}

fn document_finding(kind: FindingKind, summary: &str, draft: &str) -> Finding {
    Finding {
        kind,
        text: summary.to_owned(),
        start: 0,
        end: draft.len(),
    }
}

/// Compares visible (non-space, non-syntax) characters, so headings and list markers a model adds
/// to structure a memo do not count; the floor keeps short memos from tripping the ratio.
fn length_excess(
    source: &MaskedText,
    draft: &MaskedText,
    config: &FidelityConfig,
) -> Option<String> {
    let source_chars = source.visible_chars().max(1);
    let draft_chars = draft.visible_chars();
    let ratio = draft_chars as f64 / source_chars as f64;
    let excess = draft_chars.saturating_sub(source_chars);
    (ratio > config.max_length_ratio && excess >= config.length_excess_floor_chars)
        .then(|| format!("{ratio:.1}× longer ({draft_chars} vs {source_chars} characters)"))
}
