//! The review routes over real HTTP, on each store: accept (as drafted or edited), reject,
//! regenerate, and the refusals that keep a document without a draft free of a review status.

use jaryo_client::wire::{AcceptDraftInput, DocumentJson, RejectDraftInput};
use jaryo_testkit::{Backend, TestApp, error_code};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(20);

/// Promotes a memo and waits for the test model's draft (the memo itself, by default).
async fn drafted(app: &TestApp, text: &str) -> DocumentJson {
    let memo = app.api.create_memo(text).await.unwrap();
    let id = app.api.promote_memo(memo.id).await.unwrap().id;
    app.wait_for_document(id, PATIENCE, |d| {
        d.md_draft_status == Some(jaryo_domain::MdDraftStatus::Draft)
            && d.draft.state == jaryo_domain::DraftState::Done
    })
    .await
}

fn history(document: &DocumentJson) -> Vec<serde_json::Value> {
    document.source_metadata["review_history"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

jaryo_testkit::test_on_both_stores!(a_draft_is_accepted_as_it_is_or_edited);
async fn a_draft_is_accepted_as_it_is_or_edited(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let draft = drafted(&app, "주간 회의: 배포 일정과 담당자 정하기").await;
    // No body at all: accept the draft as it is.
    let response = app
        .authed(
            Method::POST,
            &format!("/documents/{}/draft/accept", draft.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let accepted: DocumentJson = response.json().await.unwrap();
    assert_eq!(
        accepted.md_draft_status,
        Some(jaryo_domain::MdDraftStatus::Accepted)
    );
    assert_eq!(accepted.md_content, draft.md_content);
    assert_eq!(accepted.version, draft.version + 1);
    assert_eq!(history(&accepted)[0]["action"], json!("accept"));
    assert_eq!(history(&accepted)[0]["by"], json!("api"));
    assert_eq!(history(&accepted)[0]["from_status"], json!("draft"));

    // Again, unchanged: refused with a clear code.
    let (status, code, _) = error_code(
        app.authed(
            Method::POST,
            &format!("/documents/{}/draft/accept", draft.id),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "already_accepted"));

    // Edited with the version read: the edit becomes the accepted text.
    let edited = app
        .api
        .accept_draft(
            draft.id,
            &AcceptDraftInput {
                md_content: Some("# 주간 회의\n\n- 배포 일정\n- 담당자".into()),
                version: Some(accepted.version),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        edited.md_content.as_deref(),
        Some("# 주간 회의\n\n- 배포 일정\n- 담당자")
    );
    assert_eq!(edited.extracted_text, draft.extracted_text);
    let entry = history(&edited).pop().unwrap();
    assert_eq!(entry["edited"], json!(true));
    assert_eq!(
        entry["previous_length"],
        json!(draft.md_content.unwrap().chars().count())
    );

    // A stale version changes nothing.
    let error = app
        .api
        .accept_draft(
            draft.id,
            &AcceptDraftInput {
                md_content: Some("덮어쓰기".into()),
                version: Some(accepted.version),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("version_conflict"));
    // An empty edit is bad input.
    let error = app
        .api
        .accept_draft(
            draft.id,
            &AcceptDraftInput {
                md_content: Some("  \n".into()),
                version: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("invalid_input"));
    assert_eq!(app.api.get_document(draft.id).await.unwrap(), edited);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_rejected_draft_stays_and_regenerate_keeps_accepted_text);
async fn a_rejected_draft_stays_and_regenerate_keeps_accepted_text(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let draft = drafted(&app, "장보기 목록: 우유, 계란, 두부, 대파").await;
    let rejected = app
        .api
        .reject_draft(
            draft.id,
            &RejectDraftInput {
                version: Some(draft.version),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rejected.md_draft_status,
        Some(jaryo_domain::MdDraftStatus::Rejected)
    );
    assert_eq!(rejected.md_content, draft.md_content);
    assert_eq!(rejected.extracted_text, draft.extracted_text);
    let (status, code, _) = error_code(
        app.authed(
            Method::POST,
            &format!("/documents/{}/draft/reject", draft.id),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "already_rejected"));

    // Accept after all, edited; then regenerate: the accepted text is kept in the history.
    app.api
        .accept_draft(
            draft.id,
            &AcceptDraftInput {
                md_content: Some("- 우유\n- 계란\n- 두부\n- 대파".into()),
                version: None,
            },
        )
        .await
        .unwrap();
    app.llm
        .set_handler(|_| jaryo_testllm::Reply::text("- 새 초안"));
    let queued = app.api.redraft_document(draft.id).await.unwrap();
    let entry = history(&queued).pop().unwrap();
    assert_eq!(entry["action"], json!("regenerate"));
    assert_eq!(entry["from_status"], json!("accepted"));
    assert_eq!(
        entry["replaced_text"],
        json!("- 우유\n- 계란\n- 두부\n- 대파")
    );
    let redrafted = app
        .wait_for_document(draft.id, PATIENCE, |d| {
            d.md_content.as_deref() == Some("- 새 초안")
        })
        .await;
    assert_eq!(
        redrafted.md_draft_status,
        Some(jaryo_domain::MdDraftStatus::Draft)
    );
    assert_eq!(
        history(&redrafted).last().unwrap()["replaced_text"],
        json!("- 우유\n- 계란\n- 두부\n- 대파")
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_document_without_a_draft_cannot_be_reviewed);
async fn a_document_without_a_draft_cannot_be_reviewed(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let written = app
        .api
        .create_document(&jaryo_client::wire::NewDocumentInput {
            title: None,
            extracted_text: "사람이 직접 쓴 문서".into(),
            content_origin: None,
            ..Default::default()
        })
        .await
        .unwrap();
    for action in ["accept", "reject"] {
        let (status, code, body) = error_code(
            app.authed(
                Method::POST,
                &format!("/documents/{}/draft/{action}", written.id),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!((status, code.as_str()), (409, "no_draft"), "{body}");
    }
    let unchanged = app.api.get_document(written.id).await.unwrap();
    assert_eq!(unchanged.md_draft_status, None);
    assert_eq!(unchanged.version, written.version);
    let (status, code, _) = error_code(
        app.authed(Method::POST, "/documents/999999/draft/accept")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    let (status, code, _) = error_code(
        app.authed(
            Method::POST,
            &format!("/documents/{}/draft/accept", written.id),
        )
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "malformed_json"));
    // Documented in the OpenAPI document.
    let openapi: serde_json::Value = app
        .authed(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/documents/{id}/draft/accept",
        "/api/v1/documents/{id}/draft/reject",
    ] {
        assert!(openapi["paths"][path]["post"].is_object(), "{path} missing");
    }
    app.stop().await;
}
