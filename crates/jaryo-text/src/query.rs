//! Search queries: parsing user input into a structured [`Query`], and rendering it for each
//! store.
//!
//! # Syntax
//!
//! - Whitespace separates **clauses**; every clause must match (AND). There are no operators:
//!   `OR`, `NOT`, `NEAR`, `AND` are ordinary words, and `:`, `&`, `|`, `!`, `(`, `)`, `\`,
//!   `^`, `-` are separators like any punctuation.
//! - A clause whose last word is followed directly by `*` makes that word a **prefix**:
//!   `back*` matches `backup`, `backend` and `back`. Anywhere else `*` is a separator. After a
//!   CJK unit it adds nothing: a CJK unit already matches inside longer runs.
//! - `"double quotes"` (also `“…”` and fullwidth `＂`) make one clause of everything inside:
//!   a phrase. An unclosed quote runs to the end of the input.
//! - An unquoted clause that analyses to several units (`axum서버`, `tokio-util`, `3월`) is
//!   a phrase of those units.
//!
//! # Semantics (what [`crate::matcher`] implements directly, and the renderings encode)
//!
//! A clause is a phrase of units `q1 … qk`. It matches a text when the text has consecutive
//! units `t1 … tk` (separators between them are ignored) such that:
//!
//! - `k = 1`: a word matches an equal word (a prefix word: any word it begins); a CJK unit
//!   matches any CJK run that **contains** it (`서버` in `서버를`, `웹서버`; `회` in `회의`,
//!   `사회`);
//! - `k ≥ 2`: `q1` is a suffix of `t1`, the middle units equal theirs, and `qk` is a prefix of
//!   `tk` (words compare whole, but for a prefix word at the end). So `"서버 설정"` matches
//!   `웹서버 설정을`, but not `서버를 설정`.
//!
//! # Rendering to terms
//!
//! Each clause becomes a positional phrase over the term stream (see [`crate::analyzer`]):
//! a word gives its term; a CJK unit of *n ≥ 2* characters gives its bigrams, followed by its
//! run-final unigram when another unit follows it in the clause (that unigram pins the end of
//! the run); a one-character CJK unit gives the unigram itself, which is a **prefix** term when
//! it is the clause's last unit; a prefix word gives its term as a prefix term (prefix terms
//! appear only at the end of a clause). The FTS5 and tsquery
//! renderings quote every term, so no input can change the query's structure.

use std::fmt;

use thiserror::Error;

use crate::analyzer::{UnitKind, for_each_unit, push_pg_quoted};

/// Longest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;

/// Most terms a query may render to, summed over its clauses.
pub const MAX_QUERY_TERMS: usize = 64;

/// Why a query cannot be run. Each variant is the user's input problem (HTTP 422).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum QueryError {
    #[error("the query has no searchable words")]
    Empty,
    #[error("the query is longer than {max_bytes} bytes")]
    TooLong { max_bytes: usize },
    #[error("the query has more than {max_terms} search terms")]
    TooManyTerms { max_terms: usize },
}

/// One unit of a query clause, in analyzer form (normalised, lowercased).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QueryUnit {
    pub kind: UnitKind,
    pub chars: Vec<char>,
    /// A word written with a `*` after it: matches every word it begins. Only ever set on
    /// the last unit of a clause, and only on a word.
    pub prefix: bool,
}

/// One clause: units that must appear consecutively, and the positional terms that say so.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phrase {
    units: Vec<QueryUnit>,
    terms: Vec<String>,
    last_is_prefix: bool,
}

impl Phrase {
    fn from_units(units: Vec<QueryUnit>) -> Self {
        let mut terms = Vec::new();
        let mut last_is_prefix = false;
        let count = units.len();
        for (index, unit) in units.iter().enumerate() {
            let is_last = index + 1 == count;
            match unit.kind {
                UnitKind::Word => {
                    terms.push(unit.chars.iter().collect());
                    last_is_prefix = is_last && unit.prefix;
                }
                UnitKind::Cjk => {
                    for pair in unit.chars.windows(2) {
                        terms.push(pair.iter().collect());
                    }
                    let ends_run = !is_last;
                    if ends_run || unit.chars.len() == 1 {
                        terms.push(unit.chars[unit.chars.len() - 1].to_string());
                    }
                    last_is_prefix = is_last && unit.chars.len() == 1;
                }
            }
        }
        Self {
            units,
            terms,
            last_is_prefix,
        }
    }

    /// The clause's units, in order.
    pub fn units(&self) -> &[QueryUnit] {
        &self.units
    }

    /// Terms that must sit at consecutive positions.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Whether the last term matches any term it is a prefix of. True exactly when the clause
    /// ends in a single CJK character or a prefix word (`back*`); such clauses cost a prefix
    /// scan in the index.
    pub fn last_is_prefix(&self) -> bool {
        self.last_is_prefix
    }
}

/// A parsed query: clauses that must all match.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    phrases: Vec<Phrase>,
}

impl Query {
    /// Parses user input. Never fails on syntax: anything that is not a word, a CJK character
    /// or a quote is a separator.
    pub fn parse(input: &str) -> Result<Self, QueryError> {
        if input.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong {
                max_bytes: MAX_QUERY_BYTES,
            });
        }
        let mut phrases: Vec<Phrase> = Vec::new();
        for clause in split_clauses(input) {
            let mut units = Vec::new();
            for_each_unit(clause, |kind, chars| {
                units.push(QueryUnit {
                    kind,
                    chars: chars.to_vec(),
                    prefix: false,
                })
            });
            if units.is_empty() {
                continue;
            }
            if ends_in_prefix_mark(clause)
                && let Some(last) = units.last_mut()
                && last.kind == UnitKind::Word
            {
                last.prefix = true;
            }
            let phrase = Phrase::from_units(units);
            // A repeated clause adds nothing to an AND but cost.
            if !phrases.contains(&phrase) {
                phrases.push(phrase);
            }
        }
        if phrases.is_empty() {
            return Err(QueryError::Empty);
        }
        let term_count: usize = phrases.iter().map(|p| p.terms.len()).sum();
        if term_count > MAX_QUERY_TERMS {
            return Err(QueryError::TooManyTerms {
                max_terms: MAX_QUERY_TERMS,
            });
        }
        Ok(Self { phrases })
    }

    /// The clauses, each of which must match.
    pub fn phrases(&self) -> &[Phrase] {
        &self.phrases
    }

    /// Whether some clause needs a prefix scan (a single CJK character or a prefix word at its
    /// end): the slow, still exact, path.
    pub fn has_prefix_terms(&self) -> bool {
        self.phrases.iter().any(Phrase::last_is_prefix)
    }

    /// The FTS5 `MATCH` expression: every clause a quoted phrase string, joined by `AND`, e.g.
    /// `"axum" AND "서버"`, `"서버 버 설정"`, `"회"*`. Searches every indexed column; wrap it
    /// as `{title body} : (…)` to restrict columns. Requires the `ascii` tokenizer (see the
    /// crate docs).
    pub fn to_fts5_match(&self) -> String {
        self.to_fts5_phrases().join(" AND ")
    }

    /// Each clause alone as an FTS5 MATCH expression, in the order [`Self::to_fts5_match`]
    /// joins them (FTS5 numbers the phrases of that expression in this order).
    pub fn to_fts5_phrases(&self) -> Vec<String> {
        self.phrases
            .iter()
            .map(|phrase| {
                let mut out = String::from('"');
                for (term_index, term) in phrase.terms.iter().enumerate() {
                    if term_index > 0 {
                        out.push(' ');
                    }
                    // FTS5 escapes a quote inside a string by doubling it. The term alphabet
                    // has no quotes; this keeps the renderer safe on its own.
                    out.push_str(&term.replace('"', "\"\""));
                }
                out.push('"');
                if phrase.last_is_prefix {
                    out.push('*');
                }
                out
            })
            .collect()
    }

    /// The PostgreSQL `tsquery` literal, to be bound as text and cast with `$1::tsquery`
    /// (never `to_tsquery`, whose parser would re-split terms): e.g.
    /// `'axum' & ('서버' <-> '버' <-> '설정')`, `'회':*`.
    pub fn to_tsquery_text(&self) -> String {
        let mut out = String::new();
        for (index, phrase) in self.phrases.iter().enumerate() {
            if index > 0 {
                out.push_str(" & ");
            }
            let grouped = phrase.terms.len() > 1;
            if grouped {
                out.push('(');
            }
            for (term_index, term) in phrase.terms.iter().enumerate() {
                if term_index > 0 {
                    out.push_str(" <-> ");
                }
                push_pg_quoted(&mut out, term);
            }
            if phrase.last_is_prefix {
                out.push_str(":*");
            }
            if grouped {
                out.push(')');
            }
        }
        out
    }
}

impl fmt::Display for Query {
    /// The query as analysed, one quoted clause per phrase: for logs and "searched for" lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, phrase) in self.phrases.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str("\"")?;
            for (unit_index, unit) in phrase.units.iter().enumerate() {
                if unit_index > 0 {
                    f.write_str(" ")?;
                }
                for c in &unit.chars {
                    write!(f, "{c}")?;
                }
                if unit.prefix {
                    f.write_str("*")?;
                }
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

/// Whether a clause ends in `*` written directly after a letter or digit (`back*`, `v2*`):
/// the mark of a prefix word.
fn ends_in_prefix_mark(clause: &str) -> bool {
    let Some(before) = clause.trim_end().strip_suffix('*') else {
        return false;
    };
    before
        .trim_end_matches('*')
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{FF02}')
}

/// Splits raw input into clause texts: quoted spans whole, the rest at whitespace.
fn split_clauses(input: &str) -> Vec<&str> {
    let mut clauses = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        if is_quote(first) {
            let inner = &rest[first.len_utf8()..];
            match inner.char_indices().find(|&(_, c)| is_quote(c)) {
                Some((end, closing)) => {
                    clauses.push(&inner[..end]);
                    rest = &inner[end + closing.len_utf8()..];
                }
                None => {
                    clauses.push(inner);
                    break;
                }
            }
        } else {
            let end = rest
                .char_indices()
                .find(|&(_, c)| c.is_whitespace() || is_quote(c))
                .map_or(rest.len(), |(i, _)| i);
            clauses.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms_of(query: &str) -> Vec<(Vec<String>, bool)> {
        Query::parse(query)
            .unwrap()
            .phrases()
            .iter()
            .map(|p| (p.terms().to_vec(), p.last_is_prefix()))
            .collect()
    }

    fn owned(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn a_korean_word_is_a_phrase_of_its_bigrams() {
        assert_eq!(
            terms_of("데이터베이스"),
            [(owned(&["데이", "이터", "터베", "베이", "이스"]), false)]
        );
    }

    #[test]
    fn a_single_syllable_is_a_prefix_term() {
        assert_eq!(terms_of("회"), [(owned(&["회"]), true)]);
        assert_eq!(Query::parse("회").unwrap().to_fts5_match(), "\"회\"*");
        assert_eq!(Query::parse("회").unwrap().to_tsquery_text(), "'회':*");
    }

    #[test]
    fn whitespace_separated_words_are_and_clauses() {
        assert_eq!(
            terms_of("Axum 서버"),
            [(owned(&["axum"]), false), (owned(&["서버"]), false)]
        );
        let query = Query::parse("Axum 서버").unwrap();
        assert_eq!(query.to_fts5_match(), "\"axum\" AND \"서버\"");
        assert_eq!(query.to_tsquery_text(), "'axum' & '서버'");
    }

    #[test]
    fn quoted_phrase_pins_inner_run_ends_with_the_run_final_unigram() {
        assert_eq!(
            terms_of("\"서버 설정\""),
            [(owned(&["서버", "버", "설정"]), false)]
        );
        let query = Query::parse("“서버 설정”").unwrap();
        assert_eq!(query.to_fts5_match(), "\"서버 버 설정\"");
        assert_eq!(query.to_tsquery_text(), "('서버' <-> '버' <-> '설정')");
    }

    #[test]
    fn glued_mixed_word_is_an_implicit_phrase() {
        assert_eq!(terms_of("axum서버"), [(owned(&["axum", "서버"]), false)]);
        assert_eq!(terms_of("3월"), [(owned(&["3", "월"]), true)]);
        assert_eq!(
            Query::parse("3월").unwrap().to_tsquery_text(),
            "('3' <-> '월':*)"
        );
    }

    #[test]
    fn empty_and_punctuation_only_queries_are_errors() {
        for input in [
            "",
            "   ",
            "!!! ... ---",
            "\"\"",
            "* : & | ( )",
            "\u{3000}、。",
        ] {
            assert_eq!(Query::parse(input), Err(QueryError::Empty), "{input:?}");
        }
    }

    #[test]
    fn oversized_queries_are_errors() {
        assert_eq!(
            Query::parse(&"a".repeat(MAX_QUERY_BYTES + 1)),
            Err(QueryError::TooLong {
                max_bytes: MAX_QUERY_BYTES
            })
        );
        let many: Vec<String> = (0..=MAX_QUERY_TERMS).map(|i| format!("w{i}")).collect();
        assert_eq!(
            Query::parse(&many.join(" ")),
            Err(QueryError::TooManyTerms {
                max_terms: MAX_QUERY_TERMS
            })
        );
    }

    #[test]
    fn repeated_clauses_collapse() {
        assert_eq!(
            Query::parse("서버 서버 SERVER server")
                .unwrap()
                .phrases()
                .len(),
            2
        );
    }

    #[test]
    fn operators_are_plain_words_and_punctuation_is_inert() {
        let query = Query::parse("a OR b NOT c NEAR(d e) title:x a&b|c !d (e) \\f * *g").unwrap();
        assert_eq!(
            query.to_fts5_match(),
            "\"a\" AND \"or\" AND \"b\" AND \"not\" AND \"c\" AND \"near d\" AND \"e\" AND \
             \"title x\" AND \"a b c\" AND \"d\" AND \"f\" AND \"g\""
        );
    }

    #[test]
    fn a_star_after_a_word_makes_it_a_prefix() {
        assert_eq!(terms_of("back*"), [(owned(&["back"]), true)]);
        let query = Query::parse("Back* 서버").unwrap();
        assert_eq!(query.to_fts5_match(), "\"back\"* AND \"서버\"");
        assert_eq!(query.to_tsquery_text(), "'back':* & '서버'");
        assert_eq!(query.to_string(), "\"back*\" \"서버\"");
        // The last word of a phrase, accents folded.
        assert_eq!(terms_of("tokio-ut*"), [(owned(&["tokio", "ut"]), true)]);
        assert_eq!(terms_of("\"café crè*\""), [(owned(&["cafe", "cre"]), true)]);
        // Not a prefix: a star apart from the word, before it, or after a CJK unit.
        assert_eq!(terms_of("back *"), [(owned(&["back"]), false)]);
        assert_eq!(terms_of("*back"), [(owned(&["back"]), false)]);
        assert_eq!(terms_of("서버*"), [(owned(&["서버"]), false)]);
        // A prefix clause and the whole word are two clauses.
        assert_eq!(Query::parse("back back*").unwrap().phrases().len(), 2);
    }

    #[test]
    fn unclosed_quote_runs_to_the_end() {
        assert_eq!(terms_of("\"axum 서버"), [(owned(&["axum", "서버"]), false)]);
    }

    #[test]
    fn display_shows_the_analysed_clauses() {
        assert_eq!(
            Query::parse("Axum서버 “회의 일정”").unwrap().to_string(),
            "\"axum 서버\" \"회의 일정\""
        );
    }
}
