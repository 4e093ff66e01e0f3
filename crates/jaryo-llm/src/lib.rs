//! The OpenAI-compatible model backend: the only code that knows the wire format.
//!
//! jaryo talks to any server with `POST {base}/chat/completions`, `GET {base}/models` and (for
//! embeddings) `POST {base}/embeddings`: Ollama, llama.cpp server, vLLM, MLX-LM server, LM
//! Studio, hosted APIs. [`LlmClient`] implements `jaryo_model::ChatModel` and
//! [`OpenAiEmbeddings`] implements `jaryo_model::EmbeddingModel`; the rest of jaryo sees only
//! those traits.
//!
//! - [`LlmClient::complete`] returns a whole answer (`Completion`), thinking removed;
//!   [`LlmClient::stream`] yields it in pieces ([`CompletionStream`]).
//! - Timeouts fit slow local models: connect, time to first token, idle between tokens, and an
//!   overall cap (`TimeoutKind`). A slow but progressing answer is never cut short by a
//!   blanket timeout.
//! - A fallback model is asked when the primary is missing ("model not found") or its server
//!   unreachable; `Completion::model` says which answered.
//! - Errors are the seam's `ModelError`, whose `is_retryable` decides, once, which are worth
//!   another attempt.
//! - Dropping a call (or a stream) closes its connection, so the server stops generating.
//! - [`LlmClient::probe_health`], [`LlmClient::health`] and [`LlmClient::wait_until_healthy`]
//!   let the worker pause while the server is down and the UI say why.
//!
//! ```no_run
//! use jaryo_llm::{LlmClient, LlmConfig};
//! use jaryo_model::ChatRequest;
//!
//! # async fn example() -> Result<(), jaryo_model::ModelError> {
//! let client = LlmClient::new(LlmConfig::default())?;
//! let request = ChatRequest::new("Tidy this memo into Markdown.").user("회의 3시, 자료 준비");
//! let completion = client.complete(request).await?;
//! println!("{} answered: {}", completion.model, completion.text);
//! # Ok(())
//! # }
//! ```
//!
//! Architecture invariants:
//! - No other crate builds or parses OpenAI JSON; they use `jaryo_model`'s requests and answers.
//! - The API key is only ever in a [`secrecy::SecretString`] and a sensitive header: never in
//!   `Debug`, logs or error messages (server messages that echo it are scrubbed).
//! - Thinking never reaches a caller: `<think>` blocks in any shape ([`ThinkFilter`]) and the
//!   separate `reasoning_content` / `reasoning` fields.
//! - This crate knows nothing of the gate; callers wrap calls in it (see `jaryo-gate`).

mod client;
mod config;
mod embeddings;
mod health;
mod sse;
mod think;
mod wire;

pub use client::{CompletionStream, LlmClient};
pub use config::LlmConfig;
pub use embeddings::{EmbeddingConfig, OpenAiEmbeddings};
pub use health::Health;
pub use think::{Filtered, ThinkFilter, strip_thinking};
