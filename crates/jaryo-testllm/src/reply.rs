//! What the test server answers: a [`Reply`] built from small, composable pieces.

use std::time::Duration;

use serde_json::json;

/// One scripted answer to a chat completion request.
///
/// Start from [`Reply::text`] (or an error constructor) and add thinking, chunking and timing:
///
/// ```
/// use std::time::Duration;
/// use jaryo_testllm::Reply;
///
/// let reply = Reply::text("# Title\n\nBody")
///     .think("the user wants a title")
///     .chunks(4)
///     .first_token_delay(Duration::from_millis(50))
///     .chunk_delay(Duration::from_millis(10));
/// # let _ = reply;
/// ```
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) kind: ReplyKind,
    pub(crate) timing: Timing,
}

#[derive(Debug, Clone)]
pub(crate) enum ReplyKind {
    Answer(Answer),
    /// A non-2xx status with a JSON body.
    Error {
        status: u16,
        body: serde_json::Value,
        retry_after: Option<Duration>,
    },
    /// 200 with a body that is not what the protocol promises.
    Malformed {
        body: String,
    },
    /// Never answers; ends only when the client disconnects.
    Hang,
}

#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub content: String,
    pub reasoning: Option<(ReasoningField, String)>,
    pub split: Split,
    pub finish_reason: String,
    pub reported_model: Option<String>,
    /// Close the connection after this many content pieces, without finishing.
    pub cut_after: Option<usize>,
    /// Answer in one JSON body even when the client asked for a stream.
    pub unstreamed: bool,
}

/// The separate field some servers put the model's thinking in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReasoningField {
    /// vLLM, llama.cpp, DeepSeek.
    ReasoningContent,
    /// Ollama, OpenRouter.
    Reasoning,
}

impl ReasoningField {
    pub fn name(self) -> &'static str {
        match self {
            ReasoningField::ReasoningContent => "reasoning_content",
            ReasoningField::Reasoning => "reasoning",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Split {
    /// Roughly equal pieces (by characters).
    Pieces(usize),
    /// Cut at these character offsets of the content.
    At(Vec<usize>),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Timing {
    pub first_token_delay: Duration,
    pub chunk_delay: Duration,
    pub generation_time: Option<Duration>,
}

impl Reply {
    fn answer(content: String) -> Reply {
        Reply {
            kind: ReplyKind::Answer(Answer {
                content,
                reasoning: None,
                split: Split::Pieces(1),
                finish_reason: "stop".to_owned(),
                reported_model: None,
                cut_after: None,
                unstreamed: false,
            }),
            timing: Timing::default(),
        }
    }

    /// An answer whose `content` is exactly `text` (add think tags yourself or with
    /// [`Reply::think`]).
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::answer(text.into())
    }

    /// A well-formed answer with empty content.
    pub fn empty() -> Reply {
        Reply::answer(String::new())
    }

    /// An HTTP error with an OpenAI-style body: `{"error": {"message", "type", "code"}}`.
    pub fn http_error(status: u16, message: impl Into<String>) -> Reply {
        let kind = match status {
            400 | 422 => "invalid_request_error",
            401 | 403 => "authentication_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            _ => "server_error",
        };
        Reply::error_body(
            status,
            json!({"error": {"message": message.into(), "type": kind, "param": null, "code": status}}),
        )
    }

    /// An HTTP error with any JSON body, to mimic a particular server's error shape.
    pub fn error_body(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            kind: ReplyKind::Error {
                status,
                body,
                retry_after: None,
            },
            timing: Timing::default(),
        }
    }

    /// The 404 a server gives for a model it does not have (Ollama's wording, OpenAI's shape).
    pub fn model_not_found(model: &str) -> Reply {
        Reply::error_body(
            404,
            json!({"error": {
                "message": format!("model \"{model}\" not found, try pulling it first"),
                "type": "not_found_error",
                "param": null,
                "code": "model_not_found",
            }}),
        )
    }

    /// A 200 whose body is `body` verbatim (served as SSE or JSON, as the client asked).
    pub fn malformed(body: impl Into<String>) -> Reply {
        Reply {
            kind: ReplyKind::Malformed { body: body.into() },
            timing: Timing::default(),
        }
    }

    /// Never answers; the request ends only when the client goes away (recorded as a disconnect).
    pub fn hang() -> Reply {
        Reply {
            kind: ReplyKind::Hang,
            timing: Timing::default(),
        }
    }

    fn answer_mut(&mut self) -> &mut Answer {
        match &mut self.kind {
            ReplyKind::Answer(answer) => answer,
            _ => panic!("only a text reply has content to shape"),
        }
    }

    /// Prepends a `<think>…</think>` block to the content, as reasoning models write it.
    pub fn think(mut self, thinking: &str) -> Reply {
        let answer = self.answer_mut();
        answer.content = format!("<think>{thinking}</think>\n\n{}", answer.content);
        self
    }

    /// Sends thinking in a separate `reasoning_content` field (vLLM, llama.cpp, DeepSeek).
    pub fn reasoning_content(mut self, thinking: impl Into<String>) -> Reply {
        self.answer_mut().reasoning = Some((ReasoningField::ReasoningContent, thinking.into()));
        self
    }

    /// Sends thinking in a separate `reasoning` field (Ollama, OpenRouter).
    pub fn reasoning(mut self, thinking: impl Into<String>) -> Reply {
        self.answer_mut().reasoning = Some((ReasoningField::Reasoning, thinking.into()));
        self
    }

    /// Streams the content in `pieces` roughly equal pieces.
    pub fn chunks(mut self, pieces: usize) -> Reply {
        self.answer_mut().split = Split::Pieces(pieces.max(1));
        self
    }

    /// Streams the content cut at these character offsets, e.g. inside a `<think>` tag.
    pub fn split_at(mut self, offsets: impl IntoIterator<Item = usize>) -> Reply {
        self.answer_mut().split = Split::At(offsets.into_iter().collect());
        self
    }

    /// The `finish_reason` reported (default `stop`; `length` means truncated).
    pub fn finish_reason(mut self, reason: impl Into<String>) -> Reply {
        self.answer_mut().finish_reason = reason.into();
        self
    }

    /// The model name the server reports (default: the model requested).
    pub fn reported_model(mut self, model: impl Into<String>) -> Reply {
        self.answer_mut().reported_model = Some(model.into());
        self
    }

    /// Drops the connection after `pieces` content pieces, as a crashing server would.
    pub fn cut_after(mut self, pieces: usize) -> Reply {
        self.answer_mut().cut_after = Some(pieces);
        self
    }

    /// Answers in one JSON body even if the client asked to stream, as some servers do.
    pub fn unstreamed(mut self) -> Reply {
        self.answer_mut().unstreamed = true;
        self
    }

    /// Adds a `Retry-After` header (whole seconds) to an error reply.
    pub fn retry_after(mut self, delay: Duration) -> Reply {
        match &mut self.kind {
            ReplyKind::Error { retry_after, .. } => *retry_after = Some(delay),
            _ => panic!("only an error reply has a Retry-After"),
        }
        self
    }

    /// Time before the first token (or before an error reply).
    pub fn first_token_delay(mut self, delay: Duration) -> Reply {
        self.timing.first_token_delay = delay;
        self
    }

    /// Time between streamed pieces.
    pub fn chunk_delay(mut self, delay: Duration) -> Reply {
        self.timing.chunk_delay = delay;
        self
    }

    /// Total time from request to the last piece; the gaps between pieces are spread evenly
    /// over whatever the first-token delay leaves.
    pub fn generation_time(mut self, total: Duration) -> Reply {
        self.timing.generation_time = Some(total);
        self
    }
}

impl Answer {
    /// The content cut into the pieces to stream; never empty pieces.
    pub fn pieces(&self) -> Vec<String> {
        let chars: Vec<char> = self.content.chars().collect();
        let mut cuts: Vec<usize> = match &self.split {
            Split::Pieces(n) => {
                let n = (*n).min(chars.len()).max(1);
                (1..n).map(|i| i * chars.len() / n).collect()
            }
            Split::At(offsets) => offsets.clone(),
        };
        cuts.retain(|&cut| cut > 0 && cut < chars.len());
        cuts.sort_unstable();
        cuts.dedup();
        let mut pieces = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for cut in cuts.into_iter().chain(std::iter::once(chars.len())) {
            if cut > start {
                pieces.push(chars[start..cut].iter().collect());
            }
            start = cut;
        }
        pieces
    }
}

impl Timing {
    /// The delays before each of `events` streamed events (thinking and content pieces).
    pub fn delays(&self, events: usize) -> Vec<Duration> {
        let chunk_delay = match self.generation_time {
            Some(total) if events > 1 => {
                total.saturating_sub(self.first_token_delay) / (events as u32 - 1)
            }
            _ => self.chunk_delay,
        };
        let first = match self.generation_time {
            Some(total) if events <= 1 => total.max(self.first_token_delay),
            _ => self.first_token_delay,
        };
        (0..events.max(1))
            .map(|i| if i == 0 { first } else { chunk_delay })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(reply: Reply) -> Vec<String> {
        match reply.kind {
            ReplyKind::Answer(answer) => answer.pieces(),
            _ => unreachable!("a text reply"),
        }
    }

    #[test]
    fn splits_by_character_not_byte() {
        assert_eq!(pieces(Reply::text("회의일정").chunks(2)), ["회의", "일정"]);
        assert_eq!(
            pieces(Reply::text("<think>a</think>b").split_at([3, 10])),
            ["<th", "ink>a</", "think>b"]
        );
        assert_eq!(pieces(Reply::text("ab").chunks(10)), ["a", "b"]);
        assert!(pieces(Reply::empty().chunks(3)).is_empty());
    }

    #[test]
    fn generation_time_is_spread_over_the_gaps() {
        let timing = Reply::text("x")
            .first_token_delay(Duration::from_millis(100))
            .generation_time(Duration::from_millis(1000))
            .timing;
        let delays = timing.delays(10);
        assert_eq!(delays[0], Duration::from_millis(100));
        assert_eq!(delays[1], Duration::from_millis(100));
        assert_eq!(delays.iter().sum::<Duration>(), Duration::from_millis(1000));
    }
}
