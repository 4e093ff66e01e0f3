//! Merging the search index into one segment once writes pause.
//!
//! FTS5 keeps its index in segments: every write transaction adds one, and FTS5's automerge
//! folds them into larger ones level by level (16 of a level at a time, set by migration
//! 0003, to keep that work off the write path), so a library written in many transactions
//! (an import, a day of notes) holds dozens of segments, and every term of every query is
//! looked up in each of them: a fifth to a third of a search's time at 100,000 documents.
//! Merging them all into one rewrites the whole index, so it waits for a pause in the writes
//! (no commit for [`SqliteOptions::index_merge_idle`](crate::SqliteOptions)), and happens
//! only when the segments besides the largest hold a tenth of its pages or more: the index is
//! rewritten at most once per tenth it grows, however it is written — a memo a minute never
//! rewrites it each time.
//!
//! The merge runs in short write transactions of [`MERGE_STEP_PAGES`] pages through the one
//! write connection, so a write waits at most for one step; writes arriving meanwhile simply
//! add segments the next steps take in.

use crate::codec::map_error;
use jaryo_store::StoreResult;
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Weak;
use std::time::Duration;

/// Index pages one merge step writes, in one short write transaction.
pub(crate) const MERGE_STEP_PAGES: i64 = 256;

/// Whether an index whose segments hold these page counts is worth merging now: more than one
/// segment, and the others hold at least a tenth of the largest's pages.
pub(crate) fn worth_merging(segment_pages: &[i64]) -> bool {
    let largest = segment_pages.iter().copied().max().unwrap_or(0);
    let total: i64 = segment_pages.iter().sum();
    segment_pages.len() > 1 && (total - largest) * 10 >= largest
}

/// The pages of each segment of the index (leaf pages that start a term, which is what
/// FTS5's `%_idx` lists: a measure of size, not an exact count).
pub(crate) async fn segment_pages(conn: &mut SqliteConnection) -> StoreResult<Vec<i64>> {
    sqlx::query_scalar("SELECT count(*) FROM search_fts_idx GROUP BY segid")
        .fetch_all(conn)
        .await
        .map_err(map_error)
}

/// One step of merging every segment of the index into one, in its own write transaction;
/// whether it found anything to do (a step that changed fewer than two rows found the index
/// merged).
pub(crate) async fn merge_step(writer: &SqlitePool, pages: i64) -> StoreResult<bool> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(map_error)?;
    let before: i64 = sqlx::query_scalar("SELECT total_changes()")
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
    // A negative page count merges every segment, not only those of one level.
    sqlx::query("INSERT INTO search_fts (search_fts, rank) VALUES ('merge', ?1)")
        .bind(-pages)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
    let after: i64 = sqlx::query_scalar("SELECT total_changes()")
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
    tx.commit().await.map_err(map_error)?;
    Ok(after - before >= 2)
}

/// Watches for commits (SQLite's `data_version` on the `watcher` connection changes whenever
/// another connection commits, in this process or another) and merges the index once they
/// pause, when it is worth it. Stops when the store is gone.
pub(crate) async fn merge_when_idle(
    writer: SqlitePool,
    mut watcher: SqliteConnection,
    idle: Duration,
    alive: Weak<()>,
) {
    let mut tick = tokio::time::interval(idle);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_version: Option<i64> = None;
    // Look once after opening too: the last run may have stopped right after an import.
    let mut written = true;
    loop {
        tick.tick().await;
        if alive.upgrade().is_none() || writer.is_closed() {
            break;
        }
        let version: i64 = match sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut watcher)
            .await
        {
            Ok(version) => version,
            Err(_) => continue,
        };
        if last_version != Some(version) {
            // Written since the last look: wait for a quiet tick.
            written = true;
            last_version = Some(version);
            continue;
        }
        if !written {
            continue;
        }
        written = false;
        if let Err(error) = merge_if_worth_it(&writer, &mut watcher, &alive).await {
            tracing::debug!(%error, "merging the search index failed; it is tried again after the next writes");
        }
    }
    let _ = sqlx::Connection::close(watcher).await;
}

async fn merge_if_worth_it(
    writer: &SqlitePool,
    watcher: &mut SqliteConnection,
    alive: &Weak<()>,
) -> StoreResult<()> {
    let pages = segment_pages(watcher).await?;
    if !worth_merging(&pages) {
        return Ok(());
    }
    let started = std::time::Instant::now();
    tracing::debug!(segments = pages.len(), "merging the search index");
    while alive.upgrade().is_some() && merge_step(writer, MERGE_STEP_PAGES).await? {}
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "search index merged"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::worth_merging;

    #[test]
    fn an_index_is_merged_once_its_small_segments_hold_a_tenth_of_the_largest() {
        assert!(!worth_merging(&[]));
        assert!(!worth_merging(&[5000]));
        assert!(
            !worth_merging(&[5000, 10, 30, 400]),
            "the small ones hold 440 of 5000"
        );
        assert!(worth_merging(&[5000, 100, 100, 300]));
        assert!(
            worth_merging(&[3271, 3267, 1563, 1062, 659]),
            "an index as an import builds it"
        );
        assert!(worth_merging(&[1, 1]));
    }
}
