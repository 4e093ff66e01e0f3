//! Removing the model's thinking from its answer.
//!
//! Reasoning models write `<think>…</think>` before (or, rarely, inside) the answer. Some servers
//! put the opening tag into the prompt template, so the answer starts with bare thinking and only
//! the closing tag shows. [`ThinkFilter`] is a small state machine fed chunk by chunk, so the same
//! code serves streaming and whole answers.
//!
//! Invariants:
//! - Text inside a `<think>` block never comes out, however the tags are split across chunks.
//! - A `</think>` that is the first tag seen means everything before it was thinking: the
//!   filter reports a *retraction* of all text it has let through so far.
//! - A possible partial tag at the end of a chunk is held back (at most `</think>`'s length), so
//!   streamed text is delayed by a few characters at most.
//! - Leading whitespace of the answer is dropped (models put blank lines after `</think>`).

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// What the filter lets through for one chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Everything let through before this output was thinking after all: discard it.
    pub retract: bool,
    /// Answer text to append (after discarding, if `retract`).
    pub text: String,
}

/// Streaming `<think>` remover. Feed chunks with [`ThinkFilter::push`], then call
/// [`ThinkFilter::finish`] once at the end.
#[derive(Debug, Clone, Default)]
pub struct ThinkFilter {
    thinking: bool,
    /// Tail of the input that may be the start of a tag; decided by the next chunk.
    pending: String,
    /// Whether any tag has been seen: only a *first* stray `</think>` retracts.
    seen_tag: bool,
    /// Whether visible answer text has been let through (since the start or a retraction).
    emitted: bool,
}

impl ThinkFilter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk of the model's content.
    pub fn push(&mut self, chunk: &str) -> Filtered {
        let mut input = std::mem::take(&mut self.pending);
        input.push_str(chunk);
        let mut out = Filtered::default();
        let mut rest = input.as_str();
        while !rest.is_empty() {
            if self.thinking {
                match rest.find(CLOSE) {
                    Some(at) => {
                        self.thinking = false;
                        rest = &rest[at + CLOSE.len()..];
                    }
                    None => {
                        self.pending = partial_tag_suffix(rest, &[CLOSE]).to_owned();
                        break;
                    }
                }
                continue;
            }
            let Some(at) = rest.find('<') else {
                self.emit(rest, &mut out);
                break;
            };
            self.emit(&rest[..at], &mut out);
            let tail = &rest[at..];
            if let Some(after) = tail.strip_prefix(OPEN) {
                self.thinking = true;
                self.seen_tag = true;
                rest = after;
            } else if let Some(after) = tail.strip_prefix(CLOSE) {
                if !self.seen_tag {
                    // The opening tag was in the prompt: all the "answer" so far was thinking.
                    out.retract = true;
                    out.text.clear();
                    self.emitted = false;
                }
                self.seen_tag = true;
                rest = after;
            } else if OPEN.starts_with(tail) || CLOSE.starts_with(tail) {
                self.pending = tail.to_owned();
                break;
            } else {
                self.emit("<", &mut out);
                rest = &tail[1..];
            }
        }
        out
    }

    /// Ends the answer: a held-back partial tag outside a block was plain text after all; an
    /// unclosed block (the model ran out of tokens while thinking) is dropped.
    pub fn finish(&mut self) -> Filtered {
        let mut out = Filtered::default();
        let pending = std::mem::take(&mut self.pending);
        if !self.thinking {
            self.emit(&pending, &mut out);
        }
        out
    }

    fn emit(&mut self, text: &str, out: &mut Filtered) {
        let text = if self.emitted {
            text
        } else {
            text.trim_start()
        };
        if !text.is_empty() {
            self.emitted = true;
            out.text.push_str(text);
        }
    }
}

/// The longest suffix of `text` that is a proper prefix of one of `tags`.
fn partial_tag_suffix<'a>(text: &'a str, tags: &[&str]) -> &'a str {
    let longest = tags.iter().map(|t| t.len() - 1).max().unwrap_or(0);
    (1..=longest.min(text.len()))
        .rev()
        .filter(|&n| text.is_char_boundary(text.len() - n))
        .map(|n| &text[text.len() - n..])
        .find(|suffix| tags.iter().any(|tag| tag.starts_with(suffix)))
        .unwrap_or("")
}

/// Removes thinking from a whole answer and trims it.
pub fn strip_thinking(answer: &str) -> String {
    let mut filter = ThinkFilter::new();
    let mut text = String::new();
    for part in [filter.push(answer), filter.finish()] {
        if part.retract {
            text.clear();
        }
        text.push_str(&part.text);
    }
    text.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` one by one, applying retractions as a streaming consumer would.
    fn stream(chunks: &[&str]) -> String {
        let mut filter = ThinkFilter::new();
        let mut shown = String::new();
        let mut outputs: Vec<Filtered> = chunks.iter().map(|chunk| filter.push(chunk)).collect();
        outputs.push(filter.finish());
        for output in outputs {
            if output.retract {
                shown.clear();
            }
            shown.push_str(&output.text);
        }
        shown.trim_end().to_owned()
    }

    /// Every way of cutting `text` into two and three pieces gives `expected`.
    fn assert_every_split(text: &str, expected: &str) {
        let bounds: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &a in &bounds {
            assert_eq!(stream(&[&text[..a], &text[a..]]), expected, "split at {a}");
            for &b in bounds.iter().filter(|&&b| b >= a) {
                assert_eq!(
                    stream(&[&text[..a], &text[a..b], &text[b..]]),
                    expected,
                    "split at {a} and {b}"
                );
            }
        }
    }

    #[test]
    fn an_answer_without_thinking_passes_unchanged() {
        assert_eq!(
            strip_thinking("# 회의\n\n- 일정 <b>"),
            "# 회의\n\n- 일정 <b>"
        );
        assert_every_split("a < b and <th is not a tag", "a < b and <th is not a tag");
    }

    #[test]
    fn a_leading_think_block_is_removed() {
        assert_eq!(
            strip_thinking("<think>\nuser wants a title\n</think>\n\n# Title"),
            "# Title"
        );
        assert_every_split("<think>plan it</think>\n\n# 제목\n본문", "# 제목\n본문");
    }

    #[test]
    fn several_blocks_are_removed() {
        assert_every_split(
            "<think>a</think>one <think>b</think>two<think>c</think>",
            "one two",
        );
    }

    #[test]
    fn a_missing_opening_tag_drops_everything_before_the_close() {
        assert_eq!(
            strip_thinking("The memo is rough, so\nI will add headings.</think>\n\n# Notes"),
            "# Notes"
        );
        assert_every_split(
            "thinking without an opening tag</think>\n\nanswer",
            "answer",
        );
    }

    #[test]
    fn a_retraction_is_reported_when_thinking_was_already_let_through() {
        let mut filter = ThinkFilter::new();
        let first = filter.push("so the user wants");
        assert_eq!(first.text, "so the user wants");
        let second = filter.push(" a list</think>\n\n- item");
        assert!(second.retract);
        assert_eq!(second.text, "- item");
    }

    #[test]
    fn a_stray_close_after_a_proper_block_is_dropped_without_retracting() {
        let mut filter = ThinkFilter::new();
        let first = filter.push("<think>x</think>answer");
        let second = filter.push(" more</think> end");
        assert_eq!(first.text, "answer");
        assert!(!second.retract);
        assert_eq!(second.text, " more end");
    }

    #[test]
    fn an_unclosed_block_is_dropped() {
        assert_eq!(strip_thinking("<think>ran out of tokens while thin"), "");
        assert_every_split("answer<think>ran out", "answer");
    }

    #[test]
    fn a_partial_tag_at_the_end_is_plain_text() {
        assert_eq!(strip_thinking("x <thi"), "x <thi");
        assert_eq!(strip_thinking("x </thin"), "x </thin");
    }

    #[test]
    fn only_thinking_leaves_nothing() {
        assert_eq!(strip_thinking("<think>only</think>\n\n  "), "");
    }

    #[test]
    fn korean_text_split_anywhere_is_safe() {
        assert_every_split("<think>생각</think>회의 일정: 3시", "회의 일정: 3시");
    }

    #[test]
    fn streamed_text_is_held_back_only_for_a_possible_tag() {
        let mut filter = ThinkFilter::new();
        assert_eq!(filter.push("Hello </th").text, "Hello ");
        assert_eq!(filter.push("ere").text, "</there");
    }
}
