//! The gate itself: slots, holders, hand-over to waiters, pre-emption.
//!
//! All state sits behind one short-held mutex. Every change (a waiter arrives or leaves, a permit
//! is dropped) ends with [`State::rebalance`], which hands free slots to waiters in queue order and
//! then asks background holders to stop if an interactive waiter is next. Wakers and pre-emption
//! signals are fired after the lock is released.
//!
//! Cancellation safety: a waiter that is handed a slot is recorded in `granted` until its
//! [`Acquire`] future collects it. If the future is dropped first, its `Drop` returns the slot,
//! so the "handed a slot at the same moment it was dropped" race leaks nothing.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::queue::{Served, WaitQueue, Waiter, WaiterKey};
use crate::snapshot::{ByClass, GateSnapshot, HolderSnapshot, WaitRecorder};
use crate::{GateConfig, Preempted, Priority};

/// Priority slots for model calls. Cheap to clone; clones share the same slots.
#[derive(Clone)]
pub struct Gate {
    shared: Arc<Shared>,
}

struct Shared {
    config: GateConfig,
    state: Mutex<State>,
    /// Slots shared with other processes, taken after a local permit (see [`crate::cluster`]).
    cluster: Option<Arc<dyn crate::SharedSlots>>,
}

/// Where slots come from. Today a local counter; a cluster-wide variant would lease them.
#[derive(Debug)]
struct LocalSlots {
    capacity: usize,
    in_use: usize,
}

impl LocalSlots {
    fn has_free(&self) -> bool {
        self.in_use < self.capacity
    }

    fn take(&mut self) {
        debug_assert!(self.has_free(), "slot taken with none free");
        self.in_use += 1;
    }

    fn give_back(&mut self) {
        debug_assert!(self.in_use > 0, "slot returned with none in use");
        self.in_use -= 1;
    }
}

#[derive(Debug)]
struct Holder {
    priority: Priority,
    granted_at: Instant,
    token: CancellationToken,
    protected: bool,
    preempt_requested: bool,
}

/// A slot handed to a waiter whose future has not collected it yet.
#[derive(Debug)]
struct Grant {
    holder_id: u64,
    key: WaiterKey,
    granted_at: Instant,
    waited: Duration,
    overtaken_since: Option<Instant>,
    token: CancellationToken,
}

#[derive(Debug, Default)]
struct Stats {
    acquisitions: ByClass<u64>,
    abandoned: ByClass<u64>,
    preemptions: u64,
    aged_grants: u64,
    waits: ByClass<WaitRecorder>,
}

struct State {
    slots: LocalSlots,
    queue: WaitQueue,
    granted: HashMap<u64, Grant>,
    /// Keyed by grant order, so the last entry is the youngest holder.
    holders: BTreeMap<u64, Holder>,
    /// Holders told to stop that still hold their slot.
    pending_preemptions: usize,
    next_seq: u64,
    next_holder_id: u64,
    preempt: bool,
    stats: Stats,
}

/// Side effects collected under the lock and run after it is released, so no foreign code (a
/// waker, a cancellation) ever runs while the gate is locked.
#[derive(Default)]
#[must_use]
struct AfterUnlock {
    wakers: Vec<Waker>,
    preempt: Vec<CancellationToken>,
}

impl AfterUnlock {
    fn run(self) {
        for token in self.preempt {
            token.cancel();
        }
        for waker in self.wakers {
            waker.wake();
        }
    }
}

impl State {
    fn rebalance(&mut self, now: Instant, after: &mut AfterUnlock) {
        while self.slots.has_free() {
            let Some(served) = self.queue.pop_next(now) else {
                break;
            };
            self.grant(served, now, after);
        }
        if self.preempt {
            self.preempt_for_interactive(now, after);
        }
    }

    fn grant(&mut self, served: Served, now: Instant, after: &mut AfterUnlock) {
        let Served { key, waiter, aged } = served;
        self.slots.take();
        let holder_id = self.next_holder_id;
        self.next_holder_id += 1;
        let token = CancellationToken::new();
        // An aged waiter has already been passed over for the whole ageing bound; pre-empting it
        // now would let a steady stream of interactive calls starve it after all.
        let protected = aged;
        self.holders.insert(
            holder_id,
            Holder {
                priority: key.priority,
                granted_at: now,
                token: token.clone(),
                protected,
                preempt_requested: false,
            },
        );
        let waited = now.saturating_duration_since(waiter.enqueued_at);
        self.stats.waits.get_mut(key.priority).record(waited);
        *self.stats.acquisitions.get_mut(key.priority) += 1;
        if aged {
            self.stats.aged_grants += 1;
        }
        self.granted.insert(
            key.seq,
            Grant {
                holder_id,
                key,
                granted_at: now,
                waited,
                overtaken_since: waiter.overtaken_since,
                token,
            },
        );
        if let Some(waker) = waiter.waker {
            after.wakers.push(waker);
        }
    }

    /// Asks the youngest unprotected background holders to stop, one per interactive waiter not
    /// already covered by an earlier request, when an interactive waiter is next in line.
    fn preempt_for_interactive(&mut self, now: Instant, after: &mut AfterUnlock) {
        if self.slots.has_free() || self.queue.next_class(now) != Some(Priority::Interactive) {
            return;
        }
        let uncovered = self
            .queue
            .len(Priority::Interactive)
            .saturating_sub(self.pending_preemptions);
        for _ in 0..uncovered {
            let victim = self.holders.iter_mut().rev().find(|(_, holder)| {
                holder.priority == Priority::Background
                    && !holder.protected
                    && !holder.preempt_requested
            });
            let Some((_, holder)) = victim else {
                break;
            };
            holder.preempt_requested = true;
            self.pending_preemptions += 1;
            self.stats.preemptions += 1;
            tracing::debug!(
                held_ms = now.saturating_duration_since(holder.granted_at).as_millis() as u64,
                "pre-empting a background model call for an interactive one"
            );
            after.preempt.push(holder.token.clone());
        }
    }

    fn release(&mut self, holder_id: u64, now: Instant, after: &mut AfterUnlock) {
        let Some(holder) = self.holders.remove(&holder_id) else {
            debug_assert!(false, "released a holder twice");
            return;
        };
        if holder.preempt_requested {
            self.pending_preemptions -= 1;
        }
        self.slots.give_back();
        self.rebalance(now, after);
    }
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate with `config.concurrency` slots (at least one).
    pub fn new(config: GateConfig) -> Gate {
        let capacity = config.effective_concurrency();
        let state = State {
            slots: LocalSlots {
                capacity,
                in_use: 0,
            },
            queue: WaitQueue::new(Duration::from_millis(config.background_max_wait_ms)),
            granted: HashMap::new(),
            holders: BTreeMap::new(),
            pending_preemptions: 0,
            next_seq: 0,
            next_holder_id: 0,
            preempt: config.preempt,
            stats: Stats::default(),
        };
        Gate {
            shared: Arc::new(Shared {
                config,
                state: Mutex::new(state),
                cluster: None,
            }),
        }
    }

    /// A gate whose local permits are backed by slots shared with other processes: the model
    /// server's limit then holds across every process that uses `slots`. Callers take a
    /// shared slot after their local permit ([`Gate::shared_slots`]).
    pub fn with_shared_slots(config: GateConfig, slots: Arc<dyn crate::SharedSlots>) -> Gate {
        let gate = Gate::new(config);
        let shared = Arc::try_unwrap(gate.shared).unwrap_or_else(|_| unreachable!("just made"));
        Gate {
            shared: Arc::new(Shared {
                cluster: Some(slots),
                ..shared
            }),
        }
    }

    /// The cluster-wide slots behind this gate, if any.
    pub fn shared_slots(&self) -> Option<&Arc<dyn crate::SharedSlots>> {
        self.shared.cluster.as_ref()
    }

    pub fn config(&self) -> &GateConfig {
        &self.shared.config
    }

    /// Queues for a slot. The caller takes its place in the queue when this is called (not when
    /// first polled), so callers queued in sequence are served in that sequence.
    pub fn acquire(&self, priority: Priority) -> Acquire {
        self.enqueue(priority, None, None)
    }

    /// Re-queues a pre-empted call in the place it first queued, keeping its ageing clock, so
    /// repeated pre-emption cannot starve it beyond the ageing bound.
    pub fn reacquire(&self, preempted: &Preempted) -> Acquire {
        self.enqueue(
            preempted.priority,
            Some((preempted.queued_at, preempted.first_seq)),
            Some(preempted.overtaken_since),
        )
    }

    fn enqueue(
        &self,
        priority: Priority,
        first_queued: Option<(Instant, u64)>,
        overtaken_since: Option<Instant>,
    ) -> Acquire {
        let now = Instant::now();
        let mut after = AfterUnlock::default();
        let key = {
            let mut state = self.shared.lock();
            let seq = state.next_seq;
            state.next_seq += 1;
            let (queued_at, first_seq) = first_queued.unwrap_or((now, seq));
            let key = WaiterKey {
                priority,
                queued_at,
                first_seq,
                seq,
            };
            state.queue.push(
                key,
                Waiter {
                    enqueued_at: now,
                    overtaken_since,
                    waker: None,
                },
            );
            state.rebalance(now, &mut after);
            key
        };
        after.run();
        Acquire {
            shared: Arc::clone(&self.shared),
            key: Some(key),
        }
    }

    /// Runs the future made by `start` under a slot of the given priority. Returns
    /// `Err(Preempted)` if an interactive call took the slot first; the future (and so its HTTP
    /// request) has then been dropped. `start` runs only once the slot is held.
    pub async fn run_preemptible<F, Fut>(
        &self,
        priority: Priority,
        start: F,
    ) -> Result<Fut::Output, Preempted>
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let permit = self.acquire(priority).await;
        permit.run_until_preempted(start()).await
    }

    /// The one way a model call passes the gate: takes a local slot of `priority`, then (when
    /// the gate's slots are shared with other processes) a cluster slot, and runs the future
    /// made by `start` under both. Pre-empted by an interactive call — in this process or
    /// anywhere in the cluster — the future (and so its model request) is dropped, the call
    /// re-queues in the place it first queued, keeping its ageing clock, and `start` makes it
    /// afresh: a pre-emption is never a failure. `cost` is added to as the call goes, so what
    /// was spent stays counted even if this future is dropped (shutdown).
    ///
    /// Fails only when the cluster's slots cannot be had (their database is unreachable).
    /// Dropping the future at any point leaks no slot.
    pub async fn call<F, Fut>(
        &self,
        priority: Priority,
        cost: &mut CallCost,
        mut start: F,
    ) -> Result<Fut::Output, crate::SharedSlotError>
    where
        F: FnMut() -> Fut,
        Fut: Future,
    {
        let mut acquire = self.acquire(priority);
        loop {
            let queued = Instant::now();
            let permit = acquire.await;
            let shared = match &self.shared.cluster {
                None => None,
                Some(slots) => {
                    let slot = tokio::select! {
                        biased;
                        () = permit.preempted() => {
                            cost.preemptions += 1;
                            acquire = self.reacquire(&permit.preemption());
                            continue;
                        }
                        slot = slots.acquire(priority) => slot?,
                    };
                    Some(slot)
                }
            };
            cost.waited += queued.elapsed();
            let started = Instant::now();
            let ended = tokio::select! {
                biased;
                output = start() => Some(output),
                () = permit.preempted() => None,
                () = shared_slot_preempted(shared.as_ref()) => None,
            };
            cost.held += started.elapsed();
            if let Some(output) = ended {
                return Ok(output);
            }
            cost.preemptions += 1;
            tracing::debug!(%priority, "model call pre-empted by an interactive one; queueing again");
            let ticket = permit.preemption();
            // The shared slot first, then the local permit: the slot goes back to the cluster
            // before this process's next waiter can start asking for one.
            drop(shared);
            drop(permit);
            acquire = self.reacquire(&ticket);
        }
    }

    /// The gate's current state and counters.
    pub fn snapshot(&self) -> GateSnapshot {
        let now = Instant::now();
        let state = self.shared.lock();
        let mut holders = ByClass::<usize>::default();
        let holder_details = state
            .holders
            .values()
            .map(|holder| {
                *holders.get_mut(holder.priority) += 1;
                HolderSnapshot {
                    priority: holder.priority,
                    held_ms: millis(now.saturating_duration_since(holder.granted_at)),
                    protected: holder.protected,
                    preempt_requested: holder.preempt_requested,
                }
            })
            .collect();
        let by_class = |f: &dyn Fn(Priority) -> _| ByClass {
            interactive: f(Priority::Interactive),
            background: f(Priority::Background),
        };
        GateSnapshot {
            slots: state.slots.capacity,
            in_use: state.slots.in_use,
            preempt: state.preempt,
            background_max_wait_ms: self.shared.config.background_max_wait_ms,
            holders,
            holder_details,
            waiters: ByClass {
                interactive: state.queue.len(Priority::Interactive),
                background: state.queue.len(Priority::Background),
            },
            oldest_wait_ms: by_class(&|p| state.queue.oldest_wait(p, now).map(millis)),
            acquisitions: state.stats.acquisitions,
            abandoned: state.stats.abandoned,
            preemptions: state.stats.preemptions,
            aged_grants: state.stats.aged_grants,
            wait_seconds: ByClass {
                interactive: state.stats.waits.interactive.histogram(),
                background: state.stats.waits.background.histogram(),
            },
        }
    }
}

/// What calls through [`Gate::call`] spent, added to by each: time queued for slots, time
/// holding them (pre-empted runs included), and how often they were pre-empted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCost {
    pub waited: Duration,
    pub held: Duration,
    pub preemptions: u32,
}

async fn shared_slot_preempted(slot: Option<&crate::SharedSlot>) {
    match slot {
        Some(slot) => slot.preempted().await,
        None => std::future::pending().await,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // No code that can panic runs under the lock while the state is inconsistent, so a
        // poisoned lock (a panic elsewhere in the holder's thread) still guards valid state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A place in the gate's queue; resolves to a [`Permit`]. Dropping it gives up the place (or the
/// slot, if one was just handed to it) without affecting anyone else.
#[must_use = "a queued caller that is never awaited holds its place until dropped"]
pub struct Acquire {
    shared: Arc<Shared>,
    /// `None` once the permit has been collected.
    key: Option<WaiterKey>,
}

impl std::fmt::Debug for Acquire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquire")
            .field("priority", &self.key.map(|key| key.priority))
            .finish_non_exhaustive()
    }
}

impl Future for Acquire {
    type Output = Permit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let this = self.get_mut();
        let key = this
            .key
            .expect("Acquire polled after it returned its permit");
        let mut state = this.shared.lock();
        match state.granted.remove(&key.seq) {
            Some(grant) => {
                drop(state);
                this.key = None;
                Poll::Ready(Permit {
                    shared: Arc::clone(&this.shared),
                    holder_id: grant.holder_id,
                    priority: grant.key.priority,
                    queued_at: grant.key.queued_at,
                    first_seq: grant.key.first_seq,
                    overtaken_since: grant.overtaken_since,
                    granted_at: grant.granted_at,
                    waited: grant.waited,
                    token: grant.token,
                })
            }
            None => {
                state.queue.set_waker(&key, cx.waker());
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let now = Instant::now();
        let mut after = AfterUnlock::default();
        {
            let mut state = self.shared.lock();
            if state.queue.remove(&key) {
                *state.stats.abandoned.get_mut(key.priority) += 1;
                // The head may have changed (e.g. an aged background waiter left), which can
                // change whether an interactive waiter now needs a pre-emption.
                state.rebalance(now, &mut after);
            } else if let Some(grant) = state.granted.remove(&key.seq) {
                *state.stats.abandoned.get_mut(key.priority) += 1;
                state.release(grant.holder_id, now, &mut after);
            }
        }
        after.run();
    }
}

/// A held slot. Dropping it returns the slot to the gate.
///
/// A background permit may be pre-empted: [`Permit::preempted`] resolves and
/// [`Permit::is_preempted`] turns true. The holder should then drop its model request and this
/// permit, and re-queue with [`Gate::reacquire`].
pub struct Permit {
    shared: Arc<Shared>,
    holder_id: u64,
    priority: Priority,
    queued_at: Instant,
    first_seq: u64,
    overtaken_since: Option<Instant>,
    granted_at: Instant,
    waited: Duration,
    token: CancellationToken,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("priority", &self.priority)
            .field("waited", &self.waited)
            .field("preempted", &self.is_preempted())
            .finish_non_exhaustive()
    }
}

impl Permit {
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// How long this acquisition waited in the queue.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// Whether an interactive call has asked for this slot.
    pub fn is_preempted(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves when an interactive call asks for this slot; never for a permit that cannot be
    /// pre-empted. Meant for `tokio::select!` around the model call.
    pub async fn preempted(&self) {
        self.token.cancelled().await;
    }

    /// Runs `work` under this permit, then releases the slot. If the permit is pre-empted first,
    /// `work` is dropped (cancelling e.g. its HTTP request) and `Err(Preempted)` says how to
    /// re-queue. Work that finishes in the same instant it is pre-empted keeps its result.
    pub async fn run_until_preempted<F: Future>(self, work: F) -> Result<F::Output, Preempted> {
        let outcome = tokio::select! {
            biased;
            output = work => Ok(output),
            () = self.preempted() => Err(self.preemption()),
        };
        drop(self);
        outcome
    }

    /// The re-queue ticket for a pre-empted permit, for callers that watch
    /// [`Permit::preempted`] themselves: drop the permit, then [`Gate::reacquire`] with this.
    pub fn preemption(&self) -> Preempted {
        let now = Instant::now();
        Preempted {
            priority: self.priority,
            queued_at: self.queued_at,
            first_seq: self.first_seq,
            overtaken_since: self.overtaken_since.unwrap_or(now),
            held: now.saturating_duration_since(self.granted_at),
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut after = AfterUnlock::default();
        self.shared.lock().release(self.holder_id, now, &mut after);
        after.run();
    }
}
