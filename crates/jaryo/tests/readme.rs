//! The README's examples work as written: its shell blocks (curl and the CLI) run against a
//! real `jaryo serve`, and every route its API table names is one the server documents.
//!
//! The blocks run in one bash session from a directory whose `jaryo-data` is the server's data
//! directory, as a person would after `cargo run --release -- serve`. Only what cannot be the
//! same in a test is stood in: the server's address (port 0, not 8765), `cargo run` (the
//! built binary) and the model server (the test model server). `curl` fails on an error
//! status, so a body the API refuses (a misspelt field) fails the test.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jaryo");
const README: &str = include_str!("../../../README.md");
/// The sections whose shell blocks are the tour, in the README's order.
const TOUR_SECTIONS: &[&str] = &["A short tour", "Drafts", "Search", "Ask"];

/// The ```sh blocks of the section headed `## {title}` (its subsections included).
fn shell_blocks(title: &str) -> Vec<String> {
    let heading = format!("## {title}\n");
    let start = README
        .find(&heading)
        .unwrap_or_else(|| panic!("README has no section {heading:?}"));
    let body = &README[start + heading.len()..];
    let end = body.find("\n## ").unwrap_or(body.len());
    let mut blocks = Vec::new();
    let mut rest = &body[..end];
    while let Some(open) = rest.find("```sh\n") {
        let after = &rest[open + 6..];
        let close = after.find("```").expect("a closed block");
        blocks.push(after[..close].to_owned());
        rest = &after[close + 3..];
    }
    blocks
}

fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn server_url(data_dir: &Path) -> String {
    let address: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data_dir.join("server.json")).unwrap()).unwrap();
    address["url"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_tour_runs_as_written_against_a_real_server() {
    let llm = jaryo_testllm::TestLlm::start().await;
    llm.set_handler(|_| jaryo_testllm::Reply::text("# 답\n\n메모에 따르면 화요일입니다 [1]."));
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("jaryo-data");
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env_remove("JARYO_API_TOKEN")
        .env_remove("JARYO_SERVER")
        .env("JARYO_LLM_BASE_URL", llm.base_url())
        .env("JARYO_LLM_MODEL", jaryo_testllm::DEFAULT_MODEL)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address = data_dir.join("server.json");
    wait_until(Duration::from_secs(30), || address.exists());
    let url = server_url(&data_dir);

    let mut script = String::from(
        "set -euo pipefail\n\
         shopt -s expand_aliases\n\
         # `cargo run --release -q --` is the built binary here.\n\
         cargo() {\n\
           if [ \"$1 $2 $3 $4\" = 'run --release -q --' ]; then shift 4; \"$JARYO_BIN\" \"$@\";\n\
           else echo \"the tour ran an unexpected cargo $*\" >&2; return 1; fi\n\
         }\n\
         curl() { command curl --fail-with-body --show-error \"$@\"; }\n",
    );
    let mut blocks = 0;
    for section in TOUR_SECTIONS {
        for block in shell_blocks(section) {
            blocks += 1;
            script.push_str(&format!("echo '>>> block {blocks} ({section})'\n"));
            script.push_str(&block.replace("http://127.0.0.1:8765", &url));
        }
    }
    assert!(blocks >= 5, "found only {blocks} blocks: {script}");
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root.path())
        .env("JARYO_BIN", BIN)
        // `jaryo doc edit` opens the editor: here one that adds a line and saves.
        .env("VISUAL", "printf '%s\\n' '편집한 줄' >>")
        .env_remove("EDITOR")
        .env_remove("JARYO_API_TOKEN")
        .env_remove("JARYO_SERVER")
        .env_remove("JARYO_DATA_DIR")
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the README's tour failed:\n{stdout}\n{stderr}\nscript:\n{script}"
    );
    // It did what it says: the memos are there, the first one promoted.
    assert!(stdout.contains("주간 회의: axum 서버 배포"), "{stdout}");
    assert!(stdout.contains("장보기: 우유, 계란, 두부"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_in_the_readme_api_table_is_one_the_server_documents() {
    let root = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(root.path())
        .env_remove("JARYO_API_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let address = root.path().join("server.json");
    wait_until(Duration::from_secs(30), || address.exists());
    let url = server_url(root.path());
    let doc: serde_json::Value = reqwest::get(format!("{url}/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();

    let start = README
        .find("## The API\n")
        .expect("README has an API section");
    let section = &README[start..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let mut rows = 0;
    for row in section.lines().filter(|line| line.starts_with("| `")) {
        let cell = row.split(" | ").next().unwrap();
        let path_at = cell
            .find("/api/v1/")
            .unwrap_or_else(|| panic!("no path in {row}"));
        let path = &cell[path_at..];
        let path = &path[..path.find(['`', '?']).unwrap_or(path.len())];
        let item = &doc["paths"][path];
        assert!(
            item.is_object(),
            "README names {path}, which the API does not have"
        );
        for method in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
            if cell.contains(&format!("`{method}")) || cell.contains(&format!("{method} /")) {
                assert!(
                    item.get(method.to_lowercase()).is_some(),
                    "README names {method} {path}, which the API does not have"
                );
            }
        }
        rows += 1;
    }
    assert!(rows >= 15, "found only {rows} routes in README's table");
}
