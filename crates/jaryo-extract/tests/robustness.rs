//! Untrusted bytes: truncated and mutated files of every format end in a result or a clear
//! error, never a panic or a hang; zip bombs, deflate bombs, self-drawing PDF forms and too
//! many pages stop at their limits.

use std::time::{Duration, Instant};

use jaryo_extract::generate::{self, Part};
use jaryo_extract::{ExtractError, Limits, extract};
use proptest::prelude::*;

fn small_limits() -> Limits {
    Limits {
        max_unpacked_bytes: 8 * 1024 * 1024,
        deadline: Duration::from_secs(10),
        ..Limits::default()
    }
}

fn parts() -> Vec<Part> {
    vec![
        Part::Heading(1, "제목 Title".into()),
        Part::Paragraph("본문 문단 body paragraph".into()),
        Part::Bullet("항목 item".into()),
        Part::Table(vec![
            vec!["가".into(), "나".into()],
            vec!["1".into(), "2".into()],
        ]),
    ]
}

/// One file of each format, with the name it is uploaded under.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let html = "<html><head><meta charset=\"euc-kr\"><title>t</title></head><body><article><h1>제목</h1><p>본문</p></article></body></html>";
    vec![
        (
            "doc.pdf",
            generate::text_pdf(
                Some("제목"),
                &["첫 쪽 page one".into(), "둘째 쪽 page two".into()],
            ),
        ),
        ("doc.docx", generate::docx("제목", &parts())),
        ("doc.hwpx", generate::hwpx("제목", &parts())),
        ("doc.hwp", generate::hwp5(&parts(), false)),
        ("dist.hwp", generate::hwp5(&parts(), true)),
        ("page.html", html.as_bytes().to_vec()),
        (
            "memo.txt",
            encoding_rs::EUC_KR
                .encode("메모 텍스트 memo\r\n")
                .0
                .into_owned(),
        ),
        ("note.md", "# 제목\n\n- 항목".as_bytes().to_vec()),
    ]
}

fn assert_survives(name: &str, bytes: &[u8]) {
    let started = Instant::now();
    let result = extract(bytes, name, &small_limits());
    // A clear outcome: text, or an error with a stable code and a reason.
    if let Err(e) = &result {
        assert!(!e.code().is_empty() && !e.to_string().is_empty());
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{name} took {:?}",
        started.elapsed()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn truncated_files_never_panic(which in 0usize..8, cut in 0.0f64..1.0) {
        let (name, bytes) = &corpus()[which];
        let len = (bytes.len() as f64 * cut) as usize;
        assert_survives(name, &bytes[..len]);
    }

    #[test]
    fn mutated_files_never_panic(
        which in 0usize..8,
        edits in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 1..24),
    ) {
        let (name, bytes) = &corpus()[which];
        let mut bytes = bytes.clone();
        for (at, value) in edits {
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] = value;
        }
        assert_survives(name, &bytes);
    }
}

#[test]
fn zip_bomb_stops_at_the_unpacked_limit() {
    // 64 MiB of spaces squeezes to about 64 KiB.
    let bomb = generate::zip_bomb_docx(64 * 1024 * 1024);
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let err = extract(&bomb, "bomb.docx", &small_limits()).unwrap_err();
    assert_eq!(err.code(), "too_large", "{err}");
    assert!(err.to_string().contains("unpacks to more than"), "{err}");
}

#[test]
fn pdf_with_too_many_pages_is_too_large() {
    let pages: Vec<String> = (1..=12).map(|n| format!("쪽 {n}")).collect();
    let pdf = generate::text_pdf(None, &pages);
    let limits = Limits {
        max_pages: 10,
        ..small_limits()
    };
    let err = extract(&pdf, "long.pdf", &limits).unwrap_err();
    assert_eq!(err.code(), "too_large", "{err}");
}

#[test]
fn output_over_the_character_limit_is_too_large() {
    let text = "가나다라 ".repeat(1000);
    let limits = Limits {
        max_output_chars: 100,
        ..small_limits()
    };
    let err = extract(text.as_bytes(), "long.txt", &limits).unwrap_err();
    assert_eq!(
        err,
        ExtractError::TooLarge {
            reason: "5000 characters of text is over the limit of 100".into()
        }
    );
    let too_big = Limits {
        max_input_bytes: 10,
        ..small_limits()
    };
    assert_eq!(
        extract(text.as_bytes(), "long.txt", &too_big)
            .unwrap_err()
            .code(),
        "too_large"
    );
}

#[test]
fn pdf_form_that_draws_itself_is_refused_not_a_stack_overflow() {
    // A page draws form /F0, whose content draws /F0 again with the page's resources.
    let pdf = self_drawing_form_pdf();
    let err = extract(&pdf, "loop.pdf", &small_limits()).unwrap_err();
    assert_eq!(err.code(), "broken", "{err}");
    assert!(err.to_string().contains("nest"), "{err}");
}

fn self_drawing_form_pdf() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /XObject << /F0 5 0 R >> >> /Contents 4 0 R >>".to_owned(),
        "<< /Length 7 >>\nstream\n/F0 Do\nendstream".to_owned(),
        "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length 7 >>\nstream\n/F0 Do\nendstream".to_owned(),
    ];
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).into_bytes());
    }
    let xref_at = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

#[test]
fn deeply_nested_html_is_refused_quickly_and_moderate_nesting_reads() {
    let nested = |n: usize| {
        format!(
            "<html><body>{}깊은 본문 deep text{}</body></html>",
            "<div>".repeat(n),
            "</div>".repeat(n)
        )
    };
    let started = Instant::now();
    let err = extract(nested(100_000).as_bytes(), "deep.html", &small_limits()).unwrap_err();
    assert_eq!(err.code(), "too_large", "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let x = extract(nested(500).as_bytes(), "deep.html", &small_limits()).unwrap();
    assert!(x.text.contains("깊은 본문 deep text"), "{}", x.text);
}

#[test]
fn truncated_real_samples_never_panic() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: no samples folder at {}", dir.display());
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        for cut in [0.1, 0.5, 0.9, 0.99] {
            let len = (bytes.len() as f64 * cut) as usize;
            assert_survives(&name, &bytes[..len]);
        }
    }
}

#[test]
fn a_spent_deadline_ends_timed_out() {
    let limits = Limits {
        deadline: Duration::ZERO,
        ..small_limits()
    };
    let pdf = generate::text_pdf(None, &["시간 초과 timeout".to_owned()]);
    assert_eq!(
        extract(&pdf, "slow.pdf", &limits).unwrap_err(),
        ExtractError::TimedOut
    );
    let hwpx = generate::hwpx("제목", &parts());
    assert_eq!(
        extract(&hwpx, "slow.hwpx", &limits).unwrap_err().code(),
        "timed_out"
    );
}
