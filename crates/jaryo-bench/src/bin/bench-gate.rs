//! bench-gate: how long a person waits for the model while background drafts keep it busy.
//!
//! Background callers run 2-second generations back to back through the real model client
//! against the OpenAI-compatible test server, so the gate is always saturated. Interactive calls
//! arrive at random (a Poisson process). Each interactive call's queue wait — from asking the
//! gate to holding a slot — is recorded, once with pre-emption on and once with it off, in the
//! same run. With pre-emption the background call's HTTP request is really dropped: the test
//! server counts the disconnects.
//!
//! Floor: with pre-emption on, the interactive wait p99 is at most 50 ms. The process exits
//! non-zero if it is not met.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hdrhistogram::Histogram;
use jaryo_gate::{Gate, GateConfig, Preempted, Priority};
use jaryo_llm::{LlmClient, LlmConfig};
use jaryo_model::ChatRequest;
use jaryo_testllm::{Reply, TestLlm};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;
use tokio::time::Instant;

const FLOOR_P99: Duration = Duration::from_millis(50);

/// Interactive queue wait behind saturating background generations, with pre-emption on and off.
///
/// Background callers keep every gate slot busy with long generations (through the real model
/// client and an in-process OpenAI-compatible test server); interactive calls arrive at random.
/// Prints the interactive queue wait (p50, p99, max) for each mode, the pre-emptions, and the
/// background requests the server saw dropped. Exits non-zero if, with pre-emption on, the p99
/// wait exceeds 50 ms.
#[derive(Debug, Parser)]
#[command(name = "bench-gate", version)]
struct Args {
    /// Length of each phase (pre-emption on, then off), in seconds.
    #[arg(long, default_value_t = 40)]
    phase_secs: u64,
    /// A longer run for steadier figures: 240 s per phase (overrides --phase-secs).
    #[arg(long)]
    long: bool,
    /// Gate slots (`JARYO_LLM_CONCURRENCY`).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Duration of one background generation, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    background_ms: u64,
    /// Background callers looping on generations (default: slots + 1, so one always waits).
    #[arg(long)]
    background_callers: Option<usize>,
    /// Mean gap between interactive arrivals, in milliseconds.
    #[arg(long, default_value_t = 750)]
    interactive_gap_ms: u64,
    /// Duration of one interactive generation, in milliseconds.
    #[arg(long, default_value_t = 30)]
    interactive_ms: u64,
    /// Seed of the arrival times, so runs can be repeated.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

struct PhaseReport {
    waits: Histogram<u64>,
    preemptions: u64,
    background_done: u64,
    disconnects: usize,
    failed_calls: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let phase = Duration::from_secs(if args.long {
        240
    } else {
        args.phase_secs.max(1)
    });
    let background_callers = args
        .background_callers
        .unwrap_or(args.concurrency.max(1) + 1);
    println!(
        "bench-gate: {} slot(s); {} background callers of {} ms generations; interactive calls \
         of {} ms arriving every {} ms on average (Poisson, seed {}); {} s per phase",
        args.concurrency,
        background_callers,
        args.background_ms,
        args.interactive_ms,
        args.interactive_gap_ms,
        args.seed,
        phase.as_secs()
    );
    let on = run_phase(&args, true, phase, background_callers).await?;
    let off = run_phase(&args, false, phase, background_callers).await?;

    println!();
    println!(
        "{:<16} {:>6} {:>11} {:>11} {:>11} {:>13} {:>16} {:>19}",
        "interactive",
        "calls",
        "wait p50",
        "wait p99",
        "wait max",
        "pre-emptions",
        "background done",
        "server disconnects"
    );
    for (label, report) in [("pre-emption on", &on), ("pre-emption off", &off)] {
        println!(
            "{:<16} {:>6} {:>11} {:>11} {:>11} {:>13} {:>16} {:>19}",
            label,
            report.waits.len(),
            millis(report.waits.value_at_quantile(0.5)),
            millis(report.waits.value_at_quantile(0.99)),
            millis(report.waits.max()),
            report.preemptions,
            report.background_done,
            report.disconnects,
        );
        if report.failed_calls > 0 {
            println!("  ({} model calls failed; see stderr)", report.failed_calls);
        }
    }
    let p99 = Duration::from_micros(on.waits.value_at_quantile(0.99));
    let met = p99 <= FLOOR_P99 && !on.waits.is_empty();
    println!();
    println!(
        "floor: pre-emption on, interactive wait p99 <= {} ms: {} ({})",
        FLOOR_P99.as_millis(),
        if met { "met" } else { "NOT MET" },
        millis(on.waits.value_at_quantile(0.99)),
    );
    Ok(if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn millis(micros: u64) -> String {
    format!("{:.1} ms", micros as f64 / 1000.0)
}

async fn run_phase(
    args: &Args,
    preempt: bool,
    phase: Duration,
    background_callers: usize,
) -> anyhow::Result<PhaseReport> {
    let server = TestLlm::start().await;
    let background_time = Duration::from_millis(args.background_ms);
    let interactive_time = Duration::from_millis(args.interactive_ms);
    server.set_handler(move |request| {
        if request.system() == Some("interactive") {
            Reply::text("A short answer for the person waiting.")
                .chunks(3)
                .generation_time(interactive_time)
        } else {
            Reply::text("# Draft\n\nA long background draft, streamed a piece at a time.")
                .chunks(40)
                .generation_time(background_time)
        }
    });
    let client = LlmClient::new(LlmConfig {
        base_url: server.base_url(),
        model: "bench-model".to_owned(),
        ..LlmConfig::default()
    })
    .context("model client")?;
    let gate = Gate::new(GateConfig {
        concurrency: args.concurrency,
        preempt,
        ..GateConfig::default()
    });
    let started = Instant::now();
    let end = started + phase;
    let background_done = Arc::new(AtomicU64::new(0));
    let failed_calls = Arc::new(AtomicU64::new(0));

    let mut background = JoinSet::new();
    for _ in 0..background_callers {
        background.spawn(background_caller(
            gate.clone(),
            client.clone(),
            end,
            Arc::clone(&background_done),
            Arc::clone(&failed_calls),
        ));
    }
    // Measure only once the background callers hold every slot.
    let saturated_by = Instant::now() + Duration::from_secs(10);
    while gate.snapshot().in_use < gate.snapshot().slots {
        anyhow::ensure!(
            Instant::now() < saturated_by,
            "background callers did not saturate the gate"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let mut rng = StdRng::seed_from_u64(args.seed);
    let mean_gap = args.interactive_gap_ms as f64 / 1000.0;
    let mut interactive = JoinSet::new();
    loop {
        // Exponential gaps make arrivals a Poisson process.
        let uniform: f64 = rng.random_range(f64::EPSILON..1.0);
        let gap = Duration::from_secs_f64(-uniform.ln() * mean_gap);
        let at = Instant::now() + gap;
        // Leave room for the last call to wait behind a whole background generation and still
        // finish inside the phase, while the background callers keep the gate saturated.
        if at + background_time + interactive_time * 4 >= end {
            break;
        }
        tokio::time::sleep_until(at).await;
        interactive.spawn(interactive_call(
            gate.clone(),
            client.clone(),
            Arc::clone(&failed_calls),
        ));
    }
    let mut waits = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("histogram")?;
    while let Some(joined) = interactive.join_next().await {
        let wait = joined.context("interactive task")?;
        waits
            .record(u64::try_from(wait.as_micros()).unwrap_or(u64::MAX).max(1))
            .context("record a wait")?;
    }
    // Count the requests the server saw dropped by pre-emption before the phase ends (and the
    // background callers' last requests are dropped too). The server notices a disconnect a
    // moment after the client leaves, hence the short wait.
    let snapshot = gate.snapshot();
    let preemptions = usize::try_from(snapshot.preemptions).unwrap_or(usize::MAX);
    let _ = server
        .wait_for_disconnects(preemptions, Duration::from_secs(2))
        .await;
    let disconnects = server.disconnects();
    while let Some(joined) = background.join_next().await {
        joined.context("background task")?;
    }
    println!(
        "  phase pre-emption {}: {} interactive calls, {} pre-emptions, {} background drafts done",
        if preempt { "on" } else { "off" },
        waits.len(),
        snapshot.preemptions,
        background_done.load(Ordering::Relaxed)
    );
    Ok(PhaseReport {
        waits,
        preemptions: snapshot.preemptions,
        background_done: background_done.load(Ordering::Relaxed),
        disconnects,
        failed_calls: failed_calls.load(Ordering::Relaxed),
    })
}

/// A draft worker's loop: generate under a background permit; when pre-empted, the model call
/// is dropped and the caller re-queues in its place without counting a failure.
async fn background_caller(
    gate: Gate,
    client: LlmClient,
    end: Instant,
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) {
    let mut requeue: Option<Preempted> = None;
    loop {
        let acquire = match &requeue {
            Some(ticket) => gate.reacquire(ticket),
            None => gate.acquire(Priority::Background),
        };
        let work = async {
            let permit = acquire.await;
            permit
                .run_until_preempted(client.complete(ChatRequest::new("background").user("memo")))
                .await
        };
        let outcome = tokio::select! {
            () = tokio::time::sleep_until(end) => return,
            outcome = work => outcome,
        };
        requeue = match outcome {
            Ok(Ok(_)) => {
                done.fetch_add(1, Ordering::Relaxed);
                None
            }
            Ok(Err(err)) => {
                failed.fetch_add(1, Ordering::Relaxed);
                eprintln!("background call failed: {err}");
                None
            }
            Err(preempted) => Some(preempted),
        };
    }
}

/// One interactive call; returns how long it waited for the gate.
async fn interactive_call(gate: Gate, client: LlmClient, failed: Arc<AtomicU64>) -> Duration {
    let asked = Instant::now();
    let permit = gate.acquire(Priority::Interactive).await;
    let waited = asked.elapsed();
    if let Err(err) = client
        .complete(ChatRequest::new("interactive").user("question"))
        .await
    {
        failed.fetch_add(1, Ordering::Relaxed);
        eprintln!("interactive call failed: {err}");
    }
    drop(permit);
    waited
}
