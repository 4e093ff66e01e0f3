//! Ask in a real headless Chromium: the answer streams in, its citations link to the passages
//! listed beside it, it can be stopped, and a question nothing matches says so — at a
//! desktop's size and a phone's. Each test has its own jaryo and its own browser.

use jaryo_client::wire::NewDocumentInput;
use jaryo_e2e::{Browser, PATIENCE, browser_available, eventually};
use jaryo_testkit::TestApp;
use jaryo_testllm::Reply;
use std::time::Duration;

/// A document and a memo to answer from; the document's id.
async fn seed(app: &TestApp) -> i64 {
    app.api
        .create_memo("장보기: 우유, 계란, 두부 #장보기")
        .await
        .unwrap();
    app.api
        .create_document(&NewDocumentInput {
            title: Some("서버 이전 계획".into()),
            extracted_text: "# 서버 이전 계획\n\n다음 주 화요일 새벽 2시에 axum 서버를 옮긴다. \
                             배포 담당은 민수, 롤백 담당은 지현."
                .into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

/// Asks `question` in the page's ask box.
async fn ask(browser: &Browser, question: &str) {
    browser.fill("#question", question).await;
    browser.click("#ask-submit").await;
}

async fn streams_and_cites(width: u32, height: u32, language: &str, name: &str) {
    let app = TestApp::spawn().await;
    let document = seed(&app).await;
    // Slow enough to watch it arrive piece by piece.
    app.llm.push_reply(
        Reply::text("배포 담당은 **민수**입니다 [1]. 롤백은 지현이 맡습니다 [1].")
            .chunks(12)
            .chunk_delay(Duration::from_millis(150)),
    );
    let browser = Browser::start(language).await;
    browser.client.set_window_size(width, height).await.unwrap();
    browser.sign_in(&app).await;
    browser.goto(&format!("{}/ask", app.url)).await;
    ask(&browser, "서버 배포 담당자는 누구야?").await;

    // While it streams: part of the answer as text, and a way to stop it.
    let partial = eventually("part of the answer", PATIENCE, || async {
        let streaming = browser.eval(
            "const a = document.getElementById('answer'); \
             return a.classList.contains('streaming') && a.textContent.length > 0 \
               && !document.getElementById('ask-stop').hidden ? a.textContent : null;",
        );
        streaming.await.as_str().map(str::to_owned)
    })
    .await;
    assert!(
        "배포 담당은 **민수**입니다 [1]. 롤백은 지현이 맡습니다 [1].".starts_with(&partial),
        "{partial}"
    );
    browser.screenshot(&format!("{name}-streaming")).await;

    // Done: the server's rendering, citations as links to the sources beside it.
    let citation = browser.wait_for("#answer a[href='#source-1']").await;
    assert_eq!(citation.text().await.unwrap(), "[1]");
    assert_eq!(browser.text("#answer strong").await, "민수");
    let source = browser.text("#source-1").await;
    assert!(source.contains("서버 이전 계획"), "{source}");
    assert!(source.contains("배포 담당은 민수"), "{source}");
    let link = browser
        .find("#source-1 a.title")
        .await
        .attr("href")
        .await
        .unwrap();
    assert_eq!(
        link.as_deref(),
        Some(format!("/documents/{document}").as_str())
    );
    assert!(
        browser
            .find("#ask-stop")
            .await
            .attr("hidden")
            .await
            .unwrap()
            .is_some()
    );
    citation.click().await.unwrap();
    let target = browser
        .eval("return document.querySelector(':target')?.id ?? null;")
        .await;
    assert_eq!(target, "source-1");
    // Nothing is wider than the window: no sideways scrolling.
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "page wider than the window by {overflow}"
    );
    browser.screenshot(&format!("{name}-answered")).await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn ask_streams_its_answer_and_links_its_citations_on_a_desktop() {
    if !browser_available() {
        return;
    }
    streams_and_cites(1280, 1000, "en-US", "ask-desktop").await;
}

#[tokio::test]
async fn ask_streams_its_answer_and_links_its_citations_on_a_phone() {
    if !browser_available() {
        return;
    }
    streams_and_cites(390, 844, "ko-KR", "ask-phone").await;
}

#[tokio::test]
async fn ask_stops_when_asked_and_says_when_nothing_matches() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn().await;
    seed(&app).await;
    app.llm.push_reply(
        Reply::text("배포 담당은 민수입니다 [1]. ".repeat(40))
            .chunks(80)
            .chunk_delay(Duration::from_millis(200)),
    );
    let browser = Browser::start("en-US").await;
    browser.sign_in(&app).await;

    // From the search page's box: stopped while it streams, the model's generation too.
    browser
        .goto(&format!("{}/search?q=%EC%84%9C%EB%B2%84", app.url))
        .await;
    browser.wait_for("#question").await;
    ask(&browser, "서버 배포 담당자는 누구야?").await;
    eventually("the answer to start", PATIENCE, || async {
        let text = browser.text("#answer").await;
        (!text.is_empty()).then_some(())
    })
    .await;
    browser.click("#ask-stop").await;
    browser.wait_for_text("#ask-status", "Stopped.").await;
    app.llm
        .wait_for_disconnects(1, PATIENCE)
        .await
        .expect("the model's generation was dropped");
    assert!(
        browser
            .find("#ask-stop")
            .await
            .attr("hidden")
            .await
            .unwrap()
            .is_some()
    );

    // A question nothing in the notes matches: said so, without asking the model.
    let asked = app.llm.request_count();
    ask(&browser, "zzqx nothing like this").await;
    browser
        .wait_for_text(
            "#answer .nothing",
            "Nothing in your notes matches this question.",
        )
        .await;
    assert_eq!(app.llm.request_count(), asked);
    browser.screenshot("ask-nothing-found").await;
    browser.close().await;
    app.stop().await;
}
