//! A small document model the structured engines (DOCX, HWPX, HWP 5.0) fill, rendered once
//! to plain text and to Markdown so every format renders headings, lists and tables alike.

use crate::{Budget, ExtractError, Extracted};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    Heading {
        level: u8,
        text: String,
    },
    Paragraph(String),
    ListItem {
        depth: u8,
        ordered: bool,
        text: String,
    },
    Table(Vec<Vec<String>>),
}

/// Collects blocks, refusing once the text outgrows [`crate::Limits::max_output_chars`].
pub(crate) struct DocBuilder {
    blocks: Vec<Block>,
    chars: usize,
    max_chars: usize,
}

impl DocBuilder {
    pub(crate) fn new(budget: &Budget) -> Self {
        Self {
            blocks: Vec::new(),
            chars: 0,
            max_chars: budget.limits.max_output_chars,
        }
    }

    pub(crate) fn push(&mut self, block: Block) -> Result<(), ExtractError> {
        let added = match &block {
            Block::Heading { text, .. } | Block::Paragraph(text) | Block::ListItem { text, .. } => {
                if text.trim().is_empty() {
                    return Ok(());
                }
                text.len()
            }
            Block::Table(rows) => {
                if rows.iter().all(|r| r.iter().all(|c| c.trim().is_empty())) {
                    return Ok(());
                }
                rows.iter().flatten().map(String::len).sum()
            }
        };
        self.chars += added;
        if self.chars > self.max_chars.saturating_mul(4) {
            return Err(ExtractError::TooLarge {
                reason: format!(
                    "its text is over the limit of {} characters",
                    self.max_chars
                ),
            });
        }
        self.blocks.push(block);
        Ok(())
    }

    pub(crate) fn finish(self, title: Option<String>, engine: &str) -> Extracted {
        let (text, markdown) = render(&self.blocks);
        // A title without a letter ("3", "-") is a leftover, not a title.
        let title = title
            .map(|t| t.trim().to_owned())
            .filter(|t| t.chars().any(char::is_alphabetic))
            .or_else(|| {
                self.blocks.iter().find_map(|b| match b {
                    Block::Heading { level: 1, text } => Some(text.trim().to_owned()),
                    _ => None,
                })
            });
        Extracted {
            text,
            markdown,
            pages: Vec::new(),
            page_count: None,
            title,
            engine: engine.to_owned(),
        }
    }
}

/// Plain text (blocks apart by a blank line, list items and table rows one a line, cells by a
/// tab) and Markdown (ATX headings, `-`/`1.` lists indented two spaces a level, pipe tables).
pub(crate) fn render(blocks: &[Block]) -> (String, String) {
    let mut text = String::new();
    let mut md = String::new();
    let mut previous_was_item = false;
    for block in blocks {
        let is_item = matches!(block, Block::ListItem { .. });
        if !text.is_empty() {
            let sep = if is_item && previous_was_item {
                "\n"
            } else {
                "\n\n"
            };
            text.push_str(sep);
            md.push_str(sep);
        }
        previous_was_item = is_item;
        match block {
            Block::Heading { level, text: t } => {
                let t = one_line(t);
                text.push_str(&t);
                md.push_str(&"#".repeat(usize::from((*level).clamp(1, 6))));
                md.push(' ');
                md.push_str(&t);
            }
            Block::Paragraph(t) => {
                let t = t.trim_end();
                text.push_str(t);
                for (i, line) in t.lines().enumerate() {
                    if i > 0 {
                        md.push_str("  \n");
                    }
                    // Leading spaces are layout; four of them would make a code block.
                    md.push_str(&escape_line_start(line.trim_start()));
                }
            }
            Block::ListItem {
                depth,
                ordered,
                text: t,
            } => {
                let t = one_line(t);
                text.push_str(&t);
                md.push_str(&"  ".repeat(usize::from(*depth).min(8)));
                md.push_str(if *ordered { "1. " } else { "- " });
                md.push_str(&t);
            }
            Block::Table(rows) => {
                let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        text.push('\n');
                        md.push('\n');
                    }
                    let cells: Vec<String> = row.iter().map(|c| one_line(c)).collect();
                    text.push_str(&cells.join("\t"));
                    md.push('|');
                    for c in 0..width {
                        md.push(' ');
                        md.push_str(
                            &cells
                                .get(c)
                                .map_or(String::new(), |c| c.replace('|', "\\|")),
                        );
                        md.push_str(" |");
                    }
                    if i == 0 {
                        md.push_str("\n|");
                        md.push_str(&" --- |".repeat(width));
                    }
                }
            }
        }
    }
    (text, md)
}

/// Collapses a cell's or heading's inner line breaks and runs of spaces to one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keeps a line of plain text from being read as Markdown structure (a heading, a list item,
/// a quote) by escaping its first character where that would happen.
fn escape_line_start(line: &str) -> String {
    let trimmed = line.trim_start();
    let structural = trimmed.starts_with(['#', '>', '-', '+', '*', '|', '=', '`', '~'])
        || trimmed.split_once(['.', ')']).is_some_and(|(n, _)| {
            !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit())
        });
    if structural {
        let indent = &line[..line.len() - trimmed.len()];
        if let Some(first) = trimmed.chars().next() {
            if first.is_ascii_digit() {
                let (n, rest) = trimmed.split_at(trimmed.find(['.', ')']).unwrap_or(0));
                return format!("{indent}{n}\\{rest}");
            }
            return format!("{indent}\\{trimmed}");
        }
    }
    line.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_headings_lists_and_tables_as_markdown() {
        let blocks = vec![
            Block::Heading {
                level: 1,
                text: "보고서 Report".into(),
            },
            Block::Paragraph("# not a heading\n1. not a list".into()),
            Block::ListItem {
                depth: 0,
                ordered: false,
                text: "하나".into(),
            },
            Block::ListItem {
                depth: 1,
                ordered: true,
                text: "둘".into(),
            },
            Block::Table(vec![
                vec!["이름".into(), "값".into()],
                vec!["a|b".into(), "2".into()],
            ]),
        ];
        let (text, md) = render(&blocks);
        assert_eq!(
            md,
            "# 보고서 Report\n\n\\# not a heading  \n1\\. not a list\n\n- 하나\n  1. 둘\n\n| 이름 | 값 |\n| --- | --- |\n| a\\|b | 2 |"
        );
        assert_eq!(
            text,
            "보고서 Report\n\n# not a heading\n1. not a list\n\n하나\n둘\n\n이름\t값\na|b\t2"
        );
    }
}
