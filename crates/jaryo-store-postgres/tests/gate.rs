//! The LLM gate's slots shared across processes: two `PgSharedSlots` on one database stand for
//! two jaryo processes (each has its own connections and listener, as a process would).

use jaryo_gate::{Priority, SharedSlots};
use jaryo_store_postgres::testing::TestDatabase;
use jaryo_store_postgres::{PgSharedSlots, PostgresStore, SharedSlotsConfig};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

async fn cluster(slots: usize) -> Option<(TestDatabase, PostgresStore, SharedSlotsConfig)> {
    let database = TestDatabase::create().await?;
    // Opening the store applies the migrations, the gate's tables among them.
    let store = PostgresStore::open(&database.options()).await.unwrap();
    let config = SharedSlotsConfig {
        slots,
        lease: Duration::from_secs(3),
        ..SharedSlotsConfig::default()
    };
    Some((database, store, config))
}

#[tokio::test]
async fn the_limit_holds_across_processes() {
    let Some((database, _store, config)) = cluster(2).await else {
        return;
    };
    let processes: Vec<PgSharedSlots> = (0..3)
        .map(|_| PgSharedSlots::start(&database.options(), config.clone()))
        .collect();
    let holding = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut calls = Vec::new();
    for n in 0..30 {
        let slots = processes[n % 3].clone();
        let (holding, most) = (holding.clone(), most.clone());
        calls.push(tokio::spawn(async move {
            let priority = if n % 4 == 0 {
                Priority::Interactive
            } else {
                Priority::Background
            };
            let slot = slots.acquire(priority).await.unwrap();
            let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            holding.fetch_sub(1, Ordering::SeqCst);
            drop(slot);
        }));
    }
    for call in calls {
        tokio::time::timeout(Duration::from_secs(60), call)
            .await
            .expect("every caller is served")
            .unwrap();
    }
    // Pre-emption may ask a holder to stop, but never lets a third in while two hold.
    assert!(
        most.load(Ordering::SeqCst) <= 2,
        "{}",
        most.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn an_interactive_call_in_one_process_stops_a_background_call_in_another() {
    let Some((database, _store, config)) = cluster(1).await else {
        return;
    };
    let worker = PgSharedSlots::start(&database.options(), config.clone());
    let api = PgSharedSlots::start(&database.options(), config);
    let background = worker.acquire(Priority::Background).await.unwrap();
    assert!(!background.is_preempted());

    let asked = Instant::now();
    let interactive = tokio::spawn(async move { api.acquire(Priority::Interactive).await });
    tokio::time::timeout(Duration::from_secs(10), background.preempted())
        .await
        .expect("the background holder is asked to stop");
    drop(background);
    let slot = tokio::time::timeout(Duration::from_secs(10), interactive)
        .await
        .expect("the interactive call gets the slot")
        .unwrap()
        .unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    drop(slot);
}

#[tokio::test]
async fn a_slot_of_a_dead_process_is_freed_by_its_lease() {
    let Some((database, store, config)) = cluster(1).await else {
        return;
    };
    // What a process killed while holding a slot leaves behind: a row nobody renews.
    sqlx::query(
        "INSERT INTO llm_gate_slots (holder_id, process, priority, granted_at, lease_expires_at) \
         VALUES ('dead-holder', 'dead-process', 'background', now(), now() + interval '1 second')",
    )
    .execute(store.pool_for_tests())
    .await
    .unwrap();
    let survivor = PgSharedSlots::start(&database.options(), config);
    let started = Instant::now();
    let slot = tokio::time::timeout(
        Duration::from_secs(15),
        survivor.acquire(Priority::Background),
    )
    .await
    .expect("the dead holder's slot comes back")
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "not before the lease ends"
    );
    drop(slot);
}

#[tokio::test]
async fn a_waiter_that_gives_up_leaves_nothing_behind() {
    let Some((database, store, config)) = cluster(1).await else {
        return;
    };
    let a = PgSharedSlots::start(&database.options(), config.clone());
    let b = PgSharedSlots::start(&database.options(), config.clone());
    let held = a.acquire(Priority::Background).await.unwrap();
    // B queues as interactive (first in line), then gives up.
    let gave_up =
        tokio::time::timeout(Duration::from_millis(300), b.acquire(Priority::Interactive)).await;
    assert!(gave_up.is_err());
    drop(held);
    // A background caller is not stuck behind the abandoned interactive waiter.
    let c = PgSharedSlots::start(&database.options(), config);
    let slot = tokio::time::timeout(Duration::from_secs(10), c.acquire(Priority::Background))
        .await
        .expect("nothing stale blocks the queue")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let waiters: i64 = sqlx::query_scalar("SELECT count(*) FROM llm_gate_waiters")
            .fetch_one(store.pool_for_tests())
            .await
            .unwrap();
        if waiters == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiters} waiter rows left behind"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let snapshot = c.snapshot().await.unwrap();
    assert_eq!(snapshot.holders_background, 1);
    drop(slot);
}
