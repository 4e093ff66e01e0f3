//! Runs the labelled evaluation set and fails when the checker drops below its floors, so a rule
//! change that trades precision, recall or quiet faithful rewrites away fails CI. Run
//! `cargo run --release -p jaryo-worker --bin fidelity-eval` to see the misses and false alarms.

use std::path::Path;

use jaryo_fidelity::evaluation::{evaluate, load_cases};
use jaryo_fidelity::{FidelityConfig, check};

fn eval_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/eval"))
}

#[test]
fn the_evaluation_set_is_large_and_balanced() {
    let cases = load_cases(eval_dir()).expect("the evaluation set loads");
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let faithful = cases.iter().filter(|case| case.is_faithful()).count();
    let planted = cases.len() - faithful;
    let korean = cases
        .iter()
        .filter(|case| case.source.chars().any(|c| ('가'..='힣').contains(&c)))
        .count();
    assert!(
        faithful >= 30 && planted >= 30,
        "{faithful} faithful, {planted} planted"
    );
    assert!(
        korean >= 20 && cases.len() - korean >= 20,
        "{korean} Korean sources"
    );
    assert!(cases.iter().filter(|case| case.language_drift).count() >= 6);
}

#[test]
fn the_checker_meets_its_floors_on_the_evaluation_set() {
    let cases = load_cases(eval_dir()).expect("the evaluation set loads");
    let summary = evaluate(&cases, &FidelityConfig::default());
    let failed = summary.failed_floors();
    assert!(failed.is_empty(), "{}\n{summary}", failed.join("; "));
}

#[test]
fn every_finding_on_the_set_is_a_valid_span_of_its_draft() {
    let cases = load_cases(eval_dir()).expect("the evaluation set loads");
    for case in &cases {
        let report = check(&case.source, &case.draft, &FidelityConfig::default());
        for finding in &report.findings {
            assert!(finding.start <= finding.end && finding.end <= case.draft.len());
            assert!(case.draft.is_char_boundary(finding.start));
            assert!(case.draft.is_char_boundary(finding.end));
            if !finding.kind.is_document_level() {
                assert_eq!(
                    &case.draft[finding.start..finding.end],
                    finding.text,
                    "{}",
                    case.id
                );
            }
        }
    }
}
