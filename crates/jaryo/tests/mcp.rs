//! jaryo's MCP server as an AI assistant meets it: the official MCP Python SDK (`mcp` on PyPI,
//! installed into `target/mcp-venv` by `scripts/mcp-client-venv`) runs `tests/mcp_client.py`
//! against the real `jaryo` binary — `jaryo serve` on port 0 for streamable HTTP at `/mcp`,
//! and `jaryo mcp` started by the SDK itself for stdio — with the test model server answering.
//!
//! Without python3 the tests say they are skipped, except under `CI=true`, where they fail.

use jaryo_testllm::{RecordedRequest, Reply, TestLlm};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jaryo");
const PATIENCE: Duration = Duration::from_secs(60);

/// The venv's python with the SDK, installed once per test process; `None` (after saying
/// why) where the tests may be skipped.
fn python() -> Option<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PYTHON.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mcp-client-venv");
        let output = std::process::Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|error| format!("cannot run {}: {error}", script.display()))?;
        if !output.status.success() {
            return Err("scripts/mcp-client-venv failed (is python3 with venv installed?)".into());
        }
        Ok(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        ))
    });
    match found {
        Ok(python) => Some(python.clone()),
        Err(reason) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the MCP tests cannot be skipped in CI: {reason}"
            );
            eprintln!("SKIPPED (MCP client): {reason}");
            None
        }
    }
}

/// Runs the Python client with `plan`; its report.
async fn run_client(python: &Path, mode: &[&str], plan: &Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .args(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(plan.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("the MCP client finishes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|_| {
        panic!(
            "the client printed no report: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The test model: drafts a memo as a short Markdown list, answers questions citing [1].
fn model(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message().unwrap_or_default();
    if prompt.contains("<sources-") {
        return Reply::text("배포 담당은 민수입니다 [1].").chunks(4);
    }
    Reply::text("# 주간 회의\n\n- axum 서버 배포: 다음 주 화요일\n- 담당: 민수")
}

/// `jaryo serve` in a child process with its own data directory, on port 0.
struct Server {
    child: std::process::Child,
    dir: tempfile::TempDir,
    url: String,
    token: String,
    http: reqwest::Client,
    _llm: TestLlm,
}

impl Server {
    async fn start() -> Self {
        let llm = TestLlm::start().await;
        llm.set_handler(model);
        let dir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .envs(model_env(&llm))
            .env_remove("JARYO_API_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let address = dir.path().join("server.json");
        let deadline = Instant::now() + PATIENCE;
        while !address.exists() {
            assert!(Instant::now() < deadline, "jaryo serve did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let served: Value = serde_json::from_slice(&std::fs::read(&address).unwrap()).unwrap();
        let token = std::fs::read_to_string(dir.path().join("api-token")).unwrap();
        Self {
            child,
            url: served["url"].as_str().unwrap().to_owned(),
            token: token.trim().to_owned(),
            dir,
            http: reqwest::Client::new(),
            _llm: llm,
        }
    }

    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/api/v1{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn model_env(llm: &TestLlm) -> Vec<(String, String)> {
    vec![
        ("JARYO_LLM_BASE_URL".into(), llm.base_url()),
        (
            "JARYO_LLM_MODEL".into(),
            jaryo_testllm::DEFAULT_MODEL.into(),
        ),
    ]
}

/// What the tests read: ids of the seeded notes.
struct Library {
    meeting_memo: i64,
    long_memo: i64,
    accepted_document: i64,
    plan_document: i64,
    long_text: String,
}

const PLAN_TEXT: &str = "# 서버 이전 계획\n\n다음 주 화요일 새벽 2시에 axum 서버를 옮긴다. \
                         롤백 담당은 지현.";

/// Korean memos (one of 30,000 characters) and two documents, one with an accepted draft.
async fn seed(server: &Server) -> Library {
    use reqwest::Method;
    let meeting = server
        .api(
            Method::POST,
            "/memos",
            Some(
                json!({"content": "주간 회의: axum 서버 배포는 다음 주 화요일, 담당은 민수 #회의"}),
            ),
        )
        .await;
    server
        .api(
            Method::POST,
            "/memos",
            Some(json!({"content": "장보기: 우유, 계란, 두부 #장보기"})),
        )
        .await;
    let long_text: String = "가나다라마바사아자차카타파하 ".repeat(2143);
    let long = server
        .api(Method::POST, "/memos", Some(json!({"content": long_text})))
        .await;
    let meeting_id = meeting["id"].as_i64().unwrap();
    let promoted = server
        .api(
            Method::POST,
            &format!("/memos/{meeting_id}/promote-to-document"),
            None,
        )
        .await;
    let accepted_document = promoted["id"].as_i64().unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let document = server
            .api(
                Method::GET,
                &format!("/documents/{accepted_document}"),
                None,
            )
            .await;
        if document["md_draft_status"] == "draft" {
            break;
        }
        assert!(Instant::now() < deadline, "no draft: {document}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server
        .api(
            Method::POST,
            &format!("/documents/{accepted_document}/draft/accept"),
            Some(json!({})),
        )
        .await;
    let plan = server
        .api(
            Method::POST,
            "/documents",
            Some(json!({"title": "서버 이전 계획", "extracted_text": PLAN_TEXT})),
        )
        .await;
    Library {
        meeting_memo: meeting_id,
        long_memo: long["id"].as_i64().unwrap(),
        accepted_document,
        plan_document: plan["id"].as_i64().unwrap(),
        long_text,
    }
}

/// The JSON a successful tool call answered.
fn answer(call: &Value) -> Value {
    assert_eq!(call["is_error"], false, "the call failed: {call}");
    serde_json::from_str(call["text"].as_str().unwrap()).unwrap()
}

/// The API error a refused tool call carried.
fn refusal(call: &Value) -> Value {
    assert_eq!(call["is_error"], true, "the call was not refused: {call}");
    let body: Value = serde_json::from_str(call["text"].as_str().unwrap()).unwrap();
    body["error"].clone()
}

fn call(tool: &str, arguments: Value) -> Value {
    json!({"tool": tool, "arguments": arguments})
}

/// Every tool, good input and bad; the resources. The same plan runs over both transports.
fn full_plan(library: &Library) -> Value {
    json!({
        "calls": [
            call("search", json!({"q": "서버"})),
            call("search", json!({"q": "서버", "kind": "memo", "limit": 5})),
            call("search", json!({"q": "서버", "sort": "newest"})),
            call("search", json!({"q": "서버", "limit": 500})),
            call("read_memo", json!({"id": library.meeting_memo})),
            call("read_memo", json!({"id": library.long_memo})),
            call("read_memo", json!({"id": library.long_memo, "offset": 20000})),
            call("read_memo", json!({"id": 987654})),
            call("read_memo", json!({"id": "one"})),
            call("read_document", json!({"id": library.accepted_document})),
            call("read_document", json!({"id": library.accepted_document, "part": "original"})),
            call("read_document", json!({"id": library.accepted_document, "part": "metadata"})),
            call("read_document", json!({"id": library.plan_document, "part": "pdf"})),
            call("list_memos", json!({"limit": 2})),
            call("list_documents", json!({})),
            call("create_memo", json!({"content": "MCP로 남긴 메모: 회의실 예약은 목요일 #예약"})),
            call("create_memo", json!({"content": "   "})),
            call("create_memo", json!({"content": "메모", "pinned": true})),
            call("ask", json!({"question": "서버 배포 담당자는 누구야?"})),
            call("ask", json!({"question": "zzqx 없는말"})),
            call("ask", json!({"question": ""})),
            call("no_such_tool", json!({})),
        ],
        "reads": [
            format!("jaryo://documents/{}", library.plan_document),
            "jaryo://documents/987654",
        ],
    })
}

/// What both transports must answer to [`full_plan`].
fn check_full_report(report: &Value, library: &Library) {
    assert!(report.get("connection_failed").is_none(), "{report}");
    assert_eq!(report["server"]["name"], "jaryo");
    let mut names: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "ask",
            "create_memo",
            "list_documents",
            "list_memos",
            "read_document",
            "read_memo",
            "search"
        ]
    );
    for tool in report["tools"].as_array().unwrap() {
        assert_eq!(
            tool["input_schema"]["additionalProperties"], false,
            "{tool}"
        );
        assert_eq!(tool["read_only"], tool["name"] != "create_memo", "{tool}");
    }
    let calls = report["calls"].as_array().unwrap();

    // search: Korean inside longer words; the promoted memo found once, as its document
    // naming it; its filters; its limits.
    let found = answer(&calls[0]);
    let hits = found["hits"].as_array().unwrap();
    let kinds: Vec<&str> = hits.iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"memo"), "{found}");
    assert!(
        hits.iter()
            .any(|h| h["kind"] == "document" && h["from_memo"].is_i64()),
        "{found}"
    );
    assert!(
        hits.iter()
            .any(|h| h["snippet"].as_str().unwrap().contains("서버")),
        "{found}"
    );
    let memos_only = answer(&calls[1]);
    assert!(
        memos_only["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["kind"] == "memo")
    );
    let unknown = refusal(&calls[2]);
    assert_eq!(unknown["code"], "invalid_input");
    assert_eq!(unknown["field"], "sort");
    assert_eq!(refusal(&calls[3])["field"], "limit");

    // read_memo: verbatim, long text in bounded parts that say how to read on.
    let meeting = answer(&calls[4]);
    assert_eq!(
        meeting["content"],
        "주간 회의: axum 서버 배포는 다음 주 화요일, 담당은 민수 #회의"
    );
    assert_eq!(meeting["tags"], json!(["회의"]));
    assert!(meeting["truncated"].is_null());
    let first_part = answer(&calls[5]);
    let total = library.long_text.chars().count();
    assert_eq!(
        first_part["content"].as_str().unwrap().chars().count(),
        20000
    );
    assert_eq!(
        first_part["truncated"],
        json!({"shown_chars": [0, 20000], "total_chars": total, "next_offset": 20000})
    );
    let rest = answer(&calls[6]);
    let joined = format!(
        "{}{}",
        first_part["content"].as_str().unwrap(),
        rest["content"].as_str().unwrap()
    );
    assert_eq!(joined, library.long_text);
    assert!(rest["truncated"]["next_offset"].is_null());
    assert_eq!(refusal(&calls[7])["code"], "not_found");
    assert_eq!(refusal(&calls[8])["field"], "id");

    // read_document: the accepted Markdown, the original verbatim, the metadata.
    let markdown = answer(&calls[9]);
    assert_eq!(
        markdown["markdown"],
        "# 주간 회의\n\n- axum 서버 배포: 다음 주 화요일\n- 담당: 민수"
    );
    let original = answer(&calls[10]);
    assert_eq!(
        original["original"],
        "주간 회의: axum 서버 배포는 다음 주 화요일, 담당은 민수 #회의"
    );
    let metadata = answer(&calls[11]);
    assert_eq!(metadata["md_draft_status"], "accepted");
    assert_eq!(metadata["content_origin"], "ai_drafted");
    assert_eq!(
        metadata["source_metadata"]["memo_id"],
        json!(library.meeting_memo)
    );
    assert_eq!(refusal(&calls[12])["field"], "part");

    // Listings, newest first, bounded.
    let memos = answer(&calls[13]);
    let items = memos["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], json!(library.long_memo));
    assert_eq!(items[0]["whole"], false);
    assert!(items[0]["preview"].as_str().unwrap().chars().count() <= 301);
    assert!(memos["next_cursor"].is_string());
    let documents = answer(&calls[14]);
    let ids: Vec<i64> = documents["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [library.plan_document, library.accepted_document]);

    // create_memo: stored verbatim with its tag; bad input refused as the API refuses it.
    let created = answer(&calls[15]);
    assert_eq!(created["tags"], json!(["예약"]));
    assert_eq!(refusal(&calls[16])["code"], "invalid_input");
    assert_eq!(refusal(&calls[17])["field"], "pinned");

    // ask: the answer with its numbered sources; nothing found without a model call.
    let asked = answer(&calls[18]);
    assert_eq!(asked["answer"], "배포 담당은 민수입니다 [1].");
    assert_eq!(asked["cited"], json!([1]));
    assert_eq!(asked["nothing_found"], false);
    assert!(!asked["sources"].as_array().unwrap().is_empty());
    assert_eq!(asked["sources"][0]["number"], 1);
    let nothing = answer(&calls[19]);
    assert_eq!(nothing["nothing_found"], true);
    assert_eq!(nothing["answer"], "");
    assert_eq!(refusal(&calls[20])["field"], "question");

    // An unknown tool is a protocol error, not a tool's answer.
    let missing = calls[21]["exception"].as_str().unwrap_or_default();
    assert!(missing.contains("no_such_tool"), "{}", calls[21]);

    // Documents as resources.
    let uris: Vec<&str> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(&format!("jaryo://documents/{}", library.plan_document).as_str()));
    assert_eq!(report["templates"], json!(["jaryo://documents/{id}"]));
    let read = &report["reads"][0];
    assert_eq!(read["mime_types"], json!(["text/markdown"]));
    let text = read["texts"][0].as_str().unwrap();
    assert!(text.starts_with("# 서버 이전 계획\n\n"), "{text}");
    assert!(text.contains("롤백 담당은 지현"), "{text}");
    assert!(report["reads"][1]["exception"].is_string(), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assistant_uses_every_tool_over_streamable_http() {
    let Some(python) = python() else { return };
    let server = Server::start().await;
    let library = seed(&server).await;
    let url = format!("{}/mcp", server.url);
    let report = run_client(
        &python,
        &["http", &url, &server.token],
        &full_plan(&library),
    )
    .await;
    check_full_report(&report, &library);
    // The memo the assistant captured is the person's like any other.
    let memos = server
        .api(reqwest::Method::GET, "/memos?tag=예약", None)
        .await;
    assert_eq!(
        memos["items"][0]["content"],
        "MCP로 남긴 메모: 회의실 예약은 목요일 #예약"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_token_is_refused() {
    let Some(python) = python() else { return };
    let server = Server::start().await;
    let url = format!("{}/mcp", server.url);
    let report = run_client(&python, &["http", &url, "wrong-token"], &json!({})).await;
    assert!(report["connection_failed"].is_string(), "{report}");
    assert_eq!(report["http_statuses"], json!([401]), "{report}");

    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"}}});
    let response = server
        .http
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    // With the token the same request is answered.
    let response = server
        .http
        .post(&url)
        .bearer_auth(&server.token)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"]["serverInfo"]["name"], "jaryo");
}

#[tokio::test(flavor = "multi_thread")]
async fn jaryo_mcp_serves_the_same_over_stdio_beside_a_running_server() {
    let Some(python) = python() else { return };
    let server = Server::start().await;
    let library = seed(&server).await;
    let mut plan = full_plan(&library);
    plan["env"] = model_env(&server._llm)
        .into_iter()
        .map(|(key, value)| (key, Value::String(value)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let data_dir = server.dir.path().to_str().unwrap().to_owned();
    let report = run_client(
        &python,
        &["stdio", BIN, "mcp", "--data-dir", &data_dir],
        &plan,
    )
    .await;
    check_full_report(&report, &library);
    // Written through the store by `jaryo mcp`, seen by the running server at once.
    let memos = server
        .api(reqwest::Method::GET, "/memos?tag=예약", None)
        .await;
    assert_eq!(
        memos["items"][0]["content"],
        "MCP로 남긴 메모: 회의실 예약은 목요일 #예약"
    );
}
