//! PDF: `lopdf` parses the file, `pdf-extract` (over the same `lopdf` document) lays out each
//! page's text layer in reading order; pages are kept as byte ranges of the text.
//!
//! Chosen after trying the samples: `pdf-extract` read the two-column arXiv paper, the Italian
//! statement and the plain text file with words and lines in order (see the crate tests).
//!
//! Bounds: `pdf-extract` would inflate streams without limit, so before it runs every
//! Flate-compressed stream that is not an image is inflated here within the budget (a
//! compression bomb ends [`ExtractError::TooLarge`]) and stored uncompressed; pages past
//! [`crate::Limits::max_pages`] are refused; the clock is checked between pages; each page
//! runs under `catch_unwind`, since `pdf-extract` unwraps on some malformed input.
//!
//! Encryption: a file encrypted with an empty user password (permissions only) is decrypted
//! and read; one that needs a password ends [`ExtractError::Encrypted`]. A file whose pages
//! carry no text is scanned paper: its page images go to OCR when Tesseract is installed,
//! else it ends [`ExtractError::NeedsOcr`].

use lopdf::{Document, Object};

use crate::{Budget, ExtractError, Extracted, Page, guard, ocr};

pub(crate) const ENGINE: &str = "pdf-extract 0.12";

/// A page with fewer visible characters than this has no text layer worth the name.
const MIN_CHARS_PER_TEXT_PAGE: usize = 8;

pub(crate) fn extract(bytes: &[u8], budget: &mut Budget) -> Result<Extracted, ExtractError> {
    let mut doc = guard(|| {
        Document::load_mem(bytes).map_err(|e| {
            let message = e.to_string();
            if message.contains("ncrypt") || message.contains("assword") {
                ExtractError::Encrypted {
                    reason: "the PDF needs a password to open".into(),
                }
            } else {
                ExtractError::Broken {
                    reason: format!("not a readable PDF ({message})"),
                }
            }
        })
    })?;
    budget.check_time()?;
    if doc.trailer.get(b"Encrypt").is_ok() {
        if doc.authenticate_password("").is_err() {
            return Err(ExtractError::Encrypted {
                reason: "the PDF needs a password to open".into(),
            });
        }
        if doc.is_encrypted() {
            // Already decrypted by the loader when this fails; either way it reads now.
            let _ = guard(|| Ok(doc.decrypt("")));
        }
    }
    inflate_streams(&mut doc, budget)?;
    let pages = doc.get_pages();
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if page_count == 0 {
        return Err(ExtractError::Broken {
            reason: "the PDF has no pages".into(),
        });
    }
    if page_count > budget.limits.max_pages {
        return Err(ExtractError::TooLarge {
            reason: format!(
                "{page_count} pages is over the limit of {}",
                budget.limits.max_pages
            ),
        });
    }
    for &id in pages.values() {
        budget.check_time()?;
        check_forms(&doc, id)?;
    }
    let mut page_texts: Vec<(u32, String)> = Vec::with_capacity(pages.len());
    let mut failed_pages = 0;
    for &number in pages.keys() {
        budget.check_time()?;
        let page = guard(|| {
            let mut text = String::new();
            let mut output = pdf_extract::PlainTextOutput::new(&mut text);
            pdf_extract::output_doc_page(&doc, &mut output, number).map_err(|e| {
                ExtractError::Broken {
                    reason: format!("page {number} cannot be read ({e:?})"),
                }
            })?;
            Ok(text)
        });
        match page {
            Ok(text) => page_texts.push((number, tidy_page(&text))),
            Err(_) => {
                failed_pages += 1;
                page_texts.push((number, String::new()));
            }
        }
    }
    let visible: usize = page_texts
        .iter()
        .map(|(_, t)| t.chars().filter(|c| !c.is_whitespace()).count())
        .sum();
    let title = info_title(&doc);
    if visible < MIN_CHARS_PER_TEXT_PAGE.min(page_texts.len() * MIN_CHARS_PER_TEXT_PAGE)
        || visible == 0
    {
        if failed_pages == page_texts.len() {
            return Err(ExtractError::Broken {
                reason: "no page of the PDF could be read".into(),
            });
        }
        return ocr_pages(&doc, &pages, title, budget);
    }
    Ok(assemble(
        page_texts,
        Some(page_count),
        title,
        ENGINE.to_owned(),
    ))
}

/// Form XObjects nested deeper than this are refused.
const MAX_FORM_DEPTH: usize = 16;
/// Form XObjects drawn per page, counting repeats, before the page is refused.
const MAX_FORM_USES: usize = 4096;

/// `pdf-extract` draws form XObjects recursively with no guard: a form that draws itself
/// would recurse until the stack overflows, and forms drawing forms twice over grow
/// exponentially. Walk the page's forms first, bounded, and refuse such pages.
fn check_forms(doc: &Document, page: lopdf::ObjectId) -> Result<(), ExtractError> {
    let Ok(page_dict) = doc.get_dictionary(page) else {
        return Ok(());
    };
    let resources = inherited_resources(doc, page_dict);
    let content = doc.get_page_content(page).unwrap_or_default();
    let mut uses = 0;
    walk_forms(doc, &content, resources, 0, &mut uses)
}

fn inherited_resources<'a>(
    doc: &'a Document,
    mut dict: &'a lopdf::Dictionary,
) -> Option<&'a lopdf::Dictionary> {
    for _ in 0..64 {
        if let Ok(resources) = dict.get(b"Resources") {
            return resolve(doc, resources).and_then(|o| o.as_dict().ok());
        }
        let parent = dict.get(b"Parent").ok()?.as_reference().ok()?;
        dict = doc.get_dictionary(parent).ok()?;
    }
    None
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => doc.get_object(*id).ok(),
        other => Some(other),
    }
}

fn walk_forms(
    doc: &Document,
    content: &[u8],
    resources: Option<&lopdf::Dictionary>,
    depth: usize,
    uses: &mut usize,
) -> Result<(), ExtractError> {
    let too_deep = || ExtractError::Broken {
        reason: format!(
            "its drawings (form XObjects) nest deeper than {MAX_FORM_DEPTH} or draw themselves"
        ),
    };
    if depth > MAX_FORM_DEPTH {
        return Err(too_deep());
    }
    // Cheap test first: most content streams draw no XObject at all.
    if crate::find(content, b"Do").is_none() {
        return Ok(());
    }
    let Ok(operations) = lopdf::content::Content::decode(content) else {
        return Ok(());
    };
    let xobjects = resources
        .and_then(|r| r.get(b"XObject").ok())
        .and_then(|x| resolve(doc, x))
        .and_then(|x| x.as_dict().ok());
    for operation in operations.operations.iter().filter(|o| o.operator == "Do") {
        let Some(name) = operation.operands.first().and_then(|o| o.as_name().ok()) else {
            continue;
        };
        let Some(Object::Stream(form)) = xobjects
            .and_then(|x| x.get(name).ok())
            .and_then(|o| resolve(doc, o))
        else {
            continue;
        };
        let is_form = form
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|n| n == b"Form");
        if !is_form {
            continue;
        }
        *uses += 1;
        if *uses > MAX_FORM_USES {
            return Err(ExtractError::TooLarge {
                reason: format!("a page draws more than {MAX_FORM_USES} forms"),
            });
        }
        let inner = form
            .dict
            .get(b"Resources")
            .ok()
            .and_then(|r| resolve(doc, r))
            .and_then(|r| r.as_dict().ok())
            .or(resources);
        let content = form
            .decompressed_content()
            .unwrap_or_else(|_| form.content.clone());
        walk_forms(doc, &content, inner, depth + 1, uses)?;
    }
    Ok(())
}

/// Joins page texts with a blank line and records each page's byte range.
pub(crate) fn assemble(
    page_texts: Vec<(u32, String)>,
    page_count: Option<u32>,
    title: Option<String>,
    engine: String,
) -> Extracted {
    let mut text = String::new();
    let mut ranges = Vec::with_capacity(page_texts.len());
    for (number, page) in page_texts {
        if !text.is_empty() && !page.is_empty() {
            text.push_str("\n\n");
        }
        let start = text.len();
        text.push_str(&page);
        ranges.push(Page {
            number,
            start,
            end: text.len(),
        });
    }
    Extracted {
        markdown: text.clone(),
        text,
        pages: ranges,
        page_count,
        title,
        engine,
    }
}

/// Lines trimmed at the end, runs of blank lines cut to one, no NULs.
fn tidy_page(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = tidy_line(line);
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(&line);
    }
    out
}

/// One line of layout text: spacing runs become one space (layout pads words to their
/// positions), typographic ligatures become their letters, NULs go.
fn tidy_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut pending_space = false;
    for c in line.trim().chars() {
        match c {
            '\0' => {}
            c if c.is_whitespace() => pending_space = true,
            c => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                match c {
                    '\u{FB00}' => out.push_str("ff"),
                    '\u{FB01}' => out.push_str("fi"),
                    '\u{FB02}' => out.push_str("fl"),
                    '\u{FB03}' => out.push_str("ffi"),
                    '\u{FB04}' => out.push_str("ffl"),
                    c => out.push(c),
                }
            }
        }
    }
    out
}

/// Inflates every plain Flate stream that is not an image within the budget, so nothing
/// later inflates without a bound.
fn inflate_streams(doc: &mut Document, budget: &mut Budget) -> Result<(), ExtractError> {
    for object in doc.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        let is_image = stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|n| n == b"Image");
        if is_image || stream.dict.get(b"DecodeParms").is_ok() {
            continue;
        }
        let flate_only = match stream.dict.get(b"Filter") {
            Ok(Object::Name(name)) => name == b"FlateDecode",
            Ok(Object::Array(filters)) => {
                filters.len() == 1 && filters[0].as_name().is_ok_and(|n| n == b"FlateDecode")
            }
            _ => false,
        };
        if !flate_only {
            continue;
        }
        budget.check_time()?;
        let inflated =
            match budget.read_to_end(flate2::read::ZlibDecoder::new(stream.content.as_slice())) {
                Ok(bytes) => bytes,
                Err(e @ (ExtractError::TooLarge { .. } | ExtractError::TimedOut)) => return Err(e),
                // A damaged stream: leave it for the page reader to fail on, page by page.
                Err(_) => continue,
            };
        stream.dict.remove(b"Filter");
        stream.set_content(inflated);
    }
    Ok(())
}

/// The document information dictionary's `Title`, decoded (UTF-16BE with a BOM, else
/// PDFDocEncoding, read as Latin-1).
fn info_title(doc: &Document) -> Option<String> {
    let info = match doc.trailer.get(b"Info").ok()? {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let Object::String(bytes, _) = info.get(b"Title").ok()? else {
        return None;
    };
    let title = if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    };
    let title = title.trim().replace('\0', "");
    (!title.is_empty()).then_some(title)
}

/// Reads scanned pages: each page's images (JPEG as is, 8-bit grey or RGB pixels as PNM)
/// through Tesseract.
fn ocr_pages(
    doc: &Document,
    pages: &std::collections::BTreeMap<u32, lopdf::ObjectId>,
    title: Option<String>,
    budget: &mut Budget,
) -> Result<Extracted, ExtractError> {
    if !ocr::available() {
        return Err(ExtractError::NeedsOcr {
            reason: format!("the PDF has no text layer and {}", ocr::MISSING),
        });
    }
    let mut page_texts = Vec::with_capacity(pages.len());
    let mut images_seen = 0;
    for (&number, &id) in pages {
        budget.check_time()?;
        let mut page_text = String::new();
        for image in doc.get_page_images(id).unwrap_or_default() {
            let Some(encoded) = image_for_ocr(&image, budget)? else {
                continue;
            };
            images_seen += 1;
            let text = ocr::recognize(&encoded, budget)?;
            if !page_text.is_empty() && !text.is_empty() {
                page_text.push_str("\n\n");
            }
            page_text.push_str(&text);
        }
        page_texts.push((number, tidy_page(&page_text)));
    }
    if images_seen == 0 {
        return Err(ExtractError::NeedsOcr {
            reason: "the PDF has no text layer and no page image OCR can read".into(),
        });
    }
    let count = u32::try_from(pages.len()).ok();
    Ok(assemble(page_texts, count, title, ocr::engine()))
}

fn image_for_ocr(
    image: &lopdf::xobject::PdfImage<'_>,
    budget: &mut Budget,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let filters = image.filters.clone().unwrap_or_default();
    if filters.iter().map(String::as_str).eq(["DCTDecode"]) {
        return Ok(Some(image.content.to_vec()));
    }
    let (Ok(width), Ok(height)) = (usize::try_from(image.width), usize::try_from(image.height))
    else {
        return Ok(None);
    };
    let channels = match image.color_space.as_deref() {
        Some("DeviceGray") => 1,
        Some("DeviceRGB") => 3,
        _ => return Ok(None),
    };
    if image.bits_per_component != Some(8) {
        return Ok(None);
    }
    let pixels = match filters
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => image.content.to_vec(),
        ["FlateDecode"] if image.origin_dict.get(b"DecodeParms").is_err() => {
            budget.read_to_end(flate2::read::ZlibDecoder::new(image.content))?
        }
        _ => return Ok(None),
    };
    let expected = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels));
    if expected != Some(pixels.len()) {
        return Ok(None);
    }
    let magic = if channels == 1 { "P5" } else { "P6" };
    let mut pnm = format!("{magic}\n{width} {height}\n255\n").into_bytes();
    pnm.extend_from_slice(&pixels);
    Ok(Some(pnm))
}
