//! Long text drafted in sections that follow its structure.
//!
//! A model has a context window (a few thousand tokens on a small local model), and a server
//! that receives more does not refuse it: Ollama cuts the prompt from the front, so the
//! instructions go first and the model rewrites text it was never told how to treat. So no
//! call carries more than `[draft] context_budget_chars` characters of the text. Longer text
//! is cut where its Markdown structure allows — before a heading, between paragraphs, and
//! only inside a paragraph longer than the budget (at a line break, a sentence end, a space:
//! `jaryo_text::chunk_markdown`'s rules) — into as few sections as fit. Each is drafted on
//! its own and the drafts are joined in order; the fidelity check then reads the whole draft
//! against the whole text, and the person reviews the whole.
//!
//! Drafting in sections rather than refusing: the person's long memo is still the one that
//! most needs a tidy draft, and each section is a complete run of paragraphs under its
//! headings, so nothing is cut mid-sentence unless a single paragraph exceeds the budget.

use jaryo_text::{ChunkConfig, chunk_markdown};

/// The smallest budget jaryo accepts: below it, headings and their paragraphs would be split
/// apart for no model anyone runs.
pub const MIN_CONTEXT_BUDGET_CHARS: usize = 500;

/// `text` cut into consecutive sections of at most `budget` characters each (a single
/// grapheme cluster longer than that aside), in order, together covering every
/// non-whitespace character; the whitespace between two sections is dropped. Text within the
/// budget is one section, itself.
pub fn sections(text: &str, budget: usize) -> Vec<&str> {
    let budget = budget.max(MIN_CONTEXT_BUDGET_CHARS);
    if text.chars().count() <= budget {
        return vec![text];
    }
    let config = ChunkConfig {
        max_chars: budget,
        overlap_chars: 0,
    };
    let chunks = chunk_markdown(text, &config);
    let mut sections = Vec::new();
    let mut current: Option<std::ops::Range<usize>> = None;
    for chunk in chunks {
        current = match current {
            // Pack the next block into the section while the whole stays within the budget.
            Some(range) if text[range.start..chunk.range.end].chars().count() <= budget => {
                Some(range.start..chunk.range.end)
            }
            Some(range) => {
                sections.push(&text[range]);
                Some(chunk.range)
            }
            None => Some(chunk.range),
        };
    }
    sections.extend(current.map(|range| &text[range]));
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    fn non_space(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn short_text_is_one_section_untouched() {
        let text = "  # 회의\n\n짧은 메모 ";
        assert_eq!(sections(text, 3_000), [text]);
    }

    #[test]
    fn long_text_is_cut_before_headings_and_between_paragraphs_within_the_budget() {
        let paragraph = "예산 회의에서 정한 내용을 정리한다. ".repeat(12);
        let mut text = String::new();
        for part in ["# 일정", "# 예산", "# 담당"] {
            text.push_str(part);
            text.push_str("\n\n");
            for _ in 0..3 {
                text.push_str(&paragraph);
                text.push_str("\n\n");
            }
        }
        let cut = sections(&text, 1_000);
        assert!(cut.len() > 1, "{} sections", cut.len());
        for section in &cut {
            assert!(section.chars().count() <= 1_000);
            assert!(!section.starts_with(char::is_whitespace));
        }
        assert!(cut.iter().any(|section| section.starts_with("# 예산")));
        assert_eq!(
            non_space(&cut.concat()),
            non_space(&text),
            "nothing lost, in order"
        );
    }

    #[test]
    fn one_huge_paragraph_is_cut_at_sentence_ends() {
        let text = "The backup runs at 02:00 and Alice checks it. ".repeat(100);
        let cut = sections(&text, 600);
        assert!(cut.len() >= 8);
        for section in &cut[..cut.len() - 1] {
            assert!(section.chars().count() <= 600);
            assert!(section.ends_with('.'), "{section:?}");
        }
        assert_eq!(non_space(&cut.concat()), non_space(&text));
    }

    #[test]
    fn a_budget_below_the_minimum_is_raised_to_it() {
        let text = "가나다라마바사. ".repeat(200);
        for section in sections(&text, 10) {
            assert!(section.chars().count() <= MIN_CONTEXT_BUDGET_CHARS);
            assert!(section.chars().count() > 100);
        }
    }
}
