//! A Korean PDF as real software writes it: Chromium prints a three-page Korean and English
//! page to PDF (subset CID fonts from Noto CJK with ToUnicode maps, as most Korean PDFs
//! carry), and the text of each page must come back on that page.
//!
//! Needs Debian's `chromium` (which `scripts/test` installs for the browser tests) and a CJK
//! font; without them the test says it is skipped, except under `CI=true`.

use std::process::Command;

use jaryo_extract::{Limits, extract};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn chromium_printed_korean_pdf_keeps_text_and_pages() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is missing, and CI=true requires it (scripts/test installs it)");
        }
        eprintln!("skipped: chromium is not installed (scripts/test installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("jaryo-printed-pdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join("page.html");
    let pages = [
        (
            "첫째 쪽: 서버 재시작 일정",
            "월요일 새벽에 서버를 재시작합니다. The server restarts early on Monday.",
        ),
        (
            "둘째 쪽: 예산 보고서",
            "올해 예산은 금72,300,000원입니다. This year's budget is set.",
        ),
        (
            "셋째 쪽: 회의록",
            "참석자는 김철수, 이영희입니다. Minutes of the meeting.",
        ),
    ];
    let body: String = pages
        .iter()
        .map(|(h, p)| {
            format!(r#"<section style="break-after: page"><h1>{h}</h1><p>{p}</p></section>"#)
        })
        .collect();
    std::fs::write(
        &html,
        format!(r#"<!doctype html><html lang="ko"><head><meta charset="utf-8"><style>body {{ font-family: "Noto Sans CJK KR", sans-serif }}</style></head><body>{body}</body></html>"#),
    )
    .unwrap();
    let pdf = dir.join("page.pdf");
    let status = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let bytes = std::fs::read(&pdf).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    let x = extract(&bytes, "printed.pdf", &Limits::default()).unwrap();
    assert_eq!(x.page_count, Some(3), "{:?}", x.pages);
    for (page, (heading, paragraph)) in x.pages.iter().zip(pages) {
        let text: String = x.text[page.start..page.end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains(heading),
            "page {}: {heading:?} not in {text:?}",
            page.number
        );
        assert!(
            text.contains(paragraph),
            "page {}: {paragraph:?} not in {text:?}",
            page.number
        );
    }
}
