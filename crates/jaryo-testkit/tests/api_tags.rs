//! Tags through the API: everything with a tag (search without words, memo and document
//! listings), the tag list with counts, and renaming, on both stores.

use jaryo_client::wire::SearchKindJson;
use jaryo_client::{DocumentListQuery, SearchParams};
use jaryo_testkit::{Backend, TestApp, error_code};
use reqwest::Method;
use serde_json::json;

jaryo_testkit::test_on_both_stores!(a_tag_alone_lists_every_memo_and_document_carrying_it);
async fn a_tag_alone_lists_every_memo_and_document_carrying_it(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let first = app.api.create_memo("3월 #예산 초안").await.unwrap();
    app.api
        .create_memo("#회의 메모, 예산 얘기 없음")
        .await
        .unwrap();
    let promoted = app.api.create_memo("승격할 #예산 메모").await.unwrap();
    let document = app.api.promote_memo(promoted.id).await.unwrap();

    // No words, only a tag (with or without its #): documents first, then memos, newest first.
    for tag in ["예산", "#예산"] {
        let page = app
            .api
            .search(&SearchParams {
                tag: Some(tag.into()),
                ..SearchParams::default()
            })
            .await
            .unwrap();
        let hits: Vec<_> = page.hits.iter().map(|h| (h.kind, h.id)).collect();
        // The promoted memo is listed once, as its document, which names it.
        assert_eq!(
            hits,
            [
                (SearchKindJson::Document, document.id),
                (SearchKindJson::Memo, first.id),
            ]
        );
        assert_eq!(page.hits[0].from_memo, Some(promoted.id));
        assert_eq!(page.hits[1].snippet.text, "3월 #예산 초안");
    }

    // Paged with the cursor it gives, and filtered by kind.
    let first_page = app
        .api
        .search(&SearchParams {
            tag: Some("예산".into()),
            limit: Some(1),
            ..SearchParams::default()
        })
        .await
        .unwrap();
    assert_eq!(first_page.hits.len(), 1);
    let rest = app
        .api
        .search(&SearchParams {
            tag: Some("예산".into()),
            limit: Some(1),
            cursor: first_page.next_cursor.clone(),
            ..SearchParams::default()
        })
        .await
        .unwrap();
    assert_eq!(
        rest.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        [first.id]
    );
    assert_eq!(rest.next_cursor, None);
    let memos_only = app
        .api
        .search(&SearchParams {
            tag: Some("예산".into()),
            kind: Some("memo".into()),
            ..SearchParams::default()
        })
        .await
        .unwrap();
    assert_eq!(memos_only.hits.len(), 1);

    // Neither words nor tag lists everything, the tagged ones among them (the whole
    // behaviour is `api_search`'s `a_search_without_words_browses…`).
    let everything = app.api.search(&SearchParams::default()).await.unwrap();
    assert_eq!(everything.hits.len(), 3, "{everything:?}");

    // The memo and document listings filter by tag too.
    let memos = app
        .api
        .list_memos_tagged(Some("예산"), None, None)
        .await
        .unwrap();
    assert_eq!(
        memos.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        [promoted.id, first.id]
    );
    let meetings = app
        .api
        .list_memos_tagged(Some("#회의"), None, None)
        .await
        .unwrap();
    assert_eq!(meetings.items.len(), 1);
    let documents = app
        .api
        .list_documents(&DocumentListQuery {
            tag: Some("예산".into()),
            ..DocumentListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(documents.items.len(), 1);
    // Text that is no tag is carried by nothing: an empty listing, not an error.
    let none: serde_json::Value = app
        .authed(Method::GET, "/memos?tag=two%20words")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"], json!([]));
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(tags_are_listed_with_counts_and_renamed_in_the_memos);
async fn tags_are_listed_with_counts_and_renamed_in_the_memos(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let budget = app
        .api
        .create_memo("#예산 검토, `#예산` 은 코드")
        .await
        .unwrap();
    let promoted = app
        .api
        .create_memo("승격할 #예산 메모 #회의")
        .await
        .unwrap();
    let document = app.api.promote_memo(promoted.id).await.unwrap();
    app.api.create_memo("#Rust 공부").await.unwrap();

    let tags = app.api.list_tags().await.unwrap().tags;
    let counts: Vec<_> = tags
        .iter()
        .map(|t| (t.tag.as_str(), t.memos, t.documents))
        .collect();
    assert_eq!(counts, [("예산", 2, 1), ("회의", 1, 1), ("rust", 1, 0)]);

    let renamed = app.api.rename_tag("#예산", "재정").await.unwrap();
    assert_eq!((renamed.tag.as_str(), renamed.memos), ("재정", 2));
    let memo = app.api.get_memo(budget.id).await.unwrap();
    assert_eq!(memo.content, "#재정 검토, `#예산` 은 코드");
    assert_eq!(memo.tags, ["재정"]);
    // Found under the new name at once; the document keeps its original words.
    let page = app
        .api
        .search(&SearchParams {
            tag: Some("재정".into()),
            ..SearchParams::default()
        })
        .await
        .unwrap();
    assert_eq!(page.hits.len(), 2);
    let kept = app.api.get_document(document.id).await.unwrap();
    assert_eq!(
        kept.extracted_text.as_deref(),
        Some("승격할 #예산 메모 #회의")
    );

    for body in [
        json!({"from": "예산", "to": "두 낱말"}),
        json!({"from": "", "to": "x"}),
        json!({"from": "예산", "to": "재정", "force": true}),
    ] {
        let response = app
            .authed(Method::POST, "/tags/rename")
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, _, _) = error_code(response).await;
        assert_eq!(status, 422, "{body}");
    }
    app.stop().await;
}
