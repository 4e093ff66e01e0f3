//! The web UI: server-rendered pages over the same store and services as the JSON API.
//!
//! Pages are askama templates compiled into the binary (`templates/`); the one stylesheet and
//! the one script are embedded too (`assets/`). Every page works without JavaScript; the script
//! only adds Enter-to-save, local times, keyboard shortcuts and live draft badges.
//!
//! Architecture invariants of this module:
//! - Authentication is the session cookie ([`session`]), never the bearer token; the JSON API
//!   keeps the token. Every `POST` checks the session's CSRF token (and a present `Origin`).
//! - Every piece of Markdown is rendered through [`markdown::render`] or, for a person's own
//!   words, [`markdown::render_original`] (raw HTML shown as text), both sanitised; every other
//!   string is escaped by the templates. The only HTML inserted unescaped is what those two
//!   produce, the diff ([`diff::compare`], escaped segment by segment) and search snippets
//!   (escaped by `jaryo-text`, with `<mark>` only).
//! - Every UI response carries a Content-Security-Policy without inline script
//!   (`script-src 'self'`), `frame-ancestors 'none'`, `nosniff`, and pages are `no-store`.
//! - The UI reads and writes only through the [`jaryo_store::Store`] trait and the API's own
//!   handlers (search, status), so it behaves exactly like the API.

mod actions;
pub mod ask;
pub mod diff;
mod files;
pub mod i18n;
pub mod markdown;
mod pages;
mod reference;
pub mod session;
mod view;

use crate::AppState;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use i18n::Lang;
use session::Sessions;

/// What the UI's handlers share.
#[derive(Clone, Debug)]
pub struct UiState {
    pub app: AppState,
    pub sessions: Sessions,
}

/// The Content-Security-Policy of every UI response: scripts and styles only from our own
/// files (no inline script, no `eval`), images from ourselves, forms post only to us, no
/// framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The UI's routes, ready to merge into the application's router.
pub fn routes(app: AppState) -> Router {
    let sessions = Sessions::new(app.token.derive_key("jaryo web session v1"));
    let state = UiState { app, sessions };
    Router::new()
        .route("/", get(|| async { Redirect::to("/memos") }))
        .route("/sign-in", get(pages::sign_in).post(actions::sign_in))
        .route("/sign-out", post(actions::sign_out))
        .route("/lang", post(actions::switch_language))
        .route("/memos", get(pages::memos).post(actions::create_memo))
        .route("/memos/{id}", get(pages::memo))
        .route(
            "/memos/{id}/edit",
            get(pages::edit_memo).post(actions::update_memo),
        )
        .route("/memos/{id}/delete", post(actions::delete_memo))
        .route("/memos/{id}/promote", post(actions::promote_memo))
        .route("/library", get(pages::library))
        .route("/files", post(files::upload))
        .route("/documents/{id}/file", get(files::download))
        .route("/documents/{id}/extraction/retry", post(files::retry))
        .route("/documents/{id}", get(pages::document))
        .route("/documents/{id}/accept", post(actions::accept_draft))
        .route("/documents/{id}/reject", post(actions::reject_draft))
        .route(
            "/documents/{id}/regenerate",
            post(actions::regenerate_draft),
        )
        .route("/search", get(pages::search))
        .route("/ask", get(ask::ask_page).post(ask::ask_answer))
        .route("/ask/stream", post(ask::ask_stream))
        .route("/tags", get(pages::tags))
        .route("/tags/rename", post(actions::rename_tag))
        .route("/status", get(pages::status))
        .route("/api-reference", get(reference::api_reference))
        .route("/ui/live", get(pages::live_badges))
        .route("/assets/{file}", get(asset))
        .route("/favicon.ico", get(favicon))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(response: Response) -> Response {
    with_security_headers(response)
}

/// Adds the headers every UI response carries (see the module's invariants).
pub fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    // An uploaded file served by the UI keeps its own, stricter policy (a sandbox).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

const APP_CSS: &str = include_str!("../../assets/app.css");
const APP_JS: &str = include_str!("../../assets/app.js");
const FAVICON_SVG: &str = include_str!("../../assets/favicon.svg");

/// The site's icon, for the browser's tab (`/favicon.ico` is where browsers look first; the
/// pages also name `/assets/favicon.svg`).
async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON_SVG,
    )
        .into_response()
}

/// A short content hash of the assets, so their URLs change whenever they do and browsers
/// may cache them for good.
pub fn asset_version() -> &'static str {
    static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        // FNV-1a: enough to tell versions apart, not a security measure.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in APP_CSS.bytes().chain(APP_JS.bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{:012x}", hash & 0xffff_ffff_ffff)
    });
    &VERSION
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "favicon.svg" => (FAVICON_SVG, "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // The icon's URL carries no version, so it is cached for a day, not for good.
    if file == "favicon.svg" {
        return favicon().await;
    }
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}

/// Percent-encodes a query value.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A path on this site to go to after an action, or `fallback` when `next` is anything else
/// (an absolute URL, `//host`, a backslash trick): no open redirects.
pub fn local_path<'a>(next: Option<&'a str>, fallback: &'a str) -> &'a str {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.contains('\\')
                && !next.chars().any(char::is_control) =>
        {
            next
        }
        _ => fallback,
    }
}

/// What went wrong, as a page.
#[derive(Debug)]
pub enum PageError {
    SignedOut,
    Csrf,
    NotFound,
    /// An address this site never links to (a bad id, an unknown filter): says so, and
    /// where to go instead.
    BadAddress,
    MethodNotAllowed,
    Conflict(String),
    Invalid(String),
    Internal,
}

impl From<crate::error::ApiError> for PageError {
    fn from(error: crate::error::ApiError) -> Self {
        use crate::error::ApiError;
        match error {
            ApiError::NotFound(_) => Self::NotFound,
            ApiError::Conflict { message, .. } => Self::Conflict(message),
            ApiError::Invalid { message, .. } | ApiError::BadRequest { message, .. } => {
                Self::Invalid(message)
            }
            _ => Self::Internal,
        }
    }
}

impl From<jaryo_store::StoreError> for PageError {
    fn from(error: jaryo_store::StoreError) -> Self {
        crate::error::ApiError::from(error).into()
    }
}

impl From<jaryo_domain::InputError> for PageError {
    fn from(error: jaryo_domain::InputError) -> Self {
        Self::Invalid(error.to_string())
    }
}

/// An error page in `lang`, with its status.
pub fn error_page(lang: Lang, error: PageError) -> Response {
    let t = lang.text();
    let (status, message) = match &error {
        PageError::SignedOut => (StatusCode::UNAUTHORIZED, t.sign_in_help.to_owned()),
        PageError::Csrf => (StatusCode::FORBIDDEN, t.error_csrf.to_owned()),
        PageError::NotFound => (StatusCode::NOT_FOUND, t.error_not_found.to_owned()),
        PageError::BadAddress => (StatusCode::BAD_REQUEST, t.error_bad_address.to_owned()),
        PageError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            t.error_bad_address.to_owned(),
        ),
        PageError::Conflict(detail) => (
            StatusCode::CONFLICT,
            format!("{} ({detail})", t.error_conflict),
        ),
        PageError::Invalid(detail) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{} ({detail})", t.error_invalid),
        ),
        PageError::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            t.error_internal.to_owned(),
        ),
    };
    let page = view::ErrorPage {
        lang: lang.code(),
        t,
        asset_version: asset_version(),
        message,
        signed_out: matches!(error, PageError::SignedOut),
    };
    (status, render(&page)).into_response()
}

/// Whether a request comes from a browser navigating (it asks for HTML), so an error it meets
/// outside the UI's own routes is shown as a page rather than as the API's JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// An error page for a request outside the UI's routes (an unknown address), with the UI's
/// security headers.
pub fn error_page_for(headers: &HeaderMap, error: PageError) -> Response {
    with_security_headers(error_page(Lang::of_request(headers), error))
}

/// A numeric id from the path, or a "no such page" page in the person's language (not the
/// framework's plain-text rejection).
#[derive(Debug, Clone, Copy)]
pub struct PageId(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageId {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        let not_found = |parts: &axum::http::request::Parts| {
            error_page(Lang::of_request(&parts.headers), PageError::NotFound)
        };
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found(parts))?;
        raw.parse::<i64>().map(PageId).map_err(|_| not_found(parts))
    }
}

/// A page's query parameters, or a "this address is not right" page in the person's language.
#[derive(Debug, Clone)]
pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for PageQuery<T>
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(_) => Err(error_page(
                Lang::of_request(&parts.headers),
                PageError::BadAddress,
            )),
        }
    }
}

/// Renders a template; a template error is logged and shown as a plain error.
pub fn render(template: &impl askama::Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render a page");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/documents/3"), "/"), "/documents/3");
        assert_eq!(local_path(Some("//evil.example/x"), "/"), "/");
        assert_eq!(local_path(Some("https://evil.example"), "/"), "/");
        assert_eq!(local_path(Some("/\\evil.example"), "/"), "/");
        assert_eq!(local_path(None, "/memos"), "/memos");
    }
}
