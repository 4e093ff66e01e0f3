//! Files made from scratch, for tests and benchmarks (here and in the crates that take files
//! in): text PDFs with Korean and English text and pages, an encrypted PDF, a scanned PDF
//! (an image and no text layer), DOCX, HWPX and HWP 5.0 (plain and distribution) documents,
//! and a zip bomb. Each writes the format the way the matching engine's module describes it.

use std::io::{Cursor, Write};

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, Stream, StringFormat, dictionary};

use crate::hwp5;

/// A piece of a generated document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A heading of level 1 or 2.
    Heading(u8, String),
    Paragraph(String),
    Bullet(String),
    Numbered(String),
    /// Rows of cells.
    Table(Vec<Vec<String>>),
}

/// Deterministic Korean and English prose: `n` sentences from `seed`.
pub fn sentences(seed: u64, n: usize) -> Vec<String> {
    const WORDS: &[&str] = &[
        "자료",
        "서버",
        "검색",
        "문서",
        "회의록",
        "일정",
        "보고서",
        "예산",
        "계약",
        "공고",
        "입찰",
        "시설",
        "관리",
        "데이터",
        "표준",
        "the",
        "server",
        "restart",
        "search",
        "index",
        "report",
        "budget",
        "contract",
        "notice",
        "schedule",
        "2024년",
        "12월",
        "금72,300,000원",
    ];
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..n)
        .map(|_| {
            let len = 6 + next() % 10;
            let words: Vec<&str> = (0..len).map(|_| WORDS[next() % WORDS.len()]).collect();
            format!("{}.", words.join(" "))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// PDF

/// The font every generated PDF uses: a Type0 font with Identity-H encoding whose CIDs are
/// Unicode code points, and a ToUnicode map saying so for the characters `used` (as a
/// subset font's map does). Nothing is embedded: a text layer is all the extractor reads.
fn add_unicode_font(doc: &mut Document, used: &str) -> lopdf::ObjectId {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let mut chars: Vec<u16> = used
        .chars()
        .filter(|c| (*c as u32) < 0x10000)
        .map(|c| c as u16)
        .collect();
    chars.sort_unstable();
    chars.dedup();
    for block in chars.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", block.len()));
        for c in block {
            cmap.push_str(&format!("<{c:04X}> <{c:04X}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let to_unicode = doc.add_object(Stream::new(Dictionary::new(), cmap.into_bytes()));
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => "JaryoSans",
        "Flags" => 4,
        "FontBBox" => vec![0.into(), (-200).into(), 1000.into(), 900.into()],
        "ItalicAngle" => 0,
        "Ascent" => 900,
        "Descent" => -200,
        "CapHeight" => 700,
        "StemV" => 80,
    });
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "JaryoSans",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "DW" => 1000,
        "CIDToGIDMap" => "Identity",
    });
    doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "JaryoSans",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid_font.into()],
        "ToUnicode" => to_unicode,
    })
}

fn utf16_be(text: &str) -> Vec<u8> {
    // Characters outside the Basic Multilingual Plane are left out: one CID is one unit.
    text.chars()
        .filter(|c| (*c as u32) < 0x10000)
        .flat_map(|c| (c as u16).to_be_bytes())
        .collect()
}

fn finish_pdf(
    mut doc: Document,
    pages_id: lopdf::ObjectId,
    kids: Vec<Object>,
    title: Option<&str>,
) -> Document {
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    if let Some(title) = title {
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend(utf16_be(title));
        let info = doc.add_object(
            dictionary! { "Title" => Object::String(bytes, StringFormat::Hexadecimal) },
        );
        doc.trailer.set("Info", info);
    }
    doc
}

fn text_pdf_document(title: Option<&str>, pages: &[String]) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = add_unicode_font(&mut doc, &pages.concat());
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut kids = Vec::with_capacity(pages.len());
    for page in pages {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 10.into()]),
            Operation::new("TL", vec![14.into()]),
            Operation::new("Td", vec![40.into(), 800.into()]),
        ];
        for line in page.lines() {
            operations.push(Operation::new(
                "Tj",
                vec![Object::String(utf16_be(line), StringFormat::Hexadecimal)],
            ));
            operations.push(Operation::new("T*", vec![]));
        }
        operations.push(Operation::new("ET", vec![]));
        let content = Content { operations }.encode().unwrap_or_default();
        let content_id =
            doc.add_object(Stream::new(Dictionary::new(), content).with_compression(true));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => resources,
            "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    finish_pdf(doc, pages_id, kids, title)
}

fn save(mut doc: Document) -> Vec<u8> {
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .expect("writing a PDF to memory cannot fail");
    out
}

/// A PDF whose page *n* shows `pages[n - 1]`, one line of text a line of the string.
pub fn text_pdf(title: Option<&str>, pages: &[String]) -> Vec<u8> {
    save(text_pdf_document(title, pages))
}

/// [`text_pdf`] encrypted (RC4, 128-bit) so that it opens only with `user_password`.
pub fn encrypted_pdf(user_password: &str, pages: &[String]) -> Vec<u8> {
    let mut doc = text_pdf_document(None, pages);
    doc.trailer.set(
        "ID",
        vec![
            Object::String(b"jaryo-generated-1".to_vec(), StringFormat::Literal),
            Object::String(b"jaryo-generated-1".to_vec(), StringFormat::Literal),
        ],
    );
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "jaryo-owner",
        user_password,
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    })
    .expect("RC4 encryption settings are valid");
    doc.encrypt(&state).expect("a fresh document encrypts");
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .expect("writing a PDF to memory cannot fail");
    out
}

/// A one-page scanned PDF: an 8-bit greyscale image (`width` × `height`, row-major) and no
/// text layer.
pub fn scanned_pdf(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = doc.add_object(
        Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => i64::from(width),
                "Height" => i64::from(height),
                "ColorSpace" => "DeviceGray",
                "BitsPerComponent" => 8,
            },
            grey.to_vec(),
        )
        .with_compression(true),
    );
    let (w, h) = (i64::from(width) * 72 / 150, i64::from(height) * 72 / 150);
    let content = format!("q {w} 0 0 {h} 0 0 cm /Im1 Do Q").into_bytes();
    let content_id = doc.add_object(Stream::new(Dictionary::new(), content));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), w.into(), h.into()],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im1" => image } },
        "Contents" => content_id,
    });
    let mut doc = finish_pdf(doc, pages_id, vec![page.into()], None);
    // Compress the image's stream now; `save` would leave it (it is already compressed).
    let mut out = Vec::new();
    doc.compress();
    doc.save_to(&mut out)
        .expect("writing a PDF to memory cannot fail");
    out
}

// ---------------------------------------------------------------------------------------
// Zip formats

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn zip(entries: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, deflate) in entries {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(bytes.len() > u32::MAX as usize / 2);
        writer.start_file(*name, options).expect("zip entry starts");
        writer.write_all(bytes).expect("zip entry writes");
    }
    writer.finish().expect("zip finishes").into_inner()
}

/// A DOCX with a title, `Heading1`/`Heading2` paragraphs, bullet and numbered lists and tables.
pub fn docx(title: &str, parts: &[Part]) -> Vec<u8> {
    let w = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;
    let paragraph = |props: &str, text: &str| {
        format!(
            r#"<w:p><w:pPr>{props}</w:pPr><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
            escape_xml(text)
        )
    };
    let mut body = String::new();
    for part in parts {
        match part {
            Part::Heading(level, text) => {
                body.push_str(&paragraph(
                    &format!(r#"<w:pStyle w:val="Heading{level}"/>"#),
                    text,
                ));
            }
            Part::Paragraph(text) => body.push_str(&paragraph("", text)),
            Part::Bullet(text) => body.push_str(&paragraph(
                r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>"#,
                text,
            )),
            Part::Numbered(text) => body.push_str(&paragraph(
                r#"<w:numPr><w:ilvl w:val="0"/><w:numId w:val="2"/></w:numPr>"#,
                text,
            )),
            Part::Table(rows) => {
                body.push_str("<w:tbl>");
                for row in rows {
                    body.push_str("<w:tr>");
                    for cell in row {
                        body.push_str(&format!("<w:tc>{}</w:tc>", paragraph("", cell)));
                    }
                    body.push_str("</w:tr>");
                }
                body.push_str("</w:tbl>");
            }
        }
    }
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {w}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    );
    let styles = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:styles {w}><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style></w:styles>"#
    );
    let numbering = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:numbering {w}><w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num></w:numbering>"#
    );
    let core = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title></cp:coreProperties>"#,
        escape_xml(title)
    );
    let content_types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    zip(&[
        (
            "[Content_Types].xml",
            content_types.as_bytes().to_vec(),
            true,
        ),
        ("word/document.xml", document.into_bytes(), true),
        ("word/styles.xml", styles.into_bytes(), true),
        ("word/numbering.xml", numbering.into_bytes(), true),
        ("docProps/core.xml", core.into_bytes(), true),
    ])
}

/// A DOCX whose `word/document.xml` unpacks to `unpacked` bytes of whitespace: a zip bomb
/// when `unpacked` is past the limit.
pub fn zip_bomb_docx(unpacked: usize) -> Vec<u8> {
    let mut xml = br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#.to_vec();
    xml.resize(unpacked, b' ');
    zip(&[("word/document.xml", xml, true)])
}

/// An HWPX with a title, outline headings (levels 1 and 2), bullets, numbers and tables.
pub fn hwpx(title: &str, parts: &[Part]) -> Vec<u8> {
    const NS: &str = r#"xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph" xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hh="http://www.hancom.co.kr/hwpml/2011/head" xmlns:opf="http://www.idpf.org/2007/opf/""#;
    let paragraph = |shape: u8, text: &str| {
        format!(
            r#"<hp:p paraPrIDRef="{shape}" styleIDRef="0"><hp:run charPrIDRef="0"><hp:t>{}</hp:t></hp:run></hp:p>"#,
            escape_xml(text)
        )
    };
    let mut body = String::new();
    for part in parts {
        match part {
            Part::Heading(level, text) => {
                body.push_str(&paragraph(if *level <= 1 { 1 } else { 2 }, text))
            }
            Part::Paragraph(text) => body.push_str(&paragraph(0, text)),
            Part::Bullet(text) => body.push_str(&paragraph(3, text)),
            Part::Numbered(text) => body.push_str(&paragraph(4, text)),
            Part::Table(rows) => {
                body.push_str(r#"<hp:p paraPrIDRef="0"><hp:run charPrIDRef="0"><hp:tbl>"#);
                for row in rows {
                    body.push_str("<hp:tr>");
                    for cell in row {
                        body.push_str(&format!(
                            "<hp:tc><hp:subList>{}</hp:subList></hp:tc>",
                            paragraph(0, cell)
                        ));
                    }
                    body.push_str("</hp:tr>");
                }
                body.push_str("</hp:tbl></hp:run></hp:p>");
            }
        }
    }
    let section = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hs:sec {NS}>{body}</hs:sec>"#
    );
    let shapes: String = [("NONE", 0), ("OUTLINE", 0), ("OUTLINE", 1), ("BULLET", 0), ("NUMBER", 0)]
        .iter()
        .enumerate()
        .map(|(id, (kind, level))| {
            format!(r#"<hh:paraPr id="{id}"><hh:heading type="{kind}" idRef="0" level="{level}"/></hh:paraPr>"#)
        })
        .collect();
    let header = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hh:head {NS}><hh:refList><hh:paraProperties>{shapes}</hh:paraProperties></hh:refList></hh:head>"#
    );
    let hpf = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><opf:package {NS}><opf:metadata><opf:title>{}</opf:title><opf:language>ko</opf:language></opf:metadata><opf:manifest><opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/></opf:manifest><opf:spine><opf:itemref idref="section0"/></opf:spine></opf:package>"#,
        escape_xml(title)
    );
    zip(&[
        ("mimetype", b"application/hwp+zip".to_vec(), false),
        ("Contents/header.xml", header.into_bytes(), true),
        ("Contents/section0.xml", section.into_bytes(), true),
        ("Contents/content.hpf", hpf.into_bytes(), true),
    ])
}

// ---------------------------------------------------------------------------------------
// HWP 5.0

fn record(out: &mut Vec<u8>, tag: u16, level: u16, data: &[u8]) {
    let base = u32::from(tag) | (u32::from(level) << 10);
    if data.len() >= 0xFFF {
        out.extend((base | (0xFFF << 20)).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
    } else {
        out.extend((base | ((data.len() as u32) << 20)).to_le_bytes());
    }
    out.extend_from_slice(data);
}

fn para_header(out: &mut Vec<u8>, level: u16, shape: u16, chars: usize) {
    let mut data = Vec::with_capacity(22);
    data.extend((chars as u32).to_le_bytes());
    data.extend(0u32.to_le_bytes());
    data.extend(shape.to_le_bytes());
    data.resize(22, 0);
    record(out, hwp5::PARA_HEADER, level, &data);
}

fn para(out: &mut Vec<u8>, level: u16, shape: u16, text: &str) {
    let mut units: Vec<u16> = text.encode_utf16().collect();
    units.push(13);
    para_header(out, level, shape, units.len());
    let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
    record(out, hwp5::PARA_TEXT, level + 1, &bytes);
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(data)
        .expect("deflating to memory cannot fail");
    encoder.finish().expect("deflating to memory cannot fail")
}

/// An HWP 5.0 document (compressed); with `distribution`, a distribution document whose
/// section is encrypted in `ViewText` with a key hidden in its first record.
pub fn hwp5(parts: &[Part], distribution: bool) -> Vec<u8> {
    // Paragraph shapes: 0 plain, 1 and 2 outline levels 1 and 2, 3 bullet, 4 number.
    let mut doc_info = Vec::new();
    for props in [0u32, 1 << 23, (1 << 23) | (1 << 25), 3 << 23, 2 << 23] {
        let mut data = props.to_le_bytes().to_vec();
        data.resize(54, 0);
        record(&mut doc_info, hwp5::PARA_SHAPE, 0, &data);
    }
    let mut section = Vec::new();
    for part in parts {
        match part {
            Part::Heading(level, text) => {
                para(&mut section, 0, if *level <= 1 { 1 } else { 2 }, text)
            }
            Part::Paragraph(text) => para(&mut section, 0, 0, text),
            Part::Bullet(text) => para(&mut section, 0, 3, text),
            Part::Numbered(text) => para(&mut section, 0, 4, text),
            Part::Table(rows) => {
                // The paragraph holding the table: an extended control of eight units.
                let table_id = hwp5::CTRL_TABLE.to_le_bytes();
                let units: Vec<u16> = [
                    11u16,
                    u16::from_le_bytes([table_id[0], table_id[1]]),
                    u16::from_le_bytes([table_id[2], table_id[3]]),
                    0,
                    0,
                    0,
                    0,
                    11,
                    13,
                ]
                .to_vec();
                para_header(&mut section, 0, 0, units.len());
                let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
                record(&mut section, hwp5::PARA_TEXT, 1, &bytes);
                let mut ctrl = table_id.to_vec();
                ctrl.resize(46, 0);
                record(&mut section, hwp5::CTRL_HEADER, 1, &ctrl);
                let cols = rows.iter().map(Vec::len).max().unwrap_or(0) as u16;
                let mut table = 0u32.to_le_bytes().to_vec();
                table.extend((rows.len() as u16).to_le_bytes());
                table.extend(cols.to_le_bytes());
                table.resize(22, 0);
                record(&mut section, hwp5::HWPTAG_BEGIN + 61, 2, &table);
                for (r, row) in rows.iter().enumerate() {
                    for (c, cell) in row.iter().enumerate() {
                        let mut list = 1u16.to_le_bytes().to_vec();
                        list.extend([0u8; 6]);
                        list.extend((c as u16).to_le_bytes());
                        list.extend((r as u16).to_le_bytes());
                        list.extend(1u16.to_le_bytes());
                        list.extend(1u16.to_le_bytes());
                        list.resize(34, 0);
                        record(&mut section, hwp5::LIST_HEADER, 2, &list);
                        para(&mut section, 2, 0, cell);
                    }
                }
            }
        }
    }
    let mut flags = 0b1u32;
    let section_stream = if distribution {
        flags |= 0b100;
        // A key, hidden in the record the way a reader recovers it.
        let mut key_record = [0u8; 256];
        for (i, b) in key_record.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        let offset = 4 + usize::from(key_record[0] & 0xF);
        let key: [u8; 16] = key_record[offset..offset + 16]
            .try_into()
            .expect("16 bytes");
        hwp5::distribution_mask(&mut key_record);
        let mut plain = deflate(&section);
        plain.resize(plain.len().div_ceil(16) * 16, 0);
        encrypt_ecb(&key, &mut plain);
        let mut stream = Vec::new();
        record(&mut stream, hwp5::DISTRIBUTE_DOC_DATA, 0, &key_record);
        stream.extend(plain);
        stream
    } else {
        deflate(&section)
    };
    let mut header = b"HWP Document File".to_vec();
    header.resize(32, 0);
    header.extend(0x0500_0300u32.to_le_bytes());
    header.extend(flags.to_le_bytes());
    header.resize(256, 0);

    let mut file =
        cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("a compound file in memory");
    let storage = if distribution {
        "/ViewText"
    } else {
        "/BodyText"
    };
    file.create_storage(storage).expect("storage");
    for (path, bytes) in [
        ("/FileHeader".to_owned(), header),
        ("/DocInfo".to_owned(), deflate(&doc_info)),
        (format!("{storage}/Section0"), section_stream),
    ] {
        let mut stream = file.create_stream(&path).expect("stream");
        stream.write_all(&bytes).expect("stream writes");
    }
    file.flush().expect("compound file flushes");
    file.into_inner().into_inner()
}

#[allow(deprecated)]
fn encrypt_ecb(key: &[u8; 16], data: &mut [u8]) {
    use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
    let cipher = aes::Aes128::new(GenericArray::from_slice(key));
    for block in data.chunks_exact_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
}

// ---------------------------------------------------------------------------------------
// Images

/// An 8-bit greyscale PNG (`width` × `height`, row-major pixels).
pub fn png_grey(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    // 8 bits, greyscale, deflate, adaptive filtering, no interlace.
    header.extend([8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    let mut raw = Vec::with_capacity(grey.len() + height as usize);
    for row in grey.chunks(width.max(1) as usize) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&raw)
        .expect("deflating to memory cannot fail");
    chunk(
        &mut out,
        b"IDAT",
        &encoder.finish().expect("deflating to memory cannot fail"),
    );
    chunk(&mut out, b"IEND", &[]);
    out
}
