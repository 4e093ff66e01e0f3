//! `/tags`: the tags in use with their counts, and renaming one.
//!
//! Tags are the `#words` of the text, so renaming rewrites them where a person wrote them
//! (the memos); see `jaryo_store::tags` for why documents keep their original words.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::wire::{ErrorJson, TagJson, TagListJson, TagRenameInput, TagRenamedJson};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tags", get(list_tags))
        .route("/tags/rename", post(rename_tag))
}

/// Every tag of a live memo or document, most used first, with its counts.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags",
    responses((status = 200, body = TagListJson)))]
pub async fn list_tags(State(state): State<AppState>) -> Result<Json<TagListJson>, ApiError> {
    let mut tags = state.store.list_tags().await?;
    jaryo_store::tags::sort_tag_counts(&mut tags);
    Ok(Json(TagListJson {
        tags: tags
            .into_iter()
            .map(|tag| TagJson {
                tag: tag.tag,
                memos: tag.memos,
                documents: tag.documents,
            })
            .collect(),
    }))
}

/// Rename a tag: `#from` becomes `#to` in every memo's text, each memo an ordinary edit.
/// Documents keep their original text, and so their tags.
#[utoipa::path(post, path = "/api/v1/tags/rename", tag = "tags",
    request_body = TagRenameInput,
    responses(
        (status = 200, body = TagRenamedJson),
        (status = 422, description = "`from` or `to` is not one tag, or a memo would grow \
                                      past its size limit", body = ErrorJson),
    ))]
pub async fn rename_tag(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<TagRenameInput>,
) -> Result<Json<TagRenamedJson>, ApiError> {
    let one_tag = |text: &str, field: &'static str| {
        jaryo_domain::parse_tag(text).ok_or(ApiError::Invalid {
            field: Some(field.into()),
            message: format!(
                "{field} must be one tag: letters, digits, _, - or / (not only digits)"
            ),
        })
    };
    let from = one_tag(&input.from, "from")?;
    let to = one_tag(&input.to, "to")?;
    let renamed = jaryo_store::tags::rename_tag(&*state.store, &from, &to).await?;
    Ok(Json(TagRenamedJson {
        tag: renamed.tag,
        memos: renamed.memos,
    }))
}
