//! Tags across the store: how many items carry each, everything carrying one, and renaming.
//!
//! Tags are not records of their own: they are the `#words` of a memo's text and of a
//! document's original text (`jaryo_domain::parse_tags`), kept by each backend in its tag
//! tables in the same transaction as the text. So what is written here is the one rule set
//! every backend shares, over the [`Store`] trait; a backend only answers [`Store::list_tags`]
//! and the tag filters of its listings in its own SQL.
//!
//! - **Listing by tag** ([`list_tagged`]) answers like a search with no words: every live item
//!   carrying the tag, in the search contract's order for equal scores (documents before memos,
//!   newer first), each with score 0, a snippet from the start of its text and a cursor a
//!   search's caller already knows how to follow.
//! - **Renaming** ([`rename_tag`]) rewrites `#old` as `#new` in the memos' text, each as an
//!   ordinary edit (its tags and search index change in its transaction). A document's
//!   original text is what the person wrote or imported and what its draft was checked
//!   against, so it is kept verbatim and keeps its tag. Each memo is its own transaction: if
//!   the rename stops half way, running it again finishes it.

use crate::search::{SearchCursor, SearchFilter, SearchHit, SearchKind, SearchPage, tag_key};
use crate::{DocumentFilter, MemoFilter, PAGE_LIMIT_MAX, PageRequest, Store, StoreResult};
use jaryo_domain::{Document, Memo, MemoText, Timestamp};

/// A tag and how many live items carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    /// The tag's key: as written, lowercased ([`tag_key`]).
    pub tag: String,
    pub memos: u64,
    pub documents: u64,
}

impl TagCount {
    pub fn total(&self) -> u64 {
        self.memos + self.documents
    }
}

/// Orders tags for a person: most used first, then by name.
pub fn sort_tag_counts(tags: &mut [TagCount]) {
    tags.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.tag.cmp(&b.tag)));
}

/// Every live item carrying `filter.tag` (every item when it is unset) and matching the other
/// filters, as a page of hits with score 0: documents before memos, newer first. `after` is a
/// cursor this function gave out. A search without words lists this way.
pub async fn list_tagged<S: Store + ?Sized>(
    store: &S,
    filter: &SearchFilter,
    limit: u32,
    after: Option<SearchCursor>,
) -> StoreResult<SearchPage> {
    let tag = filter.tag.clone();
    let limit = limit.clamp(1, PAGE_LIMIT_MAX) as usize;
    let wanted = limit + 1;
    let in_range = |at: Timestamp| {
        filter.created_from.is_none_or(|from| at >= from)
            && filter.created_before.is_none_or(|before| at < before)
    };
    let mut hits = Vec::with_capacity(wanted);
    let after_memos = after.is_some_and(|cursor| cursor.kind == SearchKind::Memo);
    if filter.kind != Some(SearchKind::Memo) && !after_memos {
        let documents = DocumentFilter {
            tag: tag.clone(),
            draft_state: filter.draft_state,
            ..DocumentFilter::default()
        };
        let mut before = after.map(|cursor| cursor.id);
        'documents: loop {
            let page = store
                .list_documents(&documents, PageRequest::new(Some(wanted as u32), before))
                .await?;
            for document in page.items {
                if in_range(document.created_at) {
                    hits.push(document_hit(&document));
                    if hits.len() == wanted {
                        break 'documents;
                    }
                }
            }
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
    }
    // Memos have no draft, so a draft-state filter leaves only documents.
    if filter.kind != Some(SearchKind::Document)
        && filter.draft_state.is_none()
        && hits.len() < wanted
    {
        let memos = MemoFilter { tag };
        let mut before = after.filter(|_| after_memos).map(|cursor| cursor.id);
        'memos: loop {
            let page = store
                .list_memos(&memos, PageRequest::new(Some(wanted as u32), before))
                .await?;
            for memo in page.items {
                if in_range(memo.created_at) && !listed_as_its_document(store, &memo).await? {
                    hits.push(memo_hit(&memo));
                    if hits.len() == wanted {
                        break 'memos;
                    }
                }
            }
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
    }
    let next = if hits.len() > limit {
        hits.truncate(limit);
        hits.last().map(SearchHit::cursor)
    } else {
        None
    };
    Ok(SearchPage { hits, next })
}

fn opening_snippet(text: &str) -> jaryo_text::Snippet {
    jaryo_text::snippet_of_matches(
        text,
        0..text.len(),
        &[],
        &jaryo_text::SnippetConfig::default(),
    )
}

/// Whether a memo is listed only as the document it was promoted to, as search finds it
/// (`crate::search::memo_is_searched_as_its_document`): the document carries the same tags.
async fn listed_as_its_document<S: Store + ?Sized>(store: &S, memo: &Memo) -> StoreResult<bool> {
    let Some(document_id) = memo.document_id else {
        return Ok(false);
    };
    let text = match store.get_document(document_id).await {
        Ok(document) => document.extracted_text,
        Err(crate::StoreError::NotFound { .. }) => None,
        Err(error) => return Err(error),
    };
    Ok(crate::search::memo_is_searched_as_its_document(
        &memo.content,
        text.as_deref(),
    ))
}

fn memo_hit(memo: &Memo) -> SearchHit {
    let snippet = opening_snippet(&memo.content);
    SearchHit {
        kind: SearchKind::Memo,
        id: memo.id.0,
        title: jaryo_domain::derive_title(&memo.content),
        score: 0.0,
        snippet_text: memo.content[snippet.range.clone()].to_owned(),
        snippet,
        chunk: None,
        snippet_source: crate::SnippetSource::Original,
        from_memo: None,
        created_at: memo.created_at,
        updated_at: memo.updated_at,
    }
}

fn document_hit(document: &Document) -> SearchHit {
    let text = document.extracted_text.as_deref().unwrap_or("");
    let snippet = opening_snippet(text);
    SearchHit {
        kind: SearchKind::Document,
        id: document.id.0,
        title: document.title.clone(),
        score: 0.0,
        snippet_text: text[snippet.range.clone()].to_owned(),
        snippet,
        chunk: None,
        snippet_source: crate::SnippetSource::Original,
        // Where it was promoted from, as the promotion recorded it.
        from_memo: document
            .source_metadata
            .get("memo_id")
            .and_then(serde_json::Value::as_i64),
        created_at: document.created_at,
        updated_at: document.updated_at,
    }
}

/// What a rename changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRenamed {
    /// The new tag, as it is now written.
    pub tag: String,
    /// Memos whose text was rewritten.
    pub memos: u64,
}

/// Rewrites the tag `from` as `to` in every live memo carrying it (see the module's notes).
/// Both must be single tags (`jaryo_domain::parse_tag`); the caller checks.
pub async fn rename_tag<S: Store + ?Sized>(
    store: &S,
    from: &str,
    to: &str,
) -> StoreResult<TagRenamed> {
    let filter = MemoFilter {
        tag: Some(tag_key(from)),
    };
    let mut renamed = 0;
    // Keyset paging by id, never re-reading the first page: a memo the rewrite could not
    // change is passed, not retried for ever.
    let mut before = None;
    loop {
        let page = store
            .list_memos(&filter, PageRequest::new(Some(PAGE_LIMIT_MAX), before))
            .await?;
        for memo in &page.items {
            let Some(text) = jaryo_domain::rename_tag_in_text(&memo.content, from, to) else {
                continue;
            };
            let text = MemoText::parse(text).map_err(|error| crate::StoreError::Invalid {
                message: error.to_string(),
            })?;
            store
                .update_memo(memo.id, &text, Some(memo.version))
                .await?;
            renamed += 1;
        }
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    Ok(TagRenamed {
        tag: to.to_owned(),
        memos: renamed,
    })
}
