//! A real browser for jaryo's end-to-end tests: Debian's Chromium, headless, driven through
//! its ChromeDriver with fantoccini.
//!
//! Each [`Browser`] is its own ChromeDriver process on a free port and its own Chromium with a
//! fresh profile directory, so tests share nothing. Waiting is always polling with a deadline
//! ([`eventually`]), never a fixed sleep.
//!
//! When the tests run: with `/usr/bin/chromium` and `/usr/bin/chromedriver` installed (the
//! Debian packages `chromium` and `chromium-driver`; `scripts/test` installs them). Without
//! them a test returns early saying why, except under `CI=true`, where it fails.
//!
//! Screenshots go to `target/screenshots/` (or `JARYO_SCREENSHOTS_DIR`).

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use jaryo_testkit::TestApp;
use secrecy::ExposeSecret;
use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `probe` until it yields a value, failing the test with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where screenshots are written.
pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("JARYO_SCREENSHOTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
        })
}

/// A headless Chromium of a test's own.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Whether the browser tests run here; `false` after saying why, a panic where skipping is not
/// allowed (`CI=true`).
pub fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !std::path::Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let reason = format!(
        "{} not installed: apt-get install -y chromium chromium-driver (scripts/test does)",
        missing.join(" and ")
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "browser tests cannot be skipped in CI: {reason}"
    );
    eprintln!("SKIPPED (browser): {reason}");
    false
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium asking for pages in `accept_language`.
    pub async fn start(accept_language: &str) -> Browser {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.local_addr().expect("address").port()
        };
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        eventually("chromedriver to listen", PATIENCE, || {
            let request = http.get(format!("{driver_url}/status")).send();
            async move {
                let body: serde_json::Value = request.await.ok()?.json().await.ok()?;
                body["value"]["ready"].as_bool().filter(|ready| *ready)
            }
        })
        .await;
        let profile = tempfile::tempdir().expect("profile directory");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1280,1000".to_owned(),
            format!("--lang={accept_language}"),
            format!("--accept-lang={accept_language}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": args,
                "prefs": { "intl.accept_languages": accept_language },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .expect("a Chromium session");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The path of the page shown now.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    /// Signs in to `app` with its token through the sign-in form.
    pub async fn sign_in(&self, app: &TestApp) {
        self.goto(&format!("{}/sign-in", app.url)).await;
        self.fill("#token", app.token.expose_secret()).await;
        self.click("form[action='/sign-in'] button[type=submit]")
            .await;
        self.wait_for("#capture-text").await;
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits for an element to be on the page.
    pub async fn wait_for(&self, css: &str) -> Element {
        eventually(&format!("element {css}"), PATIENCE, || async {
            self.client.find(Locator::Css(css)).await.ok()
        })
        .await
    }

    /// Waits for an element whose text contains `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> Element {
        eventually(&format!("{css} containing {text:?}"), PATIENCE, || async {
            for element in self.client.find_all(Locator::Css(css)).await.ok()? {
                if element.text().await.ok()?.contains(text) {
                    return Some(element);
                }
            }
            None
        })
        .await
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        element.clear().await.expect("clear");
        element.send_keys(text).await.expect("typing");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Runs `script` in the page and returns its value.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// Saves what the browser shows as `<screenshots>/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("screenshots directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot saved");
    }

    /// Ends the browser session and ChromeDriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}
