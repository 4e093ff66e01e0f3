//! An OpenAI-compatible model server for tests and benchmarks: scripted answers, delays, errors.
//!
//! jaryo's tests use real parts everywhere except the model server; this crate is that one
//! stand-in. It is a real HTTP server on `127.0.0.1:<free port>` (so other processes can use it
//! too), serving `POST /v1/chat/completions` (JSON or SSE streaming), `GET /v1/models` and
//! `POST /v1/embeddings` (deterministic vectors: [`embedding`]).
//!
//! - **Scripting**: a FIFO of [`Reply`]s, then a handler closure (answers that depend on the
//!   prompt), then a default reply. A reply shapes content, thinking (`<think>` blocks or a
//!   `reasoning_content` / `reasoning` field), chunking, delays, errors, malformed bodies, hangs.
//! - **Recording**: every request ([`RecordedRequest`]), in-flight generations and their peak,
//!   disconnects (a generation whose client went away first), with `wait_for_*` helpers that
//!   wait on events up to a deadline instead of sleeping.
//! - **Capacity**: optionally only `n` generations at once, the rest queue (like llama.cpp
//!   slots).
//! - **Up/down**: [`TestLlm::stop`] refuses connections (and drops open ones) until
//!   [`TestLlm::restart`] listens again on the same port; `/models` can be made to fail.
//!   [`Blackhole`] is an address where connecting never completes (connect timeouts).
//!
//! Use it with tokio's real clock: its delays are real time on real sockets.

mod blackhole;
mod embeddings;
mod record;
mod reply;
mod server;

use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use blackhole::Blackhole;
pub use embeddings::embedding;
pub use record::{RecordedMessage, RecordedRequest};
pub use reply::Reply;

/// The length of the vectors `POST /v1/embeddings` gives by default.
pub const DEFAULT_EMBEDDING_DIMENSIONS: usize = 8;

/// The model name served by default.
pub const DEFAULT_MODEL: &str = "test-model";

type Handler = Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

/// A running test model server. Stops when dropped.
pub struct TestLlm {
    shared: Arc<Shared>,
    addr: SocketAddr,
    running: Mutex<Option<Running>>,
}

struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

/// Options fixed at start.
#[derive(Default)]
pub struct TestLlmBuilder {
    max_concurrent: Option<usize>,
    models: Option<Vec<String>>,
    default_reply: Option<Reply>,
    embedding_dimensions: Option<usize>,
}

impl TestLlmBuilder {
    /// At most `n` generations at once; further requests queue inside the server.
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = Some(n.max(1));
        self
    }

    /// Models listed by `GET /v1/models` (default: [`DEFAULT_MODEL`]).
    pub fn models<S: Into<String>>(mut self, models: impl IntoIterator<Item = S>) -> Self {
        self.models = Some(models.into_iter().map(Into::into).collect());
        self
    }

    /// The reply used when the script is empty and no handler is set.
    pub fn default_reply(mut self, reply: Reply) -> Self {
        self.default_reply = Some(reply);
        self
    }

    /// The length of the vectors `POST /v1/embeddings` gives (default
    /// [`DEFAULT_EMBEDDING_DIMENSIONS`]).
    pub fn embedding_dimensions(mut self, n: usize) -> Self {
        self.embedding_dimensions = Some(n.max(1));
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> TestLlm {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                script: VecDeque::new(),
                default_reply: self
                    .default_reply
                    .unwrap_or_else(|| Reply::text("A test answer.")),
                handler: None,
                missing_models: HashSet::new(),
                models: self
                    .models
                    .unwrap_or_else(|| vec![DEFAULT_MODEL.to_owned()]),
                models_failure: None,
                embedding_dimensions: self
                    .embedding_dimensions
                    .unwrap_or(DEFAULT_EMBEDDING_DIMENSIONS),
                embeddings_failure: None,
                embedding_requests: 0,
                required_api_key: None,
                requests: Vec::new(),
                models_requests: 0,
                in_flight: 0,
                max_in_flight: 0,
                queued: 0,
                completed: 0,
                disconnects: 0,
            }),
            changed: Notify::new(),
            capacity: self.max_concurrent.map(|n| Arc::new(Semaphore::new(n))),
        });
        let listener = listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .expect("bind a loopback port for the test model server");
        let addr = listener.local_addr().expect("bound address");
        let server = TestLlm {
            shared,
            addr,
            running: Mutex::new(None),
        };
        server.serve(listener);
        server
    }
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // Lets `restart` bind the same port again while old connections linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// A `wait_for_*` call ran out of time; says what it waited for and what it saw.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {timeout:?} waiting for {what} (saw {seen})")]
pub struct WaitTimedOut {
    pub what: String,
    pub seen: usize,
    pub timeout: Duration,
}

impl TestLlm {
    /// Starts a server with default options.
    pub async fn start() -> TestLlm {
        TestLlm::builder().start().await
    }

    pub fn builder() -> TestLlmBuilder {
        TestLlmBuilder::default()
    }

    /// `http://127.0.0.1:<port>/v1`: what a client takes as its base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn serve(&self, listener: TcpListener) {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::serve(
            listener,
            server::router(Arc::clone(&self.shared)),
            shutdown.clone(),
        ));
        *self.running_lock() = Some(Running { shutdown, task });
    }

    fn running_lock(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ----- scripting -----

    /// Queues a reply for the next chat request (FIFO; before the handler and the default).
    pub fn push_reply(&self, reply: Reply) {
        self.shared.update(|state| state.script.push_back(reply));
    }

    /// Queues several replies.
    pub fn push_replies(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.update(|state| state.script.extend(replies));
    }

    /// The reply used when the script is empty and no handler is set.
    pub fn set_default_reply(&self, reply: Reply) {
        self.shared.update(|state| state.default_reply = reply);
    }

    /// Answers from the request itself (e.g. echo the memo back as Markdown) when the script is
    /// empty. Runs on the server's task, outside its locks.
    pub fn set_handler(&self, handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static) {
        self.shared
            .update(|state| state.handler = Some(Arc::new(handler)));
    }

    /// Requests for these models get a 404 "model not found" (without using a scripted reply).
    pub fn set_missing_models<S: Into<String>>(&self, models: impl IntoIterator<Item = S>) {
        let missing = models.into_iter().map(Into::into).collect();
        self.shared.update(|state| state.missing_models = missing);
    }

    /// Models listed by `GET /v1/models`.
    pub fn set_models<S: Into<String>>(&self, models: impl IntoIterator<Item = S>) {
        let models = models.into_iter().map(Into::into).collect();
        self.shared.update(|state| state.models = models);
    }

    /// Makes `GET /v1/models` answer with this status (e.g. 503), or serve normally with `None`.
    pub fn set_models_failure(&self, status: Option<u16>) {
        self.shared.update(|state| state.models_failure = status);
    }

    /// Makes `POST /v1/embeddings` answer with this status (e.g. 503), or serve normally with
    /// `None`.
    pub fn set_embeddings_failure(&self, status: Option<u16>) {
        self.shared
            .update(|state| state.embeddings_failure = status);
    }

    /// Chat and embedding requests without `Authorization: Bearer <key>` get a 401.
    pub fn require_api_key(&self, key: impl Into<String>) {
        let key = key.into();
        self.shared
            .update(|state| state.required_api_key = Some(key));
    }

    // ----- up / down -----

    /// Stops listening and drops every open connection: connections are refused until
    /// [`TestLlm::restart`].
    pub async fn stop(&self) {
        let running = self.running_lock().take();
        if let Some(Running { shutdown, task }) = running {
            shutdown.cancel();
            // The task only ends by this shutdown; a panic in it is a bug worth surfacing.
            task.await.expect("test model server task");
        }
    }

    /// Listens again on the same port after [`TestLlm::stop`]. Fails if the port was taken
    /// meanwhile (unlikely on loopback, but not impossible).
    pub async fn restart(&self) -> io::Result<()> {
        if self.is_listening() {
            return Ok(());
        }
        let listener = listen(self.addr)?;
        self.serve(listener);
        Ok(())
    }

    pub fn is_listening(&self) -> bool {
        self.running_lock().is_some()
    }

    // ----- recording -----

    /// Every chat request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// How many `POST /v1/embeddings` requests arrived (each one batch).
    pub fn embedding_request_count(&self) -> usize {
        self.shared.lock().embedding_requests
    }

    /// `GET /v1/models` requests so far.
    pub fn models_request_count(&self) -> usize {
        self.shared.lock().models_requests
    }

    /// Generations running now (holding a capacity slot, if capacity is limited).
    pub fn in_flight(&self) -> usize {
        self.shared.lock().in_flight
    }

    /// The most generations ever running at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.lock().max_in_flight
    }

    /// Requests waiting for a capacity slot now.
    pub fn queued(&self) -> usize {
        self.shared.lock().queued
    }

    /// Chat requests answered to the end.
    pub fn completed(&self) -> usize {
        self.shared.lock().completed
    }

    /// Chat requests whose client went away before the answer was finished.
    pub fn disconnects(&self) -> usize {
        self.shared.lock().disconnects
    }

    /// Waits until at least `n` chat requests have arrived; returns them.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedRequest>, WaitTimedOut> {
        self.wait_for(format!("{n} requests"), timeout, |state| {
            (state.requests.len() >= n)
                .then(|| state.requests.clone())
                .ok_or(state.requests.len())
        })
        .await
    }

    /// Waits until at least `n` disconnects have been observed.
    pub async fn wait_for_disconnects(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<(), WaitTimedOut> {
        self.wait_for(format!("{n} disconnects"), timeout, |state| {
            (state.disconnects >= n)
                .then_some(())
                .ok_or(state.disconnects)
        })
        .await
    }

    /// Waits until exactly `n` generations are running.
    pub async fn wait_for_in_flight(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<(), WaitTimedOut> {
        self.wait_for(format!("{n} generations in flight"), timeout, |state| {
            (state.in_flight == n).then_some(()).ok_or(state.in_flight)
        })
        .await
    }

    /// Waits until at least `n` chat requests were answered to the end.
    pub async fn wait_for_completed(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<(), WaitTimedOut> {
        self.wait_for(format!("{n} completed answers"), timeout, |state| {
            (state.completed >= n).then_some(()).ok_or(state.completed)
        })
        .await
    }

    async fn wait_for<T>(
        &self,
        what: String,
        timeout: Duration,
        check: impl Fn(&State) -> Result<T, usize>,
    ) -> Result<T, WaitTimedOut> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            // Register before checking, so a change between the check and the wait is not lost.
            notified.as_mut().enable();
            let seen = match check(&self.shared.lock()) {
                Ok(value) => return Ok(value),
                Err(seen) => seen,
            };
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(WaitTimedOut {
                    what,
                    seen,
                    timeout,
                });
            }
        }
    }
}

impl Drop for TestLlm {
    fn drop(&mut self) {
        if let Some(running) = self.running_lock().take() {
            running.shutdown.cancel();
            // Aborting drops the accept loop and with it every connection task.
            running.task.abort();
        }
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Notified on every change, for the `wait_for_*` helpers.
    changed: Notify,
    capacity: Option<Arc<Semaphore>>,
}

pub(crate) struct State {
    script: VecDeque<Reply>,
    default_reply: Reply,
    handler: Option<Handler>,
    missing_models: HashSet<String>,
    models: Vec<String>,
    pub(crate) models_failure: Option<u16>,
    pub(crate) embedding_dimensions: usize,
    pub(crate) embeddings_failure: Option<u16>,
    pub(crate) embedding_requests: usize,
    pub(crate) required_api_key: Option<String>,
    requests: Vec<RecordedRequest>,
    pub(crate) models_requests: usize,
    pub(crate) in_flight: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) queued: usize,
    pub(crate) completed: usize,
    pub(crate) disconnects: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state and wakes every `wait_for_*`.
    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let result = change(&mut self.lock());
        self.changed.notify_waiters();
        result
    }

    pub(crate) fn record(
        &self,
        body: serde_json::Value,
        authorization: Option<String>,
    ) -> Result<RecordedRequest, String> {
        self.update(|state| {
            let request = RecordedRequest::from_body(state.requests.len(), body, authorization)?;
            state.requests.push(request.clone());
            Ok(request)
        })
    }

    /// A refusal that does not depend on the script: wrong key, missing model.
    pub(crate) fn gatekeep(&self, request: &RecordedRequest) -> Option<Reply> {
        let state = self.lock();
        if let Some(key) = &state.required_api_key
            && request.bearer_token() != Some(key.as_str())
        {
            return Some(Reply::http_error(401, "invalid API key"));
        }
        state
            .missing_models
            .contains(&request.model)
            .then(|| Reply::model_not_found(&request.model))
    }

    pub(crate) fn next_reply(&self, request: &RecordedRequest) -> Reply {
        let handler = {
            let mut state = self.lock();
            if let Some(reply) = state.script.pop_front() {
                return reply;
            }
            match &state.handler {
                Some(handler) => Arc::clone(handler),
                None => return state.default_reply.clone(),
            }
        };
        handler(request)
    }
}
