//! What the SQLite database itself guarantees, below any Rust code.

use jaryo_domain::{MemoId, MemoText};
use jaryo_store::Store;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};

mod support;

async fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&SqliteOptions::in_data_dir(dir.path()))
        .await
        .expect("store opens")
}

#[tokio::test]
async fn the_database_refuses_a_draft_status_on_content_not_drafted_by_ai() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let memo = store
        .create_memo(&MemoText::parse("제약 조건 시험용 메모".into()).unwrap())
        .await
        .unwrap();
    let document = store.promote_memo(memo.id).await.unwrap();
    let pool = store.writer_pool_for_tests();

    // Raw SQL, no Rust validation in the way: the CHECK constraint must refuse it.
    let refused = sqlx::query("UPDATE documents SET md_draft_status = 'draft' WHERE id = ?1")
        .bind(document.id.0)
        .execute(pool)
        .await
        .expect_err("the database refuses md_draft_status on a memo-origin document");
    let message = refused.to_string();
    assert!(
        message.contains("md_draft_status_requires_ai_drafted"),
        "{message}"
    );
    let refused_insert = sqlx::query(
        "INSERT INTO documents (title, content_origin, md_draft_status, created_at, updated_at) \
         VALUES ('x', 'user', 'accepted', '2026-01-01T00:00:00.000000Z', \
         '2026-01-01T00:00:00.000000Z')",
    )
    .execute(pool)
    .await;
    assert!(refused_insert.is_err());

    // Nothing changed.
    let unchanged = store.get_document(document.id).await.unwrap();
    assert_eq!(unchanged.md_draft_status, None);

    // The same status with the right origin is accepted.
    sqlx::query(
        "UPDATE documents SET content_origin = 'ai_drafted', md_draft_status = 'draft' \
         WHERE id = ?1",
    )
    .bind(document.id.0)
    .execute(pool)
    .await
    .expect("allowed with content_origin = ai_drafted");
}

#[tokio::test]
async fn migrations_apply_once_and_reopening_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let memo = store
        .create_memo(&MemoText::parse("다시 열어도 남는 메모".into()).unwrap())
        .await
        .unwrap();
    store.close().await;
    let reopened = open(&dir).await;
    assert_eq!(
        reopened.get_memo(memo.id).await.unwrap().content,
        memo.content
    );
    assert!(dir.path().join("jaryo.db").exists());
}

#[tokio::test]
async fn two_processes_writing_one_file_never_see_a_locked_database() {
    // Two stores on one file stand for `jaryo serve` and `jaryo worker`: separate
    // connections, separate write queues, one SQLite lock.
    let dir = tempfile::tempdir().unwrap();
    let first = open(&dir).await;
    let second = open(&dir).await;
    let mut tasks = Vec::new();
    for (n, store) in [first.clone(), second.clone()].into_iter().enumerate() {
        for writer in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..40 {
                    let text =
                        MemoText::parse(format!("프로세스 {n} 작성자 {writer} 메모 {i}")).unwrap();
                    let memo = store.create_memo(&text).await.expect("no locked database");
                    if i % 4 == 0 {
                        store
                            .promote_memo(memo.id)
                            .await
                            .expect("no locked database");
                    }
                }
            }));
        }
    }
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
    let mut count = 0;
    let mut page = jaryo_store::PageRequest::new(Some(200), None);
    loop {
        let listed = first
            .list_memos(&jaryo_store::MemoFilter::default(), page)
            .await
            .unwrap();
        count += listed.items.len();
        match listed.next_before {
            Some(before) => page.before = Some(before),
            None => break,
        }
    }
    assert_eq!(count, 2 * 8 * 40);
    assert!(matches!(
        second.get_memo(MemoId(i64::MAX)).await,
        Err(jaryo_store::StoreError::NotFound { .. })
    ));
}

fn search_for(query: &str) -> jaryo_store::SearchRequest {
    jaryo_store::SearchRequest {
        query: jaryo_text::Query::parse(query).unwrap(),
        filter: jaryo_store::SearchFilter::default(),
        limit: 50,
        after: None,
    }
}

#[tokio::test]
async fn a_stale_index_is_reported_and_reindex_recovers_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let status = store.search_index_status().await.unwrap();
    assert!(!status.stale, "a new database is built by this analyzer");
    let kept = store
        .create_memo(&MemoText::parse("남길 메모: 복구 시험".into()).unwrap())
        .await
        .unwrap();
    let pool = store.writer_pool_for_tests();
    // Rows written behind the index's back (as by a jaryo from before search), a row deleted
    // behind it, and the version stamp of an older analyzer.
    sqlx::query(
        "INSERT INTO memos (content, tags, created_at, updated_at) VALUES \
         ('몰래 넣은 복구 메모', '[]', '2026-01-01T00:00:00.000000Z', \
          '2026-01-01T00:00:00.000000Z')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO documents (title, extracted_text, content_origin, created_at, updated_at) \
         VALUES ('복구 문서', '# 제목\n\n복구 본문', 'import', \
          '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
    )
    .execute(pool)
    .await
    .unwrap();
    let gone = store
        .create_memo(&MemoText::parse("몰래 지울 복구 메모".into()).unwrap())
        .await
        .unwrap();
    sqlx::query("UPDATE memos SET deleted_at = '2026-01-02T00:00:00.000000Z' WHERE id = ?1")
        .bind(gone.id.0)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE search_index_state SET analyzer_version = 0")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        store.search(&search_for("복구")).await.unwrap().hits.len(),
        1
    );
    assert!(store.search_index_status().await.unwrap().stale);

    let report = store.reindex(&|_| {}).await.unwrap();
    assert_eq!((report.memos, report.documents, report.chunks), (2, 1, 1));
    let page = store.search(&search_for("복구")).await.unwrap();
    let mut found: Vec<_> = page.hits.iter().map(|hit| (hit.kind, hit.id)).collect();
    found.sort();
    assert_eq!(found.len(), 3);
    assert!(found.contains(&(jaryo_store::SearchKind::Memo, kept.id.0)));
    assert!(!found.contains(&(jaryo_store::SearchKind::Memo, gone.id.0)));
    let document = page
        .hits
        .iter()
        .find(|hit| hit.kind == jaryo_store::SearchKind::Document)
        .unwrap();
    assert_eq!(document.chunk.as_ref().unwrap().heading_path, ["제목"]);
    assert!(!store.search_index_status().await.unwrap().stale);
    // The reindex held back FTS5's rewriting of levels full of tombstones while it ran; the
    // index is back on FTS5's default afterwards.
    let delete_merge: i64 =
        sqlx::query_scalar("SELECT v FROM search_fts_config WHERE k = 'deletemerge'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(delete_merge, 10);
}

#[tokio::test]
async fn changed_chunk_settings_make_the_index_stale() {
    let dir = tempfile::tempdir().unwrap();
    open(&dir).await.close().await;
    let mut options = SqliteOptions::in_data_dir(dir.path());
    options.chunk.max_chars = 400;
    let store = SqliteStore::open(&options).await.unwrap();
    assert!(store.search_index_status().await.unwrap().stale);
    store.reindex(&|_| {}).await.unwrap();
    let status = store.search_index_status().await.unwrap();
    assert!(!status.stale);
    assert_eq!(status.chunk_config, Some(options.chunk.clone()));
}

/// A database indexed by a jaryo from before newest-first row ids (document id as row id,
/// memos from 2^40 up) is upgraded: its old rows are dropped, the index is reported stale,
/// and the reindex at start makes every item findable again under its own id.
#[tokio::test]
async fn an_index_with_the_old_row_ids_is_dropped_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (path, pool) = support::database_at_migration(
        &dir,
        &[
            "0001_memos_and_documents.sql",
            "0002_search_index_and_chunks.sql",
            "0003_search_index_automerge.sql",
        ],
    )
    .await;
    support::old_memo_and_document(&pool).await;
    // The rows the old numbering gave them.
    sqlx::query(
        "INSERT INTO search_fts (rowid, title, body) VALUES \
         (1099511627779, '', '예전 전 색인 인 메모'), (5, '예전 전 문서', '예전 전 색인 인 본문')",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let store = SqliteStore::open(&SqliteOptions::at(path)).await.unwrap();
    assert!(store.search_index_status().await.unwrap().stale);
    assert!(
        store
            .search(&search_for("예전"))
            .await
            .unwrap()
            .hits
            .is_empty()
    );

    store.reindex(&|_| {}).await.unwrap();
    let mut found: Vec<_> = store
        .search(&search_for("색인"))
        .await
        .unwrap()
        .hits
        .iter()
        .map(|hit| (hit.kind, hit.id))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (jaryo_store::SearchKind::Document, 5),
            (jaryo_store::SearchKind::Memo, 3)
        ]
    );
    assert!(!store.search_index_status().await.unwrap().stale);
}
