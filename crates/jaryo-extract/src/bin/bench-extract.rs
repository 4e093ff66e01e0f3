//! Extraction rates on generated files: pages per second for text PDFs, documents per second
//! for HWPX (and, beside them, HWP 5.0, distribution HWP and DOCX), one core, in process.
//! The files come from `jaryo_extract::generate`, so the run needs nothing but this crate;
//! with `../shared/samples/` present the real samples are timed too.
//!
//! `cargo run --release -p jaryo-extract --bin bench-extract [-- --seconds 3]`

use std::time::{Duration, Instant};

use jaryo_extract::generate::{self, Part, sentences};
use jaryo_extract::{Limits, extract};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(3.0);
    let budget = Duration::from_secs_f64(seconds);
    let limits = Limits::default();

    println!("bench-extract: {seconds} s a case, one thread\n");
    println!(
        "{:<44} {:>10} {:>12} {:>14}",
        "case", "file KiB", "runs", "rate"
    );

    // Text PDFs: 100 pages of 45 lines of mixed Korean and English.
    let pages: Vec<String> = (0..100u64).map(|p| sentences(p, 45).join("\n")).collect();
    let pdf = generate::text_pdf(Some("벤치마크 Benchmark"), &pages);
    let (runs, took) = time(budget, || {
        let x = extract(&pdf, "bench.pdf", &limits).expect("the generated PDF reads");
        assert_eq!(x.pages.len(), 100);
    });
    report(
        "text PDF, 100 pages",
        pdf.len(),
        runs,
        took,
        100.0,
        "pages/s",
    );

    let parts = document(120);
    let hwpx = generate::hwpx("벤치마크 문서", &parts);
    let (runs, took) = time(budget, || {
        extract(&hwpx, "bench.hwpx", &limits).expect("the generated HWPX reads");
    });
    report(
        "HWPX, 120 paragraphs + 10 tables",
        hwpx.len(),
        runs,
        took,
        1.0,
        "docs/s",
    );

    for (name, file, bytes) in [
        (
            "HWP 5.0, same content",
            "bench.hwp",
            generate::hwp5(&parts, false),
        ),
        (
            "HWP 5.0 distribution, same content",
            "bench-dist.hwp",
            generate::hwp5(&parts, true),
        ),
        (
            "DOCX, same content",
            "bench.docx",
            generate::docx("벤치마크 문서", &parts),
        ),
    ] {
        let (runs, took) = time(budget, || {
            extract(&bytes, file, &limits).expect("the generated file reads");
        });
        report(name, bytes.len(), runs, took, 1.0, "docs/s");
    }

    let samples =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples");
    if let Ok(entries) = std::fs::read_dir(&samples) {
        let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        println!();
        for path in names
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e != "md"))
        {
            let bytes = std::fs::read(&path).expect("sample reads");
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let Ok(first) = extract(&bytes, &name, &limits) else {
                continue;
            };
            let pages = first.pages.len().max(1) as f64;
            let (runs, took) = time(budget.min(Duration::from_secs(1)), || {
                extract(&bytes, &name, &limits).expect("the sample reads");
            });
            if first.pages.is_empty() {
                report(
                    &format!("sample {name}"),
                    bytes.len(),
                    runs,
                    took,
                    1.0,
                    "docs/s",
                );
            } else {
                report(
                    &format!("sample {name}"),
                    bytes.len(),
                    runs,
                    took,
                    pages,
                    "pages/s",
                );
            }
        }
    }
}

/// Runs `work` until `budget` is spent (at least three times); (runs, total time).
fn time(budget: Duration, mut work: impl FnMut()) -> (u64, Duration) {
    work(); // warm-up
    let started = Instant::now();
    let mut runs = 0;
    while runs < 3 || started.elapsed() < budget {
        work();
        runs += 1;
    }
    (runs, started.elapsed())
}

fn report(case: &str, bytes: usize, runs: u64, took: Duration, units_per_run: f64, unit: &str) {
    let rate = runs as f64 * units_per_run / took.as_secs_f64();
    println!(
        "{case:<44} {:>10.1} {runs:>12} {rate:>9.1} {unit}",
        bytes as f64 / 1024.0
    );
}

/// A Korean and English document: headings, paragraphs, lists and a table every 12 paragraphs.
fn document(paragraphs: usize) -> Vec<Part> {
    let mut parts = Vec::new();
    for (i, sentence) in sentences(7, paragraphs).into_iter().enumerate() {
        if i % 12 == 0 {
            parts.push(Part::Heading(
                1 + (i / 12 % 2) as u8,
                format!("제{}장 Chapter {}", i / 12 + 1, i / 12 + 1),
            ));
            parts.push(Part::Table(vec![
                vec!["항목".into(), "금액".into(), "비고 note".into()],
                vec!["시설관리".into(), "금72,300,000원".into(), sentence.clone()],
                vec!["보안".into(), "금1,000,000원".into(), "-".into()],
            ]));
        }
        if i % 5 == 0 {
            parts.push(Part::Bullet(sentence.clone()));
        }
        parts.push(Part::Paragraph(format!("{sentence} {sentence}")));
    }
    parts
}
