//! HWP 5.0, Hancom's binary format, read by our own code from the format's published
//! description (Hancom's "한글 문서 파일 형식 5.0" and its distribution-document revision).
//!
//! Why our own: no crate on crates.io read the sample files (a distribution document
//! included) when this was written, and the part we need is small. The container is a
//! Compound File (the `cfb` crate); `FileHeader` says whether streams are compressed (raw
//! deflate), password-protected (refused: [`ExtractError::Encrypted`]) or a distribution
//! document. The body is `BodyText/Section{N}` (or, in a distribution document,
//! `ViewText/Section{N}`), a stream of records: a 32-bit header (tag 10 bits, level 10 bits,
//! size 12 bits, size `0xFFF` meaning a 32-bit size follows) and the payload. Text lives in
//! `PARA_TEXT` records as UTF-16LE, where code units below 32 are controls: some are one
//! unit (line break, paragraph end, hyphen, special spaces), the rest take eight units
//! (tabs, fields, tables, pictures) and are skipped. Tables are `CTRL_HEADER` records with
//! id `tbl `; each cell is a `LIST_HEADER` (row and column inside) followed by its
//! paragraphs at the next level. Headings and lists come from the paragraph shape
//! (`PARA_SHAPE` in `DocInfo`, heading type and level bits).
//!
//! No title is taken from `HwpSummaryInformation`: in the samples it was left over from a
//! template (a procurement notice titled "무궁화동산등"), worse than the file's name.
//!
//! A distribution document (배포용 문서) keeps each section encrypted: the stream starts with
//! a `DISTRIBUTE_DOC_DATA` record of 256 bytes. Its first four bytes seed the MSVC
//! `srand`/`rand` generator; the rest is XORed with a byte from `rand()`, changed every
//! `rand() & 0xF + 1` bytes; the AES-128 key is then the 16 bytes at `4 + (seed byte 0 &
//! 0xF)`. The rest of the stream is AES-128-ECB ciphertext of the (compressed) records.

use std::collections::HashMap;
use std::io::Cursor;

// aes 0.8 (the version lopdf links) takes generic-array 0.14 blocks, which that crate now
// marks deprecated; moving to aes 0.9 would link two AES crates.
#[allow(deprecated)]
use aes::cipher::{BlockDecrypt, KeyInit, generic_array::GenericArray};

use crate::doc::{Block, DocBuilder};
use crate::{Budget, ExtractError, Extracted};

pub(crate) const ENGINE: &str = concat!("jaryo-hwp5 ", env!("CARGO_PKG_VERSION"));

pub(crate) const HWPTAG_BEGIN: u16 = 0x10;
pub(crate) const PARA_SHAPE: u16 = HWPTAG_BEGIN + 9;
pub(crate) const DISTRIBUTE_DOC_DATA: u16 = HWPTAG_BEGIN + 12;
pub(crate) const PARA_HEADER: u16 = HWPTAG_BEGIN + 50;
pub(crate) const PARA_TEXT: u16 = HWPTAG_BEGIN + 51;
pub(crate) const CTRL_HEADER: u16 = HWPTAG_BEGIN + 55;
pub(crate) const LIST_HEADER: u16 = HWPTAG_BEGIN + 56;

/// `tbl ` as the little-endian control id a `CTRL_HEADER` starts with.
pub(crate) const CTRL_TABLE: u32 = u32::from_be_bytes(*b"tbl ");

/// More sections than any real document has.
const MAX_SECTIONS: u32 = 1000;

struct Header {
    compressed: bool,
    distribution: bool,
}

pub(crate) fn extract(bytes: &[u8], budget: &mut Budget) -> Result<Extracted, ExtractError> {
    let mut file =
        cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| ExtractError::Broken {
            reason: format!("not a readable HWP 5.0 compound file ({e})"),
        })?;
    let header = read_header(&mut file, budget)?;
    let shapes = match read_stream(&mut file, "/DocInfo", budget)? {
        Some(raw) => {
            let data = if header.compressed {
                inflate(&raw, budget)?
            } else {
                raw
            };
            paragraph_kinds(&data)
        }
        None => HashMap::new(),
    };
    let storage = if header.distribution {
        "ViewText"
    } else {
        "BodyText"
    };
    let mut doc = DocBuilder::new(budget);
    let mut sections = 0;
    for n in 0..MAX_SECTIONS {
        budget.check_time()?;
        let Some(raw) = read_stream(&mut file, &format!("/{storage}/Section{n}"), budget)? else {
            break;
        };
        sections += 1;
        let raw = if header.distribution {
            decrypt_distribution(&raw)?
        } else {
            raw
        };
        let data = if header.compressed {
            inflate(&raw, budget)?
        } else {
            raw
        };
        walk_section(&data, &shapes, &mut doc, budget)?;
    }
    if sections == 0 {
        return Err(ExtractError::Broken {
            reason: format!("the HWP file has no {storage}/Section0"),
        });
    }
    Ok(doc.finish(None, ENGINE))
}

fn read_header(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    budget: &mut Budget,
) -> Result<Header, ExtractError> {
    let raw = read_stream(file, "/FileHeader", budget)?.ok_or_else(|| ExtractError::Broken {
        reason: "the compound file has no FileHeader: not an HWP 5.0 document".into(),
    })?;
    if raw.len() < 40 || !raw.starts_with(b"HWP Document File") {
        return Err(ExtractError::Broken {
            reason: "the FileHeader is not an HWP 5.0 signature".into(),
        });
    }
    let flags = u32::from_le_bytes([raw[36], raw[37], raw[38], raw[39]]);
    if flags & 0b10 != 0 {
        return Err(ExtractError::Encrypted {
            reason: "the HWP document is protected with a password".into(),
        });
    }
    Ok(Header {
        compressed: flags & 0b1 != 0,
        distribution: flags & 0b100 != 0,
    })
}

fn read_stream(
    file: &mut cfb::CompoundFile<Cursor<&[u8]>>,
    path: &str,
    budget: &mut Budget,
) -> Result<Option<Vec<u8>>, ExtractError> {
    if !file.is_stream(path) {
        return Ok(None);
    }
    let stream = file.open_stream(path).map_err(|e| ExtractError::Broken {
        reason: format!("the stream {path} cannot be opened ({e})"),
    })?;
    budget.read_to_end(stream).map(Some)
}

fn inflate(raw: &[u8], budget: &mut Budget) -> Result<Vec<u8>, ExtractError> {
    budget.read_to_end(flate2::read::DeflateDecoder::new(raw))
}

/// MSVC's `rand()`: the generator Hancom seeds from the distribution record.
struct MsvcRand(u32);

impl MsvcRand {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(214_013).wrapping_add(2_531_011);
        (self.0 >> 16) & 0x7FFF
    }
}

#[allow(deprecated)]
/// Decrypts a distribution document's section: the key from its first record, then
/// AES-128-ECB over the rest.
fn decrypt_distribution(raw: &[u8]) -> Result<Vec<u8>, ExtractError> {
    let broken = |what: &str| ExtractError::Broken {
        reason: format!("the distribution document's section {what}"),
    };
    let (tag, _, size, header_len) = record_header(raw).ok_or_else(|| broken("is empty"))?;
    if tag != DISTRIBUTE_DOC_DATA || size != 256 || raw.len() < header_len + 256 {
        return Err(broken("does not start with its key record"));
    }
    let mut data = [0u8; 256];
    data.copy_from_slice(&raw[header_len..header_len + 256]);
    let key = distribution_key(&data);
    let body = &raw[header_len + 256..];
    let usable = body.len() - body.len() % 16;
    let cipher = aes::Aes128::new(GenericArray::from_slice(&key));
    let mut out = body[..usable].to_vec();
    for block in out.chunks_exact_mut(16) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    Ok(out)
}

/// The AES-128 key hidden in a `DISTRIBUTE_DOC_DATA` payload.
fn distribution_key(record: &[u8; 256]) -> [u8; 16] {
    let mut data = *record;
    distribution_mask(&mut data);
    let offset = 4 + usize::from(data[0] & 0xF);
    let mut key = [0u8; 16];
    key.copy_from_slice(&data[offset..offset + 16]);
    key
}

/// XORs bytes 4.. of a `DISTRIBUTE_DOC_DATA` payload with the stream `rand()` makes from
/// its first four bytes. Its own inverse: it hides a key as well as it reveals one.
pub(crate) fn distribution_mask(data: &mut [u8; 256]) {
    let seed = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let mut rand = MsvcRand(seed);
    let mut mask = 0u8;
    let mut left = 0u32;
    for (i, byte) in data.iter_mut().enumerate() {
        if left == 0 {
            mask = (rand.next() & 0xFF) as u8;
            left = (rand.next() & 0xF) + 1;
        }
        if i >= 4 {
            *byte ^= mask;
        }
        left -= 1;
    }
}

/// (tag, level, size, header length) of the record at the start of `data`.
fn record_header(data: &[u8]) -> Option<(u16, u16, usize, usize)> {
    let word = u32::from_le_bytes(data.get(..4)?.try_into().ok()?);
    let tag = (word & 0x3FF) as u16;
    let level = ((word >> 10) & 0x3FF) as u16;
    let size = (word >> 20) as usize;
    if size == 0xFFF {
        let size = u32::from_le_bytes(data.get(4..8)?.try_into().ok()?) as usize;
        return Some((tag, level, size, 8));
    }
    Some((tag, level, size, 4))
}

struct Record<'a> {
    tag: u16,
    level: u16,
    data: &'a [u8],
}

/// Records in order; a truncated last record ends the stream.
fn records(mut data: &[u8]) -> impl Iterator<Item = Record<'_>> {
    std::iter::from_fn(move || {
        let (tag, level, size, header_len) = record_header(data)?;
        let end = header_len.checked_add(size)?;
        let payload = data.get(header_len..end)?;
        data = &data[end..];
        Some(Record {
            tag,
            level,
            data: payload,
        })
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParaKind {
    Outline(u8),
    Numbered(u8),
    Bullet(u8),
}

/// Paragraph shape id (its index among `PARA_SHAPE` records) → heading or list kind.
fn paragraph_kinds(doc_info: &[u8]) -> HashMap<u16, ParaKind> {
    let mut kinds = HashMap::new();
    let mut id: u16 = 0;
    for record in records(doc_info).filter(|r| r.tag == PARA_SHAPE) {
        if let Some(bytes) = record.data.get(..4) {
            let props = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let level = ((props >> 25) & 0x7) as u8;
            let kind = match (props >> 23) & 0x3 {
                1 => Some(ParaKind::Outline(level)),
                2 => Some(ParaKind::Numbered(level)),
                3 => Some(ParaKind::Bullet(level)),
                _ => None,
            };
            if let Some(kind) = kind {
                kinds.insert(id, kind);
            }
        }
        id = id.wrapping_add(1);
    }
    kinds
}

struct Table {
    /// The `CTRL_HEADER`'s level: a record at this level or above ends the table.
    level: u16,
    cells: Vec<(u16, u16, String)>,
}

impl Table {
    fn rows(self) -> Vec<Vec<String>> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut cells = self.cells;
        cells.sort_by_key(|(row, col, _)| (*row, *col));
        let mut current_row = None;
        for (row, _, text) in cells {
            if current_row != Some(row) {
                rows.push(Vec::new());
                current_row = Some(row);
            }
            if let Some(r) = rows.last_mut() {
                r.push(text);
            }
        }
        rows
    }
}

fn walk_section(
    data: &[u8],
    kinds: &HashMap<u16, ParaKind>,
    doc: &mut DocBuilder,
    budget: &Budget,
) -> Result<(), ExtractError> {
    let mut tables: Vec<Table> = Vec::new();
    let mut kind: Option<ParaKind> = None;
    for (count, record) in records(data).enumerate() {
        if count % 4096 == 4095 {
            budget.check_time()?;
        }
        while tables.last().is_some_and(|t| record.level <= t.level) {
            if let Some(table) = tables.pop() {
                close_table(table, &mut tables, doc)?;
            }
        }
        match record.tag {
            PARA_HEADER => {
                kind = record
                    .data
                    .get(8..10)
                    .and_then(|b| kinds.get(&u16::from_le_bytes([b[0], b[1]])))
                    .copied();
            }
            CTRL_HEADER => {
                let id = record
                    .data
                    .get(..4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                if id == Some(CTRL_TABLE) {
                    tables.push(Table {
                        level: record.level,
                        cells: Vec::new(),
                    });
                }
            }
            LIST_HEADER => {
                if let Some(table) = tables.last_mut().filter(|t| record.level == t.level + 1) {
                    let at = |o: usize| {
                        record
                            .data
                            .get(o..o + 2)
                            .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    };
                    let next = table.cells.len() as u16;
                    let (col, row) = match (at(8), at(10)) {
                        (Some(col), Some(row)) => (col, row),
                        _ => (next, 0),
                    };
                    table.cells.push((row, col, String::new()));
                }
            }
            PARA_TEXT => {
                let text = para_text(record.data);
                if let Some(cell) = tables
                    .last_mut()
                    .filter(|t| record.level > t.level + 1)
                    .and_then(|t| t.cells.last_mut())
                {
                    let text = text.trim();
                    if !text.is_empty() {
                        if !cell.2.is_empty() {
                            cell.2.push('\n');
                        }
                        cell.2.push_str(text);
                    }
                    continue;
                }
                let block = match kind {
                    Some(ParaKind::Outline(level)) => Block::Heading {
                        level: (level + 1).min(6),
                        text,
                    },
                    Some(ParaKind::Numbered(depth)) => Block::ListItem {
                        depth,
                        ordered: true,
                        text,
                    },
                    Some(ParaKind::Bullet(depth)) => Block::ListItem {
                        depth,
                        ordered: false,
                        text,
                    },
                    None => Block::Paragraph(text),
                };
                doc.push(block)?;
            }
            _ => {}
        }
    }
    while let Some(table) = tables.pop() {
        close_table(table, &mut tables, doc)?;
    }
    Ok(())
}

fn close_table(
    table: Table,
    outer: &mut [Table],
    doc: &mut DocBuilder,
) -> Result<(), ExtractError> {
    let rows = table.rows();
    if let Some(cell) = outer.last_mut().and_then(|t| t.cells.last_mut()) {
        for row in rows {
            if !cell.2.is_empty() {
                cell.2.push('\n');
            }
            cell.2.push_str(&row.join(" "));
        }
        return Ok(());
    }
    doc.push(Block::Table(rows))
}

/// The text of a `PARA_TEXT` payload: UTF-16LE with controls skipped or made into spaces.
fn para_text(data: &[u8]) -> String {
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut out = Vec::with_capacity(units.len());
    let mut i = 0;
    while i < units.len() {
        let unit = units[i];
        if unit >= 32 {
            out.push(unit);
            i += 1;
            continue;
        }
        match unit {
            // A tab is an inline control of eight units.
            9 => {
                out.push(u16::from(b'\t'));
                i += 8;
            }
            10 => {
                out.push(u16::from(b'\n'));
                i += 1;
            }
            24 => {
                out.push(u16::from(b'-'));
                i += 1;
            }
            30 | 31 => {
                out.push(u16::from(b' '));
                i += 1;
            }
            0 | 13 | 25..=29 => i += 1,
            // Inline and extended controls (fields, tables, pictures, notes): eight units.
            _ => i += 8,
        }
    }
    char::decode_utf16(out)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn para_text_skips_controls_and_keeps_text() {
        let mut units: Vec<u16> = "표 ".encode_utf16().collect();
        // An extended control (a table): the code, six units of payload, the code again.
        units.extend([11, 0x6c74, 0x2062, 0, 0, 0, 0, 11]);
        units.extend("다음\t".encode_utf16().take(2));
        units.extend([9, 0, 0, 0, 0, 0, 0, 9]);
        units.extend("끝".encode_utf16());
        units.push(13);
        let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(para_text(&bytes), "표 다음\t끝");
    }

    #[test]
    fn msvc_rand_matches_the_c_runtime() {
        // srand(1); rand() gives 41, 18467, 6334 with Microsoft's C runtime.
        let mut r = MsvcRand(1);
        assert_eq!([r.next(), r.next(), r.next()], [41, 18467, 6334]);
    }
}
