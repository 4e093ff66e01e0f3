//! What the checker says about one draft, in the shape stored with the draft and served by the
//! HTTP API. Serde names are part of that API: never rename them.

use serde::{Deserialize, Serialize};

/// Version of the rules. Bump it whenever a change alters what is flagged, so drafts checked by
/// an older version can be found (`checker_version < CHECKER_VERSION`) and re-checked.
pub const CHECKER_VERSION: u32 = 3;

/// What kind of problem a finding is. The serialised names are stable API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A number or amount (also IP addresses and version numbers) absent from the source.
    Number,
    /// A date, time of day or weekday absent from the source.
    DateTime,
    /// A URL or bare domain absent from the source.
    Url,
    /// An e-mail address absent from the source.
    Email,
    /// A phone number absent from the source.
    Phone,
    /// A name or term: a capitalised Latin word, an acronym, or a Hangul word absent from the
    /// source.
    Term,
    /// Document-level: the draft is written in another script than the source.
    LanguageDrift,
    /// Document-level: the draft is much longer than the source.
    LengthRatio,
    /// A fact of the source (number, date, time, amount, address, name) the draft lost. `text`
    /// is the source's wording; the span is empty, at the draft's start, since the item is not
    /// in the draft.
    Dropped,
    /// Document-level: the draft keeps too few of the source's content words.
    Coverage,
    /// The answer repeats the prompt: a run of words from the instructions that the source does
    /// not contain, or a fence-shaped marker (`<memo-…>`). A marker removed from the answer has
    /// an empty span where it was.
    Echo,
    /// The answer talks about the note instead of being it ("Here's the revised note:"). A line
    /// removed from the answer has an empty span where it was.
    Commentary,
}

impl FindingKind {
    /// Whether the finding concerns the draft as a whole rather than a span of it.
    pub fn is_document_level(self) -> bool {
        matches!(
            self,
            Self::LanguageDrift | Self::LengthRatio | Self::Coverage
        )
    }

    /// Whether the finding is a fact the draft adds (a span of the draft the source does not
    /// support).
    pub fn is_added_fact(self) -> bool {
        matches!(
            self,
            Self::Number | Self::DateTime | Self::Url | Self::Email | Self::Phone | Self::Term
        )
    }

    /// Whether the finding says the answer is not (only) a draft: prompt echo or commentary.
    pub fn is_echo(self) -> bool {
        matches!(self, Self::Echo | Self::Commentary)
    }

    /// The stable serialised name, e.g. `date_time`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::DateTime => "date_time",
            Self::Url => "url",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Term => "term",
            Self::LanguageDrift => "language_drift",
            Self::LengthRatio => "length_ratio",
            Self::Dropped => "dropped",
            Self::Coverage => "coverage",
            Self::Echo => "echo",
            Self::Commentary => "commentary",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a draft.
///
/// For fact kinds, `start..end` is a byte range of the draft (on char boundaries) and `text` is
/// exactly that slice, ready to highlight. For document-level kinds the range is the whole draft
/// and `text` is a short human-readable summary (e.g. `hangul → latin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// The checker's verdict on one draft, stored as JSON with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FidelityReport {
    /// [`CHECKER_VERSION`] at the time of the check.
    pub checker_version: u32,
    /// Whether the draft needs the person's attention: true exactly when there are findings.
    /// Stored redundantly so a store can filter on it without reading the findings.
    pub flagged: bool,
    pub findings: Vec<Finding>,
}

/// An unsupported item, deduplicated, for a stricter redraft prompt ("these are not in the memo:
/// …").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsupportedItem<'a> {
    pub kind: FindingKind,
    pub text: &'a str,
}

/// How bad a report is, counted per kind of harm. Used to keep the better of a draft and its
/// stricter redraft: see [`Severity::is_better_than`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Severity {
    pub language_drift: bool,
    /// Prompt echo and commentary findings.
    pub echoes: usize,
    /// Distinct facts the draft adds.
    pub added_facts: usize,
    /// Facts the draft lost, plus one when it keeps too few content words.
    pub dropped_facts: usize,
    pub too_long: bool,
}

impl Severity {
    /// Whether a draft with this severity is better than one with `other`: no worse in drift,
    /// echo, added facts and dropped facts, and better in at least one of them. Length alone
    /// never decides (a draft that drops everything is short), so a redraft that trades an
    /// added fact for a dropped one is not better either.
    pub fn is_better_than(&self, other: &Severity) -> bool {
        let mine = [
            usize::from(self.language_drift),
            self.echoes,
            self.added_facts,
            self.dropped_facts,
        ];
        let theirs = [
            usize::from(other.language_drift),
            other.echoes,
            other.added_facts,
            other.dropped_facts,
        ];
        mine.iter().zip(&theirs).all(|(a, b)| a <= b) && mine != theirs
    }
}

impl FidelityReport {
    /// A report for these findings, stamped with the current [`CHECKER_VERSION`].
    pub fn new(findings: Vec<Finding>) -> Self {
        Self {
            checker_version: CHECKER_VERSION,
            flagged: !findings.is_empty(),
            findings,
        }
    }

    /// Whether the person should look at this draft before accepting it. A flagged draft is
    /// still a draft.
    pub fn needs_attention(&self) -> bool {
        self.flagged || !self.findings.is_empty()
    }

    /// Whether the report was made by older rules and is worth re-checking.
    pub fn is_outdated(&self) -> bool {
        self.checker_version < CHECKER_VERSION
    }

    /// The draft's facts without support in the source, each distinct text once, in draft
    /// order. Only added facts are items; see [`Self::dropped_items`],
    /// [`Self::has_language_drift`] and [`Self::is_too_long`] for the rest.
    pub fn unsupported_items(&self) -> Vec<UnsupportedItem<'_>> {
        self.distinct_items(FindingKind::is_added_fact)
    }

    /// The source's facts the draft lost, each distinct text once.
    pub fn dropped_items(&self) -> Vec<UnsupportedItem<'_>> {
        self.distinct_items(|kind| kind == FindingKind::Dropped)
    }

    /// Whether the draft lost a fact of the source or most of its content.
    pub fn drops_content(&self) -> bool {
        self.has_kind(FindingKind::Dropped) || self.has_kind(FindingKind::Coverage)
    }

    /// Whether the answer repeated the prompt or commented on the note.
    pub fn has_echo(&self) -> bool {
        self.findings.iter().any(|finding| finding.kind.is_echo())
    }

    fn distinct_items(&self, wanted: impl Fn(FindingKind) -> bool) -> Vec<UnsupportedItem<'_>> {
        let mut items: Vec<UnsupportedItem<'_>> = Vec::new();
        for finding in self.findings.iter().filter(|finding| wanted(finding.kind)) {
            if !items.iter().any(|item| item.text == finding.text) {
                items.push(UnsupportedItem {
                    kind: finding.kind,
                    text: &finding.text,
                });
            }
        }
        items
    }

    pub fn has_language_drift(&self) -> bool {
        self.has_kind(FindingKind::LanguageDrift)
    }

    pub fn is_too_long(&self) -> bool {
        self.has_kind(FindingKind::LengthRatio)
    }

    pub fn severity(&self) -> Severity {
        Severity {
            language_drift: self.has_language_drift(),
            echoes: self.findings.iter().filter(|f| f.kind.is_echo()).count(),
            added_facts: self.unsupported_items().len(),
            dropped_facts: self.dropped_items().len()
                + usize::from(self.has_kind(FindingKind::Coverage)),
            too_long: self.is_too_long(),
        }
    }

    fn has_kind(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|finding| finding.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, text: &str) -> Finding {
        Finding {
            kind,
            text: text.to_owned(),
            start: 0,
            end: text.len(),
        }
    }

    #[test]
    fn kinds_serialise_in_snake_case() {
        let json = serde_json::to_string(&FindingKind::DateTime).unwrap();
        assert_eq!(json, r#""date_time""#);
        let json = serde_json::to_string(&FindingKind::LanguageDrift).unwrap();
        assert_eq!(json, r#""language_drift""#);
    }

    #[test]
    fn a_report_round_trips_through_json() {
        let report = FidelityReport::new(vec![finding(FindingKind::Number, "3만 원")]);
        let json = serde_json::to_string(&report).unwrap();
        let back: FidelityReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
        assert!(back.needs_attention());
        assert!(!back.is_outdated());
    }

    #[test]
    fn an_empty_report_needs_no_attention() {
        let report = FidelityReport::new(Vec::new());
        assert!(!report.flagged);
        assert!(!report.needs_attention());
    }

    #[test]
    fn unsupported_items_are_distinct_facts_only() {
        let report = FidelityReport::new(vec![
            finding(FindingKind::LanguageDrift, "hangul → latin"),
            finding(FindingKind::Term, "Stripe"),
            finding(FindingKind::Number, "$499"),
            finding(FindingKind::Term, "Stripe"),
        ]);
        let texts: Vec<&str> = report.unsupported_items().iter().map(|i| i.text).collect();
        assert_eq!(texts, ["Stripe", "$499"]);
    }

    #[test]
    fn better_means_fewer_added_and_fewer_dropped_never_just_shorter() {
        let clean = FidelityReport::new(Vec::new()).severity();
        let one_added = FidelityReport::new(vec![finding(FindingKind::Term, "Stripe")]).severity();
        let dropped_all = FidelityReport::new(vec![
            finding(FindingKind::Dropped, "Friday"),
            finding(FindingKind::Dropped, "Alice"),
            finding(FindingKind::Coverage, "kept 0 of 8 content words"),
        ])
        .severity();
        let long = FidelityReport::new(vec![finding(FindingKind::LengthRatio, "4.0×")]).severity();
        assert!(clean.is_better_than(&one_added));
        assert!(!one_added.is_better_than(&clean));
        // Losing every fact to lose one addition is a trade, not an improvement.
        assert!(!dropped_all.is_better_than(&one_added));
        assert!(!one_added.is_better_than(&dropped_all));
        // Being shorter alone is not better.
        assert!(!clean.is_better_than(&long));
        assert!(!clean.is_better_than(&clean));
    }
}
