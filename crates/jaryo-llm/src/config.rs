//! Model client configuration. Flat fields: the binary maps `JARYO_LLM_<FIELD>` onto them.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

use jaryo_model::ModelError;

/// Where the model server is and how patient to be with it.
///
/// The timeouts fit slow local models: a generation that keeps producing tokens is never cut by
/// a blanket timeout; only a server that does not connect, does not start, stalls between
/// tokens, or exceeds the overall cap is given up on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LlmConfig {
    /// OpenAI-compatible base URL, ending before `/chat/completions` (Ollama: `…:11434/v1`).
    pub base_url: String,
    /// The model to ask.
    pub model: String,
    /// Bearer token, for servers that need one. Never logged, never in error messages.
    #[serde(serialize_with = "redacted")]
    pub api_key: Option<SecretString>,
    /// A model to ask when the primary is missing or its server unreachable.
    pub fallback_model: Option<String>,
    /// Where the fallback model lives, if not at `base_url`.
    pub fallback_base_url: Option<String>,
    /// Bearer token for `fallback_base_url` (default: `api_key`).
    #[serde(serialize_with = "redacted")]
    pub fallback_api_key: Option<SecretString>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Stream answers (SSE). Needed for the first-token and idle timeouts to apply.
    pub stream: bool,
    /// Giving up on opening a TCP connection.
    pub connect_timeout_secs: f64,
    /// Giving up when no token arrives after the request (a local model loading or queueing).
    pub first_token_timeout_secs: f64,
    /// Giving up when tokens stop arriving mid-answer.
    pub idle_timeout_secs: f64,
    /// Overall cap for one call, fallback included.
    pub total_timeout_secs: f64,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:11434/v1".to_owned(),
            model: "qwen3:8b".to_owned(),
            api_key: None,
            fallback_model: None,
            fallback_base_url: None,
            fallback_api_key: None,
            temperature: None,
            max_tokens: None,
            stream: true,
            connect_timeout_secs: 10.0,
            first_token_timeout_secs: 300.0,
            idle_timeout_secs: 120.0,
            total_timeout_secs: 1800.0,
        }
    }
}

fn redacted<S: Serializer>(key: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match key {
        Some(_) => serializer.serialize_str("[REDACTED]"),
        None => serializer.serialize_none(),
    }
}

/// The four timeouts, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub connect: Duration,
    pub first_token: Duration,
    pub idle: Duration,
    pub total: Duration,
}

impl LlmConfig {
    pub(crate) fn timeouts(&self) -> Result<Timeouts, ModelError> {
        let seconds = |name: &str, value: f64| {
            Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    ModelError::InvalidConfig(format!(
                        "{name} must be a positive number of seconds, not {value}"
                    ))
                })
        };
        Ok(Timeouts {
            connect: seconds("connect_timeout_secs", self.connect_timeout_secs)?,
            first_token: seconds("first_token_timeout_secs", self.first_token_timeout_secs)?,
            idle: seconds("idle_timeout_secs", self.idle_timeout_secs)?,
            total: seconds("total_timeout_secs", self.total_timeout_secs)?,
        })
    }
}
