//! Row sizes kept beside an FTS5 table, in blocks, so that `jaryo_rank` reads the sizes of
//! a few hundred rows with one blob read instead of a B-tree seek per row.
//!
//! BM25 normalises each row's score by its length. FTS5 keeps the lengths in its `%_docsize`
//! table, one row per indexed row: reading them cost a ranked row more than everything else
//! about it (a seek from the root of that B-tree each time, since the rows a query ranks are
//! scattered). Here the lengths of [`ROWS_PER_BLOCK`] consecutive row ids share one row of a
//! plain table, `(block INTEGER PRIMARY KEY, sizes BLOB)`, the sizes as little-endian `u32`s:
//! a query's rows come in row-id order, so it reads each block once.
//!
//! The writer of the FTS5 table keeps the blocks in step, in the same transaction as each
//! row it writes: [`row_tokens`] counts a row's tokens as FTS5's `ascii` tokenizer does, and
//! [`Block`] sets them. A slot of 0 means "unknown" (a row never written, or written by code
//! that did not keep the blocks): `jaryo_rank` asks FTS5 for that row's size instead, so the
//! blocks make ranking faster and can never make it wrong. Nor can they go stale silently:
//! each query checks its first row's size against FTS5's and, should they differ, ranks with
//! FTS5's sizes alone.

/// Row ids whose sizes share one block.
pub const ROWS_PER_BLOCK: i64 = 256;

/// Bytes of one block's `sizes`.
pub const BLOCK_BYTES: usize = ROWS_PER_BLOCK as usize * 4;

/// The block holding `rowid`'s size.
pub fn block_of(rowid: i64) -> i64 {
    rowid.div_euclid(ROWS_PER_BLOCK)
}

/// The position of `rowid`'s size in its block.
fn slot_of(rowid: i64) -> usize {
    // A remainder of division by 256 is below 256.
    rowid.rem_euclid(ROWS_PER_BLOCK) as usize
}

/// The tokens FTS5's `ascii` tokenizer finds in `text`: runs of ASCII letters and digits and
/// of non-ASCII bytes (which it treats as token characters), split by any other ASCII byte.
pub fn text_tokens(text: &str) -> u32 {
    let mut tokens = 0u32;
    let mut in_token = false;
    for &byte in text.as_bytes() {
        let token_byte = byte >= 0x80 || byte.is_ascii_alphanumeric();
        if token_byte && !in_token {
            tokens = tokens.saturating_add(1);
        }
        in_token = token_byte;
    }
    tokens
}

/// The size FTS5 records for a row with these column values: all its columns' tokens.
pub fn row_tokens<'a>(columns: impl IntoIterator<Item = &'a str>) -> u32 {
    columns
        .into_iter()
        .map(text_tokens)
        .fold(0, u32::saturating_add)
}

/// One block's sizes, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    bytes: Vec<u8>,
}

impl Default for Block {
    fn default() -> Self {
        Self {
            bytes: vec![0; BLOCK_BYTES],
        }
    }
}

impl Block {
    /// A block as stored; anything but [`BLOCK_BYTES`] bytes is not one, and reads as empty.
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        if bytes.len() == BLOCK_BYTES {
            Self { bytes }
        } else {
            Self::default()
        }
    }

    /// Records `rowid`'s size; the row id must be in this block.
    pub fn set(&mut self, rowid: i64, tokens: u32) {
        let at = slot_of(rowid) * 4;
        self.bytes[at..at + 4].copy_from_slice(&tokens.to_le_bytes());
    }

    /// `rowid`'s size, or `None` if unknown.
    pub fn get(&self, rowid: i64) -> Option<u32> {
        size_in(&self.bytes, rowid)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// `rowid`'s size in a block's bytes, or `None` if unknown.
pub(crate) fn size_in(bytes: &[u8], rowid: i64) -> Option<u32> {
    let at = slot_of(rowid) * 4;
    let size = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
    (size > 0).then_some(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_as_the_ascii_tokenizer_splits_them() {
        assert_eq!(text_tokens(""), 0);
        assert_eq!(text_tokens("axum 서버 버를"), 3);
        assert_eq!(text_tokens("  two  words "), 2);
        // ASCII punctuation splits; non-ASCII letters and symbols do not.
        assert_eq!(text_tokens("c++ v0.1-rc"), 4);
        assert_eq!(text_tokens("a…b ü"), 2);
        assert_eq!(row_tokens(["회의 의록", "", "axum"]), 3);
    }

    #[test]
    fn each_row_of_a_block_has_its_own_slot() {
        let mut block = Block::default();
        assert_eq!(block.get(512), None);
        block.set(512, 7);
        block.set(767, 70_000);
        assert_eq!(block_of(512), block_of(767));
        assert_ne!(block_of(511), block_of(512));
        assert_eq!(
            (block.get(512), block.get(513), block.get(767)),
            (Some(7), None, Some(70_000))
        );
        let stored = Block::from_stored(block.as_bytes().to_vec());
        assert_eq!(stored, block);
        assert_eq!(Block::from_stored(vec![1, 2, 3]), Block::default());
    }
}
