//! Bearer-token authentication.
//!
//! One token guards the whole API. It is compared in constant time, and it never appears in
//! `Debug` output or logs.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The API token the server accepts.
#[derive(Clone)]
pub struct ApiToken(Arc<SecretString>);

impl ApiToken {
    pub fn new(token: SecretString) -> Self {
        Self(Arc::new(token))
    }

    /// A key for `purpose` derived from the token (HMAC-SHA256 of the purpose under the
    /// token): stable across restarts and processes sharing the token, changed by a new token.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.0.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether `candidate` is the token, in time independent of where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        let expected = self.0.expose_secret().as_bytes();
        bool::from(expected.ct_eq(candidate.as_bytes()))
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken([redacted])")
    }
}

/// Lets a request through only with `Authorization: Bearer <token>`.
pub async fn require_token(
    State(token): State<ApiToken>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, rest) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    match presented {
        Some(candidate) if token.matches(candidate) => Ok(next.run(request).await),
        _ => Err(ApiError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_token() {
        let token = ApiToken::new(SecretString::from("s3cret-토큰"));
        assert!(token.matches("s3cret-토큰"));
        assert!(!token.matches("s3cret"));
        assert!(!token.matches("s3cret-토큰x"));
        assert!(!token.matches(""));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = ApiToken::new(SecretString::from("hunter2"));
        assert!(!format!("{token:?}").contains("hunter2"));
    }
}
