//! The embedded SQLite store: jaryo's default, one file at `<data-dir>/jaryo.db`.
//!
//! How writes stay out of each other's way, so "database is locked" never reaches a person:
//! - WAL journal: readers never block the writer, nor the writer readers.
//! - All writes of this process go through one connection (a pool of one), so they queue in
//!   the pool instead of racing for SQLite's lock. Reads use a separate pool of read-only
//!   connections; searches one of their own (`search_pool`: synchronous connections, a whole
//!   search per call).
//! - Every write transaction starts with `BEGIN IMMEDIATE`, taking the write lock before its
//!   first read; a deferred transaction that reads and then writes can fail at once with
//!   `SQLITE_BUSY_SNAPSHOT` when another process wrote in between, busy timeout or not.
//! - A busy timeout covers the remaining case: another process (`jaryo worker` beside
//!   `jaryo serve`) holding the lock for a moment.
//!
//! Architecture invariant: SQL lives here and in `migrations/`, nowhere else. An applied
//! migration is never edited; a change is a new migration.

pub mod backup;
mod batch;
mod codec;
mod documents;
mod drafts;
mod files;
mod index_merge;
mod jobs;
mod memos;
mod review;
mod search;
mod search_pool;

pub use search::DEFAULT_RANK_WINDOW;

/// How much of the database file each read connection maps into memory (address space, not
/// memory: the pages are the OS's file cache, shared by every connection).
const READER_MMAP_BYTES: u64 = 1 << 30;

use jaryo_domain::{Clock, SystemClock};
use jaryo_store::tasks::OwnedTasks;
use jaryo_store::{
    ClaimRequest, DraftClaim, DraftQueueStats, DraftSignal, ReindexProgress, ReindexReport,
    SearchIndexStatus, SearchPage, SearchRequest, Settled, Settlement, StoreError, StoreResult,
};
use jaryo_text::ChunkConfig;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The database file's name inside the data directory.
pub const DATABASE_FILE_NAME: &str = "jaryo.db";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How to open the database.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    /// Read-only connections serving reads in parallel with the writer (and as many again
    /// serving searches).
    pub read_connections: u32,
    /// How long a statement waits for another process's write lock before failing.
    pub busy_timeout: Duration,
    /// How documents' original text is cut into chunks (search hits point at the best one).
    pub chunk: ChunkConfig,
    /// An unfiltered search ranks at most this many of the newest matches of each kind by
    /// relevance; older matches follow, unranked (see the search module).
    pub search_rank_window: u32,
    /// How long writes must pause before the search index is merged into one segment (when
    /// worth it; see the `index_merge` module).
    pub index_merge_idle: Duration,
}

impl SqliteOptions {
    /// The defaults for `<data_dir>/jaryo.db`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::at(data_dir.join(DATABASE_FILE_NAME))
    }

    pub fn at(path: PathBuf) -> Self {
        Self {
            path,
            read_connections: 4,
            busy_timeout: Duration::from_secs(30),
            search_rank_window: search::DEFAULT_RANK_WINDOW,
            chunk: ChunkConfig::default(),
            index_merge_idle: Duration::from_secs(2),
        }
    }
}

/// The SQLite implementation of [`jaryo_store::Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    search_pool: Arc<search_pool::SearchPool>,
    clock: Arc<dyn Clock>,
    signal: DraftSignal,
    chunk_config: ChunkConfig,
    search_rank_window: u32,
    batcher: batch::Batcher,
    /// The background checkpointer's connection; closing it stops the checkpointer.
    checkpointer: SqlitePool,
    /// The batch writer, the checkpointer and the index merge: aborted with the last handle,
    /// stopped and awaited by `close`.
    tasks: Arc<OwnedTasks>,
    /// Held while any clone of the store lives; the checkpointer stops when it is gone.
    _alive: Arc<()>,
}

/// How often the WAL is copied back into the database file, off the write path.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// WAL pages after which the writer checkpoints by itself: a safety net, should the
/// background checkpoints fall behind.
const WRITER_CHECKPOINT_PAGES: &str = "20000";

impl SqliteStore {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub async fn open(options: &SqliteOptions) -> StoreResult<Self> {
        Self::open_with_clock(options, Arc::new(SystemClock)).await
    }

    pub async fn open_with_clock(
        options: &SqliteOptions,
        clock: Arc<dyn Clock>,
    ) -> StoreResult<Self> {
        let connect = SqliteConnectOptions::new()
            .filename(&options.path)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL loses no committed data on a process crash; only a power cut can
            // drop the last transactions, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(
                connect
                    .clone()
                    .create_if_missing(true)
                    // Checkpoints run in the background (`checkpoint_in_background`): a commit
                    // that checkpoints makes every write queued behind it wait.
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES),
            )
            .await
            .map_err(codec::map_error)?;
        MIGRATOR.run(&writer).await.map_err(StoreError::internal)?;
        let reader = open_readers(&connect, options.read_connections).await?;
        let search_pool = Arc::new(search_pool::SearchPool::new(
            search_pool::SearchConnectOptions {
                path: options.path.clone(),
                busy_timeout: options.busy_timeout,
                mmap_bytes: READER_MMAP_BYTES,
            },
            options.read_connections,
        ));
        let tasks = Arc::new(OwnedTasks::default());
        let batcher = batch::Batcher::start(writer.clone(), &tasks);
        let alive = Arc::new(());
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(connect.clone())
            .await
            .map_err(codec::map_error)?;
        tasks.spawn(checkpoint_in_background(
            checkpointer.clone(),
            Arc::downgrade(&alive),
        ));
        let watcher = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(
            &connect.clone().read_only(true),
        )
        .await
        .map_err(codec::map_error)?;
        tasks.spawn(index_merge::merge_when_idle(
            writer.clone(),
            watcher,
            options.index_merge_idle.max(Duration::from_millis(10)),
            Arc::downgrade(&alive),
        ));
        let store = Self {
            writer,
            reader,
            search_pool,
            clock,
            signal: DraftSignal::default(),
            chunk_config: options.chunk.clone(),
            search_rank_window: options.search_rank_window.max(1),
            batcher,
            checkpointer,
            tasks,
            _alive: alive,
        };
        search::stamp_if_empty(&store).await?;
        Ok(store)
    }

    /// Waits for in-flight statements and closes every connection. (Dropping the last clone of
    /// the store stops the background checkpointer too.)
    pub async fn close(&self) {
        self.tasks.shutdown().await;
        self.checkpointer.close().await;
        self.search_pool.close().await;
        self.reader.close().await;
        self.writer.close().await;
    }

    /// The write connection, for tests that must show what the database itself refuses.
    #[doc(hidden)]
    pub fn writer_pool_for_tests(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(codec::map_error)
    }
}

/// The pool of read-only connections serving reads beside the writer.
async fn open_readers(connect: &SqliteConnectOptions, connections: u32) -> StoreResult<SqlitePool> {
    SqlitePoolOptions::new()
        .max_connections(connections.max(1))
        .acquire_timeout(Duration::from_secs(60))
        // A connection to a local file cannot go stale; the check would cost a round trip
        // to SQLite's thread on every read.
        .test_before_acquire(false)
        .connect_with(
            connect
                .clone()
                .read_only(true)
                // Readers map the file instead of copying pages into a cache of their own:
                // every read connection shares the OS's cache, warm whichever one a request
                // gets (writes still go through the writer's page cache and the WAL).
                .pragma("mmap_size", READER_MMAP_BYTES.to_string()),
        )
        .await
        .map_err(codec::map_error)
}

#[async_trait::async_trait]
impl jaryo_store::FileStore for SqliteStore {
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
    ) -> StoreResult<Settled> {
        files::settle_extraction(self, claim, outcome, result).await
    }
}

#[async_trait::async_trait]
impl jaryo_store::Store for SqliteStore {
    async fn create_memo(&self, text: &jaryo_domain::MemoText) -> StoreResult<jaryo_domain::Memo> {
        memos::create(self, text).await
    }

    async fn get_memo(&self, id: jaryo_domain::MemoId) -> StoreResult<jaryo_domain::Memo> {
        memos::get(&self.reader, id).await
    }

    async fn list_memos(
        &self,
        filter: &jaryo_store::MemoFilter,
        page: jaryo_store::PageRequest,
    ) -> StoreResult<jaryo_store::Page<jaryo_domain::Memo>> {
        memos::list(&self.reader, filter, page).await
    }

    async fn list_tags(&self) -> StoreResult<Vec<jaryo_store::TagCount>> {
        memos::tag_counts(&self.reader).await
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
        documents::get(&self.reader, id).await
    }

    async fn list_documents(
        &self,
        filter: &jaryo_store::DocumentFilter,
        page: jaryo_store::PageRequest,
    ) -> StoreResult<jaryo_store::Page<jaryo_domain::Document>> {
        documents::list(&self.reader, filter, page).await
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
        document: jaryo_domain::DocumentId,
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
        after: Option<jaryo_domain::DocumentId>,
        limit: u32,
    ) -> StoreResult<Vec<jaryo_domain::DocumentId>> {
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

/// Copies the WAL back into the database file every [`CHECKPOINT_EVERY`], on a connection of
/// its own, so that no commit pays for it. A passive checkpoint never blocks the writer nor the
/// readers; the writer restarts the WAL from the beginning once everything in it is copied.
async fn checkpoint_in_background(pool: SqlitePool, alive: std::sync::Weak<()>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if alive.upgrade().is_none() || pool.is_closed() {
            break;
        }
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::debug!(%error, "background checkpoint failed; the next one will retry");
        }
    }
    pool.close().await;
}
