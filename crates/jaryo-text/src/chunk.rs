//! The chunker: a document's original text cut into bounded, heading- and paragraph-aware
//! chunks, each a byte range of that text.
//!
//! The text is read as Markdown blocks, line by line: ATX (`## …`) and setext (`…` over
//! `===`/`---`) headings, fenced code blocks (kept whole where they fit, never read for
//! headings), and paragraphs separated by blank lines. Then:
//!
//! - a heading always starts a new chunk; chunks never run across one, and each chunk carries
//!   the path of headings it sits under (`["설치", "SQLite"]`);
//! - consecutive paragraphs are packed into one chunk while it stays within `max_chars`;
//! - a paragraph longer than `max_chars` is split, cutting preferably at a line break, then a
//!   sentence end, then a space, and only then between any two grapheme clusters; each piece
//!   after the first starts up to `overlap_chars` before the previous piece ended (at a word
//!   start where possible), so a sentence cut in two is whole in one of them.
//!
//! Invariants (held by property tests): chunks are in order with strictly increasing starts;
//! every range lies on grapheme-cluster boundaries of the original, so slicing the original
//! with it never fails and never splits a syllable or a letter from its accents; a chunk has no
//! leading or trailing whitespace; a chunk is at most `max_chars` characters unless it is a
//! single grapheme cluster longer than that; every non-whitespace character of the text is in
//! some chunk; overlapping neighbours share at most `overlap_chars` characters. The result
//! depends only on the text and the config.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use unicode_segmentation::{GraphemeCursor, UnicodeSegmentation};

/// Chunking settings. Flat fields, so the environment variables `JARYO_CHUNK_MAX_CHARS` and
/// `JARYO_CHUNK_OVERLAP_CHARS` map onto them ([`ChunkConfig::ENV_PREFIX`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChunkConfig {
    /// Largest chunk, in characters (Unicode scalar values) of the original text.
    pub max_chars: usize,
    /// Characters a piece of a split paragraph repeats from the end of the previous piece.
    pub overlap_chars: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            max_chars: 1200,
            overlap_chars: 150,
        }
    }
}

/// A chunk configuration that cannot work.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChunkConfigError {
    #[error("chunk max_chars must be at least {min}, got {got}")]
    MaxCharsTooSmall { min: usize, got: usize },
    #[error("chunk overlap_chars must be at most half of max_chars ({max}), got {got}")]
    OverlapTooLarge { max: usize, got: usize },
}

impl ChunkConfig {
    /// Prefix of the environment variables that configure chunking.
    pub const ENV_PREFIX: &'static str = "JARYO_CHUNK_";
    /// Smallest accepted `max_chars`.
    pub const MIN_MAX_CHARS: usize = 32;

    /// Checks the settings; [`chunk_markdown`] clamps bad ones rather than failing, so call
    /// this where configuration is loaded to tell the user.
    pub fn validate(&self) -> Result<(), ChunkConfigError> {
        if self.max_chars < Self::MIN_MAX_CHARS {
            return Err(ChunkConfigError::MaxCharsTooSmall {
                min: Self::MIN_MAX_CHARS,
                got: self.max_chars,
            });
        }
        if self.overlap_chars > self.max_chars / 2 {
            return Err(ChunkConfigError::OverlapTooLarge {
                max: self.max_chars / 2,
                got: self.overlap_chars,
            });
        }
        Ok(())
    }
}

/// One chunk of a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// Position among the document's chunks, from 0.
    pub index: usize,
    /// Byte range of the original text.
    pub range: Range<usize>,
    /// Titles of the headings this chunk sits under, outermost first.
    pub heading_path: Vec<String>,
}

impl Chunk {
    /// The chunk's text, sliced from the original it was computed from.
    pub fn text<'a>(&self, original: &'a str) -> &'a str {
        &original[self.range.clone()]
    }
}

#[derive(Debug)]
enum BlockKind {
    Heading { level: usize, title: String },
    Text,
}

#[derive(Debug)]
struct Block {
    kind: BlockKind,
    range: Range<usize>,
}

/// One line: where it starts, where its content ends (before `\r\n`/`\n`).
struct Line<'a> {
    start: usize,
    end: usize,
    content: &'a str,
}

fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let mut offset = 0;
    std::iter::from_fn(move || {
        if offset >= text.len() {
            return None;
        }
        let start = offset;
        let rest = &text[start..];
        let (content_len, advance) = match rest.find('\n') {
            Some(newline) => (newline, newline + 1),
            None => (rest.len(), rest.len()),
        };
        let content = rest[..content_len]
            .strip_suffix('\r')
            .unwrap_or(&rest[..content_len]);
        offset += advance;
        Some(Line {
            start,
            end: start + content.len(),
            content,
        })
    })
}

/// Strips up to three spaces of indentation; `None` if indented further (code, not structure).
fn unindent(line: &str) -> Option<&str> {
    let stripped = line.trim_start_matches(' ');
    (line.len() - stripped.len() <= 3).then_some(stripped)
}

fn atx_heading(line: &str) -> Option<(usize, String)> {
    let line = unindent(line)?;
    let level = line.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let mut title = rest.trim();
    // A closing run of #s is decoration only when set off by a space ("# C#" keeps its #).
    let without_closing = title.trim_end_matches('#');
    if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        title = without_closing.trim_end();
    }
    Some((level, title.to_owned()))
}

fn fence_open(line: &str) -> Option<(u8, usize)> {
    let line = unindent(line)?;
    let marker = *line.as_bytes().first()?;
    if marker != b'`' && marker != b'~' {
        return None;
    }
    let len = line.bytes().take_while(|&b| b == marker).count();
    (len >= 3).then_some((marker, len))
}

fn closes_fence(line: &str, marker: u8, open_len: usize) -> bool {
    let Some(line) = unindent(line) else {
        return false;
    };
    let len = line.bytes().take_while(|&b| b == marker).count();
    len >= open_len && line[len..].trim().is_empty()
}

fn setext_level(line: &str) -> Option<usize> {
    let line = unindent(line)?.trim_end();
    let first = *line.as_bytes().first()?;
    let level = match first {
        b'=' => 1,
        b'-' => 2,
        _ => return None,
    };
    line.bytes().all(|b| b == first).then_some(level)
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    // The open paragraph: its range and the lines it has so far (for a setext title).
    let mut paragraph: Option<(Range<usize>, Vec<&str>)> = None;
    let mut fence: Option<(u8, usize, Range<usize>)> = None;
    let close_paragraph = |paragraph: &mut Option<(Range<usize>, Vec<&str>)>,
                           blocks: &mut Vec<Block>| {
        if let Some((range, _)) = paragraph.take() {
            blocks.push(Block {
                kind: BlockKind::Text,
                range,
            });
        }
    };
    for line in lines(text) {
        if let Some((marker, open_len, range)) = fence.as_mut() {
            range.end = line.end;
            if closes_fence(line.content, *marker, *open_len) {
                let (_, _, range) = fence.take().expect("fence is open");
                blocks.push(Block {
                    kind: BlockKind::Text,
                    range,
                });
            }
            continue;
        }
        if line.content.trim().is_empty() {
            close_paragraph(&mut paragraph, &mut blocks);
            continue;
        }
        if let Some((marker, open_len)) = fence_open(line.content) {
            close_paragraph(&mut paragraph, &mut blocks);
            fence = Some((marker, open_len, line.start..line.end));
            continue;
        }
        if let Some((level, title)) = atx_heading(line.content) {
            close_paragraph(&mut paragraph, &mut blocks);
            blocks.push(Block {
                kind: BlockKind::Heading { level, title },
                range: line.start..line.end,
            });
            continue;
        }
        if let Some(level) = setext_level(line.content)
            && let Some((range, title_lines)) = paragraph.take()
        {
            let title = title_lines
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ");
            blocks.push(Block {
                kind: BlockKind::Heading { level, title },
                range: range.start..line.end,
            });
            continue;
        }
        match paragraph.as_mut() {
            Some((range, title_lines)) => {
                range.end = line.end;
                title_lines.push(line.content);
            }
            None => paragraph = Some((line.start..line.end, vec![line.content])),
        }
    }
    if let Some((_, _, range)) = fence {
        blocks.push(Block {
            kind: BlockKind::Text,
            range,
        });
    }
    close_paragraph(&mut paragraph, &mut blocks);
    blocks
}

/// The chunk being packed.
struct OpenChunk {
    range: Range<usize>,
    chars: usize,
    heading_path: Vec<String>,
    has_body: bool,
}

struct Chunker<'a> {
    text: &'a str,
    max_chars: usize,
    overlap_chars: usize,
    chunks: Vec<Chunk>,
}

/// Splits `text` into chunks; see the module docs for the rules and invariants.
pub fn chunk_markdown(text: &str, config: &ChunkConfig) -> Vec<Chunk> {
    let max_chars = config.max_chars.max(ChunkConfig::MIN_MAX_CHARS);
    let mut chunker = Chunker {
        text,
        max_chars,
        overlap_chars: config.overlap_chars.min(max_chars / 2),
        chunks: Vec::new(),
    };
    let mut headings: Vec<(usize, String)> = Vec::new();
    let mut open: Option<OpenChunk> = None;
    for block in blocks(text) {
        let block_chars = text[block.range.clone()].chars().count();
        match block.kind {
            BlockKind::Heading { level, title } => {
                let is_child = headings.last().is_some_and(|(parent, _)| *parent < level);
                if let Some(mut current) = open.take() {
                    let gap_chars = text[current.range.end..block.range.start].chars().count();
                    let joined = current.chars + gap_chars + block_chars;
                    if !current.has_body && is_child && joined <= max_chars {
                        // "# Guide" straight above "## Install": one chunk, not a bare title.
                        current.range.end = block.range.end;
                        current.chars = joined;
                        headings.push((level, title));
                        current.heading_path =
                            headings.iter().map(|(_, title)| title.clone()).collect();
                        open = Some(current);
                        continue;
                    }
                    chunker.close(current);
                }
                while headings
                    .last()
                    .is_some_and(|(open_level, _)| *open_level >= level)
                {
                    headings.pop();
                }
                headings.push((level, title));
                open = Some(OpenChunk {
                    range: block.range,
                    chars: block_chars,
                    heading_path: headings.iter().map(|(_, title)| title.clone()).collect(),
                    has_body: false,
                });
            }
            BlockKind::Text => {
                let heading_path: Vec<String> =
                    headings.iter().map(|(_, title)| title.clone()).collect();
                open = match open.take() {
                    Some(mut current) => {
                        let gap_chars = text[current.range.end..block.range.start].chars().count();
                        let joined = current.chars + gap_chars + block_chars;
                        if joined <= max_chars {
                            current.range.end = block.range.end;
                            current.chars = joined;
                            current.has_body = true;
                            Some(current)
                        } else if !current.has_body {
                            // A heading alone would be a useless chunk: split it together with
                            // its first paragraph instead.
                            chunker
                                .split(current.range.start..block.range.end, current.heading_path)
                        } else {
                            chunker.close(current);
                            chunker.start(block.range, block_chars, heading_path)
                        }
                    }
                    None => chunker.start(block.range, block_chars, heading_path),
                };
            }
        }
    }
    if let Some(done) = open {
        chunker.close(done);
    }
    chunker.chunks
}

impl Chunker<'_> {
    /// Opens a chunk with one block, splitting the block first if it is too long.
    fn start(
        &mut self,
        range: Range<usize>,
        chars: usize,
        heading_path: Vec<String>,
    ) -> Option<OpenChunk> {
        if chars <= self.max_chars {
            Some(OpenChunk {
                range,
                chars,
                heading_path,
                has_body: true,
            })
        } else {
            self.split(range, heading_path)
        }
    }

    fn close(&mut self, open: OpenChunk) {
        if open.chars > self.max_chars {
            if let Some(last) = self.split(open.range, open.heading_path) {
                self.close(last);
            }
            return;
        }
        self.push(open.range, open.heading_path);
    }

    fn push(&mut self, range: Range<usize>, heading_path: Vec<String>) {
        let range = trim_blank(self.text, range);
        if !range.is_empty() {
            self.chunks.push(Chunk {
                index: self.chunks.len(),
                range,
                heading_path,
            });
        }
    }

    /// Cuts `range` into pieces of at most `max_chars`; pushes all but the last, which is
    /// returned open so following paragraphs can still join it.
    fn split(&mut self, range: Range<usize>, heading_path: Vec<String>) -> Option<OpenChunk> {
        let text = self.text;
        // Split only the content: a cut before trailing blanks must end the loop, not leave a
        // blank remainder that would become a repeated, overlapping piece.
        let Range {
            start: mut pos,
            end,
        } = trim_blank(text, range);
        // Each piece must take in text past the previous cut (not just the blank after it), or
        // an overlapping piece could find the same best cut again and repeat a piece.
        let mut previous_cut = pos;
        while pos < end {
            let limit = advance_chars(text, pos, self.max_chars, end);
            if limit >= end {
                let chars = text[pos..end].chars().count();
                return Some(OpenChunk {
                    range: pos..end,
                    chars,
                    heading_path,
                    has_body: true,
                });
            }
            let mut limit = grapheme_floor(text, limit);
            if limit <= pos {
                // One grapheme cluster longer than max_chars: keep it whole.
                limit = grapheme_ceil(text, advance_chars(text, pos, 1, end)).min(end);
            }
            let earliest = advance_chars(text, pos, self.max_chars / 2, end)
                .max(advance_chars(
                    text,
                    trim_blank(text, previous_cut..end).start,
                    1,
                    end,
                ))
                .min(limit);
            let cut = best_cut(text, earliest, limit).unwrap_or(limit);
            previous_cut = cut;
            self.push(pos..cut, heading_path.clone());
            let next = if self.overlap_chars == 0 {
                cut
            } else {
                let back = retreat_chars(text, cut, self.overlap_chars)
                    .max(advance_chars(text, pos, 1, end));
                word_start_at_or_after(text, back, cut).unwrap_or_else(|| grapheme_ceil(text, back))
            };
            let next = if next <= pos || next > cut { cut } else { next };
            pos = trim_blank(text, next..end).start;
        }
        None
    }
}

/// Byte offset `count` characters after `from`, at most `limit`.
fn advance_chars(text: &str, from: usize, count: usize, limit: usize) -> usize {
    text[from..limit]
        .char_indices()
        .nth(count)
        .map_or(limit, |(offset, _)| from + offset)
}

/// Byte offset `count` characters before `from` (or 0).
fn retreat_chars(text: &str, from: usize, count: usize) -> usize {
    if count == 0 {
        return from;
    }
    text[..from]
        .char_indices()
        .rev()
        .nth(count - 1)
        .map_or(0, |(offset, _)| offset)
}

fn is_grapheme_boundary(text: &str, offset: usize) -> bool {
    text.is_char_boundary(offset)
        && GraphemeCursor::new(offset, text.len(), true)
            .is_boundary(text, 0)
            .unwrap_or(false)
}

fn grapheme_floor(text: &str, offset: usize) -> usize {
    if is_grapheme_boundary(text, offset) {
        return offset;
    }
    let mut cursor = GraphemeCursor::new(offset, text.len(), true);
    cursor.prev_boundary(text, 0).ok().flatten().unwrap_or(0)
}

fn grapheme_ceil(text: &str, offset: usize) -> usize {
    if is_grapheme_boundary(text, offset) {
        return offset;
    }
    let mut cursor = GraphemeCursor::new(offset, text.len(), true);
    cursor
        .next_boundary(text, 0)
        .ok()
        .flatten()
        .unwrap_or(text.len())
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '。' | '！' | '？' | '…')
}

/// The best place to end a piece in `earliest..=limit`: the last line break, else the last
/// sentence end, else the last space; `None` when the stretch has none of them.
fn best_cut(text: &str, earliest: usize, limit: usize) -> Option<usize> {
    let mut best: Option<(u8, usize)> = None;
    let mut previous: Option<char> = text[..earliest].chars().next_back();
    for (relative, c) in text[earliest..limit.min(text.len())].char_indices() {
        let offset = earliest + relative;
        let rank = match (previous, c) {
            (Some('\n'), _) => 3,
            (Some(p), w) if w.is_whitespace() && is_sentence_end(p) => 2,
            (Some(p), w) if w.is_whitespace() && !p.is_whitespace() => 1,
            _ => 0,
        };
        if rank > 0
            && best.is_none_or(|(best_rank, _)| rank >= best_rank)
            && is_grapheme_boundary(text, offset)
        {
            best = Some((rank, offset));
        }
        previous = Some(c);
    }
    // `limit` itself is a candidate too when a break sits right there.
    if limit < text.len() && limit > earliest {
        let before = text[..limit].chars().next_back();
        let at = text[limit..].chars().next();
        let rank = match (before, at) {
            (Some('\n'), _) => 3,
            (Some(p), Some(w)) if w.is_whitespace() && is_sentence_end(p) => 2,
            (Some(p), Some(w)) if w.is_whitespace() && !p.is_whitespace() => 1,
            _ => 0,
        };
        if rank > 0 && best.is_none_or(|(best_rank, _)| rank >= best_rank) {
            best = Some((rank, limit));
        }
    }
    best.map(|(_, offset)| offset)
}

/// The first word start (a non-space right after a space) in `from..until`.
fn word_start_at_or_after(text: &str, from: usize, until: usize) -> Option<usize> {
    let mut previous = text[..from].chars().next_back();
    for (relative, c) in text[from..until].char_indices() {
        let offset = from + relative;
        if previous.is_some_and(char::is_whitespace)
            && !c.is_whitespace()
            && is_grapheme_boundary(text, offset)
        {
            return Some(offset);
        }
        previous = Some(c);
    }
    None
}

/// `range` without leading and trailing whitespace-only grapheme clusters.
fn trim_blank(text: &str, range: Range<usize>) -> Range<usize> {
    let slice = &text[range.clone()];
    let is_blank = |g: &str| g.chars().all(char::is_whitespace);
    let Some((first, _)) = slice.grapheme_indices(true).find(|(_, g)| !is_blank(g)) else {
        return range.end..range.end;
    };
    let last_end = slice
        .grapheme_indices(true)
        .rev()
        .find(|(_, g)| !is_blank(g))
        .map_or(slice.len(), |(offset, g)| offset + g.len());
    range.start + first..range.start + last_end
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn texts<'a>(text: &'a str, chunks: &[Chunk]) -> Vec<&'a str> {
        chunks.iter().map(|c| c.text(text)).collect()
    }

    #[test]
    fn headings_start_chunks_and_paragraphs_pack_together() {
        let text = "도입 문단.\n\n# 설치\n\n첫 문단.\n\n둘째 문단.\n\n## SQLite\n\n파일 하나.\n";
        let chunks = chunk_markdown(text, &ChunkConfig::default());
        assert_eq!(
            texts(text, &chunks),
            [
                "도입 문단.",
                "# 설치\n\n첫 문단.\n\n둘째 문단.",
                "## SQLite\n\n파일 하나."
            ]
        );
        let paths: Vec<Vec<String>> = chunks.iter().map(|c| c.heading_path.clone()).collect();
        assert_eq!(
            paths,
            [
                vec![],
                vec!["설치".to_owned()],
                vec!["설치".to_owned(), "SQLite".to_owned()]
            ]
        );
        assert_eq!(
            chunks.iter().map(|c| c.index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    #[test]
    fn setext_headings_and_sibling_levels_update_the_path() {
        let text = "Title\n=====\n\nintro\n\n## A\n\na\n\n## B\n\nb\n\nSub\n---\n\nc";
        let chunks = chunk_markdown(text, &ChunkConfig::default());
        let paths: Vec<String> = chunks.iter().map(|c| c.heading_path.join(" > ")).collect();
        assert_eq!(paths, ["Title", "Title > A", "Title > B", "Title > Sub"]);
    }

    #[test]
    fn hashes_inside_code_fences_are_not_headings() {
        let text = "# Real\n\n```sh\n# not a heading\necho hi\n```\n";
        let chunks = chunk_markdown(text, &ChunkConfig::default());
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].heading_path, ["Real"]);
        assert_eq!(chunks[0].text(text), text.trim_end());
    }

    #[test]
    fn paragraphs_that_do_not_fit_together_go_to_separate_chunks() {
        let first = "가".repeat(30);
        let second = "나".repeat(30);
        let text = format!("{first}\n\n{second}");
        let config = ChunkConfig {
            max_chars: 40,
            overlap_chars: 5,
        };
        assert_eq!(
            texts(&text, &chunk_markdown(&text, &config)),
            [first.as_str(), second.as_str()]
        );
    }

    #[test]
    fn long_paragraphs_split_at_sentence_ends_with_overlap() {
        let sentence = "서버를 재시작했다. ";
        let text = sentence.repeat(12);
        let config = ChunkConfig {
            max_chars: 50,
            overlap_chars: 12,
        };
        let chunks = chunk_markdown(&text, &config);
        assert!(chunks.len() > 2);
        for (i, chunk) in chunks.iter().enumerate() {
            let piece = chunk.text(&text);
            assert!(piece.chars().count() <= 50);
            if i + 1 < chunks.len() {
                assert!(piece.ends_with("다."), "{piece:?} should end a sentence");
            }
            if i > 0 {
                let previous = &chunks[i - 1];
                assert!(chunk.range.start < previous.range.end, "pieces overlap");
                assert!(text[chunk.range.start..previous.range.end].chars().count() <= 12);
            }
        }
    }

    #[test]
    fn a_heading_is_split_together_with_its_long_first_paragraph() {
        let text = format!("# 제목\n\n{}", "단어 ".repeat(40));
        let config = ChunkConfig {
            max_chars: 60,
            overlap_chars: 0,
        };
        let chunks = chunk_markdown(&text, &config);
        assert!(chunks[0].text(&text).starts_with("# 제목\n\n단어"));
        assert!(chunks.iter().all(|c| c.heading_path == ["제목"]));
    }

    #[test]
    fn nfd_text_is_never_cut_inside_a_syllable() {
        let text: String = "가나다라마바사아자차카타파하".repeat(10).nfd().collect();
        let config = ChunkConfig {
            max_chars: 37,
            overlap_chars: 7,
        };
        for chunk in chunk_markdown(&text, &config) {
            assert!(is_grapheme_boundary(&text, chunk.range.start));
            assert!(is_grapheme_boundary(&text, chunk.range.end));
            let recomposed: String = chunk.text(&text).nfc().collect();
            assert!(recomposed.chars().all(|c| ('가'..='힣').contains(&c)));
        }
    }

    #[test]
    fn blank_text_has_no_chunks() {
        assert!(chunk_markdown(" \n\n\t \r\n", &ChunkConfig::default()).is_empty());
    }

    #[test]
    fn config_deserializes_flat_with_defaults_and_validates() {
        let config: ChunkConfig = serde_json::from_str(r#"{"max_chars": 500}"#).unwrap();
        assert_eq!(
            config,
            ChunkConfig {
                max_chars: 500,
                overlap_chars: 150
            }
        );
        assert_eq!(config.validate(), Ok(()));
        let bad = ChunkConfig {
            max_chars: 100,
            overlap_chars: 60,
        };
        assert_eq!(
            bad.validate(),
            Err(ChunkConfigError::OverlapTooLarge { max: 50, got: 60 })
        );
        assert!(serde_json::from_str::<ChunkConfig>(r#"{"max_char": 5}"#).is_err());
    }
}
