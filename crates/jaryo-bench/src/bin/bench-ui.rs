//! How long the web UI's pages take with 10,000 memos in the database: each page requested
//! over loopback from a real `jaryo serve` (in a child process) with a signed-in session, the
//! time from request to the last byte of the page. The target is under 50 ms at p99.
//!
//! `cargo run --release -p jaryo-bench --bin bench-ui` (see `--help`).

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use jaryo_bench::harness::{ChildServer, latency_histogram, run_jaryo_if_child, verdict};
use jaryo_domain::{DocumentId, MemoText};
use jaryo_store::review::parse_edited_text;
use jaryo_store::{AcceptDraft, ClaimRequest, RejectDraft, Reviewer, Settlement, Store};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Server-side page times of the web UI with many memos")]
struct Args {
    /// Memos in the database.
    #[arg(long, default_value_t = 10_000)]
    memos: usize,
    /// Of them, sent to the library and drafted.
    #[arg(long, default_value_t = 1_000)]
    documents: usize,
    /// Timed requests per page (after a warm-up).
    #[arg(long, default_value_t = 200)]
    requests: usize,
}

/// The slowest acceptable page, at p99.
const TARGET_MS: f64 = 50.0;

const SAMPLES: &[&str] = &[
    "주간 회의: axum 서버 배포 일정 확인, 다음 주 화요일까지. 담당은 민수, 리뷰는 지영 #회의",
    "장보기 — 우유, 계란 12개, 두부 2모, 대파 #장보기",
    "Idea: index Hangul as bigrams so 서버 matches 서버를 and 서버에서 #search",
    "오늘 읽은 글: SQLite WAL 모드와 busy timeout 정리.\n\n- 동시 쓰기는 한 연결로 모은다\n- \
     읽기는 따로 연결 풀을 쓴다\n- `BEGIN IMMEDIATE`로 잠금을 먼저 잡는다 #독서",
    "TODO: renew the **TLS certificate** before 2026-12-01, then restart the proxy. See \
     [the runbook](https://example.com/runbook) #ops",
    "여행 계획 🚄 부산 2박 3일, 숙소 예약 번호 A-20391, 체크인 15시. 첫날은 해운대, 둘째 날은 \
     감천 문화마을, 셋째 날 아침에 돌아오기 #여행",
];

fn memo_text(n: usize) -> String {
    format!("{} ({n})", SAMPLES[n % SAMPLES.len()])
}

/// Fills a fresh database: memos, documents with drafts (some flagged, accepted, rejected).
async fn fill(data_dir: &std::path::Path, args: &Args) -> anyhow::Result<Vec<i64>> {
    let store = SqliteStore::open(&SqliteOptions::in_data_dir(data_dir)).await?;
    let mut memo_ids = Vec::with_capacity(args.memos);
    for n in 0..args.memos {
        let memo = store.create_memo(&MemoText::parse(memo_text(n))?).await?;
        memo_ids.push(memo.id);
    }
    let step = (args.memos / args.documents.max(1)).max(1);
    for memo in memo_ids.iter().step_by(step).take(args.documents) {
        store.promote_memo(*memo).await?;
    }
    let mut documents = Vec::new();
    loop {
        let claims = store
            .claim_drafts(&ClaimRequest {
                owner: "bench-ui".into(),
                lease: Duration::from_secs(600),
                limit: 200,
                max_attempts: 5,
            })
            .await?;
        if claims.is_empty() {
            break;
        }
        for claim in claims {
            let markdown = format!(
                "# {}\n\n- {}\n- 담당: Kim 팀장",
                claim.title,
                claim.text.replace('\n', " ")
            );
            let start = markdown.find("Kim").unwrap_or(0);
            let mut metadata = serde_json::Map::new();
            metadata.insert("drafted_at".into(), json!("2026-11-01T09:00:00.000000Z"));
            metadata.insert(
                "draft".into(),
                json!({ "model": "qwen3:8b", "prompt_version": "draft-v1" }),
            );
            metadata.insert(
                "fidelity".into(),
                json!({ "checker_version": 1, "flagged": true, "findings": [
                    { "kind": "term", "text": "Kim", "start": start, "end": start + 3 }
                ]}),
            );
            store
                .settle_draft(
                    &claim,
                    &Settlement::Drafted {
                        markdown,
                        metadata,
                        model_calls: 1,
                    },
                )
                .await?;
            documents.push(claim.document_id);
        }
    }
    for (i, id) in documents.iter().enumerate() {
        match i % 3 {
            0 => {
                store
                    .accept_draft(
                        *id,
                        &AcceptDraft {
                            by: Reviewer::Api,
                            expected_version: None,
                            md_content: (i % 2 == 0)
                                .then(|| parse_edited_text(format!("# 고친 글 {i}\n\n본문")))
                                .transpose()?,
                        },
                    )
                    .await?;
            }
            1 => {
                store
                    .reject_draft(
                        *id,
                        &RejectDraft {
                            by: Reviewer::Api,
                            expected_version: None,
                        },
                    )
                    .await?;
            }
            _ => {}
        }
    }
    store.close().await;
    Ok(documents.into_iter().map(|DocumentId(id)| id).collect())
}

/// One keep-alive connection carrying the session cookie.
struct Browser {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    cookie: String,
}

impl Browser {
    async fn open(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: addr.to_string(),
            cookie: String::new(),
        })
    }

    async fn send(
        &mut self,
        method: hyper::Method,
        path: &str,
        form: Option<String>,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::ACCEPT_LANGUAGE, "ko-KR,ko;q=0.9");
        if !self.cookie.is_empty() {
            request = request.header(hyper::header::COOKIE, &self.cookie);
        }
        if form.is_some() {
            request = request.header(
                hyper::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        }
        let request = request.body(Full::new(Bytes::from(form.unwrap_or_default())))?;
        let response = self.sender.send_request(request).await?;
        if let Some(set) = response.headers().get(hyper::header::SET_COOKIE) {
            let set = set.to_str()?;
            if let Some(pair) = set.split(';').next()
                && pair.starts_with("jaryo_session=")
            {
                self.cookie = pair.to_owned();
            }
        }
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    async fn sign_in(&mut self, token: &str) -> anyhow::Result<()> {
        let (_, page) = self.send(hyper::Method::GET, "/sign-in", None).await?;
        let page = String::from_utf8_lossy(&page);
        let at = page
            .find("name=\"csrf\" value=\"")
            .ok_or_else(|| anyhow::anyhow!("no CSRF field on the sign-in page"))?
            + 19;
        let csrf = &page[at..at + page[at..].find('"').unwrap_or(0)];
        let (status, _) = self
            .send(
                hyper::Method::POST,
                "/sign-in",
                Some(format!("csrf={csrf}&token={token}&next=%2Fmemos")),
            )
            .await?;
        anyhow::ensure!(status == 303, "sign-in answered {status}");
        Ok(())
    }
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
    let dir = tempfile::tempdir()?;
    let filling = Instant::now();
    let documents = fill(dir.path(), &args).await?;
    println!(
        "bench-ui: {} memos, {} drafted documents (filled in {:.1} s)",
        args.memos,
        documents.len(),
        filling.elapsed().as_secs_f64()
    );
    // No model server: nothing is drafted while the pages are timed.
    let server = ChildServer::start(
        dir.path(),
        &[("JARYO_LLM_BASE_URL", "http://127.0.0.1:9/v1".to_owned())],
    )?;
    let mut browser = Browser::open(server.addr).await?;
    browser.sign_in(&server.token).await?;
    let document = documents[documents.len() / 2 + 2];
    let middle_memo = args.memos / 2;
    let pages = [
        ("memos (newest 50)", "/memos".to_owned()),
        ("memos (older page)", format!("/memos?before={middle_memo}")),
        ("memo edit form", format!("/memos/{middle_memo}/edit")),
        ("library (all)", "/library".to_owned()),
        ("library (accepted)", "/library?state=accepted".to_owned()),
        ("document (draft, diff)", format!("/documents/{document}")),
        ("search 회의", "/search?q=%ED%9A%8C%EC%9D%98".to_owned()),
        (
            "search axum 서버",
            "/search?q=axum+%EC%84%9C%EB%B2%84".to_owned(),
        ),
        ("status", "/status".to_owned()),
    ];
    println!(
        "{:<26} {:>9} {:>9} {:>9} {:>9}",
        "page", "p50 ms", "p99 ms", "max ms", "KiB"
    );
    let mut worst: f64 = 0.0;
    for (name, path) in &pages {
        let mut histogram = latency_histogram();
        let mut size = 0;
        for round in 0..args.requests + 10 {
            let started = Instant::now();
            let (status, body) = browser.send(hyper::Method::GET, path, None).await?;
            let took = started.elapsed();
            anyhow::ensure!(status == 200, "{path} answered {status}");
            size = body.len();
            if round >= 10 {
                histogram.record(took.as_micros().max(1) as u64)?;
            }
        }
        let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
        worst = worst.max(ms(0.99));
        println!(
            "{:<26} {:>9.2} {:>9.2} {:>9.2} {:>9.1}",
            name,
            ms(0.5),
            ms(0.99),
            histogram.max() as f64 / 1000.0,
            size as f64 / 1024.0
        );
    }
    println!(
        "slowest page p99 {worst:.2} ms; target < {TARGET_MS} ms: {}",
        verdict(worst < TARGET_MS)
    );
    server.stop()?;
    Ok(())
}
