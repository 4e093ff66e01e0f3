//! What can go wrong talking to a model server, and which failures are worth retrying.
//!
//! Messages are meant to be shown to a person ("the model server is unreachable"), so they
//! carry the server's own words (shortened) but never the API key.

use std::fmt;
use std::time::Duration;

/// Which patience ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// Opening the TCP connection.
    Connect,
    /// Waiting for the first token after sending the request.
    FirstToken,
    /// Waiting for the next token mid-answer.
    Idle,
    /// The overall cap for the call.
    Total,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "accept a connection",
            TimeoutKind::FirstToken => "start answering",
            TimeoutKind::Idle => "continue its answer",
            TimeoutKind::Total => "finish its answer",
        })
    }
}

/// A failed model call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("invalid model client configuration: {0}")]
    InvalidConfig(String),
    #[error("the model server at {endpoint} is unreachable: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("the model server did not {kind} within {}", seconds(*.after))]
    Timeout { kind: TimeoutKind, after: Duration },
    #[error("the model server answered HTTP {status}: {message}")]
    Http {
        status: u16,
        message: String,
        /// What the server asked for in `Retry-After`, if anything.
        retry_after: Option<Duration>,
    },
    #[error("the model server has no model {model:?}: {message}")]
    ModelNotFound { model: String, message: String },
    #[error("the model server's answer was not understood: {detail}")]
    MalformedResponse { detail: String },
    #[error("the model server stopped in the middle of the answer: {message}")]
    Interrupted { message: String },
    #[error("the model gave an empty answer")]
    EmptyAnswer { finish_reason: Option<String> },
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

impl LlmError {
    /// Whether trying the same call again later may succeed. Decided here, once, for every
    /// caller: a server that is down, slow, overloaded or cut off may recover; a missing model,
    /// a refused request, an answer we cannot parse or an empty answer will not change by
    /// itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Unreachable { .. }
            | LlmError::Timeout { .. }
            | LlmError::Interrupted { .. } => true,
            LlmError::Http { status, .. } => {
                matches!(status, 408 | 425 | 429) || (*status >= 500 && *status != 501)
            }
            LlmError::InvalidConfig(_)
            | LlmError::ModelNotFound { .. }
            | LlmError::MalformedResponse { .. }
            | LlmError::EmptyAnswer { .. } => false,
        }
    }

    /// Whether the server could not be reached at all: better to pause and wait for it (see
    /// [`LlmClient::wait_until_healthy`](crate::LlmClient::wait_until_healthy)) than to spend
    /// attempts.
    pub fn is_server_down(&self) -> bool {
        matches!(
            self,
            LlmError::Unreachable { .. }
                | LlmError::Timeout {
                    kind: TimeoutKind::Connect,
                    ..
                }
        )
    }

    /// Whether the fallback model should be tried instead.
    pub(crate) fn calls_for_fallback(&self) -> bool {
        matches!(self, LlmError::ModelNotFound { .. }) || self.is_server_down()
    }
}
