//! The LLM gate: priority slots shared by every model call in a process.
//!
//! A small machine runs one local model; every model call in the process passes this gate so
//! generations never pile up, and a person never waits behind a batch job longer than necessary.
//!
//! - [`Gate`] hands out `concurrency` slots as [`Permit`]s. A permit releases its slot on drop.
//! - [`Priority::Interactive`] waiters (a person is waiting) are served before
//!   [`Priority::Background`] waiters (drafts, indexing); FIFO within a class.
//! - **Ageing**: a background waiter that interactive calls have kept passing over for
//!   `background_max_wait_ms` is served before interactive waiters that arrived after that clock
//!   started, and its permit is then protected from pre-emption, so background work is never
//!   starved forever.
//! - **Pre-emption**: when an interactive waiter would be served next and no slot is free, the
//!   youngest unprotected background permit is told to stop ([`Permit::preempted`]). Its holder
//!   drops its request and permit; the freed slot goes to the interactive waiter. The holder
//!   re-queues with [`Gate::reacquire`] (keeping its place and ageing clock) without counting a
//!   failed attempt.
//! - **One call for every model call**: [`Gate::call`] takes the local slot, then the cluster's
//!   shared one, runs the caller's future under both and handles pre-emption (drop, re-queue
//!   in the same place, start again), adding what it spent to a [`CallCost`]. Drafts and Ask
//!   both call the model through it; [`Gate::acquire`] and [`Gate::run_preemptible`] are the
//!   primitives it is made of.
//! - **Observability**: [`Gate::snapshot`] reports holders, waiters, pre-emptions and wait-time
//!   histograms by class, ready to render as Prometheus metrics or on a status page.
//!
//! A background call that can be pre-empted, as the draft worker makes it:
//!
//! ```
//! use jaryo_gate::{CallCost, Gate, GateConfig, Priority};
//!
//! # async fn call_the_model() -> String { "draft".to_owned() }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let gate = Gate::new(GateConfig::default());
//! let mut cost = CallCost::default();
//! // Pre-empted by a person's call, `call_the_model` is dropped and started again once the
//! // slot comes back: not a failure, no attempt counted.
//! let answer = gate.call(Priority::Background, &mut cost, call_the_model).await;
//! assert_eq!(answer.unwrap(), "draft");
//! assert_eq!(cost.preemptions, 0);
//! # }
//! ```
//!
//! Architecture invariants:
//! - The number of granted slots never exceeds `concurrency`; pre-emption only *asks* a holder to
//!   stop, the slot moves only when the holder drops its permit.
//! - Dropping an [`Acquire`] future at any point (waiting, or just handed a slot it never
//!   collected) leaks nothing and never stalls the queue.
//! - No global state: two gates are independent. Time is `tokio::time`, so tests can pause it.
//! - The gate knows nothing about HTTP or the model client: it orders callers, that is all.
//! - Waiter ordering (the private `queue` module) is separate from where slots come from. Across
//!   processes, [`SharedSlots`] (implemented by a store that several processes share) adds a
//!   cluster-wide limit behind the local permits: [`Gate::call`] holds a local permit, then a
//!   shared slot, and stops when either is pre-empted. No caller takes slots itself.

mod cluster;
mod config;
mod gate;
mod preempt;
mod priority;
mod queue;
mod snapshot;

pub use cluster::{SharedSlot, SharedSlotError, SharedSlots, SharedSlotsSnapshot};
pub use config::GateConfig;
pub use gate::{Acquire, CallCost, Gate, Permit};
pub use preempt::Preempted;
pub use priority::Priority;
pub use snapshot::{ByClass, GateSnapshot, HistogramBucket, HolderSnapshot, WaitHistogram};
