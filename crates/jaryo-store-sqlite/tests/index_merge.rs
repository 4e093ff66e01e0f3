//! The search index is merged into one segment once writes pause, and everything stays
//! searchable.

use jaryo_domain::MemoText;
use jaryo_store::{SearchFilter, SearchRequest, Store};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use jaryo_text::Query;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};
use std::time::{Duration, Instant};

async fn segments(conn: &mut SqliteConnection) -> i64 {
    sqlx::query_scalar("SELECT count(DISTINCT segid) FROM search_fts_idx")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn after_many_small_writes_the_index_becomes_one_segment_once_they_pause() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        index_merge_idle: Duration::from_millis(50),
        ..SqliteOptions::in_data_dir(dir.path())
    };
    let store = SqliteStore::open(&options).await.unwrap();
    // Each create commits on its own: a segment each, which FTS5 merges only level by level.
    for n in 0..40 {
        let text = format!("회의 메모 {n}번: 서버 점검 note{n}");
        store
            .create_memo(&MemoText::parse(text).unwrap())
            .await
            .unwrap();
    }
    let mut file = SqliteConnectOptions::new()
        .filename(&options.path)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = segments(&mut file).await;
        if now == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the index still has {now} segments 30 s after the last write"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let page = store
        .search(&SearchRequest {
            query: Query::parse("서버 점검").unwrap(),
            filter: SearchFilter::default(),
            limit: 100,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(page.hits.len(), 40, "every memo is still found");
    let one = store
        .search(&SearchRequest {
            query: Query::parse("note17").unwrap(),
            filter: SearchFilter::default(),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(one.hits.len(), 1);
    assert!(one.hits[0].snippet.html.contains("<mark>note17</mark>"));
    store.close().await;
}
