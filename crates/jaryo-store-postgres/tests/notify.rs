//! Draft wake-ups across processes: a promote in one store wakes the workers of another
//! through `LISTEN/NOTIFY`, and the listener survives losing its connection.

use jaryo_domain::MemoText;
use jaryo_store::Store;
use jaryo_store_postgres::testing::TestDatabase;
use jaryo_store_postgres::{ListenerStatus, PostgresStore};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Generous bounds for a loaded CI machine; the measured figures are printed.
const WAKE_DEADLINE: Duration = Duration::from_secs(2);
const RECONNECT_DEADLINE: Duration = Duration::from_secs(15);

async fn open(database: &TestDatabase) -> PostgresStore {
    PostgresStore::open(&database.options())
        .await
        .expect("store opens")
}

async fn promote_one(store: &PostgresStore, body: &str) {
    let memo = store
        .create_memo(&MemoText::parse(body.to_owned()).unwrap())
        .await
        .unwrap();
    store.promote_memo(memo.id).await.unwrap();
}

/// Waits until the listener has started `sessions` sessions and is listening.
async fn listening(store: &PostgresStore, sessions: u64) {
    let mut status = store.listener_status();
    tokio::time::timeout(
        RECONNECT_DEADLINE,
        status.wait_for(|s: &ListenerStatus| s.listening && s.sessions >= sessions),
    )
    .await
    .unwrap_or_else(|_| panic!("the listener reached session {sessions}"))
    .expect("the listener task is alive");
}

/// Promotes in `from` and returns how long until `to`'s draft signal fired.
async fn wake_latency(from: &PostgresStore, to: &PostgresStore, body: &str) -> Duration {
    let mut signal: watch::Receiver<u64> = to.draft_signal().subscribe();
    signal.borrow_and_update();
    let started = Instant::now();
    promote_one(from, body).await;
    tokio::time::timeout(WAKE_DEADLINE, signal.changed())
        .await
        .expect("the other store's workers were woken")
        .expect("the signal lives");
    started.elapsed()
}

#[tokio::test]
async fn a_promote_in_one_process_wakes_the_workers_of_another() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let api = open(&database).await;
    let worker = open(&database).await;
    listening(&worker, 1).await;

    let mut latencies = Vec::new();
    for n in 0..20 {
        latencies.push(wake_latency(&api, &worker, &format!("깨우는 승격 {n}")).await);
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    eprintln!(
        "cross-process wake (promote commit to signal, includes the promote): p50 {median:?}, max {:?}",
        latencies.last().unwrap()
    );
    assert!(
        median < Duration::from_millis(200),
        "wake-ups take milliseconds, not a poll interval: p50 {median:?}"
    );
    api.close().await;
    worker.close().await;
}

#[tokio::test]
async fn the_listener_reconnects_after_its_connection_is_killed_and_keeps_delivering() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let api = open(&database).await;
    let worker = open(&database).await;
    listening(&worker, 1).await;
    wake_latency(&api, &worker, "끊기 전의 승격").await;

    listening(&api, 1).await;
    for round in 1..=3u64 {
        listening(&api, round).await;
        listening(&worker, round).await;
        let mut signal = worker.draft_signal().subscribe();
        signal.borrow_and_update();
        // Both stores' listeners lose their connections (the server ends them).
        let ended = database.terminate_connections(Some("jaryo-listener")).await;
        assert_eq!(ended, 2, "round {round}: two listener connections");
        // After reconnecting, the listener wakes the workers once by itself: anything
        // promoted while it was away would otherwise go unnoticed until the interval.
        listening(&worker, round + 1).await;
        tokio::time::timeout(WAKE_DEADLINE, signal.changed())
            .await
            .expect("a reconnect wakes the workers")
            .unwrap();
        let latency = wake_latency(&api, &worker, &format!("다시 연결된 뒤의 승격 {round}")).await;
        eprintln!("round {round}: wake after reconnect took {latency:?}");
    }
    api.close().await;
    worker.close().await;
}

#[tokio::test]
async fn redrafts_and_requeues_wake_other_processes_too() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let api = open(&database).await;
    let worker = open(&database).await;
    listening(&worker, 1).await;
    let memo = api
        .create_memo(&MemoText::parse("다시 초안을 요청할 원문입니다".into()).unwrap())
        .await
        .unwrap();
    let document = api.promote_memo(memo.id).await.unwrap();

    let mut signal = worker.draft_signal().subscribe();
    signal.borrow_and_update();
    api.request_redraft(document.id).await.unwrap();
    tokio::time::timeout(WAKE_DEADLINE, signal.changed())
        .await
        .expect("a redraft in another process wakes the workers")
        .unwrap();

    // A claim released by one process (pre-empted, shutting down) wakes the others.
    let claim = api
        .claim_drafts(&jaryo_store::ClaimRequest {
            owner: "api".into(),
            lease: Duration::from_secs(30),
            limit: 1,
            max_attempts: 3,
        })
        .await
        .unwrap()
        .remove(0);
    signal.borrow_and_update();
    api.settle_draft(&claim, &jaryo_store::Settlement::Released)
        .await
        .unwrap();
    tokio::time::timeout(WAKE_DEADLINE, signal.changed())
        .await
        .expect("a released claim wakes the other processes")
        .unwrap();
    api.close().await;
    worker.close().await;
}

#[tokio::test]
async fn the_listener_waits_out_an_outage_and_wakes_the_workers_when_it_is_back() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let api = open(&database).await;
    // The worker reaches the database over a network that fails for a while.
    let network = jaryo_store_postgres::testing::TcpProxy::start(&database, true).await;
    let mut options = network.options_for(&database);
    options.acquire_timeout = Duration::from_millis(300);
    let worker = PostgresStore::open(&options).await.expect("store opens");
    listening(&worker, 1).await;

    let mut status = worker.listener_status();
    network.cut().await;
    tokio::time::timeout(RECONNECT_DEADLINE, status.wait_for(|s| !s.listening))
        .await
        .expect("the listener notices the outage")
        .unwrap();
    // Work queued during the outage: its notification is lost for the worker.
    promote_one(&api, "끊긴 동안의 승격").await;
    let mut signal = worker.draft_signal().subscribe();
    signal.borrow_and_update();

    network.restore().await;
    listening(&worker, 2).await;
    tokio::time::timeout(WAKE_DEADLINE, signal.changed())
        .await
        .expect("back online, the listener wakes the workers to find what was missed")
        .unwrap();
    wake_latency(&api, &worker, "돌아온 뒤의 승격").await;
    api.close().await;
    worker.close().await;
}
