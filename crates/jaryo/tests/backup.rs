//! Backups of a running library through the real binary: a consistent copy while memos keep
//! coming, a restore that verifies it, and never a half file under the final name.

use jaryo_client::ApiClient;
use secrecy::SecretString;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jaryo");
const TOKEN: &str = "backup-test-token";

fn jaryo(data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("JARYO_API_TOKEN", TOKEN)
        // No model server: drafts wait, which is all these tests need.
        .env("JARYO_LLM_BASE_URL", "http://127.0.0.1:9/v1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

fn serve(data_dir: &Path, extra: &[(&str, &str)]) -> Child {
    let _ = std::fs::remove_file(data_dir.join("server.json"));
    let mut command = jaryo(data_dir);
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
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
            return ApiClient::new(&url, SecretString::from(TOKEN));
        }
        assert!(Instant::now() < deadline, "jaryo did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn run(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn memo_text(n: usize) -> String {
    format!("백업 중에 쓴 메모 {n}번: 서버 점검 결과 정리 #백업시험 backup-{n}")
}

#[tokio::test]
async fn a_backup_taken_during_writes_restores_to_a_consistent_library() {
    let live = tempfile::tempdir().unwrap();
    let mut server = serve(live.path(), &[]);
    let api = client(live.path()).await;
    for n in 0..200 {
        api.create_memo(&memo_text(n)).await.unwrap();
    }

    // Writers keep going while the backup runs.
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let api = api.clone();
            tokio::spawn(async move {
                for n in 0..150 {
                    api.create_memo(&memo_text(1_000 + writer * 1_000 + n))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("라이브러리 백업.db");
    let backed_up = tokio::task::spawn_blocking({
        let (data_dir, file) = (live.path().to_owned(), file.clone());
        move || run(jaryo(&data_dir).arg("backup").arg(&file))
    })
    .await
    .unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let said = String::from_utf8_lossy(&backed_up.stdout);
    assert!(said.contains("backed up"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a backup is its owner's alone");
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // The restored library is one moment of the live one: every memo whole, each findable.
    let restored = tempfile::tempdir().unwrap();
    run(jaryo(restored.path()).arg("restore").arg(&file));
    let mut server = serve(restored.path(), &[]);
    let api = client(restored.path()).await;
    let memos = all_memos(&api).await;
    assert!(memos.len() >= 200, "{} memos", memos.len());
    for memo in &memos {
        let n: usize = memo
            .content
            .split("메모 ")
            .nth(1)
            .unwrap()
            .split('번')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(memo.content, memo_text(n));
        assert_eq!(memo.tags, ["백업시험"]);
        let hits = api
            .search(&jaryo_client::SearchParams {
                q: format!("backup-{n}"),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            hits.hits.len(),
            1,
            "memo {n} is in the restored search index"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

async fn all_memos(api: &ApiClient) -> Vec<jaryo_client::wire::MemoJson> {
    let mut memos = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = api.list_memos(Some(100), cursor.as_deref()).await.unwrap();
        memos.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return memos,
        }
    }
}

#[tokio::test]
async fn restore_refuses_a_library_in_use_or_in_place_and_anything_not_a_backup() {
    let live = tempfile::tempdir().unwrap();
    let mut server = serve(live.path(), &[]);
    let api = client(live.path()).await;
    api.create_memo("복원 거절 시험용 메모입니다")
        .await
        .unwrap();
    let file = live.path().join("copy.db");
    run(jaryo(live.path()).arg("backup").arg(&file));

    let refused = jaryo(live.path())
        .arg("restore")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is running"));
    server.kill().unwrap();
    server.wait().unwrap();

    let refused = jaryo(live.path())
        .arg("restore")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    run(jaryo(live.path()).args(["restore", "--force"]).arg(&file));

    let junk = live.path().join("junk.db");
    std::fs::write(&junk, "이것은 백업이 아닙니다").unwrap();
    let empty = tempfile::tempdir().unwrap();
    let refused = jaryo(empty.path())
        .arg("restore")
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        !empty.path().join("jaryo.db").exists(),
        "nothing half-restored"
    );

    let again = jaryo(live.path())
        .arg("backup")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing backup is kept without --force"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[tokio::test]
async fn kill_9_during_a_backup_never_leaves_a_file_under_the_final_name() {
    let live = tempfile::tempdir().unwrap();
    let mut server = serve(live.path(), &[]);
    let api = client(live.path()).await;
    // Enough text that the copy takes a while to write.
    let long = "긴 메모의 한 줄: 백업이 도중에 끊겨도 반쪽 파일은 남지 않는다. ".repeat(400);
    let writes: Vec<_> = (0..8)
        .map(|_| {
            let (api, long) = (api.clone(), long.clone());
            tokio::spawn(async move {
                for _ in 0..60 {
                    api.create_memo(&long).await.unwrap();
                }
            })
        })
        .collect();
    for write in writes {
        write.await.unwrap();
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("backup.db");
    let partial = out.path().join(".backup.db.partial");
    let mut interrupted = 0;
    for _ in 0..5 {
        let mut backup = jaryo(live.path())
            .arg("backup")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill it the moment the copy has begun.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !partial.exists() && backup.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the backup never started");
            std::thread::yield_now();
        }
        backup.kill().unwrap();
        let status = backup.wait().unwrap();
        if file.exists() {
            // It finished before the kill landed: then the file is whole.
            assert!(status.success() || partial_done(&file));
            std::fs::remove_file(&file).unwrap();
        } else {
            interrupted += 1;
        }
    }
    assert!(interrupted > 0, "no kill landed during a copy");
    // The next backup clears the leftover and finishes.
    run(jaryo(live.path()).arg("backup").arg(&file));
    assert!(file.exists());
    assert!(!partial.exists());
}

/// A file under the final name is a whole, checked backup: restoring it succeeds.
fn partial_done(file: &Path) -> bool {
    let scratch = tempfile::tempdir().unwrap();
    jaryo(scratch.path())
        .arg("restore")
        .arg(file)
        .output()
        .unwrap()
        .status
        .success()
}

#[tokio::test]
async fn scheduled_backups_keep_the_newest_and_show_on_the_status() {
    let live = tempfile::tempdir().unwrap();
    // Every 0.72 seconds, keeping two.
    let mut server = serve(
        live.path(),
        &[
            ("JARYO_BACKUP_EVERY_HOURS", "0.0002"),
            ("JARYO_BACKUP_KEEP", "2"),
        ],
    );
    let api = client(live.path()).await;
    api.create_memo("예약 백업 시험용 메모입니다 #백업")
        .await
        .unwrap();
    let dir = live.path().join("backups");
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 4 {
        assert!(Instant::now() < deadline, "backups seen: {seen:?}");
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.file_name().into_string().unwrap())
                    .filter(|name| !name.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        assert!(names.len() <= 3, "old backups are removed: {names:?}");
        seen.extend(names);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = api.status().await.unwrap();
    let last = &status["backups"]["last"];
    assert!(
        last["file"].as_str().unwrap().starts_with("jaryo-"),
        "{status}"
    );
    assert!(last["bytes"].as_u64().unwrap() > 0);
    server.kill().unwrap();
    server.wait().unwrap();
}
