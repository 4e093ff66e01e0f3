//! `/search`: ranked full-text search over memos and documents.

use super::cursor_of_search;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::wire::{
    ByteRangeJson, ChunkJson, ErrorJson, SearchHitJson, SearchKindJson, SearchPageJson,
    SnippetJson, SnippetSourceJson,
};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use jaryo_domain::DraftState;
use jaryo_store::{
    PAGE_LIMIT_MAX, SearchCursor, SearchFilter, SearchHit, SearchKind, SearchRequest, SnippetSource,
};
use jaryo_text::{Query, QueryError};
use serde::Deserialize;
use std::ops::Range;
use utoipa::IntoParams;

/// Hits per page when the request does not say.
pub const SEARCH_LIMIT_DEFAULT: u32 = 20;

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

/// Parameters of `GET /search`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The query: words and `"quoted phrases"`, all required. Korean words match inside
    /// longer words (`서버` finds `서버를`); English words match whole, in any case. Without
    /// words (absent, empty or only punctuation), every item the filters match is listed
    /// (score 0, documents first, newest first).
    pub q: Option<String>,
    /// Only memos or only documents.
    pub kind: Option<SearchKindJson>,
    /// Only items carrying this `#tag` (with or without the `#`); text that is no tag lists
    /// nothing.
    pub tag: Option<String>,
    /// Created on or after: a date (`2026-03-01`, UTC) or an RFC 3339 time.
    #[param(schema_with = crate::wire::date_or_time_schema)]
    pub from: Option<String>,
    /// Created on or before: a date (the whole day, UTC) or an RFC 3339 time (exclusive).
    #[param(schema_with = crate::wire::date_or_time_schema)]
    pub to: Option<String>,
    /// Only documents whose draft is in this state.
    pub draft_state: Option<DraftState>,
    /// Hits per page, 1 to 200 (default 20).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^([0-9a-fA-F]{16}\\.[dm][+-]?[0-9]{1,18})?$")]
    pub cursor: Option<String>,
}

/// Search memos and documents by their original words, best first.
#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, body = SearchPageJson),
        (status = 400, description = "A bad filter, limit or cursor", body = ErrorJson),
        (status = 422, description = "`q` is too long or has too many terms \
                                      (`invalid_input`, field `q`)", body = ErrorJson),
    ))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchQuery>,
) -> Result<Json<SearchPageJson>, ApiError> {
    let (query, page) = match parse_request(params)? {
        Request::Search(request) => (
            request.query.to_string(),
            state.store.search(&request).await?,
        ),
        Request::Nothing => (
            String::new(),
            jaryo_store::SearchPage {
                hits: Vec::new(),
                next: None,
            },
        ),
        Request::Tagged {
            filter,
            limit,
            after,
        } => (
            String::new(),
            jaryo_store::tags::list_tagged(&*state.store, &filter, limit, after).await?,
        ),
    };
    let mut hits: Vec<SearchHitJson> = page.hits.into_iter().map(hit_json).collect();
    name_pages(state.store.as_ref(), &mut hits).await?;
    Ok(Json(SearchPageJson {
        query,
        hits,
        next_cursor: cursor_of_search(page.next),
    }))
}

/// Names the page of each hit in a document made from a file with pages: the page its best
/// chunk starts on.
pub(crate) async fn name_pages(
    store: &dyn jaryo_store::Store,
    hits: &mut [SearchHitJson],
) -> Result<(), ApiError> {
    let ids: Vec<jaryo_domain::DocumentId> = hits
        .iter()
        .filter(|hit| hit.kind == SearchKindJson::Document && hit.chunk.is_some())
        .map(|hit| jaryo_domain::DocumentId(hit.id))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let files = store.files_of(&ids).await?;
    for hit in hits.iter_mut() {
        let Some(file) = files
            .iter()
            .find(|file| hit.kind == SearchKindJson::Document && file.document_id.0 == hit.id)
        else {
            continue;
        };
        if let Some(chunk) = &mut hit.chunk {
            chunk.page = jaryo_domain::page_at(&file.page_spans, chunk.range.start);
            hit.page = chunk.page;
        }
    }
    Ok(())
}

/// A search, or without words the listing of what the filters match, or nothing at all (a
/// `tag` no item can carry).
enum Request {
    Nothing,
    Search(SearchRequest),
    Tagged {
        filter: SearchFilter,
        limit: u32,
        after: Option<SearchCursor>,
    },
}

fn parse_request(params: SearchQuery) -> Result<Request, ApiError> {
    // Without a word to search for (no `q`, or only punctuation), the filters list what they
    // match, newest first: a search box left empty browses rather than fails.
    let query = match Query::parse(params.q.as_deref().unwrap_or("")) {
        Ok(query) => Some(query),
        Err(QueryError::Empty) => None,
        Err(error) => return Err(query_error(error)),
    };
    let limit = params.limit.unwrap_or(SEARCH_LIMIT_DEFAULT);
    if !(1..=PAGE_LIMIT_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {PAGE_LIMIT_MAX}"),
        ));
    }
    let after = match params.cursor.as_deref() {
        None | Some("") => None,
        Some(cursor) => Some(SearchCursor::decode(cursor).ok_or_else(|| {
            ApiError::bad_request("invalid_query", "cursor is not one this server gave out")
        })?),
    };
    let created_from = params
        .from
        .as_deref()
        .map(|from| parse_time(from, "from", false))
        .transpose()?;
    let created_before = params
        .to
        .as_deref()
        .map(|to| parse_time(to, "to", true))
        .transpose()?;
    // Every other parameter is checked first: a bad one is refused even beside such a tag.
    let Some(tag) = super::tag_param(params.tag.as_deref()) else {
        return Ok(Request::Nothing);
    };
    let filter = SearchFilter {
        kind: params.kind.map(|kind| match kind {
            SearchKindJson::Memo => SearchKind::Memo,
            SearchKindJson::Document => SearchKind::Document,
        }),
        tag,
        created_from,
        created_before,
        draft_state: params.draft_state,
    };
    Ok(match query {
        Some(query) => Request::Search(SearchRequest {
            query,
            filter,
            limit,
            after,
        }),
        None => Request::Tagged {
            filter,
            limit,
            after,
        },
    })
}

fn query_error(error: QueryError) -> ApiError {
    ApiError::Invalid {
        field: Some("q".into()),
        message: error.to_string(),
    }
}

/// A date is a whole UTC day: `from` starts at its midnight, `to` ends at the next one.
fn parse_time(text: &str, name: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if end_of_day {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_query",
                format!("{name} must be a date (2026-03-01) or an RFC 3339 time"),
            )
        })
}

fn range_json(range: Range<usize>) -> ByteRangeJson {
    ByteRangeJson {
        start: range.start,
        end: range.end,
    }
}

fn hit_json(hit: SearchHit) -> SearchHitJson {
    let window = hit.snippet.range.start;
    SearchHitJson {
        kind: match hit.kind {
            SearchKind::Memo => SearchKindJson::Memo,
            SearchKind::Document => SearchKindJson::Document,
        },
        id: hit.id,
        title: hit.title,
        score: hit.score,
        snippet: SnippetJson {
            marks: hit
                .snippet
                .marks
                .iter()
                .map(|mark| range_json(mark.start - window..mark.end - window))
                .collect(),
            range: range_json(hit.snippet.range.clone()),
            html: hit.snippet.html,
            text: hit.snippet_text,
        },
        page: None,
        chunk: hit.chunk.map(|chunk| ChunkJson {
            index: chunk.index,
            range: range_json(chunk.range),
            heading_path: chunk.heading_path,
            page: None,
        }),
        snippet_source: match hit.snippet_source {
            SnippetSource::Original => SnippetSourceJson::Original,
            SnippetSource::AcceptedMarkdown => SnippetSourceJson::AcceptedMarkdown,
        },
        from_memo: hit.from_memo,
        created_at: hit.created_at,
        updated_at: hit.updated_at,
    }
}
