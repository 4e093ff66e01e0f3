//! `GET /api/v1/search` over real HTTP on a real SQLite file: Korean and mixed text, ranking,
//! snippets, filters, paging and errors, as a client sees them.

use jaryo_client::SearchParams;
use jaryo_client::wire::{NewDocumentInput, SearchKindJson, SearchPageJson};
use jaryo_testkit::{Backend, TestApp, error_code};
use reqwest::Method;
use unicode_normalization::UnicodeNormalization;

async fn search(app: &TestApp, q: &str) -> SearchPageJson {
    app.api.search(&SearchParams::new(q)).await.expect("search")
}

/// `(kind, id)` of the hits, sorted, for set comparisons.
async fn hit_set(app: &TestApp, q: &str) -> Vec<(SearchKindJson, i64)> {
    let mut hits: Vec<_> = search(app, q)
        .await
        .hits
        .iter()
        .map(|hit| (hit.kind, hit.id))
        .collect();
    hits.sort_by_key(|(kind, id)| (*kind == SearchKindJson::Document, *id));
    hits
}

async fn document(app: &TestApp, title: &str, text: &str) -> i64 {
    app.api
        .create_document(&NewDocumentInput {
            title: Some(title.into()),
            extracted_text: text.into(),
            content_origin: None,
            ..Default::default()
        })
        .await
        .expect("document created")
        .id
}

jaryo_testkit::test_on_both_stores!(
    a_memo_is_found_the_moment_its_create_returns_with_its_match_marked
);
async fn a_memo_is_found_the_moment_its_create_returns_with_its_match_marked(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app
        .api
        .create_memo("주간 회의: axum 서버를 <금요일>에 배포 & 점검")
        .await
        .unwrap();
    let page = search(&app, "서버").await;
    assert_eq!(page.hits.len(), 1);
    let hit = &page.hits[0];
    assert_eq!((hit.kind, hit.id), (SearchKindJson::Memo, memo.id));
    assert!(hit.score > 0.0);
    assert_eq!(hit.title, "주간 회의: axum 서버를 <금요일>에 배포 & 점검");
    assert_eq!(
        hit.snippet.html,
        "주간 회의: axum <mark>서버</mark>를 &lt;금요일&gt;에 배포 &amp; 점검"
    );
    assert_eq!(hit.snippet.marks.len(), 1);
    let mark = hit.snippet.marks[0];
    assert_eq!(&hit.snippet.text[mark.start..mark.end], "서버");
    let range = hit.snippet.range;
    assert_eq!(&memo.content[range.start..range.end], hit.snippet.text);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    korean_words_match_inside_inflected_forms_and_with_english_beside_them
);
async fn korean_words_match_inside_inflected_forms_and_with_english_beside_them(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let inflected = app
        .api
        .create_memo("어제 서버를 재시작했고 오늘은 서버에서 로그를 봤다")
        .await
        .unwrap()
        .id;
    let compound = app
        .api
        .create_memo("웹서버 설정 파일 위치 정리")
        .await
        .unwrap()
        .id;
    let mixed = app
        .api
        .create_memo("Axum으로 만든 API 서버 배포 일정")
        .await
        .unwrap()
        .id;
    let other = app
        .api
        .create_memo("장보기: 우유, 계란, 두부, 집 앞 마트")
        .await
        .unwrap()
        .id;
    let doc = document(
        &app,
        "서버 설정 안내",
        "nginx 설정을 바꾸고 서버를 다시 띄운다.",
    )
    .await;
    use SearchKindJson::{Document, Memo};

    // A two-syllable word inside particles and compounds; the particle itself is not needed.
    assert_eq!(
        hit_set(&app, "서버").await,
        [
            (Memo, inflected),
            (Memo, compound),
            (Memo, mixed),
            (Document, doc)
        ]
    );
    // The query's own particle narrows to texts that have it.
    assert_eq!(
        hit_set(&app, "서버를").await,
        [(Memo, inflected), (Document, doc)]
    );
    // Mixed Korean/English, English in any case, glued to a particle in the text.
    assert_eq!(hit_set(&app, "axum 서버").await, [(Memo, mixed)]);
    assert_eq!(hit_set(&app, "AXUM").await, hit_set(&app, "axum").await);
    // A quoted phrase: the words together, in order, the first ending its word.
    // 웹서버 설정 counts: a phrase's first word may end a longer one.
    assert_eq!(
        hit_set(&app, "\"서버 설정\"").await,
        [(Memo, compound), (Document, doc)]
    );
    // A single syllable finds any word holding it.
    assert_eq!(hit_set(&app, "집").await, [(Memo, other)]);
    // NFD input (macOS) matches NFC text, and the other way round.
    let nfd: String = "재시작".nfd().collect();
    assert_ne!(nfd, "재시작");
    assert_eq!(hit_set(&app, &nfd).await, [(Memo, inflected)]);
    let nfd_memo = app
        .api
        .create_memo(&"맥에서 쓴 메모장".nfd().collect::<String>())
        .await
        .unwrap()
        .id;
    assert_eq!(hit_set(&app, "메모장").await, [(Memo, nfd_memo)]);
    assert!(hit_set(&app, "없는말").await.is_empty());
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(the_phrase_rule_and_quoted_phrases_over_http);
async fn the_phrase_rule_and_quoted_phrases_over_http(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let exact = app.api.create_memo("서버 설정 백업").await.unwrap().id;
    let reversed = app.api.create_memo("설정 서버 백업").await.unwrap().id;
    assert_eq!(
        hit_set(&app, "\"서버 설정\"").await,
        [(SearchKindJson::Memo, exact)]
    );
    assert_eq!(hit_set(&app, "설정 서버").await.len(), 2, "{reversed}");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(deleted_memos_and_documents_are_gone_from_results);
async fn deleted_memos_and_documents_are_gone_from_results(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo("지울 메모: 예산 초안").await.unwrap();
    let doc = document(&app, "지울 문서", "예산 검토 결과").await;
    assert_eq!(search(&app, "예산").await.hits.len(), 2);
    app.api.delete_memo(memo.id).await.unwrap();
    assert_eq!(
        hit_set(&app, "예산").await,
        [(SearchKindJson::Document, doc)]
    );
    app.api.delete_document(doc).await.unwrap();
    assert!(search(&app, "예산").await.hits.is_empty());
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    a_title_match_beats_a_body_match_and_a_dense_short_text_beats_a_long_one
);
async fn a_title_match_beats_a_body_match_and_a_dense_short_text_beats_a_long_one(
    backend: Backend,
) {
    let app = TestApp::spawn_on(backend).await;
    let filler = "회의실 예약과 점심 메뉴를 정리했다. ".repeat(15);
    let body_only = document(&app, "월간 기록", &format!("{filler} 일정 공유.")).await;
    let in_title = document(&app, "일정 정리", &filler).await;
    let page = search(&app, "일정").await;
    let ids: Vec<i64> = page.hits.iter().map(|hit| hit.id).collect();
    assert_eq!(ids, [in_title, body_only]);

    let long = app
        .api
        .create_memo(&format!("{filler} 캐시 이야기 한 줄. {filler}"))
        .await
        .unwrap()
        .id;
    let dense = app
        .api
        .create_memo("캐시 정리: 캐시 크기, 캐시 만료")
        .await
        .unwrap()
        .id;
    let page = search(&app, "캐시").await;
    let ids: Vec<i64> = page.hits.iter().map(|hit| hit.id).collect();
    assert_eq!(ids, [dense, long]);
    assert!(page.hits[0].score > page.hits[1].score);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    a_document_hit_points_at_its_best_chunk_with_the_snippet_inside_it
);
async fn a_document_hit_points_at_its_best_chunk_with_the_snippet_inside_it(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let text = format!(
        "# 개요\n\n{}\n\n## 장애 대응\n\n디스크가 가득 차면 로그를 지우고 서버를 재시작한다.\n",
        "이 문서는 운영 절차를 모은다. ".repeat(60)
    );
    let id = document(&app, "운영 절차", &text).await;
    let page = search(&app, "재시작").await;
    let hit = &page.hits[0];
    assert_eq!(hit.id, id);
    let chunk = hit.chunk.as_ref().expect("document hits carry their chunk");
    assert_eq!(chunk.heading_path, ["개요", "장애 대응"]);
    assert!(chunk.index >= 1);
    let chunk_text = &text[chunk.range.start..chunk.range.end];
    assert!(chunk_text.contains("서버를 재시작한다"), "{chunk_text}");
    assert!(hit.snippet.html.contains("<mark>재시작</mark>"));
    assert!(chunk.range.start <= hit.snippet.range.start);
    assert!(hit.snippet.range.end <= chunk.range.end);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(filters_narrow_by_kind_tag_date_and_draft_state);
async fn filters_narrow_by_kind_tag_date_and_draft_state(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let tagged = app
        .api
        .create_memo("필터 시험 메모 #Project")
        .await
        .unwrap();
    let untagged = app.api.create_memo("필터 시험 두 번째").await.unwrap();
    let promoted = app.api.promote_memo(tagged.id).await.unwrap();
    let direct = document(&app, "필터 시험 문서", "직접 쓴 필터 시험 문서 #project").await;
    use SearchKindJson::{Document, Memo};
    let run = |params: SearchParams| {
        let app = &app;
        async move {
            let mut hits: Vec<_> = app
                .api
                .search(&params)
                .await
                .expect("search")
                .hits
                .iter()
                .map(|hit| (hit.kind, hit.id))
                .collect();
            hits.sort_by_key(|(kind, id)| (*kind == Document, *id));
            hits
        }
    };
    let base = SearchParams::new("필터 시험");
    // The promoted memo is found as its document.
    assert_eq!(
        run(SearchParams {
            kind: Some("memo".into()),
            ..base.clone()
        })
        .await,
        [(Memo, untagged.id)]
    );
    assert_eq!(
        run(SearchParams {
            tag: Some("#PROJECT".into()),
            ..base.clone()
        })
        .await,
        [(Document, promoted.id), (Document, direct)]
    );
    // The promoted document's draft is queued (and the worker may already hold it); the
    // directly written one never had a draft.
    assert_eq!(
        run(SearchParams {
            draft_state: Some("none".into()),
            ..base.clone()
        })
        .await,
        [(Document, direct)]
    );
    let today = tagged.created_at.date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    assert_eq!(
        run(SearchParams {
            from: Some(day(today)),
            to: Some(day(today)),
            ..base.clone()
        })
        .await
        .len(),
        3
    );
    assert!(
        run(SearchParams {
            from: Some(day(today.succ_opt().unwrap())),
            ..base.clone()
        })
        .await
        .is_empty()
    );
    assert!(
        run(SearchParams {
            to: Some(day(today.pred_opt().unwrap())),
            ..base.clone()
        })
        .await
        .is_empty()
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(pages_follow_the_cursor_through_every_hit_once);
async fn pages_follow_the_cursor_through_every_hit_once(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut created = Vec::new();
    for i in 0..23 {
        let text = format!("페이지 시험 {}", "반복 ".repeat(i % 5 + 1));
        created.push(app.api.create_memo(&text).await.unwrap().id);
    }
    let mut seen = Vec::new();
    let mut params = SearchParams {
        limit: Some(10),
        ..SearchParams::new("페이지")
    };
    let mut pages = 0;
    loop {
        let page = app.api.search(&params).await.unwrap();
        pages += 1;
        seen.extend(page.hits.iter().map(|hit| hit.id));
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    seen.sort_unstable();
    created.sort_unstable();
    assert_eq!(seen, created);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(bad_queries_are_422_and_bad_filters_400);
async fn bad_queries_are_422_and_bad_filters_400(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let long = "가".repeat(400);
    for (query, status, code) in [
        (&format!("/search?q={long}") as &str, 422, "invalid_input"),
        ("/search?q=x&kind=note", 400, "invalid_query"),
        ("/search?q=x&limit=0", 400, "invalid_query"),
        ("/search?q=x&limit=201", 400, "invalid_query"),
        ("/search?q=x&from=yesterday", 400, "invalid_query"),
        ("/search?q=x&to=2026-13-01", 400, "invalid_query"),
        ("/search?q=x&draft_state=maybe", 400, "invalid_query"),
        ("/search?q=x&cursor=abc", 400, "invalid_query"),
    ] {
        let response = app.authed(Method::GET, query).send().await.unwrap();
        let (got_status, got_code, body) = error_code(response).await;
        assert_eq!((got_status, got_code.as_str()), (status, code), "{query}");
        if status == 422 {
            assert_eq!(body["error"]["field"], "q", "{query}");
        }
    }
    let response = app
        .http
        .get(app.api_url("/search?q=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    a_search_without_words_browses_and_a_tag_no_item_can_carry_lists_nothing
);
/// A search box left empty (or holding only punctuation) lists what the filters match, newest
/// first, documents before memos; `?tag=` text that is no tag is an empty listing on every
/// route that filters by tag, not an error.
async fn a_search_without_words_browses_and_a_tag_no_item_can_carry_lists_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn_on(backend).await;
    let older = app.api.create_memo("장보기 목록 #집").await.unwrap().id;
    let newer = app.api.create_memo("Weekly sync notes").await.unwrap().id;
    let doc = document(&app, "예산 계획", "내년 예산 초안 #집").await;
    for query in ["/search", "/search?q=", "/search?q=%21%21%20..."] {
        let page: SearchPageJson = app.get_json(query).await;
        let listed: Vec<(SearchKindJson, i64)> =
            page.hits.iter().map(|hit| (hit.kind, hit.id)).collect();
        assert_eq!(
            listed,
            [
                (SearchKindJson::Document, doc),
                (SearchKindJson::Memo, newer),
                (SearchKindJson::Memo, older)
            ],
            "{query}"
        );
    }
    let page: SearchPageJson = app.get_json("/search?kind=memo&tag=%EC%A7%91").await;
    let listed: Vec<i64> = page.hits.iter().map(|hit| hit.id).collect();
    assert_eq!(listed, [older]);

    for query in [
        "/search?q=%EC%98%88%EC%82%B0&tag=two%20words",
        "/search?tag=%23%23",
        "/memos?tag=two%20words",
        "/documents?tag=123",
    ] {
        let response = app.authed(Method::GET, query).send().await.unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        let items = body.get("hits").or(body.get("items")).unwrap();
        assert_eq!(items.as_array().map(Vec::len), Some(0), "{query}: {body}");
        assert!(body["next_cursor"].is_null(), "{query}: {body}");
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(the_openapi_document_describes_search);
async fn the_openapi_document_describes_search(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let doc: serde_json::Value = app
        .authed(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let search = &doc["paths"]["/api/v1/search"]["get"];
    let params: Vec<&str> = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "q",
        "kind",
        "tag",
        "from",
        "to",
        "draft_state",
        "limit",
        "cursor",
    ] {
        assert!(params.contains(&name), "{name} in {params:?}");
    }
    assert!(doc["components"]["schemas"]["SearchHitJson"].is_object());
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    what_a_person_reads_is_found_once_accents_folded_and_prefixes_allowed
);
/// A promoted memo is one hit (its document, naming the memo); an accepted, edited draft
/// finds its document by words only it holds, with the snippet from it; `cafe` finds `café`
/// and `back*` finds `backup`.
async fn what_a_person_reads_is_found_once_accents_folded_and_prefixes_allowed(backend: Backend) {
    use jaryo_client::wire::{AcceptDraftInput, SnippetSourceJson};
    let app = TestApp::spawn_on(backend).await;
    let memo = app
        .api
        .create_memo("주간 회의: 배포 일정과 담당자 정하기")
        .await
        .unwrap();
    let id = app.api.promote_memo(memo.id).await.unwrap().id;
    let page = search(&app, "담당자").await;
    assert_eq!(page.hits.len(), 1, "{:?}", page.hits);
    assert_eq!(
        (page.hits[0].kind, page.hits[0].id),
        (SearchKindJson::Document, id)
    );
    assert_eq!(page.hits[0].from_memo, Some(memo.id));
    assert_eq!(page.hits[0].snippet_source, SnippetSourceJson::Original);

    let draft = app
        .wait_for_document(id, std::time::Duration::from_secs(20), |d| {
            d.md_draft_status == Some(jaryo_domain::MdDraftStatus::Draft)
                && d.draft.state == jaryo_domain::DraftState::Done
        })
        .await;
    app.api
        .accept_draft(
            draft.id,
            &AcceptDraftInput {
                md_content: Some("# 주간 회의\n\n- 배포: 금요일 café backup\n- 담당: 민지".into()),
                version: Some(draft.version),
            },
        )
        .await
        .unwrap();
    for query in ["민지", "cafe", "CAFÉ", "back*"] {
        let page = search(&app, query).await;
        assert_eq!(page.hits.len(), 1, "{query}: {:?}", page.hits);
        let hit = &page.hits[0];
        assert_eq!(
            (hit.kind, hit.id),
            (SearchKindJson::Document, id),
            "{query}"
        );
        assert_eq!(
            hit.snippet_source,
            SnippetSourceJson::AcceptedMarkdown,
            "{query}"
        );
        assert!(hit.chunk.is_none(), "{query}");
        assert!(
            hit.snippet.html.contains("<mark>"),
            "{query}: {}",
            hit.snippet.html
        );
    }
    assert!(search(&app, "backups").await.hits.is_empty(), "no stemming");
    app.stop().await;
}
