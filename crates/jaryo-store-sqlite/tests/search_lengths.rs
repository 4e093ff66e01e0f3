//! The blocks of row sizes `jaryo_rank` reads (`search_lengths`) hold, for every row of the
//! search index, the size FTS5 itself records for it — through every write that changes the
//! index, and after an upgrade from a database indexed without them.

use futures::future::join_all;
use jaryo_domain::{ContentOrigin, DocumentText, DocumentTitle, MemoText};
use jaryo_fts5_rank::lengths::{Block, block_of};
use jaryo_store::{DocumentPatch, NewDocument, Store};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use std::collections::BTreeMap;

mod support;

/// Each hit of a search: kind, id and score.
async fn hits(
    store: &SqliteStore,
    search: &jaryo_store::SearchRequest,
) -> Vec<(jaryo_store::SearchKind, i64, f64)> {
    let page = store.search(search).await.unwrap();
    page.hits
        .iter()
        .map(|hit| (hit.kind, hit.id, hit.score))
        .collect()
}

/// One SQLite varint from `bytes[*at..]`, advancing `at`.
fn varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut value = 0u64;
    for index in 0..9 {
        let byte = bytes[*at];
        *at += 1;
        if index == 8 {
            return (value << 8) | u64::from(byte);
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

/// Checks every indexed row's block against FTS5's `%_docsize` record (one varint per
/// column); returns how many rows were checked.
async fn assert_blocks_hold_fts5_sizes(store: &SqliteStore) -> usize {
    let pool = store.writer_pool_for_tests();
    let records: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT id, sz FROM search_fts_docsize")
        .fetch_all(pool)
        .await
        .unwrap();
    let blocks: BTreeMap<i64, Block> =
        sqlx::query_as::<_, (i64, Vec<u8>)>("SELECT block, sizes FROM search_lengths")
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(number, bytes)| (number, Block::from_stored(bytes)))
            .collect();
    for (rowid, record) in &records {
        let mut at = 0;
        let fts5 = varint(record, &mut at) + varint(record, &mut at);
        assert_eq!(at, record.len(), "row {rowid}: two columns");
        let ours = blocks
            .get(&block_of(*rowid))
            .and_then(|block| block.get(*rowid));
        let expected = u32::try_from(fts5).ok().filter(|&size| size > 0);
        assert_eq!(ours, expected, "row {rowid}");
    }
    records.len()
}

fn new_document(title: &str, text: &str) -> NewDocument {
    NewDocument {
        title: Some(DocumentTitle::parse(title).unwrap()),
        extracted_text: DocumentText::parse("extracted_text", text.to_owned()).unwrap(),
        content_origin: ContentOrigin::Import,
        source_metadata: Default::default(),
        created_at: None,
        updated_at: None,
        tags: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_indexed_row_has_its_fts5_size_in_its_block() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteOptions::in_data_dir(dir.path()))
        .await
        .unwrap();
    // Enough items at once for group commit to write many to a batch and fill several blocks.
    let memos = join_all((0..300).map(|n| {
        let store = store.clone();
        async move {
            let text = format!(
                "회의 메모 {n}: axum 서버를 {} 번 재시작했다.",
                "다시 ".repeat(n % 7)
            );
            store
                .create_memo(&MemoText::parse(text).unwrap())
                .await
                .unwrap()
        }
    }))
    .await;
    let documents = join_all((0..300).map(|n| {
        let store = store.clone();
        async move {
            let body = format!(
                "# 보고서 {n}\n\n{}",
                "색인 index 정리했다. ".repeat(1 + n % 40)
            );
            store
                .create_document(&new_document(&format!("문서 {n} Report"), &body))
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(assert_blocks_hold_fts5_sizes(&store).await, 600);

    // Edits change sizes; deletes and promotes take rows away and add them.
    store
        .update_memo(memos[5].id, &MemoText::parse("짧게".into()).unwrap(), None)
        .await
        .unwrap();
    store
        .update_document(
            documents[7].id,
            &DocumentPatch {
                expected_version: None,
                title: Some(DocumentTitle::parse("아주 길어진 새 제목 with more words").unwrap()),
                extracted_text: Some(
                    DocumentText::parse("extracted_text", "새 본문 ".repeat(500)).unwrap(),
                ),
            },
        )
        .await
        .unwrap();
    store
        .update_document(
            documents[8].id,
            &DocumentPatch {
                expected_version: None,
                title: Some(DocumentTitle::parse("제목만").unwrap()),
                extracted_text: None,
            },
        )
        .await
        .unwrap();
    store.delete_memo(memos[9].id).await.unwrap();
    store.delete_document(documents[10].id).await.unwrap();
    store.promote_memo(memos[11].id).await.unwrap();
    // A memo with nothing to index: no tokens, so its size is "unknown" (it never matches).
    store
        .create_memo(&MemoText::parse("!!! ...".into()).unwrap())
        .await
        .unwrap();
    // The promoted memo's row goes (it is found as its document), the document's comes.
    assert_eq!(
        assert_blocks_hold_fts5_sizes(&store).await,
        600 - 2 + 1 - 1 + 1
    );

    // A reindex rewrites every row, and every size with it.
    sqlx::query("DELETE FROM search_lengths")
        .execute(store.writer_pool_for_tests())
        .await
        .unwrap();
    store.reindex(&|_| {}).await.unwrap();
    assert_eq!(assert_blocks_hold_fts5_sizes(&store).await, 599);
    store.close().await;
}

/// A database indexed before the blocks existed is reported stale on upgrade; it still finds
/// what it held (ranking asks FTS5 for the sizes it lacks), and the reindex at start writes
/// every block.
#[tokio::test]
async fn an_index_from_before_the_blocks_is_rebuilt_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let (path, pool) = support::database_at_migration(
        &dir,
        &[
            "0001_memos_and_documents.sql",
            "0002_search_index_and_chunks.sql",
            "0003_search_index_automerge.sql",
            "0004_search_index_newest_first.sql",
        ],
    )
    .await;
    support::old_memo_and_document(&pool).await;
    {
        // Their rows as that jaryo numbered and analysed them.
        for (rowid, title, body) in [
            (2199023255549_i64, "", "예전 색인 메모"),
            (1099511627771, "예전 문서", "예전 색인 본문"),
        ] {
            sqlx::query("INSERT INTO search_fts (rowid, title, body) VALUES (?1, ?2, ?3)")
                .bind(rowid)
                .bind(jaryo_text::index_terms(title))
                .bind(jaryo_text::index_terms(body))
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }
    let store = SqliteStore::open(&SqliteOptions::at(path)).await.unwrap();
    assert!(store.search_index_status().await.unwrap().stale);
    let search = jaryo_store::SearchRequest {
        query: jaryo_text::Query::parse("색인").unwrap(),
        filter: jaryo_store::SearchFilter::default(),
        limit: 10,
        after: None,
    };
    let before = hits(&store, &search).await;
    assert_eq!(before.len(), 2);

    store.reindex(&|_| {}).await.unwrap();
    assert!(!store.search_index_status().await.unwrap().stale);
    assert_eq!(assert_blocks_hold_fts5_sizes(&store).await, 2);
    let after = hits(&store, &search).await;
    assert_eq!(after, before, "the same ranking with the blocks as without");
    store.close().await;
}
