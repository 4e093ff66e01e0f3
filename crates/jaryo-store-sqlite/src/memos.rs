//! Memo rows and their tags.

use crate::SqliteStore;
use crate::codec::{decode_time, encode_time, execute_with_rows, map_error};
use crate::search::{MemoEntry, index_edited_memo, unindex_memo};
use jaryo_domain::{DocumentId, Memo, MemoId, MemoText};
use jaryo_store::{MemoFilter, Page, PageRequest, StoreError, StoreResult, TagCount};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

macro_rules! memo_columns {
    () => {
        "id, content, tags, document_id, created_at, updated_at, version"
    };
}

fn decode(row: &SqliteRow) -> StoreResult<Memo> {
    let tags: String = row.try_get("tags").map_err(map_error)?;
    Ok(Memo {
        id: MemoId(row.try_get("id").map_err(map_error)?),
        content: row.try_get("content").map_err(map_error)?,
        tags: serde_json::from_str(&tags).map_err(StoreError::internal)?,
        document_id: row
            .try_get::<Option<i64>, _>("document_id")
            .map_err(map_error)?
            .map(DocumentId),
        created_at: decode_time(row.try_get("created_at").map_err(map_error)?)?,
        updated_at: decode_time(row.try_get("updated_at").map_err(map_error)?)?,
        version: row.try_get("version").map_err(map_error)?,
    })
}

fn not_found(id: MemoId) -> StoreError {
    StoreError::NotFound {
        entity: "memo",
        id: id.0,
    }
}

pub(crate) async fn replace_tags(
    conn: &mut SqliteConnection,
    id: MemoId,
    tags: &[String],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM memo_tags WHERE memo_id = ?1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    insert_tags(conn, &[(id, tags)]).await
}

/// Adds the tag rows of memos, in one statement.
pub(crate) async fn insert_tags(
    conn: &mut SqliteConnection,
    memos: &[(MemoId, &[String])],
) -> StoreResult<()> {
    let rows: Vec<(String, i64)> = memos
        .iter()
        .flat_map(|(id, tags)| tags.iter().map(|tag| (tag.to_lowercase(), id.0)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    execute_with_rows(
        conn,
        "INSERT OR IGNORE INTO memo_tags (tag_key, memo_id) \
         SELECT value ->> 0, value ->> 1 FROM json_each(?1)",
        &rows,
    )
    .await
}

pub async fn create(store: &SqliteStore, text: &MemoText) -> StoreResult<Memo> {
    // Analysed here, on the caller's task; the writer only writes.
    let row = crate::batch::NewMemoRow {
        content: text.as_str().to_owned(),
        tags: text.tags(),
        entry: MemoEntry::new(text.as_str()),
        now: store.clock.now(),
    };
    store.batcher.insert_memo(row).await
}

pub async fn get(pool: &SqlitePool, id: MemoId) -> StoreResult<Memo> {
    let row = sqlx::query(concat!(
        "SELECT ",
        memo_columns!(),
        " FROM memos WHERE id = ?1 AND deleted_at IS NULL"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    decode(&row)
}

pub async fn list(
    pool: &SqlitePool,
    filter: &MemoFilter,
    page: PageRequest,
) -> StoreResult<Page<Memo>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        memo_columns!(),
        " FROM memos WHERE deleted_at IS NULL AND id < ?1 \
         AND (?3 IS NULL OR id IN (SELECT memo_id FROM memo_tags WHERE tag_key = ?3)) \
         ORDER BY id DESC LIMIT ?2"
    ))
    .bind(page.before.unwrap_or(i64::MAX))
    .bind(i64::from(page.limit) + 1)
    .bind(filter.tag.as_deref())
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    let memos = rows.iter().map(decode).collect::<StoreResult<Vec<_>>>()?;
    Ok(Page::from_overfetch(memos, page.limit, |m| m.id.0))
}

pub async fn update(
    store: &SqliteStore,
    id: MemoId,
    text: &MemoText,
    expected_version: Option<i64>,
) -> StoreResult<Memo> {
    let now = store.clock.now();
    let tags = text.tags();
    let tags_json = serde_json::to_string(&tags).map_err(StoreError::internal)?;
    let entry = MemoEntry::new(text.as_str());
    let mut tx = store.begin_write().await?;
    let current: i64 =
        sqlx::query_scalar("SELECT version FROM memos WHERE id = ?1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?
            .ok_or_else(|| not_found(id))?;
    jaryo_store::check_version(expected_version, current)?;
    let row = sqlx::query(concat!(
        "UPDATE memos SET content = ?1, tags = ?2, updated_at = ?3, version = version + 1 \
         WHERE id = ?4 AND deleted_at IS NULL RETURNING ",
        memo_columns!()
    ))
    .bind(text.as_str())
    .bind(tags_json)
    .bind(encode_time(now))
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    let memo = decode(&row)?;
    replace_tags(&mut tx, id, &tags).await?;
    index_edited_memo(&mut tx, id, text.as_str(), &entry).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(memo)
}

pub async fn delete(store: &SqliteStore, id: MemoId) -> StoreResult<()> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let deleted =
        sqlx::query("UPDATE memos SET deleted_at = ?1 WHERE id = ?2 AND deleted_at IS NULL")
            .bind(encode_time(now))
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?
            .rows_affected();
    if deleted == 0 {
        return Err(not_found(id));
    }
    replace_tags(&mut tx, id, &[]).await?;
    unindex_memo(&mut tx, id).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(())
}

/// Every tag of a live memo or document, with how many of each carry it.
pub async fn tag_counts(pool: &SqlitePool) -> StoreResult<Vec<TagCount>> {
    let rows = sqlx::query(
        "SELECT tag_key, sum(is_memo), sum(1 - is_memo) FROM ( \
             SELECT t.tag_key, 1 AS is_memo FROM memo_tags t \
             JOIN memos m ON m.id = t.memo_id WHERE m.deleted_at IS NULL \
             UNION ALL \
             SELECT t.tag_key, 0 FROM document_tags t \
             JOIN documents d ON d.id = t.document_id WHERE d.deleted_at IS NULL \
         ) GROUP BY tag_key",
    )
    .fetch_all(pool)
    .await
    .map_err(map_error)?;
    rows.iter()
        .map(|row| {
            Ok(TagCount {
                tag: row.try_get(0).map_err(map_error)?,
                memos: row.try_get::<i64, _>(1).map_err(map_error)? as u64,
                documents: row.try_get::<i64, _>(2).map_err(map_error)? as u64,
            })
        })
        .collect()
}
