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
