//! Draft work on a document: ask for a (new) draft.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::wire::{DocumentJson, ErrorJson, RedraftSelection, RedraftSummary};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use jaryo_domain::DocumentId;
use jaryo_store::{DraftSelection, StoreError};

/// Matches are read this many at a time.
const PAGE: u32 = 500;
/// The most documents one request may queue; more is a sign of a mistaken filter.
const MAX_SELECTED: usize = 100_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents/{id}/redraft", post(redraft))
        .route("/drafts/redraft", post(redraft_selection))
}

/// Queue a (new) draft: retry a failed one, or regenerate a finished one. Attempts start
/// again at zero; the worker takes it up at once. Recorded in
/// `source_metadata.review_history`; regenerating an accepted draft keeps the accepted text
/// there (`replaced_text`), since the new draft replaces `md_content` when it lands.
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
    // Recorded in the review history; an accepted text the new draft will replace is kept
    // there whole.
    Ok(Json(
        state
            .store
            .regenerate_draft(DocumentId(id), jaryo_store::Reviewer::Api)
            .await?
            .into(),
    ))
}

/// Queue new drafts for every document a filter selects: flagged drafts, failed ones, drafts
/// from an older prompt, by model or by time. Accepted drafts are never touched. With
/// `dry_run`, only report what matches. With `document_ids`, queue exactly those documents.
/// Each queued document's review history records the redraft (by `api`).
#[utoipa::path(post, path = "/api/v1/drafts/redraft", tag = "documents",
    request_body = RedraftSelection,
    responses(
        (status = 200, body = RedraftSummary),
        (status = 422, body = ErrorJson),
    ))]
pub async fn redraft_selection(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RedraftSelection>,
) -> Result<Json<RedraftSummary>, ApiError> {
    let matched: Vec<i64> = match &input.document_ids {
        Some(ids) => {
            if ids.len() > MAX_SELECTED {
                return Err(ApiError::invalid(format!(
                    "at most {MAX_SELECTED} document_ids per request"
                )));
            }
            ids.clone()
        }
        None => {
            let selection = DraftSelection {
                flagged: input.flagged,
                failed: input.failed,
                prompt_version_not: if input.outdated_prompt {
                    Some(jaryo_worker::PROMPT_VERSION.to_owned())
                } else {
                    None
                },
                model: input.model.clone(),
                drafted_from: input.drafted_from,
                drafted_before: input.drafted_before,
            };
            let mut ids = Vec::new();
            let mut after = None;
            loop {
                let page = state.store.select_drafts(&selection, after, PAGE).await?;
                let full = page.len() == PAGE as usize;
                after = page.last().copied();
                ids.extend(page.into_iter().map(|id| id.0));
                if ids.len() > MAX_SELECTED {
                    return Err(ApiError::invalid(format!(
                        "the filter selects more than {MAX_SELECTED} documents; narrow it"
                    )));
                }
                if !full {
                    break;
                }
            }
            ids
        }
    };
    let mut queued = Vec::new();
    let mut not_found = Vec::new();
    if !input.dry_run {
        for id in &matched {
            // Each one recorded in its review history, like a redraft of one document.
            match state
                .store
                .regenerate_draft(DocumentId(*id), jaryo_store::Reviewer::Api)
                .await
            {
                Ok(_) => queued.push(*id),
                Err(StoreError::NotFound { .. }) => not_found.push(*id),
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(Json(RedraftSummary {
        matched: matched.len(),
        queued: queued.len(),
        document_ids: matched,
        not_found,
    }))
}
