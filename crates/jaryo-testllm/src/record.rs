//! What the test server saw: every chat request, as the client sent it.

use std::time::Instant;

use serde_json::Value;

/// One chat completion request received by the test server.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// 0 for the first request this server received, then 1, 2, …
    pub seq: usize,
    pub model: String,
    pub messages: Vec<RecordedMessage>,
    pub stream: bool,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    /// The whole JSON body, for anything not lifted into a field above.
    pub body: Value,
    pub received_at: Instant,
}

/// One message of a recorded request. Content sent as an array of text parts is joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMessage {
    pub role: String,
    pub content: String,
}

impl RecordedRequest {
    pub(crate) fn from_body(
        seq: usize,
        body: Value,
        authorization: Option<String>,
    ) -> Result<Self, String> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .ok_or("`model` is required")?
            .to_owned();
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .ok_or("`messages` must be an array")?
            .iter()
            .map(|message| {
                let role = message
                    .get("role")
                    .and_then(Value::as_str)
                    .ok_or("every message needs a `role`")?;
                Ok(RecordedMessage {
                    role: role.to_owned(),
                    content: message_text(message.get("content")),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(RecordedRequest {
            seq,
            model,
            messages,
            stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
            temperature: body.get("temperature").and_then(Value::as_f64),
            max_tokens: body
                .get("max_tokens")
                .or_else(|| body.get("max_completion_tokens"))
                .and_then(Value::as_u64),
            authorization,
            body,
            received_at: Instant::now(),
        })
    }

    /// The system prompt, if the request had one.
    pub fn system(&self) -> Option<&str> {
        self.messages
            .iter()
            .find(|m| m.role == "system")
            .map(|m| m.content.as_str())
    }

    /// The text of the last user message: usually the prompt to answer.
    pub fn last_user_message(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map(|m| m.content.as_str())
    }

    /// The bearer token the client sent, if any.
    pub fn bearer_token(&self) -> Option<&str> {
        self.authorization.as_deref()?.strip_prefix("Bearer ")
    }
}

fn message_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}
