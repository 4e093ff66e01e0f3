//! Ask: a question answered from the person's own memos and documents, with citations,
//! streamed, as a call a person waits for (interactive priority at the LLM gate, so it goes
//! before drafts and may pre-empt one).
//!
//! Three steps, each usable alone:
//! - [`retrieve`] finds the passages to answer from: the question's content words are searched
//!   one by one (the search itself requires every word, which a question in natural language
//!   would rarely satisfy) and the hits are fused by rank; each source is a document's best
//!   chunk of its original text, or a memo.
//! - [`AskPrompt`] puts them into a prompt, numbered, fenced as data (a note cannot pose as
//!   instructions), in the question's language.
//! - [`answer`] asks the model through the gate and streams the answer as [`AskEvent`]s; when
//!   the receiver goes away the request is dropped, so the model server stops generating.
//!
//! Architecture invariant: no HTTP and no SQL here; the store trait, the `ChatModel` trait and
//! one `Gate::call` only.

mod prompt;
mod retrieve;

pub use prompt::{AskPrompt, cited_numbers};
pub use retrieve::{Source, retrieve, search_terms};

use jaryo_gate::{CallCost, Gate, Priority};
use jaryo_model::{ChatModel, ModelError, StreamDelta};
use serde::Serialize;
use tokio::sync::mpsc;

/// How many sources an answer draws on by default.
pub const DEFAULT_SOURCES: usize = 4;

/// What an answer streams.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AskEvent {
    /// The passages the answer may cite, numbered from 1.
    Sources { sources: Vec<Source> },
    /// More of the answer.
    Delta { text: String },
    /// Discard what was streamed so far (it was the model's thinking after all).
    Retract,
    /// The whole answer, the model that gave it, and the sources it cites.
    Done {
        answer: String,
        model: String,
        cited: Vec<usize>,
    },
    /// Nothing in the notes matches the question; the model was not asked.
    NothingFound,
    /// The model could not answer; `message` is safe to show.
    Failed { message: String },
}

/// Why an answer could not be given.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Gate(#[from] jaryo_gate::SharedSlotError),
}

/// Answers `question` from `sources`, streaming [`AskEvent`]s into `events` (the sources
/// first). Returns when the answer is complete, failed, or nobody listens any more.
pub async fn answer(
    llm: &dyn ChatModel,
    gate: &Gate,
    question: &str,
    sources: Vec<Source>,
    events: mpsc::Sender<AskEvent>,
) {
    if events
        .send(AskEvent::Sources {
            sources: sources.clone(),
        })
        .await
        .is_err()
    {
        return;
    }
    if sources.is_empty() {
        let _ = events.send(AskEvent::NothingFound).await;
        return;
    }
    let prompt = AskPrompt::new(question, &sources, rand::random());
    let outcome = tokio::select! {
        outcome = stream_answer(llm, gate, &prompt, &events) => outcome,
        // The person went away: dropping the call above drops the model request.
        () = events.closed() => return,
    };
    let event = match outcome {
        Ok((answer, model)) => AskEvent::Done {
            cited: cited_numbers(&answer, sources.len()),
            answer,
            model,
        },
        Err(error) => {
            tracing::warn!(%error, "ask failed");
            AskEvent::Failed {
                message: error.to_string(),
            }
        }
    };
    let _ = events.send(event).await;
}

/// The answer through the gate at interactive priority: a person waits for it, so it goes
/// before drafts and may pre-empt one; an interactive call is never pre-empted itself.
async fn stream_answer(
    llm: &dyn ChatModel,
    gate: &Gate,
    prompt: &AskPrompt,
    events: &mpsc::Sender<AskEvent>,
) -> Result<(String, String), AskError> {
    let mut cost = CallCost::default();
    gate.call(Priority::Interactive, &mut cost, move || {
        forward_answer(llm, prompt, events)
    })
    .await?
}

/// Streams the model's answer into `events`; returns it whole with the model that gave it.
async fn forward_answer(
    llm: &dyn ChatModel,
    prompt: &AskPrompt,
    events: &mpsc::Sender<AskEvent>,
) -> Result<(String, String), AskError> {
    let mut stream = llm.stream(prompt.request.clone()).await?;
    let model = stream.model().to_owned();
    let mut answer = String::new();
    while let Some(delta) = stream.next_delta().await {
        let event = match delta? {
            StreamDelta::Text(text) => {
                answer.push_str(&text);
                AskEvent::Delta { text }
            }
            StreamDelta::Retract => {
                answer.clear();
                AskEvent::Retract
            }
        };
        if events.send(event).await.is_err() {
            break;
        }
    }
    Ok((answer.trim().to_owned(), model))
}
