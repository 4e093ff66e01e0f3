//! What the checker says about one draft, in the shape stored with the draft and served by the
//! HTTP API. Serde names are part of that API: never rename them.

use serde::{Deserialize, Serialize};

/// Version of the rules. Bump it whenever a change alters what is flagged, so drafts checked by
/// an older version can be found (`checker_version < CHECKER_VERSION`) and re-checked.
pub const CHECKER_VERSION: u32 = 1;

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
}

impl FindingKind {
    /// Whether the finding concerns the draft as a whole rather than a span of it.
    pub fn is_document_level(self) -> bool {
        matches!(self, Self::LanguageDrift | Self::LengthRatio)
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

/// How bad a report is, ordered so that a smaller value is a better draft: language drift first
/// (the whole draft is unusable), then the number of unsupported facts, then excess length. Used
/// to keep the better of a draft and its stricter redraft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Severity {
    pub language_drift: bool,
    pub unsupported_facts: usize,
    pub too_long: bool,
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
    /// order. Document-level findings are not items; see [`Self::has_language_drift`] and
    /// [`Self::is_too_long`].
    pub fn unsupported_items(&self) -> Vec<UnsupportedItem<'_>> {
        let mut items: Vec<UnsupportedItem<'_>> = Vec::new();
        for finding in self
            .findings
            .iter()
            .filter(|finding| !finding.kind.is_document_level())
        {
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
            unsupported_facts: self.unsupported_items().len(),
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
    fn drift_outweighs_any_number_of_facts() {
        let drifted = FidelityReport::new(vec![finding(FindingKind::LanguageDrift, "x")]);
        let many_facts = FidelityReport::new(vec![
            finding(FindingKind::Term, "A1"),
            finding(FindingKind::Term, "B2"),
            finding(FindingKind::Term, "C3"),
        ]);
        assert!(many_facts.severity() < drifted.severity());
        assert!(FidelityReport::new(Vec::new()).severity() < many_facts.severity());
    }
}
