//! The embeddings client against the test server's `POST /v1/embeddings`: vectors in the
//! texts' order, dimensions learned or checked, errors in the seam's terms, health.

use jaryo_llm::{EmbeddingConfig, OpenAiEmbeddings};
use jaryo_model::{EmbeddingModel, HealthStatus, ModelError};
use jaryo_testllm::{Blackhole, TestLlm};

fn config(base_url: &str) -> EmbeddingConfig {
    EmbeddingConfig {
        base_url: base_url.to_owned(),
        model: "test-embedder".to_owned(),
        connect_timeout_secs: 0.5,
        timeout_secs: 5.0,
        ..EmbeddingConfig::default()
    }
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|&text| text.to_owned()).collect()
}

#[tokio::test]
async fn a_batch_gets_one_vector_per_text_in_order() {
    let server = TestLlm::builder().embedding_dimensions(16).start().await;
    let model = OpenAiEmbeddings::new(config(&server.base_url())).unwrap();
    assert_eq!(
        model.dimensions(),
        None,
        "not known before the first answer"
    );

    let batch = texts(&[
        "회의는 화요일 3시",
        "meeting on Tuesday",
        "회의는 화요일 3시",
    ]);
    let vectors = model.embed(&batch).await.unwrap();

    assert_eq!(vectors.len(), 3);
    assert_eq!(
        vectors[0],
        jaryo_testllm::embedding("회의는 화요일 3시", 16)
    );
    assert_eq!(
        vectors[1],
        jaryo_testllm::embedding("meeting on Tuesday", 16)
    );
    assert_eq!(vectors[0], vectors[2], "the same text gets the same vector");
    assert_ne!(vectors[0], vectors[1]);
    assert_eq!(model.dimensions(), Some(16));
    assert_eq!(
        server.embedding_request_count(),
        1,
        "one batch is one request"
    );
    assert_eq!(model.health().status, HealthStatus::Up);
}

#[tokio::test]
async fn an_empty_batch_asks_nothing() {
    let server = TestLlm::start().await;
    let model = OpenAiEmbeddings::new(config(&server.base_url())).unwrap();
    assert!(model.embed(&[]).await.unwrap().is_empty());
    assert_eq!(server.embedding_request_count(), 0);
}

#[tokio::test]
async fn vectors_of_other_dimensions_than_configured_are_refused() {
    let server = TestLlm::builder().embedding_dimensions(8).start().await;
    let model = OpenAiEmbeddings::new(EmbeddingConfig {
        dimensions: Some(1024),
        ..config(&server.base_url())
    })
    .unwrap();
    let err = model.embed(&texts(&["메모"])).await.unwrap_err();
    assert!(
        matches!(&err, ModelError::MalformedResponse { detail } if detail.contains("1024")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failing_server_is_a_retryable_refusal() {
    let server = TestLlm::start().await;
    server.set_embeddings_failure(Some(503));
    let model = OpenAiEmbeddings::new(config(&server.base_url())).unwrap();
    let err = model.embed(&texts(&["메모"])).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Refused { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_down() {
    let blackhole = Blackhole::start().await;
    let model = OpenAiEmbeddings::new(config(&blackhole.base_url())).unwrap();
    let err = model.embed(&texts(&["메모"])).await.unwrap_err();
    assert!(err.is_server_down(), "{err:?}");
    assert_eq!(model.health().status, HealthStatus::Down);
}

#[tokio::test]
async fn the_api_key_is_sent_and_never_shown() {
    let server = TestLlm::start().await;
    server.require_api_key("sk-embed-secret");
    let without = OpenAiEmbeddings::new(config(&server.base_url())).unwrap();
    let err = without.embed(&texts(&["메모"])).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Refused { status: 401, .. }),
        "{err:?}"
    );

    let with = OpenAiEmbeddings::new(EmbeddingConfig {
        api_key: Some("sk-embed-secret".to_owned().into()),
        ..config(&server.base_url())
    })
    .unwrap();
    assert_eq!(with.embed(&texts(&["메모"])).await.unwrap().len(), 1);
    assert!(!format!("{with:?}").contains("secret"));
}
