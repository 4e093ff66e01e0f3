//! The real `jaryo` binary on PostgreSQL: chosen by `JARYO_DATABASE_URL`, a clear error when
//! the database cannot be reached at start, and the password never shown.

use jaryo_store_postgres::testing::TestDatabase;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jaryo");

fn jaryo(data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("JARYO_API_TOKEN")
        .env_remove("JARYO_SERVER")
        .env_remove("JARYO_DATABASE_URL");
    command
}

/// Waits for `child` to exit, killing it after `timeout`.
fn wait_with_timeout(mut child: Child, timeout: Duration) -> Output {
    let deadline = Instant::now() + timeout;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jaryo did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_waits_for_an_unreachable_database_then_says_which_and_for_how_long() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let started = Instant::now();
    let child = jaryo(data_dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "JARYO_DATABASE_URL",
            format!("postgres://jaryo:hunter2-secret@127.0.0.1:{port}/notes"),
        )
        .env("JARYO_POSTGRES_STARTUP_WAIT_SECS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_with_timeout(child, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "it retried for the startup wait"
    );
    assert!(
        stderr.contains(&format!(
            "cannot open the PostgreSQL database postgres://jaryo@127.0.0.1:{port}/notes"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("waited up to 1 s"), "{stderr}");
    assert!(stderr.contains("retrying"), "the wait is logged: {stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    assert!(
        !data_dir.path().join("jaryo.db").exists(),
        "no SQLite fallback when PostgreSQL was asked for"
    );
}

#[test]
fn a_database_url_that_is_not_postgres_is_refused_plainly() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = jaryo(data_dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(
            "JARYO_DATABASE_URL",
            "mysql://jaryo:hunter2-secret@db/notes",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("database_url must be a postgres:// or postgresql:// URL"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[tokio::test]
async fn serve_and_the_command_line_run_on_postgresql() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = jaryo(data_dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("JARYO_DATABASE_URL", database.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let address = data_dir.path().join("server.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !address.exists() {
        if let Some(status) = server.try_wait().unwrap() {
            panic!("jaryo serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "jaryo serve did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let added = jaryo(data_dir.path())
        .args(["memo", "add", "--json", "PostgreSQL 위의 메모 #pg"])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let memo: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let promoted = jaryo(data_dir.path())
        .args(["promote", "--json", &memo["id"].to_string()])
        .output()
        .unwrap();
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );

    // The rows are in PostgreSQL, and no SQLite file was made.
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(database.url()).await.unwrap();
    let (memos, documents): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM memos), (SELECT count(*) FROM documents)")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert_eq!((memos, documents), (1, 1));
    assert!(!data_dir.path().join("jaryo.db").exists());

    let _ = server.kill();
    let _ = server.wait();
}
