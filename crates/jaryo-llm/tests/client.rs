//! The client against the OpenAI-compatible test server: answers, thinking, timeouts, fallback,
//! errors, cancellation and health. Timeouts are configured short (fractions of a second), and
//! every wait for the server is on an event with a deadline.

use std::time::Duration;

use futures::StreamExt;
use jaryo_llm::{LlmClient, LlmConfig};
use jaryo_model::{ChatRequest, HealthStatus, ModelError, ProbeBackoff, StreamDelta, TimeoutKind};
use jaryo_testllm::{Blackhole, Reply, TestLlm};
use secrecy::SecretString;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

fn config(base_url: &str) -> LlmConfig {
    LlmConfig {
        base_url: base_url.to_owned(),
        model: "test-model".to_owned(),
        connect_timeout_secs: 2.0,
        first_token_timeout_secs: 2.0,
        idle_timeout_secs: 2.0,
        total_timeout_secs: 10.0,
        ..LlmConfig::default()
    }
}

fn client(config: LlmConfig) -> LlmClient {
    LlmClient::new(config).expect("valid config")
}

fn memo() -> ChatRequest {
    ChatRequest::new("You tidy memos into Markdown.").user("회의 3시, 자료 준비")
}

async fn complete_both_ways(server: &TestLlm, reply: Reply) -> [Result<String, ModelError>; 2] {
    let mut outcomes = Vec::new();
    for stream in [true, false] {
        server.push_reply(reply.clone());
        let client = client(LlmConfig {
            stream,
            ..config(&server.base_url())
        });
        outcomes.push(client.complete(memo()).await.map(|c| c.text));
    }
    outcomes.try_into().expect("two outcomes")
}

#[tokio::test]
async fn sends_the_prompt_and_returns_the_answer() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::text("# 회의\n\n- 3시\n- 자료 준비\n").chunks(5));
    let client = client(LlmConfig {
        temperature: Some(0.3),
        max_tokens: Some(500),
        api_key: Some(SecretString::from("local-key")),
        ..config(&server.base_url())
    });
    let completion = client
        .complete(memo().max_tokens(200))
        .await
        .expect("an answer");
    assert_eq!(completion.text, "# 회의\n\n- 3시\n- 자료 준비");
    assert_eq!(completion.model, "test-model");
    assert!(!completion.fallback_used);
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
    assert!(completion.time_to_first_token.is_some());
    assert!(
        completion
            .usage
            .is_some_and(|u| u.completion_tokens.is_some())
    );

    let request = &server.requests()[0];
    assert!(request.stream);
    assert_eq!(request.model, "test-model");
    assert_eq!(request.system(), Some("You tidy memos into Markdown."));
    assert_eq!(request.last_user_message(), Some("회의 3시, 자료 준비"));
    assert_eq!(request.max_tokens, Some(200), "per-call value wins");
    assert!(request.temperature.is_some_and(|t| (t - 0.3).abs() < 1e-6));
    assert_eq!(request.bearer_token(), Some("local-key"));
}

#[tokio::test]
async fn every_thinking_shape_is_removed_streamed_or_not() {
    let server = TestLlm::start().await;
    let answer = "# 제목\n\n본문";
    let shapes = [
        (
            "leading block",
            Reply::text(answer).think("plan the headings"),
        ),
        (
            "block split inside its tags",
            Reply::text(answer)
                .think("plan")
                .split_at([2, 5, 9, 13, 16]),
        ),
        (
            "several blocks",
            Reply::text("<think>a</think># 제목\n\n<think>b</think>본문<think>c</think>"),
        ),
        (
            "opening tag missing",
            Reply::text(format!(
                "the memo is rough, add a title</think>\n\n{answer}"
            ))
            .chunks(7),
        ),
        (
            "reasoning_content field",
            Reply::text(answer).reasoning_content("separate thinking"),
        ),
        (
            "reasoning field",
            Reply::text(answer).reasoning("separate thinking"),
        ),
    ];
    for (shape, reply) in shapes {
        for outcome in complete_both_ways(&server, reply).await {
            assert_eq!(outcome.as_deref(), Ok(answer), "{shape}");
        }
    }
    // Every split point of a block, one character at a time.
    let text = "<think>x</think>answer";
    for cut in 1..text.len() {
        server.push_reply(Reply::text(text).split_at([cut]));
        let completion = client(config(&server.base_url()))
            .complete(memo())
            .await
            .expect("an answer");
        assert_eq!(completion.text, "answer", "split at {cut}");
    }
}

#[tokio::test]
async fn an_answer_that_is_only_thinking_is_empty() {
    let server = TestLlm::start().await;
    for outcome in complete_both_ways(&server, Reply::empty().think("nothing to say")).await {
        let err = outcome.expect_err("empty");
        assert!(matches!(err, ModelError::EmptyAnswer { .. }), "{err:?}");
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn streams_think_stripped_deltas() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("<think>plan</think>\n\nHello, world")
            .split_at([4, 12, 20, 25])
            .chunk_delay(Duration::from_millis(5)),
    );
    let client = client(config(&server.base_url()));
    let mut stream = client.stream(memo()).await.expect("stream opened");
    let mut pieces = Vec::new();
    while let Some(delta) = stream.next_delta().await {
        match delta.expect("delta") {
            StreamDelta::Text(text) => pieces.push(text),
            StreamDelta::Retract => panic!("nothing to retract"),
        }
    }
    assert!(pieces.len() > 1, "arrives in pieces: {pieces:?}");
    assert_eq!(pieces.concat(), "Hello, world");
    assert_eq!(stream.finish_reason(), Some("stop"));
}

#[tokio::test]
async fn a_stream_retracts_thinking_whose_opening_tag_was_missing() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("I should add a title</think>\n\n# Title")
            .split_at([5, 25])
            .chunk_delay(Duration::from_millis(5)),
    );
    let client = client(config(&server.base_url()));
    let deltas: Vec<StreamDelta> = client
        .stream(memo())
        .await
        .expect("stream opened")
        .into_stream()
        .map(|delta| delta.expect("delta"))
        .collect()
        .await;
    // Whatever was shown before the closing tag is retracted; what follows is the answer.
    let mut shown = String::new();
    for delta in &deltas {
        match delta {
            StreamDelta::Text(text) => shown.push_str(text),
            StreamDelta::Retract => shown.clear(),
        }
    }
    assert_eq!(shown, "# Title");
    assert!(deltas.contains(&StreamDelta::Retract), "{deltas:?}");
}

#[tokio::test]
async fn first_token_timeout() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::text("late").first_token_delay(Duration::from_secs(5)));
    let client = client(LlmConfig {
        first_token_timeout_secs: 0.2,
        ..config(&server.base_url())
    });
    let err = client
        .complete(memo())
        .await
        .expect_err("too slow to start");
    assert_eq!(
        err,
        ModelError::Timeout {
            kind: TimeoutKind::FirstToken,
            after: Duration::from_millis(200)
        }
    );
    assert!(err.is_retryable());
    server
        .wait_for_disconnects(1, WAIT)
        .await
        .expect("the abandoned generation was disconnected");
}

#[tokio::test]
async fn a_server_that_sends_nothing_hits_the_first_token_timeout() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::hang());
    let client = client(LlmConfig {
        first_token_timeout_secs: 0.2,
        ..config(&server.base_url())
    });
    let err = client.complete(memo()).await.expect_err("never answers");
    assert!(
        matches!(
            err,
            ModelError::Timeout {
                kind: TimeoutKind::FirstToken,
                ..
            }
        ),
        "{err:?}"
    );
    server
        .wait_for_disconnects(1, WAIT)
        .await
        .expect("disconnected");
}

#[tokio::test]
async fn idle_timeout() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("one two three")
            .chunks(3)
            .chunk_delay(Duration::from_secs(5)),
    );
    let client = client(LlmConfig {
        idle_timeout_secs: 0.2,
        ..config(&server.base_url())
    });
    let err = client.complete(memo()).await.expect_err("stalls");
    assert!(
        matches!(
            err,
            ModelError::Timeout {
                kind: TimeoutKind::Idle,
                ..
            }
        ),
        "{err:?}"
    );
    server
        .wait_for_disconnects(1, WAIT)
        .await
        .expect("disconnected");
}

#[tokio::test]
async fn total_timeout_caps_a_progressing_answer() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("a long answer that keeps coming")
            .chunks(30)
            .chunk_delay(Duration::from_millis(50)),
    );
    let client = client(LlmConfig {
        idle_timeout_secs: 1.0,
        total_timeout_secs: 0.4,
        ..config(&server.base_url())
    });
    let err = client.complete(memo()).await.expect_err("too long overall");
    assert_eq!(
        err,
        ModelError::Timeout {
            kind: TimeoutKind::Total,
            after: Duration::from_millis(400)
        }
    );
}

#[tokio::test]
async fn a_slow_but_progressing_answer_is_not_cut() {
    let server = TestLlm::start().await;
    // 1.5 s in all, far beyond the first-token and idle timeouts, but never silent for long.
    server.push_reply(
        Reply::text("천천히 하지만 꾸준히 나오는 답변")
            .chunks(15)
            .first_token_delay(Duration::from_millis(150))
            .chunk_delay(Duration::from_millis(100)),
    );
    let client = client(LlmConfig {
        first_token_timeout_secs: 0.5,
        idle_timeout_secs: 0.5,
        ..config(&server.base_url())
    });
    let completion = client.complete(memo()).await.expect("finishes");
    assert_eq!(completion.text, "천천히 하지만 꾸준히 나오는 답변");
    assert!(completion.elapsed >= Duration::from_millis(1400));
}

#[tokio::test]
async fn thinking_tokens_count_as_progress() {
    let server = TestLlm::start().await;
    // A role-only chunk comes at once; thinking arrives before the first-token deadline, the
    // answer only after it: the model was working, so that is not a first-token timeout.
    server.push_reply(
        Reply::text("answer")
            .reasoning_content("thinking hard")
            .first_token_delay(Duration::from_millis(100))
            .chunk_delay(Duration::from_millis(800)),
    );
    let client = client(LlmConfig {
        first_token_timeout_secs: 0.5,
        idle_timeout_secs: 2.0,
        ..config(&server.base_url())
    });
    assert_eq!(
        client.complete(memo()).await.expect("answer").text,
        "answer"
    );
}

#[tokio::test]
async fn connect_timeout() {
    let blackhole = Blackhole::start().await;
    let client = client(LlmConfig {
        connect_timeout_secs: 0.2,
        ..config(&blackhole.base_url())
    });
    let err = client.complete(memo()).await.expect_err("cannot connect");
    assert_eq!(
        err,
        ModelError::Timeout {
            kind: TimeoutKind::Connect,
            after: Duration::from_millis(200)
        }
    );
    assert!(err.is_retryable());
    assert!(err.is_server_down());
}

#[tokio::test]
async fn falls_back_when_the_primary_model_is_missing() {
    let server = TestLlm::start().await;
    server.set_missing_models(["test-model"]);
    server.push_reply(Reply::text("from the fallback"));
    let client = client(LlmConfig {
        fallback_model: Some("small-model".to_owned()),
        ..config(&server.base_url())
    });
    let completion = client.complete(memo()).await.expect("fallback answers");
    assert_eq!(completion.text, "from the fallback");
    assert_eq!(completion.model, "small-model");
    assert!(completion.fallback_used);
    let models: Vec<String> = server.requests().into_iter().map(|r| r.model).collect();
    assert_eq!(models, ["test-model", "small-model"]);
}

#[tokio::test]
async fn falls_back_on_every_common_model_missing_shape() {
    let server = TestLlm::start().await;
    let shapes = [
        Reply::model_not_found("test-model"),
        Reply::error_body(
            404,
            json!({"object": "error", "message": "The model `test-model` does not exist.", "type": "NotFoundError", "code": 404}),
        ),
        Reply::error_body(404, json!({"error": "model 'test-model' not found"})),
        Reply::error_body(
            400,
            json!({"error": {"message": "model not found", "type": "invalid_request_error", "code": "model_not_found"}}),
        ),
    ];
    let client = client(LlmConfig {
        fallback_model: Some("small-model".to_owned()),
        ..config(&server.base_url())
    });
    for shape in shapes {
        server.push_replies([shape.clone(), Reply::text("fallback")]);
        let completion = client.complete(memo()).await.expect("fallback answers");
        assert!(completion.fallback_used, "{shape:?}");
    }
    // Streaming falls back the same way.
    server.push_replies([
        Reply::model_not_found("test-model"),
        Reply::text("fallback"),
    ]);
    let stream = client.stream(memo()).await.expect("stream opened");
    assert_eq!(stream.model(), "small-model");
}

#[tokio::test]
async fn falls_back_to_another_server_when_the_primary_is_unreachable() {
    let down = TestLlm::start().await;
    down.stop().await;
    let fallback_server = TestLlm::start().await;
    fallback_server.push_reply(Reply::text("hosted answer"));
    let client = client(LlmConfig {
        fallback_model: Some("hosted-model".to_owned()),
        fallback_base_url: Some(fallback_server.base_url()),
        fallback_api_key: Some(SecretString::from("hosted-key")),
        ..config(&down.base_url())
    });
    let completion = client.complete(memo()).await.expect("fallback answers");
    assert_eq!(completion.model, "hosted-model");
    assert_eq!(
        fallback_server.requests()[0].bearer_token(),
        Some("hosted-key")
    );
}

#[tokio::test]
async fn a_missing_model_without_fallback_is_final() {
    let server = TestLlm::start().await;
    server.set_missing_models(["test-model"]);
    let err = client(config(&server.base_url()))
        .complete(memo())
        .await
        .expect_err("no model");
    assert!(
        matches!(&err, ModelError::ModelNotFound { model, .. } if model == "test-model"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn the_fallback_is_not_used_for_a_server_error() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::http_error(500, "out of memory"));
    let client = client(LlmConfig {
        fallback_model: Some("small-model".to_owned()),
        ..config(&server.base_url())
    });
    let err = client.complete(memo()).await.expect_err("server error");
    assert!(
        matches!(err, ModelError::Refused { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn retryable_and_final_errors() {
    let server = TestLlm::start().await;
    let llm = client(config(&server.base_url()));
    let cases = [
        (Reply::http_error(503, "loading model"), true),
        (Reply::http_error(429, "too many requests"), true),
        (Reply::http_error(502, "bad gateway"), true),
        (Reply::http_error(400, "context length exceeded"), false),
        (Reply::http_error(401, "invalid api key"), false),
        (Reply::malformed("<html>not an API</html>\n\n"), false),
        (Reply::malformed("data: {not json\n\n"), false),
        (
            Reply::text("one two three four")
                .chunks(4)
                .chunk_delay(Duration::from_millis(20))
                .cut_after(2),
            true,
        ),
    ];
    for (reply, retryable) in cases {
        server.push_reply(reply.clone());
        let err = llm.complete(memo()).await.expect_err("fails");
        assert_eq!(err.is_retryable(), retryable, "{reply:?} gave {err:?}");
    }
    server.push_reply(Reply::http_error(503, "loading model"));
    let err = llm.complete(memo()).await.expect_err("fails");
    assert_eq!(
        err.to_string(),
        "the model server answered HTTP 503: loading model"
    );

    let down = TestLlm::start().await;
    down.stop().await;
    let err = client(config(&down.base_url()))
        .complete(memo())
        .await
        .expect_err("unreachable");
    assert!(matches!(err, ModelError::Unreachable { .. }), "{err:?}");
    assert!(err.is_retryable() && err.is_server_down());
}

#[tokio::test]
async fn a_non_streamed_malformed_answer_is_reported() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::malformed(r#"{"unexpected": true}"#));
    let client = client(LlmConfig {
        stream: false,
        ..config(&server.base_url())
    });
    let err = client.complete(memo()).await.expect_err("malformed");
    assert!(
        matches!(err, ModelError::MalformedResponse { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn dropping_a_call_disconnects_from_the_server() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("a draft that takes a while")
            .chunks(10)
            .chunk_delay(Duration::from_secs(1)),
    );
    let client = client(config(&server.base_url()));
    let call = tokio::spawn(async move { client.complete(memo()).await });
    server
        .wait_for_in_flight(1, WAIT)
        .await
        .expect("generating");
    call.abort();
    server
        .wait_for_disconnects(1, WAIT)
        .await
        .expect("the server saw the client leave");
    assert_eq!(server.completed(), 0);
}

#[tokio::test]
async fn dropping_a_stream_disconnects_from_the_server() {
    let server = TestLlm::start().await;
    server.push_reply(
        Reply::text("streamed slowly")
            .chunks(5)
            .chunk_delay(Duration::from_secs(1)),
    );
    let client = client(config(&server.base_url()));
    let mut stream = client.stream(memo()).await.expect("opened");
    let first = stream.next_delta().await.expect("a delta").expect("ok");
    assert!(matches!(first, StreamDelta::Text(_)));
    drop(stream);
    server
        .wait_for_disconnects(1, WAIT)
        .await
        .expect("the server saw the client leave");
}

#[tokio::test]
async fn health_follows_the_server_up_and_down() {
    let server = TestLlm::builder()
        .models(["test-model", "other"])
        .start()
        .await;
    let client = client(config(&server.base_url()));
    assert_eq!(client.health().status, HealthStatus::Unknown);

    let health = client.probe_health().await;
    assert!(health.up);
    assert_eq!(health.models, ["test-model", "other"]);
    assert_eq!(health.model_listed, Some(true));
    let up = client.health();
    assert_eq!(up.status, HealthStatus::Up);
    assert!(up.since.is_some() && up.last_error.is_none());

    server.stop().await;
    let health = client.probe_health().await;
    assert!(!health.up);
    let down = client.health();
    assert_eq!(down.status, HealthStatus::Down);
    assert!(down.since >= up.since);
    let message = down.last_error.expect("a reason");
    assert!(message.contains("unreachable"), "{message}");

    server.restart().await.expect("back on the same port");
    server.set_models_failure(Some(503));
    assert!(!client.probe_health().await.up, "/models failing is down");
    server.set_models_failure(None);
    assert!(client.probe_health().await.up);
}

#[tokio::test]
async fn calls_update_health_too() {
    let server = TestLlm::start().await;
    let client = client(config(&server.base_url()));
    client.complete(memo()).await.expect("answer");
    assert_eq!(client.health().status, HealthStatus::Up);
    server.stop().await;
    client.complete(memo()).await.expect_err("down");
    assert_eq!(client.health().status, HealthStatus::Down);
}

#[tokio::test]
async fn wait_until_healthy_returns_once_the_server_is_back() {
    let server = TestLlm::start().await;
    server.stop().await;
    let client = client(config(&server.base_url()));
    let waiter = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .wait_until_healthy(ProbeBackoff {
                    initial: Duration::from_millis(20),
                    max: Duration::from_millis(100),
                })
                .await
        }
    });
    // It keeps probing (and failing) while the server is down.
    while client.health().status != HealthStatus::Down {
        tokio::task::yield_now().await;
    }
    assert!(!waiter.is_finished());
    server.restart().await.expect("back");
    let health = tokio::time::timeout(WAIT, waiter)
        .await
        .expect("noticed within the deadline")
        .expect("waiter task");
    assert!(health.up);
    assert!(server.models_request_count() >= 1);
}

#[tokio::test]
async fn the_api_key_never_shows_in_errors_debug_or_serialised_config() {
    let key = "sk-very-secret-123";
    let server = TestLlm::start().await;
    server.push_reply(Reply::http_error(
        401,
        format!("Incorrect API key provided: {key}"),
    ));
    let config = LlmConfig {
        api_key: Some(SecretString::from(key)),
        ..config(&server.base_url())
    };
    assert!(!format!("{config:?}").contains(key));
    let serialised = serde_json::to_string(&config).expect("serialisable");
    assert!(!serialised.contains(key));
    assert!(serialised.contains("[REDACTED]"));

    let err = client(config).complete(memo()).await.expect_err("refused");
    assert!(matches!(err, ModelError::Refused { status: 401, .. }));
    assert!(!err.to_string().contains(key), "{err}");
    assert!(!format!("{err:?}").contains(key));
    assert_eq!(
        server.requests()[0].bearer_token(),
        Some(key),
        "but it was sent"
    );
}

#[test]
fn invalid_configuration_is_refused() {
    let invalid =
        |config: LlmConfig| matches!(LlmClient::new(config), Err(ModelError::InvalidConfig(_)));
    assert!(invalid(config("not a url")));
    assert!(invalid(config("ftp://127.0.0.1/v1")));
    assert!(invalid(LlmConfig {
        idle_timeout_secs: 0.0,
        ..config("http://127.0.0.1:1/v1")
    }));
    assert!(invalid(LlmConfig {
        total_timeout_secs: f64::NAN,
        ..config("http://127.0.0.1:1/v1")
    }));
    assert!(invalid(LlmConfig {
        model: " ".to_owned(),
        ..config("http://127.0.0.1:1/v1")
    }));
}

#[test]
fn config_defaults_fill_missing_fields() {
    let config: LlmConfig =
        serde_json::from_value(json!({"model": "gemma3:4b", "api_key": "k"})).expect("parses");
    assert_eq!(config.base_url, "http://127.0.0.1:11434/v1");
    assert_eq!(config.model, "gemma3:4b");
    assert!(config.stream);
    assert!(config.api_key.is_some());
    assert_eq!(config.first_token_timeout_secs, 300.0);
}

#[tokio::test]
async fn finished_answers_are_not_counted_as_disconnects() {
    let server = TestLlm::start().await;
    server.set_default_reply(
        Reply::text("a short answer")
            .chunks(3)
            .generation_time(Duration::from_millis(30)),
    );
    let client = client(config(&server.base_url()));
    let calls = (0..20).map(|_| client.complete(memo()));
    for outcome in futures::future::join_all(calls).await {
        outcome.expect("an answer");
    }
    for _ in 0..20 {
        client.complete(memo()).await.expect("an answer");
    }
    assert_eq!(server.completed(), 40);
    assert_eq!(server.disconnects(), 0);
}

#[tokio::test]
async fn a_server_that_ignores_stream_is_read_whole() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::text("<think>x</think>whole answer").unstreamed());
    let completion = client(config(&server.base_url()))
        .complete(memo())
        .await
        .expect("an answer");
    assert_eq!(completion.text, "whole answer");
    assert!(server.requests()[0].stream, "it asked for a stream");
}

#[tokio::test]
async fn retry_after_is_reported() {
    let server = TestLlm::start().await;
    server.push_reply(Reply::http_error(429, "slow down").retry_after(Duration::from_secs(7)));
    let err = client(config(&server.base_url()))
        .complete(memo())
        .await
        .expect_err("rate limited");
    assert!(
        matches!(err, ModelError::Refused { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    assert!(err.is_retryable());
}
