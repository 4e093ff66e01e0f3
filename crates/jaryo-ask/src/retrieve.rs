//! Finding what to answer from.

use jaryo_store::{SearchFilter, SearchKind, SearchRequest, SnippetSource, Store, StoreResult};
use jaryo_text::Query;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// The most content words of a question searched.
const MAX_TERMS: usize = 8;
/// Hits read per word.
const HITS_PER_TERM: u32 = 8;
/// The longest excerpt given to the model from one source, in characters.
const MAX_EXCERPT_CHARS: usize = 1500;

/// A passage an answer may cite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Cited as `[number]`, from 1.
    pub number: usize,
    /// `document` or `memo`.
    pub kind: String,
    pub id: i64,
    pub title: String,
    /// The text given to the model: a document's best chunk of its original text (its
    /// accepted Markdown when only that held the words), or a memo.
    pub excerpt: String,
    /// A document's: the memo it was promoted from. Such a memo is not a source of its own
    /// while its text is the document's (search finds it as the document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_memo: Option<i64>,
    /// A document's chunk the excerpt is, by its position from 0 (none for a memo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk: Option<u32>,
    /// A document made from a file with pages (a PDF): the page the excerpt starts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

/// Endings that follow a Korean noun in a question (particles, copulas, question endings),
/// longest first so the longest match is cut.
const KOREAN_ENDINGS: &[&str] = &[
    "이었나요",
    "였나요",
    "인가요",
    "입니까",
    "이에요",
    "예요",
    "이야",
    "인가",
    "에서는",
    "에서",
    "에게",
    "으로",
    "부터",
    "까지",
    "이랑",
    "하고",
    "나요",
    "은요",
    "는요",
    "이",
    "가",
    "은",
    "는",
    "을",
    "를",
    "에",
    "의",
    "와",
    "과",
    "도",
    "만",
    "로",
    "야",
    "요",
];

/// Words that carry no content in a question.
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "what",
    "who",
    "whom",
    "when",
    "where",
    "which",
    "why",
    "how",
    "of",
    "in",
    "on",
    "at",
    "to",
    "for",
    "and",
    "or",
    "my",
    "me",
    "i",
    "we",
    "our",
    "it",
    "its",
    "about",
    "with",
    "be",
    "can",
    "could",
    "should",
    "would",
    "will",
    "this",
    "that",
    "there",
    "누구",
    "누가",
    "언제",
    "어디",
    "어디서",
    "무엇",
    "뭐",
    "뭘",
    "무슨",
    "어떤",
    "어떻게",
    "왜",
    "얼마",
    "몇",
    "알려줘",
    "알려",
    "줘",
    "주세요",
    "있어",
    "있나",
    "있나요",
    "했지",
    "했나",
    "했어",
    "하지",
    "해야",
    "하나",
    "그",
    "이",
];

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}')
}

/// The content words of a question, in order, without particles and question words.
pub fn search_terms(question: &str) -> Vec<String> {
    let normalized: String = question.nfc().collect::<String>().to_lowercase();
    let mut terms: Vec<String> = Vec::new();
    for word in normalized.split(|c: char| !c.is_alphanumeric()) {
        let mut word = word.to_owned();
        if word.chars().any(is_hangul) {
            // Cut one ending, keeping at least two syllables of the word.
            for ending in KOREAN_ENDINGS {
                if let Some(stem) = word.strip_suffix(ending)
                    && stem.chars().count() >= 2
                {
                    word = stem.to_owned();
                    break;
                }
            }
        }
        let long_enough = word.chars().count() >= 2 || word.chars().all(|c| c.is_ascii_digit());
        if word.is_empty() || !long_enough || STOPWORDS.contains(&word.as_str()) {
            continue;
        }
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_EXCERPT_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX_EXCERPT_CHARS).collect();
    format!("{cut}…")
}

/// The `limit` best passages for `question`: each content word searched alone, hits fused by
/// reciprocal rank (an item found by several words ranks higher), then each item's text read.
pub async fn retrieve(store: &dyn Store, question: &str, limit: usize) -> StoreResult<Vec<Source>> {
    let mut queries: Vec<Query> = search_terms(question)
        .iter()
        .filter_map(|term| Query::parse(term).ok())
        .collect();
    if queries.is_empty()
        && let Ok(query) = Query::parse(question)
    {
        queries.push(query);
    }
    // (kind, id) → (fused score, first hit)
    let mut fused: HashMap<(SearchKind, i64), (f64, jaryo_store::SearchHit)> = HashMap::new();
    for query in queries {
        let page = store
            .search(&SearchRequest {
                query,
                filter: SearchFilter::default(),
                limit: HITS_PER_TERM,
                after: None,
            })
            .await?;
        for (rank, hit) in page.hits.into_iter().enumerate() {
            let entry = fused
                .entry((hit.kind, hit.id))
                .or_insert_with(|| (0.0, hit.clone()));
            entry.0 += 1.0 / (10.0 + rank as f64);
        }
    }
    let mut ranked: Vec<(f64, jaryo_store::SearchHit)> = fused.into_values().collect();
    ranked.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.kind.cmp(&b.1.kind))
            .then(a.1.id.cmp(&b.1.id))
    });
    let mut sources = Vec::new();
    for (_, hit) in ranked.into_iter().take(limit) {
        let mut page = None;
        let text = match hit.kind {
            SearchKind::Document => {
                if let (Some(chunk), Some(file)) = (
                    &hit.chunk,
                    store
                        .files_of(&[jaryo_domain::DocumentId(hit.id)])
                        .await?
                        .pop(),
                ) {
                    page = jaryo_domain::page_at(&file.page_spans, chunk.range.start);
                }
                let document = store.get_document(jaryo_domain::DocumentId(hit.id)).await?;
                let markdown = (hit.snippet_source == SnippetSource::AcceptedMarkdown)
                    .then(|| jaryo_store::search::searchable_markdown_of(&document))
                    .flatten();
                let original = document.extracted_text.unwrap_or_default();
                match (&hit.chunk, markdown) {
                    (_, Some(markdown)) => markdown,
                    (Some(chunk), None) => original
                        .get(chunk.range.clone())
                        .map(str::to_owned)
                        .unwrap_or(original),
                    (None, None) => original,
                }
            }
            SearchKind::Memo => store.get_memo(jaryo_domain::MemoId(hit.id)).await?.content,
        };
        sources.push(Source {
            number: sources.len() + 1,
            kind: hit.kind.as_str().to_owned(),
            id: hit.id,
            chunk: hit.chunk.as_ref().map(|chunk| chunk.index),
            page,
            title: hit.title,
            excerpt: excerpt(&text),
            from_memo: hit.from_memo,
        });
    }
    Ok(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_keep_their_content_words() {
        assert_eq!(
            search_terms("다음 주 서버 배포 담당자는 누구야?"),
            ["다음", "서버", "배포", "담당자"]
        );
        assert_eq!(
            search_terms("When is the axum deploy scheduled?"),
            ["axum", "deploy", "scheduled"]
        );
        assert_eq!(search_terms("예산은 얼마였나요"), ["예산"]);
        assert!(search_terms("누구? 언제?").is_empty());
    }
}
