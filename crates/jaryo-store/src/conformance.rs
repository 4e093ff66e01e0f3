//! One behaviour, every backend: checks each store implementation runs against itself.
//!
//! A backend's test file calls [`conformance_suite!`] with an async function that opens a fresh,
//! empty store on a [`ManualClock`]; each check becomes one `#[tokio::test]` with its own store.
//! The checks speak only through the [`Store`] trait.

use crate::{
    ClaimRequest, DocumentFilter, DocumentPatch, PageRequest, Settled, Settlement, Store,
    StoreError,
};
use jaryo_domain::{
    ContentOrigin, DocumentId, DocumentText, DraftState, ManualClock, MdDraftStatus, MemoText,
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
        .update_memo(memo.id, &text("고친 메모 #새태그"))
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
            .list_memos(PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
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
    assert_ne!(batch[0].token, batch[1].token);

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

impl Fixture {
    fn clock_now_plus(&self, by: Duration) -> jaryo_domain::Timestamp {
        use jaryo_domain::Clock;
        self.clock.now() + chrono_duration(by)
    }
}

fn chrono_duration(d: Duration) -> jaryo_domain::TimeDelta {
    jaryo_domain::TimeDelta::from_std(d).expect("duration fits")
}

/// Runs every conformance check against the backend opened by `$open`, an async function
/// `fn(ManualClock) -> Fixture`.
#[macro_export]
macro_rules! conformance_suite {
    ($open:path) => {
        $crate::conformance_suite!(@checks $open;
            memos_round_trip_and_soft_delete,
            promote_is_once_while_the_document_lives,
            patches_use_optimistic_concurrency,
            claims_take_due_work_oldest_first_in_batches,
            an_expired_lease_is_reclaimed_and_the_old_holder_is_fenced_out,
            renewing_keeps_a_lease_alive,
            a_draft_applies_the_seed_fields,
            a_changed_text_requeues_and_a_deleted_document_drops,
            release_and_skip_count_attempts_correctly,
            retries_wait_their_time_and_failures_stay_until_redraft,
            a_lapsed_lease_after_the_last_attempt_fails,
            stats_count_by_state,
            promote_and_edits_wake_the_worker,
        );
    };
    (@checks $open:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let clock = $crate::conformance::start_clock();
                let fixture = $open(clock).await;
                $crate::conformance::$check(fixture).await;
            }
        )*
    };
}

/// The clock every check starts from.
pub fn start_clock() -> ManualClock {
    use jaryo_domain::Clock;
    ManualClock::new(jaryo_domain::SystemClock.now())
}
