//! Starts a real jaryo for a test: its own data directory, the embedded SQLite store in a real
//! file, the HTTP server on port 0, and the same assembly code `jaryo serve` uses.
//!
//! Nothing is shared between tests: each [`TestApp`] has its own directory, database, port
//! and token.

use jaryo::app::App;
use jaryo::config::Config;
use jaryo_http::client::ApiClient;
use jaryo_store::Store;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

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
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts jaryo on a fresh data directory with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts jaryo after `adjust` changed its configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let mut config = Config {
            data_dir: data_dir.path().to_owned(),
            listen: "127.0.0.1:0".parse().expect("address"),
            api_token: Some(SecretString::from(format!(
                "test-token-{}",
                data_dir.path().display()
            ))),
            ..Config::default()
        };
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
            app: Some(app),
            _data_dir: data_dir,
        }
    }

    /// The store behind the server, for checks the API cannot make.
    pub fn store(&self) -> Arc<dyn Store> {
        self.app.as_ref().expect("running").store.clone()
    }

    /// `{url}/api/v1{path}`.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    /// A request to the API carrying the token.
    pub fn authed(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.api_url(path))
            .bearer_auth(self.token.expose_secret())
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
