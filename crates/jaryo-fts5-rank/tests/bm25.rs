//! `jaryo_rank` on a real SQLite FTS5 table: given the true document frequencies it scores
//! exactly as FTS5's `bm25`; without them a one-phrase query orders rows as `bm25` does.

use jaryo_fts5_rank::register;
use sqlx::{Connection, SqliteConnection};

/// The table as jaryo creates its index (contentless, deletable) unless `options` says else.
async fn connection_with_rows(rows: &[(&str, &str)]) -> SqliteConnection {
    connection_with_table(rows, "content = '', contentless_delete = 1").await
}

async fn connection_with_table(rows: &[(&str, &str)], options: &str) -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    register(&mut conn, "t").await.unwrap();
    let create =
        format!("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize = 'ascii', {options})");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(&mut conn)
        .await
        .unwrap();
    for (title, body) in rows {
        sqlx::query("INSERT INTO t (title, body) VALUES (?1, ?2)")
            .bind(title)
            .bind(body)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn
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

async fn ranks(
    conn: &mut SqliteConnection,
    sql: &str,
    query: &str,
    frequencies: Option<String>,
) -> Vec<(i64, f64)> {
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(query)
        .bind(frequencies)
        .fetch_all(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn with_true_frequencies_it_scores_exactly_as_bm25() {
    // jaryo's contentless index, and a table with its content, whose rows sizes FTS5 keeps
    // the same way.
    for options in ["content = '', contentless_delete = 1", "detail = full"] {
        let mut conn = connection_with_table(&corpus(), options).await;
        scores_exactly_as_bm25(&mut conn).await;
    }
}

async fn scores_exactly_as_bm25(conn: &mut SqliteConnection) {
    for (query, phrases) in [
        ("\"서버 버\"", vec!["\"서버 버\""]),
        ("axum AND \"서버 버\"", vec!["axum", "\"서버 버\""]),
        ("\"회의\" AND \"서버\"", vec!["\"회의\"", "\"서버\""]),
        ("axum AND \"배포 포\"", vec!["axum", "\"배포 포\""]),
    ] {
        let mut frequencies = Vec::new();
        for phrase in phrases {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t WHERE t MATCH ?1")
                .bind(phrase)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            frequencies.push(n as f64);
        }
        let ours = ranks(
            conn,
            "SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) FROM t WHERE t MATCH ?1 ORDER BY rowid",
            query,
            Some(serde_json::to_string(&frequencies).unwrap()),
        )
        .await;
        let builtin = ranks(
            conn,
            "SELECT rowid, bm25(t, 10.0, 1.0) + 0 * length(?2) FROM t WHERE t MATCH ?1 \
             ORDER BY rowid",
            query,
            Some(String::new()),
        )
        .await;
        assert!(!ours.is_empty(), "{query} matches something");
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

#[tokio::test]
async fn without_frequencies_one_phrase_orders_rows_as_bm25_does() {
    let mut conn = connection_with_rows(&corpus()).await;
    for query in ["\"서버 버\"", "axum", "\"회의\"", "\"배포\""] {
        let order =
            |rows: Vec<(i64, f64)>| rows.into_iter().map(|(row, _)| row).collect::<Vec<_>>();
        let ours = ranks(
            &mut conn,
            "SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) AS r FROM t WHERE t MATCH ?1 \
             ORDER BY r, rowid",
            query,
            None,
        )
        .await;
        let builtin = ranks(
            &mut conn,
            "SELECT rowid, bm25(t, 10.0, 1.0) + 0 * coalesce(?2, 0) AS r FROM t \
             WHERE t MATCH ?1 ORDER BY r, rowid",
            query,
            None,
        )
        .await;
        assert!(ours.len() > 1, "{query}");
        assert_eq!(order(ours.clone()), order(builtin), "{query}");
        // Lower ranks first, as with bm25: every score is negative.
        assert!(
            ours.iter().all(|(_, rank)| *rank < 0.0),
            "{query}: {ours:?}"
        );
    }
}

#[tokio::test]
async fn a_title_match_outranks_a_body_match_and_a_dense_short_row_a_long_one() {
    let mut conn = connection_with_rows(&[
        ("", "서버 버 이야기"),
        ("서버 버", "다른 이야기"),
        ("", "서버 버 서버 버 짧다"),
        (
            "",
            "서버 버 그리고 아주 긴 글 글이 이 이어진다 한참 참 동안 안 다른 른 말만 만 계속 속 한다 \
             끝날 날 줄 모르는 는 문장 장 들이 이 가득 득 하다",
        ),
    ])
    .await;
    let ours = ranks(
        &mut conn,
        "SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) AS r FROM t WHERE t MATCH ?1 ORDER BY r",
        "\"서버 버\"",
        None,
    )
    .await;
    let order: Vec<i64> = ours.iter().map(|(row, _)| *row).collect();
    assert_eq!(order, [2, 3, 1, 4]);
}

/// Frequencies that are not a JSON array of numbers are refused, not guessed at.
#[tokio::test]
async fn frequencies_of_the_wrong_shape_are_an_error() {
    let mut conn = connection_with_rows(&corpus()).await;
    for frequencies in ["{\"a\": 1}", "[1, \"two\"]", "not json"] {
        let result: Result<Vec<(i64, f64)>, _> =
            sqlx::query_as("SELECT rowid, jaryo_rank(t, 10.0, 1.0, ?2) FROM t WHERE t MATCH ?1")
                .bind("axum AND \"서버 버\"")
                .bind(frequencies)
                .fetch_all(&mut conn)
                .await;
        assert!(result.is_err(), "{frequencies} was taken");
    }
    let blob: Result<Vec<(i64, f64)>, _> =
        sqlx::query_as("SELECT rowid, jaryo_rank(t, 10.0, 1.0, x'00') FROM t WHERE t MATCH ?1")
            .bind("axum")
            .fetch_all(&mut conn)
            .await;
    assert!(blob.is_err());
}

/// Row sizes come from the table named at registration; ranking another table, the function
/// still scores with that table's own sizes (checked against FTS5, then FTS5's).
#[tokio::test]
async fn a_table_other_than_the_registered_one_is_ranked_with_its_own_sizes() {
    let mut conn = connection_with_rows(&[("", "서버 버 이야기"), ("", "서버 버")]).await;
    sqlx::query("CREATE VIRTUAL TABLE other USING fts5(title, body, tokenize = 'ascii')")
        .execute(&mut conn)
        .await
        .unwrap();
    for (title, body) in [
        ("", "서버 버 아주 긴 글 글이 이 계속 된다"),
        ("", "서버 버 짧다"),
    ] {
        sqlx::query("INSERT INTO other (title, body) VALUES (?1, ?2)")
            .bind(title)
            .bind(body)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let rows: Vec<(i64, f64)> = sqlx::query_as(
        "SELECT rowid, jaryo_rank(other, 10.0, 1.0) FROM other WHERE other MATCH ?1 ORDER BY rowid",
    )
    .bind("\"서버 버\"")
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let builtin: Vec<(i64, f64)> = sqlx::query_as(
        "SELECT rowid, bm25(other, 10.0, 1.0) FROM other WHERE other MATCH ?1 ORDER BY rowid",
    )
    .bind("\"서버 버\"")
    .fetch_all(&mut conn)
    .await
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

/// Stable plans do not freeze bound values: the same statement honours each new LIMIT and
/// MATCH expression.
#[tokio::test]
async fn with_stable_plans_each_binding_still_counts() {
    let mut conn = connection_with_rows(&corpus()).await;
    jaryo_fts5_rank::stable_query_plans(&mut conn)
        .await
        .unwrap();
    let sql = "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid LIMIT ?2";
    for (query, limit, expected) in [
        ("\"서버 버\"", 10, vec![1, 2, 3, 4]),
        ("\"서버 버\"", 2, vec![1, 2]),
        ("axum", 10, vec![1, 4, 5]),
        ("axum", 1, vec![1]),
    ] {
        let rows: Vec<i64> = sqlx::query_scalar(sql)
            .bind(query)
            .bind(limit)
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(rows, expected, "{query} limit {limit}");
    }
}
