//! Counters the draft worker keeps for metrics and the status page: drafts by outcome, and how
//! long model calls take.

use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the model-latency histogram buckets, in seconds.
pub const MODEL_LATENCY_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Live counters; cheap to update from many drafts at once.
#[derive(Debug, Default)]
pub struct DraftMetrics {
    drafted: AtomicU64,
    flagged: AtomicU64,
    skipped: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    released: AtomicU64,
    requeued: AtomicU64,
    dropped: AtomicU64,
    lost: AtomicU64,
    preemptions: AtomicU64,
    paused: AtomicBool,
    model_latency: Mutex<Histogram>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Histogram {
    /// Cumulative counts, one per bound in [`MODEL_LATENCY_BUCKETS`].
    pub buckets: Vec<u64>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    fn record(&mut self, seconds: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; MODEL_LATENCY_BUCKETS.len()];
        }
        for (bucket, bound) in self.buckets.iter_mut().zip(MODEL_LATENCY_BUCKETS) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum_seconds += seconds;
    }
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DraftMetricsSnapshot {
    pub drafted: u64,
    /// Drafted, but the fidelity check found something for the person to look at.
    pub flagged: u64,
    pub skipped: u64,
    pub retried: u64,
    pub failed: u64,
    /// Given back without counting an attempt (model server down, shutting down).
    pub released: u64,
    /// The text changed during generation; drafted again.
    pub requeued: u64,
    pub dropped: u64,
    pub lost_claims: u64,
    pub preemptions: u64,
    /// Whether drafting waits for the model server to come back.
    pub paused: bool,
    pub model_latency: Histogram,
}

impl DraftMetrics {
    pub fn snapshot(&self) -> DraftMetricsSnapshot {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        DraftMetricsSnapshot {
            drafted: get(&self.drafted),
            flagged: get(&self.flagged),
            skipped: get(&self.skipped),
            retried: get(&self.retried),
            failed: get(&self.failed),
            released: get(&self.released),
            requeued: get(&self.requeued),
            dropped: get(&self.dropped),
            lost_claims: get(&self.lost),
            preemptions: get(&self.preemptions),
            paused: self.paused.load(Ordering::Relaxed),
            model_latency: self
                .model_latency
                .lock()
                .map(|h| h.clone())
                .unwrap_or_default(),
        }
    }

    pub(crate) fn count(&self, outcome: &crate::DraftOutcome) {
        use crate::DraftOutcome as O;
        let counter = match outcome {
            O::Drafted { flagged, .. } => {
                if *flagged {
                    self.flagged.fetch_add(1, Ordering::Relaxed);
                }
                &self.drafted
            }
            O::Skipped { .. } => &self.skipped,
            O::Retrying { .. } => &self.retried,
            O::Failed { .. } => &self.failed,
            O::Released { .. } => &self.released,
            O::Requeued => &self.requeued,
            O::Dropped => &self.dropped,
            O::LostClaim => &self.lost,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn preempted(&self) {
        self.preemptions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    pub(crate) fn model_call(&self, took: Duration) {
        if let Ok(mut histogram) = self.model_latency.lock() {
            histogram.record(took.as_secs_f64());
        }
    }
}
