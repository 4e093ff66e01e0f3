//! What a model gives back: a whole answer, or one in pieces.

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};

use crate::ModelError;

/// A finished answer, thinking removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The answer, trimmed; never empty.
    pub text: String,
    /// The configured model that answered: the primary, or the fallback.
    pub model: String,
    pub fallback_used: bool,
    /// The model name the backend reported, if any (servers may add a tag or path).
    pub server_model: Option<String>,
    /// From the start of the call to the end of the answer, fallback included.
    pub elapsed: Duration,
    /// From sending the request to the first token (streaming only).
    pub time_to_first_token: Option<Duration>,
    /// `stop`, or `length` when the answer was cut by `max_tokens`.
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
}

impl Completion {
    /// Whether the model stopped because it ran out of tokens, not because it was done.
    pub fn truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

/// Token counts, as reported by the backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamDelta {
    /// More answer text.
    Text(String),
    /// Everything streamed so far was the model's thinking after all (its opening tag was
    /// missing): discard it. Rare: only with servers that put `<think>` into the prompt.
    Retract,
}

/// A streamed answer in progress, from any backend. Dropping it cancels the call (a server
/// backend closes its connection, so the server stops generating).
pub struct ChatStream {
    model: String,
    deltas: Pin<Box<dyn Stream<Item = Result<StreamDelta, ModelError>> + Send>>,
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    /// The answer of `model`, as `deltas` yields it; after an error the stream must end.
    pub fn new(
        model: impl Into<String>,
        deltas: impl Stream<Item = Result<StreamDelta, ModelError>> + Send + 'static,
    ) -> Self {
        ChatStream {
            model: model.into(),
            deltas: Box::pin(deltas),
        }
    }

    /// The configured model answering: the primary, or the fallback.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The next piece of the answer; `None` at the end.
    pub async fn next_delta(&mut self) -> Option<Result<StreamDelta, ModelError>> {
        self.deltas.next().await
    }
}

/// One text's embedding: a vector of the model's dimensions.
pub type Embedding = Vec<f32>;
