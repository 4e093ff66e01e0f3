//! bench-exchange: how fast a vault comes in and a library goes out.
//!
//! A generated Obsidian-like vault (bench-search's mixed Korean/English corpus, ~1 KB a note,
//! front matter with tags and dates, 100 folders) is imported into a fresh library; then the
//! same vault again (everything already there: the idempotency check alone); then the library
//! is exported to a folder and to a zip archive. Peak memory of the process is printed last:
//! import and export read and write a note (or a page of 200) at a time, so it stays bounded
//! whatever the vault's size. `--store postgres` runs the same on a fresh PostgreSQL database
//! (as the tests find it) beside SQLite.
//!
//! Usage: `cargo run --release -p jaryo-bench --bin bench-exchange [-- --notes N --store postgres]`

use clap::Parser;
use jaryo_bench::corpus::{Corpus, CorpusConfig};
use jaryo_exchange::{ImportOptions, ZipSink, export_library, export_to_folder, import_folder};
use jaryo_store::Store;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use std::path::Path;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Notes in the generated vault.
    #[arg(long, default_value_t = 10_000)]
    notes: usize,
    /// `sqlite`, or `postgres` for both stores side by side.
    #[arg(long, default_value = "sqlite", value_parser = ["sqlite", "postgres"])]
    store: String,
}

fn write_vault(root: &Path, notes: usize) -> anyhow::Result<u64> {
    let corpus = Corpus::new(CorpusConfig {
        documents: notes,
        ..CorpusConfig::default()
    });
    let mut bytes = 0;
    for doc in corpus.documents() {
        let folder = root.join(format!("폴더 {:02}", doc.index % 100));
        std::fs::create_dir_all(&folder)?;
        let stem = jaryo_exchange::file_names::portable_stem(&doc.title);
        let note = format!(
            "---\ntags: [bench, 분류{}]\ncreated: 2025-{:02}-{:02}\n---\n{}",
            doc.index % 7,
            doc.index % 12 + 1,
            doc.index % 28 + 1,
            doc.body
        );
        bytes += note.len() as u64;
        std::fs::write(folder.join(format!("{stem} {}.md", doc.index)), note)?;
    }
    Ok(bytes)
}

fn peak_rss_mib() -> f64 {
    jaryo_bench::harness::peak_rss_kib(std::process::id()).unwrap_or(0) as f64 / 1024.0
}

async fn run(label: &str, store: &dyn Store, vault: &Path, notes: usize) -> anyhow::Result<()> {
    let rate = |seconds: f64| notes as f64 / seconds;
    let started = Instant::now();
    let first = import_folder(store, vault, ImportOptions::default(), &|_| {}).await?;
    let import_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        first.imported as usize == notes && first.failed.is_empty(),
        "{label}: imported {} of {notes}, {} failed",
        first.imported,
        first.failed.len()
    );
    let started = Instant::now();
    let again = import_folder(store, vault, ImportOptions::default(), &|_| {}).await?;
    let again_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        again.unchanged as usize == notes,
        "{label}: re-import changed something"
    );

    let out = tempfile::tempdir()?;
    let started = Instant::now();
    let folder = export_to_folder(store, &out.path().join("export"), &|_| {}).await?;
    let export_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut sink = ZipSink::new(std::io::BufWriter::new(tempfile::tempfile()?));
    export_library(store, &mut sink, &|_| {}).await?;
    let file = sink.finish()?.into_inner().map_err(|e| e.into_error())?;
    let zip_s = started.elapsed().as_secs_f64();
    let zip_bytes = file.metadata()?.len();

    println!(
        "{label:<10} import {:>8.0} notes/s ({import_s:.1} s)  again {:>8.0} notes/s ({again_s:.1} s)  export {:>8.0} docs/s ({export_s:.1} s, {:.1} MB)  zip {:>8.0} docs/s ({zip_s:.1} s, {:.1} MB)",
        rate(import_s),
        rate(again_s),
        rate(export_s),
        folder.bytes as f64 / 1e6,
        rate(zip_s),
        zip_bytes as f64 / 1e6,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let vault = dir.path().join("bench vault");
    let started = Instant::now();
    let bytes = write_vault(&vault, args.notes)?;
    println!(
        "vault: {} notes in 100 folders, {:.1} MB, written in {:.1} s",
        args.notes,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let sqlite = SqliteStore::open(&SqliteOptions::in_data_dir(&data_dir)).await?;
    run("SQLite", &sqlite, &vault, args.notes).await?;
    sqlite.close().await;

    if args.store == "postgres" {
        let database = jaryo_store_postgres::testing::TestDatabase::create()
            .await
            .ok_or_else(|| anyhow::anyhow!("no PostgreSQL server to benchmark"))?;
        let postgres = jaryo_store_postgres::PostgresStore::open(&database.options()).await?;
        run("PostgreSQL", &postgres, &vault, args.notes).await?;
        postgres.close().await;
    }
    println!("peak memory of this process: {:.0} MiB", peak_rss_mib());
    Ok(())
}
