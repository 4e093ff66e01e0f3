//! Extracts the files named on the command line and prints what came out (a tool for trying
//! the engines on real files; the server runs them through the `extract` job):
//! `cargo run -p jaryo-extract --bin jaryo-extract -- FILE... [--full]`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--full");
    for path in args.iter().filter(|a| *a != "--full") {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let started = std::time::Instant::now();
        let result = jaryo_extract::extract(&bytes, path, &jaryo_extract::Limits::default());
        let took = started.elapsed();
        match result {
            Ok(x) => {
                println!(
                    "== {path}: {} chars, {} pages ({:?} counted), title {:?}, engine {}, {took:.2?}",
                    x.text.chars().count(),
                    x.pages.len(),
                    x.page_count,
                    x.title,
                    x.engine
                );
                if full {
                    println!("--- text\n{}\n--- markdown\n{}", x.text, x.markdown);
                } else {
                    let head: String = x.text.chars().take(600).collect();
                    println!(
                        "{head}\n--- markdown head\n{}",
                        x.markdown.chars().take(600).collect::<String>()
                    );
                }
            }
            Err(e) => println!("== {path}: {} — {e} ({took:.2?})", e.code()),
        }
    }
}
