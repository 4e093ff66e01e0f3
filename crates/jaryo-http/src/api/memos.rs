//! `/memos`: capture, list, edit, delete, promote.

use super::{PageQuery, cursor_of};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::wire::{DocumentJson, ErrorJson, MemoInput, MemoJson, MemoPage, MemoPatchInput};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jaryo_domain::{MemoId, MemoText};
use jaryo_store::MemoFilter;
use serde::Deserialize;
use utoipa::IntoParams;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/memos", get(list_memos).post(create_memo))
        .route(
            "/memos/{id}",
            get(get_memo).patch(update_memo).delete(delete_memo),
        )
        .route("/memos/{id}/promote-to-document", post(promote_memo))
}

/// Capture a memo.
#[utoipa::path(post, path = "/api/v1/memos", tag = "memos",
    request_body = MemoInput,
    responses(
        (status = 201, description = "Saved", body = MemoJson),
        (status = 400, description = "Malformed JSON", body = ErrorJson),
        (status = 413, description = "Body over the size limit", body = ErrorJson),
        (status = 422, description = "Empty or oversized content", body = ErrorJson),
    ))]
pub async fn create_memo(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<MemoInput>,
) -> Result<(StatusCode, Json<MemoJson>), ApiError> {
    let text = MemoText::parse(input.content)?;
    let memo = state.store.create_memo(&text).await?;
    Ok((StatusCode::CREATED, Json(memo.into())))
}

/// Filters of `GET /memos`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemoQuery {
    /// Only memos carrying this `#tag` (with or without the `#`).
    pub tag: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([+-]?[0-9]{1,18})?$")]
    pub cursor: Option<String>,
}

/// List memos, newest first, optionally those carrying a tag.
#[utoipa::path(get, path = "/api/v1/memos", tag = "memos",
    params(MemoQuery),
    responses((status = 200, body = MemoPage), (status = 400, body = ErrorJson)))]
pub async fn list_memos(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<MemoQuery>,
) -> Result<Json<MemoPage>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .to_request()?;
    let Some(tag) = super::tag_param(query.tag.as_deref()) else {
        return Ok(Json(MemoPage {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    let filter = MemoFilter { tag };
    let page = state.store.list_memos(&filter, page).await?;
    Ok(Json(MemoPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: cursor_of(page.next_before),
    }))
}

/// One memo.
#[utoipa::path(get, path = "/api/v1/memos/{id}", tag = "memos",
    params(("id" = i64, Path)),
    responses((status = 200, body = MemoJson), (status = 404, body = ErrorJson)))]
pub async fn get_memo(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MemoJson>, ApiError> {
    Ok(Json(state.store.get_memo(MemoId(id)).await?.into()))
}

/// Replace a memo's text; bumps `version`.
#[utoipa::path(patch, path = "/api/v1/memos/{id}", tag = "memos",
    params(("id" = i64, Path)), request_body = MemoPatchInput,
    responses((status = 200, body = MemoJson), (status = 404, body = ErrorJson),
        (status = 409, description = "Stale `version` (`version_conflict`, with \
                                      `current_version`)", body = ErrorJson),
        (status = 422, body = ErrorJson)))]
pub async fn update_memo(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MemoPatchInput>,
) -> Result<Json<MemoJson>, ApiError> {
    let text = MemoText::parse(input.content)?;
    Ok(Json(
        state
            .store
            .update_memo(MemoId(id), &text, input.version)
            .await?
            .into(),
    ))
}

/// Delete a memo (soft: it leaves every list and answers 404).
#[utoipa::path(delete, path = "/api/v1/memos/{id}", tag = "memos",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorJson)))]
pub async fn delete_memo(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_memo(MemoId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a memo to the library: a document is made from it and a draft requested.
#[utoipa::path(post, path = "/api/v1/memos/{id}/promote-to-document", tag = "memos",
    params(("id" = i64, Path)),
    responses(
        (status = 201, description = "The new document", body = DocumentJson),
        (status = 404, body = ErrorJson),
        (status = 409, description = "Already promoted; `document_id` names the document",
            body = ErrorJson),
    ))]
pub async fn promote_memo(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<DocumentJson>), ApiError> {
    let document = state.store.promote_memo(MemoId(id)).await?;
    Ok((StatusCode::CREATED, Json(document.into())))
}
