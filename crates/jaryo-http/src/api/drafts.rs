//! Draft work on a document: ask for a (new) draft.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::wire::{DocumentJson, ErrorJson};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use jaryo_domain::DocumentId;

pub fn routes() -> Router<AppState> {
    Router::new().route("/documents/{id}/redraft", post(redraft))
}

/// Queue a (new) draft: retry a failed one, or regenerate a finished one. Attempts start
/// again at zero; the worker takes it up at once.
#[utoipa::path(post, path = "/api/v1/documents/{id}/redraft", tag = "documents",
    params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Queued; `draft.state` is `pending`", body = DocumentJson),
        (status = 404, body = ErrorJson),
    ))]
pub async fn redraft(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DocumentJson>, ApiError> {
    Ok(Json(
        state.store.request_redraft(DocumentId(id)).await?.into(),
    ))
}
