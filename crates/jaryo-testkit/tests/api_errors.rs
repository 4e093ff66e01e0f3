//! Auth, bad input and every error status, over real HTTP.

use jaryo_client::wire::NewDocumentInput;
use jaryo_testkit::{Backend, TestApp, error_code};
use reqwest::Method;
use serde_json::json;

jaryo_testkit::test_on_both_stores!(health_needs_no_token_and_everything_else_does);
async fn health_needs_no_token_and_everything_else_does(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let health = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let routes = [
        (Method::GET, "/memos"),
        (Method::POST, "/memos"),
        (Method::GET, "/memos/1"),
        (Method::PATCH, "/memos/1"),
        (Method::DELETE, "/memos/1"),
        (Method::POST, "/memos/1/promote-to-document"),
        (Method::GET, "/documents"),
        (Method::POST, "/documents"),
        (Method::GET, "/documents/1"),
        (Method::PATCH, "/documents/1"),
        (Method::DELETE, "/documents/1"),
        (Method::GET, "/status"),
        (Method::GET, "/search?q=x"),
    ];
    for (method, path) in routes {
        for auth in [None, Some("Bearer wrong-token"), Some("Basic dXNlcjpwYXNz")] {
            let mut request = app.http.request(method.clone(), app.api_url(path));
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            let response = request.json(&json!({"content": "x"})).send().await.unwrap();
            assert_eq!(
                response.headers().get("www-authenticate").unwrap(),
                "Bearer"
            );
            let (status, code, _) = error_code(response).await;
            assert_eq!(
                (status, code.as_str()),
                (401, "unauthorized"),
                "{method} {path}"
            );
        }
    }
    // The OpenAPI document is public: it says what the API takes, not what it holds.
    let openapi = app
        .http
        .get(app.api_url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(openapi.status(), 200);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(the_token_is_accepted_with_any_scheme_case);
async fn the_token_is_accepted_with_any_scheme_case(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    use secrecy::ExposeSecret;
    let response = app
        .http
        .get(app.api_url("/memos"))
        .header(
            "authorization",
            format!("bearer {}", app.token.expose_secret()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(malformed_json_is_400_and_wrong_shapes_are_422);
async fn malformed_json_is_400_and_wrong_shapes_are_422(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let malformed = app
        .authed(Method::POST, "/memos")
        .header("content-type", "application/json")
        .body("{\"content\": \"끝나지 않은")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(malformed).await;
    assert_eq!((status, code.as_str()), (400, "malformed_json"));

    for body in [
        json!({}),
        json!({"content": 42}),
        json!({"contents": "오타"}),
        json!("글"),
    ] {
        let response = app
            .authed(Method::POST, "/memos")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!((status, code.as_str()), (422, "invalid_input"), "{body}");
    }

    let no_type = app
        .authed(Method::POST, "/memos")
        .body("{\"content\": \"내용\"}")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(no_type).await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(empty_or_whitespace_memos_are_422_and_nothing_is_saved);
async fn empty_or_whitespace_memos_are_422_and_nothing_is_saved(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    for content in ["", "   ", "\n\t\u{3000}\n"] {
        let response = app
            .authed(Method::POST, "/memos")
            .json(&json!({ "content": content }))
            .send()
            .await
            .unwrap();
        let (status, code, body) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (422, "invalid_input"),
            "{content:?}"
        );
        assert_eq!(body["error"]["field"], "content");
    }
    let memo = app.api.create_memo("남는 메모").await.unwrap();
    let response = app
        .authed(Method::PATCH, &format!("/memos/{}", memo.id))
        .json(&json!({"content": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(
        app.api.get_memo(memo.id).await.unwrap().content,
        "남는 메모"
    );
    assert_eq!(app.api.list_memos(None, None).await.unwrap().items.len(), 1);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_nul_character_is_422_on_every_store_and_nothing_changes);
async fn a_nul_character_is_422_on_every_store_and_nothing_changes(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let nul = "회의 메모\u{0}끝";
    let response = app
        .authed(Method::POST, "/memos")
        .json(&json!({ "content": nul }))
        .send()
        .await
        .unwrap();
    let (status, code, body) = error_code(response).await;
    assert_eq!((status, code.as_str()), (422, "invalid_input"), "{body}");
    assert_eq!(body["error"]["field"], "content");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("NUL"),
        "{body}"
    );

    let memo = app.api.create_memo("남는 메모").await.unwrap();
    let response = app
        .authed(Method::PATCH, &format!("/memos/{}", memo.id))
        .json(&json!({ "content": nul }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let response = app
        .authed(Method::POST, "/documents")
        .json(&json!({ "title": "제목\u{0}", "extracted_text": "본문", "content_origin": "user" }))
        .send()
        .await
        .unwrap();
    let (status, _, body) = error_code(response).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "title");
    let response = app
        .authed(Method::POST, "/documents")
        .json(&json!({ "title": "제목", "extracted_text": nul, "content_origin": "user" }))
        .send()
        .await
        .unwrap();
    let (status, _, body) = error_code(response).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "extracted_text");

    assert_eq!(
        app.api.get_memo(memo.id).await.unwrap().content,
        "남는 메모"
    );
    assert_eq!(app.api.list_memos(None, None).await.unwrap().items.len(), 1);
    assert!(
        app.api
            .list_documents(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_body_over_the_default_limit_is_413);
async fn a_body_over_the_default_limit_is_413(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let big = "가".repeat(400 * 1024); // 1.2 MB of UTF-8
    let response = app
        .authed(Method::POST, "/memos")
        .json(&json!({ "content": big }))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(response).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    // Just under the limit is fine.
    let fits = "a".repeat(1000 * 1024);
    assert!(app.api.create_memo(&fits).await.is_ok());
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(the_body_limit_is_configurable);
async fn the_body_limit_is_configurable(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, |config| config.max_body_bytes = 2048).await;
    let response = app
        .authed(Method::POST, "/memos")
        .json(&json!({ "content": "x".repeat(4096) }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(app.api.create_memo(&"x".repeat(1000)).await.is_ok());
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(unknown_ids_are_404_and_bad_ids_400);
async fn unknown_ids_are_404_and_bad_ids_400(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    for path in ["/memos/424242", "/documents/424242"] {
        let response = app.authed(Method::GET, path).send().await.unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!((status, code.as_str()), (404, "not_found"), "{path}");
    }
    for path in [
        "/memos/abc",
        "/documents/1.5",
        "/memos/99999999999999999999",
    ] {
        let response = app.authed(Method::GET, path).send().await.unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!((status, code.as_str()), (400, "invalid_path"), "{path}");
    }
    let unknown = app
        .authed(Method::GET, "/nothing-here")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_wrong_method_is_405);
async fn a_wrong_method_is_405(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    for (method, path) in [
        (Method::PUT, "/memos"),
        (Method::DELETE, "/memos"),
        (Method::PUT, "/memos/1"),
        (Method::GET, "/memos/1/promote-to-document"),
        (Method::POST, "/documents/1"),
    ] {
        let response = app.authed(method.clone(), path).send().await.unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (405, "method_not_allowed"),
            "{method} {path}"
        );
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(bad_paging_parameters_are_400);
async fn bad_paging_parameters_are_400(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    for query in ["?limit=0", "?limit=201", "?limit=abc", "?cursor=xyz"] {
        let response = app
            .authed(Method::GET, &format!("/memos{query}"))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!((status, code.as_str()), (400, "invalid_query"), "{query}");
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(the_openapi_document_describes_every_route);
async fn the_openapi_document_describes_every_route(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let doc: serde_json::Value = app
        .authed(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/memos", &["get", "post"][..]),
        ("/api/v1/memos/{id}", &["get", "patch", "delete"][..]),
        ("/api/v1/memos/{id}/promote-to-document", &["post"][..]),
        ("/api/v1/documents", &["get", "post"][..]),
        ("/api/v1/documents/{id}", &["get", "patch", "delete"][..]),
    ] {
        for method in methods {
            assert!(
                paths[path].get(*method).is_some(),
                "{method} {path} missing from OpenAPI"
            );
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(every_json_body_refuses_unknown_fields_and_non_objects);
async fn every_json_body_refuses_unknown_fields_and_non_objects(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo("고칠 메모 #예산").await.unwrap();
    let document = app
        .api
        .create_document(&NewDocumentInput {
            title: Some("문서".into()),
            extracted_text: "원문 그대로".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let memo_path = format!("/memos/{}", memo.id);
    let document_path = format!("/documents/{}", document.id);
    let accept_path = format!("/documents/{}/draft/accept", document.id);
    let reject_path = format!("/documents/{}/draft/reject", document.id);
    let cases = [
        (
            Method::POST,
            "/memos",
            json!({"content": "새 메모", "pinned": true}),
            "pinned",
        ),
        (
            Method::PATCH,
            memo_path.as_str(),
            json!({"content": "바뀐 메모", "versoin": 1}),
            "versoin",
        ),
        (
            Method::POST,
            "/documents",
            json!({"extracted_text": "본문", "origin": "import"}),
            "origin",
        ),
        (
            Method::PATCH,
            document_path.as_str(),
            json!({"titel": "새 제목"}),
            "titel",
        ),
        (
            Method::POST,
            "/drafts/redraft",
            json!({"flaged": true, "dry_run": true}),
            "flaged",
        ),
        (
            Method::POST,
            accept_path.as_str(),
            json!({"md": "편집"}),
            "md",
        ),
        (
            Method::POST,
            reject_path.as_str(),
            json!({"reason": "별로"}),
            "reason",
        ),
        (
            Method::POST,
            "/ask",
            json!({"question": "예산?", "k": 3}),
            "k",
        ),
        (
            Method::POST,
            "/drafts/redraft",
            json!({"drafted_from": 20260101}),
            "drafted_from",
        ),
    ];
    for (method, path, body, field) in cases {
        let response = app
            .authed(method.clone(), path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, code, answer) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (422, "invalid_input"),
            "{method} {path} {body}: {answer}"
        );
        assert_eq!(answer["error"]["field"], field, "{method} {path}: {answer}");
    }
    // serde reads a struct from an array too: `[]` would be a redraft of everything.
    for (method, path) in [
        (Method::POST, "/drafts/redraft"),
        (Method::POST, "/memos"),
        (Method::POST, accept_path.as_str()),
    ] {
        let response = app
            .authed(method.clone(), path)
            .json(&json!([]))
            .send()
            .await
            .unwrap();
        let (status, code, answer) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (422, "invalid_input"),
            "{path}: {answer}"
        );
    }
    // Nothing was written.
    assert_eq!(
        app.api.get_memo(memo.id).await.unwrap().content,
        "고칠 메모 #예산"
    );
    let unchanged = app.api.get_document(document.id).await.unwrap();
    assert_eq!(
        (unchanged.title.as_str(), unchanged.version),
        ("문서", document.version)
    );
    assert_eq!(app.api.list_memos(None, None).await.unwrap().items.len(), 1);

    // The times of a redraft selection take a plain date as well as a time.
    let response = app
        .authed(Method::POST, "/drafts/redraft")
        .json(&json!({
            "drafted_from": "2020-01-01",
            "drafted_before": "2100-01-01T00:00:00+09:00",
            "dry_run": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(whole_numbers_and_a_null_body_are_read_as_the_document_allows);
/// JSON Schema, and so the OpenAPI document, counts `1.0` as the integer 1 and allows a
/// `null` optional body: the server reads them so. A real fraction is still refused.
async fn whole_numbers_and_a_null_body_are_read_as_the_document_allows(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo("버전 1.0 으로 고치기").await.unwrap();
    let edited = app
        .authed(Method::PATCH, &format!("/memos/{}", memo.id))
        .json(&json!({"content": "고친 메모", "version": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let (status, code, _) = error_code(
        app.authed(Method::PATCH, &format!("/memos/{}", memo.id))
            .json(&json!({"content": "또 고친 메모", "version": 2.5}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "invalid_input"));
    // A `null` body on a review is no body: the answer is about the document, not the body.
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let reviewed = app
        .authed(
            Method::POST,
            &format!("/documents/{}/draft/reject", document.id),
        )
        .header("content-type", "application/json")
        .body("null")
        .send()
        .await
        .unwrap();
    assert_ne!(reviewed.status(), 422);
    app.stop().await;
}
