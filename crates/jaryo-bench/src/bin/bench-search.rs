//! Search on the SQLite store: index build rate through the real write path, index size, and
//! query latency per query class, beside a `LIKE '%…%'` scan over the same rows in the same run.
//!
//! `cargo run --release -p jaryo-bench --bin bench-search` (100,000 documents; `--docs 10000`
//! for a quick run; see `--help`).
//!
//! What is measured:
//! - **Build**: every corpus document goes through `Store::create_document`, the path the API
//!   uses: analysis and chunking before the transaction, then the row, its index row, chunks
//!   and tags, committed together with whatever other new items are queued (group commit).
//!   Several tasks submit at once, as an import client or many HTTP clients would; the corpus
//!   is generated beforehand so only the store is timed.
//! - **Reindex**: `Store::reindex` over the built corpus, what `jaryo reindex` runs: every
//!   document re-read, re-analysed, re-chunked and re-indexed in batches, then the index merged.
//! - **Queries**: `Store::search` with the default page of 20, unfiltered: ranking, reading the
//!   hits back, best chunk and highlighted snippet — everything but HTTP.
//! - **LIKE baseline**: the rows matching the same words with `LIKE '%word%'` over title and
//!   original text, all of them (ranking needs the whole hit set); case folding is ASCII only,
//!   as in SQLite.

use clap::Parser;
use jaryo_bench::corpus::{Corpus, CorpusConfig, QueryClass};
use jaryo_bench::harness::{latency_histogram, verdict};
use jaryo_domain::{ContentOrigin, DocumentText, DocumentTitle};
use jaryo_store::{NewDocument, SearchFilter, SearchRequest, Store};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use jaryo_text::Query;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Search: build rate, index size, query latency vs. a LIKE scan")]
struct Args {
    /// Documents in the corpus.
    #[arg(long, default_value_t = 100_000)]
    docs: usize,
    /// Query words per class, from the most frequent to the rarest.
    #[arg(long, default_value_t = 10)]
    queries_per_class: usize,
    /// Times each query is run for the latency figures. (Each query's LIKE scan reads every
    /// document, 140 MB at 100,000, and leaves the CPU caches cold for the next query's first
    /// few searches: enough runs put its p50 on the steady state, not on that transient.)
    #[arg(long, default_value_t = 20)]
    repeat: usize,
    /// Tasks submitting documents at once during the build (an import client, or many people).
    #[arg(long, default_value_t = 64)]
    writers: usize,
    /// Build the database in this (new or empty) directory and keep it, instead of a
    /// temporary one.
    #[arg(long, value_name = "DIR")]
    keep: Option<std::path::PathBuf>,
    /// Measure the queries on a database an earlier `--keep DIR` run built (same `--docs`),
    /// without building or reindexing: for profiling the query path.
    #[arg(long, value_name = "DIR", conflicts_with = "keep")]
    reuse: Option<std::path::PathBuf>,
    /// Only these query classes (e.g. `--class en --class mixed`); every class unless given.
    #[arg(long = "class", value_name = "CLASS")]
    classes: Vec<String>,
    /// Matches of each kind an unfiltered search ranks by relevance (the store's default
    /// unless given); older matches follow unranked.
    #[arg(long)]
    rank_window: Option<u32>,
    /// Only the queries with this text (e.g. `--query zortudra`; see `--list-queries`).
    #[arg(long = "query", value_name = "TEXT")]
    queries: Vec<String>,
    /// Also print each query's median latency (for profiling).
    #[arg(long)]
    per_query: bool,
    /// Print the queries of the selected classes, one per line after its class, and exit.
    #[arg(long)]
    list_queries: bool,
    /// Time only jaryo's searches, without the LIKE scan (for profiling; no speedup figures).
    #[arg(long)]
    skip_like: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // As the jaryo binary does: searches run in the process set up as in the server.
    jaryo_fts5_rank::retain_freed_heap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(unknown) = args
        .classes
        .iter()
        .find(|label| !QueryClass::ALL.iter().any(|class| class.label() == *label))
    {
        let known: Vec<&str> = QueryClass::ALL.iter().map(|class| class.label()).collect();
        anyhow::bail!(
            "no query class {unknown:?}; the classes: {}",
            known.join(", ")
        );
    }
    let corpus = Corpus::new(CorpusConfig {
        documents: args.docs,
        ..CorpusConfig::default()
    });
    if args.list_queries {
        for query in corpus.queries(args.queries_per_class) {
            if selected(&args, query.class) {
                println!("{}\t{}", query.class.label(), query.text);
            }
        }
        return Ok(());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "jaryo search benchmark: {} documents, SQLite FTS5 (WAL), analyzer v{}, {cores} cores",
        args.docs,
        jaryo_text::ANALYZER_VERSION
    );
    let dir = tempfile::tempdir()?;
    let data_dir = match (&args.reuse, &args.keep) {
        (Some(reused), _) => reused.clone(),
        (None, Some(kept)) => kept.clone(),
        (None, None) => dir.path().to_owned(),
    };
    std::fs::create_dir_all(&data_dir)?;
    let mut options = SqliteOptions::in_data_dir(&data_dir);
    if let Some(window) = args.rank_window {
        options.search_rank_window = window;
    }
    let store = Arc::new(SqliteStore::open(&options).await?);
    let pool = store.writer_pool_for_tests().clone();
    let queries = corpus.queries(args.queries_per_class);
    if args.reuse.is_some() {
        let built: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
            .fetch_one(&pool)
            .await?;
        anyhow::ensure!(
            built as usize == args.docs,
            "{} holds {built} documents, not --docs {}",
            data_dir.display(),
            args.docs
        );
        println!("queries on the database in {}:", data_dir.display());
        measure_queries(&store, &pool, &queries, &args).await?;
        store.close().await;
        return Ok(());
    }

    let started = Instant::now();
    let documents: Vec<NewDocument> = corpus
        .documents()
        .map(|doc| NewDocument {
            title: Some(DocumentTitle::parse(&doc.title).expect("corpus titles are valid")),
            extracted_text: DocumentText::parse("extracted_text", doc.body)
                .expect("corpus bodies are valid"),
            content_origin: ContentOrigin::Import,
            source_metadata: Default::default(),
            created_at: None,
            updated_at: None,
            tags: Vec::new(),
        })
        .collect();
    let text_bytes: usize = documents
        .iter()
        .map(|d| d.extracted_text.as_str().len() + d.title.as_ref().map_or(0, |t| t.as_str().len()))
        .sum();
    println!(
        "corpus: {:.1} MB of text generated in {:.1} s",
        text_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // Build through the real write path.
    let documents = Arc::new(documents);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut writers = Vec::new();
    for _ in 0..args.writers.max(1) {
        let (store, documents, next) = (store.clone(), documents.clone(), next.clone());
        writers.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(document) = documents.get(index) else {
                    return Ok::<_, jaryo_store::StoreError>(());
                };
                store.create_document(document).await?;
            }
        }));
    }
    for writer in writers {
        writer.await??;
    }
    let build = started.elapsed();
    let build_rate = args.docs as f64 / build.as_secs_f64();
    println!(
        "build: {} documents in {:.1} s = {:.0} docs/s (create_document: row + index + chunks + \
         tags, group commit, {} writers)  {}",
        args.docs,
        build.as_secs_f64(),
        build_rate,
        args.writers,
        verdict(build_rate >= 3000.0)
    );

    // The store merges the index's segments once writes pause; measure what it settles to.
    let segments = |pool: sqlx::SqlitePool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(DISTINCT segid) FROM search_fts_idx")
            .fetch_one(&pool)
            .await
    };
    let written = segments(pool.clone()).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    while segments(pool.clone()).await? > 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "index: {written} segments as written; {} segment(s) {:.1} s later (merged in the \
         background once writes paused)",
        segments(pool.clone()).await?,
        started.elapsed().as_secs_f64()
    );

    // Sizes, after folding the WAL into the file.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await?;
    let file_bytes = std::fs::metadata(&options.path)?.len();
    let sizes: BTreeMap<String, i64> = sqlx::query(
        "SELECT CASE WHEN name LIKE 'search_fts%' THEN 'search index (FTS5)' \
                     WHEN name LIKE 'document_chunks%' THEN 'chunks' \
                     WHEN name LIKE 'document_tags%' THEN 'tags' \
                     WHEN name LIKE 'documents%' OR name LIKE 'sqlite_autoindex_documents%' \
                          THEN 'documents (text)' ELSE 'other' END AS part, \
                sum(pgsize) AS bytes FROM dbstat GROUP BY part",
    )
    .fetch_all(&pool)
    .await?
    .iter()
    .map(|row| (row.get::<String, _>("part"), row.get::<i64, _>("bytes")))
    .collect();
    println!(
        "size: database file {:.1} MB for {:.1} MB of text",
        file_bytes as f64 / 1e6,
        text_bytes as f64 / 1e6
    );
    for (part, bytes) in &sizes {
        println!("  {part:<22} {:>8.1} MB", *bytes as f64 / 1e6);
    }

    // Queries on the index as built and merged, then a full reindex, then the queries again.
    println!(
        "\nqueries: {} per class, each run {} times; the LIKE scan once; limit 20, unfiltered, \
         the newest {} matches of each kind ranked",
        args.queries_per_class, args.repeat, options.search_rank_window
    );
    let floors_ok = measure_queries(&store, &pool, &queries, &args).await?;
    println!(
        "\nfloors (2+ character queries): p99 ≤ 20 ms and ≥ 100× the LIKE scan: {}",
        verdict(floors_ok)
    );
    println!("hits: rows the LIKE scan matched (for English a superset: LIKE finds substrings)");

    // Rebuilding the whole index from the stored text, as `jaryo reindex` does.
    let started = Instant::now();
    let report = store.reindex(&|_| {}).await?;
    let rebuild = started.elapsed();
    println!(
        "\nreindex: {} documents ({} chunks) in {:.1} s = {:.0} docs/s (jaryo reindex: every \
         document re-read, re-analysed, re-chunked and re-indexed in batches, then merged)",
        report.documents,
        report.chunks,
        rebuild.as_secs_f64(),
        report.documents as f64 / rebuild.as_secs_f64(),
    );

    println!("\nqueries after the reindex:");
    measure_queries(&store, &pool, &queries, &args).await?;
    store.close().await;
    Ok(())
}

/// Runs every query class; prints a table row per class; whether the floors hold.
async fn measure_queries(
    store: &SqliteStore,
    pool: &sqlx::SqlitePool,
    queries: &[jaryo_bench::corpus::BenchQuery],
    args: &Args,
) -> anyhow::Result<bool> {
    println!(
        "  {:<9} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11} {:>9}",
        "class",
        "hits p50",
        "hits max",
        "p50 ms",
        "p99 ms",
        "LIKE p50 ms",
        "LIKE p99 ms",
        "speedup"
    );
    let mut floors_ok = true;
    for class in QueryClass::ALL
        .into_iter()
        .filter(|&class| selected(args, class))
    {
        let mut latency = latency_histogram();
        let mut like_latency = latency_histogram();
        let mut hit_counts = Vec::new();
        let mut measured = 0;
        for query in queries
            .iter()
            .filter(|q| q.class == class)
            .filter(|q| args.queries.is_empty() || args.queries.contains(&q.text))
        {
            measured += 1;
            let parsed = Query::parse(&query.text)?;
            let request = SearchRequest {
                query: parsed.clone(),
                filter: SearchFilter::default(),
                limit: 20,
                after: None,
            };
            // Warm once, then measure.
            store.search(&request).await?;
            let mut own = Vec::new();
            for _ in 0..args.repeat.max(1) {
                let started = Instant::now();
                let page = store.search(&request).await?;
                let took = micros(started.elapsed());
                latency.record(took)?;
                own.push(took);
                std::hint::black_box(page);
            }
            if args.per_query {
                own.sort_unstable();
                println!(
                    "    {:<24} p50 {:>7.3} ms",
                    query.text,
                    own[own.len() / 2] as f64 / 1000.0
                );
            }
            if args.skip_like {
                continue;
            }
            let words: Vec<&str> = query.text.split_whitespace().collect();
            let pattern = |word: Option<&&str>| word.map_or("%".to_owned(), |w| format!("%{w}%"));
            let started = Instant::now();
            let matching: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM documents WHERE deleted_at IS NULL \
                 AND (title LIKE ?1 OR extracted_text LIKE ?1) \
                 AND (title LIKE ?2 OR extracted_text LIKE ?2)",
            )
            .bind(pattern(words.first()))
            .bind(pattern(words.get(1)))
            .fetch_one(pool)
            .await?;
            like_latency.record(micros(started.elapsed()))?;
            hit_counts.push(matching);
        }
        if measured == 0 {
            continue;
        }
        hit_counts.sort_unstable();
        let p50 = latency.value_at_quantile(0.5) as f64 / 1000.0;
        let p99 = latency.value_at_quantile(0.99) as f64 / 1000.0;
        let like_p50 = like_latency.value_at_quantile(0.5) as f64 / 1000.0;
        let like_p99 = like_latency.value_at_quantile(0.99) as f64 / 1000.0;
        let speedup = like_p50 / p50.max(0.001);
        let floored = class != QueryClass::KoreanOneSyllable && !args.skip_like;
        let ok = !floored || (p99 <= 20.0 && speedup >= 100.0);
        floors_ok &= ok;
        println!(
            "  {:<9} {:>9} {:>9} {:>9.2} {:>9.2} {:>11.1} {:>11.1} {:>8.0}x {}",
            class.label(),
            hit_counts.get(hit_counts.len() / 2).copied().unwrap_or(0),
            hit_counts.last().copied().unwrap_or(0),
            p50,
            p99,
            like_p50,
            like_p99,
            speedup,
            if floored { verdict(ok) } else { "(no floor)" }
        );
    }
    Ok(floors_ok)
}

/// Whether `--class` selects `class` (every class when none is given).
fn selected(args: &Args, class: QueryClass) -> bool {
    args.classes.is_empty() || args.classes.iter().any(|label| label == class.label())
}

fn micros(elapsed: Duration) -> u64 {
    (elapsed.as_micros() as u64).max(1)
}
