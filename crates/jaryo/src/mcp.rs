//! `jaryo mcp`: jaryo's MCP server over standard input and output, for desktop assistants
//! that start a command. It opens the data directory and the store as `jaryo serve` does
//! (and so works beside a running `jaryo serve`), runs no draft worker and no HTTP server,
//! and stops when the assistant closes its input. Standard output carries the protocol
//! only: every log line goes to standard error.

use crate::app::Services;
use crate::config::Config;
use crate::token::ensure_token;
use jaryo_http::AppState;
use jaryo_http::auth::ApiToken;

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let services = Services::open(config).await?;
    // The state carries the token for the web UI's session keys; stdio needs none, since
    // whoever can start this command can read the data directory.
    let (token, _) = ensure_token(config.api_token.as_ref(), &config.token_file())?;
    let state = AppState {
        store: services.store.clone(),
        token: ApiToken::new(token),
        gate: services.gate.clone(),
        llm: services.llm.clone(),
        draft_metrics: services.worker.metrics(),
        backup_dir: None,
        files: jaryo_http::api::files::FileLimits {
            max_file_bytes: config.files.max_bytes,
        },
    };
    tracing::info!(
        data_dir = %config.data_dir.display(),
        "jaryo is serving MCP on standard input and output"
    );
    jaryo_http::mcp::serve_stdio(state).await?;
    tracing::info!("the MCP client closed the connection");
    Ok(())
}
