//! The test server seen from a plain HTTP client: wire format, scripting, recording, capacity,
//! disconnects and up/down.

use std::time::Duration;

use jaryo_testllm::{Reply, TestLlm};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

fn chat_body(stream: bool, prompt: &str) -> Value {
    json!({
        "model": "test-model",
        "stream": stream,
        "temperature": 0.2,
        "max_tokens": 100,
        "messages": [
            {"role": "system", "content": "You tidy memos."},
            {"role": "user", "content": prompt},
        ],
    })
}

async fn post(server: &TestLlm, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url()))
        .bearer_auth("secret-key")
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// The `data:` payloads of an SSE body.
fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

fn streamed_content(events: &[String], field: &str) -> String {
    events
        .iter()
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            let chunk: Value = serde_json::from_str(data).expect("chunk is JSON");
            chunk["choices"][0]["delta"][field]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn answers_without_streaming_in_openai_shape_and_records_the_request() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::text("# 회의\n\n- 일정").reasoning_content("hmm"));
    let response = post(&server, &chat_body(false, "회의 일정 메모")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["choices"][0]["message"]["content"], "# 회의\n\n- 일정");
    assert_eq!(body["choices"][0]["message"]["reasoning_content"], "hmm");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.model, "test-model");
    assert!(!request.stream);
    assert_eq!(request.system(), Some("You tidy memos."));
    assert_eq!(request.last_user_message(), Some("회의 일정 메모"));
    assert_eq!(request.bearer_token(), Some("secret-key"));
    assert_eq!(request.max_tokens, Some(100));
    assert_eq!(server.completed(), 1);
    assert_eq!(server.disconnects(), 0);
}

#[tokio::test]
async fn streams_real_sse_split_where_asked() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("answer")
            .think("plan")
            .split_at([3, 11])
            .reasoning("separate"),
    );
    let response = post(&server, &chat_body(true, "memo")).await;
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream",
        "SSE content type"
    );
    let body = response.text().await.expect("body");
    let events = sse_data(&body);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let first: Value = serde_json::from_str(&events[0]).expect("JSON");
    assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(
        streamed_content(&events, "content"),
        "<think>plan</think>\n\nanswer"
    );
    assert_eq!(streamed_content(&events, "reasoning"), "separate");
    let pieces: Vec<String> = events
        .iter()
        .filter(|data| *data != "[DONE]")
        .filter_map(|data| {
            let chunk: Value = serde_json::from_str(data).expect("JSON");
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(pieces, ["<th", "ink>plan", "</think>\n\nanswer"]);
    let finish = events
        .iter()
        .rev()
        .nth(1)
        .map(|d| serde_json::from_str::<Value>(d).expect("JSON"))
        .expect("final chunk");
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn script_then_handler_then_default() {
    let server = TestLlm::builder()
        .default_reply(Reply::text("default"))
        .start()
        .await;
    let answer = |body: Value| {
        body["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_owned)
    };
    let ask = || async {
        answer(
            post(&server, &chat_body(false, "memo text"))
                .await
                .json()
                .await
                .expect("JSON"),
        )
    };

    assert_eq!(ask().await.as_deref(), Some("default"));
    server.set_handler(|request| {
        Reply::text(format!(
            "# Memo\n\n{}",
            request.last_user_message().unwrap_or("")
        ))
    });
    server.push_replies([Reply::text("first"), Reply::text("second")]);
    assert_eq!(ask().await.as_deref(), Some("first"));
    assert_eq!(ask().await.as_deref(), Some("second"));
    assert_eq!(ask().await.as_deref(), Some("# Memo\n\nmemo text"));
}

#[tokio::test]
async fn refuses_missing_models_and_wrong_keys_without_using_the_script() {
    let server = TestLlm::start().await;
    server.set_missing_models(["test-model"]);
    server.push_reply(Reply::text("kept for later"));
    let response = post(&server, &chat_body(false, "memo")).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not found"))
    );

    server.set_missing_models(Vec::<String>::new());
    server.require_api_key("other-key");
    assert_eq!(post(&server, &chat_body(false, "memo")).await.status(), 401);
    server.require_api_key("secret-key");
    let body: Value = post(&server, &chat_body(false, "memo"))
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["choices"][0]["message"]["content"], "kept for later");
}

#[tokio::test]
async fn scripted_http_errors_and_malformed_bodies() {
    let server = TestLlm::start().await;
    server.push_replies([
        Reply::http_error(503, "loading model"),
        Reply::malformed("<html>proxy error</html>"),
    ]);
    let response = post(&server, &chat_body(false, "memo")).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["message"], "loading model");
    let response = post(&server, &chat_body(false, "memo")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.expect("body"),
        "<html>proxy error</html>"
    );
}

#[tokio::test]
async fn a_client_leaving_a_hanging_request_is_recorded_as_a_disconnect() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::hang());
    let request = tokio::spawn({
        let url = format!("{}/chat/completions", server.base_url());
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&chat_body(false, "memo"))
                .send()
                .await
        }
    });
    server
        .wait_for_in_flight(1, WAIT)
        .await
        .expect("generation started");
    request.abort();
    server
        .wait_for_disconnects(1, WAIT)
        .await
        .expect("the server saw the client go");
    server
        .wait_for_in_flight(0, WAIT)
        .await
        .expect("generation ended");
    assert_eq!(server.completed(), 0);
}

#[tokio::test]
async fn a_client_leaving_mid_stream_is_recorded_as_a_disconnect() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("a long answer that streams slowly")
            .chunks(10)
            .chunk_delay(Duration::from_secs(5)),
    );
    let mut response = post(&server, &chat_body(true, "memo")).await;
    let first = response
        .chunk()
        .await
        .expect("stream")
        .expect("a first chunk");
    assert!(first.starts_with(b"data: "));
    drop(response);
    server
        .wait_for_disconnects(1, WAIT)
        .await
        .expect("the server saw the client go");
    assert_eq!(server.in_flight(), 0);
}

#[tokio::test]
async fn capacity_queues_extra_generations() {
    let server = TestLlm::builder().max_concurrent(3).start().await;
    server.set_default_reply(Reply::text("done").generation_time(Duration::from_millis(200)));
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", server.base_url());
    let calls = (0..9).map(|_| {
        let request = client.post(&url).json(&chat_body(false, "memo")).send();
        async move { request.await.expect("sent").status() }
    });
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 200));
    assert_eq!(server.max_in_flight(), 3);
    assert_eq!(server.completed(), 9);
    assert_eq!(server.queued(), 0);
}

#[tokio::test]
async fn stop_refuses_connections_and_restart_serves_the_same_port() {
    let server = TestLlm::start().await;
    let base = server.base_url();
    let client = reqwest::Client::new();
    let models = || client.get(format!("{base}/models")).send();
    assert_eq!(models().await.expect("up").status(), 200);

    server.stop().await;
    assert!(!server.is_listening());
    let refused = models().await.expect_err("down");
    assert!(refused.is_connect(), "connection refused: {refused:?}");

    server.restart().await.expect("listen again");
    assert_eq!(server.base_url(), base);
    let body: Value = models()
        .await
        .expect("up again")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["data"][0]["id"], "test-model");

    server.set_models_failure(Some(503));
    assert_eq!(models().await.expect("answers").status(), 503);
    assert_eq!(server.models_request_count(), 3);
}

#[tokio::test]
async fn cut_after_drops_the_connection_mid_answer() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("one two three four")
            .chunks(4)
            .chunk_delay(Duration::from_millis(20))
            .cut_after(2),
    );
    let response = post(&server, &chat_body(true, "memo")).await;
    assert_eq!(response.status(), 200);
    let outcome = response.text().await;
    assert!(outcome.is_err(), "the body ends in an error: {outcome:?}");
    assert_eq!(server.disconnects(), 0, "the server cut it, not the client");
}

#[tokio::test]
async fn waits_end_with_an_error_at_their_deadline() {
    let server = TestLlm::start().await;
    let err = server
        .wait_for_requests(1, Duration::from_millis(20))
        .await
        .expect_err("no request arrives");
    assert_eq!(err.seen, 0);
}

#[tokio::test]
async fn a_blackhole_never_completes_a_connection() {
    let blackhole = jaryo_testllm::Blackhole::start().await;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let err = client
        .get(format!("{}/models", blackhole.base_url()))
        .send()
        .await
        .expect_err("cannot connect");
    assert!(err.is_connect() && err.is_timeout(), "{err:?}");
}
