//! Drafts a person can trust, measured on real model output.
//!
//! Two files under `eval/` (format in `eval/README.md`):
//!
//! - `memos.toml` — memos (Korean and English) with the facts a draft of each must keep. The
//!   live run (`fidelity-eval --live URL MODEL`) sends them through a model server with the
//!   worker's own prompt and judges every answer as the worker does.
//! - `real-drafts.toml` — answers captured from real models on those memos (and, for Korean,
//!   where no Korean-capable model is reachable, drafts written for it), each labelled by a
//!   person: which labelled facts it dropped, whether it echoes the prompt or talks about the
//!   note, whether it is a faithful draft. Tests run the checker on them without a model.
//!
//! Every answer is judged exactly as the worker judges it: [`clean_answer`], then
//! [`jaryo_fidelity::answer::check_answer`] with the worker's [`crate::instructions`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use jaryo_fidelity::FidelityConfig;
use jaryo_fidelity::answer::{Verdict, check_answer};
use serde::{Deserialize, Serialize};

use crate::prompt::{clean_answer, instructions};

/// Floors on the real-draft fixtures; CI fails below them.
pub const DROP_RECALL_FLOOR: f64 = 0.95;
pub const ECHO_CAUGHT_FLOOR: f64 = 1.0;
pub const FAITHFUL_CLEAN_FLOOR: f64 = 0.9;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("cannot parse {path}: {message}")]
    Parse { path: String, message: String },
    #[error("{id}: {reason}")]
    Invalid { id: String, reason: String },
}

/// A memo of the labelled set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledMemo {
    pub id: String,
    pub memo: String,
    /// Facts a draft must keep, as the memo writes them.
    pub facts: Vec<String>,
}

/// A real answer to one memo, with a person's labels.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledAnswer {
    pub id: String,
    /// The model that answered (`hand-written` for drafts written for the set).
    pub model: String,
    pub memo: String,
    /// The answer exactly as the server sent it.
    pub answer: String,
    /// The memo's labelled facts.
    pub facts: Vec<String>,
    /// Labelled: the facts of `facts` the answer does not keep.
    pub dropped: Vec<String>,
    /// Labelled: the answer repeats the prompt or the fence, or talks about the note.
    pub echo: bool,
    /// Labelled: a draft a person could accept as it is.
    pub faithful: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemoFile {
    memo: Vec<LabelledMemo>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct AnswerFile {
    answer: Vec<LabelledAnswer>,
}

fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|error| EvalError::Read {
        path: path.display().to_string(),
        message: error.to_string(),
    })
}

fn parse<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T, EvalError> {
    toml::from_str(text).map_err(|error| EvalError::Parse {
        path: path.display().to_string(),
        message: error.to_string(),
    })
}

pub fn load_memos(path: &Path) -> Result<Vec<LabelledMemo>, EvalError> {
    let file: MemoFile = parse(path, &read(path)?)?;
    for memo in &file.memo {
        for fact in &memo.facts {
            if !memo.memo.contains(fact.as_str()) {
                return Err(EvalError::Invalid {
                    id: memo.id.clone(),
                    reason: format!("labelled fact {fact:?} is not in the memo"),
                });
            }
        }
    }
    Ok(file.memo)
}

pub fn load_answers(path: &Path) -> Result<Vec<LabelledAnswer>, EvalError> {
    let file: AnswerFile = parse(path, &read(path)?)?;
    for answer in &file.answer {
        for fact in &answer.dropped {
            if !answer.facts.contains(fact) {
                return Err(EvalError::Invalid {
                    id: answer.id.clone(),
                    reason: format!("dropped {fact:?} is not a labelled fact"),
                });
            }
        }
        if answer.faithful && (answer.echo || !answer.dropped.is_empty()) {
            return Err(EvalError::Invalid {
                id: answer.id.clone(),
                reason: "a faithful draft neither echoes nor drops".to_owned(),
            });
        }
    }
    Ok(file.answer)
}

/// Writes captured answers as a fixture file (labels to be reviewed by a person).
pub fn write_answers(path: &Path, answers: Vec<LabelledAnswer>) -> std::io::Result<()> {
    let text = toml::to_string(&AnswerFile { answer: answers })
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    std::fs::write(path, text)
}

/// Judges a raw answer as the worker does.
pub fn judge(memo: &str, answer: &str, config: &FidelityConfig) -> Verdict {
    check_answer(memo, &clean_answer(answer), instructions(), config)
}

/// What a person reviewing drafts would see for one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// A draft without findings.
    Clean,
    /// A draft flagged for what it adds (facts, drift, length), not for what it lost.
    FlaggedAdditions,
    /// A draft flagged for facts or content of the memo it lost.
    FlaggedOmissions,
    /// Not a draft: an echo of the prompt or a reply about the note.
    Rejected,
}

impl Outcome {
    pub fn of(verdict: &Verdict) -> Self {
        match verdict {
            Verdict::Rejected { .. } => Self::Rejected,
            Verdict::Draft { report, .. } if !report.flagged => Self::Clean,
            Verdict::Draft { report, .. } if report.drops_content() => Self::FlaggedOmissions,
            Verdict::Draft { .. } => Self::FlaggedAdditions,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::FlaggedAdditions => "flagged additions",
            Self::FlaggedOmissions => "flagged omissions",
            Self::Rejected => "rejected as echoes",
        }
    }
}

/// Outcomes per model: what a person would use to choose one.
#[derive(Debug, Clone, Default)]
pub struct ModelTally {
    pub by_model: BTreeMap<String, BTreeMap<Outcome, usize>>,
}

impl ModelTally {
    pub fn add(&mut self, model: &str, outcome: Outcome) {
        *self
            .by_model
            .entry(model.to_owned())
            .or_default()
            .entry(outcome)
            .or_default() += 1;
    }
}

impl fmt::Display for ModelTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (model, counts) in &self.by_model {
            let total: usize = counts.values().sum();
            write!(f, "  {model:<40} {total:>3} answers:")?;
            for outcome in [
                Outcome::Clean,
                Outcome::FlaggedAdditions,
                Outcome::FlaggedOmissions,
                Outcome::Rejected,
            ] {
                let n = counts.get(&outcome).copied().unwrap_or(0);
                write!(f, "  {} {n}", outcome.name())?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// A labelled answer the checker got wrong.
#[derive(Debug, Clone)]
pub struct Mistake {
    pub id: String,
    pub what: &'static str,
    pub detail: String,
}

/// The checker against the labels of real answers.
#[derive(Debug, Clone, Default)]
pub struct FixtureSummary {
    pub answers: usize,
    pub tally: ModelTally,
    /// Answers labelled as dropping a fact, and how many of them were flagged or rejected.
    pub dropping: usize,
    pub dropping_caught: usize,
    pub echoes: usize,
    pub echoes_caught: usize,
    pub faithful: usize,
    pub faithful_clean: usize,
    pub mistakes: Vec<Mistake>,
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        1.0
    } else {
        numerator as f64 / denominator as f64
    }
}

impl FixtureSummary {
    pub fn drop_recall(&self) -> f64 {
        ratio(self.dropping_caught, self.dropping)
    }

    pub fn echo_caught(&self) -> f64 {
        ratio(self.echoes_caught, self.echoes)
    }

    pub fn faithful_clean_share(&self) -> f64 {
        ratio(self.faithful_clean, self.faithful)
    }

    pub fn failed_floors(&self) -> Vec<String> {
        let mut failed = Vec::new();
        let mut require = |name: &str, value: f64, floor: f64| {
            if value < floor {
                failed.push(format!("{name} {value:.3} is below the floor {floor:.2}"));
            }
        };
        require("drop recall", self.drop_recall(), DROP_RECALL_FLOOR);
        require("echoes caught", self.echo_caught(), ECHO_CAUGHT_FLOOR);
        require(
            "faithful drafts clean",
            self.faithful_clean_share(),
            FAITHFUL_CLEAN_FLOOR,
        );
        failed
    }
}

/// Judges every labelled answer and scores the verdicts against the labels.
pub fn evaluate_answers(answers: &[LabelledAnswer], config: &FidelityConfig) -> FixtureSummary {
    let mut summary = FixtureSummary {
        answers: answers.len(),
        ..FixtureSummary::default()
    };
    for answer in answers {
        let verdict = judge(&answer.memo, &answer.answer, config);
        let outcome = Outcome::of(&verdict);
        summary.tally.add(&answer.model, outcome);
        let report = verdict.report();
        let flagged = verdict.is_rejected() || report.flagged;
        let findings = || {
            report
                .findings
                .iter()
                .map(|f| format!("{}: {}", f.kind, f.text))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        if !answer.dropped.is_empty() {
            summary.dropping += 1;
            if flagged {
                summary.dropping_caught += 1;
            } else {
                summary.mistakes.push(Mistake {
                    id: answer.id.clone(),
                    what: "dropped facts not flagged",
                    detail: answer.dropped.join(", "),
                });
            }
        }
        if answer.echo {
            summary.echoes += 1;
            if verdict.is_rejected() || report.has_echo() {
                summary.echoes_caught += 1;
            } else {
                summary.mistakes.push(Mistake {
                    id: answer.id.clone(),
                    what: "echo not caught",
                    detail: findings(),
                });
            }
        }
        if answer.faithful {
            summary.faithful += 1;
            if outcome == Outcome::Clean {
                summary.faithful_clean += 1;
            } else {
                summary.mistakes.push(Mistake {
                    id: answer.id.clone(),
                    what: "faithful draft not clean",
                    detail: match &verdict {
                        Verdict::Rejected { reason, .. } => reason.clone(),
                        Verdict::Draft { .. } => findings(),
                    },
                });
            }
        }
    }
    summary
}

impl fmt::Display for FixtureSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "real drafts: {} labelled answers ({} drop a labelled fact, {} echo or comment, {} faithful)",
            self.answers, self.dropping, self.echoes, self.faithful
        )?;
        writeln!(
            f,
            "  drops flagged   {:.3}  ({} of {}; floor {DROP_RECALL_FLOOR:.2})",
            self.drop_recall(),
            self.dropping_caught,
            self.dropping
        )?;
        writeln!(
            f,
            "  echoes caught   {:.3}  ({} of {}; floor {ECHO_CAUGHT_FLOOR:.2})",
            self.echo_caught(),
            self.echoes_caught,
            self.echoes
        )?;
        writeln!(
            f,
            "  faithful clean  {:.3}  ({} of {}; floor {FAITHFUL_CLEAN_FLOOR:.2})",
            self.faithful_clean_share(),
            self.faithful_clean,
            self.faithful
        )?;
        writeln!(f, "per model:")?;
        write!(f, "{}", self.tally)?;
        writeln!(f, "mistakes ({}):", self.mistakes.len())?;
        for mistake in &self.mistakes {
            writeln!(
                f,
                "  {:<36} {:<26} {}",
                mistake.id, mistake.what, mistake.detail
            )?;
        }
        let failed = self.failed_floors();
        if failed.is_empty() {
            writeln!(f, "all real-draft floors met")
        } else {
            writeln!(f, "REAL-DRAFT FLOORS NOT MET: {}", failed.join("; "))
        }
    }
}
