//! jaryo on PostgreSQL with several processes: backlog drain with 1 and 3 worker processes
//! against a model server that runs 3 generations at once, wake-up latency across processes,
//! and the API's throughput on PostgreSQL.
//!
//! `cargo run --release -p jaryo-bench --bin bench-cluster` (needs PostgreSQL; see `--help`).
//!
//! Every jaryo here is a real process (this binary re-executed in jaryo mode) on one fresh
//! PostgreSQL database: an API node that does not draft, and `jaryo worker`s. The model is the
//! OpenAI-compatible test server with a fixed latency and 3 generation slots, like a llama.cpp
//! server started with 3 parallel slots; the cluster-wide LLM gate allows 3 calls at once.

use bytes::Bytes;
use clap::Parser;
use jaryo_bench::harness::{
    ChildServer, ChildWorker, http_phase, latency_histogram, print_phases, run_jaryo_if_child,
    verdict,
};
use jaryo_client::ApiClient;
use jaryo_store_postgres::testing::TestDatabase;
use jaryo_testllm::{RecordedRequest, Reply, TestLlm};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Several jaryo processes on PostgreSQL: drain, wake-up latency, API throughput")]
struct Args {
    /// Promoted memos in the backlog.
    #[arg(long, default_value_t = 1000)]
    backlog: usize,
    /// The test model's latency per generation, in milliseconds.
    #[arg(long, default_value_t = 50)]
    model_ms: u64,
    /// Generations the model server (and the cluster's LLM gate) runs at once.
    #[arg(long, default_value_t = 3)]
    model_slots: usize,
    /// Promotes timed for the wake-up latency.
    #[arg(long, default_value_t = 200)]
    promotes: usize,
    /// Memos created and read for the API figures.
    #[arg(long, default_value_t = 20_000)]
    creates: u64,
    #[arg(long, default_value_t = 60_000)]
    reads: u64,
    /// Concurrent HTTP clients for the API figures.
    #[arg(long, default_value_t = 16)]
    clients: usize,
}

fn memo_of(request: &RecordedRequest) -> String {
    let prompt = request.last_user_message().unwrap_or_default();
    let start = prompt
        .rfind("\n<memo-")
        .and_then(|open| prompt[open..].find(">\n").map(|end| open + end + 2));
    match (start, prompt.rfind("\n</memo-")) {
        (Some(start), Some(end)) if end >= start => prompt[start..end].to_owned(),
        _ => String::new(),
    }
}

fn memo_text(n: usize) -> String {
    format!("{n}번째 메모: axum 서버 배포 점검, 로그 확인, 다음 단계 정리 #ops")
}

async fn done_count(http: &reqwest::Client, server: &ChildServer) -> anyhow::Result<u64> {
    let status: serde_json::Value = http
        .get(format!("{}/api/v1/status", server.url))
        .bearer_auth(&server.token)
        .send()
        .await?
        .json()
        .await?;
    Ok(status["queue"]["by_state"]["done"].as_u64().unwrap_or(0))
}

/// Starts `workers` worker processes and waits until the whole backlog is drafted.
async fn drain(
    args: &Args,
    server: &ChildServer,
    env: &[(&str, String)],
    workers: usize,
    parallelism: usize,
) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let api = ApiClient::new(
        &server.url,
        secrecy::SecretString::from(server.token.clone()),
    );
    // Queue every document again (the first time they are queued already).
    api.redraft_selection(&jaryo_client::wire::RedraftSelection::default())
        .await?;
    let mut env: Vec<(&str, String)> = env.to_vec();
    env.push(("JARYO_DRAFT_PARALLELISM", parallelism.to_string()));
    let dirs: Vec<_> = (0..workers)
        .map(|_| tempfile::tempdir())
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let running: Vec<ChildWorker> = dirs
        .iter()
        .map(|dir| ChildWorker::start(dir.path(), &env))
        .collect::<Result<_, _>>()?;
    let deadline = Instant::now() + Duration::from_secs(900);
    while done_count(&http, server).await? < args.backlog as u64 {
        anyhow::ensure!(Instant::now() < deadline, "the backlog did not drain");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    drop(running);
    Ok(took)
}

fn main() -> anyhow::Result<()> {
    // First: in a child, this process is jaryo itself, with its own runtime.
    run_jaryo_if_child();
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let Some(database) = TestDatabase::create().await else {
        anyhow::bail!(
            "no PostgreSQL server: start one at 127.0.0.1:5432 or set JARYO_TEST_POSTGRES_URL"
        );
    };
    println!(
        "jaryo cluster benchmark on PostgreSQL: model {} ms per generation, {} at once; {} cores",
        args.model_ms,
        args.model_slots,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let llm = TestLlm::builder()
        .max_concurrent(args.model_slots)
        .start()
        .await;
    let latency = Duration::from_millis(args.model_ms);
    llm.set_handler(move |request| Reply::text(memo_of(request)).generation_time(latency));
    let env: Vec<(&str, String)> = vec![
        ("JARYO_DATABASE_URL", database.url().to_owned()),
        ("JARYO_LLM_BASE_URL", llm.base_url()),
        ("JARYO_LLM_MODEL", jaryo_testllm::DEFAULT_MODEL.to_owned()),
        ("JARYO_LLM_CONCURRENCY", args.model_slots.to_string()),
    ];
    let mut api_env = env.clone();
    api_env.push(("JARYO_DRAFT_ENABLED", "false".to_owned()));
    let api_dir = tempfile::tempdir()?;
    let server = ChildServer::start(api_dir.path(), &api_env)?;
    let api = ApiClient::new(
        &server.url,
        secrecy::SecretString::from(server.token.clone()),
    );

    // (c) The API on PostgreSQL, as the foundation benchmark measures it on SQLite.
    let create = http_phase(
        server.addr,
        &server.token,
        args.clients,
        "HTTP  POST /memos",
        args.creates,
        |n| {
            let body = serde_json::json!({ "content": memo_text(n as usize) }).to_string();
            (
                hyper::Method::POST,
                "/api/v1/memos".to_owned(),
                Some(Bytes::from(body)),
            )
        },
    )
    .await?;
    let created = args.creates;
    let read = http_phase(
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

    // (a) The backlog, promoted while no worker runs.
    let mut ids = Vec::with_capacity(args.backlog);
    for n in 0..args.backlog {
        let memo = api.create_memo(&memo_text(n)).await?;
        ids.push(api.promote_memo(memo.id).await?.id);
    }
    let runs = [(1, 1), (3, 1), (1, args.model_slots)];
    let mut drains = Vec::new();
    for (workers, parallelism) in runs {
        let took = drain(&args, &server, &env, workers, parallelism).await?;
        drains.push((workers, parallelism, took));
    }
    anyhow::ensure!(
        llm.max_in_flight() <= args.model_slots,
        "the model server saw {} generations at once",
        llm.max_in_flight()
    );
    for id in ids.iter().step_by(97) {
        let document = api.get_document(*id).await?;
        anyhow::ensure!(
            document.version == 4,
            "document {id} drafted more than once per run"
        );
    }

    // (b) Wake-up across processes: a promote on the API node, the model request from a worker.
    let worker_dir = tempfile::tempdir()?;
    let _worker = ChildWorker::start(worker_dir.path(), &env)?;
    let mut wake = latency_histogram();
    for n in 0..args.promotes {
        let memo = api.create_memo(&memo_text(100_000 + n)).await?;
        let before = llm.request_count();
        let promoted = Instant::now();
        api.promote_memo(memo.id).await?;
        llm.wait_for_requests(before + 1, Duration::from_secs(30))
            .await
            .map_err(|_| anyhow::anyhow!("no model request after a promote"))?;
        wake.record(promoted.elapsed().as_micros().max(1) as u64)?;
        llm.wait_for_completed(before + 1, Duration::from_secs(30))
            .await
            .map_err(|_| anyhow::anyhow!("the draft did not finish"))?;
    }

    println!();
    println!(
        "(a) drain of {} promoted memos (model {} ms, {} slots; ideal {:.1} s):",
        args.backlog,
        args.model_ms,
        args.model_slots,
        (args.backlog as f64 * args.model_ms as f64 / 1000.0) / args.model_slots as f64
    );
    let base = drains[0].2;
    for (workers, parallelism, took) in &drains {
        let busy = args.backlog as f64 * args.model_ms as f64 / 1000.0;
        let utilisation = busy / (args.model_slots as f64 * took.as_secs_f64());
        println!(
            "    {workers} worker process{} × {parallelism} draft{} in flight: {:>7.2} s   speed-up {:.2}×   model utilisation {:>5.1} %",
            if *workers == 1 { " " } else { "es" },
            if *parallelism == 1 { " " } else { "s" },
            took.as_secs_f64(),
            base.as_secs_f64() / took.as_secs_f64(),
            utilisation * 100.0
        );
    }
    println!(
        "    the model server never ran more than {} generations at once (cluster-wide gate)",
        llm.max_in_flight()
    );
    let p50 = wake.value_at_quantile(0.5) as f64 / 1000.0;
    println!();
    println!(
        "(b) promote on the API node → model request from a worker process, {} promotes:",
        args.promotes
    );
    println!(
        "    p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms  {}",
        p50,
        wake.value_at_quantile(0.99) as f64 / 1000.0,
        wake.max() as f64 / 1000.0,
        verdict(p50 <= 50.0)
    );
    println!();
    println!("(c) the API on PostgreSQL, {} clients:", args.clients);
    print_phases(&[create, read]);
    match server.peak_rss_kib() {
        Some(kib) => println!("    API process peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("    API process peak RSS: unavailable"),
    }
    server.stop()?;
    Ok(())
}
