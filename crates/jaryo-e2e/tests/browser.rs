//! jaryo's web UI in a real headless Chromium: what a person does, end to end, against a real
//! jaryo (port 0, fresh data directory) drafting with the test model server. Each test has its
//! own app and its own browser; waits poll with a deadline. Screenshots of each page go to
//! `target/screenshots/`.

use jaryo_e2e::{Browser, PATIENCE, browser_available, eventually};
use jaryo_testkit::TestApp;
use jaryo_testllm::Reply;
use std::time::Duration;

/// Promotes a memo over the API and waits for its draft.
async fn drafted_document(app: &TestApp, text: &str) -> i64 {
    let memo = app.api.create_memo(text).await.unwrap();
    let id = app.api.promote_memo(memo.id).await.unwrap().id;
    app.wait_for_document(id, PATIENCE, |d| {
        d.md_draft_status == Some(jaryo_domain::MdDraftStatus::Draft)
    })
    .await;
    id
}

#[tokio::test]
async fn capture_a_korean_memo_promote_it_and_watch_the_draft_arrive() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    // The model takes a moment, so the page first shows the draft on its way.
    app.llm.set_handler(|request| {
        jaryo_testkit::echo_memo(request).generation_time(Duration::from_millis(1500))
    });
    let browser = Browser::start("en-US").await;

    // A wrong token is refused, the right one signs in.
    browser.goto(&format!("{}/memos", app.url)).await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.screenshot("sign-in").await;
    browser.fill("#token", "wrong").await;
    browser
        .click("form[action='/sign-in'] button[type=submit]")
        .await;
    browser.wait_for("p.error[role=alert]").await;
    browser.sign_in(&app).await;

    // Enter saves the memo (Shift+Enter would add a line).
    let memo = "주간 회의: axum 서버 배포는 다음 주 화요일, 담당은 민수 #회의";
    browser.fill("#capture-text", memo).await;
    browser
        .find("#capture-text")
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap();
    let card = browser
        .wait_for_text("article.memo", "axum 서버 배포")
        .await;
    assert!(card.text().await.unwrap().contains("#회의"));
    let stored = app.api.list_memos(None, None).await.unwrap().items;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].content, memo);
    browser.screenshot("memos").await;

    // Send it to the library: the document page shows the draft on its way, then the draft,
    // without anyone reloading the page.
    browser.click("article.memo button.promote").await;
    browser.wait_for("#draft-badge").await;
    let waiting = browser.text("#draft-badge").await;
    assert!(
        ["Waiting", "Drafting"].contains(&waiting.as_str()),
        "badge before the draft: {waiting}"
    );
    browser.wait_for_text("#draft-badge", "Draft ready").await;
    let draft = browser.text("#draft").await;
    assert!(draft.contains("axum 서버 배포"), "{draft}");
    assert!(browser.text("#original").await.contains("담당은 민수"));
    browser.screenshot("document-draft").await;

    // The library lists it with its badge.
    browser.goto(&format!("{}/library", app.url)).await;
    browser
        .wait_for_text(".documents .badge", "Draft ready")
        .await;
    browser.close().await;
    app.stop().await;
}

/// A structured draft with two facts the memo does not contain, for the fidelity highlights.
fn embellishing_model(request: &jaryo_testllm::RecordedRequest) -> Reply {
    let prompt = request.last_user_message().unwrap_or_default();
    if prompt.contains("장보기") {
        return Reply::text("# 장보기\n\n- 우유\n- 계란\n- 두부");
    }
    if prompt.contains("예산") {
        return Reply::text("# 예산 검토\n\n- 다음 달 예산 초안 검토\n- 항목별 비용 정리");
    }
    Reply::text(
        "# 주간 회의\n\n- axum 서버 배포: 다음 주 화요일\n- 담당: 민수, Kim 팀장\n- 시간: 오후 3시",
    )
}

#[tokio::test]
async fn review_accept_edit_then_accept_and_reject_in_the_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    app.llm.set_handler(embellishing_model);
    let meeting = drafted_document(
        &app,
        "주간 회의: axum 서버 배포는 다음 주 화요일, 담당은 민수",
    )
    .await;
    let shopping = drafted_document(&app, "장보기 목록 - 우유, 계란, 두부 사 오기").await;
    let budget =
        drafted_document(&app, "예산 메모: 다음 달 예산 초안을 검토하고 비용을 정리").await;
    let browser = Browser::start("en-US").await;
    browser.sign_in(&app).await;

    // The flagged draft: side by side, the diff, and the facts the memo does not contain.
    browser
        .goto(&format!("{}/documents/{meeting}", app.url))
        .await;
    browser
        .wait_for_text("#draft-badge", "Needs attention")
        .await;
    let findings: Vec<String> = {
        let mut texts = Vec::new();
        for mark in browser
            .client
            .find_all(fantoccini::Locator::Css("#diff-draft mark.finding"))
            .await
            .unwrap()
        {
            texts.push(mark.text().await.unwrap());
        }
        texts
    };
    assert!(findings.iter().any(|f| f.contains("Kim")), "{findings:?}");
    assert!(browser.text("#diff-draft").await.contains("오후 3시"));
    browser.screenshot("document-review").await;
    browser.click("#accept").await;
    browser.wait_for_text("#draft-badge", "Accepted").await;
    assert!(browser.text(".history").await.contains("Accepted"));
    let accepted = app.api.get_document(meeting).await.unwrap();
    assert_eq!(
        accepted.md_draft_status,
        Some(jaryo_domain::MdDraftStatus::Accepted)
    );
    assert_eq!(accepted.source_metadata["review_history"][0]["by"], "web");

    // Edit, then accept: the edited text becomes the document's Markdown.
    browser
        .goto(&format!("{}/documents/{shopping}", app.url))
        .await;
    browser.click("#edit-draft summary").await;
    browser
        .fill("#edited-text", "# 장보기\n\n- 우유 1리터\n- 계란\n- 두부")
        .await;
    browser.click("#accept-edited").await;
    browser.wait_for_text("#draft-badge", "Accepted").await;
    assert!(browser.text("#draft").await.contains("우유 1리터"));
    assert!(browser.text(".history").await.contains("edited"));
    let edited = app.api.get_document(shopping).await.unwrap();
    assert_eq!(
        edited.md_content.as_deref(),
        Some("# 장보기\n\n- 우유 1리터\n- 계란\n- 두부")
    );
    assert_eq!(
        edited.extracted_text.as_deref(),
        Some("장보기 목록 - 우유, 계란, 두부 사 오기")
    );

    // Reject: the draft stays visible, marked rejected.
    browser
        .goto(&format!("{}/documents/{budget}", app.url))
        .await;
    browser.click("#reject").await;
    browser.wait_for_text("#draft-badge", "Rejected").await;
    assert!(browser.text("#draft").await.contains("항목별 비용 정리"));
    assert_eq!(
        app.api.get_document(budget).await.unwrap().md_draft_status,
        Some(jaryo_domain::MdDraftStatus::Rejected)
    );

    // The library shows each state, and filters by it.
    browser.goto(&format!("{}/library", app.url)).await;
    browser.wait_for_text(".documents .badge", "Rejected").await;
    browser.screenshot("library").await;
    browser
        .goto(&format!("{}/library?state=accepted", app.url))
        .await;
    let listed = browser.text(".documents").await;
    assert!(
        listed.contains("주간 회의") && listed.contains("장보기"),
        "{listed}"
    );
    assert!(!listed.contains("예산"), "{listed}");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_failed_draft_shows_why_and_retry_drafts_it_again() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn_with(|config| config.draft.max_attempts = 1).await;
    app.llm
        .set_handler(|_| Reply::http_error(500, "the model crashed"));
    let memo = app
        .api
        .create_memo("실패할 메모: 모델 서버가 오류를 냅니다")
        .await
        .unwrap();
    let id = app.api.promote_memo(memo.id).await.unwrap().id;
    app.wait_for_document(id, PATIENCE, |d| {
        d.draft.state == jaryo_domain::DraftState::Failed
    })
    .await;
    let browser = Browser::start("en-US").await;
    browser.sign_in(&app).await;

    browser.goto(&format!("{}/status", app.url)).await;
    browser.wait_for_text("#failures", "실패할 메모").await;
    browser.screenshot("status").await;

    browser
        .goto(&format!("{}/library?state=failed", app.url))
        .await;
    let row = browser.wait_for_text(".documents li", "실패할 메모").await;
    assert!(row.text().await.unwrap().contains("Failed"));
    assert!(browser.text(".failure .error").await.contains("500"));
    browser.screenshot("library-failed").await;

    // The model is fixed; retry, and the badge turns into a draft without a reload.
    app.llm.set_handler(jaryo_testkit::echo_memo);
    browser.click(".failure button.retry").await;
    browser
        .wait_for_text(&format!("#document-{id} .badge"), "Draft ready")
        .await;
    let document = app.api.get_document(id).await.unwrap();
    assert_eq!(document.draft.state, jaryo_domain::DraftState::Done);
    assert_eq!(
        document.source_metadata["review_history"][0]["action"],
        "retry"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn search_finds_the_memo_with_a_highlighted_snippet() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    for text in [
        "주간 회의 일정: 화요일 10시, 배포 검토 #회의",
        "장보기: 우유, 계란, 두부",
        "axum 서버 회의록 정리 #회의",
    ] {
        app.api.create_memo(text).await.unwrap();
    }
    let browser = Browser::start("en-US").await;
    browser.sign_in(&app).await;
    browser.goto(&format!("{}/search", app.url)).await;
    browser.fill("#q", "회의").await;
    browser.click("form.search button[type=submit]").await;
    browser.wait_for(".hits .hit").await;
    let hits = browser
        .client
        .find_all(fantoccini::Locator::Css(".hits .hit"))
        .await
        .unwrap();
    assert_eq!(hits.len(), 2, "two memos mention 회의");
    let marks = browser
        .client
        .find_all(fantoccini::Locator::Css(".hits .snippet mark"))
        .await
        .unwrap();
    assert!(!marks.is_empty());
    assert_eq!(marks[0].text().await.unwrap(), "회의");
    assert!(!browser.text(".hits").await.contains("장보기"));
    browser.screenshot("search").await;
    // A hit opens the memo.
    browser.click(".hits .hit a.title").await;
    browser.wait_for_text("article.memo", "회의").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_language_follows_the_browser_and_the_switch() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    app.api
        .create_memo("오늘 읽은 책: 데이터베이스 내부 구조 #독서")
        .await
        .unwrap();
    let browser = Browser::start("en-US").await;
    browser.sign_in(&app).await;
    assert_eq!(browser.text(".top nav a[href='/memos']").await, "Memos");
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "en"
    );
    browser.click("#lang-switch").await;
    browser
        .wait_for_text(".top nav a[href='/memos']", "메모")
        .await;
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "ko"
    );
    assert!(
        browser
            .text("button.promote")
            .await
            .contains("자료로 보내기")
    );
    browser.screenshot("memos-ko").await;
    // The choice sticks on other pages.
    browser.goto(&format!("{}/library", app.url)).await;
    assert_eq!(browser.text(".top nav a[href='/library']").await, "자료실");
    browser.click("#lang-switch").await;
    browser
        .wait_for_text(".top nav a[href='/library']", "Library")
        .await;
    assert_eq!(browser.path().await, "/library");
    browser.close().await;

    // A Korean browser gets Korean from the start, the sign-in page included.
    let korean = Browser::start("ko-KR").await;
    korean.goto(&format!("{}/sign-in", app.url)).await;
    assert!(korean.text("h2").await.contains("로그인"));
    korean.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_xss_payload_in_a_memo_or_a_model_answer_never_runs() {
    if !browser_available() {
        return;
    }
    const PAYLOAD: &str = "위험한 메모 <script>window.__pwned = 'script'</script>\n\n\
        <img src=x onerror=\"window.__pwned = 'img'\">\n\n\
        [눌러 보세요](javascript:window.__pwned='link') \
        <a href=\"javascript:window.__pwned='a'\">링크</a> \
        <svg onload=\"window.__pwned = 'svg'\"></svg>";
    let app = TestApp::spawn().await;
    // The model answers with a payload of its own.
    app.llm.set_handler(|_| {
        Reply::text(
            "# 초안\n\n<script>window.__pwned = 'model'</script>\n\n\
             <img src=x onerror=\"window.__pwned = 'model-img'\">\n\n\
             [링크](javascript:window.__pwned='model-link')",
        )
    });
    let memo = app.api.create_memo(PAYLOAD).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap().id;
    app.wait_for_document(document, PATIENCE, |d| d.md_content.is_some())
        .await;
    let browser = Browser::start("en-US").await;
    browser.sign_in(&app).await;

    for page in [
        "/memos".to_owned(),
        format!("/memos/{}", memo.id),
        format!("/documents/{document}"),
        "/search?q=위험한".to_owned(),
        "/library".to_owned(),
    ] {
        browser.goto(&format!("{}{page}", app.url)).await;
        browser.wait_for("main").await;
        // Give any handler that could fire (an image error, an SVG load) the chance to.
        eventually("the page to finish loading", PATIENCE, || async {
            (browser.eval("return document.readyState").await == "complete").then_some(())
        })
        .await;
        let state = browser
            .eval(
                "return { pwned: window.__pwned === undefined ? null : String(window.__pwned), \
                 scripts: Array.from(document.scripts).filter(s => !s.src).length, \
                 js_links: document.querySelectorAll('a[href^=\"javascript\" i]').length, \
                 handlers: document.querySelectorAll('[onerror], [onload], [onclick]').length }",
            )
            .await;
        assert_eq!(state["pwned"], serde_json::Value::Null, "{page}: {state}");
        assert_eq!(state["scripts"], 0, "{page}: inline script in the DOM");
        assert_eq!(state["js_links"], 0, "{page}: javascript: link");
        assert_eq!(state["handlers"], 0, "{page}: event handler attribute");
    }
    // On the document page the payloads are shown as text in the diff, escaped.
    browser
        .goto(&format!("{}/documents/{document}", app.url))
        .await;
    let shown = browser.text("#diff-draft").await;
    assert!(
        shown.contains("<script>window.__pwned = 'model'</script>"),
        "{shown}"
    );
    let original = browser.text(".diff-old").await;
    assert!(
        original.contains("onerror=\"window.__pwned = 'img'\""),
        "{original}"
    );
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn memos_are_edited_and_deleted_from_the_timeline() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    let memo = app.api.create_memo("고칠 메모 #할일").await.unwrap();
    let browser = Browser::start("en-US").await;
    browser.sign_in(&app).await;
    browser
        .click(&format!("#memo-{} a[href$='/edit']", memo.id))
        .await;
    browser
        .fill("textarea[name=content]", "고친 메모 #완료")
        .await;
    browser.click("form.capture button[type=submit]").await;
    browser.wait_for_text("article.memo", "고친 메모").await;
    assert_eq!(app.api.get_memo(memo.id).await.unwrap().tags, ["완료"]);
    browser
        .click(&format!("#memo-{} form[action$='/delete'] button", memo.id))
        .await;
    // The script asks first; the person confirms.
    browser.client.accept_alert().await.unwrap();
    browser.wait_for(".timeline .empty").await;
    assert!(app.api.get_memo(memo.id).await.is_err());
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn on_a_phone_a_memo_shows_its_words_wraps_and_its_tag_chip_lists_the_tag() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    let long_url = format!(
        "https://example.com/{}",
        "segment_without_breaks".repeat(12)
    );
    let memo = app
        .api
        .create_memo(&format!(
            "레이아웃은 <div> 대신 <section>을 쓰자 #예산\n둘째 줄의 주소 {long_url}"
        ))
        .await
        .unwrap();
    let other = app.api.create_memo("다른 #예산 메모").await.unwrap();
    app.api.create_memo("태그 없는 메모").await.unwrap();
    let browser = Browser::start("ko-KR").await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.sign_in(&app).await;

    // The words as written (angle brackets and all), on two lines, the address a link.
    let card = format!("#memo-{} .md", memo.id);
    let shown = browser.text(&card).await;
    assert!(
        shown.contains("레이아웃은 <div> 대신 <section>을 쓰자 #예산\n둘째 줄의 주소"),
        "{shown:?}"
    );
    let link = browser.find(&format!("{card} a")).await;
    assert_eq!(
        link.attr("href").await.unwrap().as_deref(),
        Some(long_url.as_str())
    );
    // Nothing is wider than the phone's screen: no sideways scrolling.
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways by {overflow}"
    );
    browser.screenshot("phone-memos").await;

    // The tag chip lists everything carrying the tag, and only that.
    browser.click(&format!("#memo-{} a.tag", memo.id)).await;
    browser.wait_for("ol.hits li.hit").await;
    let hits = browser.text("ol.hits").await;
    assert!(hits.contains("레이아웃은"), "{hits}");
    assert!(hits.contains("다른 #예산 메모"), "{hits}");
    assert!(!hits.contains("태그 없는 메모"), "{hits}");
    assert!(browser.text("h1.tagged").await.contains("#예산"));
    let _ = other;
    browser.screenshot("phone-tag-listing").await;

    // The tag list, with its counts.
    browser.goto(&format!("{}/tags", app.url)).await;
    let tags = browser.text("ul.tag-list").await;
    assert!(tags.contains("#예산") && tags.contains("메모 2"), "{tags}");
    browser.screenshot("phone-tags").await;
    browser.close().await;
    app.stop().await;
}
