//! The LLM gate's slots shared by every process on this database.
//!
//! The local gate keeps order inside a process; [`PgSharedSlots`] keeps the model server's
//! limit across processes and machines. Slots and waiters are rows (`llm_gate_slots`,
//! `llm_gate_waiters`) with leases renewed while their process lives. Grants happen one at a
//! time under a transaction-scoped advisory lock, by the same rule as the local gate:
//! interactive before background, oldest first, and a background waiter older than the ageing
//! bound counts as interactive (and its slot is then protected from pre-emption).
//!
//! When an interactive waiter is first in line and every slot is taken, the youngest
//! unprotected background holder is asked to stop: its row is marked and a notification names
//! it; its process fires the holder's [`SharedSlot::preempted`], the holder drops its model
//! request and its slot, and the freed slot goes to the interactive waiter. Notifications on
//! `jaryo_gate` wake waiters the moment a slot frees; a short poll covers a lost notification.
//!
//! A holder or waiter whose process died is cleared when its lease lapses, so no slot is lost.

use crate::PostgresOptions;
use jaryo_gate::{Priority, SharedSlot, SharedSlotError, SharedSlots, SharedSlotsSnapshot};
use jaryo_store::tasks::OwnedTasks;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The channel gate events travel on: `free` when a slot is given back, `preempt:<holder>`
/// when a holder is asked to stop.
pub const GATE_CHANNEL: &str = "jaryo_gate";

/// How often a waiter looks again when no notification came.
const POLL: Duration = Duration::from_millis(250);

/// How the shared slots behave; mirrors the local gate's settings.
#[derive(Debug, Clone)]
pub struct SharedSlotsConfig {
    /// Model calls at once across every process.
    pub slots: usize,
    /// Whether interactive callers may stop background ones.
    pub preempt: bool,
    /// A background waiter this old is served before interactive ones.
    pub background_max_wait: Duration,
    /// How long a holder or waiter keeps its row without renewing it.
    pub lease: Duration,
}

impl Default for SharedSlotsConfig {
    fn default() -> Self {
        Self {
            slots: 1,
            preempt: true,
            background_max_wait: Duration::from_secs(60),
            lease: Duration::from_secs(15),
        }
    }
}

/// Cluster-wide LLM gate slots in PostgreSQL.
#[derive(Clone)]
pub struct PgSharedSlots {
    inner: Arc<Inner>,
    /// The gate-event listener: held only to be owned, so it is aborted when the last
    /// handle goes.
    _tasks: Arc<OwnedTasks>,
}

struct Inner {
    pool: PgPool,
    config: SharedSlotsConfig,
    process: String,
    /// Wakes this process's waiters when a slot may have freed.
    freed: Notify,
    /// This process's holders, so a notification can stop the right one.
    holders: Mutex<HashMap<String, CancellationToken>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for PgSharedSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSharedSlots")
            .field("process", &self.inner.process)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn priority_name(priority: Priority) -> &'static str {
    match priority {
        Priority::Interactive => "interactive",
        Priority::Background => "background",
    }
}

fn random_id(prefix: &str) -> String {
    format!(
        "{prefix}-{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

fn unavailable(error: sqlx::Error) -> SharedSlotError {
    SharedSlotError(error.to_string())
}

enum Attempt {
    Granted(String),
    Wait,
}

impl PgSharedSlots {
    /// Shares slots through the database `options` names (the one the store uses), with a
    /// connection of its own to listen for gate events.
    pub fn start(options: &PostgresOptions, config: SharedSlotsConfig) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(true)
            .connect_lazy_with(options.session("jaryo-gate", Duration::from_secs(10)));
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(options.acquire_timeout)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(options.session("jaryo-gate-listener", Duration::ZERO));
        let inner = Arc::new(Inner {
            pool,
            config,
            process: random_id("process"),
            freed: Notify::new(),
            holders: Mutex::new(HashMap::new()),
            stop: CancellationToken::new(),
        });
        let tasks = Arc::new(OwnedTasks::default());
        tasks.spawn(listen(
            Arc::downgrade(&inner),
            listen_pool,
            inner.stop.clone(),
        ));
        Self {
            inner,
            _tasks: tasks,
        }
    }

    /// One try at a slot for `waiter`, and a pre-emption request when an interactive waiter
    /// is first in line and none is free.
    async fn attempt(&self, waiter: &str, priority: Priority) -> Result<Attempt, SharedSlotError> {
        let inner = &self.inner;
        let lease_ms = inner.config.lease.as_millis() as i64;
        let ageing_ms = inner.config.background_max_wait.as_millis() as i64;
        let mut tx = inner.pool.begin().await.map_err(unavailable)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('jaryo_gate'))")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query("DELETE FROM llm_gate_slots WHERE lease_expires_at < now()")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query("DELETE FROM llm_gate_waiters WHERE lease_expires_at < now()")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        let first = sqlx::query(
            "SELECT waiter_id, (priority = 'background' \
                 AND queued_at < now() - make_interval(secs => $1::float8 / 1000)) AS aged \
             FROM llm_gate_waiters \
             ORDER BY (priority = 'interactive' \
                       OR queued_at < now() - make_interval(secs => $1::float8 / 1000)) DESC, \
                      queued_at, waiter_id \
             LIMIT 1",
        )
        .bind(ageing_ms)
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?;
        let Some(first) = first else {
            // Our waiter row lapsed (a long stall): put it back and wait our turn.
            sqlx::query(
                "INSERT INTO llm_gate_waiters (waiter_id, process, priority, queued_at, \
                 lease_expires_at) VALUES ($1, $2, $3, now(), \
                 now() + make_interval(secs => $4::float8 / 1000)) ON CONFLICT DO NOTHING",
            )
            .bind(waiter)
            .bind(&inner.process)
            .bind(priority_name(priority))
            .bind(lease_ms)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            return Ok(Attempt::Wait);
        };
        let first_id: String = first.try_get("waiter_id").map_err(unavailable)?;
        let aged: bool = first.try_get("aged").map_err(unavailable)?;
        let held: i64 = sqlx::query_scalar("SELECT count(*) FROM llm_gate_slots")
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
        if first_id == waiter && (held as usize) < inner.config.slots.max(1) {
            let holder = random_id("holder");
            sqlx::query(
                "INSERT INTO llm_gate_slots (holder_id, process, priority, granted_at, \
                 lease_expires_at, protected) \
                 VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4::float8 / 1000), $5)",
            )
            .bind(&holder)
            .bind(&inner.process)
            .bind(priority_name(priority))
            .bind(lease_ms)
            .bind(aged)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
            sqlx::query("DELETE FROM llm_gate_waiters WHERE waiter_id = $1")
                .bind(waiter)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            return Ok(Attempt::Granted(holder));
        }
        if first_id == waiter && priority == Priority::Interactive && inner.config.preempt {
            // One stop request per interactive waiter in line is enough.
            let pending: i64 =
                sqlx::query_scalar("SELECT count(*) FROM llm_gate_slots WHERE preempt_requested")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(unavailable)?;
            if pending == 0 {
                let victim: Option<String> = sqlx::query_scalar(
                    "UPDATE llm_gate_slots SET preempt_requested = true WHERE holder_id = ( \
                       SELECT holder_id FROM llm_gate_slots \
                       WHERE priority = 'background' AND NOT protected AND NOT preempt_requested \
                       ORDER BY granted_at DESC, holder_id LIMIT 1) \
                     RETURNING holder_id",
                )
                .fetch_optional(&mut *tx)
                .await
                .map_err(unavailable)?;
                if let Some(victim) = victim {
                    tracing::debug!(%victim, "asking a background model call elsewhere to stop");
                    sqlx::query("SELECT pg_notify('jaryo_gate', 'preempt:' || $1)")
                        .bind(&victim)
                        .execute(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                }
            }
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(Attempt::Wait)
    }

    async fn acquire_slot(&self, priority: Priority) -> Result<SharedSlot, SharedSlotError> {
        let inner = &self.inner;
        let lease_ms = inner.config.lease.as_millis() as i64;
        let waiter = random_id("waiter");
        sqlx::query(
            "INSERT INTO llm_gate_waiters (waiter_id, process, priority, queued_at, \
             lease_expires_at) VALUES ($1, $2, $3, now(), \
             now() + make_interval(secs => $4::float8 / 1000))",
        )
        .bind(&waiter)
        .bind(&inner.process)
        .bind(priority_name(priority))
        .bind(lease_ms)
        .execute(&inner.pool)
        .await
        .map_err(unavailable)?;
        // Whatever happens from here (given up, dropped, failed), the waiter row goes.
        let mut waiting = WaiterRow {
            pool: inner.pool.clone(),
            id: Some(waiter.clone()),
        };
        let renew_every = inner.config.lease / 3;
        let mut renewed = tokio::time::Instant::now();
        loop {
            let freed = inner.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.attempt(&waiter, priority).await? {
                Attempt::Granted(holder) => {
                    waiting.id = None;
                    return Ok(self.hold(holder));
                }
                Attempt::Wait => {}
            }
            if renewed.elapsed() >= renew_every {
                // Renew, or queue again if a long stall let the row lapse and be cleared.
                sqlx::query(
                    "INSERT INTO llm_gate_waiters (waiter_id, process, priority, queued_at, \
                     lease_expires_at) VALUES ($1, $3, $4, now(), \
                     now() + make_interval(secs => $2::float8 / 1000)) \
                     ON CONFLICT (waiter_id) DO UPDATE SET lease_expires_at = \
                     EXCLUDED.lease_expires_at",
                )
                .bind(&waiter)
                .bind(lease_ms)
                .bind(&inner.process)
                .bind(priority_name(priority))
                .execute(&inner.pool)
                .await
                .map_err(unavailable)?;
                renewed = tokio::time::Instant::now();
            }
            tokio::select! {
                () = &mut freed => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// A granted slot: registered for pre-emption, its lease renewed until it is dropped.
    fn hold(&self, holder: String) -> SharedSlot {
        let preempted = CancellationToken::new();
        self.inner
            .holders
            .lock()
            .expect("gate holders mutex poisoned")
            .insert(holder.clone(), preempted.clone());
        let done = CancellationToken::new();
        tokio::spawn(renew_holder(
            Arc::downgrade(&self.inner),
            holder.clone(),
            preempted.clone(),
            done.clone(),
        ));
        SharedSlot::new(
            preempted,
            HeldRow {
                inner: self.inner.clone(),
                holder,
                done,
            },
        )
    }

    async fn snapshot_now(&self) -> Result<SharedSlotsSnapshot, SharedSlotError> {
        let row = sqlx::query(
            "SELECT \
               (SELECT count(*) FROM llm_gate_slots WHERE lease_expires_at >= now() \
                  AND priority = 'interactive') AS hi, \
               (SELECT count(*) FROM llm_gate_slots WHERE lease_expires_at >= now() \
                  AND priority = 'background') AS hb, \
               (SELECT count(*) FROM llm_gate_waiters WHERE lease_expires_at >= now() \
                  AND priority = 'interactive') AS wi, \
               (SELECT count(*) FROM llm_gate_waiters WHERE lease_expires_at >= now() \
                  AND priority = 'background') AS wb",
        )
        .fetch_one(&self.inner.pool)
        .await
        .map_err(unavailable)?;
        let count = |name: &str| -> Result<usize, SharedSlotError> {
            let n: i64 = row.try_get(name).map_err(unavailable)?;
            Ok(n as usize)
        };
        Ok(SharedSlotsSnapshot {
            slots: self.inner.config.slots,
            holders_interactive: count("hi")?,
            holders_background: count("hb")?,
            waiters_interactive: count("wi")?,
            waiters_background: count("wb")?,
        })
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl SharedSlots for PgSharedSlots {
    fn acquire(&self, priority: Priority) -> BoxFuture<'_, Result<SharedSlot, SharedSlotError>> {
        Box::pin(self.acquire_slot(priority))
    }

    fn snapshot(&self) -> BoxFuture<'_, Result<SharedSlotsSnapshot, SharedSlotError>> {
        Box::pin(self.snapshot_now())
    }
}

/// Deletes a waiter row that never became a slot.
struct WaiterRow {
    pool: PgPool,
    id: Option<String>,
}

impl Drop for WaiterRow {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let pool = self.pool.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = sqlx::query("DELETE FROM llm_gate_waiters WHERE waiter_id = $1")
                    .bind(&id)
                    .execute(&pool)
                    .await;
                // Our leaving may make someone else first in line.
                let _ = sqlx::query("SELECT pg_notify('jaryo_gate', 'free')")
                    .execute(&pool)
                    .await;
            });
        }
    }
}

/// Gives a held slot back when the holder is done.
struct HeldRow {
    inner: Arc<Inner>,
    holder: String,
    done: CancellationToken,
}

impl Drop for HeldRow {
    fn drop(&mut self) {
        self.done.cancel();
        self.inner
            .holders
            .lock()
            .expect("gate holders mutex poisoned")
            .remove(&self.holder);
        let pool = self.inner.pool.clone();
        let holder = std::mem::take(&mut self.holder);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let released = sqlx::query(
                    "WITH gone AS (DELETE FROM llm_gate_slots WHERE holder_id = $1 RETURNING 1) \
                     SELECT pg_notify('jaryo_gate', 'free') FROM gone",
                )
                .bind(&holder)
                .execute(&pool)
                .await;
                if let Err(error) = released {
                    // The lease frees it in a moment anyway.
                    tracing::warn!(%error, "cannot give a shared model slot back");
                }
            });
        }
    }
}

/// Keeps a holder's lease alive; if the row is gone (its lease lapsed during a stall and
/// someone cleared it), the holder is told to stop: it no longer owns a slot.
async fn renew_holder(
    inner: std::sync::Weak<Inner>,
    holder: String,
    preempted: CancellationToken,
    done: CancellationToken,
) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let every = strong.config.lease / 3;
        let lease_ms = strong.config.lease.as_millis() as i64;
        let pool = strong.pool.clone();
        drop(strong);
        tokio::select! {
            () = done.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let renewed = sqlx::query(
            "UPDATE llm_gate_slots \
             SET lease_expires_at = now() + make_interval(secs => $2::float8 / 1000) \
             WHERE holder_id = $1",
        )
        .bind(&holder)
        .bind(lease_ms)
        .execute(&pool)
        .await;
        match renewed {
            Ok(result) if result.rows_affected() == 0 => {
                tracing::warn!(%holder, "a shared model slot lapsed; stopping its call");
                preempted.cancel();
                return;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot renew a shared model slot"),
        }
    }
}

/// Listens for gate events: wakes waiters on `free`, stops the named holder on `preempt:…`.
/// After every (re)connection it wakes every waiter, since events may have been missed.
async fn listen(inner: std::sync::Weak<Inner>, pool: PgPool, stop: CancellationToken) {
    let mut delay = Duration::from_millis(50);
    loop {
        let session = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(GATE_CHANNEL).await?;
            if let Some(inner) = inner.upgrade() {
                inner.freed.notify_waiters();
            }
            loop {
                let notification = listener.recv().await?;
                let Some(inner) = inner.upgrade() else {
                    return Ok::<(), sqlx::Error>(());
                };
                let payload = notification.payload();
                if let Some(holder) = payload.strip_prefix("preempt:") {
                    let token = inner
                        .holders
                        .lock()
                        .expect("gate holders mutex poisoned")
                        .get(holder)
                        .cloned();
                    if let Some(token) = token {
                        token.cancel();
                    }
                }
                inner.freed.notify_waiters();
            }
        };
        tokio::select! {
            () = stop.cancelled() => return,
            result = session => match result {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "the gate's listening connection dropped; reconnecting");
                }
            },
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
