//! `[draft]` in `jaryo.toml`; `JARYO_DRAFT_<FIELD>` in the environment.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How the draft worker paces itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DraftConfig {
    /// Whether this process drafts. Turn it off on API nodes when workers elsewhere draft.
    pub enabled: bool,
    /// The safety-net tick, in seconds. The worker wakes the moment work appears; this only
    /// covers wake-ups it could not be told about.
    pub interval_secs: u64,
    /// Documents claimed per round (small: each one holds a lease while it waits its turn).
    pub batch_size: u32,
    /// Drafts in flight at once; 0 means as many as the LLM gate has slots.
    pub parallelism: usize,
    /// Model calls per request before the draft is marked failed.
    pub max_attempts: u32,
    /// First retry delay; it doubles with each attempt, with jitter, up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// How long a claim holds without renewal; renewed while the model still generates. Work
    /// claimed by a process that died is taken over after this.
    pub lease_secs: u64,
    /// On shutdown, how long drafts in flight may take to finish before they are released.
    pub shutdown_grace_secs: u64,
    /// When the fidelity check flags a draft, ask once more with a stricter prompt that names
    /// the unsupported items, and keep the better of the two.
    pub redraft_on_flags: bool,
    /// The most characters of a document's text sent to the model in one call. Longer text
    /// is drafted in sections that follow its headings and paragraphs, then joined
    /// ([`crate::sections`]). About 3,000 fit a model with an 8k-token context: Korean takes
    /// up to a token a character, and the answer needs as much room again.
    pub context_budget_chars: usize,
}

impl Default for DraftConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 120,
            batch_size: 2,
            parallelism: 0,
            max_attempts: 5,
            backoff_base_ms: 5_000,
            backoff_max_ms: 600_000,
            lease_secs: 120,
            shutdown_grace_secs: 10,
            redraft_on_flags: true,
            context_budget_chars: 3_000,
        }
    }
}

impl DraftConfig {
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs.max(1))
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(1))
    }

    /// How often a held lease is renewed: well before it lapses.
    pub fn renew_every(&self) -> Duration {
        self.lease() / 3
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failed: the job queue's
    /// backoff ([`jaryo_store::jobs::Backoff`]) from `backoff_base_ms` up to
    /// `backoff_max_ms`. `unit` is a random number in `[0, 1)`.
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        jaryo_store::jobs::Backoff {
            base: Duration::from_millis(self.backoff_base_ms),
            max: Duration::from_millis(self.backoff_max_ms),
        }
        .delay(attempt, unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stays_under_the_cap() {
        let config = DraftConfig {
            backoff_base_ms: 1000,
            backoff_max_ms: 10_000,
            ..DraftConfig::default()
        };
        assert_eq!(config.backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(config.backoff(1, 0.999_999), Duration::from_millis(999));
        assert_eq!(config.backoff(2, 0.0), Duration::from_millis(1000));
        assert_eq!(config.backoff(3, 0.0), Duration::from_millis(2000));
        for attempt in 1..100 {
            let delay = config.backoff(attempt, 0.999);
            assert!(
                delay <= Duration::from_millis(10_000),
                "{attempt}: {delay:?}"
            );
            assert!(delay >= config.backoff(attempt, 0.0));
        }
    }
}
