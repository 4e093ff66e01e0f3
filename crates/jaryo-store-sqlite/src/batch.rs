//! Group commit for the high-volume writes: new memos and new documents.
//!
//! Every write of this process already goes through one connection; committing each new memo
//! on its own makes SQLite and FTS5 pay a commit and a fresh index segment per memo. So new
//! items are queued to one task that takes whatever has queued up meanwhile (never waiting for
//! more: a lone request is written at once), writes the lot in one `BEGIN IMMEDIATE`
//! transaction, commits once, and only then answers each caller. Nobody hears "saved" before
//! the commit.
//!
//! No savepoint per item: FTS5 writes its pending terms out as a new index segment at every
//! savepoint, which would cost a segment (and its later merging) per item again. Instead, when
//! an item fails, the whole batch is rolled back and its items are written again one
//! transaction each, so that one item's failure is that item's alone.
//!
//! A batch is written in a handful of statements whatever its size — the memos, the memos'
//! tags, the documents, their chunks, their tags, the index rows — each taking its rows as one
//! JSON array: every statement is a round trip to SQLite's thread, and a round trip costs more
//! than the insert it carries.

use crate::codec::{encode_time, json_rows, map_error};
use crate::documents::{decode, inserted_document_columns};
use crate::memos::insert_tags;
use crate::search::{DocumentEntry, IndexRow, MemoEntry, write_document_parts, write_index_rows};
use jaryo_domain::{Document, DocumentId, Memo, MemoId, Timestamp};
use jaryo_store::{StoreError, StoreResult};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// The most items one transaction takes.
const MAX_BATCH: usize = 128;

/// The most bytes of text one statement carries: a document may hold 16 MiB, and SQLite
/// refuses a string over 1 GB.
const MAX_STATEMENT_BYTES: usize = 8 * 1024 * 1024;

/// A new memo, analysed before it is queued.
pub(crate) struct NewMemoRow {
    pub content: String,
    pub tags: Vec<String>,
    pub entry: MemoEntry,
    pub now: Timestamp,
}

/// A new document, analysed before it is queued.
pub(crate) struct NewDocumentRow {
    pub title: String,
    pub extracted_text: String,
    pub content_origin: &'static str,
    pub source_metadata: String,
    /// JSON array of the tags given with the document.
    pub given_tags: String,
    pub entry: DocumentEntry,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An item to insert and the caller waiting for it.
enum Insert {
    Memo(NewMemoRow, oneshot::Sender<StoreResult<Memo>>),
    Document(Box<NewDocumentRow>, oneshot::Sender<StoreResult<Document>>),
}

/// What inserting an item produced.
enum Written {
    Memo(Memo),
    Document(Box<Document>),
}

impl Insert {
    /// The item's search index row, once written.
    fn index_row<'a>(&'a self, written: &Written) -> StoreResult<IndexRow<'a>> {
        match (self, written) {
            (Insert::Memo(row, _), Written::Memo(memo)) => Ok(row.entry.index_row(memo.id)),
            (Insert::Document(row, _), Written::Document(document)) => {
                Ok(row.entry.index_row(document.id))
            }
            _ => Err(StoreError::internal("an item was written as another kind")),
        }
    }

    /// Bytes of text the item writes.
    fn weight(&self) -> usize {
        match self {
            Insert::Memo(row, _) => 2 * row.content.len(),
            Insert::Document(row, _) => {
                row.title.len() + row.extracted_text.len() + row.entry.weight()
            }
        }
    }

    /// Tells the caller how it went.
    fn answer(self, outcome: StoreResult<Written>) {
        match (self, outcome) {
            (Insert::Memo(_, reply), Ok(Written::Memo(memo))) => {
                let _ = reply.send(Ok(memo));
            }
            (Insert::Document(_, reply), Ok(Written::Document(document))) => {
                let _ = reply.send(Ok(*document));
            }
            (Insert::Memo(_, reply), Err(error)) => {
                let _ = reply.send(Err(error));
            }
            (Insert::Document(_, reply), Err(error)) => {
                let _ = reply.send(Err(error));
            }
            (Insert::Memo(_, reply), Ok(Written::Document(_))) => {
                let _ = reply.send(Err(StoreError::internal(
                    "a memo was written as a document",
                )));
            }
            (Insert::Document(_, reply), Ok(Written::Memo(_))) => {
                let _ = reply.send(Err(StoreError::internal(
                    "a document was written as a memo",
                )));
            }
        }
    }
}

/// Queues inserts for the batch writer.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    queue: mpsc::Sender<Insert>,
}

impl Batcher {
    /// Starts the writer task on `writer`, the store's write pool, among the store's tasks.
    pub(crate) fn start(writer: SqlitePool, tasks: &jaryo_store::tasks::OwnedTasks) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        tasks.spawn(write_batches(writer, jobs));
        Self { queue }
    }

    pub(crate) async fn insert_memo(&self, row: NewMemoRow) -> StoreResult<Memo> {
        let (reply, answer) = oneshot::channel();
        self.submit(Insert::Memo(row, reply)).await?;
        answer.await.map_err(|_| stopped())?
    }

    pub(crate) async fn insert_document(&self, row: NewDocumentRow) -> StoreResult<Document> {
        let (reply, answer) = oneshot::channel();
        self.submit(Insert::Document(Box::new(row), reply)).await?;
        answer.await.map_err(|_| stopped())?
    }

    async fn submit(&self, insert: Insert) -> StoreResult<()> {
        self.queue.send(insert).await.map_err(|_| stopped())
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

async fn write_batches(writer: SqlitePool, mut jobs: mpsc::Receiver<Insert>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write_batch(&writer, std::mem::take(&mut batch)).await;
    }
}

async fn write_batch(writer: &SqlitePool, batch: Vec<Insert>) {
    match write_together(writer, &batch).await {
        Ok(written) => {
            for (insert, written) in batch.into_iter().zip(written) {
                insert.answer(Ok(written));
            }
        }
        Err(error) if batch.len() == 1 => {
            if let Some(insert) = batch.into_iter().next() {
                insert.answer(Err(error));
            }
        }
        // Some item failed, and took the others down with it: one transaction each.
        Err(_) => {
            for insert in batch {
                let outcome = write_together(writer, std::slice::from_ref(&insert))
                    .await
                    .map(|mut written| written.remove(0));
                insert.answer(outcome);
            }
        }
    }
}

/// Writes `items` in one transaction; all or nothing.
async fn write_together(writer: &SqlitePool, items: &[Insert]) -> StoreResult<Vec<Written>> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(map_error)?;
    let groups = statement_groups(items);
    let mut written = Vec::with_capacity(items.len());
    for group in &groups {
        written.extend(write_rows(&mut tx, group).await?);
    }
    // The index rows last, after every statement that opens a statement savepoint (see
    // `write_index_rows`): FTS5 then writes the batch's terms out as one segment.
    let mut offset = 0;
    for group in &groups {
        let rows = group
            .iter()
            .zip(&written[offset..])
            .map(|(item, written)| item.index_row(written))
            .collect::<StoreResult<Vec<_>>>()?;
        write_index_rows(&mut tx, &rows, true).await?;
        offset += group.len();
    }
    tx.commit().await.map_err(map_error)?;
    Ok(written)
}

/// `items` cut into runs of at most [`MAX_STATEMENT_BYTES`] (or one item, if larger).
fn statement_groups(items: &[Insert]) -> Vec<&[Insert]> {
    let mut groups = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, item) in items.iter().enumerate() {
        let weight = item.weight();
        if index > start && bytes + weight > MAX_STATEMENT_BYTES {
            groups.push(&items[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += weight;
    }
    if start < items.len() {
        groups.push(&items[start..]);
    }
    groups
}

/// Writes the rows of `items` but their index rows; what was written, in the items' order.
async fn write_rows(conn: &mut SqliteConnection, items: &[Insert]) -> StoreResult<Vec<Written>> {
    let memo_rows: Vec<&NewMemoRow> = items
        .iter()
        .filter_map(|item| match item {
            Insert::Memo(row, _) => Some(row),
            Insert::Document(..) => None,
        })
        .collect();
    let document_rows: Vec<&NewDocumentRow> = items
        .iter()
        .filter_map(|item| match item {
            Insert::Document(row, _) => Some(&**row),
            Insert::Memo(..) => None,
        })
        .collect();
    let mut memos = insert_memos(conn, &memo_rows).await?.into_iter();
    let mut documents = insert_documents(conn, &document_rows).await?.into_iter();
    items
        .iter()
        .map(|item| {
            match item {
                Insert::Memo(..) => memos.next().map(Written::Memo),
                Insert::Document(..) => documents.next().map(|d| Written::Document(Box::new(d))),
            }
            .ok_or_else(|| StoreError::internal("a batch wrote fewer rows than it was given"))
        })
        .collect()
}

/// Row ids come out of one insert statement in the order it inserted the rows, which is the
/// array's: a check that the rows read back are the rows given, in that order.
fn check_order(same: impl Iterator<Item = bool>, expected: usize, got: usize) -> StoreResult<()> {
    if got != expected || same.into_iter().any(|same| !same) {
        return Err(StoreError::internal(
            "a batch insert returned rows out of step with its input",
        ));
    }
    Ok(())
}

async fn insert_memos(conn: &mut SqliteConnection, rows: &[&NewMemoRow]) -> StoreResult<Vec<Memo>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let values = rows
        .iter()
        .map(|row| {
            let tags = serde_json::to_string(&row.tags).map_err(StoreError::internal)?;
            Ok((row.content.as_str(), tags, encode_time(row.now)))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut inserted: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO memos (content, tags, created_at, updated_at) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 2 FROM json_each(?1) \
         ORDER BY key RETURNING id, content",
    )
    .bind(json_rows(&values)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    inserted.sort_unstable_by_key(|(id, _)| *id);
    check_order(
        rows.iter()
            .zip(&inserted)
            .map(|(row, (_, content))| row.content == *content),
        rows.len(),
        inserted.len(),
    )?;
    let memos: Vec<Memo> = rows
        .iter()
        .zip(inserted)
        .map(|(row, (id, _))| Memo {
            id: MemoId(id),
            content: row.content.clone(),
            tags: row.tags.clone(),
            created_at: row.now,
            updated_at: row.now,
            document_id: None,
            version: 1,
        })
        .collect();
    let tags: Vec<(MemoId, &[String])> = memos
        .iter()
        .map(|memo| (memo.id, memo.tags.as_slice()))
        .collect();
    insert_tags(conn, &tags).await?;
    Ok(memos)
}

async fn insert_documents(
    conn: &mut SqliteConnection,
    rows: &[&NewDocumentRow],
) -> StoreResult<Vec<Document>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<(&str, &str, &str, &str, String, String, &str)> = rows
        .iter()
        .map(|row| {
            (
                row.title.as_str(),
                row.extracted_text.as_str(),
                row.content_origin,
                row.source_metadata.as_str(),
                encode_time(row.created_at),
                encode_time(row.updated_at),
                row.given_tags.as_str(),
            )
        })
        .collect();
    let records = sqlx::query(concat!(
        "INSERT INTO documents (title, extracted_text, content_origin, source_metadata, \
         created_at, updated_at, given_tags) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6 FROM json_each(?1) ORDER BY key RETURNING ",
        inserted_document_columns!()
    ))
    .bind(json_rows(&values)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    let mut documents = records
        .iter()
        .map(decode)
        .collect::<StoreResult<Vec<_>>>()?;
    documents.sort_unstable_by_key(|document| document.id);
    check_order(
        rows.iter().zip(&documents).map(|(row, document)| {
            row.title == document.title
                && document.extracted_text.as_deref() == Some(row.extracted_text.as_str())
        }),
        rows.len(),
        documents.len(),
    )?;
    let parts: Vec<(DocumentId, &DocumentEntry)> = documents
        .iter()
        .zip(rows)
        .map(|(document, row)| (document.id, &row.entry))
        .collect();
    write_document_parts(conn, &parts, true).await?;
    Ok(documents)
}
