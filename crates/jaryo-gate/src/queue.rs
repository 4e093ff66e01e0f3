//! The order in which waiters are served: priority, FIFO within a class, and ageing.
//!
//! This module only orders waiters; it does not know how many slots exist or where they come
//! from. That keeps the policy testable on its own and lets a different slot source (a cluster
//! lease, later) reuse it unchanged.
//!
//! Invariants:
//! - Within a class, waiters are served in order of `(queued_at, seq)`: the time they first
//!   queued (kept across pre-emption re-queues) and then arrival order.
//! - Interactive waiters go first, except an *aged* background head: one that interactive grants
//!   have passed over for at least the ageing bound. It goes before interactive waiters that
//!   arrived after its ageing clock started.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Duration;

use tokio::time::Instant;

use crate::Priority;

/// Identifies a queued waiter; also its position within its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaiterKey {
    pub priority: Priority,
    /// When this caller first queued; earlier than `enqueued_at` for a pre-empted re-queue.
    pub queued_at: Instant,
    /// Arrival order of this caller's first acquisition, kept across pre-emption re-queues so
    /// a re-queued caller is not overtaken by one that arrived after it in the same instant.
    pub first_seq: u64,
    /// Unique per gate: names this acquisition.
    pub seq: u64,
}

type Order = (Instant, u64, u64);

impl WaiterKey {
    fn order(&self) -> Order {
        (self.queued_at, self.first_seq, self.seq)
    }
}

#[derive(Debug)]
pub(crate) struct Waiter {
    /// When this acquisition started waiting (for the wait-time histogram).
    pub enqueued_at: Instant,
    /// When an interactive call first overtook this waiter while it was next in line among
    /// background waiters: the start of its ageing clock.
    pub overtaken_since: Option<Instant>,
    pub waker: Option<Waker>,
}

/// A waiter leaving the queue to take a slot.
#[derive(Debug)]
pub(crate) struct Served {
    pub key: WaiterKey,
    pub waiter: Waiter,
    /// A background waiter served because of the ageing bound.
    pub aged: bool,
}

#[derive(Debug)]
pub(crate) struct WaitQueue {
    interactive: BTreeMap<Order, Waiter>,
    background: BTreeMap<Order, Waiter>,
    ageing_bound: Duration,
}

impl WaitQueue {
    pub fn new(ageing_bound: Duration) -> Self {
        Self {
            interactive: BTreeMap::new(),
            background: BTreeMap::new(),
            ageing_bound,
        }
    }

    fn class(&self, priority: Priority) -> &BTreeMap<Order, Waiter> {
        match priority {
            Priority::Interactive => &self.interactive,
            Priority::Background => &self.background,
        }
    }

    fn class_mut(&mut self, priority: Priority) -> &mut BTreeMap<Order, Waiter> {
        match priority {
            Priority::Interactive => &mut self.interactive,
            Priority::Background => &mut self.background,
        }
    }

    pub fn push(&mut self, key: WaiterKey, waiter: Waiter) {
        self.class_mut(key.priority).insert(key.order(), waiter);
    }

    /// Removes a waiter that gave up; false if it is no longer queued (already served).
    pub fn remove(&mut self, key: &WaiterKey) -> bool {
        self.class_mut(key.priority).remove(&key.order()).is_some()
    }

    pub fn set_waker(&mut self, key: &WaiterKey, waker: &Waker) {
        if let Some(waiter) = self.class_mut(key.priority).get_mut(&key.order()) {
            match &waiter.waker {
                Some(existing) if existing.will_wake(waker) => {}
                _ => waiter.waker = Some(waker.clone()),
            }
        }
    }

    pub fn len(&self, priority: Priority) -> usize {
        self.class(priority).len()
    }

    /// How long the longest-waiting waiter of a class has waited in its current acquisition.
    pub fn oldest_wait(&self, priority: Priority, now: Instant) -> Option<Duration> {
        self.class(priority)
            .values()
            .map(|w| now.saturating_duration_since(w.enqueued_at))
            .max()
    }

    fn background_head_is_aged(&self, now: Instant) -> bool {
        self.background
            .first_key_value()
            .and_then(|(_, w)| w.overtaken_since)
            .is_some_and(|since| now.saturating_duration_since(since) >= self.ageing_bound)
    }

    /// The class that would be served next, if anyone waits.
    pub fn next_class(&self, now: Instant) -> Option<Priority> {
        match (
            self.interactive.first_key_value(),
            self.background.first_key_value(),
        ) {
            (None, None) => None,
            (Some(_), None) => Some(Priority::Interactive),
            (None, Some(_)) => Some(Priority::Background),
            (Some((_, interactive)), Some((_, background))) => {
                let aged_before_interactive = self.background_head_is_aged(now)
                    && background
                        .overtaken_since
                        .is_some_and(|since| since <= interactive.enqueued_at);
                if aged_before_interactive {
                    Some(Priority::Background)
                } else {
                    Some(Priority::Interactive)
                }
            }
        }
    }

    /// Takes the next waiter to serve, starting the ageing clock of the background head when an
    /// interactive waiter overtakes it.
    pub fn pop_next(&mut self, now: Instant) -> Option<Served> {
        let priority = self.next_class(now)?;
        let aged = priority == Priority::Background && self.background_head_is_aged(now);
        if priority == Priority::Interactive
            && let Some(mut head) = self.background.first_entry()
        {
            head.get_mut().overtaken_since.get_or_insert(now);
        }
        let ((queued_at, first_seq, seq), waiter) = self.class_mut(priority).pop_first()?;
        Some(Served {
            key: WaiterKey {
                priority,
                queued_at,
                first_seq,
                seq,
            },
            waiter,
            aged,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(at: Instant) -> Waiter {
        Waiter {
            enqueued_at: at,
            overtaken_since: None,
            waker: None,
        }
    }

    fn key(priority: Priority, at: Instant, seq: u64) -> WaiterKey {
        WaiterKey {
            priority,
            queued_at: at,
            first_seq: seq,
            seq,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_re_queued_background_waiter_keeps_its_place() {
        let mut queue = WaitQueue::new(Duration::from_secs(60));
        let first = Instant::now();
        tokio::time::advance(Duration::from_secs(1)).await;
        let now = Instant::now();
        queue.push(key(Priority::Background, now, 1), waiter(now));
        // Pre-empted earlier, re-queued now, but first queued before seq 1 arrived.
        queue.push(key(Priority::Background, first, 2), waiter(now));
        assert_eq!(queue.pop_next(now).map(|s| s.key.seq), Some(2));
        assert_eq!(queue.pop_next(now).map(|s| s.key.seq), Some(1));
        assert!(queue.pop_next(now).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_ageing_clock_starts_when_an_interactive_waiter_overtakes() {
        let bound = Duration::from_millis(100);
        let mut queue = WaitQueue::new(bound);
        let t0 = Instant::now();
        queue.push(key(Priority::Background, t0, 1), waiter(t0));
        queue.push(key(Priority::Interactive, t0, 2), waiter(t0));
        let served = queue.pop_next(t0).expect("someone waits");
        assert_eq!(served.key.priority, Priority::Interactive);

        tokio::time::advance(bound).await;
        let later = Instant::now();
        queue.push(key(Priority::Interactive, later, 3), waiter(later));
        let served = queue.pop_next(later).expect("someone waits");
        assert_eq!(
            served.key.seq, 1,
            "aged background goes before a later interactive"
        );
        assert!(served.aged);
    }

    #[tokio::test(start_paused = true)]
    async fn an_aged_background_waiter_does_not_jump_an_older_interactive_waiter() {
        let bound = Duration::from_millis(100);
        let mut queue = WaitQueue::new(bound);
        let t0 = Instant::now();
        queue.push(key(Priority::Background, t0, 1), waiter(t0));
        queue.push(key(Priority::Interactive, t0, 2), waiter(t0));
        // The interactive waiter queued at the same instant as the ageing clock started.
        let mut bg = queue.background.first_entry().expect("queued");
        bg.get_mut().overtaken_since = Some(t0 + Duration::from_millis(1));
        tokio::time::advance(bound * 2).await;
        let served = queue.pop_next(Instant::now()).expect("someone waits");
        assert_eq!(served.key.priority, Priority::Interactive);
    }
}
