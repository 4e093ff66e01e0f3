//! The model seam: what jaryo asks of a language model, whatever answers it.
//!
//! Everything that uses a model — the draft worker, Ask, the status page, the app's wiring —
//! sees only these traits and their types, never a concrete client:
//!
//! - [`ChatModel`]: a whole answer ([`ChatModel::complete`]), an answer in pieces
//!   ([`ChatModel::stream`], a [`ChatStream`]), and health ([`ChatModel::health`],
//!   [`ChatModel::wait_until_healthy`]) so the worker can pause while the model is down.
//! - [`EmbeddingModel`]: vectors for a batch of texts ([`EmbeddingModel::embed`]), their
//!   [`dimensions`](EmbeddingModel::dimensions), and health.
//! - [`ModelError`]: every backend's failures in one vocabulary, with the one decision of what
//!   is worth retrying ([`ModelError::is_retryable`]) and what means "down, pause"
//!   ([`ModelError::is_server_down`]).
//!
//! `jaryo-llm` implements both traits for any OpenAI-compatible server; another backend (an
//! in-process model, another wire format) is another implementation, chosen in `jaryo`'s
//! `app.rs`.
//!
//! Architecture invariants:
//! - No I/O and no wire format here: requests and answers are plain values.
//! - Thinking never reaches a caller: an implementation removes it before text is returned or
//!   streamed.
//! - Dropping a call's future, or a [`ChatStream`], cancels the call.

mod answer;
mod error;
mod health;
mod request;

use async_trait::async_trait;
use std::fmt::Debug;

pub use answer::{ChatStream, Completion, Embedding, StreamDelta, Usage};
pub use error::{ModelError, TimeoutKind};
pub use health::{HealthSnapshot, HealthStatus, ProbeBackoff};
pub use request::{ChatMessage, ChatRequest, Role};

/// A model that answers a conversation.
#[async_trait]
pub trait ChatModel: Send + Sync + Debug + 'static {
    /// The configured model's name, for the status page and the draft's provenance.
    fn model(&self) -> &str;

    /// Where the model runs, without credentials (a server's base URL), for the status page.
    fn location(&self) -> &str;

    /// A whole answer, thinking removed; an empty answer is [`ModelError::EmptyAnswer`].
    async fn complete(&self, request: ChatRequest) -> Result<Completion, ModelError>;

    /// An answer in pieces. Errors before the answer starts come here, later ones from the
    /// stream.
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ModelError>;

    /// The last observed health, from a probe or a call; never waits.
    fn health(&self) -> HealthSnapshot;

    /// Probes until the model answers again, backing off between probes. Wrap it in a
    /// `select!` with shutdown to bound the wait.
    async fn wait_until_healthy(&self, backoff: ProbeBackoff);
}

/// A model that turns texts into vectors (search by meaning).
#[async_trait]
pub trait EmbeddingModel: Send + Sync + Debug + 'static {
    /// The configured model's name; vectors of different models do not compare.
    fn model(&self) -> &str;

    /// The length of every vector this model gives: configured, or learned from its first
    /// answer (`None` until then).
    fn dimensions(&self) -> Option<usize>;

    /// One vector per text, in the order given. An empty batch is answered without a call.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>, ModelError>;

    /// The last observed health, from a call; never waits.
    fn health(&self) -> HealthSnapshot;
}
