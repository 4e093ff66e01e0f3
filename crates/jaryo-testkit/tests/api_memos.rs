//! The memo routes over real HTTP, on each store: a SQLite file and a PostgreSQL database.

use jaryo_testkit::{Backend, TestApp, error_code};
use reqwest::Method;
use serde_json::json;
use unicode_normalization::UnicodeNormalization;

jaryo_testkit::test_on_both_stores!(create_returns_201_with_the_memo_and_its_tags);
async fn create_returns_201_with_the_memo_and_its_tags(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let response = app
        .authed(Method::POST, "/memos")
        .json(&json!({"content": "주간 #회의 메모: axum 서버 배포 #rust"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let memo: serde_json::Value = response.json().await.unwrap();
    assert!(memo["id"].as_i64().unwrap() > 0);
    assert_eq!(memo["content"], "주간 #회의 메모: axum 서버 배포 #rust");
    assert_eq!(memo["tags"], json!(["회의", "rust"]));
    assert_eq!(memo["document_id"], serde_json::Value::Null);
    assert_eq!(memo["created_at"], memo["updated_at"]);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(korean_text_round_trips_byte_for_byte_including_nfd_and_emoji);
async fn korean_text_round_trips_byte_for_byte_including_nfd_and_emoji(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let nfc = "한글 메모 — 오늘 회의는 3시 🧑‍💻🇰🇷 #일정\n\n  들여쓰기와 줄바꿈도 그대로  \n";
    let nfd: String = nfc.nfd().collect();
    assert_ne!(nfc.as_bytes(), nfd.as_bytes());
    for text in [nfc.to_owned(), nfd] {
        let created = app.api.create_memo(&text).await.unwrap();
        assert_eq!(created.content.as_bytes(), text.as_bytes());
        let fetched = app.api.get_memo(created.id).await.unwrap();
        assert_eq!(fetched.content.as_bytes(), text.as_bytes());
        // The tag is normalised, so NFD input yields the same tag as NFC input.
        assert_eq!(fetched.tags, ["일정"]);
        let listed = app.api.list_memos(Some(1), None).await.unwrap();
        assert_eq!(listed.items[0].content.as_bytes(), text.as_bytes());
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(get_patch_and_delete_a_memo);
async fn get_patch_and_delete_a_memo(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo("처음 #초안").await.unwrap();

    let updated = app
        .api
        .update_memo(memo.id, "고친 내용 #최종")
        .await
        .unwrap();
    assert_eq!(updated.content, "고친 내용 #최종");
    assert_eq!(updated.tags, ["최종"]);
    assert!(updated.updated_at >= memo.updated_at);
    assert_eq!(updated.created_at, memo.created_at);
    assert_eq!(app.api.get_memo(memo.id).await.unwrap(), updated);

    let response = app
        .authed(Method::DELETE, &format!("/memos/{}", memo.id))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    // Soft-deleted: 404 everywhere, gone from the list.
    for method in [Method::GET, Method::DELETE] {
        let response = app
            .authed(method, &format!("/memos/{}", memo.id))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!((status, code.as_str()), (404, "not_found"));
    }
    let response = app
        .authed(Method::PATCH, &format!("/memos/{}", memo.id))
        .json(&json!({"content": "되살리기"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        app.api
            .list_memos(None, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(listing_is_newest_first_and_pages_through_everything_once);
async fn listing_is_newest_first_and_pages_through_everything_once(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut created = Vec::new();
    for i in 0..23 {
        created.push(app.api.create_memo(&format!("메모 {i}")).await.unwrap().id);
    }
    // A deleted memo in the middle must not appear on any page.
    app.api.delete_memo(created[10]).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = app
            .api
            .list_memos(Some(5), cursor.as_deref())
            .await
            .unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|m| m.id));
        pages += 1;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<i64> = created
        .iter()
        .copied()
        .filter(|&id| id != created[10])
        .collect();
    expected.reverse();
    assert_eq!(seen, expected);
    assert_eq!(pages, 5);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(fifty_concurrent_writers_all_succeed);
async fn fifty_concurrent_writers_all_succeed(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let writers = (0..50).map(|writer| {
        let api = app.api.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..10 {
                let memo = api
                    .create_memo(&format!("작성자 {writer}의 메모 {n} #동시성"))
                    .await
                    .expect("no write fails under concurrency");
                ids.push(memo.id);
            }
            ids
        })
    });
    let mut ids: Vec<i64> = futures::future::join_all(writers)
        .await
        .into_iter()
        .flat_map(|ids| ids.unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 500);
    let mut listed = 0;
    let mut cursor = None;
    loop {
        let page = app
            .api
            .list_memos(Some(200), cursor.as_deref())
            .await
            .unwrap();
        listed += page.items.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, 500);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(promote_makes_a_document_once);
async fn promote_makes_a_document_once(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let text = "# 서버 이전 계획\n- 일정: 다음 주 화요일\n- 담당: 민수\n";
    let memo = app.api.create_memo(text).await.unwrap();

    let response = app
        .authed(
            Method::POST,
            &format!("/memos/{}/promote-to-document", memo.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["extracted_text"], text);
    assert_eq!(document["content_origin"], "memo");
    assert_eq!(document["title"], "서버 이전 계획");
    assert_eq!(document["md_content"], serde_json::Value::Null);
    assert_eq!(document["md_draft_status"], serde_json::Value::Null);
    assert_eq!(document["source_metadata"]["memo_id"], memo.id);
    assert!(document["source_metadata"]["promoted_at"].is_string());
    assert_eq!(document["draft"]["state"], "pending");
    assert_eq!(document["draft"]["attempts"], 0);
    assert_eq!(document["version"], 1);
    let document_id = document["id"].as_i64().unwrap();

    assert_eq!(
        app.api.get_memo(memo.id).await.unwrap().document_id,
        Some(document_id)
    );

    let again = app
        .authed(
            Method::POST,
            &format!("/memos/{}/promote-to-document", memo.id),
        )
        .send()
        .await
        .unwrap();
    let (status, code, body) = error_code(again).await;
    assert_eq!((status, code.as_str()), (409, "already_promoted"));
    assert_eq!(body["error"]["document_id"], document_id);

    // Deleting the document frees the memo to be promoted again.
    app.api.delete_document(document_id).await.unwrap();
    assert_eq!(app.api.get_memo(memo.id).await.unwrap().document_id, None);
    let second = app.api.promote_memo(memo.id).await.unwrap();
    assert_ne!(second.id, document_id);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(concurrent_promotes_of_one_memo_make_one_document);
async fn concurrent_promotes_of_one_memo_make_one_document(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app
        .api
        .create_memo("동시에 두 번 누른 자료로 보내기 버튼")
        .await
        .unwrap();
    let attempts = (0..8).map(|_| {
        let api = app.api.clone();
        tokio::spawn(async move { api.promote_memo(memo.id).await })
    });
    let results = futures::future::join_all(attempts).await;
    let made: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().unwrap().as_ref().ok().map(|d| d.id))
        .collect();
    assert_eq!(made.len(), 1);
    for result in &results {
        if let Err(error) = result.as_ref().unwrap() {
            assert_eq!(error.code(), Some("already_promoted"));
        }
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(promoting_a_missing_or_deleted_memo_is_404);
async fn promoting_a_missing_or_deleted_memo_is_404(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo("지울 메모입니다").await.unwrap();
    app.api.delete_memo(memo.id).await.unwrap();
    for id in [memo.id, 999_999] {
        let error = app.api.promote_memo(id).await.unwrap_err();
        assert_eq!(error.code(), Some("not_found"));
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_stale_memo_version_is_409_and_the_first_edit_stays);
async fn a_stale_memo_version_is_409_and_the_first_edit_stays(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo("회의 안건: 예산").await.unwrap();
    assert_eq!(memo.version, 1);
    let path = format!("/memos/{}", memo.id);
    // Two tabs read version 1. The first saves.
    let first = app
        .authed(Method::PATCH, &path)
        .json(&json!({"content": "회의 안건: 예산, 일정", "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["version"], 2);
    // The second names the version it read and is refused.
    let second = app
        .authed(Method::PATCH, &path)
        .json(&json!({"content": "회의 안건: 점심", "version": 1}))
        .send()
        .await
        .unwrap();
    let (status, code, body) = error_code(second).await;
    assert_eq!((status, code.as_str()), (409, "version_conflict"), "{body}");
    assert_eq!(body["error"]["current_version"], 2);
    let kept = app.api.get_memo(memo.id).await.unwrap();
    assert_eq!(
        (kept.content.as_str(), kept.version),
        ("회의 안건: 예산, 일정", 2)
    );
    // With the current version it goes through.
    let third = app
        .authed(Method::PATCH, &path)
        .json(&json!({"content": "회의 안건: 점심", "version": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 200);
    assert_eq!(app.api.get_memo(memo.id).await.unwrap().version, 3);
    app.stop().await;
}
