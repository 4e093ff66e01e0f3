//! An unreachable database: at start jaryo waits a bounded time and then says so; lost later,
//! calls fail as unavailable and succeed again once it is back, with no restart.

use jaryo_domain::MemoText;
use jaryo_store::{Store, StoreError};
use jaryo_store_postgres::PostgresStore;
use jaryo_store_postgres::testing::{TcpProxy, TestDatabase};
use sqlx::Connection;
use std::time::{Duration, Instant};

fn text(s: &str) -> MemoText {
    MemoText::parse(s.to_owned()).unwrap()
}

#[tokio::test]
async fn an_unreachable_database_at_start_is_retried_for_the_startup_wait_then_reported() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    // Nothing listens where the database should be: connection refused.
    let down = TcpProxy::start(&database, false).await;
    let mut options = down.options_for(&database);
    options.startup_wait = Duration::from_millis(600);
    let started = Instant::now();
    let error = PostgresStore::open(&options)
        .await
        .expect_err("nothing to connect to");
    let waited = started.elapsed();
    assert!(
        matches!(error, StoreError::Unavailable(_)),
        "unreachable is Unavailable: {error:?}"
    );
    assert!(
        waited >= Duration::from_millis(600),
        "it kept retrying for the startup wait, gave up after {waited:?}"
    );
    assert!(waited < Duration::from_secs(10), "{waited:?}");
}

#[tokio::test]
async fn a_database_that_comes_up_during_the_startup_wait_is_used() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let server = TcpProxy::start(&database, false).await;
    let mut options = server.options_for(&database);
    options.startup_wait = Duration::from_secs(60);
    let mut opening = tokio::spawn(async move { PostgresStore::open(&options).await });
    // Still waiting while the database refuses connections.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut opening)
            .await
            .is_err(),
        "open waits for the database instead of failing"
    );
    server.restore().await;
    let store = tokio::time::timeout(Duration::from_secs(15), opening)
        .await
        .expect("open finishes once the database is up")
        .unwrap()
        .expect("store opens");
    store
        .create_memo(&text("늦게 뜬 데이터베이스"))
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test]
async fn errors_that_waiting_cannot_fix_end_the_startup_wait_at_once() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    // A database that does not exist is a configuration mistake, not an outage.
    let missing = database
        .url()
        .replace(database.name(), "jaryo_no_such_database");
    let mut options = jaryo_store_postgres::PostgresOptions::from_url(&missing).unwrap();
    options.startup_wait = Duration::from_secs(60);
    let started = Instant::now();
    let error = PostgresStore::open(&options)
        .await
        .expect_err("no database");
    assert!(
        !matches!(error, StoreError::Unavailable(_)),
        "a missing database is not an outage: {error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Calls fail as unavailable until `store` answers again, within a deadline.
async fn recovers(store: &PostgresStore, memo: &jaryo_domain::Memo) {
    // The pool reconnects on its own: the next calls succeed, no restart needed.
    let deadline = Instant::now() + Duration::from_secs(15);
    let fetched = loop {
        match store.get_memo(memo.id).await {
            Ok(memo) => break memo,
            Err(StoreError::Unavailable(_)) if Instant::now() < deadline => continue,
            Err(other) => panic!("did not recover: {other:?}"),
        }
    };
    assert_eq!(&fetched, memo);
    store.create_memo(&text("돌아온 뒤의 메모")).await.unwrap();
}

async fn fails_as_unavailable(store: &PostgresStore, memo: &jaryo_domain::Memo) {
    for _ in 0..3 {
        match store.get_memo(memo.id).await {
            Err(StoreError::Unavailable(_)) => {}
            other => panic!("expected Unavailable while the database is gone, got {other:?}"),
        }
        match store.create_memo(&text("사라진 동안의 메모")).await {
            Err(StoreError::Unavailable(_)) => {}
            other => panic!("expected Unavailable while the database is gone, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_lost_database_fails_calls_cleanly_and_they_recover_when_it_returns() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let network = TcpProxy::start(&database, true).await;
    let mut options = network.options_for(&database);
    options.acquire_timeout = Duration::from_millis(500);
    let store = PostgresStore::open(&options).await.expect("store opens");
    let memo = store.create_memo(&text("잃기 전의 메모")).await.unwrap();

    // The server crashes or the network fails: open connections die, new ones are refused.
    network.cut().await;
    fails_as_unavailable(&store, &memo).await;
    network.restore().await;
    recovers(&store, &memo).await;
    store.close().await;
}

#[tokio::test]
async fn a_database_closed_for_maintenance_fails_calls_cleanly_until_reopened() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let mut options = database.options();
    options.acquire_timeout = Duration::from_millis(500);
    let store = PostgresStore::open(&options).await.expect("store opens");
    let memo = store.create_memo(&text("점검 전의 메모")).await.unwrap();

    // An operator closes the database and ends its sessions.
    database.allow_connections(false).await;
    database.terminate_connections(None).await;
    fails_as_unavailable(&store, &memo).await;
    database.allow_connections(true).await;
    recovers(&store, &memo).await;
    store.close().await;
}

#[tokio::test]
async fn a_statement_stuck_past_the_statement_timeout_fails_as_unavailable() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let mut options = database.options();
    options.statement_timeout = Duration::from_millis(300);
    let store = PostgresStore::open(&options).await.expect("store opens");
    let memo = store.create_memo(&text("잠길 메모")).await.unwrap();

    // Another session holds the memo's row lock and does not let go.
    let mut holder = sqlx::postgres::PgConnection::connect(database.url())
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT id FROM memos WHERE id = $1 FOR UPDATE")
        .bind(memo.id.0)
        .execute(&mut holder)
        .await
        .unwrap();

    let started = Instant::now();
    match store
        .update_memo(memo.id, &text("기다리다 포기한 편집"), None)
        .await
    {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable after the statement timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    // Reads never waited on the lock, and the memo is unchanged.
    assert_eq!(store.get_memo(memo.id).await.unwrap().content, "잠길 메모");
    store.close().await;
}
