//! `#tags` in memo text.
//!
//! A tag is `#` followed by letters, digits, `_`, `-` or `/` (for nested tags such as
//! `#project/jaryo`), in any script: `#회의`, `#rust`. The text is read as Markdown so that
//! headings (`# Title`), code (`` `#include` ``) and link targets are not mistaken for tags, and a
//! `#` glued to a word (`C#`, `a#b`, `https://x/#part`) is not one either. Tags are NFC-normalised
//! (so NFD input gives the same tag as NFC input), deduplicated case-insensitively in order of
//! first appearance, and a tag made only of digits (`#1`, an issue number) is not a tag.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use unicode_normalization::UnicodeNormalization;

const TAG_MAX_CHARS: usize = 64;

/// Every distinct tag in `text`, in order of first appearance.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut code_block_depth = 0usize;
    let mut link_depth = 0usize;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => code_block_depth += 1,
            Event::End(TagEnd::CodeBlock) => code_block_depth = code_block_depth.saturating_sub(1),
            Event::Start(Tag::Link { .. }) => link_depth += 1,
            Event::End(TagEnd::Link) => link_depth = link_depth.saturating_sub(1),
            Event::Text(text) if code_block_depth == 0 && link_depth == 0 => {
                collect_tags(&text, &mut tags);
            }
            _ => {}
        }
    }
    tags
}

/// One tag given on its own (an import's `tags`), with or without its `#`: the tag exactly as
/// [`parse_tags`] reads it from `#tag`, or `None` when the text is not one whole tag.
pub fn parse_one_tag(text: &str) -> Option<String> {
    let text = text.trim();
    let bare = text.strip_prefix('#').unwrap_or(text);
    let mut found = Vec::new();
    collect_tags(&format!("#{bare}"), &mut found);
    match found.as_slice() {
        [tag] if tag.chars().count() == bare.nfc().count() => found.pop(),
        _ => None,
    }
}

/// Tags given with an item followed by the ones its text carries, each once
/// (case-insensitively), in order of first appearance.
pub fn merge_tags(given: &[String], from_text: Vec<String>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::with_capacity(given.len() + from_text.len());
    for tag in given.iter().cloned().chain(from_text) {
        if !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
            tags.push(tag);
        }
    }
    tags
}

fn collect_tags(text: &str, tags: &mut Vec<String>) {
    // Most text holds no tag; NFC makes no `#` where there was none, so skip normalising it
    // (which cost an import three times what analysing the text for search does).
    if !text.contains('#') {
        return;
    }
    let text: String = text.nfc().collect();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        let starts_tag = c == '#' && previous.is_none_or(is_tag_boundary);
        previous = Some(c);
        if !starts_tag {
            continue;
        }
        let mut tag = String::new();
        while let Some(&(_, next)) = chars.peek() {
            if !is_tag_char(next) {
                break;
            }
            tag.push(next);
            previous = Some(next);
            chars.next();
        }
        let tag = tag.trim_end_matches(['/', '-']);
        let is_tag = !tag.is_empty()
            && tag.chars().count() <= TAG_MAX_CHARS
            && !tag.chars().all(|c| c.is_ascii_digit());
        if is_tag && !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
            tags.push(tag.to_owned());
        }
    }
}

/// `text` as one tag (with or without its `#`), NFC-normalised, or `None` when it is not
/// exactly one tag (a space, punctuation, only digits, too long).
pub fn parse_tag(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text.strip_prefix('#').unwrap_or(text);
    match parse_tags(&format!("#{text}")).as_slice() {
        [tag] if tag.chars().count() == text.nfc().count() => Some(tag.clone()),
        _ => None,
    }
}

/// `text` with every `#from` tag (compared case-insensitively, as tags are) written as `#to`,
/// or `None` when it holds no such tag. Only the tag changes: every other byte stays as it
/// was, and `#from` where it is no tag (in code, in a link, glued to a word, or the start of a
/// longer tag) is left alone.
pub fn rename_tag_in_text(text: &str, from: &str, to: &str) -> Option<String> {
    let from_key = from.nfc().collect::<String>().to_lowercase();
    let mut replaced = String::with_capacity(text.len());
    let mut copied = 0;
    let mut code_block_depth = 0usize;
    let mut link_depth = 0usize;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => code_block_depth += 1,
            Event::End(TagEnd::CodeBlock) => code_block_depth = code_block_depth.saturating_sub(1),
            Event::Start(Tag::Link { .. }) => link_depth += 1,
            Event::End(TagEnd::Link) => link_depth = link_depth.saturating_sub(1),
            Event::Text(_) if code_block_depth == 0 && link_depth == 0 => {
                // Tags are found in the source's own bytes, so an escape or entity nearby
                // never shifts what is replaced.
                let source = &text[range.clone()];
                for (at, tag) in tag_positions(source) {
                    if tag.nfc().collect::<String>().to_lowercase() == from_key {
                        let start = range.start + at + 1;
                        replaced.push_str(&text[copied..start]);
                        replaced.push_str(to);
                        copied = start + tag.len();
                    }
                }
            }
            _ => {}
        }
    }
    if copied == 0 {
        return None;
    }
    replaced.push_str(&text[copied..]);
    Some(replaced)
}

/// Each tag in plain `text` (no Markdown), as the byte offset of its `#` and its text.
fn tag_positions(text: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts_tag = c == '#' && previous.is_none_or(is_tag_boundary);
        previous = Some(c);
        if !starts_tag {
            continue;
        }
        let mut end = at + 1;
        while let Some(&(next_at, next)) = chars.peek() {
            if !is_tag_char(next) {
                break;
            }
            end = next_at + next.len_utf8();
            previous = Some(next);
            chars.next();
        }
        let tag = text[at + 1..end].trim_end_matches(['/', '-']);
        if !tag.is_empty() {
            found.push((at, tag));
        }
    }
    found
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '/')
}

/// A `#` after one of these starts a tag; after a letter, digit, `/` or `&` it does not.
fn is_tag_boundary(c: char) -> bool {
    !(c.is_alphanumeric() || matches!(c, '/' | '&' | '#' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_korean_and_english_tags() {
        assert_eq!(
            parse_tags("오늘 #회의 메모 #rust, #project/jaryo!"),
            ["회의", "rust", "project/jaryo"]
        );
    }

    #[test]
    fn nfd_and_nfc_give_the_same_tag() {
        let nfd: String = "#회의".nfd().collect();
        assert_eq!(parse_tags(&nfd), ["회의"]);
    }

    #[test]
    fn ignores_headings_code_links_and_glued_hashes() {
        let text = "# 제목\n\n## Heading\n\nC# and a#b and https://x.example/#frag\n\n\
                    `#notatag` [#linktext](https://x.example/#anchor)\n\n```\n#include <x>\n```\n";
        assert!(parse_tags(text).is_empty(), "{:?}", parse_tags(text));
    }

    #[test]
    fn deduplicates_case_insensitively_and_skips_numbers() {
        assert_eq!(
            parse_tags("#Rust #rust #RUST issue #42 #v2"),
            ["Rust", "v2"]
        );
    }

    #[test]
    fn one_tag_is_read_as_from_the_text_and_merged_once() {
        assert_eq!(parse_one_tag("예산").as_deref(), Some("예산"));
        assert_eq!(
            parse_one_tag("#project/jaryo").as_deref(),
            Some("project/jaryo")
        );
        for not_one in ["", "#", "두 단어", "42", "a#b", "tag!"] {
            assert_eq!(parse_one_tag(not_one), None, "{not_one:?}");
        }
        assert_eq!(
            merge_tags(
                &["예산".into(), "Rust".into()],
                vec!["rust".into(), "회의".into()]
            ),
            ["예산", "Rust", "회의"]
        );
    }

    #[test]
    fn finds_tags_in_lists_and_after_punctuation() {
        assert_eq!(
            parse_tags("- 할 일 #todo\n- (#긴급) 서버"),
            ["todo", "긴급"]
        );
    }

    #[test]
    fn one_tag_is_read_with_or_without_its_hash() {
        assert_eq!(parse_tag("#예산").as_deref(), Some("예산"));
        assert_eq!(parse_tag("project/jaryo").as_deref(), Some("project/jaryo"));
        assert_eq!(parse_tag("두 단어"), None);
        assert_eq!(parse_tag("42"), None);
        assert_eq!(parse_tag(""), None);
    }

    #[test]
    fn renaming_rewrites_only_that_tag() {
        let text = "#예산 회의, #예산안 따로. #Budget\n\n`#예산` [#예산](https://x/#예산) a#예산 #예산/2026";
        assert_eq!(
            rename_tag_in_text(text, "예산", "재정").as_deref(),
            Some(
                "#재정 회의, #예산안 따로. #Budget\n\n`#예산` [#예산](https://x/#예산) a#예산 #예산/2026"
            )
        );
        assert_eq!(
            rename_tag_in_text("#BUDGET and #budget", "Budget", "money").as_deref(),
            Some("#money and #money")
        );
        assert_eq!(rename_tag_in_text("태그 없음", "예산", "재정"), None);
    }
}
