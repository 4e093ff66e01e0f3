//! HTML: the main content, not the menus and footers, through `dom_smoothie` (a port of
//! Mozilla's Readability), rendered to Markdown by the same crate. The charset is the
//! document's own (a byte-order mark, else `<meta charset>` or `http-equiv` in the first
//! 4 KiB), else UTF-8 when valid, else a guess with a Korean hint. A page too short for
//! Readability to pick an article is read whole (scripts and styles left out).

use dom_smoothie::{Config, ParsePolicy, Readability, TextMode};
use encoding_rs::Encoding;

use crate::{Budget, ExtractError, Extracted, text};

pub(crate) const ENGINE: &str = "dom_smoothie 0.19";

/// Elements parsed at most: a bound on work for hostile pages.
const MAX_ELEMENTS: usize = 50_000;

/// Elements nested deeper than this are refused: the HTML tree builder checks the open
/// elements at each start tag, so its work grows with the square of the depth.
const MAX_DEPTH: usize = 2_000;

pub(crate) fn extract(bytes: &[u8], budget: &mut Budget) -> Result<Extracted, ExtractError> {
    check_shape(bytes)?;
    let declared = declared_charset(bytes);
    let (html, _) = text::decode_with(bytes, declared);
    budget.check_time()?;
    let markdown = read(&html, TextMode::Markdown)?;
    budget.check_time()?;
    let plain = read(&html, TextMode::Formatted)?;
    let title = Some(markdown.0.trim().to_owned()).filter(|t| !t.is_empty());
    Ok(Extracted {
        text: tidy(&plain.1),
        markdown: markdown.1.trim().to_owned(),
        pages: Vec::new(),
        page_count: None,
        title,
        engine: ENGINE.to_owned(),
    })
}

/// Lines trimmed at the end and runs of blank lines cut to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.trim().lines().map(str::trim_end) {
        if line.is_empty() {
            blank = true;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(line);
    }
    out
}

/// (title, content) in the given text mode.
fn read(html: &str, mode: TextMode) -> Result<(String, String), ExtractError> {
    let config = |policy_strict: bool| Config {
        text_mode: mode,
        max_elements_to_parse: MAX_ELEMENTS,
        char_threshold: if policy_strict { 500 } else { 0 },
        ..Default::default()
    };
    let broken = |e: dom_smoothie::ReadabilityError| ExtractError::Broken {
        reason: format!("the HTML cannot be read ({e})"),
    };
    let mut readability = Readability::new(html, None, Some(config(true))).map_err(broken)?;
    if let Ok(article) = readability.parse()
        && !article.text_content.trim().is_empty()
    {
        return Ok((article.title, article.text_content.to_string()));
    }
    let mut readability = Readability::new(html, None, Some(config(false))).map_err(broken)?;
    match readability.parse_with_policy(ParsePolicy::Raw) {
        Ok(article) => Ok((article.title, article.text_content.to_string())),
        Err(_) => Ok((String::new(), String::new())),
    }
}

/// Refuses, before parsing, pages with more elements than [`MAX_ELEMENTS`] or nesting deeper
/// than [`MAX_DEPTH`]. The depth is estimated from the tags alone: void elements, `/>` and
/// the elements HTML closes by themselves (`p`, `li`, table cells…) do not count.
fn check_shape(bytes: &[u8]) -> Result<(), ExtractError> {
    const NOT_NESTING: &[&[u8]] = &[
        b"area",
        b"base",
        b"br",
        b"col",
        b"embed",
        b"hr",
        b"img",
        b"input",
        b"link",
        b"meta",
        b"source",
        b"track",
        b"wbr",
        b"p",
        b"li",
        b"dt",
        b"dd",
        b"tr",
        b"td",
        b"th",
        b"option",
        b"!--",
        b"!doctype",
    ];
    let mut elements = 0usize;
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(at) = memchr_lt(&bytes[i..]) {
        i += at + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let name_start = if closing { i + 1 } else { i };
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'!' || **b == b'-')
            .count();
        if name_len == 0 {
            continue;
        }
        let name: Vec<u8> = bytes[name_start..name_start + name_len]
            .iter()
            .map(u8::to_ascii_lowercase)
            .collect();
        if NOT_NESTING.contains(&name.as_slice()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        elements += 1;
        let tag_end = bytes[name_start..]
            .iter()
            .position(|&b| b == b'>')
            .map(|p| name_start + p);
        let self_closing = tag_end.is_some_and(|end| end > 0 && bytes[end - 1] == b'/');
        if !self_closing {
            depth += 1;
        }
        if elements > MAX_ELEMENTS || depth > MAX_DEPTH {
            return Err(ExtractError::TooLarge {
                reason: format!(
                    "the page has more than {MAX_ELEMENTS} elements or nests them deeper than {MAX_DEPTH}"
                ),
            });
        }
    }
    Ok(())
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'<')
}

/// The encoding a document names for itself in its first 4 KiB.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(at) = crate::find(&lower[from..], b"charset") {
        let mut i = from + at + b"charset".len();
        from = i;
        while i < lower.len() && matches!(lower[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        if lower.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < lower.len() && matches!(lower[i], b' ' | b'"' | b'\'') {
            i += 1;
        }
        let end = lower[i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')))
            .map_or(lower.len(), |p| i + p);
        if let Some(encoding) = Encoding::for_label(&lower[i..end]) {
            // A page that says UTF-16 in ASCII bytes is not UTF-16; the label is wrong.
            if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
                return Some(encoding_rs::UTF_8);
            }
            return Some(encoding);
        }
    }
    None
}
