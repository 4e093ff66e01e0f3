//! Starts a real jaryo for a test: its own data directory, a real store (a SQLite file, or a
//! fresh PostgreSQL database), the HTTP server on port 0, and the same assembly code
//! `jaryo serve` uses.
//!
//! Nothing is shared between tests: each [`TestApp`] has its own directory, database, port
//! and token.
//!
//! One behaviour, two stores: a test written once as `async fn name(backend: Backend)` and
//! declared with [`test_on_both_stores!`] runs as `name::sqlite` and `name::postgres`. When the
//! PostgreSQL half runs is decided in one place, `jaryo_store_postgres::testing`: always
//! under `CI=true` or with `JARYO_TEST_POSTGRES_URL` set (a missing server fails the test),
//! otherwise when a server answers at 127.0.0.1:5432, else skipped with the reason printed
//! and reported to `scripts/test`.

use jaryo::app::App;
use jaryo::config::Config;
use jaryo_client::ApiClient;
use jaryo_store::Store;
use jaryo_store_postgres::testing::TestDatabase;
use jaryo_testllm::{RecordedRequest, Reply, TestLlm};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// The store a test runs on, and the macro that runs a test on both; they live beside the
/// rule for when PostgreSQL tests run, so crates below this one use the same ones.
pub use jaryo_store_postgres::test_on_both_stores;
pub use jaryo_store_postgres::testing::Backend;

/// A running jaryo and a client of it.
pub struct TestApp {
    app: Option<App>,
    pub url: String,
    pub token: SecretString,
    /// The typed client, authenticated.
    pub api: ApiClient,
    /// A plain HTTP client, for requests the typed client would never send.
    pub http: reqwest::Client,
    pub config: Config,
    /// The model server this jaryo drafts with. By default it answers every draft request
    /// with the memo itself (a faithful, if lazy, draft); script it for anything else.
    pub llm: TestLlm,
    /// The store this jaryo runs on.
    pub backend: Backend,
    /// The PostgreSQL database, dropped after the app (fields drop in order).
    _database: Option<TestDatabase>,
    _data_dir: tempfile::TempDir,
}

/// The memo inside a draft prompt's fence, as a faithful answer.
pub fn echo_memo(request: &RecordedRequest) -> Reply {
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

impl TestApp {
    /// Starts jaryo on a fresh data directory with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts jaryo after `adjust` changed its configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on_with(Backend::Sqlite, adjust).await
    }

    /// Starts jaryo on `backend` with default settings.
    pub async fn spawn_on(backend: Backend) -> Self {
        Self::spawn_on_with(backend, |_| {}).await
    }

    /// Starts jaryo on `backend` after `adjust` changed its configuration. On PostgreSQL the
    /// app gets a fresh database; check [`Backend::available`] first (the
    /// [`test_on_both_stores!`] tests do).
    pub async fn spawn_on_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDatabase::create().await.expect(
                "PostgreSQL is not available for tests here; check Backend::available() first",
            )),
        };
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let llm = TestLlm::start().await;
        llm.set_handler(echo_memo);
        let mut config = Config {
            data_dir: data_dir.path().to_owned(),
            listen: "127.0.0.1:0".parse().expect("address"),
            api_token: Some(SecretString::from(format!(
                "test-token-{}",
                data_dir.path().display()
            ))),
            ..Config::default()
        };
        config.llm.client.base_url = llm.base_url();
        config.llm.client.model = jaryo_testllm::DEFAULT_MODEL.to_owned();
        config.llm.client.connect_timeout_secs = 2.0;
        config.llm.client.first_token_timeout_secs = 20.0;
        config.llm.client.idle_timeout_secs = 20.0;
        config.llm.client.total_timeout_secs = 60.0;
        config.draft.backoff_base_ms = 200;
        config.draft.backoff_max_ms = 2_000;
        if let Some(database) = &database {
            config.database_url = Some(SecretString::from(database.url().to_owned()));
        }
        adjust(&mut config);
        let app = App::start(&config).await.expect("jaryo starts");
        let url = app.url();
        let token = app.token.clone();
        Self {
            api: ApiClient::new(&url, token.clone()),
            http: reqwest::Client::new(),
            url,
            token,
            config,
            llm,
            app: Some(app),
            backend,
            _database: database,
            _data_dir: data_dir,
        }
    }

    /// The PostgreSQL database behind the server, when it runs on PostgreSQL.
    pub fn database(&self) -> Option<&TestDatabase> {
        self._database.as_ref()
    }

    /// The store behind the server, for checks the API cannot make.
    pub fn store(&self) -> Arc<dyn Store> {
        self.app.as_ref().expect("running").store.clone()
    }

    /// `{url}/api/v1{path}`.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    /// `GET` of an API path with the token, its JSON body read (the status is the caller's to
    /// check where it matters).
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.authed(reqwest::Method::GET, path)
            .send()
            .await
            .expect("the request is sent")
            .json()
            .await
            .expect("a JSON body")
    }

    /// A request to the API carrying the token.
    pub fn authed(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.api_url(path))
            .bearer_auth(self.token.expose_secret())
    }

    /// Polls a document until `done` holds, failing the test after `timeout`.
    pub async fn wait_for_document(
        &self,
        id: i64,
        timeout: std::time::Duration,
        done: impl Fn(&jaryo_client::wire::DocumentJson) -> bool,
    ) -> jaryo_client::wire::DocumentJson {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let document = self.api.get_document(id).await.expect("document readable");
            if done(&document) {
                return document;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "document {id} did not reach the expected state in {timeout:?}: {document:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            app.stop().await.expect("jaryo stops cleanly");
        }
    }
}

/// Reads a JSON error body's `error.code`.
pub async fn error_code(response: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, code, body)
}
