//! `POST /ask`: a question answered from the person's own notes, streamed as server-sent
//! events (or as one JSON answer), at interactive priority.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::wire::ErrorJson;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jaryo_ask::{AskEvent, DEFAULT_SOURCES, Source};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use tokio::sync::mpsc;
use utoipa::ToSchema;

/// The longest question accepted, in characters.
const QUESTION_MAX_CHARS: usize = 2000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/ask", post(ask))
}

/// The body of `POST /ask`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskInput {
    /// Not empty; at most 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub question: String,
    /// How many passages to answer from (1-8, default 4).
    #[schema(minimum = 1, maximum = 8)]
    pub sources: Option<usize>,
}

/// The whole answer, for clients that do not read a stream.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AskAnswer {
    /// Empty when nothing in the notes matched.
    pub answer: String,
    pub model: Option<String>,
    /// The source numbers the answer cites.
    pub cited: Vec<usize>,
    #[schema(value_type = Vec<Object>)]
    pub sources: Vec<Source>,
}

/// Ask a question of your notes. With `Accept: text/event-stream` the answer streams as
/// events `sources`, `delta` (repeated), then `done` (or `nothing_found`, or `failed`); each
/// event's data is JSON. Otherwise the whole answer comes back as JSON. A person's question
/// goes before drafts at the model, and may pre-empt one.
#[utoipa::path(post, path = "/api/v1/ask", tag = "ask",
    request_body = AskInput,
    responses(
        (status = 200, description = "The answer (JSON), or an event stream", body = AskAnswer),
        (status = 422, description = "Empty or oversized question", body = ErrorJson),
        (status = 502, description = "The model server failed", body = ErrorJson),
    ))]
pub async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<AskInput>,
) -> Result<Response, ApiError> {
    let receiver = start(&state, input).await?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_stream {
        return Ok(event_stream(receiver).into_response());
    }
    Ok(Json(collect(receiver).await?).into_response())
}

/// Checks a question, finds its sources and starts answering it; the answer arrives on the
/// receiver (sources first). Dropping the receiver stops the model. Shared by the API, the
/// web UI's Ask page and the MCP `ask` tool, so all three refuse and answer alike.
pub async fn start(
    state: &AppState,
    input: AskInput,
) -> Result<mpsc::Receiver<AskEvent>, ApiError> {
    let question = input.question.trim().to_owned();
    if question.is_empty() {
        return Err(ApiError::Invalid {
            field: Some("question".into()),
            message: "question must not be empty".into(),
        });
    }
    if question.chars().count() > QUESTION_MAX_CHARS {
        return Err(ApiError::Invalid {
            field: Some("question".into()),
            message: format!("question must be at most {QUESTION_MAX_CHARS} characters"),
        });
    }
    let count = input.sources.unwrap_or(DEFAULT_SOURCES);
    if !(1..=8).contains(&count) {
        return Err(ApiError::Invalid {
            field: Some("sources".into()),
            message: "sources must be between 1 and 8".into(),
        });
    }
    let sources = jaryo_ask::retrieve(state.store.as_ref(), &question, count).await?;
    let (sender, receiver) = mpsc::channel::<AskEvent>(64);
    let (llm, gate) = (state.llm.clone(), state.gate.clone());
    tokio::spawn(async move {
        jaryo_ask::answer(&llm, &gate, &question, sources, sender).await;
    });
    Ok(receiver)
}

/// The answer's events as server-sent events, each event's data its JSON.
pub fn event_stream(
    receiver: mpsc::Receiver<AskEvent>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        let event = receiver.recv().await?;
        Some((Ok::<Event, Infallible>(sse_event(&event)), receiver))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// Waits for the whole answer (without the thinking a reasoning model streamed first).
pub async fn collect(mut receiver: mpsc::Receiver<AskEvent>) -> Result<AskAnswer, ApiError> {
    let mut answer = AskAnswer {
        answer: String::new(),
        model: None,
        cited: Vec::new(),
        sources: Vec::new(),
    };
    while let Some(event) = receiver.recv().await {
        match event {
            AskEvent::Sources { sources } => answer.sources = sources,
            AskEvent::Done {
                answer: text,
                model,
                cited,
            } => {
                answer.answer = text;
                answer.model = Some(model);
                answer.cited = cited;
            }
            AskEvent::Failed { message } => {
                return Err(ApiError::Upstream(message));
            }
            AskEvent::Delta { .. } | AskEvent::Retract | AskEvent::NothingFound => {}
        }
    }
    Ok(answer)
}

fn sse_event(event: &AskEvent) -> Event {
    let name = match event {
        AskEvent::Sources { .. } => "sources",
        AskEvent::Delta { .. } => "delta",
        AskEvent::Retract => "retract",
        AskEvent::Done { .. } => "done",
        AskEvent::NothingFound => "nothing_found",
        AskEvent::Failed { .. } => "failed",
    };
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Event::default().event(name).data(data)
}
