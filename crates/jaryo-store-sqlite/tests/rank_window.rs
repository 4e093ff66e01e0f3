//! The bounded ranking of unfiltered searches on SQLite: only the newest matches of each kind
//! are ranked, older ones follow unranked, and paging still reaches every hit exactly once.

use jaryo_domain::{ContentOrigin, DocumentText, DocumentTitle, MemoText};
use jaryo_store::{NewDocument, SearchFilter, SearchKind, SearchRequest, Store};
use jaryo_store_sqlite::{SqliteOptions, SqliteStore};
use jaryo_text::Query;
use std::collections::HashSet;

async fn store(window: u32) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions {
        search_rank_window: window,
        ..SqliteOptions::in_data_dir(dir.path())
    };
    let store = SqliteStore::open(&options).await.unwrap();
    (dir, store)
}

async fn fill(store: &SqliteStore) -> (i64, Vec<(SearchKind, i64)>) {
    let mut all = Vec::new();
    // The oldest document names the word in its title: the best match by far.
    let best = store
        .create_document(&NewDocument {
            title: Some(DocumentTitle::parse("서버 점검").unwrap()),
            extracted_text: DocumentText::parse(
                "extracted_text",
                "서버 서버 서버 점검 기록".into(),
            )
            .unwrap(),
            content_origin: ContentOrigin::User,
            source_metadata: Default::default(),
            created_at: None,
            updated_at: None,
            tags: Vec::new(),
        })
        .await
        .unwrap();
    all.push((SearchKind::Document, best.id.0));
    for n in 0..7 {
        let document = store
            .create_document(&NewDocument {
                title: Some(DocumentTitle::parse(&format!("일지 {n}")).unwrap()),
                extracted_text: DocumentText::parse(
                    "extracted_text",
                    format!("오늘 {n}번째 일지. 긴 본문 가운데 한 번 서버를 언급한다. 나머지는 다른 이야기."),
                )
                .unwrap(),
                content_origin: ContentOrigin::User,
                source_metadata: Default::default(),
                created_at: None,
                updated_at: None,
                tags: Vec::new(),
            })
            .await
            .unwrap();
        all.push((SearchKind::Document, document.id.0));
    }
    for n in 0..4 {
        let memo = store
            .create_memo(&MemoText::parse(format!("메모 {n}: 서버 재시작")).unwrap())
            .await
            .unwrap();
        all.push((SearchKind::Memo, memo.id.0));
    }
    (best.id.0, all)
}

async fn every_hit(store: &SqliteStore, page: u32) -> Vec<(SearchKind, i64, f64)> {
    let mut hits = Vec::new();
    let mut after = None;
    loop {
        let result = store
            .search(&SearchRequest {
                query: Query::parse("서버").unwrap(),
                filter: SearchFilter::default(),
                limit: page,
                after,
            })
            .await
            .unwrap();
        hits.extend(result.hits.iter().map(|h| (h.kind, h.id, h.score)));
        match result.next {
            Some(next) => after = Some(next),
            None => return hits,
        }
    }
}

#[tokio::test]
async fn below_the_window_ranking_is_exact() {
    let (_dir, store) = store(100).await;
    let (best, all) = fill(&store).await;
    let hits = every_hit(&store, 5).await;
    assert_eq!(hits.len(), all.len());
    assert_eq!((hits[0].0, hits[0].1), (SearchKind::Document, best));
    assert!(hits.iter().all(|h| h.2 > 0.0));
}

#[tokio::test]
async fn beyond_the_window_older_matches_follow_unranked_and_none_is_lost() {
    let (_dir, store) = store(3).await;
    let (best, all) = fill(&store).await;
    let hits = every_hit(&store, 2).await;
    let seen: HashSet<(SearchKind, i64)> = hits.iter().map(|h| (h.0, h.1)).collect();
    assert_eq!(hits.len(), all.len(), "no hit twice: {hits:?}");
    assert_eq!(seen, all.iter().copied().collect(), "every hit once");
    // 3 newest documents and 3 newest memos ranked, then the rest with score 0.
    let ranked: Vec<_> = hits.iter().filter(|h| h.2 > 0.0).collect();
    assert_eq!(ranked.len(), 6, "{hits:?}");
    assert!(hits[..6].iter().all(|h| h.2 > 0.0));
    let rest: Vec<(SearchKind, i64)> = hits[6..].iter().map(|h| (h.0, h.1)).collect();
    let mut expected_rest: Vec<(SearchKind, i64)> = all[..5].iter().rev().copied().collect();
    expected_rest.push((SearchKind::Memo, all[8].1));
    assert_eq!(
        rest, expected_rest,
        "older matches newest first, documents before memos"
    );
    assert!(rest.contains(&(SearchKind::Document, best)));
}

#[tokio::test]
async fn a_window_exactly_as_large_as_a_kinds_matches_loses_and_repeats_nothing() {
    // 8 documents and 4 memos match.
    for window in [4, 8] {
        let (_dir, store) = store(window).await;
        let (_, all) = fill(&store).await;
        for page in [1, 3, 20] {
            let hits = every_hit(&store, page).await;
            let seen: HashSet<(SearchKind, i64)> = hits.iter().map(|h| (h.0, h.1)).collect();
            assert_eq!(
                hits.len(),
                all.len(),
                "window {window}, page {page}: {hits:?}"
            );
            assert_eq!(seen, all.iter().copied().collect());
            let ranked = hits.iter().filter(|h| h.2 > 0.0).count();
            assert_eq!(
                ranked,
                4 + window.min(8) as usize,
                "window {window}: {hits:?}"
            );
        }
    }
}
