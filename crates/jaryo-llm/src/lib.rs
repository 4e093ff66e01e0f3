//! The OpenAI-compatible model client: the only code that knows the wire format.
//!
//! jaryo talks to any server with `POST {base}/chat/completions` and `GET {base}/models`:
//! Ollama, llama.cpp server, vLLM, MLX-LM server, LM Studio, hosted APIs.
//!
//! - [`LlmClient::complete`] returns a whole answer ([`Completion`]), thinking removed;
//!   [`LlmClient::stream`] yields it in pieces ([`CompletionStream`]).
//! - Timeouts fit slow local models: connect, time to first token, idle between tokens, and an
//!   overall cap ([`TimeoutKind`]). A slow but progressing answer is never cut short by a
//!   blanket timeout.
//! - A fallback model is asked when the primary is missing ("model not found") or its server
//!   unreachable; [`Completion::model`] says which answered.
//! - Errors are typed ([`LlmError`]) and [`LlmError::is_retryable`] decides, once, which are
//!   worth another attempt.
//! - Dropping a call (or a stream) closes its connection, so the server stops generating.
//! - [`LlmClient::probe_health`], [`LlmClient::health`] and [`LlmClient::wait_until_healthy`]
//!   let the worker pause while the server is down and the UI say why.
//!
//! ```no_run
//! use jaryo_llm::{ChatRequest, LlmClient, LlmConfig};
//!
//! # async fn example() -> Result<(), jaryo_llm::LlmError> {
//! let client = LlmClient::new(LlmConfig::default())?;
//! let request = ChatRequest::new("Tidy this memo into Markdown.").user("회의 3시, 자료 준비");
//! let completion = client.complete(request).await?;
//! println!("{} answered: {}", completion.model, completion.text);
//! # Ok(())
//! # }
//! ```
//!
//! Architecture invariants:
//! - No other crate builds or parses OpenAI JSON; they use [`ChatRequest`] and [`Completion`].
//! - The API key is only ever in a [`secrecy::SecretString`] and a sensitive header: never in
//!   `Debug`, logs or error messages (server messages that echo it are scrubbed).
//! - Thinking never reaches a caller: `<think>` blocks in any shape ([`ThinkFilter`]) and the
//!   separate `reasoning_content` / `reasoning` fields.
//! - This crate knows nothing of the gate; callers wrap calls in it (see `jaryo-gate`).

mod client;
mod config;
mod error;
mod health;
mod request;
mod sse;
mod think;
mod wire;

pub use client::{Completion, CompletionStream, LlmClient, StreamDelta, Usage};
pub use config::LlmConfig;
pub use error::{LlmError, TimeoutKind};
pub use health::{Health, HealthSnapshot, HealthStatus, ProbeBackoff};
pub use request::{ChatMessage, ChatRequest, Role};
pub use think::{Filtered, ThinkFilter, strip_thinking};
