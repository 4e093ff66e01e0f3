//! What PostgreSQL itself guarantees, below any Rust code, and what holds when several
//! processes (here: several stores, each with its own pool) share one database.

use jaryo_domain::MemoText;
use jaryo_store::{ClaimRequest, Settlement, Store, StoreError};
use jaryo_store_postgres::PostgresStore;
use jaryo_store_postgres::testing::TestDatabase;
use std::collections::HashSet;
use std::time::Duration;

async fn open(database: &TestDatabase) -> PostgresStore {
    PostgresStore::open(&database.options())
        .await
        .expect("store opens")
}

fn text(s: &str) -> MemoText {
    MemoText::parse(s.to_owned()).unwrap()
}

#[tokio::test]
async fn the_database_refuses_a_draft_status_on_content_not_drafted_by_ai() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = open(&database).await;
    let memo = store
        .create_memo(&text("제약 조건 시험용 메모"))
        .await
        .unwrap();
    let document = store.promote_memo(memo.id).await.unwrap();
    let pool = store.pool_for_tests();

    // Raw SQL, no Rust validation in the way: the CHECK constraint must refuse it.
    let refused = sqlx::query("UPDATE documents SET md_draft_status = 'draft' WHERE id = $1")
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
         VALUES ('x', 'user', 'accepted', now(), now())",
    )
    .execute(pool)
    .await;
    assert!(refused_insert.is_err());
    let not_an_object = sqlx::query("UPDATE documents SET source_metadata = '[]' WHERE id = $1")
        .bind(document.id.0)
        .execute(pool)
        .await;
    assert!(
        not_an_object.is_err(),
        "source_metadata must be a JSON object"
    );

    let unchanged = store.get_document(document.id).await.unwrap();
    assert_eq!(unchanged.md_draft_status, None);

    // The same status with the right origin is accepted.
    sqlx::query(
        "UPDATE documents SET content_origin = 'ai_drafted', md_draft_status = 'draft' \
         WHERE id = $1",
    )
    .bind(document.id.0)
    .execute(pool)
    .await
    .expect("allowed with content_origin = ai_drafted");
    store.close().await;
}

#[tokio::test]
async fn source_metadata_is_jsonb_and_times_are_timestamptz() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = open(&database).await;
    let memo = store.create_memo(&text("JSONB 확인용 메모")).await.unwrap();
    let document = store.promote_memo(memo.id).await.unwrap();
    // JSONB operators work on the column: the seed's system queries it this way.
    let memo_id: i64 = sqlx::query_scalar(
        "SELECT (source_metadata->>'memo_id')::bigint FROM documents WHERE id = $1",
    )
    .bind(document.id.0)
    .fetch_one(store.pool_for_tests())
    .await
    .unwrap();
    assert_eq!(memo_id, memo.id.0);
    let types: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_name = 'documents' AND column_name IN ('source_metadata', 'created_at') \
         ORDER BY column_name",
    )
    .fetch_all(store.pool_for_tests())
    .await
    .unwrap();
    assert_eq!(
        types,
        [
            ("created_at".into(), "timestamp with time zone".into()),
            ("source_metadata".into(), "jsonb".into()),
        ]
    );
    store.close().await;
}

#[tokio::test]
async fn migrations_apply_once_even_when_processes_start_together() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    // Three processes starting at once on an empty database: sqlx's advisory lock lets one
    // migrate and the others find the work done.
    let (a, b, c) = tokio::join!(open(&database), open(&database), open(&database));
    let memo = a.create_memo(&text("다시 열어도 남는 메모")).await.unwrap();
    assert_eq!(b.get_memo(memo.id).await.unwrap().content, memo.content);
    let (applied, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT version) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(c.pool_for_tests())
    .await
    .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count() as i64;
    assert_eq!((applied, distinct), (files, files), "each migration once");
    for store in [a, b, c] {
        store.close().await;
    }
    let reopened = open(&database).await;
    assert_eq!(reopened.get_memo(memo.id).await.unwrap(), memo);
    reopened.close().await;
}

#[tokio::test]
async fn concurrent_promotes_from_several_processes_make_one_document() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let stores = [
        open(&database).await,
        open(&database).await,
        open(&database).await,
    ];
    for round in 0..10 {
        let memo = stores[0]
            .create_memo(&text(&format!("동시에 누른 자료로 보내기 {round}")))
            .await
            .unwrap();
        let attempts = stores.iter().flat_map(|store| {
            (0..4).map(move |_| {
                let store = store.clone();
                tokio::spawn(async move { store.promote_memo(memo.id).await })
            })
        });
        let results = futures::future::join_all(attempts).await;
        let mut made = Vec::new();
        for result in results {
            match result.unwrap() {
                Ok(document) => made.push(document.id),
                Err(StoreError::AlreadyPromoted { .. }) => {}
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!(made.len(), 1, "round {round}: one document");
        let linked = stores[1].get_memo(memo.id).await.unwrap().document_id;
        assert_eq!(linked, Some(made[0]));
    }
    let documents: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(stores[2].pool_for_tests())
        .await
        .unwrap();
    assert_eq!(documents, 10);
    for store in stores {
        store.close().await;
    }
}

#[tokio::test]
async fn workers_in_several_processes_claim_each_document_once() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let stores = [
        open(&database).await,
        open(&database).await,
        open(&database).await,
    ];
    let mut expected = HashSet::new();
    for n in 0..60 {
        let memo = stores[0]
            .create_memo(&text(&format!("동시 청구 시험용 원문 번호 {n}")))
            .await
            .unwrap();
        expected.insert(stores[0].promote_memo(memo.id).await.unwrap().id);
    }
    // Four claimers per process, each draining in batches of 3 until nothing is left.
    let claimers = stores.iter().enumerate().flat_map(|(process, store)| {
        (0..4).map(move |worker| {
            let store = store.clone();
            tokio::spawn(async move {
                let request = ClaimRequest {
                    owner: format!("process-{process}-worker-{worker}"),
                    lease: Duration::from_secs(60),
                    limit: 3,
                    max_attempts: 3,
                };
                let mut drafted = Vec::new();
                loop {
                    let claims = store.claim_drafts(&request).await.expect("claim");
                    if claims.is_empty() {
                        return drafted;
                    }
                    for claim in claims {
                        let settled = store
                            .settle_draft(
                                &claim,
                                &Settlement::Drafted {
                                    markdown: format!("# 초안 {}", claim.document_id.0),
                                    metadata: Default::default(),
                                    model_calls: 1,
                                },
                            )
                            .await
                            .expect("settle");
                        assert_eq!(settled, jaryo_store::Settled::Applied);
                        drafted.push(claim.document_id);
                    }
                }
            })
        })
    });
    let mut drafted = Vec::new();
    for claimer in futures::future::join_all(claimers).await {
        drafted.extend(claimer.unwrap());
    }
    let unique: HashSet<_> = drafted.iter().copied().collect();
    assert_eq!(drafted.len(), unique.len(), "no document drafted twice");
    assert_eq!(unique, expected, "every document drafted");
    let stats = stores[1].draft_queue_stats().await.unwrap();
    assert_eq!(stats.count(jaryo_domain::DraftState::Done), 60);
    for store in stores {
        store.close().await;
    }
}
