//! `/documents`: the library.

use super::{PageQuery, cursor_of};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::wire::{
    DocumentJson, DocumentPage, DocumentPatchInput, ErrorJson, NewDocumentInput, WaitingContext,
};
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
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    pub draft_state: Option<DraftState>,
    pub md_draft_status: Option<MdDraftStatus>,
    pub content_origin: Option<ContentOrigin>,
    /// `true`: only drafts awaiting review that the fidelity check flagged.
    pub needs_attention: Option<bool>,
    /// Only documents whose original text carries this `#tag` (with or without the `#`).
    pub tag: Option<String>,
    /// `true`: only drafts that failed and will be tried again (`draft.last_error` says why).
    pub retrying: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([+-]?[0-9]{1,18})?$")]
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
    let Some(tag) = super::tag_param(query.tag.as_deref()) else {
        return Ok(Json(DocumentPage {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    let filter = DocumentFilter {
        draft_state: query.draft_state,
        md_draft_status: query.md_draft_status,
        content_origin: query.content_origin,
        needs_attention: query.needs_attention,
        tag,
        retrying: query.retrying,
    };
    let page = state.store.list_documents(&filter, page).await?;
    let mut items: Vec<DocumentJson> = page.items.into_iter().map(Into::into).collect();
    say_why_drafts_wait(&state, &mut items).await?;
    super::files::attach_files(state.store.as_ref(), &mut items).await?;
    Ok(Json(DocumentPage {
        items,
        next_cursor: cursor_of(page.next_before),
    }))
}

/// Fills `draft.waiting` of the waiting documents among `documents`.
pub(crate) async fn say_why_drafts_wait(
    state: &AppState,
    documents: &mut [DocumentJson],
) -> Result<(), ApiError> {
    if !documents
        .iter()
        .any(|document| document.draft.state == DraftState::Pending)
    {
        return Ok(());
    }
    let context = WaitingContext {
        now: chrono::Utc::now(),
        model_down: state.llm.health().status == jaryo_model::HealthStatus::Down,
        paused: state.draft_metrics.snapshot().paused,
        ready: state.store.draft_queue_stats().await?.ready,
    };
    for document in documents {
        document.draft.waiting = context.reason(&document.draft);
    }
    Ok(())
}

/// Write a document directly (not from a memo). An import (`content_origin: import`) keeps
/// its own `created_at` and `updated_at` (an `updated_at` before `created_at` is read as
/// `created_at`); `tags` are kept beside the `#tags` of the text.
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
            field: Some("content_origin".into()),
            message: "content_origin must be user or import; promote a memo or let the \
                      worker draft for the others"
                .into(),
        });
    }
    for (field, given) in [
        ("created_at", input.created_at.is_some()),
        ("updated_at", input.updated_at.is_some()),
    ] {
        if given && content_origin != ContentOrigin::Import {
            return Err(ApiError::Invalid {
                field: Some(field.into()),
                message: format!(
                    "{field} keeps an imported note's own date: send it with \
                     content_origin import"
                ),
            });
        }
    }
    // A note changed before it was written (another tool's clock, or its export) is taken as
    // changed when it was written: its times are kept, never refused.
    let updated_at = match (input.created_at, input.updated_at) {
        (Some(created), Some(updated)) => Some(updated.max(created)),
        (_, updated) => updated,
    };
    let tags = input
        .tags
        .iter()
        .map(|tag| {
            jaryo_domain::parse_one_tag(tag).ok_or_else(|| ApiError::Invalid {
                field: Some("tags".into()),
                message: format!("{tag:?} is not a tag: letters, digits, _, - or /"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewDocument {
        title: input
            .title
            .as_deref()
            .map(DocumentTitle::parse)
            .transpose()?,
        extracted_text: DocumentText::parse("extracted_text", input.extracted_text)?,
        content_origin,
        source_metadata: Default::default(),
        created_at: input.created_at,
        updated_at,
        tags: jaryo_domain::merge_tags(&tags, Vec::new()),
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
    let mut document: DocumentJson = state.store.get_document(DocumentId(id)).await?.into();
    say_why_drafts_wait(&state, std::slice::from_mut(&mut document)).await?;
    super::files::attach_files(state.store.as_ref(), std::slice::from_mut(&mut document)).await?;
    Ok(Json(document))
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
