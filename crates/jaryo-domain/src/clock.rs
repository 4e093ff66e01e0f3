//! Time is injected, so leases and backoff can be tested without sleeping.
//!
//! Timestamps are truncated to microseconds when they are made: PostgreSQL keeps microseconds,
//! and truncating everywhere means both stores return exactly what was written.

use chrono::{DateTime, SubsecRound, Utc};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

/// A point in time, UTC, microsecond precision.
pub type Timestamp = DateTime<Utc>;

/// Drops sub-microsecond precision.
pub fn truncate_to_micros(t: Timestamp) -> Timestamp {
    t.trunc_subsecs(6)
}

/// Where "now" comes from.
pub trait Clock: Send + Sync + Debug + 'static {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        truncate_to_micros(Utc::now())
    }
}

/// A clock that only moves when told to; shared by clones.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(truncate_to_micros(start))),
        }
    }

    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.now.lock().expect("clock mutex poisoned");
        *now += chrono::Duration::from_std(by).expect("duration fits");
    }

    pub fn set(&self, to: Timestamp) {
        *self.now.lock().expect("clock mutex poisoned") = truncate_to_micros(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().expect("clock mutex poisoned")
    }
}
