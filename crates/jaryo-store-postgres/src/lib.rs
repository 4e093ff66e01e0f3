//! The PostgreSQL store: for jaryo deployments with several processes or machines on one
//! database (a worker machine beside the web server, several API nodes behind a proxy).
//!
//! Chosen by a `postgres://` (or `postgresql://`) database URL; SQLite stays the default. Its
//! behaviour is the SQLite store's, checked by the same conformance suite; what differs is
//! how concurrency is kept safe across processes:
//! - Every write is one transaction. Reads a write depends on lock their rows (`FOR UPDATE`),
//!   so two processes promoting one memo make one document, and a settlement cannot interleave
//!   with a patch of the same document.
//! - Job claims take due rows `FOR UPDATE SKIP LOCKED`: many workers claim disjoint work
//!   without waiting on each other; leases and fencing tokens work as on SQLite.
//! - Writes that make work ready `NOTIFY jaryo_jobs` (the job kind as payload) in their
//!   transaction; each store `LISTEN`s on a connection of its own and wakes its
//!   [`DraftSignal`], so a promote in one process wakes workers in every other (see
//!   `listener`).
//! - Time comes from the injected [`Clock`], bound as a parameter, never SQL `now()`, so
//!   leases behave the same under a test clock and across machines read the writer's clock.
//!
//! Connection failures, pool exhaustion and statement timeouts are
//! [`StoreError::Unavailable`]; the pool reconnects by itself, so requests fail cleanly while
//! the database is gone and succeed again when it is back.
//!
//! Architecture invariant: SQL lives here and in `migrations/`, nowhere else. An applied
//! migration is never edited; a change is a new migration. Needs PostgreSQL 13 or newer.

mod batch;
mod codec;
mod documents;
mod drafts;
mod files;
mod gate;
mod jobs;
mod listener;
mod memos;
mod review;
mod search;
#[cfg(feature = "testing")]
pub mod testing;

pub use gate::{GATE_CHANNEL, PgSharedSlots, SharedSlotsConfig};
pub use listener::{JOB_CHANNEL, ListenerStatus};

use jaryo_domain::{Clock, DocumentId, SystemClock};
use jaryo_store::tasks::OwnedTasks;
use jaryo_store::{
    ClaimRequest, DraftClaim, DraftQueueStats, DraftSignal, ReindexProgress, ReindexReport,
    SearchIndexStatus, SearchPage, SearchRequest, Settled, Settlement, StoreError, StoreResult,
};
use jaryo_text::ChunkConfig;
use listener::DraftListener;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`).
pub fn is_postgres_url(url: &str) -> bool {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    matches!(scheme, Some(s) if s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql"))
}

/// A database URL that cannot be used. The message never repeats the URL, which may hold a
/// password.
#[derive(Debug, thiserror::Error)]
#[error("the database URL is not a usable postgres:// URL: {reason}")]
pub struct InvalidDatabaseUrl {
    reason: String,
}

/// How to reach the database and how to use it.
#[derive(Clone)]
pub struct PostgresOptions {
    connect: PgConnectOptions,
    /// The most connections this process's requests and workers hold at once. The
    /// notification listener has one more of its own.
    pub max_connections: u32,
    /// How long a call waits for a connection before failing as unavailable.
    pub acquire_timeout: Duration,
    /// The longest a single statement may run before PostgreSQL cancels it (the call then
    /// fails as unavailable). Zero means no limit.
    pub statement_timeout: Duration,
    /// How long opening the store keeps retrying a database it cannot reach, for a person
    /// who starts jaryo before the database is up.
    pub startup_wait: Duration,
    /// How documents' original text is cut into chunks (search hits point at the best one).
    pub chunk: ChunkConfig,
    /// An unfiltered search ranks at most this many of the newest matches of each kind by
    /// relevance, as SQLite's does; older matches follow, unranked.
    pub search_rank_window: u32,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("database", &self.describe())
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("startup_wait", &self.startup_wait)
            .field("chunk", &self.chunk)
            .field("search_rank_window", &self.search_rank_window)
            .finish()
    }
}

impl PostgresOptions {
    /// The defaults for the database at `url`.
    pub fn from_url(url: &str) -> Result<Self, InvalidDatabaseUrl> {
        if !is_postgres_url(url) {
            return Err(InvalidDatabaseUrl {
                reason: "the scheme must be postgres:// or postgresql://".into(),
            });
        }
        let connect = PgConnectOptions::from_str(url).map_err(|error| InvalidDatabaseUrl {
            reason: match error {
                // sqlx's configuration errors name the problem, not the URL.
                sqlx::Error::Configuration(cause) => cause.to_string(),
                _ => "it cannot be parsed".into(),
            },
        })?;
        Ok(Self {
            connect,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            startup_wait: Duration::from_secs(30),
            chunk: ChunkConfig::default(),
            search_rank_window: jaryo_store::ranking::DEFAULT_RANK_WINDOW,
        })
    }

    /// `postgres://user@host:port/database`, without the password: safe to log and show.
    pub fn describe(&self) -> String {
        format!(
            "postgres://{}@{}:{}/{}",
            self.connect.get_username(),
            self.connect.get_host(),
            self.connect.get_port(),
            self.connect
                .get_database()
                .unwrap_or(self.connect.get_username()),
        )
    }

    pub(crate) fn session(
        &self,
        application_name: &str,
        statement_timeout: Duration,
    ) -> PgConnectOptions {
        let statement_timeout_ms = statement_timeout.as_millis().to_string();
        self.connect
            .clone()
            .application_name(application_name)
            .options([("statement_timeout", statement_timeout_ms)])
    }
}

/// The PostgreSQL implementation of [`jaryo_store::Store`].
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    signal: DraftSignal,
    listener: Arc<DraftListener>,
    chunk_config: ChunkConfig,
    search_rank_window: u32,
    batcher: batch::Batcher,
    /// The listener and the batch writers: aborted with the last handle, stopped and awaited
    /// by `close`.
    tasks: Arc<OwnedTasks>,
}

impl PostgresStore {
    /// Connects (waiting up to `options.startup_wait` for the database to be reachable),
    /// applies pending migrations and starts listening for draft notifications.
    pub async fn open(options: &PostgresOptions) -> StoreResult<Self> {
        Self::open_with_clock(options, Arc::new(SystemClock)).await
    }

    pub async fn open_with_clock(
        options: &PostgresOptions,
        clock: Arc<dyn Clock>,
    ) -> StoreResult<Self> {
        let first = connect_when_reachable(options).await?;
        let _ = first.close().await;
        // Migrations run on a session without the statement timeout: a migration on a large
        // database may rightly take longer than any request should. Concurrent starts are
        // safe: sqlx holds an advisory lock while it migrates.
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .connect_lazy_with(options.session("jaryo-migrate", Duration::ZERO));
        let migrated = MIGRATOR.run(&migrating).await;
        migrating.close().await;
        migrated.map_err(|error| match error {
            sqlx::migrate::MigrateError::Execute(error) => codec::map_error(error),
            other => StoreError::internal(other),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            // A connection the database dropped is noticed before a request gets it.
            .test_before_acquire(true)
            .connect_lazy_with(options.session("jaryo", options.statement_timeout));
        let listener_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(options.session("jaryo-listener", Duration::ZERO));
        let signal = DraftSignal::default();
        let tasks = Arc::new(OwnedTasks::default());
        let listener = DraftListener::start(listener_pool, signal.clone(), &tasks);
        let batcher = batch::Batcher::start(pool.clone(), &tasks);
        let store = Self {
            pool,
            clock,
            signal,
            listener: Arc::new(listener),
            chunk_config: options.chunk.clone(),
            search_rank_window: options.search_rank_window.max(1),
            batcher,
            tasks,
        };
        search::stamp_if_empty(&store).await?;
        Ok(store)
    }

    /// Stops listening, waits for statements in flight and closes every connection.
    pub async fn close(&self) {
        self.tasks.shutdown().await;
        self.listener.stop().await;
        self.pool.close().await;
    }

    /// Whether the draft notifications are being received, and how often the listening
    /// connection was (re)established.
    pub fn listener_status(&self) -> tokio::sync::watch::Receiver<ListenerStatus> {
        self.listener.status()
    }

    /// The connection pool, for tests that must show what the database itself refuses.
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.map_err(codec::map_error)
    }
}

/// The first connection, retried with backoff while the database is unreachable (not yet
/// started, restarting), up to `options.startup_wait`. Errors that waiting cannot fix (a
/// wrong password, a missing database) end the wait at once.
async fn connect_when_reachable(options: &PostgresOptions) -> StoreResult<PgConnection> {
    let deadline = Instant::now() + options.startup_wait;
    let mut delay = Duration::from_millis(100);
    let mut attempt = 1u32;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let per_attempt = options.acquire_timeout.max(Duration::from_secs(1));
        let outcome = tokio::time::timeout(
            per_attempt.min(remaining.max(Duration::from_millis(100))),
            PgConnection::connect_with(&options.session("jaryo", options.statement_timeout)),
        )
        .await;
        let error = match outcome {
            Ok(Ok(connection)) => return Ok(connection),
            Ok(Err(error)) => codec::map_error(error),
            Err(_elapsed) => StoreError::Unavailable(
                format!("no answer within {} ms", per_attempt.as_millis()).into(),
            ),
        };
        let StoreError::Unavailable(cause) = error else {
            return Err(error);
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(StoreError::Unavailable(cause));
        }
        tracing::warn!(
            database = %options.describe(),
            attempt,
            error = %cause,
            retry_in_ms = delay.min(remaining).as_millis() as u64,
            "the database is not reachable yet; retrying"
        );
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(Duration::from_secs(5));
        attempt += 1;
    }
}

#[async_trait::async_trait]
impl jaryo_store::FileStore for PostgresStore {
    async fn begin_upload(&self) -> StoreResult<jaryo_store::UploadId> {
        files::begin_upload(self).await
    }

    async fn append_upload(
        &self,
        upload: jaryo_store::UploadId,
        seq: u32,
        bytes: &[u8],
    ) -> StoreResult<()> {
        files::append_upload(self, upload, seq, bytes).await
    }

    async fn finish_upload(
        &self,
        upload: jaryo_store::UploadId,
        finished: &jaryo_store::FinishedUpload,
    ) -> StoreResult<jaryo_store::FileIntake> {
        files::finish_upload(self, upload, finished).await
    }

    async fn abandon_upload(&self, upload: jaryo_store::UploadId) -> StoreResult<()> {
        files::abandon_upload(self, upload).await
    }

    async fn files_of(
        &self,
        documents: &[jaryo_domain::DocumentId],
    ) -> StoreResult<Vec<jaryo_store::StoredFile>> {
        files::files_of(self, documents).await
    }

    async fn read_file_piece(
        &self,
        document: jaryo_domain::DocumentId,
        seq: u32,
    ) -> StoreResult<Option<Vec<u8>>> {
        files::read_file_piece(self, document, seq).await
    }

    async fn settle_extraction(
        &self,
        claim: &jaryo_store::JobClaim,
        outcome: &jaryo_store::JobOutcome,
        result: Option<&jaryo_store::ExtractedFile>,
    ) -> StoreResult<jaryo_store::Settled> {
        files::settle_extraction(self, claim, outcome, result).await
    }
}

#[async_trait::async_trait]
impl jaryo_store::Store for PostgresStore {
    async fn create_memo(&self, text: &jaryo_domain::MemoText) -> StoreResult<jaryo_domain::Memo> {
        memos::create(self, text).await
    }

    async fn get_memo(&self, id: jaryo_domain::MemoId) -> StoreResult<jaryo_domain::Memo> {
        memos::get(&self.pool, id).await
    }

    async fn list_memos(
        &self,
        filter: &jaryo_store::MemoFilter,
        page: jaryo_store::PageRequest,
    ) -> StoreResult<jaryo_store::Page<jaryo_domain::Memo>> {
        memos::list(&self.pool, filter, page).await
    }

    async fn list_tags(&self) -> StoreResult<Vec<jaryo_store::TagCount>> {
        memos::tag_counts(&self.pool).await
    }

    async fn update_memo(
        &self,
        id: jaryo_domain::MemoId,
        text: &jaryo_domain::MemoText,
        expected_version: Option<i64>,
    ) -> StoreResult<jaryo_domain::Memo> {
        memos::update(self, id, text, expected_version).await
    }

    async fn delete_memo(&self, id: jaryo_domain::MemoId) -> StoreResult<()> {
        memos::delete(self, id).await
    }

    async fn promote_memo(&self, id: jaryo_domain::MemoId) -> StoreResult<jaryo_domain::Document> {
        documents::promote(self, id).await
    }

    async fn create_document(
        &self,
        new: &jaryo_store::NewDocument,
    ) -> StoreResult<jaryo_domain::Document> {
        documents::create(self, new).await
    }

    async fn get_document(
        &self,
        id: jaryo_domain::DocumentId,
    ) -> StoreResult<jaryo_domain::Document> {
        documents::get(&self.pool, id).await
    }

    async fn list_documents(
        &self,
        filter: &jaryo_store::DocumentFilter,
        page: jaryo_store::PageRequest,
    ) -> StoreResult<jaryo_store::Page<jaryo_domain::Document>> {
        documents::list(&self.pool, filter, page).await
    }

    async fn update_document(
        &self,
        id: jaryo_domain::DocumentId,
        patch: &jaryo_store::DocumentPatch,
    ) -> StoreResult<jaryo_domain::Document> {
        documents::update(self, id, patch).await
    }

    async fn delete_document(&self, id: jaryo_domain::DocumentId) -> StoreResult<()> {
        documents::delete(self, id).await
    }

    async fn claim_drafts(&self, request: &ClaimRequest) -> StoreResult<Vec<DraftClaim>> {
        drafts::claim(self, request).await
    }

    async fn release_dead_leases(&self, predecessor: &str) -> StoreResult<u64> {
        jobs::release_dead_leases(self, predecessor).await
    }

    async fn renew_draft_lease(&self, claim: &DraftClaim, lease: Duration) -> StoreResult<bool> {
        jobs::renew(self, &claim.job, lease).await
    }

    async fn settle_draft(
        &self,
        claim: &DraftClaim,
        settlement: &Settlement,
    ) -> StoreResult<Settled> {
        drafts::settle(self, claim, settlement).await
    }

    async fn request_redraft(
        &self,
        id: jaryo_domain::DocumentId,
    ) -> StoreResult<jaryo_domain::Document> {
        drafts::redraft(self, id).await
    }

    async fn accept_draft(
        &self,
        id: jaryo_domain::DocumentId,
        accept: &jaryo_store::AcceptDraft,
    ) -> StoreResult<jaryo_domain::Document> {
        review::accept(self, id, accept).await
    }

    async fn reject_draft(
        &self,
        id: jaryo_domain::DocumentId,
        reject: &jaryo_store::RejectDraft,
    ) -> StoreResult<jaryo_domain::Document> {
        review::reject(self, id, reject).await
    }

    async fn regenerate_draft(
        &self,
        id: jaryo_domain::DocumentId,
        by: jaryo_store::Reviewer,
    ) -> StoreResult<jaryo_domain::Document> {
        review::regenerate(self, id, by).await
    }

    async fn draft_queue_stats(&self) -> StoreResult<DraftQueueStats> {
        jobs::stats(self, jaryo_store::JobKind::Draft).await
    }

    fn draft_signal(&self) -> &DraftSignal {
        &self.signal
    }

    async fn enqueue_job(
        &self,
        kind: jaryo_store::JobKind,
        document: DocumentId,
        priority: i32,
    ) -> StoreResult<jaryo_store::JobId> {
        jobs::enqueue(self, kind, document, priority).await
    }

    async fn claim_jobs(
        &self,
        kind: jaryo_store::JobKind,
        request: &ClaimRequest,
    ) -> StoreResult<Vec<jaryo_store::JobClaim>> {
        jobs::claim(self, kind, request).await
    }

    async fn renew_job_lease(
        &self,
        claim: &jaryo_store::JobClaim,
        lease: Duration,
    ) -> StoreResult<bool> {
        jobs::renew(self, claim, lease).await
    }

    async fn settle_job(
        &self,
        claim: &jaryo_store::JobClaim,
        outcome: &jaryo_store::JobOutcome,
    ) -> StoreResult<Settled> {
        jobs::settle(self, claim, outcome).await
    }

    async fn pause_jobs(
        &self,
        kind: jaryo_store::JobKind,
        pause: &jaryo_store::JobPause,
    ) -> StoreResult<()> {
        jobs::pause(self, kind, pause).await
    }

    async fn resume_jobs(&self, kind: jaryo_store::JobKind) -> StoreResult<()> {
        jobs::resume(self, kind).await
    }

    async fn job_stats(
        &self,
        kind: jaryo_store::JobKind,
    ) -> StoreResult<jaryo_store::JobQueueStats> {
        jobs::stats(self, kind).await
    }

    async fn select_drafts(
        &self,
        selection: &jaryo_store::DraftSelection,
        after: Option<DocumentId>,
        limit: u32,
    ) -> StoreResult<Vec<DocumentId>> {
        drafts::select(self, selection, after, limit).await
    }

    async fn search(&self, request: &SearchRequest) -> StoreResult<SearchPage> {
        search::search(self, request).await
    }

    async fn search_index_status(&self) -> StoreResult<SearchIndexStatus> {
        search::status(self).await
    }

    async fn reindex(
        &self,
        progress: &(dyn Fn(ReindexProgress) + Send + Sync),
    ) -> StoreResult<ReindexReport> {
        search::reindex(self, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_schemes_are_postgres_urls() {
        assert!(is_postgres_url("postgres://u@h/db"));
        assert!(is_postgres_url("postgresql://u@h/db"));
        assert!(is_postgres_url("POSTGRES://u@h/db"));
        assert!(!is_postgres_url("sqlite://jaryo.db"));
        assert!(!is_postgres_url("jaryo-data/jaryo.db"));
        assert!(!is_postgres_url("postgres:/u@h/db"));
    }

    #[test]
    fn the_description_and_debug_output_never_show_the_password() {
        let options =
            PostgresOptions::from_url("postgres://jaryo:hunter2-secret@db.local:6543/notes")
                .unwrap();
        assert_eq!(options.describe(), "postgres://jaryo@db.local:6543/notes");
        assert!(!format!("{options:?}").contains("hunter2"));
        let error = PostgresOptions::from_url("mysql://jaryo:hunter2-secret@db.local/notes")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
