//! The pages (`GET`): sign-in, memos, library, a document, search, status, and the small JSON
//! the script polls for live draft badges.

use super::i18n::{Lang, Text};
use super::session::{Viewer, is_https};
use super::view::{
    Badge, Chrome, DocumentPage, DocumentRow, DocumentView, FailureView, HitView, LibraryPage,
    MemoEditPage, MemoPage, MemoView, MemosPage, SearchPage, SignInPage, StatusPage, TagRow,
    TagsPage, badge, time_pair,
};
use super::{
    PageError, PageId, PageQuery, UiState, asset_version, error_page, local_path, render,
    url_encode,
};
use crate::extract::ApiQuery;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use jaryo_domain::{DocumentId, DraftState, MdDraftStatus, MemoId};
use jaryo_store::{DocumentFilter, MemoFilter, PageRequest};
use serde::Deserialize;

/// Items per page of the memo timeline and the library.
pub const PAGE_SIZE: u32 = 50;

/// `?done=` after an action, as the notice to show.
fn notice(t: &'static Text, uri: &Uri) -> Option<&'static str> {
    let done = uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("done="))?;
    Some(match done {
        "accepted" => t.done_accepted,
        "edited" => t.done_edited,
        "rejected" => t.done_rejected,
        "regenerating" => t.done_regenerating,
        "promoted" => t.done_promoted,
        "saved" => t.done_saved,
        "deleted" => t.done_deleted,
        "renamed" => t.done_renamed,
        _ => return None,
    })
}

/// This page's path and query without `done=`, to come back to.
pub fn here(uri: &Uri) -> String {
    let query: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("done="))
        .collect();
    if query.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), query.join("&"))
    }
}

pub fn chrome(viewer: &Viewer, nav: &'static str, uri: &Uri) -> Chrome {
    let t = viewer.lang.text();
    Chrome {
        lang: viewer.lang.code(),
        t,
        csrf: viewer.csrf.clone(),
        nav,
        here: here(uri),
        notice: notice(t, uri),
        asset_version: asset_version(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

/// The sign-in form. A visitor gets a session of their own first, so the form has a CSRF
/// token; someone already signed in goes straight on.
pub async fn sign_in(
    State(ui): State<UiState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<NextQuery>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let next = local_path(query.next.as_deref(), "/memos").to_owned();
    let existing = ui.sessions.read(&headers);
    if existing.as_ref().is_some_and(|s| s.signed_in) {
        return Redirect::to(&next).into_response();
    }
    sign_in_form(&ui, &headers, lang, next, here(&uri), existing, None)
}

pub fn sign_in_form(
    ui: &UiState,
    headers: &HeaderMap,
    lang: Lang,
    next: String,
    here: String,
    existing: Option<super::session::Session>,
    error: Option<&'static str>,
) -> Response {
    let (session, fresh) = match existing {
        Some(session) => (session, false),
        None => (ui.sessions.issue(false), true),
    };
    let page = SignInPage {
        lang: lang.code(),
        t: lang.text(),
        csrf: ui.sessions.csrf_token(&session),
        next,
        here,
        error,
        asset_version: asset_version(),
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut response = (status, render(&page)).into_response();
    if fresh {
        response.headers_mut().insert(
            header::SET_COOKIE,
            ui.sessions.set_cookie(&session, is_https(headers)),
        );
    }
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct BeforeQuery {
    pub before: Option<i64>,
    pub state: Option<String>,
}

/// The timeline, newest first, with the capture box on top.
pub async fn memos(
    State(ui): State<UiState>,
    viewer: Viewer,
    uri: Uri,
    PageQuery(query): PageQuery<BeforeQuery>,
) -> Response {
    let page = match ui
        .app
        .store
        .list_memos(
            &MemoFilter::default(),
            PageRequest::new(Some(PAGE_SIZE), query.before),
        )
        .await
    {
        Ok(page) => page,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    render(&MemosPage {
        memos: page
            .items
            .iter()
            .map(|memo| MemoView::new(memo, viewer.lang))
            .collect(),
        next_url: page.next_before.map(|id| format!("/memos?before={id}")),
        chrome: chrome(&viewer, "memos", &uri),
    })
}

/// One memo on its own (search hits link here).
pub async fn memo(
    State(ui): State<UiState>,
    viewer: Viewer,
    uri: Uri,
    PageId(id): PageId,
) -> Response {
    match ui.app.store.get_memo(MemoId(id)).await {
        Ok(memo) => render(&MemoPage {
            memo: MemoView::new(&memo, viewer.lang),
            chrome: chrome(&viewer, "memos", &uri),
        }),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

pub async fn edit_memo(
    State(ui): State<UiState>,
    viewer: Viewer,
    uri: Uri,
    PageId(id): PageId,
) -> Response {
    match ui.app.store.get_memo(MemoId(id)).await {
        Ok(memo) => render(&MemoEditPage {
            id,
            version: memo.version,
            content: memo.content,
            chrome: chrome(&viewer, "memos", &uri),
        }),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

/// The library's filters: the query value, and the store filter it means.
fn library_filter(state: &str) -> Option<DocumentFilter> {
    let by_state = |draft_state| DocumentFilter {
        draft_state: Some(draft_state),
        ..DocumentFilter::default()
    };
    let by_status = |status| DocumentFilter {
        md_draft_status: Some(status),
        ..DocumentFilter::default()
    };
    Some(match state {
        "" => DocumentFilter::default(),
        "waiting" => by_state(DraftState::Pending),
        "drafting" => by_state(DraftState::Running),
        "ready" => DocumentFilter {
            draft_state: Some(DraftState::Done),
            md_draft_status: Some(MdDraftStatus::Draft),
            ..DocumentFilter::default()
        },
        // The API's name for it too, so an address written from the API's words works.
        "attention" | "needs_attention" | "needs-attention" => DocumentFilter {
            needs_attention: Some(true),
            ..DocumentFilter::default()
        },
        "accepted" => by_status(MdDraftStatus::Accepted),
        "rejected" => by_status(MdDraftStatus::Rejected),
        "skipped" => by_state(DraftState::Skipped),
        "failed" => by_state(DraftState::Failed),
        _ => return None,
    })
}

fn library_filters(t: &'static Text) -> Vec<(&'static str, &'static str)> {
    vec![
        ("", t.all),
        ("waiting", t.badge_waiting),
        ("drafting", t.badge_drafting),
        ("ready", t.badge_ready),
        ("attention", t.badge_attention),
        ("accepted", t.badge_accepted),
        ("rejected", t.badge_rejected),
        ("skipped", t.badge_skipped),
        ("failed", t.badge_failed),
    ]
}

/// Documents with their draft state, filtered by it.
pub async fn library(
    State(ui): State<UiState>,
    viewer: Viewer,
    uri: Uri,
    PageQuery(query): PageQuery<BeforeQuery>,
) -> Response {
    let current = query.state.unwrap_or_default();
    let Some(filter) = library_filter(&current) else {
        return error_page(viewer.lang, PageError::BadAddress);
    };
    let page = match ui
        .app
        .store
        .list_documents(&filter, PageRequest::new(Some(PAGE_SIZE), query.before))
        .await
    {
        Ok(page) => page,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    let state_param = if current.is_empty() {
        String::new()
    } else {
        format!("&state={current}")
    };
    render(&LibraryPage {
        filters: library_filters(viewer.lang.text()),
        documents: page
            .items
            .iter()
            .map(|doc| DocumentRow::new(doc, viewer.lang))
            .collect(),
        next_url: page
            .next_before
            .map(|id| format!("/library?before={id}{state_param}")),
        current,
        chrome: chrome(&viewer, "library", &uri),
    })
}

/// A document: original and draft side by side, the diff, findings, review actions,
/// provenance and history.
pub async fn document(
    State(ui): State<UiState>,
    viewer: Viewer,
    uri: Uri,
    PageId(id): PageId,
) -> Response {
    let document = match ui.app.store.get_document(DocumentId(id)).await {
        Ok(document) => document,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    let file = match ui.app.store.files_of(&[document.id]).await {
        Ok(mut files) => files.pop(),
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    render(&DocumentPage {
        doc: DocumentView::new(&document, viewer.lang),
        file: file.map(|file| super::view::FileView::new(&file, viewer.lang)),
        chrome: chrome(&viewer, "library", &uri),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub tag: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub draft_state: Option<String>,
    pub cursor: Option<String>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The search page; the search itself is the API's handler, so both behave the same.
pub async fn search(
    State(ui): State<UiState>,
    viewer: Viewer,
    uri: Uri,
    PageQuery(form): PageQuery<SearchForm>,
) -> Response {
    let t = viewer.lang.text();
    let q = non_empty(&form.q).unwrap_or_default();
    let mut page = SearchPage {
        q: q.clone(),
        kind: non_empty(&form.kind).unwrap_or_default(),
        tag: non_empty(&form.tag).unwrap_or_default(),
        from: non_empty(&form.from).unwrap_or_default(),
        to: non_empty(&form.to).unwrap_or_default(),
        draft_state: non_empty(&form.draft_state).unwrap_or_default(),
        state_options: vec![
            ("pending", t.badge_waiting),
            ("running", t.badge_drafting),
            ("done", t.status_drafted),
            ("skipped", t.badge_skipped),
            ("failed", t.badge_failed),
        ],
        searched: false,
        hits: Vec::new(),
        next_url: None,
        error: None,
        ask: super::ask::AskBox {
            question: q.clone(),
            ..Default::default()
        },
        chrome: chrome(&viewer, "search", &uri),
    };
    // Words, or a tag alone (a tag chip's link): everything carrying it.
    if q.is_empty() && page.tag.is_empty() {
        return render(&page);
    }
    let kind = match page.kind.as_str() {
        "memo" => Some(crate::wire::SearchKindJson::Memo),
        "document" => Some(crate::wire::SearchKindJson::Document),
        _ => None,
    };
    let draft_state = page.draft_state.parse::<DraftState>().ok();
    let params = crate::api::search::SearchQuery {
        q: Some(q),
        kind,
        tag: non_empty(&form.tag),
        from: non_empty(&form.from),
        to: non_empty(&form.to),
        draft_state,
        limit: None,
        cursor: non_empty(&form.cursor),
    };
    match crate::api::search::search(State(ui.app.clone()), ApiQuery(params)).await {
        Ok(Json(results)) => {
            page.searched = true;
            page.hits = results
                .hits
                .into_iter()
                .map(|hit| {
                    let (created_iso, created_text) = time_pair(viewer.lang, hit.created_at);
                    let (kind, url) = match hit.kind {
                        crate::wire::SearchKindJson::Memo => {
                            (t.kind_memo, format!("/memos/{}", hit.id))
                        }
                        crate::wire::SearchKindJson::Document => {
                            (t.kind_document, format!("/documents/{}", hit.id))
                        }
                    };
                    HitView {
                        kind,
                        url,
                        title: hit.title,
                        snippet_html: hit.snippet.html,
                        from_memo_url: hit.from_memo.map(|id| format!("/memos/{id}")),
                        in_accepted_draft: hit.snippet_source
                            == crate::wire::SnippetSourceJson::AcceptedMarkdown,
                        created_iso,
                        created_text,
                    }
                })
                .collect();
            page.next_url = results.next_cursor.map(|cursor| {
                let base = here(&uri);
                let base: Vec<&str> = base
                    .split(['?', '&'])
                    .skip(1)
                    .filter(|pair| !pair.starts_with("cursor="))
                    .collect();
                format!("/search?{}&cursor={}", base.join("&"), url_encode(&cursor))
            });
        }
        Err(error) => page.error = Some(error.to_string()),
    }
    render(&page)
}

/// The tags in use, most used first, each leading to everything carrying it, with a form
/// to rename it.
pub async fn tags(State(ui): State<UiState>, viewer: Viewer, uri: Uri) -> Response {
    let mut tags = match ui.app.store.list_tags().await {
        Ok(tags) => tags,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    jaryo_store::tags::sort_tag_counts(&mut tags);
    render(&TagsPage {
        tags: tags
            .into_iter()
            .map(|tag| TagRow {
                url_tag: url_encode(&tag.tag),
                tag: tag.tag,
                memos: tag.memos,
                documents: tag.documents,
            })
            .collect(),
        chrome: chrome(&viewer, "tags", &uri),
    })
}

/// Model server health, the queue, the gate and recent failures; the API's status, as a page
/// that refreshes itself.
pub async fn status(State(ui): State<UiState>, viewer: Viewer, uri: Uri) -> Response {
    let t = viewer.lang.text();
    let Json(status) = match crate::api::status::status(State(ui.app.clone())).await {
        Ok(status) => status,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    let health = &status.model.health;
    let (health_key, health_label) = match health.status {
        jaryo_model::HealthStatus::Up => ("up", t.status_up),
        jaryo_model::HealthStatus::Down => ("down", t.status_down),
        jaryo_model::HealthStatus::Unknown => ("unknown", t.status_unknown),
    };
    let count = |state| status.queue.by_state.get(&state).copied().unwrap_or(0);
    let worker = &status.worker;
    render(&StatusPage {
        model_url: status.model.base_url.clone(),
        model_name: status.model.model.clone(),
        health_key,
        health_label,
        health_since: health.since.map(|at| time_pair(viewer.lang, at)),
        health_error: health.last_error.clone(),
        paused: worker.paused,
        queue: vec![
            ("waiting", t.badge_waiting, count(DraftState::Pending)),
            ("drafting", t.badge_drafting, count(DraftState::Running)),
            ("", t.status_drafted, count(DraftState::Done)),
            ("skipped", t.badge_skipped, count(DraftState::Skipped)),
            ("failed", t.badge_failed, count(DraftState::Failed)),
        ],
        ready: status.queue.ready,
        next_due: status.queue.next_due.map(|at| time_pair(viewer.lang, at)),
        slots: status.gate.slots,
        in_use: status.gate.in_use,
        holders: (
            status.gate.holders.interactive,
            status.gate.holders.background,
        ),
        waiters: (
            status.gate.waiters.interactive,
            status.gate.waiters.background,
        ),
        holder_details: status
            .gate
            .holder_details
            .iter()
            .map(|holder| {
                let class = match holder.priority {
                    jaryo_gate::Priority::Interactive => t.interactive,
                    _ => t.background,
                };
                format!("{class}: {:.1} s", holder.held_ms as f64 / 1000.0)
            })
            .collect(),
        cluster: status.cluster_gate.clone(),
        worker: vec![
            (t.status_drafted, worker.drafted),
            (t.badge_attention, worker.flagged),
            (t.badge_skipped, worker.skipped),
            (t.badge_retrying, worker.retried),
            (t.badge_failed, worker.failed),
        ],
        retrying: status
            .retrying
            .into_iter()
            .map(|retry| FailureView {
                id: retry.document_id,
                title: retry.title,
                error: retry.last_error.unwrap_or_default(),
                attempts: retry.attempts,
                next_attempt: retry.next_attempt_at.map(|at| time_pair(viewer.lang, at)),
            })
            .collect(),
        failures: status
            .recent_failures
            .into_iter()
            .map(|failure| FailureView {
                id: failure.document_id,
                title: failure.title,
                error: failure.last_error.unwrap_or_default(),
                attempts: failure.attempts,
                next_attempt: None,
            })
            .collect(),
        chrome: chrome(&viewer, "status", &uri),
        backups: status.backups.as_ref().map(|backups| {
            backups.last.as_ref().map(|last| {
                (
                    time_pair(viewer.lang, last.at),
                    format!("{:.1} MB", last.bytes as f64 / 1_000_000.0),
                )
            })
        }),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    pub ids: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct LiveBadge {
    pub id: i64,
    pub key: &'static str,
    pub label: &'static str,
}

/// The current badge of each listed document (at most 100), for the script's live updates.
pub async fn live_badges(
    State(ui): State<UiState>,
    headers: HeaderMap,
    Query(query): Query<LiveQuery>,
) -> Response {
    if !ui.sessions.read(&headers).is_some_and(|s| s.signed_in) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let t = Lang::of_request(&headers).text();
    let ids = query
        .ids
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.trim().parse::<i64>().ok())
        .take(100)
        .collect::<Vec<_>>();
    let mut badges = Vec::with_capacity(ids.len());
    for id in ids {
        match ui.app.store.get_document(DocumentId(id)).await {
            Ok(document) => {
                let Badge { key, label } = badge(&document, t);
                badges.push(LiveBadge { id, key, label });
            }
            Err(jaryo_store::StoreError::NotFound { .. }) => {}
            Err(error) => {
                tracing::warn!(%error, "live badge unavailable");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    Json(badges).into_response()
}
