//! BM25 on SQLite weighs a query's words by how rare they are: with two words, a document
//! dense in the rare word (of equal length) outranks one dense in the common word.

use jaryo_domain::{ContentOrigin, DocumentText, MemoText};
use jaryo_store::{NewDocument, SearchFilter, SearchRequest, Store};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use jaryo_text::Query;

async fn create_document(store: &SqliteStore, text: &str) -> i64 {
    store
        .create_document(&NewDocument {
            title: None,
            extracted_text: DocumentText::parse("extracted_text", text.to_owned()).unwrap(),
            content_origin: ContentOrigin::Import,
            source_metadata: Default::default(),
            created_at: None,
            updated_at: None,
            tags: Vec::new(),
        })
        .await
        .unwrap()
        .id
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rarer_word_of_a_query_weighs_more() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteOptions::in_data_dir(dir.path()))
        .await
        .unwrap();
    // Mirror images: equal length, one dense in the common word, one in the rare one. The
    // common-word document is older, so it would come first on a tie.
    let dense_in_common = create_document(&store, "정리 노트: tokio tokio tokio axum 끝").await;
    let dense_in_rare = create_document(&store, "정리 노트: axum axum axum tokio 끝").await;
    for n in 0..40 {
        store
            .create_memo(&MemoText::parse(format!("tokio 점검 기록 {n}")).unwrap())
            .await
            .unwrap();
    }
    let page = store
        .search(&SearchRequest {
            query: Query::parse("axum tokio").unwrap(),
            filter: SearchFilter::default(),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    let order: Vec<i64> = page.hits.iter().map(|hit| hit.id).take(2).collect();
    assert_eq!(order, [dense_in_rare, dense_in_common]);
    assert!(page.hits[0].score > page.hits[1].score);
    store.close().await;
}

/// Past the matches counted exactly for a word's document frequency, the estimate still
/// weighs a word in nearly every item below one in a few hundred.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_common_word_weighs_less_than_a_rarer_one_past_the_counted_sample() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteOptions::in_data_dir(dir.path()))
        .await
        .unwrap();
    // Mirror images, the one dense in the rarer word older (so last on a tie), then 1,200
    // items with the common word, one in four with the rarer one too: both words are past the
    // sample of 256.
    let dense_in_rare = create_document(&store, "정리 노트: 배포 배포 배포 서버 끝").await;
    let dense_in_common = create_document(&store, "정리 노트: 서버 서버 서버 배포 끝").await;
    let memos = (0..1200).map(|n| {
        let store = store.clone();
        async move {
            let rare = if n % 4 == 0 { " 배포" } else { "" };
            store
                .create_memo(&MemoText::parse(format!("서버 점검 기록 {n}{rare}")).unwrap())
                .await
                .unwrap()
        }
    });
    futures::future::join_all(memos).await;
    let page = store
        .search(&SearchRequest {
            query: Query::parse("서버 배포").unwrap(),
            filter: SearchFilter {
                kind: Some(jaryo_store::SearchKind::Document),
                ..SearchFilter::default()
            },
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    let order: Vec<i64> = page.hits.iter().map(|hit| hit.id).collect();
    assert_eq!(order, [dense_in_rare, dense_in_common]);
    assert!(page.hits[0].score > page.hits[1].score);
    store.close().await;
}
