//! The web UI's security over plain HTTP (no browser): sign-in and sessions, CSRF, the
//! Content-Security-Policy, and that the UI and the API keep their own credentials.

use jaryo_testkit::{Backend, TestApp};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use secrecy::ExposeSecret;

/// A client that keeps the session cookie by hand and never follows redirects.
struct Web {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

impl Web {
    fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.url.clone(),
            cookie: None,
        }
    }

    fn keep_cookie(&mut self, response: &reqwest::Response) {
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let set = set.to_str().unwrap();
            if set.starts_with("jaryo_session=") {
                self.cookie = Some(set.split(';').next().unwrap().to_owned());
            }
        }
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        self.keep_cookie(&response);
        response
    }

    async fn sign_in(&mut self, token: &str) -> reqwest::Response {
        let html = self.get("/sign-in").await.text().await.unwrap();
        let csrf = csrf_of(&html);
        self.post(
            "/sign-in",
            &[("csrf", &csrf), ("token", token), ("next", "/library")],
        )
        .await
    }
}

jaryo_testkit::test_on_both_stores!(pages_need_a_session_from_the_token_and_sign_out_ends_it);
async fn pages_need_a_session_from_the_token_and_sign_out_ends_it(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    let response = web.get("/memos").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/sign-in?next=/memos");

    let wrong = web.sign_in("not-the-token").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().await.unwrap().contains("role=\"alert\""));

    let signed_in = web.sign_in(app.token.expose_secret()).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()[LOCATION], "/library");
    let set_cookie = signed_in.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let page = web.get("/memos").await;
    assert_eq!(page.status(), 200);
    let session = web.cookie.clone().unwrap();

    // The session is not an API credential, and the API token is not a UI session.
    let api = web
        .http
        .get(format!("{}/api/v1/memos", app.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);

    let html = page.text().await.unwrap();
    let out = web.post("/sign-out", &[("csrf", &csrf_of(&html))]).await;
    assert_eq!(out.status(), 303);
    // The old cookie no longer opens pages, even if someone kept a copy.
    web.cookie = Some(session);
    assert_eq!(web.get("/memos").await.status(), 303);
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(every_form_needs_the_sessions_csrf_token_and_our_origin);
async fn every_form_needs_the_sessions_csrf_token_and_our_origin(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let html = web.get("/memos").await.text().await.unwrap();
    let csrf = csrf_of(&html);

    let missing = web.post("/memos", &[("content", "토큰 없는 메모")]).await;
    assert_eq!(missing.status(), 403);
    let forged = web
        .post("/memos", &[("csrf", "0000"), ("content", "위조된 메모")])
        .await;
    assert_eq!(forged.status(), 403);
    // Another site's page posting with a stolen token is refused by its Origin.
    let cross_site = web
        .http
        .post(format!("{}/memos", app.url))
        .header(COOKIE, web.cookie.clone().unwrap())
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("content", "다른 사이트")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert!(
        app.api
            .list_memos(None, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let saved = web
        .post("/memos", &[("csrf", &csrf), ("content", "진짜 메모 #태그")])
        .await;
    assert_eq!(saved.status(), 303);
    let memos = app.api.list_memos(None, None).await.unwrap().items;
    assert_eq!(memos.len(), 1);
    assert_eq!(memos[0].content, "진짜 메모 #태그");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(pages_forbid_inline_script_and_embed_their_assets);
async fn pages_forbid_inline_script_and_embed_their_assets(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    app.api
        .create_memo("<script>alert(1)</script> 메모")
        .await
        .unwrap();
    for path in [
        "/memos",
        "/library",
        "/search?q=메모",
        "/status",
        "/sign-in",
    ] {
        let response = web.get(path).await;
        assert!(
            response.status() == 200 || response.status() == 303,
            "{path}: {}",
            response.status()
        );
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let html = response.text().await.unwrap();
        // Every script is a file of ours; none is inline.
        for (at, _) in html.match_indices("<script") {
            let tag = &html[at..at + html[at..].find('>').unwrap()];
            assert!(
                tag.contains("src=\"/assets/app.js"),
                "{path}: inline script {tag}"
            );
        }
    }
    let css = web.get("/assets/app.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let js = web.get("/assets/app.js").await;
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    the_memo_edit_form_carries_the_version_so_a_second_tab_cannot_overwrite
);
async fn the_memo_edit_form_carries_the_version_so_a_second_tab_cannot_overwrite(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let memo = app.api.create_memo("장보기: 우유").await.unwrap();
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let edit = format!("/memos/{}/edit", memo.id);
    // Two tabs open the edit form.
    let first_tab = web.get(&edit).await.text().await.unwrap();
    let second_tab = web.get(&edit).await.text().await.unwrap();
    assert!(
        first_tab.contains("<input type=\"hidden\" name=\"version\" value=\"1\">"),
        "{first_tab}"
    );
    let version_of = |html: &str| {
        let at = html.find("name=\"version\" value=\"").unwrap() + 22;
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    let saved = web
        .post(
            &edit,
            &[
                ("csrf", &csrf_of(&first_tab)),
                ("content", "장보기: 우유, 계란"),
                ("version", &version_of(&first_tab)),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let refused = web
        .post(
            &edit,
            &[
                ("csrf", &csrf_of(&second_tab)),
                ("content", "장보기: 두부"),
                ("version", &version_of(&second_tab)),
            ],
        )
        .await;
    assert_eq!(refused.status(), 409);
    let kept = app.api.get_memo(memo.id).await.unwrap();
    assert_eq!(
        (kept.content.as_str(), kept.version),
        ("장보기: 우유, 계란", 2)
    );
    app.stop().await;
}

/// `(status, content type, body)` of a page.
async fn page(web: &mut Web, path: &str) -> (u16, String, String) {
    let response = web.get(path).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

jaryo_testkit::test_on_both_stores!(a_persons_words_are_shown_as_written_with_breaks_and_links);
async fn a_persons_words_are_shown_as_written_with_breaks_and_links(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let text = "레이아웃은 <div> 대신 <section>을 쓰자\n두 번째 줄 https://example.com/a/very/long/path_with_no_spaces_at_all?x=1에서";
    let memo = app.api.create_memo(text).await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    for path in [
        format!("/memos/{}", memo.id),
        format!("/documents/{}", document.id),
    ] {
        let (status, _, html) = page(&mut web, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains("레이아웃은 &lt;div&gt; 대신 &lt;section&gt;을 쓰자<br>"),
            "{path}: {html}"
        );
        assert!(
            html.contains(
                "<a href=\"https://example.com/a/very/long/path_with_no_spaces_at_all?x=1\" \
                 rel=\"noopener noreferrer nofollow\">"
            ),
            "{path}: {html}"
        );
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(every_error_a_browser_meets_is_a_page_in_its_language);
async fn every_error_a_browser_meets_is_a_page_in_its_language(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    // No Accept-Language: Korean, the default.
    for (path, status) in [
        ("/memos/abc", 404),
        ("/memos/987654", 404),
        ("/documents/abc", 404),
        ("/memos/abc/edit", 404),
        ("/memos?before=abc", 400),
        ("/library?state=nonsense", 400),
    ] {
        let (got, content_type, html) = page(&mut web, path).await;
        assert_eq!(got, status, "{path}: {html}");
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert!(html.contains("/assets/app.css"), "{path}: styled: {html}");
        assert!(html.contains("lang=\"ko\""), "{path}: {html}");
        assert!(html.contains("문제가 생겼습니다"), "{path}: {html}");
    }
    // The API's name for the "needs attention" filter works in the library's address.
    let (status, _, _) = page(&mut web, "/library?state=needs_attention").await;
    assert_eq!(status, 200);

    // An unknown address: a page for a browser (in its language), JSON for programs and for
    // everything under /api.
    let browser = |path: &str, lang: &str| {
        reqwest::Client::new()
            .get(format!("{}{path}", app.url))
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .header("accept-language", lang)
    };
    let response = browser("/no/such/page", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("Nothing here."), "{html}");
    assert!(html.contains("/assets/app.css"), "{html}");
    let html = browser("/no/such/page", "ko-KR")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("찾는 것이 없습니다"), "{html}");
    let api = browser("/api/v1/no-such-route", "ko").send().await.unwrap();
    assert_eq!(api.status(), 404);
    assert!(
        api.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let program = reqwest::get(format!("{}/no/such/page", app.url))
        .await
        .unwrap();
    assert!(
        program.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // The site has an icon.
    let icon = reqwest::get(format!("{}/favicon.ico", app.url))
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    a_tag_chip_lists_everything_with_the_tag_and_tags_can_be_renamed
);
async fn a_tag_chip_lists_everything_with_the_tag_and_tags_can_be_renamed(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let memo = app.api.create_memo("4월 #예산 회의").await.unwrap();
    let promoted = app.api.create_memo("문서로 보낼 #예산 메모").await.unwrap();
    let document = app.api.promote_memo(promoted.id).await.unwrap();

    // The chip on the memo's card links to the tag's listing, which holds both.
    let (_, _, html) = page(&mut web, &format!("/memos/{}", memo.id)).await;
    let chip = "href=\"/search?tag=%EC%98%88%EC%82%B0\"";
    assert!(html.contains(chip), "{html}");
    let (status, _, html) = page(&mut web, "/search?tag=%EC%98%88%EC%82%B0").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("href=\"/memos/{}\"", memo.id)),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/documents/{}\"", document.id)),
        "{html}"
    );

    // The tag list counts them and renames.
    let (status, _, html) = page(&mut web, "/tags").await;
    assert_eq!(status, 200);
    assert!(html.contains("#예산"), "{html}");
    assert!(html.contains("메모 2 · 자료 1"), "{html}");
    let csrf = csrf_of(&html);
    let renamed = web
        .post(
            "/tags/rename",
            &[("csrf", &csrf), ("from", "예산"), ("to", "#재정")],
        )
        .await;
    assert_eq!(renamed.status(), 303);
    assert_eq!(
        app.api.get_memo(memo.id).await.unwrap().content,
        "4월 #재정 회의"
    );
    let (_, _, html) = page(&mut web, "/tags").await;
    assert!(html.contains("#재정"), "{html}");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    the_korean_review_page_says_findings_in_words_and_numbers_history_in_order
);
async fn the_korean_review_page_says_findings_in_words_and_numbers_history_in_order(
    backend: Backend,
) {
    let app = TestApp::spawn_on(backend).await;
    // The model adds a phone number the memo does not have: a finding.
    app.llm.set_handler(|_| {
        jaryo_testllm::Reply::text(
            "회의는 다음 주 화요일 오후 세 시, 장소는 본관 회의실. 연락처 010-1234-5678",
        )
    });
    let memo = app
        .api
        .create_memo("회의는 다음 주 화요일 오후 세 시, 장소는 본관 회의실")
        .await
        .unwrap();
    let id = app.api.promote_memo(memo.id).await.unwrap().id;
    let drafted = app
        .wait_for_document(id, std::time::Duration::from_secs(20), |d| {
            d.md_draft_status == Some(jaryo_domain::MdDraftStatus::Draft)
        })
        .await;
    assert!(drafted.draft.needs_attention, "{drafted:?}");
    app.api.redraft_document(id).await.unwrap();
    app.wait_for_document(id, std::time::Duration::from_secs(20), |d| {
        d.draft.state == jaryo_domain::DraftState::Done
    })
    .await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let (_, _, html) = page(&mut web, &format!("/documents/{id}")).await;
    // The finding's kind in words, in the list and on the diff's highlight.
    assert!(html.contains("<span class=\"kind\">원문에 없는 "), "{html}");
    assert!(html.contains("title=\"원문에 없는 "), "{html}");
    for raw in ["number", "date_time", "phone", "term"] {
        assert!(
            !html.contains(&format!(">{raw}<")) && !html.contains(&format!("title=\"{raw}")),
            "{raw}: {html}"
        );
    }
    // The history lists the newest first, numbered as it happened (1 = the first review).
    assert!(html.contains("<ol reversed id=\"history\">"), "{html}");
    // Every time is a <time> the script shows in local time; none printed in UTC beside it.
    let outside_time_elements: String = html
        .split("<time")
        .map(|part| part.split_once("</time>").map_or(part, |(_, after)| after))
        .collect();
    assert!(!outside_time_elements.contains(" UTC"), "{html}");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    the_review_page_names_what_the_draft_dropped_beside_what_it_added
);
/// A draft that lost the memo's amount lists it as "in the original, missing from
/// the draft", in Korean and in English, beside the kinds of what a draft adds.
async fn the_review_page_names_what_the_draft_dropped_beside_what_it_added(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    app.llm.set_handler(|_| {
        jaryo_testllm::Reply::text("# 예산 검토\n\n- 다음 주 월요일까지 예산을 다시 검토하기")
    });
    let memo = app
        .api
        .create_memo(
            "다음 주 월요일까지 예산을 다시 검토하고 민지에게 보내기, 총액 350만 원 넘지 않게",
        )
        .await
        .unwrap();
    let id = app.api.promote_memo(memo.id).await.unwrap().id;
    let drafted = app
        .wait_for_document(id, std::time::Duration::from_secs(20), |d| {
            d.md_draft_status == Some(jaryo_domain::MdDraftStatus::Draft)
        })
        .await;
    assert!(drafted.draft.needs_attention, "{drafted:?}");
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let (status, _, html) = page(&mut web, &format!("/documents/{id}")).await;
    assert_eq!(status, 200);
    let listed = "<span class=\"kind\">초안에서 빠진 원문 내용</span> <mark class=\"finding\">350만 원</mark>";
    assert!(html.contains(listed), "{html}");
    assert!(!html.contains(">dropped<"), "{html}");

    let english = web
        .http
        .get(format!("{}/documents/{id}", web.base))
        .header(COOKIE, web.cookie.clone().unwrap())
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let listed = "<span class=\"kind\">In the original, missing from the draft</span> <mark class=\"finding\">350만 원</mark>";
    assert!(english.contains(listed), "{english}");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(a_promoted_memo_is_one_search_hit_that_names_its_memo);
/// The search page shows a promoted memo once, as its document, with a link to the memo it
/// came from, in Korean and in English.
async fn a_promoted_memo_is_one_search_hit_that_names_its_memo(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let memo = app.api.create_memo("장보기: 우유와 계란").await.unwrap();
    let document = app.api.promote_memo(memo.id).await.unwrap();
    let path = "/search?q=%EA%B3%84%EB%9E%80";
    let (status, _, html) = page(&mut web, path).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("class=\"card hit\"").count(), 1, "{html}");
    assert!(
        html.contains(&format!("href=\"/documents/{}\"", document.id)),
        "{html}"
    );
    let from_memo = format!("<a href=\"/memos/{}\">메모에서 만든 문서</a>", memo.id);
    assert!(html.contains(&from_memo), "{html}");

    let english = web
        .http
        .get(format!("{}{path}", web.base))
        .header(COOKIE, web.cookie.clone().unwrap())
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let from_memo = format!("<a href=\"/memos/{}\">Made from a memo</a>", memo.id);
    assert!(english.contains(&from_memo), "{english}");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(ask_without_javascript_answers_with_linked_citations);
async fn ask_without_javascript_answers_with_linked_citations(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let document = app
        .api
        .create_document(&jaryo_client::wire::NewDocumentInput {
            title: Some("서버 이전 계획".into()),
            extracted_text: "# 서버 이전 계획\n\n다음 주 화요일 새벽 2시에 axum 서버를 옮긴다. \
                             배포 담당은 민수, 롤백 담당은 지현."
                .into(),
            ..Default::default()
        })
        .await
        .unwrap();
    app.llm.push_reply(
        jaryo_testllm::Reply::text("배포 담당은 **민수**입니다 [1]. <script>x()</script>")
            .chunks(6),
    );
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;

    // The search page offers the box, holding the words searched for.
    let search = web
        .get("/search?q=%EC%84%9C%EB%B2%84")
        .await
        .text()
        .await
        .unwrap();
    assert!(search.contains("action=\"/ask\""), "{search}");
    assert!(search.contains(">서버</textarea>"), "{search}");

    // A plain form post: the page comes back with the whole answer, its citation a link to
    // the passage listed beside it, which links on to the document.
    let html = web.get("/ask").await.text().await.unwrap();
    let csrf = csrf_of(&html);
    let answered = web
        .post(
            "/ask",
            &[("csrf", &csrf), ("question", "서버 배포 담당자는 누구야?")],
        )
        .await;
    assert_eq!(answered.status(), 200);
    let html = answered.text().await.unwrap();
    assert!(html.contains("<strong>민수</strong>"), "{html}");
    assert!(html.contains("href=\"#source-1\""), "{html}");
    assert!(html.contains("<li id=\"source-1\">"), "{html}");
    assert!(
        html.contains(&format!("href=\"/documents/{}\"", document.id)),
        "{html}"
    );
    assert!(html.contains("자료 · 구절 1"), "{html}");
    assert!(!html.contains("<script>x()"), "{html}");

    // Nothing in the notes: said so, and the model is not asked.
    let asked_before = app.llm.request_count();
    let nothing = web
        .post("/ask", &[("csrf", &csrf), ("question", "zzqx 없는말")])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        nothing.contains("노트에서 이 질문에 맞는 것을 찾지 못했습니다."),
        "{nothing}"
    );
    assert_eq!(app.llm.request_count(), asked_before);

    // Refused as the API refuses it; without the session's CSRF token not at all.
    let empty = web
        .post("/ask", &[("csrf", &csrf), ("question", "  ")])
        .await;
    assert_eq!(empty.status(), 422);
    assert!(empty.text().await.unwrap().contains("role=\"alert\""));
    let forged = web
        .post("/ask", &[("csrf", "0000"), ("question", "서버")])
        .await;
    assert_eq!(forged.status(), 403);

    // The stream the page's script reads: sources, pieces of the answer, then its HTML.
    app.llm
        .push_reply(jaryo_testllm::Reply::text("롤백 담당은 지현입니다 [1].").chunks(4));
    let streamed = web
        .post(
            "/ask/stream",
            &[("csrf", &csrf), ("question", "롤백 담당자는 누구야?")],
        )
        .await;
    assert_eq!(streamed.status(), 200);
    let body = streamed.text().await.unwrap();
    let sources = body.find("event: sources").expect("sources");
    let delta = body.find("event: delta").expect("a delta");
    let done = body.find("event: done").expect("done");
    assert!(sources < delta && delta < done, "{body}");
    assert!(body[done..].contains("#source-1"), "{body}");
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(
    the_api_reference_page_shows_every_operation_of_the_served_document
);
/// The API reference is drawn from the document the server serves: every operation is on the
/// page with its parameters, and every schema it names is there to follow.
async fn the_api_reference_page_shows_every_operation_of_the_served_document(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let mut web = Web::new(&app);
    web.sign_in(app.token.expose_secret()).await;
    let document: serde_json::Value = app.get_json("/openapi.json").await;
    let (status, _, html) = page(&mut web, "/api-reference").await;
    assert_eq!(status, 200);
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "delete"] {
            if item.get(method).is_some() {
                operations += 1;
                let heading = format!("<code>{} {path}</code>", method.to_uppercase());
                assert!(html.contains(&heading), "{heading} missing");
            }
        }
    }
    assert!(operations >= 20, "{operations}");
    for name in document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(
            html.contains(&format!("id=\"schema-{name}\"")),
            "schema {name} missing"
        );
    }
    // Search's parameters, with their types and limits.
    assert!(html.contains("<code>limit</code>"), "{html}");
    assert!(html.contains("integer (int32), 1–200"), "{html}");
    assert!(
        html.contains("string (date) | string (date-time)"),
        "{html}"
    );
    // Signed out, the page asks for a sign-in like every other.
    let response = app
        .http
        .get(format!("{}/api-reference", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.url().path(),
        "/sign-in",
        "followed to the sign-in form"
    );
    app.stop().await;
}
