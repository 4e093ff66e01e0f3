//! Ask in the web UI: a question answered from the person's notes, its citations linked to
//! the passages listed beside it.
//!
//! Two ways in, one answer:
//! - `POST /ask` is a plain form: the page comes back when the answer is whole (no
//!   JavaScript needed).
//! - `POST /ask/stream` takes the same form and answers as server-sent events, which the
//!   page's script shows as they come and can stop (leaving the request drops the model
//!   call): `sources` and `done` carry HTML rendered here (escaped, or the sanitised Markdown
//!   of the answer with its citations as links), `delta` plain text.
//!
//! Both go through the API's own `ask::start`, so they refuse and answer as `POST
//! /api/v1/ask` does.

use super::i18n::Text;
use super::markdown;
use super::pages::chrome;
use super::session::Viewer;
use super::view::Chrome;
use super::{PageError, UiState, error_page, render};
use crate::api::ask::{AskInput, collect, start};
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use jaryo_ask::{AskEvent, Source};
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;

/// The most characters of a passage shown beside the answer.
const EXCERPT_SHOWN_CHARS: usize = 400;

/// The ask box: on the Ask page and on the search page.
#[derive(Debug, Default)]
pub struct AskBox {
    pub question: String,
    pub answer: Option<AnswerView>,
    pub error: Option<String>,
}

/// A whole answer, ready to show.
#[derive(Debug)]
pub struct AnswerView {
    /// Sanitised HTML (the answer's Markdown, its citations linked); empty when nothing was
    /// found.
    pub html: String,
    pub nothing_found: bool,
    /// The sources list, rendered by [`SourcesPart`].
    pub sources_html: String,
}

#[derive(Template)]
#[template(path = "ask.html")]
pub struct AskPage {
    pub chrome: Chrome,
    pub ask: AskBox,
}

/// The sources beside an answer, each with its id for the citations to point at.
#[derive(Template)]
#[template(path = "ask_sources.html")]
pub struct SourcesPart {
    pub t: &'static Text,
    pub sources: Vec<SourceView>,
}

#[derive(Debug)]
pub struct SourceView {
    pub number: usize,
    pub title: String,
    pub url: String,
    /// "메모" / "문서 · 구절 3".
    pub label: String,
    pub excerpt: String,
}

impl SourceView {
    fn of(source: &Source, t: &Text) -> Self {
        let (url, label) = match (source.kind.as_str(), source.chunk) {
            ("memo", _) => (format!("/memos/{}", source.id), t.kind_memo.to_owned()),
            (_, Some(chunk)) => (
                format!("/documents/{}", source.id),
                format!("{} · {} {}", t.kind_document, t.ask_passage, chunk + 1),
            ),
            (_, None) => (
                format!("/documents/{}", source.id),
                t.kind_document.to_owned(),
            ),
        };
        let excerpt = match source.excerpt.char_indices().nth(EXCERPT_SHOWN_CHARS) {
            Some((end, _)) => format!("{}…", &source.excerpt[..end]),
            None => source.excerpt.clone(),
        };
        Self {
            number: source.number,
            title: source.title.clone(),
            url,
            label,
            excerpt,
        }
    }
}

fn sources_html(sources: &[Source], t: &'static Text) -> String {
    let part = SourcesPart {
        t,
        sources: sources.iter().map(|s| SourceView::of(s, t)).collect(),
    };
    part.render().unwrap_or_else(|error| {
        tracing::error!(%error, "cannot render the sources of an answer");
        String::new()
    })
}

/// The form both ways in send.
#[derive(Debug, Deserialize)]
pub struct AskForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub question: String,
}

/// `GET /ask`: the empty ask box.
pub async fn ask_page(viewer: Viewer, uri: Uri) -> Response {
    render(&AskPage {
        chrome: chrome(&viewer, "ask", &uri),
        ask: AskBox::default(),
    })
}

/// A refusal or failure as the sentence the person reads.
fn error_text(error: &ApiError, t: &Text) -> String {
    match error {
        ApiError::Upstream(detail) => format!("{} ({detail})", t.ask_failed),
        ApiError::Invalid { message, .. } => format!("{} ({message})", t.error_invalid),
        ApiError::Unavailable | ApiError::Internal => t.error_internal.to_owned(),
        other => other.to_string(),
    }
}

/// `POST /ask` without JavaScript: the page with the whole answer.
pub async fn ask_answer(
    State(ui): State<UiState>,
    viewer: Viewer,
    uri: Uri,
    Form(form): Form<AskForm>,
) -> Response {
    if !ui.sessions.csrf_matches(&viewer.session, &form.csrf) {
        return error_page(viewer.lang, PageError::Csrf);
    }
    let t = viewer.lang.text();
    let question = form.question.replace("\r\n", "\n");
    let input = AskInput {
        question: question.clone(),
        sources: None,
    };
    let outcome = match start(&ui.app, input).await {
        Ok(receiver) => collect(receiver).await,
        Err(error) => Err(error),
    };
    let (status, ask) = match outcome {
        Ok(answer) => (
            StatusCode::OK,
            AskBox {
                question,
                answer: Some(AnswerView {
                    nothing_found: answer.sources.is_empty(),
                    html: markdown::render_with_citations(&answer.answer, answer.sources.len()),
                    sources_html: sources_html(&answer.sources, t),
                }),
                error: None,
            },
        ),
        Err(error) => (
            match error {
                ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                ref other => other.status(),
            },
            AskBox {
                question,
                answer: None,
                error: Some(error_text(&error, t)),
            },
        ),
    };
    let page = AskPage {
        chrome: chrome(&viewer, "ask", &uri),
        ask,
    };
    (status, render(&page)).into_response()
}

/// `POST /ask/stream`: the answer as it comes, for the page's script.
pub async fn ask_stream(
    State(ui): State<UiState>,
    viewer: Viewer,
    Form(form): Form<AskForm>,
) -> Response {
    if !ui.sessions.csrf_matches(&viewer.session, &form.csrf) {
        return error_page(viewer.lang, PageError::Csrf);
    }
    let t = viewer.lang.text();
    let input = AskInput {
        question: form.question,
        sources: None,
    };
    let receiver = match start(&ui.app, input).await {
        Ok(receiver) => receiver,
        Err(error) => {
            let message = error_text(&error, t);
            let event = Event::default()
                .event("failed")
                .data(json!({ "message": message }).to_string());
            let once = futures::stream::once(async move { Ok::<Event, Infallible>(event) });
            return Sse::new(once).into_response();
        }
    };
    // The sources' count, for linking the citations when the answer is done.
    let events = futures::stream::unfold(
        (receiver, 0usize),
        move |(mut receiver, mut count)| async move {
            let event = receiver.next().await?;
            let sse = match event {
                AskEvent::Sources { sources } => {
                    count = sources.len();
                    Event::default()
                        .event("sources")
                        .data(json!({ "html": sources_html(&sources, t) }).to_string())
                }
                AskEvent::Delta { text } => Event::default()
                    .event("delta")
                    .data(json!({ "text": text }).to_string()),
                AskEvent::Retract => Event::default().event("retract").data("{}"),
                AskEvent::Done { answer, .. } => Event::default().event("done").data(
                    json!({ "html": markdown::render_with_citations(&answer, count) }).to_string(),
                ),
                AskEvent::NothingFound => Event::default()
                    .event("nothing_found")
                    .data(json!({ "message": t.ask_nothing_found }).to_string()),
                AskEvent::Failed { message } => Event::default().event("failed").data(
                    json!({ "message": format!("{} ({message})", t.ask_failed) }).to_string(),
                ),
            };
            Some((Ok::<Event, Infallible>(sse), (receiver, count)))
        },
    );
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
