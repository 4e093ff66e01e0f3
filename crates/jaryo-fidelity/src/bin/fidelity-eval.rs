//! Prints the fidelity checker's precision and recall on the labelled evaluation set, the misses
//! and false alarms, and exits non-zero when a floor is not met.
//!
//! Usage: `cargo run --release -p jaryo-fidelity --bin fidelity-eval [EVAL_DIR]`
//!
//! The checker's configuration comes from `JARYO_FIDELITY_<FIELD>` environment variables over
//! the defaults (e.g. `JARYO_FIDELITY_MAX_LENGTH_RATIO=4`, `JARYO_FIDELITY_IGNORED_TERMS=a,b`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use jaryo_fidelity::FidelityConfig;
use jaryo_fidelity::evaluation::{evaluate, load_cases};
use serde_json::Value;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("eval"));
    let config = match config_from_env(std::env::vars()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("fidelity-eval: bad JARYO_FIDELITY_* setting: {error}");
            return ExitCode::from(2);
        }
    };
    let cases = match load_cases(&dir) {
        Ok(cases) => cases,
        Err(error) => {
            eprintln!("fidelity-eval: {error}");
            return ExitCode::from(2);
        }
    };
    let summary = evaluate(&cases, &config);
    // A closed pipe (`| head`) is not worth a panic.
    if write!(std::io::stdout().lock(), "{summary}").is_err() {
        return ExitCode::FAILURE;
    }
    if summary.failed_floors().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
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
