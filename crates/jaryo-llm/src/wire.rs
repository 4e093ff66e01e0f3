//! The OpenAI chat completion wire format, and how servers phrase their errors.
//!
//! Only the fields jaryo needs are read; unknown fields are ignored, so the same types serve
//! Ollama, llama.cpp, vLLM, MLX-LM, LM Studio and hosted APIs. Thinking sent in a separate field
//! (`reasoning_content`, `reasoning`) is read only to notice that the model is producing tokens;
//! it never reaches the answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Serialize)]
pub(crate) struct ChatCompletionRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<WireMessage<'a>>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    pub content: &'a str,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChatCompletion {
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<Choice>,
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    pub message: Option<ChoiceMessage>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChoiceMessage {
    pub content: Option<Content>,
}

/// Message content: a string, or (some servers) an array of typed parts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
pub(crate) struct ContentPart {
    pub text: Option<String>,
}

impl Content {
    pub fn into_text(self) -> String {
        match self {
            Content::Text(text) => text,
            Content::Parts(parts) => parts.into_iter().filter_map(|p| p.text).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChatChunk {
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    pub usage: Option<WireUsage>,
    /// Some servers report a failure mid-stream as a chunk with an `error` object.
    pub error: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChunkChoice {
    pub delta: Option<Delta>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    pub content: Option<String>,
    pub reasoning_content: Option<String>,
    pub reasoning: Option<String>,
}

impl Delta {
    /// Whether the model produced any token in this delta, answer or thinking.
    pub fn has_tokens(&self) -> bool {
        [&self.content, &self.reasoning_content, &self.reasoning]
            .iter()
            .any(|field| field.as_deref().is_some_and(|text| !text.is_empty()))
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct WireUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ModelList {
    #[serde(default)]
    pub data: Vec<ModelEntry>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ModelEntry {
    pub id: String,
}

/// The message and code a server put in an error body, in whichever shape it uses:
/// OpenAI/llama.cpp `{"error": {"message", "code"}}`, Ollama `{"error": "…"}`,
/// vLLM `{"message": "…"}`, FastAPI `{"detail": "…"}`; otherwise the text itself.
pub(crate) fn error_details(body: &str) -> (String, Option<String>) {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return (body.trim().to_owned(), None);
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let code = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(error) = value.get("error") {
        if let Some(message) = text(error) {
            return (message, None);
        }
        if let Some(message) = error.get("message").and_then(text) {
            return (message, error.get("code").and_then(code));
        }
    }
    for field in ["message", "detail"] {
        if let Some(message) = value.get(field).and_then(text) {
            return (message, value.get("code").and_then(code));
        }
    }
    (body.trim().to_owned(), None)
}

/// Whether an error says the requested model does not exist, as Ollama, vLLM, llama.cpp's
/// router, LM Studio and OpenAI phrase it.
pub(crate) fn says_model_missing(status: u16, message: &str, code: Option<&str>) -> bool {
    if code == Some("model_not_found") {
        return true;
    }
    let message = message.to_lowercase();
    let about_a_model = message.contains("model");
    let missing = [
        "not found",
        "does not exist",
        "no such model",
        "unknown model",
    ]
    .iter()
    .any(|phrase| message.contains(phrase));
    matches!(status, 400 | 404 | 422) && about_a_model && missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_common_error_shape() {
        let openai = r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#;
        assert_eq!(
            error_details(openai),
            (
                "The model `x` does not exist".to_owned(),
                Some("model_not_found".to_owned())
            )
        );
        let ollama = r#"{"error":"model \"x\" not found, try pulling it first"}"#;
        assert_eq!(
            error_details(ollama).0,
            "model \"x\" not found, try pulling it first"
        );
        let vllm = r#"{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","code":404}"#;
        assert_eq!(
            error_details(vllm),
            (
                "The model `x` does not exist.".to_owned(),
                Some("404".to_owned())
            )
        );
        assert_eq!(
            error_details("404 page not found\n").0,
            "404 page not found"
        );
    }

    #[test]
    fn recognises_a_missing_model_but_not_a_missing_route() {
        assert!(says_model_missing(
            404,
            "model \"x\" not found, try pulling it first",
            None
        ));
        assert!(says_model_missing(
            404,
            "The model `x` does not exist.",
            None
        ));
        assert!(says_model_missing(400, "model 'x' not found", None));
        assert!(says_model_missing(400, "whatever", Some("model_not_found")));
        assert!(!says_model_missing(404, "404 page not found", None));
        assert!(!says_model_missing(500, "model not found", None));
        assert!(!says_model_missing(
            400,
            "context length exceeded for this model",
            None
        ));
    }
}

/// `POST {base}/embeddings`: a batch of texts.
#[derive(Debug, Serialize)]
pub(crate) struct EmbeddingsRequest<'a> {
    pub model: &'a str,
    pub input: &'a [String],
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingsAnswer {
    #[serde(default)]
    pub data: Vec<EmbeddingItem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingItem {
    pub embedding: Vec<f32>,
    /// Which input this vector belongs to; servers may answer out of order.
    pub index: Option<usize>,
}
