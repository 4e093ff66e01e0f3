//! Behaviour of the gate as its callers see it: ordering, ageing, pre-emption, cancellation.
//!
//! Time is paused (`start_paused`) wherever timing matters, so nothing sleeps on the wall clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use jaryo_gate::{Acquire, Gate, GateConfig, Permit, Priority};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinSet;
use tokio::time::Instant;

use Priority::{Background, Interactive};

const LONG: Duration = Duration::from_secs(3600);

fn gate(concurrency: usize, preempt: bool, background_max_wait: Duration) -> Gate {
    Gate::new(GateConfig {
        concurrency,
        preempt,
        background_max_wait_ms: background_max_wait.as_millis() as u64,
    })
}

/// Polls a queued caller once without waiting.
fn try_take(acquire: &mut Acquire) -> Option<Permit> {
    acquire.now_or_never()
}

/// With one slot, releases permits one at a time and returns the order in which the queued
/// callers were served.
fn serve_order(mut queued: Vec<(&'static str, Acquire)>, mut held: Permit) -> Vec<&'static str> {
    let mut order = Vec::new();
    while !queued.is_empty() {
        drop(held);
        let mut served = None;
        for (index, (_, acquire)) in queued.iter_mut().enumerate() {
            if let Some(permit) = try_take(acquire) {
                assert!(served.is_none(), "two callers hold the single slot");
                served = Some((index, permit));
            }
        }
        let (index, permit) = served.expect("a queued caller is served when the slot frees");
        order.push(queued.remove(index).0);
        held = permit;
    }
    order
}

#[tokio::test(start_paused = true)]
async fn interactive_is_served_before_earlier_queued_background() {
    let gate = gate(1, false, LONG);
    let holder = gate.acquire(Background).await;
    let queued = vec![
        ("background 1", gate.acquire(Background)),
        ("background 2", gate.acquire(Background)),
        ("interactive", gate.acquire(Interactive)),
    ];
    assert_eq!(
        serve_order(queued, holder),
        ["interactive", "background 1", "background 2"]
    );
}

#[tokio::test(start_paused = true)]
async fn each_class_is_served_first_in_first_out() {
    let gate = gate(1, false, LONG);
    let holder = gate.acquire(Interactive).await;
    let queued = vec![
        ("b1", gate.acquire(Background)),
        ("i1", gate.acquire(Interactive)),
        ("b2", gate.acquire(Background)),
        ("i2", gate.acquire(Interactive)),
        ("b3", gate.acquire(Background)),
        ("i3", gate.acquire(Interactive)),
    ];
    assert_eq!(
        serve_order(queued, holder),
        ["i1", "i2", "i3", "b1", "b2", "b3"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_free_slot_is_granted_at_once_and_returned_on_drop() {
    let gate = gate(2, true, LONG);
    let first = gate.acquire(Background).await;
    let second = gate.acquire(Interactive).await;
    let mut third = gate.acquire(Background);
    assert!(try_take(&mut third).is_none(), "both slots are taken");
    assert_eq!(gate.snapshot().in_use, 2);
    drop(first);
    let third = try_take(&mut third).expect("the returned slot goes to the waiter");
    drop((second, third));
    let snapshot = gate.snapshot();
    assert_eq!(snapshot.in_use, 0);
    assert_eq!(
        snapshot.holders.interactive + snapshot.holders.background,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_mixed_callers_never_exceed_the_slots() {
    const SLOTS: usize = 3;
    const CALLERS: usize = 1000;
    let gate = gate(SLOTS, true, Duration::from_millis(5));
    let active = Arc::new(AtomicUsize::new(0));
    let most_active = Arc::new(AtomicUsize::new(0));
    let requeued = Arc::new(AtomicUsize::new(0));
    let mut callers = JoinSet::new();
    for index in 0..CALLERS {
        let gate = gate.clone();
        let active = Arc::clone(&active);
        let most_active = Arc::clone(&most_active);
        let requeued = Arc::clone(&requeued);
        let priority = if index % 3 == 0 {
            Interactive
        } else {
            Background
        };
        let work_steps = 1 + index % 7;
        callers.spawn(async move {
            let mut permit = gate.acquire(priority).await;
            loop {
                let now_active = active.fetch_add(1, Ordering::SeqCst) + 1;
                most_active.fetch_max(now_active, Ordering::SeqCst);
                let work = async {
                    for _ in 0..work_steps {
                        tokio::task::yield_now().await;
                    }
                };
                let finished = tokio::select! {
                    () = work => true,
                    () = permit.preempted() => false,
                };
                // Leave the count before the slot can move to someone else.
                active.fetch_sub(1, Ordering::SeqCst);
                if finished {
                    return;
                }
                let ticket = permit.preemption();
                drop(permit);
                requeued.fetch_add(1, Ordering::SeqCst);
                permit = gate.reacquire(&ticket).await;
            }
        });
    }
    while let Some(joined) = callers.join_next().await {
        joined.expect("caller task");
    }
    assert!(most_active.load(Ordering::SeqCst) <= SLOTS);
    assert_eq!(
        most_active.load(Ordering::SeqCst),
        SLOTS,
        "the callers really contended for every slot"
    );
    let snapshot = gate.snapshot();
    assert_eq!(snapshot.in_use, 0);
    assert_eq!(
        snapshot.waiters.interactive + snapshot.waiters.background,
        0
    );
    assert_eq!(
        snapshot.acquisitions.interactive as usize,
        (0..CALLERS).filter(|i| i % 3 == 0).count(),
        "interactive callers are never pre-empted, so each acquires once"
    );
    let requeued = requeued.load(Ordering::SeqCst) as u64;
    assert_eq!(
        snapshot.acquisitions.background,
        (CALLERS as u64 - snapshot.acquisitions.interactive) + requeued,
        "every background caller that stopped for an interactive one acquired once more"
    );
    // A holder told to stop may finish its work before it notices, so requests can outnumber
    // the callers that actually stopped, never the other way round.
    assert!(
        requeued > 0,
        "the interactive callers really pre-empted someone"
    );
    assert!(requeued <= snapshot.preemptions);
}

#[tokio::test(start_paused = true)]
async fn thousands_of_random_cancellations_leak_nothing() {
    const SLOTS: usize = 2;
    let gate = gate(SLOTS, true, Duration::from_millis(30));
    let mut rng = StdRng::seed_from_u64(0x6a61_7279);
    let mut callers = JoinSet::new();
    let active = Arc::new(AtomicUsize::new(0));
    let most_active = Arc::new(AtomicUsize::new(0));
    for _ in 0..5000 {
        let gate = gate.clone();
        let priority = if rng.random_bool(0.3) {
            Interactive
        } else {
            Background
        };
        let start_after = Duration::from_millis(rng.random_range(0..2000));
        let give_up_after = Duration::from_millis(rng.random_range(0..40));
        let hold_for = Duration::from_millis(rng.random_range(0..15));
        let drop_unpolled = rng.random_bool(0.1);
        let active = Arc::clone(&active);
        let most_active = Arc::clone(&most_active);
        callers.spawn(async move {
            tokio::time::sleep(start_after).await;
            let acquire = gate.acquire(priority);
            if drop_unpolled {
                drop(acquire);
                return;
            }
            let Ok(permit) = tokio::time::timeout(give_up_after, acquire).await else {
                return;
            };
            let now_active = active.fetch_add(1, Ordering::SeqCst) + 1;
            most_active.fetch_max(now_active, Ordering::SeqCst);
            tokio::select! {
                () = tokio::time::sleep(hold_for) => {}
                () = permit.preempted() => {}
            }
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    while let Some(joined) = callers.join_next().await {
        joined.expect("caller task");
    }
    let snapshot = gate.snapshot();
    assert!(most_active.load(Ordering::SeqCst) <= SLOTS);
    assert!(
        snapshot.abandoned.interactive + snapshot.abandoned.background > 1000,
        "the run really cancelled many waiters: {snapshot:?}"
    );
    assert!(snapshot.preemptions > 0, "the run really pre-empted");
    assert_eq!(snapshot.in_use, 0, "no slot leaked: {snapshot:?}");
    assert_eq!(
        snapshot.waiters.interactive + snapshot.waiters.background,
        0
    );
    assert!(snapshot.holder_details.is_empty());
    // The queue still works: every slot can be taken at once.
    let mut fresh: Vec<Acquire> = (0..SLOTS).map(|_| gate.acquire(Background)).collect();
    assert!(fresh.iter_mut().all(|a| try_take(a).is_some()));
}

#[tokio::test(start_paused = true)]
async fn a_waiter_dropped_just_after_being_handed_the_slot_passes_it_on() {
    let gate = gate(1, false, LONG);
    let holder = gate.acquire(Interactive).await;
    let handed_but_never_collected = gate.acquire(Background);
    let mut next = gate.acquire(Background);
    drop(holder);
    assert_eq!(gate.snapshot().in_use, 1, "the slot was handed on");
    drop(handed_but_never_collected);
    assert!(
        try_take(&mut next).is_some(),
        "the slot moved on to the next waiter"
    );
    assert_eq!(gate.snapshot().abandoned.background, 1);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiter_does_not_stall_the_waiters_behind_it() {
    let gate = gate(1, false, LONG);
    let holder = gate.acquire(Interactive).await;
    let mut first = gate.acquire(Interactive);
    let mut second = gate.acquire(Interactive);
    assert!(try_take(&mut first).is_none());
    drop(first);
    drop(holder);
    assert!(try_take(&mut second).is_some());
}

#[tokio::test(start_paused = true)]
async fn ageing_bound_serves_a_starved_background_waiter_and_protects_it() {
    let bound = Duration::from_secs(1);
    let hold = Duration::from_millis(100);
    let gate = gate(1, true, bound);
    let stop = Arc::new(AtomicBool::new(false));
    // A stream of interactive calls, each holding the slot 100 ms, arriving every 50 ms: without
    // ageing the background waiter would never be served.
    let generator = {
        let gate = gate.clone();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut calls = JoinSet::new();
            while !stop.load(Ordering::SeqCst) {
                let gate = gate.clone();
                calls.spawn(async move {
                    let _permit = gate.acquire(Interactive).await;
                    tokio::time::sleep(hold).await;
                });
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            calls
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    let queued_at = Instant::now();
    let permit = gate.acquire(Background).await;
    let waited = queued_at.elapsed();
    assert!(
        waited >= bound,
        "interactive calls went first until the bound: {waited:?}"
    );
    assert!(
        waited <= bound + 2 * hold,
        "served within the bound plus one interactive hold: {waited:?}"
    );
    assert_eq!(gate.snapshot().aged_grants, 1);

    // More interactive calls keep arriving while it runs: it is protected from pre-emption.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        gate.snapshot().waiters.interactive > 0,
        "interactive calls are waiting"
    );
    assert!(!permit.is_preempted(), "an aged permit is not pre-empted");
    assert!(gate.snapshot().holder_details[0].protected);
    drop(permit);

    stop.store(true, Ordering::SeqCst);
    let mut interactive_calls = generator.await.expect("generator task");
    while let Some(joined) = interactive_calls.join_next().await {
        joined.expect("interactive call");
    }
    assert_eq!(gate.snapshot().in_use, 0);
}

#[tokio::test(start_paused = true)]
async fn preemption_hands_the_slot_to_the_interactive_caller_and_the_background_call_requeues() {
    let gate = gate(1, true, LONG);
    let background = gate.acquire(Background).await;
    assert!(!background.is_preempted());
    let queued_background = gate.acquire(Background);

    let mut interactive = gate.acquire(Interactive);
    assert!(background.is_preempted(), "the background holder is told");
    background
        .preempted()
        .now_or_never()
        .expect("preempted() resolves at once");
    assert!(
        try_take(&mut interactive).is_none(),
        "no extra slot: the interactive caller waits for the holder to let go"
    );
    assert_eq!(gate.snapshot().in_use, 1);
    assert_eq!(gate.snapshot().preemptions, 1);

    let ticket = background.preemption();
    drop(background);
    let interactive = try_take(&mut interactive).expect("the slot went to the interactive caller");

    // The pre-empted call re-queues in its original place: ahead of the background caller that
    // queued after it first did.
    let queued = vec![
        ("queued later", queued_background),
        ("pre-empted", gate.reacquire(&ticket)),
    ];
    assert_eq!(
        serve_order(queued, interactive),
        ["pre-empted", "queued later"]
    );
}

#[tokio::test(start_paused = true)]
async fn run_preemptible_drops_the_work_and_reports_preemption() {
    let gate = gate(1, true, LONG);
    let work_dropped = Arc::new(AtomicBool::new(false));
    let background = {
        let gate = gate.clone();
        let work_dropped = Arc::clone(&work_dropped);
        tokio::spawn(async move {
            gate.run_preemptible(Background, move || async move {
                let _guard = SetOnDrop(work_dropped);
                std::future::pending::<()>().await;
            })
            .await
        })
    };
    wait_until(|| gate.snapshot().holders.background == 1).await;
    let interactive = gate.acquire(Interactive).await;
    let outcome = background.await.expect("background task");
    let preempted = outcome.expect_err("the background call was pre-empted");
    assert_eq!(preempted.priority(), Background);
    assert!(
        work_dropped.load(Ordering::SeqCst),
        "the model call was dropped"
    );
    assert_eq!(interactive.priority(), Interactive);
}

#[tokio::test(start_paused = true)]
async fn call_restarts_pre_empted_work_after_the_interactive_call() {
    let gate = gate(1, true, LONG);
    let starts = Arc::new(AtomicUsize::new(0));
    let background = {
        let gate = gate.clone();
        let starts = Arc::clone(&starts);
        tokio::spawn(async move {
            let mut cost = jaryo_gate::CallCost::default();
            gate.call(Background, &mut cost, || {
                starts.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(2))
            })
            .await
            .expect("no shared slots to fail");
            cost
        })
    };
    wait_until(|| gate.snapshot().holders.background == 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let interactive = gate.acquire(Interactive).await;
    assert_eq!(gate.snapshot().waiters.background, 1, "re-queued");
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(interactive);
    let cost = background.await.expect("background task");
    assert_eq!(starts.load(Ordering::SeqCst), 2);
    assert_eq!(cost.preemptions, 1);
    assert_eq!(
        cost.held,
        Duration::from_secs(3),
        "the lost second and the whole rerun"
    );
    assert_eq!(cost.waited, Duration::from_millis(500));
    let snapshot = gate.snapshot();
    assert_eq!(snapshot.preemptions, 1);
    assert_eq!(snapshot.acquisitions.background, 2);
}

#[tokio::test(start_paused = true)]
async fn without_preemption_interactive_waits_for_the_background_call() {
    let gate = gate(1, false, LONG);
    let background = gate.acquire(Background).await;
    let mut interactive = gate.acquire(Interactive);
    assert!(!background.is_preempted());
    assert!(try_take(&mut interactive).is_none());
    assert_eq!(gate.snapshot().preemptions, 0);
    drop(background);
    assert!(try_take(&mut interactive).is_some());
}

#[tokio::test(start_paused = true)]
async fn one_background_holder_is_preempted_per_interactive_waiter_youngest_first() {
    let gate = gate(2, true, LONG);
    let older = gate.acquire(Background).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let younger = gate.acquire(Background).await;

    let mut first = gate.acquire(Interactive);
    assert!(
        younger.is_preempted(),
        "the youngest holder loses least work"
    );
    assert!(!older.is_preempted());
    assert_eq!(gate.snapshot().preemptions, 1);

    let mut second = gate.acquire(Interactive);
    assert!(older.is_preempted());
    assert_eq!(gate.snapshot().preemptions, 2);

    drop(younger);
    assert!(try_take(&mut first).is_some());
    drop(older);
    assert!(try_take(&mut second).is_some());
}

#[tokio::test(start_paused = true)]
async fn a_background_holder_is_preempted_even_when_another_slot_serves_an_interactive_call() {
    let gate = gate(2, true, LONG);
    let _interactive_holder = gate.acquire(Interactive).await;
    let background = gate.acquire(Background).await;
    let mut interactive = gate.acquire(Interactive);
    assert!(background.is_preempted());
    drop(background);
    assert!(try_take(&mut interactive).is_some());
}

#[tokio::test(start_paused = true)]
async fn interactive_permits_are_never_preempted() {
    let gate = gate(1, true, LONG);
    let holder = gate.acquire(Interactive).await;
    let _waiting = gate.acquire(Interactive);
    assert!(!holder.is_preempted());
    assert!(holder.preempted().now_or_never().is_none());
    assert_eq!(gate.snapshot().preemptions, 0);
}

#[tokio::test(start_paused = true)]
async fn a_preempting_waiter_that_gives_up_does_not_stall_the_queue() {
    let gate = gate(1, true, LONG);
    let background = gate.acquire(Background).await;
    let mut next_background = gate.acquire(Background);
    let interactive = gate.acquire(Interactive);
    assert!(background.is_preempted());
    drop(interactive);
    drop(background);
    assert!(try_take(&mut next_background).is_some());
    assert_eq!(gate.snapshot().abandoned.interactive, 1);
}

#[tokio::test(start_paused = true)]
async fn snapshot_reports_holders_waiters_and_wait_histograms_by_class() {
    let gate = gate(1, false, LONG);
    let holder = gate.acquire(Background).await;
    let mut interactive = gate.acquire(Interactive);
    let _background = gate.acquire(Background);
    tokio::time::sleep(Duration::from_millis(250)).await;

    let snapshot = gate.snapshot();
    assert_eq!(snapshot.slots, 1);
    assert_eq!(snapshot.holders.background, 1);
    assert_eq!(snapshot.holder_details[0].held_ms, 250);
    assert_eq!(snapshot.waiters.interactive, 1);
    assert_eq!(snapshot.waiters.background, 1);
    assert_eq!(snapshot.oldest_wait_ms.interactive, Some(250));

    drop(holder);
    let _interactive = try_take(&mut interactive).expect("served");
    let snapshot = gate.snapshot();
    let waits = &snapshot.wait_seconds.interactive;
    assert_eq!(waits.count, 1);
    assert!((waits.sum_seconds - 0.25).abs() < 1e-9);
    let at = |le: f64| {
        waits
            .buckets
            .iter()
            .find(|b| b.le == le)
            .expect("bucket")
            .count
    };
    assert_eq!(at(0.1), 0);
    assert_eq!(at(0.25), 1);
    assert_eq!(at(300.0), 1);
    assert_eq!(snapshot.acquisitions.interactive, 1);
    assert_eq!(snapshot.acquisitions.background, 1);
    assert_eq!(snapshot.wait_seconds.background.count, 1);

    let json = serde_json::to_value(&snapshot).expect("serializable");
    assert_eq!(json["waiters"]["background"], 1);
    assert_eq!(json["holder_details"][0]["priority"], "interactive");
}

#[tokio::test(start_paused = true)]
async fn two_gates_are_independent() {
    let first = gate(1, true, LONG);
    let second = gate(1, true, LONG);
    let _held = first.acquire(Background).await;
    let mut other = second.acquire(Interactive);
    assert!(try_take(&mut other).is_some());
    assert_eq!(first.snapshot().preemptions, 0);
    assert_eq!(second.snapshot().acquisitions.background, 0);
}

#[test]
fn config_defaults_and_zero_concurrency() {
    let config = GateConfig::default();
    assert_eq!(config.concurrency, 1);
    assert!(config.preempt);
    let parsed: GateConfig =
        serde_json::from_str(r#"{"concurrency": 0}"#).expect("partial config parses");
    assert!(parsed.preempt, "missing fields take defaults");
    assert_eq!(Gate::new(parsed).snapshot().slots, 1);
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Lets spawned tasks run (time is paused, so this advances nothing real) until `condition`.
async fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if condition() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition not reached");
}
