//! The HTTP side: routes, replies rendered as OpenAI JSON or SSE, and the accept loop.
//!
//! Each chat request is one *generation*, tracked by a [`Generation`] guard that lives as long as
//! the handler future or the streamed body. If hyper drops it before it finished (the client went
//! away), the guard records a disconnect, which is how tests see cancellation reach the server.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::reply::{Answer, ReplyKind};
use crate::{RecordedRequest, Reply, Shared};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/models", get(list_models))
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/embeddings", post(crate::embeddings::embeddings))
        .with_state(shared)
}

/// Accepts connections until `shutdown`, then drops the listener and every open connection, as a
/// crashed model server would.
pub(crate) async fn serve(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    continue;
                };
                let service = TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    // A client that goes away mid-request is expected here; nothing to report.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn list_models(State(shared): State<Arc<Shared>>) -> Response {
    let (failure, models) = shared.update(|state| {
        state.models_requests += 1;
        (state.models_failure, state.models.clone())
    });
    if let Some(status) = failure {
        return error_response(
            status,
            json!({"error": {"message": "the model server is not ready", "type": "server_error"}}),
        );
    }
    let data: Vec<Value> = models
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "jaryo-testllm"}))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(err) => return bad_request(&format!("request body is not JSON: {err}")),
    };
    let request = match shared.record(parsed, authorization) {
        Ok(request) => request,
        Err(message) => return bad_request(&message),
    };
    let mut generation = Generation::new(Arc::clone(&shared));
    let reply = match shared.gatekeep(&request) {
        Some(refusal) => refusal,
        None => shared.next_reply(&request),
    };
    let Reply { kind, timing } = reply;
    match kind {
        ReplyKind::Error {
            status,
            body,
            retry_after,
        } => {
            tokio::time::sleep(timing.first_token_delay).await;
            generation.finish();
            let mut response = error_response(status, body);
            if let Some(delay) = retry_after {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(delay.as_secs()),
                );
            }
            response
        }
        ReplyKind::Malformed { body } => {
            tokio::time::sleep(timing.first_token_delay).await;
            generation.finish();
            let content_type = if request.stream {
                "text/event-stream"
            } else {
                "application/json"
            };
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        ReplyKind::Hang => {
            let _capacity = generation.start(&shared).await;
            std::future::pending::<Response>().await
        }
        ReplyKind::Answer(answer) => {
            let capacity = generation.start(&shared).await;
            let events = answer.reasoning.is_some() as usize + answer.pieces().len();
            let delays = VecDeque::from(timing.delays(events));
            if request.stream && !answer.unstreamed {
                stream_answer(&request, answer, delays, generation, capacity)
            } else {
                let total: Duration = delays.iter().sum();
                tokio::time::sleep(total).await;
                json_answer(&request, answer, generation)
            }
        }
    }
}

pub(crate) fn bad_request(message: &str) -> Response {
    error_response(
        400,
        json!({"error": {"message": message, "type": "invalid_request_error"}}),
    )
}

pub(crate) fn error_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn usage(request: &RecordedRequest, answer: &Answer) -> Value {
    // A rough token count is enough for a test server: about four characters a token.
    let prompt: usize = request
        .messages
        .iter()
        .map(|m| m.content.chars().count())
        .sum();
    let completion = answer.content.chars().count();
    json!({
        "prompt_tokens": prompt / 4,
        "completion_tokens": completion / 4,
        "total_tokens": (prompt + completion) / 4,
    })
}

fn json_answer(request: &RecordedRequest, answer: Answer, mut generation: Generation) -> Response {
    let model = answer.reported_model.as_deref().unwrap_or(&request.model);
    let mut message = json!({"role": "assistant", "content": answer.content});
    if let Some((field, thinking)) = &answer.reasoning {
        message[field.name()] = json!(thinking);
    }
    let body = json!({
        "id": format!("chatcmpl-test-{}", request.seq),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
        "usage": usage(request, &answer),
    });
    if answer.cut_after.is_some() {
        // Half a body, then the connection drops.
        let text = body.to_string();
        let half = Bytes::from(text[..text.len() / 2].to_owned());
        generation.finish();
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::other("test server cut the connection")),
        ];
        return (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(futures::stream::iter(chunks)),
        )
            .into_response();
    }
    generation.finish();
    axum::Json(body).into_response()
}

/// One streamed event: wait `delay`, then send `bytes`, or with `None` cut the connection (the
/// body stream yields an error, which makes hyper abort the connection mid-body).
struct Event {
    delay: Duration,
    bytes: Option<Bytes>,
}

fn sse(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

fn stream_answer(
    request: &RecordedRequest,
    answer: Answer,
    mut delays: VecDeque<Duration>,
    generation: Generation,
    capacity: Option<OwnedSemaphorePermit>,
) -> Response {
    let model = answer
        .reported_model
        .clone()
        .unwrap_or_else(|| request.model.clone());
    let id = format!("chatcmpl-test-{}", request.seq);
    let created = unix_now();
    let chunk = |delta: Value, finish_reason: Value| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        })
    };
    let mut events = VecDeque::new();
    // Like vLLM, announce the role at once: a client must not take this for the first token.
    events.push_back(Event {
        delay: Duration::ZERO,
        bytes: Some(sse(&chunk(json!({"role": "assistant"}), Value::Null))),
    });
    if let Some((field, thinking)) = &answer.reasoning {
        events.push_back(Event {
            delay: delays.pop_front().unwrap_or_default(),
            bytes: Some(sse(&chunk(json!({ field.name(): thinking }), Value::Null))),
        });
    }
    for (index, piece) in answer.pieces().into_iter().enumerate() {
        if answer.cut_after == Some(index) {
            events.push_back(Event {
                delay: Duration::ZERO,
                bytes: None,
            });
            break;
        }
        events.push_back(Event {
            delay: delays.pop_front().unwrap_or_default(),
            bytes: Some(sse(&chunk(json!({ "content": piece }), Value::Null))),
        });
    }
    if answer
        .cut_after
        .is_none_or(|cut| cut >= answer.pieces().len())
    {
        let mut last = chunk(json!({}), json!(answer.finish_reason));
        last["usage"] = usage(request, &answer);
        events.push_back(Event {
            // An answer with nothing to stream still takes its first-token delay.
            delay: delays.pop_front().unwrap_or_default(),
            bytes: Some(sse(&last)),
        });
        events.push_back(Event {
            delay: Duration::ZERO,
            bytes: Some(Bytes::from_static(b"data: [DONE]\n\n")),
        });
    }
    let body = futures::stream::unfold(
        (events, generation, capacity),
        |(mut events, mut generation, capacity)| async move {
            let event = events.pop_front()?;
            if !event.delay.is_zero() {
                tokio::time::sleep(event.delay).await;
            }
            let item = match event.bytes {
                Some(bytes) => {
                    if events.is_empty() {
                        generation.finish();
                    }
                    Ok(bytes)
                }
                None => {
                    generation.finish();
                    events.clear();
                    Err(std::io::Error::other("test server cut the connection"))
                }
            };
            Some((item, (events, generation, capacity)))
        },
    );
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// Tracks one chat request from arrival to its last byte (see the module docs).
pub(crate) struct Generation {
    shared: Arc<Shared>,
    generating: bool,
    finished: bool,
}

impl Generation {
    fn new(shared: Arc<Shared>) -> Self {
        Generation {
            shared,
            generating: false,
            finished: false,
        }
    }

    /// Waits for a generation slot when capacity is limited, then counts as in flight.
    async fn start(&mut self, shared: &Arc<Shared>) -> Option<OwnedSemaphorePermit> {
        let permit = match &shared.capacity {
            Some(capacity) => {
                let queued = QueuedGuard::new(Arc::clone(shared));
                let permit = Arc::clone(capacity)
                    .acquire_owned()
                    .await
                    .unwrap_or_else(|_| unreachable!("the capacity semaphore is never closed"));
                drop(queued);
                Some(permit)
            }
            None => None,
        };
        self.generating = true;
        shared.update(|state| {
            state.in_flight += 1;
            state.max_in_flight = state.max_in_flight.max(state.in_flight);
        });
        permit
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.shared.update(|state| state.completed += 1);
        }
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        let (generating, finished) = (self.generating, self.finished);
        self.shared.update(|state| {
            if generating {
                state.in_flight -= 1;
            }
            if !finished {
                state.disconnects += 1;
            }
        });
    }
}

struct QueuedGuard(Arc<Shared>);

impl QueuedGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.update(|state| state.queued += 1);
        QueuedGuard(shared)
    }
}

impl Drop for QueuedGuard {
    fn drop(&mut self) {
        self.0.update(|state| state.queued -= 1);
    }
}
