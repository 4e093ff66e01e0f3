//! One behaviour, two stores, ranking included: the same library written into a SQLite store
//! and a PostgreSQL store answers every probe with the same hits, in the same order, with the
//! same scores (BM25 to 1e-6), with and without filters, on the first page and past it.

use jaryo_domain::{Clock, ManualClock, SystemClock};
use jaryo_store::Store;
use jaryo_store::conformance::{assert_same_ranking, build_ranking_library, ranking_probes};
use jaryo_store_postgres::PostgresStore;
use jaryo_store_postgres::testing::TestDatabase;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

async fn both_stores_rank_alike(window: u32) {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let start = SystemClock.now();
    let pg_clock = ManualClock::new(start);
    let mut pg_options = database.options();
    pg_options.search_rank_window = window;
    let postgres: Arc<dyn Store> = Arc::new(
        PostgresStore::open_with_clock(&pg_options, Arc::new(pg_clock.clone()))
            .await
            .expect("PostgreSQL store opens"),
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite_clock = ManualClock::new(start);
    let sqlite_options = SqliteOptions {
        search_rank_window: window,
        ..SqliteOptions::in_data_dir(dir.path())
    };
    let sqlite: Arc<dyn Store> = Arc::new(
        SqliteStore::open_with_clock(&sqlite_options, Arc::new(sqlite_clock.clone()))
            .await
            .expect("SQLite store opens"),
    );
    build_ranking_library(&sqlite, &sqlite_clock).await;
    build_ranking_library(&postgres, &pg_clock).await;
    let from_sqlite = ranking_probes(&sqlite, &sqlite_clock).await;
    let from_postgres = ranking_probes(&postgres, &pg_clock).await;
    assert!(
        from_sqlite
            .iter()
            .filter(|(_, hits)| hits.len() == 10)
            .count()
            > 50,
        "the probes fill pages"
    );
    assert_same_ranking(&from_sqlite, &from_postgres);
}

/// A window far smaller than the common words' matches: windows fill, older matches follow
/// unranked, and the frequencies of two-word queries are estimated past the sample.
#[tokio::test]
async fn a_small_rank_window_ranks_the_same_on_both_stores() {
    both_stores_rank_alike(40).await;
}

/// The default window, larger than any kind's matches here: every hit ranked.
#[tokio::test]
async fn the_default_rank_window_ranks_the_same_on_both_stores() {
    both_stores_rank_alike(jaryo_store::ranking::DEFAULT_RANK_WINDOW).await;
}
