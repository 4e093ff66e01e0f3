//! Markdown to HTML that is safe to put on a page.
//!
//! Two kinds of text are shown, and they are treated differently:
//!
//! - **A person's own words** (a memo, a document's original text) go through
//!   [`render_original`]. The promise is "the original words, verbatim", and that covers what is
//!   shown: raw HTML in the text (`레이아웃은 <div> 대신 <section>을 쓰자`) is shown as the text
//!   it is (escaped), never interpreted nor dropped; a line break is a line break (a phone memo
//!   of two lines shows as two); bare `http(s)://` addresses become links.
//! - **Model output** (a draft) goes through [`render`]: Markdown with its raw HTML cleaned, as
//!   a model writing `<br>` or a table means it as markup.
//!
//! Both end in ammonia, which keeps only a known-harmless set of elements, attributes and URL
//! schemes, so `<script>`, `on*=` attributes, `style`, `javascript:` links and the like never
//! reach the browser. The page's Content-Security-Policy forbids inline script as a second
//! wall.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use std::sync::LazyLock;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_generic_attributes(["lang"]);
    builder
});

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

fn clean<'a>(events: impl Iterator<Item = Event<'a>>, size_hint: usize) -> String {
    let mut html = String::with_capacity(size_hint * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    CLEANER.clean(&html).to_string()
}

/// Sanitised HTML for `markdown` written by a model.
pub fn render(markdown: &str) -> String {
    clean(Parser::new_ext(markdown, options()), markdown.len())
}

/// Sanitised HTML for an answer a model wrote citing numbered sources: Markdown as
/// [`render`] reads it, and each `[n]` (1 ≤ n ≤ `sources`, outside code) a link to the
/// source's entry on the page (`#source-n`).
pub fn render_with_citations(markdown: &str, sources: usize) -> String {
    let mut events = Vec::new();
    let mut in_code = false;
    // Merged, since the parser hands unmatched brackets over as texts of their own.
    for event in pulldown_cmark::TextMergeStream::new(Parser::new_ext(markdown, options())) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => {
                in_code = true;
                events.push(event);
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                events.push(event);
            }
            Event::Text(text) if !in_code => link_citations(&text, sources, &mut events),
            other => events.push(other),
        }
    }
    clean(events.into_iter(), markdown.len())
}

/// `text` as events, its citations `[n]` as links.
fn link_citations<'a>(text: &str, sources: usize, events: &mut Vec<Event<'a>>) {
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else { break };
        let number = &after[..close];
        let cited = number
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=sources).contains(n) && number.bytes().all(|b| b.is_ascii_digit()));
        let Some(n) = cited else {
            events.push(Event::Text(CowStr::from(rest[..open + 1].to_owned())));
            rest = after;
            continue;
        };
        if open > 0 {
            events.push(Event::Text(CowStr::from(rest[..open].to_owned())));
        }
        events.push(Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: CowStr::from(format!("#source-{n}")),
            title: CowStr::from(""),
            id: CowStr::from(""),
        }));
        events.push(Event::Text(CowStr::from(format!("[{n}]"))));
        events.push(Event::End(TagEnd::Link));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        events.push(Event::Text(CowStr::from(rest.to_owned())));
    }
}

/// Sanitised HTML for a person's own text: its Markdown formatting applies, but raw HTML is
/// shown as text, every line break is kept, and bare URLs are links.
pub fn render_original(text: &str) -> String {
    let mut events = Vec::new();
    // Inside a link or code, text is left as it is (no links inside links, none in code).
    let mut no_links = 0usize;
    // A block Markdown reads as HTML (a line starting with `<div>`) is a paragraph of text
    // lines like any other.
    let mut html_block: Option<String> = None;
    for event in Parser::new_ext(text, options()) {
        match event {
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                let block = html_block.take().unwrap_or_default();
                events.push(Event::Start(Tag::Paragraph));
                for (n, line) in block.trim_end_matches('\n').split('\n').enumerate() {
                    if n > 0 {
                        events.push(Event::HardBreak);
                    }
                    link_urls(CowStr::from(line.to_owned()), &mut events);
                }
                events.push(Event::End(TagEnd::Paragraph));
            }
            Event::Html(raw) if html_block.is_some() => {
                if let Some(block) = html_block.as_mut() {
                    block.push_str(&raw);
                }
            }
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::SoftBreak => events.push(Event::HardBreak),
            Event::Start(tag @ (Tag::Link { .. } | Tag::CodeBlock(_) | Tag::Image { .. })) => {
                no_links += 1;
                events.push(Event::Start(tag));
            }
            Event::End(end @ (TagEnd::Link | TagEnd::CodeBlock | TagEnd::Image)) => {
                no_links = no_links.saturating_sub(1);
                events.push(Event::End(end));
            }
            Event::Text(words) if no_links == 0 => link_urls(words, &mut events),
            other => events.push(other),
        }
    }
    clean(events.into_iter(), text.len())
}

/// Pushes `words` as text, with each bare `http://` or `https://` address in it as a link.
fn link_urls<'a>(words: CowStr<'a>, events: &mut Vec<Event<'a>>) {
    if !words.contains("http") {
        events.push(Event::Text(words));
        return;
    }
    let mut rest: &str = &words;
    let mut pieces: Vec<Event<'a>> = Vec::new();
    while let Some(start) = find_url_start(rest) {
        let tail = &rest[start..];
        // An address ends at a space or at the first character no URL is written with
        // (a Korean particle right after it, `https://example.com에서`, is not part of it);
        // closing punctuation at its end belongs to the sentence.
        let mut end = tail
            .find(|c: char| !c.is_ascii_graphic() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        while end > 0 {
            let last = tail.as_bytes()[end - 1];
            let unbalanced_paren = last == b')' && !tail[..end].contains('(');
            if matches!(last, b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'') || unbalanced_paren {
                end -= 1;
            } else {
                break;
            }
        }
        let url = &tail[..end];
        if url.len() <= "https://".len() {
            pieces.push(Event::Text(CowStr::from(
                rest[..start + end.max(1)].to_owned(),
            )));
            rest = &rest[start + end.max(1)..];
            continue;
        }
        if start > 0 {
            pieces.push(Event::Text(CowStr::from(rest[..start].to_owned())));
        }
        pieces.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: CowStr::from(url.to_owned()),
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        pieces.push(Event::Text(CowStr::from(url.to_owned())));
        pieces.push(Event::End(TagEnd::Link));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        pieces.push(Event::Text(CowStr::from(rest.to_owned())));
    }
    events.extend(pieces);
}

/// Where the first `http://` or `https://` in `text` starts, if it starts a word.
fn find_url_start(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find("http") {
        let at = from + found;
        let after = &text[at..];
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if starts_word && (after.starts_with("http://") || after.starts_with("https://")) {
            return Some(at);
        }
        from = at + "http".len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_link_to_their_sources_and_nothing_else_does() {
        let html = render_with_citations(
            "배포 담당은 **민수**입니다 [1][2]. 없는 출처 [7], 배열 `a[1]`, [링크](https://x.example)",
            2,
        );
        assert!(
            html.contains(r##"<a href="#source-1" rel="noopener noreferrer nofollow">[1]</a>"##),
            "{html}"
        );
        assert!(html.contains(r##"href="#source-2""##), "{html}");
        assert!(
            html.contains("[7]") && !html.contains("#source-7"),
            "{html}"
        );
        assert!(html.contains("<code>a[1]</code>"), "{html}");
        assert!(html.contains("<strong>민수</strong>"), "{html}");
        let unsafe_answer = render_with_citations("<script>alert(1)</script> [1]", 1);
        assert!(!unsafe_answer.contains("<script"), "{unsafe_answer}");
    }

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
            // A person's text keeps the words, but as text: no element but the few Markdown
            // makes, and no link but to http(s).
            let original = render_original(markdown).to_ascii_lowercase();
            let tags = original.match_indices('<').map(|(at, _)| &original[at..]);
            for tag in tags {
                assert!(
                    ["<p>", "</p>", "<a href=\"http", "<a rel=", "</a>"]
                        .iter()
                        .any(|allowed| tag.starts_with(allowed)),
                    "{markdown:?} rendered as {original:?}"
                );
            }
        }
    }

    #[test]
    fn text_that_looks_like_html_stays_text_in_code() {
        let html = render("`<script>alert(1)</script>`");
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn a_persons_angle_brackets_are_shown_as_written() {
        let html = render_original("레이아웃은 <div> 대신 <section>을 쓰자");
        assert!(
            html.contains("레이아웃은 &lt;div&gt; 대신 &lt;section&gt;을 쓰자"),
            "{html}"
        );
        let block = render_original("<div>\n열린 태그\n\n다음 문단");
        assert!(
            block.contains("<p>&lt;div&gt;<br>\n열린 태그</p>"),
            "{block}"
        );
        assert!(!block.contains("<div"), "{block}");
        let script = render_original("<script>window.pwned = 1</script>");
        assert!(script.contains("&lt;script&gt;"), "{script}");
        assert!(!script.contains("<script"), "{script}");
    }

    #[test]
    fn a_persons_line_breaks_are_kept() {
        let html = render_original("우유\n계란");
        assert!(html.contains("우유<br>"), "{html}");
    }

    #[test]
    fn bare_urls_become_links_and_stop_before_korean_and_punctuation() {
        let html = render_original(
            "자료는 https://example.com/a_very/long/path?q=1에서 봐요. (http://x.org/b).",
        );
        assert!(
            html.contains(r#"<a href="https://example.com/a_very/long/path?q=1" rel="noopener noreferrer nofollow">https://example.com/a_very/long/path?q=1</a>에서"#),
            "{html}"
        );
        assert!(html.contains(r#"<a href="http://x.org/b""#), "{html}");
        let linked = render_original("[여기](https://example.com) `https://code.example`");
        assert_eq!(linked.matches("<a ").count(), 1, "{linked}");
        assert!(render_original("httpx는 http:// 뿐").contains("httpx는 http:// 뿐"));
    }

    #[test]
    fn model_output_keeps_its_markup_cleaned() {
        let html = render("줄<br>바꿈 <em>강조</em>");
        assert!(
            html.contains("<br>") && html.contains("<em>강조</em>"),
            "{html}"
        );
    }
}
