//! The analyzer against a real SQLite FTS5 index, configured as the crate docs tell a store
//! to: the `ascii` tokenizer reads the term stream back intact, and for every query the FTS5
//! hit set equals the reference matcher's verdicts over the same rows.

mod common;

use std::collections::BTreeSet;

use jaryo_text::{Query, QueryError, index_terms, matches_fields, terms};
use proptest::prelude::*;
// Table names below come from a fixed list in this file, never from generated input.
use sqlx::{AssertSqlSafe, Connection, SqliteConnection};
use tokio::runtime::Runtime;
use unicode_normalization::UnicodeNormalization;

const DDL: &str = "CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body, tokenize = 'ascii', content = '', contentless_delete = 1)";
const DDL_WITH_PREFIX: &str = "CREATE VIRTUAL TABLE search_fts_prefix USING fts5(
    title, body, tokenize = 'ascii', content = '', contentless_delete = 1, prefix = '1')";

struct Index {
    runtime: Runtime,
    connection: SqliteConnection,
}

impl Index {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let connection = runtime.block_on(async {
            let mut connection = SqliteConnection::connect("sqlite::memory:")
                .await
                .expect("in-memory SQLite");
            for ddl in [DDL, DDL_WITH_PREFIX] {
                sqlx::query(ddl)
                    .execute(&mut connection)
                    .await
                    .expect("create FTS5 table");
            }
            connection
        });
        Self {
            runtime,
            connection,
        }
    }

    fn replace_all(&mut self, docs: &[(String, String)]) {
        self.runtime.block_on(async {
            for table in ["search_fts", "search_fts_prefix"] {
                sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
                    .execute(&mut self.connection)
                    .await
                    .expect("clear");
                for (rowid, (title, body)) in docs.iter().enumerate() {
                    sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO {table}(rowid, title, body) VALUES (?1, ?2, ?3)"
                    )))
                    .bind(rowid as i64)
                    .bind(index_terms(title))
                    .bind(index_terms(body))
                    .execute(&mut self.connection)
                    .await
                    .expect("insert");
                }
            }
        });
    }

    fn search(&mut self, table: &str, query: &Query) -> Result<BTreeSet<i64>, sqlx::Error> {
        self.runtime.block_on(async {
            let rows: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT rowid FROM {table} WHERE {table} MATCH ?1"
            )))
            .bind(query.to_fts5_match())
            .fetch_all(&mut self.connection)
            .await?;
            Ok(rows.into_iter().collect())
        })
    }

    fn ranked(&mut self, query: &Query) -> Vec<i64> {
        self.runtime.block_on(async {
            sqlx::query_scalar(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 \
                 ORDER BY bm25(search_fts, 10.0, 1.0)",
            )
            .bind(query.to_fts5_match())
            .fetch_all(&mut self.connection)
            .await
            .expect("ranked search")
        })
    }
}

fn expected(query: &Query, docs: &[(String, String)]) -> BTreeSet<i64> {
    docs.iter()
        .enumerate()
        .filter(|(_, (title, body))| matches_fields(query, &[title, body]))
        .map(|(rowid, _)| rowid as i64)
        .collect()
}

fn docs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(t, b)| (t.to_string(), b.to_string()))
        .collect()
}

fn hits(index: &mut Index, query: &str) -> BTreeSet<i64> {
    index
        .search("search_fts", &Query::parse(query).unwrap())
        .unwrap()
}

#[test]
fn the_ascii_tokenizer_reads_our_terms_back_intact_at_their_positions() {
    let mut index = Index::new();
    let body = "Axum서버를 재시작! 회의록: v1.2 (tokio_util) café 漢\u{FE00}字 ㅋㅋ 東京・大阪";
    index.replace_all(&docs(&[("", body)]));
    let stored: Vec<(String, i64)> = index.runtime.block_on(async {
        sqlx::query("CREATE VIRTUAL TABLE vocab USING fts5vocab(search_fts, 'instance')")
            .execute(&mut index.connection)
            .await
            .unwrap();
        sqlx::query_as("SELECT term, offset FROM vocab WHERE col = 'body' ORDER BY offset")
            .fetch_all(&mut index.connection)
            .await
            .unwrap()
    });
    let expected: Vec<(String, i64)> = terms(body)
        .into_iter()
        .enumerate()
        .map(|(position, term)| (term, position as i64))
        .collect();
    assert_eq!(stored, expected);
}

#[test]
fn korean_words_match_inside_inflected_forms_and_particles() {
    let mut index = Index::new();
    index.replace_all(&docs(&[
        ("", "서버를 재시작했다"),
        ("", "웹서버에서 오류가 났다"),
        ("", "서 버"),
        ("", "회의록을 정리했다"),
        ("", "다음 주 일정은 미정"),
    ]));
    assert_eq!(hits(&mut index, "서버"), BTreeSet::from([0, 1]));
    assert_eq!(hits(&mut index, "서버를"), BTreeSet::from([0]));
    assert_eq!(hits(&mut index, "회의"), BTreeSet::from([3]));
    assert_eq!(hits(&mut index, "일정"), BTreeSet::from([4]));
}

#[test]
fn single_syllables_find_every_run_containing_them() {
    let mut index = Index::new();
    index.replace_all(&docs(&[
        ("", "회의"),
        ("", "사회"),
        ("", "국회의원"),
        ("", "회"),
        ("", "의사"),
        ("", "C 언어"),
        ("", "cargo"),
    ]));
    assert_eq!(hits(&mut index, "회"), BTreeSet::from([0, 1, 2, 3]));
    assert_eq!(hits(&mut index, "c"), BTreeSet::from([5]));
}

#[test]
fn mixed_phrase_nfd_and_case_queries() {
    let mut index = Index::new();
    let nfd_body: String = "Axum으로 만든 서버 설정".nfd().collect();
    index.replace_all(&docs(&[
        ("", &nfd_body),
        ("", "axum만 있다"),
        ("", "서버를 설정"),
        ("AXUM서버", "본문"),
    ]));
    assert_eq!(hits(&mut index, "axum 서버"), BTreeSet::from([0, 3]));
    assert_eq!(hits(&mut index, "\"서버 설정\""), BTreeSet::from([0]));
    let nfd_query: String = "서버 설정".nfd().collect();
    assert_eq!(hits(&mut index, &nfd_query), BTreeSet::from([0, 2]));
    // Glued, it is a phrase: `Axum으로 … 서버` does not have 서버 right after axum.
    assert_eq!(hits(&mut index, "AXUM서버"), BTreeSet::from([3]));
}

#[test]
fn contentless_delete_removes_an_item_from_results() {
    let mut index = Index::new();
    index.replace_all(&docs(&[("", "서버 하나"), ("", "서버 둘")]));
    index.runtime.block_on(async {
        sqlx::query("DELETE FROM search_fts WHERE rowid = 0")
            .execute(&mut index.connection)
            .await
            .unwrap();
        sqlx::query("INSERT OR REPLACE INTO search_fts(rowid, title, body) VALUES (1, '', ?1)")
            .bind(index_terms("클라이언트 둘"))
            .execute(&mut index.connection)
            .await
            .unwrap();
    });
    assert!(hits(&mut index, "서버").is_empty());
    assert_eq!(hits(&mut index, "클라이언트"), BTreeSet::from([1]));
}

#[test]
fn title_weight_ranks_a_title_match_above_a_body_match() {
    let mut index = Index::new();
    index.replace_all(&docs(&[
        ("메모", "오늘 서버 점검"),
        ("서버 점검", "오늘 할 일"),
    ]));
    assert_eq!(index.ranked(&Query::parse("서버").unwrap()), [1, 0]);
}

#[test]
fn hostile_queries_never_break_the_match_syntax() {
    let mut index = Index::new();
    let corpus = docs(&[
        ("", "서버 설정 회의 일정"),
        ("", "title near and or not axum"),
        ("", "'서버' 설정"),
    ]);
    index.replace_all(&corpus);
    for input in common::HOSTILE_QUERIES {
        match Query::parse(input) {
            Ok(query) => {
                let found = index
                    .search("search_fts", &query)
                    .unwrap_or_else(|e| panic!("{input:?} → {query:?} failed in FTS5: {e}"));
                assert_eq!(found, expected(&query, &corpus), "{input:?}");
            }
            Err(error) => assert_eq!(error, QueryError::Empty, "{input:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The core conformance property: FTS5 over the term stream and the reference matcher
    /// agree on every generated query, with and without the one-character prefix index.
    #[test]
    fn fts5_hits_equal_the_reference_matcher(
        corpus in prop::collection::vec((common::text(), common::text()), 1..25),
        queries in prop::collection::vec(common::query(), 1..12),
    ) {
        thread_local!(static INDEX: std::cell::RefCell<Index> = std::cell::RefCell::new(Index::new()));
        INDEX.with(|index| {
            let mut index = index.borrow_mut();
            index.replace_all(&corpus);
            for input in &queries {
                let Ok(query) = Query::parse(input) else { continue };
                let want = expected(&query, &corpus);
                for table in ["search_fts", "search_fts_prefix"] {
                    let got = index.search(table, &query).expect("valid MATCH");
                    prop_assert_eq!(&got, &want, "{} query {:?} = {}", table, input, query.to_fts5_match());
                }
            }
            Ok(())
        })?;
    }

    /// Whatever the input, the rendered MATCH is valid FTS5, and a query finds the very text
    /// it was typed from.
    #[test]
    fn arbitrary_input_renders_a_valid_match(input in "\\PC{0,40}") {
        thread_local!(static INDEX: std::cell::RefCell<Index> = std::cell::RefCell::new(Index::new()));
        if let Ok(query) = Query::parse(&input) {
            INDEX.with(|index| {
                let mut index = index.borrow_mut();
                index.replace_all(&[(String::new(), input.clone())]);
                let result = index.search("search_fts", &query);
                prop_assert_eq!(result.ok(), Some(BTreeSet::from([0])), "{:?} → {}", input, query.to_fts5_match());
                Ok(())
            })?;
        }
    }
}
