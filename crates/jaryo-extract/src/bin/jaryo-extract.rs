//! Extracts the files named on the command line and prints what came out (a tool for trying
//! the engines on real files; the server runs them through the `extract` job):
//! `cargo run -p jaryo-extract --bin jaryo-extract -- FILE... [--full]`.
//! Exits 1 when any file gave no text.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full");
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for path in args.iter().filter(|a| *a != "--full") {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
                continue;
            }
        };
        let started = std::time::Instant::now();
        let result = jaryo_extract::extract(&bytes, path, &jaryo_extract::Limits::default());
        let took = started.elapsed();
        let written = match result {
            Ok(x) => {
                let (text, markdown) = if full {
                    (x.text.clone(), x.markdown.clone())
                } else {
                    (
                        x.text.chars().take(600).collect(),
                        x.markdown.chars().take(600).collect(),
                    )
                };
                writeln!(
                    out,
                    "== {path}: {} chars, {} pages ({:?} counted), title {:?}, engine {}, {took:.2?}\n\
                     --- text\n{text}\n--- markdown\n{markdown}",
                    x.text.chars().count(),
                    x.pages.len(),
                    x.page_count,
                    x.title,
                    x.engine
                )
            }
            Err(e) => {
                failed = true;
                writeln!(out, "== {path}: {} — {e} ({took:.2?})", e.code())
            }
        };
        // A closed pipe (`| head`) ends the run quietly.
        if written.is_err() {
            break;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
