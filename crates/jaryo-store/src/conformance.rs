//! One behaviour, every backend: checks each store implementation runs against itself.
//!
//! A backend's test file calls [`conformance_suite!`] with an async function that opens a fresh,
//! empty store on a [`ManualClock`]; each check becomes one `#[tokio::test]` with its own store.
//! The checks speak only through the [`Store`] trait.

use crate::{
    ClaimRequest, DocumentFilter, DocumentPatch, DraftSelection, JobKind, MemoFilter, PageRequest,
    Settled, Settlement, Store, StoreError,
};
use jaryo_domain::{
    ContentOrigin, DocumentId, DocumentText, DraftState, ManualClock, MdDraftStatus, MemoId,
    MemoText,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A fresh store and the clock it reads.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    /// Keeps the backend's resources (a directory, a database) alive for the test.
    pub guard: Box<dyn std::any::Any + Send>,
    /// A second handle on the same database, as another process would open it, for a
    /// backend that wakes other processes' workers (PostgreSQL); `None` where wake-ups stay
    /// in the process (SQLite, whose other processes poll).
    pub other_process: Option<Arc<dyn Store>>,
}

fn text(s: &str) -> MemoText {
    MemoText::parse(s.to_owned()).expect("valid memo text")
}

fn request(owner: &str, limit: u32) -> ClaimRequest {
    ClaimRequest {
        owner: owner.to_owned(),
        lease: Duration::from_secs(30),
        limit,
        max_attempts: 3,
    }
}

async fn promoted(store: &Arc<dyn Store>, body: &str) -> DocumentId {
    let memo = store.create_memo(&text(body)).await.unwrap();
    store.promote_memo(memo.id).await.unwrap().id
}

pub async fn memos_round_trip_and_soft_delete(fx: Fixture) {
    let store = fx.store.clone();
    let memo = store.create_memo(&text("첫 메모 #태그")).await.unwrap();
    assert_eq!(memo.tags, ["태그"]);
    assert_eq!(store.get_memo(memo.id).await.unwrap(), memo);
    fx.clock.advance(Duration::from_secs(1));
    let edited = store
        .update_memo(memo.id, &text("고친 메모 #새태그"), None)
        .await
        .unwrap();
    assert_eq!(edited.tags, ["새태그"]);
    assert!(edited.updated_at > memo.updated_at);
    store.delete_memo(memo.id).await.unwrap();
    assert!(matches!(
        store.get_memo(memo.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete_memo(memo.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        store
            .list_memos(&MemoFilter::default(), PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

pub async fn memo_edits_use_optimistic_concurrency(fx: Fixture) {
    let store = fx.store.clone();
    let memo = store.create_memo(&text("장보기: 우유")).await.unwrap();
    assert_eq!(memo.version, 1);
    assert_eq!(store.get_memo(memo.id).await.unwrap().version, 1);
    // Two tabs read version 1; the first edit wins and bumps it.
    let first = store
        .update_memo(memo.id, &text("장보기: 우유, 계란"), Some(1))
        .await
        .unwrap();
    assert_eq!(first.version, 2);
    match store
        .update_memo(memo.id, &text("장보기: 두부"), Some(1))
        .await
    {
        Err(StoreError::VersionConflict { current_version }) => assert_eq!(current_version, 2),
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    let kept = store.get_memo(memo.id).await.unwrap();
    assert_eq!(
        (kept.content.as_str(), kept.version),
        ("장보기: 우유, 계란", 2)
    );
    // An edit that names no version still goes through, and bumps it.
    let blind = store
        .update_memo(memo.id, &text("장보기: 두부 #마트"), None)
        .await
        .unwrap();
    assert_eq!(blind.version, 3);
    assert_eq!(blind.tags, ["마트"]);
    assert_eq!(
        store
            .list_memos(&crate::MemoFilter::default(), PageRequest::default())
            .await
            .unwrap()
            .items[0]
            .version,
        3
    );
    assert!(matches!(
        store
            .update_memo(MemoId(424242), &text("없는 메모"), Some(1))
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn promote_is_once_while_the_document_lives(fx: Fixture) {
    let store = fx.store.clone();
    let memo = store
        .create_memo(&text("승격할 메모입니다 #자료"))
        .await
        .unwrap();
    let document = store.promote_memo(memo.id).await.unwrap();
    assert_eq!(
        document.extracted_text.as_deref(),
        Some("승격할 메모입니다 #자료")
    );
    assert_eq!(document.content_origin, ContentOrigin::Memo);
    assert_eq!(document.draft.state, DraftState::Pending);
    assert_eq!(document.source_metadata["memo_id"], json!(memo.id.0));
    match store.promote_memo(memo.id).await {
        Err(StoreError::AlreadyPromoted { document_id, .. }) => {
            assert_eq!(document_id, document.id)
        }
        other => panic!("expected AlreadyPromoted, got {other:?}"),
    }
    store.delete_document(document.id).await.unwrap();
    assert_eq!(store.get_memo(memo.id).await.unwrap().document_id, None);
    assert_ne!(store.promote_memo(memo.id).await.unwrap().id, document.id);
}

pub async fn patches_use_optimistic_concurrency(fx: Fixture) {
    let store = fx.store.clone();
    let id = promoted(&store, "버전 검사용 원문").await;
    let patch = DocumentPatch {
        expected_version: Some(1),
        extracted_text: Some(DocumentText::parse("extracted_text", "새 원문".into()).unwrap()),
        ..DocumentPatch::default()
    };
    assert_eq!(store.update_document(id, &patch).await.unwrap().version, 2);
    match store.update_document(id, &patch).await {
        Err(StoreError::VersionConflict { current_version }) => assert_eq!(current_version, 2),
        other => panic!("expected VersionConflict, got {other:?}"),
    }
}

pub async fn claims_take_due_work_oldest_first_in_batches(fx: Fixture) {
    let store = fx.store.clone();
    let first = promoted(&store, "첫 번째 문서의 충분히 긴 원문").await;
    let second = promoted(&store, "두 번째 문서의 충분히 긴 원문").await;
    let third = promoted(&store, "세 번째 문서의 충분히 긴 원문").await;
    let deleted = promoted(&store, "지워질 문서의 충분히 긴 원문").await;
    store.delete_document(deleted).await.unwrap();

    let batch = store.claim_drafts(&request("worker-a", 2)).await.unwrap();
    let ids: Vec<_> = batch.iter().map(|c| c.document_id).collect();
    assert_eq!(ids, [first, second]);
    assert_eq!(batch[0].attempt(), 1);
    assert_eq!(batch[0].text, "첫 번째 문서의 충분히 긴 원문");
    assert_ne!(batch[0].token(), batch[1].token());

    let running = store.get_document(first).await.unwrap();
    assert_eq!(running.draft.state, DraftState::Running);
    assert_eq!(running.draft.attempts, 1);
    assert_eq!(running.draft.lease_owner.as_deref(), Some("worker-a"));

    // Claimed work is not claimed again while its lease holds; the rest is.
    let next = store.claim_drafts(&request("worker-b", 10)).await.unwrap();
    assert_eq!(
        next.iter().map(|c| c.document_id).collect::<Vec<_>>(),
        [third]
    );
    assert!(
        store
            .claim_drafts(&request("worker-b", 10))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn an_expired_lease_is_reclaimed_and_the_old_holder_is_fenced_out(fx: Fixture) {
    let store = fx.store.clone();
    let id = promoted(&store, "임대 만료 시험용 원문입니다").await;
    let stale = store
        .claim_drafts(&request("crashed", 1))
        .await
        .unwrap()
        .remove(0);
    fx.clock.advance(Duration::from_secs(31));
    let fresh = store
        .claim_drafts(&request("survivor", 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(fresh.document_id, id);
    assert_eq!(fresh.attempt(), 2, "the crashed attempt counts");
    assert!(
        !store
            .renew_draft_lease(&stale, Duration::from_secs(30))
            .await
            .unwrap()
    );

    let drafted = Settlement::Drafted {
        markdown: "# 초안".into(),
        metadata: Default::default(),
        model_calls: 1,
    };
    assert_eq!(
        store.settle_draft(&stale, &drafted).await.unwrap(),
        Settled::LostClaim
    );
    assert_eq!(
        store.settle_draft(&fresh, &drafted).await.unwrap(),
        Settled::Applied
    );
    let document = store.get_document(id).await.unwrap();
    assert_eq!(document.md_content.as_deref(), Some("# 초안"));
    assert_eq!(document.version, 2, "applied exactly once");
    // A settled claim cannot be settled twice.
    assert_eq!(
        store.settle_draft(&fresh, &drafted).await.unwrap(),
        Settled::LostClaim
    );
}

pub async fn a_dead_predecessors_leases_come_back_at_once_without_an_attempt(fx: Fixture) {
    let store = fx.store.clone();
    let orphaned = promoted(&store, "죽은 프로세스가 잡고 있던 문서").await;
    let alive = promoted(&store, "살아 있는 다른 프로세스의 문서").await;
    let lookalike = promoted(&store, "이름만 비슷한 다른 작업자의 문서").await;
    let dead = store
        .claim_drafts(&request("dir-1/0@host:100", 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(dead.document_id, orphaned);
    store
        .claim_drafts(&request("dir-1/1@host:101", 1))
        .await
        .unwrap();
    store
        .claim_drafts(&request("dir-1/00@host:102", 1))
        .await
        .unwrap();

    // Long before the lease would lapse, the predecessor's claim is handed back.
    assert_eq!(store.release_dead_leases("dir-1/0").await.unwrap(), 1);
    let back = store.get_document(orphaned).await.unwrap();
    assert_eq!(back.draft.state, DraftState::Pending);
    assert_eq!(
        back.draft.attempts, 0,
        "the process died; the draft did not fail"
    );
    assert_eq!(back.draft.lease_owner, None);
    for other in [alive, lookalike] {
        let held = store.get_document(other).await.unwrap();
        assert_eq!(
            held.draft.state,
            DraftState::Running,
            "others' leases stay theirs"
        );
    }

    // The dead claim is fenced out, and the work is claimable again at once.
    let drafted = Settlement::Drafted {
        markdown: "# 늦게 온 초안".into(),
        metadata: Default::default(),
        model_calls: 1,
    };
    assert_eq!(
        store.settle_draft(&dead, &drafted).await.unwrap(),
        Settled::LostClaim
    );
    let again = store
        .claim_drafts(&request("dir-1/0@host:200", 5))
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|c| c.document_id).collect::<Vec<_>>(),
        [orphaned]
    );
    assert_eq!(again[0].attempt(), 1);
    assert_eq!(store.release_dead_leases("dir-9/0").await.unwrap(), 0);
}

pub async fn renewing_keeps_a_lease_alive(fx: Fixture) {
    let store = fx.store.clone();
    promoted(&store, "갱신되는 임대의 원문입니다").await;
    let claim = store
        .claim_drafts(&request("slow", 1))
        .await
        .unwrap()
        .remove(0);
    for _ in 0..5 {
        fx.clock.advance(Duration::from_secs(20));
        assert!(
            store
                .renew_draft_lease(&claim, Duration::from_secs(30))
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_drafts(&request("other", 1))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

pub async fn a_draft_applies_the_seed_fields(fx: Fixture) {
    let store = fx.store.clone();
    let id = promoted(&store, "회의 메모: 예산 검토, 일정 조율, 담당자 배정").await;
    let claim = store
        .claim_drafts(&request("w", 1))
        .await
        .unwrap()
        .remove(0);
    fx.clock.advance(Duration::from_secs(2));
    let mut metadata = serde_json::Map::new();
    metadata.insert("drafted_at".into(), json!("2026-01-01T00:00:00Z"));
    let settled = store
        .settle_draft(
            &claim,
            &Settlement::Drafted {
                markdown: "# 회의\n\n- 예산 검토".into(),
                metadata,
                model_calls: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(settled, Settled::Applied);
    let document = store.get_document(id).await.unwrap();
    assert_eq!(
        document.md_content.as_deref(),
        Some("# 회의\n\n- 예산 검토")
    );
    assert_eq!(document.content_origin, ContentOrigin::AiDrafted);
    assert_eq!(document.md_draft_status, Some(MdDraftStatus::Draft));
    assert_eq!(document.md_status.as_deref(), Some("success"));
    assert_eq!(document.md_extraction_engine.as_deref(), Some("ai_draft"));
    assert_eq!(document.md_generated_at, Some(document.updated_at));
    assert!(document.updated_at > document.created_at);
    assert_eq!(
        document.extracted_text.as_deref(),
        Some("회의 메모: 예산 검토, 일정 조율, 담당자 배정")
    );
    assert_eq!(
        document.source_metadata["drafted_at"],
        json!("2026-01-01T00:00:00Z")
    );
    assert!(document.source_metadata["memo_id"].is_number());
    assert_eq!(document.draft.state, DraftState::Done);
    assert_eq!(document.draft.attempts, 1);
    assert_eq!(document.draft.lease_owner, None);
}

pub async fn a_changed_text_requeues_and_a_deleted_document_drops(fx: Fixture) {
    let store = fx.store.clone();
    let edited = promoted(&store, "생성 중에 고쳐질 원문입니다").await;
    let deleted = promoted(&store, "생성 중에 지워질 원문입니다").await;
    let claims = store.claim_drafts(&request("w", 2)).await.unwrap();
    let patch = DocumentPatch {
        extracted_text: Some(DocumentText::parse("extracted_text", "고친 원문".into()).unwrap()),
        ..DocumentPatch::default()
    };
    store.update_document(edited, &patch).await.unwrap();
    store.delete_document(deleted).await.unwrap();
    let drafted = Settlement::Drafted {
        markdown: "낡은 초안".into(),
        metadata: Default::default(),
        model_calls: 1,
    };
    assert_eq!(
        store.settle_draft(&claims[0], &drafted).await.unwrap(),
        Settled::Requeued
    );
    assert_eq!(
        store.settle_draft(&claims[1], &drafted).await.unwrap(),
        Settled::Dropped
    );
    let document = store.get_document(edited).await.unwrap();
    assert_eq!(document.md_content, None, "the stale draft was not applied");
    assert_eq!(document.draft.state, DraftState::Pending);
    assert_eq!(document.draft.attempts, 0);
    let again = store.claim_drafts(&request("w", 2)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].text, "고친 원문");
}

pub async fn release_and_skip_count_attempts_correctly(fx: Fixture) {
    let store = fx.store.clone();
    let released = promoted(&store, "선점되어 돌려줄 원문입니다").await;
    let short = promoted(&store, "짧음").await;
    let empty = promoted(&store, "모델이 빈 답을 줄 원문입니다").await;
    let claims = store.claim_drafts(&request("w", 3)).await.unwrap();
    store
        .settle_draft(&claims[0], &Settlement::Released)
        .await
        .unwrap();
    let skip = |model_called| Settlement::Skipped {
        reason: "why".into(),
        model_called,
        metadata: Default::default(),
    };
    store.settle_draft(&claims[1], &skip(false)).await.unwrap();
    store.settle_draft(&claims[2], &skip(true)).await.unwrap();

    let released = store.get_document(released).await.unwrap();
    assert_eq!(released.draft.state, DraftState::Pending);
    assert_eq!(released.draft.attempts, 0);
    let short = store.get_document(short).await.unwrap();
    assert_eq!(short.draft.state, DraftState::Skipped);
    assert_eq!(short.draft.attempts, 0);
    assert_eq!(short.md_content, None);
    assert_eq!(short.md_draft_status, None);
    let empty = store.get_document(empty).await.unwrap();
    assert_eq!(empty.draft.state, DraftState::Skipped);
    assert_eq!(empty.draft.attempts, 1);
    assert_eq!(empty.content_origin, ContentOrigin::Memo);
}

pub async fn retries_wait_their_time_and_failures_stay_until_redraft(fx: Fixture) {
    let store = fx.store.clone();
    let id = promoted(&store, "재시도할 원문입니다 충분히 김").await;
    let claim = store
        .claim_drafts(&request("w", 1))
        .await
        .unwrap()
        .remove(0);
    let at = fx.clock_now_plus(Duration::from_secs(10));
    store
        .settle_draft(
            &claim,
            &Settlement::RetryLater {
                error: "model timed out".into(),
                at,
            },
        )
        .await
        .unwrap();
    let document = store.get_document(id).await.unwrap();
    assert_eq!(document.draft.state, DraftState::Pending);
    assert_eq!(
        document.draft.last_error.as_deref(),
        Some("model timed out")
    );
    assert_eq!(document.draft.next_attempt_at, Some(at));
    let stats = store.draft_queue_stats().await.unwrap();
    assert_eq!(stats.ready, 0);
    assert_eq!(stats.next_due, Some(at));
    assert!(
        store
            .claim_drafts(&request("w", 1))
            .await
            .unwrap()
            .is_empty()
    );

    fx.clock.advance(Duration::from_secs(10));
    let claim = store
        .claim_drafts(&request("w", 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(claim.attempt(), 2);
    store
        .settle_draft(
            &claim,
            &Settlement::Failed {
                error: "gave up".into(),
            },
        )
        .await
        .unwrap();
    let document = store.get_document(id).await.unwrap();
    assert_eq!(document.draft.state, DraftState::Failed);
    assert_eq!(document.draft.attempts, 2);
    assert!(
        store
            .claim_drafts(&request("w", 1))
            .await
            .unwrap()
            .is_empty()
    );

    let mut signal = store.draft_signal().subscribe();
    let redrafted = store.request_redraft(id).await.unwrap();
    assert!(signal.has_changed().unwrap(), "a redraft wakes the workers");
    let _ = signal.borrow_and_update();
    assert_eq!(redrafted.draft.state, DraftState::Pending);
    assert_eq!(redrafted.draft.attempts, 0);
    assert_eq!(redrafted.draft.last_error, None);
    assert_eq!(store.claim_drafts(&request("w", 1)).await.unwrap().len(), 1);
}

pub async fn a_lapsed_lease_after_the_last_attempt_fails(fx: Fixture) {
    let store = fx.store.clone();
    let id = promoted(&store, "매번 죽는 작업자의 원문입니다").await;
    for attempt in 1..=3 {
        let claim = store.claim_drafts(&request("dies", 1)).await.unwrap();
        assert_eq!(claim.len(), 1, "attempt {attempt}");
        fx.clock.advance(Duration::from_secs(31));
    }
    assert!(
        store
            .claim_drafts(&request("dies", 1))
            .await
            .unwrap()
            .is_empty()
    );
    let document = store.get_document(id).await.unwrap();
    assert_eq!(document.draft.state, DraftState::Failed);
    assert!(document.draft.last_error.is_some());
}

pub async fn stats_count_by_state(fx: Fixture) {
    let store = fx.store.clone();
    for n in 0..3 {
        promoted(&store, &format!("통계용 원문 번호 {n} 입니다")).await;
    }
    store.claim_drafts(&request("w", 1)).await.unwrap();
    let stats = store.draft_queue_stats().await.unwrap();
    assert_eq!(stats.count(DraftState::Pending), 2);
    assert_eq!(stats.count(DraftState::Running), 1);
    assert_eq!(stats.ready, 2);
    assert!(
        stats.next_due.is_some(),
        "the running lease's end is the next due time"
    );
    let listed = store
        .list_documents(
            &DocumentFilter {
                draft_state: Some(DraftState::Running),
                ..DocumentFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
}

pub async fn promote_and_edits_wake_the_worker(fx: Fixture) {
    let store = fx.store.clone();
    let mut signal = store.draft_signal().subscribe();
    let id = promoted(&store, "신호를 보내는 승격입니다").await;
    assert!(signal.has_changed().unwrap());
    let _ = signal.borrow_and_update();
    let claim = store
        .claim_drafts(&request("w", 1))
        .await
        .unwrap()
        .remove(0);
    store
        .settle_draft(
            &claim,
            &Settlement::Drafted {
                markdown: "초안".into(),
                metadata: Default::default(),
                model_calls: 2,
            },
        )
        .await
        .unwrap();
    let _ = signal.borrow_and_update();
    assert_eq!(
        store.get_document(id).await.unwrap().draft.attempts,
        2,
        "a stricter second call counts as an attempt"
    );
    // New text on an unreviewed draft queues a fresh one and wakes the worker.
    let patch = DocumentPatch {
        extracted_text: Some(DocumentText::parse("extracted_text", "새 원문".into()).unwrap()),
        ..DocumentPatch::default()
    };
    let document = store.update_document(id, &patch).await.unwrap();
    assert_eq!(document.draft.state, DraftState::Pending);
    assert!(signal.has_changed().unwrap());
}

// ---- Search ------------------------------------------------------------------------------

fn search_request(query: &str) -> crate::SearchRequest {
    crate::SearchRequest {
        query: jaryo_text::Query::parse(query).expect("a valid query"),
        filter: crate::SearchFilter::default(),
        limit: crate::PAGE_LIMIT_MAX,
        after: None,
    }
}

/// `(kind, id)` of every hit of `query`, best first.
async fn hits(store: &Arc<dyn Store>, query: &str) -> Vec<(crate::SearchKind, i64)> {
    hits_of(store, search_request(query)).await
}

async fn hits_of(
    store: &Arc<dyn Store>,
    request: crate::SearchRequest,
) -> Vec<(crate::SearchKind, i64)> {
    store
        .search(&request)
        .await
        .expect("search")
        .hits
        .iter()
        .map(|hit| (hit.kind, hit.id))
        .collect()
}

/// `(kind, id)` of every hit of `query`, read `limit` at a time through the cursors.
async fn paged_hits(
    store: &Arc<dyn Store>,
    query: &str,
    limit: u32,
) -> Vec<(crate::SearchKind, i64)> {
    let mut request = search_request(query);
    request.limit = limit;
    let mut paged = Vec::new();
    loop {
        let page = store.search(&request).await.expect("search");
        assert!(page.hits.len() <= limit as usize);
        paged.extend(page.hits.iter().map(|hit| (hit.kind, hit.id)));
        match page.next {
            Some(cursor) => request.after = Some(cursor),
            None => return paged,
        }
    }
}

pub async fn an_import_keeps_its_dates_and_tags_through_edits_and_reindex(fx: Fixture) {
    use crate::SearchKind::Document as Doc;
    let store = fx.store.clone();
    let written = chrono::DateTime::parse_from_rfc3339("2020-01-01T09:30:00.123456+09:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let changed = chrono::DateTime::parse_from_rfc3339("2020-02-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let imported = store
        .create_document(&crate::NewDocument {
            title: None,
            extracted_text: document_text("# 2020년 예산 메모\n분기별 예산 정리 #회계"),
            content_origin: ContentOrigin::Import,
            source_metadata: Default::default(),
            created_at: Some(written),
            updated_at: Some(changed),
            tags: vec!["예산".into(), "Archive".into()],
        })
        .await
        .unwrap();
    assert_eq!(imported.created_at, written);
    assert_eq!(imported.updated_at, changed);
    assert_eq!(imported.given_tags, ["예산", "Archive"]);
    assert_eq!(imported.tags(), ["예산", "Archive", "회계"]);
    let read = store.get_document(imported.id).await.unwrap();
    assert_eq!(read, imported);
    // Only updated_at given: created_at is now, and updated_at never before it.
    let plain = new_document(&store, "오늘 쓴 문서", "오늘 쓴 본문").await;
    let plain = store.get_document(plain).await.unwrap();
    assert_eq!(plain.created_at, plain.updated_at);
    assert!(plain.given_tags.is_empty());

    let by_tag = |tag: &str| {
        let store = store.clone();
        let tag = crate::search::tag_key(tag);
        async move {
            let mut request = search_request("예산");
            request.filter.tag = Some(tag);
            hits_of(&store, request).await
        }
    };
    assert_eq!(by_tag("예산").await, [(Doc, imported.id.0)]);
    assert_eq!(by_tag("archive").await, [(Doc, imported.id.0)]);
    assert_eq!(by_tag("회계").await, [(Doc, imported.id.0)]);
    // A change of title or text keeps the given tags; the created date stays.
    let patched = store
        .update_document(
            imported.id,
            &DocumentPatch {
                title: Some(jaryo_domain::DocumentTitle::parse("예산 (옮겨 옴)").unwrap()),
                extracted_text: Some(document_text("예산 정리, 고쳐 씀")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.created_at, written);
    assert_eq!(patched.given_tags, ["예산", "Archive"]);
    assert_eq!(by_tag("예산").await, [(Doc, imported.id.0)]);
    assert!(
        by_tag("회계").await.is_empty(),
        "the text's own tag left with the text"
    );
    // A rebuilt index derives them again.
    store.reindex(&|_| {}).await.unwrap();
    assert_eq!(by_tag("archive").await, [(Doc, imported.id.0)]);
}

fn document_text(s: &str) -> DocumentText {
    DocumentText::parse("extracted_text", s.to_owned()).expect("valid text")
}

async fn new_document(store: &Arc<dyn Store>, title: &str, body: &str) -> DocumentId {
    store
        .create_document(&crate::NewDocument {
            title: Some(jaryo_domain::DocumentTitle::parse(title).expect("valid title")),
            extracted_text: document_text(body),
            content_origin: ContentOrigin::User,
            source_metadata: Default::default(),
            created_at: None,
            updated_at: None,
            tags: Vec::new(),
        })
        .await
        .expect("document created")
        .id
}

/// The hit set equals the reference matcher's verdicts, for Korean inside inflected forms,
/// particles, mixed queries, phrases, single syllables, NFD input and English in any case.
pub async fn search_matches_exactly_what_the_reference_matcher_matches(fx: Fixture) {
    use crate::SearchKind::{Document, Memo};
    let store = fx.store.clone();
    let memos = [
        "axum 서버를 재시작했다. 로그는 서버에서 확인.",
        "회의록: 다음 주 일정은 화요일 #회의",
        "웹서버 설정을 바꿨다",
        "서버 설정 메모: Rust와 SQLite",
        "장보기: 우유, 계란, 두부",
        "Deploying the AXUM server on Friday",
        "Un café crème au coin de la rue",
        "the cafe backup ran; backups are kept a week",
        "Backend 배포 후 feedback 정리",
    ];
    let mut items: Vec<((crate::SearchKind, i64), String, String)> = Vec::new();
    for text in memos {
        let memo = store.create_memo(&self::text(text)).await.unwrap();
        items.push(((Memo, memo.id.0), String::new(), text.to_owned()));
    }
    let documents = [
        ("서버 운영 안내", "배포 전에 데이터베이스를 백업한다."),
        ("Weekly notes", "일정: 회의실 예약, axum으로 만든 서버 점검"),
    ];
    for (title, body) in documents {
        let id = new_document(&store, title, body).await;
        items.push(((Document, id.0), title.to_owned(), body.to_owned()));
    }
    let nfd_query: String = {
        use std::fmt::Write;
        // 서버 typed on a Mac: conjoining jamo.
        let mut out = String::new();
        for c in ['\u{1109}', '\u{1165}', '\u{1107}', '\u{1165}'] {
            out.write_char(c).unwrap();
        }
        out
    };
    let queries = [
        "서버",
        "서버를",
        "axum 서버",
        "AXUM",
        "Server",
        "\"서버 설정\"",
        "설정",
        "버",
        "회의",
        "일정 회의",
        "데이터베이스",
        "sqlite rust",
        "없는단어",
        "cafe",
        "CAFÉ",
        "crème",
        "back*",
        "backup",
        "serv* 서버",
        "\"backups are*\"",
        "배포 back*",
        nfd_query.as_str(),
    ];
    for query in queries {
        let parsed = jaryo_text::Query::parse(query).unwrap();
        let mut expected: Vec<(crate::SearchKind, i64)> = items
            .iter()
            .filter(|(_, title, body)| jaryo_text::matches_fields(&parsed, &[title, body]))
            .map(|(key, _, _)| *key)
            .collect();
        expected.sort();
        let mut found = hits(&store, query).await;
        found.sort();
        assert_eq!(found, expected, "query {query:?}");
    }
    // The sanity of the oracle itself on the cases the issue names.
    assert_eq!(hits(&store, "서버를").await.len(), 1);
    assert!(hits(&store, &nfd_query).await.len() >= 4);
    assert_eq!(hits(&store, "server").await, hits(&store, "SERVER").await);
    // Accents fold both ways; a star makes a prefix; no stemming.
    assert_eq!(hits(&store, "cafe").await.len(), 2);
    assert_eq!(hits(&store, "café").await, hits(&store, "cafe").await);
    assert_eq!(hits(&store, "back*").await.len(), 2);
    assert_eq!(hits(&store, "backup").await.len(), 1);
}

/// Writes and their index change are one: a memo is found right after its create, an edit by
/// its new words only, and deleted items never.
pub async fn search_follows_every_write_at_once(fx: Fixture) {
    use crate::SearchKind::{Document, Memo};
    let store = fx.store.clone();
    let memo = store
        .create_memo(&text("방금 적은 메모: 주간 회의"))
        .await
        .unwrap();
    assert_eq!(hits(&store, "주간").await, [(Memo, memo.id.0)]);
    store
        .update_memo(memo.id, &text("고친 메모: 분기 계획"), None)
        .await
        .unwrap();
    assert!(hits(&store, "주간").await.is_empty());
    assert_eq!(hits(&store, "분기").await, [(Memo, memo.id.0)]);

    // Promoted, the memo's text is the document's: found once, as the document.
    let document = store.promote_memo(memo.id).await.unwrap();
    assert_eq!(hits(&store, "분기").await, [(Document, document.id.0)]);

    let patch = DocumentPatch {
        extracted_text: Some(document_text("새 원문: 예산 검토")),
        ..DocumentPatch::default()
    };
    store.update_document(document.id, &patch).await.unwrap();
    assert_eq!(hits(&store, "예산").await, [(Document, document.id.0)]);
    let retitled = DocumentPatch {
        title: Some(jaryo_domain::DocumentTitle::parse("제목만 바꿈").unwrap()),
        ..DocumentPatch::default()
    };
    store.update_document(document.id, &retitled).await.unwrap();
    assert_eq!(hits(&store, "제목만").await, [(Document, document.id.0)]);
    assert_eq!(hits(&store, "예산").await, [(Document, document.id.0)]);

    store.delete_document(document.id).await.unwrap();
    assert!(hits(&store, "예산").await.is_empty());
    assert_eq!(hits(&store, "분기").await, [(Memo, memo.id.0)]);
    store.delete_memo(memo.id).await.unwrap();
    assert!(hits(&store, "분기").await.is_empty());
}

/// A reviewed draft is searched as the person reads it: a word only in the accepted Markdown
/// finds the document (its snippet from the Markdown, with no chunk), a word in both points at
/// the original, an unaccepted draft finds nothing, and the accepted text stays searchable
/// until the person accepts or rejects what replaces it. Reindex keeps it all.
pub async fn search_finds_a_document_by_its_accepted_markdown(fx: Fixture) {
    use crate::SearchKind::Document;
    use crate::{AcceptDraft, RejectDraft, Reviewer, SnippetSource};
    let store = fx.store.clone();
    let id = drafted(
        &store,
        "회의 메모: 예산 검토와 일정 조율",
        "# 예산 회의\n\n- 분기별 예산안 검토",
    )
    .await;
    // A draft nobody accepted is not what the person reads.
    assert!(hits(&store, "분기별").await.is_empty());
    let accept = |md: Option<&str>| AcceptDraft {
        by: Reviewer::Api,
        expected_version: None,
        md_content: md.map(|md| crate::review::parse_edited_text(md.into()).unwrap()),
    };
    store.accept_draft(id, &accept(None)).await.unwrap();
    assert_eq!(hits(&store, "분기별").await, [(Document, id.0)]);
    let page = store.search(&search_request("분기별")).await.unwrap();
    let hit = &page.hits[0];
    assert_eq!(hit.snippet_source, SnippetSource::AcceptedMarkdown);
    assert_eq!(hit.chunk, None);
    assert!(
        hit.snippet.html.contains("<mark>분기별</mark>"),
        "{}",
        hit.snippet.html
    );
    assert!(hit.snippet_text.contains("분기별"));
    // Both hold 예산: the original is what the hit points at.
    let page = store.search(&search_request("예산")).await.unwrap();
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].snippet_source, SnippetSource::Original);
    assert!(page.hits[0].chunk.is_some());
    // Original and Markdown are two fields: a phrase never runs from one into the other,
    // while two words may match one in each.
    assert!(hits(&store, "\"조율 예산\"").await.is_empty());
    assert_eq!(hits(&store, "조율 분기별").await, [(Document, id.0)]);

    // Edited, then accepted: the new words, not the old.
    store
        .accept_draft(id, &accept(Some("# 예산\n\n- 반기 결산 English notes")))
        .await
        .unwrap();
    assert!(hits(&store, "분기별").await.is_empty());
    assert_eq!(hits(&store, "반기").await, [(Document, id.0)]);
    assert_eq!(hits(&store, "english").await, [(Document, id.0)]);

    // A regenerated draft landing changes nothing searched until it is accepted; rejecting it
    // keeps the accepted text.
    store.regenerate_draft(id, Reviewer::Api).await.unwrap();
    let claims = store
        .claim_drafts(&request("markdown-fixture", 10))
        .await
        .unwrap();
    let claim = claims.into_iter().find(|c| c.document_id == id).unwrap();
    store
        .settle_draft(
            &claim,
            &Settlement::Drafted {
                markdown: "# 새 초안\n\n- 월간 보고".into(),
                metadata: serde_json::Map::new(),
                model_calls: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(hits(&store, "반기").await, [(Document, id.0)]);
    assert!(hits(&store, "월간").await.is_empty());
    let reject = RejectDraft {
        by: Reviewer::Api,
        expected_version: None,
    };
    store.reject_draft(id, &reject).await.unwrap();
    assert_eq!(hits(&store, "반기").await, [(Document, id.0)]);

    store.reindex(&|_| {}).await.unwrap();
    assert_eq!(hits(&store, "반기").await, [(Document, id.0)]);
    assert!(hits(&store, "월간").await.is_empty());

    // Accepting the new draft, then rejecting the accepted text itself: its words go.
    store.accept_draft(id, &accept(None)).await.unwrap();
    assert_eq!(hits(&store, "월간").await, [(Document, id.0)]);
    assert!(hits(&store, "반기").await.is_empty());
    store.reject_draft(id, &reject).await.unwrap();
    assert!(hits(&store, "월간").await.is_empty());
    assert_eq!(hits(&store, "예산").await, [(Document, id.0)]);
}

/// A promoted memo and its document hold one text: search shows the document once and says
/// which memo it came from. Once the texts differ each is found by its own words; deleting
/// the document brings the memo back. Reindex keeps it so.
pub async fn a_promoted_memo_is_found_once_as_its_document(fx: Fixture) {
    use crate::SearchKind::{Document, Memo};
    let store = fx.store.clone();
    let memo = store
        .create_memo(&text("장보기 목록\n우유, 계란 #살림"))
        .await
        .unwrap();
    let other = store
        .create_memo(&text("우유 배달 해지하기"))
        .await
        .unwrap();
    let document = store.promote_memo(memo.id).await.unwrap();
    let mut found = hits(&store, "우유").await;
    found.sort();
    assert_eq!(found, [(Document, document.id.0), (Memo, other.id.0)]);
    let page = store.search(&search_request("계란")).await.unwrap();
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].from_memo, Some(memo.id.0));
    let mut memos_only = search_request("계란");
    memos_only.filter.kind = Some(crate::SearchKind::Memo);
    assert!(hits_of(&store, memos_only).await.is_empty());
    // Listing the tag shows it once too.
    let tagged = crate::tags::list_tagged(
        store.as_ref(),
        &crate::SearchFilter {
            tag: Some("살림".into()),
            ..Default::default()
        },
        10,
        None,
    )
    .await
    .unwrap();
    let listed: Vec<_> = tagged.hits.iter().map(|hit| (hit.kind, hit.id)).collect();
    assert_eq!(listed, [(Document, document.id.0)]);

    store.reindex(&|_| {}).await.unwrap();
    assert_eq!(hits(&store, "계란").await, [(Document, document.id.0)]);

    // The memo edited: its own words are its own again.
    store
        .update_memo(memo.id, &text("장보기 목록\n우유, 계란, 두부"), None)
        .await
        .unwrap();
    let mut found = hits(&store, "계란").await;
    found.sort();
    assert_eq!(found, [(Document, document.id.0), (Memo, memo.id.0)]);
    assert_eq!(hits(&store, "두부").await, [(Memo, memo.id.0)]);
    // The memo's text back as it was: one hit again.
    store
        .update_memo(memo.id, &text("장보기 목록\n우유, 계란 #살림"), None)
        .await
        .unwrap();
    assert_eq!(hits(&store, "계란").await, [(Document, document.id.0)]);
    // The document's original edited: each by its own words.
    let patch = DocumentPatch {
        extracted_text: Some(document_text("장보기 목록\n우유만")),
        ..DocumentPatch::default()
    };
    store.update_document(document.id, &patch).await.unwrap();
    assert_eq!(hits(&store, "계란").await, [(Memo, memo.id.0)]);
    // Deleted, the document gives its memo back.
    store
        .update_document(
            document.id,
            &DocumentPatch {
                extracted_text: Some(document_text("장보기 목록\n우유, 계란 #살림")),
                ..DocumentPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(hits(&store, "계란").await, [(Document, document.id.0)]);
    store.delete_document(document.id).await.unwrap();
    assert_eq!(hits(&store, "계란").await, [(Memo, memo.id.0)]);
    store.reindex(&|_| {}).await.unwrap();
    assert_eq!(hits(&store, "계란").await, [(Memo, memo.id.0)]);
}

/// A title match beats a body match; a short text dense in the term beats a long one that
/// mentions it once.
pub async fn search_ranks_title_and_density_first(fx: Fixture) {
    use crate::SearchKind::Document;
    let store = fx.store.clone();
    let filler = "오늘은 날씨가 맑았고 점심으로 국수를 먹었다. ".repeat(12);
    let in_body = new_document(&store, "주간 기록", &format!("{filler} 배포 일정 확인.")).await;
    let in_title = new_document(&store, "배포 체크리스트", &filler).await;
    let ranked = hits(&store, "배포").await;
    assert_eq!(ranked, [(Document, in_title.0), (Document, in_body.0)]);

    let long = new_document(
        &store,
        "긴 기록",
        &format!("{filler} 캐시 한 번. {filler} {filler}"),
    )
    .await;
    let dense = new_document(&store, "짧은 기록", "캐시 설정: 캐시 크기와 캐시 만료.").await;
    let ranked = hits(&store, "캐시").await;
    assert_eq!(ranked, [(Document, dense.0), (Document, long.0)]);
    let page = store.search(&search_request("캐시")).await.unwrap();
    assert!(page.hits[0].score > page.hits[1].score);
}

/// Hits of equal score list newer items first, on one page and across pages alike. (The
/// documents, with the word in their titles, outscore the memos.)
pub async fn search_lists_equal_scores_newest_first(fx: Fixture) {
    use crate::SearchKind::{Document, Memo};
    let store = fx.store.clone();
    let mut memos = Vec::new();
    let mut documents = Vec::new();
    for _ in 0..3 {
        let memo = store
            .create_memo(&MemoText::parse("동점 메모: 같은 말 deploy".into()).unwrap())
            .await
            .expect("memo created");
        memos.push((Memo, memo.id.0));
        let document = new_document(&store, "동점", "같은 말 deploy").await;
        documents.push((Document, document.0));
    }
    let expected: Vec<_> = documents
        .iter()
        .rev()
        .chain(memos.iter().rev())
        .copied()
        .collect();
    let page = store.search(&search_request("동점")).await.expect("search");
    let scores: Vec<f64> = page.hits.iter().map(|hit| hit.score).collect();
    assert!(
        scores[..3].windows(2).all(|w| w[0] == w[1])
            && scores[3..].windows(2).all(|w| w[0] == w[1])
            && scores[2] > scores[3],
        "identical items score alike, documents above memos: {scores:?}"
    );
    let order: Vec<_> = page.hits.iter().map(|hit| (hit.kind, hit.id)).collect();
    assert_eq!(order, expected);
    assert_eq!(paged_hits(&store, "동점", 1).await, expected);
}

/// Filters narrow the hit set; pages cover it exactly once, in order.
pub async fn search_filters_and_pages(fx: Fixture) {
    use crate::SearchKind::{Document, Memo};
    let store = fx.store.clone();
    let early = store
        .create_memo(&text("예전 메모 검색어 #보관"))
        .await
        .unwrap();
    fx.clock.advance(Duration::from_secs(3 * 86_400));
    let boundary = {
        use jaryo_domain::Clock;
        fx.clock.now()
    };
    let late = store
        .create_memo(&text("최근 메모 검색어 #Work"))
        .await
        .unwrap();
    // A promoted document whose memo is then deleted: the document stays, alone.
    let source = store
        .create_memo(&text("승격된 검색어 문서 #work"))
        .await
        .unwrap();
    let pending = store.promote_memo(source.id).await.unwrap().id;
    store.delete_memo(source.id).await.unwrap();
    let plain = new_document(&store, "직접 쓴 문서", "검색어가 들어간 본문").await;

    let filtered = |filter: crate::SearchFilter| {
        let store = store.clone();
        async move {
            let mut request = search_request("검색어");
            request.filter = filter;
            let mut found = hits_of(&store, request).await;
            found.sort();
            found
        }
    };
    assert_eq!(
        filtered(crate::SearchFilter {
            kind: Some(Memo),
            ..Default::default()
        })
        .await,
        [(Memo, early.id.0), (Memo, late.id.0)]
    );
    assert_eq!(
        filtered(crate::SearchFilter {
            kind: Some(Document),
            ..Default::default()
        })
        .await,
        [(Document, pending.0), (Document, plain.0)]
    );
    assert_eq!(
        filtered(crate::SearchFilter {
            tag: Some(crate::search::tag_key("WORK")),
            ..Default::default()
        })
        .await,
        [(Document, pending.0), (Memo, late.id.0)]
    );
    assert_eq!(
        filtered(crate::SearchFilter {
            created_before: Some(boundary),
            ..Default::default()
        })
        .await,
        [(Memo, early.id.0)]
    );
    assert_eq!(
        filtered(crate::SearchFilter {
            created_from: Some(boundary),
            kind: Some(Memo),
            ..Default::default()
        })
        .await,
        [(Memo, late.id.0)]
    );
    assert_eq!(
        filtered(crate::SearchFilter {
            draft_state: Some(DraftState::Pending),
            ..Default::default()
        })
        .await,
        [(Document, pending.0)]
    );

    // Paging: two at a time, every hit once, in the order of one big page.
    let all = hits(&store, "검색어").await;
    assert_eq!(all.len(), 4);
    assert_eq!(paged_hits(&store, "검색어", 2).await, all);
}

/// A document hit points at its best chunk, and the snippet marks the matched words in it.
pub async fn search_points_documents_at_the_best_chunk(fx: Fixture) {
    let store = fx.store.clone();
    let body = format!(
        "# 소개\n\n{intro}\n\n# 설치\n\n{install}\n\n# 운영\n\n서버를 재시작할 때는 로그를 먼저 본다. \
         재시작 후 서버 상태를 확인한다.\n",
        intro = "이 문서는 사내 도구 안내서다. ".repeat(10),
        install = "패키지를 내려받아 압축을 푼다. 서버 한 번. ".repeat(3),
    );
    let id = new_document(&store, "운영 안내", &body).await;
    let page = store.search(&search_request("서버 재시작")).await.unwrap();
    let hit = &page.hits[0];
    assert_eq!(hit.id, id.0);
    let chunk = hit.chunk.as_ref().expect("a document hit has a chunk");
    assert_eq!(chunk.heading_path, ["운영"]);
    assert!(body[chunk.range.clone()].contains("재시작"));
    assert!(!hit.snippet.marks.is_empty());
    for mark in &hit.snippet.marks {
        assert!(chunk.range.start <= mark.start && mark.end <= chunk.range.end);
        let marked = &body[mark.clone()];
        assert!(marked == "서버" || marked == "재시작", "{marked:?}");
    }
    assert!(
        hit.snippet.html.contains("<mark>재시작</mark>"),
        "{}",
        hit.snippet.html
    );
    assert_eq!(hit.snippet_text, &body[hit.snippet.range.clone()]);

    // A memo's snippet is escaped and marks the match.
    store
        .create_memo(&text("<b>굵게</b> 쓴 검색 & 메모"))
        .await
        .unwrap();
    let page = store.search(&search_request("검색")).await.unwrap();
    assert_eq!(
        page.hits[0].snippet.html,
        "&lt;b&gt;굵게&lt;/b&gt; 쓴 <mark>검색</mark> &amp; 메모"
    );
}

/// Reindex rebuilds from the original text, reports progress, and leaves the index current.
pub async fn reindex_rebuilds_the_index_with_progress(fx: Fixture) {
    let store = fx.store.clone();
    for i in 0..5 {
        store
            .create_memo(&text(&format!("재색인 메모 {i}")))
            .await
            .unwrap();
    }
    let document = promoted(&store, "재색인 문서의 원문").await;
    let deleted = store.create_memo(&text("지운 재색인 메모")).await.unwrap();
    store.delete_memo(deleted.id).await.unwrap();
    let before = hits(&store, "재색인").await;
    // Five memos and the document (its memo is found as the document).
    assert_eq!(before.len(), 6);

    let reports = std::sync::Mutex::new(Vec::new());
    let report = store
        .reindex(&|progress| reports.lock().unwrap().push(progress))
        .await
        .unwrap();
    assert_eq!((report.memos, report.documents), (6, 1));
    assert!(report.chunks >= 1);
    let reports = reports.into_inner().unwrap();
    let last = reports.last().expect("progress was reported");
    assert_eq!((last.done, last.total), (7, 7));
    assert!(reports.windows(2).all(|w| w[0].done <= w[1].done));

    let mut after = hits(&store, "재색인").await;
    after.sort();
    let mut before = before;
    before.sort();
    assert_eq!(after, before);
    assert!(after.contains(&(crate::SearchKind::Document, document.0)));
    let status = store.search_index_status().await.unwrap();
    assert!(!status.stale);
    assert_eq!(status.analyzer_version, jaryo_text::ANALYZER_VERSION);
    assert_eq!(status.items, 7);
}

pub async fn drafts_are_selected_for_a_rerun_by_flag_state_prompt_model_and_time(fx: Fixture) {
    let store = fx.store.clone();
    let draft = |flagged: bool, model: &str, prompt: &str| {
        let mut metadata = serde_json::Map::new();
        metadata.insert(
            "drafted_at".into(),
            json!(
                fx.clock_now_plus(Duration::ZERO)
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ),
        );
        metadata.insert(
            "draft".into(),
            json!({ "model": model, "prompt_version": prompt }),
        );
        metadata.insert("fidelity".into(), json!({ "flagged": flagged }));
        Settlement::Drafted {
            markdown: "초안".into(),
            metadata,
            model_calls: 1,
        }
    };
    let clean = promoted(&store, "깨끗한 초안의 원문입니다").await;
    let flagged = promoted(&store, "의심스러운 초안의 원문입니다").await;
    let old_prompt = promoted(&store, "옛 프롬프트 초안의 원문입니다").await;
    let failed = promoted(&store, "실패한 초안의 원문입니다").await;
    let untouched = promoted(&store, "아직 초안이 없는 원문입니다").await;
    let claims = store.claim_drafts(&request("w", 4)).await.unwrap();
    store
        .settle_draft(&claims[0], &draft(false, "qwen3:8b", "draft-v2"))
        .await
        .unwrap();
    fx.clock.advance(Duration::from_secs(60));
    let later = fx.clock_now_plus(Duration::ZERO);
    store
        .settle_draft(&claims[1], &draft(true, "gemma3:12b", "draft-v2"))
        .await
        .unwrap();
    store
        .settle_draft(&claims[2], &draft(false, "qwen3:8b", "draft-v1"))
        .await
        .unwrap();
    store
        .settle_draft(&claims[3], &Settlement::Failed { error: "x".into() })
        .await
        .unwrap();

    let select = |selection: DraftSelection| {
        let store = store.clone();
        async move { store.select_drafts(&selection, None, 100).await.unwrap() }
    };
    assert_eq!(
        select(DraftSelection {
            flagged: true,
            ..DraftSelection::default()
        })
        .await,
        [flagged]
    );
    assert_eq!(
        select(DraftSelection {
            flagged: true,
            failed: true,
            ..DraftSelection::default()
        })
        .await,
        [flagged, failed]
    );
    assert_eq!(
        select(DraftSelection {
            prompt_version_not: Some("draft-v2".into()),
            ..DraftSelection::default()
        })
        .await,
        [old_prompt]
    );
    assert_eq!(
        select(DraftSelection {
            model: Some("qwen3:8b".into()),
            ..DraftSelection::default()
        })
        .await,
        [clean, old_prompt]
    );
    assert_eq!(
        select(DraftSelection {
            drafted_from: Some(later),
            ..DraftSelection::default()
        })
        .await,
        [flagged, old_prompt]
    );
    assert_eq!(
        select(DraftSelection {
            drafted_before: Some(later),
            ..DraftSelection::default()
        })
        .await,
        [clean]
    );
    // The library's "needs attention": flagged drafts awaiting review, and nothing else.
    let listed = |needs_attention| {
        let store = store.clone();
        async move {
            store
                .list_documents(
                    &DocumentFilter {
                        needs_attention: Some(needs_attention),
                        ..DocumentFilter::default()
                    },
                    PageRequest::new(Some(100), None),
                )
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|document| document.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(true).await, [flagged]);
    assert_eq!(
        listed(false).await,
        [untouched, failed, old_prompt, clean],
        "newest first"
    );
    // Everything with draft work, in pages.
    let all = select(DraftSelection::default()).await;
    assert_eq!(all, [clean, flagged, old_prompt, failed, untouched]);
    let page = store
        .select_drafts(&DraftSelection::default(), Some(flagged), 2)
        .await
        .unwrap();
    assert_eq!(page, [old_prompt, failed]);
}

/// Promotes a memo and lets a worker apply `markdown` as its draft.
async fn drafted(store: &Arc<dyn Store>, body: &str, markdown: &str) -> DocumentId {
    let id = promoted(store, body).await;
    let mut claim = None;
    for other in store
        .claim_drafts(&request("reviewer-fixture", 100))
        .await
        .unwrap()
    {
        if other.document_id == id {
            claim = Some(other);
        } else {
            store
                .settle_draft(&other, &Settlement::Released)
                .await
                .unwrap();
        }
    }
    let claim = claim.expect("the new document is claimed");
    let mut metadata = serde_json::Map::new();
    metadata.insert("drafted_at".into(), json!("2026-01-01T00:00:00.000000Z"));
    let settled = store
        .settle_draft(
            &claim,
            &Settlement::Drafted {
                markdown: markdown.into(),
                metadata,
                model_calls: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(settled, Settled::Applied);
    id
}

fn history(document: &jaryo_domain::Document) -> Vec<crate::review::ReviewEntry> {
    crate::review::review_history(&document.source_metadata)
}

pub async fn a_draft_is_accepted_as_drafted_or_edited_and_recorded(fx: Fixture) {
    use crate::review::{ReviewAction, parse_edited_text};
    use crate::{AcceptDraft, Reviewer};
    let store = fx.store.clone();
    let id = drafted(
        &store,
        "회의 메모: 예산 검토와 일정 조율",
        "# 회의\n\n- 예산 검토",
    )
    .await;
    let before = store.get_document(id).await.unwrap();
    fx.clock.advance(Duration::from_secs(1));
    let accepted = store
        .accept_draft(
            id,
            &AcceptDraft {
                by: Reviewer::Web,
                expected_version: Some(before.version),
                md_content: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(accepted.md_draft_status, Some(MdDraftStatus::Accepted));
    assert_eq!(accepted.md_content, before.md_content);
    assert_eq!(accepted.content_origin, ContentOrigin::AiDrafted);
    assert_eq!(accepted.extracted_text, before.extracted_text);
    assert_eq!(accepted.version, before.version + 1);
    assert!(accepted.updated_at > before.updated_at);
    // Provenance written by the worker stays.
    assert_eq!(
        accepted.source_metadata["drafted_at"],
        before.source_metadata["drafted_at"]
    );
    let entries = history(&accepted);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, ReviewAction::Accept);
    assert_eq!(entries[0].by, Reviewer::Web);
    assert_eq!(entries[0].from_status, Some(MdDraftStatus::Draft));
    assert!(!entries[0].edited);

    // Accepting again without a change is refused; with an edit it revises the accepted text.
    let again = AcceptDraft {
        by: Reviewer::Api,
        expected_version: None,
        md_content: None,
    };
    assert!(matches!(
        store.accept_draft(id, &again).await,
        Err(StoreError::ReviewRefused(
            crate::ReviewRefusal::AlreadyAccepted
        ))
    ));
    let edited = store
        .accept_draft(
            id,
            &AcceptDraft {
                md_content: Some(parse_edited_text("# 회의\n\n- 예산 검토 (고침)".into()).unwrap()),
                ..again.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        edited.md_content.as_deref(),
        Some("# 회의\n\n- 예산 검토 (고침)")
    );
    let entries = history(&edited);
    assert_eq!(entries.len(), 2);
    assert!(entries[1].edited);
    assert_eq!(entries[1].by, Reviewer::Api);
    assert_eq!(entries[1].from_status, Some(MdDraftStatus::Accepted));
    assert_eq!(
        entries[1].previous_length,
        Some("# 회의\n\n- 예산 검토".chars().count())
    );

    // A stale version is refused and changes nothing.
    let stale = AcceptDraft {
        expected_version: Some(before.version),
        md_content: Some(parse_edited_text("덮어쓰기".into()).unwrap()),
        ..again
    };
    match store.accept_draft(id, &stale).await {
        Err(StoreError::VersionConflict { current_version }) => {
            assert_eq!(current_version, edited.version)
        }
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    assert_eq!(store.get_document(id).await.unwrap(), edited);
}

pub async fn a_rejected_draft_stays_visible_and_can_be_accepted_later(fx: Fixture) {
    use crate::review::ReviewAction;
    use crate::{AcceptDraft, RejectDraft, Reviewer};
    let store = fx.store.clone();
    let id = drafted(
        &store,
        "장보기: 우유, 계란, 두부를 산다",
        "- 우유\n- 계란\n- 두부",
    )
    .await;
    let reject = RejectDraft {
        by: Reviewer::Api,
        expected_version: None,
    };
    let rejected = store.reject_draft(id, &reject).await.unwrap();
    assert_eq!(rejected.md_draft_status, Some(MdDraftStatus::Rejected));
    assert_eq!(
        rejected.md_content.as_deref(),
        Some("- 우유\n- 계란\n- 두부")
    );
    assert_eq!(
        rejected.extracted_text.as_deref(),
        Some("장보기: 우유, 계란, 두부를 산다")
    );
    assert_eq!(history(&rejected)[0].action, ReviewAction::Reject);
    assert!(matches!(
        store.reject_draft(id, &reject).await,
        Err(StoreError::ReviewRefused(
            crate::ReviewRefusal::AlreadyRejected
        ))
    ));
    // The person changes their mind.
    let accepted = store
        .accept_draft(
            id,
            &AcceptDraft {
                by: Reviewer::Web,
                expected_version: Some(rejected.version),
                md_content: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(accepted.md_draft_status, Some(MdDraftStatus::Accepted));
    assert_eq!(
        history(&accepted)[1].from_status,
        Some(MdDraftStatus::Rejected)
    );
}

pub async fn reviews_are_refused_without_a_draft_or_while_one_is_made(fx: Fixture) {
    use crate::{AcceptDraft, RejectDraft, ReviewRefusal, Reviewer};
    let store = fx.store.clone();
    let accept = AcceptDraft {
        by: Reviewer::Api,
        expected_version: None,
        md_content: Some(crate::review::parse_edited_text("본문".into()).unwrap()),
    };
    let reject = RejectDraft {
        by: Reviewer::Api,
        expected_version: None,
    };
    // A promoted memo waiting for its first draft, and a document the person wrote.
    let waiting = promoted(&store, "아직 초안이 없는 메모입니다").await;
    let written = store
        .create_document(&crate::NewDocument {
            title: None,
            extracted_text: DocumentText::parse("extracted_text", "직접 쓴 문서".into()).unwrap(),
            content_origin: ContentOrigin::User,
            source_metadata: Default::default(),
            created_at: None,
            updated_at: None,
            tags: Vec::new(),
        })
        .await
        .unwrap()
        .id;
    for id in [waiting, written] {
        let before = store.get_document(id).await.unwrap();
        assert!(matches!(
            store.accept_draft(id, &accept).await,
            Err(StoreError::ReviewRefused(ReviewRefusal::NoDraft))
        ));
        assert!(matches!(
            store.reject_draft(id, &reject).await,
            Err(StoreError::ReviewRefused(ReviewRefusal::NoDraft))
        ));
        // Nothing was written: no review status on a document without a draft.
        assert_eq!(store.get_document(id).await.unwrap(), before);
    }
    // A draft being regenerated cannot be reviewed until the new one lands.
    let id = drafted(&store, "다시 만들 초안의 원문입니다", "초안 하나").await;
    store.regenerate_draft(id, Reviewer::Web).await.unwrap();
    assert!(matches!(
        store.accept_draft(id, &accept).await,
        Err(StoreError::ReviewRefused(ReviewRefusal::DraftInProgress))
    ));
    assert!(matches!(
        store.accept_draft(DocumentId(9_999_999), &accept).await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn regenerating_an_accepted_draft_keeps_the_accepted_text(fx: Fixture) {
    use crate::review::ReviewAction;
    use crate::{AcceptDraft, Reviewer};
    let store = fx.store.clone();
    let id = drafted(&store, "수락 후 재생성할 메모의 원문", "수락된 초안").await;
    let accepted = store
        .accept_draft(
            id,
            &AcceptDraft {
                by: Reviewer::Web,
                expected_version: None,
                md_content: Some(
                    crate::review::parse_edited_text("사람이 고친 글".into()).unwrap(),
                ),
            },
        )
        .await
        .unwrap();
    let wake = store.draft_signal().subscribe();
    let queued = store.regenerate_draft(id, Reviewer::Api).await.unwrap();
    assert!(wake.has_changed().unwrap(), "regenerate wakes the worker");
    assert_eq!(queued.draft.state, DraftState::Pending);
    assert_eq!(queued.draft.attempts, 0);
    // Until the new draft lands, the accepted text is still the document's content.
    assert_eq!(queued.md_content.as_deref(), Some("사람이 고친 글"));
    assert_eq!(queued.md_draft_status, Some(MdDraftStatus::Accepted));
    let entry = history(&queued).pop().unwrap();
    assert_eq!(entry.action, ReviewAction::Regenerate);
    assert_eq!(entry.from_status, Some(MdDraftStatus::Accepted));
    assert_eq!(entry.replaced_text.as_deref(), Some("사람이 고친 글"));
    // The new draft replaces md_content; the accepted text stays in the history.
    let claim = store
        .claim_drafts(&request("w", 1))
        .await
        .unwrap()
        .remove(0);
    store
        .settle_draft(
            &claim,
            &Settlement::Drafted {
                markdown: "새 초안".into(),
                metadata: Default::default(),
                model_calls: 1,
            },
        )
        .await
        .unwrap();
    let redrafted = store.get_document(id).await.unwrap();
    assert_eq!(redrafted.md_content.as_deref(), Some("새 초안"));
    assert_eq!(redrafted.md_draft_status, Some(MdDraftStatus::Draft));
    let entries = history(&redrafted);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].replaced_text.as_deref(), Some("사람이 고친 글"));
    assert_eq!(accepted.extracted_text, redrafted.extracted_text);

    // A retry of a draft that never existed is recorded as a retry.
    let waiting = promoted(&store, "초안이 실패한 메모의 원문").await;
    let retried = store
        .regenerate_draft(waiting, Reviewer::Web)
        .await
        .unwrap();
    assert_eq!(history(&retried)[0].action, ReviewAction::Retry);
    assert_eq!(retried.md_draft_status, None);
}

impl Fixture {
    fn clock_now_plus(&self, by: Duration) -> jaryo_domain::Timestamp {
        use jaryo_domain::Clock;
        self.clock.now() + chrono_duration(by)
    }
}

fn chrono_duration(d: Duration) -> jaryo_domain::TimeDelta {
    jaryo_domain::TimeDelta::from_std(d).expect("duration fits")
}

pub async fn tags_are_counted_listed_and_renamed(fx: Fixture) {
    let store = fx.store.clone();
    let budget = store
        .create_memo(&text("3월 #예산 정리, #Budget 도 같이"))
        .await
        .unwrap();
    store.create_memo(&text("#회의 메모")).await.unwrap();
    let gone = store.create_memo(&text("지운 #예산 메모")).await.unwrap();
    store.delete_memo(gone.id).await.unwrap();
    let promoted = store
        .create_memo(&text("문서가 될 #예산 메모"))
        .await
        .unwrap();
    let document = store.promote_memo(promoted.id).await.unwrap();

    let mut tags = store.list_tags().await.unwrap();
    crate::tags::sort_tag_counts(&mut tags);
    let counts: Vec<(&str, u64, u64)> = tags
        .iter()
        .map(|t| (t.tag.as_str(), t.memos, t.documents))
        .collect();
    assert_eq!(counts, [("예산", 2, 1), ("budget", 1, 0), ("회의", 1, 0)]);

    // Listings filter by tag; the key is the lowercased tag.
    let by_tag = |tag: &str| MemoFilter {
        tag: Some(crate::search::tag_key(tag)),
    };
    let memos = store
        .list_memos(&by_tag("BUDGET"), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        memos.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        [budget.id]
    );
    let documents = store
        .list_documents(
            &DocumentFilter {
                tag: Some("예산".into()),
                ..DocumentFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        documents.items.iter().map(|d| d.id).collect::<Vec<_>>(),
        [document.id]
    );

    // Everything with a tag, without a query: documents first, then memos, newest first,
    // paged with the cursor it gives.
    let filter = crate::SearchFilter {
        tag: Some("예산".into()),
        ..crate::SearchFilter::default()
    };
    let first = crate::tags::list_tagged(&*store, &filter, 2, None)
        .await
        .unwrap();
    let ids =
        |page: &crate::SearchPage| page.hits.iter().map(|h| (h.kind, h.id)).collect::<Vec<_>>();
    use crate::SearchKind::{Document, Memo};
    // The promoted memo is listed once, as its document.
    assert_eq!(
        ids(&first),
        [(Document, document.id.0), (Memo, budget.id.0)]
    );
    assert_eq!(first.hits[0].from_memo, Some(promoted.id.0));
    assert!(first.hits[1].snippet_text.starts_with("3월 #예산"));
    assert_eq!(first.next, None);

    // Renaming rewrites the memos' text (the document keeps its original words).
    let renamed = crate::tags::rename_tag(&*store, "예산", "재정")
        .await
        .unwrap();
    assert_eq!(renamed.memos, 2);
    let memo = store.get_memo(budget.id).await.unwrap();
    assert_eq!(memo.content, "3월 #재정 정리, #Budget 도 같이");
    assert_eq!(memo.tags, ["재정", "Budget"]);
    let mut tags = store.list_tags().await.unwrap();
    crate::tags::sort_tag_counts(&mut tags);
    assert_eq!(tags[0].tag, "재정");
    assert_eq!((tags[0].memos, tags[0].documents), (2, 0));
    assert!(
        tags.iter()
            .any(|t| t.tag == "예산" && t.memos == 0 && t.documents == 1)
    );
    assert_eq!(
        store
            .get_document(document.id)
            .await
            .unwrap()
            .extracted_text
            .as_deref(),
        Some("문서가 될 #예산 메모")
    );
}

// ---- The job queue ----------------------------------------------------------------------

/// A live document with no job yet.
async fn subject(store: &Arc<dyn Store>, body: &str) -> DocumentId {
    new_document(store, "작업 대상", body).await
}

fn job_request(owner: &str, limit: u32) -> ClaimRequest {
    request(owner, limit)
}

pub async fn jobs_are_claimed_once_under_contention(fx: Fixture) {
    let store = fx.store.clone();
    let mut subjects = Vec::new();
    for n in 0..12 {
        let id = subject(&store, &format!("경쟁 시험용 문서 {n}번")).await;
        store.enqueue_job(JobKind::Draft, id, 0).await.unwrap();
        subjects.push(id);
    }
    // Eight claimers at once, each wanting three: every job goes to exactly one of them.
    let claimers: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_jobs(JobKind::Draft, &job_request(&format!("claimer-{n}"), 3))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.unwrap());
    }
    let mut ids: Vec<_> = claimed.iter().map(|claim| claim.document_id).collect();
    ids.sort();
    assert_eq!(ids, subjects, "every job claimed, none twice");
    assert!(claimed.iter().all(|claim| claim.attempt() == 1));
    let stats = store.job_stats(JobKind::Draft).await.unwrap();
    assert_eq!(stats.count(DraftState::Running), 12);
    assert_eq!(stats.ready, 0);
}

pub async fn a_stale_claimant_is_fenced_out(fx: Fixture) {
    let store = fx.store.clone();
    let id = subject(&store, "울타리 시험용 문서입니다").await;
    store.enqueue_job(JobKind::Draft, id, 0).await.unwrap();
    let stale = store
        .claim_jobs(JobKind::Draft, &job_request("first", 1))
        .await
        .unwrap()
        .remove(0);
    // The work is asked for again while the first claim runs: its fence moves on.
    store.enqueue_job(JobKind::Draft, id, 0).await.unwrap();
    let done = crate::JobOutcome::Done { attempts: 1 };
    assert!(
        !store
            .renew_job_lease(&stale, Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert_eq!(
        store.settle_job(&stale, &done).await.unwrap(),
        Settled::LostClaim
    );
    let fresh = store
        .claim_jobs(JobKind::Draft, &job_request("second", 1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(fresh.attempt(), 1, "asked again: attempts start over");
    assert!(fresh.fence > stale.fence);
    assert_eq!(
        store.settle_job(&stale, &done).await.unwrap(),
        Settled::LostClaim,
        "a stale claim stays refused while a newer one runs"
    );
    assert_eq!(
        store.settle_job(&fresh, &done).await.unwrap(),
        Settled::Applied
    );
    let document = store.get_document(id).await.unwrap();
    assert_eq!(document.draft.state, DraftState::Done);
    assert_eq!(document.draft.attempts, 1);
    assert_eq!(
        store.settle_job(&fresh, &done).await.unwrap(),
        Settled::LostClaim,
        "settled once"
    );
}

pub async fn a_lapsed_lease_is_taken_over_by_priority_then_age(fx: Fixture) {
    let store = fx.store.clone();
    let old = subject(&store, "오래된 보통 작업입니다").await;
    let new = subject(&store, "새로 온 보통 작업입니다").await;
    let urgent = subject(&store, "늦게 왔지만 급한 작업입니다").await;
    for (id, priority) in [(old, 0), (new, 0), (urgent, 5)] {
        store
            .enqueue_job(JobKind::Draft, id, priority)
            .await
            .unwrap();
    }
    let first = store
        .claim_jobs(JobKind::Draft, &job_request("dies", 2))
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|c| c.document_id).collect::<Vec<_>>(),
        [urgent, old],
        "higher priority first, then the oldest document"
    );
    // Within the lease nobody else gets them; after it lapses they come back, counted.
    fx.clock.advance(Duration::from_secs(29));
    let others = store
        .claim_jobs(JobKind::Draft, &job_request("survivor", 5))
        .await
        .unwrap();
    assert_eq!(
        others.iter().map(|c| c.document_id).collect::<Vec<_>>(),
        [new]
    );
    fx.clock.advance(Duration::from_secs(2));
    let taken_over = store
        .claim_jobs(JobKind::Draft, &job_request("survivor", 5))
        .await
        .unwrap();
    assert_eq!(
        taken_over.iter().map(|c| c.document_id).collect::<Vec<_>>(),
        [urgent, old]
    );
    assert!(taken_over.iter().all(|claim| claim.attempt() == 2));
    let document = store.get_document(urgent).await.unwrap();
    assert_eq!(document.draft.lease_owner.as_deref(), Some("survivor"));
}

pub async fn retries_back_off_with_jitter_until_their_time(fx: Fixture) {
    use jaryo_domain::Clock;
    let store = fx.store.clone();
    let id = subject(&store, "물러섰다가 다시 할 작업입니다").await;
    store.enqueue_job(JobKind::Draft, id, 0).await.unwrap();
    let backoff = crate::jobs::Backoff {
        base: Duration::from_secs(10),
        max: Duration::from_secs(600),
    };
    let mut previous_wait = Duration::ZERO;
    for attempt in 1..=3 {
        let claim = store
            .claim_jobs(JobKind::Draft, &job_request("w", 1))
            .await
            .unwrap()
            .remove(0);
        assert_eq!(claim.attempt(), attempt);
        // The jitter source is the caller's: the same unit gives the same delay.
        let at = backoff.retry_at(fx.clock.now(), attempt, 0.5);
        let wait = (at - fx.clock.now()).to_std().unwrap();
        assert!(wait > previous_wait, "the wait grows: {wait:?}");
        previous_wait = wait;
        let outcome = crate::JobOutcome::RetryLater {
            error: "모델 서버가 답하지 않음".into(),
            at,
        };
        assert_eq!(
            store.settle_job(&claim, &outcome).await.unwrap(),
            Settled::Applied
        );
        let stats = store.job_stats(JobKind::Draft).await.unwrap();
        assert_eq!((stats.ready, stats.next_due), (0, Some(at)));
        let document = store.get_document(id).await.unwrap();
        assert_eq!(document.draft.next_attempt_at, Some(at));
        assert_eq!(document.draft.attempts, attempt);
        fx.clock.set(at - chrono_duration(Duration::from_millis(1)));
        assert!(
            store
                .claim_jobs(JobKind::Draft, &job_request("w", 1))
                .await
                .unwrap()
                .is_empty(),
            "not before its time"
        );
        fx.clock.set(at);
    }
}

pub async fn a_paused_kind_is_not_claimed_until_resumed_or_lapsed(fx: Fixture) {
    let store = fx.store.clone();
    let id = subject(&store, "모델 서버가 꺼져 기다리는 작업").await;
    store.enqueue_job(JobKind::Draft, id, 0).await.unwrap();
    let pause = crate::JobPause {
        reason: "the model server is down".into(),
        until: fx.clock_now_plus(Duration::from_secs(60)),
    };
    store.pause_jobs(JobKind::Draft, &pause).await.unwrap();
    let one = job_request("w", 1);
    let claim = || store.claim_jobs(JobKind::Draft, &one);
    assert!(claim().await.unwrap().is_empty());
    let stats = store.job_stats(JobKind::Draft).await.unwrap();
    assert_eq!(stats.paused, Some(pause.clone()));
    assert_eq!(stats.ready, 1, "the work is ready, only held back");

    // Resumed: claimable at once, and the workers are woken.
    let mut wake = store.draft_signal().subscribe();
    wake.borrow_and_update();
    store.resume_jobs(JobKind::Draft).await.unwrap();
    assert!(wake.has_changed().unwrap());
    let running = claim().await.unwrap().remove(0);
    store
        .settle_job(&running, &crate::JobOutcome::Released)
        .await
        .unwrap();

    // A pause whose pauser stopped renewing it lapses by itself.
    let pause = crate::JobPause {
        until: fx.clock_now_plus(Duration::from_secs(10)),
        ..pause
    };
    store.pause_jobs(JobKind::Draft, &pause).await.unwrap();
    assert!(claim().await.unwrap().is_empty());
    fx.clock.advance(Duration::from_secs(10));
    assert_eq!(claim().await.unwrap().len(), 1);
    assert_eq!(store.job_stats(JobKind::Draft).await.unwrap().paused, None);
}

pub async fn new_work_wakes_workers_here_and_in_other_processes(fx: Fixture) {
    let store = fx.store.clone();
    let id = subject(&store, "깨우는 신호 시험용 문서").await;
    let mut here = store.draft_signal().subscribe();
    here.borrow_and_update();
    let mut there = fx
        .other_process
        .as_ref()
        .map(|other| other.draft_signal().subscribe());
    if let Some(there) = &mut there {
        there.borrow_and_update();
    }
    store.enqueue_job(JobKind::Draft, id, 0).await.unwrap();
    assert!(here.has_changed().unwrap(), "this process's workers wake");
    if let (Some(there), Some(other)) = (&mut there, &fx.other_process) {
        tokio::time::timeout(Duration::from_secs(10), there.changed())
            .await
            .expect("the other process's workers wake")
            .unwrap();
        // And the other process sees the work and can claim it.
        let claims = other
            .claim_jobs(JobKind::Draft, &job_request("elsewhere", 1))
            .await
            .unwrap();
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].document_id, id);
        // A release there wakes the workers here.
        here.borrow_and_update();
        other
            .settle_job(&claims[0], &crate::JobOutcome::Released)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), here.changed())
            .await
            .expect("this process's workers wake for a release elsewhere")
            .unwrap();
    }
}

/// What a backend's opener returns: a [`Fixture`], or `Option<Fixture>` for a backend that
/// may be unavailable where the tests run (`None` skips the check).
pub trait IntoFixture {
    fn into_fixture(self) -> Option<Fixture>;
}

impl IntoFixture for Fixture {
    fn into_fixture(self) -> Option<Fixture> {
        Some(self)
    }
}

impl IntoFixture for Option<Fixture> {
    fn into_fixture(self) -> Option<Fixture> {
        self
    }
}

/// Runs every conformance check against the backend opened by `$open`, an async function
/// `fn(ManualClock) -> Fixture` (or `-> Option<Fixture>`, see [`IntoFixture`]).
#[macro_export]
macro_rules! conformance_suite {
    ($open:path) => {
        $crate::conformance_suite!(@checks $open;
            memos_round_trip_and_soft_delete,
            memo_edits_use_optimistic_concurrency,
            an_import_keeps_its_dates_and_tags_through_edits_and_reindex,
            promote_is_once_while_the_document_lives,
            patches_use_optimistic_concurrency,
            claims_take_due_work_oldest_first_in_batches,
            an_expired_lease_is_reclaimed_and_the_old_holder_is_fenced_out,
            a_dead_predecessors_leases_come_back_at_once_without_an_attempt,
            renewing_keeps_a_lease_alive,
            a_draft_applies_the_seed_fields,
            a_changed_text_requeues_and_a_deleted_document_drops,
            release_and_skip_count_attempts_correctly,
            retries_wait_their_time_and_failures_stay_until_redraft,
            a_lapsed_lease_after_the_last_attempt_fails,
            stats_count_by_state,
            promote_and_edits_wake_the_worker,
            search_matches_exactly_what_the_reference_matcher_matches,
            search_follows_every_write_at_once,
            search_finds_a_document_by_its_accepted_markdown,
            a_promoted_memo_is_found_once_as_its_document,
            search_ranks_title_and_density_first,
            search_lists_equal_scores_newest_first,
            search_filters_and_pages,
            search_points_documents_at_the_best_chunk,
            reindex_rebuilds_the_index_with_progress,
            a_draft_is_accepted_as_drafted_or_edited_and_recorded,
            a_rejected_draft_stays_visible_and_can_be_accepted_later,
            reviews_are_refused_without_a_draft_or_while_one_is_made,
            regenerating_an_accepted_draft_keeps_the_accepted_text,
            drafts_are_selected_for_a_rerun_by_flag_state_prompt_model_and_time,
            tags_are_counted_listed_and_renamed,
            jobs_are_claimed_once_under_contention,
            a_stale_claimant_is_fenced_out,
            a_lapsed_lease_is_taken_over_by_priority_then_age,
            retries_back_off_with_jitter_until_their_time,
            a_paused_kind_is_not_claimed_until_resumed_or_lapsed,
            new_work_wakes_workers_here_and_in_other_processes,
        );
    };
    (@checks $open:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let clock = $crate::conformance::start_clock();
                let opened = $open(clock).await;
                // A backend that is not available here (no PostgreSQL server outside CI)
                // opens `None`; its test helper has said why.
                let Some(fixture) = $crate::conformance::IntoFixture::into_fixture(opened) else {
                    return;
                };
                $crate::conformance::$check(fixture).await;
            }
        )*
    };
}

/// One behaviour, two stores, ranking included: [`build_ranking_library`] writes the same
/// library (Korean, English and mixed documents and memos, edits, deletes; hundreds of items
/// holding the common words, so rank windows fill and phrase frequencies are estimated past
/// the sample) into any store, and [`ranking_probes`] reads the first two pages of a set of
/// queries, with and without filters. Two stores given the same library and rank window must
/// answer every probe alike: same hits in the same order, scores equal to 1e-6.
pub async fn build_ranking_library(store: &Arc<dyn Store>, clock: &ManualClock) {
    const KOREAN: [&str; 12] = [
        "회의",
        "대통령",
        "국회의원",
        "법률",
        "국민",
        "헌법",
        "개정",
        "국회",
        "예산",
        "서버를",
        "회의록을",
        "정책",
    ];
    const ENGLISH: [&str; 8] = [
        "server", "deploy", "backup", "axum", "tokio", "release", "meeting", "budget",
    ];
    // A small deterministic generator: the same sequence on every store.
    let mut state: u64 = 0x6a61_7279_6f21;
    let mut next = move |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % bound
    };
    let sentence = |words: usize, next: &mut dyn FnMut(usize) -> usize| {
        let mut out = Vec::with_capacity(words);
        for _ in 0..words {
            // Zipf-ish: low indexes far more often, so some words are in most items.
            let pick = next(KOREAN.len()).min(next(KOREAN.len()));
            if next(3) == 0 {
                out.push(ENGLISH[pick % ENGLISH.len()].to_owned());
            } else {
                out.push(KOREAN[pick].to_owned());
            }
        }
        out.join(" ")
    };
    let mut documents = Vec::new();
    let mut memos = Vec::new();
    for item in 0..640 {
        clock.advance(Duration::from_secs(1));
        let words = 3 + next(40);
        let body = format!(
            "{}. #{}",
            sentence(words, &mut next),
            ["회의", "team", "정책"][item % 3]
        );
        if item % 5 == 0 {
            memos.push(
                store
                    .create_memo(&text(&body))
                    .await
                    .expect("memo created")
                    .id,
            );
        } else {
            let title = sentence(1 + next(3), &mut next);
            documents.push(new_document(store, &title, &body).await);
        }
    }
    // Edits and deletes change the statistics both stores rank with.
    for (index, id) in memos.iter().enumerate().filter(|(index, _)| index % 7 == 0) {
        let edited = format!("고친 메모 {index}: {}", sentence(6, &mut next));
        store
            .update_memo(*id, &text(&edited), None)
            .await
            .expect("memo edited");
    }
    for id in memos.iter().skip(3).step_by(11) {
        store.delete_memo(*id).await.expect("memo deleted");
    }
    for id in documents.iter().skip(5).step_by(13) {
        store.delete_document(*id).await.expect("document deleted");
    }
    let promoted = store
        .create_memo(&text("대통령 회의 server deploy 회의록을 정리"))
        .await
        .expect("memo created");
    store.promote_memo(promoted.id).await.expect("promoted");
    // Folded accents, prefixes and an accepted draft rank alike too.
    for body in [
        "café backup 회의 server",
        "the cafe backend deploy 회의록을",
        "Crème backups 대통령 회의",
    ] {
        clock.advance(Duration::from_secs(1));
        store.create_memo(&text(body)).await.expect("memo created");
    }
    let reviewed = drafted(
        store,
        "예산 회의 backup server",
        "# 회의\n\n- café backups 국회 예산",
    )
    .await;
    store
        .accept_draft(
            reviewed,
            &crate::AcceptDraft {
                by: crate::Reviewer::Api,
                expected_version: None,
                md_content: None,
            },
        )
        .await
        .expect("accepted");
}

/// One probe's answer: which query, filter and page, and its hits as `(kind, id, score)`.
pub type RankingProbe = (String, Vec<(crate::SearchKind, i64, f64)>);

/// The probes [`build_ranking_library`]'s library is asked: per query and filter, the first
/// two pages of ten as `(kind, id, score)`, with a label saying which.
pub async fn ranking_probes(store: &Arc<dyn Store>, clock: &ManualClock) -> Vec<RankingProbe> {
    use jaryo_domain::Clock;
    let queries = [
        "회의",
        "대통령",
        "국회의원",
        "법률",
        "server",
        "deploy",
        "국민 server",
        "헌법 개정",
        "backup 국회",
        "회의록",
        "회",
        "\"서버 를\"",
        "axum 서버",
        "cafe",
        "back*",
        "backups 국회",
        "회의 serv*",
    ];
    let filters = [
        ("none", crate::SearchFilter::default()),
        (
            "memos",
            crate::SearchFilter {
                kind: Some(crate::SearchKind::Memo),
                ..Default::default()
            },
        ),
        (
            "documents",
            crate::SearchFilter {
                kind: Some(crate::SearchKind::Document),
                ..Default::default()
            },
        ),
        (
            "tag",
            crate::SearchFilter {
                tag: Some("정책".to_owned()),
                ..Default::default()
            },
        ),
        (
            "recent",
            crate::SearchFilter {
                created_from: Some(clock.now() - chrono::Duration::seconds(300)),
                ..Default::default()
            },
        ),
    ];
    let mut probes = Vec::new();
    for query in queries {
        for (label, filter) in &filters {
            let mut request = crate::SearchRequest {
                query: jaryo_text::Query::parse(query).expect("query parses"),
                filter: filter.clone(),
                limit: 10,
                after: None,
            };
            for page_number in 1..=2 {
                let page = store.search(&request).await.expect("search");
                probes.push((
                    format!("{query:?} filter {label} page {page_number}"),
                    page.hits
                        .iter()
                        .map(|hit| (hit.kind, hit.id, hit.score))
                        .collect(),
                ));
                match page.next {
                    Some(cursor) => request.after = Some(cursor),
                    None => break,
                }
            }
        }
    }
    probes
}

/// Asserts two stores' answers to [`ranking_probes`] are the same: hits, order, scores to
/// 1e-6.
pub fn assert_same_ranking(left: &[RankingProbe], right: &[RankingProbe]) {
    assert_eq!(left.len(), right.len(), "the same probes, as many pages");
    for ((label, a), (other, b)) in left.iter().zip(right) {
        assert_eq!(label, other);
        let ids = |hits: &[(crate::SearchKind, i64, f64)]| -> Vec<(crate::SearchKind, i64)> {
            hits.iter().map(|&(kind, id, _)| (kind, id)).collect()
        };
        assert_eq!(ids(a), ids(b), "{label}: the same hits in the same order");
        for ((_, id, x), (_, _, y)) in a.iter().zip(b) {
            assert!(
                (x - y).abs() <= 1e-6,
                "{label}: item {id} scored {x} and {y}"
            );
        }
    }
}

/// The clock every check starts from.
pub fn start_clock() -> ManualClock {
    use jaryo_domain::Clock;
    ManualClock::new(jaryo_domain::SystemClock.now())
}
