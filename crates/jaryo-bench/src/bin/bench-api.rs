//! Memo API throughput and latency over loopback HTTP, beside the same work done directly on
//! the SQLite store in the same run, so the ratio shows what the server adds.
//!
//! `cargo run --release -p jaryo-bench --bin bench-api` (see `--help`).

use bytes::Bytes;
use clap::Parser;
use jaryo_bench::harness::{
    ChildServer, Phase, http_phase, latency_histogram, print_phases, run_jaryo_if_child, verdict,
};
use jaryo_domain::{MemoId, MemoText};
use jaryo_store::Store;
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(about = "Memo API throughput and latency over HTTP vs. direct SQLite")]
struct Args {
    /// Concurrent clients (connections, or tasks for the direct runs).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Memos created in each create phase.
    #[arg(long, default_value_t = 20_000)]
    creates: u64,
    /// Memos read in each read phase.
    #[arg(long, default_value_t = 60_000)]
    reads: u64,
    /// `postgres`: also create the same memos over HTTP on a jaryo on PostgreSQL (a fresh
    /// database on the server `JARYO_TEST_POSTGRES_URL` names, by default the local one), and
    /// compare its rate with SQLite's.
    #[arg(long, default_value = "sqlite", value_parser = ["sqlite", "postgres"])]
    store: String,
}

const SAMPLES: &[&str] = &[
    "주간 회의: axum 서버 배포 일정 확인, 다음 주 화요일까지 #회의",
    "장보기 — 우유, 계란 12개, 두부 2모, 대파 #장보기",
    "Idea: index Hangul as bigrams so 서버 matches 서버를 and 서버에서 #search",
    "오늘 읽은 글: SQLite WAL 모드와 busy timeout 정리. 동시 쓰기는 한 연결로 모은다.",
    "TODO: renew the TLS certificate before 2026-12-01, then restart the proxy #ops",
    "여행 계획 🚄 부산 2박 3일, 숙소 예약 번호 A-20391, 체크인 15시",
];

fn memo_body(n: u64) -> Bytes {
    let text = format!("{} ({n})", SAMPLES[(n as usize) % SAMPLES.len()]);
    Bytes::from(serde_json::json!({ "content": text }).to_string())
}

fn main() -> anyhow::Result<()> {
    run_jaryo_if_child();
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    println!(
        "jaryo API benchmark: {} concurrent clients, {} creates, {} reads, SQLite (WAL), {} cores",
        args.clients,
        args.creates,
        args.reads,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let server_dir = tempfile::tempdir()?;
    let server = ChildServer::start(server_dir.path(), &[])?;
    let http_create = http_phase(
        server.addr,
        &server.token,
        args.clients,
        "HTTP  POST /memos",
        args.creates,
        |n| {
            (
                hyper::Method::POST,
                "/api/v1/memos".to_owned(),
                Some(memo_body(n)),
            )
        },
    )
    .await?;
    let created = args.creates;
    let http_read = http_phase(
        server.addr,
        &server.token,
        args.clients,
        "HTTP  GET /memos/{id}",
        args.reads,
        move |n| {
            let id = 1 + (n.wrapping_mul(2_654_435_761) % created);
            (hyper::Method::GET, format!("/api/v1/memos/{id}"), None)
        },
    )
    .await?;
    let http_list = http_phase(
        server.addr,
        &server.token,
        args.clients,
        "HTTP  GET /memos?limit=20",
        args.reads / 4,
        |_| {
            (
                hyper::Method::GET,
                "/api/v1/memos?limit=20".to_owned(),
                None,
            )
        },
    )
    .await?;
    let peak_rss = server.peak_rss_kib();
    server.stop()?;
    let pg_create = if args.store == "postgres" {
        let database = jaryo_store_postgres::testing::TestDatabase::create()
            .await
            .ok_or_else(|| anyhow::anyhow!("no PostgreSQL server to benchmark"))?;
        let pg_dir = tempfile::tempdir()?;
        let pg_server = ChildServer::start(
            pg_dir.path(),
            &[("JARYO_DATABASE_URL", database.url().to_owned())],
        )?;
        let phase = http_phase(
            pg_server.addr,
            &pg_server.token,
            args.clients,
            "HTTP  POST /memos (PostgreSQL)",
            args.creates,
            |n| {
                (
                    hyper::Method::POST,
                    "/api/v1/memos".to_owned(),
                    Some(memo_body(n)),
                )
            },
        )
        .await?;
        pg_server.stop()?;
        drop(database);
        Some(phase)
    } else {
        None
    };

    let direct_dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&SqliteOptions::in_data_dir(direct_dir.path())).await?);
    let direct_create = direct_phase(
        &store,
        &args,
        "direct create_memo",
        args.creates,
        |store, n| {
            Box::pin(async move {
                let body: serde_json::Value = serde_json::from_slice(&memo_body(n))?;
                let text =
                    MemoText::parse(body["content"].as_str().unwrap_or_default().to_owned())?;
                store.create_memo(&text).await?;
                Ok(())
            })
        },
    )
    .await?;
    let direct_read = direct_phase(
        &store,
        &args,
        "direct get_memo",
        args.reads,
        move |store, n| {
            Box::pin(async move {
                let id = 1 + (n.wrapping_mul(2_654_435_761) % created);
                store.get_memo(MemoId(id as i64)).await?;
                Ok(())
            })
        },
    )
    .await?;

    println!();
    let mut phases = vec![
        http_create.clone(),
        direct_create.clone(),
        http_read.clone(),
        direct_read.clone(),
        http_list,
    ];
    phases.extend(pg_create.clone());
    print_phases(&phases);
    println!();
    println!(
        "  server overhead: create {:.2}× the direct time, read {:.2}×",
        direct_create.per_second() / http_create.per_second(),
        direct_read.per_second() / http_read.per_second()
    );
    if let Some(pg_create) = &pg_create {
        let ratio = pg_create.per_second() / http_create.per_second();
        println!(
            "  PostgreSQL creates over HTTP: {:.0}/s, {ratio:.2}× SQLite's {:.0}/s (floor ≥ 0.7×) {}",
            pg_create.per_second(),
            http_create.per_second(),
            verdict(ratio >= 0.7)
        );
    }
    match peak_rss {
        Some(kib) => println!("  server peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("  server peak RSS: unavailable (no /proc)"),
    }
    println!();
    let creates_ok = http_create.per_second() >= 3000.0;
    let reads_ok = http_read.per_second() >= 15_000.0;
    let p99_ok = http_create.percentile_ms(0.99) < 20.0 && http_read.percentile_ms(0.99) < 20.0;
    println!(
        "  floors: creates ≥ 3,000/s {}  reads ≥ 15,000/s {}  p99 < 20 ms {}",
        verdict(creates_ok),
        verdict(reads_ok),
        verdict(p99_ok)
    );
    Ok(())
}

type BoxFuture = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send>>;

async fn direct_phase(
    store: &Arc<dyn Store>,
    args: &Args,
    name: &str,
    total: u64,
    operation: impl Fn(Arc<dyn Store>, u64) -> BoxFuture + Clone + Send + 'static,
) -> anyhow::Result<Phase> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.clients {
        let next = next.clone();
        let store = store.clone();
        let operation = operation.clone();
        tasks.spawn(async move {
            let mut latency = latency_histogram();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let began = Instant::now();
                operation(store.clone(), n).await?;
                latency.record(began.elapsed().as_micros().max(1) as u64)?;
            }
            anyhow::Ok(latency)
        });
    }
    let mut latency = latency_histogram();
    while let Some(result) = tasks.join_next().await {
        latency.add(result??)?;
    }
    Ok(Phase {
        name: name.to_owned(),
        ops: total,
        elapsed: started.elapsed(),
        latency,
    })
}
