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
use std::future::Future;
use std::pin::Pin;
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
    /// Not blank; at most 2000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = "^[\\s\\S]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][\\s\\S]*$"
    )]
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
    let answer = start(&state, input).await?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_stream {
        return Ok(event_stream(answer).into_response());
    }
    Ok(Json(collect(answer).await?).into_response())
}

/// Checks a question and finds its sources; the answer is made as its events are read
/// ([`Answer::next`], sources first). Dropping the [`Answer`] stops the model. Shared by the API, the
/// web UI's Ask page and the MCP `ask` tool, so all three refuse and answer alike.
pub async fn start(state: &AppState, input: AskInput) -> Result<Answer, ApiError> {
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
    // The answer is made by whoever reads its events (a response body, the collector below),
    // not by a task of its own: when the person goes away, the body is dropped and the model
    // request with it, and nothing outlives the request.
    let answering = async move {
        jaryo_ask::answer(llm.as_ref(), &gate, &question, sources, sender).await;
    };
    Ok(Answer {
        answering: Some(Box::pin(answering)),
        receiver,
    })
}

/// An answer being made: its events, read one by one, drive it.
pub struct Answer {
    /// The answer still being made, while it is.
    answering: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    receiver: mpsc::Receiver<AskEvent>,
}

impl Answer {
    /// The next event, driving the answer while it runs; `None` once it is over and every
    /// event it sent was read.
    pub async fn next(&mut self) -> Option<AskEvent> {
        loop {
            let Some(running) = self.answering.as_mut() else {
                return self.receiver.recv().await;
            };
            tokio::select! {
                // Events first, so the answer never waits on a full channel while we poll it.
                biased;
                // The sender lives in the running answer, so this is `Some` until it ends.
                event = self.receiver.recv() => return event,
                () = running => self.answering = None,
            }
        }
    }
}

/// The answer's events as server-sent events, each event's data its JSON.
pub fn event_stream(answer: Answer) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let events = futures::stream::unfold(answer, |mut answer| async move {
        let event = answer.next().await?;
        Some((Ok::<Event, Infallible>(sse_event(&event)), answer))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// Waits for the whole answer (without the thinking a reasoning model streamed first).
/// A failure ends the collecting, and dropping the answer then ends the model call.
pub async fn collect(mut answer: Answer) -> Result<AskAnswer, ApiError> {
    let mut whole = AskAnswer {
        answer: String::new(),
        model: None,
        cited: Vec::new(),
        sources: Vec::new(),
    };
    while let Some(event) = answer.next().await {
        match event {
            AskEvent::Sources { sources } => whole.sources = sources,
            AskEvent::Done {
                answer: text,
                model,
                cited,
            } => {
                whole.answer = text;
                whole.model = Some(model);
                whole.cited = cited;
            }
            AskEvent::Failed { message } => {
                return Err(ApiError::Upstream(message));
            }
            AskEvent::Delta { .. } | AskEvent::Retract | AskEvent::NothingFound => {}
        }
    }
    Ok(whole)
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
