//! Markdown to HTML that is safe to put on a page.
//!
//! Every piece of Markdown the UI shows — a memo as the person typed it, a draft as the model
//! wrote it — goes through [`render`]: pulldown-cmark makes HTML, and ammonia keeps only a
//! known-harmless set of elements, attributes and URL schemes. Raw HTML in the Markdown is
//! cleaned the same way, so `<script>`, `on*=` attributes, `style`, `javascript:` links and
//! the like never reach the browser. The page's Content-Security-Policy forbids inline script
//! as a second wall.

use pulldown_cmark::{Options, Parser};
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_generic_attributes(["lang"]);
    builder
});

/// Sanitised HTML for `markdown`.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, options));
    CLEANER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let html = render("# 제목\n\n- **굵게**\n- [링크](https://example.com)");
        assert!(html.contains("<h1>제목</h1>"));
        assert!(html.contains("<strong>굵게</strong>"));
        assert!(html.contains(r#"href="https://example.com""#));
        assert!(html.contains("noopener"));
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        for (markdown, banned) in [
            ("<script>window.pwned = 1</script>", "<script"),
            ("<img src=x onerror=\"window.pwned=1\">", "onerror"),
            ("[click](javascript:window.pwned=1)", "javascript:"),
            ("<a href=\"javascript:alert(1)\">x</a>", "javascript:"),
            ("<iframe src=\"https://evil.example\"></iframe>", "<iframe"),
            ("<div style=\"position:fixed\">x</div>", "style="),
            ("<svg onload=alert(1)>", "onload"),
            ("[x](JaVaScRiPt:alert(1))", "alert"),
        ] {
            let html = render(markdown);
            assert!(
                !html.to_ascii_lowercase().contains(banned),
                "{markdown:?} rendered as {html:?}"
            );
        }
    }

    #[test]
    fn text_that_looks_like_html_stays_text_in_code() {
        let html = render("`<script>alert(1)</script>`");
        assert!(html.contains("&lt;script&gt;"));
    }
}
