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

use crate::codec::{encode_time, map_error};
use crate::documents::{decode, document_columns};
use crate::memos::replace_tags;
use crate::search::{
    DocumentEntry, MemoEntry, index_document_parts, index_document_terms, index_memo,
};
use jaryo_domain::{Document, Memo, MemoId, Timestamp};
use jaryo_store::{StoreError, StoreResult};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

/// The most items one transaction takes.
const MAX_BATCH: usize = 128;

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
    pub entry: DocumentEntry,
    pub now: Timestamp,
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
    /// Writes the item's rows, all but its search index row.
    async fn write(&self, conn: &mut SqliteConnection) -> StoreResult<Written> {
        Ok(match self {
            Insert::Memo(row, _) => Written::Memo(write_memo(conn, row).await?),
            Insert::Document(row, _) => {
                Written::Document(Box::new(write_document(conn, row).await?))
            }
        })
    }

    /// Writes the item's search index row.
    async fn index(&self, conn: &mut SqliteConnection, written: &Written) -> StoreResult<()> {
        match (self, written) {
            (Insert::Memo(row, _), Written::Memo(memo)) => {
                index_memo(conn, memo.id, &row.entry, true).await
            }
            (Insert::Document(row, _), Written::Document(document)) => {
                index_document_terms(conn, document.id, &row.entry, true).await
            }
            _ => Err(StoreError::internal("an item was written as another kind")),
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
    /// Starts the writer task on `writer`, the store's write pool.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(writer, jobs));
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
    let mut written = Vec::with_capacity(items.len());
    for item in items {
        written.push(item.write(&mut tx).await?);
    }
    // The index rows last, after every statement that opens a statement savepoint (see
    // `index_document_terms`): FTS5 then writes the batch's terms out as one segment.
    for (item, written) in items.iter().zip(&written) {
        item.index(&mut tx, written).await?;
    }
    tx.commit().await.map_err(map_error)?;
    Ok(written)
}

async fn write_memo(conn: &mut SqliteConnection, row: &NewMemoRow) -> StoreResult<Memo> {
    let tags_json = serde_json::to_string(&row.tags).map_err(StoreError::internal)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO memos (content, tags, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?3) RETURNING id",
    )
    .bind(&row.content)
    .bind(tags_json)
    .bind(encode_time(row.now))
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;
    replace_tags(conn, MemoId(id), &row.tags).await?;
    Ok(Memo {
        id: MemoId(id),
        content: row.content.clone(),
        tags: row.tags.clone(),
        created_at: row.now,
        updated_at: row.now,
        document_id: None,
    })
}

async fn write_document(
    conn: &mut SqliteConnection,
    row: &NewDocumentRow,
) -> StoreResult<Document> {
    let record = sqlx::query(concat!(
        "INSERT INTO documents (title, extracted_text, content_origin, source_metadata, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING ",
        document_columns!()
    ))
    .bind(&row.title)
    .bind(&row.extracted_text)
    .bind(row.content_origin)
    .bind(&row.source_metadata)
    .bind(encode_time(row.now))
    .fetch_one(&mut *conn)
    .await
    .map_err(map_error)?;
    let document = decode(&record)?;
    index_document_parts(conn, document.id, &row.entry, true).await?;
    Ok(document)
}
