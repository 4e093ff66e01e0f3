//! Search on the SQLite store: index build rate through the real write path, index size, and
//! query latency per query class, beside a `LIKE '%…%'` scan over the same rows in the same run.
//!
//! `cargo run --release -p jaryo-bench --bin bench-search` (100,000 documents; `--docs 10000`
//! for a quick run; see `--help`).
//!
//! `--store postgres`: the same corpus built into a SQLite store and into a PostgreSQL store
//! (a fresh database on the server `JARYO_TEST_POSTGRES_URL` names, by default the local one),
//! through the same write path, then the same queries on both, side by side: each store's
//! build rate, p50 and p99 per query class, and whether both return the same first ten hits
//! (the same documents — title and snippet, since concurrent writers number them differently
//! on each store — in the same order, scores to 1e-6).
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
    /// `sqlite`: the SQLite store alone (build, sizes, LIKE baseline, reindex). `postgres`:
    /// SQLite and PostgreSQL side by side on the same corpus and queries.
    #[arg(long, default_value = "sqlite", value_parser = ["sqlite", "postgres"])]
    store: String,
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
    if args.store == "postgres" {
        return side_by_side(&args, &corpus).await;
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

    let (documents, text_bytes) = generate(&corpus);
    let started = Instant::now();
    build(store.clone(), Arc::new(documents), args.writers).await?;
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

/// The corpus as the documents the API would be given, and their bytes of text.
fn generate(corpus: &Corpus) -> (Vec<NewDocument>, usize) {
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
    (documents, text_bytes)
}

/// Writes every document through `Store::create_document` from `writers` tasks at once.
async fn build(
    store: Arc<dyn Store>,
    documents: Arc<Vec<NewDocument>>,
    writers: usize,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..writers.max(1) {
        let (store, documents, next) = (store.clone(), documents.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(document) = documents.get(index) else {
                    return Ok::<_, jaryo_store::StoreError>(());
                };
                store.create_document(document).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// `--store postgres`: the corpus built into SQLite and PostgreSQL, the queries on both.
async fn side_by_side(args: &Args, corpus: &Corpus) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "jaryo search benchmark, side by side: {} documents, SQLite FTS5 (WAL) and PostgreSQL, \
         analyzer v{}, {cores} cores",
        args.docs,
        jaryo_text::ANALYZER_VERSION
    );
    let (documents, _) = generate(corpus);
    let documents = Arc::new(documents);
    let dir = tempfile::tempdir()?;
    let mut options = SqliteOptions::in_data_dir(dir.path());
    if let Some(window) = args.rank_window {
        options.search_rank_window = window;
    }
    let sqlite = Arc::new(SqliteStore::open(&options).await?);
    let database = jaryo_store_postgres::testing::TestDatabase::create()
        .await
        .ok_or_else(|| anyhow::anyhow!("no PostgreSQL server to benchmark"))?;
    let mut pg_options = database.options();
    pg_options.search_rank_window = options.search_rank_window;
    pg_options.max_connections = 16;
    let postgres = Arc::new(jaryo_store_postgres::PostgresStore::open(&pg_options).await?);

    let started = Instant::now();
    build(sqlite.clone(), documents.clone(), args.writers).await?;
    let sqlite_rate = args.docs as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    build(postgres.clone(), documents.clone(), args.writers).await?;
    let pg_rate = args.docs as f64 / started.elapsed().as_secs_f64();
    println!(
        "build (create_document, group commit, {} writers): SQLite {sqlite_rate:.0} docs/s, \
         PostgreSQL {pg_rate:.0} docs/s ({:.2}x)",
        args.writers,
        pg_rate / sqlite_rate
    );
    drop(documents);
    // Each store settles as it would after an import: SQLite merges its index's segments once
    // writes pause; PostgreSQL's autovacuum folds the GIN index's pending entries in and
    // gathers statistics (done here at once, and timed).
    let pool = sqlite.writer_pool_for_tests().clone();
    let deadline = Instant::now() + Duration::from_secs(1800);
    while sqlx::query_scalar::<_, i64>("SELECT count(DISTINCT segid) FROM search_fts_idx")
        .fetch_one(&pool)
        .await?
        > 1
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pg_pool = postgres.pool_for_tests().clone();
    let started = Instant::now();
    sqlx::query("VACUUM ANALYZE").execute(&pg_pool).await?;
    println!(
        "PostgreSQL: VACUUM ANALYZE after the build {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let sizes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT c.relname::text, pg_total_relation_size(c.oid) FROM pg_class c \
         WHERE c.relname IN ('search_rows', 'documents', 'document_chunks', 'document_tags') \
         ORDER BY c.relname",
    )
    .fetch_all(&pg_pool)
    .await?;
    for (table, bytes) in sizes {
        println!(
            "  PostgreSQL {table:<16} {:>8.1} MB (with indexes and TOAST)",
            bytes as f64 / 1e6
        );
    }

    let floor_ms = if args.docs > 100_000 { 50.0 } else { 20.0 };
    println!(
        "\nqueries: {} per class, each run {} times on each store; limit 20, unfiltered, the \
         newest {} matches of each kind ranked",
        args.queries_per_class, args.repeat, options.search_rank_window
    );
    println!(
        "  {:<9} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "class", "SQLite p50", "SQLite p99", "PG p50", "PG p99", "PG/SQLite", "same top"
    );
    let queries = corpus.queries(args.queries_per_class);
    let mut floors_ok = true;
    for class in QueryClass::ALL
        .into_iter()
        .filter(|&class| selected(args, class))
    {
        let mut latencies = [latency_histogram(), latency_histogram()];
        let (mut same, mut compared) = (0, 0);
        for query in queries
            .iter()
            .filter(|q| q.class == class)
            .filter(|q| args.queries.is_empty() || args.queries.contains(&q.text))
        {
            let request = SearchRequest {
                query: Query::parse(&query.text)?,
                filter: SearchFilter::default(),
                limit: 20,
                after: None,
            };
            let stores: [&dyn Store; 2] = [sqlite.as_ref(), postgres.as_ref()];
            let mut pages = Vec::new();
            for (store, latency) in stores.iter().zip(latencies.iter_mut()) {
                pages.push(store.search(&request).await?);
                for _ in 0..args.repeat.max(1) {
                    let started = Instant::now();
                    let page = store.search(&request).await?;
                    latency.record(micros(started.elapsed()))?;
                    std::hint::black_box(page);
                }
            }
            // Documents written by concurrent writers get their ids in another order on each
            // store: the same document is the same title and text, not the same id.
            let top = |page: &jaryo_store::SearchPage| -> Vec<(String, String, f64)> {
                page.hits
                    .iter()
                    .take(10)
                    .map(|hit| (hit.title.clone(), hit.snippet_text.clone(), hit.score))
                    .collect()
            };
            let (a, b) = (top(&pages[0]), top(&pages[1]));
            let agree = a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && (x.2 - y.2).abs() <= 1e-6);
            if !agree && args.per_query {
                let scores = |hits: &[(String, String, f64)]| -> Vec<(String, f64)> {
                    hits.iter()
                        .map(|(title, _, score)| (title.clone(), *score))
                        .collect()
                };
                println!(
                    "    {}: SQLite {:?}\n      PostgreSQL {:?}",
                    query.text,
                    scores(&a),
                    scores(&b)
                );
            }
            compared += 1;
            same += usize::from(agree);
        }
        if compared == 0 {
            continue;
        }
        let quantile = |latency: &hdrhistogram::Histogram<u64>, q: f64| {
            latency.value_at_quantile(q) as f64 / 1000.0
        };
        let (sqlite_p50, sqlite_p99) =
            (quantile(&latencies[0], 0.5), quantile(&latencies[0], 0.99));
        let (pg_p50, pg_p99) = (quantile(&latencies[1], 0.5), quantile(&latencies[1], 0.99));
        let floored = class != QueryClass::KoreanOneSyllable;
        let ok = same == compared
            && (!floored || (pg_p99 <= floor_ms && pg_p50 <= 3.0 * sqlite_p50.max(0.001)));
        floors_ok &= ok;
        println!(
            "  {:<9} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>8.1}x {:>6}/{:<2} {}",
            class.label(),
            sqlite_p50,
            sqlite_p99,
            pg_p50,
            pg_p99,
            pg_p50 / sqlite_p50.max(0.001),
            same,
            compared,
            if floored {
                verdict(ok)
            } else {
                "(no floor but the same top 10)"
            }
        );
    }
    println!(
        "\nfloors (2+ character queries): PostgreSQL p99 ≤ {floor_ms} ms and p50 within 3× \
         SQLite's; the same top 10 for every query: {}",
        verdict(floors_ok)
    );
    sqlite.close().await;
    postgres.close().await;
    drop(database);
    Ok(())
}

/// Whether `--class` selects `class` (every class when none is given).
fn selected(args: &Args, class: QueryClass) -> bool {
    args.classes.is_empty() || args.classes.iter().any(|label| label == class.label())
}

fn micros(elapsed: Duration) -> u64 {
    (elapsed.as_micros() as u64).max(1)
}
