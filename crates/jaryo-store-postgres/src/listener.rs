//! Wakes this process's workers when any process queues work of any kind.
//!
//! Writes that make work ready (promote, redraft, a re-queue, new text on a finished draft, a
//! released claim, a resumed kind) send `NOTIFY jaryo_jobs` inside their transaction, so it is delivered on commit and
//! never for a write that rolled back. Every store runs one task that `LISTEN`s on its own
//! connection and turns each notification into a [`DraftSignal`] wake-up.
//!
//! Notifications sent while the listening connection is down are lost, so after every
//! (re)connection the task fires the signal once: a woken worker looks at the queue itself
//! and finds whatever was missed. A worker's poll interval remains the last safety net.

use jaryo_store::DraftSignal;
use jaryo_store::tasks::OwnedTasks;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::watch;

/// The channel job wake-ups travel on, the job kind as payload. The SQL in this crate names
/// it literally (`pg_notify('jaryo_jobs', …)`); a test holds the two together.
pub const JOB_CHANNEL: &str = "jaryo_jobs";

/// The shortest and longest wait between attempts to reconnect the listener.
const RECONNECT_DELAY_MIN: Duration = Duration::from_millis(50);
const RECONNECT_DELAY_MAX: Duration = Duration::from_secs(5);

/// What the listener is doing, for health checks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerStatus {
    /// `LISTEN` is in effect on a live connection.
    pub listening: bool,
    /// How many times a `LISTEN` took effect: 1 after the first connection, one more after
    /// each reconnection.
    pub sessions: u64,
}

/// The listening task's connection and status; the task itself is one of the store's owned
/// tasks (stopped with them).
#[derive(Debug)]
pub(crate) struct DraftListener {
    pool: PgPool,
    status: watch::Receiver<ListenerStatus>,
}

impl DraftListener {
    /// Starts listening on a connection from `pool`, a pool of one reserved for it, in a task
    /// among `tasks`.
    pub(crate) fn start(pool: PgPool, signal: DraftSignal, tasks: &OwnedTasks) -> Self {
        let (status_tx, status) = watch::channel(ListenerStatus::default());
        tasks.spawn(listen(pool.clone(), signal, status_tx));
        Self { pool, status }
    }

    pub(crate) fn status(&self) -> watch::Receiver<ListenerStatus> {
        self.status.clone()
    }

    /// Closes the listening connection (after the store stopped its tasks).
    pub(crate) async fn stop(&self) {
        self.pool.close().await;
    }
}

async fn listen(pool: PgPool, signal: DraftSignal, status: watch::Sender<ListenerStatus>) {
    let mut delay = RECONNECT_DELAY_MIN;
    loop {
        let mut listener = match subscribe(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64,
                    "cannot listen for draft notifications; the worker's interval covers meanwhile");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RECONNECT_DELAY_MAX);
                continue;
            }
        };
        delay = RECONNECT_DELAY_MIN;
        started_session(&status, &signal);
        loop {
            match listener.try_recv().await {
                Ok(Some(_notification)) => signal.notify(),
                // The connection dropped and the listener reconnected and listens again.
                Ok(None) => {
                    tracing::info!("the draft notification connection was re-established");
                    started_session(&status, &signal);
                }
                Err(sqlx::Error::PoolClosed) => {
                    status.send_modify(|s| s.listening = false);
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "lost the draft notification connection");
                    status.send_modify(|s| s.listening = false);
                    break;
                }
            }
        }
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(JOB_CHANNEL).await?;
    Ok(listener)
}

/// `LISTEN` is in effect again: anything sent while it was not went unheard, so wake the
/// workers to look for themselves.
fn started_session(status: &watch::Sender<ListenerStatus>, signal: &DraftSignal) {
    status.send_modify(|s| {
        s.listening = true;
        s.sessions += 1;
    });
    signal.notify();
}
