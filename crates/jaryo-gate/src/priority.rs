//! Who is waiting for the model.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The class of a model call: it decides the order in which waiters are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// A person is waiting for the answer (Ask, regenerate-now).
    Interactive,
    /// Nobody is watching (drafts, indexing, embeddings).
    Background,
}

impl Priority {
    /// Both classes, interactive first: handy for rendering metrics.
    pub const ALL: [Priority; 2] = [Priority::Interactive, Priority::Background];

    /// Lower-case label used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Interactive => "interactive",
            Priority::Background => "background",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
