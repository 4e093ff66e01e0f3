//! Group commit for the high-volume writes: new memos and new documents.
//!
//! Every write of this process already goes through one connection; committing each new memo
//! on its own makes SQLite and FTS5 pay a commit and a fresh index segment per memo. So new
//! items are queued to one task that takes whatever has queued up meanwhile (never waiting for
//! more: a lone request is written at once), writes the lot in one `BEGIN IMMEDIATE`
//! transaction with a savepoint around each item — one item's failure undoes only that item —
//! commits once, and only then answers each caller. Nobody hears "saved" before the commit.

use crate::codec::{encode_time, map_error};
use crate::documents::{decode, document_columns};
use crate::memos::replace_tags;
use crate::search::{DocumentEntry, MemoEntry, index_document, index_memo};
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

pub(crate) enum Insert {
    Memo(NewMemoRow, oneshot::Sender<StoreResult<Memo>>),
    Document(Box<NewDocumentRow>, oneshot::Sender<StoreResult<Document>>),
}

/// A written item waiting for the commit before its caller hears of it.
enum Written {
    Memo(Memo, oneshot::Sender<StoreResult<Memo>>),
    Document(Box<Document>, oneshot::Sender<StoreResult<Document>>),
}

impl Written {
    fn answer(self, committed: &Result<(), String>) {
        match (self, committed) {
            (Written::Memo(memo, reply), Ok(())) => {
                let _ = reply.send(Ok(memo));
            }
            (Written::Document(document, reply), Ok(())) => {
                let _ = reply.send(Ok(*document));
            }
            (Written::Memo(_, reply), Err(error)) => {
                let _ = reply.send(Err(StoreError::internal(error.clone())));
            }
            (Written::Document(_, reply), Err(error)) => {
                let _ = reply.send(Err(StoreError::internal(error.clone())));
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
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(error) => {
            let error = map_error(error).to_string();
            for insert in batch {
                fail(insert, &error);
            }
            return;
        }
    };
    let mut written = Vec::with_capacity(batch.len());
    for insert in batch {
        if let Err(error) = sqlx::query("SAVEPOINT item").execute(&mut *tx).await {
            fail(insert, &map_error(error).to_string());
            continue;
        }
        let outcome = match insert {
            Insert::Memo(row, reply) => match write_memo(&mut tx, row).await {
                Ok(memo) => Ok(Written::Memo(memo, reply)),
                Err(error) => Err((error, Reply::Memo(reply))),
            },
            Insert::Document(row, reply) => match write_document(&mut tx, *row).await {
                Ok(document) => Ok(Written::Document(Box::new(document), reply)),
                Err(error) => Err((error, Reply::Document(reply))),
            },
        };
        match outcome {
            Ok(item) => {
                let _ = sqlx::query("RELEASE item").execute(&mut *tx).await;
                written.push(item);
            }
            Err((error, reply)) => {
                let _ = sqlx::query("ROLLBACK TO item").execute(&mut *tx).await;
                let _ = sqlx::query("RELEASE item").execute(&mut *tx).await;
                reply.send(error);
            }
        }
    }
    let committed = tx
        .commit()
        .await
        .map_err(|error| map_error(error).to_string());
    for item in written {
        item.answer(&committed);
    }
}

enum Reply {
    Memo(oneshot::Sender<StoreResult<Memo>>),
    Document(oneshot::Sender<StoreResult<Document>>),
}

impl Reply {
    fn send(self, error: StoreError) {
        match self {
            Reply::Memo(reply) => {
                let _ = reply.send(Err(error));
            }
            Reply::Document(reply) => {
                let _ = reply.send(Err(error));
            }
        }
    }
}

fn fail(insert: Insert, error: &str) {
    match insert {
        Insert::Memo(_, reply) => {
            let _ = reply.send(Err(StoreError::internal(error.to_owned())));
        }
        Insert::Document(_, reply) => {
            let _ = reply.send(Err(StoreError::internal(error.to_owned())));
        }
    }
}

async fn write_memo(conn: &mut SqliteConnection, row: NewMemoRow) -> StoreResult<Memo> {
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
    index_memo(conn, MemoId(id), &row.entry, true).await?;
    Ok(Memo {
        id: MemoId(id),
        content: row.content,
        tags: row.tags,
        created_at: row.now,
        updated_at: row.now,
        document_id: None,
    })
}

async fn write_document(conn: &mut SqliteConnection, row: NewDocumentRow) -> StoreResult<Document> {
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
    index_document(conn, document.id, &row.entry, true).await?;
    Ok(document)
}
