//! New memos written together in one transaction: an item the database refuses fails alone,
//! and every other item of its batch is saved, indexed and answered.

use futures::future::join_all;
use jaryo_domain::MemoText;
use jaryo_store::{SearchFilter, SearchRequest, Store, StoreError};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use jaryo_text::Query;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_memo_fails_alone_and_its_batch_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteOptions::in_data_dir(dir.path()))
        .await
        .unwrap();
    // The database itself refuses one memo, as a constraint would.
    sqlx::query(
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON memos \
         WHEN NEW.content LIKE '%독약%' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .execute(store.writer_pool_for_tests())
    .await
    .unwrap();

    // Many writers at once, so the writes share transactions.
    let texts: Vec<String> = (0..200)
        .map(|n| {
            if n == 77 {
                "독약 메모 #77".to_owned()
            } else {
                format!("배치 메모 {n} 회의록 정리")
            }
        })
        .collect();
    let results = join_all(texts.iter().map(|text| {
        let store = &store;
        async move {
            store
                .create_memo(&MemoText::parse(text.clone()).unwrap())
                .await
        }
    }))
    .await;

    for (n, result) in results.iter().enumerate() {
        if n == 77 {
            assert!(
                matches!(
                    result,
                    Err(StoreError::Internal(_) | StoreError::Constraint(_))
                ),
                "the refused memo reports its failure: {result:?}"
            );
        } else {
            let memo = result.as_ref().expect("every other memo is saved");
            assert_eq!(memo.content, texts[n]);
            let read = store.get_memo(memo.id).await.unwrap();
            assert_eq!(read.content, texts[n]);
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM memos")
        .fetch_one(store.writer_pool_for_tests())
        .await
        .unwrap();
    assert_eq!(stored, 199);

    // And each of them is searchable; the refused one left nothing in the index.
    let search = |q: &str| {
        let request = SearchRequest {
            query: Query::parse(q).unwrap(),
            filter: SearchFilter::default(),
            limit: 200,
            after: None,
        };
        let store = &store;
        async move { store.search(&request).await.unwrap().hits.len() }
    };
    assert_eq!(search("회의록").await, 199);
    assert_eq!(search("독약").await, 0);
    store.close().await;
}
