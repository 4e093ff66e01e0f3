//! jaryo's HTTP face: the JSON API under `/api/v1` and the web UI (`ui`, at `/`).
//!
//! Architecture invariant: this is the only crate that knows HTTP. Handlers parse input into
//! domain types at the edge, call the store, and map every error to one JSON shape
//! ([`error::ApiError`]); internal detail is logged, never sent.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod mcp;
pub mod ui;

// The API's JSON shapes live with the client that reads them (`jaryo-client`); the server
// sends the same types. Imported, not re-exported: a caller of the API needs no server.
use jaryo_client::wire;

use auth::ApiToken;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use error::ApiError;
use jaryo_store::Store;
use std::future::Future;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// Everything a handler may use.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub token: ApiToken,
    /// The gate every model call in this process passes.
    pub gate: jaryo_gate::Gate,
    /// The model, for health and for a person's own questions: any backend behind the seam.
    pub llm: Arc<dyn jaryo_model::ChatModel>,
    /// The draft worker's counters (zero when this process runs no worker).
    pub draft_metrics: Arc<jaryo_worker::DraftMetrics>,
    /// Where scheduled backups of the SQLite library go (`None` on PostgreSQL); the status
    /// shows the newest one there.
    pub backup_dir: Option<std::path::PathBuf>,
    /// Limits of files taken in (`[files]`).
    pub files: api::files::FileLimits,
}

/// Limits and knobs of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// The whole application: health check, API, web UI, fallbacks. The API
/// ([`api::routes`]) and the web UI ([`ui::routes`]) are separate routers, each usable alone.
pub fn router(state: AppState, config: &HttpConfig) -> Router {
    let ui = ui::routes(state.clone());
    // MCP for AI assistants, behind the same token as the API.
    let mcp = Router::new()
        .route_service(
            "/mcp",
            mcp::http_service(state.clone(), config.max_body_bytes),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.token.clone(),
            auth::require_token,
        ));
    let api = api::routes(state);
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api)
        .merge(mcp)
        .merge(ui)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TraceLayer::new_for_http())
}

/// Serves `router` on `listener` until `shutdown` resolves; requests in flight then finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        // Small JSON answers should leave at once, not wait for Nagle's algorithm.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Whether this process is up; needs no token.
#[utoipa::path(get, path = "/healthz", tag = "status", security(()),
    responses((status = 200, description = "`{\"status\": \"ok\"}`",
        content_type = "application/json")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// An unknown address: the API's JSON error for the API and for programs, a page in the UI's
/// style and the person's language for a browser.
async fn not_found(
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") || !ui::wants_html(&headers) {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    ui::error_page_for(&headers, ui::PageError::NotFound)
}

pub(crate) async fn method_not_allowed(
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") || !ui::wants_html(&headers) {
        return ApiError::MethodNotAllowed.into_response();
    }
    ui::error_page_for(&headers, ui::PageError::MethodNotAllowed)
}
