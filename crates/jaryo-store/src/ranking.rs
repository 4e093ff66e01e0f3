//! How search ranks, once for every backend: the index's row ids, Okapi BM25 as SQLite's
//! `jaryo_rank` computes it, the document-frequency estimate and the rank window's size.
//!
//! SQLite computes BM25 inside FTS5 (crate `jaryo-fts5-rank`); PostgreSQL computes it in Rust
//! from the rows' stored terms with [`Bm25`] and [`phrase_occurrences`]. Both take their
//! statistics from the same places: the rows in the index and their terms (`N`, the mean row
//! length), each row's terms (its length), the phrase frequencies from [`estimated_rows`]
//! (for a query of several phrases; one phrase needs none), title weight [`TITLE_WEIGHT`]. So
//! the same library ranks the same on both; the conformance tests hold them to it.

use crate::SearchKind;

/// BM25's term-frequency saturation.
pub const K1: f64 = 1.2;
/// BM25's length normalisation.
pub const B: f64 = 0.75;
/// An occurrence in a document's title counts this many times one in a body.
pub const TITLE_WEIGHT: f64 = 10.0;
/// An occurrence in a body (a memo's text, a document's original text).
pub const BODY_WEIGHT: f64 = 1.0;

/// How many of the newest matches of each kind an unfiltered search ranks by relevance, unless
/// configured (`[search] rank_window`); older matches follow with score 0, newest first.
pub const DEFAULT_RANK_WINDOW: u32 = 500;

/// Matches of a phrase counted, per kind, for its document frequency: below this many the
/// count is exact; a phrase with more is estimated from how many ids its newest this-many
/// matches span ([`estimated_rows`]).
pub const FREQUENCY_SAMPLE: i64 = 256;

/// Document row ids lie below this, memo row ids above (up to twice it); ids stay below it.
pub const KIND_BOUNDARY: i64 = 1 << 40;

/// A document's index row id: newer documents have lower ones, and every document's is below
/// every memo's, so ascending row ids are the order of equal scores (documents first, newer
/// first) and the newest matches come first.
pub fn document_rowid(id: i64) -> i64 {
    KIND_BOUNDARY - id
}

/// A memo's index row id (see [`document_rowid`]).
pub fn memo_rowid(id: i64) -> i64 {
    2 * KIND_BOUNDARY - id
}

/// The index row id of an item.
pub fn rowid_of(kind: SearchKind, id: i64) -> i64 {
    match kind {
        SearchKind::Document => document_rowid(id),
        SearchKind::Memo => memo_rowid(id),
    }
}

/// The item of an index row id.
pub fn item_of_rowid(rowid: i64) -> (SearchKind, i64) {
    if rowid > KIND_BOUNDARY {
        (SearchKind::Memo, 2 * KIND_BOUNDARY - rowid)
    } else {
        (SearchKind::Document, KIND_BOUNDARY - rowid)
    }
}

/// The rows of a kind (its row ids `first..=last`, `first` the newest item's) holding a
/// phrase, from its newest `sampled` matches (the greatest row id among them `greatest`): the
/// count itself below [`FREQUENCY_SAMPLE`], else the count scaled from the ids the sample
/// spans to all of them (ids count up from 1, so the newest id is how many there are; deleted
/// ids count on both sides of the ratio alike).
pub fn estimated_rows(sampled: i64, greatest: Option<i64>, (first, last): (i64, i64)) -> f64 {
    match greatest {
        Some(greatest) if sampled >= FREQUENCY_SAMPLE => {
            let ids = (last - first + 1) as f64;
            let spanned = (greatest - first + 1).max(1) as f64;
            (sampled as f64 * ids / spanned).min(ids)
        }
        _ => sampled as f64,
    }
}

/// The row ids of a kind a phrase's frequency is sampled over: from its newest item's (the
/// lowest) to its oldest possible one's; `None` when the kind has never had an item.
pub fn kind_span(kind: SearchKind, newest_id: Option<i64>) -> Option<(i64, i64)> {
    newest_id.map(|newest| match kind {
        SearchKind::Document => (document_rowid(newest), KIND_BOUNDARY - 1),
        SearchKind::Memo => (memo_rowid(newest), 2 * KIND_BOUNDARY - 1),
    })
}

/// BM25 over one query: what it computes once (each phrase's inverse document frequency, the
/// mean row length), then [`Bm25::score`] per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Bm25 {
    idf: Vec<f64>,
    mean_tokens: f64,
}

impl Bm25 {
    /// For an index of `rows` rows holding `tokens` terms in all, and a query of `phrases`
    /// phrases held by `frequencies` rows each (`None`: inverse document frequency 1 for
    /// every phrase, as for a one-phrase query, where it would scale every score alike).
    pub fn new(rows: i64, tokens: i64, phrases: usize, frequencies: Option<&[f64]>) -> Self {
        let rows = rows.max(1) as f64;
        let idf = (0..phrases)
            .map(|phrase| {
                frequencies
                    .and_then(|frequencies| frequencies.get(phrase))
                    .map_or(1.0, |&n| {
                        // Kept positive for very common phrases.
                        (((rows - n + 0.5) / (n + 0.5)).ln()).max(1e-6)
                    })
            })
            .collect();
        Self {
            idf,
            mean_tokens: (tokens as f64 / rows).max(1.0),
        }
    }

    /// A row's score (higher is better): `occurrences` holds each phrase's occurrences in it,
    /// weighted by column ([`TITLE_WEIGHT`], [`BODY_WEIGHT`]); `tokens` is its length.
    pub fn score(&self, occurrences: &[f64], tokens: u32) -> f64 {
        let length_norm = K1 * (1.0 - B + B * f64::from(tokens) / self.mean_tokens);
        occurrences
            .iter()
            .zip(&self.idf)
            .map(|(&frequency, &idf)| idf * frequency * (K1 + 1.0) / (frequency + length_norm))
            .sum()
    }
}

/// The terms in a stored term stream (`jaryo_text::index_terms`: terms joined by single
/// spaces): a row's length as BM25 counts it.
pub fn term_count(terms: &str) -> u32 {
    terms.split(' ').filter(|term| !term.is_empty()).count() as u32
}

/// How many times a phrase (its terms at consecutive positions; the last one matching any
/// term it begins when `prefix`) occurs in a term stream, each starting position once.
pub fn phrase_occurrences(terms: &str, phrase: &[String], prefix: bool) -> u32 {
    let Some(first) = phrase.first() else {
        return 0;
    };
    let bytes = terms.as_bytes();
    let mut count = 0;
    let mut from = 0;
    while let Some(found) = terms[from..].find(first.as_str()) {
        let start = from + found;
        // A term holds no space, so the next term to start lies past this match.
        from = start + first.len().max(1);
        if start > 0 && bytes[start - 1] != b' ' {
            continue;
        }
        if phrase_at(terms, start, phrase, prefix) {
            count += 1;
        }
        if from >= terms.len() {
            break;
        }
    }
    count
}

/// Whether the phrase's terms start at byte `at` of the term stream, term after term.
fn phrase_at(terms: &str, mut at: usize, phrase: &[String], prefix: bool) -> bool {
    let bytes = terms.as_bytes();
    for (index, term) in phrase.iter().enumerate() {
        if !terms[at..].starts_with(term.as_str()) {
            return false;
        }
        let end = at + term.len();
        let last = index + 1 == phrase.len();
        if last && prefix {
            return true;
        }
        match bytes.get(end) {
            None => return last,
            Some(b' ') if last => return true,
            Some(b' ') => at = end + 1,
            Some(_) => return false,
        }
    }
    true
}

/// A row's weighted occurrences of each phrase of `query`, from its title's and body's term
/// streams: what [`Bm25::score`] takes.
pub fn weighted_occurrences(query: &jaryo_text::Query, title: &str, body: &str) -> Vec<f64> {
    query
        .phrases()
        .iter()
        .map(|phrase| {
            let prefix = phrase.last_is_prefix();
            TITLE_WEIGHT * f64::from(phrase_occurrences(title, phrase.terms(), prefix))
                + BODY_WEIGHT * f64::from(phrase_occurrences(body, phrase.terms(), prefix))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(list: &[&str]) -> Vec<String> {
        list.iter().map(|term| (*term).to_owned()).collect()
    }

    #[test]
    fn row_ids_put_documents_first_and_newer_items_before_older_ones() {
        assert!(document_rowid(1) < KIND_BOUNDARY);
        assert!(document_rowid(2) < document_rowid(1));
        assert!(memo_rowid(KIND_BOUNDARY - 1) > KIND_BOUNDARY);
        assert_eq!(item_of_rowid(memo_rowid(1)), (SearchKind::Memo, 1));
        assert_eq!(item_of_rowid(document_rowid(7)), (SearchKind::Document, 7));
        assert_eq!(rowid_of(SearchKind::Memo, 3), memo_rowid(3));
    }

    #[test]
    fn document_frequencies_are_exact_below_the_sample_and_scaled_from_it_above() {
        let kind = (1000, 10_999);
        assert_eq!(estimated_rows(0, None, kind), 0.0);
        assert_eq!(estimated_rows(37, Some(5000), kind), 37.0);
        // The newest 256 matches span the newest 512 ids: one id in two matches.
        assert_eq!(estimated_rows(FREQUENCY_SAMPLE, Some(1511), kind), 5000.0);
        // Every id of the span matches: every id, not more.
        assert_eq!(estimated_rows(FREQUENCY_SAMPLE, Some(1255), kind), 10_000.0);
        assert_eq!(estimated_rows(FREQUENCY_SAMPLE, Some(1000), kind), 10_000.0);
    }

    #[test]
    fn phrases_are_counted_at_every_start_whole_terms_only() {
        let stream = "대통 통령 령 대통 통령 대통령 서버 버를 를";
        assert_eq!(
            phrase_occurrences(stream, &terms(&["대통", "통령"]), false),
            2
        );
        assert_eq!(phrase_occurrences(stream, &terms(&["통령"]), false), 2);
        assert_eq!(phrase_occurrences(stream, &terms(&["대"]), true), 3);
        assert_eq!(phrase_occurrences(stream, &terms(&["서버", "버"]), true), 1);
        assert_eq!(
            phrase_occurrences(stream, &terms(&["서버", "버"]), false),
            0
        );
        assert_eq!(phrase_occurrences(stream, &terms(&["를"]), false), 1);
        // Overlapping occurrences each count, as FTS5 counts them.
        assert_eq!(
            phrase_occurrences("하하 하하 하하", &terms(&["하하", "하하"]), false),
            2
        );
        assert_eq!(
            phrase_occurrences("axum axumx xaxum", &terms(&["axum"]), false),
            1
        );
        assert_eq!(phrase_occurrences("", &terms(&["axum"]), false), 0);
        assert_eq!(term_count("대통 통령 령"), 3);
        assert_eq!(term_count(""), 0);
    }

    #[test]
    fn bm25_prefers_denser_shorter_rows_and_rarer_phrases() {
        let one = Bm25::new(100, 1000, 1, None);
        assert!(one.score(&[2.0], 10) > one.score(&[1.0], 10));
        assert!(one.score(&[1.0], 5) > one.score(&[1.0], 50));
        let two = Bm25::new(100, 1000, 2, Some(&[5.0, 80.0]));
        assert!(two.score(&[1.0, 0.0], 10) > two.score(&[0.0, 1.0], 10));
        // A phrase in nearly every row still counts a little.
        let common = Bm25::new(100, 1000, 1, Some(&[100.0]));
        assert!(common.score(&[1.0], 10) > 0.0);
    }
}
