//! `jaryo_top` on real SQLite: the page it keeps is the page `ORDER BY rank, rowid LIMIT k`
//! gives, after any cursor, with the ranks bit for bit; and it counts every row per group.

use jaryo_fts5_rank::register;
use sqlx::{Connection, SqliteConnection};

/// A connection with the functions registered and a table of 200 rows whose ranks repeat
/// (ties broken by row id) and include integers.
async fn connection() -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    // The aggregate needs no FTS5 table; registering names one all the same.
    register(&mut conn, "t").await.unwrap();
    sqlx::query(
        "CREATE TABLE r AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
         WHERE i < 200) SELECT i * 7919 % 1000 AS rowid, \
         CASE WHEN i % 10 = 0 THEN -(i % 3) ELSE -((i * 37 % 41) / 7.0) END AS rank, \
         i % 3 AS grp FROM n",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}

#[derive(Debug, serde::Deserialize)]
struct TopResult {
    top: Vec<(i64, i64)>,
    groups: Vec<(i64, Option<i64>)>,
}

async fn top(conn: &mut SqliteConnection, k: i64, after: (Option<f64>, Option<i64>)) -> TopResult {
    let json: String = sqlx::query_scalar("SELECT jaryo_top(?1, ?2, ?3, rowid, rank, grp) FROM r")
        .bind(k)
        .bind(after.0)
        .bind(after.1)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

async fn ordered(
    conn: &mut SqliteConnection,
    k: i64,
    after: (Option<f64>, Option<i64>),
) -> Vec<(i64, f64)> {
    sqlx::query_as(
        "SELECT rowid, CAST(rank AS REAL) FROM r WHERE ?2 IS NULL OR rank > ?2 OR (rank = ?2 AND rowid > ?3) \
         ORDER BY rank, rowid LIMIT ?1",
    )
    .bind(k)
    .bind(after.0)
    .bind(after.1)
    .fetch_all(&mut *conn)
    .await
    .unwrap()
}

fn as_bits(rows: &[(i64, f64)]) -> Vec<(i64, i64)> {
    rows.iter()
        .map(|&(rowid, rank)| (rowid, rank.to_bits() as i64))
        .collect()
}

#[tokio::test]
async fn every_page_is_the_page_order_by_limit_gives_bit_for_bit() {
    let mut conn = connection().await;
    for k in [0, 1, 20, 199, 200, 500] {
        let kept = top(&mut conn, k, (None, None)).await;
        assert_eq!(
            kept.top,
            as_bits(&ordered(&mut conn, k, (None, None)).await),
            "k {k}"
        );
    }
    // Paging with the last row of each page as the cursor walks every row once, in order.
    let mut after = (None, None);
    let mut walked = Vec::new();
    loop {
        let page = top(&mut conn, 21, after).await;
        assert_eq!(page.top, as_bits(&ordered(&mut conn, 21, after).await));
        let Some(&(rowid, bits)) = page.top.last() else {
            break;
        };
        walked.extend(page.top.iter().copied());
        after = (Some(f64::from_bits(bits as u64)), Some(rowid));
    }
    assert_eq!(
        walked,
        as_bits(&ordered(&mut conn, 1000, (None, None)).await)
    );
    assert_eq!(walked.len(), 200);
}

#[tokio::test]
async fn each_group_counts_its_rows_and_greatest_row_id_whatever_the_cursor() {
    let mut conn = connection().await;
    let expected: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT count(*), max(rowid) FROM r GROUP BY grp ORDER BY grp")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for after in [
        (None, None),
        (Some(-1.0), Some(500)),
        (Some(0.0), Some(i64::MAX)),
    ] {
        assert_eq!(top(&mut conn, 5, after).await.groups, expected, "{after:?}");
    }
    // No rows: nothing kept, no groups.
    let empty: String =
        sqlx::query_scalar("SELECT jaryo_top(5, NULL, NULL, rowid, rank, grp) FROM r WHERE 0")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(empty, r#"{"top":[],"groups":[]}"#);
}

#[tokio::test]
async fn arguments_of_the_wrong_kind_are_an_error() {
    let mut conn = connection().await;
    for (args, error) in [
        ("-1, NULL, NULL, rowid, rank, grp", "k must be"),
        ("'5', NULL, NULL, rowid, rank, grp", "k must be"),
        ("5, NULL, NULL, 'x', rank, grp", "rowid must be"),
        ("5, NULL, NULL, rowid, NULL, grp", "rank must be"),
        ("5, NULL, NULL, rowid, rank, 64", "grp must be"),
        ("5, NULL, NULL, rowid, rank, -1", "grp must be"),
    ] {
        let sql = format!("SELECT jaryo_top({args}) FROM r");
        let failure = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .expect_err(args);
        assert!(failure.to_string().contains(error), "{args}: {failure}");
    }
}
