//! What the SQLite database itself guarantees, below any Rust code.

use jaryo_domain::{MemoId, MemoText};
use jaryo_store::Store;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};

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
        let listed = first.list_memos(page).await.unwrap();
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
