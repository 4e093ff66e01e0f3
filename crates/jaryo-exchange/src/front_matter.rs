//! YAML front matter: the `---` block at the top of a note that Obsidian, Jekyll and most
//! Markdown tools use for a note's properties.
//!
//! Parsing is bounded (the block's size and the YAML parser's own budget against alias
//! bombs), because a vault is untrusted input. A block that is not valid YAML, or not a
//! mapping of names to values, is not taken out of the text: the note keeps it verbatim, so
//! nothing is lost, and the import says why.

use jaryo_domain::Timestamp;
use serde_json::{Map, Value};

/// The largest front matter block read; a longer one stays in the text.
pub const FRONT_MATTER_MAX_BYTES: usize = 64 * 1024;

/// A note split into its properties and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<'a> {
    /// The properties, when the note has a valid block.
    pub properties: Option<Map<String, Value>>,
    /// The text after the block (the whole note when it has none, or an invalid one).
    pub body: &'a str,
    /// Why a block that looked like front matter was left in the text.
    pub problem: Option<String>,
}

/// Splits `text` into front matter and body. The body starts on the line after the closing
/// `---` (or `...`), exactly as written.
pub fn split(text: &str) -> Split<'_> {
    let whole = Split {
        properties: None,
        body: text,
        problem: None,
    };
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return whole;
    };
    let Some((yaml, body)) = closing_line(rest) else {
        return whole;
    };
    if yaml.len() > FRONT_MATTER_MAX_BYTES {
        return Split {
            problem: Some(format!(
                "its front matter is over {} KiB and was kept in the text",
                FRONT_MATTER_MAX_BYTES / 1024
            )),
            ..whole
        };
    }
    if yaml.trim().is_empty() {
        return Split {
            properties: Some(Map::new()),
            body,
            problem: None,
        };
    }
    match serde_saphyr::from_str::<Value>(yaml) {
        Ok(Value::Object(properties)) => Split {
            properties: Some(properties),
            body,
            problem: None,
        },
        Ok(_) => Split {
            problem: Some(
                "its front matter is not a list of properties and was kept in the text".into(),
            ),
            ..whole
        },
        Err(error) => Split {
            problem: Some(format!(
                "its front matter is not valid YAML ({}) and was kept in the text",
                first_line(&error.to_string())
            )),
            ..whole
        },
    }
}

/// Finds the line that closes the block: the YAML before it and the text after it.
fn closing_line(rest: &str) -> Option<(&str, &str)> {
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare == "..." {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message).trim()
}

/// Writes a note: the properties as a front matter block, then the body verbatim.
pub fn render<T: serde::Serialize>(properties: &T, body: &str) -> Result<String, String> {
    let yaml = serde_saphyr::to_string(properties).map_err(|e| e.to_string())?;
    let mut note = String::with_capacity(yaml.len() + body.len() + 8);
    note.push_str("---\n");
    note.push_str(&yaml);
    if !yaml.ends_with('\n') {
        note.push('\n');
    }
    note.push_str("---\n");
    note.push_str(body);
    Ok(note)
}

/// The tags a note's properties give: `tags` (or `tag`) as a list, or as one string of
/// words separated by commas or spaces; a leading `#` is dropped. Values that are not tags
/// jaryo accepts are left in the properties only.
pub fn tags(properties: &Map<String, Value>) -> Vec<String> {
    let Some(value) = properties.get("tags").or_else(|| properties.get("tag")) else {
        return Vec::new();
    };
    let words: Vec<&str> = match value {
        Value::String(words) => words
            .split([',', ' ', '\t'])
            .filter(|w| !w.is_empty())
            .collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut tags: Vec<String> = Vec::new();
    for word in words {
        if let Some(tag) = jaryo_domain::parse_one_tag(word)
            && !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag))
        {
            tags.push(tag);
        }
    }
    tags
}

/// A time a property gives: RFC 3339, or a date and time without a zone (read as UTC), or a
/// date alone (its midnight, UTC).
pub fn time(properties: &Map<String, Value>, names: &[&str]) -> Option<Timestamp> {
    names
        .iter()
        .filter_map(|name| properties.get(*name)?.as_str())
        .find_map(parse_time)
}

pub fn parse_time(text: &str) -> Option<Timestamp> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_come_out_and_the_body_stays_verbatim() {
        let note = "---\ntags: [회의, project/alpha]\naliases:\n  - 예산 회의\ncreated: 2024-03-01 10:20\n---\n# 예산\n\n본문 [[다른 노트]]\n";
        let split = split(note);
        let properties = split.properties.unwrap();
        assert_eq!(split.body, "# 예산\n\n본문 [[다른 노트]]\n");
        assert_eq!(tags(&properties), ["회의", "project/alpha"]);
        assert_eq!(
            time(&properties, &["created"]).unwrap().to_rfc3339(),
            "2024-03-01T10:20:00+00:00"
        );
        assert_eq!(properties["aliases"][0], "예산 회의");
    }

    #[test]
    fn tags_as_one_string_and_with_hashes() {
        let split = split("---\ntags: \"#회의, 예산 plan\"\n---\nx");
        assert_eq!(tags(&split.properties.unwrap()), ["회의", "예산", "plan"]);
    }

    #[test]
    fn a_note_without_a_closed_block_is_all_body() {
        for note in [
            "no front matter",
            "---\ntitle: x\nno end",
            "--- \nx: 1\n---\n",
        ] {
            let split = split(note);
            assert_eq!(split.body, note);
            assert!(split.properties.is_none());
        }
    }

    #[test]
    fn invalid_yaml_stays_in_the_text_with_a_reason() {
        let note = "---\n: bad\n  - [\n---\nbody";
        let split = split(note);
        assert_eq!(split.body, note);
        assert!(split.problem.unwrap().contains("not valid YAML"));
        let note = "---\n- a\n- b\n---\nbody";
        assert_eq!(super::split(note).body, note);
    }

    #[test]
    fn an_alias_bomb_is_refused_not_expanded() {
        let mut yaml = String::from("a0: [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            let p = i - 1;
            yaml.push_str(&format!(
                "a{i}: [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let yaml = yaml.replacen("a0: [", "a0: &a0 [", 1);
        let yaml = (1..30).fold(yaml, |y, i| {
            y.replacen(&format!("a{i}: ["), &format!("a{i}: &a{i} ["), 1)
        });
        let note = format!("---\n{yaml}---\nbody");
        let split = split(&note);
        assert!(split.properties.is_none(), "the bomb must not be expanded");
        assert_eq!(split.body, note);
    }

    #[test]
    fn render_then_split_is_a_round_trip() {
        let mut properties = Map::new();
        properties.insert("title".into(), "회의: 예산 #1".into());
        properties.insert("multi".into(), "line1\nline2".into());
        let body = "---\n본문은 그대로\n";
        let note = render(&properties, body).unwrap();
        let back = split(&note);
        assert_eq!(back.body, body);
        assert_eq!(back.properties.unwrap(), properties);
    }
}
