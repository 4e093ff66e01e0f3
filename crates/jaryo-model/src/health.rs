//! Whether a model backend is up, as last seen by a probe or a call.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ModelError;

/// Up or down, as last observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Nothing observed yet.
    Unknown,
    Up,
    Down,
}

/// The cheap, always-available view of a backend's health, for the UI and the worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthSnapshot {
    pub status: HealthStatus,
    /// When the status last changed.
    pub since: Option<DateTime<Utc>>,
    /// When it was last observed (by a probe or a call).
    pub checked_at: Option<DateTime<Utc>>,
    /// Why it is down, in words safe to show a person (no credentials).
    pub last_error: Option<String>,
}

impl Default for HealthSnapshot {
    fn default() -> Self {
        HealthSnapshot::unknown()
    }
}

impl HealthSnapshot {
    /// Nothing seen yet.
    pub fn unknown() -> Self {
        HealthSnapshot {
            status: HealthStatus::Unknown,
            since: None,
            checked_at: None,
            last_error: None,
        }
    }

    /// Records what a call or probe said: `Ok` when the backend answered, the error when it
    /// could not be reached. A backend decides which of its errors say "down" before calling.
    pub fn observe(&mut self, outcome: Result<(), &ModelError>) {
        let now = Utc::now();
        let status = match outcome {
            Ok(()) => HealthStatus::Up,
            Err(_) => HealthStatus::Down,
        };
        if self.status != status {
            self.status = status;
            self.since = Some(now);
        }
        self.checked_at = Some(now);
        self.last_error = outcome.err().map(ToString::to_string);
    }
}

/// How often [`ChatModel::wait_until_healthy`](crate::ChatModel::wait_until_healthy) probes:
/// it starts at `initial` and doubles up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeBackoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for ProbeBackoff {
    fn default() -> Self {
        ProbeBackoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}
