//! The JSON API under `/api/v1`: one router per resource, merged.

pub mod ask;
pub mod documents;
pub mod drafts;
pub mod exchange;
pub mod files;
pub mod memos;
pub mod openapi;
pub mod review;
pub mod search;
pub mod status;
pub mod tags;

use crate::error::ApiError;
use crate::{AppState, auth, method_not_allowed};
use axum::Router;
use axum::routing::get;
use jaryo_store::{PAGE_LIMIT_MAX, PageRequest, SearchCursor};
use serde::Deserialize;
use utoipa::IntoParams;

/// The JSON API, to be nested under `/api/v1`: every resource behind the bearer token, and
/// the OpenAPI document, which is public (it describes the API, not what the API holds).
pub fn routes(state: AppState) -> Router {
    Router::new()
        .merge(memos::routes())
        .merge(documents::routes())
        .merge(drafts::routes())
        .merge(ask::routes())
        .merge(review::routes())
        .merge(status::routes())
        .merge(search::routes())
        .merge(tags::routes())
        .merge(exchange::routes())
        .merge(files::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            state.token.clone(),
            auth::require_token,
        ))
        .with_state(state)
        .route("/openapi.json", get(openapi::openapi_json))
}

/// `?limit=&cursor=` on every listing. An unknown parameter is refused (400
/// `invalid_query`), like an unknown field of a body.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([+-]?[0-9]{1,18})?$")]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        if let Some(limit) = self.limit
            && !(1..=PAGE_LIMIT_MAX).contains(&limit)
        {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("limit must be between 1 and {PAGE_LIMIT_MAX}"),
            ));
        }
        let before = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
                ApiError::bad_request("invalid_query", "cursor is not one this server gave out")
            })?),
        };
        Ok(PageRequest::new(self.limit, before))
    }
}

pub fn cursor_of(next_before: Option<i64>) -> Option<String> {
    next_before.map(|id| id.to_string())
}

pub fn cursor_of_search(next: Option<SearchCursor>) -> Option<String> {
    next.map(|cursor| cursor.encode())
}

/// A `?tag=` value (with or without its `#`) as the key the store filters by: `Some(None)`
/// when absent or empty (no filter), `None` when it is no tag at all, so that no item can carry
/// it and the listing is empty (an answer, not an error: a filter matched nothing).
pub fn tag_param(tag: Option<&str>) -> Option<Option<String>> {
    match tag.map(str::trim) {
        None | Some("") => Some(None),
        Some(tag) => {
            jaryo_domain::parse_tag(tag).map(|tag| Some(jaryo_store::search::tag_key(&tag)))
        }
    }
}
