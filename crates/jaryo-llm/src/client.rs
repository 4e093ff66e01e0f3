//! The client: one chat completion call, streamed or not, with timeouts, fallback and health.
//!
//! Every call is an owned future over one HTTP request. Dropping it (or the
//! [`CompletionStream`]) drops the connection, so servers that stop generating when the client
//! leaves (Ollama, vLLM, recent llama.cpp) stop. Nothing is spawned.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};

use crate::LlmConfig;
use crate::config::Timeouts;
use crate::health::Health;
use crate::sse::SseDecoder;
use crate::think::{Filtered, ThinkFilter, strip_thinking};
use crate::wire::{
    ChatChunk, ChatCompletion, ChatCompletionRequest, ModelList, WireMessage, error_details,
    says_model_missing,
};
use jaryo_model::{
    ChatModel, ChatRequest, ChatStream, Completion, HealthSnapshot, HealthStatus, ModelError,
    ProbeBackoff, StreamDelta, TimeoutKind, Usage,
};

/// Longest server message kept in an error: enough to explain, short enough for a status page.
const MAX_MESSAGE_CHARS: usize = 300;
/// Largest error body read from a failing server.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Largest non-streamed answer accepted (far above any `max_tokens` a local model allows).
const MAX_ANSWER_BODY: usize = 16 * 1024 * 1024;
/// Extra time a health probe may take beyond connecting.
const PROBE_ANSWER_TIME: Duration = Duration::from_secs(10);

/// An OpenAI-compatible chat completion client. Cheap to clone; clones share connections and
/// the health view.
#[derive(Clone)]
pub struct LlmClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("base_url", &self.inner.primary.display)
            .field("model", &self.inner.primary.model)
            .field(
                "fallback_model",
                &self.inner.fallback.as_ref().map(|f| &f.model),
            )
            .finish_non_exhaustive()
    }
}

struct Inner {
    http: reqwest::Client,
    primary: Endpoint,
    fallback: Option<Endpoint>,
    stream: bool,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    timeouts: Timeouts,
    health: watch::Sender<HealthSnapshot>,
}

/// A model at a server.
pub(crate) struct Endpoint {
    /// The base URL without credentials, for messages.
    pub(crate) display: String,
    chat_url: reqwest::Url,
    models_url: reqwest::Url,
    pub(crate) embeddings_url: reqwest::Url,
    pub(crate) model: String,
    authorization: Option<HeaderValue>,
    /// Kept only to scrub it from anything a server echoes back.
    api_key: Option<SecretString>,
}

impl Endpoint {
    pub(crate) fn new(
        base_url: &str,
        model: &str,
        api_key: Option<&SecretString>,
    ) -> Result<Endpoint, ModelError> {
        let base = base_url.trim_end_matches('/');
        let invalid = |why: &str| ModelError::InvalidConfig(format!("base URL {base:?} {why}"));
        let chat_url = reqwest::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|_| invalid("is not a URL"))?;
        if !matches!(chat_url.scheme(), "http" | "https") {
            return Err(invalid("must start with http:// or https://"));
        }
        let models_url =
            reqwest::Url::parse(&format!("{base}/models")).map_err(|_| invalid("is not a URL"))?;
        let embeddings_url = reqwest::Url::parse(&format!("{base}/embeddings"))
            .map_err(|_| invalid("is not a URL"))?;
        let mut display = reqwest::Url::parse(base).map_err(|_| invalid("is not a URL"))?;
        // Credentials in the URL must not reach messages or logs.
        let _ = display.set_username("");
        let _ = display.set_password(None);
        if model.trim().is_empty() {
            return Err(ModelError::InvalidConfig(
                "the model name is empty".to_owned(),
            ));
        }
        let authorization = api_key
            .map(|key| {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
                    .map_err(|_| {
                    ModelError::InvalidConfig(
                        "the API key contains characters not allowed in a header".to_owned(),
                    )
                })?;
                value.set_sensitive(true);
                Ok(value)
            })
            .transpose()?;
        Ok(Endpoint {
            display: display.as_str().trim_end_matches('/').to_owned(),
            chat_url,
            models_url,
            embeddings_url,
            model: model.to_owned(),
            authorization,
            api_key: api_key.cloned(),
        })
    }

    pub(crate) fn clean(&self, message: &str) -> String {
        scrub(message, self.api_key.as_ref())
    }

    pub(crate) fn request(
        &self,
        http: &reqwest::Client,
        url: &reqwest::Url,
    ) -> reqwest::RequestBuilder {
        let builder = http.request(
            if url == &self.models_url {
                reqwest::Method::GET
            } else {
                reqwest::Method::POST
            },
            url.clone(),
        );
        match &self.authorization {
            Some(value) => builder.header(AUTHORIZATION, value.clone()),
            None => builder,
        }
    }
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<LlmClient, ModelError> {
        let timeouts = config.timeouts()?;
        let primary = Endpoint::new(&config.base_url, &config.model, config.api_key.as_ref())?;
        let fallback = config
            .fallback_model
            .as_deref()
            .map(|model| match &config.fallback_base_url {
                Some(base) => Endpoint::new(
                    base,
                    model,
                    config.fallback_api_key.as_ref().or(config.api_key.as_ref()),
                ),
                None => Endpoint::new(&config.base_url, model, config.api_key.as_ref()),
            })
            .transpose()?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .tcp_nodelay(true)
            .user_agent(concat!("jaryo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ModelError::InvalidConfig(format!("HTTP client: {err}")))?;
        Ok(LlmClient {
            inner: Arc::new(Inner {
                http,
                primary,
                fallback,
                stream: config.stream,
                temperature: config.temperature,
                max_tokens: config.max_tokens,
                timeouts,
                health: watch::Sender::new(HealthSnapshot::unknown()),
            }),
        })
    }

    /// The primary model's name.
    pub fn model(&self) -> &str {
        &self.inner.primary.model
    }

    /// The primary base URL, without credentials.
    pub fn base_url(&self) -> &str {
        &self.inner.primary.display
    }

    /// Asks for a whole answer. Streams under the hood when `stream` is configured, so the
    /// first-token and idle timeouts apply. Drop the future to cancel: the connection closes.
    pub async fn complete(&self, request: ChatRequest) -> Result<Completion, ModelError> {
        let started = Instant::now();
        let deadline = started + self.inner.timeouts.total;
        let outcome =
            match timeout_at(deadline, self.complete_with_fallback(&request, deadline)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(self.total_timeout()),
            };
        let outcome = outcome.and_then(|mut completion| {
            completion.elapsed = started.elapsed();
            if completion.text.is_empty() {
                Err(ModelError::EmptyAnswer {
                    finish_reason: completion.finish_reason,
                })
            } else {
                Ok(completion)
            }
        });
        self.observe(outcome.as_ref().map(|_| ()));
        match &outcome {
            Ok(done) => tracing::debug!(
                model = %done.model,
                elapsed_ms = done.elapsed.as_millis() as u64,
                "model answered"
            ),
            Err(err) => tracing::debug!(error = %err, "model call failed"),
        }
        outcome
    }

    /// Opens a streamed answer: text deltas with thinking removed. Errors before the first byte
    /// of the answer (including "model not found", which switches to the fallback) come here;
    /// later ones come from the stream. Drop the stream to cancel.
    pub async fn stream(&self, request: ChatRequest) -> Result<CompletionStream, ModelError> {
        let deadline = Instant::now() + self.inner.timeouts.total;
        let opened = match timeout_at(deadline, self.open_with_fallback(&request, deadline)).await {
            Ok(opened) => opened,
            Err(_) => Err(self.total_timeout()),
        };
        self.observe(opened.as_ref().map(|_| ()));
        opened
    }

    fn total_timeout(&self) -> ModelError {
        ModelError::Timeout {
            kind: TimeoutKind::Total,
            after: self.inner.timeouts.total,
        }
    }

    async fn complete_with_fallback(
        &self,
        request: &ChatRequest,
        deadline: Instant,
    ) -> Result<Completion, ModelError> {
        let primary = self
            .complete_at(&self.inner.primary, request, deadline)
            .await;
        match (primary, &self.inner.fallback) {
            (Err(err), Some(fallback)) if calls_for_fallback(&err) => {
                tracing::warn!(
                    error = %err,
                    fallback = %fallback.model,
                    "primary model unavailable; asking the fallback model"
                );
                let mut completion = self.complete_at(fallback, request, deadline).await?;
                completion.fallback_used = true;
                Ok(completion)
            }
            (outcome, _) => outcome,
        }
    }

    async fn complete_at(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        deadline: Instant,
    ) -> Result<Completion, ModelError> {
        if self.inner.stream {
            let stream = self.open(endpoint, request, deadline).await?;
            return stream.collect().await;
        }
        let attempt_started = Instant::now();
        let response = self.send(endpoint, request, false).await?;
        let body = read_limited(response, MAX_ANSWER_BODY)
            .await
            .map_err(|message| ModelError::Interrupted { message })?;
        let mut completion = parse_whole_answer(endpoint, &body)?;
        completion.elapsed = attempt_started.elapsed();
        Ok(completion)
    }

    async fn open_with_fallback(
        &self,
        request: &ChatRequest,
        deadline: Instant,
    ) -> Result<CompletionStream, ModelError> {
        match (
            self.open(&self.inner.primary, request, deadline).await,
            &self.inner.fallback,
        ) {
            (Err(err), Some(fallback)) if calls_for_fallback(&err) => {
                tracing::warn!(
                    error = %err,
                    fallback = %fallback.model,
                    "primary model unavailable; asking the fallback model"
                );
                let mut stream = self.open(fallback, request, deadline).await?;
                stream.fallback_used = true;
                Ok(stream)
            }
            (outcome, _) => outcome,
        }
    }

    /// Sends a streaming request and waits for the response head, within the first-token
    /// deadline (some servers send nothing until the first token).
    async fn open(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        deadline: Instant,
    ) -> Result<CompletionStream, ModelError> {
        let timeouts = self.inner.timeouts;
        let started = Instant::now();
        let first_token_deadline = started + timeouts.first_token;
        let response =
            match timeout_at(first_token_deadline, self.send(endpoint, request, true)).await {
                Ok(response) => response?,
                Err(_) => {
                    return Err(ModelError::Timeout {
                        kind: TimeoutKind::FirstToken,
                        after: timeouts.first_token,
                    });
                }
            };
        let mut stream = CompletionStream {
            response: Some(response),
            decoder: SseDecoder::default(),
            payloads: VecDeque::new(),
            body_ended: false,
            filter: ThinkFilter::new(),
            deltas: VecDeque::new(),
            text_handed_out: false,
            done: false,
            timeouts,
            started,
            deadline,
            first_token_at: None,
            last_activity: started,
            model: endpoint.model.clone(),
            fallback_used: false,
            server_model: None,
            finish_reason: None,
            usage: None,
            saw_event: false,
            saw_done: false,
            redact: endpoint.api_key.clone(),
        };
        let is_json = stream
            .response
            .as_ref()
            .and_then(|r| r.headers().get(CONTENT_TYPE))
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            // The server ignored `stream: true` and answered in one piece.
            stream.read_whole_answer(endpoint).await?;
        }
        Ok(stream)
    }

    async fn send(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        stream: bool,
    ) -> Result<reqwest::Response, ModelError> {
        let mut messages = Vec::with_capacity(request.messages.len() + 1);
        if let Some(system) = &request.system {
            messages.push(WireMessage {
                role: "system",
                content: system,
            });
        }
        messages.extend(request.messages.iter().map(|m| WireMessage {
            role: m.role.as_str(),
            content: &m.content,
        }));
        let body = ChatCompletionRequest {
            model: &endpoint.model,
            messages,
            stream,
            temperature: request.temperature.or(self.inner.temperature),
            max_tokens: request.max_tokens.or(self.inner.max_tokens),
        };
        let mut builder = endpoint
            .request(&self.inner.http, &endpoint.chat_url)
            .json(&body);
        if stream {
            builder = builder.header(ACCEPT, "text/event-stream");
        }
        let response = builder
            .send()
            .await
            .map_err(|err| self.send_error(endpoint, err))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(status_error(endpoint, response).await)
    }

    fn send_error(&self, endpoint: &Endpoint, err: reqwest::Error) -> ModelError {
        if err.is_connect() && err.is_timeout() {
            return ModelError::Timeout {
                kind: TimeoutKind::Connect,
                after: self.inner.timeouts.connect,
            };
        }
        ModelError::Unreachable {
            endpoint: endpoint.display.clone(),
            message: endpoint.clean(&describe(&err)),
        }
    }

    // ----- health -----

    /// Probes `GET {base}/models` (and the fallback's server, if it is elsewhere and the primary
    /// is down), updates the health view and returns what was seen.
    pub async fn probe_health(&self) -> Health {
        let mut health = self.probe(&self.inner.primary).await;
        if !health.up
            && let Some(fallback) = &self.inner.fallback
            && fallback.models_url != self.inner.primary.models_url
        {
            let fallback_health = self.probe(fallback).await;
            if fallback_health.up {
                health = fallback_health;
            }
        }
        self.observe(match &health.error {
            None => Ok(()),
            Some(err) => Err(err),
        });
        health
    }

    async fn probe(&self, endpoint: &Endpoint) -> Health {
        let started = Instant::now();
        let budget = self.inner.timeouts.connect + PROBE_ANSWER_TIME;
        let request = endpoint.request(&self.inner.http, &endpoint.models_url);
        let outcome = match tokio::time::timeout(budget, async {
            let response = request
                .send()
                .await
                .map_err(|err| self.send_error(endpoint, err))?;
            if !response.status().is_success() {
                return Err(status_error(endpoint, response).await);
            }
            let body = read_limited(response, MAX_ERROR_BODY)
                .await
                .map_err(|message| ModelError::Interrupted { message })?;
            // A server that answers 200 is up even if its list is not in the usual shape.
            Ok(serde_json::from_slice::<ModelList>(&body)
                .map(|list| list.data.into_iter().map(|m| m.id).collect::<Vec<_>>())
                .unwrap_or_default())
        })
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(ModelError::Timeout {
                kind: TimeoutKind::FirstToken,
                after: budget,
            }),
        };
        let latency = started.elapsed();
        match outcome {
            Ok(models) => Health {
                up: true,
                endpoint: endpoint.display.clone(),
                latency,
                model_listed: (!models.is_empty()).then(|| models.contains(&endpoint.model)),
                models,
                error: None,
            },
            Err(err) => Health {
                up: false,
                endpoint: endpoint.display.clone(),
                latency,
                models: Vec::new(),
                model_listed: None,
                error: Some(err),
            },
        }
    }

    /// The last observed health, from a probe or a call; never waits.
    pub fn health(&self) -> HealthSnapshot {
        self.inner.health.borrow().clone()
    }

    /// Follows health changes (e.g. to wake a paused worker the moment a call succeeds).
    pub fn subscribe_health(&self) -> watch::Receiver<HealthSnapshot> {
        self.inner.health.subscribe()
    }

    /// Probes until the server is up, backing off between probes, and returns the good probe.
    /// Wakes early when any other call or probe sees the server up. Wrap it in a timeout or a
    /// `select!` with shutdown to bound the wait.
    pub async fn wait_until_healthy(&self, backoff: ProbeBackoff) -> Health {
        let mut changes = self.subscribe_health();
        let mut delay = backoff.initial;
        loop {
            let health = self.probe_health().await;
            if health.up {
                return health;
            }
            changes.borrow_and_update();
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = changes.wait_for(|h| h.status == HealthStatus::Up) => {}
            }
            delay = (delay * 2).min(backoff.max.max(backoff.initial));
        }
    }

    /// Records what a call or probe says about the server. A timeout other than connecting says
    /// nothing definite (the server may just be slow), so it leaves the view as it was.
    fn observe(&self, outcome: Result<(), &ModelError>) {
        let outcome = match outcome {
            Err(err) if err.is_server_down() => Err(err),
            Err(ModelError::Timeout { .. } | ModelError::InvalidConfig(_)) => return,
            // Anything else means the server answered.
            _ => Ok(()),
        };
        self.inner
            .health
            .send_modify(|health| health.observe(outcome));
    }
}

/// Whether the fallback model should be tried instead: the primary is missing or its server
/// unreachable.
fn calls_for_fallback(error: &ModelError) -> bool {
    matches!(error, ModelError::ModelNotFound { .. }) || error.is_server_down()
}

/// Turns a non-2xx response into an error, reading (a bounded part of) the server's message.
pub(crate) async fn status_error(endpoint: &Endpoint, response: reqwest::Response) -> ModelError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_limited(response, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let (message, code) = error_details(&String::from_utf8_lossy(&body));
    let message = endpoint.clean(&message);
    if says_model_missing(status, &message, code.as_deref()) {
        return ModelError::ModelNotFound {
            model: endpoint.model.clone(),
            message,
        };
    }
    let message = if message.is_empty() {
        "(no message)".to_owned()
    } else {
        message
    };
    let message = if status == 404 {
        format!("{message} (is the base URL right? it usually ends in /v1)")
    } else {
        message
    };
    ModelError::Refused {
        status,
        message,
        retry_after,
    }
}

/// Reads a body up to `limit` bytes; beyond that the rest is not read.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| describe(&err))? {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}

/// An error and its causes, without the request URL (which may carry credentials).
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(if err.is_body() || err.is_decode() {
            "the connection failed while reading the answer".to_owned()
        } else {
            "the request failed".to_owned()
        });
    }
    parts.dedup();
    parts.join(": ")
}

fn parse_whole_answer(endpoint: &Endpoint, body: &[u8]) -> Result<Completion, ModelError> {
    let malformed = |detail: String| ModelError::MalformedResponse {
        detail: endpoint.clean(&detail),
    };
    let answer: ChatCompletion = serde_json::from_slice(body).map_err(|err| {
        malformed(format!(
            "expected a chat completion (JSON): {err}; the answer began {:?}",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        ))
    })?;
    let choice = answer
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| malformed("the answer has no choices".to_owned()))?;
    let content = choice
        .message
        .and_then(|m| m.content)
        .map(|c| c.into_text())
        .unwrap_or_default();
    Ok(Completion {
        text: strip_thinking(&content),
        model: endpoint.model.clone(),
        fallback_used: false,
        server_model: answer.model,
        elapsed: Duration::ZERO,
        time_to_first_token: None,
        finish_reason: choice.finish_reason,
        usage: answer.usage.map(|u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        }),
    })
}

/// A streamed answer in progress: read it with [`CompletionStream::next_delta`] or turn it into a
/// [`Stream`] with [`CompletionStream::into_stream`]. Dropping it closes the connection.
pub struct CompletionStream {
    /// `None` once the body has been read whole (a server that ignored `stream: true`).
    response: Option<reqwest::Response>,
    decoder: SseDecoder,
    /// Decoded SSE `data` payloads not yet interpreted.
    payloads: VecDeque<String>,
    body_ended: bool,
    filter: ThinkFilter,
    /// Deltas ready for the caller.
    deltas: VecDeque<StreamDelta>,
    /// Whether text has reached the caller since the start or the last retraction.
    text_handed_out: bool,
    done: bool,
    timeouts: Timeouts,
    started: Instant,
    deadline: Instant,
    first_token_at: Option<Instant>,
    last_activity: Instant,
    model: String,
    fallback_used: bool,
    server_model: Option<String>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    /// Whether any SSE event arrived: a body without one is not a stream at all.
    saw_event: bool,
    saw_done: bool,
    redact: Option<SecretString>,
}

impl std::fmt::Debug for CompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompletionStream")
            .field("model", &self.model)
            .field("fallback_used", &self.fallback_used)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl CompletionStream {
    /// The configured model answering: the primary, or the fallback.
    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn fallback_used(&self) -> bool {
        self.fallback_used
    }

    /// Known once the stream has ended.
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_deref()
    }

    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    pub fn time_to_first_token(&self) -> Option<Duration> {
        self.first_token_at.map(|at| at - self.started)
    }

    /// The next piece of the answer; `None` at the end. After an error, the stream is over.
    pub async fn next_delta(&mut self) -> Option<Result<StreamDelta, ModelError>> {
        loop {
            if let Some(delta) = self.deltas.pop_front() {
                match &delta {
                    StreamDelta::Text(_) => self.text_handed_out = true,
                    StreamDelta::Retract => self.text_handed_out = false,
                }
                return Some(Ok(delta));
            }
            if self.done {
                return None;
            }
            if let Err(err) = self.advance().await {
                self.done = true;
                return Some(Err(err));
            }
        }
    }

    /// The stream as a [`futures::Stream`] of deltas, e.g. for an SSE response to a browser.
    pub fn into_stream(self) -> impl Stream<Item = Result<StreamDelta, ModelError>> + Send {
        futures::stream::unfold(self, |mut stream| async move {
            let item = stream.next_delta().await?;
            Some((item, stream))
        })
    }

    /// Reads one SSE event (within whichever deadline applies now) and interprets it.
    async fn advance(&mut self) -> Result<(), ModelError> {
        let (kind, patience, until) = match self.first_token_at {
            None => (
                TimeoutKind::FirstToken,
                self.timeouts.first_token,
                self.started + self.timeouts.first_token,
            ),
            Some(_) => (
                TimeoutKind::Idle,
                self.timeouts.idle,
                self.last_activity + self.timeouts.idle,
            ),
        };
        let (kind, patience, until) = if self.deadline <= until {
            (TimeoutKind::Total, self.timeouts.total, self.deadline)
        } else {
            (kind, patience, until)
        };
        let payload = match timeout_at(until, self.next_payload()).await {
            Ok(payload) => payload?,
            Err(_) => {
                return Err(ModelError::Timeout {
                    kind,
                    after: patience,
                });
            }
        };
        match payload {
            None => {
                self.done = true;
                if !self.saw_event {
                    return Err(ModelError::MalformedResponse {
                        detail: "the answer held no server-sent events".to_owned(),
                    });
                }
                if !self.saw_done && self.finish_reason.is_none() {
                    return Err(ModelError::Interrupted {
                        message: "the stream ended before the answer was complete".to_owned(),
                    });
                }
                let rest = self.filter.finish();
                self.take(rest);
            }
            Some(payload) if payload.trim() == "[DONE]" => {
                self.saw_event = true;
                self.saw_done = true;
                self.done = true;
                let rest = self.filter.finish();
                self.take(rest);
            }
            Some(payload) => {
                self.saw_event = true;
                self.interpret(&payload)?;
            }
        }
        Ok(())
    }

    async fn next_payload(&mut self) -> Result<Option<String>, ModelError> {
        loop {
            if let Some(payload) = self.payloads.pop_front() {
                return Ok(Some(payload));
            }
            let Some(response) = self.response.as_mut().filter(|_| !self.body_ended) else {
                return Ok(None);
            };
            let not_sse = |_| ModelError::MalformedResponse {
                detail: "the stream is not text".to_owned(),
            };
            match response.chunk().await {
                Ok(Some(bytes)) => {
                    let payloads = self.decoder.push(&bytes).map_err(not_sse)?;
                    self.payloads.extend(payloads);
                }
                Ok(None) => {
                    self.body_ended = true;
                    let last = self.decoder.finish().map_err(not_sse)?;
                    self.payloads.extend(last);
                }
                Err(err) => {
                    return Err(ModelError::Interrupted {
                        message: describe(&err),
                    });
                }
            }
        }
    }

    fn interpret(&mut self, payload: &str) -> Result<(), ModelError> {
        let now = Instant::now();
        let chunk: ChatChunk =
            serde_json::from_str(payload).map_err(|err| ModelError::MalformedResponse {
                detail: self.clean(&format!(
                    "expected a chat completion chunk (JSON): {err}; the event began {:?}",
                    payload.chars().take(80).collect::<String>()
                )),
            })?;
        if let Some(error) = &chunk.error {
            let (message, _) = error_details(&serde_json::json!({ "error": error }).to_string());
            return Err(ModelError::Interrupted {
                message: self.clean(&message),
            });
        }
        self.last_activity = now;
        if chunk.model.is_some() {
            self.server_model = chunk.model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(Usage {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
            });
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(delta) = choice.delta {
                if delta.has_tokens() {
                    self.first_token_at.get_or_insert(now);
                }
                if let Some(content) = delta.content {
                    let filtered = self.filter.push(&content);
                    self.take(filtered);
                }
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(())
    }

    /// Queues what the think filter let through. A retraction drops queued text the caller has
    /// not seen, and reaches the caller only if it has already seen some.
    fn take(&mut self, filtered: Filtered) {
        if filtered.retract {
            self.deltas.retain(|d| !matches!(d, StreamDelta::Text(_)));
            if self.text_handed_out {
                self.deltas.push_back(StreamDelta::Retract);
            }
        }
        if !filtered.text.is_empty() {
            self.deltas.push_back(StreamDelta::Text(filtered.text));
        }
    }

    async fn read_whole_answer(&mut self, endpoint: &Endpoint) -> Result<(), ModelError> {
        let until = self.started + self.timeouts.first_token;
        let (kind, patience, until) = if self.deadline <= until {
            (TimeoutKind::Total, self.timeouts.total, self.deadline)
        } else {
            (TimeoutKind::FirstToken, self.timeouts.first_token, until)
        };
        let Some(response) = self.response.take() else {
            return Ok(());
        };
        let body = match timeout_at(until, read_limited(response, MAX_ANSWER_BODY)).await {
            Ok(body) => body.map_err(|message| ModelError::Interrupted { message })?,
            Err(_) => {
                return Err(ModelError::Timeout {
                    kind,
                    after: patience,
                });
            }
        };
        let completion = parse_whole_answer(endpoint, &body)?;
        self.first_token_at = Some(Instant::now());
        self.server_model = completion.server_model;
        self.finish_reason = completion.finish_reason;
        self.usage = completion.usage;
        if !completion.text.is_empty() {
            self.deltas.push_back(StreamDelta::Text(completion.text));
        }
        self.body_ended = true;
        self.done = true;
        Ok(())
    }

    /// Reads the whole stream into a [`Completion`].
    async fn collect(mut self) -> Result<Completion, ModelError> {
        let mut text = String::new();
        while let Some(delta) = self.next_delta().await {
            match delta? {
                StreamDelta::Text(piece) => text.push_str(&piece),
                StreamDelta::Retract => text.clear(),
            }
        }
        text.truncate(text.trim_end().len());
        Ok(Completion {
            text,
            model: self.model.clone(),
            fallback_used: self.fallback_used,
            server_model: self.server_model.clone(),
            elapsed: self.started.elapsed(),
            time_to_first_token: self.time_to_first_token(),
            finish_reason: self.finish_reason.clone(),
            usage: self.usage,
        })
    }

    fn clean(&self, message: &str) -> String {
        scrub(message, self.redact.as_ref())
    }
}

/// A server's words, shortened and with the API key scrubbed, fit for an error message that a
/// person may read.
fn scrub(message: &str, api_key: Option<&SecretString>) -> String {
    let mut message = message.trim().to_owned();
    if let Some(key) = api_key.map(ExposeSecret::expose_secret)
        && !key.is_empty()
    {
        message = message.replace(key, "[REDACTED]");
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        message = message.chars().take(MAX_MESSAGE_CHARS).collect::<String>() + "…";
    }
    message
}

/// The client as jaryo's model seam: everything outside this crate asks it through
/// [`ChatModel`].
#[async_trait::async_trait]
impl ChatModel for LlmClient {
    fn model(&self) -> &str {
        LlmClient::model(self)
    }

    fn location(&self) -> &str {
        self.base_url()
    }

    async fn complete(&self, request: ChatRequest) -> Result<Completion, ModelError> {
        LlmClient::complete(self, request).await
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, ModelError> {
        let stream = LlmClient::stream(self, request).await?;
        Ok(ChatStream::new(
            stream.model().to_owned(),
            stream.into_stream(),
        ))
    }

    fn health(&self) -> HealthSnapshot {
        LlmClient::health(self)
    }

    async fn wait_until_healthy(&self, backoff: ProbeBackoff) {
        LlmClient::wait_until_healthy(self, backoff).await;
    }
}
