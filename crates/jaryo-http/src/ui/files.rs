//! Files in the web UI: the Library page's upload form (several files; `app.js` adds
//! drag-and-drop and a progress bar per file, and sends each file on its own), a document's
//! file shown and downloaded, and a retry of its reading. The upload is the API's own code
//! (`api::files`), so the two cannot drift apart; the form's CSRF token is its first part.

use super::actions::CsrfForm;
use super::session::Viewer;
use super::{PageError, PageId, UiState, error_page};
use crate::api::files::{DownloadQuery, file_of, file_response, receive_files};
use axum::Form;
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use jaryo_domain::DocumentId;
use jaryo_store::JobKind;

/// `POST /files`: the upload form (or `app.js`, asking for JSON).
pub async fn upload(
    State(ui): State<UiState>,
    viewer: Viewer,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let mut multipart = match crate::api::files::multipart_of(&headers, body) {
        Ok(multipart) => multipart,
        Err(_) => return error_page(viewer.lang, PageError::BadAddress),
    };
    // The form's CSRF token comes first, before any file is read.
    let token = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("csrf") => field.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    if !ui.sessions.csrf_matches(&viewer.session, &token) {
        return error_page(viewer.lang, PageError::Csrf);
    }
    let answer = receive_files(&ui.app, multipart).await;
    if wants_json {
        return Json(answer).into_response();
    }
    let results = &answer.results;
    let stored: Vec<i64> = results
        .iter()
        .filter_map(|result| result.document.as_ref().map(|document| document.id))
        .collect();
    match (
        stored.as_slice(),
        results.iter().find_map(|r| r.error.as_ref()),
    ) {
        ([one], None) => Redirect::to(&format!("/documents/{one}?done=uploaded")).into_response(),
        (_, None) => Redirect::to("/library?done=uploaded").into_response(),
        (_, Some(error)) => error_page(viewer.lang, PageError::Invalid(error.message.clone())),
    }
}

/// `GET /documents/{id}/file`: the original, for the page's viewer and its download link.
pub async fn download(
    State(ui): State<UiState>,
    _viewer: Viewer,
    PageId(id): PageId,
    Query(query): Query<DownloadQuery>,
) -> Response {
    match file_of(ui.app.store.as_ref(), DocumentId(id)).await {
        Ok(file) => file_response(ui.app.store.clone(), file, query.download.unwrap_or(false)),
        Err(error) => error.into_response(),
    }
}

/// `POST /documents/{id}/extraction/retry`: read the file again.
pub async fn retry(
    State(ui): State<UiState>,
    viewer: Viewer,
    PageId(id): PageId,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !ui.sessions.csrf_matches(&viewer.session, &form.csrf) {
        return error_page(viewer.lang, PageError::Csrf);
    }
    match ui
        .app
        .store
        .enqueue_job(JobKind::Extract, DocumentId(id), 0)
        .await
    {
        Ok(_) => Redirect::to(&format!("/documents/{id}?done=retried")).into_response(),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}
