//! Many processes, one PostgreSQL database, one model server: real `jaryo` processes — an API
//! node that does not draft and three `jaryo worker`s — against the test model server, which
//! records how many generations it serves at once.

use jaryo_client::ApiClient;
use jaryo_domain::DraftState;
use jaryo_store_postgres::testing::TestDatabase;
use jaryo_testllm::{RecordedRequest, Reply, TestLlm};
use secrecy::SecretString;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jaryo");
const TOKEN: &str = "cluster-test-token";
/// Model calls at once, across every process.
const CLUSTER_SLOTS: usize = 2;

/// A child process that is killed when the test ends, however it ends.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn jaryo(
    args: &[&str],
    data_dir: &Path,
    database: &TestDatabase,
    llm: &TestLlm,
    drafts: bool,
) -> Process {
    let child = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("JARYO_DATABASE_URL", database.url())
        .env("JARYO_API_TOKEN", TOKEN)
        .env("JARYO_LLM_BASE_URL", llm.base_url())
        .env("JARYO_LLM_MODEL", jaryo_testllm::DEFAULT_MODEL)
        .env("JARYO_LLM_CONCURRENCY", CLUSTER_SLOTS.to_string())
        .env("JARYO_DRAFT_ENABLED", drafts.to_string())
        .env("JARYO_DRAFT_LEASE_SECS", "3")
        .env("JARYO_POSTGRES_GATE_LEASE_SECS", "3")
        .env("RUST_LOG", "warn")
        .env_remove("JARYO_SERVER")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Process(child)
}

async fn api_client(data_dir: &Path) -> ApiClient {
    let address = data_dir.join("server.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(bytes) = std::fs::read(&address)
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
        {
            let url = value["url"].as_str().unwrap().to_owned();
            return ApiClient::new(&url, SecretString::from(TOKEN));
        }
        assert!(Instant::now() < deadline, "the API process did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The memo inside a draft prompt's fence: a faithful draft.
fn memo_of(request: &RecordedRequest) -> String {
    let prompt = request.last_user_message().unwrap_or_default();
    let start = prompt
        .rfind("\n<memo-")
        .and_then(|open| prompt[open..].find(">\n").map(|end| open + end + 2));
    let end = prompt.rfind("\n</memo-");
    match (start, end) {
        (Some(start), Some(end)) if end >= start => prompt[start..end].to_owned(),
        _ => String::new(),
    }
}

fn is_question(request: &RecordedRequest) -> bool {
    request
        .last_user_message()
        .is_some_and(|prompt| prompt.contains("\n질문: "))
}

async fn gate_rows(database: &TestDatabase) -> (i64, i64) {
    let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
    // A row whose lease has lapsed holds nothing: the next process to look clears it.
    let slots: i64 =
        sqlx::query_scalar("SELECT count(*) FROM llm_gate_slots WHERE lease_expires_at >= now()")
            .fetch_one(&pool)
            .await
            .unwrap();
    let waiters: i64 =
        sqlx::query_scalar("SELECT count(*) FROM llm_gate_waiters WHERE lease_expires_at >= now()")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    (slots, waiters)
}

async fn wait_for_idle_gate(database: &TestDatabase) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if gate_rows(database).await == (0, 0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gate rows left behind: {:?}",
            gate_rows(database).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_draft_every_memo_once_within_the_cluster_limit_and_people_go_first() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let llm = TestLlm::start().await;
    llm.set_handler(|request| {
        if is_question(request) {
            Reply::text("배포 담당은 민수입니다 [1].")
        } else {
            Reply::text(memo_of(request))
                .chunks(4)
                .generation_time(Duration::from_millis(60))
        }
    });
    let api_dir = tempfile::tempdir().unwrap();
    // The API node applies the migrations; it answers people but does not draft.
    let _api = jaryo(
        &["serve", "--listen", "127.0.0.1:0"],
        api_dir.path(),
        &database,
        &llm,
        false,
    );
    let api = api_client(api_dir.path()).await;
    let worker_dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let _workers: Vec<Process> = worker_dirs
        .iter()
        .map(|dir| jaryo(&["worker"], dir.path(), &database, &llm, true))
        .collect();

    api.create_memo("서버 이전 계획: 배포 담당 민수, 롤백 담당 지현, 다음 주 화요일")
        .await
        .unwrap();
    let mut expected = Vec::new();
    for n in 0..300 {
        let text = format!("{n}번째 메모: axum 서버 배포 점검, 로그 확인, 다음 단계 정리");
        let memo = api.create_memo(&text).await.unwrap();
        let document = api.promote_memo(memo.id).await.unwrap();
        expected.push((document.id, text));
    }
    // People ask while the workers are busy: their questions go first, pre-empting drafts.
    llm.wait_for_in_flight(CLUSTER_SLOTS, Duration::from_secs(30))
        .await
        .unwrap();
    // The API node, which drafts nothing itself, reports the cluster's slots.
    let status = api.status().await.unwrap();
    let cluster = &status["cluster_gate"];
    assert_eq!(cluster["slots"], CLUSTER_SLOTS, "{status}");
    let holders = cluster["holders_background"].as_u64().unwrap()
        + cluster["holders_interactive"].as_u64().unwrap();
    assert!(holders <= CLUSTER_SLOTS as u64, "{status}");
    assert_eq!(status["gate"]["in_use"], 0, "{status}");
    for _ in 0..3 {
        // Ask while every slot is drafting, so the question must pre-empt one (between two
        // drafts a slot is free for a moment, and a question arriving then takes it as is).
        llm.wait_for_in_flight(CLUSTER_SLOTS, Duration::from_secs(30))
            .await
            .unwrap();
        let asked = Instant::now();
        let mut answer = String::new();
        api.ask_streaming("서버 배포 담당자는 누구야?", |event, data| {
            if event == "done" {
                answer = data["answer"].as_str().unwrap_or_default().to_owned();
            }
        })
        .await
        .unwrap();
        assert_eq!(answer, "배포 담당은 민수입니다 [1].");
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "a question waited {:?} behind drafts",
            asked.elapsed()
        );
    }

    let deadline = Instant::now() + Duration::from_secs(240);
    for (id, text) in &expected {
        loop {
            let document = api.get_document(*id).await.unwrap();
            if document.draft.state == DraftState::Done {
                assert_eq!(document.md_content.as_deref(), Some(text.as_str()));
                assert_eq!(
                    document.version, 2,
                    "document {id} was drafted exactly once"
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "document {id} never drafted: {document:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(
        llm.max_in_flight() <= CLUSTER_SLOTS,
        "the model server saw {} generations at once, the cluster allows {CLUSTER_SLOTS}",
        llm.max_in_flight()
    );
    assert!(
        llm.disconnects() >= 1,
        "the questions pre-empted no draft (disconnects: {})",
        llm.disconnects()
    );
    // Every slot and waiter row is gone once the cluster is idle: none was lost.
    wait_for_idle_gate(&database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_generation_loses_its_draft_and_its_slot_to_another() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let llm = TestLlm::start().await;
    // The first generation never ends on its own; the rest are quick.
    llm.push_reply(Reply::text("끝나지 않는 생성").generation_time(Duration::from_secs(300)));
    llm.set_handler(|request| Reply::text(memo_of(request)));
    let api_dir = tempfile::tempdir().unwrap();
    let _api = jaryo(
        &["serve", "--listen", "127.0.0.1:0"],
        api_dir.path(),
        &database,
        &llm,
        false,
    );
    let api = api_client(api_dir.path()).await;
    let doomed_dir = tempfile::tempdir().unwrap();
    let mut doomed = jaryo(&["worker"], doomed_dir.path(), &database, &llm, true);

    let text = "롤백 절차 점검 메모: 스냅샷 확인, 이전 버전 배포, 헬스 체크";
    let memo = api.create_memo(text).await.unwrap();
    let document = api.promote_memo(memo.id).await.unwrap();
    llm.wait_for_in_flight(1, Duration::from_secs(30))
        .await
        .unwrap();
    doomed.0.kill().unwrap(); // SIGKILL mid-generation: no cleanup of any kind
    doomed.0.wait().unwrap();
    llm.wait_for_disconnects(1, Duration::from_secs(30))
        .await
        .unwrap();
    // The dead worker still holds a draft claim and a gate slot; both lapse with their leases.
    let survivor_dir = tempfile::tempdir().unwrap();
    let _survivor = jaryo(&["worker"], survivor_dir.path(), &database, &llm, true);

    let deadline = Instant::now() + Duration::from_secs(60);
    let drafted = loop {
        let current = api.get_document(document.id).await.unwrap();
        if current.draft.state == DraftState::Done {
            break current;
        }
        assert!(Instant::now() < deadline, "never taken over: {current:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(drafted.md_content.as_deref(), Some(text));
    assert_eq!(drafted.version, 2, "applied exactly once");
    assert_eq!(drafted.draft.attempts, 2, "the killed attempt counts");
    assert_eq!(llm.completed(), 1, "one generation ran to its end");
    wait_for_idle_gate(&database).await;
}
