//! The files concern's conformance checks: every backend keeps a file's bytes exactly, in
//! pieces, dedupes by SHA-256, and settles extractions under the queue's rules. A backend's
//! test file calls [`files_conformance_suite!`] beside `conformance_suite!`, with the same
//! opener.

use crate::conformance::Fixture;
use crate::files::FILE_PIECE_BYTES;
use crate::{
    ClaimRequest, DocumentPatch, ExtractedFile, FinishedUpload, JobKind, Settled, Store, StoreError,
};
use jaryo_domain::{ContentOrigin, DocumentId, DocumentText, ExtractionState, FileName, PageSpan};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// Bytes that tell every position apart, so a piece out of place shows.
fn patterned(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

/// Uploads `bytes` as `name` through the store's pieces, as the HTTP layer does.
pub async fn upload(
    store: &Arc<dyn Store>,
    name: &str,
    bytes: &[u8],
) -> Result<crate::FileIntake, StoreError> {
    let upload = store.begin_upload().await?;
    let mut pieces = 0;
    for piece in bytes.chunks(FILE_PIECE_BYTES) {
        store.append_upload(upload, pieces, piece).await?;
        pieces += 1;
    }
    store
        .finish_upload(
            upload,
            &FinishedUpload {
                name: FileName::parse(name).expect("a file name"),
                media_type: "application/octet-stream".into(),
                size: bytes.len() as u64,
                sha256: hex(&Sha256::digest(bytes)),
                pieces,
            },
        )
        .await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn read_back(store: &Arc<dyn Store>, document: DocumentId) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut seq = 0;
    while let Some(piece) = store.read_file_piece(document, seq).await.expect("a piece") {
        assert!(piece.len() <= FILE_PIECE_BYTES);
        bytes.extend_from_slice(&piece);
        seq += 1;
    }
    bytes
}

fn claim_request() -> ClaimRequest {
    ClaimRequest {
        owner: "files-test".into(),
        lease: Duration::from_secs(30),
        limit: 10,
        max_attempts: 3,
    }
}

async fn search_ids(store: &Arc<dyn Store>, query: &str) -> Vec<i64> {
    let page = store
        .search(&crate::SearchRequest {
            query: jaryo_text::Query::parse(query).expect("a valid query"),
            filter: crate::SearchFilter::default(),
            limit: crate::PAGE_LIMIT_MAX,
            after: None,
        })
        .await
        .expect("search");
    page.hits.iter().map(|hit| hit.id).collect()
}

pub async fn a_file_is_kept_exactly_in_pieces_and_found_by_its_name(fx: Fixture) {
    let store = fx.store.clone();
    let bytes = patterned(2 * FILE_PIECE_BYTES + 12_345, 7);
    let intake = upload(&store, "분기 보고서 quarterly.pdf", &bytes)
        .await
        .unwrap();
    assert!(!intake.duplicate);
    let document = intake.document;
    assert_eq!(document.content_origin, ContentOrigin::File);
    assert_eq!(document.title, "분기 보고서 quarterly.pdf");
    assert_eq!(document.extracted_text, None);
    assert_eq!(read_back(&store, document.id).await, bytes);
    let files = store
        .files_of(&[document.id, DocumentId(9_999)])
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file.info.size, bytes.len() as u64);
    assert_eq!(file.info.sha256, hex(&Sha256::digest(&bytes)));
    assert_eq!(file.pieces, 3);
    assert_eq!(file.extraction.state, ExtractionState::Pending);
    assert_eq!(search_ids(&store, "보고서").await, vec![document.id.0]);
    assert_eq!(search_ids(&store, "quarterly").await, vec![document.id.0]);
    // Deleted, its file is gone with it.
    store.delete_document(document.id).await.unwrap();
    assert!(store.files_of(&[document.id]).await.unwrap().is_empty());
    assert_eq!(store.read_file_piece(document.id, 0).await.unwrap(), None);
}

pub async fn the_same_bytes_twice_are_one_document(fx: Fixture) {
    let store = fx.store.clone();
    let bytes = patterned(1000, 1);
    let first = upload(&store, "a.txt", &bytes).await.unwrap();
    let again = upload(&store, "copy of a.txt", &bytes).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.document.id, first.document.id);
    let other = upload(&store, "b.txt", &patterned(1000, 2)).await.unwrap();
    assert!(!other.duplicate);
    // Once the document is deleted, the same bytes make a new one.
    store.delete_document(first.document.id).await.unwrap();
    let after = upload(&store, "a.txt", &bytes).await.unwrap();
    assert!(!after.duplicate);
    assert_ne!(after.document.id, first.document.id);
}

pub async fn an_incomplete_or_abandoned_upload_makes_nothing(fx: Fixture) {
    let store = fx.store.clone();
    let upload_id = store.begin_upload().await.unwrap();
    store.append_upload(upload_id, 0, b"half").await.unwrap();
    let finished = FinishedUpload {
        name: FileName::parse("half.txt").unwrap(),
        media_type: "text/plain".into(),
        size: 8,
        sha256: hex(&Sha256::digest(b"halfhalf")),
        pieces: 2,
    };
    assert!(matches!(
        store.finish_upload(upload_id, &finished).await,
        Err(StoreError::Invalid { .. })
    ));
    store.abandon_upload(upload_id).await.unwrap();
    assert!(matches!(
        store.append_upload(upload_id, 1, b"half").await,
        Err(StoreError::NotFound { .. })
    ));
    let page = store
        .list_documents(&Default::default(), Default::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

pub async fn an_extraction_writes_text_pages_and_index(fx: Fixture) {
    let store = fx.store.clone();
    let document = upload(&store, "회의록.pdf", &patterned(500, 3))
        .await
        .unwrap()
        .document;
    let claims = store
        .claim_jobs(JobKind::Extract, &claim_request())
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(
        store.files_of(&[document.id]).await.unwrap()[0]
            .extraction
            .state,
        ExtractionState::Running
    );
    let text = "첫 쪽: 예산 회의\n둘째 쪽: budget approved";
    let second = text.find("둘째").unwrap();
    let result = ExtractedFile::Text {
        text: text.into(),
        markdown: "# 회의록\n\n첫 쪽: 예산 회의\n\n둘째 쪽: budget approved".into(),
        engine: "pdf-test 1.0".into(),
        pages: vec![
            PageSpan {
                number: 1,
                start: 0,
                end: second - 1,
            },
            PageSpan {
                number: 2,
                start: second,
                end: text.len(),
            },
        ],
        page_count: Some(2),
    };
    let settled = store
        .settle_extraction(&claims[0], &result.job_outcome(), Some(&result))
        .await
        .unwrap();
    assert_eq!(settled, Settled::Applied);
    let after = store.get_document(document.id).await.unwrap();
    assert_eq!(after.extracted_text.as_deref(), Some(text));
    assert!(after.md_content.as_deref().unwrap().starts_with("# 회의록"));
    assert_eq!(after.md_extraction_engine.as_deref(), Some("pdf-test 1.0"));
    assert_eq!(after.content_origin, ContentOrigin::File);
    assert!(after.version > document.version);
    let file = &store.files_of(&[document.id]).await.unwrap()[0];
    assert_eq!(file.extraction.state, ExtractionState::Done);
    assert_eq!(file.extraction.engine.as_deref(), Some("pdf-test 1.0"));
    assert_eq!(file.info.pages, Some(2));
    assert_eq!(file.page_spans.len(), 2);
    assert_eq!(search_ids(&store, "budget").await, vec![document.id.0]);
    assert_eq!(search_ids(&store, "예산").await, vec![document.id.0]);
    assert_eq!(search_ids(&store, "회의록").await, vec![document.id.0]);
}

pub async fn unreadable_files_end_in_a_clear_state_and_can_be_retried(fx: Fixture) {
    let store = fx.store.clone();
    let mut ids = Vec::new();
    for (index, name) in ["photo.png", "archive.bin", "locked.pdf"]
        .iter()
        .enumerate()
    {
        ids.push(
            upload(&store, name, &patterned(100, index as u8 + 10))
                .await
                .unwrap()
                .document
                .id,
        );
    }
    let claims = store
        .claim_jobs(JobKind::Extract, &claim_request())
        .await
        .unwrap();
    assert_eq!(claims.len(), 3);
    for claim in &claims {
        let result = match claim.document_id {
            id if id == ids[0] => ExtractedFile::NeedsOcr {
                reason: "이미지 속 글자는 OCR이 필요합니다 (tesseract not installed)".into(),
            },
            id if id == ids[1] => ExtractedFile::Unsupported {
                reason: "this kind of file is kept but not read".into(),
            },
            _ => ExtractedFile::Unreadable {
                reason: "the PDF is encrypted: it needs a password".into(),
            },
        };
        store
            .settle_extraction(claim, &result.job_outcome(), Some(&result))
            .await
            .unwrap();
    }
    let states = |files: Vec<crate::StoredFile>| {
        let mut states: Vec<(i64, ExtractionState, Option<String>)> = files
            .into_iter()
            .map(|file| {
                (
                    file.document_id.0,
                    file.extraction.state,
                    file.extraction.error,
                )
            })
            .collect();
        states.sort_by_key(|state| state.0);
        states
    };
    let files = states(store.files_of(&ids).await.unwrap());
    assert_eq!(files[0].1, ExtractionState::NeedsOcr);
    assert_eq!(files[1].1, ExtractionState::Unsupported);
    assert_eq!(files[2].1, ExtractionState::Failed);
    assert!(files[2].2.as_deref().unwrap().contains("encrypted"));
    // Unsupported is still found by its name.
    assert_eq!(search_ids(&store, "archive").await, vec![ids[1].0]);
    // Nothing is claimed again by itself; a retry queues it afresh.
    assert!(
        store
            .claim_jobs(JobKind::Extract, &claim_request())
            .await
            .unwrap()
            .is_empty()
    );
    store
        .enqueue_job(JobKind::Extract, ids[2], 0)
        .await
        .unwrap();
    let file = &store.files_of(&[ids[2]]).await.unwrap()[0];
    assert_eq!(file.extraction.state, ExtractionState::Pending);
    assert_eq!(file.extraction.attempts, 0);
}

pub async fn an_extraction_over_a_changed_document_is_requeued(fx: Fixture) {
    let store = fx.store.clone();
    let document = upload(&store, "notes.txt", b"plain notes")
        .await
        .unwrap()
        .document;
    let claims = store
        .claim_jobs(JobKind::Extract, &claim_request())
        .await
        .unwrap();
    store
        .update_document(
            document.id,
            &DocumentPatch {
                extracted_text: Some(
                    DocumentText::parse("extracted_text", "a person's own text".into()).unwrap(),
                ),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let result = ExtractedFile::Text {
        text: "plain notes".into(),
        markdown: "plain notes".into(),
        engine: "text 1".into(),
        pages: Vec::new(),
        page_count: None,
    };
    let settled = store
        .settle_extraction(&claims[0], &result.job_outcome(), Some(&result))
        .await
        .unwrap();
    assert_eq!(settled, Settled::Requeued);
    let after = store.get_document(document.id).await.unwrap();
    assert_eq!(after.extracted_text.as_deref(), Some("a person's own text"));
}

/// Runs every files check against the backend `$open` opens (see `conformance_suite!`).
#[macro_export]
macro_rules! files_conformance_suite {
    ($open:path) => {
        $crate::files_conformance_suite!(@checks $open;
            a_file_is_kept_exactly_in_pieces_and_found_by_its_name,
            the_same_bytes_twice_are_one_document,
            an_incomplete_or_abandoned_upload_makes_nothing,
            an_extraction_writes_text_pages_and_index,
            unreadable_files_end_in_a_clear_state_and_can_be_retried,
            an_extraction_over_a_changed_document_is_requeued,
        );
    };
    (@checks $open:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let clock = $crate::conformance::start_clock();
                let opened = $open(clock).await;
                let Some(fixture) = $crate::conformance::IntoFixture::into_fixture(opened) else {
                    return;
                };
                $crate::files_conformance::$check(fixture).await;
            }
        )*
    };
}
