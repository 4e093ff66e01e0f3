//! `/documents/{id}/draft/…`: the person's review of a model draft. Regenerating is the
//! redraft route (`api::drafts`).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiPath, OptionalApiJson};
use crate::wire::{AcceptDraftInput, DocumentJson, ErrorJson, RejectDraftInput};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use jaryo_domain::DocumentId;
use jaryo_store::review::parse_edited_text;
use jaryo_store::{AcceptDraft, RejectDraft, Reviewer};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents/{id}/draft/accept", post(accept_draft))
        .route("/documents/{id}/draft/reject", post(reject_draft))
}

/// Accept the draft (`md_draft_status` → `accepted`), optionally with an edited `md_content`
/// that becomes the accepted text. Recorded in `source_metadata.review_history`.
#[utoipa::path(post, path = "/api/v1/documents/{id}/draft/accept", tag = "review",
    params(("id" = i64, Path)),
    request_body(content = Option<AcceptDraftInput>,
        description = "Optional: an edited text and the version you read"),
    responses(
        (status = 200, body = DocumentJson),
        (status = 404, body = ErrorJson),
        (status = 409, description = "`no_draft`, `draft_in_progress`, `already_accepted` \
                                      or a stale `version` (`version_conflict`)",
            body = ErrorJson),
        (status = 422, description = "An empty or oversized `md_content`", body = ErrorJson),
    ))]
pub async fn accept_draft(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    OptionalApiJson(input): OptionalApiJson<AcceptDraftInput>,
) -> Result<Json<DocumentJson>, ApiError> {
    let input = input.unwrap_or_default();
    let accept = AcceptDraft {
        by: Reviewer::Api,
        expected_version: input.version,
        md_content: input.md_content.map(parse_edited_text).transpose()?,
    };
    Ok(Json(
        state
            .store
            .accept_draft(DocumentId(id), &accept)
            .await?
            .into(),
    ))
}

/// Reject the draft (`md_draft_status` → `rejected`). The draft stays in `md_content`, shown
/// as rejected; the original text is untouched. Recorded in `source_metadata.review_history`.
#[utoipa::path(post, path = "/api/v1/documents/{id}/draft/reject", tag = "review",
    params(("id" = i64, Path)),
    request_body(content = Option<RejectDraftInput>, description = "Optional: the version you read"),
    responses(
        (status = 200, body = DocumentJson),
        (status = 404, body = ErrorJson),
        (status = 409, description = "`no_draft`, `draft_in_progress`, `already_rejected` \
                                      or a stale `version` (`version_conflict`)",
            body = ErrorJson),
    ))]
pub async fn reject_draft(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    OptionalApiJson(input): OptionalApiJson<RejectDraftInput>,
) -> Result<Json<DocumentJson>, ApiError> {
    let input = input.unwrap_or_default();
    let reject = RejectDraft {
        by: Reviewer::Api,
        expected_version: input.version,
    };
    Ok(Json(
        state
            .store
            .reject_draft(DocumentId(id), &reject)
            .await?
            .into(),
    ))
}
