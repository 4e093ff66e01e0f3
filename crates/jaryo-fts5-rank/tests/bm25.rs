//! `jaryo_rank` on a real SQLite FTS5 table: given the true document frequencies it scores
//! exactly as FTS5's `bm25`, whether the row sizes come from the lengths blocks or, where
//! those are missing or disagree with FTS5, from FTS5 itself; without frequencies a one-phrase
//! query orders rows as `bm25` does.

use jaryo_fts5_rank::lengths::{Block, block_of, row_tokens};
use jaryo_fts5_rank::register;
use rusqlite::{Connection, params};
use std::collections::BTreeMap;

const LENGTHS: &str = "t_lengths";

/// The table as jaryo creates its index (contentless, deletable) unless `options` says else,
/// with the lengths table beside it, unfilled.
fn connection_with_table(rows: &[(&str, &str)], options: &str) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    register(&conn, LENGTHS).unwrap();
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize = 'ascii', {options}); \
         CREATE TABLE {LENGTHS} (block INTEGER PRIMARY KEY, sizes BLOB NOT NULL);"
    ))
    .unwrap();
    for (title, body) in rows {
        conn.execute(
            "INSERT INTO t (title, body) VALUES (?1, ?2)",
            params![title, body],
        )
        .unwrap();
    }
    conn
}

/// jaryo's table with its lengths blocks kept as the store keeps them.
fn connection_with_rows(rows: &[(&str, &str)]) -> Connection {
    let conn = connection_with_table(rows, "content = '', contentless_delete = 1");
    let sizes: Vec<(i64, u32)> = rows
        .iter()
        .enumerate()
        .map(|(index, (title, body))| (index as i64 + 1, row_tokens([*title, *body])))
        .collect();
    write_sizes(&conn, &sizes);
    conn
}

/// Records these rows' sizes in their blocks, as a writer of the table does.
fn write_sizes(conn: &Connection, sizes: &[(i64, u32)]) {
    let mut blocks: BTreeMap<i64, Block> = BTreeMap::new();
    for &(rowid, tokens) in sizes {
        let block = blocks.entry(block_of(rowid)).or_insert_with(|| {
            conn.query_row(
                &format!("SELECT sizes FROM {LENGTHS} WHERE block = ?1"),
                [block_of(rowid)],
                |row| row.get(0),
            )
            .map(Block::from_stored)
            .unwrap_or_default()
        });
        block.set(rowid, tokens);
    }
    for (number, block) in blocks {
        conn.execute(
            &format!("INSERT OR REPLACE INTO {LENGTHS} (block, sizes) VALUES (?1, ?2)"),
            params![number, block.as_bytes()],
        )
        .unwrap();
    }
}

/// Rows in the shape the analyzer writes: space-separated terms, Korean as bigrams.
fn corpus() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "서버 버 설정",
            "axum 서버 버를 를 띄우고 설정 정을 을 바꿨다",
        ),
        ("회의 의록 록", "회의 의에 에서 서버 버 배포 포를 를 정했다"),
        ("", "서버 버 서버 버 서버 버"),
        (
            "메모",
            "axum tokio 서버 버 로그 그를 를 보고 회의 의를 를 잡았다 긴 글 글이 이 계속 된다",
        ),
        ("배포 포 일정 정", "다음 주 배포 포 일정 정 axum"),
        ("", "관계 없는 는 글"),
    ]
}

fn ranks(
    conn: &Connection,
    sql: &str,
    query: &str,
    frequencies: Option<String>,
) -> rusqlite::Result<Ranks> {
    let mut statement = conn.prepare(sql)?;
    statement
        .query_map(params![query, frequencies], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect()
}

/// Each row's rank.
type Ranks = Vec<(i64, f64)>;

/// `jaryo_rank` with the true frequencies, and `bm25`, for each row of each query.
fn ours_and_bm25(conn: &Connection) -> Vec<(String, Ranks, Ranks)> {
    let mut compared = Vec::new();
    for (query, phrases) in [
        ("\"서버 버\"", vec!["\"서버 버\""]),
        ("axum AND \"서버 버\"", vec!["axum", "\"서버 버\""]),
        ("\"회의\" AND \"서버\"", vec!["\"회의\"", "\"서버\""]),
        ("axum AND \"배포 포\"", vec!["axum", "\"배포 포\""]),
    ] {
        let frequencies: Vec<f64> = phrases
            .iter()
            .map(|phrase| {
                conn.query_row("SELECT count(*) FROM t WHERE t MATCH ?1", [phrase], |row| {
                    row.get::<_, i64>(0)
                })
                .unwrap() as f64
            })
            .collect();
        let ours = ranks(
            conn,
            "SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) FROM t WHERE t MATCH ?1 ORDER BY rowid",
            query,
            Some(serde_json::to_string(&frequencies).unwrap()),
        )
        .unwrap();
        let builtin = ranks(
            conn,
            "SELECT rowid, bm25(t, 10.0, 1.0) + 0 * length(?2) FROM t WHERE t MATCH ?1 \
             ORDER BY rowid",
            query,
            Some(String::new()),
        )
        .unwrap();
        assert!(!ours.is_empty(), "{query} matches something");
        compared.push((query.to_owned(), ours, builtin));
    }
    compared
}

fn assert_scores_exactly_as_bm25(conn: &Connection) {
    for (query, ours, builtin) in ours_and_bm25(conn) {
        assert_eq!(ours.len(), builtin.len());
        for ((row, score), (builtin_row, builtin_score)) in ours.iter().zip(&builtin) {
            assert_eq!(row, builtin_row);
            assert!(
                (score - builtin_score).abs() < 1e-9,
                "{query}: row {row}: {score} vs bm25 {builtin_score}"
            );
        }
    }
}

#[test]
fn with_true_frequencies_and_kept_blocks_it_scores_exactly_as_bm25() {
    assert_scores_exactly_as_bm25(&connection_with_rows(&corpus()));
}

#[test]
fn where_blocks_are_missing_or_wrong_fts5_sizes_serve_and_scores_stay_exact() {
    // No block at all; and a table with its content, whose sizes FTS5 keeps the same way.
    for options in ["content = '', contentless_delete = 1", "detail = full"] {
        assert_scores_exactly_as_bm25(&connection_with_table(&corpus(), options));
    }
    // Blocks that know some rows and not others.
    let conn = connection_with_table(&corpus(), "content = '', contentless_delete = 1");
    write_sizes(&conn, &[(2, row_tokens([corpus()[1].0, corpus()[1].1]))]);
    assert_scores_exactly_as_bm25(&conn);
    // Blocks that contradict FTS5 on the first row a query ranks: not trusted at all.
    let conn = connection_with_rows(&corpus());
    write_sizes(&conn, &[(1, 99), (2, 99), (3, 99), (4, 99), (5, 99)]);
    assert_scores_exactly_as_bm25(&conn);
    // A lengths table without the table: no blocks, FTS5's sizes.
    let conn = connection_with_table(&corpus(), "content = '', contentless_delete = 1");
    conn.execute_batch(&format!("DROP TABLE {LENGTHS}"))
        .unwrap();
    assert_scores_exactly_as_bm25(&conn);
}

/// The blocks are what ranking reads (once the first row agrees with FTS5): a later row whose
/// block says it is longer scores lower than `bm25` gives it.
#[test]
fn sizes_are_read_from_the_blocks() {
    let conn = connection_with_rows(&corpus());
    // Row 3 matches "서버 버" after rows 1 and 2; the first row still agrees with FTS5.
    write_sizes(&conn, &[(3, 600)]);
    let compared = ours_and_bm25(&conn);
    let (_, ours, builtin) = &compared[0];
    let score = |rows: &[(i64, f64)], row: i64| rows.iter().find(|r| r.0 == row).unwrap().1;
    assert!((score(ours, 1) - score(builtin, 1)).abs() < 1e-9);
    // 600 tokens instead of 6: less than half the score.
    assert!(
        score(ours, 3).abs() < score(builtin, 3).abs() / 2.0,
        "{ours:?} {builtin:?}"
    );
}

#[test]
fn without_frequencies_one_phrase_orders_rows_as_bm25_does() {
    let conn = connection_with_rows(&corpus());
    for query in ["\"서버 버\"", "axum", "\"회의\"", "\"배포\""] {
        let order =
            |rows: Vec<(i64, f64)>| rows.into_iter().map(|(row, _)| row).collect::<Vec<_>>();
        let ours = ranks(
            &conn,
            "SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) AS r FROM t WHERE t MATCH ?1 \
             ORDER BY r, rowid",
            query,
            None,
        )
        .unwrap();
        let builtin = ranks(
            &conn,
            "SELECT rowid, bm25(t, 10.0, 1.0) + 0 * coalesce(?2, 0) AS r FROM t \
             WHERE t MATCH ?1 ORDER BY r, rowid",
            query,
            None,
        )
        .unwrap();
        assert!(ours.len() > 1, "{query}");
        assert_eq!(order(ours.clone()), order(builtin), "{query}");
        // Lower ranks first, as with bm25: every score is negative.
        assert!(
            ours.iter().all(|(_, rank)| *rank < 0.0),
            "{query}: {ours:?}"
        );
    }
}

#[test]
fn a_title_match_outranks_a_body_match_and_a_dense_short_row_a_long_one() {
    let conn = connection_with_rows(&[
        ("", "서버 버 이야기"),
        ("서버 버", "다른 이야기"),
        ("", "서버 버 서버 버 짧다"),
        (
            "",
            "서버 버 그리고 아주 긴 글 글이 이 이어진다 한참 참 동안 안 다른 른 말만 만 계속 속 한다 \
             끝날 날 줄 모르는 는 문장 장 들이 이 가득 득 하다",
        ),
    ]);
    let ours = ranks(
        &conn,
        "SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) AS r FROM t WHERE t MATCH ?1 ORDER BY r",
        "\"서버 버\"",
        None,
    )
    .unwrap();
    let order: Vec<i64> = ours.iter().map(|(row, _)| *row).collect();
    assert_eq!(order, [2, 3, 1, 4]);
}

/// Frequencies that are not a JSON array of numbers are refused, not guessed at.
#[test]
fn frequencies_of_the_wrong_shape_are_an_error() {
    let conn = connection_with_rows(&corpus());
    for frequencies in ["{\"a\": 1}", "[1, \"two\"]", "not json"] {
        let result = ranks(
            &conn,
            "SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) FROM t WHERE t MATCH ?1",
            "axum AND \"서버 버\"",
            Some(frequencies.to_owned()),
        );
        assert!(result.is_err(), "{frequencies} was taken");
    }
    let blob = ranks(
        &conn,
        "SELECT rowid, jaryo_rank(t, 10.0, 1.0, x'00') + 0 * coalesce(?2, 0) FROM t \
         WHERE t MATCH ?1",
        "axum",
        None,
    );
    assert!(blob.is_err());
}

/// Ranking an FTS5 table other than the one whose blocks were registered, the function still
/// scores with that table's own sizes (its first row disagrees with the blocks).
#[test]
fn a_table_other_than_the_registered_one_is_ranked_with_its_own_sizes() {
    let conn = connection_with_rows(&[("", "서버 버 이야기"), ("", "서버 버")]);
    conn.execute_batch("CREATE VIRTUAL TABLE other USING fts5(title, body, tokenize = 'ascii')")
        .unwrap();
    for (title, body) in [
        ("", "서버 버 아주 긴 글 글이 이 계속 된다"),
        ("", "서버 버 짧다"),
    ] {
        conn.execute(
            "INSERT INTO other (title, body) VALUES (?1, ?2)",
            params![title, body],
        )
        .unwrap();
    }
    let rows = ranks(
        &conn,
        "SELECT rowid, jaryo_rank(other, 10.0, 1.0) + 0 * coalesce(?2, 0) FROM other \
         WHERE other MATCH ?1 ORDER BY rowid",
        "\"서버 버\"",
        None,
    )
    .unwrap();
    let builtin = ranks(
        &conn,
        "SELECT rowid, bm25(other, 10.0, 1.0) + 0 * coalesce(?2, 0) FROM other \
         WHERE other MATCH ?1 ORDER BY rowid",
        "\"서버 버\"",
        None,
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    for ((_, ours), (_, theirs)) in rows.iter().zip(&builtin) {
        // One phrase: no frequencies, so scores differ from bm25 by its IDF factor alone.
        let ratio = ours / theirs;
        assert!(
            (ratio - rows[0].1 / builtin[0].1).abs() < 1e-9,
            "{rows:?} {builtin:?}"
        );
    }
}

/// The counting the store does for the blocks is FTS5's own: for every row, the size FTS5
/// records equals `row_tokens` of its columns.
#[test]
fn row_tokens_counts_as_fts5_does() {
    let rows = [
        ("서버 버 설정", "axum 서버 버를 를"),
        ("", "c++ v0.1-rc 2024-01-02 a…b ü"),
        ("Title", "  spaced   out  "),
        ("", ""),
    ];
    let conn = connection_with_table(&rows, "detail = full");
    for (index, (title, body)) in rows.iter().enumerate() {
        let fts5: i64 = conn
            .query_row(
                "SELECT sz FROM t_docsize WHERE id = ?1",
                [index as i64 + 1],
                |row| row.get::<_, Vec<u8>>(0),
            )
            // One varint per column, one byte each: every count here is below 128.
            .map(|record| record.iter().map(|&varint| i64::from(varint)).sum())
            .unwrap();
        assert_eq!(
            i64::from(row_tokens([*title, *body])),
            fts5,
            "{title:?} {body:?}"
        );
    }
}
