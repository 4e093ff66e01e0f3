//! Assembles a running jaryo from its configuration: the store, the model client and the LLM
//! gate, the draft worker, and the HTTP server. `jaryo serve` ([`App::start`]) runs the server
//! and the worker; `jaryo worker` ([`WorkerOnly::start`]) only the worker. The integration
//! tests start jaryo the same way, so they exercise the real wiring.

use crate::config::Config;
use crate::seat::WorkerSeat;
use crate::token::{TokenOrigin, ensure_token};
use anyhow::Context;
use jaryo_gate::Gate;
use jaryo_http::auth::ApiToken;
use jaryo_http::{AppState, HttpConfig};
use jaryo_llm::LlmClient;
use jaryo_model::ChatModel;
use jaryo_store::Store;
use jaryo_store_postgres::{PostgresOptions, PostgresStore};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use jaryo_worker::{DraftWorker, ExtractionWorker, WorkerParts};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

/// What a running server writes to `<data-dir>/server.json`, so CLI commands can find it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerAddress {
    pub url: String,
    pub pid: u32,
}

/// The parts every running jaryo has: the store, the model, the gate, the worker.
pub struct Services {
    pub store: Arc<dyn Store>,
    /// The model behind the seam; the one place a backend is chosen is [`chat_model`].
    pub llm: Arc<dyn ChatModel>,
    pub gate: Gate,
    pub worker: DraftWorker,
    /// Reads uploaded files' text (the `extract` jobs).
    pub extraction: ExtractionWorker,
    /// Held while this process lives; names the worker's leases.
    pub seat: WorkerSeat,
}

impl Services {
    /// Opens the data directory and the store, and builds the model client, gate and worker.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        create_private_dir(&config.data_dir)?;
        tighten_data_dir(&config.data_dir)?;
        let store = open_store(config).await?;
        reindex_if_stale(store.as_ref()).await?;
        let seat = take_seat(config, store.as_ref()).await?;
        let llm = chat_model(config)?;
        let gate = match shared_gate_slots(config)? {
            Some(slots) => Gate::with_shared_slots(config.llm.gate.clone(), slots),
            None => Gate::new(config.llm.gate.clone()),
        };
        let worker = DraftWorker::named(
            WorkerParts {
                store: store.clone(),
                llm: llm.clone(),
                gate: gate.clone(),
                config: config.draft.clone(),
                fidelity: config.fidelity.clone(),
                clock: Arc::new(jaryo_domain::SystemClock),
            },
            seat.owner.clone(),
        );
        let extraction = ExtractionWorker::new(
            store.clone(),
            config.files.extraction()?,
            seat.owner.clone(),
            Arc::new(jaryo_domain::SystemClock),
        );
        Ok(Self {
            store,
            llm,
            gate,
            worker,
            extraction,
            seat,
        })
    }

    /// Runs the extraction worker until `shutdown` fires; the task is its owner's.
    fn spawn_extraction(&self, shutdown: CancellationToken) -> AbortOnDropHandle<()> {
        let extraction = self.extraction.clone();
        AbortOnDropHandle::new(tokio::spawn(async move { extraction.run(shutdown).await }))
    }

    /// Runs the draft worker until `shutdown` fires; with drafting disabled (`[draft] enabled
    /// = false`), only waits for it. The task is its owner's: awaited on stop, aborted if the
    /// owner is dropped first.
    fn spawn_worker(&self, config: &Config, shutdown: CancellationToken) -> AbortOnDropHandle<()> {
        let worker = self.worker.clone();
        if !config.draft.enabled {
            tracing::info!("drafting is disabled in this process ([draft] enabled = false)");
            return AbortOnDropHandle::new(tokio::spawn(async move { shutdown.cancelled().await }));
        }
        AbortOnDropHandle::new(tokio::spawn(async move { worker.run(shutdown).await }))
    }
}

/// A running jaryo: HTTP server and draft worker.
pub struct App {
    pub local_addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub llm: Arc<dyn ChatModel>,
    pub gate: Gate,
    pub worker: DraftWorker,
    pub token: SecretString,
    pub token_origin: TokenOrigin,
    shutdown: watch::Sender<bool>,
    // Every task this app spawns is held here: awaited by `stop`, aborted if the app is
    // dropped without it (a test that ends early), never left running on its own.
    server: AbortOnDropHandle<std::io::Result<()>>,
    stop_worker: CancellationToken,
    worker_task: AbortOnDropHandle<()>,
    extraction_task: AbortOnDropHandle<()>,
    inbox_task: Option<AbortOnDropHandle<()>>,
    address_file: std::path::PathBuf,
    backup_task: Option<AbortOnDropHandle<()>>,
    _seat: WorkerSeat,
}

impl App {
    /// Opens the data directory and the store, starts the draft worker, and starts serving.
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        let services = Services::open(config).await?;
        let (token, token_origin) = ensure_token(config.api_token.as_ref(), &config.token_file())?;
        let store = services.store.clone();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;
        let state = AppState {
            store: store.clone(),
            token: ApiToken::new(token.clone()),
            gate: services.gate.clone(),
            llm: services.llm.clone(),
            draft_metrics: services.worker.metrics(),
            backup_dir: (config.database_url.is_none() && config.backup.interval()?.is_some())
                .then(|| config.backup.dir(&config.data_dir)),
            files: jaryo_http::api::files::FileLimits {
                max_file_bytes: config.files.max_bytes,
            },
        };
        let http = HttpConfig {
            max_body_bytes: config.max_body_bytes,
        };
        let router = jaryo_http::router(state, &http);
        let (shutdown, mut stop) = watch::channel(false);
        let server = AbortOnDropHandle::new(tokio::spawn(jaryo_http::serve(
            listener,
            router,
            async move {
                let _ = stop.wait_for(|stop| *stop).await;
            },
        )));
        let stop_worker = CancellationToken::new();
        let worker_task = services.spawn_worker(config, stop_worker.clone());
        let extraction_task = services.spawn_extraction(stop_worker.clone());
        let inbox_task = config.files.inbox.clone().map(|inbox| {
            AbortOnDropHandle::new(tokio::spawn(crate::files::watch_inbox(
                store.clone(),
                config.files.clone(),
                inbox,
                stop_worker.clone(),
            )))
        });
        let backup_task = match (config.backup.interval()?, &config.database_url) {
            (Some(every), None) => Some(AbortOnDropHandle::new(tokio::spawn(
                crate::backups::run_schedule(config.clone(), every, stop_worker.clone()),
            ))),
            (Some(_), Some(_)) => {
                tracing::warn!("[backup] schedules SQLite backups; on PostgreSQL use pg_dump");
                None
            }
            (None, _) => None,
        };
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
            llm: services.llm,
            gate: services.gate,
            worker: services.worker,
            token,
            token_origin,
            shutdown,
            server,
            stop_worker,
            worker_task,
            extraction_task,
            inbox_task,
            address_file,
            backup_task,
            _seat: services.seat,
        })
    }

    /// The server's root URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Stops taking new connections and lets requests in flight finish; lets drafts in
    /// flight finish within the grace period and releases the rest.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.stop_worker.cancel();
        let served = self.server.await.context("the HTTP server task failed")?;
        remove_address_file(&self.address_file);
        self.worker_task
            .await
            .context("the draft worker task failed")?;
        self.extraction_task
            .await
            .context("the extraction worker task failed")?;
        if let Some(inbox) = self.inbox_task {
            inbox.await.context("the inbox task failed")?;
        }
        if let Some(backups) = self.backup_task {
            backups.await.context("the backup task failed")?;
        }
        served.context("the HTTP server failed")?;
        Ok(())
    }
}

/// A running `jaryo worker`: the draft worker without the HTTP server, for a machine beside the
/// one serving people.
pub struct WorkerOnly {
    pub services: Services,
    stop_worker: CancellationToken,
    worker_task: AbortOnDropHandle<()>,
    extraction_task: AbortOnDropHandle<()>,
}

impl WorkerOnly {
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        anyhow::ensure!(
            config.draft.enabled,
            "drafting is disabled ([draft] enabled = false / JARYO_DRAFT_ENABLED), so a worker \
             has nothing to do"
        );
        let services = Services::open(config).await?;
        let stop_worker = CancellationToken::new();
        let worker_task = services.spawn_worker(config, stop_worker.clone());
        let extraction_task = services.spawn_extraction(stop_worker.clone());
        Ok(Self {
            services,
            stop_worker,
            worker_task,
            extraction_task,
        })
    }

    /// Lets drafts in flight finish within the grace period and releases the rest.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop_worker.cancel();
        self.worker_task
            .await
            .context("the draft worker task failed")?;
        self.extraction_task
            .await
            .context("the extraction worker task failed")?;
        Ok(())
    }
}

/// The configured chat model: today always an OpenAI-compatible server (`[llm]`). A new
/// backend is chosen here, and nowhere else knows which one answers.
fn chat_model(config: &Config) -> anyhow::Result<Arc<dyn ChatModel>> {
    let client = LlmClient::new(config.llm.client.clone())
        .context("invalid model server settings ([llm] / JARYO_LLM_*)")?;
    Ok(Arc::new(client))
}

/// Opens the configured store, applying pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    config
        .chunk
        .validate()
        .context("invalid [chunk] configuration")?;
    if config.search.rank_window == 0 {
        anyhow::bail!("invalid [search] configuration: rank_window must be at least 1");
    }
    if let Some(url) = &config.database_url {
        return open_postgres(config, url.expose_secret()).await;
    }
    let options = SqliteOptions {
        chunk: config.chunk.clone(),
        search_rank_window: config.search.rank_window,
        ..SqliteOptions::in_data_dir(&config.data_dir)
    };
    create_private_file(&options.path)?;
    let store = SqliteStore::open(&options)
        .await
        .with_context(|| format!("cannot open the database {}", options.path.display()))?;
    Ok(Arc::new(store))
}

/// Opens the PostgreSQL database `url` names (`database_url`), waiting up to
/// `[postgres] startup_wait_secs` for it to come up.
async fn open_postgres(config: &Config, url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let options = postgres_options(config, url)?;
    let settings = &config.postgres;
    let database = options.describe();
    tracing::info!(%database, "opening the PostgreSQL database");
    let failed = match settings.startup_wait_secs {
        0 => format!("cannot open the PostgreSQL database {database}"),
        wait => format!(
            "cannot open the PostgreSQL database {database} (waited up to {wait} s; \
             [postgres] startup_wait_secs / JARYO_POSTGRES_STARTUP_WAIT_SECS)"
        ),
    };
    let store = PostgresStore::open(&options).await.context(failed)?;
    Ok(Arc::new(store))
}

/// The PostgreSQL connection settings for `url` from the configuration.
fn postgres_options(config: &Config, url: &str) -> anyhow::Result<PostgresOptions> {
    if !jaryo_store_postgres::is_postgres_url(url) {
        anyhow::bail!(
            "database_url must be a postgres:// or postgresql:// URL; leave it unset for the \
             embedded SQLite database in the data directory"
        );
    }
    let settings = &config.postgres;
    let mut options = PostgresOptions::from_url(url)?;
    options.max_connections = settings.max_connections;
    options.acquire_timeout = Duration::from_millis(settings.acquire_timeout_ms);
    options.statement_timeout = Duration::from_millis(settings.statement_timeout_ms);
    options.startup_wait = Duration::from_secs(settings.startup_wait_secs);
    options.chunk = config.chunk.clone();
    options.search_rank_window = config.search.rank_window;
    Ok(options)
}

/// On PostgreSQL, the LLM gate's slots shared with every other process on the database, so the
/// model server's limit (`[llm] concurrency`) holds across processes and machines; on SQLite
/// (one machine, usually one process) none.
fn shared_gate_slots(config: &Config) -> anyhow::Result<Option<Arc<dyn jaryo_gate::SharedSlots>>> {
    let Some(url) = &config.database_url else {
        return Ok(None);
    };
    let options = postgres_options(config, url.expose_secret())?;
    let gate = &config.llm.gate;
    let slots = jaryo_store_postgres::PgSharedSlots::start(
        &options,
        jaryo_store_postgres::SharedSlotsConfig {
            slots: gate.concurrency.max(1),
            preempt: gate.preempt,
            background_max_wait: Duration::from_millis(gate.background_max_wait_ms),
            lease: Duration::from_secs(config.postgres.gate_lease_secs.max(1)),
        },
    );
    Ok(Some(Arc::new(slots)))
}

/// Rebuilds the search index when it was built by another analyzer version or its chunks with
/// other `[chunk]` settings (after an upgrade, on a database from before search), so nothing
/// is served from an index the running code would not have made.
pub async fn reindex_if_stale(store: &dyn Store) -> anyhow::Result<()> {
    let status = store.search_index_status().await?;
    if !status.stale {
        return Ok(());
    }
    tracing::info!(
        items = status.items,
        built_by = status.analyzer_version,
        analyzer = jaryo_text::ANALYZER_VERSION,
        "rebuilding the search index"
    );
    let started = std::time::Instant::now();
    let report = store
        .reindex(&|_| {})
        .await
        .context("cannot rebuild the search index")?;
    tracing::info!(
        memos = report.memos,
        documents = report.documents,
        chunks = report.chunks,
        seconds = started.elapsed().as_secs_f64(),
        "search index rebuilt"
    );
    Ok(())
}

/// Takes this process's worker seat and hands back at once the drafts that dead processes of
/// this data directory left running, instead of letting them wait out their leases.
async fn take_seat(config: &Config, store: &dyn Store) -> anyhow::Result<WorkerSeat> {
    let mut seat = WorkerSeat::take(&config.data_dir)?;
    for predecessor in &seat.dead {
        let released = store
            .release_dead_leases(predecessor)
            .await
            .context("cannot hand back the drafts of a stopped worker")?;
        if released > 0 {
            tracing::info!(
                released,
                predecessor = %predecessor,
                "drafts left running by a stopped jaryo went back to the queue"
            );
        }
    }
    seat.leave_the_dead();
    Ok(seat)
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

/// Notes are private: the data directory is its owner's alone (0700) and so is every file in
/// it (0600). A directory or file an older jaryo (or a person) left readable by others is
/// tightened here, at start, with a log line saying so.
pub fn tighten_data_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let tighten = |path: &Path, mode: u32| -> anyhow::Result<()> {
            let metadata = std::fs::symlink_metadata(path)
                .with_context(|| format!("cannot read the permissions of {}", path.display()))?;
            let was = metadata.permissions().mode() & 0o777;
            if was & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(was & mode))
                    .with_context(|| format!("cannot restrict {}", path.display()))?;
                tracing::warn!(
                    path = %path.display(),
                    was = format!("{was:o}"),
                    now = format!("{:o}", was & mode),
                    "tightened permissions: others could read your notes"
                );
            }
            Ok(())
        };
        tighten(dir, 0o700)?;
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the data directory {}", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                tighten(&entry.path(), 0o600)?;
            }
        }
    }
    Ok(())
}

/// Creates `path` empty and 0600 when it does not exist. The SQLite database is created
/// here before SQLite opens it, because SQLite gives its WAL and shared-memory files the
/// database file's permissions (and would create the database 0644 under the usual umask).
fn create_private_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => {
            Err(error).with_context(|| format!("cannot create the database {}", path.display()))
        }
    }
}

fn write_address_file(path: &Path, address: &ServerAddress) -> anyhow::Result<()> {
    // Write then rename, so a reader never sees half a file; private like everything else in
    // the data directory.
    let temporary = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&temporary);
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(&serde_json::to_vec_pretty(address)?)?;
        std::fs::rename(&temporary, path)
    };
    write().with_context(|| format!("cannot write {}", path.display()))
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
