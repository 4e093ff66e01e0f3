//! What the forms do (`POST`): sign in and out, switch language, capture, edit, delete and
//! promote memos, and review drafts. Each checks the form's CSRF token, acts through the
//! store, and redirects (303) to a page that shows the outcome.

use super::i18n::{LANG_COOKIE, Lang};
use super::pages::sign_in_form;
use super::session::{Sessions, Viewer, is_https, same_origin};
use super::{PageError, PageId, UiState, error_page, local_path};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use jaryo_domain::{DocumentId, MemoId, MemoText};
use jaryo_store::review::parse_edited_text;
use jaryo_store::{AcceptDraft, RejectDraft, Reviewer, StoreError};
use serde::Deserialize;

/// A path with `done=<what>` added, for the notice on the page it leads to.
fn with_notice(path: &str, done: &str) -> String {
    let (path, fragment) = match path.split_once('#') {
        Some((path, fragment)) => (path, format!("#{fragment}")),
        None => (path, String::new()),
    };
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}done={done}{fragment}")
}

fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// The refusal page when a form's CSRF token is not the session's.
fn csrf_refusal(ui: &UiState, viewer: &Viewer, presented: &str) -> Option<Response> {
    (!ui.sessions.csrf_matches(&viewer.session, presented))
        .then(|| error_page(viewer.lang, PageError::Csrf))
}

/// Text from a `<textarea>`: browsers send line breaks as CRLF; the person typed LF.
fn from_textarea(text: String) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn notices_go_before_the_fragment() {
        assert_eq!(super::with_notice("/library", "x"), "/library?done=x");
        assert_eq!(
            super::with_notice("/library?state=failed#document-3", "x"),
            "/library?state=failed&done=x#document-3"
        );
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub token: String,
    pub next: Option<String>,
}

/// Checks the token; on success a new, signed-in session replaces the visitor's.
pub async fn sign_in(
    State(ui): State<UiState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::of_request(&headers);
    let visitor = ui.sessions.read(&headers);
    let csrf_ok = same_origin(&headers)
        && visitor
            .as_ref()
            .is_some_and(|session| ui.sessions.csrf_matches(session, &form.csrf));
    if !csrf_ok {
        return error_page(lang, PageError::Csrf);
    }
    let next = local_path(form.next.as_deref(), "/memos").to_owned();
    if !ui.app.token.matches(form.token.trim()) {
        tracing::info!("web sign-in with a wrong token");
        return sign_in_form(
            &ui,
            &headers,
            lang,
            next,
            "/sign-in".into(),
            visitor,
            Some(lang.text().wrong_token),
        );
    }
    let session = ui.sessions.issue(true);
    let mut response = see_other(&next);
    response.headers_mut().insert(
        header::SET_COOKIE,
        ui.sessions.set_cookie(&session, is_https(&headers)),
    );
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
    pub next: Option<String>,
}

pub async fn sign_out(
    State(ui): State<UiState>,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    ui.sessions.revoke(&viewer.session);
    let mut response = see_other("/sign-in");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, Sessions::clear_cookie());
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct LangForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub lang: String,
    pub next: Option<String>,
}

/// Remembers the chosen language in a cookie; works before signing in too.
pub async fn switch_language(
    State(ui): State<UiState>,
    headers: HeaderMap,
    Form(form): Form<LangForm>,
) -> Response {
    let current = Lang::of_request(&headers);
    let csrf_ok = same_origin(&headers)
        && ui
            .sessions
            .read(&headers)
            .is_some_and(|session| ui.sessions.csrf_matches(&session, &form.csrf));
    if !csrf_ok {
        return error_page(current, PageError::Csrf);
    }
    let Some(lang) = Lang::parse(&form.lang) else {
        return error_page(current, PageError::Invalid(format!("lang {:?}", form.lang)));
    };
    let mut response = see_other(local_path(form.next.as_deref(), "/memos"));
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict",
        lang.code()
    );
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("ASCII"),
    );
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct MemoForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub content: String,
    /// The version the edit form was made from: an edit in another tab since then wins,
    /// and this one is refused rather than silently overwriting it.
    #[serde(default)]
    pub version: Option<i64>,
}

pub async fn create_memo(
    State(ui): State<UiState>,
    viewer: Viewer,
    Form(form): Form<MemoForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    let text = match MemoText::parse(from_textarea(form.content)) {
        Ok(text) => text,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    match ui.app.store.create_memo(&text).await {
        Ok(memo) => see_other(&format!("/memos?done=saved#memo-{}", memo.id.0)),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

pub async fn update_memo(
    State(ui): State<UiState>,
    viewer: Viewer,
    PageId(id): PageId,
    Form(form): Form<MemoForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    let text = match MemoText::parse(from_textarea(form.content)) {
        Ok(text) => text,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    match ui
        .app
        .store
        .update_memo(MemoId(id), &text, form.version)
        .await
    {
        Ok(_) => see_other(&format!("/memos?done=saved#memo-{id}")),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

pub async fn delete_memo(
    State(ui): State<UiState>,
    viewer: Viewer,
    PageId(id): PageId,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    match ui.app.store.delete_memo(MemoId(id)).await {
        Ok(()) => see_other("/memos?done=deleted"),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

/// "Send to library": the document page, where the draft will appear.
pub async fn promote_memo(
    State(ui): State<UiState>,
    viewer: Viewer,
    PageId(id): PageId,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    match ui.app.store.promote_memo(MemoId(id)).await {
        Ok(document) => see_other(&format!("/documents/{}?done=promoted", document.id.0)),
        // Promoted already (another tab, a double click): show that document.
        Err(StoreError::AlreadyPromoted { document_id, .. }) => {
            see_other(&format!("/documents/{}", document_id.0))
        }
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    pub csrf: String,
    pub version: Option<i64>,
    pub md_content: Option<String>,
}

pub async fn accept_draft(
    State(ui): State<UiState>,
    viewer: Viewer,
    PageId(id): PageId,
    Form(form): Form<ReviewForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    let md_content = match form
        .md_content
        .map(|text| parse_edited_text(from_textarea(text)))
        .transpose()
    {
        Ok(text) => text,
        Err(error) => return error_page(viewer.lang, error.into()),
    };
    let accept = AcceptDraft {
        by: Reviewer::Web,
        expected_version: form.version,
        md_content,
    };
    match ui.app.store.accept_draft(DocumentId(id), &accept).await {
        Ok(document) => {
            let edited = jaryo_store::review::review_history(&document.source_metadata)
                .last()
                .is_some_and(|entry| entry.edited);
            let done = if edited { "edited" } else { "accepted" };
            see_other(&format!("/documents/{id}?done={done}"))
        }
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

pub async fn reject_draft(
    State(ui): State<UiState>,
    viewer: Viewer,
    PageId(id): PageId,
    Form(form): Form<ReviewForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    let reject = RejectDraft {
        by: Reviewer::Web,
        expected_version: form.version,
    };
    match ui.app.store.reject_draft(DocumentId(id), &reject).await {
        Ok(_) => see_other(&format!("/documents/{id}?done=rejected")),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

/// Regenerate a draft, or retry a failed one; back to `next` (the library, the status page)
/// or the document.
pub async fn regenerate_draft(
    State(ui): State<UiState>,
    viewer: Viewer,
    PageId(id): PageId,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    let document_page = format!("/documents/{id}");
    match ui
        .app
        .store
        .regenerate_draft(DocumentId(id), Reviewer::Web)
        .await
    {
        Ok(_) => see_other(&with_notice(
            local_path(form.next.as_deref(), &document_page),
            "regenerating",
        )),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RenameTagForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// Renames a tag in every memo (see `jaryo_store::tags`), back to the tag list.
pub async fn rename_tag(
    State(ui): State<UiState>,
    viewer: Viewer,
    Form(form): Form<RenameTagForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&ui, &viewer, &form.csrf) {
        return refused;
    }
    let t = viewer.lang.text();
    let (Some(from), Some(to)) = (
        jaryo_domain::parse_tag(&form.from),
        jaryo_domain::parse_tag(&form.to),
    ) else {
        return error_page(viewer.lang, PageError::Invalid(t.tag_invalid.to_owned()));
    };
    match jaryo_store::tags::rename_tag(&*ui.app.store, &from, &to).await {
        Ok(renamed) => see_other(&format!(
            "/tags?done=renamed#tag-{}",
            super::url_encode(&jaryo_store::search::tag_key(&renamed.tag))
        )),
        Err(error) => error_page(viewer.lang, error.into()),
    }
}
