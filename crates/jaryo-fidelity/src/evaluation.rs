//! Harness for the labelled evaluation set (`eval/*.toml`, format in `eval/README.md`): loads
//! the cases, runs [`crate::check`] on each and scores the findings against the labels.
//!
//! Scoring:
//! - **Planted facts**, item level. A fact finding is a true positive when its span overlaps an
//!   occurrence of a planted item's text; any other fact finding — in any case — is a false
//!   alarm. Precision = true-positive findings / fact findings; recall = planted items hit by at
//!   least one finding / planted items.
//! - **Language drift**: accuracy of "has a drift finding" against the label over all cases.
//! - **Faithful rewrites**: the share of cases without planted items or drift that have no
//!   finding at all (length, dropped and coverage findings included).
//!
//! This module reads files; [`crate::check`] itself never does.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::{FidelityConfig, FindingKind, check};

/// The floors the checker must meet on the set; CI fails below them.
pub const PRECISION_FLOOR: f64 = 0.9;
pub const RECALL_FLOOR: f64 = 0.9;
pub const CLEAN_FAITHFUL_FLOOR: f64 = 0.9;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("case {id}: {reason}")]
    Invalid { id: String, reason: String },
    #[error("no evaluation cases under {0}")]
    Empty(PathBuf),
}

/// One labelled source/draft pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalCase {
    pub id: String,
    pub source: String,
    pub draft: String,
    #[serde(default)]
    pub planted: Vec<PlantedItem>,
    #[serde(default)]
    pub language_drift: bool,
    /// Feed the source decomposed (NFD), as macOS sends Hangul.
    #[serde(default)]
    pub decompose_source: bool,
}

/// A fact the draft adds on purpose.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlantedItem {
    pub kind: FindingKind,
    pub text: String,
}

impl EvalCase {
    pub fn is_faithful(&self) -> bool {
        self.planted.is_empty() && !self.language_drift
    }

    fn validate(&self) -> Result<(), EvalError> {
        let invalid = |reason: String| EvalError::Invalid {
            id: self.id.clone(),
            reason,
        };
        for item in &self.planted {
            if !item.kind.is_added_fact() {
                return Err(invalid(format!("planted kind {} is not a fact", item.kind)));
            }
            if !self.draft.contains(&item.text) {
                return Err(invalid(format!(
                    "planted text {:?} is not in the draft",
                    item.text
                )));
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    case: Vec<EvalCase>,
}

/// Loads every `*.toml` file directly under `dir`, in file-name order.
pub fn load_cases(dir: &Path) -> Result<Vec<EvalCase>, EvalError> {
    let read_error = |source| EvalError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    let mut ids = HashSet::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| EvalError::Read {
            path: path.clone(),
            source,
        })?;
        let file: CaseFile = toml::from_str(&text).map_err(|source| EvalError::Parse {
            path: path.clone(),
            source,
        })?;
        for case in file.case {
            case.validate()?;
            if !ids.insert(case.id.clone()) {
                return Err(EvalError::Invalid {
                    id: case.id,
                    reason: "duplicate id".to_owned(),
                });
            }
            cases.push(case);
        }
    }
    if cases.is_empty() {
        return Err(EvalError::Empty(dir.to_owned()));
    }
    Ok(cases)
}

/// A planted item no finding overlapped.
#[derive(Debug, Clone)]
pub struct Miss {
    pub case_id: String,
    pub kind: FindingKind,
    pub text: String,
}

/// A fact finding that overlaps no planted item.
#[derive(Debug, Clone)]
pub struct FalseAlarm {
    pub case_id: String,
    pub kind: FindingKind,
    pub text: String,
    /// The draft line the finding is on, for context.
    pub line: String,
}

/// A case whose drift verdict disagrees with its label.
#[derive(Debug, Clone)]
pub struct DriftError {
    pub case_id: String,
    pub expected: bool,
}

#[derive(Debug, Clone, Default)]
pub struct EvalSummary {
    pub cases: usize,
    pub faithful_cases: usize,
    pub clean_faithful_cases: usize,
    pub planted_items: usize,
    pub recalled_items: usize,
    pub fact_findings: usize,
    pub true_positive_findings: usize,
    pub drift_cases: usize,
    pub drift_correct: usize,
    pub length_findings: usize,
    /// Per kind: (planted, recalled).
    pub recall_by_kind: BTreeMap<FindingKind, (usize, usize)>,
    pub misses: Vec<Miss>,
    pub false_alarms: Vec<FalseAlarm>,
    pub drift_errors: Vec<DriftError>,
    /// Faithful cases with any finding, with the findings' texts.
    pub noisy_faithful: Vec<(String, Vec<String>)>,
}

impl EvalSummary {
    pub fn precision(&self) -> f64 {
        ratio(self.true_positive_findings, self.fact_findings)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.recalled_items, self.planted_items)
    }

    pub fn drift_accuracy(&self) -> f64 {
        ratio(self.drift_correct, self.cases)
    }

    pub fn clean_faithful_share(&self) -> f64 {
        ratio(self.clean_faithful_cases, self.faithful_cases)
    }

    /// The floors not met, as readable lines; empty when all hold.
    pub fn failed_floors(&self) -> Vec<String> {
        let mut failed = Vec::new();
        let mut require = |name: &str, value: f64, floor: f64| {
            if value < floor {
                failed.push(format!("{name} {value:.3} is below the floor {floor:.2}"));
            }
        };
        require("precision", self.precision(), PRECISION_FLOOR);
        require("recall", self.recall(), RECALL_FLOOR);
        require(
            "clean faithful share",
            self.clean_faithful_share(),
            CLEAN_FAITHFUL_FLOOR,
        );
        failed
    }
}

/// An empty denominator scores 1: nothing to get wrong.
fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        1.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Runs the checker on every case and scores it.
pub fn evaluate(cases: &[EvalCase], config: &FidelityConfig) -> EvalSummary {
    let mut summary = EvalSummary {
        cases: cases.len(),
        ..EvalSummary::default()
    };
    for case in cases {
        let source: String = if case.decompose_source {
            case.source.nfd().collect()
        } else {
            case.source.clone()
        };
        let report = check(&source, &case.draft, config);
        let planted_spans: Vec<Vec<Range<usize>>> = case
            .planted
            .iter()
            .map(|item| {
                case.draft
                    .match_indices(&item.text)
                    .map(|(start, text)| start..start + text.len())
                    .collect()
            })
            .collect();

        let mut hit = vec![false; case.planted.len()];
        for finding in &report.findings {
            if !finding.kind.is_added_fact() {
                continue;
            }
            summary.fact_findings += 1;
            let mut matched = false;
            for (index, spans) in planted_spans.iter().enumerate() {
                if spans
                    .iter()
                    .any(|span| span.start < finding.end && finding.start < span.end)
                {
                    hit[index] = true;
                    matched = true;
                }
            }
            if matched {
                summary.true_positive_findings += 1;
            } else {
                summary.false_alarms.push(FalseAlarm {
                    case_id: case.id.clone(),
                    kind: finding.kind,
                    text: finding.text.clone(),
                    line: line_around(&case.draft, finding.start),
                });
            }
        }
        for (item, was_hit) in case.planted.iter().zip(&hit) {
            summary.planted_items += 1;
            let per_kind = summary.recall_by_kind.entry(item.kind).or_default();
            per_kind.0 += 1;
            if *was_hit {
                summary.recalled_items += 1;
                per_kind.1 += 1;
            } else {
                summary.misses.push(Miss {
                    case_id: case.id.clone(),
                    kind: item.kind,
                    text: item.text.clone(),
                });
            }
        }

        let drifted = report.has_language_drift();
        summary.drift_cases += usize::from(case.language_drift);
        if drifted == case.language_drift {
            summary.drift_correct += 1;
        } else {
            summary.drift_errors.push(DriftError {
                case_id: case.id.clone(),
                expected: case.language_drift,
            });
        }
        summary.length_findings += usize::from(report.is_too_long());

        if case.is_faithful() {
            summary.faithful_cases += 1;
            if report.findings.is_empty() {
                summary.clean_faithful_cases += 1;
            } else {
                let texts = report
                    .findings
                    .iter()
                    .map(|f| format!("{}: {}", f.kind, f.text))
                    .collect();
                summary.noisy_faithful.push((case.id.clone(), texts));
            }
        }
    }
    summary
}

fn line_around(text: &str, at: usize) -> String {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    text[start..end].trim().to_owned()
}

impl fmt::Display for EvalSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let planted_cases = self.cases - self.faithful_cases;
        writeln!(
            f,
            "fidelity evaluation: {} cases ({} faithful, {} with planted facts or drift)",
            self.cases, self.faithful_cases, planted_cases
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "planted facts   precision {:.3}  ({} of {} fact findings hit a planted item; floor {PRECISION_FLOOR:.2})",
            self.precision(),
            self.true_positive_findings,
            self.fact_findings
        )?;
        writeln!(
            f,
            "                recall    {:.3}  ({} of {} planted items found; floor {RECALL_FLOOR:.2})",
            self.recall(),
            self.recalled_items,
            self.planted_items
        )?;
        for (kind, (planted, recalled)) in &self.recall_by_kind {
            writeln!(f, "                  {kind:<10} {recalled}/{planted}")?;
        }
        writeln!(
            f,
            "language drift  accuracy  {:.3}  ({} of {} cases right; {} labelled drift)",
            self.drift_accuracy(),
            self.drift_correct,
            self.cases,
            self.drift_cases
        )?;
        writeln!(
            f,
            "faithful        clean     {:.3}  ({} of {} rewrites without any finding; floor {CLEAN_FAITHFUL_FLOOR:.2})",
            self.clean_faithful_share(),
            self.clean_faithful_cases,
            self.faithful_cases
        )?;
        writeln!(
            f,
            "length ratio    flagged in {} cases",
            self.length_findings
        )?;

        writeln!(f)?;
        writeln!(f, "misses ({}):", self.misses.len())?;
        for miss in &self.misses {
            writeln!(
                f,
                "  {:<40} {:<10} {:?}",
                miss.case_id, miss.kind, miss.text
            )?;
        }
        writeln!(f, "false alarms ({}):", self.false_alarms.len())?;
        for alarm in &self.false_alarms {
            writeln!(
                f,
                "  {:<40} {:<10} {:?}  in {:?}",
                alarm.case_id, alarm.kind, alarm.text, alarm.line
            )?;
        }
        writeln!(f, "drift errors ({}):", self.drift_errors.len())?;
        for error in &self.drift_errors {
            let verdict = if error.expected {
                "missed drift"
            } else {
                "false drift"
            };
            writeln!(f, "  {:<40} {verdict}", error.case_id)?;
        }
        writeln!(
            f,
            "faithful rewrites with findings ({}):",
            self.noisy_faithful.len()
        )?;
        for (id, texts) in &self.noisy_faithful {
            writeln!(f, "  {:<40} {}", id, texts.join(" | "))?;
        }
        let failed = self.failed_floors();
        writeln!(f)?;
        if failed.is_empty() {
            writeln!(f, "all floors met")
        } else {
            writeln!(f, "FLOORS NOT MET: {}", failed.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, source: &str, draft: &str, planted: &[(FindingKind, &str)]) -> EvalCase {
        EvalCase {
            id: id.to_owned(),
            source: source.to_owned(),
            draft: draft.to_owned(),
            planted: planted
                .iter()
                .map(|(kind, text)| PlantedItem {
                    kind: *kind,
                    text: (*text).to_owned(),
                })
                .collect(),
            language_drift: false,
            decompose_source: false,
        }
    }

    #[test]
    fn scores_hits_misses_and_false_alarms() {
        let cases = [
            case(
                "hit",
                "meet at noon",
                "Meet at noon on March 12.",
                &[(FindingKind::DateTime, "March 12")],
            ),
            case(
                "miss",
                "buy milk",
                "Buy milk (2 l)",
                &[(FindingKind::Term, "milk")],
            ),
            case("faithful", "call mom", "Call mom via Zoom", &[]),
        ];
        let summary = evaluate(&cases, &FidelityConfig::default());
        assert_eq!(summary.planted_items, 2);
        assert_eq!(summary.recalled_items, 1);
        assert_eq!(summary.misses[0].case_id, "miss");
        // "2 l" in the second case and "Zoom" in the third are false alarms.
        assert_eq!(summary.false_alarms.len(), 2);
        assert_eq!(summary.true_positive_findings, 1);
        assert_eq!(summary.faithful_cases, 1);
        assert_eq!(summary.clean_faithful_cases, 0);
    }

    #[test]
    fn a_planted_text_must_occur_in_the_draft() {
        let bad = case("bad", "a", "b", &[(FindingKind::Number, "3")]);
        assert!(matches!(bad.validate(), Err(EvalError::Invalid { .. })));
    }
}
