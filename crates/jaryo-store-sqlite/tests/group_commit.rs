//! New memos written together in one transaction: an item the database refuses fails alone,
//! and every other item of its batch is saved, indexed and answered.

use futures::future::join_all;
use jaryo_domain::{ContentOrigin, DocumentId, DocumentText, MemoId, MemoText};
use jaryo_store::{NewDocument, SearchFilter, SearchKind, SearchRequest, Store, StoreError};
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

/// Memos and documents queued at once share statements; each caller still gets its own item
/// back, with its own id, chunks, tags and index row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memos_and_documents_written_together_keep_their_own_ids_and_index_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteOptions::in_data_dir(dir.path()))
        .await
        .unwrap();
    // Words made of a number spelled in syllables, so each item has a word of its own.
    let syllables = ['가', '나', '다', '라', '마', '바', '사', '아', '자', '차'];
    let own_word = |n: usize| -> String {
        format!(
            "{}{}{}",
            syllables[n / 100 % 10],
            syllables[n / 10 % 10],
            syllables[n % 10]
        )
    };
    let items: Vec<usize> = (0..240).collect();
    let created = join_all(items.iter().map(|&n| {
        let store = &store;
        let word = format!("표식{}", own_word(n));
        async move {
            if n % 2 == 0 {
                let text = format!("메모 {word} #메모태그{n} axum 서버");
                let memo = store
                    .create_memo(&MemoText::parse(text.clone()).unwrap())
                    .await
                    .unwrap();
                (n, word, SearchKind::Memo, memo.id.0, text)
            } else {
                let text = format!("# 문서 {n}\n\n{word}을 다룬 문서입니다. #문서태그{n}\n\n## 둘째\n\n배포 서버 설정");
                let document = store
                    .create_document(&NewDocument {
                        title: None,
                        extracted_text: DocumentText::parse("extracted_text", text.clone())
                            .unwrap(),
                        content_origin: ContentOrigin::Import,
                        source_metadata: Default::default(),
                        created_at: None,
                        updated_at: None,
                        tags: Vec::new(),
                    })
                    .await
                    .unwrap();
                assert_eq!(document.extracted_text.as_deref(), Some(text.as_str()));
                (n, word, SearchKind::Document, document.id.0, text)
            }
        }
    }))
    .await;

    for (n, word, kind, id, text) in &created {
        match kind {
            SearchKind::Memo => {
                assert_eq!(store.get_memo(MemoId(*id)).await.unwrap().content, *text);
            }
            SearchKind::Document => {
                let document = store.get_document(DocumentId(*id)).await.unwrap();
                assert_eq!(document.extracted_text.as_deref(), Some(text.as_str()));
            }
        }
        // Its own word finds it and nothing else; its own tag filters to it.
        let tag = match kind {
            SearchKind::Memo => format!("메모태그{n}"),
            SearchKind::Document => format!("문서태그{n}"),
        };
        for filter in [
            SearchFilter::default(),
            SearchFilter {
                tag: Some(tag),
                ..SearchFilter::default()
            },
        ] {
            let page = store
                .search(&SearchRequest {
                    query: Query::parse(word).unwrap(),
                    filter,
                    limit: 10,
                    after: None,
                })
                .await
                .unwrap();
            let found: Vec<(SearchKind, i64)> =
                page.hits.iter().map(|hit| (hit.kind, hit.id)).collect();
            assert_eq!(found, vec![(*kind, *id)], "item {n}, word {word}");
            if *kind == SearchKind::Document {
                let chunk = page.hits[0]
                    .chunk
                    .as_ref()
                    .expect("a document hit names its chunk");
                assert!(text[chunk.range.clone()].contains(word.as_str()));
            }
        }
    }
    store.close().await;
}
