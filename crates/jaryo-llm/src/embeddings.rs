//! Embeddings from an OpenAI-compatible server (`POST {base}/embeddings`), as the seam's
//! [`EmbeddingModel`].
//!
//! One batch is one request. The answer's vectors are put back in the order of the texts
//! (servers may answer out of order and say so in `index`), and every vector must have the
//! model's dimensions: configured, or those of the first answer. A vector of another length
//! is a malformed answer, never stored beside the others.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jaryo_model::{Embedding, EmbeddingModel, HealthSnapshot, ModelError, TimeoutKind};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::client::{Endpoint, describe, read_limited, status_error};
use crate::wire::{EmbeddingsAnswer, EmbeddingsRequest};

/// Largest embeddings answer accepted: a large batch of large vectors as JSON text.
const MAX_EMBEDDINGS_BODY: usize = 64 * 1024 * 1024;

/// Where the embedding model is and how patient to be with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbeddingConfig {
    /// OpenAI-compatible base URL, ending before `/embeddings` (Ollama: `…:11434/v1`).
    pub base_url: String,
    /// The embedding model to ask.
    pub model: String,
    /// Bearer token, for servers that need one. Never logged, never in error messages.
    #[serde(skip_serializing)]
    pub api_key: Option<SecretString>,
    /// The vectors' length, when known in advance; otherwise learned from the first answer.
    pub dimensions: Option<usize>,
    /// Giving up on opening a TCP connection.
    pub connect_timeout_secs: f64,
    /// Giving up on one batch's answer.
    pub timeout_secs: f64,
}

impl Default for EmbeddingConfig {
    fn default() -> Self {
        EmbeddingConfig {
            base_url: "http://127.0.0.1:11434/v1".to_owned(),
            model: "bge-m3".to_owned(),
            api_key: None,
            dimensions: None,
            connect_timeout_secs: 10.0,
            timeout_secs: 120.0,
        }
    }
}

/// An OpenAI-compatible embeddings client. Cheap to clone; clones share connections, the
/// learned dimensions and the health view.
#[derive(Clone)]
pub struct OpenAiEmbeddings {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Endpoint,
    connect_timeout: Duration,
    timeout: Duration,
    dimensions: OnceLock<usize>,
    health: watch::Sender<HealthSnapshot>,
}

impl std::fmt::Debug for OpenAiEmbeddings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbeddings")
            .field("base_url", &self.inner.endpoint.display)
            .field("model", &self.inner.endpoint.model)
            .field("dimensions", &self.inner.dimensions.get())
            .finish_non_exhaustive()
    }
}

impl OpenAiEmbeddings {
    pub fn new(config: EmbeddingConfig) -> Result<OpenAiEmbeddings, ModelError> {
        let seconds = |name: &str, value: f64| {
            Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    ModelError::InvalidConfig(format!(
                        "{name} must be a positive number of seconds, not {value}"
                    ))
                })
        };
        let connect_timeout = seconds("connect_timeout_secs", config.connect_timeout_secs)?;
        let timeout = seconds("timeout_secs", config.timeout_secs)?;
        if config.dimensions == Some(0) {
            return Err(ModelError::InvalidConfig(
                "dimensions must be at least 1".to_owned(),
            ));
        }
        let endpoint = Endpoint::new(&config.base_url, &config.model, config.api_key.as_ref())?;
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("jaryo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ModelError::InvalidConfig(format!("HTTP client: {err}")))?;
        let dimensions = OnceLock::new();
        if let Some(known) = config.dimensions {
            let _ = dimensions.set(known);
        }
        Ok(OpenAiEmbeddings {
            inner: Arc::new(Inner {
                http,
                endpoint,
                connect_timeout,
                timeout,
                dimensions,
                health: watch::Sender::new(HealthSnapshot::unknown()),
            }),
        })
    }

    async fn request(&self, texts: &[String]) -> Result<Vec<Embedding>, ModelError> {
        let endpoint = &self.inner.endpoint;
        let response = endpoint
            .request(&self.inner.http, &endpoint.embeddings_url)
            .json(&EmbeddingsRequest {
                model: &endpoint.model,
                input: texts,
            })
            .send()
            .await
            .map_err(|err| {
                if err.is_connect() && err.is_timeout() {
                    ModelError::Timeout {
                        kind: TimeoutKind::Connect,
                        after: self.inner.connect_timeout,
                    }
                } else {
                    ModelError::Unreachable {
                        endpoint: endpoint.display.clone(),
                        message: endpoint.clean(&describe(&err)),
                    }
                }
            })?;
        if !response.status().is_success() {
            return Err(status_error(endpoint, response).await);
        }
        let body = read_limited(response, MAX_EMBEDDINGS_BODY)
            .await
            .map_err(|message| ModelError::Interrupted { message })?;
        let malformed = |detail: String| ModelError::MalformedResponse {
            detail: endpoint.clean(&detail),
        };
        let answer: EmbeddingsAnswer = serde_json::from_slice(&body)
            .map_err(|err| malformed(format!("expected embeddings (JSON): {err}")))?;
        if answer.data.len() != texts.len() {
            return Err(malformed(format!(
                "{} texts were sent but {} vectors came back",
                texts.len(),
                answer.data.len()
            )));
        }
        let mut vectors: Vec<Option<Embedding>> = vec![None; texts.len()];
        for (position, item) in answer.data.into_iter().enumerate() {
            let index = item.index.unwrap_or(position);
            match vectors.get_mut(index) {
                Some(slot @ None) => *slot = Some(item.embedding),
                _ => return Err(malformed(format!("vector index {index} is out of place"))),
            }
        }
        let vectors: Vec<Embedding> = vectors.into_iter().flatten().collect();
        if vectors.iter().any(Vec::is_empty) {
            return Err(malformed("a vector is empty".to_owned()));
        }
        let expected = *self.inner.dimensions.get_or_init(|| vectors[0].len());
        if let Some(wrong) = vectors.iter().find(|v| v.len() != expected) {
            return Err(malformed(format!(
                "a vector has {} dimensions, not the model's {expected}",
                wrong.len()
            )));
        }
        Ok(vectors)
    }

    /// Records what a call says about the server, as the chat client does: only "unreachable"
    /// says down; any answer says up.
    fn observe(&self, outcome: Result<(), &ModelError>) {
        let outcome = match outcome {
            Err(err) if err.is_server_down() => Err(err),
            Err(ModelError::Timeout { .. } | ModelError::InvalidConfig(_)) => return,
            _ => Ok(()),
        };
        self.inner
            .health
            .send_modify(|health| health.observe(outcome));
    }
}

#[async_trait::async_trait]
impl EmbeddingModel for OpenAiEmbeddings {
    fn model(&self) -> &str {
        &self.inner.endpoint.model
    }

    fn dimensions(&self) -> Option<usize> {
        self.inner.dimensions.get().copied()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let outcome = match tokio::time::timeout(self.inner.timeout, self.request(texts)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ModelError::Timeout {
                kind: TimeoutKind::Total,
                after: self.inner.timeout,
            }),
        };
        self.observe(outcome.as_ref().map(|_| ()));
        outcome
    }

    fn health(&self) -> HealthSnapshot {
        self.inner.health.borrow().clone()
    }
}
