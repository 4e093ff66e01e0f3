//! bench-backup: how long a backup and a restore of a large library take, and how big the
//! backup is, beside a plain file copy of the same database as the baseline.
//!
//! The library is bench-search's generated corpus (100,000 mixed Korean/English documents of
//! about 1 KB by default), written through `Store::create_document`. Then, on the closed
//! database: `cp`-like copy of `jaryo.db` (what a backup cannot beat: it reads and writes
//! every page once, but without a snapshot it is only safe when nothing writes), `jaryo
//! backup`'s copy (VACUUM INTO, checked, flushed, renamed), and `jaryo restore`'s (checked,
//! copied, flushed, renamed, checked again). Last, a backup taken while writers keep adding
//! documents, to show writes go on: the documents written during it are counted.
//!
//! Usage: `cargo run --release -p jaryo-bench --bin bench-backup [-- --docs N]`

use clap::Parser;
use jaryo_bench::corpus::{Corpus, CorpusConfig};
use jaryo_domain::{ContentOrigin, DocumentText, DocumentTitle};
use jaryo_store::{NewDocument, Store};
use jaryo_store_sqlite::backup;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Documents in the library.
    #[arg(long, default_value_t = 100_000)]
    docs: usize,
    /// Tasks writing documents at once while the library is built.
    #[arg(long, default_value_t = 8)]
    writers: usize,
}

fn documents(corpus: &Corpus, range: std::ops::Range<usize>) -> Vec<NewDocument> {
    range
        .map(|index| {
            let doc = corpus.document(index);
            NewDocument {
                title: Some(DocumentTitle::parse(&doc.title).expect("corpus titles are valid")),
                extracted_text: DocumentText::parse("extracted_text", doc.body)
                    .expect("corpus bodies are valid"),
                content_origin: ContentOrigin::Import,
                source_metadata: Default::default(),
                created_at: None,
                updated_at: None,
                tags: Vec::new(),
            }
        })
        .collect()
}

async fn write_all(
    store: Arc<SqliteStore>,
    documents: Vec<NewDocument>,
    writers: usize,
    stop: Option<Arc<AtomicBool>>,
) -> anyhow::Result<usize> {
    let documents = Arc::new(documents);
    let next = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..writers.max(1) {
        let (store, documents, next, written, stop) = (
            store.clone(),
            documents.clone(),
            next.clone(),
            written.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                if stop
                    .as_ref()
                    .is_some_and(|stop| stop.load(Ordering::Relaxed))
                {
                    return Ok::<_, jaryo_store::StoreError>(());
                }
                let Some(document) = documents.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    return Ok(());
                };
                store.create_document(document).await?;
                written.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(written.load(Ordering::Relaxed))
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    jaryo_fts5_rank::retain_freed_heap();
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("library");
    std::fs::create_dir_all(&data_dir)?;
    let corpus = Corpus::new(CorpusConfig {
        documents: args.docs + args.docs / 2,
        ..CorpusConfig::default()
    });

    let store = Arc::new(SqliteStore::open(&SqliteOptions::in_data_dir(&data_dir)).await?);
    let started = Instant::now();
    write_all(
        store.clone(),
        documents(&corpus, 0..args.docs),
        args.writers,
        None,
    )
    .await?;
    println!(
        "library: {} documents written in {:.1} s",
        args.docs,
        started.elapsed().as_secs_f64()
    );
    let database = data_dir.join(jaryo_store_sqlite::DATABASE_FILE_NAME);

    // A backup while writers keep going.
    let stop = Arc::new(AtomicBool::new(false));
    let writing = tokio::spawn(write_all(
        store.clone(),
        documents(&corpus, args.docs..corpus.len()),
        4,
        Some(stop.clone()),
    ));
    let live_target = dir.path().join("live-backup.db");
    let (source, target) = (database.clone(), live_target.clone());
    let live = tokio::task::spawn_blocking(move || backup::backup(&source, &target)).await??;
    stop.store(true, Ordering::Relaxed);
    let written_meanwhile = writing.await??;
    println!(
        "backup during writes: {:.2} s, {:.1} MB, {} documents in the snapshot; {} documents \
         written while it ran (writes go on)",
        live.took.as_secs_f64(),
        megabytes(live.bytes),
        live.counts.documents,
        written_meanwhile
    );
    let store = Arc::try_unwrap(store).map_err(|_| anyhow::anyhow!("store still shared"))?;
    store.close().await;

    // The closed library: a plain copy as the baseline, then backup and restore.
    let database_bytes = std::fs::metadata(&database)?.len();
    let copy_target = dir.path().join("plain-copy.db");
    let started = Instant::now();
    std::fs::copy(&database, &copy_target)?;
    std::fs::File::open(&copy_target)?.sync_all()?;
    let copy = started.elapsed();
    let target = dir.path().join("backup.db");
    let (source, destination) = (database.clone(), target.clone());
    let report =
        tokio::task::spawn_blocking(move || backup::backup(&source, &destination)).await??;
    let restore_dir = dir.path().join("restored");
    std::fs::create_dir_all(&restore_dir)?;
    let started = Instant::now();
    let (source, destination) = (target.clone(), restore_dir.clone());
    let restored =
        tokio::task::spawn_blocking(move || backup::restore(&source, &destination, false))
            .await??;
    let restore = started.elapsed();

    println!();
    println!(
        "{:<34} {:>9} {:>10} {:>10}",
        "closed library", "seconds", "MB", "MB/s"
    );
    let row = |name: &str, seconds: f64, bytes: u64| {
        println!(
            "{name:<34} {seconds:>9.2} {:>10.1} {:>10.0}",
            megabytes(bytes),
            megabytes(bytes) / seconds
        );
    };
    row(
        "plain file copy (baseline)",
        copy.as_secs_f64(),
        database_bytes,
    );
    row(
        "jaryo backup (VACUUM INTO, checked)",
        report.took.as_secs_f64(),
        report.bytes,
    );
    row(
        "jaryo restore (checked twice)",
        restore.as_secs_f64(),
        report.bytes,
    );
    println!(
        "\nbackup holds {} documents; restored {}; backup is {:.0}% of the live file",
        report.counts.documents,
        restored.documents,
        100.0 * report.bytes as f64 / database_bytes as f64
    );
    Ok(())
}
