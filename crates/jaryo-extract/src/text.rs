//! Plain text and Markdown: the only work is finding the encoding.
//!
//! Order: a byte-order mark (UTF-8, UTF-16 LE/BE) wins; then valid UTF-8; then `chardetng`
//! guesses among legacy encodings with a Korean hint, so a file saved by Korean Windows
//! Notepad (CP949, which `encoding_rs` decodes as its superset of EUC-KR) reads as Korean.

use encoding_rs::{Encoding, UTF_8};

use crate::{Budget, Extracted};

pub(crate) const ENGINE: &str = concat!("jaryo-text-decode ", env!("CARGO_PKG_VERSION"));

/// Decodes text of unknown encoding; also says which encoding it took.
pub(crate) fn decode(bytes: &[u8]) -> (String, &'static Encoding) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), encoding);
    }
    decode_with(bytes, None)
}

/// Decodes with `declared` when a document names its charset, else as [`decode`] guesses.
pub(crate) fn decode_with(
    bytes: &[u8],
    declared: Option<&'static Encoding>,
) -> (String, &'static Encoding) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), encoding);
    }
    if let Some(encoding) = declared {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return (text.into_owned(), encoding);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_owned(), UTF_8);
    }
    let encoding = {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(bytes, true);
        detector.guess(Some(b"kr"), chardetng::Utf8Detection::Allow)
    };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    (text.into_owned(), encoding)
}

/// Line endings become `\n` and NULs go: stored text is Unix text without control bytes.
fn tidy(text: String) -> String {
    if !text.contains(['\r', '\0']) {
        return text;
    }
    text.replace("\r\n", "\n")
        .replace(['\r'], "\n")
        .replace('\0', "")
}

pub(crate) fn extract_plain(bytes: &[u8], _budget: &mut Budget) -> Extracted {
    let (text, encoding) = decode(bytes);
    let text = tidy(text);
    Extracted {
        markdown: text.clone(),
        text,
        pages: Vec::new(),
        page_count: None,
        title: None,
        engine: format!("{ENGINE} ({})", encoding.name()),
    }
}

pub(crate) fn extract_markdown(bytes: &[u8], budget: &mut Budget) -> Extracted {
    let mut extracted = extract_plain(bytes, budget);
    extracted.title = extracted.text.lines().find_map(|line| {
        let heading = line.strip_prefix("# ")?.trim();
        (!heading.is_empty()).then(|| heading.to_owned())
    });
    extracted
}
