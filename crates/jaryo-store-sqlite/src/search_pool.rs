//! The connections searches run on: read-only, synchronous (rusqlite), each search one
//! closure on one connection on tokio's blocking threads.
//!
//! Why not sqlx's pool, as every other read: a search is CPU work inside SQLite and
//! `jaryo-text` — ranking a few hundred matches, reading a page of items, snippets — of about
//! a millisecond. Through sqlx each statement is a message to the connection's own thread and
//! each row a message back, so the search read its page as one JSON value that SQLite built,
//! escaping every text, and Rust parsed again; that and the hand-offs were a quarter of a
//! search. Here the statements are plain calls, an item's text is read where SQLite keeps it,
//! and a search costs one hand-off to a blocking thread and back. (deadpool-sqlite would be
//! this pool, but pins a rusqlite that links another SQLite than sqlx; Cargo links one.)
//!
//! Invariants: at most `connections` searches run at once (a semaphore; the others wait for
//! one to finish, as with sqlx's pool); connections are opened on first need and kept; every
//! connection is read-only, maps the database file, has stable query plans and `jaryo_rank`
//! registered; closing waits for running searches.

use jaryo_store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How a search connection is opened.
#[derive(Debug, Clone)]
pub(crate) struct SearchConnectOptions {
    pub path: PathBuf,
    pub busy_timeout: Duration,
    /// Bytes of the database file each connection maps (see `READER_MMAP_BYTES`).
    pub mmap_bytes: u64,
}

#[derive(Debug)]
pub(crate) struct SearchPool {
    options: SearchConnectOptions,
    connections: u32,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

/// Statements a connection keeps prepared: every statement a search runs, with room to spare.
const STATEMENT_CACHE: usize = 32;

impl SearchPool {
    pub(crate) fn new(options: SearchConnectOptions, connections: u32) -> Self {
        let connections = connections.max(1);
        Self {
            options,
            connections,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(connections as usize)),
        }
    }

    /// Runs `work` on a connection of the pool, on a blocking thread, once one is free.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the search connections are closed".into()))?;
        let pool = Arc::clone(self);
        let outcome = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = match pool.take_idle() {
                Some(conn) => conn,
                None => pool.connect()?,
            };
            let result = work(&mut conn);
            pool.give_back(conn);
            result
        })
        .await;
        match outcome {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(StoreError::Unavailable(Box::new(error))),
        }
    }

    /// Waits for running searches, then closes every connection; later searches fail as
    /// unavailable.
    pub(crate) async fn close(&self) {
        if let Ok(all) = self.permits.acquire_many(self.connections).await {
            self.permits.close();
            drop(all);
        }
        self.lock_idle().clear();
    }

    fn take_idle(&self) -> Option<Connection> {
        self.lock_idle().pop()
    }

    fn give_back(&self, conn: Connection) {
        if !self.permits.is_closed() {
            self.lock_idle().push(conn);
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // The list is only pushed to and popped from: a panic cannot leave it half-changed.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn connect(&self) -> StoreResult<Connection> {
        let conn = Connection::open_with_flags(
            &self.options.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(map_error)?;
        conn.busy_timeout(self.options.busy_timeout)
            .map_err(map_error)?;
        // Every connection maps the file instead of copying pages into a cache of its own, so
        // they all share the OS's cache, warm whichever one a search gets.
        let mmap_bytes = i64::try_from(self.options.mmap_bytes).unwrap_or(i64::MAX);
        conn.pragma_update(None, "mmap_size", mmap_bytes)
            .map_err(map_error)?;
        // The rank windows are materialised; keep them off the disk.
        conn.pragma_update(None, "temp_store", "memory")
            .map_err(map_error)?;
        // Searches bind their LIMITs and MATCH expressions; without stable plans SQLite would
        // compile such a statement anew on every call (it plans on those values, a tenth of
        // a search). Nothing jaryo runs is planned on bound values.
        let stable = conn
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                true,
            )
            .map_err(map_error)?;
        if !stable {
            return Err(StoreError::internal("SQLite refused stable query plans"));
        }
        jaryo_fts5_rank::register(&conn, crate::search::LENGTHS_TABLE).map_err(map_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}

/// A search's SQLite error as a store error: a lock held past the busy timeout is worth
/// retrying (unavailable), anything else is internal.
pub(crate) fn map_error(error: rusqlite::Error) -> StoreError {
    let busy = matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    if busy {
        StoreError::Unavailable(Box::new(error))
    } else {
        StoreError::Internal(Box::new(error))
    }
}
