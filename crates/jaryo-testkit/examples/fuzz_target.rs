//! A real jaryo for an outside API client to test, as `scripts/test` runs schemathesis
//! against it: SQLite in a fresh data directory, port 0, the test model server standing in
//! for the model (so Ask and drafts work). Prints `URL TOKEN` on one line, then serves until
//! its standard input closes.

use jaryo_testkit::TestApp;
use secrecy::ExposeSecret;
use std::io::Read;

#[tokio::main]
async fn main() {
    let app = TestApp::spawn().await;
    println!("{} {}", app.url, app.token.expose_secret());
    // Whatever arrives, the end of the input is the signal to stop.
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
    app.stop().await;
}
