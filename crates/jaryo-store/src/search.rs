//! Search's vocabulary: what a caller asks a store, and what every backend answers.
//!
//! The *language* side (what a query means, which text matches, snippets, chunks) lives in
//! `jaryo-text`; a backend indexes the terms that crate makes and renders queries with it. What
//! this module fixes is the contract every backend shares:
//!
//! - **What is searched**: live memos (their `content`) and live documents (`title`, weighted
//!   above the body, the original `extracted_text`, and the Markdown the person accepted,
//!   [`searchable_markdown`]; never a draft nobody accepted). A memo promoted to a document
//!   whose original is still the memo's text is searched only as that document
//!   ([`memo_is_searched_as_its_document`]); the document's hit names it
//!   ([`SearchHit::from_memo`]). A write and its index change are one transaction: a memo is
//!   searchable the moment its create returns; an edit is searched by its new words at once;
//!   a deleted item is gone from results at once.
//! - **The hit set** for a query is exactly the live, searched items for which
//!   `jaryo_text::matches_fields(query, &[title, body, accepted_markdown])` is true (memos
//!   have no title nor Markdown), minus those the filters exclude.
//! - **Snippets point at the original**: at the best chunk of `extracted_text` whenever the
//!   original holds a match; only a document found by its accepted Markdown alone gets its
//!   snippet from that Markdown ([`SnippetSource::AcceptedMarkdown`], no chunk).
//! - **Order**: by [`SearchHit::score`], higher first, then documents before memos, then
//!   newer items (greater ids) first. Scores are the backend's relevance (BM25 on SQLite),
//!   comparable only within one result list.
//! - **Paging** is keyset: [`SearchPage::next`] is the last hit's position; the next page holds
//!   the hits after it in the order above.
//! - **Documents point at their best chunk**: the chunk of `extracted_text` holding the
//!   best-scoring matches ([`jaryo_text::MatchScore`] of the matches of the whole text that lie
//!   inside it; earliest on ties), and the snippet comes from it.

use std::ops::Range;

use jaryo_domain::{DraftState, MdDraftStatus, Timestamp};
use jaryo_text::{ChunkConfig, Query, Snippet};
use serde_json::{Map, Value};

use crate::review::{ReviewAction, review_history};

/// Which kind of item a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SearchKind {
    /// Ordered before memos among equal scores.
    Document,
    Memo,
}

impl SearchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Memo => "memo",
        }
    }
}

impl std::str::FromStr for SearchKind {
    type Err = jaryo_domain::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "document" => Ok(Self::Document),
            "memo" => Ok(Self::Memo),
            _ => Err(jaryo_domain::UnknownValue {
                kind: "SearchKind",
                value: s.to_owned(),
            }),
        }
    }
}

impl std::fmt::Display for SearchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which items may be hits. Every filter set must hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub kind: Option<SearchKind>,
    /// A tag key: as `jaryo_domain::parse_tags` gives it, lowercased (see [`tag_key`]). A memo
    /// carries the tags of its text; a document those of its `extracted_text`.
    pub tag: Option<String>,
    /// Created at or after.
    pub created_from: Option<Timestamp>,
    /// Created strictly before.
    pub created_before: Option<Timestamp>,
    /// Only documents whose draft is in this state (memos have no draft, so none match).
    pub draft_state: Option<DraftState>,
}

impl SearchFilter {
    /// Whether any filter beyond the kind is set.
    pub fn filters_rows(&self) -> bool {
        self.tag.is_some()
            || self.created_from.is_some()
            || self.created_before.is_some()
            || self.draft_state.is_some()
    }
}

/// The key a tag is stored and filtered under: lowercased (tags are NFC already).
pub fn tag_key(tag: &str) -> String {
    tag.to_lowercase()
}

/// Adds the keys of a document's given tags (an import's own) to the keys read from its text,
/// each key once: every backend indexes a document's tags this way.
pub fn add_given_tag_keys(keys: &mut Vec<String>, given: &[String]) {
    for tag in given {
        let key = tag_key(tag);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
}

/// Where a page of hits ends: the position of its last hit in the result order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchCursor {
    pub score: f64,
    pub kind: SearchKind,
    pub id: i64,
}

impl SearchCursor {
    /// An opaque text form for clients: `<score bits in hex>.<d|m><id>`, exact to the bit.
    pub fn encode(&self) -> String {
        let kind = match self.kind {
            SearchKind::Document => 'd',
            SearchKind::Memo => 'm',
        };
        format!("{:016x}.{kind}{}", self.score.to_bits(), self.id)
    }

    /// Reads [`SearchCursor::encode`]'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let (bits, rest) = text.split_once('.')?;
        if bits.len() != 16 {
            return None;
        }
        let score = f64::from_bits(u64::from_str_radix(bits, 16).ok()?);
        if !score.is_finite() {
            return None;
        }
        let kind = match rest.chars().next()? {
            'd' => SearchKind::Document,
            'm' => SearchKind::Memo,
            _ => return None,
        };
        let id: i64 = rest[1..].parse().ok()?;
        Some(Self { score, kind, id })
    }
}

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    pub filter: SearchFilter,
    /// Hits per page, `1..=PAGE_LIMIT_MAX`.
    pub limit: u32,
    /// Continue after this position (the previous page's [`SearchPage::next`]).
    pub after: Option<SearchCursor>,
}

/// The chunk of a document a hit points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkLocation {
    /// Position among the document's chunks, from 0.
    pub index: u32,
    /// Byte range of `extracted_text`.
    pub range: Range<usize>,
    /// Headings the chunk sits under, outermost first.
    pub heading_path: Vec<String>,
}

/// Which text a hit's snippet was cut from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SnippetSource {
    /// A memo's content or a document's `extracted_text`.
    #[default]
    Original,
    /// The document's accepted Markdown ([`searchable_markdown`]), when only it matched.
    AcceptedMarkdown,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub kind: SearchKind,
    pub id: i64,
    /// A document's title; for a memo, a title derived from its first line.
    pub title: String,
    /// Relevance, higher is better.
    pub score: f64,
    /// The best window of the text searched (a memo's content, a document's best chunk of
    /// `extracted_text`), with the matches marked; offsets are bytes of that text.
    pub snippet: Snippet,
    /// The snippet window's text verbatim: `snippet.range` of the text searched.
    pub snippet_text: String,
    /// Documents only: the best chunk.
    pub chunk: Option<ChunkLocation>,
    /// The text the snippet is cut from.
    pub snippet_source: SnippetSource,
    /// Documents only: the memo the document was promoted from (a live memo linked to it).
    /// Such a memo is not a hit of its own while its text is the document's original.
    pub from_memo: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl SearchHit {
    /// A memo's hit: its title derived from its content, its snippet from all of it.
    pub fn of_memo(
        query: &Query,
        id: i64,
        content: &str,
        score: f64,
        (created_at, updated_at): (Timestamp, Timestamp),
    ) -> Self {
        let snippet = jaryo_text::snippet(query, content, &jaryo_text::SnippetConfig::default());
        Self {
            kind: SearchKind::Memo,
            id,
            title: jaryo_domain::derive_title(content),
            score,
            snippet_text: content[snippet.range.clone()].to_owned(),
            snippet,
            chunk: None,
            snippet_source: SnippetSource::Original,
            from_memo: None,
            created_at,
            updated_at,
        }
    }

    /// A document's hit: its snippet from its best chunk of `text` (its original text).
    pub fn of_document(
        query: &Query,
        id: i64,
        title: String,
        (text, chunks): (&str, &[ChunkLocation]),
        score: f64,
        (created_at, updated_at): (Timestamp, Timestamp),
    ) -> Self {
        let (chunk, snippet) =
            best_chunk_snippet(query, text, chunks, &jaryo_text::SnippetConfig::default());
        Self {
            kind: SearchKind::Document,
            id,
            title,
            score,
            snippet_text: text[snippet.range.clone()].to_owned(),
            snippet,
            chunk,
            snippet_source: SnippetSource::Original,
            from_memo: None,
            created_at,
            updated_at,
        }
    }

    /// A document's hit, given its accepted Markdown ([`searchable_markdown`]): when the
    /// original holds no match and the Markdown does, the snippet comes from the Markdown
    /// (and points at no chunk, chunks being of the original). Otherwise the hit is unchanged.
    pub fn with_accepted_markdown(mut self, query: &Query, markdown: Option<&str>) -> Self {
        let Some(markdown) = markdown else {
            return self;
        };
        if !self.snippet.marks.is_empty() {
            return self;
        }
        let snippet = jaryo_text::snippet(query, markdown, &jaryo_text::SnippetConfig::default());
        if snippet.marks.is_empty() {
            return self;
        }
        self.snippet_text = markdown[snippet.range.clone()].to_owned();
        self.snippet = snippet;
        self.chunk = None;
        self.snippet_source = SnippetSource::AcceptedMarkdown;
        self
    }

    pub fn cursor(&self) -> SearchCursor {
        SearchCursor {
            score: self.score,
            kind: self.kind,
            id: self.id,
        }
    }
}

/// One page of hits, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<SearchCursor>,
}

/// What the search index was built with, and whether it must be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchIndexStatus {
    /// `jaryo_text::ANALYZER_VERSION` when the index was last built; 0 when never.
    pub analyzer_version: u32,
    /// The chunk settings the stored chunks were computed with.
    pub chunk_config: Option<ChunkConfig>,
    /// Live memos plus live documents: the items a reindex goes through.
    pub items: u64,
    /// Whether a [`crate::Store::reindex`] is due: the index was built by another analyzer
    /// version, or its chunks with other settings than the store's (see [`Self::is_stale`]).
    pub stale: bool,
}

impl SearchIndexStatus {
    /// Whether the index was built by another analyzer or chunked with other settings than
    /// `chunk_config`, so a [`crate::Store::reindex`] is due.
    pub fn is_stale(&self, chunk_config: &ChunkConfig) -> bool {
        self.analyzer_version != jaryo_text::ANALYZER_VERSION
            || self.chunk_config.as_ref() != Some(chunk_config)
    }
}

/// Progress of a reindex, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexProgress {
    pub done: u64,
    pub total: u64,
}

/// What a reindex did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexReport {
    pub memos: u64,
    pub documents: u64,
    pub chunks: u64,
}

/// The term between a document's original text and its accepted Markdown in the body's term
/// stream: a lone combining acute accent. The analyzer never makes it (it folds the accent
/// away, and no term starts with a mark) and no query can name it or begin it, so no phrase
/// or prefix reaches across it, and the two texts stay two fields as
/// `jaryo_text::matches_fields` has them.
pub const MARKDOWN_SEPARATOR_TERM: &str = "\u{301}";

/// The body term stream every backend indexes for a document: its original text's terms
/// (`original_terms`, `jaryo_text::index_terms`), then, when it has accepted Markdown, the
/// separator term and the Markdown's terms.
pub fn document_body_terms(original_terms: &str, markdown: Option<&str>) -> String {
    let Some(markdown) = markdown else {
        return original_terms.to_owned();
    };
    let mut terms = String::with_capacity(original_terms.len() + markdown.len() + 4);
    terms.push_str(original_terms);
    if !terms.is_empty() {
        terms.push(' ');
    }
    terms.push_str(MARKDOWN_SEPARATOR_TERM);
    jaryo_text::index_terms_into(markdown, &mut terms);
    terms
}

/// The Markdown a document is searched by besides its original: the last text the person
/// accepted. That is `md_content` while it is accepted; while a regenerated draft replaces an
/// accepted text (and after that draft is rejected), the accepted text the review history
/// kept (`replaced_text`), so a new draft landing changes nothing searched until the person
/// accepts it; nothing once the person rejected the accepted text itself, and nothing for a
/// draft never accepted. Every backend indexes what this says, and re-indexes a document when
/// a review changes it (a draft landing never does).
pub fn searchable_markdown(
    md_content: Option<&str>,
    status: Option<MdDraftStatus>,
    metadata: &Map<String, Value>,
) -> Option<String> {
    if status == Some(MdDraftStatus::Accepted) {
        return md_content.map(str::to_owned);
    }
    // A document without a draft has nothing accepted.
    status?;
    for entry in review_history(metadata).into_iter().rev() {
        match entry.action {
            ReviewAction::Regenerate if entry.replaced_text.is_some() => {
                return entry.replaced_text;
            }
            ReviewAction::Accept => return None,
            ReviewAction::Reject if entry.from_status == Some(MdDraftStatus::Accepted) => {
                return None;
            }
            ReviewAction::Regenerate | ReviewAction::Reject | ReviewAction::Retry => {}
        }
    }
    None
}

/// [`searchable_markdown`] of a document.
pub fn searchable_markdown_of(document: &jaryo_domain::Document) -> Option<String> {
    searchable_markdown(
        document.md_content.as_deref(),
        document.md_draft_status,
        &document.source_metadata,
    )
}

/// Whether a memo is searched only as the document it was promoted to: while that document is
/// live (`document_text` is its original, `None` when there is no live linked document) and
/// its original is still the memo's text byte for byte. Showing both would show one text
/// twice; once the two differ, each is found by its own words.
pub fn memo_is_searched_as_its_document(memo_content: &str, document_text: Option<&str>) -> bool {
    document_text == Some(memo_content)
}

/// Picks the chunk of `text` that best matches `query` (earliest on ties; the first chunk
/// when none matches) and the snippet inside it. Every backend builds document hits with it.
pub fn best_chunk_snippet(
    query: &Query,
    text: &str,
    chunks: &[ChunkLocation],
    snippet_config: &jaryo_text::SnippetConfig,
) -> (Option<ChunkLocation>, Snippet) {
    // One pass over the whole text finds every match; each chunk is scored by those inside it.
    let spans = jaryo_text::find_matches(query, text);
    let mut best: Option<(&ChunkLocation, jaryo_text::MatchScore)> = None;
    for chunk in chunks {
        if text.get(chunk.range.clone()).is_none() {
            continue;
        }
        let inside = spans.iter().filter(|span| {
            chunk.range.start <= span.range.start && span.range.end <= chunk.range.end
        });
        let score = jaryo_text::MatchScore::of_spans(inside);
        if best.as_ref().is_none_or(|(_, best)| score > *best) {
            best = Some((chunk, score));
        }
    }
    let within = best.map_or(0..text.len(), |(chunk, _)| chunk.range.clone());
    let snippet = jaryo_text::snippet_of_matches(text, within, &spans, snippet_config);
    (best.map(|(chunk, _)| chunk.clone()), snippet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(entries: serde_json::Value) -> Map<String, Value> {
        let mut metadata = Map::new();
        metadata.insert(crate::review::REVIEW_HISTORY_KEY.into(), entries);
        metadata
    }

    fn entry(action: &str, from: Option<&str>, replaced: Option<&str>) -> serde_json::Value {
        serde_json::json!({
            "action": action, "at": "2026-12-01T00:00:00.000000Z", "by": "api",
            "from_status": from, "previous_length": null, "length": null,
            "replaced_text": replaced,
        })
    }

    #[test]
    fn the_searched_markdown_is_the_last_text_the_person_accepted() {
        let none = Map::new();
        use MdDraftStatus::{Accepted, Draft, Rejected};
        assert_eq!(searchable_markdown(Some("초안"), None, &none), None);
        assert_eq!(searchable_markdown(Some("초안"), Some(Draft), &none), None);
        assert_eq!(
            searchable_markdown(Some("받아들인 글"), Some(Accepted), &none).as_deref(),
            Some("받아들인 글")
        );
        // A regenerated draft landed over an accepted text: the accepted one is still searched,
        // and stays so when the new draft is rejected.
        let regenerated = history(serde_json::json!([
            entry("accept", Some("draft"), None),
            entry("regenerate", Some("accepted"), Some("받아들인 글")),
        ]));
        assert_eq!(
            searchable_markdown(Some("새 초안"), Some(Draft), &regenerated).as_deref(),
            Some("받아들인 글")
        );
        let mut then_rejected = regenerated.clone();
        if let Some(Value::Array(entries)) = then_rejected.get_mut("review_history") {
            entries.push(entry("reject", Some("draft"), None));
        }
        assert_eq!(
            searchable_markdown(Some("새 초안"), Some(Rejected), &then_rejected).as_deref(),
            Some("받아들인 글")
        );
        // Rejecting the accepted text itself: nothing.
        let rejected = history(serde_json::json!([
            entry("accept", Some("draft"), None),
            entry("reject", Some("accepted"), None),
        ]));
        assert_eq!(
            searchable_markdown(Some("글"), Some(Rejected), &rejected),
            None
        );
    }

    #[test]
    fn the_markdown_follows_the_original_behind_a_separator_no_query_reaches() {
        let body = document_body_terms("서버 버", Some("설정"));
        assert_eq!(body, format!("서버 버 {MARKDOWN_SEPARATOR_TERM} 설정 정"));
        assert_eq!(document_body_terms("서버 버", None), "서버 버");
        assert_eq!(
            document_body_terms("", Some("Café")),
            format!("{MARKDOWN_SEPARATOR_TERM} cafe")
        );
        // No text or query analyses to the separator.
        assert!(jaryo_text::terms(MARKDOWN_SEPARATOR_TERM).is_empty());
        assert!(jaryo_text::Query::parse(MARKDOWN_SEPARATOR_TERM).is_err());
    }

    #[test]
    fn cursors_round_trip_exactly_and_refuse_garbage() {
        for score in [0.0, -1.5, 12.345678901234567, f64::MIN_POSITIVE] {
            let cursor = SearchCursor {
                score,
                kind: SearchKind::Memo,
                id: 42,
            };
            assert_eq!(SearchCursor::decode(&cursor.encode()), Some(cursor));
        }
        for garbage in [
            "",
            "12",
            "zz.d1",
            "0000000000000000.x1",
            "0000000000000000.d",
        ] {
            assert_eq!(SearchCursor::decode(garbage), None, "{garbage:?}");
        }
        let nan = format!("{:016x}.d1", f64::NAN.to_bits());
        assert_eq!(SearchCursor::decode(&nan), None);
    }
}
