//! Assembles a running jaryo from its configuration: the store, the HTTP server, and (in
//! later stages) the workers. `jaryo serve` and the integration tests both start jaryo through
//! [`App::start`], so the tests exercise the real wiring.

use crate::config::Config;
use crate::token::{TokenOrigin, ensure_token};
use anyhow::Context;
use jaryo_http::auth::ApiToken;
use jaryo_http::{AppState, HttpConfig};
use jaryo_store::Store;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a running server writes to `<data-dir>/server.json`, so CLI commands can find it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerAddress {
    pub url: String,
    pub pid: u32,
}

/// A running jaryo.
pub struct App {
    pub local_addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub token: SecretString,
    pub token_origin: TokenOrigin,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    address_file: std::path::PathBuf,
}

impl App {
    /// Opens the data directory and the store, and starts serving.
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        create_private_dir(&config.data_dir)?;
        let (token, token_origin) = ensure_token(config.api_token.as_ref(), &config.token_file())?;
        let store = open_store(config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let state = AppState {
            store: store.clone(),
            token: ApiToken::new(token.clone()),
        };
        let http = HttpConfig {
            max_body_bytes: config.max_body_bytes,
        };
        let router = jaryo_http::router(state, &http);
        let (shutdown, mut stop) = watch::channel(false);
        let server = tokio::spawn(jaryo_http::serve(listener, router, async move {
            let _ = stop.wait_for(|stop| *stop).await;
        }));
        let address_file = config.address_file();
        write_address_file(
            &address_file,
            &ServerAddress {
                url: format!("http://{local_addr}"),
                pid: std::process::id(),
            },
        )?;
        Ok(Self {
            local_addr,
            store,
            token,
            token_origin,
            shutdown,
            server,
            address_file,
        })
    }

    /// The server's root URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops taking new connections, lets requests in flight finish, and closes the store.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.server.await.context("the HTTP server task failed")?;
        remove_address_file(&self.address_file);
        served.context("the HTTP server failed")?;
        Ok(())
    }
}

/// Opens the configured store, applying pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let options = SqliteOptions::in_data_dir(&config.data_dir);
    let store = SqliteStore::open(&options)
        .await
        .with_context(|| format!("cannot open the database {}", options.path.display()))?;
    Ok(Arc::new(store))
}

/// Creates `dir` (and parents) readable only by its owner when it is new.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
}

fn write_address_file(path: &Path, address: &ServerAddress) -> anyhow::Result<()> {
    // Write then rename, so a reader never sees half a file.
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, serde_json::to_vec_pretty(address)?)
        .and_then(|()| std::fs::rename(&temporary, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn remove_address_file(path: &Path) {
    // Only remove the file if it is still ours: another server may have started since.
    let ours = std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<ServerAddress>(&bytes).ok())
        .is_some_and(|address| address.pid == std::process::id());
    if ours {
        let _ = std::fs::remove_file(path);
    }
}

/// The address a server in `data_dir` wrote, if any.
pub fn read_address_file(path: &Path) -> Option<ServerAddress> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}
