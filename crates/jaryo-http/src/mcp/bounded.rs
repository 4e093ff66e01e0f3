//! Keeping what a tool answers small enough for an assistant's context.
//!
//! A memo or a document may hold a megabyte; an assistant reading it whole would lose the
//! conversation. Every text a tool returns is cut to a budget of characters, and whatever is
//! cut says so: a `truncated` object beside it (how much was shown, how much there is, and the
//! `offset` that reads on), never a silent end.

use serde::Serialize;
use serde_json::{Value, json};

/// The most characters of one text a read returns (a memo, a part of a document).
pub const READ_MAX_CHARS: usize = 20_000;
/// The most characters of a text a listing shows of each item.
pub const PREVIEW_CHARS: usize = 300;
/// The most characters of a title shown.
pub const TITLE_MAX_CHARS: usize = 200;
/// The most characters of a resource's text.
pub const RESOURCE_MAX_CHARS: usize = 100_000;
/// The most bytes of a whole answer, whatever it holds; a listing over it loses items from
/// its end (and says how many).
pub const ANSWER_MAX_BYTES: usize = 128 * 1024;

/// Part of a text, from a character offset, at most `max_chars` long.
#[derive(Debug, Clone, PartialEq)]
pub struct Clipped {
    pub text: String,
    /// Present when the text goes on past what is shown (or starts before it).
    pub truncated: Option<Truncated>,
}

/// How much of a text was shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Truncated {
    /// The characters shown: `[from, to)`.
    pub shown_chars: [usize; 2],
    pub total_chars: usize,
    /// Pass as `offset` to read on; absent when the text ends here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

/// `text` from character `offset`, at most `max_chars` of it.
pub fn clip(text: &str, offset: usize, max_chars: usize) -> Clipped {
    let total_chars = text.chars().count();
    let from = offset.min(total_chars);
    let to = from.saturating_add(max_chars).min(total_chars);
    if from == 0 && to == total_chars {
        return Clipped {
            text: text.to_owned(),
            truncated: None,
        };
    }
    Clipped {
        text: text.chars().skip(from).take(to - from).collect(),
        truncated: Some(Truncated {
            shown_chars: [from, to],
            total_chars,
            next_offset: (to < total_chars).then_some(to),
        }),
    }
}

/// A short text (a title, a preview): the first `max_chars` characters, with `…` when cut.
pub fn preview(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

/// `answer` as JSON text, at most [`ANSWER_MAX_BYTES`] long: when it is longer, items are
/// dropped from the end of its `list` array until it fits, and `items_left_off` says how many.
pub fn bounded_json(mut answer: Value, list: &str) -> String {
    let mut left_off = 0usize;
    loop {
        let text = serde_json::to_string_pretty(&answer).unwrap_or_else(|_| "{}".into());
        if text.len() <= ANSWER_MAX_BYTES {
            return text;
        }
        let Some(items) = answer.get_mut(list).and_then(Value::as_array_mut) else {
            // No list to shorten: every text in it is already clipped, so this cannot grow
            // past the bound by much; say so rather than cut JSON in half.
            return text;
        };
        if items.pop().is_none() {
            return text;
        }
        left_off += 1;
        answer["items_left_off"] = json!(left_off);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_comes_back_whole_and_unmarked() {
        let clipped = clip("주간 회의 메모", 0, 100);
        assert_eq!(clipped.text, "주간 회의 메모");
        assert_eq!(clipped.truncated, None);
    }

    #[test]
    fn a_long_text_is_cut_by_characters_and_says_where_to_read_on() {
        let text = "가나다라마바사";
        let first = clip(text, 0, 3);
        assert_eq!(first.text, "가나다");
        let marker = first.truncated.unwrap();
        assert_eq!(marker.shown_chars, [0, 3]);
        assert_eq!(marker.total_chars, 7);
        assert_eq!(marker.next_offset, Some(3));
        let last = clip(text, 6, 3);
        assert_eq!(last.text, "사");
        assert_eq!(last.truncated.unwrap().next_offset, None);
        assert_eq!(clip(text, 99, 3).text, "");
    }

    #[test]
    fn previews_end_with_an_ellipsis_only_when_cut() {
        assert_eq!(preview("회의록", 3), "회의록");
        assert_eq!(preview("회의록입니다", 3), "회의록…");
    }

    #[test]
    fn an_answer_over_the_bound_loses_items_from_its_end_and_says_so() {
        let big = "가".repeat(1000);
        let items: Vec<Value> = (0..200).map(|i| json!({"id": i, "text": big})).collect();
        let text = bounded_json(json!({"items": items}), "items");
        assert!(text.len() <= ANSWER_MAX_BYTES);
        let value: Value = serde_json::from_str(&text).unwrap();
        let kept = value["items"].as_array().unwrap().len();
        assert!(kept > 10 && kept < 200, "{kept}");
        assert_eq!(value["items_left_off"], json!(200 - kept));
        assert_eq!(value["items"][0]["id"], json!(0));
    }
}
