//! The MCP tools: each one parses its arguments into the API's own input type (so unknown
//! fields, bad filters and oversized text are refused exactly as the API refuses them), calls
//! the API's own handler, and answers a bounded JSON text.

use super::bounded::{PREVIEW_CHARS, READ_MAX_CHARS, TITLE_MAX_CHARS, bounded_json, clip, preview};
use crate::AppState;
use crate::api::documents::DocumentQuery;
use crate::api::memos::MemoQuery;
use crate::api::search::SearchQuery;
use crate::api::{self, ask::AskInput};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, parse_body};
use crate::wire::{DocumentJson, MemoInput, SearchKindJson};
use axum::extract::State;
use jaryo_domain::{ContentOrigin, MdDraftStatus};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// The most items one listing or search returns (the API allows 200; an assistant's context
/// is smaller).
pub const LIST_LIMIT_MAX: u32 = 50;

/// The URI of a document as an MCP resource.
pub fn document_uri(id: i64) -> String {
    format!("jaryo://documents/{id}")
}

/// Every tool, as `tools/list` describes it.
pub fn all() -> Vec<Tool> {
    let read_only = || ToolAnnotations::new().read_only(true).open_world(false);
    vec![
        Tool::new(
            "search",
            "Search the person's memos and documents by their original words, best first. \
             Korean words match inside longer words (서버 finds 서버를); every word must \
             match; \"quoted words\" must appear together. Without q, a tag lists everything \
             carrying it. Hits give a snippet and, for documents, the best chunk; read one \
             with read_memo or read_document.",
            schema(json!({
                "q": {"type": "string", "description": "Words and \"quoted phrases\", all required."},
                "kind": {"type": "string", "enum": ["memo", "document"]},
                "tag": {"type": "string", "description": "Only items carrying this #tag (with or without #)."},
                "from": {"type": "string", "description": "Created on or after: 2026-03-01 or an RFC 3339 time."},
                "to": {"type": "string", "description": "Created on or before: a date (the whole day) or an RFC 3339 time."},
                "draft_state": {"type": "string", "enum": ["none", "pending", "running", "done", "skipped", "failed"]},
                "limit": limit_schema(10),
                "cursor": {"type": "string", "description": "next_cursor of the previous page."}
            }), &[]),
        )
        .with_annotations(read_only()),
        Tool::new(
            "read_memo",
            "Read one memo: its text exactly as written, tags, dates, and the document it was \
             sent to. Long text comes in parts of 20,000 characters; `truncated.next_offset` \
             reads on.",
            schema(json!({"id": id_schema(), "offset": offset_schema()}), &["id"]),
        )
        .with_annotations(read_only()),
        Tool::new(
            "read_document",
            "Read one document. part: \"markdown\" (default: its accepted Markdown; a model \
             draft counts only once the person accepted it), \"original\" (the text as \
             captured, verbatim) or \"metadata\" (title, origin, draft and review state, tags, \
             provenance). Long text comes in parts of 20,000 characters; \
             `truncated.next_offset` reads on.",
            schema(
                json!({
                    "id": id_schema(),
                    "part": {"type": "string", "enum": ["markdown", "original", "metadata"], "default": "markdown"},
                    "offset": offset_schema()
                }),
                &["id"],
            ),
        )
        .with_annotations(read_only()),
        Tool::new(
            "list_memos",
            "The newest memos first, each with a preview of its text.",
            schema(
                json!({
                    "tag": {"type": "string", "description": "Only memos carrying this #tag."},
                    "limit": limit_schema(20),
                    "cursor": {"type": "string", "description": "next_cursor of the previous page."}
                }),
                &[],
            ),
        )
        .with_annotations(read_only()),
        Tool::new(
            "list_documents",
            "The newest documents first, with their draft and review state.",
            schema(
                json!({
                    "tag": {"type": "string", "description": "Only documents carrying this #tag."},
                    "draft_state": {"type": "string", "enum": ["none", "pending", "running", "done", "skipped", "failed"]},
                    "md_draft_status": {"type": "string", "enum": ["draft", "accepted", "rejected"]},
                    "content_origin": {"type": "string", "enum": ["user", "memo", "import", "ai_drafted"]},
                    "needs_attention": {"type": "boolean", "description": "Only drafts the fidelity check flagged, awaiting review."},
                    "retrying": {"type": "boolean", "description": "Only drafts that failed and will be tried again."},
                    "limit": limit_schema(20),
                    "cursor": {"type": "string", "description": "next_cursor of the previous page."}
                }),
                &[],
            ),
        )
        .with_annotations(read_only()),
        Tool::new(
            "create_memo",
            "Capture a memo in the person's notes: Markdown text, #tags taken from it. \
             Stored exactly as given.",
            schema(
                json!({"content": {"type": "string", "minLength": 1, "description": "Not empty, no NUL character, at most 1 MiB."}}),
                &["content"],
            ),
        )
        .with_annotations(
            ToolAnnotations::new()
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(false),
        ),
        Tool::new(
            "ask",
            "Ask a question of the person's notes: their own model answers from the best \
             passages, citing them as [1], [2]; the sources say which memo or document each \
             number is. When nothing matches, the model is not asked and `nothing_found` is \
             true.",
            schema(
                json!({
                    "question": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "sources": {"type": "integer", "minimum": 1, "maximum": 8, "default": 4, "description": "How many passages to answer from."}
                }),
                &["question"],
            ),
        )
        .with_annotations(read_only()),
    ]
}

fn schema(properties: Value, required: &[&str]) -> Arc<JsonObject> {
    let schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        // Unknown arguments are refused, as unknown fields are by the API.
        "additionalProperties": false,
    });
    match schema {
        Value::Object(object) => Arc::new(object),
        _ => unreachable!("a JSON object literal"),
    }
}

fn limit_schema(default: u32) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": LIST_LIMIT_MAX, "default": default})
}

fn id_schema() -> Value {
    json!({"type": "integer", "minimum": 1})
}

fn offset_schema() -> Value {
    json!({"type": "integer", "minimum": 0, "default": 0, "description": "Character offset to read from (truncated.next_offset of the previous part)."})
}

/// Runs tool `name` with `arguments`; `None` for a tool that does not exist.
pub async fn call(
    state: &AppState,
    name: &str,
    arguments: Value,
) -> Option<Result<String, ApiError>> {
    Some(match name {
        "search" => search(state, arguments).await,
        "read_memo" => read_memo(state, arguments).await,
        "read_document" => read_document(state, arguments).await,
        "list_memos" => list_memos(state, arguments).await,
        "list_documents" => list_documents(state, arguments).await,
        "create_memo" => create_memo(state, arguments).await,
        "ask" => ask(state, arguments).await,
        _ => return None,
    })
}

fn check_limit(limit: Option<u32>, default: u32) -> Result<Option<u32>, ApiError> {
    match limit {
        None => Ok(Some(default)),
        Some(limit) if (1..=LIST_LIMIT_MAX).contains(&limit) => Ok(Some(limit)),
        Some(_) => Err(ApiError::Invalid {
            field: Some("limit".into()),
            message: format!("limit must be between 1 and {LIST_LIMIT_MAX}"),
        }),
    }
}

async fn search(state: &AppState, arguments: Value) -> Result<String, ApiError> {
    let mut query: SearchQuery = parse_body(arguments)?;
    query.limit = check_limit(query.limit, 10)?;
    let page = api::search::search(State(state.clone()), ApiQuery(query))
        .await?
        .0;
    let hits: Vec<Value> = page
        .hits
        .into_iter()
        .map(|hit| {
            let kind = match hit.kind {
                SearchKindJson::Memo => "memo",
                SearchKindJson::Document => "document",
            };
            json!({
                "kind": kind,
                "id": hit.id,
                "title": preview(&hit.title, TITLE_MAX_CHARS),
                "score": hit.score,
                "snippet": preview(&hit.snippet.text, PREVIEW_CHARS * 2),
                "chunk": hit.chunk.map(|chunk| json!({
                    "index": chunk.index,
                    "heading_path": chunk.heading_path,
                })),
                "uri": (kind == "document").then(|| document_uri(hit.id)),
                "from_memo": hit.from_memo,
                "created_at": hit.created_at,
            })
        })
        .collect();
    Ok(bounded_json(
        json!({"query": page.query, "hits": hits, "next_cursor": page.next_cursor}),
        "hits",
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadMemoArgs {
    id: i64,
    #[serde(default)]
    offset: usize,
}

async fn read_memo(state: &AppState, arguments: Value) -> Result<String, ApiError> {
    let args: ReadMemoArgs = parse_body(arguments)?;
    let memo = api::memos::get_memo(State(state.clone()), ApiPath(args.id))
        .await?
        .0;
    let content = clip(&memo.content, args.offset, READ_MAX_CHARS);
    Ok(bounded_json(
        json!({
            "id": memo.id,
            "content": content.text,
            "truncated": content.truncated,
            "tags": memo.tags,
            "created_at": memo.created_at,
            "updated_at": memo.updated_at,
            "document_id": memo.document_id,
        }),
        "tags",
    ))
}

#[derive(Debug, Default, Deserialize, PartialEq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum DocumentPart {
    #[default]
    Markdown,
    Original,
    Metadata,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadDocumentArgs {
    id: i64,
    #[serde(default)]
    part: DocumentPart,
    #[serde(default)]
    offset: usize,
}

/// A document's Markdown the person stands behind: a model draft once accepted, or Markdown
/// that was never a draft. `Err` says why there is none.
pub fn accepted_markdown(document: &DocumentJson) -> Result<&str, &'static str> {
    let markdown = document.md_content.as_deref().filter(|md| !md.is_empty());
    match (document.content_origin, document.md_draft_status, markdown) {
        (_, _, None) => Err("this document has no Markdown yet; read part \"original\""),
        (ContentOrigin::AiDrafted, Some(MdDraftStatus::Accepted), Some(md)) => Ok(md),
        (ContentOrigin::AiDrafted, Some(MdDraftStatus::Draft), Some(_)) => Err(
            "the model's draft awaits the person's review and is not accepted yet; read part \
             \"original\"",
        ),
        (ContentOrigin::AiDrafted, _, Some(_)) => {
            Err("the model's draft was rejected; read part \"original\"")
        }
        (_, _, Some(md)) => Ok(md),
    }
}

async fn read_document(state: &AppState, arguments: Value) -> Result<String, ApiError> {
    let args: ReadDocumentArgs = parse_body(arguments)?;
    let document = api::documents::get_document(State(state.clone()), ApiPath(args.id))
        .await?
        .0;
    let common = json!({
        "id": document.id,
        "title": preview(&document.title, TITLE_MAX_CHARS),
        "uri": document_uri(document.id),
    });
    let mut answer = common;
    match args.part {
        DocumentPart::Original => {
            let text = clip(
                document.extracted_text.as_deref().unwrap_or(""),
                args.offset,
                READ_MAX_CHARS,
            );
            answer["original"] = json!(text.text);
            answer["truncated"] = json!(text.truncated);
        }
        DocumentPart::Markdown => match accepted_markdown(&document) {
            Ok(markdown) => {
                let text = clip(markdown, args.offset, READ_MAX_CHARS);
                answer["markdown"] = json!(text.text);
                answer["truncated"] = json!(text.truncated);
            }
            Err(why) => {
                answer["markdown"] = Value::Null;
                answer["why_none"] = json!(why);
            }
        },
        DocumentPart::Metadata => {
            answer["content_origin"] = json!(document.content_origin);
            answer["md_status"] = json!(document.md_status);
            answer["md_draft_status"] = json!(document.md_draft_status);
            answer["md_extraction_engine"] = json!(document.md_extraction_engine);
            answer["md_generated_at"] = json!(document.md_generated_at);
            answer["draft"] = json!({
                "state": document.draft.state,
                "attempts": document.draft.attempts,
                "last_error": document.draft.last_error.as_deref().map(|e| preview(e, PREVIEW_CHARS)),
                "needs_attention": document.draft.needs_attention,
            });
            answer["tags"] = json!(document.tags);
            answer["original_chars"] = json!(
                document
                    .extracted_text
                    .as_deref()
                    .map_or(0, |text| text.chars().count())
            );
            answer["created_at"] = json!(document.created_at);
            answer["updated_at"] = json!(document.updated_at);
            answer["version"] = json!(document.version);
            answer["source_metadata"] =
                clip_strings(Value::Object(document.source_metadata), PREVIEW_CHARS * 4);
        }
    }
    Ok(bounded_json(answer, "tags"))
}

/// `value` with every string in it cut to `max_chars` (provenance may hold a whole replaced
/// draft in its review history).
fn clip_strings(value: Value, max_chars: usize) -> Value {
    match value {
        Value::String(text) => Value::String(preview(&text, max_chars)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| clip_strings(item, max_chars))
                .collect(),
        ),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, item)| (key, clip_strings(item, max_chars)))
                .collect(),
        ),
        other => other,
    }
}

async fn list_memos(state: &AppState, arguments: Value) -> Result<String, ApiError> {
    let mut query: MemoQuery = parse_body(arguments)?;
    query.limit = check_limit(query.limit, 20)?;
    let page = api::memos::list_memos(State(state.clone()), ApiQuery(query))
        .await?
        .0;
    let items: Vec<Value> = page
        .items
        .into_iter()
        .map(|memo| {
            let shown = preview(&memo.content, PREVIEW_CHARS);
            json!({
                "id": memo.id,
                "preview": shown,
                "whole": shown.len() == memo.content.len(),
                "tags": memo.tags,
                "created_at": memo.created_at,
                "document_id": memo.document_id,
            })
        })
        .collect();
    Ok(bounded_json(
        json!({"items": items, "next_cursor": page.next_cursor}),
        "items",
    ))
}

async fn list_documents(state: &AppState, arguments: Value) -> Result<String, ApiError> {
    let mut query: DocumentQuery = parse_body(arguments)?;
    query.limit = check_limit(query.limit, 20)?;
    let page = api::documents::list_documents(State(state.clone()), ApiQuery(query))
        .await?
        .0;
    let items: Vec<Value> = page
        .items
        .into_iter()
        .map(|document| {
            json!({
                "id": document.id,
                "title": preview(&document.title, TITLE_MAX_CHARS),
                "uri": document_uri(document.id),
                "content_origin": document.content_origin,
                "md_draft_status": document.md_draft_status,
                "draft_state": document.draft.state,
                "tags": document.tags,
                "created_at": document.created_at,
                "updated_at": document.updated_at,
            })
        })
        .collect();
    Ok(bounded_json(
        json!({"items": items, "next_cursor": page.next_cursor}),
        "items",
    ))
}

async fn create_memo(state: &AppState, arguments: Value) -> Result<String, ApiError> {
    let input: MemoInput = parse_body(arguments)?;
    let (_, memo) = api::memos::create_memo(State(state.clone()), ApiJson(input)).await?;
    let memo = memo.0;
    Ok(bounded_json(
        json!({
            "id": memo.id,
            "tags": memo.tags,
            "created_at": memo.created_at,
            "chars": memo.content.chars().count(),
        }),
        "tags",
    ))
}

async fn ask(state: &AppState, arguments: Value) -> Result<String, ApiError> {
    let input: AskInput = parse_body(arguments)?;
    let receiver = api::ask::start(state, input).await?;
    let answer = api::ask::collect(receiver).await?;
    let nothing_found = answer.sources.is_empty();
    let text = clip(&answer.answer, 0, READ_MAX_CHARS);
    let sources: Vec<Value> = answer
        .sources
        .iter()
        .map(|source| {
            json!({
                "number": source.number,
                "kind": source.kind,
                "id": source.id,
                "title": preview(&source.title, TITLE_MAX_CHARS),
                "excerpt": preview(&source.excerpt, PREVIEW_CHARS * 2),
                "uri": (source.kind == "document").then(|| document_uri(source.id)),
                "from_memo": source.from_memo,
            })
        })
        .collect();
    Ok(bounded_json(
        json!({
            "answer": text.text,
            "truncated": text.truncated,
            "nothing_found": nothing_found,
            "cited": answer.cited,
            "model": answer.model,
            "sources": sources,
        }),
        "sources",
    ))
}
