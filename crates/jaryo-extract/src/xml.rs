//! A flat pull reader over `quick-xml` for the XML inside DOCX and HWPX: local names only
//! (the engines match `p`, `t`, `tbl`, whatever the prefix), attributes unescaped, entity and
//! character references resolved into the text, empty elements as a start and an end.

use quick_xml::events::Event;

use crate::ExtractError;

#[derive(Debug)]
pub(crate) enum XmlEvent {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End {
        name: String,
    },
    Text(String),
}

impl XmlEvent {
    pub(crate) fn attr(attrs: &[(String, String)], key: &str) -> Option<String> {
        attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
}

pub(crate) struct XmlReader<'a> {
    reader: quick_xml::Reader<&'a [u8]>,
    pending_end: Option<String>,
    what: &'static str,
}

impl<'a> XmlReader<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        let mut reader = quick_xml::Reader::from_reader(bytes);
        reader.config_mut().check_end_names = false;
        Self {
            reader,
            pending_end: None,
            what,
        }
    }

    pub(crate) fn next_event(&mut self) -> Result<Option<XmlEvent>, ExtractError> {
        if let Some(name) = self.pending_end.take() {
            return Ok(Some(XmlEvent::End { name }));
        }
        loop {
            let event = self.reader.read_event().map_err(|e| ExtractError::Broken {
                reason: format!("{} is not well-formed XML ({e})", self.what),
            })?;
            return Ok(Some(match event {
                Event::Start(e) => XmlEvent::Start {
                    name: local(e.local_name().as_ref()),
                    attrs: attributes(&e),
                },
                Event::Empty(e) => {
                    let name = local(e.local_name().as_ref());
                    self.pending_end = Some(name.clone());
                    XmlEvent::Start {
                        name,
                        attrs: attributes(&e),
                    }
                }
                Event::End(e) => XmlEvent::End {
                    name: local(e.local_name().as_ref()),
                },
                Event::Text(e) => XmlEvent::Text(e.xml10_content().into_owned()),
                Event::CData(e) => XmlEvent::Text(e.xml10_content().into_owned()),
                Event::GeneralRef(e) => {
                    let resolved = match e.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => match e.xml10_content().as_ref() {
                            "amp" => "&".into(),
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            _ => String::new(),
                        },
                    };
                    XmlEvent::Text(resolved)
                }
                Event::Eof => return Ok(None),
                _ => continue,
            }));
        }
    }
}

fn local(name: &str) -> String {
    name.to_owned()
}

fn attributes(e: &quick_xml::events::BytesStart<'_>) -> Vec<(String, String)> {
    e.attributes()
        .flatten()
        .map(|a| {
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string());
            (local(a.key.local_name().as_ref()), value)
        })
        .collect()
}
