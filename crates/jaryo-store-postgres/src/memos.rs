//! Memo rows and their tags.

use crate::PostgresStore;
use crate::batch::NewMemoRow;
use crate::codec::map_error;
use crate::search::{MemoEntry, index_edited_memo, unindex_memo};
use jaryo_domain::{DocumentId, Memo, MemoId, MemoText, Timestamp};
use jaryo_store::{MemoFilter, Page, PageRequest, StoreError, StoreResult, TagCount};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};

macro_rules! memo_columns {
    () => {
        "id, content, tags, document_id, created_at, updated_at, version"
    };
}
pub(crate) use memo_columns;

pub(crate) fn decode(row: &PgRow) -> StoreResult<Memo> {
    let Json(tags): Json<Vec<String>> = row.try_get("tags").map_err(map_error)?;
    Ok(Memo {
        id: MemoId(row.try_get("id").map_err(map_error)?),
        content: row.try_get("content").map_err(map_error)?,
        tags,
        document_id: row
            .try_get::<Option<i64>, _>("document_id")
            .map_err(map_error)?
            .map(DocumentId),
        created_at: row
            .try_get::<Timestamp, _>("created_at")
            .map_err(map_error)?,
        updated_at: row
            .try_get::<Timestamp, _>("updated_at")
            .map_err(map_error)?,
        version: row.try_get("version").map_err(map_error)?,
    })
}

fn not_found(id: MemoId) -> StoreError {
    StoreError::NotFound {
        entity: "memo",
        id: id.0,
    }
}

async fn replace_tags(conn: &mut PgConnection, id: MemoId, tags: &[String]) -> StoreResult<()> {
    sqlx::query("DELETE FROM memo_tags WHERE memo_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    if tags.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = tags.iter().map(|tag| tag.to_lowercase()).collect();
    sqlx::query(
        "INSERT INTO memo_tags (tag_key, memo_id) SELECT DISTINCT key, $2 FROM unnest($1::text[]) \
         AS key ON CONFLICT DO NOTHING",
    )
    .bind(keys)
    .bind(id.0)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// A new memo goes through the batch writer (group commit): its row, tags and index row are
/// committed with whatever other new items are queued, before this returns.
pub async fn create(store: &PostgresStore, text: &MemoText) -> StoreResult<Memo> {
    let row = NewMemoRow {
        content: text.as_str().to_owned(),
        tags: text.tags(),
        entry: MemoEntry::new(text.as_str()),
        now: store.clock.now(),
    };
    store.batcher.insert_memo(row).await
}

/// Tags of several memos, one statement (tag keys lowercased, duplicates once).
pub(crate) async fn insert_tags(
    conn: &mut PgConnection,
    memos: &[(i64, &[String])],
) -> StoreResult<()> {
    let mut keys = Vec::new();
    let mut owners = Vec::new();
    for (id, tags) in memos {
        for tag in *tags {
            keys.push(tag.to_lowercase());
            owners.push(*id);
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO memo_tags (tag_key, memo_id) \
         SELECT DISTINCT t.key, t.memo_id FROM unnest($1::text[], $2::bigint[]) AS t (key, memo_id) \
         ON CONFLICT DO NOTHING",
    )
    .bind(keys)
    .bind(owners)
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn get(pool: &PgPool, id: MemoId) -> StoreResult<Memo> {
    let row = sqlx::query(concat!(
        "SELECT ",
        memo_columns!(),
        " FROM memos WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    decode(&row)
}

pub async fn list(
    pool: &PgPool,
    filter: &MemoFilter,
    page: PageRequest,
) -> StoreResult<Page<Memo>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        memo_columns!(),
        " FROM memos WHERE deleted_at IS NULL AND id < $1 \
         AND ($3::text IS NULL OR id IN (SELECT memo_id FROM memo_tags WHERE tag_key = $3)) \
         ORDER BY id DESC LIMIT $2"
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
    store: &PostgresStore,
    id: MemoId,
    text: &MemoText,
    expected_version: Option<i64>,
) -> StoreResult<Memo> {
    let now = store.clock.now();
    let tags = text.tags();
    let entry = MemoEntry::new(text.as_str());
    let mut tx = store.begin_write().await?;
    // Locked, so two edits naming the same version cannot both pass the check.
    let current: i64 = sqlx::query_scalar(
        "SELECT version FROM memos WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_error)?
    .ok_or_else(|| not_found(id))?;
    jaryo_store::check_version(expected_version, current)?;
    let row = sqlx::query(concat!(
        "UPDATE memos SET content = $1, tags = $2, updated_at = $3, version = version + 1 \
         WHERE id = $4 AND deleted_at IS NULL RETURNING ",
        memo_columns!()
    ))
    .bind(text.as_str())
    .bind(Json(&tags))
    .bind(now)
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

pub async fn delete(store: &PostgresStore, id: MemoId) -> StoreResult<()> {
    let now = store.clock.now();
    let mut tx = store.begin_write().await?;
    let deleted =
        sqlx::query("UPDATE memos SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now)
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
pub async fn tag_counts(pool: &PgPool) -> StoreResult<Vec<TagCount>> {
    let rows = sqlx::query(
        "SELECT tag_key, sum(is_memo)::bigint, sum(1 - is_memo)::bigint FROM ( \
             SELECT t.tag_key, 1 AS is_memo FROM memo_tags t \
             JOIN memos m ON m.id = t.memo_id WHERE m.deleted_at IS NULL \
             UNION ALL \
             SELECT t.tag_key, 0 FROM document_tags t \
             JOIN documents d ON d.id = t.document_id WHERE d.deleted_at IS NULL \
         ) AS tagged GROUP BY tag_key",
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
