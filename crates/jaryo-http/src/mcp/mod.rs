//! jaryo as an MCP (Model Context Protocol) server, so AI assistants can search, read,
//! capture and ask: at `/mcp` over the protocol's streamable HTTP transport (behind the API's
//! bearer token), and over stdio for `jaryo mcp`.
//!
//! The protocol is the official Rust SDK's (`rmcp`): it keeps up with the protocol's
//! revisions (version negotiation, the stateless 2026 transport, error shapes), which a
//! hand-written JSON-RPC layer would have to chase. What jaryo adds is [`JaryoMcp`]: the
//! tools ([`tools`]) and the documents as resources.
//!
//! Invariants:
//! - A tool parses its arguments into the HTTP API's own input type and calls the API's own
//!   handler, so it refuses and answers exactly as the API does (unknown arguments, limits,
//!   Korean search, 404s); a refusal is a tool error carrying the API's `{"error": {code,
//!   message}}`, for the assistant to read and correct.
//! - Every answer is bounded ([`bounded`]); what is cut says so.
//! - Over HTTP the server is stateless: each request is served on its own, with no session
//!   kept between requests, so any process on the database can answer any request.

pub mod bounded;
pub mod tools;

use crate::AppState;
use crate::api;
use crate::extract::ApiPath;
use axum::extract::State;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

/// Resources listed per page.
const RESOURCES_PER_PAGE: u32 = 50;

/// jaryo's MCP server: the tools and the documents as resources, over an [`AppState`].
#[derive(Clone, Debug)]
pub struct JaryoMcp {
    state: AppState,
}

impl JaryoMcp {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// The streamable HTTP transport to mount at `/mcp` (the bearer token is checked before it).
/// Bodies over `max_body_bytes` are refused, as the API refuses them.
pub fn http_service(
    state: AppState,
    max_body_bytes: usize,
) -> StreamableHttpService<JaryoMcp, LocalSessionManager> {
    let config = StreamableHttpServerConfig::default()
        // Stateless, answering plain JSON: nothing is kept between requests.
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_max_request_body_bytes(max_body_bytes)
        // The SDK refuses Host names other than loopback ones by default, against DNS
        // rebinding; here every request must carry the API token, which a rebound page
        // does not have, and jaryo may be served under any name.
        .disable_allowed_hosts();
    StreamableHttpService::new(
        move || Ok(JaryoMcp::new(state.clone())),
        LocalSessionManager::default().into(),
        config,
    )
}

/// Serves MCP over this process's standard input and output until the client closes them.
/// Nothing else may write to standard output (logs go to standard error).
pub async fn serve_stdio(state: AppState) -> std::io::Result<()> {
    let running = JaryoMcp::new(state)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

impl ServerHandler for JaryoMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("jaryo", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "jaryo holds the person's own memos and documents (Korean and English). Search \
             them, read one, list the newest, capture a memo, or ask a question answered from \
             them with citations. Documents are also resources (jaryo://documents/{id}).",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::all()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        tools::all().into_iter().find(|tool| tool.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let Some(outcome) = tools::call(&self.state, &request.name, arguments).await else {
            return Err(ErrorData::invalid_params(
                format!("no tool named {:?}", request.name),
                None,
            ));
        };
        Ok(match outcome {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(error) => CallToolResult::error(vec![ContentBlock::text(error_json(&error))]),
        }
        .into())
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let query = api::documents::DocumentQuery {
            limit: Some(RESOURCES_PER_PAGE),
            cursor: request.and_then(|request| request.cursor),
            ..Default::default()
        };
        let page = api::documents::list_documents(
            State(self.state.clone()),
            crate::extract::ApiQuery(query),
        )
        .await
        .map_err(protocol_error)?
        .0;
        let resources = page
            .items
            .into_iter()
            .map(|document| {
                Resource::new(
                    tools::document_uri(document.id),
                    bounded::preview(&document.title, bounded::TITLE_MAX_CHARS),
                )
                .with_mime_type("text/markdown")
            })
            .collect();
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = page.next_cursor;
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new("jaryo://documents/{id}", "document")
                .with_description(
                    "A document of the library: its accepted Markdown, or its original text \
                     while it has none.",
                )
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let id = request
            .uri
            .strip_prefix("jaryo://documents/")
            .and_then(|id| id.parse::<i64>().ok())
            .ok_or_else(|| {
                ErrorData::resource_not_found(
                    "no such resource: documents are jaryo://documents/{id}",
                    Some(json!({"uri": request.uri})),
                )
            })?;
        let document = api::documents::get_document(State(self.state.clone()), ApiPath(id))
            .await
            .map_err(|error| match error {
                crate::error::ApiError::NotFound(message) => {
                    ErrorData::resource_not_found(message, Some(json!({"uri": request.uri})))
                }
                other => protocol_error(other),
            })?
            .0;
        let text = match tools::accepted_markdown(&document) {
            Ok(markdown) => markdown,
            Err(_) => document.extracted_text.as_deref().unwrap_or(""),
        };
        let clipped = bounded::clip(text, 0, bounded::RESOURCE_MAX_CHARS);
        let mut text = format!("# {}\n\n{}", document.title, clipped.text);
        if let Some(truncated) = clipped.truncated {
            text.push_str(&format!(
                "\n\n[truncated: {} of {} characters shown; the read_document tool reads on \
                 with offset]",
                truncated.shown_chars[1], truncated.total_chars
            ));
        }
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, request.uri).with_mime_type("text/markdown"),
        ])
        .into())
    }
}

/// The API's error body, as a tool error's text.
fn error_json(error: &crate::error::ApiError) -> String {
    let mut body = json!({"code": error.code(), "message": error.to_string()});
    if let crate::error::ApiError::Invalid {
        field: Some(field), ..
    } = error
    {
        body["field"] = json!(field);
    }
    json!({ "error": body }).to_string()
}

/// An error outside a tool call (listing or reading resources) as a JSON-RPC error.
fn protocol_error(error: crate::error::ApiError) -> ErrorData {
    let data = Some(json!({"code": error.code()}));
    match error {
        crate::error::ApiError::BadRequest { .. } | crate::error::ApiError::Invalid { .. } => {
            ErrorData::invalid_params(error.to_string(), data)
        }
        other => ErrorData::internal_error(other.to_string(), data),
    }
}
