//! The draft worker's pace: how fully it keeps the model busy on a backlog, how fast it reacts
//! to a promote, and what each draft costs beyond the model.
//!
//! `cargo run --release -p jaryo-bench --bin bench-drain` (see `--help`).
//!
//! Everything is real but the model: jaryo's store (SQLite file), worker, gate and model client
//! run in this process as `jaryo serve` assembles them; the model is the OpenAI-compatible test
//! server with a fixed latency.

use clap::Parser;
use jaryo::app::{App, Services};
use jaryo::config::Config;
use jaryo_bench::harness::{latency_histogram, verdict};
use jaryo_domain::{DraftState, MemoText};
use jaryo_store::Store;
use jaryo_testllm::{Reply, TestLlm};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(about = "Draft worker: backlog drain, promote-to-model latency, per-draft overhead")]
struct Args {
    /// Memos in the backlog for the drain.
    #[arg(long, default_value_t = 200)]
    backlog: usize,
    /// The test model's fixed latency for the drain, in milliseconds.
    #[arg(long, default_value_t = 50)]
    model_ms: u64,
    /// Promotes timed for the wake-up latency.
    #[arg(long, default_value_t = 200)]
    promotes: usize,
    /// Drafts for the zero-latency overhead run.
    #[arg(long, default_value_t = 2000)]
    overhead_drafts: usize,
}

const MEMOS: &[&str] = &[
    "주간 회의 메모: axum 서버 배포는 다음 주 화요일, 담당 민수, 배포 전 예산 검토 필요",
    "장보기 목록 우유 두 통 계란 한 판 두부 대파 그리고 세제 리필용",
    "Idea for the search page: show the best chunk with marks, group hits by document",
    "여행 준비: 부산 2박 3일, 숙소 체크인 15시, KTX 예매 확인, 우산 챙기기",
    "TODO renew the TLS certificate before it expires, then restart the proxy and check logs",
];

fn memo(n: usize) -> String {
    format!("{} (메모 {n})", MEMOS[n % MEMOS.len()])
}

fn bench_config(dir: &std::path::Path, llm: &TestLlm) -> Config {
    let mut config = Config {
        data_dir: dir.to_owned(),
        listen: "127.0.0.1:0".parse().expect("address"),
        api_token: Some(secrecy::SecretString::from("bench")),
        ..Config::default()
    };
    config.llm.client.base_url = llm.base_url();
    config.llm.client.model = jaryo_testllm::DEFAULT_MODEL.into();
    config.llm.gate.concurrency = 1;
    config
}

async fn backlog(store: &Arc<dyn Store>, count: usize) -> anyhow::Result<()> {
    for n in 0..count {
        let memo = store.create_memo(&MemoText::parse(memo(n))?).await?;
        store.promote_memo(memo.id).await?;
    }
    Ok(())
}

/// Runs the worker until every document is drafted; the time that took.
async fn drain(services: &Services, count: usize) -> anyhow::Result<Duration> {
    let stop = CancellationToken::new();
    let worker = services.worker.clone();
    let started = Instant::now();
    let running = tokio::spawn({
        let stop = stop.clone();
        async move { worker.run(stop).await }
    });
    let mut signal = services.store.draft_signal().subscribe();
    loop {
        let stats = services.store.draft_queue_stats().await?;
        let done = stats.count(DraftState::Done) + stats.count(DraftState::Skipped);
        if done as usize >= count {
            break;
        }
        anyhow::ensure!(
            stats.count(DraftState::Failed) == 0,
            "a draft failed during the benchmark"
        );
        // Settlements do not signal; poll briefly instead.
        tokio::select! {
            _ = signal.changed() => {}
            () = tokio::time::sleep(Duration::from_millis(2)) => {}
        }
    }
    let took = started.elapsed();
    stop.cancel();
    running.await?;
    Ok(took)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "jaryo draft worker benchmark: SQLite, gate width 1, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // (a) Backlog drain at a fixed model latency.
    let llm = TestLlm::start().await;
    llm.set_handler({
        let latency = Duration::from_millis(args.model_ms);
        move |request| jaryo_testkit_echo(request).generation_time(latency)
    });
    let dir = tempfile::tempdir()?;
    let services = Services::open(&bench_config(dir.path(), &llm)).await?;
    backlog(&services.store, args.backlog).await?;
    let took = drain(&services, args.backlog).await?;
    let ideal = Duration::from_millis(args.model_ms) * args.backlog as u32;
    let utilisation = ideal.as_secs_f64() / took.as_secs_f64();
    let seed_ticks = args.backlog.div_ceil(2);
    let seed_time = Duration::from_secs(120 * seed_ticks as u64);
    let seed_utilisation = ideal.as_secs_f64() / seed_time.as_secs_f64();
    println!();
    println!(
        "(a) backlog drain: {} memos, model {} ms each",
        args.backlog, args.model_ms
    );
    println!(
        "    jaryo:  {:>9.2} s   ideal {:.2} s   model utilisation {:>6.2} %  {}",
        took.as_secs_f64(),
        ideal.as_secs_f64(),
        utilisation * 100.0,
        verdict(utilisation >= 0.90)
    );
    println!(
        "    seed:   {:>9.0} s   ({} ticks of 2 documents every 120 s)  model utilisation {:>6.3} %",
        seed_time.as_secs_f64(),
        seed_ticks,
        seed_utilisation * 100.0
    );
    anyhow::ensure!(llm.max_in_flight() <= 1, "the gate let two calls through");
    drop(services);

    // (b) Promote → model request, with an idle worker and gate.
    let llm = TestLlm::start().await;
    llm.set_handler(jaryo_testkit_echo);
    let dir = tempfile::tempdir()?;
    let mut config = bench_config(dir.path(), &llm);
    config.draft.interval_secs = 3600;
    let app = App::start(&config).await?;
    let api = jaryo_client::ApiClient::new(&app.url(), app.token.clone());
    let mut latency = latency_histogram();
    for n in 0..args.promotes {
        let memo = api.create_memo(&memo(n)).await?;
        let before = llm.request_count();
        let promoted = Instant::now();
        api.promote_memo(memo.id).await?;
        llm.wait_for_requests(before + 1, Duration::from_secs(10))
            .await
            .map_err(|_| anyhow::anyhow!("no model request after a promote"))?;
        latency.record(promoted.elapsed().as_micros().max(1) as u64)?;
        llm.wait_for_completed(before + 1, Duration::from_secs(10))
            .await
            .map_err(|_| anyhow::anyhow!("the draft did not finish"))?;
    }
    let p50 = latency.value_at_quantile(0.5) as f64 / 1000.0;
    println!();
    println!(
        "(b) promote (HTTP) → model request, idle gate, {} promotes:",
        args.promotes
    );
    println!(
        "    p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms  {}",
        p50,
        latency.value_at_quantile(0.99) as f64 / 1000.0,
        latency.max() as f64 / 1000.0,
        verdict(p50 <= 50.0)
    );
    app.stop().await?;

    // (c) What a draft costs beyond the model: a model that answers at once.
    let llm = TestLlm::start().await;
    llm.set_handler(jaryo_testkit_echo);
    let dir = tempfile::tempdir()?;
    let services = Services::open(&bench_config(dir.path(), &llm)).await?;
    backlog(&services.store, args.overhead_drafts).await?;
    let took = drain(&services, args.overhead_drafts).await?;
    let rate = args.overhead_drafts as f64 / took.as_secs_f64();
    println!();
    println!(
        "(c) per-draft overhead, zero-latency model, {} drafts:",
        args.overhead_drafts
    );
    println!(
        "    {:.0} drafts/s   {:.2} ms per draft (claim, model call over HTTP, fidelity check, settle)  {}",
        rate,
        1000.0 / rate,
        verdict(rate >= 500.0)
    );
    println!();
    println!(
        "floors: utilisation ≥ 90 % {}  promote→model p50 ≤ 50 ms {}  overhead ≥ 500 drafts/s {}",
        verdict(utilisation >= 0.90),
        verdict(p50 <= 50.0),
        verdict(rate >= 500.0)
    );
    Ok(())
}

/// Answers a draft request with the memo itself: a faithful draft, so no stricter retry.
fn jaryo_testkit_echo(request: &jaryo_testllm::RecordedRequest) -> Reply {
    let prompt = request.last_user_message().unwrap_or_default();
    let memo = prompt
        .rfind("\n<memo-")
        .and_then(|open| {
            let start = open + prompt[open..].find(">\n")? + 2;
            let end = prompt.rfind("\n</memo-")?;
            (end >= start).then(|| &prompt[start..end])
        })
        .unwrap_or("");
    Reply::text(memo)
}
