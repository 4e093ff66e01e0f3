//! The JSON shapes of the API: what the server sends and the client reads.
//!
//! These names are a contract other tools rely on; document fields carry the seed's column
//! names. Change them only by adding.

use chrono::{DateTime, Utc};
use jaryo_domain::{
    ContentOrigin, Document, DraftState, Extraction, FileInfo, MdDraftStatus, Memo,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A memo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemoJson {
    pub id: i64,
    /// The text exactly as written (no normalisation).
    pub content: String,
    /// `#tags` found in the text, in order of first appearance.
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The live document this memo was promoted to.
    pub document_id: Option<i64>,
    /// Send it back in a `PATCH` to refuse overwriting someone else's change.
    pub version: i64,
}

impl From<Memo> for MemoJson {
    fn from(memo: Memo) -> Self {
        Self {
            id: memo.id.0,
            content: memo.content,
            tags: memo.tags,
            created_at: memo.created_at,
            updated_at: memo.updated_at,
            document_id: memo.document_id.map(|id| id.0),
            version: memo.version,
        }
    }
}

/// The body of `POST /memos`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoInput {
    /// Markdown text; not empty or whitespace-only, no NUL character, at most 1 MiB.
    #[schema(
        min_length = 1,
        pattern = "^[^\\u0000]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000][^\\u0000]*$"
    )]
    pub content: String,
}

/// The body of `PATCH /memos/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoPatchInput {
    /// The new text; not empty or whitespace-only, no NUL character, at most 1 MiB.
    #[schema(
        min_length = 1,
        pattern = "^[^\\u0000]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000][^\\u0000]*$"
    )]
    pub content: String,
    /// The version you read; a stale one is refused with 409 `version_conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// The drafting work of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DraftJson {
    pub state: DraftState,
    /// Model calls made for the current request.
    pub attempts: u32,
    /// Why the last attempt failed, in words safe to show.
    pub last_error: Option<String>,
    /// When the next attempt may start.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// While running: when the worker's claim lapses unless renewed.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The draft awaits review and its fidelity check found something the memo does not say
    /// (details in `source_metadata.fidelity`).
    pub needs_attention: bool,
    /// While `pending`: why the draft has not started (in `GET /documents` and
    /// `GET /documents/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<WaitingJson>,
}

/// Why a waiting draft has not started, so a person knows whether to act.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WaitingJson {
    pub reason: WaitingReason,
    /// The reason in words.
    pub message: String,
    /// With `retry`: when the next attempt may start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// With `queue`: drafts ready to run now, this one included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<u64>,
}

/// What a waiting draft waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitingReason {
    /// The model server does not answer; drafting resumes by itself when it does.
    ModelDown,
    /// The worker has paused drafting.
    Paused,
    /// The last attempt failed; the next one waits for its time (`until`).
    Retry,
    /// Its turn in the queue: drafts are made oldest first, as many at once as the gate allows.
    Queue,
}

/// What a waiting draft can wait for, as seen at one moment.
#[derive(Debug, Clone, Copy)]
pub struct WaitingContext {
    pub now: DateTime<Utc>,
    pub model_down: bool,
    pub paused: bool,
    /// Pending drafts whose time has come.
    pub ready: u64,
}

impl WaitingContext {
    /// Why a draft in `draft` waits, or `None` when it is not waiting. The root cause
    /// first: a model server that is down explains a retry too.
    pub fn reason(&self, draft: &DraftJson) -> Option<WaitingJson> {
        if draft.state != DraftState::Pending {
            return None;
        }
        let waiting = |reason, message: String| WaitingJson {
            reason,
            message,
            until: None,
            queued: None,
        };
        if self.model_down {
            return Some(waiting(
                WaitingReason::ModelDown,
                "the model server does not answer; drafting resumes by itself when it does".into(),
            ));
        }
        if self.paused {
            return Some(waiting(WaitingReason::Paused, "drafting is paused".into()));
        }
        if let Some(at) = draft.next_attempt_at
            && at > self.now
        {
            return Some(WaitingJson {
                until: Some(at),
                ..waiting(
                    WaitingReason::Retry,
                    match &draft.last_error {
                        Some(error) => {
                            format!("the last attempt failed ({error}); tried again at {at}")
                        }
                        None => format!("tried again at {at}"),
                    },
                )
            });
        }
        Some(WaitingJson {
            queued: Some(self.ready.max(1)),
            ..waiting(
                WaitingReason::Queue,
                format!(
                    "queued: {} drafts ready to run, made oldest first",
                    self.ready.max(1)
                ),
            )
        })
    }
}

/// A document, with every column by its seed name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentJson {
    pub id: i64,
    pub title: String,
    /// The original text, verbatim.
    pub extracted_text: Option<String>,
    /// The canonical Markdown (a model draft when `content_origin` is `ai_drafted`).
    pub md_content: Option<String>,
    pub content_origin: ContentOrigin,
    pub md_status: Option<String>,
    pub md_draft_status: Option<MdDraftStatus>,
    pub md_extraction_engine: Option<String>,
    pub md_generated_at: Option<DateTime<Utc>>,
    /// Provenance: memo id, promoted and drafted times, model, prompt version.
    #[schema(value_type = Object)]
    pub source_metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Send it back in a `PATCH` to refuse overwriting someone else's change.
    pub version: i64,
    pub draft: DraftJson,
    /// The tags given when the document was written (an import's), then the `#tags` of its
    /// original text, each once.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A document made from an uploaded file: the file (its bytes at
    /// `GET /api/v1/documents/{id}/file`).
    #[serde(default)]
    pub file: Option<FileInfo>,
    /// A document made from an uploaded file: where the reading of its text stands.
    #[serde(default)]
    pub extraction: Option<Extraction>,
}

impl From<Document> for DocumentJson {
    fn from(doc: Document) -> Self {
        let needs_attention = doc.needs_attention();
        let tags = doc.tags();
        Self {
            tags,
            file: None,
            extraction: None,
            id: doc.id.0,
            title: doc.title,
            extracted_text: doc.extracted_text,
            md_content: doc.md_content,
            content_origin: doc.content_origin,
            md_status: doc.md_status,
            md_draft_status: doc.md_draft_status,
            md_extraction_engine: doc.md_extraction_engine,
            md_generated_at: doc.md_generated_at,
            source_metadata: doc.source_metadata,
            created_at: doc.created_at,
            updated_at: doc.updated_at,
            deleted_at: doc.deleted_at,
            version: doc.version,
            draft: DraftJson {
                state: doc.draft.state,
                attempts: doc.draft.attempts,
                last_error: doc.draft.last_error,
                next_attempt_at: doc.draft.next_attempt_at,
                lease_expires_at: doc.draft.lease_expires_at,
                needs_attention,
                waiting: None,
            },
        }
    }
}

/// The body of `POST /documents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDocumentInput {
    /// Derived from the text when absent; one line, not blank, at most 300 characters.
    #[schema(
        max_length = 300,
        pattern = "^[^\\u0000\\r\\n]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000][^\\u0000\\r\\n]*$"
    )]
    pub title: Option<String>,
    /// Not empty or whitespace-only, no NUL character, at most 16 MiB.
    #[schema(
        min_length = 1,
        pattern = "^[^\\u0000]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000][^\\u0000]*$"
    )]
    pub extracted_text: String,
    /// `user` (default) or `import`.
    #[schema(value_type = Option<String>, pattern = "^(user|import)$")]
    pub content_origin: Option<ContentOrigin>,
    /// An import's own date: when the note was written where it came from (an RFC 3339 time,
    /// or a date for its midnight UTC). Only with `content_origin: import`; default now.
    #[serde(
        default,
        deserialize_with = "date_or_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = date_or_time_or_null_schema, example = "2020-01-01T09:30:00+09:00")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed there; default `created_at`, and never before it. Only with
    /// `import`.
    #[serde(
        default,
        deserialize_with = "date_or_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = date_or_time_or_null_schema, example = "2020-02-01")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Tags of the document besides the `#tags` in its text, with or without `#`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(schema_with = tags_schema)]
    pub tags: Vec<String>,
}

/// The body of `PATCH /documents/{id}`: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatchInput {
    /// One line, not blank, at most 300 characters.
    #[schema(
        max_length = 300,
        pattern = "^[^\\u0000\\r\\n]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000][^\\u0000\\r\\n]*$"
    )]
    pub title: Option<String>,
    /// Not empty or whitespace-only, no NUL character, at most 16 MiB.
    #[schema(
        min_length = 1,
        pattern = "^[^\\u0000]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000][^\\u0000]*$"
    )]
    pub extracted_text: Option<String>,
    /// The version you read; a stale one is refused with 409.
    pub version: Option<i64>,
}

/// A page of memos, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemoPage {
    pub items: Vec<MemoJson>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A page of documents, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocumentPage {
    pub items: Vec<DocumentJson>,
    pub next_cursor: Option<String>,
}

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKindJson {
    Memo,
    Document,
}

/// A byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ByteRangeJson {
    pub start: usize,
    pub end: usize,
}

/// The best window of a hit's text with the matches marked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SnippetJson {
    /// The window, HTML-escaped, whitespace runs collapsed, `<mark>…</mark>` around each
    /// match and `…` where the window cuts the text: safe to embed as it is.
    pub html: String,
    /// The window's text verbatim (not escaped).
    pub text: String,
    /// The matches, as byte ranges of `text`, sorted and disjoint.
    pub marks: Vec<ByteRangeJson>,
    /// Where `text` lies in the text it was cut from (see `snippet_source`), in bytes.
    pub range: ByteRangeJson,
}

/// The chunk of a document's original text a hit points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChunkJson {
    /// Position among the document's chunks, from 0.
    pub index: u32,
    /// Byte range of `extracted_text`.
    pub range: ByteRangeJson,
    /// Headings the chunk sits under, outermost first.
    pub heading_path: Vec<String>,
    /// A document made from a file with pages (a PDF): the page the chunk starts on.
    #[serde(default)]
    pub page: Option<u32>,
}

/// One ranked search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchHitJson {
    pub kind: SearchKindJson,
    /// A memo id or a document id, by `kind`.
    pub id: i64,
    /// A document's title; for a memo, its first line.
    pub title: String,
    /// Relevance, higher is better; comparable only within one search.
    pub score: f64,
    pub snippet: SnippetJson,
    /// Documents: the best-matching chunk of `extracted_text`.
    pub chunk: Option<ChunkJson>,
    /// The text the snippet is cut from: the original (a memo's `content`, a document's
    /// `extracted_text`), or the document's accepted Markdown (`md_content`) when only it
    /// matched.
    #[serde(default)]
    pub snippet_source: SnippetSourceJson,
    /// Documents: the memo this document was promoted from. That memo is not a hit of its own
    /// while its text is the document's original.
    #[serde(default)]
    pub from_memo: Option<i64>,
    /// A document made from a file with pages (a PDF): the page of its best chunk.
    #[serde(default)]
    pub page: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which text a hit's snippet is cut from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SnippetSourceJson {
    #[default]
    Original,
    AcceptedMarkdown,
}

/// A page of search hits, best first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchPageJson {
    /// The query as analysed: one quoted clause per required part.
    pub query: String,
    pub hits: Vec<SearchHitJson>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Every error has this shape.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorJson {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `malformed_json`, `invalid_input`, `unauthorized`, `not_found`,
    /// `already_promoted`, `version_conflict`, `payload_too_large`, ...
    pub code: String,
    /// For people.
    pub message: String,
    /// With `already_promoted`: the existing document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<i64>,
    /// With `version_conflict`: the document's version now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
    /// With `invalid_input`: which field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The body of `POST /drafts/redraft`. `flagged`, `failed` and `outdated_prompt` are
/// alternatives (a document in any is selected; none set selects every document with draft
/// work); `model` and the times narrow the selection.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct RedraftSelection {
    /// Drafts the fidelity check flagged.
    pub flagged: bool,
    /// Drafts that failed.
    pub failed: bool,
    /// Drafts made with an older prompt than the current one.
    pub outdated_prompt: bool,
    /// Only drafts made by this model.
    pub model: Option<String>,
    /// Only drafts made at or after this time: an RFC 3339 time, or a date (`2026-11-01`,
    /// from its midnight UTC).
    #[serde(deserialize_with = "date_or_time")]
    #[schema(schema_with = date_or_time_or_null_schema, example = "2026-11-01")]
    pub drafted_from: Option<DateTime<Utc>>,
    /// Only drafts made before this time: an RFC 3339 time, or a date (before its midnight
    /// UTC).
    #[serde(deserialize_with = "date_or_time")]
    #[schema(schema_with = date_or_time_or_null_schema, example = "2026-12-01T09:00:00Z")]
    pub drafted_before: Option<DateTime<Utc>>,
    /// Queue exactly these documents; the filters above are then ignored.
    pub document_ids: Option<Vec<i64>>,
    /// Only report what matches.
    pub dry_run: bool,
}

/// What `POST /drafts/redraft` did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RedraftSummary {
    pub matched: usize,
    pub queued: usize,
    /// The matching documents, by id.
    pub document_ids: Vec<i64>,
    /// Of `document_ids` given explicitly, those that do not exist.
    pub not_found: Vec<i64>,
}

/// The body of `POST /documents/{id}/draft/accept`; every field may be left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct AcceptDraftInput {
    /// The person's edited text, which becomes the accepted `md_content`. Absent: the draft
    /// as it is.
    #[schema(
        pattern = "^[^\\u0000]*[^\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\u0000][^\\u0000]*$"
    )]
    pub md_content: Option<String>,
    /// The version you read; a stale one is refused with 409 `version_conflict`.
    pub version: Option<i64>,
}

/// The body of `POST /documents/{id}/draft/reject`; may be left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct RejectDraftInput {
    /// The version you read; a stale one is refused with 409 `version_conflict`.
    pub version: Option<i64>,
}

/// A tag and how many live items carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TagJson {
    /// The tag, lowercased, without its `#`.
    pub tag: String,
    pub memos: u64,
    pub documents: u64,
}

/// `GET /tags`: every tag, most used first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagListJson {
    pub tags: Vec<TagJson>,
}

/// The body of `POST /tags/rename`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRenameInput {
    /// The tag to rename, with or without its `#`.
    #[schema(format = "tag")]
    pub from: String,
    /// Its new name: one tag (letters, digits, `_`, `-`, `/`; not only digits).
    #[schema(format = "tag")]
    pub to: String,
}

/// What a rename changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TagRenamedJson {
    /// The new tag, as now written in the memos.
    pub tag: String,
    /// Memos whose text was rewritten (each an edit of its own).
    pub memos: u64,
}

/// Reads a time given as an RFC 3339 time or as a plain date (`2026-11-01`), which means that
/// day's midnight UTC. The one reading of a person's date everywhere the API and the CLI take
/// one.
pub fn parse_date_or_time(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| format!("expected a date like 2026-11-01 or an RFC 3339 time, not {text:?}"))
}

/// The schema of tags given with an item: strings of format `tag`, one tag each, with or
/// without its `#`: letters, digits, `_`, `-` and `/` in any script, not only digits, at most
/// 64 characters, as `#tag` in a text reads (`jaryo_domain::parse_tag`). The format is jaryo's
/// own: the grammar reads text as Markdown, which no pattern states.
pub fn tags_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, Type};
    Schema::Array(
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("tag".into()))),
            )
            .build(),
    )
}

/// The schema of a person's date: a `date` (`2026-11-01`) or a `date-time` (RFC 3339).
pub fn date_or_time_schema() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::Schema::AnyOf(date_or_time_any_of())
}

fn date_or_time_any_of() -> utoipa::openapi::schema::AnyOf {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    AnyOfBuilder::new()
        .item(string(KnownFormat::Date))
        .item(string(KnownFormat::DateTime))
        .build()
}

/// [`date_or_time_schema`], or `null`.
pub fn date_or_time_or_null_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    let mut schema = date_or_time_any_of();
    schema
        .items
        .push(ObjectBuilder::new().schema_type(Type::Null).into());
    Schema::AnyOf(schema)
}

fn date_or_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| parse_date_or_time(&text).map_err(serde::de::Error::custom))
        .transpose()
}

/// What became of one file of a `POST /files`: its document (maybe one that already held the
/// same bytes), or why it was refused.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileResultJson {
    /// The file's name, as the part's `filename` gave it.
    pub file_name: String,
    /// The HTTP status this file alone would have had: 201 stored, 200 a duplicate, 4xx
    /// refused.
    pub status: u16,
    /// The document the file became, or the one already holding the same bytes.
    pub document: Option<DocumentJson>,
    /// `true` when the same bytes were uploaded before: `document` is that earlier one.
    #[serde(default)]
    pub duplicate: bool,
    /// Why this file was refused (`empty_file`, `file_too_large`, `invalid_file_name`, ...).
    pub error: Option<ErrorDetail>,
}

/// The answer of `POST /files`: one result per file part, in the order sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileUploadJson {
    pub results: Vec<FileResultJson>,
}
