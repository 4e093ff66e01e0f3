//! What can go wrong asking a model, whatever backend answers, and which failures are worth
//! retrying.
//!
//! Messages are meant to be shown to a person ("the model server is unreachable"), so they
//! carry the backend's own words (shortened) but never a credential.

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

/// A failed model call. Every backend reports its failures in these terms, so the worker,
/// Ask and the status page decide alike whatever answers them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("invalid model client configuration: {0}")]
    InvalidConfig(String),
    #[error("the model server at {endpoint} is unreachable: {message}")]
    Unreachable { endpoint: String, message: String },
    #[error("the model server did not {kind} within {}", seconds(*.after))]
    Timeout { kind: TimeoutKind, after: Duration },
    /// The backend answered the call with an error status of its own (for a server over HTTP,
    /// the HTTP status, whose meaning `is_retryable` follows).
    #[error("the model server answered HTTP {status}: {message}")]
    Refused {
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

impl ModelError {
    /// Whether trying the same call again later may succeed. Decided here, once, for every
    /// caller: a server that is down, slow, overloaded or cut off may recover; a missing model,
    /// a refused request, an answer we cannot parse or an empty answer will not change by
    /// itself.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Unreachable { .. }
            | ModelError::Timeout { .. }
            | ModelError::Interrupted { .. } => true,
            ModelError::Refused { status, .. } => {
                matches!(status, 408 | 425 | 429) || (*status >= 500 && *status != 501)
            }
            ModelError::InvalidConfig(_)
            | ModelError::ModelNotFound { .. }
            | ModelError::MalformedResponse { .. }
            | ModelError::EmptyAnswer { .. } => false,
        }
    }

    /// Whether the server could not be reached at all: better to pause and wait for it (see
    /// [`ChatModel::wait_until_healthy`](crate::ChatModel::wait_until_healthy)) than to spend
    /// attempts.
    pub fn is_server_down(&self) -> bool {
        matches!(
            self,
            ModelError::Unreachable { .. }
                | ModelError::Timeout {
                    kind: TimeoutKind::Connect,
                    ..
                }
        )
    }
}
