//! The analyzer against a real PostgreSQL, used as the crate docs tell a store to: bound
//! `tsvector`/`tsquery` literals cast with `::tsvector`/`::tsquery`. Lexemes and positions
//! arrive intact, and `@@` agrees with the reference matcher on every generated query.
//!
//! Needs a PostgreSQL server: `JARYO_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres` (the development machines run one). No table
//! is created; every check is an expression over bound values.

mod common;

use std::collections::BTreeSet;

use jaryo_text::{Query, QueryError, TsWeight, matches_fields, pg_tsvector_literal, terms};
use proptest::prelude::*;
use sqlx::{Connection, PgConnection};
use tokio::runtime::Runtime;

struct Postgres {
    runtime: Runtime,
    connection: PgConnection,
}

impl Postgres {
    fn connect() -> Self {
        let url = std::env::var("JARYO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let connection = runtime
            .block_on(PgConnection::connect(&url))
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} (set JARYO_TEST_POSTGRES_URL): {e}"));
        Self {
            runtime,
            connection,
        }
    }

    /// Indices of the documents whose tsvector matches the query.
    fn search(
        &mut self,
        documents: &[(String, String)],
        query: &Query,
    ) -> Result<BTreeSet<i64>, sqlx::Error> {
        let vectors: Vec<String> = documents
            .iter()
            .map(|(title, body)| pg_tsvector_literal(&[(title, TsWeight::A), (body, TsWeight::D)]))
            .collect();
        self.runtime.block_on(async {
            let rows: Vec<i64> = sqlx::query_scalar(
                "SELECT (d.i - 1)::int8 FROM unnest($1::text[]) WITH ORDINALITY AS d(v, i) \
                 WHERE d.v::tsvector @@ $2::tsquery",
            )
            .bind(vectors)
            .bind(query.to_tsquery_text())
            .fetch_all(&mut self.connection)
            .await?;
            Ok(rows.into_iter().collect())
        })
    }
}

fn expected(query: &Query, documents: &[(String, String)]) -> BTreeSet<i64> {
    documents
        .iter()
        .enumerate()
        .filter(|(_, (title, body))| matches_fields(query, &[title, body]))
        .map(|(i, _)| i as i64)
        .collect()
}

#[test]
fn tsvector_literals_keep_lexemes_positions_and_weights() {
    let mut pg = Postgres::connect();
    let title = "Axum 서버";
    let body = "Axum서버를 재시작! 회의록: v1.2 (tokio_util) café हिन्दी 漢字 ㅋㅋ";
    let literal = pg_tsvector_literal(&[(title, TsWeight::A), (body, TsWeight::D)]);
    let stored: Vec<(String, Vec<i16>, Vec<String>)> = pg.runtime.block_on(async {
        sqlx::query_as("SELECT lexeme, positions, weights FROM unnest($1::tsvector)")
            .bind(&literal)
            .fetch_all(&mut pg.connection)
            .await
            .expect("unnest tsvector")
    });
    let mut want: Vec<(String, Vec<i16>, Vec<String>)> = Vec::new();
    let title_terms = terms(title);
    let body_start = title_terms.len() + 2; // positions from 1, then one gap position
    let placed = title_terms
        .into_iter()
        .enumerate()
        .map(|(i, t)| (t, i + 1, "A"))
        .chain(
            terms(body)
                .into_iter()
                .enumerate()
                .map(|(i, t)| (t, body_start + i, "D")),
        );
    for (term, position, weight) in placed {
        match want.iter_mut().find(|(lexeme, _, _)| *lexeme == term) {
            Some((_, positions, weights)) => {
                positions.push(position as i16);
                weights.push(weight.to_owned());
            }
            None => want.push((term, vec![position as i16], vec![weight.to_owned()])),
        }
    }
    let mut stored = stored;
    stored.sort();
    want.sort();
    assert_eq!(stored, want);
}

#[test]
fn korean_mixed_single_character_and_phrase_queries() {
    let mut pg = Postgres::connect();
    let documents: Vec<(String, String)> = [
        ("", "서버를 재시작했다"),
        ("", "웹서버 설정을 바꿨다"),
        ("", "회의록을 정리했다"),
        ("", "국회의원"),
        ("Axum", "메모"),
        ("", "서버를 설정"),
    ]
    .iter()
    .map(|(t, b)| (t.to_string(), b.to_string()))
    .collect();
    let cases: &[(&str, &[i64])] = &[
        ("서버", &[0, 1, 5]),
        ("회의", &[2, 3]),
        ("회", &[2, 3]),
        ("\"서버 설정\"", &[1]),
        ("axum 메모", &[4]),
        ("\"axum 메모\"", &[]),
    ];
    for (input, want) in cases {
        let query = Query::parse(input).unwrap();
        let got = pg.search(&documents, &query).unwrap();
        assert_eq!(got, want.iter().copied().collect(), "{input}");
        assert_eq!(got, expected(&query, &documents), "{input}");
    }
}

#[test]
fn hostile_queries_never_break_the_tsquery_syntax() {
    let mut pg = Postgres::connect();
    let documents = vec![
        (String::new(), "서버 설정 회의 일정".to_owned()),
        (String::new(), "'서버' 설정 and or not".to_owned()),
    ];
    for input in common::HOSTILE_QUERIES {
        match Query::parse(input) {
            Ok(query) => {
                let got = pg.search(&documents, &query).unwrap_or_else(|e| {
                    panic!(
                        "{input:?} → {} failed in PostgreSQL: {e}",
                        query.to_tsquery_text()
                    )
                });
                assert_eq!(got, expected(&query, &documents), "{input:?}");
            }
            Err(error) => assert_eq!(error, QueryError::Empty, "{input:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn tsquery_hits_equal_the_reference_matcher(
        documents in prop::collection::vec((common::text(), common::text()), 1..25),
        queries in prop::collection::vec(common::query(), 1..10),
    ) {
        thread_local!(static PG: std::cell::RefCell<Postgres> = std::cell::RefCell::new(Postgres::connect()));
        PG.with(|pg| {
            let mut pg = pg.borrow_mut();
            for input in &queries {
                let Ok(query) = Query::parse(input) else { continue };
                let got = pg.search(&documents, &query).expect("valid tsquery");
                prop_assert_eq!(got, expected(&query, &documents), "query {:?} = {}", input, query.to_tsquery_text());
            }
            Ok(())
        })?;
    }

    #[test]
    fn arbitrary_input_renders_a_valid_tsquery(input in "\\PC{0,40}") {
        thread_local!(static PG: std::cell::RefCell<Postgres> = std::cell::RefCell::new(Postgres::connect()));
        if let Ok(query) = Query::parse(&input) {
            PG.with(|pg| {
                let result = pg.borrow_mut().search(&[(String::new(), input.clone())], &query);
                prop_assert_eq!(result.ok(), Some(BTreeSet::from([0])), "{:?} → {}", input, query.to_tsquery_text());
                Ok(())
            })?;
        }
    }
}
