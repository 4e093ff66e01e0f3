//! What the gate reports about itself: counters, current holders and waiters, wait histograms.
//!
//! The numbers are plain data (`serde::Serialize`); the HTTP crate renders them as Prometheus
//! metrics and on the status page. Histogram buckets are cumulative, Prometheus style.

use std::time::Duration;

use serde::Serialize;

use crate::Priority;

/// Upper bounds (seconds) of the wait-time buckets: from "no wait" to "behind a long draft".
const WAIT_BUCKETS_SECONDS: [f64; 16] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// A value per priority class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ByClass<T> {
    pub interactive: T,
    pub background: T,
}

impl<T> ByClass<T> {
    pub fn get(&self, priority: Priority) -> &T {
        match priority {
            Priority::Interactive => &self.interactive,
            Priority::Background => &self.background,
        }
    }

    pub fn get_mut(&mut self, priority: Priority) -> &mut T {
        match priority {
            Priority::Interactive => &mut self.interactive,
            Priority::Background => &mut self.background,
        }
    }
}

/// One cumulative histogram bucket: how many observations were `<= le` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistogramBucket {
    pub le: f64,
    pub count: u64,
}

/// Queue wait times of one class, Prometheus style: cumulative buckets (the `+Inf` bucket is
/// `count`), the sum of all waits in seconds, and the number of waits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitHistogram {
    pub buckets: Vec<HistogramBucket>,
    pub sum_seconds: f64,
    pub count: u64,
}

/// Running wait-time histogram; cheap to update under the gate's lock.
#[derive(Debug, Clone, Default)]
pub(crate) struct WaitRecorder {
    /// Non-cumulative counts per bucket; the last entry is the overflow (`+Inf`) bucket.
    counts: [u64; WAIT_BUCKETS_SECONDS.len() + 1],
    sum_seconds: f64,
    count: u64,
}

impl WaitRecorder {
    pub fn record(&mut self, wait: Duration) {
        let seconds = wait.as_secs_f64();
        let bucket = WAIT_BUCKETS_SECONDS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(WAIT_BUCKETS_SECONDS.len());
        self.counts[bucket] += 1;
        self.sum_seconds += seconds;
        self.count += 1;
    }

    pub fn histogram(&self) -> WaitHistogram {
        let mut cumulative = 0;
        let buckets = WAIT_BUCKETS_SECONDS
            .iter()
            .zip(self.counts)
            .map(|(&le, count)| {
                cumulative += count;
                HistogramBucket {
                    le,
                    count: cumulative,
                }
            })
            .collect();
        WaitHistogram {
            buckets,
            sum_seconds: self.sum_seconds,
            count: self.count,
        }
    }
}

/// One slot holder as seen at snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HolderSnapshot {
    pub priority: Priority,
    pub held_ms: u64,
    /// Served by the ageing bound, so not pre-emptible.
    pub protected: bool,
    /// Told to stop; the slot frees when the holder drops its permit.
    pub preempt_requested: bool,
}

/// Everything the gate can tell about itself at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateSnapshot {
    pub slots: usize,
    pub in_use: usize,
    pub preempt: bool,
    pub background_max_wait_ms: u64,
    /// Current slot holders by class.
    pub holders: ByClass<usize>,
    /// Current holders, oldest grant first.
    pub holder_details: Vec<HolderSnapshot>,
    /// Current waiters by class.
    pub waiters: ByClass<usize>,
    /// How long the longest current waiter of each class has waited, in milliseconds.
    pub oldest_wait_ms: ByClass<Option<u64>>,
    /// Slots granted so far, by class.
    pub acquisitions: ByClass<u64>,
    /// Waiters that gave up (were dropped) before using a slot, by class.
    pub abandoned: ByClass<u64>,
    /// Background holders told to stop for an interactive caller.
    pub preemptions: u64,
    /// Background waiters served ahead of interactive ones by the ageing bound.
    pub aged_grants: u64,
    /// Queue wait of granted acquisitions, by class.
    pub wait_seconds: ByClass<WaitHistogram>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_overflow_counts_only_in_the_total() {
        let mut recorder = WaitRecorder::default();
        recorder.record(Duration::ZERO);
        recorder.record(Duration::from_millis(20));
        recorder.record(Duration::from_secs(1000));
        let histogram = recorder.histogram();
        assert_eq!(histogram.count, 3);
        assert!((histogram.sum_seconds - 1000.02).abs() < 1e-9);
        let count_at = |le: f64| {
            histogram
                .buckets
                .iter()
                .find(|b| b.le == le)
                .map(|b| b.count)
                .expect("bucket exists")
        };
        assert_eq!(count_at(0.001), 1);
        assert_eq!(count_at(0.025), 2);
        assert_eq!(count_at(300.0), 2);
    }
}
