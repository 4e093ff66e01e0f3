//! The OpenAI-compatible model client: the only code that knows the wire format.
