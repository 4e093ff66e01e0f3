//! The crate that calls jaryo's API: the JSON shapes of the API ([`wire`]) and a typed client
//! of it ([`Client`]), for the CLI, tests and benchmarks.
//!
//! The server (`jaryo-http`) sends these same [`wire`] types, so the two cannot drift apart;
//! this crate knows nothing of serving (no axum), only of calling.

pub mod files;
pub mod wire;

use crate::wire::{
    DocumentJson, DocumentPage, DocumentPatchInput, ErrorJson, MemoInput, MemoJson, MemoPage,
    MemoPatchInput, NewDocumentInput, SearchPageJson,
};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Why a call failed, in terms a person at a terminal can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no jaryo server answers at {url} (is `jaryo serve` running?)")]
    NotRunning { url: String },
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        status: u16,
        code: String,
        message: String,
        error: Box<ErrorJson>,
    },
    #[error("HTTP {status} from the server")]
    UnexpectedStatus { status: u16 },
    #[error("talking to {url} failed: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

impl ClientError {
    /// The API error code, if the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Filters of a document listing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DocumentListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft_state: Option<String>,
    /// `draft`, `accepted` or `rejected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md_draft_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_attention: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A search: the query and its filters (see `GET /api/v1/search`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchParams {
    pub q: String,
    /// `memo` or `document`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// A date (`2026-03-01`) or an RFC 3339 time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl SearchParams {
    /// A search for `q` with no filters.
    pub fn new(q: impl Into<String>) -> Self {
        Self {
            q: q.into(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
struct PageParams<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
}

/// A client of one jaryo server.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// `base_url` is the server's root, such as `http://127.0.0.1:8765`.
    pub fn new(base_url: &str, token: SecretString) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a TLS-less HTTP client always builds");
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        query: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<Option<T>, ClientError> {
        let url = format!("{}/api/v1{path}", self.base_url);
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(self.token.expose_secret());
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(query) = query {
            request = request.query(query);
        }
        let transport = |source: reqwest::Error| {
            if source.is_connect() {
                ClientError::NotRunning {
                    url: self.base_url.clone(),
                }
            } else {
                ClientError::Transport {
                    url: url.clone(),
                    source,
                }
            }
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            let value =
                serde_json::from_slice(&bytes).map_err(|_| ClientError::UnexpectedStatus {
                    status: status.as_u16(),
                })?;
            return Ok(Some(value));
        }
        match serde_json::from_slice::<ErrorJson>(&bytes) {
            Ok(error) => Err(ClientError::Api {
                status: status.as_u16(),
                code: error.error.code.clone(),
                message: error.error.message.clone(),
                error: Box::new(error),
            }),
            Err(_) => Err(ClientError::UnexpectedStatus {
                status: status.as_u16(),
            }),
        }
    }

    async fn call_some<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        query: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, ClientError> {
        self.call(method, path, body, query)
            .await?
            .ok_or(ClientError::UnexpectedStatus { status: 204 })
    }

    /// Whether the server answers its health check.
    pub async fn health(&self) -> Result<(), ClientError> {
        let url = format!("{}/healthz", self.base_url);
        let response = self.http.get(&url).send().await.map_err(|source| {
            if source.is_connect() {
                ClientError::NotRunning {
                    url: self.base_url.clone(),
                }
            } else {
                ClientError::Transport { url, source }
            }
        })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::UnexpectedStatus {
                status: response.status().as_u16(),
            })
        }
    }

    /// `GET /status`: model health, the gate, the draft queue, recent failures (as JSON: the
    /// counters' shapes are for people and dashboards, not a typed contract).
    pub async fn status(&self) -> Result<serde_json::Value, ClientError> {
        self.call_some(Method::GET, "/status", None::<&()>, None::<&()>)
            .await
    }

    pub async fn create_memo(&self, content: &str) -> Result<MemoJson, ClientError> {
        let body = MemoInput {
            content: content.to_owned(),
        };
        self.call_some(Method::POST, "/memos", Some(&body), None::<&()>)
            .await
    }

    pub async fn list_memos(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<MemoPage, ClientError> {
        self.list_memos_tagged(None, limit, cursor).await
    }

    /// Memos, newest first; with a tag, only those carrying it.
    pub async fn list_memos_tagged(
        &self,
        tag: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<MemoPage, ClientError> {
        let query = PageParams { tag, limit, cursor };
        self.call_some(Method::GET, "/memos", None::<&()>, Some(&query))
            .await
    }

    /// Every tag in use with its counts, most used first.
    pub async fn list_tags(&self) -> Result<crate::wire::TagListJson, ClientError> {
        self.call_some(Method::GET, "/tags", None::<&()>, None::<&()>)
            .await
    }

    /// Renames a tag in every memo.
    pub async fn rename_tag(
        &self,
        from: &str,
        to: &str,
    ) -> Result<crate::wire::TagRenamedJson, ClientError> {
        let body = crate::wire::TagRenameInput {
            from: from.to_owned(),
            to: to.to_owned(),
        };
        self.call_some(Method::POST, "/tags/rename", Some(&body), None::<&()>)
            .await
    }

    pub async fn get_memo(&self, id: i64) -> Result<MemoJson, ClientError> {
        self.call_some(
            Method::GET,
            &format!("/memos/{id}"),
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn update_memo(&self, id: i64, content: &str) -> Result<MemoJson, ClientError> {
        let body = MemoPatchInput {
            content: content.to_owned(),
            version: None,
        };
        self.call_some(
            Method::PATCH,
            &format!("/memos/{id}"),
            Some(&body),
            None::<&()>,
        )
        .await
    }

    pub async fn delete_memo(&self, id: i64) -> Result<(), ClientError> {
        self.call::<serde_json::Value>(
            Method::DELETE,
            &format!("/memos/{id}"),
            None::<&()>,
            None::<&()>,
        )
        .await
        .map(drop)
    }

    pub async fn promote_memo(&self, id: i64) -> Result<DocumentJson, ClientError> {
        self.call_some(
            Method::POST,
            &format!("/memos/{id}/promote-to-document"),
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn create_document(
        &self,
        input: &NewDocumentInput,
    ) -> Result<DocumentJson, ClientError> {
        self.call_some(Method::POST, "/documents", Some(input), None::<&()>)
            .await
    }

    pub async fn list_documents(
        &self,
        query: &DocumentListQuery,
    ) -> Result<DocumentPage, ClientError> {
        self.call_some(Method::GET, "/documents", None::<&()>, Some(query))
            .await
    }

    pub async fn get_document(&self, id: i64) -> Result<DocumentJson, ClientError> {
        self.call_some(
            Method::GET,
            &format!("/documents/{id}"),
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    pub async fn update_document(
        &self,
        id: i64,
        patch: &DocumentPatchInput,
    ) -> Result<DocumentJson, ClientError> {
        self.call_some(
            Method::PATCH,
            &format!("/documents/{id}"),
            Some(patch),
            None::<&()>,
        )
        .await
    }

    /// Queues new drafts for the documents a selection picks (or, with `dry_run`, reports
    /// them).
    pub async fn redraft_selection(
        &self,
        selection: &crate::wire::RedraftSelection,
    ) -> Result<crate::wire::RedraftSummary, ClientError> {
        self.call_some(
            Method::POST,
            "/drafts/redraft",
            Some(selection),
            None::<&()>,
        )
        .await
    }

    /// Asks a question of the notes, calling `on_event` with each server-sent event (its name
    /// and JSON data) as it arrives: `sources`, `delta`…, then `done`, `nothing_found` or
    /// `failed`.
    pub async fn ask_streaming(
        &self,
        question: &str,
        mut on_event: impl FnMut(&str, serde_json::Value),
    ) -> Result<(), ClientError> {
        use futures::StreamExt;
        let url = format!("{}/api/v1/ask", self.base_url);
        let transport = |source: reqwest::Error| {
            if source.is_connect() {
                ClientError::NotRunning {
                    url: self.base_url.clone(),
                }
            } else {
                ClientError::Transport {
                    url: url.clone(),
                    source,
                }
            }
        };
        let response = self
            .http
            .post(&url)
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(&serde_json::json!({ "question": question }))
            // An answer from a slow local model may take long; the stream shows progress.
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.bytes().await.map_err(transport)?;
            return Err(match serde_json::from_slice::<ErrorJson>(&bytes) {
                Ok(error) => ClientError::Api {
                    status: status.as_u16(),
                    code: error.error.code.clone(),
                    message: error.error.message.clone(),
                    error: Box::new(error),
                },
                Err(_) => ClientError::UnexpectedStatus {
                    status: status.as_u16(),
                },
            });
        }
        // Bytes, not text, until a whole event is in: a chunk may end inside a character.
        let mut buffer: Vec<u8> = Vec::new();
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            buffer.extend_from_slice(&chunk.map_err(transport)?);
            while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
                let block: Vec<u8> = buffer.drain(..end + 2).collect();
                let block = String::from_utf8_lossy(&block);
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if let (Some(name), Ok(data)) = (name, serde_json::from_str(&data)) {
                    on_event(&name, data);
                }
            }
        }
        Ok(())
    }

    /// Queues a new draft of a document.
    pub async fn redraft_document(&self, id: i64) -> Result<DocumentJson, ClientError> {
        self.call_some(
            Method::POST,
            &format!("/documents/{id}/redraft"),
            None::<&()>,
            None::<&()>,
        )
        .await
    }

    /// Accepts a document's draft, as drafted or with `input.md_content` as the accepted text.
    pub async fn accept_draft(
        &self,
        id: i64,
        input: &crate::wire::AcceptDraftInput,
    ) -> Result<DocumentJson, ClientError> {
        self.call_some(
            Method::POST,
            &format!("/documents/{id}/draft/accept"),
            Some(input),
            None::<&()>,
        )
        .await
    }

    /// Rejects a document's draft; it stays visible as rejected.
    pub async fn reject_draft(
        &self,
        id: i64,
        input: &crate::wire::RejectDraftInput,
    ) -> Result<DocumentJson, ClientError> {
        self.call_some(
            Method::POST,
            &format!("/documents/{id}/draft/reject"),
            Some(input),
            None::<&()>,
        )
        .await
    }

    pub async fn delete_document(&self, id: i64) -> Result<(), ClientError> {
        self.call::<serde_json::Value>(
            Method::DELETE,
            &format!("/documents/{id}"),
            None::<&()>,
            None::<&()>,
        )
        .await
        .map(drop)
    }

    /// Ranked search over memos and documents.
    pub async fn search(&self, params: &SearchParams) -> Result<SearchPageJson, ClientError> {
        self.call_some(Method::GET, "/search", None::<&()>, Some(params))
            .await
    }
}
