//! The one error type of the HTTP API and its JSON form.
//!
//! Every error answers `{"error": {"code": "...", "message": "...", ...details}}` with the right
//! status. Codes are stable: clients match on them. Messages are for people and never carry
//! internal detail (SQL, paths, model server errors); that detail is logged instead.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jaryo_domain::InputError;
use jaryo_store::StoreError;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("missing or wrong API token")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Map<String, Value>,
    },
    #[error("the request body is larger than the limit")]
    PayloadTooLarge,
    /// One uploaded file over the size limit; the message names it.
    #[error("{0}")]
    FileTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Invalid {
        field: Option<Cow<'static, str>>,
        message: String,
    },
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// The model server failed; the message is safe to show (it never holds a key).
    #[error("the model server failed: {0}")]
    Upstream(String),
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid {
            field: None,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge | Self::FileTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::FileTooLarge(_) => "file_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Invalid { .. } => "invalid_input",
            Self::Unavailable => "unavailable",
            Self::Upstream(_) => "model_failed",
            Self::Internal => "internal",
        }
    }
}

impl From<InputError> for ApiError {
    fn from(error: InputError) -> Self {
        let field = match &error {
            InputError::Empty { field }
            | InputError::TooLong { field, .. }
            | InputError::NotSingleLine { field }
            | InputError::NulCharacter { field } => *field,
        };
        Self::Invalid {
            field: Some(field.into()),
            message: error.to_string(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { entity, id } => {
                Self::NotFound(format!("{entity} {id} not found"))
            }
            StoreError::AlreadyPromoted {
                memo_id,
                document_id,
            } => {
                let mut details = Map::new();
                details.insert("document_id".into(), json!(document_id.0));
                Self::Conflict {
                    code: "already_promoted",
                    message: format!(
                        "memo {memo_id} was already promoted to document {document_id}"
                    ),
                    details,
                }
            }
            StoreError::VersionConflict { current_version } => {
                let mut details = Map::new();
                details.insert("current_version".into(), json!(current_version));
                Self::Conflict {
                    code: "version_conflict",
                    message: format!(
                        "it changed since you read it (now version {current_version}); \
                         reload and try again"
                    ),
                    details,
                }
            }
            StoreError::ReviewRefused(refusal) => Self::Conflict {
                code: refusal.code(),
                message: refusal.to_string(),
                details: Map::new(),
            },
            StoreError::Constraint(detail) => {
                tracing::warn!(%detail, "the database refused a write");
                Self::Conflict {
                    code: "conflict",
                    message: "the change conflicts with the stored data".into(),
                    details: Map::new(),
                }
            }
            StoreError::Invalid { message } => Self::invalid(message),
            StoreError::Unavailable(source) => {
                tracing::error!(error = %source, "database unavailable");
                Self::Unavailable
            }
            StoreError::Internal(source) => {
                tracing::error!(error = %source, "store error");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code()));
        error.insert("message".into(), json!(self.to_string()));
        match self {
            Self::Conflict { details, .. } => error.extend(details),
            Self::Invalid {
                field: Some(field), ..
            } => {
                error.insert("field".into(), json!(field));
            }
            _ => {}
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
        }
        response
    }
}
