//! `/documents`: the library.

use super::{PageQuery, cursor_of};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::wire::{DocumentJson, DocumentPage, DocumentPatchInput, ErrorJson, NewDocumentInput};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jaryo_domain::{
    ContentOrigin, DocumentId, DocumentText, DocumentTitle, DraftState, MdDraftStatus,
};
use jaryo_store::{DocumentFilter, DocumentPatch, NewDocument};
use serde::Deserialize;
use utoipa::IntoParams;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/documents", get(list_documents).post(create_document))
        .route(
            "/documents/{id}",
            get(get_document)
                .patch(update_document)
                .delete(delete_document),
        )
}

/// Filters of `GET /documents`.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DocumentQuery {
    pub draft_state: Option<DraftState>,
    pub md_draft_status: Option<MdDraftStatus>,
    pub content_origin: Option<ContentOrigin>,
    /// `true`: only drafts awaiting review that the fidelity check flagged.
    pub needs_attention: Option<bool>,
    /// Only documents whose original text carries this `#tag` (with or without the `#`).
    pub tag: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// List documents, newest first, optionally by draft state.
#[utoipa::path(get, path = "/api/v1/documents", tag = "documents",
    params(DocumentQuery),
    responses((status = 200, body = DocumentPage), (status = 400, body = ErrorJson)))]
pub async fn list_documents(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DocumentQuery>,
) -> Result<Json<DocumentPage>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .to_request()?;
    let filter = DocumentFilter {
        draft_state: query.draft_state,
        md_draft_status: query.md_draft_status,
        content_origin: query.content_origin,
        needs_attention: query.needs_attention,
        tag: super::tag_param(query.tag.as_deref())?,
    };
    let page = state.store.list_documents(&filter, page).await?;
    Ok(Json(DocumentPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: cursor_of(page.next_before),
    }))
}

/// Write a document directly (not from a memo).
#[utoipa::path(post, path = "/api/v1/documents", tag = "documents",
    request_body = NewDocumentInput,
    responses((status = 201, body = DocumentJson), (status = 422, body = ErrorJson)))]
pub async fn create_document(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<NewDocumentInput>,
) -> Result<(StatusCode, Json<DocumentJson>), ApiError> {
    let content_origin = input.content_origin.unwrap_or(ContentOrigin::User);
    if !matches!(content_origin, ContentOrigin::User | ContentOrigin::Import) {
        return Err(ApiError::Invalid {
            field: Some("content_origin"),
            message: "content_origin must be user or import; promote a memo or let the \
                      worker draft for the others"
                .into(),
        });
    }
    let new = NewDocument {
        title: input
            .title
            .as_deref()
            .map(DocumentTitle::parse)
            .transpose()?,
        extracted_text: DocumentText::parse("extracted_text", input.extracted_text)?,
        content_origin,
        source_metadata: Default::default(),
    };
    let document = state.store.create_document(&new).await?;
    Ok((StatusCode::CREATED, Json(document.into())))
}

/// One document.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = i64, Path)),
    responses((status = 200, body = DocumentJson), (status = 404, body = ErrorJson)))]
pub async fn get_document(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DocumentJson>, ApiError> {
    Ok(Json(state.store.get_document(DocumentId(id)).await?.into()))
}

/// Change a document's title or original text; bumps `version`.
#[utoipa::path(patch, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = i64, Path)), request_body = DocumentPatchInput,
    responses(
        (status = 200, body = DocumentJson),
        (status = 404, body = ErrorJson),
        (status = 409, description = "Stale `version`", body = ErrorJson),
        (status = 422, body = ErrorJson),
    ))]
pub async fn update_document(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<DocumentPatchInput>,
) -> Result<Json<DocumentJson>, ApiError> {
    let patch = DocumentPatch {
        expected_version: input.version,
        title: input
            .title
            .as_deref()
            .map(DocumentTitle::parse)
            .transpose()?,
        extracted_text: input
            .extracted_text
            .map(|text| DocumentText::parse("extracted_text", text))
            .transpose()?,
    };
    if patch.is_empty() {
        return Err(ApiError::invalid(
            "nothing to change: send title and/or extracted_text",
        ));
    }
    Ok(Json(
        state
            .store
            .update_document(DocumentId(id), &patch)
            .await?
            .into(),
    ))
}

/// Delete a document (soft). Its memo can be promoted again.
#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorJson)))]
pub async fn delete_document(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_document(DocumentId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
