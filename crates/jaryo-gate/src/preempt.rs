//! The signal a pre-empted background call receives, and how it re-queues.

use std::time::Duration;

use tokio::time::Instant;

use crate::Priority;

/// An interactive call took this call's slot. Not a failure: re-queue with
/// [`Gate::reacquire`](crate::Gate::reacquire) (which keeps the caller's place and ageing clock)
/// and do not count an attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "pre-empted by an interactive model call after {held:?}; re-queue without counting an attempt"
)]
pub struct Preempted {
    pub(crate) priority: Priority,
    pub(crate) queued_at: Instant,
    pub(crate) first_seq: u64,
    pub(crate) overtaken_since: Instant,
    pub(crate) held: Duration,
}

impl Preempted {
    /// The class of the pre-empted call (always background with the current policy).
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// How long the call had held its slot: work thrown away.
    pub fn held(&self) -> Duration {
        self.held
    }
}
