//! Gate configuration: flat fields so the binary can map `JARYO_LLM_*` environment variables.

use serde::{Deserialize, Serialize};

/// How the gate shares the model between callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GateConfig {
    /// Concurrent model calls allowed in this process (`JARYO_LLM_CONCURRENCY`). Zero is treated
    /// as one: a gate that never opens would only hang every caller.
    pub concurrency: usize,
    /// Whether an interactive call may stop a running background call to take its slot.
    pub preempt: bool,
    /// Ageing bound: once interactive calls have kept passing over the oldest background waiter
    /// for this long, it is served before interactive calls that arrived after that, and is not
    /// pre-empted.
    pub background_max_wait_ms: u64,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            concurrency: 1,
            preempt: true,
            background_max_wait_ms: 60_000,
        }
    }
}

impl GateConfig {
    pub(crate) fn effective_concurrency(&self) -> usize {
        self.concurrency.max(1)
    }
}
