//! Ask over real HTTP: retrieval from the person's notes, the model at interactive priority,
//! the answer streamed as server-sent events.

use jaryo_client::wire::NewDocumentInput;
use jaryo_domain::DraftState;
use jaryo_testkit::{Backend, TestApp, error_code};
use jaryo_testllm::Reply;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

/// `(event, data)` pairs of a server-sent event stream.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            Some((name?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

async fn seed(app: &TestApp) -> i64 {
    app.api
        .create_document(&NewDocumentInput {
            title: Some("서버 이전 계획".into()),
            extracted_text: "# 서버 이전 계획\n\n다음 주 화요일 새벽 2시에 axum 서버를 옮긴다. \
                             배포 담당은 민수, 롤백 담당은 지현."
                .into(),
            content_origin: None,
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

jaryo_testkit::test_on_both_stores!(
    a_question_is_answered_from_the_notes_with_citations_as_a_stream
);
async fn a_question_is_answered_from_the_notes_with_citations_as_a_stream(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let document = seed(&app).await;
    app.api
        .create_memo("장보기: 우유, 계란, 두부")
        .await
        .unwrap();
    app.llm
        .push_reply(Reply::text("배포 담당은 민수입니다 [1].").chunks(5));

    let response = app
        .authed(Method::POST, "/ask")
        .header("accept", "text/event-stream")
        .json(&json!({"question": "서버 배포 담당자는 누구야?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = events(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"sources"));
    assert_eq!(names.last(), Some(&"done"));
    assert!(
        names.iter().filter(|n| **n == "delta").count() >= 2,
        "{names:?}"
    );
    let sources = &events[0].1["sources"];
    assert_eq!(sources[0]["kind"], "document");
    assert_eq!(sources[0]["id"], document);
    assert_eq!(sources[0]["number"], 1);
    let streamed: String = events
        .iter()
        .filter(|(name, _)| name == "delta")
        .map(|(_, data)| data["text"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, "배포 담당은 민수입니다 [1].");
    let done = &events.last().unwrap().1;
    assert_eq!(done["answer"], "배포 담당은 민수입니다 [1].");
    assert_eq!(done["cited"], json!([1]));

    // The model saw the passage, fenced, and the question; the call was a person's.
    let prompt = app.llm.requests()[0]
        .last_user_message()
        .unwrap()
        .to_owned();
    assert!(prompt.contains("배포 담당은 민수"), "{prompt}");
    assert!(prompt.contains("질문: 서버 배포 담당자는 누구야?"));
    let status: Value = app
        .authed(Method::GET, "/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["gate"]["acquisitions"]["interactive"], 1);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_question_without_matching_notes_does_not_bother_the_model);
async fn a_question_without_matching_notes_does_not_bother_the_model(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    seed(&app).await;
    let answer: Value = app
        .authed(Method::POST, "/ask")
        .json(&json!({"question": "quarterly revenue forecast?"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["answer"], "");
    assert_eq!(answer["sources"], json!([]));
    assert_eq!(app.llm.request_count(), 0);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(the_whole_answer_comes_back_as_json_when_not_streaming);
async fn the_whole_answer_comes_back_as_json_when_not_streaming(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    seed(&app).await;
    app.llm.push_reply(
        Reply::text("Rollback is Jihyun's job [1].").think("the note says 롤백 담당은 지현"),
    );
    let answer: Value = app
        .authed(Method::POST, "/ask")
        .json(&json!({"question": "who handles the axum rollback?"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["answer"], "Rollback is Jihyun's job [1].");
    assert_eq!(answer["model"], jaryo_testllm::DEFAULT_MODEL);
    assert_eq!(answer["cited"], json!([1]));
    let prompt = app.llm.requests()[0]
        .last_user_message()
        .unwrap()
        .to_owned();
    assert!(
        prompt.contains("Rules:"),
        "an English question gets English rules"
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_question_pre_empts_a_draft_which_then_finishes);
async fn a_question_pre_empts_a_draft_which_then_finishes(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    seed(&app).await;
    app.llm.set_handler(|request| {
        let prompt = request.last_user_message().unwrap_or_default();
        if prompt.contains("질문:") {
            Reply::text("민수입니다 [1].")
        } else {
            jaryo_testkit::echo_memo(request).generation_time(Duration::from_secs(2))
        }
    });
    let memo = app
        .api
        .create_memo("천천히 초안이 만들어질 메모입니다. 길고 느린 생성.")
        .await
        .unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    app.llm
        .wait_for_in_flight(1, Duration::from_secs(10))
        .await
        .unwrap();

    let answer: Value = app
        .authed(Method::POST, "/ask")
        .json(&json!({"question": "배포 담당자는?"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["answer"], "민수입니다 [1].");
    app.llm
        .wait_for_disconnects(1, Duration::from_secs(10))
        .await
        .expect("the draft's request was dropped for the question");
    let drafted = app
        .wait_for_document(document.id, Duration::from_secs(30), |d| {
            d.draft.state == DraftState::Done
        })
        .await;
    assert_eq!(
        drafted.draft.attempts, 1,
        "pre-emption costs the draft no attempt"
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_person_who_leaves_ends_the_model_call);
async fn a_person_who_leaves_ends_the_model_call(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    seed(&app).await;
    app.llm.push_reply(Reply::hang());

    let mut response = app
        .authed(Method::POST, "/ask")
        .header("accept", "text/event-stream")
        .json(&json!({"question": "배포 담당자는?"}))
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().expect("the sources event");
    assert!(String::from_utf8_lossy(&first).contains("event: sources"));
    app.llm
        .wait_for_in_flight(1, Duration::from_secs(10))
        .await
        .expect("the model is asked");

    // The answer belongs to the response: closing it ends the model's generation.
    drop(response);
    app.llm
        .wait_for_disconnects(1, Duration::from_secs(30))
        .await
        .expect("the model request was dropped with the response");
    let status: Value = app
        .authed(Method::GET, "/status")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["gate"]["in_use"], 0, "the model slot came back");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(empty_and_oversized_questions_are_refused);
async fn empty_and_oversized_questions_are_refused(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    for body in [
        json!({"question": "  "}),
        json!({"question": "가".repeat(2001)}),
        json!({"question": "배포", "sources": 0}),
    ] {
        let response = app
            .authed(Method::POST, "/ask")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response).await.0, 422);
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_promoted_memo_is_one_source_that_names_its_memo);
/// A promoted memo and its document hold one text: Ask gives it once, as the document, and
/// says which memo it came from.
async fn a_promoted_memo_is_one_source_that_names_its_memo(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app
        .api
        .create_memo("롤백 담당은 지현, 배포 담당은 민수")
        .await
        .unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let answer: Value = app
        .authed(Method::POST, "/ask")
        .json(&json!({"question": "롤백 담당은 누구야?"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sources = answer["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 1, "{answer}");
    assert_eq!(sources[0]["kind"], "document");
    assert_eq!(sources[0]["id"], document.id);
    assert_eq!(sources[0]["from_memo"], memo.id);
    app.stop().await;
}
