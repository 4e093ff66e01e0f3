//! A real `jaryo serve` process killed in the middle of a generation: after a restart the draft
//! completes, exactly once. And a polite SIGTERM hands a draft in flight back untouched.

use jaryo_client::ApiClient;
use jaryo_domain::DraftState;
use jaryo_testllm::{Reply, TestLlm};
use secrecy::SecretString;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jaryo");
const MEMO: &str = "서버 이전 계획: 다음 주 화요일 새벽 2시, 담당 민수, 롤백 절차 점검";

fn serve(data_dir: &Path, llm: &TestLlm, extra: &[(&str, &str)]) -> Child {
    let _ = std::fs::remove_file(data_dir.join("server.json"));
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("JARYO_API_TOKEN", "crash-test-token")
        .env("JARYO_LLM_BASE_URL", llm.base_url())
        .env("JARYO_LLM_MODEL", jaryo_testllm::DEFAULT_MODEL)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in extra {
        command.env(key, value);
    }
    command.spawn().unwrap()
}

async fn client(data_dir: &Path) -> ApiClient {
    let address = data_dir.join("server.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(bytes) = std::fs::read(&address)
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
        {
            let url = value["url"].as_str().unwrap().to_owned();
            return ApiClient::new(&url, SecretString::from("crash-test-token"));
        }
        assert!(Instant::now() < deadline, "jaryo did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_state(
    api: &ApiClient,
    id: i64,
    state: DraftState,
) -> jaryo_client::wire::DocumentJson {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let document = api.get_document(id).await.unwrap();
        if document.draft.state == state {
            return document;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {state:?}: {document:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The lease is ten minutes here: a restart that waited it out would miss every deadline.
const LONG_LEASE: (&str, &str) = ("JARYO_DRAFT_LEASE_SECS", "600");

#[tokio::test]
async fn kill_9_during_a_generation_then_restart_drafts_exactly_once() {
    let llm = TestLlm::start().await;
    llm.push_reply(
        Reply::text("# 절대 끝나지 않는 생성").generation_time(Duration::from_secs(120)),
    );
    llm.set_default_reply(Reply::text(MEMO));
    let data_dir = tempfile::tempdir().unwrap();

    let mut first = serve(data_dir.path(), &llm, &[LONG_LEASE]);
    let api = client(data_dir.path()).await;
    let memo = api.create_memo(MEMO).await.unwrap();
    let document = api.promote_memo(memo.id).await.unwrap();
    llm.wait_for_in_flight(1, Duration::from_secs(30))
        .await
        .unwrap();

    // A second process on the same data directory, started while the first lives, leaves
    // the first one's lease alone.
    let mut beside = serve(
        data_dir.path(),
        &llm,
        &[LONG_LEASE, ("JARYO_DRAFT_ENABLED", "false")],
    );
    let beside_api = client(data_dir.path()).await;
    let held = beside_api.get_document(document.id).await.unwrap();
    assert_eq!(
        held.draft.state,
        DraftState::Running,
        "a living worker's lease"
    );
    beside.kill().unwrap();
    beside.wait().unwrap();

    first.kill().unwrap(); // SIGKILL: no cleanup of any kind
    first.wait().unwrap();
    llm.wait_for_disconnects(1, Duration::from_secs(30))
        .await
        .unwrap();

    // The restart hands its dead predecessor's draft back at once, long before the lease
    // would lapse, and without spending an attempt on the crash.
    let mut second = serve(data_dir.path(), &llm, &[LONG_LEASE]);
    let api = client(data_dir.path()).await;
    let drafted = wait_for_state(&api, document.id, DraftState::Done).await;
    assert_eq!(drafted.md_content.as_deref(), Some(MEMO));
    assert_eq!(drafted.version, 2, "the draft was applied exactly once");
    assert_eq!(drafted.draft.attempts, 1, "the crash spent no attempt");
    assert_eq!(llm.completed(), 1, "one generation finished");
    assert_eq!(llm.request_count(), 2);

    second.kill().unwrap();
    second.wait().unwrap();
}

#[tokio::test]
async fn sigterm_during_a_generation_hands_the_draft_back() {
    let llm = TestLlm::start().await;
    llm.push_reply(Reply::text(MEMO).generation_time(Duration::from_secs(120)));
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = serve(
        data_dir.path(),
        &llm,
        &[("JARYO_DRAFT_SHUTDOWN_GRACE_SECS", "0")],
    );
    let api = client(data_dir.path()).await;
    let memo = api.create_memo(MEMO).await.unwrap();
    let document = api.promote_memo(memo.id).await.unwrap();
    llm.wait_for_in_flight(1, Duration::from_secs(30))
        .await
        .unwrap();

    let stopped_at = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(stopped_at.elapsed() < Duration::from_secs(20));
    llm.wait_for_disconnects(1, Duration::from_secs(30))
        .await
        .unwrap();

    // Look again with drafting switched off, so nothing can touch the draft before we read it:
    // it is back in the queue, untouched, no attempt spent.
    let mut server = serve(data_dir.path(), &llm, &[("JARYO_DRAFT_ENABLED", "false")]);
    let api = client(data_dir.path()).await;
    let document = api.get_document(document.id).await.unwrap();
    assert_eq!(document.md_content, None);
    assert_eq!(document.draft.attempts, 0);
    assert_eq!(document.draft.state, DraftState::Pending);
    assert_eq!(llm.request_count(), 1, "no second generation was started");
    server.kill().unwrap();
    server.wait().unwrap();
}
