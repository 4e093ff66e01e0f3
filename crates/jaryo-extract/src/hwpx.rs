//! HWPX (OWPML, KS X 6101): Hancom's zip + XML format, walked with `quick-xml` inside a
//! bounded zip. No crate on crates.io reads it.
//!
//! The body is `Contents/section{N}.xml`, in order. A paragraph (`hp:p`) holds runs whose
//! `hp:t` carry the text (`hp:tab`, `hp:lineBreak` inside them); tables (`hp:tbl`/`hp:tr`/
//! `hp:tc`) and text boxes hold paragraphs of their own, so paragraphs nest. Headings and
//! lists come from the paragraph shape (`paraPrIDRef` → `hh:paraPr` → `hh:heading` in
//! `Contents/header.xml`): `OUTLINE` is a heading of level+1, `BULLET` and `NUMBER` are list
//! items. The title comes from `Contents/content.hpf`.

use std::collections::HashMap;

use crate::doc::{Block, DocBuilder};
use crate::docx::element_text;
use crate::xml::{XmlEvent, XmlReader};
use crate::zipped::Zip;
use crate::{Budget, ExtractError, Extracted};

pub(crate) const ENGINE: &str = concat!("jaryo-hwpx ", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParaKind {
    Outline(u8),
    Bullet(u8),
    Number(u8),
}

pub(crate) fn extract(bytes: &[u8], budget: &mut Budget) -> Result<Extracted, ExtractError> {
    let mut zip = Zip::open(bytes, "HWPX")?;
    if let Some(manifest) = zip.read("META-INF/manifest.xml", budget)?
        && crate::find(&manifest, b"encryption-data").is_some()
    {
        return Err(ExtractError::Encrypted {
            reason: "the HWPX document is protected with a password".into(),
        });
    }
    let mut sections: Vec<(u32, String)> = zip
        .names()
        .into_iter()
        .filter_map(|name| {
            let n = name
                .strip_prefix("Contents/section")?
                .strip_suffix(".xml")?
                .parse::<u32>()
                .ok()?;
            Some((n, name))
        })
        .collect();
    sections.sort();
    if sections.is_empty() {
        return Err(ExtractError::Broken {
            reason: "the HWPX has no Contents/section0.xml".into(),
        });
    }
    let kinds = match zip.read("Contents/header.xml", budget)? {
        Some(header) => paragraph_kinds(&header)?,
        None => HashMap::new(),
    };
    let title = match zip.read("Contents/content.hpf", budget)? {
        Some(hpf) => element_text(&hpf, "title")?,
        None => None,
    };
    let mut doc = DocBuilder::new(budget);
    for (_, name) in &sections {
        let Some(xml) = zip.read(name, budget)? else {
            continue;
        };
        walk_section(&xml, &kinds, &mut doc, budget)?;
    }
    Ok(doc.finish(title, ENGINE))
}

/// `hh:paraPr` id → what its `hh:heading` makes of a paragraph.
fn paragraph_kinds(xml: &[u8]) -> Result<HashMap<String, ParaKind>, ExtractError> {
    let mut reader = XmlReader::new(xml, "Contents/header.xml");
    let mut kinds = HashMap::new();
    let mut current: Option<String> = None;
    while let Some(event) = reader.next_event()? {
        match event {
            XmlEvent::Start { name, attrs } if name == "paraPr" => {
                current = XmlEvent::attr(&attrs, "id");
            }
            XmlEvent::Start { name, attrs } if name == "heading" => {
                let Some(id) = current.as_ref() else { continue };
                let level = XmlEvent::attr(&attrs, "level")
                    .and_then(|l| l.parse::<u8>().ok())
                    .unwrap_or(0)
                    .min(9);
                let kind = match XmlEvent::attr(&attrs, "type").as_deref() {
                    Some("OUTLINE") => ParaKind::Outline(level),
                    Some("BULLET") => ParaKind::Bullet(level),
                    Some("NUMBER") => ParaKind::Number(level),
                    _ => continue,
                };
                kinds.entry(id.clone()).or_insert(kind);
            }
            XmlEvent::End { name } if name == "paraPr" => current = None,
            _ => {}
        }
    }
    Ok(kinds)
}

struct Paragraph {
    kind: Option<ParaKind>,
    text: String,
}

struct Table {
    /// How many paragraphs were open when the table began: a paragraph deeper than this
    /// belongs to one of its cells.
    para_depth: usize,
    rows: Vec<Vec<String>>,
}

fn walk_section(
    xml: &[u8],
    kinds: &HashMap<String, ParaKind>,
    doc: &mut DocBuilder,
    budget: &Budget,
) -> Result<(), ExtractError> {
    let mut reader = XmlReader::new(xml, "an HWPX section");
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    let mut in_text = 0usize;
    let mut events: u64 = 0;
    while let Some(event) = reader.next_event()? {
        events += 1;
        if events.is_multiple_of(4096) {
            budget.check_time()?;
        }
        match event {
            XmlEvent::Start { name, attrs } => match name.as_str() {
                "p" => paragraphs.push(Paragraph {
                    kind: XmlEvent::attr(&attrs, "paraPrIDRef")
                        .and_then(|id| kinds.get(&id).copied()),
                    text: String::new(),
                }),
                "t" => in_text += 1,
                "tab" if in_text > 0 => push_text(&mut paragraphs, "\t"),
                "lineBreak" if in_text > 0 => push_text(&mut paragraphs, "\n"),
                "tbl" => tables.push(Table {
                    para_depth: paragraphs.len(),
                    rows: Vec::new(),
                }),
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        t.rows.push(Vec::new());
                    }
                }
                "tc" => {
                    if let Some(row) = tables.last_mut().and_then(|t| t.rows.last_mut()) {
                        row.push(String::new());
                    }
                }
                _ => {}
            },
            XmlEvent::Text(t) => {
                if in_text > 0 {
                    push_text(&mut paragraphs, &t);
                }
            }
            XmlEvent::End { name } => match name.as_str() {
                "t" => in_text = in_text.saturating_sub(1),
                "p" => {
                    let depth = paragraphs.len();
                    let Some(p) = paragraphs.pop() else { continue };
                    if let Some(table) = tables.last_mut().filter(|t| t.para_depth < depth) {
                        if let Some(cell) = table.rows.last_mut().and_then(|r| r.last_mut()) {
                            if !cell.is_empty() && !p.text.trim().is_empty() {
                                cell.push('\n');
                            }
                            cell.push_str(p.text.trim());
                        }
                        continue;
                    }
                    let block = match p.kind {
                        Some(ParaKind::Outline(level)) => Block::Heading {
                            level: (level + 1).min(6),
                            text: p.text,
                        },
                        Some(ParaKind::Bullet(depth)) => Block::ListItem {
                            depth,
                            ordered: false,
                            text: p.text,
                        },
                        Some(ParaKind::Number(depth)) => Block::ListItem {
                            depth,
                            ordered: true,
                            text: p.text,
                        },
                        None => Block::Paragraph(p.text),
                    };
                    doc.push(block)?;
                }
                "tbl" => {
                    let Some(table) = tables.pop() else { continue };
                    let outer_cell = tables
                        .last_mut()
                        .filter(|t| t.para_depth < paragraphs.len())
                        .and_then(|t| t.rows.last_mut())
                        .and_then(|r| r.last_mut());
                    if let Some(cell) = outer_cell {
                        for row in table.rows {
                            if !cell.is_empty() {
                                cell.push('\n');
                            }
                            cell.push_str(&row.join(" "));
                        }
                    } else {
                        doc.push(Block::Table(table.rows))?;
                    }
                }
                _ => {}
            },
        }
    }
    Ok(())
}

fn push_text(paragraphs: &mut [Paragraph], text: &str) {
    if let Some(p) = paragraphs.last_mut() {
        p.text.push_str(text);
    }
}
