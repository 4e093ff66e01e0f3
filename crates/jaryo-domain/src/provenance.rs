//! Where a draft came from, typed: what the draft worker records in a document's
//! `source_metadata` (`drafted_at`, the `draft` object, the `fidelity` report), read back as
//! values instead of JSON paths by every crate that needs them.
//!
//! The JSON stays as it is on the wire and in the database (other tools read it); these types
//! are how jaryo's own crates read it. Reading is lenient: a document drafted by an older
//! worker, or written by another tool, simply lacks what it lacks.

use crate::Timestamp;
use serde_json::{Map, Value};

/// One thing the fidelity check found in a draft: its kind (`unsupported`, `dropped`, …),
/// the text, and where it stands in the draft as the model wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FidelityFinding {
    pub kind: String,
    pub text: String,
    /// Byte range in the draft as written, when the finding is in the draft.
    pub span: Option<std::ops::Range<usize>>,
}

/// What the fidelity check concluded about a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FidelitySummary {
    /// The draft needs a person's look before it is trusted.
    pub flagged: bool,
    pub findings: Vec<FidelityFinding>,
}

impl FidelitySummary {
    /// Reads the `fidelity` object the draft worker writes.
    pub fn read(fidelity: &Value) -> Self {
        let flagged = match fidelity.get("flagged") {
            Some(Value::Bool(flagged)) => *flagged,
            // Older tools wrote 1 for true; the stores' filters always accepted it.
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        };
        let findings = fidelity
            .get("findings")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(read_finding).collect())
            .unwrap_or_default();
        Self { flagged, findings }
    }
}

fn read_finding(finding: &Value) -> Option<FidelityFinding> {
    let position = |name| {
        finding
            .get(name)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
    };
    Some(FidelityFinding {
        kind: finding.get("kind")?.as_str()?.to_owned(),
        text: finding.get("text")?.as_str()?.to_owned(),
        span: position("start").zip(position("end")).map(|(s, e)| s..e),
    })
}

/// Where a document's draft came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftProvenance {
    pub drafted_at: Option<Timestamp>,
    /// The model that answered (`draft.model`).
    pub model: Option<String>,
    /// The prompt's version (`draft.prompt_version`).
    pub prompt_version: Option<String>,
    /// The fidelity check's verdict, when one was made.
    pub fidelity: Option<FidelitySummary>,
}

impl DraftProvenance {
    /// Reads a document's `source_metadata`.
    pub fn read(source_metadata: &Map<String, Value>) -> Self {
        let draft = source_metadata.get("draft");
        let text = |name: &str| {
            draft
                .and_then(|draft| draft.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            drafted_at: source_metadata
                .get("drafted_at")
                .and_then(Value::as_str)
                .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                .map(|at| at.with_timezone(&chrono::Utc)),
            model: text("model"),
            prompt_version: text("prompt_version"),
            fidelity: source_metadata.get("fidelity").map(FidelitySummary::read),
        }
    }

    /// Whether the fidelity check flagged the draft.
    pub fn flagged(&self) -> bool {
        self.fidelity.as_ref().is_some_and(|f| f.flagged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_the_worker_writes_and_tolerates_what_it_lacks() {
        let metadata = json!({
            "memo_id": 3,
            "drafted_at": "2026-01-02T03:04:05.000006Z",
            "draft": {"model": "qwen3", "prompt_version": "v7"},
            "fidelity": {"flagged": true, "findings": [
                {"kind": "unsupported", "text": "서울", "start": 4, "end": 10},
                {"kind": "dropped", "text": "예산"},
            ]},
        });
        let provenance = DraftProvenance::read(metadata.as_object().unwrap());
        assert!(provenance.flagged());
        assert_eq!(provenance.model.as_deref(), Some("qwen3"));
        assert_eq!(provenance.prompt_version.as_deref(), Some("v7"));
        assert_eq!(
            provenance.drafted_at.map(|at| at.timestamp_subsec_micros()),
            Some(6)
        );
        let findings = provenance.fidelity.unwrap().findings;
        assert_eq!(findings[0].span, Some(4..10));
        assert_eq!(
            (findings[1].text.as_str(), findings[1].span.clone()),
            ("예산", None)
        );

        let bare = DraftProvenance::read(json!({"memo_id": 1}).as_object().unwrap());
        assert_eq!(bare, DraftProvenance::default());
        assert!(!bare.flagged());
        let legacy = json!({"fidelity": {"flagged": 1}});
        assert!(DraftProvenance::read(legacy.as_object().unwrap()).flagged());
    }
}
