//! The LLM gate: priority slots shared by every model call in a process.
