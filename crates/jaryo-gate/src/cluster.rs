//! Slots shared with other processes: the model server's limit across a cluster.
//!
//! One local gate keeps order inside a process. When several processes (API nodes, workers on
//! other machines) share one model server, each also takes a [`SharedSlot`] from a
//! [`SharedSlots`] implementation before calling the model — in practice leased rows in the
//! database they share. The shared source orders waiters of all processes the same way the
//! local gate does (interactive first, FIFO, ageing) and pre-empts a background holder anywhere
//! in the cluster for an interactive caller anywhere: the holder sees [`SharedSlot::preempted`]
//! fire and drops its request, exactly as with a local pre-emption.
//!
//! Invariant: this module defines the contract only; it knows nothing of databases.

use crate::Priority;
use serde::Serialize;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use tokio_util::sync::CancellationToken;

/// Why a shared slot could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cluster's model slots are unavailable: {0}")]
pub struct SharedSlotError(pub String);

/// What the cluster's slots look like now, for status pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SharedSlotsSnapshot {
    pub slots: usize,
    pub holders_interactive: usize,
    pub holders_background: usize,
    pub waiters_interactive: usize,
    pub waiters_background: usize,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of slots shared by several processes.
pub trait SharedSlots: Send + Sync + Debug + 'static {
    /// Waits for a slot for a call of this priority. Dropping the future withdraws the request
    /// without leaking a slot.
    fn acquire(&self, priority: Priority) -> BoxFuture<'_, Result<SharedSlot, SharedSlotError>>;

    /// The cluster's holders and waiters now.
    fn snapshot(&self) -> BoxFuture<'_, Result<SharedSlotsSnapshot, SharedSlotError>>;
}

/// A held shared slot. Dropping it gives the slot back.
pub struct SharedSlot {
    preempted: CancellationToken,
    _release: Box<dyn Send + Sync>,
}

impl Debug for SharedSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSlot")
            .field("preempted", &self.preempted.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl SharedSlot {
    /// A slot that fires `preempted` when its source asks for it back, and runs `release`'s
    /// `Drop` when the holder is done.
    pub fn new(preempted: CancellationToken, release: impl Send + Sync + 'static) -> Self {
        Self {
            preempted,
            _release: Box::new(release),
        }
    }

    /// Resolves when an interactive call elsewhere in the cluster needs this slot.
    pub async fn preempted(&self) {
        self.preempted.cancelled().await;
    }

    pub fn is_preempted(&self) -> bool {
        self.preempted.is_cancelled()
    }
}
