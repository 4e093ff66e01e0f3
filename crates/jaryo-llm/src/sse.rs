//! A minimal Server-Sent Events decoder: bytes in, `data` payloads out.
//!
//! Only what chat completion streams use: `data:` fields (several lines join with `\n`), events
//! ended by a blank line, `\n` or `\r\n` line ends, comments (`:`) and other fields ignored.
//! Bytes may be split anywhere, including inside a multi-byte character.

#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    line: Vec<u8>,
    data: Option<String>,
}

/// A line that is not UTF-8: the server is not speaking SSE.
#[derive(Debug)]
pub(crate) struct NotUtf8;

impl SseDecoder {
    /// Feeds bytes; returns the `data` of every event they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, NotUtf8> {
        let mut events = Vec::new();
        for &byte in bytes {
            if byte == b'\n' {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                let line = String::from_utf8(line).map_err(|_| NotUtf8)?;
                if let Some(data) = self.line_done(&line) {
                    events.push(data);
                }
            } else {
                self.line.push(byte);
            }
        }
        Ok(events)
    }

    /// Ends the stream: an event not closed by a blank line still counts.
    pub fn finish(&mut self) -> Result<Option<String>, NotUtf8> {
        let line = String::from_utf8(std::mem::take(&mut self.line)).map_err(|_| NotUtf8)?;
        let from_line = self.line_done(&line);
        Ok(from_line.or_else(|| self.data.take()))
    }

    fn line_done(&mut self, line: &str) -> Option<String> {
        if line.is_empty() {
            return self.data.take();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        if field == "data" {
            let value = value.strip_prefix(' ').unwrap_or(value);
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(bytes: &[u8], piece: usize) -> Vec<String> {
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        for chunk in bytes.chunks(piece) {
            events.extend(decoder.push(chunk).expect("UTF-8"));
        }
        events.extend(decoder.finish().expect("UTF-8"));
        events
    }

    #[test]
    fn decodes_events_split_at_any_byte() {
        let body = "data: {\"a\":\"회의\"}\n\n: keep-alive\n\nevent: x\r\ndata: one\r\ndata:two\r\n\r\ndata: [DONE]";
        for piece in 1..body.len() {
            assert_eq!(
                decode_in_pieces(body.as_bytes(), piece),
                ["{\"a\":\"회의\"}", "one\ntwo", "[DONE]"],
                "pieces of {piece} bytes"
            );
        }
    }

    #[test]
    fn rejects_bytes_that_are_not_text() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: \xff\xfe\n").is_err());
    }
}
