//! Group commit for the high-volume writes: new memos and new documents, as the SQLite store's
//! batch does.
//!
//! Committing each new item on its own makes PostgreSQL pay a transaction, a WAL flush and a
//! round trip per statement per item. So this process's new items are queued to a few writer
//! tasks; each takes whatever has queued up meanwhile (never waiting for more: a lone request is written
//! at once), writes the lot in one transaction — the memos, their tags, the documents, their
//! chunks and tags, the index rows and the totals, each one statement over arrays — commits
//! once, and only then answers each caller. Nobody hears "saved" before the commit; the index
//! is maintained in the items' own transaction.
//!
//! If the batch fails, it is rolled back and its items are written again one transaction
//! each, so that one item's failure is that item's alone. Other processes write beside this
//! one as before: the batch takes no lock theirs wait for but the totals shard it adds to.

use crate::codec::map_error;
use crate::documents::{decode as decode_document, inserted_document_columns};
use crate::memos::{decode as decode_memo, insert_tags, memo_columns};
use crate::search::{DocumentEntry, IndexRow, MemoEntry, write_document_parts, write_rows};
use jaryo_domain::{Document, DocumentId, Memo, Timestamp};
use jaryo_store::{StoreError, StoreResult};
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// The most items one transaction takes.
const MAX_BATCH: usize = 128;

/// Batches written at once: PostgreSQL runs transactions in parallel, and a batch's time is
/// mostly the database's work on its rows, so one writer would leave the server's other
/// cores idle.
const WRITERS: usize = 4;

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
    pub source_metadata: Map<String, Value>,
    /// Tags given with the document (an import's own), beside those of its text.
    pub given_tags: Vec<String>,
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
    /// The item's index row, once written.
    fn index_row<'a>(&'a self, written: &Written) -> StoreResult<IndexRow<'a>> {
        match (self, written) {
            (Insert::Memo(row, _), Written::Memo(memo)) => Ok(row.entry.index_row(memo.id)),
            (Insert::Document(row, _), Written::Document(document)) => {
                Ok(row.entry.index_row(document.id))
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
    /// Starts the writer tasks on the store's pool, among the store's tasks.
    pub(crate) fn start(pool: PgPool, tasks: &jaryo_store::tasks::OwnedTasks) -> Self {
        let (queue, jobs) = mpsc::channel(4 * MAX_BATCH);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..WRITERS {
            tasks.spawn(write_batches(pool.clone(), jobs.clone()));
        }
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
    StoreError::Unavailable("the batch writer has stopped".into())
}

/// One writer: takes whatever has queued (waiting for the queue while the other writers
/// write), writes it as one batch, and again, until the store is dropped.
async fn write_batches(pool: PgPool, jobs: Arc<Mutex<mpsc::Receiver<Insert>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let received = jobs.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if received == 0 {
            return;
        }
        write_batch(&pool, std::mem::take(&mut batch)).await;
    }
}

async fn write_batch(pool: &PgPool, batch: Vec<Insert>) {
    match write_together(pool, &batch).await {
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
                let outcome = write_together(pool, std::slice::from_ref(&insert))
                    .await
                    .map(|mut written| written.remove(0));
                insert.answer(outcome);
            }
        }
    }
}

/// Writes `items` in one transaction; all or nothing.
async fn write_together(pool: &PgPool, items: &[Insert]) -> StoreResult<Vec<Written>> {
    let mut tx = pool.begin().await.map_err(map_error)?;
    let written = write_rows_of(&mut tx, items).await?;
    let rows = items
        .iter()
        .zip(&written)
        .map(|(item, written)| item.index_row(written))
        .collect::<StoreResult<Vec<_>>>()?;
    write_rows(&mut tx, &rows, true).await?;
    tx.commit().await.map_err(map_error)?;
    Ok(written)
}

/// Writes the rows of `items` but their index rows; what was written, in the items' order.
async fn write_rows_of(conn: &mut PgConnection, items: &[Insert]) -> StoreResult<Vec<Written>> {
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

/// Identity ids are drawn in the order the statement inserts its rows, which is the arrays'
/// (`ORDER BY` the ordinality): a check that the rows read back are the rows given, in order.
fn check_order(same: impl Iterator<Item = bool>, expected: usize, got: usize) -> StoreResult<()> {
    if got != expected || same.into_iter().any(|same| !same) {
        return Err(StoreError::internal(
            "a batch insert returned rows out of step with its input",
        ));
    }
    Ok(())
}

async fn insert_memos(conn: &mut PgConnection, rows: &[&NewMemoRow]) -> StoreResult<Vec<Memo>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let contents: Vec<&str> = rows.iter().map(|row| row.content.as_str()).collect();
    let tags = rows
        .iter()
        .map(|row| serde_json::to_string(&row.tags).map_err(StoreError::internal))
        .collect::<StoreResult<Vec<String>>>()?;
    let times: Vec<Timestamp> = rows.iter().map(|row| row.now).collect();
    let records = sqlx::query(concat!(
        "INSERT INTO memos (content, tags, created_at, updated_at) \
         SELECT m.content, m.tags::jsonb, m.at, m.at \
         FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY \
           AS m (content, tags, at, ord) ORDER BY m.ord RETURNING ",
        memo_columns!()
    ))
    .bind(&contents)
    .bind(&tags)
    .bind(&times)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    let mut memos = records
        .iter()
        .map(decode_memo)
        .collect::<StoreResult<Vec<_>>>()?;
    memos.sort_unstable_by_key(|memo| memo.id);
    check_order(
        rows.iter()
            .zip(&memos)
            .map(|(row, memo)| row.content == memo.content),
        rows.len(),
        memos.len(),
    )?;
    let tags: Vec<(i64, &[String])> = memos
        .iter()
        .map(|memo| (memo.id.0, memo.tags.as_slice()))
        .collect();
    insert_tags(conn, &tags).await?;
    Ok(memos)
}

async fn insert_documents(
    conn: &mut PgConnection,
    rows: &[&NewDocumentRow],
) -> StoreResult<Vec<Document>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let titles: Vec<&str> = rows.iter().map(|row| row.title.as_str()).collect();
    let texts: Vec<&str> = rows.iter().map(|row| row.extracted_text.as_str()).collect();
    let origins: Vec<&str> = rows.iter().map(|row| row.content_origin).collect();
    let metadata: Vec<Json<&Map<String, Value>>> =
        rows.iter().map(|row| Json(&row.source_metadata)).collect();
    let created: Vec<Timestamp> = rows.iter().map(|row| row.created_at).collect();
    let updated: Vec<Timestamp> = rows.iter().map(|row| row.updated_at).collect();
    let given_tags: Vec<Json<&Vec<String>>> =
        rows.iter().map(|row| Json(&row.given_tags)).collect();
    let records = sqlx::query(concat!(
        "INSERT INTO documents (title, extracted_text, content_origin, source_metadata, \
         created_at, updated_at, given_tags) \
         SELECT d.title, d.text, d.origin, d.metadata, d.created, d.updated, d.given \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[], \
                     $6::timestamptz[], $7::jsonb[]) \
           WITH ORDINALITY AS d (title, text, origin, metadata, created, updated, given, ord) \
         ORDER BY d.ord RETURNING ",
        inserted_document_columns!()
    ))
    .bind(&titles)
    .bind(&texts)
    .bind(&origins)
    .bind(&metadata)
    .bind(&created)
    .bind(&updated)
    .bind(&given_tags)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    let mut documents = records
        .iter()
        .map(decode_document)
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
    write_document_parts(conn, &parts).await?;
    Ok(documents)
}
