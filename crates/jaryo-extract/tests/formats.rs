//! Each format read from files the tests make: Korean and English text, structure kept in
//! Markdown, pages kept for PDFs, encodings detected for text.

use jaryo_extract::generate::{self, Part};
use jaryo_extract::{ExtractError, Format, Limits, extract, sniff};

fn parts() -> Vec<Part> {
    vec![
        Part::Heading(1, "연간 보고서 Annual report".into()),
        Part::Paragraph(
            "서버 재시작 일정은 12월 3일입니다. The server restarts on 3 December.".into(),
        ),
        Part::Heading(2, "예산 Budget".into()),
        Part::Bullet("첫째 항목 first item".into()),
        Part::Bullet("둘째 항목 second item".into()),
        Part::Numbered("번호 하나 number one".into()),
        Part::Table(vec![
            vec!["항목".into(), "금액".into()],
            vec!["시설관리".into(), "금72,300,000원".into()],
        ]),
        Part::Paragraph("끝 The end".into()),
    ]
}

/// What every structured engine must make of [`parts`].
fn assert_structure(markdown: &str, text: &str) {
    for expected in [
        "# 연간 보고서 Annual report",
        "## 예산 Budget",
        "- 첫째 항목 first item",
        "- 둘째 항목 second item",
        "1. 번호 하나 number one",
        "| 항목 | 금액 |",
        "| --- | --- |",
        "| 시설관리 | 금72,300,000원 |",
    ] {
        assert!(
            markdown.contains(expected),
            "markdown lacks {expected:?}:\n{markdown}"
        );
    }
    assert!(
        text.contains("서버 재시작 일정은 12월 3일입니다. The server restarts on 3 December."),
        "{text}"
    );
    assert!(text.contains("시설관리\t금72,300,000원"), "{text}");
    let order: Vec<usize> = [
        "연간 보고서",
        "서버 재시작",
        "예산",
        "첫째",
        "번호 하나",
        "시설관리",
        "끝 The end",
    ]
    .iter()
    .map(|w| {
        text.find(w)
            .unwrap_or_else(|| panic!("{w} missing from {text}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "reading order broken: {text}"
    );
}

#[test]
fn docx_keeps_headings_lists_and_tables() {
    let bytes = generate::docx("보고서 제목", &parts());
    assert_eq!(sniff("report.docx", &bytes), Format::Docx);
    let x = extract(&bytes, "report.docx", &Limits::default()).unwrap();
    assert_structure(&x.markdown, &x.text);
    assert_eq!(x.title.as_deref(), Some("보고서 제목"));
    assert!(x.engine.starts_with("jaryo-docx "), "{}", x.engine);
}

#[test]
fn hwpx_keeps_headings_lists_and_tables() {
    let bytes = generate::hwpx("한글 문서 제목", &parts());
    // Magic decides: an HWPX named .zip is still HWPX.
    assert_eq!(sniff("notice.zip", &bytes), Format::Hwpx);
    let x = extract(&bytes, "notice.hwpx", &Limits::default()).unwrap();
    assert_structure(&x.markdown, &x.text);
    assert_eq!(x.title.as_deref(), Some("한글 문서 제목"));
    assert!(x.engine.starts_with("jaryo-hwpx "), "{}", x.engine);
}

#[test]
fn hwp5_keeps_headings_lists_and_tables() {
    let bytes = generate::hwp5(&parts(), false);
    assert_eq!(sniff("문서.hwp", &bytes), Format::Hwp);
    let x = extract(&bytes, "문서.hwp", &Limits::default()).unwrap();
    assert_structure(&x.markdown, &x.text);
    assert!(x.engine.starts_with("jaryo-hwp5 "), "{}", x.engine);
}

#[test]
fn hwp5_distribution_document_is_decrypted() {
    let bytes = generate::hwp5(&parts(), true);
    let x = extract(&bytes, "배포용.hwp", &Limits::default()).unwrap();
    assert_structure(&x.markdown, &x.text);
}

#[test]
fn text_pdf_keeps_pages_and_their_text() {
    let pages = vec![
        "첫 페이지 서버 재시작\nFirst page about the server".to_owned(),
        "둘째 페이지 예산 보고서\nSecond page budget".to_owned(),
        "셋째 페이지 끝\nThird page".to_owned(),
    ];
    let bytes = generate::text_pdf(Some("PDF 제목 Title"), &pages);
    assert_eq!(sniff("scan.bin", &bytes), Format::Pdf);
    let x = extract(&bytes, "report.pdf", &Limits::default()).unwrap();
    assert_eq!(x.page_count, Some(3));
    assert_eq!(x.pages.len(), 3);
    assert_eq!(x.title.as_deref(), Some("PDF 제목 Title"));
    for (page, expected) in x.pages.iter().zip([
        "첫 페이지 서버 재시작",
        "둘째 페이지 예산 보고서",
        "셋째 페이지 끝",
    ]) {
        let text = &x.text[page.start..page.end];
        assert!(text.contains(expected), "page {} is {text:?}", page.number);
    }
    assert_eq!(
        x.pages.iter().map(|p| p.number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // Ranges in order, apart, on character boundaries, and covering the text.
    for pair in x.pages.windows(2) {
        assert!(pair[0].end <= pair[1].start);
    }
    for p in &x.pages {
        assert!(
            p.start <= p.end && x.text.is_char_boundary(p.start) && x.text.is_char_boundary(p.end)
        );
    }
    assert_eq!((x.pages[0].start, x.pages[2].end), (0, x.text.len()));
    assert!(x.text.contains("Second page budget"));
}

#[test]
fn encrypted_pdf_says_so() {
    let bytes = generate::encrypted_pdf("secret", &["비밀 문서 secret".to_owned()]);
    let err = extract(&bytes, "secret.pdf", &Limits::default()).unwrap_err();
    assert_eq!(err.code(), "encrypted", "{err}");
    assert!(err.to_string().contains("password"), "{err}");
}

#[test]
fn pdf_with_an_empty_user_password_is_read() {
    let bytes = generate::encrypted_pdf("", &["권한만 제한된 문서 permissions only".to_owned()]);
    let x = extract(&bytes, "open.pdf", &Limits::default()).unwrap();
    assert!(
        x.text.contains("권한만 제한된 문서 permissions only"),
        "{}",
        x.text
    );
}

#[test]
fn cp949_notepad_file_reads_as_korean() {
    // What Korean Windows Notepad saved before UTF-8 was its default: CP949, CRLF.
    let (bytes, _, _) =
        encoding_rs::EUC_KR.encode("회의록: 서버 재시작 일정\r\n담당자 김철수, 똠방각하 뷁\r\n");
    let x = extract(&bytes, "메모.txt", &Limits::default()).unwrap();
    assert_eq!(
        x.text,
        "회의록: 서버 재시작 일정\n담당자 김철수, 똠방각하 뷁\n"
    );
    assert!(x.engine.contains("EUC-KR"), "{}", x.engine);
}

#[test]
fn utf16_with_bom_and_utf8_text_read() {
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "메모 UTF-16 text\r\n둘째 줄"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let x = extract(&utf16, "memo.txt", &Limits::default()).unwrap();
    assert_eq!(x.text, "메모 UTF-16 text\n둘째 줄");

    let mut utf16be = vec![0xFE, 0xFF];
    utf16be.extend("빅 엔디언".encode_utf16().flat_map(u16::to_be_bytes));
    assert_eq!(
        extract(&utf16be, "be.txt", &Limits::default())
            .unwrap()
            .text,
        "빅 엔디언"
    );

    let x = extract(
        "# 제목 Title\n\n본문 body".as_bytes(),
        "note.md",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(x.markdown, "# 제목 Title\n\n본문 body");
    assert_eq!(x.title.as_deref(), Some("제목 Title"));
}

#[test]
fn html_main_content_without_menus_and_footer_in_its_own_charset() {
    let body = "이번 주 토요일 새벽 2시부터 4시까지 서버 점검이 있습니다. Maintenance runs early Saturday. ".repeat(6);
    let html = format!(
        r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=euc-kr"><title>공지 - 예제</title></head>
<body><nav><ul><li><a href="/">홈메뉴</a></li><li><a href="/about">회사소개메뉴</a></li></ul></nav>
<article><h1>서버 점검 안내</h1><p>{body}</p><h2>점검 내용</h2><ul><li>데이터베이스 업그레이드</li><li>보안 패치</li></ul>
<p>{body}</p></article><footer>저작권 2024 예제 회사 사업자등록번호 123-45-67890</footer>
<script>alert("실행되면 안 됨")</script></body></html>"#
    );
    let (bytes, _, _) = encoding_rs::EUC_KR.encode(&html);
    let x = extract(&bytes, "notice.html", &Limits::default()).unwrap();
    assert!(x.text.contains("서버 점검이 있습니다"), "{}", x.text);
    assert!(x.markdown.contains("점검 내용"), "{}", x.markdown);
    assert!(
        x.markdown.contains("- 데이터베이스 업그레이드"),
        "{}",
        x.markdown
    );
    for chrome in ["홈메뉴", "회사소개메뉴", "사업자등록번호", "실행되면"] {
        assert!(!x.text.contains(chrome), "{chrome} leaked into {}", x.text);
        assert!(
            !x.markdown.contains(chrome),
            "{chrome} leaked into {}",
            x.markdown
        );
    }
    assert_eq!(x.title.as_deref(), Some("공지 - 예제"));
}

#[test]
fn unknown_and_mislabelled_files_get_a_clear_state() {
    let err = extract(b"\x00\x01\x02binary", "archive.7z", &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ExtractError::Unsupported {
            format: Format::Other
        }
    );
    assert_eq!(err.code(), "unsupported");
    // Named .pdf but not a PDF: the PDF engine says the file is broken.
    let err = extract("그냥 텍스트".as_bytes(), "fake.pdf", &Limits::default()).unwrap_err();
    assert_eq!(err.code(), "broken", "{err}");
    // Named .txt but a PDF inside: magic wins.
    let pdf = generate::text_pdf(None, &["진짜 PDF real".to_owned()]);
    let x = extract(&pdf, "notes.txt", &Limits::default()).unwrap();
    assert!(x.text.contains("진짜 PDF real"));
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    assert_eq!(sniff("logo.svg", svg), Format::Other);
    let err = extract(b"", "empty.txt", &Limits::default()).unwrap_err();
    assert_eq!(err.code(), "broken");
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn media_types_and_codes_are_stable() {
    assert_eq!(Format::Pdf.media_type(), "application/pdf");
    assert_eq!(Format::Hwp.media_type(), "application/x-hwp");
    assert_eq!(Format::Hwpx.media_type(), "application/hwp+zip");
    assert_eq!(ExtractError::TimedOut.code(), "timed_out");
    assert_eq!(
        ExtractError::NeedsOcr { reason: "x".into() }.code(),
        "needs_ocr"
    );
    assert_eq!(
        ExtractError::TooLarge { reason: "x".into() }.code(),
        "too_large"
    );
}

#[test]
fn password_protected_office_files_say_so() {
    // HWP 5.0: the FileHeader's second flag bit.
    let mut hwp = generate::hwp5(&parts(), false);
    let at = hwp
        .windows(17)
        .position(|w| w == b"HWP Document File")
        .unwrap();
    hwp[at + 36] |= 0b10;
    let err = extract(&hwp, "잠긴 문서.hwp", &Limits::default()).unwrap_err();
    assert_eq!(err.code(), "encrypted", "{err}");

    // DOCX: Office keeps an encrypted package in a compound file, not a zip.
    let mut cfb = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    std::io::Write::write_all(
        &mut cfb.create_stream("/EncryptedPackage").unwrap(),
        &[7u8; 4096],
    )
    .unwrap();
    cfb.flush().unwrap();
    let docx = cfb.into_inner().into_inner();
    assert_eq!(sniff("locked.docx", &docx), Format::Docx);
    let err = extract(&docx, "locked.docx", &Limits::default()).unwrap_err();
    assert_eq!(err.code(), "encrypted", "{err}");
    assert!(err.to_string().contains("password"), "{err}");
}

#[test]
fn docx_text_box_is_read_once_and_its_paragraph_kept_whole() {
    use std::io::Write;
    let body = r#"<w:p><w:r><w:t xml:space="preserve">앞 글 before </w:t></w:r><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>상자 안 text box</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>상자 안 text box</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:t xml:space="preserve"> 뒤 글 after</w:t></w:r></w:p>"#;
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:wps="w" xmlns:v="v"><w:body>{body}</w:body></w:document>"#
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(document.as_bytes()).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let x = extract(&bytes, "box.docx", &Limits::default()).unwrap();
    assert_eq!(x.text.matches("상자 안 text box").count(), 1, "{}", x.text);
    assert!(x.text.contains("앞 글 before  뒤 글 after"), "{}", x.text);
}
