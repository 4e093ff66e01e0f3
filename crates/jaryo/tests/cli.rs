//! The real `jaryo` binary: `serve` in a child process, and the client commands against it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jaryo");

struct Server {
    child: Child,
    /// Taken only by `terminate_keeping_dir`.
    data_dir: Option<tempfile::TempDir>,
}

impl Server {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server with these extra environment variables (a model server's address).
    fn start_with(env: &[(&str, &str)]) -> Self {
        Self::start_in_with(tempfile::tempdir().unwrap(), env)
    }

    fn start_in(data_dir: tempfile::TempDir) -> Self {
        Self::start_in_with(data_dir, &[])
    }

    fn start_in_with(data_dir: tempfile::TempDir, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .env_remove("JARYO_API_TOKEN")
            .env_remove("JARYO_SERVER")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        let address = data_dir.path().join("server.json");
        wait_until(Duration::from_secs(30), || address.exists());
        Self {
            child,
            data_dir: Some(data_dir),
        }
    }

    fn dir(&self) -> &Path {
        self.data_dir.as_ref().expect("kept").path()
    }

    /// Like `terminate`, handing back the data directory for a next start.
    fn terminate_keeping_dir(mut self) -> (std::process::ExitStatus, String, tempfile::TempDir) {
        let (status, logs) = self.stop();
        (status, logs, self.data_dir.take().expect("kept"))
    }

    fn jaryo(&self, args: &[&str]) -> Output {
        jaryo_in(self.dir(), args, None)
    }

    /// Sends SIGTERM and returns the server's exit status and logs.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        self.stop()
    }

    fn stop(&mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut logs = String::new();
        use std::io::Read;
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut logs)
            .unwrap();
        (status, logs)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn jaryo_in(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    jaryo_with(data_dir, args, stdin, &[])
}

fn jaryo_with(data_dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("JARYO_API_TOKEN")
        .env_remove("JARYO_SERVER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        if let Some(input) = stdin {
            pipe.write_all(input.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

/// Polls `condition` until it holds, failing the test at the deadline.
fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("--json prints JSON")
}

#[test]
fn capture_list_show_promote_and_inspect_from_the_command_line() {
    let server = Server::start();

    let added = json(&server.jaryo(&["memo", "add", "CLI로 적은 한글 메모 #회의", "--json"]));
    let memo_id = added["id"].as_i64().unwrap();
    assert_eq!(added["tags"], serde_json::json!(["회의"]));

    let piped = jaryo_in(
        server.dir(),
        &["memo", "add", "-", "--json"],
        Some("표준 입력으로 보낸 메모\n두 번째 줄\n"),
    );
    let piped = json(&piped);
    // The final line break `echo` and editors add is not part of the memo; the one inside is.
    assert_eq!(piped["content"], "표준 입력으로 보낸 메모\n두 번째 줄");

    let listed = json(&server.jaryo(&["memo", "list", "--json"]));
    let ids: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [piped["id"].as_i64().unwrap(), memo_id]);

    let human = server.jaryo(&["memo", "list"]);
    let human = String::from_utf8(human.stdout).unwrap();
    assert!(human.contains("CLI로 적은 한글 메모"), "{human}");
    assert!(human.contains("#회의"), "{human}");

    let shown =
        String::from_utf8(server.jaryo(&["memo", "show", &memo_id.to_string()]).stdout).unwrap();
    assert!(shown.contains("CLI로 적은 한글 메모 #회의"), "{shown}");

    let document = json(&server.jaryo(&["promote", &memo_id.to_string(), "--json"]));
    assert_eq!(document["content_origin"], "memo");
    assert_eq!(document["draft"]["state"], "pending");
    let document_id = document["id"].as_i64().unwrap().to_string();

    let again = server.jaryo(&["promote", &memo_id.to_string()]);
    assert!(!again.status.success());
    let message = String::from_utf8(again.stderr).unwrap();
    assert!(message.contains("already promoted"), "{message}");

    let docs = json(&server.jaryo(&["doc", "list", "--json"]));
    assert_eq!(docs["items"].as_array().unwrap().len(), 1);
    let shown = String::from_utf8(server.jaryo(&["doc", "show", &document_id]).stdout).unwrap();
    assert!(shown.contains("CLI로 적은 한글 메모"), "{shown}");
    assert!(shown.contains("origin"), "{shown}");

    let missing = server.jaryo(&["memo", "show", "987654"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8(missing.stderr)
            .unwrap()
            .contains("not found")
    );

    let (status, _) = server.terminate();
    assert!(status.success());
}

#[test]
fn the_generated_token_is_private_and_never_logged() {
    let server = Server::start();
    let token_file: PathBuf = server.dir().join("api-token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    let token = token.trim().to_owned();
    assert_eq!(token.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Exercise the server so it logs something about requests too.
    json(&server.jaryo(&["memo", "add", "로그 확인용 메모", "--json"]));
    let dir = server.dir().to_owned();
    let (status, logs) = server.terminate();
    assert!(status.success());
    assert!(
        logs.contains("api-token"),
        "the token's location is shown: {logs}"
    );
    assert!(
        !logs.contains(&token),
        "the token itself must never be logged"
    );
    // A graceful stop removes the address file, so clients don't chase a dead server.
    assert!(!dir.join("server.json").exists());
}

#[test]
fn client_commands_say_plainly_when_no_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("api-token"), "some-token\n").unwrap();
    let output = jaryo_in(
        dir.path(),
        &["memo", "list", "--server", "http://127.0.0.1:9"],
        None,
    );
    assert!(!output.status.success());
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("no jaryo server answers"), "{message}");
    assert!(message.contains("jaryo serve"), "{message}");

    let no_token = tempfile::tempdir().unwrap();
    let output = jaryo_in(no_token.path(), &["memo", "list"], None);
    assert!(!output.status.success());
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("no API token"), "{message}");
}

#[test]
fn config_default_prints_a_file_that_config_show_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let output = jaryo_in(dir.path(), &["config", "default"], None);
    assert!(output.status.success());
    let file = dir.path().join("custom.toml");
    std::fs::write(&file, &output.stdout).unwrap();
    let shown = jaryo_in(
        dir.path(),
        &["--config", file.to_str().unwrap(), "config", "show"],
        None,
    );
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
}

#[test]
fn environment_variables_override_the_file_and_secrets_stay_hidden() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jaryo.toml"),
        "listen = \"127.0.0.1:7001\"\n[llm]\nconcurrency = 2\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["config", "show"])
        .env("JARYO_LLM_CONCURRENCY", "3")
        .env("JARYO_API_TOKEN", "super-secret-value")
        .output()
        .unwrap();
    let shown = String::from_utf8(output.stdout).unwrap();
    assert!(shown.contains("127.0.0.1:7001"), "{shown}");
    assert!(shown.contains("concurrency = 3  # env"), "{shown}");
    assert!(!shown.contains("super-secret-value"), "{shown}");
}

#[test]
fn config_show_prints_toml_saying_where_each_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jaryo.toml");
    std::fs::write(
        &file,
        "max_body_bytes = 4096\n[llm]\nmodel = \"exaone3.5:7.8b\"\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["config", "show"])
        .env_remove("JARYO_API_TOKEN")
        .env("JARYO_LLM_API_KEY", "sk-very-secret-key")
        .env("JARYO_DATABASE_URL", "postgres://jaryo:hunter2@db/notes")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = String::from_utf8(output.stdout).unwrap();
    let file_origin = format!("# file {}", file.display());
    let data_dir = format!("data_dir = {:?}  # flag", dir.path().display().to_string());
    for line in [
        data_dir.as_str(),
        &format!("max_body_bytes = 4096  {file_origin}"),
        &format!("model = \"exaone3.5:7.8b\"  {file_origin}"),
        "api_key = \"[REDACTED]\"  # env",
        "database_url = \"[REDACTED]\"  # env",
        "listen = \"127.0.0.1:8765\"  # default",
        "[llm]",
        "[draft]",
    ] {
        assert!(
            shown.lines().any(|shown| shown == line),
            "{line:?} missing from:\n{shown}"
        );
    }
    assert!(!shown.contains("sk-very-secret"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    // It is TOML.
    shown
        .parse::<toml::Table>()
        .expect("config show prints TOML");
}

#[test]
fn an_unknown_key_in_the_file_stops_the_start_naming_the_key_and_the_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jaryo.toml");
    std::fs::write(&file, "[llm]\nbase_ur = \"http://127.0.0.1:11434/v1\"\n").unwrap();
    let output = jaryo_in(dir.path(), &["serve", "--listen", "127.0.0.1:0"], None);
    assert!(!output.status.success());
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("unknown key `llm.base_ur`"), "{message}");
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert_eq!(
        message.matches("base_ur").count(),
        1,
        "said once: {message}"
    );
    assert!(!dir.path().join("jaryo.db").exists(), "nothing was started");

    // A bad value names its key as written (not figment's `default.llm`), once.
    std::fs::write(&file, "[llm]\nconcurrency = \"many\"\n").unwrap();
    let output = jaryo_in(dir.path(), &["config", "show"], None);
    assert!(!output.status.success());
    let message = String::from_utf8(output.stderr).unwrap();
    assert!(message.contains("llm.concurrency"), "{message}");
    assert!(!message.contains("default."), "{message}");
    assert_eq!(message.matches("many").count(), 1, "said once: {message}");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_every_file_in_it_are_private_even_when_made_open_before() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().to_owned();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start_in(data_dir);
    json(&server.jaryo(&["memo", "add", "남이 읽으면 안 되는 메모", "--json"]));
    assert_eq!(mode(&dir), 0o700);
    for name in [
        "jaryo.db",
        "jaryo.db-wal",
        "jaryo.db-shm",
        "api-token",
        "server.json",
    ] {
        assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
    }
    let (status, logs, data_dir) = server.terminate_keeping_dir();
    assert!(status.success());
    assert!(logs.contains("tightened permissions"), "{logs}");

    // An older jaryo left its database and directory open: the next start closes them.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(dir.join("jaryo.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = Server::start_in(data_dir);
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("jaryo.db")), 0o600);
    let (status, logs) = server.terminate();
    assert!(status.success());
    assert!(logs.contains("jaryo.db"), "{logs}");
}

#[test]
fn redraft_selects_from_the_command_line_and_refuses_bad_dates() {
    let server = Server::start();
    let memo = json(&server.jaryo(&[
        "memo",
        "add",
        "다시 초안을 만들 메모입니다 충분히 길게",
        "--json",
    ]));
    json(&server.jaryo(&["promote", &memo["id"].to_string(), "--json"]));
    let dry = json(&server.jaryo(&["redraft", "--dry-run", "--json"]));
    assert_eq!(dry["matched"], 1, "{dry}");
    let flagged = json(&server.jaryo(&["redraft", "--flagged", "--dry-run", "--json"]));
    assert_eq!(flagged["matched"], 0, "{flagged}");
    let queued = json(&server.jaryo(&["redraft", "--json"]));
    assert_eq!(queued["queued"], 1, "{queued}");

    // The API's names, a plain date or a time alike.
    let dated = json(&server.jaryo(&[
        "redraft",
        "--drafted-from",
        "2000-01-01",
        "--drafted-before",
        "2100-01-01T00:00:00Z",
        "--dry-run",
        "--json",
    ]));
    assert_eq!(dated["matched"], 0, "{dated}");

    let bad = server.jaryo(&["redraft", "--drafted-from", "last tuesday"]);
    assert!(!bad.status.success());
    let message = String::from_utf8(bad.stderr).unwrap();
    assert!(
        message.contains("--drafted-from: expected a date like 2026-11-01"),
        "{message}"
    );
}

#[test]
fn search_prints_ranked_hits_with_marked_snippets_and_reindex_runs_beside_the_server() {
    let server = Server::start();
    json(&server.jaryo(&["memo", "add", "axum 서버를 재시작했다 #운영", "--json"]));
    json(&server.jaryo(&["memo", "add", "장보기: 우유와 두부", "--json"]));

    // Not a terminal: matches are marked with plain ** markers.
    let output = server.jaryo(&["search", "axum", "서버"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.starts_with("memo 1  "), "{printed}");
    assert!(
        printed.contains("**axum** **서버**를 재시작했다"),
        "{printed}"
    );
    assert!(
        !printed.contains('\x1b'),
        "no ANSI codes off a terminal: {printed:?}"
    );

    let found = json(&server.jaryo(&["search", "두부", "--kind", "memo", "--json"]));
    assert_eq!(found["hits"][0]["id"], 2);
    assert_eq!(
        found["hits"][0]["snippet"]["html"],
        "장보기: 우유와 <mark>두부</mark>"
    );

    let empty = server.jaryo(&["search", "없는말"]);
    assert!(String::from_utf8_lossy(&empty.stdout).contains("no matches"));

    // Reindex works on the database directly while the server runs; search goes on after.
    let reindexed = server.jaryo(&["reindex"]);
    assert!(
        reindexed.status.success(),
        "{}",
        String::from_utf8_lossy(&reindexed.stderr)
    );
    let said = String::from_utf8(reindexed.stdout).unwrap();
    assert!(said.contains("reindexed 2 memos and 0 documents"), "{said}");
    let found = json(&server.jaryo(&["search", "재시작", "--json"]));
    assert_eq!(found["hits"].as_array().unwrap().len(), 1);
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "command should have failed");
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn memo_words_tags_and_plurals_from_the_command_line() {
    let server = Server::start();
    // Several words are one memo, as `search` and `ask` take them.
    let added =
        json(&server.jaryo(&["memo", "add", "장보기", "우유", "계란", "#장보기", "--json"]));
    assert_eq!(added["content"], "장보기 우유 계란 #장보기");
    json(&server.jaryo(&["memo", "add", "예산 회의 #예산", "--json"]));
    json(&server.jaryo(&["memo", "add", "두 번째 #예산 메모", "--json"]));

    // A tag alone lists everything carrying it; neither words nor tag is refused plainly.
    let listed = stdout(&server.jaryo(&["search", "--tag", "장보기"]));
    assert!(listed.starts_with("memo 1  장보기 우유 계란"), "{listed}");
    assert!(
        !listed.contains("(0.00)"),
        "a listing has no scores: {listed}"
    );
    let message = stderr(&server.jaryo(&["search"]));
    assert!(message.contains("--tag"), "{message}");
    let tagged = json(&server.jaryo(&["memo", "list", "--tag", "예산", "--json"]));
    assert_eq!(tagged["items"].as_array().unwrap().len(), 2);

    // The tag list counts, in words with the right number.
    let tags = stdout(&server.jaryo(&["tag", "list"]));
    assert_eq!(
        tags, "#예산  2 memos, 0 documents\n#장보기  1 memo, 0 documents\n",
        "{tags}"
    );
    let renamed = stdout(&server.jaryo(&["tag", "rename", "#예산", "재정"]));
    assert_eq!(renamed, "#예산 is now #재정 in 2 memos\n");
    let renamed = stdout(&server.jaryo(&["tag", "rename", "장보기", "쇼핑"]));
    assert_eq!(renamed, "#장보기 is now #쇼핑 in 1 memo\n");
    let memo = json(&server.jaryo(&["memo", "show", "1", "--json"]));
    assert_eq!(memo["content"], "장보기 우유 계란 #쇼핑");
    let message = stderr(&server.jaryo(&["tag", "rename", "재정", "두 낱말"]));
    assert!(message.contains("one tag"), "{message}");
}

/// A model server for the CLI's server to draft with: the memo back, plus a phone number
/// the memo does not have (so the fidelity check flags it).
fn embellishing_model(runtime: &tokio::runtime::Runtime) -> jaryo_testllm::TestLlm {
    let llm = runtime.block_on(jaryo_testllm::TestLlm::start());
    llm.set_handler(|request| {
        let prompt = request.last_user_message().unwrap_or_default();
        let memo = if prompt.contains("배포") {
            "배포는 다음 주 화요일 새벽 두 시에 하기로 했다"
        } else {
            "장보기 목록: 우유, 계란, 두부, 대파와 양파 사기"
        };
        jaryo_testllm::Reply::text(format!("# {memo}\n\n{memo}. 연락처 010-1234-5678"))
    });
    llm
}

/// Waits for the document's draft, through the CLI itself.
fn wait_for_draft(server: &Server, id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let document = json(&server.jaryo(&["doc", "show", id, "--json"]));
        if document["md_draft_status"] == "draft" {
            return document;
        }
        assert!(Instant::now() < deadline, "no draft arrived: {document}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ids(listing: &serde_json::Value) -> Vec<i64> {
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn the_whole_review_from_the_command_line() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let llm = embellishing_model(&runtime);
    let base_url = llm.base_url();
    let server = Server::start_with(&[
        ("JARYO_LLM_BASE_URL", &base_url),
        ("JARYO_LLM_MODEL", jaryo_testllm::DEFAULT_MODEL),
    ]);
    let mut documents = Vec::new();
    for memo in [
        "배포는 다음 주 화요일 새벽 두 시에 하기로 했다",
        "장보기 목록: 우유, 계란, 두부, 대파와 양파 사기",
    ] {
        let added = json(&server.jaryo(&["memo", "add", memo, "--json"]));
        let document = json(&server.jaryo(&["promote", &added["id"].to_string(), "--json"]));
        documents.push(document["id"].as_i64().unwrap());
    }
    let (first, second) = (documents[0].to_string(), documents[1].to_string());
    wait_for_draft(&server, &first);
    wait_for_draft(&server, &second);

    // The flags are shown, and the drafts that need attention can be listed.
    let shown = stdout(&server.jaryo(&["doc", "show", &first]));
    assert!(shown.contains("the source does not say"), "{shown}");
    assert!(shown.contains("010-1234-5678"), "{shown}");
    let listed = stdout(&server.jaryo(&["doc", "list"]));
    assert!(listed.contains("needs attention"), "{listed}");
    let attention = json(&server.jaryo(&["doc", "list", "--state", "needs-attention", "--json"]));
    assert_eq!(ids(&attention), [documents[1], documents[0]]);

    // Edit then accept, through $EDITOR: the person's edit is what is accepted.
    let edit = [
        ("EDITOR", "sed -i s/010-1234-5678/번호는_나중에/"),
        ("VISUAL", ""),
    ];
    let said = jaryo_with(server.dir(), &["doc", "edit", &first], None, &edit);
    assert_eq!(
        stdout(&said),
        format!("document {first}: your edited draft is accepted\n")
    );
    let accepted = json(&server.jaryo(&["doc", "show", &first, "--json"]));
    assert_eq!(accepted["md_draft_status"], "accepted");
    let text = accepted["md_content"].as_str().unwrap();
    assert!(
        text.contains("연락처 번호는_나중에") && !text.contains("010"),
        "{text}"
    );
    let history = accepted["source_metadata"]["review_history"]
        .as_array()
        .unwrap();
    assert_eq!(history.last().unwrap()["edited"], true);

    // Saving the draft unchanged accepts nothing.
    let unchanged = jaryo_with(
        server.dir(),
        &["doc", "edit", &second],
        None,
        &[("EDITOR", "true"), ("VISUAL", "")],
    );
    assert!(stderr(&unchanged).contains("nothing was accepted"));

    // Reject, then accept after all.
    let rejected = stdout(&server.jaryo(&["doc", "reject", &second]));
    assert!(rejected.contains("rejected"), "{rejected}");
    let listed = json(&server.jaryo(&["doc", "list", "--state", "rejected", "--json"]));
    assert_eq!(ids(&listed), [documents[1]]);
    stdout(&server.jaryo(&["doc", "accept", &second]));
    let listed = json(&server.jaryo(&["doc", "list", "--state", "accepted", "--json"]));
    assert_eq!(ids(&listed), [documents[1], documents[0]]);

    let refused = server.jaryo(&["doc", "accept", "987654"]);
    assert!(stderr(&refused).contains("not found"));
    drop(llm);
}

#[test]
fn import_and_export_from_the_command_line_beside_the_server() {
    let server = Server::start();
    let vault = tempfile::tempdir().unwrap();
    let notes = vault.path().join("노트");
    std::fs::create_dir_all(notes.join("회의")).unwrap();
    std::fs::write(
        notes.join("회의/예산.md"),
        "---\ntags: [예산]\ncreated: 2026-01-05\n---\n예산 3억 원 확정",
    )
    .unwrap();
    std::fs::write(notes.join("empty.md"), "").unwrap();

    // A dry run says what would happen and writes nothing.
    let dry = server.jaryo(&["import", notes.to_str().unwrap(), "--dry-run", "--json"]);
    assert!(!dry.status.success(), "the empty note fails the run");
    let summary: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(summary["imported"], 1);
    assert_eq!(summary["failed"][0]["path"], "empty.md");
    assert!(String::from_utf8_lossy(&dry.stderr).contains("1 note could not be imported"));
    let listed = json(&server.jaryo(&["doc", "list", "--json"]));
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "{listed}");

    std::fs::remove_file(notes.join("empty.md")).unwrap();
    let said = stdout(&server.jaryo(&["import", notes.to_str().unwrap()]));
    assert!(
        said.contains("1 note imported, 0 updated, 0 already there"),
        "{said}"
    );
    let said = stdout(&server.jaryo(&["import", notes.to_str().unwrap()]));
    assert!(
        said.contains("0 notes imported, 0 updated, 1 already there"),
        "{said}"
    );
    // The server sees what the import wrote.
    let found = json(&server.jaryo(&["search", "예산", "--json"]));
    assert_eq!(found["hits"][0]["title"], "예산");

    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("export");
    let said = stdout(&server.jaryo(&["export", target.to_str().unwrap()]));
    assert!(said.contains("exported 0 memos and 1 document"), "{said}");
    let exported = std::fs::read_to_string(target.join("documents/예산.md")).unwrap();
    assert!(exported.ends_with("---\n예산 3억 원 확정"), "{exported}");
    let refused = stderr(&server.jaryo(&["export", target.to_str().unwrap()]));
    assert!(refused.contains("not empty"), "{refused}");
}
