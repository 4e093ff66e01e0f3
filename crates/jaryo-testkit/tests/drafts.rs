//! From promote to draft over real HTTP: the worker inside `jaryo serve`, the test model server
//! at the HTTP boundary.

use jaryo_domain::{ContentOrigin, DraftState, MdDraftStatus};
use jaryo_testkit::{Backend, TestApp, error_code};
use jaryo_testllm::Reply;
use reqwest::Method;
use std::time::Duration;

const MEMO: &str = "다음 주 화요일 axum 서버 배포, 담당 민수, 배포 전 예산 검토 #일정";
const WAIT: Duration = Duration::from_secs(20);

jaryo_testkit::test_on_both_stores!(a_promoted_memo_gets_its_draft_without_anyone_asking);
async fn a_promoted_memo_gets_its_draft_without_anyone_asking(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo(MEMO).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let drafted = app
        .wait_for_document(document.id, WAIT, |d| d.draft.state == DraftState::Done)
        .await;
    assert_eq!(drafted.md_content.as_deref(), Some(MEMO));
    assert_eq!(drafted.extracted_text.as_deref(), Some(MEMO));
    assert_eq!(drafted.content_origin, ContentOrigin::AiDrafted);
    assert_eq!(drafted.md_draft_status, Some(MdDraftStatus::Draft));
    assert_eq!(drafted.md_status.as_deref(), Some("success"));
    assert_eq!(drafted.md_extraction_engine.as_deref(), Some("ai_draft"));
    assert!(drafted.md_generated_at.is_some());
    assert!(drafted.source_metadata["drafted_at"].is_string());
    assert_eq!(drafted.draft.attempts, 1);
    assert!(!drafted.draft.needs_attention);
    assert_eq!(app.llm.request_count(), 1);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_failed_draft_shows_its_error_and_can_be_retried);
async fn a_failed_draft_shows_its_error_and_can_be_retried(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, |config| config.draft.max_attempts = 2).await;
    app.llm.push_replies([
        Reply::http_error(500, "the GPU caught fire"),
        Reply::http_error(500, "the GPU caught fire"),
    ]);
    let memo = app.api.create_memo(MEMO).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let failed = app
        .wait_for_document(document.id, WAIT, |d| d.draft.state == DraftState::Failed)
        .await;
    assert_eq!(failed.draft.attempts, 2);
    assert!(
        failed
            .draft
            .last_error
            .as_deref()
            .unwrap()
            .contains("the GPU caught fire")
    );

    let status: serde_json::Value = app
        .authed(Method::GET, "/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["recent_failures"][0]["document_id"], document.id);

    let retried = app.api.redraft_document(document.id).await.unwrap();
    assert_eq!(retried.draft.state, DraftState::Pending);
    assert_eq!(retried.draft.attempts, 0);
    let drafted = app
        .wait_for_document(document.id, WAIT, |d| d.draft.state == DraftState::Done)
        .await;
    assert_eq!(drafted.draft.attempts, 1);
    assert_eq!(drafted.draft.last_error, None);

    let missing = app
        .authed(Method::POST, "/documents/987654/redraft")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(missing).await.0, 404);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_draft_with_invented_facts_needs_attention);
async fn a_draft_with_invented_facts_needs_attention(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, |config| config.draft.redraft_on_flags = false).await;
    app.llm.push_reply(Reply::text(
        "# 배포 일정\n\n- 2025년 3월 14일 오후 3시 axum 서버 배포\n- 담당: 민수, 영희",
    ));
    let memo = app.api.create_memo(MEMO).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let drafted = app
        .wait_for_document(document.id, WAIT, |d| d.draft.state == DraftState::Done)
        .await;
    assert!(drafted.draft.needs_attention);
    assert_eq!(drafted.source_metadata["fidelity"]["flagged"], true);

    // The listing finds it by that, and only it.
    let other = app.api.create_memo("장보기 목록 #집").await.unwrap();
    app.api.promote_memo(other.id).await.unwrap();
    let ids = |needs_attention: bool| {
        let app = &app;
        async move {
            let page: serde_json::Value = app
                .authed(
                    Method::GET,
                    &format!("/documents?needs_attention={needs_attention}"),
                )
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(true).await, [document.id]);
    assert!(!ids(false).await.contains(&document.id));
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(status_and_metrics_say_what_the_worker_is_doing);
async fn status_and_metrics_say_what_the_worker_is_doing(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo(MEMO).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    app.wait_for_document(document.id, WAIT, |d| d.draft.state == DraftState::Done)
        .await;

    let status: serde_json::Value = app
        .authed(Method::GET, "/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["model"]["health"]["status"], "up");
    assert_eq!(status["model"]["model"], jaryo_testllm::DEFAULT_MODEL);
    assert_eq!(status["gate"]["slots"], 1);
    assert_eq!(status["gate"]["acquisitions"]["background"], 1);
    assert_eq!(status["queue"]["by_state"]["done"], 1);
    assert_eq!(status["worker"]["drafted"], 1);

    let metrics = app
        .authed(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "jaryo_draft_queue_documents{state=\"done\"} 1",
        "jaryo_drafts_total{outcome=\"drafted\"} 1",
        "jaryo_model_call_seconds_count 1",
        "jaryo_gate_wait_seconds_count{priority=\"background\"} 1",
        "jaryo_model_up 1",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in\n{metrics}");
    }
    let unauthenticated = app.http.get(app.api_url("/metrics")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(flagged_and_failed_drafts_can_be_rerun_selectively);
async fn flagged_and_failed_drafts_can_be_rerun_selectively(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, |config| {
        config.draft.redraft_on_flags = false;
        config.draft.max_attempts = 1;
    })
    .await;
    // In promote order: a faithful draft (keeping the memo's "(0)"), an invented date, a model
    // error.
    app.llm.push_replies([
        Reply::text(format!("{MEMO} (0)")),
        Reply::text("# 배포\n\n- 2025년 3월 14일 axum 서버 배포\n- 담당 민수"),
        Reply::http_error(500, "overloaded"),
    ]);
    let mut ids = Vec::new();
    for n in 0..3 {
        let memo = app.api.create_memo(&format!("{MEMO} ({n})")).await.unwrap();
        let document = app.api.promote_memo(memo.id).await.unwrap();
        app.wait_for_document(document.id, WAIT, |d| {
            matches!(d.draft.state, DraftState::Done | DraftState::Failed)
        })
        .await;
        ids.push(document.id);
    }
    let (clean, flagged, failed) = (ids[0], ids[1], ids[2]);

    let dry = app
        .api
        .redraft_selection(&jaryo_client::wire::RedraftSelection {
            flagged: true,
            dry_run: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dry.document_ids, [flagged]);
    assert_eq!(dry.queued, 0);
    assert_eq!(
        app.api.get_document(flagged).await.unwrap().draft.state,
        DraftState::Done,
        "a dry run changes nothing"
    );

    let summary = app
        .api
        .redraft_selection(&jaryo_client::wire::RedraftSelection {
            flagged: true,
            failed: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(summary.document_ids, [flagged, failed]);
    assert_eq!(summary.queued, 2);
    for (id, action) in [(flagged, "regenerate"), (failed, "retry")] {
        let redone = app
            .wait_for_document(id, WAIT, |d| d.draft.state == DraftState::Done)
            .await;
        assert!(
            !redone.draft.needs_attention,
            "the echo model drafts faithfully"
        );
        // A bulk redraft is recorded like a redraft of one document.
        let history = redone.source_metadata["review_history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let last = history
            .last()
            .expect("the redraft is in the review history");
        assert_eq!(
            (&last["action"], &last["by"]),
            (&action.into(), &"api".into())
        );
    }
    assert_eq!(app.api.get_document(clean).await.unwrap().draft.attempts, 1);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    a_retrying_draft_shows_its_last_error_and_a_waiting_one_says_why
);
async fn a_retrying_draft_shows_its_last_error_and_a_waiting_one_says_why(backend: Backend) {
    // The retry waits a minute: long enough to look at it.
    let app = TestApp::spawn_on_with(backend, |config| {
        config.draft.backoff_base_ms = 60_000;
        config.draft.backoff_max_ms = 60_000;
    })
    .await;
    app.llm
        .push_replies([Reply::http_error(500, "the GPU caught fire")]);
    let memo = app.api.create_memo(MEMO).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let retrying = app
        .wait_for_document(document.id, WAIT, |d| {
            d.draft.state == DraftState::Pending && d.draft.last_error.is_some()
        })
        .await;
    let waiting = retrying.draft.waiting.expect("a waiting draft says why");
    assert_eq!(waiting.reason, jaryo_client::wire::WaitingReason::Retry);
    assert_eq!(waiting.until, retrying.draft.next_attempt_at);
    assert!(
        waiting.message.contains("the GPU caught fire"),
        "{waiting:?}"
    );

    let status: serde_json::Value = app
        .authed(Method::GET, "/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status["retrying"][0]["document_id"], document.id,
        "{status}"
    );
    assert_eq!(status["retrying"][0]["attempts"], 1);
    assert!(
        status["retrying"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("the GPU caught fire"),
        "{status}"
    );
    assert_eq!(status["recent_failures"], serde_json::json!([]));
    let listed = app
        .authed(Method::GET, "/documents?retrying=true")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], document.id, "{listed}");
    assert_eq!(listed["items"][0]["draft"]["waiting"]["reason"], "retry");
    app.stop().await;

    // With no worker drafting here, a promoted memo waits its turn in the queue.
    let app = TestApp::spawn_on_with(backend, |config| config.draft.enabled = false).await;
    let memo = app.api.create_memo(MEMO).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let read = app.api.get_document(document.id).await.unwrap();
    let waiting = read.draft.waiting.expect("a waiting draft says why");
    assert_eq!(waiting.reason, jaryo_client::wire::WaitingReason::Queue);
    assert_eq!(waiting.queued, Some(1));
    app.stop().await;
}
