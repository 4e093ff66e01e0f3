//! What several test files share: a database as an older jaryo left it.

use std::path::PathBuf;

/// A new database file in `dir` with only the first `migrations` of this crate applied (as a
/// jaryo from before the others made it), and a connection to fill it before the store of
/// this version opens it.
pub async fn database_at_migration(
    dir: &tempfile::TempDir,
    migrations: &[&str],
) -> (PathBuf, sqlx::SqlitePool) {
    let old_migrations = dir.path().join("old-migrations");
    std::fs::create_dir(&old_migrations).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for name in migrations {
        std::fs::copy(all.join(name), old_migrations.join(name)).unwrap();
    }
    let path = dir.path().join("jaryo.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate::Migrator::new(old_migrations.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    (path, pool)
}

/// Memo 3 ("예전 색인 메모") and document 5 ("예전 문서": "예전 색인 본문"), written straight
/// to the tables of an older database, and the stamp of an index built by analyzer 1 with the
/// default chunks: the caller adds their index rows as that jaryo numbered them.
pub async fn old_memo_and_document(pool: &sqlx::SqlitePool) {
    for sql in [
        "INSERT INTO memos (id, content, tags, created_at, updated_at) VALUES \
         (3, '예전 색인 메모', '[]', '2026-01-01T00:00:00.000000Z', \
          '2026-01-01T00:00:00.000000Z')",
        "INSERT INTO documents (id, title, extracted_text, content_origin, created_at, \
         updated_at) VALUES (5, '예전 문서', '예전 색인 본문', 'import', \
         '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
        "UPDATE search_index_state SET analyzer_version = 1, chunk_max_chars = 1200, \
         chunk_overlap_chars = 150",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
}
