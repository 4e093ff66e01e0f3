//! What the templates show: the page structs and the conversions from domain types into
//! ready-to-print values (labels, escaped-or-sanitised HTML, formatted times).

use super::diff::{self, Highlight, SideBySide};
use super::i18n::{Lang, Text};
use super::markdown;
use askama::Template;
use chrono::{DateTime, Utc};
use jaryo_domain::{ContentOrigin, Document, DraftState, MdDraftStatus, Memo};
use jaryo_store::Reviewer;
use jaryo_store::review::{ReviewAction, review_history};
use serde_json::Value;

/// The frame every signed-in page shares.
#[derive(Debug)]
pub struct Chrome {
    pub lang: &'static str,
    pub t: &'static Text,
    pub csrf: String,
    /// Which navigation item is this page.
    pub nav: &'static str,
    /// This page's path and query, to come back to after switching language.
    pub here: String,
    pub notice: Option<&'static str>,
    pub asset_version: &'static str,
}

/// A time for a `<time datetime=…>` element and its text.
pub fn time_pair(lang: Lang, time: DateTime<Utc>) -> (String, String) {
    (
        time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        lang.format_time(time),
    )
}

/// A document's draft state as a person reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    pub key: &'static str,
    pub label: &'static str,
}

impl Badge {
    pub fn of(document: &Document, needs_attention: bool, t: &Text) -> Self {
        let (key, label) = match document.draft.state {
            DraftState::Pending if document.draft.last_error.is_some() => {
                ("retrying", t.badge_retrying)
            }
            DraftState::Pending => ("waiting", t.badge_waiting),
            DraftState::Running => ("drafting", t.badge_drafting),
            DraftState::Failed => ("failed", t.badge_failed),
            DraftState::Skipped if document.md_draft_status.is_none() => {
                ("skipped", t.badge_skipped)
            }
            _ => match document.md_draft_status {
                Some(MdDraftStatus::Draft) if needs_attention => ("attention", t.badge_attention),
                Some(MdDraftStatus::Draft) => ("ready", t.badge_ready),
                Some(MdDraftStatus::Accepted) => ("accepted", t.badge_accepted),
                Some(MdDraftStatus::Rejected) => ("rejected", t.badge_rejected),
                None => ("none", t.badge_none),
            },
        };
        Self { key, label }
    }
}

pub fn badge(document: &Document, t: &Text) -> Badge {
    Badge::of(document, document.needs_attention(), t)
}

#[derive(Debug)]
pub struct MemoView {
    pub id: i64,
    pub html: String,
    /// Each tag and its URL-encoded form.
    pub tags: Vec<(String, String)>,
    pub created_iso: String,
    pub created_text: String,
    pub document_id: Option<i64>,
}

impl MemoView {
    pub fn new(memo: &Memo, lang: Lang) -> Self {
        let (created_iso, created_text) = time_pair(lang, memo.created_at);
        Self {
            id: memo.id.0,
            html: markdown::render_original(&memo.content),
            tags: memo
                .tags
                .iter()
                .map(|tag| (tag.clone(), super::url_encode(tag)))
                .collect(),
            created_iso,
            created_text,
            document_id: memo.document_id.map(|id| id.0),
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub lang: &'static str,
    pub t: &'static Text,
    pub csrf: String,
    pub next: String,
    pub here: String,
    pub error: Option<&'static str>,
    pub asset_version: &'static str,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub lang: &'static str,
    pub t: &'static Text,
    pub asset_version: &'static str,
    pub message: String,
    pub signed_out: bool,
}

#[derive(Template)]
#[template(path = "memos.html")]
pub struct MemosPage {
    pub chrome: Chrome,
    pub memos: Vec<MemoView>,
    pub next_url: Option<String>,
}

#[derive(Template)]
#[template(path = "memo.html")]
pub struct MemoPage {
    pub chrome: Chrome,
    pub memo: MemoView,
}

#[derive(Template)]
#[template(path = "memo_edit.html")]
pub struct MemoEditPage {
    pub chrome: Chrome,
    pub id: i64,
    /// Sent back with the edit, so a change made elsewhere meanwhile is not overwritten.
    pub version: i64,
    pub content: String,
}

#[derive(Debug)]
pub struct DocumentRow {
    pub id: i64,
    pub title: String,
    pub badge: Badge,
    pub created_iso: String,
    pub created_text: String,
    pub failed: bool,
    pub last_error: Option<String>,
    pub attempts: u32,
}

impl DocumentRow {
    pub fn new(document: &Document, lang: Lang) -> Self {
        let (created_iso, created_text) = time_pair(lang, document.created_at);
        Self {
            id: document.id.0,
            title: display_title(document),
            badge: badge(document, lang.text()),
            created_iso,
            created_text,
            failed: document.draft.state == DraftState::Failed,
            last_error: document.draft.last_error.clone(),
            attempts: document.draft.attempts,
        }
    }
}

fn display_title(document: &Document) -> String {
    if document.title.trim().is_empty() {
        format!("#{}", document.id.0)
    } else {
        document.title.clone()
    }
}

#[derive(Template)]
#[template(path = "library.html")]
pub struct LibraryPage {
    pub chrome: Chrome,
    /// `(state key, label)`; the empty key is "all".
    pub filters: Vec<(&'static str, &'static str)>,
    pub current: String,
    pub documents: Vec<DocumentRow>,
    pub next_url: Option<String>,
}

#[derive(Debug)]
pub struct HistoryView {
    pub action: &'static str,
    pub by: &'static str,
    pub at_iso: String,
    pub at_text: String,
    pub edited: bool,
    pub lengths: Option<String>,
    pub kept_text: Option<String>,
}

#[derive(Debug)]
pub struct DocumentView {
    pub id: i64,
    pub title: String,
    pub badge: Badge,
    pub version: i64,
    /// `draft`, `accepted`, `rejected` or empty.
    pub status: &'static str,
    pub has_draft: bool,
    pub can_review: bool,
    pub in_progress: bool,
    pub failed: bool,
    pub last_error: Option<String>,
    pub attempts: u32,
    pub original_html: String,
    pub draft_html: Option<String>,
    pub md_content: String,
    pub compare: Option<SideBySide>,
    /// `(kind in words, text)` of each fidelity finding.
    pub findings: Vec<(&'static str, String)>,
    /// `(label, value, time)`: a value that is a time has its `<time datetime>` too, so the
    /// script shows it in the reader's zone like every other time.
    pub provenance: Vec<(&'static str, String, Option<String>)>,
    pub memo_id: Option<i64>,
    pub history: Vec<HistoryView>,
}

impl DocumentView {
    pub fn new(document: &Document, lang: Lang) -> Self {
        let t = lang.text();
        let original = document.extracted_text.as_deref().unwrap_or("");
        let has_draft = document.content_origin == ContentOrigin::AiDrafted
            && document.md_draft_status.is_some();
        let in_progress = matches!(
            document.draft.state,
            DraftState::Pending | DraftState::Running
        );
        let draft = document.md_content.as_deref().filter(|_| has_draft);
        let drafted = document.draft_provenance();
        let found = drafted
            .fidelity
            .as_ref()
            .map(|fidelity| fidelity.findings.as_slice())
            .unwrap_or_default();
        // Spans point into the draft as the model wrote it; once the person edited the text
        // they no longer apply, which `compare` notices (the text at a span must match).
        let highlights: Vec<Highlight> = found
            .iter()
            .filter_map(|finding| {
                let span = finding.span.clone()?;
                let draft = draft?;
                (draft.get(span.clone()) == Some(finding.text.as_str())).then(|| Highlight {
                    range: span,
                    label: t.finding_label(&finding.kind).to_owned(),
                })
            })
            .collect();
        let findings = if document.md_draft_status == Some(MdDraftStatus::Draft) {
            found
                .iter()
                .map(|finding| (t.finding_label(&finding.kind), finding.text.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let mut provenance = Vec::new();
        if let Some(model) = drafted.model {
            provenance.push((t.model, model, None));
        }
        if let Some(prompt) = drafted.prompt_version {
            provenance.push((t.prompt_version, prompt, None));
        }
        if let Some(at) = drafted.drafted_at {
            let (iso, text) = time_pair(lang, at);
            provenance.push((t.drafted_at, text, Some(iso)));
        }
        let history = review_history(&document.source_metadata)
            .into_iter()
            .rev()
            .map(|entry| {
                let at = DateTime::parse_from_rfc3339(&entry.at)
                    .map(|at| at.with_timezone(&Utc))
                    .ok();
                let (at_iso, at_text) = at
                    .map(|at| time_pair(lang, at))
                    .unwrap_or_else(|| (entry.at.clone(), entry.at.clone()));
                let lengths = match (entry.previous_length, entry.length) {
                    (Some(before), Some(after)) if before != after => {
                        Some(format!("{before} → {after} {}", t.characters))
                    }
                    _ => None,
                };
                HistoryView {
                    action: match entry.action {
                        ReviewAction::Accept => t.action_accept,
                        ReviewAction::Reject => t.action_reject,
                        ReviewAction::Regenerate => t.action_regenerate,
                        ReviewAction::Retry => t.action_retry,
                    },
                    by: match entry.by {
                        Reviewer::Web => t.by_web,
                        Reviewer::Api => t.by_api,
                    },
                    at_iso,
                    at_text,
                    edited: entry.edited,
                    lengths,
                    kept_text: entry.replaced_text,
                }
            })
            .collect();
        Self {
            id: document.id.0,
            title: display_title(document),
            badge: badge(document, t),
            version: document.version,
            status: document.md_draft_status.map_or("", MdDraftStatus::as_str),
            has_draft,
            can_review: has_draft && !in_progress,
            in_progress,
            failed: document.draft.state == DraftState::Failed,
            last_error: document.draft.last_error.clone(),
            attempts: document.draft.attempts,
            original_html: markdown::render_original(original),
            draft_html: draft.map(markdown::render),
            md_content: draft.unwrap_or("").to_owned(),
            compare: draft.map(|draft| diff::compare(original, draft, &highlights)),
            findings,
            provenance,
            memo_id: document
                .source_metadata
                .get("memo_id")
                .and_then(Value::as_i64),
            history,
        }
    }
}

#[derive(Template)]
#[template(path = "document.html")]
pub struct DocumentPage {
    pub chrome: Chrome,
    pub doc: DocumentView,
    /// The file the document was made from, if it was.
    pub file: Option<FileView>,
}

/// A document's file on its page.
#[derive(Debug)]
pub struct FileView {
    pub name: String,
    pub media_type: String,
    pub size_text: String,
    pub pages: Option<u32>,
    /// `pending`, `running`, `done`, `failed`, `unsupported`, `needs_ocr`.
    pub state: &'static str,
    pub state_label: &'static str,
    pub error: Option<String>,
    pub attempts: u32,
    pub engine: Option<String>,
    pub can_retry: bool,
    pub is_image: bool,
    pub is_pdf: bool,
}

impl FileView {
    pub fn new(file: &jaryo_store::StoredFile, lang: Lang) -> Self {
        use jaryo_domain::ExtractionState as State;
        let t = lang.text();
        let state = file.extraction.state;
        let size = file.info.size;
        Self {
            name: file.info.name.clone(),
            media_type: file.info.media_type.clone(),
            size_text: if size >= 1024 * 1024 {
                format!("{:.1} MiB", size as f64 / (1024.0 * 1024.0))
            } else if size >= 1024 {
                format!("{:.1} KiB", size as f64 / 1024.0)
            } else {
                format!("{size} B")
            },
            pages: file.info.pages,
            state: state.as_str(),
            state_label: match state {
                State::Pending => t.extraction_pending,
                State::Running => t.extraction_running,
                State::Done => t.extraction_done,
                State::Failed => t.extraction_failed,
                State::Unsupported => t.extraction_unsupported,
                State::NeedsOcr => t.extraction_needs_ocr,
            },
            error: file.extraction.error.clone(),
            attempts: file.extraction.attempts,
            engine: file.extraction.engine.clone(),
            can_retry: state.is_settled(),
            is_image: matches!(
                file.info.media_type.as_str(),
                "image/png" | "image/jpeg" | "image/gif" | "image/webp"
            ),
            is_pdf: file.info.media_type == "application/pdf",
        }
    }
}

#[derive(Debug)]
pub struct HitView {
    pub kind: &'static str,
    pub url: String,
    pub title: String,
    pub snippet_html: String,
    /// The memo a document was promoted from: its page.
    pub from_memo_url: Option<String>,
    /// The snippet comes from the accepted draft, not the original.
    pub in_accepted_draft: bool,
    pub created_iso: String,
    pub created_text: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub kind: String,
    pub tag: String,
    pub from: String,
    pub to: String,
    pub draft_state: String,
    pub state_options: Vec<(&'static str, &'static str)>,
    pub searched: bool,
    pub hits: Vec<HitView>,
    pub next_url: Option<String>,
    pub error: Option<String>,
    /// The ask box under the search, holding the words searched for.
    pub ask: super::ask::AskBox,
}

#[derive(Debug)]
pub struct TagRow {
    pub tag: String,
    pub url_tag: String,
    pub memos: u64,
    pub documents: u64,
}

#[derive(Template)]
#[template(path = "tags.html")]
pub struct TagsPage {
    pub chrome: Chrome,
    pub tags: Vec<TagRow>,
}

#[derive(Debug)]
pub struct FailureView {
    pub id: i64,
    pub title: String,
    pub error: String,
    pub attempts: u32,
    /// For a draft being retried: when its next attempt may start (machine, shown).
    pub next_attempt: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage {
    pub chrome: Chrome,
    pub model_url: String,
    pub model_name: String,
    pub health_key: &'static str,
    pub health_label: &'static str,
    pub health_since: Option<(String, String)>,
    pub health_error: Option<String>,
    pub paused: bool,
    /// `(library filter, label, count)`.
    pub queue: Vec<(&'static str, &'static str, u64)>,
    pub ready: u64,
    pub next_due: Option<(String, String)>,
    pub slots: usize,
    pub in_use: usize,
    pub holders: (usize, usize),
    pub waiters: (usize, usize),
    pub holder_details: Vec<String>,
    /// On PostgreSQL: the slots every process on the database shares.
    pub cluster: Option<jaryo_gate::SharedSlotsSnapshot>,
    pub worker: Vec<(&'static str, u64)>,
    /// Drafts that failed and will be tried again, with the last error.
    pub retrying: Vec<FailureView>,
    pub failures: Vec<FailureView>,
    /// Scheduled backups: `None` when off; then the newest one's time and size, if any.
    pub backups: Option<Option<((String, String), String)>>,
}
