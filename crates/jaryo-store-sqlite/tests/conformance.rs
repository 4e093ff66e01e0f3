//! The shared store conformance suite, on SQLite.

use jaryo_domain::ManualClock;
use jaryo_store::conformance::Fixture;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

async fn open(clock: ManualClock) -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open_with_clock(
        &SqliteOptions::in_data_dir(dir.path()),
        Arc::new(clock.clone()),
    )
    .await
    .expect("store opens");
    Fixture {
        store: Arc::new(store),
        clock,
        guard: Box::new(dir),
        other_process: None,
    }
}

jaryo_store::conformance_suite!(open);
jaryo_store::files_conformance_suite!(open);
