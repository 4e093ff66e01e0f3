//! DOCX (Office Open XML): `word/document.xml` walked with `quick-xml` inside a bounded zip.
//!
//! Why not a DOCX crate: the readers on crates.io unpack the whole archive without a bound
//! (a zip bomb runs them out of memory) and build a full object model we would only walk for
//! text. What we need is small: paragraphs, their style (→ headings via `word/styles.xml`),
//! list membership (→ bullets or numbers via `word/numbering.xml`), runs' text, tabs, breaks,
//! and tables.

use std::collections::HashMap;

use crate::doc::{Block, DocBuilder};
use crate::xml::{XmlEvent, XmlReader};
use crate::zipped::Zip;
use crate::{Budget, ExtractError, Extracted};

pub(crate) const ENGINE: &str = concat!("jaryo-docx ", env!("CARGO_PKG_VERSION"));

pub(crate) fn extract(bytes: &[u8], budget: &mut Budget) -> Result<Extracted, ExtractError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(ExtractError::Encrypted {
            reason: "the DOCX is protected with a password (an encrypted Office package)".into(),
        });
    }
    let mut zip = Zip::open(bytes, "DOCX")?;
    let document = zip
        .read("word/document.xml", budget)?
        .ok_or_else(|| ExtractError::Broken {
            reason: "the DOCX has no word/document.xml".into(),
        })?;
    let headings = match zip.read("word/styles.xml", budget)? {
        Some(styles) => heading_styles(&styles)?,
        None => HashMap::new(),
    };
    let numbering = match zip.read("word/numbering.xml", budget)? {
        Some(numbering) => ordered_lists(&numbering)?,
        None => HashMap::new(),
    };
    let title = match zip.read("docProps/core.xml", budget)? {
        Some(core) => element_text(&core, "title")?,
        None => None,
    };
    // Word's own count of pages when it last saved the file.
    let page_count = match zip.read("docProps/app.xml", budget)? {
        Some(app) => element_text(&app, "Pages")?.and_then(|p| p.parse::<u32>().ok()),
        None => None,
    };
    let mut doc = DocBuilder::new(budget);
    walk_document(&document, &headings, &numbering, &mut doc, budget)?;
    let mut extracted = doc.finish(title, ENGINE);
    extracted.page_count = page_count.filter(|&p| p > 0);
    Ok(extracted)
}

/// Style id → heading level, from `heading N`/`Title` names or an outline level.
fn heading_styles(xml: &[u8]) -> Result<HashMap<String, u8>, ExtractError> {
    let mut reader = XmlReader::new(xml, "word/styles.xml");
    let mut styles = HashMap::new();
    let mut current: Option<String> = None;
    while let Some(event) = reader.next_event()? {
        match event {
            XmlEvent::Start { name, attrs } => match name.as_str() {
                "style" => current = XmlEvent::attr(&attrs, "styleId"),
                "name" => {
                    if let (Some(id), Some(val)) = (&current, XmlEvent::attr(&attrs, "val")) {
                        let lower = val.to_ascii_lowercase();
                        if lower == "title" {
                            styles.insert(id.clone(), 1);
                        } else if let Some(n) = lower.strip_prefix("heading ")
                            && let Ok(n) = n.trim().parse::<u8>()
                        {
                            styles.insert(id.clone(), n.clamp(1, 6));
                        }
                    }
                }
                "outlineLvl" => {
                    if let (Some(id), Some(val)) = (&current, XmlEvent::attr(&attrs, "val"))
                        && let Ok(n) = val.parse::<u8>()
                        && n < 9
                    {
                        styles.entry(id.clone()).or_insert((n + 1).min(6));
                    }
                }
                _ => {}
            },
            XmlEvent::End { name } if name == "style" => current = None,
            _ => {}
        }
    }
    Ok(styles)
}

/// (numId, level) → whether the list is numbered (anything but bullets).
fn ordered_lists(xml: &[u8]) -> Result<HashMap<(String, u8), bool>, ExtractError> {
    let mut reader = XmlReader::new(xml, "word/numbering.xml");
    let mut abstract_formats: HashMap<(String, u8), bool> = HashMap::new();
    let mut num_to_abstract: HashMap<String, String> = HashMap::new();
    let mut abstract_id: Option<String> = None;
    let mut level: u8 = 0;
    let mut num_id: Option<String> = None;
    while let Some(event) = reader.next_event()? {
        match event {
            XmlEvent::Start { name, attrs } => match name.as_str() {
                "abstractNum" => abstract_id = XmlEvent::attr(&attrs, "abstractNumId"),
                "lvl" => {
                    level = XmlEvent::attr(&attrs, "ilvl")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0)
                }
                "numFmt" => {
                    if let (Some(id), Some(fmt)) = (&abstract_id, XmlEvent::attr(&attrs, "val")) {
                        abstract_formats
                            .insert((id.clone(), level), fmt != "bullet" && fmt != "none");
                    }
                }
                "num" => num_id = XmlEvent::attr(&attrs, "numId"),
                "abstractNumId" => {
                    if let (Some(num), Some(val)) = (&num_id, XmlEvent::attr(&attrs, "val")) {
                        num_to_abstract.insert(num.clone(), val);
                    }
                }
                _ => {}
            },
            XmlEvent::End { name } => match name.as_str() {
                "abstractNum" => abstract_id = None,
                "num" => num_id = None,
                _ => {}
            },
            XmlEvent::Text(_) => {}
        }
    }
    let mut ordered = HashMap::new();
    for (num, abs) in num_to_abstract {
        for level in 0..9u8 {
            if let Some(&o) = abstract_formats.get(&(abs.clone(), level)) {
                ordered.insert((num.clone(), level), o);
            }
        }
    }
    Ok(ordered)
}

/// The text of the first element named `local` (e.g. `dc:title` in `docProps/core.xml`).
pub(crate) fn element_text(xml: &[u8], local: &str) -> Result<Option<String>, ExtractError> {
    let mut reader = XmlReader::new(xml, "document properties");
    let mut inside = false;
    let mut text = String::new();
    while let Some(event) = reader.next_event()? {
        match event {
            XmlEvent::Start { name, .. } if name == local => inside = true,
            XmlEvent::End { name } if name == local && inside => break,
            XmlEvent::Text(t) if inside => text.push_str(&t),
            _ => {}
        }
    }
    let text = text.trim().to_owned();
    Ok((!text.is_empty()).then_some(text))
}

#[derive(Default)]
struct Paragraph {
    style: Option<String>,
    num_id: Option<String>,
    level: u8,
    text: String,
}

/// Tables being read, innermost last: rows of cells of text.
type Table = Vec<Vec<String>>;

fn walk_document(
    xml: &[u8],
    headings: &HashMap<String, u8>,
    numbering: &HashMap<(String, u8), bool>,
    doc: &mut DocBuilder,
    budget: &Budget,
) -> Result<(), ExtractError> {
    let mut reader = XmlReader::new(xml, "word/document.xml");
    // Paragraphs nest: a text box's paragraphs sit inside a run of the paragraph around it.
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    let mut in_text = false;
    // `mc:Fallback` repeats what `mc:Choice` holds (a text box for older readers): skipped.
    let mut in_fallback = 0usize;
    let mut events: u64 = 0;
    while let Some(event) = reader.next_event()? {
        events += 1;
        if events.is_multiple_of(4096) {
            budget.check_time()?;
        }
        match &event {
            XmlEvent::Start { name, .. } if name == "Fallback" => in_fallback += 1,
            XmlEvent::End { name } if name == "Fallback" => {
                in_fallback = in_fallback.saturating_sub(1)
            }
            _ => {}
        }
        if in_fallback > 0 {
            continue;
        }
        let paragraph = paragraphs.last_mut();
        match event {
            XmlEvent::Start { name, attrs } => match name.as_str() {
                "p" => paragraphs.push(Paragraph::default()),
                "pStyle" => {
                    if let Some(p) = paragraph {
                        p.style = XmlEvent::attr(&attrs, "val");
                    }
                }
                "numId" => {
                    if let Some(p) = paragraph {
                        p.num_id = XmlEvent::attr(&attrs, "val").filter(|v| v != "0");
                    }
                }
                "ilvl" => {
                    if let Some(p) = paragraph {
                        p.level = XmlEvent::attr(&attrs, "val")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                    }
                }
                "t" => in_text = true,
                "tab" => push_text(paragraph, "\t"),
                "br" | "cr" => push_text(paragraph, "\n"),
                "tbl" => tables.push(Vec::new()),
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        t.push(Vec::new());
                    }
                }
                "tc" => {
                    if let Some(row) = tables.last_mut().and_then(|t| t.last_mut()) {
                        row.push(String::new());
                    }
                }
                _ => {}
            },
            XmlEvent::Text(t) => {
                if in_text {
                    push_text(paragraph, &t);
                }
            }
            XmlEvent::End { name } => match name.as_str() {
                "t" => in_text = false,
                "p" => {
                    let Some(p) = paragraphs.pop() else { continue };
                    if let Some(cell) = tables
                        .last_mut()
                        .and_then(|t| t.last_mut())
                        .and_then(|r| r.last_mut())
                    {
                        if !cell.is_empty() {
                            cell.push('\n');
                        }
                        cell.push_str(p.text.trim());
                        continue;
                    }
                    let heading = p.style.as_ref().and_then(|s| headings.get(s)).copied();
                    let block = if let Some(level) = heading {
                        Block::Heading {
                            level,
                            text: p.text,
                        }
                    } else if let Some(num) = p.num_id {
                        Block::ListItem {
                            depth: p.level,
                            ordered: numbering.get(&(num, p.level)).copied().unwrap_or(false),
                            text: p.text,
                        }
                    } else {
                        Block::Paragraph(p.text)
                    };
                    doc.push(block)?;
                }
                "tbl" => {
                    let Some(table) = tables.pop() else { continue };
                    if let Some(cell) = tables
                        .last_mut()
                        .and_then(|t| t.last_mut())
                        .and_then(|r| r.last_mut())
                    {
                        // A table inside a cell: its rows become lines of the outer cell.
                        for row in table {
                            if !cell.is_empty() {
                                cell.push('\n');
                            }
                            cell.push_str(&row.join(" "));
                        }
                    } else {
                        doc.push(Block::Table(table))?;
                    }
                }
                _ => {}
            },
        }
    }
    Ok(())
}

fn push_text(paragraph: Option<&mut Paragraph>, text: &str) {
    if let Some(p) = paragraph {
        p.text.push_str(text);
    }
}
