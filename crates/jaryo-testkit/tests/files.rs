//! Files through the real HTTP API on each store: several files in one request, each its own
//! outcome (stored, duplicate by SHA-256, or refused naming the file); the bytes back exactly;
//! uploaded HTML and SVG never run in jaryo's origin; extraction settles in a clear state in
//! the background, and a retry queues it again.

use jaryo_client::wire::{DocumentJson, FileUploadJson};
use jaryo_domain::{ContentOrigin, ExtractionState};
use jaryo_testkit::{Backend, TestApp, error_code, test_on_both_stores};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

/// Bytes of `len` that tell positions apart.
fn patterned(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn file(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    (name.to_owned(), bytes.to_vec())
}

async fn upload(app: &TestApp, files: &[(String, Vec<u8>)]) -> (u16, FileUploadJson) {
    app.api
        .upload_files(files)
        .await
        .expect("the upload answers")
}

async fn settled(app: &TestApp, id: i64) -> DocumentJson {
    app.wait_for_document(id, PATIENCE, |document| {
        document
            .extraction
            .as_ref()
            .is_some_and(|extraction| extraction.state.is_settled())
    })
    .await
}

test_on_both_stores!(files_go_in_each_on_its_own_and_come_back_exactly);
async fn files_go_in_each_on_its_own_and_come_back_exactly(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let korean = "회의록\n\n예산 3억 원을 승인했다. The budget was approved.\n".as_bytes();
    // Over two pieces, so it is stored and read back in several.
    let large = patterned(600 * 1024 + 17);
    let (status, answer) = upload(
        &app,
        &[
            file("회의록 2026.txt", korean),
            file("empty.txt", b""),
            file("data.bin", &large),
        ],
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(answer.results.len(), 3);
    let [text, empty, data] = &answer.results[..] else {
        unreachable!()
    };
    assert_eq!(text.status, 201);
    assert!(!text.duplicate);
    let text_doc = text.document.as_ref().expect("a document");
    assert_eq!(text_doc.content_origin, ContentOrigin::File);
    assert_eq!(text_doc.title, "회의록 2026.txt");
    let info = text_doc.file.as_ref().expect("the file's description");
    assert_eq!(info.name, "회의록 2026.txt");
    assert_eq!(info.size, korean.len() as u64);
    assert_eq!(info.media_type, "text/plain");
    assert_eq!(info.sha256.len(), 64);
    assert!(text_doc.extraction.is_some());
    // The empty file is refused on its own, by name.
    assert_eq!(empty.status, 400);
    assert!(empty.document.is_none());
    let error = empty.error.as_ref().expect("a reason");
    assert_eq!(error.code, "empty_file");
    assert!(error.message.contains("empty.txt"), "{}", error.message);
    assert_eq!(data.status, 201);
    let data_doc = data.document.as_ref().unwrap();
    assert_eq!(
        app.api.download_file(data_doc.id).await.unwrap(),
        large,
        "the bytes come back exactly"
    );
    assert_eq!(app.api.download_file(text_doc.id).await.unwrap(), korean);

    // The same bytes again, under another name: the earlier document.
    let (status, again) = upload(&app, &[file("copy.txt", korean)]).await;
    assert_eq!(status, 200);
    assert!(again.results[0].duplicate);
    assert_eq!(again.results[0].document.as_ref().unwrap().id, text_doc.id);

    // Found by its name at once, and its reading ends in a clear state.
    let hits = app
        .api
        .search(&jaryo_client::SearchParams::new("회의록"))
        .await
        .unwrap();
    assert!(hits.hits.iter().any(|hit| hit.id == text_doc.id));
    for id in [text_doc.id, data_doc.id] {
        let document = settled(&app, id).await;
        let extraction = document.extraction.unwrap();
        assert!(
            matches!(
                extraction.state,
                ExtractionState::Done | ExtractionState::Unsupported
            ),
            "{extraction:?}"
        );
    }
    // A listing carries the file too.
    let page = app.api.list_documents(&Default::default()).await.unwrap();
    assert!(page.items.iter().all(|document| document.file.is_some()));
    app.stop().await;
}

test_on_both_stores!(uploaded_html_and_svg_never_run_in_our_origin);
async fn uploaded_html_and_svg_never_run_in_our_origin(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let html =
        b"<!doctype html><html><body><script>fetch('/api/v1/memos')</script>hi</body></html>";
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let (_, answer) = upload(
        &app,
        &[
            file("page.html", html),
            file("picture.svg", svg),
            // HTML under an innocent name is still HTML.
            file("notes.txt.html", b"<html><script>1</script></html>"),
        ],
    )
    .await;
    for result in &answer.results {
        let id = result.document.as_ref().expect("stored").id;
        let response = app
            .authed(reqwest::Method::GET, &format!("/documents/{id}/file"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment"),
            "{}: {disposition}",
            result.file_name
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("sandbox"), "{policy}");
        assert!(policy.contains("default-src 'none'"), "{policy}");
    }
    app.stop().await;
}

test_on_both_stores!(bad_files_are_refused_by_name_and_the_rest_go_in);
async fn bad_files_are_refused_by_name_and_the_rest_go_in(backend: Backend) {
    let app = TestApp::spawn_on_with(backend, |config| config.files.max_bytes = 4096).await;
    // One file, over the limit: the request is that file's 413.
    let (content_type, body) =
        jaryo_client::files::multipart_body(&[file("big.pdf", &patterned(5000))]);
    let response = app
        .authed(reqwest::Method::POST, "/files")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, code, body) = error_code(response).await;
    assert_eq!((status, code.as_str()), (413, "file_too_large"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("big.pdf")
    );
    // Among others, it is refused alone; a PNG named .txt is kept as the PNG it is.
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &patterned(100)].concat();
    let (status, answer) = upload(
        &app,
        &[
            file("big.pdf", &patterned(5000)),
            file("photo.txt", &png),
            file("메모.txt", "짧은 메모".as_bytes()),
        ],
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(answer.results[0].status, 413);
    assert_eq!(
        answer.results[0].error.as_ref().unwrap().code,
        "file_too_large"
    );
    let photo = answer.results[1].document.as_ref().unwrap();
    assert_eq!(photo.file.as_ref().unwrap().media_type, "image/png");
    assert!(answer.results[2].document.is_some());
    // Nothing of the refused file was kept.
    let page = app.api.list_documents(&Default::default()).await.unwrap();
    assert_eq!(page.items.len(), 2);

    // Not multipart: 415. No file part: 422. A part without a filename: refused by itself.
    let response = app
        .authed(reqwest::Method::POST, "/files")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.0, 415);
    let response = app
        .authed(reqwest::Method::POST, "/files")
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.0, 422);
    let response = app
        .authed(reqwest::Method::POST, "/files")
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(response).await;
    assert_eq!((status, code.as_str()), (400, "invalid_file_name"));
    // A document without a file, and a missing document, say so.
    let memo_doc = app
        .api
        .create_document(&jaryo_client::wire::NewDocumentInput {
            extracted_text: "직접 쓴 문서".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let response = app
        .authed(
            reqwest::Method::GET,
            &format!("/documents/{}/file", memo_doc.id),
        )
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(response).await;
    assert_eq!((status, code.as_str()), (409, "no_file"));
    app.stop().await;
}

test_on_both_stores!(a_settled_extraction_can_be_retried);
async fn a_settled_extraction_can_be_retried(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let (_, answer) = upload(&app, &[file("archive.bin", &patterned(3000))]).await;
    let id = answer.results[0].document.as_ref().unwrap().id;
    let first = settled(&app, id).await;
    let first = first.extraction.unwrap();
    assert_eq!(first.state, ExtractionState::Unsupported, "{first:?}");
    assert!(first.error.is_some(), "a reason is given");
    let retried = app.api.retry_extraction(id).await.unwrap();
    assert!(retried.extraction.is_some());
    let again = settled(&app, id).await.extraction.unwrap();
    assert_eq!(again.state, ExtractionState::Unsupported);
    // Still found by its name.
    let hits = app
        .api
        .search(&jaryo_client::SearchParams::new("archive"))
        .await
        .unwrap();
    assert_eq!(hits.hits.len(), 1);
    app.stop().await;
}
