//! The shared store conformance suite, on PostgreSQL: each check in a fresh database.

use jaryo_domain::ManualClock;
use jaryo_store::conformance::Fixture;
use jaryo_store_postgres::PostgresStore;
use jaryo_store_postgres::testing::TestDatabase;
use std::sync::Arc;

/// Opens a store on a fresh database; `None` when the PostgreSQL tests are skipped here
/// (the test helper said why).
async fn open(clock: ManualClock) -> Option<Fixture> {
    let database = TestDatabase::create().await?;
    let store = PostgresStore::open_with_clock(&database.options(), Arc::new(clock.clone()))
        .await
        .expect("store opens");
    // Another process on the same database: its own pool and its own listener.
    let other = PostgresStore::open_with_clock(&database.options(), Arc::new(clock.clone()))
        .await
        .expect("second store opens");
    // Its wake-ups are heard only once it listens.
    other
        .listener_status()
        .wait_for(|status| status.listening)
        .await
        .expect("the listener task is alive");
    Some(Fixture {
        store: Arc::new(store),
        clock,
        guard: Box::new(database),
        other_process: Some(Arc::new(other)),
    })
}

jaryo_store::conformance_suite!(open);
jaryo_store::files_conformance_suite!(open);
