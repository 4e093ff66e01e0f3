//! Measures the fidelity checker.
//!
//! - `fidelity-eval [EVAL_DIR]` — the planted-fact set of `jaryo-fidelity` (precision and recall
//!   of added facts, language drift, clean faithful rewrites), then the real-draft fixtures of
//!   this crate (`eval/real-drafts.toml`: dropped facts flagged, echoes caught, faithful drafts
//!   clean), and exits non-zero when a floor is not met.
//! - `fidelity-eval --live URL MODEL [--capture FILE]` — sends the labelled memos
//!   (`eval/memos.toml`, Korean and English) through a real OpenAI-compatible model server with
//!   the worker's prompt, judges every answer as the worker does and prints, per model, how
//!   many were clean, flagged for additions, flagged for omissions and rejected as echoes.
//!   `--capture` writes the answers as fixtures whose labels a person must then review.
//!
//! Usage: `cargo run --release -p jaryo-worker --bin fidelity-eval -- [ARGS]`
//!
//! The checker's configuration comes from `JARYO_FIDELITY_<FIELD>` environment variables over
//! the defaults (e.g. `JARYO_FIDELITY_MAX_LENGTH_RATIO=4`, `JARYO_FIDELITY_IGNORED_TERMS=a,b`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jaryo_fidelity::FidelityConfig;
use jaryo_fidelity::answer::Verdict;
use jaryo_llm::{LlmClient, LlmConfig};
use jaryo_worker::DraftPrompt;
use jaryo_worker::evaluation::{
    LabelledAnswer, ModelTally, Outcome, evaluate_answers, judge, load_answers, load_memos,
    write_answers,
};
use serde_json::Value;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match config_from_env(std::env::vars()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("fidelity-eval: bad JARYO_FIDELITY_* setting: {error}");
            return ExitCode::from(2);
        }
    };
    if args.first().map(String::as_str) == Some("--live") {
        let (Some(url), Some(model)) = (args.get(1), args.get(2)) else {
            eprintln!("usage: fidelity-eval --live URL MODEL [--capture FILE]");
            return ExitCode::from(2);
        };
        let capture = match &args[3..] {
            [] => None,
            [flag, file] if flag == "--capture" => Some(PathBuf::from(file)),
            _ => {
                eprintln!("usage: fidelity-eval --live URL MODEL [--capture FILE]");
                return ExitCode::from(2);
            }
        };
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        return runtime.block_on(live(url, model, capture.as_deref(), &config));
    }
    let dir = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../jaryo-fidelity/eval"));
    offline(&dir, &config)
}

fn offline(dir: &Path, config: &FidelityConfig) -> ExitCode {
    let cases = match jaryo_fidelity::evaluation::load_cases(dir) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("fidelity-eval: {error}");
            return ExitCode::from(2);
        }
    };
    let planted = jaryo_fidelity::evaluation::evaluate(&cases, config);
    let answers = match load_answers(&manifest_dir().join("eval/real-drafts.toml")) {
        Ok(answers) => answers,
        Err(error) => {
            eprintln!("fidelity-eval: {error}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let real = evaluate_answers(&answers, config);
    // The check runs once per draft in the worker: its cost per answer is worth seeing.
    let per_answer = started.elapsed() / answers.len().max(1) as u32;
    // A closed pipe (`| head`) is not worth a panic.
    if write!(
        std::io::stdout().lock(),
        "{planted}\n{real}judged {} answers, {per_answer:.2?} each\n",
        answers.len()
    )
    .is_err()
    {
        return ExitCode::FAILURE;
    }
    if planted.failed_floors().is_empty() && real.failed_floors().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn live(url: &str, model: &str, capture: Option<&Path>, config: &FidelityConfig) -> ExitCode {
    let memos = match load_memos(&manifest_dir().join("eval/memos.toml")) {
        Ok(memos) => memos,
        Err(error) => {
            eprintln!("fidelity-eval: {error}");
            return ExitCode::from(2);
        }
    };
    let client = match LlmClient::new(LlmConfig {
        base_url: url.to_owned(),
        model: model.to_owned(),
        connect_timeout_secs: 10.0,
        first_token_timeout_secs: 600.0,
        idle_timeout_secs: 600.0,
        total_timeout_secs: 900.0,
        // A memo's draft needs far less; a small model that rambles is cut here.
        max_tokens: Some(1024),
        ..LlmConfig::default()
    }) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("fidelity-eval: {error}");
            return ExitCode::from(2);
        }
    };
    let mut tally = ModelTally::default();
    let mut captured = Vec::new();
    for memo in &memos {
        let prompt = DraftPrompt::new(&memo.memo, rand::random());
        let completion = match client.complete(prompt.request.clone()).await {
            Ok(completion) => completion,
            Err(error) => {
                eprintln!("fidelity-eval: {}: {error}", memo.id);
                return ExitCode::FAILURE;
            }
        };
        let verdict = judge(&memo.memo, &completion.text, config);
        let outcome = Outcome::of(&verdict);
        tally.add(model, outcome);
        let detail = match &verdict {
            Verdict::Rejected { reason, .. } => reason.clone(),
            Verdict::Draft { report, .. } => report
                .findings
                .iter()
                .map(|f| format!("{}: {}", f.kind, f.text))
                .collect::<Vec<_>>()
                .join(" | "),
        };
        println!("{:<28} {:<18} {detail}", memo.id, outcome.name());
        // Labels start as a guess from the text alone (a fact counts as kept when its words
        // occur in the answer); a person reviews every one before the file is a fixture.
        let lowered = completion.text.to_lowercase();
        captured.push(LabelledAnswer {
            id: format!("{}-{}", memo.id, slug(model)),
            model: model.to_owned(),
            memo: memo.memo.clone(),
            answer: completion.text,
            facts: memo.facts.clone(),
            dropped: memo
                .facts
                .iter()
                .filter(|fact| !lowered.contains(&fact.to_lowercase()))
                .cloned()
                .collect(),
            echo: false,
            faithful: false,
        });
    }
    println!("\nper model (first answers, the worker's prompt):\n{tally}");
    if let Some(path) = capture {
        if let Err(error) = write_answers(path, captured) {
            eprintln!("fidelity-eval: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!(
            "captured to {} — review every label before use",
            path.display()
        );
    }
    ExitCode::SUCCESS
}

fn slug(model: &str) -> String {
    let name = model.rsplit('/').next().unwrap_or(model);
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Overlays `JARYO_FIDELITY_<FIELD>` variables on the default configuration. A value is read as
/// JSON when it parses (numbers, booleans, arrays), as a comma-separated list for list fields,
/// and as a string otherwise; serde then rejects what does not fit the field.
fn config_from_env(
    vars: impl Iterator<Item = (String, String)>,
) -> Result<FidelityConfig, serde_json::Error> {
    let Value::Object(mut fields) = serde_json::to_value(FidelityConfig::default())? else {
        return Ok(FidelityConfig::default());
    };
    for (name, raw) in vars {
        let Some(field) = name.strip_prefix("JARYO_FIDELITY_") else {
            continue;
        };
        let field = field.to_lowercase();
        let Some(current) = fields.get_mut(&field) else {
            continue;
        };
        *current = match (&*current, serde_json::from_str::<Value>(&raw)) {
            (Value::Array(_), Ok(parsed @ Value::Array(_))) => parsed,
            (Value::Array(_), _) => Value::Array(
                raw.split(',')
                    .map(|item| Value::String(item.trim().to_owned()))
                    .filter(|item| item.as_str() != Some(""))
                    .collect(),
            ),
            (_, Ok(parsed)) => parsed,
            (_, Err(_)) => Value::String(raw),
        };
    }
    serde_json::from_value(Value::Object(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn env_vars_override_fields() {
        let config = config_from_env(vars(&[
            ("JARYO_FIDELITY_MAX_LENGTH_RATIO", "4.5"),
            ("JARYO_FIDELITY_CHECK_TERMS", "false"),
            ("JARYO_FIDELITY_IGNORED_TERMS", "Summary, 개요"),
            ("JARYO_OTHER", "1"),
        ]))
        .unwrap();
        assert_eq!(config.max_length_ratio, 4.5);
        assert!(!config.check_terms);
        assert_eq!(config.ignored_terms, ["Summary", "개요"]);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error() {
        assert!(config_from_env(vars(&[("JARYO_FIDELITY_MAX_LENGTH_RATIO", "lots")])).is_err());
    }
}
