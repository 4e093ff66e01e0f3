//! The real files in `../shared/samples/` (public HWP, HWPX and PDF files; see its README),
//! read from there and never copied into the repository. Each must give the text its README
//! names; HWP and HWPX are also measured against the preview text Hancom's own software
//! stored in the file (`PrvText`), which must be found in ours nearly whole.
//!
//! Without the folder (a checkout without `shared/` beside it) each test says it skipped.

use std::io::Read;
use std::path::PathBuf;

use jaryo_extract::{Extracted, Limits, extract};

fn samples_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("JARYO_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples")
        });
    dir.is_dir().then_some(dir)
}

fn read_sample(name: &str) -> Option<(Vec<u8>, Extracted)> {
    let Some(dir) = samples_dir() else {
        eprintln!("skipped: no samples folder (../shared/samples) for {name}");
        return None;
    };
    let path = dir.join(name);
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} is missing", path.display());
        return None;
    };
    let extracted = extract(&bytes, name, &Limits::default())
        .unwrap_or_else(|e| panic!("{name}: {} ({e})", e.code()));
    Some((bytes, extracted))
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_contains(name: &str, x: &Extracted, expected: &[&str]) {
    let text = squash(&x.text);
    for e in expected {
        assert!(
            text.contains(e),
            "{name}: {e:?} not found in {}",
            &text[..text.len().min(2000)]
        );
    }
}

/// Share of the preview's fragments (table cells are `<…>` in it) found in our text.
fn preview_coverage(preview: &str, text: &str) -> f64 {
    let text = squash(text);
    let fragments: Vec<String> = preview
        .split(['\n', '\r', '<', '>'])
        .map(squash)
        .filter(|f| f.chars().count() >= 2)
        .collect();
    // The preview is cut at a fixed length: its last fragment may be cut mid-word.
    let fragments = &fragments[..fragments.len().saturating_sub(1)];
    let found = fragments
        .iter()
        .filter(|f| text.contains(f.as_str()))
        .count();
    let coverage = found as f64 / fragments.len().max(1) as f64;
    eprintln!(
        "preview coverage {found}/{} = {coverage:.2}",
        fragments.len()
    );
    for missing in fragments
        .iter()
        .filter(|f| !text.contains(f.as_str()))
        .take(5)
    {
        eprintln!("  not found: {missing:?}");
    }
    coverage
}

fn hwp_preview(bytes: &[u8]) -> String {
    let mut file = cfb::CompoundFile::open(std::io::Cursor::new(bytes)).unwrap();
    let mut raw = Vec::new();
    file.open_stream("/PrvText")
        .unwrap()
        .read_to_end(&mut raw)
        .unwrap();
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn hwpx_preview(bytes: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name("Preview/PrvText.txt")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn hwp_distribution_document_notice() {
    let name = "notice-distribution-2024.hwp";
    let Some((bytes, x)) = read_sample(name) else {
        return;
    };
    assert_contains(
        name,
        &x,
        &[
            "2025년 강남세움센터 시설관리원 용역업체 선정 입찰공고",
            "금72,300,000원",
        ],
    );
    assert!(preview_coverage(&hwp_preview(&bytes), &x.text) >= 0.95);
}

#[test]
fn hwp_essay_with_fields() {
    let name = "essay-fields.hwp";
    let Some((bytes, x)) = read_sample(name) else {
        return;
    };
    assert_contains(name, &x, &["제레드 다이아몬드"]);
    assert!(preview_coverage(&hwp_preview(&bytes), &x.text) >= 0.95);
}

#[test]
fn hwp_paragraph_and_table() {
    let name = "paragraph-and-table.hwp";
    let Some((bytes, x)) = read_sample(name) else {
        return;
    };
    assert_contains(name, &x, &["이것은 원본 HWP 파일의 내용입니다"]);
    assert!(x.markdown.contains("| ABC | 123 |"), "{}", x.markdown);
    assert!(preview_coverage(&hwp_preview(&bytes), &x.text) >= 0.95);
}

#[test]
fn hwpx_press_release() {
    let name = "press-release-mcst-2024.hwpx";
    let Some((bytes, x)) = read_sample(name) else {
        return;
    };
    assert_contains(
        name,
        &x,
        &["2024 파리 올림픽·패럴림픽 준비하는 우리 선수단 격려한다"],
    );
    assert!(
        x.markdown.contains("| 보도시점 |"),
        "tables kept: {}",
        x.markdown
    );
    assert!(preview_coverage(&hwpx_preview(&bytes), &x.text) >= 0.9);
}

#[test]
fn hwpx_public_data_standard() {
    let name = "public-data-standard-2023.hwpx";
    let Some((bytes, x)) = read_sample(name) else {
        return;
    };
    assert_contains(name, &x, &["대중교통환승센터"]);
    assert!(preview_coverage(&hwpx_preview(&bytes), &x.text) >= 0.9);
}

#[test]
fn hwpx_numbered_headings() {
    let name = "numbered-headings.hwpx";
    let Some((bytes, x)) = read_sample(name) else {
        return;
    };
    assert_contains(name, &x, &["글머리1-1", "번호-4-1-1-1"]);
    // Bullets, numbers and outline levels become Markdown lists and headings.
    for line in [
        "- 글머리1-1",
        "1. 번호1",
        "# 개요1",
        "## 개요1-1",
        "### 개요2-1-1",
    ] {
        assert!(
            x.markdown.lines().any(|l| l.trim_start() == line),
            "{line:?} in {}",
            x.markdown
        );
    }
    assert!(preview_coverage(&hwpx_preview(&bytes), &x.text) >= 0.95);
}

#[test]
fn pdf_two_column_paper() {
    let name = "arxiv-1901.03003.pdf";
    let Some((_, x)) = read_sample(name) else {
        return;
    };
    assert_contains(
        name,
        &x,
        &["MORAN: A Multi-Object Rectified Attention Network"],
    );
    assert_eq!(x.page_count, Some(15));
    assert_eq!(x.pages.len(), 15);
    // Reading order: the abstract's column is read before the introduction's.
    let text = squash(&x.text);
    let abstract_at = text.find("Irregular text is widely used").unwrap();
    let intro_at = text
        .find("Scene text recognition is an essential process")
        .unwrap();
    assert!(abstract_at < intro_at);
    // A line of the first page is on page 1, and the references on a later page.
    let page_of = |needle: &str| {
        let at = x.text.find(needle).unwrap();
        x.pages
            .iter()
            .find(|p| p.start <= at && at < p.end)
            .unwrap()
            .number
    };
    assert_eq!(page_of("Abstract"), 1);
    assert!(page_of("References") > 5);
}

#[test]
fn pdf_italian_financial_statement() {
    let name = "financial-statement-it.pdf";
    let Some((_, x)) = read_sample(name) else {
        return;
    };
    assert!(x.text.to_lowercase().contains("conto economico"));
    assert_eq!(x.pages.len(), 2);
}

#[test]
fn pdf_lorem() {
    let name = "lorem.pdf";
    let Some((_, x)) = read_sample(name) else {
        return;
    };
    assert_contains(name, &x, &["Lorem ipsum dolor sit amet"]);
    assert_eq!(x.page_count, Some(1));
}
