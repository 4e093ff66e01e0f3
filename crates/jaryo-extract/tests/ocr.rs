//! OCR through Tesseract (Korean + English): an image the test renders, as a PNG and as a
//! scanned PDF, reads back as text when Tesseract is installed; without it (the command run
//! with no PATH) both end `needs_ocr` with a reason, never a failure.
//!
//! `scripts/test` installs `tesseract-ocr` and `tesseract-ocr-kor`, and Noto CJK for the
//! rendering. Where either is missing the reading test says it is skipped, except under
//! `CI=true`, where it fails: CI must show that OCR works.

use std::process::Command;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use jaryo_extract::{Limits, extract, generate, ocr_available};

const LINES: [&str; 2] = ["서버 재시작 일정 안내", "Server restart schedule"];

const FONTS: [&str; 2] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
];

/// Black text on white, 48 px: what a clean scan at 150 dpi looks like.
fn render(lines: &[&str]) -> Option<(u32, u32, Vec<u8>)> {
    let data = FONTS.iter().find_map(|p| std::fs::read(p).ok())?;
    let font = FontRef::try_from_slice_and_index(&data, 0).ok()?;
    let scale = PxScale::from(48.0);
    let scaled = font.as_scaled(scale);
    let (width, line_height) = (1000u32, 80u32);
    let height = line_height * (lines.len() as u32 + 1);
    let mut pixels = vec![255u8; (width * height) as usize];
    for (row, line) in lines.iter().enumerate() {
        let mut x = 40.0;
        let baseline = (line_height * (row as u32 + 1)) as f32;
        for c in line.chars() {
            let glyph = scaled.scaled_glyph(c);
            let advance = scaled.h_advance(glyph.id);
            let mut glyph = glyph;
            glyph.position = ab_glyph::point(x, baseline);
            if let Some(outline) = font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let px = bounds.min.x as i64 + i64::from(gx);
                    let py = bounds.min.y as i64 + i64::from(gy);
                    if (0..i64::from(width)).contains(&px) && (0..i64::from(height)).contains(&py) {
                        let i = (py * i64::from(width) + px) as usize;
                        pixels[i] = pixels[i].min((255.0 * (1.0 - coverage)) as u8);
                    }
                });
            }
            x += advance;
        }
    }
    Some((width, height, pixels))
}

fn skip_or_fail(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}, and CI=true requires it (scripts/test installs it)");
    }
    eprintln!("skipped: {why} (scripts/test installs it)");
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn png_and_scanned_pdf_read_through_tesseract() {
    if !ocr_available() {
        return skip_or_fail("tesseract with kor+eng is not installed");
    }
    let Some((width, height, pixels)) = render(&LINES) else {
        return skip_or_fail("no Korean font (fonts-noto-cjk) to render the test image");
    };
    let png = generate::png_grey(width, height, &pixels);
    let x = extract(&png, "scan.png", &Limits::default()).unwrap();
    let text = squash(&x.text);
    assert!(text.contains("서버 재시작 일정 안내"), "OCR read {text:?}");
    assert!(
        text.contains("Server restart schedule"),
        "OCR read {text:?}"
    );
    assert!(x.engine.starts_with("tesseract"), "{}", x.engine);
    assert_eq!(x.page_count, Some(1));

    let pdf = generate::scanned_pdf(width, height, &pixels);
    let x = extract(&pdf, "scan.pdf", &Limits::default()).unwrap();
    let text = squash(&x.text);
    assert!(
        text.contains("서버 재시작"),
        "OCR of the scanned PDF read {text:?}"
    );
    assert_eq!(x.pages.len(), 1);
    assert!(x.engine.starts_with("tesseract"), "{}", x.engine);
}

#[test]
fn without_tesseract_images_and_scans_need_ocr() {
    let dir = std::env::temp_dir().join(format!("jaryo-extract-ocr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pixels = vec![255u8; 64 * 32];
    let png = dir.join("blank.png");
    std::fs::write(&png, generate::png_grey(64, 32, &pixels)).unwrap();
    let pdf = dir.join("scan.pdf");
    std::fs::write(&pdf, generate::scanned_pdf(64, 32, &pixels)).unwrap();
    // The CLI with no PATH cannot find tesseract, wherever it is installed.
    let out = Command::new(env!("CARGO_BIN_EXE_jaryo-extract"))
        .arg(&png)
        .arg(&pdf)
        .env("PATH", dir.join("no-such-dir"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(stdout.matches(": needs_ocr — ").count(), 2, "{stdout}");
    assert!(
        stdout.contains("tesseract-ocr-kor"),
        "the reason says what to install: {stdout}"
    );
}
