//! `POST /v1/embeddings`: deterministic vectors, so tests of search by meaning can say which
//! vector a text gets without a model.
//!
//! A text's vector depends only on its bytes and the dimensions: the same text always gets the
//! same unit-length vector, and different texts (almost surely) different ones.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Shared;
use crate::server::{bad_request, error_response};

/// The vector the test server gives `text` at `dimensions`: unit length, each component
/// from a hash of the text and the component's position.
pub fn embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let raw: Vec<f64> = (0..dimensions)
        .map(|position| {
            // FNV-1a over the position then the text: cheap, stable across runs and platforms.
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for byte in (position as u64)
                .to_le_bytes()
                .iter()
                .chain(text.as_bytes())
            {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            (hash >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let norm = raw
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    raw.iter().map(|x| (x / norm) as f32).collect()
}

pub(crate) async fn embeddings(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let (dimensions, failure, required_key) = shared.update(|state| {
        state.embedding_requests += 1;
        (
            state.embedding_dimensions,
            state.embeddings_failure,
            state.required_api_key.clone(),
        )
    });
    if let Some(key) = required_key
        && authorization.and_then(|value| value.strip_prefix("Bearer ")) != Some(key.as_str())
    {
        return error_response(
            401,
            json!({"error": {"message": "invalid API key", "type": "invalid_request_error"}}),
        );
    }
    if let Some(status) = failure {
        return error_response(
            status,
            json!({"error": {"message": "the embedding model is not ready", "type": "server_error"}}),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("request body is not JSON");
    };
    let Some(model) = request.get("model").and_then(Value::as_str) else {
        return bad_request("model is required");
    };
    let texts: Vec<&str> = match request.get("input") {
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => match items.iter().map(Value::as_str).collect() {
            Some(texts) => texts,
            None => return bad_request("input must be a string or an array of strings"),
        },
        _ => return bad_request("input must be a string or an array of strings"),
    };
    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            json!({"object": "embedding", "index": index, "embedding": embedding(text, dimensions)})
        })
        .collect();
    let tokens: usize = texts
        .iter()
        .map(|text| text.split_whitespace().count())
        .sum();
    axum::Json(json!({
        "object": "list",
        "model": model,
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response()
}
