//! The document routes over real HTTP, on each store: a SQLite file and a PostgreSQL database.

use jaryo_client::wire::{DocumentPatchInput, NewDocumentInput};
use jaryo_testkit::{Backend, TestApp, error_code};
use reqwest::Method;
use serde_json::json;

async fn promoted(app: &TestApp, text: &str) -> i64 {
    let memo = app.api.create_memo(text).await.unwrap();
    app.api.promote_memo(memo.id).await.unwrap().id
}

jaryo_testkit::test_on_both_stores!(a_document_carries_every_seed_column_and_its_draft);
async fn a_document_carries_every_seed_column_and_its_draft(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let id = promoted(&app, "회의록 초안: 예산 검토와 일정 조율").await;
    let body: serde_json::Value = app
        .authed(Method::GET, &format!("/documents/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for column in [
        "id",
        "title",
        "extracted_text",
        "md_content",
        "content_origin",
        "md_status",
        "md_draft_status",
        "md_extraction_engine",
        "md_generated_at",
        "source_metadata",
        "created_at",
        "updated_at",
        "deleted_at",
        "version",
    ] {
        assert!(body.get(column).is_some(), "missing {column} in {body}");
    }
    for field in ["state", "attempts", "last_error", "next_attempt_at"] {
        assert!(body["draft"].get(field).is_some(), "missing draft.{field}");
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(patch_bumps_the_version_and_refuses_a_stale_one);
async fn patch_bumps_the_version_and_refuses_a_stale_one(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    // Written directly, so no draft is queued: the worker inside jaryo never changes the
    // version under the test (a promoted memo this long would be drafted meanwhile).
    let id = app
        .api
        .create_document(&NewDocumentInput {
            title: None,
            extracted_text: "원래 텍스트입니다. 충분히 긴 메모.".into(),
            content_origin: None,
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let patched = app
        .api
        .update_document(
            id,
            &DocumentPatchInput {
                title: Some("새 제목".into()),
                version: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.version, 2);
    assert_eq!(patched.title, "새 제목");
    assert_eq!(
        patched.extracted_text.as_deref(),
        Some("원래 텍스트입니다. 충분히 긴 메모.")
    );

    let patched = app
        .api
        .update_document(
            id,
            &DocumentPatchInput {
                extracted_text: Some("고친 원문".into()),
                version: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.version, 3);
    assert_eq!(patched.extracted_text.as_deref(), Some("고친 원문"));

    let stale = app
        .authed(Method::PATCH, &format!("/documents/{id}"))
        .json(&json!({"title": "늦은 편집", "version": 1}))
        .send()
        .await
        .unwrap();
    let (status, code, body) = error_code(stale).await;
    assert_eq!((status, code.as_str()), (409, "version_conflict"));
    assert_eq!(body["error"]["current_version"], 3);
    // Nothing of the stale edit was written.
    assert_eq!(app.api.get_document(id).await.unwrap().title, "새 제목");

    // Without a version, the change applies (last writer wins, by the client's choice).
    let patched = app
        .api
        .update_document(
            id,
            &DocumentPatchInput {
                title: Some("버전 없이".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.version, 4);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(patch_refuses_empty_changes_and_bad_values);
async fn patch_refuses_empty_changes_and_bad_values(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let id = promoted(&app, "패치 검증용 메모 텍스트").await;
    for body in [
        json!({}),
        json!({"version": 1}),
        json!({"title": "   "}),
        json!({"title": "두 줄\n제목"}),
        json!({"extracted_text": " \n "}),
    ] {
        let response = app
            .authed(Method::PATCH, &format!("/documents/{id}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!((status, code.as_str()), (422, "invalid_input"), "{body}");
    }
    assert_eq!(app.api.get_document(id).await.unwrap().version, 1);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(listing_filters_by_draft_state_and_pages);
async fn listing_filters_by_draft_state_and_pages(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut promoted_ids = Vec::new();
    for i in 0..7 {
        promoted_ids.push(promoted(&app, &format!("승격할 메모 번호 {i}")).await);
    }
    let direct = app
        .api
        .create_document(&NewDocumentInput {
            title: None,
            extracted_text: "# 직접 쓴 문서\n본문".into(),
            content_origin: None,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(direct.title, "직접 쓴 문서");
    assert_eq!(direct.draft.state, jaryo_domain::DraftState::None);

    // The worker inside jaryo settles every promoted memo at once (these are too short to
    // draft, so it skips them); then the filter must find exactly those documents.
    for id in &promoted_ids {
        app.wait_for_document(*id, std::time::Duration::from_secs(30), |d| {
            d.draft.state == jaryo_domain::DraftState::Skipped
        })
        .await;
    }
    let skipped: serde_json::Value = app
        .authed(Method::GET, "/documents?draft_state=skipped&limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = skipped["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    let mut expected = promoted_ids.clone();
    expected.reverse();
    assert_eq!(ids, expected);

    let none: serde_json::Value = app
        .authed(Method::GET, "/documents?draft_state=none")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"].as_array().unwrap().len(), 1);

    let first = app
        .api
        .list_documents(&jaryo_client::DocumentListQuery {
            limit: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.items[0].id, direct.id);
    let second = app
        .api
        .list_documents(&jaryo_client::DocumentListQuery {
            limit: Some(3),
            cursor: first.next_cursor.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(second.items[0].id < first.items[2].id);

    let bad = app
        .authed(Method::GET, "/documents?draft_state=bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_deleted_document_is_404_and_leaves_every_list);
async fn a_deleted_document_is_404_and_leaves_every_list(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let id = promoted(&app, "삭제될 문서의 원문 메모").await;
    let response = app
        .authed(Method::DELETE, &format!("/documents/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    for method in [Method::GET, Method::DELETE] {
        let response = app
            .authed(method, &format!("/documents/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    let patch = app
        .authed(Method::PATCH, &format!("/documents/{id}"))
        .json(&json!({"title": "부활"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 404);
    for query in ["", "?draft_state=pending"] {
        let page: serde_json::Value = app
            .authed(Method::GET, &format!("/documents{query}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(page["items"].as_array().unwrap().is_empty(), "{query}");
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(documents_can_only_be_written_as_user_or_import);
async fn documents_can_only_be_written_as_user_or_import(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let response = app
        .authed(Method::POST, "/documents")
        .json(&json!({"extracted_text": "본문", "content_origin": "ai_drafted"}))
        .send()
        .await
        .unwrap();
    let (status, code, body) = error_code(response).await;
    assert_eq!((status, code.as_str()), (422, "invalid_input"));
    assert_eq!(body["error"]["field"], "content_origin");
    let imported = app
        .api
        .create_document(&NewDocumentInput {
            title: Some("가져온 문서".into()),
            extracted_text: "본문".into(),
            content_origin: Some(jaryo_domain::ContentOrigin::Import),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(imported.content_origin, jaryo_domain::ContentOrigin::Import);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(an_import_keeps_its_dates_and_tags);
async fn an_import_keeps_its_dates_and_tags(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let response = app
        .authed(Method::POST, "/documents")
        .json(&json!({
            "extracted_text": "2020년 예산 회의록 #회계",
            "content_origin": "import",
            "created_at": "2020-01-01",
            "updated_at": "2020-03-05T09:00:00+09:00",
            "tags": ["예산", "#archive"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let imported: serde_json::Value = response.json().await.unwrap();
    assert_eq!(imported["created_at"], "2020-01-01T00:00:00Z");
    assert_eq!(imported["updated_at"], "2020-03-05T00:00:00Z");
    assert_eq!(imported["tags"], json!(["예산", "archive", "회계"]));
    let id = imported["id"].as_i64().unwrap();
    let read = app.api.get_document(id).await.unwrap();
    assert_eq!(read.created_at.to_rfc3339(), "2020-01-01T00:00:00+00:00");
    // Its tags find it, and its date places it in 2020.
    let found: serde_json::Value = app
        .authed(Method::GET, "/search?q=회의록&tag=예산&to=2020-12-31")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["hits"][0]["id"], id, "{found}");

    // Another tool's clock said it changed before it was written: kept, as written then.
    let response = app
        .authed(Method::POST, "/documents")
        .json(
            &json!({"extracted_text": "시계가 틀린 메모", "content_origin": "import",
                      "created_at": "2020-02-01", "updated_at": "2020-01-01"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let skewed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(skewed["created_at"], "2020-02-01T00:00:00Z");
    assert_eq!(skewed["updated_at"], "2020-02-01T00:00:00Z");

    // A note written here has no other date, and a tag must be one.
    for (body, field) in [
        (
            json!({"extracted_text": "본문", "created_at": "2020-01-01"}),
            "created_at",
        ),
        (
            json!({"extracted_text": "본문", "tags": ["두 단어"]}),
            "tags",
        ),
        (
            json!({"extracted_text": "본문", "content_origin": "import",
                   "created_at": "어제"}),
            "created_at",
        ),
    ] {
        let response = app
            .authed(Method::POST, "/documents")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, code, answer) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (422, "invalid_input"),
            "{body}: {answer}"
        );
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    assert_eq!(
        app.api
            .list_documents(&Default::default())
            .await
            .unwrap()
            .items
            .len(),
        2,
        "the refused writes left nothing behind"
    );
    app.stop().await;
}
