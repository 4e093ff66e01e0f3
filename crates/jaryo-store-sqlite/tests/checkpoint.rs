//! The WAL is copied back into the database file in the background: commits do not pay for
//! it, and the WAL does not grow without bound.

use futures::future::join_all;
use jaryo_domain::MemoText;
use jaryo_store::Store;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn written_pages_reach_the_database_file_without_a_commit_checkpointing() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions::in_data_dir(dir.path());
    let store = SqliteStore::open(&options).await.unwrap();
    let file_size = || std::fs::metadata(&options.path).unwrap().len();
    let before = file_size();

    // About 2 MB of memos: far below the writer's own checkpoint threshold.
    let texts: Vec<String> = (0..2000)
        .map(|n| {
            format!(
                "{n}번째 메모: 서버 점검 기록과 회의록 정리 {}",
                "가".repeat(300)
            )
        })
        .collect();
    for chunk in texts.chunks(100) {
        let results = join_all(chunk.iter().map(|text| {
            let store = &store;
            async move {
                store
                    .create_memo(&MemoText::parse(text.clone()).unwrap())
                    .await
            }
        }))
        .await;
        assert!(results.iter().all(Result::is_ok));
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    while file_size() < before + 1_000_000 {
        assert!(
            Instant::now() < deadline,
            "the database file stayed at {} bytes (from {before})",
            file_size()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.close().await;
}
