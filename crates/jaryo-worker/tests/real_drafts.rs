//! The checker on real model answers with a person's labels (`eval/real-drafts.toml`): every
//! answer that drops a labelled fact is flagged, every echo is caught, faithful drafts stay
//! clean. Run `cargo run --release -p jaryo-worker --bin fidelity-eval` to see the mistakes.

use std::path::Path;

use jaryo_fidelity::FidelityConfig;
use jaryo_fidelity::answer::Verdict;
use jaryo_worker::evaluation::{evaluate_answers, judge, load_answers, load_memos};

fn eval_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("eval")
        .join(name)
}

#[test]
fn the_fixture_set_is_real_labelled_and_bilingual() {
    let answers = load_answers(&eval_file("real-drafts.toml")).expect("the fixtures load");
    let memos = load_memos(&eval_file("memos.toml")).expect("the memos load");
    assert!(memos.len() >= 20);
    let real = answers.iter().filter(|a| a.model != "hand-written").count();
    let korean = answers
        .iter()
        .filter(|a| a.memo.chars().any(|c| ('가'..='힣').contains(&c)))
        .count();
    assert!(real >= 80, "only {real} captured answers");
    assert!(korean >= 30, "only {korean} Korean answers");
    assert!(answers.iter().filter(|a| !a.dropped.is_empty()).count() >= 10);
    assert!(answers.iter().filter(|a| a.echo).count() >= 5);
    assert!(answers.iter().filter(|a| a.faithful).count() >= 8);
}

#[test]
fn the_checker_meets_its_floors_on_real_drafts() {
    let answers = load_answers(&eval_file("real-drafts.toml")).expect("the fixtures load");
    let summary = evaluate_answers(&answers, &FidelityConfig::default());
    let failed = summary.failed_floors();
    assert!(failed.is_empty(), "{}\n{summary}", failed.join("; "));
}

#[test]
fn no_stored_draft_of_a_fixture_carries_a_fence_line() {
    let answers = load_answers(&eval_file("real-drafts.toml")).expect("the fixtures load");
    for answer in &answers {
        if let Verdict::Draft { markdown, .. } =
            judge(&answer.memo, &answer.answer, &FidelityConfig::default())
        {
            for line in markdown.lines() {
                let line = line.trim();
                assert!(
                    !(line.starts_with("<memo-") || line.starts_with("</memo-")),
                    "{}: {line}",
                    answer.id
                );
                assert!(!line.contains("<markdown-note-"), "{}: {line}", answer.id);
            }
        }
    }
}
