//! What only the PostgreSQL backend does, over real HTTP: a database lost while serving makes
//! requests fail cleanly with 503 and recover by themselves.

use jaryo_testkit::{Backend, TestApp, error_code};
use reqwest::Method;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_lost_database_gives_503_unavailable_and_jaryo_recovers_without_a_restart() {
    if !Backend::Postgres.available().await {
        return;
    }
    let app = TestApp::spawn_on_with(Backend::Postgres, |config| {
        config.postgres.acquire_timeout_ms = 500;
    })
    .await;
    let memo = app.api.create_memo("잃기 전의 메모 #pg").await.unwrap();
    let database = app.database().expect("runs on PostgreSQL");

    // An operator closes the database and ends its sessions.
    database.allow_connections(false).await;
    database.terminate_connections(None).await;
    for (method, path) in [
        (Method::GET, format!("/memos/{}", memo.id)),
        (Method::GET, "/memos".to_owned()),
        (
            Method::POST,
            format!("/memos/{}/promote-to-document", memo.id),
        ),
    ] {
        let response = app.authed(method.clone(), &path).send().await.unwrap();
        let (status, code, body) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (503, "unavailable"),
            "{method} {path}"
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.contains(database.name()) && !message.to_lowercase().contains("sql"),
            "internal detail leaked: {message}"
        );
    }
    database.allow_connections(true).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let fetched = loop {
        match app.api.get_memo(memo.id).await {
            Ok(memo) => break memo,
            Err(error) if error.code() == Some("unavailable") && Instant::now() < deadline => {
                continue;
            }
            Err(error) => panic!("jaryo did not recover: {error:?}"),
        }
    };
    assert_eq!(fetched.content, "잃기 전의 메모 #pg");
    let document = app.api.promote_memo(memo.id).await.unwrap();
    assert_eq!(document.draft.state, jaryo_domain::DraftState::Pending);
    app.stop().await;
}
