//! `jaryo_top` on real SQLite: the page it keeps is the page `ORDER BY rank, rowid LIMIT k`
//! gives, after any cursor, with the ranks bit for bit; and it counts every row per group.

use jaryo_fts5_rank::register;
use rusqlite::{Connection, params};

/// A connection with the functions registered and a table of 200 rows whose ranks repeat
/// (ties broken by row id) and include integers.
fn connection() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    // The aggregate needs no FTS5 table nor lengths; registering names a table all the same.
    register(&conn, "t_lengths").unwrap();
    conn.execute_batch(
        "CREATE TABLE r AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
         WHERE i < 200) SELECT i * 7919 % 1000 AS rowid, \
         CASE WHEN i % 10 = 0 THEN -(i % 3) ELSE -((i * 37 % 41) / 7.0) END AS rank, \
         i % 3 AS grp FROM n",
    )
    .unwrap();
    conn
}

#[derive(Debug, serde::Deserialize)]
struct TopResult {
    top: Vec<(i64, i64)>,
    groups: Vec<(i64, Option<i64>)>,
}

type Cursor = (Option<f64>, Option<i64>);

fn top(conn: &Connection, k: i64, after: Cursor) -> TopResult {
    let json: String = conn
        .query_row(
            "SELECT jaryo_top(?1, ?2, ?3, rowid, rank, grp) FROM r",
            params![k, after.0, after.1],
            |row| row.get(0),
        )
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

fn ordered(conn: &Connection, k: i64, after: Cursor) -> Vec<(i64, f64)> {
    let mut statement = conn
        .prepare(
            "SELECT rowid, CAST(rank AS REAL) FROM r \
             WHERE ?2 IS NULL OR rank > ?2 OR (rank = ?2 AND rowid > ?3) \
             ORDER BY rank, rowid LIMIT ?1",
        )
        .unwrap();
    statement
        .query_map(params![k, after.0, after.1], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn as_bits(rows: &[(i64, f64)]) -> Vec<(i64, i64)> {
    rows.iter()
        .map(|&(rowid, rank)| (rowid, rank.to_bits() as i64))
        .collect()
}

#[test]
fn every_page_is_the_page_order_by_limit_gives_bit_for_bit() {
    let conn = connection();
    for k in [0, 1, 20, 199, 200, 500] {
        let kept = top(&conn, k, (None, None));
        assert_eq!(kept.top, as_bits(&ordered(&conn, k, (None, None))), "k {k}");
    }
    // Paging with the last row of each page as the cursor walks every row once, in order.
    let mut after = (None, None);
    let mut walked = Vec::new();
    loop {
        let page = top(&conn, 21, after);
        assert_eq!(page.top, as_bits(&ordered(&conn, 21, after)));
        let Some(&(rowid, bits)) = page.top.last() else {
            break;
        };
        walked.extend(page.top.iter().copied());
        after = (Some(f64::from_bits(bits as u64)), Some(rowid));
    }
    assert_eq!(walked, as_bits(&ordered(&conn, 1000, (None, None))));
    assert_eq!(walked.len(), 200);
}

#[test]
fn each_group_counts_its_rows_and_greatest_row_id_whatever_the_cursor() {
    let conn = connection();
    let expected: Vec<(i64, Option<i64>)> = conn
        .prepare("SELECT count(*), max(rowid) FROM r GROUP BY grp ORDER BY grp")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for after in [
        (None, None),
        (Some(-1.0), Some(500)),
        (Some(0.0), Some(i64::MAX)),
    ] {
        assert_eq!(top(&conn, 5, after).groups, expected, "{after:?}");
    }
    // No rows: nothing kept, no groups.
    let empty: String = conn
        .query_row(
            "SELECT jaryo_top(5, NULL, NULL, rowid, rank, grp) FROM r WHERE 0",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(empty, r#"{"top":[],"groups":[]}"#);
}

#[test]
fn arguments_of_the_wrong_kind_are_an_error() {
    let conn = connection();
    for (args, error) in [
        ("-1, NULL, NULL, rowid, rank, grp", "k must be"),
        ("'5', NULL, NULL, rowid, rank, grp", "k must be"),
        ("5, NULL, NULL, 'x', rank, grp", "rowid must be"),
        ("5, NULL, NULL, rowid, NULL, grp", "rank must be"),
        ("5, NULL, NULL, rowid, rank, 64", "grp must be"),
        ("5, NULL, NULL, rowid, rank, -1", "grp must be"),
    ] {
        let failure = conn
            .query_row(&format!("SELECT jaryo_top({args}) FROM r"), [], |row| {
                row.get::<_, String>(0)
            })
            .expect_err(args);
        assert!(failure.to_string().contains(error), "{args}: {failure}");
    }
}
